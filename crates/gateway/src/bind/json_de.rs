//! The JSON fast path: a request DTO straight from the body bytes.
//!
//! A thin wrapper around `serde_json`'s deserializer adds what ServiceStack clients need and
//! serde_json does not do:
//!
//! - struct keys are matched to serde's field list trimmed and ignoring ASCII case (C# clients
//!   send `AccountId`, others `accountId`); unknown keys are skipped without being parsed into
//!   anything, and a second key naming the same field is skipped too (the first one wins, where
//!   serde would fail with "duplicate field");
//! - the path of the value being read is tracked, so a type error can name the field;
//! - the raw text of a scalar that did not fit is kept for the ServiceStack-style message
//!   `'abc' is an Invalid value for 'count'`;
//! - nesting depth and collection sizes are bounded;
//! - numbers and bools given as JSON strings (`"5"`, `"true"`) are accepted for numeric and
//!   bool members, and numbers or bools given for string members are taken as their text, as
//!   ServiceStack's own JSON reader does; a string given for a list, map or struct member is
//!   read as JSV text (`"1,2,3"`, `"{name:x}"`), as the merged path and query values do.
//!
//! The design follows `serde_path_to_error`: every value goes through a wrapper deserializer,
//! and every visitor through a wrapper visitor that re-wraps whatever deserializer or access it
//! is handed.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

/// One step of the path to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A struct member (its declared serde name) or a map key.
    Field(String),
    /// A list position.
    Index(usize),
}

/// Renders a path as `calls[2].duration`.
pub(crate) fn render_path(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Field(name) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(name);
            }
            Segment::Index(i) => {
                s.push('[');
                s.push_str(&i.to_string());
                s.push(']');
            }
        }
    }
    s
}

/// State shared by every wrapper of one deserialization.
///
/// Interior mutability because serde hands deserializers and accesses around by value; a
/// shared reference to this is the one thing they all carry.
#[derive(Debug)]
pub(crate) struct Track {
    path: RefCell<Vec<Segment>>,
    error_path: RefCell<Option<Vec<Segment>>>,
    value: RefCell<Option<String>>,
    limit: RefCell<Option<String>>,
    depth: Cell<usize>,
    max_depth: usize,
    max_items: usize,
}

impl Track {
    /// A tracker enforcing these limits.
    pub(crate) fn new(max_depth: usize, max_items: usize) -> Self {
        Track {
            path: RefCell::new(Vec::new()),
            error_path: RefCell::new(None),
            value: RefCell::new(None),
            limit: RefCell::new(None),
            depth: Cell::new(0),
            max_depth,
            max_items,
        }
    }

    /// The path of the innermost value that failed, once an error has unwound through it.
    pub(crate) fn error_path(&self) -> Option<Vec<Segment>> {
        self.error_path.borrow().clone()
    }

    /// The raw text of the scalar that failed, if the failure was a scalar.
    pub(crate) fn value(&self) -> Option<String> {
        self.value.borrow().clone()
    }

    /// The message of a limit that was hit, if one was.
    pub(crate) fn limit(&self) -> Option<String> {
        self.limit.borrow().clone()
    }

    /// Records that a limit was hit and returns the error to fail with.
    pub(crate) fn hit_limit<E: de::Error>(&self, message: String) -> E {
        let e = E::custom(&message);
        let mut l = self.limit.borrow_mut();
        if l.is_none() {
            *l = Some(message);
        }
        e
    }

    fn push(&self, seg: Segment) {
        self.path.borrow_mut().push(seg);
    }

    fn pop(&self) {
        self.path.borrow_mut().pop();
    }

    /// Keeps the current path as the error path, unless a deeper value already did.
    fn capture(&self) {
        let mut ep = self.error_path.borrow_mut();
        if ep.is_none() {
            *ep = Some(self.path.borrow().clone());
        }
    }

    /// Keeps the raw text of a failing scalar, unless an error was already located (then this
    /// call is an outer value failing because an inner one did).
    fn note_value(&self, text: impl FnOnce() -> String) {
        if self.error_path.borrow().is_none() {
            let mut v = self.value.borrow_mut();
            if v.is_none() {
                *v = Some(text());
            }
        }
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        let d = self.depth.get() + 1;
        if d > self.max_depth {
            return Err(self.hit_limit(format!(
                "The request body nests deeper than {} levels",
                self.max_depth
            )));
        }
        self.depth.set(d);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }

