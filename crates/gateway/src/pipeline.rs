//! One request, one way: route → negotiate → authenticate → check roles → read the body →
//! bind → run the service → write the response (or the error) in the negotiated format.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::panic::AssertUnwindSafe;

use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue, VARY,
};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use percent_encoding::percent_decode_str;

use crate::app::{Gateway, Inner};
use crate::bind::{BindInput, RouteKind};
use crate::context::{RequestContext, ResponseExtras, Session};
use crate::error::ApiError;
use crate::format::WriteContext;
use crate::meta::{TypeInfo, TypeRef};
use crate::metadata::{self, MetadataRequest};
use crate::negotiate::{Negotiated, NegotiationInput, negotiate};
use crate::registry::{BatchOutcome, ErasedOperation, Reply};
use crate::response::{self, ErrorDetail, ErrorEnv};
use crate::router::{self, RouteMatch};

/// The operation a response was for, left in the response's extensions for access logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationName(pub &'static str);

/// The method override as a query or form key.
const METHOD_OVERRIDE: &str = "X-HTTP-Method-Override";

// Header names the pipeline reads or writes on every request, built once: looking a header up
// by `&str` parses (and for non-standard names copies) the name each time.
static METHOD_OVERRIDE_HEADER: HeaderName = HeaderName::from_static("x-http-method-override");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_POWERED_BY: HeaderName = HeaderName::from_static("x-powered-by");
static X_AUTOBATCH_COMPLETED: HeaderName = HeaderName::from_static("x-autobatch-completed");
static VARY_ACCEPT: HeaderValue = HeaderValue::from_static("Accept");

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space.
fn form_decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Query-string or form pairs, decoded, in order; a key without `=` has an empty value.
pub(crate) fn parse_pairs(qs: &str) -> Vec<(String, String)> {
    qs.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

/// An override names a verb; anything else (it ends up in error messages) is ignored.
fn valid_method(m: &str) -> bool {
    let m = m.trim();
    !m.is_empty() && m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphabetic())
}

fn pair<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn header<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The request method, upper case; borrowed unless the client sent an extension method in
/// lower case.
fn upper_method(m: &str) -> Cow<'_, str> {
    if m.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(m.to_ascii_uppercase())
    } else {
        Cow::Borrowed(m)
    }
}

/// A header value for a static string without copying it, or `None` when it is not a valid
/// header value.
fn static_header_value(s: &'static str) -> Option<HeaderValue> {
    // `from_static` panics on what `HeaderValue::try_from` would reject; check first.
    s.bytes()
        .all(|b| (32..127).contains(&b) || b == b'\t')
        .then(|| HeaderValue::from_static(s))
}

fn content_type_essence(req: &HttpRequest) -> Option<String> {
    header(req, &CONTENT_TYPE).map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// Whether the client reached us over HTTPS: TLS on this listener, or a loopback proxy saying so.
fn is_https(req: &HttpRequest) -> bool {
    if req.app_config().secure() {
        return true;
    }
    let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    loopback
        && header(req, &X_FORWARDED_PROTO).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        413,
        "RequestEntityTooLarge",
        format!("The request body is larger than {limit} bytes"),
    )
}

/// Reads the whole body, refusing more than `limit` bytes before buffering (by
/// `Content-Length`) and while streaming, then decompresses it under the same bound.
async fn read_body(
    req: &HttpRequest,
    payload: &mut web::Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    if let Some(len) = header(req, &CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large(limit));
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("Could not read the request body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    let raw = buf.freeze();
    let encoding = header(req, &CONTENT_ENCODING).map(|e| e.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("") | Some("identity") => Ok(raw),
        Some("gzip") | Some("x-gzip") => inflate(flate2::read::GzDecoder::new(&raw[..]), limit),
        // HTTP's "deflate" is zlib-wrapped, but some clients send a raw deflate stream.
        Some("deflate") => inflate(flate2::read::ZlibDecoder::new(&raw[..]), limit)
            .or_else(|_| inflate(flate2::read::DeflateDecoder::new(&raw[..]), limit)),
        Some(other) => Err(ApiError::new(
            415,
            "NotSupportedException",
            format!("Content-Encoding '{other}' is not supported"),
        )),
    }
}

fn inflate(decoder: impl Read, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::bad_request(format!("Could not decompress the request body: {e}"))
        })?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(out))
}

