//! Request binding: a request DTO from the path, the query string, form fields and a body in
//! any format (placeholder until its owner fills it in).

use crate::error::ApiError;
use crate::format::Formats;
use crate::meta::{Operation, TypeMap};

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
        Limits { max_depth: 128, max_items: 10_000, max_batch: 1000 }
    }
}

/// Everything the binder reads from one request.
#[derive(Debug, Clone, Copy)]
pub struct BindInput<'a> {
    /// The kind of route that matched.
    pub kind: RouteKind,
    /// The effective method, upper case, after `X-HTTP-Method-Override`.
    pub method: &'a str,
    /// The request `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// The body, already size-checked and decompressed (empty when there is none).
    pub body: &'a [u8],
    /// The format a generic route names (`json` for `/api` and `/json/reply`), if any.
    pub route_format: Option<&'a str>,
    /// Path variables of a REST route, names as written in the template, values decoded.
    pub path_vars: &'a [(String, String)],
    /// Query-string pairs, decoded, in order (repeated keys appear repeatedly).
    pub query: &'a [(String, String)],
    /// Limits to enforce.
    pub limits: Limits,
    /// Every DTO the host knows.
    pub types: &'a TypeMap,
    /// The formats the host speaks.
    pub formats: &'a Formats,
}

/// Binds one request DTO.
///
/// # Errors
/// 400 `SerializationException` naming the field for a value of the wrong type; 400 with line and
/// column for a malformed body.
pub fn bind<T: Operation>(_input: &BindInput<'_>) -> Result<T, ApiError> {
    Err(ApiError::new(501, "NotImplemented", "binding is not built yet"))
}

/// Binds a batch (`POST /api/{Op}[]`): the body is an array of request DTOs.
///
/// # Errors
/// As [`bind`], and 400 when the batch holds more than `limits.max_batch` items.
pub fn bind_batch<T: Operation>(_input: &BindInput<'_>) -> Result<Vec<T>, ApiError> {
    Err(ApiError::new(501, "NotImplemented", "binding is not built yet"))
}
