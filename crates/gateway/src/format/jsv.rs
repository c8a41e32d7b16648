//! The JSV format: ServiceStack's own text format, through the `jsv` crate.

use ::jsv::Value;
use actix_web::http::header::HeaderValue;

use super::{Format, FormatError, ReadContext, ResponseBody, WriteContext};

fn write_failed(e: ::jsv::Error) -> FormatError {
    FormatError::msg(format!("Could not write JSV: {e}"))
}

/// The Content-Type of JSV responses.
const CONTENT_TYPE: &str = "text/jsv; charset=utf-8";
/// [`CONTENT_TYPE`] as a header value, built at compile time.
static CONTENT_TYPE_HEADER: HeaderValue = HeaderValue::from_static(CONTENT_TYPE);

/// The JSV format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jsv;

impl Format for Jsv {
    fn name(&self) -> &'static str {
        "jsv"
    }

    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn content_type_header(&self) -> Option<HeaderValue> {
        Some(CONTENT_TYPE_HEADER.clone())
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/jsv", "text/jsv"]
    }

    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        if ctx.pretty {
            let text = ::jsv::to_string_pretty(value).map_err(write_failed)?;
            out.extend_from_slice(text.as_bytes());
            Ok(())
        } else {
            ::jsv::to_writer(out, value).map_err(write_failed)
        }
    }

    fn write_body(
        &self,
        value: &dyn ResponseBody,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        // `?debug` output is for people; only the compact form is worth a typed path.
        if ctx.pretty {
            return self.write(value.erased(), ctx, out);
        }
        value.write_jsv(out).map_err(write_failed)
    }

    fn read(&self, body: &[u8], ctx: &ReadContext<'_>) -> Option<Result<Value, FormatError>> {
        Some(read_value(body, ctx.max_depth, ctx.max_items))
    }
}

/// Reads a JSV document into a [`Value`] tree.
///
/// The jsv parser stops at 128 levels by itself (so a bracket bomb cannot overflow the stack);
/// the tree is then checked against `max_depth` and `max_items`, which may be tighter.
///
/// # Errors
/// Malformed JSV, with line and column, or a limit that was exceeded.
pub fn read_value(body: &[u8], max_depth: usize, max_items: usize) -> Result<Value, FormatError> {
    let value = ::jsv::from_slice::<Value>(body).map_err(|e| {
        let text = e.to_string();
        let message = if text.contains("recursion limit") || text.contains("nest") {
            format!(
                "The request body nests deeper than {} levels",
                max_depth.min(128)
            )
        } else {
            format!("Could not parse the JSV request body: {e}")
        };
        FormatError {
            message,
            line: e.line(),
            column: e.column(),
            field: e.field().map(str::to_string),
            value: e.value().map(str::to_string),
        }
    })?;
    check_limits(&value, max_depth, max_items)?;
    Ok(value)
}

/// Checks the depth and collection sizes of a tree, without recursion.
///
/// # Errors
/// The first limit exceeded.
pub fn check_limits(value: &Value, max_depth: usize, max_items: usize) -> Result<(), FormatError> {
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let len = match v {
            Value::List(items) => {
                stack.extend(items.iter().map(|i| (i, depth + 1)));
                items.len()
            }
            Value::Map(entries) => {
                stack.extend(entries.iter().map(|(_, i)| (i, depth + 1)));
                entries.len()
            }
            Value::Null | Value::String(_) => continue,
        };
        if depth + 1 > max_depth {
            return Err(FormatError::msg(format!(
                "The request body nests deeper than {max_depth} levels"
            )));
        }
        if len > max_items {
            return Err(FormatError::msg(format!(
                "A collection in the request body holds more than {max_items} items"
            )));
        }
    }
    Ok(())
}
