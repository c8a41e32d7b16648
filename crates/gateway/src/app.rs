//! The host as an actix application: a [`Gateway`] built once and mounted into an `App`.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use gateway::app::{Gateway, GatewayConfig};
//! # async fn run(registry: gateway::Registry) -> std::io::Result<()> {
//! let gw = Gateway::new(registry, GatewayConfig::default(), Arc::new(gateway::NoAuth));
//! actix_web::HttpServer::new(move || {
//!     let gw = gw.clone();
//!     actix_web::App::new().wrap(actix_web::middleware::Compress::default()).configure(move |c| gw.configure(c))
//! })
//! .bind(("127.0.0.1", 5000))?
//! .run()
//! .await
//! # }
//! ```

use std::rc::Rc;
use std::sync::Arc;

use actix_web::dev::{ServiceRequest, fn_service};
use actix_web::http::header::HeaderValue;
use actix_web::web;

use crate::bind::Limits;
use crate::context::Authenticator;
use crate::format::Formats;
use crate::meta::{Dto, TypeMap};
use crate::metadata::SiteInfo;
use crate::registry::Registry;
use crate::response::ErrorResponse;
use crate::router::{RouteMemo, Router};

/// The ServiceStack version the host reports; clients look for the `ServiceStack/` prefix.
pub const SERVICESTACK_VERSION: &str = "8.0";

/// How the host behaves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Service name, public URL and version shown by the metadata pages.
    pub site: SiteInfo,
    /// The largest request body accepted, after decompression (413 beyond it).
    pub max_body_bytes: usize,
    /// Bounds on what a body may contain.
    pub limits: Limits,
    /// Shows stack traces (panic messages) in error bodies.
    pub debug: bool,
    /// The `X-Powered-By` header.
    pub server_header: String,
    /// Leaves each operation's name in its response's extensions as
    /// [`OperationName`](crate::pipeline::OperationName), for an access log to read. Off by
    /// default: it costs two allocations per response that nothing reads without such a log.
    pub tag_operations: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            site: SiteInfo {
                service_name: "Evo Voice".to_string(),
                base_url: None,
                version: SERVICESTACK_VERSION.to_string(),
            },
            max_body_bytes: 1024 * 1024,
            limits: Limits::default(),
            debug: false,
            server_header: format!(
                "ServiceStack/{SERVICESTACK_VERSION} evogate/{}",
                env!("CARGO_PKG_VERSION")
            ),
            tag_operations: false,
        }
    }
}

pub(crate) struct Inner {
    pub registry: Registry,
    pub config: GatewayConfig,
    pub auth: Arc<dyn Authenticator>,
    pub formats: Formats,
    /// The registry's types plus ServiceStack's error types, which every writer may need.
    pub types: TypeMap,
    pub router: Router,
    /// `X-Powered-By`, built once from `config.server_header` (`None` if it is not a valid
    /// header value, in which case the header is left out).
    pub powered_by: Option<HeaderValue>,
}

/// A configured host: operations, configuration, authentication and formats.
///
/// Cheap to clone (one `Arc`); build it once and clone it into each actix worker.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("registry", &self.inner.registry)
            .field("config", &self.inner.config)
            .field("formats", &self.inner.formats)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A host serving `registry`, with the standard formats.
    pub fn new(registry: Registry, config: GatewayConfig, auth: Arc<dyn Authenticator>) -> Self {
        Self::with_formats(registry, config, auth, Formats::standard())
    }

    /// A host with a custom set of formats.
    pub fn with_formats(
        registry: Registry,
        config: GatewayConfig,
        auth: Arc<dyn Authenticator>,
        formats: Formats,
    ) -> Self {
        let mut types = registry.types().clone();
        types.add(ErrorResponse::type_info());
        let router = Router::new(&registry);
        let powered_by = HeaderValue::try_from(config.server_header.as_str()).ok();
        Gateway {
            inner: Arc::new(Inner {
                powered_by,
                registry,
                config,
                auth,
                formats,
                types,
                router,
            }),
        }
    }

    /// Mounts the host into an actix `App` (or scope): one default service that does all the
    /// routing, so it must be the last thing configured.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        // A plain service rather than `web::to`: the pipeline takes the request apart itself, so
        // no extractor runs and the gateway needs no lookup in the app data.
        let inner = self.inner.clone();
        // The factory runs once per worker: each worker remembers its own routing decisions.
        let memo = Rc::new(RouteMemo::default());
        cfg.default_service(fn_service(move |req: ServiceRequest| {
            crate::pipeline::serve(req, inner.clone(), memo.clone())
        }));
    }

    /// The operations served.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// The formats spoken.
    pub fn formats(&self) -> &Formats {
        &self.inner.formats
    }
}
