//! [`AuthFeature`]: the authenticator and the auth operations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::Method;
use chrono::{DateTime, TimeDelta, Utc};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::cache::{CredentialKeyer, RandomKeys, SingleFlight, TtlCache};
use super::cookies::{
    self, AuthCookies, Authorization, BasicBuf, RawAuthorization, SS_ID, SS_OPT, SS_PID, SS_REFTOK,
    SS_TOK, all_session_ids, authorization, authorization_bytes, cookie, decode_basic,
    new_session_id, random_alphanumeric,
};
use super::dto::{
    AssignRoles, AssignRolesResponse, Authenticate, AuthenticateResponse, CreateApiKey,
    CreateApiKeyResponse, GetAccessToken, GetAccessTokenResponse, RevokeApiKey, UnAssignRoles,
    UnAssignRolesResponse,
};
use super::jwt::{Claims, ISSUER, JwtError, JwtKey, TokenKind, looks_like_jwt};
use super::net::{IpNet, loopback_nets, request_client_ip, request_is_secure};
use super::passwords;
use super::store::{
    ApiKeyRecord, AuthStore, AuthStoreError, AuthUser, NewAuthUser, StoredRefreshToken,
    StoredSession,
};
use super::throttle::{Throttle, ThrottleLimits};
use crate::context::{Authenticator, RequestContext, Session, SetCookie};
use crate::error::ApiError;
use crate::registry::Registry;

/// What ServiceStack answers when a JWT arrives over plain HTTP.
pub const JWT_INSECURE: &str =
    "Sending JWT over insecure connection forbidden when RequireSecureConnection=true";
/// What ServiceStack answers when an API key arrives over plain HTTP.
pub const API_KEY_INSECURE: &str =
    "Sending ApiKey over insecure connection forbidden when RequireSecureConnection=true";
/// The prefix of every API key.
pub const API_KEY_PREFIX: &str = "ak-";
const YEAR: u64 = 365 * 24 * 3600;
const DAY: u64 = 24 * 3600;

/// Settings of [`AuthFeature`]; [`AuthConfig::default`] follows decisions 19–24 and 28.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Lifetime of a JWT access token (and of the `ss-tok` cookie): 14 days.
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (and of the `ss-reftok` cookie): 365 days.
    pub refresh_token_ttl: Duration,
    /// How long a session without `rememberMe` is accepted: 14 days.
    pub session_ttl: Duration,
    /// How long a `rememberMe` session is accepted: 28 days.
    pub permanent_session_ttl: Duration,
    /// `Max-Age` of the `ss-pid` and `ss-opt` cookies: 20 years, as ServiceStack.
    pub permanent_cookie_max_age: Duration,
    /// How long a looked-up session, refresh grant or API key is trusted without asking the
    /// store again: 30 seconds. Logout and revocation in this process take effect at once.
    pub lookup_cache_ttl: Duration,
    /// How long a successful Basic check is remembered: 2 minutes. In the last quarter of
    /// that time the first request to use it verifies the password again (the others keep
    /// using the entry meanwhile).
    pub basic_cache_ttl: Duration,
    /// Most entries per cache.
    pub cache_capacity: usize,
    /// Failed-login throttling: 10 per name, 100 per address, in 15 minutes.
    pub throttle: ThrottleLimits,
    /// Proxies whose `X-Forwarded-Proto` and `X-Forwarded-For` are believed: loopback.
    pub trusted_proxies: Vec<IpNet>,
    /// Accept and issue JWTs only over secure connections (HTTPS, loopback, or a trusted proxy
    /// saying `https`): true, as ServiceStack's `RequireSecureConnection`.
    pub require_secure_jwt: bool,
    /// Accept API keys (as a bearer token or the Basic user name) only over secure connections,
    /// by the same rule as JWTs: true, as ServiceStack's `ApiKeyAuthProvider`. A key is a
    /// long-lived credential that plain HTTP would expose on every request.
    pub require_secure_api_keys: bool,
    /// Accept `Authorization: Basic` and advertise it in `WWW-Authenticate`: true.
    pub enable_basic: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            access_token_ttl: Duration::from_secs(14 * DAY),
            refresh_token_ttl: Duration::from_secs(365 * DAY),
            session_ttl: Duration::from_secs(14 * DAY),
            permanent_session_ttl: Duration::from_secs(28 * DAY),
            permanent_cookie_max_age: Duration::from_secs(20 * YEAR),
            lookup_cache_ttl: Duration::from_secs(30),
            basic_cache_ttl: Duration::from_secs(120),
            cache_capacity: 50_000,
            throttle: ThrottleLimits::default(),
            trusted_proxies: loopback_nets(),
            require_secure_jwt: true,
            require_secure_api_keys: true,
            enable_basic: true,
        }
    }
}

/// A new opaque user id: 24 lowercase hex digits, like the billing store's other ids.
pub fn new_user_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex(&b)
}

/// A new API key: `ak-` and 32 characters from `[A-Za-z0-9]`.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_alphanumeric(32))
}

/// How an API key is stored: the lowercase hex SHA-256 of the whole key.
pub fn api_key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn set_cookie(name: &str, value: String, max_age: Option<Duration>) -> SetCookie {
    SetCookie {
        name: name.to_string(),
        value,
        max_age: max_age.map(secs),
        http_only: true,
    }
}

