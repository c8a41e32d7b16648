//! The evogate server: configuration, wiring and serving, shared by `main` and the end-to-end
//! tests.
//!
//! [`Application::build`] opens the store, registers the billing operations and authentication
//! into one [`gateway::Registry`], binds the listener and returns an [`Application`] whose
//! [`Application::run_until_stopped`] serves until SIGINT or SIGTERM (graceful shutdown).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Compress;
use actix_web::{App, HttpServer};
use anyhow::Context;
use gateway::app::{Gateway, GatewayConfig};
use gateway::pipeline::OperationName;
use tracing::Instrument;

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen, `host:port`; port 0 picks a free port.
    pub addr: String,
    /// The SQLite database file.
    pub db: PathBuf,
    /// Shown on the metadata pages and in `/types` headers.
    pub service_name: String,
    /// The public base URL (`BaseUrl:` in `/types`); `None` means each request's own origin.
    pub public_url: Option<String>,
    /// Show stack traces in error bodies.
    pub debug: bool,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// The first administrator's user name, created when the store has no users.
    pub admin_user: Option<String>,
    /// The first administrator's password; generated and logged once when absent.
    pub admin_password: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: "127.0.0.1:5000".to_string(),
            db: PathBuf::from("./evogate.db"),
            service_name: "Evo Voice".to_string(),
            public_url: None,
            debug: false,
            max_body_bytes: 1024 * 1024,
            admin_user: None,
            admin_password: None,
        }
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the store, wires every operation and binds the listener.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated, or the address cannot be bound.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let gateway = build_gateway(&settings).await?;
        let listener = TcpListener::bind(&settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer::new(move || {
            let gw = gateway.clone();
            App::new()
                .wrap(Compress::default())
                .wrap_fn(log_request)
                .configure(move |c| gw.configure(c))
        })
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        tracing::info!(addr = %settings.addr, port, db = %settings.db.display(), "evogate listening");
        Ok(Application { port, server })
    }

    /// The port actually bound (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT or SIGTERM stop it gracefully).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await.context("server failed")
    }
}

/// The gateway: billing operations and authentication over one SQLite file.
async fn build_gateway(settings: &Settings) -> anyhow::Result<Gateway> {
    let db = settings.db.clone();
    let store = tokio::task::spawn_blocking(move || billing::store::SqliteStore::open(&db))
        .await
        .context("the store opener panicked")?
        .with_context(|| format!("cannot open the database {}", settings.db.display()))?;
    let store = Arc::new(store);
    let mut registry = gateway::Registry::new();
    let service = Arc::new(billing::BillingService::new(store.clone()));
    billing::register(&mut registry, service);
    let auth = build_auth(settings, store, &mut registry).await?;
    let config = GatewayConfig {
        site: gateway::metadata::SiteInfo {
            service_name: settings.service_name.clone(),
            base_url: settings.public_url.clone(),
            version: gateway::app::SERVICESTACK_VERSION.to_string(),
        },
        max_body_bytes: settings.max_body_bytes,
        debug: settings.debug,
        // The access log (`log_request`) reports the operation.
        tag_operations: true,
        ..GatewayConfig::default()
    };
    Ok(Gateway::new(registry, config, auth))
}

/// Authentication over the same store: sessions, JWT, Basic and API keys, plus ServiceStack's
/// auth operations. Seeds the first administrator on an empty store.
async fn build_auth(
    settings: &Settings,
    store: Arc<billing::SqliteStore>,
    registry: &mut gateway::Registry,
) -> anyhow::Result<Arc<dyn gateway::Authenticator>> {
    let feature = gateway::auth::AuthFeature::new(store, gateway::auth::AuthConfig::default())
        .await
        .context("cannot start authentication")?;
    feature.register(registry);
    let admin = settings
        .admin_user
        .clone()
        .unwrap_or_else(|| "admin".to_string());
    if let Some(password) = feature
        .seed_admin(Some(admin.clone()), settings.admin_password.clone())
        .await
        .context("cannot create the first administrator")?
    {
        // Shown once, on the first start only, so an operator can sign in at all.
        tracing::warn!(user = %admin, %password, "created the first administrator with a generated password");
    }
    Ok(Arc::new(feature))
}

/// Request ids: a per-process prefix and a counter, unless the client sent a usable one.
fn request_id(req: &actix_web::dev::ServiceRequest) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(id) = req
        .headers()
        .get("X-Request-Id")
        .and_then(|v| v.to_str().ok())
        && !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return id.to_string();
    }
    let prefix = PREFIX.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{:08x}", (nanos as u64) & 0xffff_ffff)
    });
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// One span per request (id, method, path, operation, status, latency) and `X-Request-Id` on
/// the response.
fn log_request<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>>
+ use<S, B>
where
    S: Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let id = request_id(&req);
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.path(),
        op = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let start = Instant::now();
    let fut = span.in_scope(|| srv.call(req));
    async move {
        let mut res = fut.instrument(span.clone()).await?;
        let status = res.status().as_u16();
        if let Some(op) = res.response().extensions().get::<OperationName>() {
            span.record("op", op.0);
        }
        span.record("status", status);
        span.record("latency_ms", start.elapsed().as_secs_f64() * 1000.0);
        span.in_scope(|| tracing::info!("served"));
        if let Ok(v) = HeaderValue::try_from(id) {
            res.headers_mut()
                .insert(HeaderName::from_static("x-request-id"), v);
        }
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn builds_serves_health_and_echoes_request_ids() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            addr: "127.0.0.1:0".into(),
            db: dir.path().join("t.db"),
            ..Settings::default()
        };
        let app = Application::build(settings).await.unwrap();
        let port = app.port();
        assert_ne!(port, 0);
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();
        let res = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .header("X-Request-Id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-request-id"], "abc-123");
        assert_eq!(res.text().await.unwrap(), r#"{"status":"ok"}"#);
        let res = client
            .get(format!("http://127.0.0.1:{port}/no/such"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert!(!res.headers()["x-request-id"].is_empty());
        // The billing operations are registered.
        let res = client
            .get(format!("http://127.0.0.1:{port}/api/ListUsageRecords"))
            .send()
            .await
            .unwrap();
        assert_ne!(res.status(), 404);
    }

    #[tokio::test]
    async fn the_seeded_administrator_can_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            addr: "127.0.0.1:0".into(),
            db: dir.path().join("t.db"),
            admin_user: Some("root".into()),
            admin_password: Some("correct horse".into()),
            ..Settings::default()
        };
        let app = Application::build(settings).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let res = client
            .get(format!("{base}/auth"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = client
            .post(format!("{base}/api/Authenticate"))
            .json(&serde_json::json!({"provider": "credentials", "userName": "root", "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let res = client
            .get(format!("{base}/auth"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["userName"], "root");
    }

    #[test]
    fn request_ids_reject_odd_client_values() {
        let req = actix_web::test::TestRequest::default()
            .insert_header(("X-Request-Id", "bad id;x"))
            .to_srv_request();
        let id = request_id(&req);
        assert_ne!(id, "bad id;x");
        let req = actix_web::test::TestRequest::default().to_srv_request();
        assert!(request_id(&req).contains('-'));
    }
}
