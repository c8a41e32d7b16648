//! Shared by the `billing_*` end-to-end tests: an operator-API client authenticated with HTTP
//! Basic (one argon2 check per user, then the server's cache), helpers that create accounts,
//! customers, users and Twilio calls over HTTP, and a raw HTTP/1.1 client that shows what
//! reqwest hides: the reason phrase of the status line.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, ADMIN_USER, TestApp};

/// The password of every user the tests create.
pub const PW: &str = "billing-test-password";

/// `Basic base64(user:password)`.
pub fn basic(user: &str, password: &str) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{password}");
    let mut out = String::from("Basic ");
    for chunk in data.as_bytes().chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        out.push_str(&"=="[..3 - chunk.len()]);
    }
    out
}

/// A Twilio SID: `prefix` followed by `n` as 32 lowercase hex digits.
pub fn sid(prefix: &str, n: u128) -> String {
    format!("{prefix}{n:032x}")
}

/// One response as the wire carried it.
#[derive(Debug, Clone)]
pub struct Raw {
    /// The status code.
    pub status: u16,
    /// The reason phrase of the status line.
    pub reason: String,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked encoding removed).
    pub body: String,
}

impl Raw {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`.
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {} {:?}",
                self.status, self.reason, self.body
            )
        })
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = std::str::from_utf8(&b[..eol]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

fn raw_blocking(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Raw {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    stream.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8(buf[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    let _version = parts.next();
    let status: u16 = parts.next().unwrap().parse().unwrap();
    let reason = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &buf[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Raw {
        status,
        reason,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// Sends one request over a fresh connection and returns the response exactly as sent.
pub async fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Raw {
    let (method, path, body) = (
        method.to_string(),
        path.to_string(),
        body.map(str::to_string),
    );
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        raw_blocking(port, &method, &path, &headers, body.as_deref())
    })
    .await
    .unwrap()
}

/// Checks a ServiceStack error: status, reason phrase, `responseStatus.errorCode`, the exact
/// `message`, and the `fieldName` of every `errors` entry, in order (decisions.md 14-17).
pub fn assert_error(
    r: &Raw,
    status: u16,
    reason: &str,
    code: &str,
    message: &str,
    fields: &[&str],
) {
    assert_error_with(r, status, reason, code, |m| m == message, message, fields);
}

/// As [`assert_error`], with a message that must contain `part`.
pub fn assert_error_containing(
    r: &Raw,
    status: u16,
    reason: &str,
    code: &str,
    part: &str,
    fields: &[&str],
) {
    assert_error_with(r, status, reason, code, |m| m.contains(part), part, fields);
}

fn assert_error_with(
    r: &Raw,
    status: u16,
    reason: &str,
    code: &str,
    message_ok: impl Fn(&str) -> bool,
    message_want: &str,
    fields: &[&str],
) {
    let ctx = format!("{} {} {}", r.status, r.reason, r.body);
    assert_eq!(r.status, status, "status of {ctx}");
    assert_eq!(r.reason, reason, "reason phrase of {ctx}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "content type of {ctx}: {:?}",
        r.header("content-type")
    );
    let body = r.json();
    let rs = &body["responseStatus"];
    assert_eq!(rs["errorCode"], code, "errorCode of {ctx}");
    let message = rs["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {ctx}"));
    assert!(
        message_ok(message),
        "message of {ctx}: wanted {message_want:?}"
    );
    let errors = rs["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("`errors` must always be present: {ctx}"));
    let names: Vec<&str> = errors
        .iter()
        .map(|e| e["fieldName"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, fields, "fieldNames of {ctx}");
    for e in errors {
        assert!(
            e["errorCode"].as_str().is_some_and(|c| !c.is_empty()),
            "{ctx}"
        );
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{ctx}"
        );
    }
    if let Some(first) = errors.first() {
        // decisions.md 17: the top-level code and message are the first field error's.
        assert_eq!(rs["errorCode"], first["errorCode"], "{ctx}");
        assert_eq!(rs["message"], first["message"], "{ctx}");
    }
    assert!(rs.get("stackTrace").is_none(), "no stack trace: {ctx}");
}

/// A client of one user, authenticated with HTTP Basic on every request.
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:{port}`.
    pub base: String,
    /// The port.
    pub port: u16,
    /// Without a cookie store: every request carries `auth`.
    pub http: reqwest::Client,
    /// The `Authorization` header value.
    pub auth: String,
}

impl Api {
    /// The seeded administrator (roles Admin and SystemAdministrator) of `app`.
    pub fn admin(app: &TestApp) -> Api {
        Api::basic(app, ADMIN_USER, ADMIN_PASSWORD)
    }

    /// Any user of `app`.
    pub fn basic(app: &TestApp, user: &str, password: &str) -> Api {
        Api {
            base: app.address.clone(),
            port: app.port,
            http: reqwest::Client::new(),
            auth: basic(user, password),
        }
    }

