//! ServiceStack's error shapes and the one place an [`ApiError`] becomes an HTTP response
//! (decisions.md 13–17, protocol.md §5).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::dto;
use crate::error::ApiError;
use crate::format::WriteContext;
use crate::meta::{DtoType, ReturnType, TypeInfo, TypeMap, TypeRef};
use crate::negotiate::Negotiated;

/// ServiceStack's `ResponseStatus`: what went wrong, in every error body.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseStatus {
    /// The error code: an exception type name or a rule code.
    pub error_code: String,
    /// A sentence for people.
    pub message: Option<String>,
    /// Only in debug mode.
    pub stack_trace: Option<String>,
    /// One entry per invalid field; always present, usually empty.
    pub errors: Vec<ResponseError>,
    /// Extra data (`AutoBatchIndex` for a failed batch item).
    pub meta: Option<HashMap<String, String>>,
}

/// ServiceStack's `ResponseError`: one field-level error.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseError {
    /// A rule or exception code.
    pub error_code: String,
    /// The C# (PascalCase) property name.
    pub field_name: String,
    /// A sentence for people.
    pub message: String,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

/// ServiceStack's `ErrorResponse`: the error body of an operation without a response DTO of its
/// own.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorResponse {
    /// What went wrong.
    pub response_status: Option<ResponseStatus>,
}

impl ResponseStatus {
    /// The `ResponseStatus` of `err`.
    pub fn from_error(err: &ApiError) -> Self {
        ResponseStatus {
            error_code: err.error_code().to_string(),
            message: Some(err.message().to_string()),
            stack_trace: None,
            errors: err
                .errors()
                .iter()
                .map(|e| ResponseError {
                    error_code: e.error_code.clone(),
                    field_name: e.field_name.clone(),
                    message: e.message.clone(),
                    meta: None,
                })
                .collect(),
            meta: None,
        }
    }
}

/// What an error body needs besides the error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorEnv<'a> {
    /// Every DTO the host knows.
    pub types: &'a TypeMap,
    /// The operation the request was for, if known.
    pub operation: Option<&'static TypeInfo>,
    /// Whether stack traces may be shown.
    pub debug: bool,
}

/// Extra detail for one error body.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorDetail {
    /// Shown as `stackTrace` in debug mode only.
    pub stack_trace: Option<String>,
    /// `responseStatus.meta`.
    pub meta: Option<HashMap<String, String>>,
}

/// The most distinct reason phrases kept; beyond it the standard phrase is used, so a stream of
/// odd error codes cannot grow memory without bound.
const MAX_REASONS: usize = 256;

/// actix wants a `&'static str` reason phrase, while error codes are mostly but not always
/// static: each distinct phrase is leaked once, from a bounded set.
fn intern_reason(reason: &str) -> Option<&'static str> {
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    // A reason phrase is header-like text: visible ASCII and spaces only.
    if reason.is_empty()
        || reason.len() > 64
        || !reason.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    {
        return None;
    }
    let mut seen = SEEN
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .ok()?;
    if let Some(s) = seen.get(reason) {
        return Some(s);
    }
    if seen.len() >= MAX_REASONS {
        return None;
    }
    let leaked: &'static str = Box::leak(reason.to_string().into_boxed_str());
    seen.insert(leaked);
    Some(leaked)
}

/// Sets the reason phrase of `res`, when it can be represented.
pub(crate) fn set_reason(res: &mut HttpResponse, reason: &str) {
    if let Some(r) = intern_reason(reason) {
        res.head_mut().reason = Some(r);
    }
}

/// The XML root of an error: `{Op}Response` when the operation's declared response DTO carries
/// a `ResponseStatus` member, else ServiceStack's `ErrorResponse`.
fn error_root(operation: Option<&'static TypeInfo>) -> TypeRef {
    let own = operation
        .and_then(|op| op.operation.as_ref())
        .and_then(|meta| match (meta.returns)() {
            ReturnType::Type(t @ TypeRef::Dto(_)) => {
                let info = t.dto()?;
                info.property("ResponseStatus").is_some().then_some(t)
            }
            _ => None,
        });
    own.unwrap_or_else(ErrorResponse::type_ref)
}