/// The JSON negotiation every host has; used when even the request's own wishes are unusable.
fn fallback_negotiation(inner: &Inner) -> Option<Negotiated> {
    negotiate(&inner.formats, &NegotiationInput::default())
}

fn negotiation_input<'a>(
    req: &'a HttpRequest,
    query: &'a [(String, String)],
    suffix: Option<&'a str>,
    route_format: Option<&'a str>,
) -> NegotiationInput<'a> {
    NegotiationInput {
        suffix,
        query_format: pair(query, "format"),
        route_format,
        accept: header(req, &ACCEPT),
        debug: pair(query, "debug"),
        callback: pair(query, "callback"),
    }
}

/// What every error path needs.
struct ErrCtx<'a> {
    inner: &'a Inner,
    neg: Option<Negotiated>,
    operation: Option<&'static TypeInfo>,
}

impl ErrCtx<'_> {
    fn respond(&self, err: &ApiError, detail: &ErrorDetail) -> HttpResponse {
        let neg = self
            .neg
            .clone()
            .or_else(|| fallback_negotiation(self.inner));
        let Some(neg) = neg else {
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body(err.message().to_string());
        };
        let env = ErrorEnv {
            types: &self.inner.types,
            operation: self.operation,
            debug: self.inner.config.debug,
        };
        let mut res = response::error_response(err, &neg, &env, detail);
        if let Some(op) = self.operation {
            res.extensions_mut().insert(OperationName(op.name));
        }
        res
    }

    fn error(&self, err: &ApiError) -> HttpResponse {
        self.respond(err, &ErrorDetail::default())
    }
}

/// The default service: every request the host receives comes through here.
pub(crate) async fn serve(
    req: HttpRequest,
    payload: web::Payload,
    gw: web::Data<Gateway>,
) -> HttpResponse {
    let inner = &*gw.inner;
    // Services are guarded closer to the call; this catches the rest (a writer, the binder
    // outside a service), so no panic ever becomes a dropped connection.
    let mut res = match AssertUnwindSafe(handle(&req, payload, inner))
        .catch_unwind()
        .await
    {
        Ok(res) => res,
        Err(panic) => {
            let message = panic_message(&panic);
            tracing::error!(panic = %message, "request pipeline panicked");
            let err = ApiError::new(500, "InternalServerError", "An internal error occurred");
            let detail = ErrorDetail {
                stack_trace: Some(message),
                meta: None,
            };
            ErrCtx {
                inner,
                neg: fallback_negotiation(inner),
                operation: None,
            }
            .respond(&err, &detail)
        }
    };
    let headers = res.headers_mut();
    headers.insert(VARY, VARY_ACCEPT.clone());
    if let Some(v) = &inner.powered_by {
        headers.insert(X_POWERED_BY.clone(), v.clone());
    }
    res
}

