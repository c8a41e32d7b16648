//! One request, one way: route → negotiate → authenticate → check roles → read the body →
//! bind → run the service → write the response (or the error) in the negotiated format.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{
    ACCEPT, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderName, HeaderValue, VARY,
};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use bytes::Bytes;
use futures_util::future::Either;
use futures_util::{FutureExt, StreamExt};
use percent_encoding::percent_decode_str;

use crate::app::Inner;
use crate::bind::{BindInput, Pair, RouteKind};
use crate::context::{RequestContext, ResponseExtras, Session};
use crate::error::ApiError;
use crate::format::WriteContext;
use crate::meta::{TypeInfo, TypeRef};
use crate::metadata::{self, MetadataRequest};
use crate::negotiate::{Negotiated, NegotiationInput, negotiate};
use crate::registry::{BatchOutcome, ErasedOperation, Reply};
use crate::response::{self, ErrorDetail, ErrorEnv};
use crate::router::{self, RouteMatch, RouteMemo};

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
fn form_decode(s: &str) -> Cow<'_, str> {
    // Most keys and values (`format=jsv`) have nothing to decode, and are borrowed as they are.
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// Query-string or form pairs, decoded, in order; a key without `=` has an empty value.
pub(crate) fn parse_pairs(qs: &str) -> Vec<Pair<'_>> {
    // Most requests have no query at all.
    if qs.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut rest = qs;
    while !rest.is_empty() {
        // Splitting on ASCII bytes directly: `str::split` with a `char` pattern runs a general
        // searcher that costs more than the rest of a short query's parsing.
        let (pair, tail) = split_at_byte(rest, b'&');
        rest = tail;
        if pair.is_empty() {
            continue;
        }
        let (k, v) = split_at_byte(pair, b'=');
        out.push((form_decode(k), form_decode(v)));
    }
    out
}

/// `s` before and after the first `sep` (an ASCII byte, so both sides are valid text); all of
/// `s` and nothing when there is none.
fn split_at_byte(s: &str, sep: u8) -> (&str, &str) {
    match s.bytes().position(|b| b == sep) {
        Some(i) => (s.get(..i).unwrap_or(s), s.get(i + 1..).unwrap_or("")),
        None => (s, ""),
    }
}

/// An override names a verb; anything else (it ends up in error messages) is ignored.
fn valid_method(m: &str) -> bool {
    let m = m.trim();
    !m.is_empty() && m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphabetic())
}

fn pair<'a>(pairs: &'a [Pair<'_>], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_ref())
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
    payload: &mut Payload,
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
    query: &'a [Pair<'a>],
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
    neg: Option<&'a Negotiated>,
    operation: Option<&'static TypeInfo>,
}

impl ErrCtx<'_> {
    fn respond(&self, err: &ApiError, detail: &ErrorDetail) -> HttpResponse {
        let fallback;
        let neg = match self.neg {
            Some(n) => n,
            None => match fallback_negotiation(self.inner) {
                Some(n) => {
                    fallback = n;
                    &fallback
                }
                None => {
                    return HttpResponse::InternalServerError()
                        .content_type("text/plain; charset=utf-8")
                        .body(err.message().to_string());
                }
            },
        };
        let env = ErrorEnv {
            types: &self.inner.types,
            operation: self.operation,
            debug: self.inner.config.debug,
        };
        let mut res = response::error_response(err, neg, &env, detail);
        if let Some(op) = self.operation {
            tag_operation(&mut res, op, self.inner);
        }
        res
    }

    fn error(&self, err: &ApiError) -> HttpResponse {
        self.respond(err, &ErrorDetail::default())
    }
}

/// Leaves the operation's name in the response for access logs, when the host asked for it.
fn tag_operation(res: &mut HttpResponse, op: &'static TypeInfo, inner: &Inner) {
    if inner.config.tag_operations {
        res.extensions_mut().insert(OperationName(op.name));
    }
}

/// The default service: every request the host receives comes through here.
pub(crate) async fn serve(
    req: ServiceRequest,
    inner: Arc<Inner>,
    memo: Rc<RouteMemo>,
) -> Result<ServiceResponse, actix_web::Error> {
    let (req, payload) = req.into_parts();
    let res = respond(&req, payload, &inner, &memo).await;
    Ok(ServiceResponse::new(req, res))
}

async fn respond(
    req: &HttpRequest,
    payload: Payload,
    inner: &Inner,
    memo: &RouteMemo,
) -> HttpResponse {
    // Services are guarded closer to the call; this catches the rest (a writer, the binder
    // outside a service), so no panic ever becomes a dropped connection.
    let mut res = match AssertUnwindSafe(handle(req, payload, inner, memo))
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
                neg: None,
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

/// An operation the router found, with everything decided about it before it runs.
struct Routed<'a> {
    entry: &'a Arc<dyn ErasedOperation>,
    neg: Negotiated,
    kind: RouteKind,
    path_vars: Vec<(String, String)>,
    batch: bool,
    oneway: bool,
    bind_format: Option<&'static str>,
}

