//! Rating over HTTP against a real evogate (127.0.0.1:0, SQLite file in a temp dir), domain.md
//! 4.4-4.5 and decisions.md 27:
//!
//! * rate resolution: customer → parent customers → account → system default, set with
//!   `PUT /rates` (a Manager may set customer rates of their accounts, not default or account
//!   rates; roll-up categories and negative prices are 400);
//! * billed minutes are `max(1, ceil(seconds / 60))` (0 s and 1 s are one minute, 60 s is one,
//!   61 s is two);
//! * prices are rounded half-up to 5 decimals per billable and totals are sums of the rounded
//!   line prices (3 × round(0.000015) = 0.00006, not round(0.000045) = 0.00005);
//! * billables keep the rate of their creation: a later rate change alters only new ones;
//! * classification: `client:` addresses are `calls-client`, which has its own record and
//!   counts in `totalprice` but not in `calls`; every toll-free prefix of 4.4 is toll-free,
//!   `trunking-originating` is inbound, `outbound-dial` and `trunking-terminating` outbound.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use billing_support::{Api, PW, sid, twilio_call};
use serde_json::{Value, json};

struct World {
    _app: common::TestApp,
    admin: Api,
    account: String,
    account_sid: String,
    next_call: u128,
}

impl World {
    async fn new() -> World {
        let app = common::spawn_app().await;
        let admin = Api::admin(&app);
        let account_sid = sid("AC", 0x4a7e);
        let account = admin.create_account("Rated", &account_sid).await;
        World {
            _app: app,
            admin,
            account,
            account_sid,
            next_call: 0,
        }
    }

    /// Imports one completed call of `seconds` on 10 May 2024 and bills it to `customer`;
    /// returns its SID.
    async fn bill(
        &mut self,
        customer: &str,
        from: &str,
        to: &str,
        direction: &str,
        seconds: u32,
    ) -> String {
        self.next_call += 1;
        let c = sid("CA", 0x4a7e_0000 + self.next_call);
        self.admin
            .import_calls(&[twilio_call(
                &c,
                &self.account_sid,
                from,
                to,
                direction,
                "completed",
                (10, 9),
                Some(seconds),
            )])
            .await;
        let r = self
            .admin
            .new_billable(&json!({"accountId": self.account, "customerId": customer, "callSid": c}))
            .await;
        assert_eq!(r.status, 204, "{r:?}");
        c
    }

    async fn billable(&self, call: &str) -> Value {
        let page = self.admin.billables_may_2024(&self.account).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["callSid"] == json!(call))
            .unwrap_or_else(|| panic!("no billable for {call}: {page}"))
            .clone()
    }

    /// The usage records of May 2024 by category: (count, usage, price).
    async fn usage(&self) -> Vec<(String, i64, String, f64)> {
        self.admin
            .usage_may_2024(&self.account)
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["category"].as_str().unwrap().to_string(),
                    r["count"].as_i64().unwrap(),
                    r["usage"].as_str().unwrap().to_string(),
                    r["price"].as_f64().unwrap(),
                )
            })
            .collect()
    }
}

async fn set_rate(api: &Api, body: Value) -> (u16, Value) {
    let res = api
        .http
        .put(api.url("/rates"))
        .header("Authorization", &api.auth)
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let st = res.status().as_u16();
    (st, res.json().await.unwrap_or(Value::Null))
}