fn is_metadata_path(parts: &[Cow<'_, str>]) -> bool {
    let is = |p: &str, name: &str| p.eq_ignore_ascii_case(name);
    match parts {
        [] => false,
        [a] => is(a, "metadata") || is(a, "types") || is(a, "api"),
        [a, b, ..] => {
            is(a, "metadata") || is(a, "types") || (is(b, "metadata") && parts.len() == 2)
        }
    }
}

async fn handle(req: &HttpRequest, mut payload: web::Payload, inner: &Inner) -> HttpResponse {
    let query = parse_pairs(req.query_string());
    let limit = inner.config.max_body_bytes;
    let mut body: Option<Bytes> = None;

    // The effective method: X-HTTP-Method-Override from the header, the query, then a form field.
    let mut method = upper_method(req.method().as_str());
    let override_method = header(req, &METHOD_OVERRIDE_HEADER)
        .or_else(|| pair(&query, METHOD_OVERRIDE))
        .filter(|m| valid_method(m));
    if let Some(m) = override_method {
        method = Cow::Owned(m.trim().to_ascii_uppercase());
    } else if method == "POST"
        && content_type_essence(req).as_deref() == Some("application/x-www-form-urlencoded")
    {
        match read_body(req, &mut payload, limit).await {
            Ok(b) => {
                let form = parse_pairs(&String::from_utf8_lossy(&b));
                if let Some(m) = pair(&form, METHOD_OVERRIDE).filter(|m| valid_method(m)) {
                    method = Cow::Owned(m.trim().to_ascii_uppercase());
                }
                body = Some(b);
            }
            Err(e) => {
                let neg = negotiate(&inner.formats, &negotiation_input(req, &query, None, None));
                return ErrCtx {
                    inner,
                    neg,
                    operation: None,
                }
                .error(&e);
            }
        }
    }

    // Split and decoded once: the health check, the metadata check and the router share it.
    let parts = router::split_path(req.path());
    if matches!(&*method, "GET" | "HEAD") {
        if parts.len() == 1 && parts[0].eq_ignore_ascii_case("health") {
            return HttpResponse::Ok()
                .content_type("application/json; charset=utf-8")
                .body(r#"{"status":"ok"}"#);
        }
        if is_metadata_path(&parts)
            && let Some(r) = serve_metadata(req, inner)
        {
            return r;
        }
    }

    let matched = inner
        .router
        .route(&method, &parts, &inner.registry, &inner.formats);
    let (suffix, route_format) = match &matched {
        RouteMatch::Generic {
            suffix,
            route_format,
            ..
        }
        | RouteMatch::UnknownOperation {
            suffix,
            route_format,
            ..
        } => (*suffix, *route_format),
        RouteMatch::Rest { suffix, .. }
        | RouteMatch::Options { suffix, .. }
        | RouteMatch::MethodNotAllowed { suffix, .. }
        | RouteMatch::NotFound { suffix } => (*suffix, None),
    };
    let neg = negotiate(
        &inner.formats,
        &negotiation_input(req, &query, suffix, route_format),
    );
    let errs = ErrCtx {
        inner,
        neg: neg.clone(),
        operation: None,
    };
    let Some(neg) = neg else {
        return errs.error(&ApiError::internal("no JSON format is registered"));
    };

    let (op, kind, path_vars, batch, oneway, bind_format) = match matched {
        RouteMatch::NotFound { .. } => {
            let path = percent_decode_str(req.path())
                .decode_utf8_lossy()
                .into_owned();
            return errs.error(&ApiError::not_found(format!(
                "Handler for Request not found: {method} {path}"
            )));
        }
        RouteMatch::UnknownOperation { name, .. } => {
            return errs.error(&ApiError::new(
                404,
                "NotImplementedException",
                format!("The operation '{name}' does not exist for this service"),
            ));
        }
        RouteMatch::MethodNotAllowed { allow, .. } => {
            let path = percent_decode_str(req.path())
                .decode_utf8_lossy()
                .into_owned();
            let err = ApiError::new(
                405,
                "MethodNotAllowed",
                format!("'{method}' is not allowed on '{path}'"),
            )
            .with_header("Allow", allow);
            return errs.error(&err);
        }
        RouteMatch::Options { allow, .. } => {
            return HttpResponse::NoContent()
                .insert_header(("Allow", allow))
                .finish();
        }
        RouteMatch::Generic {
            op,
            route_format,
            batch,
            oneway,
            ..
        } => (
            op,
            RouteKind::Generic,
            Vec::new(),
            batch,
            oneway,
            Some(route_format.unwrap_or("json")),
        ),
        RouteMatch::Rest { op, path_vars, .. } => {
            (op, RouteKind::Rest, path_vars, false, false, None)
        }
    };
    let Some(entry) = inner.registry.entry(op).cloned() else {
        return errs.error(&ApiError::internal(
            "the router named an operation the registry does not hold",
        ));
    };
    let info = entry.info();
    let errs = ErrCtx {
        inner,
        neg: Some(neg.clone()),
        operation: Some(info),
    };

    let session = match inner.auth.authenticate(req).await {
        Ok(s) => s,
        Err(e) => return errs.error(&e),
    };
    if let Err(e) = authorize(info, session.as_ref(), inner) {
        return errs.error(&e);
    }

    // GET and DELETE bodies are ignored (decisions.md 6).
    let bind_method: &str = if method == "HEAD" { "GET" } else { &method };
    let body = if matches!(bind_method, "GET" | "DELETE" | "OPTIONS") {
        Bytes::new()
    } else {
        match body {
            Some(b) => b,
            None => match read_body(req, &mut payload, limit).await {
                Ok(b) => b,
                Err(e) => return errs.error(&e),
            },
        }
    };

    let content_type = header(req, &CONTENT_TYPE);
    let input = BindInput {
        kind,
        method: bind_method,
        content_type,
        body: &body,
        route_format: bind_format,
        path_vars: &path_vars,
        query: &query,
        limits: inner.config.limits,
        types: &inner.types,
        formats: &inner.formats,
    };
    let ctx = RequestContext::new(req.clone(), info, session);

    let outcome = if batch {
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
            entry.clone().call_batch(&input, ctx.clone())
        }));
        match started {
            Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
            Err(p) => Err(p),
        }
    } else {
        let started =
            std::panic::catch_unwind(AssertUnwindSafe(|| entry.clone().call(&input, ctx.clone())));
        let single = match started {
            Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
            Err(p) => Err(p),
        };
        single.map(|result| BatchOutcome {
            completed: 0,
            failed_in_handler: false,
            result,
        })
    };
    let extras = ctx.take_extras();

    let mut res = match outcome {
        Err(panic) => {
            let message = panic_message(&panic);
            tracing::error!(operation = info.name, panic = %message, "service panicked");
            let err = ApiError::new(500, "InternalServerError", "An internal error occurred");
            errs.respond(
                &err,
                &ErrorDetail {
                    stack_trace: Some(message),
                    meta: None,
                },
            )
        }
        Ok(BatchOutcome {
            completed,
            failed_in_handler,
            result,
        }) => {
            let mut res = match result {
                Ok(reply) => write_reply(reply, &*entry, &neg, inner, oneway, &extras, &errs),
                Err(e) => {
                    let meta = (batch && failed_in_handler).then(|| {
                        HashMap::from([("AutoBatchIndex".to_string(), completed.to_string())])
                    });
                    errs.respond(
                        &e,
                        &ErrorDetail {
                            stack_trace: None,
                            meta,
                        },
                    )
                }
            };
            if batch && let Ok(v) = HeaderValue::try_from(completed.to_string()) {
                res.headers_mut().insert(X_AUTOBATCH_COMPLETED.clone(), v);
            }
            res
        }
    };
    apply_extras(&mut res, &extras, req);
    res.extensions_mut().insert(OperationName(info.name));
    res
}

