//! `NewBillable` under concurrency, over HTTP against a real evogate (127.0.0.1:0, SQLite file
//! in a temp dir), 50 requests released at once through a barrier:
//!
//! * one call SID, one owner (mixing the REST and both generic routes): every request is
//!   `204`, and exactly one billable exists (`GET /billables`) and is counted once by
//!   `ListUsageRecords` (domain.md 4.6 step 7: the UNIQUE constraint, not a read-then-write,
//!   decides);
//! * one call SID, two owners racing: exactly one billable; every request of the winning owner
//!   is `204` and every request of the other is `409 Conflict`;
//! * 50 distinct calls: 50 `204`, 50 billables, usage counts 50 calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use std::sync::Arc;

use billing_support::{Api, Raw, sid, twilio_call};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const N: usize = 50;

struct World {
    _app: common::TestApp,
    admin: Api,
    account_id: String,
    account_sid: String,
    customers: [String; 2],
}

async fn world() -> World {
    let app = common::spawn_app().await;
    let admin = Api::admin(&app);
    let account_sid = sid("AC", 0xc0c0);
    let account_id = admin.create_account("Concurrent", &account_sid).await;
    let x = admin.create_customer(&account_id, "X").await;
    let y = admin.create_customer(&account_id, "Y").await;
    World {
        _app: app,
        admin,
        account_id,
        account_sid,
        customers: [x, y],
    }
}

/// A completed 90 s inbound local call (2 billed minutes at 0.0085 = 0.017).
fn call(sid: &str, account_sid: &str) -> Value {
    twilio_call(
        sid,
        account_sid,
        "+14155550100",
        "+13125550101",
        "inbound",
        "completed",
        (7, 12),
        Some(90),
    )
}

/// Sends `bodies[i]` to `paths[i % paths.len()]`, all released together; the responses in order.
async fn race(api: &Api, paths: &[&'static str], bodies: Vec<Value>) -> Vec<Raw> {
    let barrier = Arc::new(Barrier::new(bodies.len()));
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let (api, barrier, path) = (api.clone(), barrier.clone(), paths[i % paths.len()]);
            tokio::spawn(async move {
                barrier.wait().await;
                api.raw("POST", path, &[], Some(&body)).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_call_fifty_times_at_once_is_billed_once() {
    let w = world().await;
    let c = sid("CA", 0xc1);
    w.admin.import_calls(&[call(&c, &w.account_sid)]).await;
    let body = json!({"accountId": w.account_id, "customerId": w.customers[0], "callSid": c});
    let responses = race(
        &w.admin,
        &["/billables", "/api/NewBillable", "/json/reply/NewBillable"],
        vec![body; N],
    )
    .await;
    for (i, r) in responses.iter().enumerate() {
        assert_eq!((r.status, r.body.as_str()), (204, ""), "request {i}: {r:?}");
    }
    let page = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(page["totalCount"], 1, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["callSid"], json!(c));
    assert_eq!(items[0]["customerId"], json!(w.customers[0]));
    assert_eq!(items[0]["billedMinutes"], 2);
    let usage = w.admin.usage_may_2024(&w.account_id).await;
    let calls = &usage[0];
    assert_eq!(calls["category"], "calls", "{usage}");
    assert_eq!(calls["count"], 1, "{usage}");
    assert_eq!(calls["usage"], "2", "{usage}");
    assert_eq!(calls["price"].as_f64(), Some(0.017), "{usage}");
    let total = usage.as_array().unwrap().last().unwrap();
    assert_eq!(total["category"], "totalprice", "{usage}");
    assert_eq!(total["usage"], "0.017", "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_racing_for_one_call_one_wins_the_other_gets_409() {
    let w = world().await;
    let c = sid("CA", 0xc2);
    w.admin.import_calls(&[call(&c, &w.account_sid)]).await;
    let bodies: Vec<Value> = (0..N)
        .map(|i| json!({"accountId": w.account_id, "customerId": w.customers[i % 2], "callSid": c}))
        .collect();
    let responses = race(&w.admin, &["/billables"], bodies).await;
    let page = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(page["totalCount"], 1, "{page}");
    let winner = page["items"][0]["customerId"].as_str().unwrap();
    let winner = w.customers.iter().position(|c| c == winner).unwrap();
    for (i, r) in responses.iter().enumerate() {
        if i % 2 == winner {
            assert_eq!((r.status, r.body.as_str()), (204, ""), "request {i}: {r:?}");
        } else {
            assert_eq!(
                (r.status, r.reason.as_str()),
                (409, "Conflict"),
                "request {i}: {r:?}"
            );
            assert_eq!(r.json()["responseStatus"]["errorCode"], "Conflict", "{r:?}");
        }
    }
    let usage = w.admin.usage_may_2024(&w.account_id).await;
    assert_eq!(usage[0]["count"], 1, "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_distinct_calls_at_once_make_fifty_billables() {
    let w = world().await;
    let calls: Vec<String> = (0..N as u128).map(|i| sid("CA", 0xd000 + i)).collect();
    let twilio: Vec<Value> = calls.iter().map(|c| call(c, &w.account_sid)).collect();
    w.admin.import_calls(&twilio).await;
    let bodies: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"accountId": w.account_id, "customerId": w.customers[i % 2], "callSid": c}))
        .collect();
    let responses = race(&w.admin, &["/billables", "/api/NewBillable"], bodies).await;
    for (i, r) in responses.iter().enumerate() {
        assert_eq!((r.status, r.body.as_str()), (204, ""), "request {i}: {r:?}");
    }
    let page = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(page["totalCount"], N, "{page}");
    let mut billed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["callSid"].as_str().unwrap())
        .collect();
    billed.sort_unstable();
    let mut want: Vec<&str> = calls.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(billed, want);
    for customer in &w.customers {
        let (st, body) = w
            .admin
            .get(&format!(
                "/billables?accountId={}&customerId={customer}&startDate=2024-05-01&endDate=2024-05-31",
                w.account_id
            ))
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["totalCount"], N / 2, "{body}");
    }
    let usage = w.admin.usage_may_2024(&w.account_id).await;
    // 50 calls x 2 minutes x 0.0085 = 0.85
    assert_eq!(usage[0]["category"], "calls", "{usage}");
    assert_eq!(usage[0]["count"], N, "{usage}");
    assert_eq!(usage[0]["usage"], (2 * N).to_string(), "{usage}");
    assert_eq!(usage[0]["price"].as_f64(), Some(0.85), "{usage}");
    let total = usage.as_array().unwrap().last().unwrap();
    assert_eq!(total["usage"], "0.85", "{usage}");
    // And again, all at once: nothing changes.
    let bodies: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"accountId": w.account_id, "customerId": w.customers[i % 2], "callSid": c}))
        .collect();
    for r in race(&w.admin, &["/billables"], bodies).await {
        assert_eq!(r.status, 204, "{r:?}");
    }
    let again = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(again["totalCount"], N);
    assert_eq!(again["items"], page["items"]);
}
