//! Authentication end to end: the real evogate (`common::spawn_app_with`, the app factory's own
//! wiring) on 127.0.0.1:0 over a temporary SQLite file, driven over HTTP the way ServiceStack
//! clients drive it. Users are created through the `AuthStore` implementation on the same
//! database file (SQLite's WAL lets the test and the server write side by side).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use billing::store::SqliteStore;
use gateway::auth::jwt::{Claims, JwtKey, TokenKind};
use gateway::auth::{AuthStore, NewAuthUser};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const PW: &str = "correct horse";
const ADMIN_PW: &str = common::ADMIN_PASSWORD;

struct Server {
    base: String,
    /// `GET /billing/usage` for the seeded account (empty before [`seeded`] creates it).
    usage: String,
    /// Keeps the server (and its spare temporary directory) alive.
    _app: common::TestApp,
    /// A second handle on the server's database, for seeding and inspection.
    store: Arc<SqliteStore>,
    /// A client without a cookie jar: every test states exactly what it sends.
    http: reqwest::Client,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Ends the test's use of the server (it stops with the test's runtime).
    async fn stop(self) {}
}

/// Starts evogate on the database in `db_dir` (the admin is seeded by the app itself).
async fn start(db_dir: &tempfile::TempDir) -> Server {
    let settings = common::test_settings(db_dir);
    let db = settings.db.clone();
    assert_eq!(settings.admin_user.as_deref(), Some("admin"));
    let app = common::spawn_app_with(settings, tempfile::tempdir().unwrap()).await;
    let store = Arc::new(
        tokio::task::spawn_blocking(move || SqliteStore::open(&db))
            .await
            .unwrap()
            .unwrap(),
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Server {
        base: app.address.clone(),
        usage: String::new(),
        _app: app,
        store,
        http,
    }
}

async fn add_user(store: &Arc<SqliteStore>, name: &str, roles: &[&str]) -> String {
    let store = store.clone();
    let name = name.to_string();
    let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let id = gateway::auth::new_user_id();
        let user = NewAuthUser {
            id: id.clone(),
            user_name: name,
            display_name: None,
            email: None,
            password_hash: gateway::auth::passwords::hash_blocking(PW).unwrap(),
            roles,
            permissions: vec![],
        };
        AuthStore::create_user(store.as_ref(), &user).unwrap();
        id
    })
    .await
    .unwrap()
}

/// Creates an account through the operator API (as the seeded admin); returns its id.
async fn add_account(srv: &Server) -> String {
    let (st, _, body) = post(
        srv,
        "/accounts",
        &[("Authorization", &basic("admin", ADMIN_PW))],
        json!({"name":"Acme"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// A server with users `m` (Manager), `u` (no roles), `sa` (SystemAdministrator), `admin`
/// (Admin + SystemAdministrator, seeded) and one account, whose usage URL is `srv.usage`.
async fn seeded() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    let mut srv = start(&dir).await;
    add_user(&srv.store, "m", &["Manager"]).await;
    add_user(&srv.store, "u", &[]).await;
    add_user(&srv.store, "sa", &["SystemAdministrator"]).await;
    let account = add_account(&srv).await;
    srv.usage =
        format!("/billing/usage?accountId={account}&startDate=2024-01-01&endDate=2024-01-31");
    (dir, srv)
}

/// One `Set-Cookie`: name, value and the attributes as written.
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    attrs: String,
}

fn set_cookies(h: &HeaderMap) -> Vec<SetCookie> {
    h.get_all("set-cookie")
        .iter()
        .map(|v| {
            let s = v.to_str().unwrap().to_string();
            let (pair, attrs) = s.split_once(';').unwrap_or((&s, ""));
            let (name, value) = pair.split_once('=').unwrap();
            SetCookie {
                name: name.to_string(),
                value: value.to_string(),
                attrs: attrs.to_string(),
            }
        })
        .collect()
}

fn cookie_of<'a>(cs: &'a [SetCookie], name: &str) -> &'a SetCookie {
    cs.iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no Set-Cookie {name} in {cs:?}"))
}

