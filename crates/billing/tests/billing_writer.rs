//! NewBillable on the store's writer thread: concurrent inserts share group commits whose
//! roll-ups are summed per key, rejections in a group leave the others alone, and cached
//! reference rows follow every change, including one made by another connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use billing::BillingService;
use billing::BillingStore;
use chrono::{TimeZone, Utc};
use common::*;

fn shared_service(f: &Fixture) -> Arc<BillingService> {
    let store: Arc<dyn BillingStore> = f.store.clone();
    let clock = Arc::new(|| Utc.with_ymd_and_hms(2024, 5, 20, 12, 0, 0).unwrap());
    Arc::new(BillingService::with_clock(store, clock))
}

/// Sums of a roll-up table grouped by its key, as sorted rows.
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<(String, String, String, i64, i64, i64)> {
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })
    .unwrap()
    .collect::<rusqlite::Result<Vec<_>>>()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_billables_keep_the_roll_ups_exact() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "Retail", None).await;
    const N: u32 = 240;
    // Three days, two categories, billed and unbilled calls.
    let calls: Vec<_> = (0..N)
        .map(|n| {
            let (from, to, direction) = if n % 2 == 0 {
                ("+15551230001", "+15557654321", "inbound")
            } else {
                ("+15557654321", "+15550000003", "outbound-api")
            };
            let status = if n % 7 == 0 { "busy" } else { "completed" };
            let start = format!("2024-05-{:02}T10:00:00Z", 1 + n % 3);
            let duration = (30 + n * 7).to_string();
            twilio_call(
                &call_sid(n),
                ACCOUNT_SID,
                from,
                to,
                direction,
                status,
                &start,
                Some(&duration),
            )
        })
        .collect();
    import(&f, calls).await.unwrap();
    let svc = shared_service(&f);
    let mut tasks = Vec::new();
    // Every call twice (the second is an idempotent repeat), plus calls that do not exist.
    for n in (0..N).chain(0..N).chain(10_000..10_040) {
        let svc = svc.clone();
        let (account_id, customer_id) = (a.id.clone(), c.id.clone());
        tasks.push(tokio::spawn(async move {
            let r = svc
                .new_billable(bill(&account_id, &customer_id, &call_sid(n)), admin())
                .await;
            (n, r)
        }));
    }
    for t in tasks {
        let (n, r) = t.await.unwrap();
        if n < N {
            r.unwrap();
        } else {
            assert_err(r, 404, "NotFound", None);
        }
    }
    let raw = f.raw();
    let count: i64 = raw
        .query_row("SELECT COUNT(*) FROM billables", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, i64::from(N));
    let from_billables = rows(
        &raw,
        "SELECT account_id, usage_date, category, COUNT(*), SUM(billed_minutes), SUM(price) \
         FROM billables WHERE billed GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    assert_eq!(from_billables.len(), 6, "{from_billables:?}");
    let daily = rows(
        &raw,
        "SELECT account_id, usage_date, category, count, billed_minutes, price \
         FROM usage_daily ORDER BY 1, 2, 3",
    );
    assert_eq!(daily, from_billables);
    let monthly = rows(
        &raw,
        "SELECT account_id, month, category, count, billed_minutes, price \
         FROM usage_monthly ORDER BY 1, 2, 3",
    );
    let daily_by_month = rows(
        &raw,
        "SELECT account_id, substr(usage_date, 1, 7), category, SUM(count), \
         SUM(billed_minutes), SUM(price) FROM usage_daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    assert_eq!(monthly, daily_by_month);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_rows_changed_elsewhere_are_seen_by_the_next_billable() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "Retail", None).await;
    let calls = (1..=3)
        .map(|n| {
            twilio_call(
                &call_sid(n),
                ACCOUNT_SID,
                "+15557654321",
                "+15550000003",
                "outbound-api",
                "completed",
                "2024-05-02T10:00:00Z",
                Some("60"),
            )
        })
        .collect();
    import(&f, calls).await.unwrap();
    let manager = user(&*f.store, "m@example.com", &["Manager"], &[&a.id]);
    let price = |n: u32| -> i64 {
        f.raw()
            .query_row(
                "SELECT price FROM billables WHERE call_sid = ?1",
                [call_sid(n)],
                |r| r.get(0),
            )
            .unwrap()
    };
    f.svc
        .new_billable(bill(&a.id, &c.id, &call_sid(1)), manager.clone())
        .await
        .unwrap();
    // The default outbound rate, 0.013 per minute.
    assert_eq!(price(1), 13_000);
    // Another connection (an operator's sqlite3) changes the default rate...
    f.raw()
        .execute(
            "UPDATE rates SET unit_price = 20000 \
             WHERE account_id IS NULL AND category = 'calls-outbound'",
            [],
        )
        .unwrap();
    f.svc
        .new_billable(bill(&a.id, &c.id, &call_sid(2)), manager.clone())
        .await
        .unwrap();
    assert_eq!(price(2), 20_000);
    // ...and unlinks the manager from the account.
    f.raw()
        .execute(
            "DELETE FROM user_accounts WHERE user_id = ?1",
            [&manager.user_id],
        )
        .unwrap();
    assert_err(
        f.svc
            .new_billable(bill(&a.id, &c.id, &call_sid(3)), manager)
            .await,
        403,
        "Forbidden",
        None,
    );
}
