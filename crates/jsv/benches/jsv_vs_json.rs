//! JSV beside serde_json on the same data in the same run. Throughput is each format's own
//! bytes (JSV text is shorter than JSON for the same value), so compare the times per
//! iteration too (docs/bench-jsv.md reports both).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
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

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct NewBillable {
    account_id: Option<String>,
    customer_id: Option<String>,
    session_id: Option<String>,
    call_sid: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Account {
    id: String,
    name: String,
    settings: BTreeMap<String, String>,
    customers: Vec<Customer>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Customer {
    id: String,
    name: String,
    balance: f64,
    tags: Vec<String>,
    phones: Vec<Phone>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Phone {
    number: String,
    enabled: bool,
    flows: Vec<Flow>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Flow {
    name: String,
    steps: Vec<Step>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Step {
    kind: String,
    timeout: Option<i32>,
    params: BTreeMap<String, String>,
}

const CATEGORIES: [(&str, &str, &str); 4] = [
    ("calls", "Voice Minutes, inbound", "minutes"),
    ("calls-outbound", "Voice Minutes, outbound", "minutes"),
    ("sms", "SMS Messages", "messages"),
    ("recordings", "Call Recordings", "minutes"),
];

fn records() -> Vec<UsageRecord> {
    (0..1000)
        .map(|i| {
            let (category, description, unit) = CATEGORIES[i % CATEGORIES.len()];
            let day = i % 28 + 1;
            UsageRecord {
                account_sid: format!("AC{:032x}", i * 7919),
                category: category.to_owned(),
                count: (i * 37 % 1000) as i64,
                count_unit: if category == "sms" { "messages" } else { "calls" }.to_owned(),
                description: description.to_owned(),
                end_date: "2024-05-31".to_owned(),
                price: (i as f64) * 0.0075 + 0.01,
                price_unit: "usd".to_owned(),
                start_date: format!("2024-05-{day:02}"),
                usage: format!("{}", i * 13 % 5000),
                usage_unit: unit.to_owned(),
                uri: format!(
                    "/2010-04-01/Accounts/AC{:032x}/Usage/Records.json?Category={category}&StartDate=2024-05-01&EndDate=2024-05-31",
                    i * 7919
                ),
            }
        })
        .collect()
}

fn billable() -> NewBillable {
    NewBillable {
        account_id: Some("AC6fd7f4e1b0a94c2e9d3e0b1a2c3d4e5f".into()),
        customer_id: Some("cust-000123".into()),
        session_id: Some("s-8c1f2a".into()),
        call_sid: Some("CA1234567890abcdef1234567890abcdef".into()),
    }
}

fn document() -> Account {
    let step = |k: usize| Step {
        kind: ["say", "dial", "record", "hangup"][k % 4].to_owned(),
        timeout: k.is_multiple_of(2).then_some(30),
        params: [
            ("voice".to_owned(), "alice".to_owned()),
            ("text".to_owned(), format!("Hello, caller {k}: press 1")),
        ]
        .into_iter()
        .collect(),
    };
    Account {
        id: "AC1".into(),
        name: "Acme Telecom, Inc.".into(),
        settings: (0..8)
            .map(|i| (format!("key{i}"), format!("value {i}")))
            .collect(),
        customers: (0..20)
            .map(|c| Customer {
                id: format!("cust-{c}"),
                name: format!("Customer {c}"),
                balance: c as f64 * 12.5,
                tags: vec!["vip".into(), format!("region-{}", c % 3)],
                phones: (0..3)
                    .map(|p| Phone {
                        number: format!("+1555{c:03}{p:04}"),
                        enabled: p % 2 == 0,
                        flows: (0..2)
                            .map(|f| Flow {
                                name: format!("flow {f}"),
                                steps: (0..4).map(step).collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn bench_case<T>(c: &mut Criterion, name: &str, value: &T)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let jsv_text = jsv::to_string(value).unwrap();
    let json_text = serde_json::to_string(value).unwrap();
    // JSV reads its own output back exactly; serde_json without its `float_roundtrip` feature
    // may differ in the last bit of a float, so only check that it parses.
    assert!(jsv::from_str::<T>(&jsv_text).unwrap() == *value);
    assert!(serde_json::from_str::<T>(&json_text).is_ok());

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(jsv_text.len() as u64));
    g.bench_function("serialize/jsv", |b| {
        b.iter(|| jsv::to_string(black_box(value)).unwrap())
    });
    g.bench_function("parse_typed/jsv", |b| {
        b.iter(|| jsv::from_str::<T>(black_box(&jsv_text)).unwrap())
    });
    g.bench_function("parse_value/jsv", |b| {
        b.iter(|| jsv::from_str::<jsv::Value>(black_box(&jsv_text)).unwrap())
    });
    g.throughput(Throughput::Bytes(json_text.len() as u64));
    g.bench_function("serialize/json", |b| {
        b.iter(|| serde_json::to_string(black_box(value)).unwrap())
    });
    g.bench_function("parse_typed/json", |b| {
        b.iter(|| serde_json::from_str::<T>(black_box(&json_text)).unwrap())
    });
    g.bench_function("parse_value/json", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&json_text)).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_case(c, "usage_records_1000", &records());
    bench_case(c, "new_billable", &billable());
    bench_case(c, "nested_document", &document());
}

criterion_group!(jsv_vs_json, benches);
criterion_main!(jsv_vs_json);
