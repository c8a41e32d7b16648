//! The worked example of domain.md 4.7, end to end over HTTP against a real evogate (127.0.0.1:0,
//! SQLite file in a temp dir): as the seeded administrator, create an account and a customer,
//! import the four Twilio calls of May 2024 (`POST /calls`, Twilio's snake_case JSON), report
//! four `NewBillable` (`POST /billables` → 204, empty body), then read
//! `ListUsageRecords` for 2024-05-01..2024-05-31 and check every field of the six records
//! (`calls`, `calls-inbound`, `calls-inbound-local`, `calls-inbound-tollfree`,
//! `calls-outbound`, `totalprice`):
//!
//! * in JSON (`GET /billing/usage`, `/api/ListUsageRecords`, `/json/reply/ListUsageRecords`):
//!   `count` a JSON integer, `price` a JSON number, `usage` a string, nothing else in a record;
//! * in JSV (`.jsv` suffix, `?format=jsv`, `Accept: text/jsv` or `application/jsv`,
//!   `/jsv/reply`), parsed with the project's `jsv` crate both into a typed struct and as an
//!   untyped `jsv::Value` (the raw tokens);
//! * in XML (`.xml`, `Accept`, `/xml/reply`), byte for byte in the `DataContractSerializer`
//!   layout of decisions.md 11;
//! * as a Manager linked to the account (created with `POST /users`), with and without
//!   `accountId` (the only linked account is the default);
//! * with the four billables reported in every request shape clients use (JSON, JSV, form,
//!   query string, XML, JSON labelled `text/plain`; REST and generic routes).
//!
//! Also: the operator's billable audit (`GET /billables`) shows the four rated line items of
//! 4.5; usage days are UTC days of the call's start; and the import accepts one Twilio Call
//! object as well as a list page (domain.md 4.8).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use billing_support::{Api, PW, sid, twilio_call};
use serde::Deserialize;
use serde_json::{Value, json};

/// (category, description, count, countUnit, usage, usageUnit, price, price as written)
type Expected = (
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
);

#[rustfmt::skip]
const EXPECTED: [Expected; 6] = [
    ("calls",                  "Total Calls",                     3, "calls", "6",     "minutes", 0.096, "0.096"),
    ("calls-inbound",          "Inbound Voice Minutes",           2, "calls", "5",     "minutes", 0.083, "0.083"),
    ("calls-inbound-local",    "Inbound Local Voice Minutes",     1, "calls", "2",     "minutes", 0.017, "0.017"),
    ("calls-inbound-tollfree", "Inbound Toll-Free Voice Minutes", 1, "calls", "3",     "minutes", 0.066, "0.066"),
    ("calls-outbound",         "Outbound Voice Minutes",          1, "calls", "1",     "minutes", 0.013, "0.013"),
    ("totalprice",             "Total Price",                     0, "",      "0.096", "usd",     0.096, "0.096"),
];

const FIELDS: [&str; 12] = [
    "accountSid",
    "category",
    "count",
    "countUnit",
    "description",
    "endDate",
    "price",
    "priceUnit",
    "startDate",
    "usage",
    "usageUnit",
    "uri",
];

const RANGE: &str = "startDate=2024-05-01&endDate=2024-05-31";

/// A usage record as a typed client would read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UsageRecord {
    account_sid: String,
    category: String,
    count: i64,
    count_unit: String,
    description: String,
    end_date: String,
    price: f64,
    price_unit: String,
    start_date: String,
    usage: String,
    usage_unit: String,
    uri: String,
}

struct World {
    _app: common::TestApp,
    admin: Api,
    account_id: String,
    account_sid: String,
    customer_id: String,
    calls: Vec<String>,
}

fn uri(account_sid: &str, category: &str) -> String {
    format!(
        "/2010-04-01/Accounts/{account_sid}/Usage/Records.json?Category={category}&StartDate=2024-05-01&EndDate=2024-05-31"
    )
}

/// The four calls of the worked example for `account_sid`.
fn worked_example_calls(account_sid: &str, calls: &[String]) -> Vec<Value> {
    vec![
        twilio_call(
            &calls[0],
            account_sid,
            "+14155550100",
            "+13125550101",
            "inbound",
            "completed",
            (2, 10),
            Some(75),
        ),
        twilio_call(
            &calls[1],
            account_sid,
            "+14155550100",
            "+18005550102",
            "inbound",
            "completed",
            (15, 12),
            Some(130),
        ),
        twilio_call(
            &calls[2],
            account_sid,
            "+13125550101",
            "+14155550103",
            "outbound-api",
            "completed",
            (31, 23),
            Some(30),
        ),
        twilio_call(
            &calls[3],
            account_sid,
            "+14155550100",
            "+13125550101",
            "inbound",
            "busy",
            (20, 9),
            Some(0),
        ),
    ]
}

