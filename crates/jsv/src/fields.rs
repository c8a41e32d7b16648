//! Query-string, form and path binding (jsv.md §6.1, decisions.md 12).
//!
//! Each field arrives as raw (already URL-decoded) text. A property whose type asks for a
//! string receives that text verbatim; every other type reads it as JSV, so `ids=1,2,3`,
//! `ids=[1,2,3]` and `filter={a:1}` bind a list, a list and a nested struct.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::de::Deserializer as TextDeserializer;
use crate::error::{Error, Result};
use crate::parse;

/// A serde `Deserializer` for one raw query-string, form or path field.
///
/// `deserialize_str`/`deserialize_string` (also below `Option` and newtypes) get the raw text
/// verbatim, without JSV unquoting; `bool` reads the text before the first `,` (the HTML
/// checkbox quirk); everything else reads the text as a JSV document, with a list's brackets
/// optional. The gateway uses it to merge body, path, query and form layers itself.
///
/// ```
/// use serde::Deserialize;
/// use jsv::FieldDeserializer;
/// let ids = Vec::<u32>::deserialize(FieldDeserializer::new("1,2,3")).unwrap();
/// assert_eq!(ids, [1, 2, 3]);
/// let raw = String::deserialize(FieldDeserializer::new("\"\"quoted\"\"")).unwrap();
/// assert_eq!(raw, "\"\"quoted\"\"");
/// let on = bool::deserialize(FieldDeserializer::new("true,false")).unwrap();
/// assert!(on);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FieldDeserializer<'de> {
    raw: &'de str,
}

impl<'de> FieldDeserializer<'de> {
    /// A deserializer for the raw text of one field.
    pub fn new(raw: &'de str) -> Self {
        FieldDeserializer { raw }
    }

    fn jsv(self) -> TextDeserializer<'de> {
        TextDeserializer::from_str(self.raw)
    }
}

