//! Shared by the `clients_*.rs` tests: start a real evogate server, seed it over HTTP as the
//! administrator, run a client driver (`tests/clients/node/*.mjs` with `@servicestack/client`,
//! `tests/clients/python/*.py` with PyPI `servicestack`) and collect what it reports.
//!
//! A driver prints one JSON object on stdout describing what the real client returned or raised;
//! the tests assert on those values with [`Checks`], which gathers every failed check and shows
//! them with the driver's whole report.
//!
//! The pinned client packages are installed by `.ci/install-clients.sh` (run once per test
//! binary; it skips what is already installed). A missing `node`, `npm` or `python3` fails the
//! test with a clear message: these tests never skip silently. Set `EVOGATE_CLIENTS_REPORT=1`
//! (with `--nocapture`) to see every driver's report.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

// -------------------------------------------------------------------------------------------
// The server
// -------------------------------------------------------------------------------------------

/// A running evogate on 127.0.0.1 with a fresh store, stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:{port}`, no trailing slash.
    pub base_url: String,
    /// The administrator's user name.
    pub admin_user: String,
    /// The administrator's password.
    pub admin_password: String,
    _guard: Box<dyn std::any::Any>,
}

/// Starts the real application (`evogate::Application::build`, via `tests/common`'s
/// `spawn_app`) on 127.0.0.1:0 with a temporary database and the first administrator, on the
/// current tokio runtime; it stops when the test's runtime ends.
pub async fn start_server() -> Server {
    server_impl::start().await
}

#[path = "server.rs"]
mod server_impl;

// -------------------------------------------------------------------------------------------
// Seeding over HTTP as the administrator
// -------------------------------------------------------------------------------------------

/// An HTTP client signed in as the administrator (cookie session), for seeding.
pub struct Admin {
    http: reqwest::Client,
    base_url: String,
}

impl Admin {
    /// Signs in with `POST /api/Authenticate` (credentials provider).
    pub async fn login(server: &Server) -> Admin {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client");
        let admin = Admin {
            http,
            base_url: server.base_url.clone(),
        };
        admin
            .call(
                "POST",
                "Authenticate",
                json!({
                    "provider": "credentials",
                    "userName": server.admin_user,
                    "password": server.admin_password,
                    "rememberMe": true,
                }),
            )
            .await;
        admin
    }

    /// `{method} /api/{op}` with a JSON body (or the query string for GET); panics unless 2xx.
    pub async fn call(&self, method: &str, op: &str, body: Value) -> Value {
        let url = format!("{}/api/{}", self.base_url, op);
        let req = match method {
            "GET" => {
                let pairs: Vec<(String, String)> = body
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    v.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| v.to_string()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.http.get(&url).query(&pairs)
            }
            "PUT" => self.http.put(&url).json(&body),
            _ => self.http.post(&url).json(&body),
        };
        let res = req
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("seeding: {method} {url} failed: {e}"));
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "seeding: {method} {url} {body} answered {status}: {text}"
        );
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    }

    /// Creates an account (`NewAccount`) with a fresh Twilio account SID; returns (id, sid).
    pub async fn new_account(&self, name: &str) -> (String, String) {
        let sid = twilio_sid("AC");
        let acc = self
            .call(
                "POST",
                "NewAccount",
                json!({"name": name, "twilioAccountSid": sid, "priceUnit": "usd"}),
            )
            .await;
        (str_field(&acc, "id"), sid)
    }

    /// Creates a customer (`NewCustomer`); returns its id.
    pub async fn new_customer(&self, account_id: &str, name: &str) -> String {
        let c = self
            .call(
                "POST",
                "NewCustomer",
                json!({"accountId": account_id, "name": name}),
            )
            .await;
        str_field(&c, "id")
    }

    /// Creates a user (`NewUser`) with these roles, linked to these accounts.
    pub async fn new_user(
        &self,
        email: &str,
        password: &str,
        roles: &[&str],
        account_ids: &[&str],
    ) {
        self.call(
            "POST",
            "NewUser",
            json!({
                "emailAddress": email,
                "password": password,
                "firstName": "Client",
                "lastName": "Test",
                "roles": roles,
                "accountIds": account_ids,
            }),
        )
        .await;
    }

    /// Imports Twilio calls (`ImportCalls`, snake_case Twilio JSON).
    pub async fn import_calls(&self, calls: Vec<Value>) -> Value {
        self.call("POST", "ImportCalls", json!({ "calls": calls }))
            .await
    }
}