const LOCAL: (&str, &str, &str) = ("+14155550100", "+13125550101", "inbound");
const OUTBOUND: (&str, &str, &str) = ("+13125550101", "+14155550100", "outbound-api");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billed_minutes_round_up_per_call() {
    let mut w = World::new().await;
    let c = w.admin.create_customer(&w.account, "c").await;
    let (f, t, d) = OUTBOUND;
    for (seconds, minutes, price) in [
        (0, 1, 0.013),
        (1, 1, 0.013),
        (59, 1, 0.013),
        (60, 1, 0.013),
        (61, 2, 0.026),
        (120, 2, 0.026),
        (3599, 60, 0.78),
        (3601, 61, 0.793),
    ] {
        let call = w.bill(&c, f, t, d, seconds).await;
        let b = w.billable(&call).await;
        assert_eq!(b["durationSeconds"], seconds, "{b}");
        assert_eq!(b["billedMinutes"], minutes, "{seconds} s: {b}");
        assert_eq!(b["price"].as_f64(), Some(price), "{seconds} s: {b}");
        assert_eq!(b["unitPrice"].as_f64(), Some(0.013), "{b}");
        assert_eq!(b["billed"], true, "{b}");
    }
    let usage = w.usage().await;
    // 1+1+1+1+2+2+60+61 = 129 minutes, 129 x 0.013 = 1.677
    assert_eq!(
        usage,
        vec![
            ("calls".to_string(), 8, "129".to_string(), 1.677),
            ("calls-outbound".to_string(), 8, "129".to_string(), 1.677),
            ("totalprice".to_string(), 0, "1.677".to_string(), 1.677),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_resolve_round_and_are_snapshotted() {
    let mut w = World::new().await;
    let a = w.account.clone();
    let parent = w.admin.create_customer(&a, "parent").await;
    let (st, child) = w
        .admin
        .post(
            "/customers",
            &json!({"accountId": a, "name": "child", "parentCustomerId": parent}),
        )
        .await;
    assert_eq!(st, 200, "{child}");
    let child = child["id"].as_str().unwrap().to_string();
    let other = w.admin.create_customer(&a, "other").await;

    // An account rate of 0.000015 for outbound; a parent-customer rate of 0.01 for local.
    let (st, rate) = set_rate(
        &w.admin,
        json!({"accountId": a, "category": "calls-outbound", "unitPrice": 0.000015}),
    )
    .await;
    assert_eq!(st, 200, "{rate}");
    assert_eq!(rate["accountId"], json!(a));
    assert!(rate.get("customerId").is_none(), "{rate}");
    assert_eq!(rate["category"], "calls-outbound");
    assert_eq!(rate["unitPrice"].as_f64(), Some(0.000015));
    let (st, rate) = set_rate(
        &w.admin,
        json!({"accountId": a, "customerId": parent, "category": "calls-inbound-local", "unitPrice": "0.01"}),
    )
    .await;
    assert_eq!(st, 200, "{rate}");

    // Three one-minute outbound calls of the child: each 0.000015 → 0.00002 (half-up, 5 dp);
    // the total is the sum of the rounded prices.
    let (f, t, d) = OUTBOUND;
    let mut outbound = Vec::new();
    for _ in 0..3 {
        outbound.push(w.bill(&child, f, t, d, 30).await);
    }
    for c in &outbound {
        let b = w.billable(c).await;
        assert_eq!(b["unitPrice"].as_f64(), Some(0.000015), "{b}");
        assert_eq!(b["price"].as_f64(), Some(0.00002), "{b}");
    }
    // Local calls: the child inherits the parent's rate, the other customer gets the default.
    let (f, t, d) = LOCAL;
    let child_local = w.bill(&child, f, t, d, 61).await;
    let other_local = w.bill(&other, f, t, d, 61).await;
    let b = w.billable(&child_local).await;
    assert_eq!(
        (b["unitPrice"].as_f64(), b["price"].as_f64()),
        (Some(0.01), Some(0.02)),
        "{b}"
    );
    let b = w.billable(&other_local).await;
    assert_eq!(
        (b["unitPrice"].as_f64(), b["price"].as_f64()),
        (Some(0.0085), Some(0.017)),
        "{b}"
    );
    // A customer rate for the child itself wins over its parent's.
    let (st, _) = set_rate(
        &w.admin,
        json!({"accountId": a, "customerId": child, "category": "calls-inbound-local", "unitPrice": 0.005}),
    )
    .await;
    assert_eq!(st, 200);
    let child_local_2 = w.bill(&child, f, t, d, 60).await;
    assert_eq!(
        w.billable(&child_local_2).await["price"].as_f64(),
        Some(0.005)
    );

    let usage = w.usage().await;
    assert_eq!(
        usage,
        vec![
            ("calls".to_string(), 6, "8".to_string(), 0.04206),
            ("calls-inbound".to_string(), 3, "5".to_string(), 0.042),
            ("calls-inbound-local".to_string(), 3, "5".to_string(), 0.042),
            ("calls-outbound".to_string(), 3, "3".to_string(), 0.00006),
            ("totalprice".to_string(), 0, "0.04206".to_string(), 0.04206),
        ]
    );
    let text = w
        .admin
        .http
        .get(w.admin.url(&format!(
            "/billing/usage?accountId={a}&startDate=2024-05-01&endDate=2024-05-31"
        )))
        .header("Authorization", &w.admin.auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("\"usage\":\"0.04206\""),
        "the total as a plain decimal string: {text}"
    );
    assert!(
        text.contains("\"category\":\"calls-outbound\",\"count\":3,")
            && text.contains("\"price\":0.00006,"),
        "small prices as plain JSON numbers, not 6e-5: {text}"
    );

    // Snapshot: raising the rates changes nothing already billed, only new billables.
    for body in [
        json!({"accountId": a, "category": "calls-outbound", "unitPrice": 1}),
        json!({"category": "calls-inbound-local", "unitPrice": 2}),
        json!({"accountId": a, "customerId": parent, "category": "calls-inbound-local", "unitPrice": 3}),
    ] {
        let (st, r) = set_rate(&w.admin, body).await;
        assert_eq!(st, 200, "{r}");
    }
    assert_eq!(w.usage().await, usage);
    let (f, t, d) = OUTBOUND;
    let late = w.bill(&child, f, t, d, 30).await;
    assert_eq!(w.billable(&late).await["price"].as_f64(), Some(1.0));
    let (f, t, d) = LOCAL;
    let late = w.bill(&other, f, t, d, 30).await;
    assert_eq!(w.billable(&late).await["price"].as_f64(), Some(2.0));
    let late = w.bill(&child, f, t, d, 30).await;
    assert_eq!(
        w.billable(&late).await["price"].as_f64(),
        Some(0.005),
        "the child's own rate still wins"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_rate_permissions_and_validation() {
    let w = World::new().await;
    let a = w.account.clone();
    let c = w.admin.create_customer(&a, "c").await;
    let other_sid = sid("AC", 0x07e4);
    let other = w.admin.create_account("Other", &other_sid).await;
    let oc = w.admin.create_customer(&other, "oc").await;
    w.admin
        .create_user("rates-manager@example.com", &["Manager"], &[&a])
        .await;
    let manager = w.admin.as_user("rates-manager@example.com", PW);

    for (body, status, field) in [
        (
            json!({"category": "calls", "unitPrice": 0.1}),
            400,
            Some("Category"),
        ),
        (
            json!({"category": "totalprice", "unitPrice": 0.1}),
            400,
            Some("Category"),
        ),
        (
            json!({"category": "calls-inbound", "unitPrice": 0.1}),
            400,
            Some("Category"),
        ),
        (
            json!({"category": "sms", "unitPrice": 0.1}),
            400,
            Some("Category"),
        ),
        (
            json!({"category": "calls-outbound", "unitPrice": -0.1}),
            400,
            Some("UnitPrice"),
        ),
        (
            json!({"category": "calls-outbound", "unitPrice": 0.0000001}),
            400,
            Some("UnitPrice"),
        ),
        (
            json!({"category": "calls-outbound"}),
            400,
            Some("UnitPrice"),
        ),
    ] {
        let (st, r) = set_rate(&w.admin, body.clone()).await;
        assert_eq!(st, status, "{body}: {r}");
        assert_eq!(
            r["responseStatus"]["errors"][0]["fieldName"].as_str(),
            field,
            "{body}: {r}"
        );
    }
    // A Manager: customer rates in their accounts only.
    for (body, status) in [
        (json!({"category": "calls-outbound", "unitPrice": 0.1}), 403),
        (
            json!({"accountId": a, "category": "calls-outbound", "unitPrice": 0.1}),
            403,
        ),
        (
            json!({"accountId": other, "customerId": oc, "category": "calls-outbound", "unitPrice": 0.1}),
            403,
        ),
        (
            json!({"customerId": oc, "category": "calls-outbound", "unitPrice": 0.1}),
            403,
        ),
        (
            json!({"accountId": a, "customerId": c, "category": "calls-outbound", "unitPrice": 0.1}),
            200,
        ),
        (
            json!({"customerId": c, "category": "calls-client", "unitPrice": 0.5}),
            200,
        ),
    ] {
        let (st, r) = set_rate(&manager, body.clone()).await;
        assert_eq!(st, status, "{body}: {r}");
        if st == 403 {
            assert_eq!(r["responseStatus"]["errorCode"], "Forbidden", "{r}");
        }
    }
    // A customer of another account under this account: 400.
    let (st, r) = set_rate(
        &w.admin,
        json!({"accountId": a, "customerId": oc, "category": "calls-outbound", "unitPrice": 0.1}),
    )
    .await;
    assert_eq!(st, 400, "{r}");
    assert_eq!(r["responseStatus"]["errors"][0]["fieldName"], "CustomerId");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn categories_of_every_kind_of_call() {
    let mut w = World::new().await;
    let c = w.admin.create_customer(&w.account, "c").await;
    let mut expect = Vec::new();
    for prefix in ["800", "833", "844", "855", "866", "877", "888"] {
        let to = format!("+1{prefix}5550100");
        let call = w.bill(&c, "+14155550100", &to, "inbound", 60).await;
        expect.push((call, "calls-inbound-tollfree"));
    }
    for (from, to, direction, category) in [
        (
            "+14155550100",
            "+18995550100",
            "inbound",
            "calls-inbound-local",
        ),
        (
            "+14155550100",
            "+448005550100",
            "inbound",
            "calls-inbound-local",
        ),
        (
            "+14155550100",
            "+18005550100",
            "trunking-originating",
            "calls-inbound-tollfree",
        ),
        (
            "+14155550100",
            "+13125550100",
            "trunking-originating",
            "calls-inbound-local",
        ),
        (
            "+14155550100",
            "+18005550100",
            "outbound-dial",
            "calls-outbound",
        ),
        (
            "+14155550100",
            "+13125550100",
            "trunking-terminating",
            "calls-outbound",
        ),
        (
            "client:alice",
            "+13125550100",
            "outbound-api",
            "calls-client",
        ),
        ("+14155550100", "client:bob", "inbound", "calls-client"),
    ] {
        let call = w.bill(&c, from, to, direction, 60).await;
        expect.push((call, category));
    }
    for (call, category) in &expect {
        assert_eq!(w.billable(call).await["category"], *category, "{call}");
    }
    // 8 toll-free (0.022), 3 local (0.0085), 2 outbound (0.013), 2 client (0.004), 1 min each.
    assert_eq!(
        w.usage().await,
        vec![
            ("calls".to_string(), 13, "13".to_string(), 0.2275),
            ("calls-inbound".to_string(), 11, "11".to_string(), 0.2015),
            (
                "calls-inbound-local".to_string(),
                3,
                "3".to_string(),
                0.0255
            ),
            (
                "calls-inbound-tollfree".to_string(),
                8,
                "8".to_string(),
                0.176
            ),
            ("calls-outbound".to_string(), 2, "2".to_string(), 0.026),
            ("calls-client".to_string(), 2, "2".to_string(), 0.008),
            ("totalprice".to_string(), 0, "0.2355".to_string(), 0.2355),
        ]
    );
}
