//! The JSON format: compact `serde_json` out, a [`jsv::Value`] tree in.
//!
//! Writing needs nothing beyond serde_json: `#[dto]` already omits nulls and names members in
//! camelCase. Reading into a tree is only used when a JSON body has to be merged with other
//! sources (the query string, path variables); the binder reads a JSON body that stands alone
//! straight into the request DTO instead.

use actix_web::http::header::HeaderValue;
use std::fmt;

use ::jsv::Value;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Format, FormatError, ReadContext, ResponseBody, WriteContext};

/// Room reserved for a response before writing it: most responses fit, so the buffer is not
/// regrown (and copied) eight times on the way from 8 bytes; larger ones grow from there.
/// Kept just under 1 KiB because glibc serves 1 KiB and more from its large bins, and such a
/// request first consolidates every free fast chunk (about 900 instructions per request here).
pub(super) const INITIAL_CAPACITY: usize = 1000;

fn write_failed(e: serde_json::Error) -> FormatError {
    FormatError::msg(format!("Could not write JSON: {e}"))
}

/// The Content-Type of JSON responses.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// [`CONTENT_TYPE`] as a header value, built at compile time.
static CONTENT_TYPE_HEADER: HeaderValue = HeaderValue::from_static(CONTENT_TYPE);

/// The JSON format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn content_type_header(&self) -> Option<HeaderValue> {
        Some(CONTENT_TYPE_HEADER.clone())
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/json", "text/json"]
    }

    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        _ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        out.reserve(INITIAL_CAPACITY);
        serde_json::to_writer(out, value).map_err(write_failed)
    }

    fn write_body(
        &self,
        value: &dyn ResponseBody,
        _ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        out.reserve(INITIAL_CAPACITY);
        value.write_json(out).map_err(write_failed)
    }

    fn read(&self, body: &[u8], ctx: &ReadContext<'_>) -> Option<Result<Value, FormatError>> {
        Some(read_value(body, ctx.max_depth, ctx.max_items))
    }
}

/// Reads a JSON document into a [`Value`] tree: numbers and bools become their text, `null`
/// becomes [`Value::Null`], arrays lists and objects maps (keys as written, in order).
///
/// A UTF-8 byte-order mark is skipped. Nesting deeper than `max_depth` (serde_json itself stops
/// at 128) or a collection of more than `max_items` entries is an error.
///
/// # Errors
/// A malformed document, with line and column, or a limit that was exceeded.
pub fn read_value(body: &[u8], max_depth: usize, max_items: usize) -> Result<Value, FormatError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut de = serde_json::Deserializer::from_slice(body);
    let limits = Limits {
        max_depth,
        max_items,
    };
    let limit_hit = std::cell::Cell::new(false);
    let seed = Tree {
        limits: &limits,
        depth: 0,
        limit_hit: &limit_hit,
    };
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let message = if limit_hit.get() {
            strip_position(&e.to_string())
        } else if e.to_string().contains("recursion limit exceeded") {
            format!(
                "The request body nests deeper than {} levels",
                max_depth.min(128)
            )
        } else {
            format!("Could not parse the JSON request body: {e}")
        };
        FormatError {
            message,
            line: e.line(),
            column: e.column(),
            field: None,
            value: None,
        }
    })
}

/// serde_json appends ` at line L column C` to errors raised by visitors; limit messages read
/// better without it (the position of a limit is not interesting).
fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

struct Limits {
    max_depth: usize,
    max_items: usize,
}

/// Builds one [`Value`] at a known depth.
#[derive(Clone, Copy)]
struct Tree<'a> {
    limits: &'a Limits,
    depth: usize,
    limit_hit: &'a std::cell::Cell<bool>,
}

impl Tree<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        let depth = self.depth + 1;
        if depth > self.limits.max_depth {
            self.limit_hit.set(true);
            return Err(E::custom(format!(
                "The request body nests deeper than {} levels",
                self.limits.max_depth
            )));
        }
        Ok(Tree { depth, ..self })
    }

    fn too_many<E: de::Error>(self) -> E {
        self.limit_hit.set(true);
        E::custom(format!(
            "A collection in the request body holds more than {} items",
            self.limits.max_items
        ))
    }
}

impl<'de> DeserializeSeed<'de> for Tree<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Tree<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::String(if b { "true" } else { "false" }.to_string()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::String(n.to_string()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::String(n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        // Rust prints the shortest text that reads back as the same double, never in exponent
        // form, which every JSV number reader accepts.
        Ok(Value::String(n.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            if items.len() >= self.limits.max_items {
                return Err(self.too_many());
            }
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested::<A::Error>()?;
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.len() >= self.limits.max_items {
                return Err(self.too_many());
            }
            let value = map.next_value_seed(inner)?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}
