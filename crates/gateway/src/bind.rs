//! Request binding: a request DTO from the path, the query string, form fields and a body in
//! any format.
//!
//! The rules (decisions.md 6, 7, 12 and 13; protocol.md §3):
//!
//! - Which body is read: `/api` and `/json/reply` read JSON whatever the `Content-Type` says
//!   (the TypeScript client sends `text/plain`), other generic routes use the format the
//!   `Content-Type` names or else their own; REST routes read the body by its `Content-Type`
//!   and fall back to JSON. Form content types are form fields everywhere. Bodies of `GET`,
//!   `DELETE`, `HEAD` and `OPTIONS` are ignored, and an empty body binds nothing.
//! - Precedence: on REST routes body < path < query < form (later wins); on generic routes the
//!   body wins and a query value only fills a member the body left missing or `null`.
//! - Keys match members trimmed and ignoring case; unknown keys are ignored. Path, query and
//!   form values are raw text: string members take it verbatim, other members parse it as JSV
//!   (`ids=1,2,3`, `ids=[1,2,3]`, `filter={a:1}`). Empty values, bare keys, and the reserved
//!   query keys (`format`, `callback`, ...) are skipped; repeated keys are joined with `,`.
//! - A JSON body that nothing else adds to is read straight into the DTO (the fast path);
//!   otherwise every source becomes a [`jsv::Value`] map, the maps are merged, and the DTO is
//!   read from the result with [`jsv::from_value`].
//! - A malformed body is a 400 `SerializationException` with line and column; a value of the
//!   wrong type is a 400 `SerializationException` naming the member, in ServiceStack's words.

// `ApiError` is the crate's one error type and the signatures here are fixed by the pipeline;
// its size is for the error module to decide, not for every function that returns it.
#![allow(clippy::result_large_err)]

mod form;
mod json_de;

use std::borrow::Cow;

use ::jsv::Value;

use crate::error::ApiError;
use crate::format::{FormatError, Formats, ReadContext};
use crate::meta::{Operation, Primitive, TypeInfo, TypeMap, TypeRef};

use self::json_de::{Segment, Track};

/// Which kind of route matched: the precedence rules differ (decisions.md item 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A REST route (`POST /billables`): body < path < query < form.
    Rest,
    /// `/api/{Op}` or `/{fmt}/reply/{Op}`: the body wins, the query fills what it left empty.
    Generic,
}

/// Bounds on what a body may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum nesting depth of any body.
    pub max_depth: usize,
    /// Maximum number of items in any one collection.
    pub max_items: usize,
    /// Maximum number of requests in a batch.
    pub max_batch: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_items: 10_000,
            max_batch: 1000,
        }
    }
}

/// A decoded query-string or form pair.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Everything the binder reads from one request.
#[derive(Debug, Clone, Copy)]
pub struct BindInput<'a> {
    /// The kind of route that matched.
    pub kind: RouteKind,
    /// The effective method, upper case, after `X-HTTP-Method-Override`.
    pub method: &'a str,
    /// The request `Content-Type`, if any (the pipeline leaves it out when there is no body:
    /// it only says how to read one).
    pub content_type: Option<&'a str>,
    /// The body, already size-checked and decompressed (empty when there is none).
    pub body: &'a [u8],
    /// The format a generic route names (`json` for `/api` and `/json/reply`), if any.
    pub route_format: Option<&'a str>,
    /// Path variables of a REST route, names as written in the template, values decoded.
    pub path_vars: &'a [(String, String)],
    /// Query-string pairs, decoded, in order (repeated keys appear repeatedly); borrowed from
    /// the query string where nothing needed decoding.
    pub query: &'a [Pair<'a>],
    /// Limits to enforce.
    pub limits: Limits,
    /// Every DTO the host knows.
    pub types: &'a TypeMap,
    /// The formats the host speaks.
    pub formats: &'a Formats,
}