struct Login {
    body: Value,
    cookies: Vec<SetCookie>,
    headers: HeaderMap,
}

impl Login {
    fn cookie(&self, name: &str) -> String {
        cookie_of(&self.cookies, name).value.clone()
    }
    fn bearer(&self) -> String {
        self.body["bearerToken"].as_str().unwrap().to_string()
    }
    fn refresh(&self) -> String {
        self.body["refreshToken"].as_str().unwrap().to_string()
    }
}

async fn login_at(srv: &Server, path: &str, body: Value) -> Login {
    let res = srv
        .http
        .post(srv.url(path))
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    Login {
        body,
        cookies: set_cookies(&headers),
        headers,
    }
}

async fn login(srv: &Server, user: &str, password: &str) -> Login {
    login_at(
        srv,
        "/auth/credentials",
        json!({"userName": user, "password": password}),
    )
    .await
}

/// `GET path` with extra headers; returns status, headers and the body as JSON (or `Null`).
async fn get(srv: &Server, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut req = srv
        .http
        .get(srv.url(path))
        .header("Accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    let text = res.text().await.unwrap();
    (
        status,
        h,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn post(
    srv: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (u16, HeaderMap, Value) {
    let mut req = srv
        .http
        .post(srv.url(path))
        .header("Accept", "application/json")
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    let text = res.text().await.unwrap();
    (
        status,
        h,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        b64(format!("{user}:{password}").as_bytes(), false)
    )
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 (padded) or base64url (unpadded): small enough to keep the test free of extra crates.
fn b64(data: &[u8], url: bool) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
            out.push(match (url, c) {
                (true, b'+') => '-',
                (true, b'/') => '_',
                _ => c as char,
            });
        }
        if !url {
            out.push_str(&"=="[..3 - chunk.len()]);
        }
    }
    out
}

fn unb64url(text: &str) -> Vec<u8> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let c = match c {
            b'-' => b'+',
            b'_' => b'/',
            c => c,
        };
        let v = B64.iter().position(|x| *x == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

fn status_of(body: &Value) -> (&str, &str) {
    (
        body["responseStatus"]["errorCode"].as_str().unwrap_or(""),
        body["responseStatus"]["message"].as_str().unwrap_or(""),
    )
}

fn is_session_id(s: &str) -> bool {
    s.len() == 20 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn jwt_part(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).unwrap();
    serde_json::from_slice(&unb64url(part)).unwrap()
}

async fn signing_key(srv: &Server) -> JwtKey {
    let store = srv.store.clone();
    let text = tokio::task::spawn_blocking(move || store.get_or_create_signing_key("unused"))
        .await
        .unwrap()
        .unwrap();
    JwtKey::from_base64(&text).unwrap()
}

#[tokio::test]
async fn login_issues_session_cookies_and_tokens() {
    let (_dir, srv) = seeded().await;
    let l = login(&srv, "M", PW).await;
    let b = &l.body;
    assert_eq!(b["userName"], "m");
    assert_eq!(b["displayName"], "m");
    assert_eq!(b["roles"], json!(["Manager"]));
    assert_eq!(b["authProvider"], "credentials");
    assert!(b["userId"].as_str().is_some_and(|s| !s.is_empty()));

    let (id, pid) = (l.cookie("ss-id"), l.cookie("ss-pid"));
    assert!(
        is_session_id(&id) && is_session_id(&pid) && id != pid,
        "{id} {pid}"
    );
    assert_eq!(b["sessionId"], id.as_str());
    assert_eq!(l.cookie("ss-opt"), "temp");
    for c in &l.cookies {
        let a = c.attrs.to_ascii_lowercase();
        assert!(
            a.contains("path=/") && a.contains("httponly") && a.contains("samesite=lax"),
            "{c:?}"
        );
        assert!(!a.contains("secure"), "no Secure over plain HTTP: {c:?}");
    }
    assert!(
        !cookie_of(&l.cookies, "ss-id")
            .attrs
            .to_ascii_lowercase()
            .contains("max-age"),
        "session cookie"
    );
    assert!(
        cookie_of(&l.cookies, "ss-pid")
            .attrs
            .contains("Max-Age=630720000")
    );
    assert!(
        cookie_of(&l.cookies, "ss-tok")
            .attrs
            .contains("Max-Age=1209600")
    );
    assert!(
        cookie_of(&l.cookies, "ss-reftok")
            .attrs
            .contains("Max-Age=31536000")
    );
    assert_eq!(l.headers.get("X-Cookies").unwrap(), "ss-tok,ss-reftok");
    assert_eq!(l.cookie("ss-tok"), l.bearer());
    assert_eq!(l.cookie("ss-reftok"), l.refresh());

    let h = jwt_part(&l.bearer(), 0);
    assert_eq!(
        (h["alg"].as_str(), h["typ"].as_str()),
        (Some("HS256"), Some("JWT"))
    );
    assert!(h["kid"].is_string());
    let p = jwt_part(&l.bearer(), 1);
    assert_eq!(p["iss"], "ssjwt");
    assert_eq!(p["sub"], b["userId"]);
    assert_eq!(p["roles"], json!(["Manager"]));
    assert_eq!(p["preferred_username"], "m");
    assert!(p["exp"].as_i64().unwrap() - p["iat"].as_i64().unwrap() == 14 * 24 * 3600);

    // rememberMe: the permanent id is the session.
    let l2 = login_at(
        &srv,
        "/auth/credentials",
        json!({"userName":"m","password":PW,"rememberMe":true}),
    )
    .await;
    assert_eq!(l2.cookie("ss-opt"), "perm");
    assert_eq!(l2.body["sessionId"], l2.cookie("ss-pid").as_str());
    assert_ne!(l2.cookie("ss-pid"), pid, "fresh ids on every login");

    // The basic provider reads the Authorization header.
    let res = srv
        .http
        .post(srv.url("/auth/basic"))
        .header("Accept", "application/json")
        .header("Authorization", basic("m", PW))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["userName"].as_str(), body["authProvider"].as_str()),
        (Some("m"), Some("basic"))
    );

    // The other entry points and the `login` alias.
    for (path, body) in [
        (
            "/api/Authenticate",
            json!({"provider":"credentials","userName":"m","password":PW}),
        ),
        (
            "/json/reply/Authenticate",
            json!({"provider":"credentials","UserName":"m","Password":PW}),
        ),
        (
            "/auth",
            json!({"provider":"login","userName":"m","password":PW}),
        ),
        ("/auth", json!({"userName":"m","password":PW})),
    ] {
        let l = login_at(&srv, path, body).await;
        assert_eq!(l.body["userName"], "m", "{path}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn every_credential_carrier_authenticates() {
    let (_dir, srv) = seeded().await;
    let l = login(&srv, "m", PW).await;
    let id = l.cookie("ss-id");
    let pid = l.cookie("ss-pid");
    let bearer = format!("Bearer {}", l.bearer());

    let who = |res: (u16, HeaderMap, Value)| -> (u16, String) {
        (
            res.0,
            res.2["userName"].as_str().unwrap_or_default().to_string(),
        )
    };
    let me = (200, "m".to_string());

    // Cookies, with the TypeScript client's junk pair.
    let c = format!("ss-id={id}; 01 Jan 2100 00:00:00 GMT=null; ss-opt=temp");
    assert_eq!(who(get(&srv, "/auth", &[("Cookie", &c)]).await), me);
    // Headers instead of cookies.
    assert_eq!(who(get(&srv, "/auth", &[("X-ss-id", &id)]).await), me);
    // ss-pid alone belongs to no session (the login was not rememberMe).
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("Cookie", &format!("ss-pid={pid}; ss-opt=perm"))],
    )
    .await;
    assert_eq!(st, 401);
    // Bearer JWT, and the ss-tok cookie alone.
    let (st, _, body) = get(&srv, "/auth", &[("Authorization", &bearer)]).await;
    assert_eq!(
        (st, body["userName"].as_str(), body["authProvider"].as_str()),
        (200, Some("m"), Some("jwt"))
    );
    assert_eq!(
        who(get(
            &srv,
            "/auth",
            &[("Cookie", &format!("ss-tok={}", l.bearer()))]
        )
        .await),
        me
    );
    // Basic, repeatedly (the check is cached), and a wrong password.
    for _ in 0..3 {
        assert_eq!(
            who(get(&srv, "/auth", &[("Authorization", &basic("m", PW))]).await),
            me
        );
    }
    let (st, h, body) = get(&srv, &srv.usage, &[("Authorization", &basic("m", "nope"))]).await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("Unauthorized", "Invalid Username or Password")),
        "{h:?}"
    );

    // API keys: created once, then as Bearer and as the Basic user name.
    let (st, _, created) = post(&srv, "/apikeys", &[("X-ss-id", &id)], json!({"name":"ci"})).await;
    assert_eq!(st, 200, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("ak-") && key.len() == 35);
    let (st, _, body) = get(
        &srv,
        "/auth",
        &[("Authorization", &format!("Bearer {key}"))],
    )
    .await;
    assert_eq!(
        (st, body["userName"].as_str(), body["authProvider"].as_str()),
        (200, Some("m"), Some("apikey"))
    );
    assert_eq!(
        who(get(&srv, "/auth", &[("Authorization", &basic(&key, ""))]).await),
        me
    );
    // Over plain HTTP through a (trusted, loopback) proxy, either way: refused, as upstream.
    for auth in [format!("Bearer {key}"), basic(&key, "")] {
        let (st, _, body) = get(
            &srv,
            &srv.usage,
            &[("Authorization", &auth), ("X-Forwarded-Proto", "http")],
        )
        .await;
        assert_eq!(
            (st, status_of(&body).1),
            (
                403,
                "Sending ApiKey over insecure connection forbidden when RequireSecureConnection=true"
            ),
            "{auth}"
        );
    }
    let (st, _, body) = get(
        &srv,
        "/auth",
        &[
            ("Authorization", &format!("Bearer {key}")),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!((st, body["userName"].as_str()), (200, Some("m")), "{body}");
    // Revoked, it stops working at once.
    let key_id = created["id"].as_str().unwrap();
    let res = srv
        .http
        .delete(srv.url(&format!("/apikeys/{key_id}")))
        .header("X-ss-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("Authorization", &format!("Bearer {key}"))],
    )
    .await;
    assert_eq!(st, 401);
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("Authorization", "Bearer ak-unknownunknownunknownunknown12")],
    )
    .await;
    assert_eq!(st, 401);

    // A protected operation through the carriers: sa reaches any account.
    let sa = login(&srv, "sa", PW).await;
    for h in [
        ("Cookie", format!("ss-id={}", sa.cookie("ss-id"))),
        ("X-ss-id", sa.cookie("ss-id")),
        ("Authorization", format!("Bearer {}", sa.bearer())),
        ("Authorization", basic("sa", PW)),
    ] {
        let (st, _, body) = get(&srv, &srv.usage, &[(h.0, &h.1)]).await;
        assert_eq!(st, 200, "{h:?}: {body}");
        assert!(body.is_array());
    }
    srv.stop().await;
}