/// Authentication and role checks of an operation (decisions.md 16, 23).
fn authorize(
    info: &'static TypeInfo,
    session: Option<&Session>,
    inner: &Inner,
) -> Result<(), ApiError> {
    let Some(meta) = info.operation.as_ref() else {
        return Ok(());
    };
    let needs_user =
        meta.requires_auth || !meta.required_roles.is_empty() || !meta.any_roles.is_empty();
    if !needs_user {
        return Ok(());
    }
    let Some(session) = session else {
        let mut err = ApiError::not_authenticated();
        for c in inner.auth.challenges() {
            err = err.with_header("WWW-Authenticate", c);
        }
        return Err(err);
    };
    if !session.has_all_roles(meta.required_roles) || !session.has_any_role(meta.any_roles) {
        return Err(ApiError::invalid_role());
    }
    Ok(())
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Writes a successful reply of the operation `entry` in the negotiated format.
fn write_reply(
    reply: Reply,
    entry: &dyn ErasedOperation,
    neg: &Negotiated,
    inner: &Inner,
    oneway: bool,
    extras: &ResponseExtras,
    errs: &ErrCtx<'_>,
) -> HttpResponse {
    let info = entry.info();
    let declared = entry.declared();
    let override_status = extras.status.and_then(|s| StatusCode::from_u16(s).ok());
    let (value, list) = match reply {
        Reply::Body { value, list } if !oneway => (value, list),
        _ => {
            // An empty body: actix writes `Content-Length: 0`, except on a 204 where RFC 9110
            // forbids the header.
            return HttpResponseBuilder::new(override_status.unwrap_or(StatusCode::NO_CONTENT))
                .finish();
        }
    };
    // A batch answers a list of the declared type; only then is a root built per request.
    let list_root = list.then(|| declared.map(|d| TypeRef::List(Box::new(d.clone()))));
    let root = match &list_root {
        Some(l) => l.as_ref(),
        None => declared,
    };
    let ctx = WriteContext {
        types: &inner.types,
        root,
        operation: info.name,
        pretty: neg.pretty,
    };
    let mut out = Vec::new();
    if let Err(e) = neg.format.write_body(&*value, &ctx, &mut out) {
        let err = ApiError::internal(format!(
            "writing {} as {}: {e}",
            info.name,
            neg.format.name()
        ));
        // The same format is unlikely to write the error either: answer it in JSON.
        let json = ErrCtx {
            inner,
            neg: fallback_negotiation(inner),
            operation: errs.operation,
        };
        return json.error(&err);
    }
    if let Some(cb) = &neg.jsonp {
        let mut wrapped = Vec::with_capacity(out.len() + cb.len() + 2);
        wrapped.extend_from_slice(cb.as_bytes());
        wrapped.push(b'(');
        wrapped.extend_from_slice(&out);
        wrapped.push(b')');
        out = wrapped;
    }
    let mut b = HttpResponseBuilder::new(override_status.unwrap_or(StatusCode::OK));
    // Usually a format's own static type: no copy into a new header value.
    let static_value = match &neg.content_type {
        Cow::Borrowed(s) => static_header_value(s),
        Cow::Owned(_) => None,
    };
    match static_value {
        Some(v) => b.insert_header((CONTENT_TYPE, v)),
        None => b.insert_header((CONTENT_TYPE, &*neg.content_type)),
    };
    if neg.format.name() == "csv" {
        b.insert_header(("Content-Disposition", response::csv_disposition(info.name)));
    }
    b.body(out)
}

/// Adds what the service asked for: headers and cookies (`Secure` over HTTPS).
fn apply_extras(res: &mut HttpResponse, extras: &ResponseExtras, req: &HttpRequest) {
    // Only cookies depend on the transport; most responses set none.
    let https = !extras.cookies.is_empty() && is_https(req);
    let headers = res.headers_mut();
    for (name, value) in &extras.headers {
        match (
            actix_web::http::header::HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => headers.append(n, v),
            _ => tracing::warn!(header = %name, "skipped an invalid response header"),
        }
    }
    for c in &extras.cookies {
        let mut s = format!("{}={}; Path=/", c.name, c.value);
        if let Some(age) = c.max_age {
            s.push_str(&format!("; Max-Age={age}"));
        }
        if c.http_only {
            s.push_str("; HttpOnly");
        }
        s.push_str("; SameSite=Lax");
        if https {
            s.push_str("; Secure");
        }
        match HeaderValue::try_from(s) {
            Ok(v) => headers.append(actix_web::http::header::SET_COOKIE, v),
            Err(_) => tracing::warn!(cookie = %c.name, "skipped an invalid cookie"),
        }
    }
}

fn serve_metadata(req: &HttpRequest, inner: &Inner) -> Option<HttpResponse> {
    let path = percent_decode_str(req.path())
        .decode_utf8_lossy()
        .into_owned();
    let conn = req.connection_info();
    let origin = format!("{}://{}", conn.scheme(), conn.host());
    let host = header(req, &HOST).unwrap_or(conn.host()).to_string();
    let mreq = MetadataRequest {
        path: &path,
        query: req.query_string(),
        origin: &origin,
        host: &host,
    };
    let r = metadata::handle(&mreq, &inner.registry, &inner.config.site)?;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    Some(
        HttpResponseBuilder::new(status)
            .insert_header((CONTENT_TYPE, r.content_type))
            .body(r.body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_plus_and_percent() {
        assert_eq!(
            parse_pairs("a=1+2&b=%5B1,2%5D&c&=x&d=a%2Bb"),
            vec![
                ("a".to_string(), "1 2".to_string()),
                ("b".to_string(), "[1,2]".to_string()),
                ("c".to_string(), String::new()),
                (String::new(), "x".to_string()),
                ("d".to_string(), "a+b".to_string()),
            ]
        );
    }

    #[test]
    fn metadata_paths() {
        let p = |s: &str| is_metadata_path(&router::split_path(s));
        assert!(
            p("/metadata") && p("/metadata/app") && p("/types") && p("/types/dart") && p("/api")
        );
        assert!(p("/jsv/metadata") && p("/JSON/metadata"));
        assert!(!p("/api/Echo") && !p("/echo/1") && !p("/a/b/metadata") && !p("/"));
    }
}
