//! Who is calling, and what a service may add to its response.

use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::meta::TypeInfo;

/// The role that passes every role check, as in ServiceStack.
pub const ADMIN_ROLE: &str = "Admin";

/// An authenticated caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// The user's id in the store.
    pub user_id: String,
    /// The name the user signs in with (an email address or a plain name).
    pub user_name: String,
    /// A display name, if known.
    pub display_name: Option<String>,
    /// Role names, compared case-sensitively.
    pub roles: Vec<String>,
    /// Permission names.
    pub permissions: Vec<String>,
    /// The session id when the caller came with a session (cookie or `X-ss-id`), `None` for
    /// per-request credentials (Basic, JWT, API key).
    pub session_id: Option<String>,
    /// How the caller authenticated: `credentials`, `basic`, `jwt`, `apikey`.
    pub auth_provider: String,
}

impl Session {
    /// Whether the user holds `role` exactly.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the user is an `Admin`, who passes every role check.
    pub fn is_admin(&self) -> bool {
        self.has_role(ADMIN_ROLE)
    }

    /// ServiceStack's `[RequiresAnyRole]`: Admin, or any one of `roles` (true when empty).
    pub fn has_any_role(&self, roles: &[&str]) -> bool {
        roles.is_empty() || self.is_admin() || roles.iter().any(|r| self.has_role(r))
    }

    /// ServiceStack's `[RequiredRole]`: Admin, or every one of `roles`.
    pub fn has_all_roles(&self, roles: &[&str]) -> bool {
        self.is_admin() || roles.iter().all(|r| self.has_role(r))
    }
}

/// Finds out who sent a request. The pipeline calls it after format negotiation and before
/// binding, for every operation.
pub trait Authenticator: Send + Sync + 'static {
    /// `Ok(None)` for an anonymous request; `Err` when credentials were presented but are not
    /// acceptable (a wrong Basic password, an expired or tampered token), which the pipeline
    /// answers with that error even for operations that do not need a user.
    ///
    /// The session is shared (`Arc`) so an authenticator can hand out the one it cached
    /// instead of copying its strings and role lists for every request.
    fn authenticate<'a>(
        &'a self,
        req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Option<Arc<Session>>, ApiError>>;

    /// Whether `req` could name a caller at all. When this is false the pipeline treats the
    /// request as anonymous without calling [`Authenticator::authenticate`] (whose boxed future
    /// is a measurable part of a cheap request), so an implementation must answer true whenever
    /// `authenticate` might return anything but `Ok(None)`. The default always asks.
    fn may_identify(&self, _req: &HttpRequest) -> bool {
        true
    }

    /// The `WWW-Authenticate` challenges a 401 carries, first registered provider first.
    fn challenges(&self) -> Vec<String> {
        vec![r#"credentials realm="/auth/credentials""#.to_string()]
    }
}

/// An authenticator that treats every request as anonymous.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

impl Authenticator for NoAuth {
    fn authenticate<'a>(
        &'a self,
        _req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Option<Arc<Session>>, ApiError>> {
        Box::pin(async { Ok(None) })
    }

    fn may_identify(&self, _req: &HttpRequest) -> bool {
        false
    }
}

/// A cookie a service asks the pipeline to set (or, with `max_age == Some(0)`, to delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    pub value: String,
    /// `Max-Age` in seconds; `None` for a session cookie; `Some(0)` deletes it.
    pub max_age: Option<i64>,
    /// `HttpOnly`.
    pub http_only: bool,
}

/// What a service adds to its response besides the body.
#[derive(Debug, Default, Clone)]
pub struct ResponseExtras {
    /// Overrides the success status (e.g. 201).
    pub status: Option<u16>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Cookies to set or delete; `Secure` is added by the pipeline on HTTPS.
    pub cookies: Vec<SetCookie>,
}

/// What a service knows about the request it serves.
///
/// Cheap to clone; it is not `Send` (it holds the actix request), so a service that moves work
/// to a blocking thread takes what it needs out of it first.
#[derive(Clone)]
pub struct RequestContext {
    session: Option<Arc<Session>>,
    operation: &'static TypeInfo,
    request: HttpRequest,
}

/// What services added to a response, kept in the request's extensions until the pipeline
/// takes it: most services add nothing, and then nothing is allocated for it. The private type
/// keeps it apart from anything middleware stores there.
#[derive(Default)]
struct PendingExtras(ResponseExtras);

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("operation", &self.operation.name)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    /// A context for `operation`, called by the pipeline.
    pub fn new(
        request: HttpRequest,
        operation: &'static TypeInfo,
        session: Option<Arc<Session>>,
    ) -> Self {
        RequestContext {
            session,
            operation,
            request,
        }
    }

    /// The caller, if authenticated.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// The caller, or 401 `Not Authenticated`.
    ///
    /// # Errors
    /// [`ApiError::not_authenticated`] for an anonymous request.
    pub fn require_session(&self) -> Result<&Session, ApiError> {
        self.session().ok_or_else(ApiError::not_authenticated)
    }

    /// The operation being served.
    pub fn operation(&self) -> &'static TypeInfo {
        self.operation
    }

    /// The underlying HTTP request (headers, cookies, peer address).
    pub fn http_request(&self) -> &HttpRequest {
        &self.request
    }

    /// A request header as text, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// Changes what the response will carry besides its body.
    fn with_extras(&self, change: impl FnOnce(&mut ResponseExtras)) {
        let mut ext = self.request.extensions_mut();
        change(&mut ext.get_or_insert_with(PendingExtras::default).0);
    }

    /// Adds a response header.
    pub fn add_header(&self, name: impl Into<String>, value: impl Into<String>) {
        let header = (name.into(), value.into());
        self.with_extras(|e| e.headers.push(header));
    }

    /// Sets or deletes a cookie on the response.
    pub fn set_cookie(&self, cookie: SetCookie) {
        self.with_extras(|e| e.cookies.push(cookie));
    }

    /// Overrides the success status.
    pub fn set_status(&self, status: u16) {
        self.with_extras(|e| e.status = Some(status));
    }

    /// Takes what the service added, leaving it empty; called by the pipeline.
    pub fn take_extras(&self) -> ResponseExtras {
        self.request
            .extensions_mut()
            .remove::<PendingExtras>()
            .map(|p| p.0)
            .unwrap_or_default()
    }
}