/// Steps 1-4 of the example: account, customer, calls, billables.
async fn worked_example() -> World {
    let w = worked_example_unbilled().await;
    for call in &w.calls {
        let r = w
            .admin
            .new_billable(
                &json!({"accountId": w.account_id, "customerId": w.customer_id, "callSid": call}),
            )
            .await;
        assert_eq!((r.status, r.reason.as_str()), (204, "No Content"), "{r:?}");
        assert_eq!(r.body, "", "NewBillable answers with an empty body");
    }
    w
}

/// Steps 1-3 of the example: account, customer, calls.
async fn worked_example_unbilled() -> World {
    let app = common::spawn_app().await;
    let admin = Api::admin(&app);
    let account_sid = sid("AC", 0x5eed_0001);
    let account_id = admin.create_account("Worked Example", &account_sid).await;
    let customer_id = admin.create_customer(&account_id, "Customer One").await;
    let calls: Vec<String> = (1..=4).map(|i| sid("CA", 0xe0_0000 + i)).collect();
    admin
        .import_calls(&worked_example_calls(&account_sid, &calls))
        .await;
    World {
        _app: app,
        admin,
        account_id,
        account_sid,
        customer_id,
        calls,
    }
}

/// Checks the six records of a JSON answer, field by field, and their raw number forms.
fn check_json_records(body: &Value, account_sid: &str, ctx: &str) {
    let records = body
        .as_array()
        .unwrap_or_else(|| panic!("{ctx}: a bare JSON array, got {body}"));
    let categories: Vec<&str> = records
        .iter()
        .map(|r| r["category"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        categories,
        EXPECTED.map(|e| e.0).to_vec(),
        "{ctx}: categories in canonical order"
    );
    for (r, (category, description, count, count_unit, usage, usage_unit, price, _)) in
        records.iter().zip(EXPECTED)
    {
        let ctx = format!("{ctx} {category}");
        let obj = r.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = FIELDS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "{ctx}: exactly the record's fields");
        assert_eq!(r["accountSid"], json!(account_sid), "{ctx}");
        assert_eq!(r["category"], json!(category), "{ctx}");
        assert!(
            r["count"].is_i64(),
            "{ctx}: count is a JSON integer: {}",
            r["count"]
        );
        assert_eq!(r["count"].as_i64(), Some(count), "{ctx}");
        assert_eq!(r["countUnit"], json!(count_unit), "{ctx}");
        assert_eq!(r["description"], json!(description), "{ctx}");
        assert_eq!(r["endDate"], json!("2024-05-31"), "{ctx}");
        assert!(
            r["price"].is_number(),
            "{ctx}: price is a JSON number: {}",
            r["price"]
        );
        assert_eq!(r["price"].as_f64(), Some(price), "{ctx}");
        assert_eq!(r["priceUnit"], json!("usd"), "{ctx}");
        assert_eq!(r["startDate"], json!("2024-05-01"), "{ctx}");
        assert!(
            r["usage"].is_string(),
            "{ctx}: usage is a string: {}",
            r["usage"]
        );
        assert_eq!(r["usage"], json!(usage), "{ctx}");
        assert_eq!(r["usageUnit"], json!(usage_unit), "{ctx}");
        assert_eq!(r["uri"], json!(uri(account_sid, category)), "{ctx}");
    }
}

/// The raw JSON text: integers without a fraction, prices as plain short decimals.
fn check_json_text(text: &str, ctx: &str) {
    for (category, _, count, _, _, _, _, price_text) in EXPECTED {
        let needle = format!("\"category\":\"{category}\",\"count\":{count},");
        assert!(text.contains(&needle), "{ctx}: {needle} in {text}");
        let needle = format!("\"price\":{price_text},");
        assert!(text.contains(&needle), "{ctx}: {needle} in {text}");
    }
}

