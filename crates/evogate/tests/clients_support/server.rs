//! Starting the real application for the client tests, through the pipeline's shared
//! `tests/common/mod.rs` (`spawn_app`: `evogate::Application::build` on 127.0.0.1:0 over a
//! temporary SQLite file, seeded with the first administrator).

use super::Server;

#[path = "../common/mod.rs"]
mod common;

pub(super) async fn start() -> Server {
    let app = common::spawn_app().await;
    Server {
        base_url: app.address.clone(),
        admin_user: common::ADMIN_USER.to_string(),
        admin_password: common::ADMIN_PASSWORD.to_string(),
        _guard: Box::new(app),
    }
}