    fn too_many<E: de::Error>(&self) -> E {
        self.hit_limit(format!(
            "A collection in the request body holds more than {} items",
            self.max_items
        ))
    }
}

/// Deserializes `T` from a JSON body with the rules of this module.
pub(crate) fn from_slice<T: de::DeserializeOwned>(
    body: &[u8],
    track: &Track,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = T::deserialize(Wrap {
        de: &mut de,
        t: track,
    })?;
    de.end()?;
    Ok(value)
}

/// Deserializes a JSON array of `T` (a batch) with at most `max` items.
pub(crate) fn batch_from_slice<T: de::DeserializeOwned>(
    body: &[u8],
    max: usize,
    track: &Track,
) -> Result<Vec<T>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let items = Wrap {
        de: &mut de,
        t: track,
    }
    .deserialize_seq(BatchVisitor::<T> {
        max,
        t: track,
        _t: PhantomData,
    })?;
    de.end()?;
    Ok(items)
}

struct BatchVisitor<'t, T> {
    max: usize,
    t: &'t Track,
    _t: PhantomData<fn() -> T>,
}

impl<'de, T: de::DeserializeOwned> Visitor<'de> for BatchVisitor<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of requests")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<T>()? {
            if out.len() >= self.max {
                return Err(self
                    .t
                    .hit_limit(format!("A batch may hold at most {} requests", self.max)));
            }
            out.push(item);
        }
        Ok(out)
    }
}

/// What the wrapped call asked for, which decides the leniencies of [`Prim`].
#[derive(Clone, Copy)]
enum Kind {
    Any,
    Bool,
    Int,
    Float,
    Str,
    Seq,
    Map,
    /// A struct, by name.
    Struct(&'static str),
}

/// A deserializer that tracks and bounds whatever it reads.
struct Wrap<'t, D> {
    de: D,
    t: &'t Track,
}

impl<'t, D> Wrap<'t, D> {
    fn prim<V>(
        t: &'t Track,
        v: V,
        kind: Kind,
        fields: Option<&'static [&'static str]>,
    ) -> Prim<'t, V> {
        Prim { v, t, kind, fields }
    }
}

