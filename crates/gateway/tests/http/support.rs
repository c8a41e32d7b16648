//! Test-only operations, a test authenticator and real servers on 127.0.0.1:0.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use actix_web::{App, HttpRequest, HttpServer, middleware::Compress};
use futures_util::future::LocalBoxFuture;
use gateway::app::{Gateway, GatewayConfig};
use gateway::context::SetCookie;
use gateway::{
    ApiError, Authenticator, FieldError, Registry, RequestContext, ResponseStatus, Session, dto,
};

/// A nested value
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nested {
    /// A number
    pub a: i32,
    /// A label
    pub b: Option<String>,
}

/// Echoes every kind of field back
#[dto(
    namespace = "Test.Http",
    route("/echo/{id}", "GET,POST"),
    route("/echo", "POST"),
    response = EchoResponse
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Echo {
    /// From the route
    pub id: Option<String>,
    /// A plain string
    pub name: String,
    /// An optional string
    pub nickname: Option<String>,
    /// A 32-bit number
    pub count: i32,
    /// A 64-bit number
    pub total: i64,
    /// A double
    pub ratio: f64,
    /// A flag
    pub active: bool,
    /// An optional flag
    pub maybe: Option<bool>,
    /// Numbers
    pub ids: Vec<i32>,
    /// Words
    pub tags: Vec<String>,
    /// A nested DTO
    pub nested: Option<Nested>,
    /// A map
    pub attrs: HashMap<String, String>,
}

/// What Echo answers
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EchoResponse {
    /// From the route
    pub id: Option<String>,
    /// A plain string
    pub name: String,
    /// An optional string
    pub nickname: Option<String>,
    /// A 32-bit number
    pub count: i32,
    /// A 64-bit number
    pub total: i64,
    /// A double
    pub ratio: f64,
    /// A flag
    pub active: bool,
    /// An optional flag
    pub maybe: Option<bool>,
    /// Numbers
    pub ids: Vec<i32>,
    /// Words
    pub tags: Vec<String>,
    /// A nested DTO
    pub nested: Option<Nested>,
    /// A map
    pub attrs: HashMap<String, String>,
    /// Errors
    pub response_status: Option<ResponseStatus>,
}

/// Fails in the way `kind` names
#[dto(namespace = "Test.Http", route("/fail/{kind}", "GET,POST"), response = FailResponse)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fail {
    /// validation, notfound, conflict, forbidden, unauthorized, internal, panic, or none
    pub kind: String,
}

/// What Fail answers when it does not fail
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailResponse {
    /// The kind
    pub result: String,
}

/// A void operation
#[dto(namespace = "Test.Http", route("/ping", "POST"))]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ping {
    /// Ignored
    pub note: Option<String>,
}

/// Needs a signed-in user
#[dto(namespace = "Test.Http", route("/secret", "GET"), response = Who, authenticate)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secret {}

/// Needs Manager or SystemAdministrator
#[dto(namespace = "Test.Http", route("/managers", "GET"), response = Who, roles_any("Manager", "SystemAdministrator"))]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagersOnly {}

/// Needs Role1 and Role2
#[dto(namespace = "Test.Http", route("/both", "GET"), response = Who, roles("Role1", "Role2"))]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BothRoles {}

/// Who called
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Who {
    /// The user name, if any
    pub user_name: Option<String>,
}

/// Sets a cookie, a header and a status
#[dto(namespace = "Test.Http", route("/cookies", "POST"), response = Who)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetCookies {}

/// A literal route
#[dto(namespace = "Test.Http", route("/things/special", "GET"), response = Which)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecialThing {}

/// A variable route
#[dto(namespace = "Test.Http", route("/things/{id}", "GET,PUT"), response = Which)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnyThing {
    /// The id
    pub id: Option<String>,
}

/// A wildcard route
#[dto(namespace = "Test.Http", route("/files/{path*}", "GET"), response = Which)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetFile {
    /// The rest of the path
    pub path: Option<String>,
}

/// Carries an arbitrary JSON tree
#[dto(namespace = "Test.Http", response = Tree)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tree {
    /// Any value
    pub data: Option<serde_json::Value>,
}

/// A value whose serialization panics, to prove a panicking writer is still answered.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Bomb;

impl serde::Serialize for Bomb {
    fn serialize<S: serde::Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
        panic!("the writer exploded")
    }
}

impl gateway::meta::DtoType for Bomb {
    fn type_ref() -> gateway::meta::TypeRef {
        gateway::meta::TypeRef::Primitive(gateway::meta::Primitive::String)
    }
}

/// Answers with a value that cannot be written
#[dto(namespace = "Test.Http", response = BoomResponse)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Boom {}

/// Holds the bomb
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoomResponse {
    /// Panics when written
    pub bomb: Bomb,
}

/// Which operation answered
#[dto(namespace = "Test.Http")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Which {
    /// Operation name
    pub op: String,
    /// A bound value
    pub value: Option<String>,
}

fn echo(req: Echo) -> EchoResponse {
    EchoResponse {
        id: req.id,
        name: req.name,
        nickname: req.nickname,
        count: req.count,
        total: req.total,
        ratio: req.ratio,
        active: req.active,
        maybe: req.maybe,
        ids: req.ids,
        tags: req.tags,
        nested: req.nested,
        attrs: req.attrs,
        response_status: None,
    }
}

fn who(ctx: &RequestContext) -> Who {
    Who {
        user_name: ctx.session().map(|s| s.user_name.clone()),
    }
}