/// What routing decided.
enum Routing<'a> {
    /// Run this operation.
    Operation(Routed<'a>),
    /// The request ends here (health, metadata, 404, 405, `OPTIONS`, or an error).
    Done(HttpResponse),
}

/// What the router makes of the path, after the health check and the metadata pages, which
/// answer at once (`Err`).
///
/// With `Ok`, whether the decision rests on the method and the path alone, as [`RouteMemo`]
/// needs: not so for a path the metadata pages also look at, whose answer reads the query too.
#[allow(clippy::result_large_err)] // `Err` is the response itself, built once and moved once.
fn decide(
    req: &HttpRequest,
    method: &str,
    inner: &Inner,
) -> Result<(RouteMatch, bool), HttpResponse> {
    // Split and decoded once: the health check, the metadata check and the router share it.
    let parts = router::Segments::split(req.path());
    let read = matches!(method, "GET" | "HEAD");
    if read && parts.len() == 1 && parts[0].eq_ignore_ascii_case("health") {
        return Err(HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body(r#"{"status":"ok"}"#));
    }
    let metadata_path = is_metadata_path(&parts);
    if read
        && metadata_path
        && let Some(r) = serve_metadata(req, inner)
    {
        return Err(r);
    }
    let matched = inner
        .router
        .route(method, &parts, &inner.registry, &inner.formats);
    Ok((matched, !metadata_path))
}

/// Routes and negotiates: the operation to run, or the response that ends the request here.
///
/// Kept out of the `async` pipeline so that the path segments, which sit on the stack, never
/// become part of the request's future (which is moved and boxed per request).
fn route<'a>(
    req: &HttpRequest,
    method: &str,
    query: &[Pair<'_>],
    inner: &'a Inner,
    memo: &RouteMemo,
) -> Routing<'a> {
    let matched = match memo.get(method, req.path()) {
        Some(m) => m,
        None => match decide(req, method, inner) {
            Ok((m, path_only)) => {
                if path_only {
                    memo.remember(method, req.path(), &m);
                }
                m
            }
            Err(res) => return Routing::Done(res),
        },
    };
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
        &negotiation_input(req, query, suffix, route_format),
    );
    let Some(neg) = neg else {
        let errs = ErrCtx {
            inner,
            neg: None,
            operation: None,
        };
        return Routing::Done(errs.error(&ApiError::internal("no JSON format is registered")));
    };
    let errs = ErrCtx {
        inner,
        neg: Some(&neg),
        operation: None,
    };

    let (op, kind, path_vars, batch, oneway, bind_format) = match matched {
        RouteMatch::NotFound { .. } => {
            let path = percent_decode_str(req.path()).decode_utf8_lossy();
            return Routing::Done(errs.error(&ApiError::not_found(format!(
                "Handler for Request not found: {method} {path}"
            ))));
        }
        RouteMatch::UnknownOperation { name, .. } => {
            return Routing::Done(errs.error(&ApiError::new(
                404,
                "NotImplementedException",
                format!("The operation '{name}' does not exist for this service"),
            )));
        }
        RouteMatch::MethodNotAllowed { allow, .. } => {
            let path = percent_decode_str(req.path()).decode_utf8_lossy();
            let err = ApiError::new(
                405,
                "MethodNotAllowed",
                format!("'{method}' is not allowed on '{path}'"),
            )
            .with_header("Allow", allow);
            return Routing::Done(errs.error(&err));
        }
        RouteMatch::Options { allow, .. } => {
            return Routing::Done(
                HttpResponse::NoContent()
                    .insert_header(("Allow", allow))
                    .finish(),
            );
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
    let Some(entry) = inner.registry.entry(op) else {
        return Routing::Done(errs.error(&ApiError::internal(
            "the router named an operation the registry does not hold",
        )));
    };
    Routing::Operation(Routed {
        entry,
        neg,
        kind,
        path_vars,
        batch,
        oneway,
        bind_format,
    })
}

async fn handle(
    req: &HttpRequest,
    mut payload: Payload,
    inner: &Inner,
    memo: &RouteMemo,
) -> HttpResponse {
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
                let text = String::from_utf8_lossy(&b);
                let form = parse_pairs(&text);
                if let Some(m) = pair(&form, METHOD_OVERRIDE).filter(|m| valid_method(m)) {
                    method = Cow::Owned(m.trim().to_ascii_uppercase());
                }
                body = Some(b);
            }
            Err(e) => {
                let neg = negotiate(&inner.formats, &negotiation_input(req, &query, None, None));
                return ErrCtx {
                    inner,
                    neg: neg.as_ref(),
                    operation: None,
                }
                .error(&e);
            }
        }
    }

    let routed = match route(req, &method, &query, inner, memo) {
        Routing::Operation(r) => r,
        Routing::Done(res) => return res,
    };
    let info = routed.entry.info();
    let errs = ErrCtx {
        inner,
        neg: Some(&routed.neg),
        operation: Some(info),
    };

    // Most requests carry no credentials at all: they skip the authenticator's future.
    let session = if inner.auth.may_identify(req) {
        match inner.auth.authenticate(req).await {
            Ok(s) => s,
            Err(e) => return errs.error(&e),
        }
    } else {
        None
    };
    if let Err(e) = authorize(info, session.as_deref(), inner) {
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
    drop(payload);

    let ctx = RequestContext::new(req.clone(), info, session);
    let batch = routed.batch;
    let outcome = {
        // Binding happens inside the synchronous part of the call; nothing of the input is
        // kept across the service's await.
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let input = BindInput {
                kind: routed.kind,
                method: bind_method,
                // Only a body has a type to read it by.
                content_type: if body.is_empty() {
                    None
                } else {
                    header(req, &CONTENT_TYPE)
                },
                body: &body,
                route_format: routed.bind_format,
                path_vars: &routed.path_vars,
                query: &query,
                limits: inner.config.limits,
                types: &inner.types,
                formats: &inner.formats,
            };
            if batch {
                Either::Left(routed.entry.clone().call_batch(&input, ctx.clone()))
            } else {
                Either::Right(routed.entry.clone().call(&input, ctx.clone()))
            }
        }));
        match started {
            Ok(Either::Left(fut)) => AssertUnwindSafe(fut).catch_unwind().await,
            Ok(Either::Right(fut)) => {
                AssertUnwindSafe(fut)
                    .catch_unwind()
                    .await
                    .map(|result| BatchOutcome {
                        completed: 0,
                        failed_in_handler: false,
                        result,
                    })
            }
            Err(p) => Err(p),
        }
    };
    let extras = ctx.take_extras();
    drop(ctx);

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
                Ok(reply) => write_reply(
                    reply,
                    &**routed.entry,
                    &routed.neg,
                    inner,
                    routed.oneway,
                    &extras,
                    &errs,
                ),
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
    tag_operation(&mut res, info, inner);
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
            neg: None,
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
    let status = override_status.unwrap_or(StatusCode::OK);
    // Usually a format's own static type, prebuilt: no check and no copy per response, and no
    // builder (which would stage the head and check for a deferred header error).
    if let Some(v) = &neg.content_type_header
        && neg.format.name() != "csv"
    {
        let mut res = HttpResponse::with_body(status, BoxBody::new(out));
        res.headers_mut().insert(CONTENT_TYPE, v.clone());
        return res;
    }
    let mut b = HttpResponseBuilder::new(status);
    match &neg.content_type_header {
        Some(v) => b.insert_header((CONTENT_TYPE, v.clone())),
        None => b.insert_header((CONTENT_TYPE, &*neg.content_type)),
    };
    if neg.format.name() == "csv" {
        b.insert_header(("Content-Disposition", response::csv_disposition(info.name)));
    }
    b.body(out)
}

