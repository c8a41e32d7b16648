//! Writing JSV: a serde `Serializer` that produces the compact form of jsv.md §3, and the
//! pretty layout of §5 on top of it.

use std::io;

use base64::Engine as _;
use serde::ser::{self, Impossible, Serialize};

use crate::error::{Error, Result};
use crate::parse::{is_layout_ws, needs_quote};

/// A JSV serializer writing into an in-memory buffer.
///
/// The output is buffered (rather than streamed to an `io::Write`) because a `None` struct
/// field or map value is only known to be `None` after its key has been written: the key is
/// then rolled back by truncating the buffer, so the serializer omits `None` members by itself,
/// whatever serde attributes the type carries.
pub struct Serializer {
    out: String,
    /// Pretty mode: strings with leading or trailing layout whitespace are quoted so that the
    /// reader, which ignores layout whitespace in pretty text, reads them back unchanged.
    pretty: bool,
    /// The value being written is a list item or the root: a non-empty whitespace-only string
    /// is quoted there, because `[ ]` reads as an empty list and a blank root as no value.
    quote_blank: bool,
    /// Set by `serialize_none`, checked by the struct/map writers to roll back the key.
    wrote_none: bool,
    /// The next string is a date, duration or GUID from [`crate::types`]: written unquoted
    /// although it may contain `:`, as upstream writes them.
    raw_next: bool,
}

impl Default for Serializer {
    fn default() -> Self {
        Self::new()
    }
}

impl Serializer {
    /// A serializer for the compact form.
    pub fn new() -> Self {
        Self::with_capacity(256)
    }

    fn with_capacity(capacity: usize) -> Self {
        Serializer {
            out: String::with_capacity(capacity),
            pretty: false,
            quote_blank: true,
            wrote_none: false,
            raw_next: false,
        }
    }

    fn pretty() -> Self {
        Serializer {
            pretty: true,
            ..Self::new()
        }
    }

    /// The text written so far.
    pub fn into_inner(self) -> String {
        self.out
    }

    /// Most strings need no quotes: keep that path small enough to inline at every call site.
    #[inline(always)]
    fn write_string(&mut self, s: &str) {
        if let Some(&first) = s.as_bytes().first()
            && !self.pretty
            && (!self.quote_blank || !is_layout_ws(first))
            && !needs_quote(s)
        {
            self.out.push_str(s);
            return;
        }
        self.write_string_slow(s);
    }

    #[inline(never)]
    fn write_string_slow(&mut self, s: &str) {
        let quote = if s.is_empty() {
            true
        } else {
            needs_quote(s)
                || (self.quote_blank && s.bytes().all(is_layout_ws))
                || (self.pretty
                    && (is_layout_ws(s.as_bytes()[0]) || is_layout_ws(s.as_bytes()[s.len() - 1])))
        };
        if quote {
            self.out.push('"');
            if s.contains('"') {
                for (i, part) in s.split('"').enumerate() {
                    if i > 0 {
                        self.out.push_str("\"\"");
                    }
                    self.out.push_str(part);
                }
            } else {
                self.out.push_str(s);
            }
            self.out.push('"');
        } else {
            self.out.push_str(s);
        }
    }

    fn write_f64(&mut self, v: f64) {
        if v == f64::MAX {
            self.out.push_str("1.7976931348623157e+308");
        } else if v == f64::MIN {
            self.out.push_str("-1.7976931348623157e+308");
        } else {
            let mut buf = zmij::Buffer::new();
            let digits = if v.is_finite() {
                buf.format_finite(v)
            } else {
                ""
            };
            write_float(&mut self.out, v, digits, 17);
        }
    }

    fn write_f32(&mut self, v: f32) {
        if v == f32::MAX {
            self.out.push_str("3.4028235e+38");
        } else if v == f32::MIN {
            self.out.push_str("-3.4028235e+38");
        } else {
            let mut buf = zmij::Buffer::new();
            let digits = if v.is_finite() {
                buf.format_finite(v)
            } else {
                ""
            };
            write_float(&mut self.out, f64::from(v), digits, 9);
        }
    }
}

