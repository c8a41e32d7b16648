//! The format layer: one [`Format`] per wire format, registered in [`Formats`].
//!
//! Writing goes through serde (`erased_serde`), so any response type can be written in any
//! format. JSON and JSV, which nearly every request uses, may also write a response
//! monomorphically through [`ResponseBody`] ([`Format::write_body`]), which skips
//! `erased_serde`'s dynamic dispatch per field; a format that does not override it is written
//! through [`Format::write`]. Reading turns a body into a [`jsv::Value`] tree that the binder applies to the
//! request DTO (JSON has a faster direct path in the binder). Adding a format is one new
//! implementation and one line in [`Formats::standard`].

use actix_web::http::header::HeaderValue;

use crate::meta::{TypeInfo, TypeMap, TypeRef};

/// A header value for a static string without copying it, or `None` when it is not a valid
/// header value.
pub(crate) fn static_header_value(s: &'static str) -> Option<HeaderValue> {
    // `from_static` panics on what `HeaderValue::try_from` would reject; check first.
    s.bytes()
        .all(|b| (32..127).contains(&b) || b == b'\t')
        .then(|| HeaderValue::from_static(s))
}

/// A failure to read or write a body, turned by the pipeline into a 400 (read) or 500 (write).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FormatError {
    /// What went wrong, for people.
    pub message: String,
    /// 1-based line of the offending input, 0 when unknown.
    pub line: usize,
    /// 1-based column of the offending input, 0 when unknown.
    pub column: usize,
    /// The wire name of the field that failed, if known.
    pub field: Option<String>,
    /// The offending raw value, if known.
    pub value: Option<String>,
}

impl FormatError {
    /// An error without position.
    pub fn msg(message: impl Into<String>) -> Self {
        FormatError {
            message: message.into(),
            line: 0,
            column: 0,
            field: None,
            value: None,
        }
    }
}

/// What a writer needs to know besides the value.
#[derive(Clone, Copy)]
pub struct WriteContext<'a> {
    /// Every DTO the host knows, by name (XML and CSV look up C# names, order and namespaces).
    pub types: &'a TypeMap,
    /// The declared type of the value being written (an XML root like `ArrayOfUsageRecordInfo`
    /// needs it), when known.
    pub root: Option<&'a TypeRef>,
    /// The operation name (CSV file name, HTML title).
    pub operation: &'a str,
    /// Human-oriented layout (JSV `?debug`, indented XML).
    pub pretty: bool,
}

/// What a reader needs to know besides the body.
#[derive(Clone, Copy)]
pub struct ReadContext<'a> {
    /// Every DTO the host knows, by name.
    pub types: &'a TypeMap,
    /// The request DTO the body is for.
    pub target: &'static TypeInfo,
    /// Maximum nesting depth.
    pub max_depth: usize,
    /// Maximum number of items in any one collection.
    pub max_items: usize,
}

/// One wire format.
pub trait Format: Send + Sync + 'static {
    /// The short name used in URLs and `?format=`: `json`, `jsv`, `xml`, `csv`, `html`.
    fn name(&self) -> &'static str;
    /// The Content-Type of responses.
    fn content_type(&self) -> &'static str;
    /// [`Format::content_type`] as a header value, `None` if it is not a valid one.
    ///
    /// The default checks the text on every call (which costs as much as a small request's
    /// routing); the standard formats hand out a prebuilt `static` value instead.
    fn content_type_header(&self) -> Option<HeaderValue> {
        static_header_value(self.content_type())
    }
    /// Media types that select this format in `Accept` and request `Content-Type`.
    fn media_types(&self) -> &'static [&'static str];
    /// Writes `value` to `out`.
    ///
    /// # Errors
    /// When the value cannot be represented in this format.
    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError>;
    /// Writes a service's response to `out`.
    ///
    /// The default goes through [`Format::write`]; JSON and JSV override it to serialize the
    /// concrete response type directly, which is a large part of the cost of a request.
    ///
    /// # Errors
    /// As [`Format::write`].
    fn write_body(
        &self,
        value: &dyn ResponseBody,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        self.write(value.erased(), ctx, out)
    }
    /// Reads a request body into a tree; `None` for write-only formats (HTML).
    ///
    /// # Errors
    /// A malformed body, with position where known.
    fn read(&self, body: &[u8], ctx: &ReadContext<'_>)
    -> Option<Result<::jsv::Value, FormatError>>;
}

/// A response value as the registry hands it to the format layer: still typed behind one
/// vtable, so the hot formats can call their serializer monomorphically.
///
/// Implemented for every `Serialize` type. `erased_serde` dispatches every field, string and
/// number through a vtable and stops serde_json from inlining its writers, which made writing a
/// response through [`Format::write`] cost about 1.6x writing the same value directly.
pub trait ResponseBody {
    /// The value for formats that only take [`erased_serde::Serialize`].
    fn erased(&self) -> &dyn erased_serde::Serialize;
    /// Appends the value as compact JSON.
    ///
    /// # Errors
    /// serde_json's, e.g. a map with non-string keys.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
    /// Appends the value as compact JSV.
    ///
    /// # Errors
    /// The jsv serializer's.
    fn write_jsv(&self, out: &mut Vec<u8>) -> ::jsv::Result<()>;
}

impl<T: serde::Serialize> ResponseBody for T {
    fn erased(&self) -> &dyn erased_serde::Serialize {
        self
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }

    fn write_jsv(&self, out: &mut Vec<u8>) -> ::jsv::Result<()> {
        // The room JSON reserves too: no regrowth for most bodies, and the buffer is the
        // response's own (no second one to copy from).
        out.reserve(json::INITIAL_CAPACITY);
        ::jsv::append_to_vec(out, self)
    }
}

pub mod csv;
pub mod html;
pub mod json;
pub mod jsv;
pub mod shared;
pub mod xml;

pub use shared::{IntoResponse, Shared};

use std::sync::Arc;

/// The formats a host speaks, looked up by name or media type.
#[derive(Clone)]
pub struct Formats {
    list: Vec<Arc<dyn Format>>,
    /// Each format's [`Format::name`], in the same order: looked up by name several times per
    /// request, so without a call through the vtable per format.
    names: Vec<&'static str>,
}

impl std::fmt::Debug for Formats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|x| x.name()))
            .finish()
    }
}

impl Formats {
    /// JSON, JSV, XML, CSV and HTML: the one place a format is registered.
    pub fn standard() -> Self {
        let list: Vec<Arc<dyn Format>> = vec![
            Arc::new(json::Json),
            Arc::new(jsv::Jsv),
            Arc::new(xml::Xml),
            Arc::new(csv::Csv),
            Arc::new(html::Html),
        ];
        let names = list.iter().map(|f| f.name()).collect();
        Formats { list, names }
    }

    /// The format with this short name (`json`), ignoring ASCII case.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Format>> {
        // Exact first: names nearly always come as registered (`json`), and the case-folding
        // comparison goes byte by byte.
        let i = self
            .names
            .iter()
            .position(|n| *n == name || n.eq_ignore_ascii_case(name))?;
        self.list.get(i)
    }

    /// The format a media type (`application/json; charset=utf-8`) selects, if any.
    pub fn by_media_type(&self, media_type: &str) -> Option<&Arc<dyn Format>> {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        self.list.iter().find(|f| {
            f.media_types()
                .iter()
                .any(|m| m.eq_ignore_ascii_case(essence))
        })
    }

    /// Every format, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Format>> {
        self.list.iter()
    }
}
