//! `bench-server`: the load-test target for `scripts/bench/*.sh`.
//!
//! `bench-server serve` runs ONE actix server (one worker by default) holding, side by side:
//!
//! - bare actix handlers, the baselines: `GET /bare/json` (`HttpResponse::Ok().json(..)`) and
//!   `GET /bare/jsv` (`jsv::to_string`, `text/jsv`), returning ten usage-record-shaped records;
//! - the gateway, wired like `crates/evogate/src/lib.rs` (billing operations and `AuthFeature`
//!   over the SQLite file given by `--db`, the administrator seeded from `--user`/`--password`),
//!   plus two benchmark operations returning the same records: `BenchRecords` (anonymous;
//!   `/json/reply/BenchRecords`, `/api/BenchRecords`, `GET /bench/records`, JSV by `?format=jsv`
//!   or `.jsv`) and `BenchRecordsAuth` (any authenticated caller; `GET /bench/records-auth`);
//! - with `--timing`, a middleware timing every request on the server and `GET /bench/stats`
//!   reporting the percentiles per path (see [`stats`]).
//!
//! Not included: evogate's `Compress` and request-log middleware (they would wrap the bare
//! routes too).
//!
//! `bench-server seed` creates a database with an account, a customer, calls to bill and billed
//! usage (see [`seed`]); `bench-server count` reports the rows afterwards.

mod payload;
mod seed;
mod stats;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use clap::{Parser, Subcommand};
use gateway::app::{Gateway, GatewayConfig};
use gateway::auth::{AuthConfig, AuthFeature};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "bench-server", version, about = "Load-test server for evogate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bare handlers and the gateway on one actix server.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8099")]
        addr: String,
        /// The SQLite database (created and migrated if missing).
        #[arg(long)]
        db: PathBuf,
        /// actix workers.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// The administrator created on an empty database (roles Admin, SystemAdministrator).
        #[arg(long, default_value = "bench")]
        user: String,
        /// The administrator's password.
        #[arg(long, default_value = "bench-password")]
        password: String,
        /// Time every request on the server and serve `GET /bench/stats`.
        #[arg(long)]
        timing: bool,
    },
    /// Create and seed a benchmark database.
    Seed {
        /// The SQLite database to create.
        #[arg(long)]
        db: PathBuf,
        /// Unbilled calls to leave for `NewBillable`.
        #[arg(long, default_value_t = 300_000)]
        calls: u64,
        /// Billables (with their calls) to seed in the usage month.
        #[arg(long, default_value_t = 1_000_000)]
        billables: u64,
        /// Remove an existing database first.
        #[arg(long)]
        force: bool,
        /// Run ANALYZE afterwards (the store never does; with SQLite's STAT4 statistics,
        /// statements with a range on a bound parameter are then re-prepared on every run).
        #[arg(long)]
        analyze: bool,
    },
    /// Report row counts and check the usage roll-up, as JSON.
    Count {
        /// The SQLite database.
        #[arg(long)]
        db: PathBuf,
    },
}

/// Prints one line of JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            db,
            workers,
            user,
            password,
            timing,
        } => actix_web::rt::System::new().block_on(serve(ServeArgs {
            addr,
            db,
            workers,
            user,
            password,
            timing,
        })),
        Command::Seed {
            db,
            calls,
            billables,
            force,
            analyze,
        } => print_json(&seed::seed(&db, calls, billables, force, analyze)?),
        Command::Count { db } => print_json(&seed::count(&db)?),
    }
}

/// Options of `serve`.
struct ServeArgs {
    addr: String,
    db: PathBuf,
    workers: usize,
    user: String,
    password: String,
    timing: bool,
}

/// The gateway as evogate wires it, plus the benchmark operations.
async fn build_gateway(args: &ServeArgs) -> anyhow::Result<Gateway> {
    let store = seed::open_store(&args.db).await?;
    let mut registry = gateway::Registry::new();
    payload::register(&mut registry);
    let service = Arc::new(billing::BillingService::new(store.clone()));
    billing::register(&mut registry, service);
    let auth = AuthFeature::new(store, AuthConfig::default())
        .await
        .map_err(|e| anyhow::anyhow!("cannot start authentication: {e}"))?;
    auth.register(&mut registry);
    auth.seed_admin(Some(args.user.clone()), Some(args.password.clone()))
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the administrator: {e}"))?;
    Ok(Gateway::new(
        registry,
        GatewayConfig::default(),
        Arc::new(auth),
    ))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let gw = build_gateway(&args).await?;
    let timing = args.timing;
    let server = HttpServer::new(move || {
        let gw = gw.clone();
        App::new()
            .wrap(Condition::new(timing, from_fn(stats::timing)))
            .route("/bare/json", web::get().to(payload::bare_json))
            .route("/bare/jsv", web::get().to(payload::bare_jsv))
            .route(stats::STATS_PATH, web::get().to(stats::stats_handler))
            .configure(move |c| gw.configure(c))
    })
    .workers(args.workers.max(1))
    .bind(&args.addr)
    .with_context(|| format!("cannot listen on {}", args.addr))?
    .run();
    tracing::warn!(addr = %args.addr, db = %args.db.display(), timing, "bench-server listening");
    server.await.context("server failed")
}