/// Every test operation.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.add(|req: Echo, _ctx: RequestContext| async move { Ok(echo(req)) });
    r.add(|req: Fail, _ctx: RequestContext| async move {
        match req.kind.as_str() {
            "validation" => Err(ApiError::validation_errors(vec![
                FieldError {
                    error_code: "NotEmpty".into(),
                    field_name: "AccountId".into(),
                    message: "'Account Id' must not be empty.".into(),
                },
                FieldError {
                    error_code: "GreaterThan".into(),
                    field_name: "Count".into(),
                    message: "'Count' must be greater than '0'.".into(),
                },
            ])),
            "notfound" => Err(ApiError::not_found("No such thing")),
            "conflict" => Err(ApiError::conflict("Already there")),
            "forbidden" => Err(ApiError::forbidden("Not yours")),
            "unauthorized" => Err(ApiError::unauthorized("Who are you")),
            "internal" => Err(ApiError::internal("the database is on fire")),
            "panic" => panic!("the handler exploded"),
            _ => Ok(FailResponse { result: req.kind }),
        }
    });
    r.add(|_req: Ping, _ctx: RequestContext| async move { Ok(()) });
    r.add(|_req: Secret, ctx: RequestContext| async move { Ok(who(&ctx)) });
    r.add(|_req: ManagersOnly, ctx: RequestContext| async move { Ok(who(&ctx)) });
    r.add(|_req: BothRoles, ctx: RequestContext| async move { Ok(who(&ctx)) });
    r.add(|_req: SetCookies, ctx: RequestContext| async move {
        ctx.set_cookie(SetCookie {
            name: "sid".into(),
            value: "abc".into(),
            max_age: Some(60),
            http_only: true,
        });
        ctx.add_header("X-Custom", "yes");
        ctx.set_status(201);
        Ok(who(&ctx))
    });
    r.add(|_req: SpecialThing, _ctx: RequestContext| async move {
        Ok(Which {
            op: "SpecialThing".into(),
            value: None,
        })
    });
    r.add(|req: AnyThing, _ctx: RequestContext| async move {
        Ok(Which {
            op: "AnyThing".into(),
            value: req.id,
        })
    });
    r.add(|_req: Boom, _ctx: RequestContext| async move { Ok(BoomResponse { bomb: Bomb }) });
    r.add(|req: Tree, _ctx: RequestContext| async move { Ok(req) });
    r.add(|req: GetFile, _ctx: RequestContext| async move {
        Ok(Which {
            op: "GetFile".into(),
            value: req.path,
        })
    });
    r
}

/// `X-Test-User: name;Role1,Role2` signs in; `X-Test-User: !x` is a rejected credential.
pub struct TestAuth;

impl Authenticator for TestAuth {
    fn authenticate<'a>(
        &'a self,
        req: &'a HttpRequest,
    ) -> LocalBoxFuture<'a, Result<Option<std::sync::Arc<Session>>, ApiError>> {
        let h = req
            .headers()
            .get("X-Test-User")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Box::pin(async move {
            match h {
                None => Ok(None),
                Some(s) if s.starts_with('!') => {
                    Err(ApiError::unauthorized("Invalid Username or Password"))
                }
                Some(s) => {
                    let (name, roles) = s.split_once(';').unwrap_or((s.as_str(), ""));
                    Ok(Some(std::sync::Arc::new(Session {
                        user_id: name.to_string(),
                        user_name: name.to_string(),
                        roles: roles
                            .split(',')
                            .filter(|r| !r.is_empty())
                            .map(str::to_string)
                            .collect(),
                        auth_provider: "test".into(),
                        ..Default::default()
                    })))
                }
            }
        })
    }

    fn challenges(&self) -> Vec<String> {
        vec![
            r#"credentials realm="/auth/credentials""#.to_string(),
            r#"Basic realm="/auth/basic""#.to_string(),
        ]
    }
}

/// Starts a real server on its own thread and actix system; returns its base URL.
pub fn start(config: GatewayConfig) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let sys = actix_rt::System::new();
        sys.block_on(async move {
            let gw = Gateway::new(registry(), config, Arc::new(TestAuth));
            let server = HttpServer::new(move || {
                let gw = gw.clone();
                App::new()
                    .wrap(Compress::default())
                    .configure(move |c| gw.configure(c))
            })
            .workers(2)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1:0");
            let addr = server.addrs()[0];
            let running = server.run();
            tx.send(addr).expect("report the address");
            running.await.expect("server");
        });
    });
    format!("http://{}", rx.recv().expect("server address"))
}

/// The shared server with the default configuration.
pub fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| start(GatewayConfig::default()))
}

/// A server in debug mode (stack traces shown).
pub fn debug_base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        start(GatewayConfig {
            debug: true,
            ..GatewayConfig::default()
        })
    })
}

/// A client that leaves compression to the test.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client")
}

/// The text of a header.
pub fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// The parsed JSON body.
pub async fn json(res: reqwest::Response) -> serde_json::Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A full Echo request as JSON.
pub fn echo_body() -> serde_json::Value {
    serde_json::json!({
        "name": "Zed",
        "nickname": "zz",
        "count": 3,
        "total": 9000000000_i64,
        "ratio": 0.5,
        "active": true,
        "maybe": false,
        "ids": [1, 2, 3],
        "tags": ["a", "b c"],
        "nested": {"a": 1, "b": "x"},
        "attrs": {"k": "v"}
    })
}

/// The reason phrase of a response's status line, read over a raw connection (reqwest does not
/// expose it).
pub fn status_line(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.windows(2).any(|w| w == b"\r\n") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.lines().next().unwrap_or("").to_string()
}

/// Sends a raw HTTP request and returns the whole response text (the server closes the
/// connection because of `Connection: close`).
pub fn raw(base: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    // The server may answer and close before the whole body is written (413).
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
