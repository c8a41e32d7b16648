//! `/metadata` pages, `/api` index and `/types/*` code generators (placeholder until built).

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

/// Renders the metadata resource at `req.path`, or `None` when the path is not one.
pub fn handle(_req: &MetadataRequest<'_>, _registry: &Registry, _site: &SiteInfo) -> Option<MetadataResponse> {
    None
}
