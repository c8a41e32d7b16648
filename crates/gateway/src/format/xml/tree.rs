//! A serde serializer that captures a value as a [`Node`] tree, plus the .NET text forms of
//! scalars shared by the XML and CSV writers.
//!
//! Both writers need the whole value before writing anything: XML reorders members and adds
//! the `None` members serde skipped, CSV needs every row's columns before the first row. A
//! tree also keeps the struct names serde reports, which is how a nested value is matched to
//! its `TypeInfo`.

use std::fmt;

use serde::ser::{self, Serialize};

use crate::meta::Primitive;

/// Deepest nesting the capture accepts; our DTOs are shallow, so this only stops runaway
/// values (a deeply nested `serde_json::Value`) before they exhaust the stack.
const MAX_CAPTURE_DEPTH: usize = 128;

/// A captured value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// `None`, `()`.
    Null,
    /// A unit struct: written as an empty element or cell.
    Unit,
    /// A boolean.
    Bool(bool),
    /// Any signed integer.
    Int(i128),
    /// Any unsigned integer.
    UInt(u128),
    /// A 32-bit float (kept apart: .NET prints its shortest digits, not the f64 ones).
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// A character.
    Char(char),
    /// Text, including unit enum variants and decimals (`rust_decimal` writes strings).
    Str(String),
    /// Bytes (Base64 in both formats).
    Bytes(Vec<u8>),
    /// A sequence.
    Seq(Vec<Node>),
    /// A map, entries in serialization order.
    Map(Vec<(Node, Node)>),
    /// A struct: serde's name and the wire keys in declaration order.
    Struct {
        /// The serde (Rust) type name.
        name: &'static str,
        /// Wire key and value of every field serde wrote.
        fields: Vec<(&'static str, Node)>,
    },
    /// A newtype, tuple or struct variant of an enum: `{variant: value}`.
    Variant {
        /// The variant name.
        variant: &'static str,
        /// Its content.
        value: Box<Node>,
    },
}

impl Node {
    /// Whether the node is a scalar (written as text, not as nested content).
    pub(crate) fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Node::Seq(_) | Node::Map(_) | Node::Struct { .. } | Node::Variant { .. }
        )
    }

    /// The field with this wire key, if serde wrote it.
    pub(crate) fn field(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Struct { fields, .. } => fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.key_text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a scalar used as a map key or a header.
    pub(crate) fn key_text(&self) -> Option<String> {
        Some(match self {
            Node::Str(s) => s.clone(),
            Node::Int(i) => i.to_string(),
            Node::UInt(u) => u.to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Char(c) => c.to_string(),
            Node::F64(v) => dotnet_f64(*v, false),
            Node::F32(v) => dotnet_f32(*v, false),
            _ => return None,
        })
    }
}

/// Replays the tree to another serializer (the JSV writer for nested CSV cells).
impl Serialize for Node {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::{SerializeMap, SerializeSeq, SerializeStruct};
        match self {
            Node::Null => s.serialize_none(),
            Node::Unit => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => match i64::try_from(*i) {
                Ok(v) => s.serialize_i64(v),
                Err(_) => s.serialize_i128(*i),
            },
            Node::UInt(u) => match u64::try_from(*u) {
                Ok(v) => s.serialize_u64(v),
                Err(_) => s.serialize_u128(*u),
            },
            Node::F32(v) => s.serialize_f32(*v),
            Node::F64(v) => s.serialize_f64(*v),
            Node::Char(c) => s.serialize_char(*c),
            Node::Str(v) => s.serialize_str(v),
            Node::Bytes(b) => s.serialize_bytes(b),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Node::Struct { name, fields } => {
                let mut st = s.serialize_struct(name, fields.len())?;
                for (k, v) in fields {
                    // Absent members stay absent: JSV omits nulls anyway.
                    if *v != Node::Null {
                        st.serialize_field(k, v)?;
                    }
                }
                st.end()
            }
            Node::Variant { variant, value } => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(variant, value)?;
                map.end()
            }
        }
    }
}

/// Why a value could not be captured.
#[derive(Debug)]
pub(crate) struct CaptureError(pub(crate) String);

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CaptureError {}

impl ser::Error for CaptureError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        CaptureError(msg.to_string())
    }
}

/// Captures an erased value.
pub(crate) fn capture(value: &dyn erased_serde::Serialize) -> Result<Node, CaptureError> {
    erased_serde::serialize(value, Capture { depth: 0 })
}

/// The capturing serializer.
#[derive(Clone, Copy)]
pub(crate) struct Capture {
    depth: usize,
}