/// Lays out the shortest round-trip digits the way .NET Core 3.0+ does: fixed notation when
/// the decimal exponent `e` satisfies `-5 < e < max_fixed`, otherwise `d.dddE+XX`.
fn write_float(out: &mut String, v: f64, digits: &str, max_fixed: i32) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Fast path: zmij already wrote fixed notation inside our fixed range; only an integral
    // value's `.0` has to go.
    if !digits.contains('e') {
        let body = digits.strip_prefix('-').unwrap_or(digits);
        if let Some((int_part, frac)) = body.split_once('.') {
            let in_range = if int_part == "0" {
                frac.bytes().take_while(|&b| b == b'0').count() < 4
            } else {
                (int_part.len() as i32) - 1 < max_fixed
            };
            if in_range {
                out.push_str(digits.strip_suffix(".0").unwrap_or(digits));
                return;
            }
        }
    }
    let (neg, s) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(p) => (&s[..p], s[p + 1..].parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(p) => (&mant[..p], &mant[p + 1..]),
        None => (mant, ""),
    };
    let mut digits = [0u8; 48];
    let mut n = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        if n < digits.len() {
            digits[n] = b;
            n += 1;
        }
    }
    let mut point = int_part.len() as i32 + exp;
    let mut start = 0;
    while start < n && digits[start] == b'0' {
        start += 1;
        point -= 1;
    }
    while n > start && digits[n - 1] == b'0' {
        n -= 1;
    }
    let d = &digits[start..n];
    if d.is_empty() {
        out.push('0');
        return;
    }
    if neg {
        out.push('-');
    }
    let e = point - 1;
    fn push_digits(out: &mut String, r: &[u8]) {
        for &b in r {
            out.push(b as char);
        }
    }
    if e > -5 && e < max_fixed {
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            push_digits(out, d);
        } else if point as usize >= d.len() {
            push_digits(out, d);
            for _ in 0..(point as usize - d.len()) {
                out.push('0');
            }
        } else {
            let p = point as usize;
            push_digits(out, &d[..p]);
            out.push('.');
            push_digits(out, &d[p..]);
        }
    } else {
        out.push(d[0] as char);
        if d.len() > 1 {
            out.push('.');
            push_digits(out, &d[1..]);
        }
        out.push('E');
        out.push(if e < 0 { '-' } else { '+' });
        let a = e.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(a));
    }
}

/// Re-lays compact JSV out in the tab-indented form of jsv.md §5 (what `Dump()` and the
/// metadata pages show). Unlike upstream, characters inside quoted strings are never touched,
/// so the result always reads back.
fn prettify(compact: &str) -> String {
    let b = compact.as_bytes();
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut first_colon = true;
    let mut in_str = false;
    // Open brackets: a `:` gets its space only directly inside a map, so the colons of an
    // unquoted date in a list stay intact.
    let mut stack: Vec<u8> = Vec::new();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push('\t');
        }
    };
    // Runs of ordinary characters are copied as whole slices to keep UTF-8 intact.
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if !matches!(c, b'"' | b'{' | b'[' | b'}' | b']' | b',' | b':') {
            i += 1;
            continue;
        }
        out.push_str(&compact[run..i]);
        match c {
            b'"' => {
                in_str = true;
                out.push('"');
            }
            b'{' | b'[' => {
                if i > 0 && b[i - 1] == b':' {
                    if let Some(&next) = b.get(i + 1)
                        && (next == b'}' || next == b']')
                    {
                        out.push(c as char);
                        out.push(next as char);
                        i += 2;
                        run = i;
                        continue;
                    }
                    newline(&mut out, depth);
                }
                out.push(c as char);
                stack.push(c);
                depth += 1;
                newline(&mut out, depth);
                first_colon = true;
            }
            b'}' | b']' => {
                stack.pop();
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c as char);
                first_colon = true;
            }
            b',' => {
                out.push(',');
                newline(&mut out, depth);
                first_colon = true;
            }
            _ => {
                out.push(':');
                if first_colon && stack.last() == Some(&b'{') {
                    out.push(' ');
                    first_colon = false;
                }
            }
        }
        i += 1;
        run = i;
        // A quoted string is copied verbatim up to its closing quote.
        if in_str {
            while i < b.len() {
                if b[i] == b'"' {
                    in_str = false;
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push_str(&compact[run..i]);
            run = i;
        }
    }
    out.push_str(&compact[run..]);
    out
}

/// Serialize `value` as compact JSV text.
///
/// `None` struct fields and `None` map values are omitted, `None` list items are empty slots
/// (`[a,,b]`), a `None` root writes nothing.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Dto { id: u32, name: &'static str, tags: Vec<&'static str>, note: Option<String> }
/// let dto = Dto { id: 1, name: "Me, Junior", tags: vec!["a", "b c"], note: None };
/// assert_eq!(jsv::to_string(&dto).unwrap(), r#"{id:1,name:"Me, Junior",tags:[a,b c]}"#);
/// ```
///
/// # Errors
///
/// Fails when the value's `Serialize` impl reports an error, or a map key is not a string,
/// number, boolean or unit variant.
pub fn to_string<T: ?Sized + Serialize>(value: &T) -> Result<String> {
    let mut ser = Serializer::new();
    value.serialize(&mut ser)?;
    Ok(ser.out)
}

/// Serialize `value` as compact JSV bytes (UTF-8).
///
/// # Errors
///
/// As [`to_string`].
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>> {
    to_string(value).map(String::into_bytes)
}