    /// Another user on the same server.
    pub fn as_user(&self, user: &str, password: &str) -> Api {
        Api {
            auth: basic(user, password),
            ..self.clone()
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `POST path` with a JSON body; the status and the body as JSON (`Null` when empty).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let res = self
            .http
            .post(self.url(path))
            .header("Authorization", &self.auth)
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `GET path` as JSON; the status and the body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(self.url(path))
            .header("Authorization", &self.auth)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A raw request with this user's `Authorization` and the given extra headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Raw {
        let mut h: Vec<(&str, &str)> = vec![("Authorization", self.auth.as_str())];
        h.extend_from_slice(headers);
        let text = body.map(Value::to_string);
        if text.is_some()
            && !h
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            h.push(("Content-Type", "application/json"));
        }
        if !h.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            h.push(("Accept", "application/json"));
        }
        raw(self.port, method, path, &h, text.as_deref()).await
    }

    /// `POST /billables` (raw, so the status line and the empty body can be checked).
    pub async fn new_billable(&self, body: &Value) -> Raw {
        self.raw("POST", "/billables", &[], Some(body)).await
    }

    /// `POST /accounts`; the new account's id.
    pub async fn create_account(&self, name: &str, twilio_account_sid: &str) -> String {
        let (st, body) = self
            .post(
                "/accounts",
                &json!({"name": name, "twilioAccountSid": twilio_account_sid}),
            )
            .await;
        assert_eq!(st, 200, "create account: {body}");
        assert_eq!(body["twilioAccountSid"], twilio_account_sid);
        assert_eq!(body["priceUnit"], "usd");
        body["id"].as_str().unwrap().to_string()
    }

    /// `POST /customers`; the new customer's id.
    pub async fn create_customer(&self, account_id: &str, name: &str) -> String {
        let (st, body) = self
            .post(
                "/customers",
                &json!({"accountId": account_id, "name": name}),
            )
            .await;
        assert_eq!(st, 200, "create customer: {body}");
        assert_eq!(body["accountId"], account_id);
        body["id"].as_str().unwrap().to_string()
    }

    /// `POST /users` with [`PW`]; the new user's id.
    pub async fn create_user(&self, email: &str, roles: &[&str], account_ids: &[&str]) -> String {
        let (st, body) = self
            .post(
                "/users",
                &json!({
                    "emailAddress": email,
                    "password": PW,
                    "roles": roles,
                    "accountIds": account_ids,
                }),
            )
            .await;
        assert_eq!(st, 200, "create user: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// `POST /calls` with a Twilio list page `{calls: [...]}`; checks every call was new.
    pub async fn import_calls(&self, calls: &[Value]) {
        let (st, body) = self.post("/calls", &json!({ "calls": calls })).await;
        assert_eq!(st, 200, "import calls: {body}");
        assert_eq!(body["imported"], calls.len());
        assert_eq!(body["updated"], 0);
    }

    /// `POST /sessions`; the new session's id.
    pub async fn create_session(&self, account_id: &str, customer_id: &str) -> String {
        let (st, body) = self
            .post(
                "/sessions",
                &json!({"accountId": account_id, "customerId": customer_id, "channel": "Voice"}),
            )
            .await;
        assert_eq!(st, 200, "create session: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// `GET /billables` over May 2024 (the listing defaults to the current month otherwise);
    /// the page as JSON.
    pub async fn billables_may_2024(&self, account_id: &str) -> Value {
        let (st, body) = self
            .get(&format!(
                "/billables?accountId={account_id}&startDate=2024-05-01&endDate=2024-05-31&pageSize=1000"
            ))
            .await;
        assert_eq!(st, 200, "list billables: {body}");
        body
    }

    /// `GET /billing/usage` over May 2024 as JSON.
    pub async fn usage_may_2024(&self, account_id: &str) -> Value {
        let (st, body) = self
            .get(&format!(
                "/billing/usage?accountId={account_id}&startDate=2024-05-01&endDate=2024-05-31"
            ))
            .await;
        assert_eq!(st, 200, "usage: {body}");
        body
    }
}

/// A Twilio Call resource as Twilio's API returns it (snake_case, RFC 2822 times, the
/// duration as a string). `start` is a day of May 2024 and an hour; `duration` `None` leaves
/// `duration` null.
#[allow(clippy::too_many_arguments)]
pub fn twilio_call(
    sid: &str,
    account_sid: &str,
    from: &str,
    to: &str,
    direction: &str,
    status: &str,
    (day, hour): (u32, u32),
    duration: Option<u32>,
) -> Value {
    let dn = day_name(day);
    let start = format!("{dn} {day:02} May 2024 {hour:02}:00:00 +0000");
    let end = duration.map(|d| {
        let t = hour * 3600 + d;
        assert!(t < 24 * 3600, "the call must end on the day it starts");
        format!(
            "{dn} {day:02} May 2024 {:02}:{:02}:{:02} +0000",
            t / 3600,
            t / 60 % 60,
            t % 60
        )
    });
    json!({
        "sid": sid,
        "account_sid": account_sid,
        "parent_call_sid": null,
        "from": from,
        "to": to,
        "direction": direction,
        "status": status,
        "start_time": start,
        "end_time": end,
        "duration": duration.map(|d| d.to_string()),
        "price": duration.map(|_| "-0.01300"),
        "price_unit": "USD",
        "date_created": start,
        "date_updated": null,
        "answered_by": null,
        "caller_name": null,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json"),
    })
}

/// The weekday of a day of May 2024 (1 May 2024 was a Wednesday), with a comma.
fn day_name(day: u32) -> &'static str {
    ["Wed,", "Thu,", "Fri,", "Sat,", "Sun,", "Mon,", "Tue,"][((day - 1) % 7) as usize]
}
