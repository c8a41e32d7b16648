//! `evogate serve`: the Evo Voice billing API behind a ServiceStack-compatible gateway.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use evogate::{Application, Settings};
use tracing_subscriber::EnvFilter;

mod users_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "evogate",
    version,
    about = "A ServiceStack-compatible gateway for the Evo Voice billing API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Manages sign-in users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Creates a user with roles.
    Add(users_cmd::UserAddArgs),
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Creates an API key for a user and prints it once.
    Create(users_cmd::ApiKeyCreateArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EVOGATE_ADDR", default_value = "127.0.0.1:5000")]
    addr: String,
    /// SQLite database file (created and migrated when missing).
    #[arg(long, env = "EVOGATE_DB", default_value = "./evogate.db")]
    db: PathBuf,
    /// Service name shown on the metadata pages and in `/types` headers.
    #[arg(long, env = "EVOGATE_SERVICE_NAME", default_value = "Evo Voice")]
    service_name: String,
    /// Public base URL written as `BaseUrl:` in `/types`; defaults to each request's origin.
    #[arg(long, env = "EVOGATE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Show stack traces in error responses.
    #[arg(long, env = "EVOGATE_DEBUG")]
    debug: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "EVOGATE_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// User name of the first administrator, created when the database has no users.
    #[arg(long, env = "EVOGATE_ADMIN_USER")]
    admin_user: Option<String>,
    /// Password of the first administrator; generated and logged once when absent.
    #[arg(long, env = "EVOGATE_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

impl From<ServeArgs> for Settings {
    fn from(a: ServeArgs) -> Self {
        Settings {
            addr: a.addr,
            db: a.db,
            service_name: a.service_name,
            public_url: a.public_url,
            debug: a.debug,
            max_body_bytes: a.max_body_bytes,
            admin_user: a.admin_user,
            admin_password: a.admin_password,
        }
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colour codes only help a person at a terminal; they garble files and log collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let app = Application::build(args.into()).await?;
            app.run_until_stopped().await?;
            tracing::info!("evogate stopped");
        }
        Command::User(UserCommand::Add(args)) => users_cmd::run_user_add(args)?,
        Command::Apikey(ApiKeyCommand::Create(args)) => users_cmd::run_apikey_create(args)?,
    }
    Ok(())
}
