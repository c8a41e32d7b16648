//! `Value` and `&Value` as type-driven serde `Deserializer`s.
//!
//! One implementation serves both: [`Node`] is either a borrowed or an owned value, and hands
//! strings to visitors as borrowed text when it can.

use std::borrow::Cow;

use base64::Engine as _;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::{Value, ValueVisitor};
use crate::de::Deserializer as TextDeserializer;
use crate::error::{Error, Result};
use crate::parse;

enum Node<'de> {
    B(&'de Value),
    O(Value),
}

enum Items<'de> {
    B(std::slice::Iter<'de, Value>),
    O(std::vec::IntoIter<Value>),
}

impl<'de> Iterator for Items<'de> {
    type Item = Node<'de>;
    fn next(&mut self) -> Option<Node<'de>> {
        match self {
            Items::B(it) => it.next().map(Node::B),
            Items::O(it) => it.next().map(Node::O),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::B(it) => it.size_hint(),
            Items::O(it) => it.size_hint(),
        }
    }
}

enum Entries<'de> {
    B(std::slice::Iter<'de, (String, Value)>),
    O(std::vec::IntoIter<(String, Value)>),
}

impl<'de> Iterator for Entries<'de> {
    type Item = (Cow<'de, str>, Node<'de>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::B(it) => it
                .next()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::B(v))),
            Entries::O(it) => it.next().map(|(k, v)| (Cow::Owned(k), Node::O(v))),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Entries::B(it) => it.size_hint(),
            Entries::O(it) => it.size_hint(),
        }
    }
}

/// The shape of a node, taken apart.
enum Kind<'de> {
    Null,
    Str(Cow<'de, str>),
    List(Items<'de>),
    Map(Entries<'de>),
}

impl<'de> Node<'de> {
    fn kind(self) -> Kind<'de> {
        match self {
            Node::B(Value::Null) | Node::O(Value::Null) => Kind::Null,
            Node::B(Value::String(s)) => Kind::Str(Cow::Borrowed(s)),
            Node::O(Value::String(s)) => Kind::Str(Cow::Owned(s)),
            Node::B(Value::List(l)) => Kind::List(Items::B(l.iter())),
            Node::O(Value::List(l)) => Kind::List(Items::O(l.into_iter())),
            Node::B(Value::Map(m)) => Kind::Map(Entries::B(m.iter())),
            Node::O(Value::Map(m)) => Kind::Map(Entries::O(m.into_iter())),
        }
    }

    fn value(&self) -> &Value {
        match self {
            Node::B(v) => v,
            Node::O(v) => v,
        }
    }

    /// The text of a scalar; `""` for `Null`; an error for a list or map.
    fn scalar(self, what: &str) -> Result<Cow<'de, str>> {
        match self.kind() {
            Kind::Null => Ok(Cow::Borrowed("")),
            Kind::Str(s) => Ok(s),
            Kind::List(_) => Err(Error::data(format!("expected {what}, found a list"))),
            Kind::Map(_) => Err(Error::data(format!("expected {what}, found a map"))),
        }
    }

    fn parse<T>(self, what: &str, f: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        let s = self.scalar(what)?;
        f(&s)
    }
}

/// A string where a list or map is wanted: read it as JSV text (CSV cells, XML text).
fn reparse(s: &str, map: bool) -> Result<Value> {
    let mut de = TextDeserializer::from_str(s);
    let v = if map {
        de::Deserializer::deserialize_map(&mut de, ValueVisitor)?
    } else {
        de::Deserializer::deserialize_seq(&mut de, ValueVisitor)?
    };
    de.end()?;
    Ok(v)
}

fn visit_cow<'de, V: Visitor<'de>>(s: Cow<'de, str>, visitor: V) -> Result<V::Value> {
    match s {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_string(s),
    }
}

fn narrow<T: TryFrom<i128>>(s: &str, ty: &str) -> Result<T> {
    let v = parse::parse_i128(s)?;
    T::try_from(v).map_err(|_| parse::int_out_of_range(s, ty))
}

fn narrow_u<T: TryFrom<u128>>(s: &str, ty: &str) -> Result<T> {
    let v = parse::parse_u128(s)?;
    T::try_from(v).map_err(|_| parse::int_out_of_range(s, ty))
}