/// Adds what the service asked for: headers and cookies (`Secure` over HTTPS).
fn apply_extras(res: &mut HttpResponse, extras: &ResponseExtras, req: &HttpRequest) {
    // Most services ask for neither.
    if extras.headers.is_empty() && extras.cookies.is_empty() {
        return;
    }
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

    fn owned(pairs: Vec<Pair<'_>>) -> Vec<(String, String)> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    #[test]
    fn pairs_decode_plus_and_percent() {
        assert_eq!(
            owned(parse_pairs("a=1+2&b=%5B1,2%5D&c&=x&d=a%2Bb")),
            vec![
                ("a".to_string(), "1 2".to_string()),
                ("b".to_string(), "[1,2]".to_string()),
                ("c".to_string(), String::new()),
                (String::new(), "x".to_string()),
                ("d".to_string(), "a+b".to_string()),
            ]
        );
        assert_eq!(
            owned(parse_pairs("&&q=a=b&é=ü&")),
            vec![
                ("q".to_string(), "a=b".to_string()),
                ("é".to_string(), "ü".to_string()),
            ]
        );
        assert!(parse_pairs("").is_empty() && parse_pairs("&").is_empty());
        // Text with nothing to decode is borrowed, not copied.
        let plain = parse_pairs("format=jsv&a=%41");
        assert!(matches!(
            &plain[0],
            (Cow::Borrowed("format"), Cow::Borrowed("jsv"))
        ));
        assert!(matches!(&plain[1], (Cow::Borrowed("a"), Cow::Owned(v)) if v == "A"));
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
