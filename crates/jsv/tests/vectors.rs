//! Runs every vector of `fixtures/jsv-vectors.json` through the public API.
//!
//! Each vector's `type` description is interpreted into a schema ([`Ty`]); a schema-driven
//! `Serialize` ([`Typed`]) and `DeserializeSeed` ([`Seed`]) then stand in for the Rust type a
//! user would declare (a string is `Option<String>` because .NET strings are nullable, a DTO
//! is a struct with serde renames, `decimal` is `rust_decimal` with `serde-with-str`, dates
//! and durations are `jsv::types`, ...). The only expected results are the vector file's.
//! Vectors that evogate answers differently on purpose are listed in [`ALLOWED`] and in
//! `docs/compatibility.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::fmt;

use jsv::types::{DateKind, DateTime, DateTimeOffset, Guid, TimeSpan};
use serde::de::{self, DeserializeSeed, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize};
use serde_json::{Value as J, json};

/// Vectors evogate deliberately answers differently; see docs/compatibility.md.
const ALLOWED: &[(&str, &str)] = &[
    (
        "str-empty-top-as-object",
        "static type `object` quirk; Rust has no `object` static type",
    ),
    (
        "str-parse-unterminated-quote",
        "decisions 13: malformed text is an error",
    ),
    ("map-object-string-dictionary-mode", "non-default JsConfig"),
    (
        "obj-object-prop-poco-type-info",
        "no __type: Rust has no runtime-typed members",
    ),
    (
        "obj-typeinfo-interface",
        "no __type: Rust has no runtime-typed members",
    ),
    (
        "obj-typeinfo-concrete-member",
        "no __type: Rust has no runtime-typed members",
    ),
    (
        "list-object-mixed",
        "no __type: Rust has no runtime-typed members",
    ),
    (
        "obj-excluded-nested",
        "non-default JsConfig (ExcludePropertyReferences)",
    ),
    (
        "obj-exclude-default-values",
        "non-default JsConfig (ExcludeDefaultValues)",
    ),
    (
        "obj-camelcase-config",
        "non-default JsConfig (TextCase=CamelCase)",
    ),
    (
        "obj-parse-pretty-printed",
        "pretty text reads back (brief, decisions 9)",
    ),
    (
        "obj-parse-bad-member-ignored",
        "decisions 13: a bad value is an error",
    ),
    (
        "list-poco-parse-space-error",
        "jsv.md 11.5 / decisions 9: spaces around nested values accepted",
    ),
    (
        "list-poco-null-item",
        "jsv.md 11.3 / decisions 8: a null item is an empty slot",
    ),
];

// ---------------------------------------------------------------------------------------------
// Ordered JSON: the vector file read with object keys in file order (serde_json's map sorts
// them unless its `preserve_order` feature is on, which would leak into other crates' builds).

#[derive(Debug, Clone)]
enum OJ {
    Other(J),
    Arr(Vec<OJ>),
    Obj(Vec<(String, OJ)>),
}

