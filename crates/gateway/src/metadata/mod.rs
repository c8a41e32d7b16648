//! `/metadata` pages, the `/api` index and the `/types/*` code generators.
//!
//! Everything here is generated from the [`Registry`]'s [`TypeInfo`](crate::meta::TypeInfo)s:
//! there is no list of operation names, routes or fields anywhere in this module.
//!
//! | path | what |
//! |---|---|
//! | `/metadata`, `/metadata/`, `/{fmt}/metadata` | HTML index of the operations |
//! | `/metadata/app` | `AppMetadata` JSON (for API Explorer-style tools) |
//! | `/{json,jsv,xml,csv}/metadata?op=X[&lang=L]` | HTML page of one operation |
//! | `/types` | JSON map of language → URL |
//! | `/types/metadata` | `MetadataTypes` JSON |
//! | `/types/{csharp,dart,typescript,python}` | generated DTO source |
//! | `/api` | JSON index of the operations, grouped by tag |
//!
//! Choices that keep generated code identical to what Evo Voice published (decision 30):
//!
//! * `IReturn<T>` is written only when the operation declares the marker (not
//!   `implicit_response`) and returns a body; void operations get no `IReturnVoid` (Evo
//!   Voice's `NewBillable` implements only `IPost`). TypeScript request classes still carry
//!   `createResponse()` so `JsonServiceClient` knows what to parse.
//! * Dart carries no `// @Route` comments (its clients call `/api/{Op}`), so its classes are
//!   the seed pages' line for line; C#, TypeScript and Python carry the routes.
//! * The source on an operation page (`?lang=`) is the operation's request DTO and the types
//!   its properties reach (plus the response types when it declares `IReturn`), without the
//!   options header and without routes, as ServiceStack renders it.
//! * Sample bodies are written by the host's own writers (`serde_json`, `jsv::to_string_pretty`,
//!   the XML and CSV [`Format`](crate::format::Format)s) from a placeholder built from
//!   `TypeInfo`; a writer that fails shows a note instead of the sample.

mod csharp;
mod dart;
mod json;
mod model;
mod options;
mod pages;
mod python;
mod sample;
mod typescript;

use crate::registry::Registry;

/// What the metadata pages need to know about the site.
#[derive(Debug, Clone)]
pub struct SiteInfo {
    /// Shown as the page title and in `/types` headers (`Evo Voice`).
    pub service_name: String,
    /// The public base URL; `None` means the request's own origin.
    pub base_url: Option<String>,
    /// The ServiceStack version the host reports (`Version:` in `/types` headers).
    pub version: String,
}

/// A GET request for a metadata resource, as the router saw it.
#[derive(Debug, Clone)]
pub struct MetadataRequest<'a> {
    /// The decoded path, e.g. `/jsv/metadata`, `/types/dart`, `/metadata`, `/api`.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// The request's own origin, e.g. `http://127.0.0.1:5000`.
    pub origin: &'a str,
    /// The `Host` header value (shown on sample requests).
    pub host: &'a str,
}

/// A rendered metadata resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// HTTP status.
    pub status: u16,
    /// Content-Type header.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

const HTML: &str = "text/html; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

impl MetadataResponse {
    fn ok(content_type: &'static str, body: String) -> Self {
        MetadataResponse {
            status: 200,
            content_type,
            body,
        }
    }
}

/// The wire formats that have an operation page.
const PAGE_FORMATS: [&str; 4] = ["json", "xml", "jsv", "csv"];

/// Renders the metadata resource at `req.path`, or `None` when the path is not one.
pub fn handle(
    req: &MetadataRequest<'_>,
    registry: &Registry,
    site: &SiteInfo,
) -> Option<MetadataResponse> {
    let query = Query::parse(req.query);
    let ctx = Ctx {
        req,
        registry,
        site,
        query: &query,
    };
    let path = req.path.trim_end_matches('/');
    // Metadata paths match ignoring ASCII case, as ServiceStack's do.
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["metadata"] => Some(MetadataResponse::ok(HTML, pages::index(&ctx))),
        ["metadata", "app"] => Some(MetadataResponse::ok(JSON, json::app_metadata(&ctx))),
        ["types"] => Some(MetadataResponse::ok(JSON, json::type_links(&ctx))),
        ["types", lang] => Some(types(&ctx, lang)),
        [fmt, "metadata"] => {
            let fmt = PAGE_FORMATS.iter().find(|f| f.eq_ignore_ascii_case(fmt))?;
            Some(match query.get("op") {
                Some(op) if !op.is_empty() => pages::operation(&ctx, fmt, op),
                _ => MetadataResponse::ok(HTML, pages::index(&ctx)),
            })
        }
        ["api"] if req.path.eq_ignore_ascii_case("/api") => {
            Some(MetadataResponse::ok(JSON, json::api_index(&ctx)))
        }
        _ => None,
    }
}

fn types(ctx: &Ctx<'_>, lang: &str) -> MetadataResponse {
    let lang = lang.to_ascii_lowercase();
    let body = match lang.as_str() {
        "metadata" => return MetadataResponse::ok(JSON, json::metadata_types(ctx)),
        "csharp" => csharp::generate(ctx, &model::Scope::Types),
        "dart" => dart::generate(ctx, &model::Scope::Types),
        "typescript" => typescript::generate(ctx, &model::Scope::Types),
        "python" => python::generate(ctx, &model::Scope::Types),
        _ => {
            return MetadataResponse {
                status: 404,
                content_type: TEXT,
                body: format!(
                    "No generator for '{lang}'. Available: csharp, dart, typescript, python, metadata.\n"
                ),
            };
        }
    };
    MetadataResponse::ok(TEXT, body)
}

/// Everything a renderer needs for one request.
pub(crate) struct Ctx<'a> {
    pub(crate) req: &'a MetadataRequest<'a>,
    pub(crate) registry: &'a Registry,
    pub(crate) site: &'a SiteInfo,
    pub(crate) query: &'a Query,
}

impl Ctx<'_> {
    /// The base URL clients should call: the configured one, else the request's origin.
    pub(crate) fn base_url(&self) -> String {
        match &self.site.base_url {
            Some(u) if !u.trim().is_empty() => u.trim().trim_end_matches('/').to_string(),
            _ => self.req.origin.trim_end_matches('/').to_string(),
        }
    }
}

/// A decoded query string, keys compared ignoring ASCII case.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Splits and percent-decodes `a=1&b=2` (`+` is a space).
    pub(crate) fn parse(raw: &str) -> Self {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            percent_encoding::percent_decode_str(&s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let pairs = raw
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode(k).trim().to_string(), decode(v)),
                None => (decode(p).trim().to_string(), String::new()),
            })
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Query { pairs }
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
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

/// Percent-encodes a query value.
pub(crate) fn url_enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