/// Append `value` as compact JSV to `out`, writing straight into its spare capacity (a caller
/// that reserved room for the answer gets no second buffer and no copy).
///
/// On error `out` is left as it was.
///
/// # Errors
///
/// As [`to_string`].
pub fn append_to_vec<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    let start = out.len();
    match String::from_utf8(std::mem::take(out)) {
        Ok(text) => {
            let mut ser = Serializer {
                out: text,
                ..Serializer::with_capacity(0)
            };
            let result = value.serialize(&mut ser);
            *out = ser.out.into_bytes();
            if result.is_err() {
                out.truncate(start);
            }
            result
        }
        // Bytes that are not UTF-8 cannot be the serializer's buffer: write apart and append.
        Err(e) => {
            *out = e.into_bytes();
            let text = to_string(value)?;
            out.extend_from_slice(text.as_bytes());
            Ok(())
        }
    }
}

/// Serialize `value` as compact JSV into `writer`.
///
/// # Errors
///
/// As [`to_string`], plus [`crate::Category::Io`] errors from the writer.
pub fn to_writer<W: io::Write, T: ?Sized + Serialize>(mut writer: W, value: &T) -> Result<()> {
    let s = to_string(value)?;
    writer.write_all(s.as_bytes()).map_err(Error::io)
}

/// Serialize `value` in the pretty layout of jsv.md §5: one member or item per line,
/// tab-indented, `key: value`, a `{`/`[` after a key on its own line at the parent's depth,
/// `[]`/`{}` kept inline after a key, LF line ends, no trailing newline.
///
/// Two differences from upstream `Dump()` make the text read back with [`crate::from_str`] to
/// the same value: strings with leading or trailing whitespace (space, TAB, CR, LF) are
/// written in quotes, and brackets, commas and colons inside quoted strings are left alone.
/// The reader recognises pretty text by a newline right after the root `{` or `[` and then
/// ignores the layout whitespace around keys, values and separators.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Dto { id: u32, name: &'static str }
/// let text = jsv::to_string_pretty(&Dto { id: 1, name: "Name" }).unwrap();
/// assert_eq!(text, "{\n\tid: 1,\n\tname: Name\n}");
/// ```
///
/// # Errors
///
/// As [`to_string`].
pub fn to_string_pretty<T: ?Sized + Serialize>(value: &T) -> Result<String> {
    let mut ser = Serializer::pretty();
    value.serialize(&mut ser)?;
    Ok(prettify(&ser.out))
}

fn key_must_be_scalar() -> Error {
    Error::data("a map key must be a string, number, boolean, char or unit variant")
}