impl OJ {
    fn get(&self, key: &str) -> Option<&OJ> {
        match self {
            OJ::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            OJ::Other(J::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Every object key in document order.
    fn keys(&self, out: &mut Vec<String>) {
        match self {
            OJ::Other(_) => {}
            OJ::Arr(a) => a.iter().for_each(|v| v.keys(out)),
            OJ::Obj(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    v.keys(out);
                }
            }
        }
    }
}

impl<'de> Deserialize<'de> for OJ {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<OJ, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OJ;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("json")
            }
            fn visit_bool<E>(self, v: bool) -> Result<OJ, E> {
                Ok(OJ::Other(J::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<OJ, E> {
                Ok(OJ::Other(json!(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<OJ, E> {
                Ok(OJ::Other(json!(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<OJ, E> {
                Ok(OJ::Other(json!(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<OJ, E> {
                Ok(OJ::Other(J::String(v.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<OJ, E> {
                Ok(OJ::Other(J::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OJ, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element()? {
                    items.push(v);
                }
                Ok(OJ::Arr(items))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<OJ, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    entries.push((k, v));
                }
                Ok(OJ::Obj(entries))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Schema

#[derive(Debug, Clone)]
enum Ty {
    Str,
    Bool,
    Char,
    Int(&'static str),
    F32,
    F64,
    Decimal,
    Guid,
    DateTime(Option<DateKind>),
    DateTimeOffset,
    TimeSpan,
    Bytes,
    /// .NET `object`: written by runtime type, read as raw text.
    Any,
    Opt(Box<Ty>),
    List(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Object(Obj),
    Enum(EnumTy),
    Flags(Vec<(String, u64)>),
}

#[derive(Debug, Clone)]
struct Obj {
    name: &'static str,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Field {
    /// Name in the vector's `value`.
    src: String,
    /// Name on the wire (`[DataMember(Name)]`).
    wire: &'static str,
    ty: Ty,
    skip_default: bool,
}

#[derive(Debug, Clone)]
struct EnumTy {
    name: &'static str,
    /// (member name, written name)
    members: Vec<(String, &'static str)>,
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// Named types referenced by the vectors without an inline definition.
fn named(name: &str, reg: &BTreeMap<String, Ty>) -> Option<Ty> {
    if let Some(t) = reg.get(name) {
        return Some(t.clone());
    }
    let obj = |fields: &[(&str, &str)]| {
        Ty::Object(Obj {
            name: leak(name),
            fields: fields
                .iter()
                .map(|(n, t)| Field {
                    src: (*n).to_owned(),
                    wire: leak(n),
                    ty: parse_ty(t, reg),
                    skip_default: false,
                })
                .collect(),
        })
    };
    Some(match name {
        "ModelWithIdAndName" => obj(&[("Id", "int"), ("Name", "string")]),
        "Item" => obj(&[("Key", "string"), ("Value", "string")]),
        "B" => obj(&[
            ("Property", "string"),
            ("Property2", "string"),
            ("Property3", "string"),
        ]),
        "A" => obj(&[("ListOfB", "list<B>")]),
        "Exclude" => obj(&[("Id", "int"), ("Key", "string")]),
        "ResponseError" => obj(&[
            ("ErrorCode", "string"),
            ("FieldName", "string"),
            ("Message", "string"),
            ("Meta", "map<string,string>"),
        ]),
        "ResponseStatus" => obj(&[
            ("ErrorCode", "string"),
            ("Message", "string"),
            ("StackTrace", "string"),
            ("Errors", "list<ResponseError>"),
            ("Meta", "map<string,string>"),
        ]),
        "Color" => Ty::Enum(EnumTy {
            name: "Color",
            members: ["Red", "Green", "Blue"]
                .iter()
                .map(|m| ((*m).to_owned(), leak(m)))
                .collect(),
        }),
        "Day" => Ty::Enum(EnumTy {
            name: "Day",
            members: [
                ("Monday", "MON"),
                ("Tuesday", "TUE"),
                ("Wednesday", "WED"),
                ("Thursday", "THU"),
                ("Friday", "FRI"),
                ("Saturday", "SAT"),
                ("Sunday", "SUN"),
            ]
            .iter()
            .map(|(m, w)| ((*m).to_owned(), leak(w)))
            .collect(),
        }),
        "Perms" => Ty::Flags(vec![
            ("None".into(), 0),
            ("Read".into(), 1),
            ("Write".into(), 2),
            ("Exec".into(), 4),
        ]),
        "UnsignedFlags" => Ty::Flags(vec![("EnumValue1".into(), 0), ("EnumValue2".into(), 1)]),
        _ => {
            let raw = DECLARED.with(|d| d.borrow().get(name).cloned())?;
            parse_obj(&raw, reg)
        }
    })
}

/// Split at top-level commas (outside `<>`, `{}`, `()`).
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' | '{' | '(' | '[' => depth += 1,
            '>' | '}' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_ty(t: &str, reg: &BTreeMap<String, Ty>) -> Ty {
    let t = t.trim();
    // `ITest (runtime TestObject{...})`: the runtime type; `ITest=TestParameter{...}` likewise.
    if let Some(i) = t.find(" (runtime ") {
        return parse_ty(&t[i + 10..t.len() - 1], reg);
    }
    if let Some((_, runtime)) = t
        .split_once('=')
        .filter(|(decl, _)| decl.chars().all(char::is_alphanumeric))
    {
        return parse_ty(runtime, reg);
    }
    // Attribute notes after the type: `int [DataMember(Name=id)]`, `int (declared on X)`.
    if let Some(i) = t.find(" [").or_else(|| t.find(" ("))
        && !t.starts_with('[')
        && !t.starts_with("enum")
        && !t.starts_with("datetime")
    {
        return parse_ty(&t[..i], reg);
    }
    if let Some(inner) = t.strip_suffix('?') {
        return Ty::Opt(Box::new(parse_ty(inner, reg)));
    }
    if let Some(rest) = t.strip_prefix("[Flags] enum ") {
        let name = rest.split(['{', ':', ' ']).next().unwrap_or(rest);
        return named(name, reg).unwrap_or_else(|| panic!("unknown flags enum {t}"));
    }
    if let Some(rest) = t.strip_prefix("[DataContract] enum ") {
        let name = rest.split(['{', ' ']).next().unwrap_or(rest);
        return named(name, reg).unwrap_or_else(|| panic!("unknown enum {t}"));
    }
    if let Some(rest) = t.strip_prefix("enum ") {
        let name = rest.split(['{', ' ']).next().unwrap_or(rest);
        return named(name, reg).unwrap_or_else(|| panic!("unknown enum {t}"));
    }
    if t.starts_with("datetime(") || t.starts_with("datetime ") {
        let kind = if t.contains("kind=utc") {
            Some(DateKind::Utc)
        } else if t.contains("kind=local") {
            Some(DateKind::Local)
        } else if t.contains("kind=unspecified") {
            Some(DateKind::Unspecified)
        } else {
            None
        };
        return Ty::DateTime(kind);
    }
    if let Some(inner) = t.strip_prefix("list<").or_else(|| t.strip_prefix("set<")) {
        return Ty::List(Box::new(parse_ty(inner.strip_suffix('>').unwrap(), reg)));
    }
    if let Some(inner) = t.strip_prefix("map<") {
        let parts = split_top(inner.strip_suffix('>').unwrap());
        return Ty::Map(
            Box::new(parse_ty(parts[0], reg)),
            Box::new(parse_ty(parts[1], reg)),
        );
    }
    if t == "byte[]" {
        return Ty::Bytes;
    }
    if let Some(i) = t.find("[") {
        // `T[]`, `T[,]`, `T[,,]`: one list level per dimension.
        let dims = t[i..].matches(',').count() + 1;
        let mut ty = parse_ty(&t[..i], reg);
        for _ in 0..dims {
            ty = Ty::List(Box::new(ty));
        }
        return ty;
    }
    if let Some(open) = t.find('{') {
        // Inline definition `Name{Field:type,Field2,...}`; a bare field name is a string.
        let name = &t[..open];
        let body = &t[open + 1..t.len() - 1];
        let fields = split_top(body)
            .into_iter()
            .map(|f| {
                let (n, ty) = match f.split_once(':') {
                    Some((n, ty)) => (n.trim(), parse_ty(ty, reg)),
                    None => (f.trim(), Ty::Str),
                };
                Field {
                    src: n.to_owned(),
                    wire: leak(n),
                    ty,
                    skip_default: false,
                }
            })
            .collect();
        return Ty::Object(Obj {
            name: leak(name),
            fields,
        });
    }
    match t {
        "string" | "uri" => Ty::Str,
        "bool" => Ty::Bool,
        "char" => Ty::Char,
        "int" => Ty::Int("i32"),
        "long" => Ty::Int("i64"),
        "short" => Ty::Int("i16"),
        "byte" => Ty::Int("u8"),
        "uint" => Ty::Int("u32"),
        "ulong" => Ty::Int("u64"),
        "float" => Ty::F32,
        "double" => Ty::F64,
        "decimal" => Ty::Decimal,
        "guid" => Ty::Guid,
        "datetime" | "dateonly" => Ty::DateTime(None),
        "datetimeoffset" => Ty::DateTimeOffset,
        "timespan" | "timeonly" => Ty::TimeSpan,
        "object" | "object(string)" => Ty::Any,
        other => named(other, reg).unwrap_or_else(|| panic!("unknown type {other}")),
    }
}

/// An object type given as JSON: `fields` with attribute notes applied.
fn parse_obj(t: &OJ, reg: &BTreeMap<String, Ty>) -> Ty {
    if t.get("kind").and_then(OJ::as_str) == Some("map") {
        return Ty::Map(
            Box::new(parse_ty(t.get("key").and_then(OJ::as_str).unwrap(), reg)),
            Box::new(parse_json_ty(t.get("value").unwrap(), reg)),
        );
    }
    let full_name = t.get("name").and_then(OJ::as_str).unwrap();
    let data_contract = full_name.contains("[DataContract]");
    let name = full_name.split([' ', '[']).next().unwrap();
    let mut fields = Vec::new();
    let Some(OJ::Obj(declared)) = t.get("fields") else {
        panic!("object type without fields")
    };
    for (i, (src, ft)) in declared.iter().enumerate() {
        let fts = ft.as_str().unwrap();
        let has_member = fts.contains("[DataMember");
        if fts.contains("[IgnoreDataMember]") || (data_contract && !has_member) {
            continue;
        }
        let wire = attr(fts, "Name=").unwrap_or(src.as_str());
        let order: i64 = attr(fts, "Order=").map_or(-1, |o| o.parse().unwrap());
        fields.push((
            order,
            i,
            Field {
                src: src.clone(),
                wire: leak(wire),
                ty: parse_ty(fts, reg),
                skip_default: fts.contains("EmitDefaultValue=false"),
            },
        ));
    }
    if data_contract {
        fields.sort_by_key(|(order, i, _)| (*order, *i));
    }
    Ty::Object(Obj {
        name: leak(name),
        fields: fields.into_iter().map(|(_, _, f)| f).collect(),
    })
}

fn attr<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let i = s.find(key)? + key.len();
    let rest = &s[i..];
    let end = rest.find([')', ',', ']']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

fn parse_json_ty(t: &OJ, reg: &BTreeMap<String, Ty>) -> Ty {
    match t.as_str() {
        Some(s) => parse_ty(s, reg),
        None => parse_obj(t, reg),
    }
}

// ---------------------------------------------------------------------------------------------
// Schema-driven Serialize

struct Typed<'a>(&'a Ty, &'a J);

fn number(v: &J) -> f64 {
    match v {
        J::Number(n) => n.as_f64().unwrap(),
        J::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            other => other.parse().unwrap(),
        },
        other => panic!("not a number: {other}"),
    }
}

fn flags_value(flags: &[(String, u64)], v: &J) -> u64 {
    let names: Vec<&str> = match v {
        J::Array(a) => a.iter().map(|n| n.as_str().unwrap()).collect(),
        J::String(s) => s.split(',').map(str::trim).collect(),
        _ => Vec::new(),
    };
    names
        .iter()
        .map(|n| flags.iter().find(|(m, _)| m == n).map(|(_, v)| *v).unwrap())
        .sum()
}

fn date_value(kind: Option<DateKind>, s: &str) -> DateTime {
    let d: DateTime = s.parse().unwrap();
    match kind {
        Some(k) => d.with_kind(k),
        None => d,
    }
}

impl Serialize for Typed<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Typed(ty, v) = *self;
        if v.is_null() {
            return s.serialize_none();
        }
        match ty {
            Ty::Opt(t) => s.serialize_some(&Typed(t, v)),
            Ty::Str => s.serialize_str(v.as_str().unwrap()),
            Ty::Bool => s.serialize_bool(v.as_bool().unwrap()),
            Ty::Char => s.serialize_char(v.as_str().unwrap().chars().next().unwrap()),
            Ty::Int(kind) => {
                let text = match v {
                    J::String(t) => t.clone(),
                    other => other.to_string(),
                };
                match *kind {
                    "i16" => s.serialize_i16(text.parse().unwrap()),
                    "i32" => s.serialize_i32(text.parse().unwrap()),
                    "i64" => s.serialize_i64(text.parse().unwrap()),
                    "u8" => s.serialize_u8(text.parse().unwrap()),
                    "u32" => s.serialize_u32(text.parse().unwrap()),
                    _ => s.serialize_u64(text.parse().unwrap()),
                }
            }
            Ty::F32 => s.serialize_f32(number(v) as f32),
            Ty::F64 => s.serialize_f64(number(v)),
            // rust_decimal with `serde-with-str` writes its text, scale included.
            Ty::Decimal => match v {
                J::String(t) => s.serialize_str(t),
                other => s.serialize_str(&other.to_string()),
            },
            Ty::Guid => v.as_str().unwrap().parse::<Guid>().unwrap().serialize(s),
            Ty::DateTime(kind) => date_value(*kind, v.as_str().unwrap()).serialize(s),
            Ty::DateTimeOffset => v
                .as_str()
                .unwrap()
                .parse::<DateTimeOffset>()
                .unwrap()
                .serialize(s),
            Ty::TimeSpan => v
                .as_str()
                .unwrap()
                .parse::<TimeSpan>()
                .unwrap()
                .serialize(s),
            Ty::Bytes => {
                let bytes: Vec<u8> = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_u64().unwrap() as u8)
                    .collect();
                s.serialize_bytes(&bytes)
            }
            Ty::Any => match v {
                J::Bool(b) => s.serialize_bool(*b),
                J::Number(n) if n.is_i64() => s.serialize_i64(n.as_i64().unwrap()),
                J::Number(n) => s.serialize_f64(n.as_f64().unwrap()),
                J::String(t) => s.serialize_str(t),
                J::Array(items) => {
                    let mut seq = s.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(&Typed(&Ty::Any, item))?;
                    }
                    seq.end()
                }
                J::Object(m) => {
                    let mut map = s.serialize_map(Some(m.len()))?;
                    for (k, item) in m {
                        map.serialize_entry(k, &Typed(&Ty::Any, item))?;
                    }
                    map.end()
                }
                J::Null => s.serialize_none(),
            },
            Ty::List(t) => {
                let items = v.as_array().unwrap();
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Typed(t, item))?;
                }
                seq.end()
            }
            Ty::Map(k, t) => {
                let m = v.as_object().unwrap();
                let mut map = s.serialize_map(Some(m.len()))?;
                for (key, item) in m_in_order(v, m) {
                    map.serialize_entry(&Typed(k, &J::String(key.clone())), &Typed(t, item))?;
                }
                map.end()
            }
            Ty::Object(obj) => {
                let mut st = s.serialize_struct(obj.name, obj.fields.len())?;
                for f in &obj.fields {
                    let fv = v.get(&f.src).unwrap_or(&J::Null);
                    if f.skip_default && is_default(&f.ty, fv) {
                        continue;
                    }
                    st.serialize_field(f.wire, &Typed(&f.ty, fv))?;
                }
                st.end()
            }
            Ty::Enum(e) => {
                let name = v.as_str().unwrap();
                let (i, (_, wire)) = e
                    .members
                    .iter()
                    .enumerate()
                    .find(|(_, (m, _))| m == name)
                    .unwrap();
                s.serialize_unit_variant(e.name, i as u32, wire)
            }
            Ty::Flags(flags) => s.serialize_u64(flags_value(flags, v)),
        }
    }
}

/// JSON objects keep insertion order only with serde_json's `preserve_order`; the vectors'
/// maps are re-read in file order from the raw text instead.
fn m_in_order<'a>(_v: &'a J, m: &'a serde_json::Map<String, J>) -> Vec<(&'a String, &'a J)> {
    let order = ORDER.with(|o| o.borrow().clone());
    let mut entries: Vec<(&String, &J)> = m.iter().collect();
    entries.sort_by_key(|(k, _)| order.iter().position(|o| o == *k).unwrap_or(usize::MAX));
    entries
}

thread_local! {
    /// Keys of the current vector's value in file order.
    static ORDER: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn is_default(ty: &Ty, v: &J) -> bool {
    match ty {
        Ty::Int(_) | Ty::F32 | Ty::F64 | Ty::Decimal => v.is_null() || number(v) == 0.0,
        Ty::Bool => v.is_null() || v == &J::Bool(false),
        _ => v.is_null(),
    }
}

// ---------------------------------------------------------------------------------------------
// Schema-driven DeserializeSeed, producing a JSON value to compare with the vector's.

#[derive(Clone, Copy)]
struct Seed<'a>(&'a Ty);

/// Whether a .NET type is a nullable reference type (string, list, map, object).
fn nullable(ty: &Ty) -> bool {
    matches!(
        ty,
        Ty::Str | Ty::Any | Ty::List(_) | Ty::Map(..) | Ty::Object(_) | Ty::Bytes
    )
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = J;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        if let Ty::Opt(t) = self.0 {
            return d.deserialize_option(OptVisitor(t));
        }
        if nullable(self.0) {
            return d.deserialize_option(OptVisitor(self.0));
        }
        self.inner(d)
    }
}

impl Seed<'_> {
    fn inner<'de, D: de::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        use de::Error as _;
        Ok(match self.0 {
            Ty::Opt(t) => return Seed(t).deserialize(d),
            Ty::Str | Ty::Any => J::String(String::deserialize(d)?),
            Ty::Bool => J::Bool(bool::deserialize(d)?),
            Ty::Char => J::String(char::deserialize(d)?.to_string()),
            Ty::Int(kind) => match *kind {
                "i16" => json!(i16::deserialize(d)?),
                "i32" => json!(i32::deserialize(d)?),
                "i64" => json!(i64::deserialize(d)?),
                "u8" => json!(u8::deserialize(d)?),
                "u32" => json!(u32::deserialize(d)?),
                _ => json!(u64::deserialize(d)?),
            },
            Ty::F32 => json!(f32::deserialize(d)?),
            Ty::F64 => {
                let v = f64::deserialize(d)?;
                if v.is_finite() {
                    json!(v)
                } else {
                    J::String(jsv::to_string(&v).unwrap())
                }
            }
            // A decimal type reads its text and applies the .NET number rules (§4.5).
            Ty::Decimal => {
                let text = String::deserialize(d)?;
                json!(jsv::from_str::<f64>(&text).map_err(D::Error::custom)?)
            }
            Ty::Guid => J::String(Guid::deserialize(d)?.to_dashed()),
            Ty::DateTime(_) => J::String(DateTime::deserialize(d)?.ticks().to_string()),
            Ty::DateTimeOffset => J::String(DateTimeOffset::deserialize(d)?.to_string()),
            Ty::TimeSpan => J::String(TimeSpan::deserialize(d)?.ticks().to_string()),
            Ty::Bytes => J::Array(serde_bytes_buf(d)?.into_iter().map(|b| json!(b)).collect()),
            Ty::List(t) => d.deserialize_seq(ListVisitor(t))?,
            Ty::Map(k, v) => d.deserialize_map(MapVisitor(k, v))?,
            Ty::Object(obj) => {
                let names: Vec<&'static str> = obj.fields.iter().map(|f| f.wire).collect();
                let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
                d.deserialize_struct(obj.name, names, ObjVisitor(obj))?
            }
            Ty::Enum(e) => {
                let wires: Vec<&'static str> = e.members.iter().map(|(_, w)| *w).collect();
                let wires: &'static [&'static str] = Box::leak(wires.into_boxed_slice());
                d.deserialize_enum(e.name, wires, EnumVisitor(e))?
            }
            // A flags type parses comma-separated names or a number from its text.
            Ty::Flags(flags) => {
                let text = String::deserialize(d)?;
                let mut names = Vec::new();
                for part in text.split(',').map(str::trim) {
                    if let Ok(n) = part.parse::<u64>() {
                        for (m, v) in flags {
                            if *v != 0 && n & v == *v {
                                names.push(J::String(m.clone()));
                            }
                        }
                    } else {
                        let (m, _) = flags
                            .iter()
                            .find(|(m, _)| m.eq_ignore_ascii_case(part))
                            .ok_or_else(|| D::Error::custom(format!("unknown flag {part}")))?;
                        names.push(J::String(m.clone()));
                    }
                }
                J::Array(names)
            }
        })
    }
}

fn serde_bytes_buf<'de, D: de::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct B;
    impl Visitor<'_> for B {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }
        fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
        fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
    }
    d.deserialize_byte_buf(B)
}

struct OptVisitor<'a>(&'a Ty);

impl<'de> Visitor<'de> for OptVisitor<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an optional value")
    }
    fn visit_none<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_unit<E>(self) -> Result<J, E> {
        Ok(J::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<J, D::Error> {
        Seed(self.0).inner(d)
    }
}

struct ListVisitor<'a>(&'a Ty);

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Seed(self.0))? {
            items.push(item);
        }
        Ok(J::Array(items))
    }
}

struct MapVisitor<'a>(&'a Ty, &'a Ty);

impl<'de> Visitor<'de> for MapVisitor<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key_seed(KeySeed(self.0))? {
            let v = map.next_value_seed(Seed(self.1))?;
            out.insert(k, v);
        }
        Ok(J::Object(out))
    }
}

struct KeySeed<'a>(&'a Ty);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        Ok(match self.0 {
            Ty::Int(_) => i64::deserialize(d)?.to_string(),
            _ => String::deserialize(d)?,
        })
    }
}

struct ObjVisitor<'a>(&'a Obj);

impl<'de> Visitor<'de> for ObjVisitor<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {}", self.0.name)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            match self.0.fields.iter().find(|f| f.wire == k) {
                Some(f) => {
                    let v = map.next_value_seed(Seed(&f.ty))?;
                    out.insert(f.src.clone(), v);
                }
                None => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(J::Object(out))
    }
}

struct EnumVisitor<'a>(&'a EnumTy);

impl<'de> Visitor<'de> for EnumVisitor<'_> {
    type Value = J;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {}", self.0.name)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<J, A::Error> {
        use de::VariantAccess as _;
        let (wire, variant) = data.variant::<String>()?;
        variant.unit_variant()?;
        let (member, _) = self.0.members.iter().find(|(_, w)| *w == wire).unwrap();
        Ok(J::String(member.clone()))
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison (what "the same value" means per type)

fn same(ty: &Ty, got: &J, exp: &J) -> bool {
    match ty {
        Ty::Opt(t) => (got.is_null() && exp.is_null()) || same(t, got, exp),
        _ if got.is_null() || exp.is_null() => {
            // A member the text left out keeps the .NET default (`#[serde(default)]`).
            (got.is_null() && is_default(ty, exp)) || (exp.is_null() && got.is_null())
        }
        Ty::F32 => number(got) as f32 == number(exp) as f32,
        Ty::F64 | Ty::Decimal => {
            let (g, e) = (number(got), number(exp));
            g == e || (g.is_nan() && e.is_nan())
        }
        Ty::Int(_) => number(got) == number(exp),
        Ty::Guid => got
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(exp.as_str().unwrap()),
        Ty::DateTime(_) => {
            let e = date_value(None, exp.as_str().unwrap()).ticks().to_string();
            got.as_str() == Some(e.as_str())
        }
        Ty::DateTimeOffset => {
            let e: DateTimeOffset = exp.as_str().unwrap().parse().unwrap();
            got.as_str() == Some(e.to_string().as_str())
        }
        Ty::TimeSpan => {
            let e: TimeSpan = exp.as_str().unwrap().parse().unwrap();
            got.as_str() == Some(e.ticks().to_string().as_str())
        }
        Ty::List(t) => match (got.as_array(), exp.as_array()) {
            (Some(g), Some(e)) => g.len() == e.len() && g.iter().zip(e).all(|(g, e)| same(t, g, e)),
            _ => false,
        },
        Ty::Map(_, t) => match (got.as_object(), exp.as_object()) {
            (Some(g), Some(e)) => {
                g.len() == e.len()
                    && e.iter()
                        .all(|(k, ev)| g.get(k).is_some_and(|gv| same(t, gv, ev)))
            }
            _ => false,
        },
        Ty::Object(obj) => obj.fields.iter().all(|f| {
            same(
                &f.ty,
                got.get(&f.src).unwrap_or(&J::Null),
                exp.get(&f.src).unwrap_or(&J::Null),
            )
        }),
        Ty::Flags(_) => {
            let set = |v: &J| {
                let mut names: Vec<String> = v
                    .as_array()
                    .map(|a| a.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                names.sort();
                names
            };
            set(got) == set(exp)
        }
        _ => got == exp,
    }
}

// ---------------------------------------------------------------------------------------------
// Running the vectors

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else if b[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Bind a query string to an object type field by field with `FieldDeserializer`, as the
/// gateway does after URL-decoding (the typed counterpart, `from_fields`, is tested in
/// `tests/fields.rs`).
fn bind_query(obj: &Obj, qs: &str) -> Result<J, jsv::Error> {
    let mut out = serde_json::Map::new();
    for pair in qs.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        if v.is_empty() {
            continue;
        }
        if let Some(f) = obj
            .fields
            .iter()
            .find(|f| f.wire.eq_ignore_ascii_case(k.trim()))
        {
            let got = Seed(&f.ty).deserialize(jsv::FieldDeserializer::new(&v))?;
            out.insert(f.src.clone(), got);
        }
    }
    Ok(J::Object(out))
}

fn deserialize_text(ty: &Ty, text: &str) -> Result<J, jsv::Error> {
    let mut de = jsv::Deserializer::from_str(text);
    let v = Seed(ty).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Run one vector; `Err` describes the mismatch.
fn run(v: &J, ov: &OJ, reg: &BTreeMap<String, Ty>) -> Result<(), String> {
    let ty = parse_json_ty(ov.get("type").unwrap(), reg);
    let kind = v["kind"].as_str().unwrap();
    let format = v["format"].as_str().unwrap_or("jsv");
    let text = v["jsv"].as_str().unwrap();
    let value = &v["value"];
    let mut order = Vec::new();
    if let Some(value) = ov.get("value") {
        value.keys(&mut order);
    }
    ORDER.with(|o| *o.borrow_mut() = order);

    if kind == "serialize" || kind == "roundtrip" {
        let out = match format {
            "jsv-pretty" => jsv::to_string_pretty(&Typed(&ty, value)),
            "querystring" => jsv::to_query_string(&Typed(&ty, value)),
            _ => jsv::to_string(&Typed(&ty, value)),
        }
        .map_err(|e| format!("serialize failed: {e}"))?;
        if out != text {
            return Err(format!("serialize: got {out:?}, want {text:?}"));
        }
        if format == "jsv-pretty" {
            // Beyond the vector: the pretty text must read back to the same value.
            let back = deserialize_text(&ty, &out).map_err(|e| format!("pretty read-back: {e}"))?;
            if !same(&ty, &back, value) {
                return Err(format!("pretty read-back: got {back}, want {value}"));
            }
        }
    }
    if kind == "deserialize" || kind == "roundtrip" {
        let got = match (format, &ty) {
            ("querystring", Ty::Object(obj)) => bind_query(obj, text),
            _ => deserialize_text(&ty, text),
        };
        match (got, v.get("error")) {
            (Ok(got), None) => {
                if !same(&ty, &got, value) {
                    return Err(format!("deserialize: got {got}, want {value}"));
                }
            }
            (Ok(got), Some(err)) => {
                return Err(format!("deserialize: expected error {err}, got {got}"));
            }
            (Err(e), None) => return Err(format!("deserialize failed: {e}")),
            (Err(_), Some(_)) => {}
        }
    }
    Ok(())
}

thread_local! {
    /// Object types declared by one vector and referenced by name in others.
    static DECLARED: std::cell::RefCell<BTreeMap<String, OJ>> =
        const { std::cell::RefCell::new(BTreeMap::new()) };
}

fn fixture_path() -> String {
    format!(
        "{}/../../fixtures/jsv-vectors.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn all_vectors() {
    let raw = std::fs::read_to_string(fixture_path()).unwrap();
    let vectors: Vec<J> = serde_json::from_str(&raw).unwrap();
    let ordered: Vec<OJ> = serde_json::from_str(&raw).unwrap();
    let reg = BTreeMap::new();
    DECLARED.with(|d| {
        let mut d = d.borrow_mut();
        for v in &ordered {
            let ty = v.get("type").unwrap();
            if let Some(name) = ty.get("name").and_then(OJ::as_str)
                && !name.contains(' ')
                && !d.contains_key(name)
            {
                d.insert(name.to_owned(), ty.clone());
            }
        }
    });
    std::panic::set_hook(Box::new(|_| {}));
    let mut passed = 0;
    let mut allowed_failures = Vec::new();
    let mut unexpected = Vec::new();
    let mut allowed_but_passing = Vec::new();
    for (v, ov) in vectors.iter().zip(&ordered) {
        let id = v["id"].as_str().unwrap();
        let allowed = ALLOWED.iter().any(|(a, _)| *a == id);
        let result = std::panic::catch_unwind(|| run(v, ov, &reg))
            .unwrap_or_else(|_| Err("interpreter panicked".to_owned()));
        match (result, allowed) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => allowed_but_passing.push(id),
            (Err(e), true) => allowed_failures.push(format!("{id}: {e}")),
            (Err(e), false) => unexpected.push(format!("{id}: {e}")),
        }
    }
    drop(std::panic::take_hook());
    println!(
        "jsv vectors: {} total, {passed} passed, {} allow-listed differences, {} unexpected failures",
        vectors.len(),
        allowed_failures.len(),
        unexpected.len()
    );
    for f in &allowed_failures {
        println!("  allowed: {f}");
    }
    assert!(
        unexpected.is_empty(),
        "unexpected failures:\n{}",
        unexpected.join("\n")
    );
    assert!(
        allowed_but_passing.is_empty(),
        "allow-listed vectors now pass; remove them from ALLOWED: {allowed_but_passing:?}"
    );
    assert_eq!(passed + allowed_failures.len(), vectors.len());
    // Every allow-listed id exists and is documented.
    let doc = std::fs::read_to_string(format!(
        "{}/../../docs/compatibility.md",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    for (id, _) in ALLOWED {
        assert!(
            vectors.iter().any(|v| v["id"] == *id),
            "unknown allow-listed id {id}"
        );
        assert!(
            doc.contains(id),
            "{id} is allow-listed but not in docs/compatibility.md"
        );
    }
}