macro_rules! via_jsv {
    ($($method:ident,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let mut de = self.jsv();
            let v = de::Deserializer::$method(&mut de, visitor)?;
            de.end()?;
            Ok(v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for FieldDeserializer<'de> {
    type Error = Error;

    via_jsv! {
        deserialize_any,
        deserialize_i8, deserialize_i16, deserialize_i32, deserialize_i64, deserialize_i128,
        deserialize_u8, deserialize_u16, deserialize_u32, deserialize_u64, deserialize_u128,
        deserialize_f32, deserialize_f64, deserialize_char, deserialize_bytes,
        deserialize_byte_buf, deserialize_unit, deserialize_seq, deserialize_map,
        deserialize_ignored_any,
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let first = self.raw.split(',').next().unwrap_or("");
        visitor.visit_bool(parse::parse_bool(first)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.raw)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.raw)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_borrowed_str(self.raw)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.raw.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        let mut de = self.jsv();
        let v = de::Deserializer::deserialize_unit_struct(&mut de, name, visitor)?;
        de.end()?;
        Ok(v)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        let mut de = self.jsv();
        let v = de::Deserializer::deserialize_tuple(&mut de, len, visitor)?;
        de.end()?;
        Ok(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        let mut de = self.jsv();
        let v = de::Deserializer::deserialize_tuple_struct(&mut de, name, len, visitor)?;
        de.end()?;
        Ok(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let mut de = self.jsv();
        let v = de::Deserializer::deserialize_struct(&mut de, name, fields, visitor)?;
        de.end()?;
        Ok(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let mut de = self.jsv();
        let v = de::Deserializer::deserialize_enum(&mut de, name, variants, visitor)?;
        de.end()?;
        Ok(v)
    }
}

impl<'de> IntoDeserializer<'de, Error> for FieldDeserializer<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// Bind a flat list of raw string fields (query string, form body, path variables) to `T`.
///
/// Keys are matched trimmed and ASCII case-insensitively to `T`'s fields; unknown keys are
/// ignored; fields with an empty value are skipped (the property keeps its default, or is
/// missing); when a key repeats, the last value wins. Each value is read with
/// [`FieldDeserializer`]: strings verbatim, everything else as JSV.
///
/// ```
/// use serde::Deserialize;
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Filter { a: i32, b: String }
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Req { ids: Vec<i32>, filter: Option<Filter>, flag: bool, name: Option<String> }
/// let req: Req = jsv::from_fields([
///     ("Ids", "1,2,3"), ("filter", "{a:1,b:x}"), ("FLAG", "on"), ("name", ""), ("x", "y"),
/// ]).unwrap();
/// assert_eq!(req, Req {
///     ids: vec![1, 2, 3],
///     filter: Some(Filter { a: 1, b: "x".into() }),
///     flag: true,
///     name: None,
/// });
/// ```
///
/// # Errors
///
/// The first field that does not parse, with [`Error::field`] set to the declared field name
/// and [`Error::value`] to the offending text (line and column then refer to that field's
/// text); or a missing required field.
pub fn from_fields<T, I, K, V>(fields: I) -> Result<T>
where
    T: de::DeserializeOwned,
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let pairs: Vec<(K, V)> = fields.into_iter().collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    T::deserialize(FieldsDeserializer { pairs: &refs })
}

struct FieldsDeserializer<'a, 'de> {
    pairs: &'a [(&'de str, &'de str)],
}

impl<'de> de::Deserializer<'de> for FieldsDeserializer<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let entries: Vec<(&'de str, &'de str)> =
            self.pairs.iter().map(|(k, v)| (k.trim(), *v)).collect();
        visitor.visit_map(FieldsAccess {
            entries: entries.into_iter(),
            pending: None,
            key: "",
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        // Last value wins per declared field, in declaration order.
        let mut slots: Vec<Option<&'de str>> = vec![None; fields.len()];
        for (k, v) in self.pairs {
            let k = k.trim();
            if let Some(i) = fields.iter().position(|f| f.eq_ignore_ascii_case(k)) {
                slots[i] = Some(v);
            }
        }
        let entries: Vec<(&'de str, &'de str)> = fields
            .iter()
            .zip(slots)
            .filter_map(|(f, v)| v.map(|v| (*f, v)))
            .collect();
        visitor.visit_map(FieldsAccess {
            entries: entries.into_iter(),
            pending: None,
            key: "",
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct FieldsAccess<'de> {
    entries: std::vec::IntoIter<(&'de str, &'de str)>,
    pending: Option<&'de str>,
    key: &'de str,
}

impl<'de> de::MapAccess<'de> for FieldsAccess<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.key = k;
                self.pending = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let raw = self
            .pending
            .take()
            .ok_or_else(|| Error::data("next_value called before next_key"))?;
        seed.deserialize(FieldDeserializer::new(raw))
            .map_err(|e| e.in_field(self.key))
    }
}

/// Write `value` (a struct or map) as a query string the way ServiceStack's C# client does
/// (jsv.md §6.2): `name=value` pairs joined by `&`, `None` members left out; a string member
/// URL-encoded with ServiceStack's encoder (`A-Z a-z 0-9 , - .` kept, space as `+`, every other
/// UTF-8 byte as lowercase `%xx`); any other member as JSV in query-string mode, where the
/// brackets of a top-level list are trimmed (`ids=1,2,3`), nested strings are URL-encoded
/// instead of quoted, and a nested string holding a `,` is wrapped in `%22`.
///
/// Evogate is the server and only reads query strings; this exists for clients and tests.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Req { ids: Vec<i32>, name: &'static str, skip: Option<i32> }
/// let qs = jsv::to_query_string(&Req { ids: vec![1, 2, 3], name: "a b&c", skip: None }).unwrap();
/// assert_eq!(qs, "ids=1,2,3&name=a+b%26c");
/// ```
///
/// # Errors
///
/// When `value` is not a struct or map, or serializing it fails.
pub fn to_query_string<T: ?Sized + serde::Serialize>(value: &T) -> Result<String> {
    use crate::Value;
    let Value::Map(entries) = crate::to_value(value)? else {
        return Err(Error::data(
            "a query string can only be written from a struct or map",
        ));
    };
    let mut out = String::new();
    for (k, v) in entries {
        if v.is_null() {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        url_encode(&mut out, &k);
        out.push('=');
        match &v {
            Value::String(s) => url_encode(&mut out, s),
            other => {
                let mut jsv = String::new();
                write_query_jsv(&mut jsv, other);
                out.push_str(jsv.trim_matches(|c| c == '[' || c == ']'));
            }
        }
    }
    Ok(out)
}

fn url_encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b',' | b'-' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
}

fn write_query_jsv(out: &mut String, v: &crate::Value) {
    use crate::Value;
    match v {
        Value::Null => {}
        Value::String(s) => {
            if s.contains(',') {
                out.push_str("%22");
                url_encode(out, s);
                out.push_str("%22");
            } else {
                url_encode(out, s);
            }
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_query_jsv(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                url_encode(out, k);
                out.push(':');
                write_query_jsv(out, item);
            }
            out.push('}');
        }
    }
}
