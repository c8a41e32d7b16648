//! Starting the real application for the client tests.

use super::{ADMIN_PASSWORD, ADMIN_USER, Server};

/// Stops the server task and removes the temporary database when the test ends.
struct Guard {
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `evogate::Application::build` on 127.0.0.1:0 with a fresh SQLite file and the test
/// administrator (created on first start because the store has no users).
pub(super) async fn start() -> Server {
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = evogate::Settings {
        addr: "127.0.0.1:0".to_string(),
        db: dir.path().join("evogate.db"),
        admin_user: Some(ADMIN_USER.to_string()),
        admin_password: Some(ADMIN_PASSWORD.to_string()),
        ..evogate::Settings::default()
    };
    let app = evogate::Application::build(settings).await.expect("evogate::Application::build");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let task = tokio::spawn(app.run_until_stopped());
    Server {
        base_url,
        admin_user: ADMIN_USER.to_string(),
        admin_password: ADMIN_PASSWORD.to_string(),
        _guard: Box::new(Guard { task, _dir: dir }),
    }
}