/// A Twilio Call resource as Twilio returns it: a completed 75-second inbound call to a local
/// number on 2024-05-03 (billed 2 minutes as `calls-inbound-local`).
pub fn completed_inbound_call(sid: &str, account_sid: &str) -> Value {
    json!({
        "sid": sid,
        "account_sid": account_sid,
        "parent_call_sid": null,
        "from": "+14155550100",
        "to": "+14155550199",
        "direction": "inbound",
        "status": "completed",
        "start_time": "Fri, 03 May 2024 10:00:00 +0000",
        "end_time": "Fri, 03 May 2024 10:01:15 +0000",
        "duration": "75",
        "price": "-0.00850",
        "price_unit": "USD",
        "date_created": "Fri, 03 May 2024 10:00:00 +0000",
        "date_updated": "Fri, 03 May 2024 10:01:15 +0000",
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Calls/{sid}.json"),
    })
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("seeding: no string `{key}` in {v}"))
        .to_string()
}

/// 32 random lowercase hex digits.
pub fn hex32() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// `AC…`/`CA…` followed by 32 hex digits.
pub fn twilio_sid(prefix: &str) -> String {
    format!("{prefix}{}", hex32())
}

/// A short unique suffix for names and emails.
pub fn suffix() -> String {
    hex32()[..10].to_string()
}

// -------------------------------------------------------------------------------------------
// Drivers
// -------------------------------------------------------------------------------------------

/// The workspace root (`tests/clients` lives there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn tool_available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes sure node, npm and python3 exist and the pinned packages are installed (runs
/// `.ci/install-clients.sh` once per test binary; it is a no-op when nothing changed).
pub fn ensure_clients_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        let missing: Vec<&str> = ["node", "npm", "python3"].into_iter().filter(|t| !tool_available(t)).collect();
        if !missing.is_empty() {
            return Err(format!(
                "the client tests need {} on the PATH (Node.js >= 20 with npm, Python >= 3.9 with venv); \
                 install them, then run .ci/install-clients.sh",
                missing.join(", ")
            ));
        }
        let root = repo_root();
        let out = Command::new("bash")
            .arg(root.join(".ci/install-clients.sh"))
            .current_dir(&root)
            .env("SERVICESTACK_TELEMETRY_OPTOUT", "1")
            .output()
            .map_err(|e| format!("cannot run .ci/install-clients.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                ".ci/install-clients.sh failed ({}):\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("client test setup: {e}");
    }
}

/// Which published client a driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// `@servicestack/client` on Node.
    TypeScript,
    /// PyPI `servicestack`.
    Python,
}

impl Client {
    /// The name the drivers report in `client`.
    pub fn name(self) -> &'static str {
        match self {
            Client::TypeScript => "typescript",
            Client::Python => "python",
        }
    }
}

/// Runs `tests/clients/{node,python}/{script}` with `<baseUrl> <config json>` (killed after
/// `timeout`) and returns the JSON object it printed. Panics with its output when it crashed,
/// timed out or printed no JSON.
pub async fn run_driver(
    client: Client,
    script: &str,
    base_url: &str,
    config: &Value,
    timeout: Duration,
) -> Value {
    ensure_clients_installed();
    let root = repo_root();
    let (program, script_path) = match client {
        Client::TypeScript => (
            PathBuf::from("node"),
            root.join("tests/clients/node")
                .join(format!("{script}.mjs")),
        ),
        Client::Python => (
            root.join("tests/clients/python/.venv/bin/python"),
            root.join("tests/clients/python")
                .join(format!("{script}.py")),
        ),
    };
    let mut cmd = Command::new(&program);
    cmd.arg(&script_path)
        .arg(base_url)
        .arg(config.to_string())
        .current_dir(script_path.parent().expect("driver dir"))
        .env("SERVICESTACK_TELEMETRY_OPTOUT", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let label = format!("{} {}", program.display(), script_path.display());
    tokio::task::spawn_blocking(move || run_bounded(cmd, &label, timeout))
        .await
        .expect("driver thread")
}

fn run_bounded(mut cmd: Command, label: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for driver") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        panic!(
            "{label} did not finish within {timeout:?} and was killed\nstdout:\n{out}\nstderr:\n{err}"
        );
    };
    let report = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .and_then(|l| serde_json::from_str::<Value>(l).ok());
    match report {
        Some(v) => {
            if let Some(fatal) = v.get("fatal") {
                panic!(
                    "{label} crashed ({status}): {}\nstderr:\n{err}",
                    fatal.as_str().unwrap_or(&fatal.to_string())
                );
            }
            println!("{label} finished in {:.1?} ({status})", started.elapsed());
            if std::env::var_os("EVOGATE_CLIENTS_REPORT").is_some() {
                println!(
                    "report:\n{}",
                    serde_json::to_string_pretty(&v).unwrap_or_default()
                );
            }
            if !err.trim().is_empty() {
                println!("driver stderr:\n{err}");
            }
            v
        }
        None => panic!("{label} printed no JSON report ({status})\nstdout:\n{out}\nstderr:\n{err}"),
    }
}