#[tokio::test]
async fn refresh_tokens_mint_new_access_tokens() {
    let (_dir, srv) = seeded().await;
    let l = login(&srv, "m", PW).await;
    let refresh = l.refresh();

    for path in [
        "/api/GetAccessToken",
        "/json/reply/GetAccessToken",
        "/access-token",
    ] {
        let (st, h, body) = post(&srv, path, &[], json!({"refreshToken": refresh})).await;
        assert_eq!(st, 200, "{path}: {body}");
        let access = body["accessToken"].as_str().unwrap().to_string();
        assert_eq!(cookie_of(&set_cookies(&h), "ss-tok").value, access);
        let (st, _, me) = get(
            &srv,
            "/auth",
            &[("Authorization", &format!("Bearer {access}"))],
        )
        .await;
        assert_eq!((st, me["userName"].as_str()), (200, Some("m")));
    }
    // From the ss-reftok cookie, with a stale bearer still attached (as the TS client does).
    let key = signing_key(&srv).await;
    let mut c = Claims {
        iss: "ssjwt".into(),
        sub: "x".into(),
        iat: 0,
        exp: 1,
        ..Default::default()
    };
    c.roles = vec![];
    let stale = key.encode(TokenKind::Access, &c);
    let (st, _, body) = post(
        &srv,
        "/api/GetAccessToken",
        &[
            ("Cookie", &format!("ss-reftok={refresh}")),
            ("Authorization", &format!("Bearer {stale}")),
        ],
        json!({"useTokenCookie": true}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert!(body["accessToken"].is_string());

    // PascalCase as the C# client sends it.
    let (st, _, _) = post(
        &srv,
        "/json/reply/GetAccessToken",
        &[],
        json!({"RefreshToken": refresh}),
    )
    .await;
    assert_eq!(st, 200);

    // Invalid ones.
    for bad in [
        json!({"refreshToken":"nope"}),
        json!({}),
        json!({"refreshToken": l.bearer()}),
    ] {
        let (st, _, body) = post(&srv, "/api/GetAccessToken", &[], bad.clone()).await;
        assert_eq!(st, 400, "{bad}");
        assert_eq!(status_of(&body).1, "RefreshToken is Invalid");
        assert_eq!(
            body["responseStatus"]["errors"][0]["fieldName"],
            "RefreshToken"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_and_revokes_tokens() {
    let (_dir, srv) = seeded().await;
    let l = login(&srv, "m", PW).await;
    let id = l.cookie("ss-id");
    let cookies = format!(
        "ss-id={id}; ss-pid={}; ss-opt=temp; ss-tok={}; ss-reftok={}",
        l.cookie("ss-pid"),
        l.bearer(),
        l.refresh()
    );
    let (st, h, body) = get(&srv, "/auth/logout", &[("Cookie", &cookies)]).await;
    assert_eq!((st, &body), (200, &json!({})));
    let cs = set_cookies(&h);
    for name in ["ss-id", "ss-pid", "ss-tok", "ss-reftok"] {
        let c = cookie_of(&cs, name);
        assert!(c.value.is_empty() && c.attrs.contains("Max-Age=0"), "{c:?}");
    }
    let (st, _, _) = get(&srv, "/auth", &[("Cookie", &format!("ss-id={id}"))]).await;
    assert_eq!(st, 401);
    let (st, _, body) = get(&srv, "/auth", &[("X-ss-id", &id)]).await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("Unauthorized", "Not Authenticated"))
    );
    let (st, _, body) = get(
        &srv,
        &srv.usage,
        &[("Authorization", &format!("Bearer {}", l.bearer()))],
    )
    .await;
    assert_eq!((st, status_of(&body).0), (401, "TokenException"));
    let (st, _, _) = post(
        &srv,
        "/api/GetAccessToken",
        &[],
        json!({"refreshToken": l.refresh()}),
    )
    .await;
    assert_eq!(st, 400);

    // A JWT-only client logging out with POST /auth/logout and its bearer token: the session of
    // the same login ends too.
    let l = login(&srv, "m", PW).await;
    let (st, _, _) = post(
        &srv,
        "/auth/logout",
        &[("Authorization", &format!("Bearer {}", l.bearer()))],
        json!({}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("Authorization", &format!("Bearer {}", l.bearer()))],
    )
    .await;
    assert_eq!(st, 401);
    let (st, _, _) = get(&srv, "/auth", &[("X-ss-id", &l.cookie("ss-id"))]).await;
    assert_eq!(st, 401);
    // Provider `logout` on /api/Authenticate.
    let l = login(&srv, "m", PW).await;
    let (st, _, _) = post(
        &srv,
        "/api/Authenticate",
        &[("X-ss-id", &l.cookie("ss-id"))],
        json!({"provider":"logout"}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _, _) = get(&srv, "/auth", &[("X-ss-id", &l.cookie("ss-id"))]).await;
    assert_eq!(st, 401);
    srv.stop().await;
}

#[tokio::test]
async fn authenticate_errors_match_servicestack() {
    let (_dir, srv) = seeded().await;
    let (st, _, body) = get(&srv, "/auth", &[]).await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("Unauthorized", "Not Authenticated"))
    );
    let (st, _, body) = get(&srv, "/auth/credentials?userName=m&password=x", &[]).await;
    assert_eq!((st, status_of(&body).0), (405, "NotSupportedException"));
    let (st, _, body) = post(
        &srv,
        "/auth/nope",
        &[],
        json!({"userName":"m","password":PW}),
    )
    .await;
    assert_eq!(
        (st, status_of(&body)),
        (
            404,
            (
                "NotFound",
                "No configuration was added for OAuth provider 'nope'"
            )
        )
    );
    let (st, _, body) = post(
        &srv,
        "/auth/credentials",
        &[],
        json!({"userName":"","password":""}),
    )
    .await;
    assert_eq!((st, status_of(&body).0), (400, "NotEmpty"));
    let fields: Vec<(&str, &str)> = body["responseStatus"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["fieldName"].as_str().unwrap(),
                e["errorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![("UserName", "NotEmpty"), ("Password", "NotEmpty")]
    );
    let (st, _, body) = post(
        &srv,
        "/auth/credentials",
        &[],
        json!({"userName":"m","password":"wrong"}),
    )
    .await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("Unauthorized", "Invalid Username or Password"))
    );
    let (st, _, body) = post(
        &srv,
        "/auth/credentials",
        &[],
        json!({"userName":"ghost","password":"x"}),
    )
    .await;
    assert_eq!(
        (st, status_of(&body).1),
        (401, "Invalid Username or Password")
    );

    // Anonymous on a protected operation: 401 with both challenges.
    let (st, h, _) = get(&srv, &srv.usage, &[]).await;
    assert_eq!(st, 401);
    let challenges: Vec<&str> = h
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(
        challenges,
        vec![
            r#"credentials realm="/auth/credentials""#,
            r#"Basic realm="/auth/basic""#
        ]
    );
    srv.stop().await;
}

#[tokio::test]
async fn roles_403_versus_401_and_the_admin_bypass() {
    let (_dir, srv) = seeded().await;
    let u = login(&srv, "u", PW).await;
    let m = login(&srv, "m", PW).await;
    let admin = login(&srv, "admin", ADMIN_PW).await;
    let sid = |l: &Login| l.cookie("ss-id");

    // u has neither SystemAdministrator nor Manager.
    let res = srv
        .http
        .get(srv.url(&srv.usage))
        .header("X-ss-id", sid(&u))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.status().canonical_reason().map(|_| ()), Some(()));
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !body.is_null() {
        assert_eq!(status_of(&body).1, "Invalid Role");
    }
    // Admin passes every role check.
    let (st, _, body) = get(&srv, &srv.usage, &[("X-ss-id", &sid(&admin))]).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(admin.body["roles"], json!(["Admin", "SystemAdministrator"]));

    // AssignRoles: anonymous 401 JSON, non-admin 403 JSON, admin 200.
    let req = json!({"userName":"u","roles":["Manager"]});
    let (st, _, body) = post(&srv, "/assignroles", &[], req.clone()).await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("Unauthorized", "Not Authenticated"))
    );
    let (st, _, body) = post(&srv, "/assignroles", &[("X-ss-id", &sid(&m))], req.clone()).await;
    assert_eq!((st, status_of(&body)), (403, ("Forbidden", "Invalid Role")));
    let (st, _, body) = post(
        &srv,
        "/assignroles",
        &[("X-ss-id", &sid(&admin))],
        req.clone(),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["allRoles"], json!(["Manager"]));
    assert!(body["allPermissions"].is_array());
    // The change shows on u's existing session at once (this process cleared its caches); u now
    // passes the role check and meets the account check instead.
    let (st, _, body) = get(&srv, &srv.usage, &[("X-ss-id", &sid(&u))]).await;
    assert_eq!(st, 403);
    assert_ne!(status_of(&body).1, "Invalid Role", "{body}");
    let (st, _, body) = post(
        &srv,
        "/unassignroles",
        &[("X-ss-id", &sid(&admin))],
        json!({"userName":"U","roles":["Manager"]}),
    )
    .await;
    assert_eq!((st, &body["allRoles"]), (200, &json!([])));
    let (st, _, body) = post(
        &srv,
        "/assignroles",
        &[("X-ss-id", &sid(&admin))],
        json!({"userName":"ghost","roles":["x"]}),
    )
    .await;
    assert_eq!((st, status_of(&body).0), (404, "NotFound"));
    // Also through the generic route, with Basic.
    let (st, _, _) = post(
        &srv,
        "/api/AssignRoles",
        &[("Authorization", &basic("admin", ADMIN_PW))],
        req,
    )
    .await;
    assert_eq!(st, 200);
    srv.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let (_dir, srv) = seeded().await;
    let l = login(&srv, "m", PW).await;
    let token = l.bearer();
    let parts: Vec<&str> = token.split('.').collect();
    let enc = |v: Value| b64(&serde_json::to_vec(&v).unwrap(), true);

    // Payload changed to claim Admin, signature kept.
    let mut payload = jwt_part(&token, 1);
    payload["roles"] = json!(["Admin"]);
    let tampered = format!("{}.{}.{}", parts[0], enc(payload.clone()), parts[2]);
    // alg none, no signature.
    let none = format!(
        "{}.{}.",
        enc(json!({"typ":"JWT","alg":"none"})),
        enc(payload)
    );
    // HS512 header.
    let hs512 = format!(
        "{}.{}.{}",
        enc(json!({"typ":"JWT","alg":"HS512"})),
        parts[1],
        parts[2]
    );
    for (t, msg) in [
        (&tampered, "Invalid token"),
        (&none, "Invalid token"),
        (&hs512, "Invalid token"),
    ] {
        let (st, _, body) = get(
            &srv,
            &srv.usage,
            &[("Authorization", &format!("Bearer {t}"))],
        )
        .await;
        assert_eq!(
            (st, status_of(&body)),
            (401, ("TokenException", msg)),
            "{t}"
        );
    }
    // Expired, correctly signed.
    let key = signing_key(&srv).await;
    let mut claims: Claims = serde_json::from_value(jwt_part(&token, 1)).unwrap();
    claims.exp = claims.iat - 10;
    let expired = key.encode(TokenKind::Access, &claims);
    let (st, _, body) = get(
        &srv,
        &srv.usage,
        &[("Authorization", &format!("Bearer {expired}"))],
    )
    .await;
    assert_eq!(
        (st, status_of(&body)),
        (401, ("TokenException", "Token has expired"))
    );
    // A refresh token is not an access token.
    let (st, _, _) = get(
        &srv,
        "/billing/usage",
        &[("Authorization", &format!("Bearer {}", l.refresh()))],
    )
    .await;
    assert_eq!(st, 401);

    // Over plain HTTP through a (trusted, loopback) proxy: refused with ServiceStack's message.
    let (st, _, body) = get(
        &srv,
        &srv.usage,
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("X-Forwarded-Proto", "http"),
        ],
    )
    .await;
    assert_eq!(
        (st, status_of(&body).1),
        (
            403,
            "Sending JWT over insecure connection forbidden when RequireSecureConnection=true"
        )
    );
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("X-Forwarded-Proto", "https"),
        ],
    )
    .await;
    assert_eq!(st, 200);
    // No tokens are issued over plain HTTP either: the client falls back to the session cookie.
    let res = srv
        .http
        .post(srv.url("/auth/credentials"))
        .header("Accept", "application/json")
        .header("X-Forwarded-Proto", "http")
        .json(&json!({"userName":"m","password":PW}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cs = set_cookies(res.headers());
    assert!(res.headers().get("X-Cookies").is_none());
    assert!(
        cs.iter()
            .all(|c| c.name != "ss-tok" && c.name != "ss-reftok"),
        "{cs:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("bearerToken").is_none() && body.get("refreshToken").is_none(),
        "{body}"
    );
    let id = cookie_of(&cs, "ss-id").value.clone();
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("X-ss-id", &id), ("X-Forwarded-Proto", "http")],
    )
    .await;
    assert_eq!(st, 200);
    srv.stop().await;
}

