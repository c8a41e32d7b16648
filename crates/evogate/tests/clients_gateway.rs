//! Gateway behaviour as the published ServiceStack clients see it (TypeScript
//! `@servicestack/client` 2.1.13, Python `servicestack` 0.1.15), driven by
//! `tests/clients/{node/gateway.mjs,python/gateway.py}`: GET and POST on `/api/{Name}` and on
//! `/json/reply/{Name}`, a 204 void POST, a 400 validation error in the client's exception, and a
//! batch (`sendAll` / `send_all`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod clients_support;

use std::time::Duration;

use clients_support::{
    Admin, Checks, Client, Server, completed_inbound_call, run_driver, start_server, suffix,
    twilio_sid,
};
use serde_json::{Value, json};

struct Seeded {
    account_id: String,
    customer_id: String,
    call_sid: String,
}

async fn seed(server: &Server) -> Seeded {
    let admin = Admin::login(server).await;
    let (account_id, account_sid) = admin.new_account("Gateway clients").await;
    let customer_id = admin.new_customer(&account_id, "Gateway customer").await;
    let call_sid = twilio_sid("CA");
    admin
        .import_calls(vec![completed_inbound_call(&call_sid, &account_sid)])
        .await;
    Seeded {
        account_id,
        customer_id,
        call_sid,
    }
}

async fn gateway(client: Client) {
    let server = start_server().await;
    let seeded = seed(&server).await;
    let sfx = suffix();
    let cfg = json!({
        "adminUser": server.admin_user,
        "adminPassword": server.admin_password,
        "accountId": seeded.account_id,
        "customerId": seeded.customer_id,
        "callSid": seeded.call_sid,
        "suffix": sfx,
    });
    let report = run_driver(
        client,
        "gateway",
        &server.base_url,
        &cfg,
        Duration::from_secs(120),
    )
    .await;
    let prefix = match client {
        Client::TypeScript => "ts",
        Client::Python => "py",
    };
    let mut c = Checks::new(format!("{} gateway", client.name()), &report);
    c.eq("/client", client.name());
    c.succeeded("/login", 200);
    c.sent("/login", &["POST /api/Authenticate"]);

    for (route, base) in [("api", "/api"), ("reply", "/json/reply")] {
        // GET: ListCustomers -> the seeded customer is listed
        let get = format!("/{route}/get");
        if c.succeeded(&get, 200) {
            let items = c
                .at(&format!("{get}/response/items"))
                .as_array()
                .cloned()
                .unwrap_or_default();
            c.check(
                items.iter().any(|i| {
                    i.get("id").and_then(Value::as_str) == Some(seeded.customer_id.as_str())
                }),
                || {
                    format!(
                        "{get}: the seeded customer {} is not in items",
                        seeded.customer_id
                    )
                },
            );
            c.check(
                c.at(&format!("{get}/response/totalCount"))
                    .as_i64()
                    .is_some_and(|n| n >= 1),
                || format!("{get}: totalCount should be >= 1"),
            );
        }
        c.sent(&get, &[&format!("GET {base}/ListCustomers")]);

        // POST: NewCustomer -> CustomerInfo echoing what was sent
        let post = format!("/{route}/post");
        if c.succeeded(&post, 200) {
            c.non_empty_str(&format!("{post}/response/id"));
            c.eq(
                &format!("{post}/response/name"),
                format!("{prefix}-{route}-{sfx}"),
            );
            c.eq(
                &format!("{post}/response/accountId"),
                seeded.account_id.as_str(),
            );
            c.eq(
                &format!("{post}/response/referenceId"),
                format!("ref-{route}"),
            );
        }
        c.sent(&post, &[&format!("POST {base}/NewCustomer")]);

        // Error: NewBillable with an invalid callSid -> 400, errors[] names CallSid
        let err = format!("/{route}/error");
        let rs = c.failed(&err, 400).clone();
        c.check(
            rs.get("errorCode")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            || format!("{err}: responseStatus.errorCode missing: {rs}"),
        );
        c.check(
            rs.get("message")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty()),
            || format!("{err}: responseStatus.message missing: {rs}"),
        );
        let errors = rs
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match errors
            .iter()
            .find(|e| e.get("fieldName").and_then(Value::as_str) == Some("CallSid"))
        {
            Some(e) => {
                c.check(
                    e.get("errorCode")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty()),
                    || format!("{err}: the CallSid field error has no errorCode: {e}"),
                );
                c.check(
                    e.get("message")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty()),
                    || format!("{err}: the CallSid field error has no message: {e}"),
                );
            }
            None => c.fail(format!(
                "{err}: no responseStatus.errors[] entry with fieldName \"CallSid\": {rs}"
            )),
        }
        c.sent(&err, &[&format!("POST {base}/NewBillable")]);

        // Batch: two NewCustomer in one POST {Name}[] -> an array of two CustomerInfo
        let batch = format!("/{route}/batch");
        if c.succeeded(&batch, 200) {
            let items = c
                .at(&format!("{batch}/response"))
                .as_array()
                .cloned()
                .unwrap_or_default();
            let names: Vec<&str> = items
                .iter()
                .filter_map(|i| i.get("name").and_then(Value::as_str))
                .collect();
            let want = [
                format!("{prefix}-{route}-batch1-{sfx}"),
                format!("{prefix}-{route}-batch2-{sfx}"),
            ];
            c.check(
                names == want.iter().map(String::as_str).collect::<Vec<_>>(),
                || format!("{batch}: expected the two customers {want:?} in order, got {names:?}"),
            );
            c.check(
                items.iter().all(|i| {
                    i.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.is_empty())
                }),
                || format!("{batch}: every CustomerInfo needs an id"),
            );
        }
        let sent_batch = c
            .at(&format!("{batch}/requests/0"))
            .as_str()
            .unwrap_or_default()
            .replace("%5B%5D", "[]");
        c.check(sent_batch == format!("POST {base}/NewCustomer[]"), || {
            format!("{batch}: expected POST {base}/NewCustomer[] (raw or %5B%5D), the client sent {sent_batch:?}")
        });

        // Void: NewBillable for a completed call -> 204, which the client turns into no value
        let void = format!("/{route}/void");
        if c.succeeded(&void, 204) {
            let resp = c.at(&format!("{void}/response"));
            let empty = match client {
                // createResponse() of a void DTO returns undefined; null when the 204 says JSON
                Client::TypeScript => resp == &json!("<undefined>") || resp.is_null(),
                Client::Python => resp.is_null(),
            };
            c.check(empty, || {
                format!("{void}: expected no response value for 204, got {resp}")
            });
        }
        c.sent(&void, &[&format!("POST {base}/NewBillable")]);
    }
    if client == Client::TypeScript {
        // JsonApiClient.create() posts its JSON as text/plain;charset=UTF-8
        if c.succeeded("/jsonApiClient", 200) {
            c.eq(
                "/jsonApiClient/response/name",
                format!("ts-jsonapiclient-{sfx}"),
            );
            c.non_empty_str("/jsonApiClient/response/id");
        }
        c.sent("/jsonApiClient", &["POST /api/NewCustomer"]);
    }
    c.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_client_gateway() {
    gateway(Client::TypeScript).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_gateway() {
    gateway(Client::Python).await;
}