impl<'a> ser::Serializer for &'a mut Serializer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.out.push_str(if v { "True" } else { "False" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.write_f32(v);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.write_f64(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.write_string(v.encode_utf8(&mut [0u8; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        if self.raw_next {
            self.raw_next = false;
            self.out.push_str(v);
        } else {
            self.write_string(v);
        }
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        base64::engine::general_purpose::STANDARD.encode_string(v, &mut self.out);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.wrote_none = true;
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.write_string(variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        self.raw_next = name == crate::types::RAW_TOKEN;
        let r = value.serialize(&mut *self);
        self.raw_next = false;
        r
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.out.push('{');
        self.write_string(variant);
        self.out.push(':');
        self.quote_blank = false;
        value.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push('[');
        Ok(Compound::new(self))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.out.push('{');
        self.write_string(variant);
        self.out.push_str(":[");
        let mut c = Compound::new(self);
        c.variant = true;
        Ok(c)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>> {
        self.out.push('{');
        Ok(Compound::new(self))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>> {
        self.out.push('{');
        Ok(Compound::new(self))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>> {
        self.out.push('{');
        self.write_string(variant);
        self.out.push_str(":{");
        let mut c = Compound::new(self);
        c.variant = true;
        Ok(c)
    }
    fn collect_str<T: ?Sized + std::fmt::Display>(self, value: &T) -> Result<()> {
        self.write_string(&value.to_string());
        Ok(())
    }
}

/// The in-progress list, map or struct of a [`Serializer`].
pub struct Compound<'a> {
    ser: &'a mut Serializer,
    first: bool,
    /// Buffer length before the current entry's separator and key, for the `None` rollback.
    mark: usize,
    /// Buffer length right after the current entry's `key:`.
    after_key: usize,
    /// Whether an enum variant wrapper `{Variant:` must be closed too.
    variant: bool,
}

impl<'a> Compound<'a> {
    fn new(ser: &'a mut Serializer) -> Self {
        Compound {
            ser,
            first: true,
            mark: 0,
            after_key: 0,
            variant: false,
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        if !self.first {
            self.ser.out.push(',');
        }
        self.first = false;
        self.ser.quote_blank = true;
        value.serialize(&mut *self.ser)
    }

    fn begin_entry(&mut self) {
        self.mark = self.ser.out.len();
        if !self.first {
            self.ser.out.push(',');
        }
    }

    fn entry_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.ser.out.push(':');
        self.after_key = self.ser.out.len();
        self.ser.wrote_none = false;
        self.ser.quote_blank = false;
        value.serialize(&mut *self.ser)?;
        if self.ser.wrote_none && self.ser.out.len() == self.after_key {
            self.ser.out.truncate(self.mark);
        } else {
            self.first = false;
        }
        self.ser.wrote_none = false;
        Ok(())
    }

    fn close(self, bracket: char) {
        self.ser.out.push(bracket);
        if self.variant {
            self.ser.out.push('}');
        }
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close(']');
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close(']');
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close(']');
        Ok(())
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }
    fn end(self) -> Result<()> {
        self.close(']');
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.begin_entry();
        key.serialize(KeySerializer { ser: self.ser })
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.entry_value(value)
    }
    fn end(self) -> Result<()> {
        self.close('}');
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.begin_entry();
        self.ser.quote_blank = false;
        self.ser.write_string(key);
        self.entry_value(value)
    }
    fn end(self) -> Result<()> {
        self.close('}');
        Ok(())
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<()> {
        self.close('}');
        Ok(())
    }
}

/// Writes map keys: strings are escaped like values, numbers and booleans as their text.
struct KeySerializer<'a> {
    ser: &'a mut Serializer,
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.ser.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.ser.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<()> {
        self.ser.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<()> {
        self.ser.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<()> {
        self.ser.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.ser.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.ser.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<()> {
        self.ser.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<()> {
        self.ser.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        self.ser.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.ser.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.ser.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.ser.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<()> {
        self.ser.quote_blank = false;
        self.ser.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.ser.quote_blank = false;
        self.ser.write_string(v);
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<()> {
        Err(key_must_be_scalar())
    }
    fn serialize_none(self) -> Result<()> {
        Err(key_must_be_scalar())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        Err(key_must_be_scalar())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<()> {
        Err(key_must_be_scalar())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<()> {
        Err(key_must_be_scalar())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(key_must_be_scalar())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(key_must_be_scalar())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(key_must_be_scalar())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(key_must_be_scalar())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(key_must_be_scalar())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(key_must_be_scalar())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(key_must_be_scalar())
    }
}

/// Float text in the .NET Core layout, shared with the `Value` serializer.
pub(crate) fn f64_text(v: f64) -> String {
    let mut s = Serializer::new();
    s.write_f64(v);
    s.out
}

/// As [`f64_text`] for `f32`.
pub(crate) fn f32_text(v: f32) -> String {
    let mut s = Serializer::new();
    s.write_f32(v);
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_to_vec_writes_after_what_is_there_and_keeps_it_on_error() {
        let mut out = b"x=".to_vec();
        out.reserve(64);
        append_to_vec(&mut out, &vec![1, 2]).unwrap();
        assert_eq!(out, b"x=[1,2]");
        // A map key that is not a scalar cannot be written: nothing half-written is left.
        let bad = std::collections::BTreeMap::from([(vec![1], 1)]);
        assert!(append_to_vec(&mut out, &bad).is_err());
        assert_eq!(out, b"x=[1,2]");
        // Bytes that are not text are kept as they are.
        let mut raw = vec![0xff];
        append_to_vec(&mut raw, "a").unwrap();
        assert_eq!(raw, [0xff, b'a']);
    }

    #[test]
    fn float_layout() {
        let cases: &[(f64, &str)] = &[
            (2.2, "2.2"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1e17, "1E+17"),
            (1e-4, "0.0001"),
            (1e-5, "1E-05"),
            (1.23e20, "1.23E+20"),
            (1.5e-7, "1.5E-07"),
            (0.1 + 0.2, "0.30000000000000004"),
            (123.456, "123.456"),
            (-1.5, "-1.5"),
            (1e300, "1E+300"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (v, want) in cases {
            assert_eq!(f64_text(*v), *want, "{v}");
        }
        assert_eq!(f32_text(1.1), "1.1");
        assert_eq!(f32_text(111_111.1), "111111.1");
        assert_eq!(f32_text(1e9), "1E+09");
        assert_eq!(f32_text(f32::MAX), "3.4028235e+38");
    }

    #[test]
    fn pretty_layout() {
        assert_eq!(
            prettify("{a:1,b:[x,y],c:[],d:\"p, {q}: r\"}"),
            "{\n\ta: 1,\n\tb: \n\t[\n\t\tx,\n\t\ty\n\t],\n\tc: [],\n\td: \"p, {q}: r\"\n}"
        );
    }
}
