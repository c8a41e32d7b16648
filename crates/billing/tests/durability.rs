//! An acknowledged billable is on disk: a writer process killed with SIGKILL mid-stream loses
//! none of the billables it had been told were stored, and the roll-up matches them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use billing::store::{Account, Billable, Call, Customer, InsertOutcome};
use billing::{BillingStore, Money, SqliteStore};
use chrono::{NaiveDate, Utc};

const CHILD_ENV: &str = "BILLING_DURABILITY_CHILD_DB";
const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const CALLS: u32 = 20_000;

fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

fn billable(n: u32) -> Billable {
    Billable {
        id: format!("b{n}"),
        call_sid: sid(n),
        account_id: "acct".into(),
        customer_id: "cust".into(),
        session_id: None,
        category: "calls-outbound".into(),
        usage_date: NaiveDate::from_ymd_opt(2024, 5, 1 + n % 28).unwrap(),
        duration_seconds: 60,
        billed: true,
        billed_minutes: 1,
        rate_id: None,
        unit_price: "0.013".parse().unwrap(),
        price: "0.013".parse().unwrap(),
        price_unit: "usd".into(),
        created_at: Utc::now(),
        created_by: "test".into(),
    }
}

/// The child: inserts billables from several threads and reports each one once acknowledged.
#[test]
fn durability_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let threads: Vec<_> = (0..8u32)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut n = t;
                while n < CALLS {
                    assert_eq!(
                        store.insert_billable(&billable(n)).unwrap(),
                        InsertOutcome::Inserted
                    );
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {n}").unwrap();
                    out.flush().unwrap();
                    n += 8;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn acknowledged_billables_survive_sigkill() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("billing.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let now = Utc::now();
        store
            .create_account(&Account {
                id: "acct".into(),
                name: "Acme".into(),
                parent_account_id: None,
                twilio_account_sid: ACCOUNT_SID.into(),
                price_unit: "usd".into(),
                created_at: now,
            })
            .unwrap();
        store
            .create_customer(&Customer {
                id: "cust".into(),
                account_id: "acct".into(),
                parent_customer_id: None,
                name: "C".into(),
                reference_id: None,
                created_at: now,
            })
            .unwrap();
        let calls: Vec<_> = (0..CALLS)
            .map(|n| Call {
                sid: sid(n),
                account_sid: ACCOUNT_SID.into(),
                parent_call_sid: None,
                from_address: "+1".into(),
                to_address: "+2".into(),
                direction: "outbound-api".into(),
                status: "completed".into(),
                start_time: None,
                end_time: None,
                duration_seconds: Some(60),
                provider_price: None,
                provider_price_unit: None,
                imported_at: now,
            })
            .collect();
        store.upsert_calls(&calls).unwrap();
    }

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 500 {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(n) = line.strip_prefix("ack ") {
                    acked.push(n.parse::<u32>().unwrap());
                }
            }
            _ => break,
        }
    }
    // SIGKILL on Unix: no destructors, no final commit.
    child.kill().unwrap();
    // Acks written before the kill but not yet read still count.
    for line in lines.map_while(Result::ok) {
        if let Some(n) = line.strip_prefix("ack ") {
            acked.push(n.parse::<u32>().unwrap());
        }
    }
    child.wait().unwrap();
    assert!(
        acked.len() >= 500,
        "the child acknowledged only {} billables",
        acked.len()
    );

    let store = SqliteStore::open(&path).unwrap();
    for n in &acked {
        assert!(
            store.get_billable_by_call(&sid(*n)).unwrap().is_some(),
            "acknowledged billable {n} lost"
        );
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (rows, micros): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COALESCE(SUM(price), 0) FROM billables",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(rows as usize >= acked.len());
    let start = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2024, 5, 31).unwrap();
    let totals = store.usage_by_category("acct", start, end).unwrap();
    assert_eq!(totals.len(), 1);
    assert_eq!(
        (totals[0].count, totals[0].price),
        (rows, Money::from_micros(micros))
    );
}