fn delete_cookie(name: &str) -> SetCookie {
    SetCookie {
        name: name.to_string(),
        value: String::new(),
        max_age: Some(0),
        http_only: true,
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("Invalid Username or Password")
}

fn invalid_refresh_token() -> ApiError {
    ApiError::validation(
        "RefreshToken",
        "ArgumentException",
        "RefreshToken is Invalid",
    )
}

fn token_error(e: JwtError) -> ApiError {
    let message = if e == JwtError::Expired {
        "Token has expired"
    } else {
        "Invalid token"
    };
    ApiError::new(401, "TokenException", message)
}

fn too_many_attempts(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::new(
        429,
        "TooManyRequests",
        "Too many failed login attempts, try again later",
    )
    .with_reason("Too Many Requests")
    .with_header("Retry-After", secs.max(1).to_string())
}

fn not_empty(field: &str, label: &str) -> crate::error::FieldError {
    crate::error::FieldError {
        error_code: "NotEmpty".to_string(),
        field_name: field.to_string(),
        message: format!("'{label}' must not be empty."),
    }
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

/// Runs store work on a blocking thread; a store failure becomes a logged 500.
async fn blocking<R, F>(f: F) -> Result<R, ApiError>
where
    R: Send + 'static,
    F: FnOnce() -> Result<R, AuthStoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(ApiError::internal(e)),
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn session_of(user: &AuthUser, session_id: Option<String>, provider: &str) -> Session {
    Session {
        user_id: user.id.clone(),
        user_name: user.user_name.clone(),
        display_name: user.display_name.clone(),
        roles: user.roles.clone(),
        permissions: user.permissions.clone(),
        session_id,
        auth_provider: provider.to_string(),
    }
}

/// Whether the path addresses `Authenticate` or `GetAccessToken`. Stale credentials on these
/// requests are ignored instead of refused: a client refreshing or signing in again typically
/// still sends its old, expired bearer token.
fn is_auth_endpoint(path: &str) -> bool {
    let p = path.trim_end_matches('/').to_ascii_lowercase();
    if p == "/auth"
        || p.starts_with("/auth/")
        || p.starts_with("/auth.")
        || p.starts_with("/access-token")
    {
        return true;
    }
    let last = p.rsplit('/').next().unwrap_or("");
    let last = last.split(['.', '[', '%']).next().unwrap_or(last);
    matches!(last, "authenticate" | "getaccesstoken")
}

/// Seconds since the Unix epoch (a clock before 1970 counts as 0).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What the Basic cache says about a set of credentials.
enum BasicLookup {
    /// Not valid base64 of `user:password`; the header is ignored.
    Undecodable,
    /// Answered by the cache.
    Done(Result<Arc<Session>, ApiError>),
    /// An API key sent as the user name, by its hash.
    ApiKey(String),
    /// Not cached, or due for its refresh.
    Verify(BasicVerify),
}

/// Basic credentials to verify, with their cache key and entry (when refreshing one).
struct BasicVerify {
    user: String,
    password: String,
    key: [u8; 32],
    cached: Option<(Arc<Session>, Duration)>,
}

/// A JWT whose signature and claims were checked; expiry and revocation are checked on each use.
struct VerifiedToken {
    token: String,
    exp: i64,
    rid: Option<String>,
    session: Arc<Session>,
}

struct Inner {
    store: Arc<dyn AuthStore>,
    config: AuthConfig,
    key: JwtKey,
    /// Session id → the session, or `None` for an id the store does not know.
    sessions: TtlCache<String, Option<Arc<Session>>>,
    /// JWT signature → the verified token.
    tokens: TtlCache<String, Arc<VerifiedToken>, RandomKeys>,
    /// Refresh grant id → whether it is still live. The ids come from verified tokens only.
    grants: TtlCache<String, bool, RandomKeys>,
    /// API key hash → the owner's session, or `None` for an unknown or revoked key.
    api_keys: TtlCache<String, Option<Arc<Session>>>,
    /// Keyed hash of Basic credentials → the session they proved.
    basic: TtlCache<[u8; 32], Arc<Session>, RandomKeys>,
    /// Basic checks under way, so concurrent requests with the same credentials share one.
    basic_flights: SingleFlight<[u8; 32], Result<Arc<Session>, ApiError>>,
    keyer: CredentialKeyer,
    throttle: Throttle,
}

/// ServiceStack-compatible authentication: the [`Authenticator`] for the pipeline and the auth
/// operations (see [`AuthFeature::register`]). Cheap to clone.
#[derive(Clone)]
pub struct AuthFeature {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AuthFeature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFeature")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl AuthFeature {
    /// Loads (or, on the first start, generates and stores) the JWT signing key and builds the
    /// feature. The store is used on a blocking thread.
    ///
    /// # Errors
    /// 500 when the store fails or holds a key that is not valid base64.
    pub async fn new(store: Arc<dyn AuthStore>, config: AuthConfig) -> Result<Self, ApiError> {
        let s = store.clone();
        let text = blocking(move || {
            let (_, candidate) = JwtKey::generate();
            s.get_or_create_signing_key(&candidate)
        })
        .await?;
        let key = JwtKey::from_base64(&text)
            .ok_or_else(|| ApiError::internal("the stored JWT signing key is invalid"))?;
        Ok(Self::with_key(store, config, key))
    }

    /// [`AuthFeature::new`] for threads that may block (CLI, tests, start-up before the
    /// runtime). Must not be called on an async worker.
    ///
    /// # Errors
    /// As [`AuthFeature::new`].
    pub fn new_blocking(store: Arc<dyn AuthStore>, config: AuthConfig) -> Result<Self, ApiError> {
        let (_, candidate) = JwtKey::generate();
        let text = store
            .get_or_create_signing_key(&candidate)
            .map_err(ApiError::internal)?;
        let key = JwtKey::from_base64(&text)
            .ok_or_else(|| ApiError::internal("the stored JWT signing key is invalid"))?;
        Ok(Self::with_key(store, config, key))
    }

    /// A feature with a given signing key (tests).
    pub fn with_key(store: Arc<dyn AuthStore>, config: AuthConfig, key: JwtKey) -> Self {
        let ttl = config.lookup_cache_ttl;
        let cap = config.cache_capacity;
        AuthFeature {
            inner: Arc::new(Inner {
                store,
                key,
                sessions: TtlCache::new(ttl, cap),
                tokens: TtlCache::new(ttl, cap),
                grants: TtlCache::new(ttl, cap),
                api_keys: TtlCache::new(ttl, cap),
                basic: TtlCache::new(config.basic_cache_ttl, cap),
                basic_flights: SingleFlight::default(),
                keyer: CredentialKeyer::new(),
                throttle: Throttle::new(config.throttle),
                config,
            }),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    /// The JWT signing key (tests mint tokens with it).
    pub fn jwt_key(&self) -> &JwtKey {
        &self.inner.key
    }

    /// Adds `Authenticate`, `GetAccessToken`, `AssignRoles`, `UnAssignRoles`, `CreateApiKey` and
    /// `RevokeApiKey` to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let me = self.inner.clone();
        registry.add(move |req: Authenticate, ctx: RequestContext| {
            let me = me.clone();
            async move { me.authenticate_op(req, ctx).await }
        });
        let me = self.inner.clone();
        registry.add(move |req: GetAccessToken, ctx: RequestContext| {
            let me = me.clone();
            async move { me.get_access_token(req, ctx).await }
        });
        let me = self.inner.clone();
        registry.add(move |req: AssignRoles, ctx: RequestContext| {
            let me = me.clone();
            async move {
                let (all_roles, all_permissions) = me
                    .change_roles(req.user_name, req.roles, req.permissions, true, &ctx)
                    .await?;
                Ok(AssignRolesResponse {
                    all_roles,
                    all_permissions,
                    ..Default::default()
                })
            }
        });
        let me = self.inner.clone();
        registry.add(move |req: UnAssignRoles, ctx: RequestContext| {
            let me = me.clone();
            async move {
                let (all_roles, all_permissions) = me
                    .change_roles(req.user_name, req.roles, req.permissions, false, &ctx)
                    .await?;
                Ok(UnAssignRolesResponse {
                    all_roles,
                    all_permissions,
                    ..Default::default()
                })
            }
        });
        let me = self.inner.clone();
        registry.add(move |req: CreateApiKey, ctx: RequestContext| {
            let me = me.clone();
            async move { me.create_api_key(req, ctx).await }
        });
        let me = self.inner.clone();
        registry.add(move |req: RevokeApiKey, ctx: RequestContext| {
            let me = me.clone();
            async move { me.revoke_api_key(req, ctx).await }
        });
    }

    /// On the first start (no users at all), creates the administrator: `user` (default
    /// `admin`) with roles `Admin` and `SystemAdministrator`. Returns the password when it was
    /// generated here (no `password` given), so the caller can show it once; `None` when a
    /// password was given or users already exist.
    ///
    /// # Errors
    /// 500 when the store or hashing fails.
    pub async fn seed_admin(
        &self,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<Option<String>, ApiError> {
        let store = self.inner.store.clone();
        if blocking(move || store.count_users()).await? > 0 {
            return Ok(None);
        }
        let user_name = non_blank(user).unwrap_or_else(|| "admin".to_string());
        let (password, generated) = match non_blank(password) {
            Some(p) => (p, false),
            None => (random_alphanumeric(24), true),
        };
        let password_hash = passwords::hash_password(password.clone()).await?;
        let new = NewAuthUser {
            id: new_user_id(),
            user_name: user_name.trim().to_string(),
            display_name: None,
            email: None,
            password_hash,
            roles: vec![
                crate::context::ADMIN_ROLE.to_string(),
                "SystemAdministrator".to_string(),
            ],
            permissions: Vec::new(),
        };
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || store.create_user(&new)).await {
            Ok(Ok(())) => {
                tracing::info!(user = %user_name, "created the first administrator");
                Ok(generated.then_some(password))
            }
            // Another process seeded it first.
            Ok(Err(AuthStoreError::Conflict(_))) => Ok(None),
            Ok(Err(e)) => Err(ApiError::internal(e)),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

impl Authenticator for AuthFeature {
    fn authenticate<'a>(
        &'a self,
        req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Option<Arc<Session>>, ApiError>> {
        Box::pin(async move {
            match self.inner.identify(req).await {
                Err(e) if e.status() != 500 && is_auth_endpoint(req.path()) => {
                    tracing::debug!(
                        code = e.error_code(),
                        "ignoring stale credentials on an auth endpoint"
                    );
                    Ok(None)
                }
                other => other,
            }
        })
    }

    fn may_identify(&self, req: &HttpRequest) -> bool {
        // Every credential `identify` reads travels in `Authorization`, `Cookie` or an `X-ss-*`
        // header (names are stored lower case); one pass over the names rules them all out.
        req.headers().keys().any(|k| {
            k == actix_web::http::header::AUTHORIZATION
                || k == actix_web::http::header::COOKIE
                || k.as_str().starts_with("x-ss-")
        })
    }

    fn challenges(&self) -> Vec<String> {
        let mut c = vec![r#"credentials realm="/auth/credentials""#.to_string()];
        if self.inner.config.enable_basic {
            c.push(r#"Basic realm="/auth/basic""#.to_string());
        }
        c
    }
}

impl Inner {
    fn secure(&self, req: &HttpRequest) -> bool {
        !self.config.require_secure_jwt || request_is_secure(req, &self.config.trusted_proxies)
    }

    /// The session of the API key hashed to `hash`, if the connection may carry a key.
    async fn api_key_over(
        &self,
        req: &HttpRequest,
        hash: String,
    ) -> Result<Arc<Session>, ApiError> {
        if self.config.require_secure_api_keys
            && !request_is_secure(req, &self.config.trusted_proxies)
        {
            return Err(ApiError::forbidden(API_KEY_INSECURE));
        }
        self.api_key_session(hash).await
    }

    /// Who sent `req`, from the first credential it carries (see the module documentation).
    ///
    /// Every credential is first looked up in the caches, synchronously; only a miss awaits the
    /// store or argon2, in a future of its own that is boxed. That keeps this future small, so
    /// the box the pipeline allocates for it comes from the allocator's fast path.
    async fn identify(&self, req: &HttpRequest) -> Result<Option<Arc<Session>>, ApiError> {
        let raw = authorization_bytes(req);
        // A bearer token verified recently is found by its signature and compared in full,
        // which spares checking all of it to be text of the right shape. (It is a JWT, so
        // the branch below would have taken it too.)
        let at = Instant::now();
        if let Some(RawAuthorization::Bearer(bytes)) = raw
            && let Some(known) = self.known_token_bytes(bytes, at)
        {
            if !self.secure(req) {
                return Err(ApiError::forbidden(JWT_INSECURE));
            }
            return self.jwt_live(known, unix_now(), at).await.map(Some);
        }
        let auth = raw.and_then(RawAuthorization::text);
        if let Some(Authorization::Bearer(token)) = auth {
            if token.starts_with(API_KEY_PREFIX) {
                return self.api_key_over(req, api_key_hash(token)).await.map(Some);
            }
            if looks_like_jwt(token) {
                if !self.secure(req) {
                    return Err(ApiError::forbidden(JWT_INSECURE));
                }
                return self.jwt_session(token).await.map(Some);
            }
            // Other bearer values are not ours to judge; ServiceStack ignores them too.
        }
        // A bad `ss-tok` cookie is reported only if no session cookie identifies the caller:
        // browsers keep sending a stale cookie alongside a perfectly good session.
        let mut cookie_error = None;
        let jar = AuthCookies::from_request(req);
        if let Some(token) = jar.ss_tok.filter(|t| looks_like_jwt(t)) {
            // Over an insecure connection the cookie is not used (and was never issued there).
            if self.secure(req) {
                match self.jwt_session(token).await {
                    Ok(s) => return Ok(Some(s)),
                    Err(e) => cookie_error = Some(e),
                }
            }
        }
        if let (Some(Authorization::Basic(encoded)), true) = (auth, self.config.enable_basic) {
            match self.basic_cached(encoded) {
                BasicLookup::Undecodable => {}
                BasicLookup::Done(r) => return r.map(Some),
                BasicLookup::ApiKey(hash) => return self.api_key_over(req, hash).await.map(Some),
                BasicLookup::Verify(v) => {
                    return Box::pin(self.basic_verify(req, v)).await.map(Some);
                }
            }
        }
        if let Some(id) = cookies::session_id_in(req, &jar)
            && let Some(s) = self.stored_session(id).await?
        {
            return Ok(Some(s));
        }
        match cookie_error {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// The token as verified recently, if it was: a token seen before skips the JSON parsing
    /// and the HMAC. It is found by its signature and must then match in full.
    fn known_token(&self, token: &str, at: Instant) -> Option<Arc<VerifiedToken>> {
        let sig = token.rsplit('.').next().unwrap_or_default();
        // Plain equality is enough here: a hit needs the right signature, which is the secret
        // part; the rest of the token is not secret.
        self.tokens.get_at(sig, at).filter(|c| c.token == token)
    }

    /// [`Inner::known_token`] for a token not yet checked to be text.
    fn known_token_bytes(&self, token: &[u8], at: Instant) -> Option<Arc<VerifiedToken>> {
        let dot = token.iter().rposition(|b| *b == b'.')?;
        let sig = std::str::from_utf8(&token[dot + 1..]).ok()?;
        self.tokens
            .get_at(sig, at)
            .filter(|c| c.token.as_bytes() == token)
    }

    /// Checks a token the cache does not know (no store involved) and remembers it.
    fn verify_token(&self, token: &str, now: i64) -> Result<Arc<VerifiedToken>, ApiError> {
        let sig = token.rsplit('.').next().unwrap_or_default();
        let claims = self
            .key
            .decode(token, TokenKind::Access, Some(now))
            .map_err(token_error)?;
        let v = Arc::new(VerifiedToken {
            token: token.to_string(),
            exp: claims.exp,
            rid: claims.rid,
            session: Arc::new(Session {
                user_id: claims.sub,
                user_name: claims.preferred_username.unwrap_or_default(),
                display_name: claims.name,
                roles: claims.roles,
                permissions: claims.perms,
                session_id: None,
                auth_provider: "jwt".to_string(),
            }),
        });
        self.tokens.insert(sig.to_string(), v.clone());
        Ok(v)
    }

    /// The caller a JWT names.
    async fn jwt_session(&self, token: &str) -> Result<Arc<Session>, ApiError> {
        let now = unix_now();
        let at = Instant::now();
        let verified = match self.known_token(token, at) {
            Some(v) => v,
            None => self.verify_token(token, now)?,
        };
        self.jwt_live(verified, now, at).await
    }

    /// The caller a verified token names, unless it has expired or its grant was revoked:
    /// checked on every use, cached or not (`now` in Unix seconds, `at` for the caches).
    async fn jwt_live(
        &self,
        verified: Arc<VerifiedToken>,
        now: i64,
        at: Instant,
    ) -> Result<Arc<Session>, ApiError> {
        if verified.exp <= now {
            return Err(token_error(JwtError::Expired));
        }
        let alive = match &verified.rid {
            None => true,
            Some(rid) => match self.grants.get_at(rid.as_str(), at) {
                Some(alive) => alive,
                None => Box::pin(self.grant_alive(rid)).await?,
            },
        };
        if !alive {
            return Err(token_error(JwtError::BadSignature));
        }
        Ok(verified.session.clone())
    }

    /// Whether refresh grant `rid` is live, from the store (the cache was asked first).
    async fn grant_alive(&self, rid: &str) -> Result<bool, ApiError> {
        let store = self.store.clone();
        let id = rid.to_string();
        let alive = blocking(move || {
            Ok(store
                .get_refresh_token(&id)?
                .is_some_and(|t| t.revoked_at.is_none() && t.expires_at > Utc::now()))
        })
        .await?;
        self.grants.insert(rid.to_string(), alive);
        Ok(alive)
    }

    /// The owner of the API key with this hash ([`api_key_hash`]).
    async fn api_key_session(&self, hash: String) -> Result<Arc<Session>, ApiError> {
        let cached = match self.api_keys.get(&hash) {
            Some(s) => s,
            None => Box::pin(self.api_key_lookup(hash)).await?,
        };
        cached.ok_or_else(|| ApiError::unauthorized("Invalid API Key"))
    }

    async fn api_key_lookup(&self, hash: String) -> Result<Option<Arc<Session>>, ApiError> {
        let store = self.store.clone();
        let h = hash.clone();
        let found = blocking(move || {
            let now = Utc::now();
            let Some(k) = store.find_api_key(&h)? else {
                return Ok(None);
            };
            if k.revoked_at.is_some() || k.expires_at.is_some_and(|e| e <= now) {
                return Ok(None);
            }
            Ok(store
                .get_user(&k.user_id)?
                .map(|u| Arc::new(session_of(&u, None, "apikey"))))
        })
        .await?;
        self.api_keys.insert(hash, found.clone());
        Ok(found)
    }

    /// Basic credentials against the cache. The decoded password lives in a stack buffer that
    /// is gone when this returns; it is copied out only when it has to be verified.
    fn basic_cached(&self, encoded: &str) -> BasicLookup {
        let mut buf = BasicBuf::default();
        let Some((user, password)) = buf.decode(encoded) else {
            return BasicLookup::Undecodable;
        };
        if user.starts_with(API_KEY_PREFIX) && password.is_empty() {
            return BasicLookup::ApiKey(api_key_hash(user));
        }
        let key = self.keyer.key(user, password);
        let cached = self.basic.get_with_age_at(&key, Instant::now());
        if let Some((s, age)) = &cached {
            // In the last quarter of its life an entry is re-verified by one request while the
            // others keep using it, so under steady load it never lapses (a lapse made every
            // concurrent request wait for a verification of its own).
            let refresh_after = self.basic.ttl() - self.basic.ttl() / 4;
            if *age < refresh_after || self.basic_flights.running(&key) {
                return BasicLookup::Done(Ok(s.clone()));
            }
        }
        BasicLookup::Verify(BasicVerify {
            user: user.to_string(),
            password: password.to_string(),
            key,
            cached,
        })
    }

    /// Verifies Basic credentials the cache could not vouch for; concurrent requests with the
    /// same credentials share one verification.
    async fn basic_verify(
        &self,
        req: &HttpRequest,
        v: BasicVerify,
    ) -> Result<Arc<Session>, ApiError> {
        let BasicVerify {
            user,
            password,
            key,
            cached,
        } = v;
        let outcome = self
            .basic_flights
            .run(key, || async {
                // A flight that ended just before this one began may have refreshed the entry.
                if let Some((s, age)) = self.basic.get_with_age_at(&key, Instant::now())
                    && cached.as_ref().is_none_or(|(_, old)| age < *old)
                {
                    return Ok(s);
                }
                let found = self.check_password(req, &user, password).await?;
                let s = Arc::new(session_of(&found, None, "basic"));
                self.basic.insert(key, s.clone());
                Ok(s)
            })
            .await;
        match (outcome, cached) {
            (Ok(s), _) => Ok(s),
            // A refresh that could not run (throttled, store down) leaves the entry as it was:
            // it is still within its lifetime. A wrong password ends it.
            (Err(e), Some((s, _))) if e.status() != 401 => Ok(s),
            (Err(e), _) => {
                self.basic.remove(&key);
                Err(e)
            }
        }
    }

    /// Throttle, look the user up and verify the password (the dummy hash for unknown names,
    /// so both cost the same).
    async fn check_password(
        &self,
        req: &HttpRequest,
        user_name: &str,
        password: String,
    ) -> Result<AuthUser, ApiError> {
        let addr = request_client_ip(req, &self.config.trusted_proxies);
        if let Err(wait) = self.throttle.check(user_name, addr, Instant::now()) {
            tracing::warn!(client = ?addr, "login refused: too many failures");
            return Err(too_many_attempts(wait));
        }
        let store = self.store.clone();
        let name = user_name.trim().to_string();
        let found = blocking(move || store.find_user_by_name(&name)).await?;
        let hash = found.as_ref().map(|u| u.password_hash.clone());
        let ok = passwords::verify_password(password, hash).await?;
        match found {
            Some(u) if ok => {
                self.throttle.record_success(user_name);
                Ok(u)
            }
            _ => {
                self.throttle
                    .record_failure(user_name, addr, Instant::now());
                tracing::info!(client = ?addr, "failed login");
                Err(invalid_credentials())
            }
        }
    }

    async fn stored_session(&self, id: &str) -> Result<Option<Arc<Session>>, ApiError> {
        match self.sessions.get(id) {
            Some(s) => Ok(s),
            None => Box::pin(self.session_lookup(id)).await,
        }
    }

    async fn session_lookup(&self, id: &str) -> Result<Option<Arc<Session>>, ApiError> {
        let store = self.store.clone();
        let sid = id.to_string();
        let found = blocking(move || {
            let Some(s) = store.get_session(&sid)? else {
                return Ok(None);
            };
            if s.expires_at <= Utc::now() {
                return Ok(None);
            }
            Ok(store
                .get_user(&s.user_id)?
                .map(|u| Arc::new(session_of(&u, Some(sid), "credentials"))))
        })
        .await?;
        self.sessions.insert(id.to_string(), found.clone());
        Ok(found)
    }

    fn access_token(&self, user: &AuthUser, rid: &str, now: DateTime<Utc>) -> String {
        let claims = Claims {
            iss: ISSUER.to_string(),
            sub: user.id.clone(),
            iat: now.timestamp(),
            exp: later(now, self.config.access_token_ttl).timestamp(),
            name: Some(
                user.display_name
                    .clone()
                    .unwrap_or_else(|| user.user_name.clone()),
            ),
            preferred_username: Some(user.user_name.clone()),
            roles: user.roles.clone(),
            perms: user.permissions.clone(),
            rid: Some(rid.to_string()),
        };
        self.key.encode(TokenKind::Access, &claims)
    }

    async fn authenticate_op(
        &self,
        req: Authenticate,
        ctx: RequestContext,
    ) -> Result<AuthenticateResponse, ApiError> {
        let provider = req
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let lower = provider.as_deref().map(str::to_ascii_lowercase);
        let has_user = req
            .user_name
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty());
        match lower.as_deref() {
            Some("logout") => self.logout(&ctx).await,
            None if !has_user => self.session_info(&ctx),
            None | Some("credentials" | "login" | "basic") => {
                if ctx.http_request().method() == Method::GET {
                    return Err(ApiError::new(
                        405,
                        "NotSupportedException",
                        "GET Authenticate requests are disabled, to enable set AuthFeature.AllowGetAuthenticateRequests = req => true",
                    ));
                }
                let basic = lower.as_deref() == Some("basic");
                self.login(req, &ctx, basic).await
            }
            Some(_) => Err(ApiError::not_found(format!(
                "No configuration was added for OAuth provider '{}'",
                provider.unwrap_or_default()
            ))),
        }
    }

    fn session_info(&self, ctx: &RequestContext) -> Result<AuthenticateResponse, ApiError> {
        let s = ctx.session().ok_or_else(ApiError::not_authenticated)?;
        Ok(AuthenticateResponse {
            user_id: Some(s.user_id.clone()),
            session_id: s.session_id.clone(),
            user_name: Some(s.user_name.clone()),
            display_name: Some(
                s.display_name
                    .clone()
                    .unwrap_or_else(|| s.user_name.clone()),
            ),
            roles: Some(s.roles.clone()),
            permissions: Some(s.permissions.clone()),
            auth_provider: Some(s.auth_provider.clone()),
            ..Default::default()
        })
    }

    async fn login(
        &self,
        req: Authenticate,
        ctx: &RequestContext,
        basic: bool,
    ) -> Result<AuthenticateResponse, ApiError> {
        let http = ctx.http_request();
        let from_header = match (basic, authorization(http)) {
            (true, Some(Authorization::Basic(enc))) => decode_basic(enc),
            _ => None,
        };
        let (user_name, password) = match from_header {
            Some((u, p)) if req.user_name.is_none() => (Some(u), Some(p)),
            _ => (
                non_blank(req.user_name),
                req.password.filter(|p| !p.is_empty()),
            ),
        };
        let (user_name, password) = match (user_name, password) {
            (Some(u), Some(p)) => (u, p),
            (u, p) => {
                let mut errors = Vec::new();
                if u.is_none() {
                    errors.push(not_empty("UserName", "User Name"));
                }
                if p.is_none() {
                    errors.push(not_empty("Password", "Password"));
                }
                // decisions.md 17: the top-level code and message are the first field's.
                return Err(ApiError::validation_errors(errors));
            }
        };
        let user = self.check_password(http, &user_name, password).await?;

        let remember = req.remember_me.unwrap_or(false);
        let now = Utc::now();
        // Fresh ids on every login: an id known before signing in is never promoted.
        let ss_id = new_session_id();
        let ss_pid = new_session_id();
        let active = if remember {
            ss_pid.clone()
        } else {
            ss_id.clone()
        };
        let ttl = if remember {
            self.config.permanent_session_ttl
        } else {
            self.config.session_ttl
        };
        let stored = StoredSession {
            id: active.clone(),
            user_id: user.id.clone(),
            permanent: remember,
            created_at: now,
            expires_at: later(now, ttl),
        };
        let grant = self.secure(http).then(|| StoredRefreshToken {
            id: random_alphanumeric(24),
            user_id: user.id.clone(),
            session_id: Some(active.clone()),
            created_at: now,
            expires_at: later(now, self.config.refresh_token_ttl),
            revoked_at: None,
        });
        let old_ids = all_session_ids(http);
        let store = self.store.clone();
        let g = grant.clone();
        let olds = old_ids.clone();
        let revoked = blocking(move || {
            store.create_session(&stored)?;
            if let Some(g) = &g {
                store.create_refresh_token(g)?;
            }
            // The session this browser had before is over.
            let mut revoked = Vec::new();
            for old in &olds {
                revoked.extend(store.revoke_refresh_tokens_for_session(old)?);
                store.delete_session(old)?;
            }
            Ok(revoked)
        })
        .await?;
        for old in old_ids {
            self.sessions.insert(old, None);
        }
        for rid in revoked {
            self.grants.insert(rid, false);
        }
        let provider = if basic { "basic" } else { "credentials" };
        self.sessions.insert(
            active.clone(),
            Some(Arc::new(session_of(&user, Some(active.clone()), provider))),
        );

        let forever = Some(self.config.permanent_cookie_max_age);
        ctx.set_cookie(set_cookie(SS_ID, ss_id, None));
        ctx.set_cookie(set_cookie(SS_PID, ss_pid, forever));
        ctx.set_cookie(set_cookie(
            SS_OPT,
            if remember { "perm" } else { "temp" }.to_string(),
            forever,
        ));

        let mut resp = AuthenticateResponse {
            user_id: Some(user.id.clone()),
            session_id: Some(active),
            user_name: Some(user.user_name.clone()),
            display_name: Some(
                user.display_name
                    .clone()
                    .unwrap_or_else(|| user.user_name.clone()),
            ),
            roles: Some(user.roles.clone()),
            permissions: Some(user.permissions.clone()),
            auth_provider: Some(provider.to_string()),
            ..Default::default()
        };
        if let Some(g) = grant {
            let access = self.access_token(&user, &g.id, now);
            let refresh = self.key.encode(
                TokenKind::Refresh,
                &Claims {
                    iss: ISSUER.to_string(),
                    sub: user.id.clone(),
                    iat: now.timestamp(),
                    exp: g.expires_at.timestamp(),
                    rid: Some(g.id.clone()),
                    ..Default::default()
                },
            );
            self.grants.insert(g.id.clone(), true);
            ctx.set_cookie(set_cookie(
                SS_TOK,
                access.clone(),
                Some(self.config.access_token_ttl),
            ));
            ctx.set_cookie(set_cookie(
                SS_REFTOK,
                refresh.clone(),
                Some(self.config.refresh_token_ttl),
            ));
            ctx.add_header("X-Cookies", "ss-tok,ss-reftok");
            resp.bearer_token = Some(access);
            resp.refresh_token = Some(refresh);
            resp.refresh_token_expiry = Some(g.expires_at);
        }
        Ok(resp)
    }

    async fn logout(&self, ctx: &RequestContext) -> Result<AuthenticateResponse, ApiError> {
        let http = ctx.http_request();
        let mut session_ids = all_session_ids(http);
        if let Some(id) = ctx.session().and_then(|s| s.session_id.clone())
            && !session_ids.contains(&id)
        {
            session_ids.push(id);
        }
        // Tokens are read without the expiry check: an expired access token still names the
        // grant to revoke. The signature is checked, so nobody revokes someone else's grant.
        let mut grant_ids: Vec<String> = Vec::new();
        let bearer = match authorization(http) {
            Some(Authorization::Bearer(t)) if looks_like_jwt(t) => Some(t),
            Some(Authorization::Basic(enc)) => {
                if let Some((u, p)) = decode_basic(enc) {
                    self.basic.remove(&self.keyer.key(&u, &p));
                }
                None
            }
            _ => None,
        };
        for t in [bearer, cookie(http, SS_TOK)].into_iter().flatten() {
            if let Some(rid) = self
                .key
                .decode(t, TokenKind::Access, None)
                .ok()
                .and_then(|c| c.rid)
            {
                grant_ids.push(rid);
            }
        }
        if let Some(t) = cookie(http, SS_REFTOK)
            && let Some(rid) = self
                .key
                .decode(t, TokenKind::Refresh, None)
                .ok()
                .and_then(|c| c.rid)
        {
            grant_ids.push(rid);
        }
        let store = self.store.clone();
        let (ended, revoked) = blocking(move || {
            let mut sessions = session_ids;
            let mut revoked = Vec::new();
            for rid in grant_ids {
                if let Some(t) = store.get_refresh_token(&rid)? {
                    if let Some(sid) = t.session_id
                        && !sessions.contains(&sid)
                    {
                        sessions.push(sid);
                    }
                    store.revoke_refresh_token(&rid)?;
                    revoked.push(rid);
                }
            }
            for sid in &sessions {
                revoked.extend(store.revoke_refresh_tokens_for_session(sid)?);
                store.delete_session(sid)?;
            }
            Ok((sessions, revoked))
        })
        .await?;
        for sid in ended {
            self.sessions.insert(sid, None);
        }
        for rid in revoked {
            self.grants.insert(rid, false);
        }
        for name in [SS_ID, SS_PID, SS_TOK, SS_REFTOK] {
            ctx.set_cookie(delete_cookie(name));
        }
        Ok(AuthenticateResponse::default())
    }

    async fn get_access_token(
        &self,
        req: GetAccessToken,
        ctx: RequestContext,
    ) -> Result<GetAccessTokenResponse, ApiError> {
        let http = ctx.http_request();
        let token =
            non_blank(req.refresh_token).or_else(|| cookie(http, SS_REFTOK).map(str::to_string));
        let Some(token) = token else {
            return Err(invalid_refresh_token());
        };
        if !self.secure(http) {
            return Err(ApiError::forbidden(JWT_INSECURE));
        }
        let now = Utc::now();
        let claims = self
            .key
            .decode(&token, TokenKind::Refresh, Some(now.timestamp()))
            .map_err(|_| invalid_refresh_token())?;
        let rid = claims.rid.ok_or_else(invalid_refresh_token)?;
        let store = self.store.clone();
        let (id, sub) = (rid.clone(), claims.sub);
        let user = blocking(move || {
            let Some(t) = store.get_refresh_token(&id)? else {
                return Ok(None);
            };
            if t.revoked_at.is_some() || t.expires_at <= Utc::now() || t.user_id != sub {
                return Ok(None);
            }
            // Roles come from the store, so a refresh picks up role changes.
            store.get_user(&sub)
        })
        .await?;
        let Some(user) = user else {
            self.grants.insert(rid, false);
            return Err(invalid_refresh_token());
        };
        let access = self.access_token(&user, &rid, now);
        self.grants.insert(rid, true);
        ctx.set_cookie(set_cookie(
            SS_TOK,
            access.clone(),
            Some(self.config.access_token_ttl),
        ));
        Ok(GetAccessTokenResponse {
            access_token: Some(access),
            ..Default::default()
        })
    }

    async fn change_roles(
        &self,
        user_name: Option<String>,
        roles: Vec<String>,
        permissions: Vec<String>,
        assign: bool,
        ctx: &RequestContext,
    ) -> Result<(Vec<String>, Vec<String>), ApiError> {
        // Checked here rather than declared, so the answers are ServiceStack's JSON 401/403.
        let session = ctx.session().ok_or_else(ApiError::not_authenticated)?;
        if !session.is_admin() {
            return Err(ApiError::invalid_role());
        }
        let user_name = non_blank(user_name).ok_or_else(|| {
            ApiError::validation(
                "UserName",
                "ArgumentNullException",
                "Value cannot be null. (Parameter 'UserName')",
            )
        })?;
        let clean = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (roles, permissions) = (clean(roles), clean(permissions));
        let store = self.store.clone();
        let user = blocking(move || {
            let Some(u) = store.find_user_by_name(user_name.trim())? else {
                return Ok(None);
            };
            if assign {
                store.assign_roles(&u.id, &roles, &permissions)?;
            } else {
                store.unassign_roles(&u.id, &roles, &permissions)?;
            }
            store.get_user(&u.id)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("User does not exist"))?;
        // Cached sessions carry roles; they must not outlive the change.
        self.sessions.clear();
        self.basic.clear();
        self.api_keys.clear();
        Ok((user.roles, user.permissions))
    }

    async fn create_api_key(
        &self,
        req: CreateApiKey,
        ctx: RequestContext,
    ) -> Result<CreateApiKeyResponse, ApiError> {
        let session = ctx.require_session()?;
        let key = new_api_key();
        let record = ApiKeyRecord::new(session.user_id.clone(), req.name);
        let store = self.store.clone();
        let (rec, hash) = (record.clone(), api_key_hash(&key));
        blocking(move || store.create_api_key(&rec, &hash)).await?;
        Ok(CreateApiKeyResponse {
            id: Some(record.id),
            key: Some(key),
            name: record.name,
            ..Default::default()
        })
    }

    async fn revoke_api_key(&self, req: RevokeApiKey, ctx: RequestContext) -> Result<(), ApiError> {
        let session = ctx.require_session()?;
        let id = non_blank(req.id)
            .ok_or_else(|| ApiError::validation("Id", "NotEmpty", "'Id' must not be empty."))?;
        let owner = (!session.is_admin()).then(|| session.user_id.clone());
        let store = self.store.clone();
        let revoked = blocking(move || store.revoke_api_key(id.trim(), owner.as_deref())).await?;
        if !revoked {
            return Err(ApiError::not_found("API key not found"));
        }
        // Only the hash is cached, not the id, so forget all keys.
        self.api_keys.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_endpoints_are_recognised() {
        for p in [
            "/auth",
            "/auth/",
            "/auth/credentials",
            "/auth/logout",
            "/access-token",
            "/api/Authenticate",
            "/json/reply/Authenticate",
            "/api/GetAccessToken",
            "/json/reply/getaccesstoken",
            "/api/Authenticate.json",
        ] {
            assert!(is_auth_endpoint(p), "{p}");
        }
        for p in [
            "/billing/usage",
            "/api/ListUsageRecords",
            "/authx",
            "/api/AssignRoles",
        ] {
            assert!(!is_auth_endpoint(p), "{p}");
        }
    }

    #[test]
    fn api_keys_have_the_documented_shape() {
        let k = new_api_key();
        assert_eq!(k.len(), 35);
        assert!(k.starts_with("ak-") && k[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(api_key_hash(&k).len(), 64);
        assert_ne!(api_key_hash(&k), api_key_hash(&new_api_key()));
        assert_eq!(new_user_id().len(), 24);
    }
}