impl Capture {
    fn nested(self) -> Result<Capture, CaptureError> {
        if self.depth >= MAX_CAPTURE_DEPTH {
            return Err(CaptureError(format!(
                "value nested deeper than {MAX_CAPTURE_DEPTH} levels"
            )));
        }
        Ok(Capture {
            depth: self.depth + 1,
        })
    }
}

/// Collects sequence items.
pub(crate) struct SeqCapture {
    cap: Capture,
    items: Vec<Node>,
    variant: Option<&'static str>,
}

/// Collects map entries.
pub(crate) struct MapCapture {
    cap: Capture,
    entries: Vec<(Node, Node)>,
    key: Option<Node>,
}

/// Collects struct fields.
pub(crate) struct StructCapture {
    cap: Capture,
    name: &'static str,
    fields: Vec<(&'static str, Node)>,
    variant: Option<&'static str>,
}

fn wrap(variant: Option<&'static str>, node: Node) -> Node {
    match variant {
        Some(variant) => Node::Variant {
            variant,
            value: Box::new(node),
        },
        None => node,
    }
}

impl ser::Serializer for Capture {
    type Ok = Node;
    type Error = CaptureError;
    type SerializeSeq = SeqCapture;
    type SerializeTuple = SeqCapture;
    type SerializeTupleStruct = SeqCapture;
    type SerializeTupleVariant = SeqCapture;
    type SerializeMap = MapCapture;
    type SerializeStruct = StructCapture;
    type SerializeStructVariant = StructCapture;