#[tokio::test]
async fn failed_logins_are_throttled() {
    let (_dir, srv) = seeded().await;
    for i in 0..10 {
        let (st, _, _) = post(
            &srv,
            "/auth/credentials",
            &[],
            json!({"userName":"m","password":format!("bad{i}")}),
        )
        .await;
        assert_eq!(st, 401);
    }
    // Even the right password is refused now, and so is Basic for that name.
    let (st, h, body) = post(
        &srv,
        "/auth/credentials",
        &[],
        json!({"userName":"M","password":PW}),
    )
    .await;
    assert_eq!((st, status_of(&body).0), (429, "TooManyRequests"));
    let retry: u64 = h
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 800 && retry <= 900, "{retry}");
    let (st, _, _) = get(&srv, &srv.usage, &[("Authorization", &basic("m", PW))]).await;
    assert_eq!(st, 429);
    // Another name from the same address is still fine (100 per address).
    let l = login(&srv, "sa", PW).await;
    assert_eq!(l.body["userName"], "sa");
    srv.stop().await;
}

/// A second app on the same database file starts with nothing in memory (no caches, the signing
/// key read back from the store), which is what a restart leaves; sessions and tokens issued by
/// the first must work there.
#[tokio::test]
async fn sessions_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(&dir).await;
    add_user(&srv.store, "m", &["Manager"]).await;
    let l = login(&srv, "m", PW).await;
    let perm = login_at(
        &srv,
        "/auth/credentials",
        json!({"userName":"m","password":PW,"rememberMe":true}),
    )
    .await;
    let first = srv;

    let srv = start(&dir).await;
    assert_ne!(srv.base, first.base);
    let (st, _, body) = get(
        &srv,
        "/auth",
        &[("Cookie", &format!("ss-id={}", l.cookie("ss-id")))],
    )
    .await;
    assert_eq!((st, body["userName"].as_str()), (200, Some("m")));
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[(
            "Cookie",
            &format!("ss-pid={}; ss-opt=perm", perm.cookie("ss-pid")),
        )],
    )
    .await;
    assert_eq!(st, 200);
    let (st, _, _) = get(
        &srv,
        "/auth",
        &[("Authorization", &format!("Bearer {}", l.bearer()))],
    )
    .await;
    assert_eq!(st, 200, "the signing key is kept in the store");
    let (st, _, _) = post(
        &srv,
        "/access-token",
        &[],
        json!({"refreshToken": l.refresh()}),
    )
    .await;
    assert_eq!(st, 200);
    // The admin is seeded once only.
    let store = srv.store.clone();
    let n = tokio::task::spawn_blocking(move || store.count_users())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 2);
    srv.stop().await;
    first.stop().await;
}
