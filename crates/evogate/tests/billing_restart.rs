//! Billing state and login sessions survive a restart: a real evogate
//! (`evogate::Application::build`, 127.0.0.1:0) over a SQLite file in a temp dir records
//! billables (by account + customer and by call session), a Manager signs in
//! (`POST /auth/credentials`, with and without `rememberMe`); the server is then stopped (its
//! serving task aborted, the old port stops answering) and a second `Application` is built on
//! the same file. Checked after the restart:
//!
//! * `GET /billables` and `ListUsageRecords` answer exactly what they answered before;
//! * the idempotency of `NewBillable` still holds (same owner 204 with no change, another
//!   owner 409), and the imported call session still resolves its owner;
//! * the `ss-id` cookie (and `X-ss-id` header) and the permanent `ss-pid` cookie issued before
//!   the restart still authenticate (sessions live in the store, decisions.md 19);
//! * the seeded administrator is neither re-created nor changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use std::time::Duration;

use billing_support::{Api, PW, basic, sid, twilio_call};
use evogate::Application;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

struct Running {
    api: Api,
    task: JoinHandle<anyhow::Result<()>>,
}

/// Builds and serves an `Application` on `settings`, as the seeded administrator's client.
async fn start(settings: evogate::Settings) -> Running {
    let app = Application::build(settings).await.unwrap();
    let port = app.port();
    let task = tokio::spawn(app.run_until_stopped());
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        port,
        http: reqwest::Client::new(),
        auth: basic(common::ADMIN_USER, common::ADMIN_PASSWORD),
    };
    for _ in 0..200 {
        if api.http.get(api.url("/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Running { api, task }
}

/// Stops the server and waits until its port refuses connections.
async fn stop(r: Running) {
    r.task.abort();
    let joined = r.task.await;
    assert!(
        joined.as_ref().is_err_and(|e| e.is_cancelled()),
        "the server task was cancelled"
    );
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", r.api.port)).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the old server still accepts connections");
}

/// Signs in; the cookies set, by name.
async fn login(api: &Api, user: &str, remember: bool) -> Vec<(String, String)> {
    let res = api
        .http
        .post(api.url("/auth/credentials"))
        .header("Accept", "application/json")
        .json(&json!({"userName": user, "password": PW, "rememberMe": remember}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            let (name, rest) = v.to_str().unwrap().split_once('=')?;
            let value = rest.split(';').next()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["userName"], user, "{body}");
    cookies
}

fn cookie<'a>(cookies: &'a [(String, String)], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
}

/// GET `path` as JSON with only the given header for authentication.
async fn get_with(api: &Api, path: &str, header: (&str, &str)) -> (u16, Value) {
    let res = api
        .http
        .get(api.url(path))
        .header("Accept", "application/json")
        .header(header.0, header.1)
        .send()
        .await
        .unwrap();
    let st = res.status().as_u16();
    (st, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billables_usage_and_sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let settings = common::test_settings(&dir);

    // First life: an account with two customers, four calls, three billables by account and
    // customer, one by call session; a manager signs in twice.
    let first = start(settings.clone()).await;
    let admin = &first.api;
    let account_sid = sid("AC", 0x7e57);
    let account = admin.create_account("Durable", &account_sid).await;
    let c1 = admin.create_customer(&account, "c1").await;
    let c2 = admin.create_customer(&account, "c2").await;
    let session = admin.create_session(&account, &c1).await;
    let calls: Vec<String> = (1..=6).map(|i| sid("CA", 0x7e00 + i)).collect();
    let (from, local, tollfree) = ("+14155550100", "+13125550101", "+18445550102");
    admin
        .import_calls(&[
            twilio_call(
                &calls[0],
                &account_sid,
                from,
                local,
                "inbound",
                "completed",
                (1, 0),
                Some(75),
            ),
            twilio_call(
                &calls[1],
                &account_sid,
                from,
                tollfree,
                "inbound",
                "completed",
                (10, 5),
                Some(130),
            ),
            twilio_call(
                &calls[2],
                &account_sid,
                local,
                from,
                "outbound-api",
                "completed",
                (31, 23),
                Some(30),
            ),
            twilio_call(
                &calls[3],
                &account_sid,
                from,
                local,
                "inbound",
                "no-answer",
                (12, 1),
                Some(0),
            ),
            twilio_call(
                &calls[4],
                &account_sid,
                from,
                local,
                "inbound",
                "completed",
                (13, 1),
                Some(1),
            ),
            twilio_call(
                &calls[5],
                &account_sid,
                from,
                local,
                "inbound",
                "completed",
                (14, 1),
                Some(59),
            ),
        ])
        .await;
    for (call, customer) in [
        (&calls[0], &c1),
        (&calls[1], &c2),
        (&calls[2], &c1),
        (&calls[3], &c2),
    ] {
        let r = admin
            .new_billable(&json!({"accountId": account, "customerId": customer, "callSid": call}))
            .await;
        assert_eq!(r.status, 204, "{r:?}");
    }
    let r = admin
        .new_billable(&json!({"sessionId": session, "callSid": calls[4]}))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    admin
        .create_user("durable@example.com", &["Manager"], &[&account])
        .await;
    let temp = login(admin, "durable@example.com", false).await;
    let perm = login(admin, "durable@example.com", true).await;
    let ss_id = cookie(&temp, "ss-id").to_string();
    let ss_pid = cookie(&perm, "ss-pid").to_string();
    assert_eq!(cookie(&perm, "ss-opt"), "perm");
    let billables_before = admin.billables_may_2024(&account).await;
    assert_eq!(billables_before["totalCount"], 5, "{billables_before}");
    let usage_before = admin.usage_may_2024(&account).await;
    let categories: Vec<&str> = usage_before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        [
            "calls",
            "calls-inbound",
            "calls-inbound-local",
            "calls-inbound-tollfree",
            "calls-outbound",
            "totalprice"
        ]
    );
    // 75 s + 1 s local (2 + 1 min x 0.0085), 130 s toll-free (3 x 0.022), 30 s outbound (0.013)
    assert_eq!(usage_before[0]["count"], 4, "{usage_before}");
    assert_eq!(usage_before[0]["usage"], "7", "{usage_before}");
    assert_eq!(usage_before[5]["usage"], "0.1045", "{usage_before}");
    let cookie_usage = "/billing/usage?startDate=2024-05-01&endDate=2024-05-31";
    let (st, manager_usage_before) =
        get_with(admin, cookie_usage, ("Cookie", &format!("ss-id={ss_id}"))).await;
    assert_eq!(st, 200, "{manager_usage_before}");
    assert_eq!(manager_usage_before, usage_before);

    stop(first).await;

    // Second life, same file.
    let second = start(settings).await;
    let admin = &second.api;
    let billables_after = admin.billables_may_2024(&account).await;
    assert_eq!(billables_after, billables_before);
    assert_eq!(admin.usage_may_2024(&account).await, usage_before);

    // Sessions: the temporary one by cookie and by header, the permanent one by cookie.
    let (st, me) = get_with(admin, "/auth/status", ("Cookie", &format!("ss-id={ss_id}"))).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["emailAddress"], "durable@example.com", "{me}");
    assert_eq!(me["accountIds"], json!([account]), "{me}");
    let (st, usage) = get_with(admin, cookie_usage, ("Cookie", &format!("ss-id={ss_id}"))).await;
    assert_eq!(st, 200, "{usage}");
    assert_eq!(usage, usage_before);
    let (st, usage) = get_with(admin, cookie_usage, ("X-ss-id", &ss_id)).await;
    assert_eq!(st, 200, "{usage}");
    assert_eq!(usage, usage_before);
    let (st, me) = get_with(
        admin,
        "/auth/status",
        ("Cookie", &format!("ss-pid={ss_pid}; ss-opt=perm")),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["emailAddress"], "durable@example.com", "{me}");
    // An id the server never issued is still refused.
    let (st, _) = get_with(
        admin,
        "/auth/status",
        ("Cookie", "ss-id=AAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_eq!(st, 401);

    // Idempotency is kept in the file: same owner 204, another owner 409, nothing changes.
    let r = admin
        .new_billable(&json!({"accountId": account, "customerId": c1, "callSid": calls[0]}))
        .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""), "{r:?}");
    let r = admin
        .new_billable(&json!({"sessionId": session, "callSid": calls[4]}))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
    for other in [
        json!({"accountId": account, "customerId": c2, "callSid": calls[0]}),
        json!({"accountId": account, "customerId": c1, "callSid": calls[4]}),
    ] {
        let r = admin.new_billable(&other).await;
        assert_eq!((r.status, r.reason.as_str()), (409, "Conflict"), "{r:?}");
    }
    assert_eq!(admin.billables_may_2024(&account).await, billables_before);
    // The call session still resolves its owner for a new call, reported by the manager
    // through the session cookie of the first life.
    let res = admin
        .http
        .post(admin.url("/billables"))
        .header("Cookie", format!("ss-id={ss_id}"))
        .json(&json!({"sessionId": session, "callSid": calls[5]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let after = admin.billables_may_2024(&account).await;
    assert_eq!(after["totalCount"], 6, "{after}");
    let newest = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["callSid"] == json!(calls[5]))
        .unwrap();
    assert_eq!(newest["customerId"], json!(c1));
    assert_eq!(newest["sessionId"], json!(session));
    assert_eq!(newest["billedMinutes"], 1);

    // One administrator, still with the configured password (Basic worked above); the
    // manager's password is unchanged too.
    let (st, me) = admin.get("/auth/status").await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["roles"], json!(["Admin", "SystemAdministrator"]), "{me}");
    let again = login(admin, "durable@example.com", false).await;
    assert_ne!(cookie(&again, "ss-id"), ss_id, "a login issues fresh ids");
    stop(second).await;
}
