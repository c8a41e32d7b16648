//! Reading the credentials a request carries in cookies and headers, and minting ids.

use actix_web::HttpRequest;
use actix_web::http::header::{AUTHORIZATION, HeaderName};
use rand::Rng;
use rand::distributions::Alphanumeric;

/// Length of a session id, as ServiceStack makes them (15 random bytes in base64 without `+`
/// or `/`).
pub const SESSION_ID_LEN: usize = 20;

/// The session cookie (`rememberMe` off).
pub const SS_ID: &str = "ss-id";
/// The permanent session cookie (`rememberMe` on).
pub const SS_PID: &str = "ss-pid";
/// `temp` or `perm`: which of the two ids is the active one.
pub const SS_OPT: &str = "ss-opt";
/// The access token cookie.
pub const SS_TOK: &str = "ss-tok";
/// The refresh token cookie.
pub const SS_REFTOK: &str = "ss-reftok";

/// `n` random characters from `[A-Za-z0-9]`, from the operating system's generator.
pub fn random_alphanumeric(n: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A fresh session id: 20 characters from `[A-Za-z0-9]` (Dart's strict cookie parser and the
/// TypeScript client's URL-encoding both leave these untouched).
pub fn new_session_id() -> String {
    random_alphanumeric(SESSION_ID_LEN)
}

/// Whether `s` has the shape of a session id; anything else is not worth a store lookup.
pub fn is_session_id(s: &str) -> bool {
    s.len() == SESSION_ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The `name=value` pairs of one `Cookie` header, skipping pairs that are not cookies.
///
/// The TypeScript client in Node splits `Set-Cookie` on commas and sends back junk such as
/// `01 Jan 2100 00:00:00 GMT=null`; a name with spaces or other non-token characters is skipped
/// rather than failing the whole header.
pub fn parse_cookie_header(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some((name, value))
    })
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The first value of cookie `name` in any `Cookie` header of the request.
pub fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| {
            parse_cookie_header(h)
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
        })
}

/// A request header as text, if present, valid and not blank.
pub fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The auth cookies of a request, read in one pass over its `Cookie` headers (the hot path
/// needs several of them, and each lookup would otherwise parse the header again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthCookies<'a> {
    /// `ss-id`.
    pub ss_id: Option<&'a str>,
    /// `ss-pid`.
    pub ss_pid: Option<&'a str>,
    /// `ss-opt`.
    pub ss_opt: Option<&'a str>,
    /// `ss-tok`.
    pub ss_tok: Option<&'a str>,
    /// `ss-reftok`.
    pub ss_reftok: Option<&'a str>,
}

impl<'a> AuthCookies<'a> {
    /// Reads the cookies of `req`; the first occurrence of a name wins.
    pub fn from_request(req: &'a HttpRequest) -> Self {
        let mut c = AuthCookies::default();
        for h in req.headers().get_all(actix_web::http::header::COOKIE) {
            let Ok(h) = h.to_str() else { continue };
            // Only five names matter, so a pair is matched by name first; junk pairs never match
            // and need no validation.
            for pair in h.split(';') {
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let slot = match name.trim() {
                    SS_ID => &mut c.ss_id,
                    SS_PID => &mut c.ss_pid,
                    SS_OPT => &mut c.ss_opt,
                    SS_TOK => &mut c.ss_tok,
                    SS_REFTOK => &mut c.ss_reftok,
                    _ => continue,
                };
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                if slot.is_none() && !value.is_empty() {
                    *slot = Some(value);
                }
            }
        }
        c
    }
}

static X_SS_ID: HeaderName = HeaderName::from_static("x-ss-id");
static X_SS_PID: HeaderName = HeaderName::from_static("x-ss-pid");
static X_SS_OPT: HeaderName = HeaderName::from_static("x-ss-opt");

fn header_value<'a>(req: &'a HttpRequest, name: &HeaderName) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Whether the request carries any `X-ss-*` header. Most requests carry none, and one pass over
/// the header names is cheaper than the three lookups a session id would otherwise take.
fn has_x_ss_headers(req: &HttpRequest) -> bool {
    // Header names are stored lower case.
    req.headers()
        .keys()
        .any(|k| k.as_str().starts_with("x-ss-"))
}

/// A session parameter as ServiceStack reads it: the `X-ss-*` header first, then the cookie.
pub fn session_param<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    session_param_in(
        req,
        &AuthCookies::from_request(req),
        has_x_ss_headers(req),
        name,
    )
}

/// [`session_param`] with the cookies read and the `X-ss-*` check done.
fn session_param_in<'a>(
    req: &'a HttpRequest,
    cookies: &AuthCookies<'a>,
    x_ss_headers: bool,
    name: &str,
) -> Option<&'a str> {
    let (header_name, cookie) = match name {
        SS_ID => (&X_SS_ID, cookies.ss_id),
        SS_PID => (&X_SS_PID, cookies.ss_pid),
        SS_OPT => (&X_SS_OPT, cookies.ss_opt),
        _ => return cookie(req, name),
    };
    if !x_ss_headers {
        return cookie;
    }
    header_value(req, header_name).or(cookie)
}