// -------------------------------------------------------------------------------------------
// Checks
// -------------------------------------------------------------------------------------------

/// Collects failed checks on one driver report and fails once, listing all of them together
/// with the whole report.
pub struct Checks<'a> {
    what: String,
    report: &'a Value,
    failures: Vec<String>,
}

impl<'a> Checks<'a> {
    /// Checks on `report`, titled `what` (e.g. "typescript gateway").
    pub fn new(what: impl Into<String>, report: &'a Value) -> Self {
        Checks {
            what: what.into(),
            report,
            failures: Vec::new(),
        }
    }

    /// The value at a `/`-separated JSON pointer into the report (`Null` when absent).
    pub fn at(&self, pointer: &str) -> &'a Value {
        self.report.pointer(pointer).unwrap_or(&Value::Null)
    }

    /// Records a failure.
    pub fn fail(&mut self, msg: impl Into<String>) {
        self.failures.push(msg.into());
    }

    /// Checks a condition.
    pub fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) -> bool {
        if !ok {
            self.failures.push(msg());
        }
        ok
    }

    /// `report[pointer] == expected`.
    pub fn eq(&mut self, pointer: &str, expected: impl Into<Value>) -> bool {
        let expected = expected.into();
        let actual = self.at(pointer);
        let ok = json_eq(actual, &expected);
        self.check(ok, || {
            format!("{pointer}: expected {expected}, got {actual}")
        })
    }

    /// `report[pointer]` is a non-empty string.
    pub fn non_empty_str(&mut self, pointer: &str) -> bool {
        let actual = self.at(pointer);
        let ok = actual.as_str().is_some_and(|s| !s.is_empty());
        self.check(ok, || {
            format!("{pointer}: expected a non-empty string, got {actual}")
        })
    }

    /// A call `{ok, status, ...}` at `pointer` succeeded with this HTTP status.
    pub fn succeeded(&mut self, pointer: &str, status: u16) -> bool {
        let call = self.at(pointer);
        let ok = call.get("ok") == Some(&Value::Bool(true));
        let st = call.get("status").cloned().unwrap_or(Value::Null);
        let good = ok && st.as_u64() == Some(u64::from(status));
        self.check(good, || {
            format!(
                "{pointer}: expected success with HTTP {status}, got ok={ok} status={st}: {}",
                short(call)
            )
        })
    }

    /// A call at `pointer` failed with this HTTP status; returns its ResponseStatus (camelCase).
    pub fn failed(&mut self, pointer: &str, status: u16) -> &'a Value {
        let call = self.at(pointer);
        let ok = call.get("ok") == Some(&Value::Bool(false));
        let st = call.get("status").cloned().unwrap_or(Value::Null);
        self.check(ok && st.as_u64() == Some(u64::from(status)), || {
            format!(
                "{pointer}: expected an error with HTTP {status}, got ok={} status={st}: {}",
                !ok,
                short(call)
            )
        });
        call.pointer("/error/responseStatus")
            .unwrap_or(&Value::Null)
    }

    /// A call at `pointer` sent exactly these requests (`"METHOD /path?query"`, path compared
    /// up to the query when `expected` has none).
    pub fn sent(&mut self, pointer: &str, expected: &[&str]) -> bool {
        let call = self.at(pointer);
        let sent: Vec<String> = call
            .get("requests")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let matches = sent.len() >= expected.len()
            && expected.iter().zip(&sent).all(|(e, s)| {
                if e.contains('?') {
                    s == e
                } else {
                    s.split('?').next() == Some(e)
                }
            });
        self.check(matches, || {
            format!("{pointer}: expected requests {expected:?}, the client sent {sent:?}")
        })
    }

    /// Panics listing every failed check and the report.
    pub fn finish(self) {
        if !self.failures.is_empty() {
            panic!(
                "{}: {} check(s) failed:\n  - {}\n\ndriver report:\n{}",
                self.what,
                self.failures.len(),
                self.failures.join("\n  - "),
                serde_json::to_string_pretty(self.report).unwrap_or_default()
            );
        }
    }
}

/// JSON equality where numbers compare by value (0.096 == 0.0960, 3 == 3.0).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 1500 {
        format!("{}…", s.chars().take(1500).collect::<String>())
    } else {
        s
    }
}
