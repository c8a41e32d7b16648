//! The ListUsageRecords answer cache, end to end over HTTP: a cached answer (JSON and JSV) is
//! outdated by the next `NewBillable` of its account, and only of its account; a Manager's
//! cached access and every error of domain.md 4.7 stay as without a cache; listings racing
//! inserts always end with the final totals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use billing_support::{Api, PW, sid, twilio_call};
use serde_json::{Value, json};

const MAY: &str = "startDate=2024-05-01&endDate=2024-05-31";

/// An account with a customer and `n` completed inbound local calls of 61 s (2 minutes each)
/// on 2 May 2024, not yet billed.
struct World {
    _app: common::TestApp,
    admin: Api,
    account_id: String,
    customer_id: String,
    calls: Vec<String>,
}

async fn world(n: u128, salt: u128) -> World {
    let app = common::spawn_app().await;
    let admin = Api::admin(&app);
    let (account_id, customer_id, calls) = account_with_calls(&admin, n, salt).await;
    World {
        _app: app,
        admin,
        account_id,
        customer_id,
        calls,
    }
}

async fn account_with_calls(admin: &Api, n: u128, salt: u128) -> (String, String, Vec<String>) {
    let account_sid = sid("AC", 0xcac4_e000 + salt);
    let account_id = admin.create_account("Cached", &account_sid).await;
    let customer_id = admin.create_customer(&account_id, "Customer").await;
    let calls: Vec<String> = (1..=n).map(|i| sid("CA", (salt << 32) + i)).collect();
    let twilio: Vec<Value> = calls
        .iter()
        .map(|c| {
            twilio_call(
                c,
                &account_sid,
                "+14155550100",
                "+13125550101",
                "inbound",
                "completed",
                (2, 10),
                Some(61),
            )
        })
        .collect();
    admin.import_calls(&twilio).await;
    (account_id, customer_id, calls)
}

async fn bill(api: &Api, account_id: &str, customer_id: &str, call: &str) {
    let r = api
        .new_billable(&json!({"accountId": account_id, "customerId": customer_id, "callSid": call}))
        .await;
    assert_eq!(r.status, 204, "{r:?}");
}

/// `(count, usage, price)` of the `calls` record, `None` for an empty answer.
fn calls_totals(body: &Value) -> Option<(i64, String, String)> {
    let records = body
        .as_array()
        .unwrap_or_else(|| panic!("an array: {body}"));
    let calls = records.iter().find(|r| r["category"] == "calls")?;
    Some((
        calls["count"].as_i64().unwrap(),
        calls["usage"].as_str().unwrap().to_string(),
        calls["price"].to_string(),
    ))
}

async fn usage(api: &Api, account_id: &str, range: &str) -> Value {
    let (st, body) = api
        .get(&format!("/billing/usage?accountId={account_id}&{range}"))
        .await;
    assert_eq!(st, 200, "{body}");
    body
}