/// The session id a request presents: `ss-pid` when `ss-opt` is `perm`, else `ss-id`; the other
/// one when the preferred one is absent.
pub fn session_id(req: &HttpRequest) -> Option<&str> {
    session_id_in(req, &AuthCookies::from_request(req))
}

/// [`session_id`] with the cookies already read.
pub fn session_id_in<'a>(req: &'a HttpRequest, cookies: &AuthCookies<'a>) -> Option<&'a str> {
    let x_ss = has_x_ss_headers(req);
    let perm = session_param_in(req, cookies, x_ss, SS_OPT)
        .is_some_and(|o| o.eq_ignore_ascii_case("perm"));
    let (first, second) = if perm {
        (SS_PID, SS_ID)
    } else {
        (SS_ID, SS_PID)
    };
    session_param_in(req, cookies, x_ss, first)
        .or_else(|| session_param_in(req, cookies, x_ss, second))
        .filter(|id| is_session_id(id))
}

/// Every session id a request mentions (for logout, which ends all of them).
pub fn all_session_ids(req: &HttpRequest) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for v in [
        header_value(req, &X_SS_ID),
        header_value(req, &X_SS_PID),
        cookie(req, SS_ID),
        cookie(req, SS_PID),
    ]
    .into_iter()
    .flatten()
    {
        if is_session_id(v) && !ids.iter().any(|i| i == v) {
            ids.push(v.to_string());
        }
    }
    ids
}

/// What the `Authorization` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorization<'a> {
    /// `Bearer <token>` (scheme matched ignoring case).
    Bearer(&'a str),
    /// `Basic <base64>`, not yet decoded.
    Basic(&'a str),
}

/// Parses the `Authorization` header; other schemes are ignored.
pub fn authorization(req: &HttpRequest) -> Option<Authorization<'_>> {
    authorization_bytes(req).and_then(RawAuthorization::text)
}

/// The `Authorization` header split into scheme and credentials, before the credentials are
/// known to be text (see [`RawAuthorization::text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawAuthorization<'a> {
    /// `Bearer` (scheme matched ignoring case) and the token's bytes.
    Bearer(&'a [u8]),
    /// `Basic` and the base64 bytes.
    Basic(&'a [u8]),
}

impl<'a> RawAuthorization<'a> {
    /// The credentials as text, `None` when they are not ASCII (then the header is ignored,
    /// as `HeaderValue::to_str` would have it).
    pub fn text(self) -> Option<Authorization<'a>> {
        // Header values never hold control bytes, so the only bytes `HeaderValue::to_str`
        // refuses are the non-ASCII ones, which `is_ascii` refuses too; both checks here run a
        // word at a time where `to_str` goes byte by byte over a 600-byte token.
        let ascii = |b: &'a [u8]| b.is_ascii().then(|| std::str::from_utf8(b).ok()).flatten();
        match self {
            RawAuthorization::Bearer(b) => ascii(b).map(Authorization::Bearer),
            RawAuthorization::Basic(b) => ascii(b).map(Authorization::Basic),
        }
    }
}

/// Splits the `Authorization` header into scheme and credentials; other schemes are ignored.
pub fn authorization_bytes(req: &HttpRequest) -> Option<RawAuthorization<'_>> {
    let value = req.headers().get(&AUTHORIZATION)?.as_bytes().trim_ascii();
    let space = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = (&value[..space], value[space + 1..].trim_ascii());
    if rest.is_empty() {
        None
    } else if scheme.eq_ignore_ascii_case(b"Bearer") {
        Some(RawAuthorization::Bearer(rest))
    } else if scheme.eq_ignore_ascii_case(b"Basic") {
        Some(RawAuthorization::Basic(rest))
    } else {
        None
    }
}

/// Room for decoded Basic credentials, so that checking them against the cache allocates
/// nothing: short ones (almost all) are decoded on the stack, longer ones on the heap. It is
/// wiped when dropped, and its `Debug` shows nothing of what it holds.
pub struct BasicBuf {
    stack: [u8; 192],
    heap: Vec<u8>,
}

impl std::fmt::Debug for BasicBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BasicBuf")
    }
}

impl Drop for BasicBuf {
    fn drop(&mut self) {
        self.stack.fill(0);
        self.heap.fill(0);
        // Keeps the compiler from dropping the writes as dead stores.
        std::hint::black_box((&self.stack, &self.heap));
    }
}

impl Default for BasicBuf {
    fn default() -> Self {
        BasicBuf {
            stack: [0; 192],
            heap: Vec::new(),
        }
    }
}

impl BasicBuf {
    /// Decodes Basic credentials into user name and password, as [`decode_basic`] does, but
    /// borrowed from this buffer.
    pub fn decode(&mut self, encoded: &str) -> Option<(&str, &str)> {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        let encoded = encoded.trim();
        let bytes: &[u8] = if base64::decoded_len_estimate(encoded.len()) <= self.stack.len() {
            let n = STANDARD.decode_slice(encoded, &mut self.stack).ok()?;
            &self.stack[..n]
        } else {
            self.heap = STANDARD.decode(encoded).ok()?;
            &self.heap
        };
        std::str::from_utf8(bytes).ok()?.split_once(':')
    }
}

/// Decodes Basic credentials into user name and password.
pub fn decode_basic(encoded: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}