macro_rules! via_any {
    ($($method:ident => $kind:expr),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.deserialize_any(Self::prim(self.t, visitor, $kind, None))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Wrap<'_, D> {
    type Error = D::Error;

    // Scalars, lists, maps and structs go through `deserialize_any` so that the wrapper sees
    // the token serde_json found (and can keep its text, or convert it) before the target's
    // visitor rejects it: serde_json's typed entry points fail on a mismatched token without
    // calling the visitor at all.
    via_any! {
        deserialize_any => Kind::Any,
        deserialize_bool => Kind::Bool,
        deserialize_i8 => Kind::Int,
        deserialize_i16 => Kind::Int,
        deserialize_i32 => Kind::Int,
        deserialize_i64 => Kind::Int,
        deserialize_i128 => Kind::Int,
        deserialize_u8 => Kind::Int,
        deserialize_u16 => Kind::Int,
        deserialize_u32 => Kind::Int,
        deserialize_u64 => Kind::Int,
        deserialize_u128 => Kind::Int,
        deserialize_f32 => Kind::Float,
        deserialize_f64 => Kind::Float,
        deserialize_char => Kind::Str,
        deserialize_str => Kind::Str,
        deserialize_string => Kind::Str,
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_bytes(Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_byte_buf(Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_option(Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_unit(Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_unit_struct(name, Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_newtype_struct(name, Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_any(Self::prim(self.t, visitor, Kind::Seq, None))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_tuple(len, Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_tuple_struct(name, len, Self::prim(self.t, visitor, Kind::Any, None))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_any(Self::prim(self.t, visitor, Kind::Map, None))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(Self::prim(
            self.t,
            visitor,
            Kind::Struct(name),
            Some(fields),
        ))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // Enum contents are not tracked further: an error inside one is reported at the member
        // that holds it, which is what the error response names anyway.
        self.de.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_identifier(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        // serde_json skips values iteratively, without a stack frame per level.
        self.de.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// A visitor that re-wraps what it is handed and converts or records scalars.
struct Prim<'t, V> {
    v: V,
    t: &'t Track,
    kind: Kind,
    /// The declared fields when the target is a struct: keys are matched against them.
    fields: Option<&'static [&'static str]>,
}

/// Keeps the text of a scalar whose visitor failed.
fn rec<T, E>(t: &Track, r: Result<T, E>, text: impl FnOnce() -> String) -> Result<T, E> {
    if r.is_err() {
        t.note_value(text);
    }
    r
}

/// Parses the text of a JSON string given for a numeric member and hands it on as a number.
fn str_as_number<'de, V: Visitor<'de>, E: de::Error>(
    v: V,
    s: &str,
    float: bool,
) -> Option<Result<V::Value, E>> {
    let s = s.trim();
    if !float {
        if let Ok(n) = s.parse::<i64>() {
            return Some(v.visit_i64(n));
        }
        if let Ok(n) = s.parse::<u64>() {
            return Some(v.visit_u64(n));
        }
        return None;
    }
    // `inf` and `NaN` parse as f64 but are not numbers any client sends.
    if s.bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    s.parse::<f64>().ok().map(|n| v.visit_f64(n))
}

/// Reads a JSON string given for a list, map or struct member as JSV text (`"1,2,3"`,
/// `"{name:x}"`), as query values are read: a body then binds the same whether or not a query
/// string sends the binder down the merged path, where the `jsv` crate does this.
fn from_jsv_text<'de, V: Visitor<'de>, E: de::Error>(
    v: V,
    s: &str,
    kind: Kind,
    fields: Option<&'static [&'static str]>,
) -> Result<V::Value, E> {
    let text = ::jsv::Value::String(s.to_string());
    let r = match kind {
        Kind::Struct(name) => text.deserialize_struct(name, fields.unwrap_or_default(), v),
        Kind::Map => text.deserialize_map(v),
        _ => text.deserialize_seq(v),
    };
    r.map_err(|e| E::custom(e.message()))
}

fn invalid_str<E: de::Error>(s: &str, expected: &str) -> E {
    E::invalid_value(de::Unexpected::Str(s), &expected)
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Prim<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.v.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<V::Value, E> {
        if let Kind::Str = self.kind {
            return self.v.visit_string(b.to_string());
        }
        let r = self.v.visit_bool(b);
        rec(self.t, r, || b.to_string())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<V::Value, E> {
        if let Kind::Str = self.kind {
            return self.v.visit_string(n.to_string());
        }
        let r = self.v.visit_i64(n);
        rec(self.t, r, || n.to_string())
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<V::Value, E> {
        if let Kind::Str = self.kind {
            return self.v.visit_string(n.to_string());
        }
        let r = self.v.visit_u64(n);
        rec(self.t, r, || n.to_string())
    }

    fn visit_i128<E: de::Error>(self, n: i128) -> Result<V::Value, E> {
        let r = self.v.visit_i128(n);
        rec(self.t, r, || n.to_string())
    }

    fn visit_u128<E: de::Error>(self, n: u128) -> Result<V::Value, E> {
        let r = self.v.visit_u128(n);
        rec(self.t, r, || n.to_string())
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<V::Value, E> {
        if let Kind::Str = self.kind {
            return self.v.visit_string(n.to_string());
        }
        let r = self.v.visit_f64(n);
        rec(self.t, r, || n.to_string())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<V::Value, E> {
        let t = self.t;
        let r =
            match self.kind {
                Kind::Int => str_as_number(self.v, s, false)
                    .unwrap_or_else(|| Err(invalid_str(s, "an integer"))),
                Kind::Float => str_as_number(self.v, s, true)
                    .unwrap_or_else(|| Err(invalid_str(s, "a number"))),
                Kind::Bool => match s.trim() {
                    b if b.eq_ignore_ascii_case("true") => self.v.visit_bool(true),
                    b if b.eq_ignore_ascii_case("false") => self.v.visit_bool(false),
                    _ => Err(invalid_str(s, "a boolean")),
                },
                Kind::Seq | Kind::Map | Kind::Struct(_) => {
                    from_jsv_text(self.v, s, self.kind, self.fields)
                }
                Kind::Any | Kind::Str => self.v.visit_str(s),
            };
        if r.is_err() {
            t.note_value(|| s.to_string());
        }
        r
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<V::Value, E> {
        match self.kind {
            Kind::Any | Kind::Str => {
                let r = self.v.visit_borrowed_str(s);
                rec(self.t, r, || s.to_string())
            }
            _ => self.visit_str(s),
        }
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<V::Value, E> {
        match self.kind {
            Kind::Any | Kind::Str => {
                let t = self.t;
                let text = t.value.borrow().is_none().then(|| s.clone());
                let r = self.v.visit_string(s);
                if r.is_err() {
                    t.note_value(|| text.unwrap_or_default());
                }
                r
            }
            _ => self.visit_str(&s),
        }
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<V::Value, E> {
        self.v.visit_bytes(b)
    }

    fn visit_borrowed_bytes<E: de::Error>(self, b: &'de [u8]) -> Result<V::Value, E> {
        self.v.visit_borrowed_bytes(b)
    }

    fn visit_byte_buf<E: de::Error>(self, b: Vec<u8>) -> Result<V::Value, E> {
        self.v.visit_byte_buf(b)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        let r = self.v.visit_none();
        rec(self.t, r, || "null".to_string())
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.v.visit_some(Wrap { de, t: self.t })
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        let r = self.v.visit_unit();
        rec(self.t, r, || "null".to_string())
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        self.v.visit_newtype_struct(Wrap { de, t: self.t })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if let Kind::Struct(_) = self.kind {
            // serde_json would bind `[..]` to a struct positionally; no ServiceStack client
            // sends that, and accepting it would bind fields by accident.
            return Err(A::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        self.t.enter::<A::Error>()?;
        let r = self.v.visit_seq(SeqWrap {
            seq,
            t: self.t,
            index: 0,
        });
        self.t.leave();
        r
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.t.enter::<A::Error>()?;
        let r = self.v.visit_map(MapWrap {
            map,
            t: self.t,
            fields: self.fields,
            seen: Vec::new(),
            key: None,
            count: 0,
        });
        self.t.leave();
        r
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.v.visit_enum(data)
    }
}

/// A seed that wraps the deserializer it is given.
struct TrackSeed<'t, S> {
    seed: S,
    t: &'t Track,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for TrackSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Wrap { de, t: self.t })
    }
}

struct SeqWrap<'t, A> {
    seq: A,
    t: &'t Track,
    index: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for SeqWrap<'_, A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        if self.index >= self.t.max_items {
            // Only fail when there really is one more item.
            return match self.seq.next_element::<IgnoredAny>()? {
                Some(_) => Err(self.t.too_many()),
                None => Ok(None),
            };
        }
        self.t.push(Segment::Index(self.index));
        let r = self.seq.next_element_seed(TrackSeed { seed, t: self.t });
        if r.is_err() {
            self.t.capture();
        }
        self.t.pop();
        self.index += 1;
        r
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

struct MapWrap<'t, A> {
    map: A,
    t: &'t Track,
    /// The declared fields when the target is a struct: keys are matched against them.
    fields: Option<&'static [&'static str]>,
    /// Which declared fields have been given, to skip repeats.
    seen: Vec<bool>,
    /// The key whose value comes next, for the path.
    key: Option<String>,
    count: usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for MapWrap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<String>()? else {
                return Ok(None);
            };
            self.count += 1;
            if self.count > self.t.max_items {
                return Err(self.t.too_many());
            }
            let Some(fields) = self.fields else {
                self.key = Some(key.clone());
                return seed
                    .deserialize(StringDeserializer::<A::Error>::new(key))
                    .map(Some);
            };
            let wanted = key.trim();
            // An exact match first, so that two wire names differing only in case (none
            // today) would still each bind their own member.
            let found = fields
                .iter()
                .position(|f| *f == wanted)
                .or_else(|| fields.iter().position(|f| f.eq_ignore_ascii_case(wanted)));
            let Some(i) = found else {
                // Unknown keys are ignored, as ServiceStack does.
                self.map.next_value::<IgnoredAny>()?;
                continue;
            };
            if self.seen.is_empty() {
                self.seen = vec![false; fields.len()];
            }
            match self.seen.get_mut(i) {
                Some(seen) if !*seen => *seen = true,
                _ => {
                    self.map.next_value::<IgnoredAny>()?;
                    continue;
                }
            }
            let name: &'static str = fields.get(i).copied().unwrap_or_default();
            self.key = Some(name.to_string());
            return seed
                .deserialize(BorrowedStrDeserializer::<A::Error>::new(name))
                .map(Some);
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.t
            .push(Segment::Field(self.key.take().unwrap_or_default()));
        let r = self.map.next_value_seed(TrackSeed { seed, t: self.t });
        if r.is_err() {
            self.t.capture();
        }
        self.t.pop();
        r
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}