/// Query keys that belong to the host, never to a request DTO (ServiceStack's
/// `IgnoreWarningsOnPropertyNames`).
const RESERVED_QUERY_KEYS: &[&str] = &[
    "format",
    "callback",
    "debug",
    "authsecret",
    "jsconfig",
    "_",
    "apikey",
    "code",
    "redirect",
    "continue",
    "session_state",
    "version",
    "v",
    "vfx",
    "s",
    "f",
    "WithoutOptions",
];

/// Binds one request DTO.
///
/// # Errors
/// 400 `SerializationException` naming the field for a value of the wrong type; 400 with line and
/// column for a malformed body; 400 for a body beyond the depth or size limits.
pub fn bind<T: Operation>(input: &BindInput<'_>) -> Result<T, ApiError> {
    let info = T::type_info();
    // Reserved keys (`?format=jsv`) are dropped here, so they do not cost the layered path.
    let query = string_layer(input.query, true);
    // Nothing to bind (a plain GET): the DTO's defaults, without building empty layers. A blank
    // body reads as no body on every path below, so this answers exactly as they would.
    if query.is_empty() && input.path_vars.is_empty() && is_blank(input.body) {
        return Merged::default().into_dto::<T>(info, None);
    }
    let body = read_body(input, info)?;
    match (input.kind, body) {
        (RouteKind::Rest, Body::Json(json)) if input.path_vars.is_empty() && query.is_empty() => {
            json_fast::<T>(json, info, &input.limits)
        }
        (RouteKind::Generic, Body::Json(json)) if query.is_empty() => {
            json_fast::<T>(json, info, &input.limits)
        }
        (kind, body) => {
            let (mut merged, form) = match body {
                Body::None => (Merged::default(), Vec::new()),
                Body::Json(json) => (
                    Merged::from_tree(json_tree(json, &input.limits)?, info)?,
                    Vec::new(),
                ),
                Body::Tree(tree) => (Merged::from_tree(tree, info)?, Vec::new()),
                Body::Form(fields) => (Merged::default(), fields),
            };
            let form = string_layer(&form, false);
            match kind {
                RouteKind::Rest => {
                    let path = string_layer(input.path_vars, false);
                    merged.overlay(&path, info);
                    merged.overlay(&query, info);
                    merged.overlay(&form, info);
                }
                // A form on a generic route has no body to win: the form overrides the query.
                RouteKind::Generic if !form.is_empty() => {
                    merged.overlay(&query, info);
                    merged.overlay(&form, info);
                }
                RouteKind::Generic => merged.fill(&query, info),
            }
            merged.into_dto::<T>(info, None)
        }
    }
}

/// Binds a batch (`POST /api/{Op}[]`): the body is an array of request DTOs.
///
/// Each item is bound as the body of a generic route: the query string fills, in every item,
/// the members the item left missing or `null`.
///
/// # Errors
/// As [`bind`]; 400 `ArgumentException` when the body is not an array or the batch holds more
/// than `limits.max_batch` items.
pub fn bind_batch<T: Operation>(input: &BindInput<'_>) -> Result<Vec<T>, ApiError> {
    let info = T::type_info();
    let query = string_layer(input.query, true);
    let not_an_array = || {
        ApiError::bad_request(format!(
            "A batch of '{}' requests needs an array body",
            info.name
        ))
    };
    let items = match read_body(input, info)? {
        Body::None | Body::Form(_) => return Err(not_an_array()),
        Body::Json(json) if query.is_empty() => {
            let json = strip_bom(json);
            if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
                return Err(not_an_array());
            }
            let track = Track::new(input.limits.max_depth, input.limits.max_items);
            return json_de::batch_from_slice::<T>(json, input.limits.max_batch, &track)
                .map_err(|e| json_error(e, &track, info, true));
        }
        Body::Json(json) => match json_tree(json, &input.limits)? {
            Value::List(items) => items,
            _ => return Err(not_an_array()),
        },
        Body::Tree(Value::List(items)) => items,
        // An XML array (`<ArrayOfNewThing><NewThing/><NewThing/></ArrayOfNewThing>`) reads as a
        // map whose keys are all the operation's name: one item each, or a list of them.
        Body::Tree(Value::Map(entries))
            if !entries.is_empty()
                && entries
                    .iter()
                    .all(|(k, _)| k.eq_ignore_ascii_case(info.name)) =>
        {
            let mut items = Vec::new();
            for (_, v) in entries {
                match v {
                    Value::List(more) => items.extend(more),
                    one => items.push(one),
                }
            }
            items
        }
        Body::Tree(_) => return Err(not_an_array()),
    };
    if items.len() > input.limits.max_batch {
        return Err(batch_too_large(input.limits.max_batch));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut merged = Merged::from_tree(item, info)?;
            merged.fill(&query, info);
            merged.into_dto::<T>(info, Some(i))
        })
        .collect()
}