/// Writes the error body in the negotiated format, falling back to JSON when that format cannot
/// write it. Returns the body and its content type.
fn error_body(
    err: &ApiError,
    neg: &Negotiated,
    env: &ErrorEnv<'_>,
    detail: &ErrorDetail,
) -> (Vec<u8>, String) {
    let mut status = ResponseStatus::from_error(err);
    if env.debug {
        status.stack_trace = detail.stack_trace.clone();
    }
    status.meta = detail.meta.clone();
    let body = ErrorResponse {
        response_status: Some(status),
    };
    let root = error_root(env.operation);
    let op_name = env.operation.map(|o| o.name).unwrap_or("ErrorResponse");
    let ctx = WriteContext {
        types: env.types,
        root: Some(&root),
        operation: op_name,
        pretty: neg.pretty,
    };
    let mut out = Vec::new();
    match neg.format.write(&body, &ctx, &mut out) {
        Ok(()) => {
            if let Some(cb) = &neg.jsonp {
                let mut wrapped = Vec::with_capacity(out.len() + cb.len() + 2);
                wrapped.extend_from_slice(cb.as_bytes());
                wrapped.push(b'(');
                wrapped.extend_from_slice(&out);
                wrapped.push(b')');
                out = wrapped;
            }
            (out, neg.content_type.to_string())
        }
        Err(e) => {
            tracing::warn!(format = neg.format.name(), error = %e, "error body fell back to JSON");
            // serde_json cannot fail on these plain types; an empty object is the last resort.
            let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
            (json, "application/json; charset=utf-8".to_string())
        }
    }
}

/// The status an error answers with; out-of-range codes become 500.
pub(crate) fn status_of(err: &ApiError) -> StatusCode {
    StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Turns an [`ApiError`] into a response: status, reason phrase (the error code), the error's
/// headers and a `ResponseStatus` body in the negotiated format.
pub(crate) fn error_response(
    err: &ApiError,
    neg: &Negotiated,
    env: &ErrorEnv<'_>,
    detail: &ErrorDetail,
) -> HttpResponse {
    let status = status_of(err);
    let (body, content_type) = error_body(err, neg, env, detail);
    let mut builder = HttpResponseBuilder::new(status);
    builder.insert_header((CONTENT_TYPE, content_type));
    if neg.format.name() == "csv" {
        builder.insert_header((
            "Content-Disposition",
            csv_disposition(env.operation.map(|o| o.name).unwrap_or("ErrorResponse")),
        ));
    }
    append_headers(&mut builder, err.headers());
    let mut res = builder.body(body);
    set_reason(&mut res, err.reason());
    res
}

/// `attachment;filename="{Op}.csv"`.
pub(crate) fn csv_disposition(op: &str) -> String {
    format!("attachment;filename=\"{op}.csv\"")
}

/// Appends `(name, value)` headers, skipping any that are not valid HTTP.
pub(crate) fn append_headers(builder: &mut HttpResponseBuilder, headers: &[(String, String)]) {
    for (name, value) in headers {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                builder.append_header((n, v));
            }
            _ => tracing::warn!(header = %name, "skipped an invalid response header"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::meta::Dto;

    #[test]
    fn response_status_shape() {
        let e = ApiError::validation_errors(vec![crate::FieldError {
            error_code: "NotEmpty".into(),
            field_name: "AccountId".into(),
            message: "required".into(),
        }]);
        let body = ErrorResponse {
            response_status: Some(ResponseStatus::from_error(&e)),
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"responseStatus":{"errorCode":"NotEmpty","message":"required","errors":[{"errorCode":"NotEmpty","fieldName":"AccountId","message":"required"}]}}"#
        );
        let plain = ErrorResponse {
            response_status: Some(ResponseStatus::from_error(&ApiError::not_found("x"))),
        };
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"responseStatus":{"errorCode":"NotFound","message":"x","errors":[]}}"#
        );
    }

    #[test]
    fn reasons_are_interned_within_bounds() {
        let a = intern_reason("Invalid Role").unwrap();
        let b = intern_reason("Invalid Role").unwrap();
        assert!(std::ptr::eq(a, b));
        assert!(intern_reason("bad\nreason").is_none());
        assert!(intern_reason("").is_none());
    }

    #[test]
    fn error_root_defaults_to_error_response() {
        assert_eq!(error_root(None).dto().unwrap().name, "ErrorResponse");
        assert_eq!(
            ErrorResponse::type_info().xml_namespace(),
            "http://schemas.servicestack.net/types"
        );
    }
}
