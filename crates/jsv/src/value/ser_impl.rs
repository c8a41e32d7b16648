//! `to_value`: any `Serialize` type to a [`Value`], with the same text rules as the writer.

use base64::Engine as _;
use serde::ser::{self, Impossible, Serialize};

use super::Value;
use crate::error::{Error, Result};
use crate::ser::{f32_text, f64_text};

/// Convert `value` to a [`Value`] tree: scalars become their JSV text (`True`, `1.5`,
/// `1E+17`), `None` struct fields and map values are left out, `None` list items and unit
/// values become [`Value::Null`].
///
/// ```
/// use jsv::Value;
/// #[derive(serde::Serialize)]
/// struct Dto { ok: bool, n: Option<i32> }
/// assert_eq!(
///     jsv::to_value(&Dto { ok: true, n: None }).unwrap(),
///     Value::Map(vec![("ok".into(), "True".into())])
/// );
/// ```
///
/// # Errors
///
/// When the value's `Serialize` impl fails or a map key is not a scalar.
pub fn to_value<T: ?Sized + Serialize>(value: &T) -> Result<Value> {
    value.serialize(ValueSer).map(Slot::into_value)
}

/// A serialized value, remembering whether it was `None` so containers can drop it.
enum Slot {
    None,
    Some(Value),
}

impl Slot {
    fn into_value(self) -> Value {
        match self {
            Slot::None => Value::Null,
            Slot::Some(v) => v,
        }
    }
}

fn text(s: impl Into<String>) -> Result<Slot> {
    Ok(Slot::Some(Value::String(s.into())))
}

struct ValueSer;

impl ser::Serializer for ValueSer {
    type Ok = Slot;
    type Error = Error;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = SeqSer;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = MapSer;

    fn serialize_bool(self, v: bool) -> Result<Slot> {
        text(if v { "True" } else { "False" })
    }
    fn serialize_i8(self, v: i8) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<Slot> {
        text(f32_text(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Slot> {
        text(f64_text(v))
    }
    fn serialize_char(self, v: char) -> Result<Slot> {
        text(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<Slot> {
        text(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Slot> {
        text(base64::engine::general_purpose::STANDARD.encode(v))
    }
    fn serialize_none(self) -> Result<Slot> {
        Ok(Slot::None)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Slot> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Slot> {
        Ok(Slot::Some(Value::Null))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Slot> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Slot> {
        text(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Slot> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Slot> {
        let inner = value.serialize(ValueSer)?.into_value();
        Ok(Slot::Some(Value::Map(vec![(variant.to_owned(), inner)])))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer> {
        Ok(SeqSer {
            items: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer> {
        Ok(SeqSer {
            items: Vec::with_capacity(len.min(1024)),
            variant: Some(variant),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer> {
        Ok(MapSer {
            entries: Vec::with_capacity(len.unwrap_or(0).min(1024)),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSer> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapSer> {
        Ok(MapSer {
            entries: Vec::with_capacity(len.min(1024)),
            key: None,
            variant: Some(variant),
        })
    }
}

struct SeqSer {
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl SeqSer {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(ValueSer)?.into_value());
        Ok(())
    }

    fn finish(self) -> Result<Slot> {
        let list = Value::List(self.items);
        Ok(Slot::Some(match self.variant {
            Some(v) => Value::Map(vec![(v.to_owned(), list)]),
            None => list,
        }))
    }
}

impl ser::SerializeSeq for SeqSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeTuple for SeqSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for SeqSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for SeqSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

struct MapSer {
    entries: Vec<(String, Value)>,
    key: Option<String>,
    variant: Option<&'static str>,
}

impl MapSer {
    fn entry<T: ?Sized + Serialize>(&mut self, key: String, value: &T) -> Result<()> {
        if let Slot::Some(v) = value.serialize(ValueSer)? {
            self.entries.push((key, v));
        }
        Ok(())
    }

    fn finish(self) -> Result<Slot> {
        let map = Value::Map(self.entries);
        Ok(Slot::Some(match self.variant {
            Some(v) => Value::Map(vec![(v.to_owned(), map)]),
            None => map,
        }))
    }
}

impl ser::SerializeMap for MapSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::data("serialize_value called before serialize_key"))?;
        self.entry(key, value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeStruct for MapSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.entry(key.to_owned(), value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapSer {
    type Ok = Slot;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        self.entry(key.to_owned(), value)
    }
    fn end(self) -> Result<Slot> {
        self.finish()
    }
}

/// Map keys: only scalars, as their text.
struct KeySer;

fn bad_key() -> Error {
    Error::data("a map key must be a string, number, boolean, char or unit variant")
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String> {
        Ok(if v { "True" } else { "False" }.to_owned())
    }
    fn serialize_i8(self, v: i8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<String> {
        Ok(f32_text(v))
    }
    fn serialize_f64(self, v: f64) -> Result<String> {
        Ok(f64_text(v))
    }
    fn serialize_char(self, v: char) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String> {
        Err(bad_key())
    }
    fn serialize_none(self) -> Result<String> {
        Err(bad_key())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<String> {
        Err(bad_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String> {
        Err(bad_key())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String> {
        Err(bad_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(bad_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(bad_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(bad_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(bad_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(bad_key())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(bad_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(bad_key())
    }
}