fn batch_too_large(max: usize) -> ApiError {
    ApiError::bad_request(format!("A batch may hold at most {max} requests"))
}

/// The body, as the binder will use it.
enum Body<'a> {
    /// Nothing to bind.
    None,
    /// A JSON document, still as bytes (the fast path reads it straight into the DTO).
    Json(&'a [u8]),
    /// Any other format, read into a tree.
    Tree(Value),
    /// Form fields, raw.
    Form(Vec<(String, String)>),
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

fn is_blank(body: &[u8]) -> bool {
    strip_bom(body).iter().all(u8::is_ascii_whitespace)
}

/// The media type without parameters, lower case.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn read_body<'a>(input: &BindInput<'a>, info: &'static TypeInfo) -> Result<Body<'a>, ApiError> {
    // Compared in place: upper-casing the method into a new `String` cost an allocation per
    // request.
    if ["GET", "DELETE", "HEAD", "OPTIONS"]
        .iter()
        .any(|m| input.method.eq_ignore_ascii_case(m))
        || is_blank(input.body)
    {
        return Ok(Body::None);
    }
    let content_type = input.content_type.unwrap_or_default();
    match essence(content_type).as_str() {
        "application/x-www-form-urlencoded" => {
            let fields = form::parse_urlencoded(input.body, input.limits.max_items)
                .map_err(|e| malformed(e.0))?;
            return Ok(Body::Form(fields));
        }
        "multipart/form-data" => {
            let Some(boundary) = form::boundary(content_type) else {
                return Err(malformed(
                    "The multipart/form-data Content-Type has no boundary".to_string(),
                ));
            };
            let fields = form::parse_multipart(input.body, &boundary, input.limits.max_items)
                .map_err(|e| malformed(e.0))?;
            return Ok(Body::Form(fields));
        }
        _ => {}
    }
    let by_content_type = input
        .content_type
        .and_then(|ct| input.formats.by_media_type(ct));
    let format = match input.kind {
        RouteKind::Generic => {
            let route = input.route_format.unwrap_or("json");
            if route.eq_ignore_ascii_case("json") {
                return Ok(Body::Json(input.body));
            }
            by_content_type.or_else(|| input.formats.get(route))
        }
        RouteKind::Rest => by_content_type,
    };
    let Some(format) = format.filter(|f| f.name() != "json") else {
        return Ok(Body::Json(input.body));
    };
    let ctx = ReadContext {
        types: input.types,
        target: info,
        max_depth: input.limits.max_depth,
        max_items: input.limits.max_items,
    };
    match format.read(input.body, &ctx) {
        // A write-only format (HTML) cannot be a request body: fall back to JSON.
        None => Ok(Body::Json(input.body)),
        Some(Ok(tree)) => Ok(Body::Tree(tree)),
        Some(Err(e)) => Err(format_error(format.name(), e)),
    }
}

/// A 400 for a body that could not be read at all.
fn malformed(message: String) -> ApiError {
    ApiError::new(400, "SerializationException", message)
}

fn format_error(format: &str, e: FormatError) -> ApiError {
    let mut message = e.message;
    if e.line > 0 && !message.contains("line") {
        message.push_str(&format!(" at line {} column {}", e.line, e.column));
    }
    if !message.to_ascii_lowercase().contains(format) && !message.contains("request body") {
        message = format!(
            "Could not parse the {} request body: {message}",
            format.to_ascii_uppercase()
        );
    }
    malformed(message)
}

