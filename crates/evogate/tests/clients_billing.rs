//! The worked example of domain.md 4.7 end to end through the published ServiceStack clients
//! (TypeScript `@servicestack/client` 2.1.13, Python `servicestack` 0.1.15), driven by
//! `tests/clients/{node/billing.mjs,python/billing.py}`: as an administrator the driver creates
//! the account and the customer, imports the four Twilio calls, reports four NewBillable and
//! lists the usage records of May 2024; every field of the six records is checked here.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod clients_support;

use std::time::Duration;

use clients_support::{Checks, Client, hex32, run_driver, start_server, suffix, twilio_sid};
use serde_json::{Value, json};

/// (category, description, count, countUnit, usage, usageUnit, price)
#[rustfmt::skip]
const EXPECTED: [(&str, &str, i64, &str, &str, &str, f64); 6] = [
    ("calls",                  "Total Calls",                     3, "calls", "6",     "minutes", 0.096),
    ("calls-inbound",          "Inbound Voice Minutes",           2, "calls", "5",     "minutes", 0.083),
    ("calls-inbound-local",    "Inbound Local Voice Minutes",     1, "calls", "2",     "minutes", 0.017),
    ("calls-inbound-tollfree", "Inbound Toll-Free Voice Minutes", 1, "calls", "3",     "minutes", 0.066),
    ("calls-outbound",         "Outbound Voice Minutes",          1, "calls", "1",     "minutes", 0.013),
    ("totalprice",             "Total Price",                     0, "",      "0.096", "usd",     0.096),
];

async fn billing(client: Client) {
    let server = start_server().await;
    let account_sid = twilio_sid("AC");
    // CA…01 … CA…04 of the worked example, unique per run
    let stem = &hex32()[..30];
    let call_sids: Vec<String> = (1..=4).map(|i| format!("CA{stem}{i:02}")).collect();
    let cfg = json!({
        "adminUser": server.admin_user,
        "adminPassword": server.admin_password,
        "twilioAccountSid": account_sid,
        "callSids": call_sids,
        "suffix": suffix(),
    });
    let report = run_driver(
        client,
        "billing",
        &server.base_url,
        &cfg,
        Duration::from_secs(120),
    )
    .await;
    let mut c = Checks::new(format!("{} billing", client.name()), &report);
    c.eq("/client", client.name());
    c.succeeded("/login", 200);
    if c.succeeded("/account", 200) {
        c.non_empty_str("/account/response/id");
        c.eq("/account/response/twilioAccountSid", account_sid.as_str());
        c.eq("/account/response/priceUnit", "usd");
    }
    if c.succeeded("/customer", 200) {
        c.non_empty_str("/customer/response/id");
        c.eq("/customer/response/accountId", c.at("/accountId").clone());
    }
    if c.succeeded("/import", 200) {
        c.eq("/import/response/imported", 4);
        c.eq("/import/response/updated", 0);
    }
    for i in 0..4 {
        c.succeeded(&format!("/billables/{i}"), 204);
        c.sent(&format!("/billables/{i}"), &["POST /api/NewBillable"]);
    }
    c.sent("/usage", &["GET /api/ListUsageRecords"]);
    if c.succeeded("/usage", 200) {
        let records = c
            .at("/usage/response")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let categories: Vec<&str> = records
            .iter()
            .filter_map(|r| r.get("category").and_then(Value::as_str))
            .collect();
        let want: Vec<&str> = EXPECTED.iter().map(|e| e.0).collect();
        c.check(categories == want, || {
            format!("/usage: expected the categories {want:?} in this order, got {categories:?}")
        });
        for (category, description, count, count_unit, usage, usage_unit, price) in EXPECTED {
            let Some(record) = records
                .iter()
                .position(|r| r.get("category").and_then(Value::as_str) == Some(category))
            else {
                continue; // reported by the category check
            };
            let uri = format!(
                "/2010-04-01/Accounts/{account_sid}/Usage/Records.json?Category={category}&StartDate=2024-05-01&EndDate=2024-05-31"
            );
            let fields = [
                ("accountSid", json!(account_sid)),
                ("category", json!(category)),
                ("description", json!(description)),
                ("count", json!(count)),
                ("countUnit", json!(count_unit)),
                ("usage", json!(usage)),
                ("usageUnit", json!(usage_unit)),
                ("price", json!(price)),
                ("priceUnit", json!("usd")),
                ("startDate", json!("2024-05-01")),
                ("endDate", json!("2024-05-31")),
                ("uri", json!(uri)),
            ];
            for (field, value) in fields {
                c.eq(&format!("/usage/response/{record}/{field}"), value);
            }
        }
    }
    c.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_client_worked_example() {
    billing(Client::TypeScript).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_worked_example() {
    billing(Client::Python).await;
}