async fn usage_jsv(api: &Api, account_id: &str) -> String {
    let r = api
        .raw(
            "GET",
            &format!("/billing/usage?accountId={account_id}&{MAY}&format=jsv"),
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[tokio::test]
async fn a_new_billable_outdates_the_cached_answer() {
    let w = world(3, 1).await;
    let (a, c) = (&w.account_id, &w.customer_id);

    // Empty, asked twice (the second time from the cache) in both cached formats.
    for _ in 0..2 {
        assert_eq!(usage(&w.admin, a, MAY).await, json!([]));
        assert_eq!(usage_jsv(&w.admin, a).await, "[]");
    }

    for (i, call) in w.calls.iter().enumerate() {
        bill(&w.admin, a, c, call).await;
        let n = i as i64 + 1;
        for _ in 0..2 {
            let body = usage(&w.admin, a, MAY).await;
            let (count, minutes, _) = calls_totals(&body).unwrap();
            assert_eq!((count, minutes), (n, (2 * n).to_string()), "{body}");
            let jsv = usage_jsv(&w.admin, a).await;
            assert!(
                jsv.contains(&format!("category:calls,count:{n},")),
                "{n}: {jsv}"
            );
        }
    }
    // A narrower range is its own answer, and a replayed NewBillable changes nothing.
    let first_day = usage(&w.admin, a, "startDate=2024-05-01&endDate=2024-05-01").await;
    assert_eq!(first_day, json!([]));
    bill(&w.admin, a, c, &w.calls[0]).await;
    let body = usage(&w.admin, a, MAY).await;
    assert_eq!(calls_totals(&body).unwrap().0, 3, "{body}");
    let body = usage(&w.admin, a, "startDate=2024-05-02&endDate=2024-05-02").await;
    assert_eq!(calls_totals(&body).unwrap().0, 3, "{body}");
}

#[tokio::test]
async fn other_accounts_and_access_rules_are_unaffected() {
    let w = world(2, 2).await;
    let (b, bc, b_calls) = account_with_calls(&w.admin, 1, 3).await;
    let (a, ac) = (&w.account_id, &w.customer_id);
    bill(&w.admin, a, ac, &w.calls[0]).await;
    bill(&w.admin, &b, &bc, &b_calls[0]).await;

    w.admin
        .create_user("cache-manager@example.com", &["Manager"], &[a])
        .await;
    let manager = w.admin.as_user("cache-manager@example.com", PW);
    // Cached for the administrator first, then read by the Manager: served to its linked
    // account (from the cache), refused for the other one (status as without a cache).
    for _ in 0..2 {
        assert_eq!(calls_totals(&usage(&w.admin, a, MAY).await).unwrap().0, 1);
        assert_eq!(calls_totals(&usage(&w.admin, &b, MAY).await).unwrap().0, 1);
        assert_eq!(calls_totals(&usage(&manager, a, MAY).await).unwrap().0, 1);
        let (st, body) = manager
            .get(&format!("/billing/usage?accountId={b}&{MAY}"))
            .await;
        assert_eq!(st, 403, "{body}");
        // The default account of a Manager with one link.
        let (st, body) = manager.get(&format!("/billing/usage?{MAY}")).await;
        assert_eq!((st, calls_totals(&body).unwrap().0), (200, 1), "{body}");
    }
    // Errors keep their order and codes with answers cached.
    let (st, body) = w
        .admin
        .get(&format!(
            "/billing/usage?accountId={a}&startDate=2024-5-01&endDate=2024-05-31"
        ))
        .await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        body["responseStatus"]["errors"][0]["fieldName"],
        "StartDate"
    );
    let (st, body) = w
        .admin
        .get(&format!("/billing/usage?accountId=nope&{MAY}"))
        .await;
    assert_eq!(st, 404, "{body}");
    let (st, body) = w.admin.get(&format!("/billing/usage?{MAY}")).await;
    assert_eq!(st, 400, "the administrator has no linked account: {body}");

    // Billing account A outdates A only; the Manager sees the new totals too.
    bill(&w.admin, a, ac, &w.calls[1]).await;
    assert_eq!(calls_totals(&usage(&manager, a, MAY).await).unwrap().0, 2);
    assert_eq!(calls_totals(&usage(&w.admin, a, MAY).await).unwrap().0, 2);
    assert_eq!(calls_totals(&usage(&w.admin, &b, MAY).await).unwrap().0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listings_racing_inserts_end_with_the_final_totals() {
    const N: usize = 24;
    let w = world(N as u128, 4).await;
    let (a, c) = (w.account_id.clone(), w.customer_id.clone());
    let mut tasks = Vec::new();
    for chunk in w.calls.chunks(6) {
        let (api, a, c, chunk) = (w.admin.clone(), a.clone(), c.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for call in chunk {
                bill(&api, &a, &c, &call).await;
                // Read-your-writes: never fewer than this task's own inserts so far.
                let _ = usage(&api, &a, MAY).await;
            }
        }));
    }
    let reader = {
        let (api, a) = (w.admin.clone(), a.clone());
        tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..40 {
                let count = calls_totals(&usage(&api, &a, MAY).await).map_or(0, |t| t.0);
                assert!(count >= last, "totals never go back: {count} after {last}");
                last = count;
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    reader.await.unwrap();
    for _ in 0..2 {
        let body = usage(&w.admin, &a, MAY).await;
        let (count, minutes, _) = calls_totals(&body).unwrap();
        assert_eq!((count, minutes), (N as i64, (2 * N).to_string()), "{body}");
    }
}