fn json_tree(json: &[u8], limits: &Limits) -> Result<Value, ApiError> {
    crate::format::json::read_value(json, limits.max_depth, limits.max_items)
        .map_err(|e| format_error("json", e))
}

fn json_fast<T: Operation>(
    json: &[u8],
    info: &'static TypeInfo,
    limits: &Limits,
) -> Result<T, ApiError> {
    let json = strip_bom(json);
    let track = Track::new(limits.max_depth, limits.max_items);
    json_de::from_slice::<T>(json, &track).map_err(|e| json_error(e, &track, info, false))
}

/// Turns a serde_json failure of the fast path into the ServiceStack error.
fn json_error(
    e: serde_json::Error,
    track: &Track,
    info: &'static TypeInfo,
    batch: bool,
) -> ApiError {
    if let Some(message) = track.limit() {
        return if message.starts_with("A batch") {
            ApiError::bad_request(message)
        } else {
            malformed(message)
        };
    }
    let text = e.to_string();
    if text.contains("recursion limit exceeded") {
        return malformed(format!("The request body nests deeper than {} levels", 128));
    }
    if !e.is_data() {
        return malformed(format!("Could not parse the JSON request body: {text}"));
    }
    let mut path = track.error_path().unwrap_or_default();
    let index = match path.first() {
        Some(Segment::Index(i)) if batch => Some(*i),
        _ => None,
    };
    if index.is_some() {
        path.remove(0);
    }
    let field = match path.first() {
        Some(Segment::Field(f)) => Some(f.clone()),
        _ => None,
    };
    let detail = strip_position(&text);
    type_error(
        info,
        field.as_deref(),
        &json_de::render_path(&path),
        track.value(),
        &detail,
        index,
    )
}

fn strip_position(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// The ServiceStack error for a value that does not fit its member: code
/// `SerializationException`, message `Unable to bind to request '<Op>'`, and one field error
/// `'<value>' is an Invalid value for '<member>'` whose `fieldName` is the C# name.
fn type_error(
    info: &'static TypeInfo,
    field: Option<&str>,
    path: &str,
    value: Option<String>,
    detail: &str,
    index: Option<usize>,
) -> ApiError {
    let top = match index {
        Some(i) => format!("Unable to bind to request '{}' (batch item {i})", info.name),
        None => format!("Unable to bind to request '{}'", info.name),
    };
    let Some(field) = field else {
        return ApiError::new(400, "SerializationException", format!("{top}: {detail}"));
    };
    let field_name = info.property(field).map_or(field, |p| p.name);
    let path = if path.is_empty() { field } else { path };
    let message = match value {
        Some(v) => format!("'{}' is an Invalid value for '{path}'", shorten(&v)),
        None => format!("Invalid value for '{path}': {detail}"),
    };
    ApiError::new(400, "SerializationException", top).with_field_error(
        field_name,
        "SerializationException",
        message,
    )
}

/// A value as quoted in an error message: long values are cut, so that an error never echoes
/// a whole body back.
fn shorten(v: &str) -> String {
    const MAX: usize = 100;
    match v.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &v[..i]),
        None => v.to_string(),
    }
}

/// Path, query or form pairs ready to apply: keys trimmed, empty values and bare keys dropped,
/// reserved keys dropped (query only), repeated keys joined with `,` in order.
fn string_layer<K: AsRef<str>, V: AsRef<str>>(
    pairs: &[(K, V)],
    query: bool,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs {
        let (key, value) = (key.as_ref().trim(), value.as_ref());
        if key.is_empty() || value.is_empty() {
            continue;
        }
        if query
            && RESERVED_QUERY_KEYS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(key))
        {
            continue;
        }
        match out.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => out.push((key.to_string(), value.to_string())),
        }
    }
    out
}

