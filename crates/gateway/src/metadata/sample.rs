//! Sample bodies for the operation pages: a placeholder value built from `TypeInfo` and written
//! by the real writers, so a sample always looks like what the host sends.
//!
//! Strings are `"String"`, numbers `0`, booleans `false`, lists hold one element, maps one
//! entry, nested DTOs are filled recursively (a type already being filled is left empty, so
//! recursive types end).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use crate::format::{Formats, WriteContext};
use crate::meta::{Primitive, TypeInfo, TypeMap, TypeRef};

/// Nesting depth past which nested DTOs are written empty.
const MAX_DEPTH: usize = 8;

/// A placeholder for a value of some type.
pub(crate) enum Placeholder<'a> {
    /// A DTO, with the types being filled above it.
    Dto(&'static TypeInfo, &'a [&'static TypeInfo]),
    /// Any type reference.
    Ref(&'a TypeRef, &'a [&'static TypeInfo]),
}

impl Serialize for Placeholder<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Placeholder::Dto(t, stack) => serialize_dto(t, stack, s),
            Placeholder::Ref(r, stack) => serialize_ref(r, stack, s),
        }
    }
}

fn serialize_dto<S: Serializer>(
    t: &'static TypeInfo,
    stack: &[&'static TypeInfo],
    s: S,
) -> Result<S::Ok, S::Error> {
    let recursive = stack.iter().any(|x| std::ptr::eq(*x, t)) || stack.len() >= MAX_DEPTH;
    let mut inner: Vec<&'static TypeInfo> = stack.to_vec();
    inner.push(t);
    if recursive {
        return s.serialize_struct(t.name, 0)?.end();
    }
    let mut st = s.serialize_struct(t.name, t.properties.len())?;
    for p in t.properties {
        let r = (p.ty)();
        st.serialize_field(p.wire_name, &Placeholder::Ref(&r, &inner))?;
    }
    st.end()
}

fn serialize_ref<S: Serializer>(
    r: &TypeRef,
    stack: &[&'static TypeInfo],
    s: S,
) -> Result<S::Ok, S::Error> {
    match r {
        TypeRef::Primitive(p) => match p {
            Primitive::String => s.serialize_str("String"),
            Primitive::Boolean => s.serialize_bool(false),
            Primitive::Int32
            | Primitive::Int64
            | Primitive::UInt32
            | Primitive::UInt64
            | Primitive::Double
            | Primitive::Single
            | Primitive::Decimal => s.serialize_i32(0),
            Primitive::DateTime => s.serialize_str("0001-01-01T00:00:00Z"),
            Primitive::TimeSpan => s.serialize_str("PT0S"),
            Primitive::Guid => s.serialize_str("00000000000000000000000000000000"),
            Primitive::Object => s.serialize_map(Some(0))?.end(),
        },
        TypeRef::Option(inner) => serialize_ref(inner, stack, s),
        TypeRef::List(inner) => {
            let mut seq = s.serialize_seq(Some(1))?;
            seq.serialize_element(&Placeholder::Ref(inner, stack))?;
            seq.end()
        }
        TypeRef::Map(k, v) => {
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(&Placeholder::Ref(k, stack), &Placeholder::Ref(v, stack))?;
            m.end()
        }
        TypeRef::Dto(f) => serialize_dto(f(), stack, s),
    }
}

/// The media type a format's sample headers show.
pub(crate) fn media_type(fmt: &str) -> &'static str {
    match fmt {
        "json" => "application/json",
        "xml" => "application/xml",
        "jsv" => "text/jsv",
        "csv" => "text/csv",
        _ => "text/plain",
    }
}

/// Writes `value` in `fmt` the way the host would, or says why it cannot.
pub(crate) fn write(
    fmt: &str,
    value: &Placeholder<'_>,
    root: Option<&TypeRef>,
    types: &TypeMap,
    op: &str,
) -> String {
    let result = match fmt {
        "json" => serde_json::to_string(value).map_err(|e| e.to_string()),
        "jsv" => write_jsv(value),
        _ => write_format(fmt, value, root, types, op),
    };
    match result {
        Ok(s) => s.trim_end_matches(['\r', '\n']).to_string(),
        Err(e) => format!("(no {} sample: {e})", fmt.to_ascii_uppercase()),
    }
}

fn write_jsv(value: &Placeholder<'_>) -> Result<String, String> {
    jsv::to_string_pretty(value).map_err(|e| e.to_string())
}

fn write_format(
    fmt: &str,
    value: &Placeholder<'_>,
    root: Option<&TypeRef>,
    types: &TypeMap,
    op: &str,
) -> Result<String, String> {
    let formats = Formats::standard();
    let f = formats.get(fmt).ok_or_else(|| format!("no {fmt} writer"))?;
    let ctx = WriteContext {
        types,
        root,
        operation: op,
        pretty: true,
    };
    let mut out = Vec::new();
    // A writer that panics must not take the page down with it.
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f.write(value as &dyn erased_serde::Serialize, &ctx, &mut out)
            .map(|_| out)
    }));
    match written {
        Ok(Ok(bytes)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(Err(e)) => Err(e.message),
        Err(_) => Err("the writer failed".to_string()),
    }
}
