//! The untyped JSV tree.
//!
//! JSV scalars carry no type, so the tree has only text: `1`, `True` and `2024-01-01` are all
//! [`Value::String`], and the type is decided when the tree is deserialized into a typed value
//! ([`crate::from_value`]). The gateway also builds `Value`s from XML and CSV input and binds
//! DTOs from them the same way.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize};

mod de_impl;
mod ser_impl;

pub use ser_impl::to_value;

/// An untyped JSV value.
///
/// ```
/// use jsv::Value;
/// let v: Value = jsv::from_str("{id:1,tags:[a,\"b,c\"],note:}").unwrap();
/// assert_eq!(v, Value::Map(vec![
///     ("id".into(), Value::String("1".into())),
///     ("tags".into(), Value::List(vec!["a".into(), "b,c".into()])),
///     ("note".into(), Value::Null),
/// ]));
/// assert_eq!(v.to_string(), "{id:1,tags:[a,\"b,c\"],note:}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Value {
    /// An empty token (`{a:}`, `[a,,b]`) or no text at all.
    #[default]
    Null,
    /// Any scalar, as text (quotes removed).
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map or object, in input order (duplicate keys are kept).
    Map(Vec<(String, Value)>),
}

impl Value {
    /// `true` for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The text of a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a [`Value::List`].
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries of a [`Value::Map`].
    pub fn as_map(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of the first map entry whose key matches `key` trimmed and ASCII
    /// case-insensitively, the way DTO members are matched.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(key.trim()))
            .map(|(_, v)| v)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Self {
        Value::List(l)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

impl fmt::Display for Value {
    /// The compact JSV text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = crate::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            // Unit, not none: the JSV writer omits `None` map entries but keeps a unit one as
            // `key:`, which reads back as `Null`, so a `Value` round-trips exactly.
            Value::Null => s.serialize_unit(),
            Value::String(v) => s.serialize_str(v),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Builds a [`Value`] from any self-describing input; other formats' typed scalars become their
/// JSV text (`true` → `True`, `1.5` → `1.5`).
pub(crate) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSV value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::String(if v { "True" } else { "False" }.to_owned()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::String(crate::ser::f64_text(v)))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        use base64::Engine as _;
        Ok(Value::String(
            base64::engine::general_purpose::STANDARD.encode(v),
        ))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Deserialize a `T` from a [`Value`], type-driven: a [`Value::String`] asked for as a number,
/// boolean or char is parsed with the JSV scalar rules, and asked for as a struct, map or list
/// it is first read as JSV text (so a CSV cell or XML text holding `{a:1}` or `1,2,3` binds).
/// Struct keys match the declared fields trimmed and ASCII case-insensitively; unknown keys are
/// ignored.
///
/// ```
/// use serde::Deserialize;
/// use jsv::Value;
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Row { count: i64, ids: Vec<u8> }
/// let v = Value::Map(vec![(" COUNT".into(), "42".into()), ("ids".into(), "1,2,3".into())]);
/// assert_eq!(jsv::from_value::<Row>(v).unwrap(), Row { count: 42, ids: vec![1, 2, 3] });
/// ```
///
/// # Errors
///
/// A scalar that does not parse, or a shape that does not fit; the error has the field path
/// and token but no line or column.
pub fn from_value<T: de::DeserializeOwned>(value: Value) -> crate::Result<T> {
    T::deserialize(value)
}