    fn serialize_bool(self, v: bool) -> Result<Node, CaptureError> {
        Ok(Node::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Node, CaptureError> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Node, CaptureError> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Node, CaptureError> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Node, CaptureError> {
        Ok(Node::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Node, CaptureError> {
        Ok(Node::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Node, CaptureError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Node, CaptureError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Node, CaptureError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Node, CaptureError> {
        Ok(Node::UInt(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Node, CaptureError> {
        Ok(Node::UInt(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Node, CaptureError> {
        Ok(Node::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Node, CaptureError> {
        Ok(Node::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Node, CaptureError> {
        Ok(Node::Char(v))
    }
    fn serialize_str(self, v: &str) -> Result<Node, CaptureError> {
        Ok(Node::Str(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Node, CaptureError> {
        Ok(Node::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Node, CaptureError> {
        Ok(Node::Null)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Node, CaptureError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Node, CaptureError> {
        Ok(Node::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Node, CaptureError> {
        Ok(Node::Unit)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Node, CaptureError> {
        Ok(Node::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Node, CaptureError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Node, CaptureError> {
        Ok(Node::Variant {
            variant,
            value: Box::new(value.serialize(self.nested()?)?),
        })
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqCapture, CaptureError> {
        Ok(SeqCapture {
            cap: self.nested()?,
            items: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqCapture, CaptureError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqCapture, CaptureError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqCapture, CaptureError> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapCapture, CaptureError> {
        Ok(MapCapture {
            cap: self.nested()?,
            entries: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            key: None,
        })
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<StructCapture, CaptureError> {
        Ok(StructCapture {
            cap: self.nested()?,
            name,
            fields: Vec::with_capacity(len.min(1024)),
            variant: None,
        })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<StructCapture, CaptureError> {
        let mut st = self.serialize_struct(name, len)?;
        st.variant = Some(variant);
        Ok(st)
    }
}

impl ser::SerializeSeq for SeqCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CaptureError> {
        self.items.push(value.serialize(self.cap)?);
        Ok(())
    }
    fn end(self) -> Result<Node, CaptureError> {
        Ok(wrap(self.variant, Node::Seq(self.items)))
    }
}

impl ser::SerializeTuple for SeqCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CaptureError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Node, CaptureError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CaptureError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Node, CaptureError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for SeqCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CaptureError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Node, CaptureError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), CaptureError> {
        self.key = Some(key.serialize(self.cap)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CaptureError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| CaptureError("map value without a key".into()))?;
        self.entries.push((key, value.serialize(self.cap)?));
        Ok(())
    }
    fn end(self) -> Result<Node, CaptureError> {
        Ok(Node::Map(self.entries))
    }
}

impl ser::SerializeStruct for StructCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        self.fields.push((key, value.serialize(self.cap)?));
        Ok(())
    }
    fn end(self) -> Result<Node, CaptureError> {
        Ok(wrap(
            self.variant,
            Node::Struct {
                name: self.name,
                fields: self.fields,
            },
        ))
    }
}

impl ser::SerializeStructVariant for StructCapture {
    type Ok = Node;
    type Error = CaptureError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CaptureError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Node, CaptureError> {
        ser::SerializeStruct::end(self)
    }
}

// ---- .NET text forms of scalars ----

/// A `double` as .NET Core 3.0+ prints it (shortest round-trip digits, jsv.md §3.2); `xml`
/// selects `XmlConvert`'s names for infinities (`INF`) over the JSV ones (`Infinity`).
pub(crate) fn dotnet_f64(v: f64, xml: bool) -> String {
    if let Some(s) = special(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        xml,
    ) {
        return s;
    }
    if !xml && (v == f64::MAX || v == f64::MIN) {
        // .NET prints the extremes through another path, with a lower-case exponent letter.
        return format!("{v:e}").replace("e308", "e+308");
    }
    layout(&format!("{v:e}"), 17)
}

/// A `float` as .NET prints it: the shortest f32 digits, fixed notation for −5 < e < 9.
pub(crate) fn dotnet_f32(v: f32, xml: bool) -> String {
    if let Some(s) = special(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        xml,
    ) {
        return s;
    }
    if !xml && (v == f32::MAX || v == f32::MIN) {
        return format!("{v:e}").replace("e38", "e+38");
    }
    layout(&format!("{v:e}"), 9)
}

fn special(nan: bool, inf: bool, neg: bool, zero: bool, xml: bool) -> Option<String> {
    let s = if nan {
        "NaN"
    } else if inf {
        match (neg, xml) {
            (false, true) => "INF",
            (true, true) => "-INF",
            (false, false) => "Infinity",
            (true, false) => "-Infinity",
        }
    } else if zero {
        if neg { "-0" } else { "0" }
    } else {
        return None;
    };
    Some(s.to_string())
}

/// Lays out Rust's shortest scientific form (`-1.25e-7`) the way .NET does: fixed notation when
/// −5 < exponent < `max_exp`, otherwise `d.dddE±XX`.
fn layout(sci: &str, max_exp: i32) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if exp > -5 && exp < max_exp {
        let point = exp + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else {
            let point = point as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', point - digits.len()));
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1.min(digits.len())]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('E');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    }
    out
}

/// An ISO date/time split into its parts, as chrono writes them (`2012-09-01`,
/// `2012-09-01T10:30:00.120Z`, `2012-09-01T10:30:00+02:00`, `2012-09-01T10:30:00`).
struct IsoDate<'a> {
    date: &'a str,
    time: Option<&'a str>,
    fraction: &'a str,
    suffix: &'a str,
}

fn split_iso(s: &str) -> Option<IsoDate<'_>> {
    let s = s.trim();
    let b = s.as_bytes();
    let is_date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !is_date {
        return None;
    }
    let (date, rest) = s.split_at(10);
    if rest.is_empty() {
        return Some(IsoDate {
            date,
            time: None,
            fraction: "",
            suffix: "",
        });
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    if rest.len() < 8 || !rest.is_char_boundary(8) {
        return None;
    }
    let (time, rest) = rest.split_at(8);
    let (fraction, suffix) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            r.split_at(n)
        }
        None => ("", rest),
    };
    let suffix_ok =
        suffix.is_empty() || suffix == "Z" || (suffix.len() == 6 && suffix.starts_with(['+', '-']));
    if !suffix_ok {
        return None;
    }
    Some(IsoDate {
        date,
        time: Some(time),
        fraction,
        suffix,
    })
}

/// A date as `DataContractSerializer` writes a `DateTime`: always a full xsd:dateTime, the
/// fraction without trailing zeros (jsv.md §8.3). Text that is not a date is returned as is.
pub(crate) fn xml_date(s: &str) -> String {
    let Some(d) = split_iso(s) else {
        return s.to_string();
    };
    let time = d.time.unwrap_or("00:00:00");
    let fraction = d.fraction.trim_end_matches('0');
    let dot = if fraction.is_empty() { "" } else { "." };
    format!("{}T{time}{dot}{fraction}{}", d.date, d.suffix)
}

/// A date as the JSV writer prints a `DateTime` (jsv.md §3.5): date only at midnight, seven
/// fraction digits, `Z` for UTC and an offset otherwise (`+00:00` for an unspecified kind on
/// a UTC server). Text that is not a date is returned as is.
pub(crate) fn jsv_date(s: &str) -> String {
    let Some(d) = split_iso(s) else {
        return s.to_string();
    };
    let Some(time) = d.time else {
        return d.date.to_string();
    };
    let fraction = d.fraction.trim_end_matches('0');
    if time == "00:00:00" && fraction.is_empty() {
        return d.date.to_string();
    }
    let suffix = if d.suffix.is_empty() {
        "+00:00"
    } else {
        d.suffix
    };
    if fraction.is_empty() {
        format!("{}T{time}{suffix}", d.date)
    } else {
        let mut f: String = fraction.chars().take(7).collect();
        while f.len() < 7 {
            f.push('0');
        }
        format!("{}T{time}.{f}{suffix}", d.date)
    }
}

/// A `std::time::Duration` (serde writes it as `{secs, nanos}`) as an XSD duration, the form
/// both XML and JSV use for `TimeSpan` (`PT1H30M`, `P1DT2H3M4.567S`, `PT0S`).
pub(crate) fn duration_text(node: &Node) -> Option<String> {
    let num = |n: Option<&Node>| match n {
        Some(Node::UInt(v)) => Some(*v),
        Some(Node::Int(v)) => u128::try_from(*v).ok(),
        _ => None,
    };
    let secs = num(node.field("secs"))?;
    let nanos = num(node.field("nanos"))?;
    let days = secs / 86_400;
    let hours = secs % 86_400 / 3_600;
    let minutes = secs % 3_600 / 60;
    let seconds = secs % 60;
    let ticks = nanos / 100;
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if days == 0 || hours > 0 || minutes > 0 || seconds > 0 || ticks > 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || ticks > 0 {
            let frac = format!("{ticks:07}");
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                out.push_str(&format!("{seconds}S"));
            } else {
                out.push_str(&format!("{seconds}.{frac}S"));
            }
        }
        if out.ends_with('T') {
            out.push_str("0S");
        }
    }
    Some(out)
}

/// The `DataContractSerializer` name of a primitive (`string`, `int`, `dateTime`).
pub(crate) fn dcs_name(p: Primitive) -> &'static str {
    match p {
        Primitive::String => "string",
        Primitive::Boolean => "boolean",
        Primitive::Int32 => "int",
        Primitive::Int64 => "long",
        Primitive::UInt32 => "unsignedInt",
        Primitive::UInt64 => "unsignedLong",
        Primitive::Double => "double",
        Primitive::Single => "float",
        Primitive::Decimal => "decimal",
        Primitive::DateTime => "dateTime",
        Primitive::TimeSpan => "duration",
        Primitive::Guid => "guid",
        Primitive::Object => "anyType",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_follow_dotnet_layout() {
        let cases = [
            (2.2, "2.2"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1E+17"),
            (0.0001, "0.0001"),
            (0.00001, "1E-05"),
            (1.23e20, "1.23E+20"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0"),
        ];
        for (v, want) in cases {
            assert_eq!(dotnet_f64(v, false), want, "{v}");
        }
        assert_eq!(dotnet_f64(f64::MAX, false), "1.7976931348623157e+308");
        assert_eq!(dotnet_f64(f64::INFINITY, true), "INF");
        assert_eq!(dotnet_f32(1.1, false), "1.1");
        assert_eq!(dotnet_f32(111_111.1, false), "111111.1");
        assert_eq!(dotnet_f32(f32::MAX, false), "3.4028235e+38");
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(xml_date("2012-09-01"), "2012-09-01T00:00:00");
        assert_eq!(
            xml_date("2012-09-01T10:30:00.120Z"),
            "2012-09-01T10:30:00.12Z"
        );
        assert_eq!(jsv_date("2018-01-01T00:00:00Z"), "2018-01-01");
        assert_eq!(jsv_date("2018-01-01T12:00:00Z"), "2018-01-01T12:00:00Z");
        assert_eq!(
            jsv_date("1979-05-09T00:00:00.001Z"),
            "1979-05-09T00:00:00.0010000Z"
        );
        assert_eq!(jsv_date("2013-04-09T15:20:00"), "2013-04-09T15:20:00+00:00");
        assert_eq!(jsv_date("not a date"), "not a date");
    }

    #[test]
    fn durations() {
        let d = |secs: u128, nanos: u128| Node::Struct {
            name: "Duration",
            fields: vec![("secs", Node::UInt(secs)), ("nanos", Node::UInt(nanos))],
        };
        assert_eq!(duration_text(&d(0, 0)).as_deref(), Some("PT0S"));
        assert_eq!(duration_text(&d(86_400, 0)).as_deref(), Some("P1D"));
        assert_eq!(duration_text(&d(5_400, 0)).as_deref(), Some("PT1H30M"));
        assert_eq!(
            duration_text(&d(93_784, 567_000_100)).as_deref(),
            Some("P1DT2H3M4.5670001S")
        );
        assert_eq!(duration_text(&d(0, 1_000_000)).as_deref(), Some("PT0.001S"));
    }
}