/// GET `path` with `accept`; the status, the content type and the body.
async fn fetch(api: &Api, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut req = api
        .http
        .get(api.url(path))
        .header("Authorization", &api.auth);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

async fn check_json_route(api: &Api, path: &str, account_sid: &str) {
    let (st, ct, text) = fetch(api, path, Some("application/json")).await;
    assert_eq!(st, 200, "{path}: {text}");
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    check_json_text(&text, path);
    check_json_records(&serde_json::from_str(&text).unwrap(), account_sid, path);
}

fn check_jsv(text: &str, account_sid: &str, ctx: &str) {
    // Typed, as a client deserialises it.
    let typed: Vec<UsageRecord> =
        jsv::from_str(text).unwrap_or_else(|e| panic!("{ctx}: {e} in {text}"));
    assert_eq!(typed.len(), 6, "{ctx}: {text}");
    for (r, (category, description, count, count_unit, usage, usage_unit, price, _)) in
        typed.iter().zip(EXPECTED)
    {
        let ctx = format!("{ctx} {category}");
        assert_eq!(r.account_sid, account_sid, "{ctx}");
        assert_eq!(r.category, category, "{ctx}");
        assert_eq!(r.count, count, "{ctx}");
        assert_eq!(r.count_unit, count_unit, "{ctx}");
        assert_eq!(r.description, description, "{ctx}");
        assert_eq!(r.end_date, "2024-05-31", "{ctx}");
        assert_eq!(r.price, price, "{ctx}");
        assert_eq!(r.price_unit, "usd", "{ctx}");
        assert_eq!(r.start_date, "2024-05-01", "{ctx}");
        assert_eq!(r.usage, usage, "{ctx}");
        assert_eq!(r.usage_unit, usage_unit, "{ctx}");
        assert_eq!(r.uri, uri(account_sid, category), "{ctx}");
    }
    // Untyped: the tokens as written, in the member order of the DTO.
    let value: jsv::Value = jsv::from_str(text).unwrap();
    let jsv::Value::List(items) = value else {
        panic!("{ctx}: a JSV list, got {text}");
    };
    assert_eq!(items.len(), 6, "{ctx}");
    for (item, (category, description, count, count_unit, usage, usage_unit, _, price_text)) in
        items.iter().zip(EXPECTED)
    {
        let jsv::Value::Map(members) = item else {
            panic!("{ctx}: a JSV map, got {item:?}");
        };
        let got: Vec<(&str, Option<&str>)> = members
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let count = count.to_string();
        let uri = uri(account_sid, category);
        let want: Vec<(&str, Option<&str>)> = vec![
            ("accountSid", Some(account_sid)),
            ("category", Some(category)),
            ("count", Some(&count)),
            ("countUnit", Some(count_unit)),
            ("description", Some(description)),
            ("endDate", Some("2024-05-31")),
            ("price", Some(price_text)),
            ("priceUnit", Some("usd")),
            ("startDate", Some("2024-05-01")),
            ("usage", Some(usage)),
            ("usageUnit", Some(usage_unit)),
            ("uri", Some(&uri)),
        ];
        assert_eq!(got, want, "{ctx} {category}: {text}");
    }
    // The empty countUnit of totalprice is written as "" (an empty token would read as null).
    assert!(text.contains("countUnit:\"\""), "{ctx}: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_in_json() {
    let w = worked_example().await;
    let q = format!("accountId={}&{RANGE}", w.account_id);
    check_json_route(&w.admin, &format!("/billing/usage?{q}"), &w.account_sid).await;
    check_json_route(
        &w.admin,
        &format!("/api/ListUsageRecords?{q}"),
        &w.account_sid,
    )
    .await;
    check_json_route(
        &w.admin,
        &format!("/json/reply/ListUsageRecords?{q}"),
        &w.account_sid,
    )
    .await;
    // No Accept header (reqwest sends none here besides its default `*/*`) means JSON.
    let (st, ct, text) = fetch(&w.admin, &format!("/billing/usage?{q}"), None).await;
    assert_eq!(st, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    check_json_records(
        &serde_json::from_str(&text).unwrap(),
        &w.account_sid,
        "no Accept",
    );
    // Query keys are case-insensitive.
    let path = format!(
        "/billing/usage?AccountId={}&STARTDATE=2024-05-01&enddate=2024-05-31",
        w.account_id
    );
    check_json_route(&w.admin, &path, &w.account_sid).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_in_jsv() {
    let w = worked_example().await;
    let q = format!("accountId={}&{RANGE}", w.account_id);
    for (path, accept, content_type) in [
        (
            format!("/billing/usage.jsv?{q}"),
            None,
            "text/jsv; charset=utf-8",
        ),
        (
            format!("/billing/usage?{q}&format=jsv"),
            Some("application/json"),
            "text/jsv; charset=utf-8",
        ),
        (format!("/billing/usage?{q}"), Some("text/jsv"), "text/jsv"),
        (
            format!("/billing/usage?{q}"),
            Some("application/json;q=0.5, application/jsv"),
            "application/jsv",
        ),
        (format!("/jsv/reply/ListUsageRecords?{q}"), None, "text/jsv"),
    ] {
        let ctx = format!("{path} (Accept {accept:?})");
        let (st, ct, text) = fetch(&w.admin, &path, accept).await;
        assert_eq!(st, 200, "{ctx}: {text}");
        assert!(
            ct.to_ascii_lowercase().starts_with(content_type),
            "{ctx}: content type {ct}, wanted {content_type}"
        );
        check_jsv(&text, &w.account_sid, &ctx);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_as_a_linked_manager() {
    let w = worked_example().await;
    w.admin
        .create_user("manager@example.com", &["Manager"], &[&w.account_id])
        .await;
    let manager = w.admin.as_user("manager@example.com", PW);
    let (st, me) = manager.get("/auth/status").await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["roles"], json!(["Manager"]));
    assert_eq!(me["accountIds"], json!([w.account_id]));
    assert_eq!(me["accountNames"], json!(["Worked Example"]));

    let q = format!("accountId={}&{RANGE}", w.account_id);
    check_json_route(&manager, &format!("/billing/usage?{q}"), &w.account_sid).await;
    check_json_route(
        &manager,
        &format!("/api/ListUsageRecords?{q}"),
        &w.account_sid,
    )
    .await;
    check_json_route(
        &manager,
        &format!("/json/reply/ListUsageRecords?{q}"),
        &w.account_sid,
    )
    .await;
    // Without accountId: the manager's only linked account.
    check_json_route(&manager, &format!("/billing/usage?{RANGE}"), &w.account_sid).await;
    let (st, _, text) = fetch(&manager, &format!("/billing/usage.jsv?{RANGE}"), None).await;
    assert_eq!(st, 200, "{text}");
    check_jsv(&text, &w.account_sid, "manager, .jsv");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_billables_behind_the_example() {
    let w = worked_example().await;
    let page = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(page["totalCount"], 4, "{page}");
    assert_eq!(page["totalPages"], 1);
    assert_eq!(page["hasMorePages"], false);
    let items = page["items"].as_array().unwrap();
    // (call, category, usageDate, durationSeconds, billed, billedMinutes, unitPrice, price)
    let want = [
        (
            &w.calls[0],
            "calls-inbound-local",
            "2024-05-02",
            75,
            true,
            2,
            0.0085,
            0.017,
        ),
        (
            &w.calls[1],
            "calls-inbound-tollfree",
            "2024-05-15",
            130,
            true,
            3,
            0.022,
            0.066,
        ),
        (
            &w.calls[2],
            "calls-outbound",
            "2024-05-31",
            30,
            true,
            1,
            0.013,
            0.013,
        ),
        (
            &w.calls[3],
            "calls-inbound-local",
            "2024-05-20",
            0,
            false,
            0,
            0.0085,
            0.0,
        ),
    ];
    for (call, category, day, duration, billed, minutes, unit, price) in want {
        let b = items
            .iter()
            .find(|b| b["callSid"] == json!(call))
            .unwrap_or_else(|| panic!("no billable for {call}: {page}"));
        assert_eq!(b["accountId"], json!(w.account_id), "{b}");
        assert_eq!(b["customerId"], json!(w.customer_id), "{b}");
        assert!(b.get("sessionId").is_none(), "null is omitted: {b}");
        assert_eq!(b["category"], category, "{b}");
        assert_eq!(b["usageDate"], day, "{b}");
        assert_eq!(b["durationSeconds"], duration, "{b}");
        assert_eq!(b["billed"], billed, "{b}");
        assert_eq!(b["billedMinutes"], minutes, "{b}");
        assert_eq!(b["unitPrice"].as_f64(), Some(unit), "{b}");
        assert_eq!(b["price"].as_f64(), Some(price), "{b}");
        assert_eq!(b["priceUnit"], "usd", "{b}");
    }
    // Reporting the calls again changes nothing.
    for call in &w.calls {
        let r = w
            .admin
            .new_billable(
                &json!({"accountId": w.account_id, "customerId": w.customer_id, "callSid": call}),
            )
            .await;
        assert_eq!(r.status, 204, "{r:?}");
    }
    let again = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(again["items"], page["items"]);
    check_json_records(
        &w.admin.usage_may_2024(&w.account_id).await,
        &w.account_sid,
        "after repeats",
    );
}

/// `POST /calls` takes a Twilio list page `{calls: [...]}` (the request the issue defines). A
/// bare Call resource, which domain.md 4.8 also mentions, is refused with a clear 400 naming
/// `Calls` rather than silently importing nothing (see docs/compatibility.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_twilio_call_object_is_refused_clearly() {
    let app = common::spawn_app().await;
    let admin = Api::admin(&app);
    let account_sid = sid("AC", 0x5eed_0002);
    admin.create_account("Single", &account_sid).await;
    let call = sid("CA", 0x51_0001);
    let (st, body) = admin
        .post(
            "/calls",
            &twilio_call(
                &call,
                &account_sid,
                "+14155550100",
                "+13125550101",
                "inbound",
                "completed",
                (2, 10),
                Some(75),
            ),
        )
        .await;
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        body["responseStatus"]["errors"][0]["fieldName"], "Calls",
        "{body}"
    );
}

/// The four billables reported in the request shapes ServiceStack clients send (decisions.md
/// 6, 7, 12): JSON on `/json/reply`, JSV and form bodies and the query string on the REST
/// route, JSON labelled `text/plain` on `/api` (the TypeScript client), XML on the REST route;
/// keys in any case. The usage records are the worked example's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_reported_in_every_request_shape() {
    let w = worked_example_unbilled().await;
    let (a, cu) = (w.account_id.as_str(), w.customer_id.as_str());
    let c = &w.calls;
    let shapes: Vec<(String, &str, String)> = vec![
        (
            "/json/reply/NewBillable".into(),
            "application/json",
            json!({"AccountId": a, "customerid": cu, "callSid": c[0]}).to_string(),
        ),
        (
            "/billables".into(),
            "text/jsv",
            format!("{{accountId:{a},CustomerId:{cu},callSid:{}}}", c[1]),
        ),
        (
            "/billables".into(),
            "application/x-www-form-urlencoded",
            format!("accountId={a}&customerId={cu}&CALLSID={}", c[2]),
        ),
        (
            "/api/NewBillable".into(),
            "text/plain;charset=UTF-8",
            json!({"accountId": a, "customerId": cu, "callSid": c[3]}).to_string(),
        ),
        // Repeats: nothing changes.
        (
            format!("/billables?accountId={a}&customerId={cu}&callSid={}", c[0]),
            "application/json",
            String::new(),
        ),
        (
            "/billables".into(),
            "application/xml",
            format!(
                "<NewBillable xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Billing\"><AccountId>{a}</AccountId><CallSid>{}</CallSid><CustomerId>{cu}</CustomerId></NewBillable>",
                c[1]
            ),
        ),
    ];
    for (path, content_type, body) in shapes {
        let r = billing_support::raw(
            w.admin.port,
            "POST",
            &path,
            &[
                ("Authorization", &w.admin.auth),
                ("Content-Type", content_type),
            ],
            Some(&body),
        )
        .await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (204, ""),
            "{path} {content_type} {body}: {r:?}"
        );
    }
    let page = w.admin.billables_may_2024(&w.account_id).await;
    assert_eq!(page["totalCount"], 4, "{page}");
    check_json_records(
        &w.admin.usage_may_2024(&w.account_id).await,
        &w.account_sid,
        "every request shape",
    );
}

/// The usage records in XML: `DataContractSerializer` layout of decisions.md 11, Evo Voice's
/// `Voice.Api.Dashboard` namespace, members in ordinal order, every value of every record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_in_xml() {
    let w = worked_example().await;
    let q = format!("accountId={}&{RANGE}", w.account_id);
    for (path, accept) in [
        (format!("/billing/usage.xml?{q}"), None),
        (format!("/billing/usage?{q}"), Some("application/xml")),
        (format!("/xml/reply/ListUsageRecords?{q}"), None),
    ] {
        let (st, ct, text) = fetch(&w.admin, &path, accept).await;
        assert_eq!(st, 200, "{path}: {text}");
        assert!(ct.starts_with("application/xml"), "{path}: {ct}");
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?><ArrayOfUsageRecordInfo xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard\">";
        assert!(text.starts_with(head), "{path}: {text}");
        let mut want = String::from(head);
        for (category, description, count, count_unit, usage, usage_unit, _, price) in EXPECTED {
            let uri = uri(&w.account_sid, category).replace('&', "&amp;");
            let count_unit = if count_unit.is_empty() {
                // Written `<CountUnit></CountUnit>`; `<CountUnit />` is accepted below too.
                "<CountUnit></CountUnit>".to_string()
            } else {
                format!("<CountUnit>{count_unit}</CountUnit>")
            };
            want.push_str(&format!(
                "<UsageRecordInfo><AccountSid>{}</AccountSid><Category>{category}</Category><Count>{count}</Count>{count_unit}<Description>{description}</Description><EndDate>2024-05-31</EndDate><Price>{price}</Price><PriceUnit>usd</PriceUnit><StartDate>2024-05-01</StartDate><Uri>{uri}</Uri><Usage>{usage}</Usage><UsageUnit>{usage_unit}</UsageUnit></UsageRecordInfo>",
                w.account_sid
            ));
        }
        want.push_str("</ArrayOfUsageRecordInfo>");
        assert_eq!(
            text.replace("<CountUnit />", "<CountUnit></CountUnit>"),
            want,
            "{path}"
        );
    }
}

/// Usage days are UTC days of the call's start (domain.md 4.5): a call that starts on 30 April
/// in UTC-3 but on 1 May in UTC counts in May; one that starts on 1 May at 00:30 in UTC+1 (30
/// April in UTC) does not; one that starts on 1 June in UTC+2 (31 May, 23:00 UTC) does. ISO
/// 8601 and RFC 2822 times with offsets are both accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_days_are_utc_days_of_the_start_time() {
    let w = worked_example_unbilled().await;
    let extra: Vec<(String, &str)> = [
        "2024-04-30T22:30:00-03:00",
        "Wed, 01 May 2024 00:30:00 +0100",
        "2024-06-01T01:00:00+02:00",
        "Sat, 01 Jun 2024 00:00:00 +0000",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, t)| (sid("CA", 0x7a_0000 + i as u128), t))
    .collect();
    let calls: Vec<Value> = extra
        .iter()
        .map(|(c, start)| {
            let mut call = twilio_call(
                c,
                &w.account_sid,
                "+13125550101",
                "+14155550103",
                "outbound-dial",
                "completed",
                (1, 0),
                Some(60),
            );
            call["start_time"] = json!(start);
            call["end_time"] = Value::Null;
            call
        })
        .collect();
    w.admin.import_calls(&calls).await;
    for (c, _) in &extra {
        let r = w
            .admin
            .new_billable(
                &json!({"accountId": w.account_id, "customerId": w.customer_id, "callSid": c}),
            )
            .await;
        assert_eq!(r.status, 204, "{r:?}");
    }
    let page = w.admin.billables_may_2024(&w.account_id).await;
    let days: Vec<(&str, &str)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["callSid"].as_str().unwrap(),
                b["usageDate"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(days.len(), 2, "{page}");
    assert!(
        days.contains(&(extra[0].0.as_str(), "2024-05-01")),
        "{page}"
    );
    assert!(
        days.contains(&(extra[2].0.as_str(), "2024-05-31")),
        "{page}"
    );
    let usage = w.admin.usage_may_2024(&w.account_id).await;
    let categories: Vec<&str> = usage
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories,
        ["calls", "calls-outbound", "totalprice"],
        "{usage}"
    );
    assert_eq!(usage[0]["count"], 2, "{usage}");
    assert_eq!(usage[0]["usage"], "2", "{usage}");
    assert_eq!(usage[0]["price"].as_f64(), Some(0.026), "{usage}");
    // April and June each hold one of the other two.
    for (start, end) in [("2024-04-01", "2024-04-30"), ("2024-06-01", "2024-06-30")] {
        let (st, body) = w
            .admin
            .get(&format!(
                "/billing/usage?accountId={}&startDate={start}&endDate={end}",
                w.account_id
            ))
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body[0]["count"], 1, "{start}: {body}");
        assert_eq!(body[0]["startDate"], start, "{body}");
        assert_eq!(body[0]["endDate"], end, "{body}");
    }
}
