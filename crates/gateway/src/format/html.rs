//! A readable HTML page of any response, for browsers (decisions.md 4).
//!
//! The page is self-contained: inline CSS, no script, nothing fetched from elsewhere. The value
//! goes through `serde_json::Value` and is rendered as tables: an object as property/value
//! rows, a list of objects as one table with a header row, nested values inside their cell.
//! Property names are the C# names where the `TypeInfo` is known. Every piece of text from the
//! value is HTML-escaped, so a response can never inject markup.

use actix_web::http::header::HeaderValue;
use serde_json::Value as Json;

use super::{Format, FormatError, ReadContext, WriteContext};
use crate::meta::{TypeInfo, TypeRef};

/// The Content-Type of HTML responses.
const CONTENT_TYPE: &str = "text/html; charset=utf-8";
/// [`CONTENT_TYPE`] as a header value, built at compile time.
static CONTENT_TYPE_HEADER: HeaderValue = HeaderValue::from_static(CONTENT_TYPE);

/// The HTML format (write only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

/// Nesting beyond this is shown as `…`: the page stays readable and rendering stays bounded.
const MAX_DEPTH: usize = 32;

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
margin:1.5em;color:#222}h1{font-size:1.4em;font-weight:600}table{border-collapse:collapse;margin:.2em 0}\
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
th{background:#f3f4f6;font-weight:600}td.empty{color:#999}ul{margin:0;padding-left:1.2em}";

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn content_type_header(&self) -> Option<HeaderValue> {
        Some(CONTENT_TYPE_HEADER.clone())
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["text/html"]
    }

    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        let json = serde_json::to_value(value)
            .map_err(|e| FormatError::msg(format!("cannot write HTML: {e}")))?;
        let title = escape(ctx.operation);
        let mut page = String::new();
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        page.push_str(&format!(
            "<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        ));
        let r = Renderer;
        page.push_str(&r.render(&json, ctx.root.map(TypeRef::non_null), 0));
        page.push_str("\n</body>\n</html>\n");
        out.extend_from_slice(page.as_bytes());
        Ok(())
    }

    fn read(
        &self,
        _body: &[u8],
        _ctx: &ReadContext<'_>,
    ) -> Option<Result<::jsv::Value, FormatError>> {
        None
    }
}

/// Renders JSON values, using the declared types for C# names and order where known.
struct Renderer;

impl Renderer {
    fn render(&self, v: &Json, ty: Option<&TypeRef>, depth: usize) -> String {
        if depth > MAX_DEPTH {
            return "…".to_string();
        }
        match v {
            Json::Null => String::new(),
            Json::Bool(b) => b.to_string(),
            Json::Number(n) => escape(&n.to_string()),
            Json::String(s) => escape(s),
            Json::Object(map) => self.object(map, ty.and_then(TypeRef::dto), depth),
            Json::Array(items) => {
                let inner = match ty {
                    Some(TypeRef::List(inner)) => Some(inner.non_null()),
                    _ => None,
                };
                if items.iter().any(Json::is_object) {
                    self.table(items, inner, depth)
                } else if items.is_empty() {
                    String::new()
                } else {
                    let li: String = items
                        .iter()
                        .map(|i| format!("<li>{}</li>", self.render(i, inner, depth + 1)))
                        .collect();
                    format!("<ul>{li}</ul>")
                }
            }
        }
    }

    /// The properties of an object in display order: declared ones first (C# names), then
    /// anything else the value carries.
    fn fields<'v>(
        &self,
        map: &'v serde_json::Map<String, Json>,
        info: Option<&'static TypeInfo>,
    ) -> Vec<(String, Option<&'v Json>, Option<TypeRef>)> {
        let mut out = Vec::new();
        if let Some(info) = info {
            for p in info.properties {
                out.push((p.name.to_string(), map.get(p.wire_name), Some((p.ty)())));
            }
        }
        for (k, v) in map {
            if !info.is_some_and(|i| i.properties.iter().any(|p| p.wire_name == k)) {
                out.push((k.clone(), Some(v), None));
            }
        }
        out
    }

    fn object(
        &self,
        map: &serde_json::Map<String, Json>,
        info: Option<&'static TypeInfo>,
        depth: usize,
    ) -> String {
        let mut html = String::from("<table>");
        for (name, v, ty) in self.fields(map, info) {
            let cell = v
                .map(|v| self.render(v, ty.as_ref().map(TypeRef::non_null), depth + 1))
                .unwrap_or_default();
            let class = if cell.is_empty() {
                " class=\"empty\""
            } else {
                ""
            };
            html.push_str(&format!(
                "<tr><th>{}</th><td{class}>{cell}</td></tr>",
                escape(&name)
            ));
        }
        html.push_str("</table>");
        html
    }

    fn table(&self, items: &[Json], item_ty: Option<&TypeRef>, depth: usize) -> String {
        let info = item_ty.and_then(TypeRef::dto);
        let mut columns: Vec<(String, String, Option<TypeRef>)> = Vec::new();
        if let Some(info) = info {
            for p in info.properties {
                columns.push((p.name.to_string(), p.wire_name.to_string(), Some((p.ty)())));
            }
        }
        for item in items {
            if let Json::Object(map) = item {
                for k in map.keys() {
                    if !columns.iter().any(|c| &c.1 == k) {
                        columns.push((k.clone(), k.clone(), None));
                    }
                }
            }
        }
        let mut html = String::from("<table><tr>");
        for (name, _, _) in &columns {
            html.push_str(&format!("<th>{}</th>", escape(name)));
        }
        html.push_str("</tr>");
        for item in items {
            html.push_str("<tr>");
            match item {
                Json::Object(map) => {
                    for (_, key, ty) in &columns {
                        let cell = map
                            .get(key)
                            .map(|v| self.render(v, ty.as_ref().map(TypeRef::non_null), depth + 1))
                            .unwrap_or_default();
                        html.push_str(&format!("<td>{cell}</td>"));
                    }
                }
                other => {
                    html.push_str(&format!(
                        "<td colspan=\"{}\">{}</td>",
                        columns.len().max(1),
                        self.render(other, None, depth + 1)
                    ));
                }
            }
            html.push_str("</tr>");
        }
        html.push_str("</table>");
        html
    }
}

/// Escapes text for element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
