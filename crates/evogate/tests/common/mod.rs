//! Shared by the end-to-end tests: a real evogate on 127.0.0.1:0 over a temporary SQLite file.
//!
//! ```ignore
//! mod common;
//!
//! #[tokio::test]
//! async fn health() {
//!     let app = common::spawn_app().await;
//!     let res = app.client.get(app.url("/health")).send().await.unwrap();
//!     assert_eq!(res.status(), 200);
//! }
//! ```
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use evogate::{Application, Settings};

/// The first administrator every test app is seeded with (when authentication is wired).
pub const ADMIN_USER: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:{port}`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// A client that keeps cookies, as ServiceStack clients do.
    pub client: reqwest::Client,
    /// Holds the database file; removed when the app is dropped.
    pub db_dir: tempfile::TempDir,
}

impl TestApp {
    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The database file.
    pub fn db_path(&self) -> std::path::PathBuf {
        self.db_dir.path().join("evogate.db")
    }
}

/// Settings for a test app over `db_dir`.
pub fn test_settings(db_dir: &tempfile::TempDir) -> Settings {
    Settings {
        addr: "127.0.0.1:0".to_string(),
        db: db_dir.path().join("evogate.db"),
        admin_user: Some(ADMIN_USER.to_string()),
        admin_password: Some(ADMIN_PASSWORD.to_string()),
        ..Settings::default()
    }
}

/// Starts evogate on a free port with a fresh database and waits until it answers.
pub async fn spawn_app() -> TestApp {
    let db_dir = tempfile::tempdir().expect("temp dir");
    spawn_app_with(test_settings(&db_dir), db_dir).await
}

/// Starts evogate with custom settings (their `addr` should be `127.0.0.1:0`).
pub async fn spawn_app_with(settings: Settings, db_dir: tempfile::TempDir) -> TestApp {
    let app = Application::build(settings)
        .await
        .expect("build the application");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    for _ in 0..100 {
        if client.get(format!("{address}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    TestApp {
        address,
        port,
        client,
        db_dir,
    }
}
