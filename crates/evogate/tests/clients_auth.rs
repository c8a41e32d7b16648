//! Authentication as the published ServiceStack clients do it (TypeScript
//! `@servicestack/client` 2.1.13, Python `servicestack` 0.1.15), driven by
//! `tests/clients/{node/auth.mjs,python/auth.py}`: credentials sign-in, a protected operation
//! (ListUsageRecords) through the cookie session and through a bearer token alone, 401 without
//! credentials, 403 without the role, 401 for a wrong password.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod clients_support;

use std::time::Duration;

use clients_support::{Admin, Checks, Client, run_driver, start_server, suffix};
use serde_json::{Value, json};

async fn auth(client: Client) {
    let server = start_server().await;
    let admin = Admin::login(&server).await;
    let (account_id, _) = admin.new_account("Auth clients").await;
    let sfx = suffix();
    let manager = format!("manager-{sfx}@evogate.test");
    let nobody = format!("noroles-{sfx}@evogate.test");
    let password = format!("Pw-{sfx}-manager");
    let no_role_password = format!("Pw-{sfx}-noroles");
    admin
        .new_user(&manager, &password, &["Manager"], &[&account_id])
        .await;
    admin
        .new_user(&nobody, &no_role_password, &[], &[&account_id])
        .await;

    let cfg = json!({
        "user": manager,
        "password": password,
        "noRoleUser": nobody,
        "noRolePassword": no_role_password,
        "accountId": account_id,
    });
    let report = run_driver(
        client,
        "auth",
        &server.base_url,
        &cfg,
        Duration::from_secs(120),
    )
    .await;
    let mut c = Checks::new(format!("{} auth", client.name()), &report);
    c.eq("/client", client.name());

    // No credentials: 401 in the client's exception.
    let rs = c.failed("/anonymous", 401).clone();
    c.check(
        rs.get("errorCode")
            .and_then(Value::as_str)
            .is_some_and(|s| s == "Unauthorized"),
        || format!("/anonymous: errorCode should be \"Unauthorized\" (decisions.md 16), got {rs}"),
    );
    c.sent("/anonymous", &["GET /api/ListUsageRecords"]);
    if client == Client::Python {
        c.eq("/anonymous/error/statusCode", 401);
    }

    // Credentials sign-in: AuthenticateResponse with a session and tokens, session cookies kept.
    if c.succeeded("/login", 200) {
        c.check(
            c.at("/login/response/userName")
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(&manager)),
            || format!("/login: userName should be {manager}"),
        );
        c.non_empty_str("/login/response/sessionId");
        c.non_empty_str("/login/response/userId");
        c.non_empty_str("/login/response/bearerToken");
        c.non_empty_str("/login/response/refreshToken");
    }
    c.sent("/login", &["POST /api/Authenticate"]);
    let cookies: Vec<String> = c
        .at("/loginCookies")
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for name in ["ss-id", "ss-pid", "ss-opt"] {
        c.check(cookies.iter().any(|n| n == name), || {
            format!("/loginCookies: the client holds no {name} cookie: {cookies:?}")
        });
    }
    // The Node cookie jar splits Set-Cookie on ',', so an `Expires=Day, dd Mon ...` attribute
    // would show up as a junk cookie named like a date.
    c.check(cookies.iter().all(|n| !n.contains(' ')), || {
        format!("/loginCookies: junk cookies from splitting Set-Cookie on ',' (use Max-Age, not Expires): {cookies:?}")
    });

    // The protected operation through the cookie session.
    if c.succeeded("/cookies", 200) {
        c.check(c.at("/cookies/response").is_array(), || {
            "/cookies: ListUsageRecords should answer an array".into()
        });
    }
    c.sent("/cookies", &["GET /api/ListUsageRecords"]);

    // Fresh clients holding only the session cookies, or only the JWT cookie.
    c.eq(
        "/sessionCookiesOnlyNames",
        json!(["ss-id", "ss-opt", "ss-pid"]),
    );
    if c.succeeded("/sessionCookiesOnly", 200) {
        c.check(c.at("/sessionCookiesOnly/response").is_array(), || {
            "/sessionCookiesOnly: ListUsageRecords should answer an array".into()
        });
    }
    c.eq("/tokenCookieOnlyNames", json!(["ss-tok"]));
    if c.succeeded("/tokenCookieOnly", 200) {
        c.check(c.at("/tokenCookieOnly/response").is_array(), || {
            "/tokenCookieOnly: ListUsageRecords should answer an array".into()
        });
    }

    // A fresh client holding only the bearer token.
    c.eq("/bearerTokenPresent", true);
    if c.succeeded("/bearer", 200) {
        c.check(c.at("/bearer/response").is_array(), || {
            "/bearer: ListUsageRecords should answer an array".into()
        });
    }
    c.eq("/bearerCookies", json!([]));

    // A signed-in user without roles: 403 Invalid Role.
    c.succeeded("/noRoleLogin", 200);
    let rs = c.failed("/noRole", 403).clone();
    c.check(
        rs.get("errorCode").and_then(Value::as_str) == Some("Forbidden"),
        || format!("/noRole: errorCode should be \"Forbidden\" (decisions.md 16): {rs}"),
    );
    c.check(
        rs.get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m == "Invalid Role"),
        || format!("/noRole: message should be \"Invalid Role\": {rs}"),
    );

    // A wrong password: 401, message "Invalid Username or Password".
    let rs = c.failed("/wrongPassword", 401).clone();
    c.check(
        rs.get("message").and_then(Value::as_str) == Some("Invalid Username or Password"),
        || format!("/wrongPassword: message should be \"Invalid Username or Password\": {rs}"),
    );
    c.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_client_auth() {
    auth(Client::TypeScript).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_auth() {
    auth(Client::Python).await;
}