/// The members bound so far, keyed by wire name, with the source of each.
#[derive(Default)]
struct Merged {
    entries: Vec<(&'static str, Value)>,
}

impl Merged {
    /// The members of a body tree; keys not naming a member are dropped, and when two keys name
    /// the same member the first wins (as on the JSON fast path).
    fn from_tree(tree: Value, info: &'static TypeInfo) -> Result<Self, ApiError> {
        let mut merged = Merged::default();
        match tree {
            Value::Map(entries) => {
                for (key, value) in entries {
                    if let Some(p) = info.property(&key)
                        && !merged.entries.iter().any(|(k, _)| *k == p.wire_name)
                    {
                        merged.entries.push((p.wire_name, value));
                    }
                }
                Ok(merged)
            }
            Value::Null => Ok(merged),
            Value::String(s) if s.trim().is_empty() => Ok(merged),
            Value::String(_) | Value::List(_) => Err(ApiError::new(
                400,
                "SerializationException",
                format!(
                    "Unable to bind to request '{}': the body must be an object",
                    info.name
                ),
            )),
        }
    }

    fn slot(&mut self, wire: &'static str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == wire)
            .map(|(_, v)| v)
    }

    /// Applies raw values over what is there (REST precedence).
    fn overlay(&mut self, layer: &[(String, String)], info: &'static TypeInfo) {
        for (key, raw) in layer {
            let Some(p) = info.property(key) else {
                continue;
            };
            let value = Value::String(raw_for(p.ty, raw));
            match self.slot(p.wire_name) {
                Some(v) => *v = value,
                None => self.entries.push((p.wire_name, value)),
            }
        }
    }

    /// Applies raw values only where a member is missing or `null` (generic precedence).
    fn fill(&mut self, layer: &[(String, String)], info: &'static TypeInfo) {
        for (key, raw) in layer {
            let Some(p) = info.property(key) else {
                continue;
            };
            let value = Value::String(raw_for(p.ty, raw));
            match self.slot(p.wire_name) {
                Some(v) if v.is_null() => *v = value,
                Some(_) => {}
                None => self.entries.push((p.wire_name, value)),
            }
        }
    }

    fn into_dto<T: Operation>(
        self,
        info: &'static TypeInfo,
        index: Option<usize>,
    ) -> Result<T, ApiError> {
        // Kept to report the whole raw value of a member that failed, as ServiceStack does
        // (`'1,x' is an Invalid value for 'ids'`, not just `x`).
        let raw: Vec<(&'static str, Option<String>)> = self
            .entries
            .iter()
            .map(|(k, v)| (*k, v.as_str().map(str::to_string)))
            .collect();
        let tree = Value::Map(
            self.entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        ::jsv::from_value::<T>(tree).map_err(|e| {
            let field = e.field().map(str::to_string);
            let top_raw = field
                .as_deref()
                .and_then(|f| raw.iter().find(|(k, _)| k.eq_ignore_ascii_case(f)))
                .and_then(|(_, r)| r.clone());
            let (path, value) = match top_raw {
                // A scalar member: name the member and the text it was given.
                Some(r) => (field.clone().unwrap_or_default(), Some(r)),
                None => (
                    e.path().unwrap_or_default().to_string(),
                    e.value().map(str::to_string),
                ),
            };
            type_error(info, field.as_deref(), &path, value, e.message(), index)
        })
    }
}

/// The raw text to bind from a path, query or form value: a `bool` member takes the part
/// before the first `,` (an HTML checkbox sends `flag=true&flag=false`, joined as
/// `true,false`), everything else the whole text.
fn raw_for(ty: fn() -> TypeRef, raw: &str) -> String {
    match ty().non_null() {
        TypeRef::Primitive(Primitive::Boolean) => {
            raw.split(',').next().unwrap_or_default().to_string()
        }
        _ => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn string_layer_rules() {
        let q = pairs(&[
            ("ids", "1"),
            (" IDS ", "2"),
            ("format", "json"),
            ("withoutoptions", "x"),
            ("empty", ""),
            ("name", "a b"),
        ]);
        assert_eq!(
            string_layer(&q, true),
            pairs(&[("ids", "1,2"), ("name", "a b")])
        );
        assert_eq!(
            string_layer(&pairs(&[("format", "x")]), false),
            pairs(&[("format", "x")])
        );
    }

    #[test]
    fn essence_is_lower_case_without_parameters() {
        assert_eq!(
            essence("Application/JSON; charset=utf-8"),
            "application/json"
        );
        assert_eq!(essence(""), "");
    }
}