macro_rules! scalar {
    ($($method:ident $visit:ident $what:literal => $parse:expr,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            visitor.$visit(self.parse($what, $parse)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Node<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.kind() {
            Kind::Null => visitor.visit_unit(),
            Kind::Str(s) => visit_cow(s, visitor),
            Kind::List(items) => visit_list(items, visitor),
            Kind::Map(entries) => visit_entries(entries, None, visitor),
        }
    }

    scalar! {
        deserialize_bool visit_bool "a boolean" => parse::parse_bool,
        deserialize_i8 visit_i8 "an integer" => |s| narrow(s, "i8"),
        deserialize_i16 visit_i16 "an integer" => |s| narrow(s, "i16"),
        deserialize_i32 visit_i32 "an integer" => |s| narrow(s, "i32"),
        deserialize_i64 visit_i64 "an integer" => |s| narrow(s, "i64"),
        deserialize_i128 visit_i128 "an integer" => parse::parse_i128,
        deserialize_u8 visit_u8 "an integer" => |s| narrow_u(s, "u8"),
        deserialize_u16 visit_u16 "an integer" => |s| narrow_u(s, "u16"),
        deserialize_u32 visit_u32 "an integer" => |s| narrow_u(s, "u32"),
        deserialize_u64 visit_u64 "an integer" => |s| narrow_u(s, "u64"),
        deserialize_u128 visit_u128 "an integer" => parse::parse_u128,
        deserialize_f32 visit_f32 "a number" => parse::parse_f32,
        deserialize_f64 visit_f64 "a number" => parse::parse_f64,
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let s = self.scalar("a character")?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(Error::invalid_token(
                format!("expected one character, found '{s}'"),
                &s,
            )),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Node::B(v @ (Value::List(_) | Value::Map(_))) => visitor.visit_string(v.to_string()),
            Node::O(ref v @ (Value::List(_) | Value::Map(_))) => {
                visitor.visit_string(v.to_string())
            }
            other => visit_cow(other.scalar("a string")?, visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let s = self.scalar("Base64 text")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim().as_bytes())
            .map_err(|_| {
                Error::invalid_token(format!("invalid Base64 '{}'", s.trim()), s.trim())
            })?;
        visitor.visit_byte_buf(bytes)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.value().is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value() {
            Value::Null => visitor.visit_unit(),
            Value::String(s) if s.is_empty() => visitor.visit_unit(),
            _ => Err(Error::data("expected an empty value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.kind() {
            Kind::List(items) => visit_list(items, visitor),
            Kind::Str(s) => Node::O(reparse(&s, false)?).deserialize_seq(visitor),
            Kind::Null => Err(Error::data("expected a list, found an empty value")),
            Kind::Map(_) => Err(Error::data("expected a list, found a map")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.map_like(None, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.map_like(Some(fields), visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.kind() {
            Kind::Str(s) if s.trim_start().starts_with('{') => {
                Node::O(reparse(&s, true)?).deserialize_enum(_name, variants, visitor)
            }
            Kind::Str(s) => {
                let name = crate::de::match_variant(&s, variants)?;
                visitor.visit_enum(name.into_deserializer())
            }
            Kind::Map(mut entries) => {
                let (Some((k, v)), None) = (entries.next(), entries.next()) else {
                    return Err(Error::data(
                        "expected a map with exactly one entry for an enum variant",
                    ));
                };
                let name = crate::de::match_variant(&k, variants)?;
                visitor
                    .visit_enum(NodeEnum { name, value: v })
                    .map_err(|e| e.in_field(name))
            }
            Kind::Null => Err(Error::data(
                "expected an enum variant, found an empty value",
            )),
            Kind::List(_) => Err(Error::data("expected an enum variant, found a list")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

impl<'de> Node<'de> {
    fn map_like<V: Visitor<'de>>(
        self,
        fields: Option<&'static [&'static str]>,
        visitor: V,
    ) -> Result<V::Value> {
        match self.kind() {
            Kind::Map(entries) => visit_entries(entries, fields, visitor),
            Kind::Str(s) => Node::O(reparse(&s, true)?).map_like(fields, visitor),
            Kind::Null => Err(Error::data("expected a map, found an empty value")),
            Kind::List(_) => Err(Error::data("expected a map, found a list")),
        }
    }
}

fn visit_list<'de, V: Visitor<'de>>(items: Items<'de>, visitor: V) -> Result<V::Value> {
    let mut access = NodeSeq { items, index: 0 };
    let v = visitor.visit_seq(&mut access)?;
    Ok(v)
}

fn visit_entries<'de, V: Visitor<'de>>(
    entries: Entries<'de>,
    fields: Option<&'static [&'static str]>,
    visitor: V,
) -> Result<V::Value> {
    visitor.visit_map(NodeMap {
        entries,
        fields,
        pending: None,
        key: Cow::Borrowed(""),
    })
}

struct NodeSeq<'de> {
    items: Items<'de>,
    index: usize,
}

impl<'de> de::SeqAccess<'de> for NodeSeq<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            None => Ok(None),
            Some(node) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(node).map(Some).map_err(|e| e.in_index(i))
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.size_hint().0)
    }
}

struct NodeMap<'de> {
    entries: Entries<'de>,
    fields: Option<&'static [&'static str]>,
    pending: Option<Node<'de>>,
    key: Cow<'de, str>,
}

impl<'de> de::MapAccess<'de> for NodeMap<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        for (k, v) in self.entries.by_ref() {
            match self.fields {
                Some(fields) => {
                    let t = k.trim();
                    if let Some(&name) = fields.iter().find(|f| f.eq_ignore_ascii_case(t)) {
                        self.pending = Some(v);
                        self.key = Cow::Borrowed(name);
                        return seed
                            .deserialize(de::value::BorrowedStrDeserializer::new(name))
                            .map(Some);
                    }
                }
                None => {
                    self.pending = Some(v);
                    self.key = k.clone();
                    return seed
                        .deserialize(Node::O(Value::String(k.into_owned())))
                        .map(Some);
                }
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let node = self
            .pending
            .take()
            .ok_or_else(|| Error::data("next_value called before next_key"))?;
        seed.deserialize(node).map_err(|e| e.in_field(&self.key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.size_hint().0)
    }
}

struct NodeEnum<'de> {
    name: &'static str,
    value: Node<'de>,
}

impl<'de> de::EnumAccess<'de> for NodeEnum<'de> {
    type Error = Error;
    type Variant = Node<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Node<'de>)> {
        let v = seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(self.name))?;
        Ok((v, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for Node<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.map_like(Some(fields), visitor)
    }
}

macro_rules! forward_to_node {
    ($wrap:expr) => {
        fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_any(v)
        }
        fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_bool(v)
        }
        fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_i8(v)
        }
        fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_i16(v)
        }
        fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_i32(v)
        }
        fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_i64(v)
        }
        fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_i128(v)
        }
        fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_u8(v)
        }
        fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_u16(v)
        }
        fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_u32(v)
        }
        fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_u64(v)
        }
        fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_u128(v)
        }
        fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_f32(v)
        }
        fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_f64(v)
        }
        fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_char(v)
        }
        fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_str(v)
        }
        fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_string(v)
        }
        fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_bytes(v)
        }
        fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_byte_buf(v)
        }
        fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_option(v)
        }
        fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_unit(v)
        }
        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            v: V,
        ) -> Result<V::Value> {
            $wrap(self).deserialize_unit_struct(name, v)
        }
        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            v: V,
        ) -> Result<V::Value> {
            $wrap(self).deserialize_newtype_struct(name, v)
        }
        fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_seq(v)
        }
        fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_tuple(len, v)
        }
        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            len: usize,
            v: V,
        ) -> Result<V::Value> {
            $wrap(self).deserialize_tuple_struct(name, len, v)
        }
        fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_map(v)
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            fields: &'static [&'static str],
            v: V,
        ) -> Result<V::Value> {
            $wrap(self).deserialize_struct(name, fields, v)
        }
        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            v: V,
        ) -> Result<V::Value> {
            $wrap(self).deserialize_enum(name, variants, v)
        }
        fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_identifier(v)
        }
        fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            $wrap(self).deserialize_ignored_any(v)
        }
    };
}

/// Type-driven deserialization from a borrowed tree; strings are lent to the visitor.
impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = Error;
    forward_to_node!(Node::B);
}

/// Type-driven deserialization from an owned tree.
impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;
    forward_to_node!(Node::O);
}

impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = Value;
    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> IntoDeserializer<'de, Error> for &'de Value {
    type Deserializer = &'de Value;
    fn into_deserializer(self) -> &'de Value {
        self
    }
}
