//! The SQLite store itself: migrations, pragmas, and the daily roll-up against a direct
//! aggregation over billables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use billing::store::{Billable, InsertOutcome};
use billing::{BillingStore, SqliteStore};
use chrono::{Duration, NaiveDate, Utc};
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn migrations_are_recorded_once_and_pragmas_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/billing.db");
    drop(SqliteStore::open(&path).unwrap());
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let versions: Vec<(i64, String)> = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        versions,
        [
            (1, "0001_core".to_string()),
            (2, "0002_auth".to_string()),
            (3, "0003_usage_monthly".to_string())
        ]
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // Default rates are seeded once, not on every open.
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM rates WHERE account_id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 4);
    for table in [
        "auth_sessions",
        "refresh_tokens",
        "api_keys",
        "settings",
        "user_permissions",
        "usage_daily",
    ] {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollup_equals_direct_aggregation_over_random_billables() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let b = account(&f, "Other", OTHER_SID).await;
    let customers = [
        customer(&f, &a.id, "A1", None).await,
        customer(&f, &a.id, "A2", None).await,
        customer(&f, &b.id, "B1", None).await,
    ];
    let mut rng = StdRng::seed_from_u64(7);
    let categories = [
        "calls-inbound-local",
        "calls-inbound-tollfree",
        "calls-outbound",
        "calls-client",
    ];
    let day0 = NaiveDate::from_ymd_opt(2024, 4, 25).unwrap();
    let store: Arc<SqliteStore> = f.store.clone();
    let mut rows = Vec::new();
    for n in 0..600u32 {
        let cust = &customers[rng.gen_range(0..customers.len())];
        let billed = rng.gen_bool(0.8);
        let minutes = if billed { rng.gen_range(1..30) } else { 0 };
        let price_micros: i64 = if billed {
            rng.gen_range(0..5_000_000) / 10 * 10
        } else {
            0
        };
        rows.push(Billable {
            id: format!("b{n}"),
            call_sid: call_sid(1000 + n),
            account_id: cust.account_id.clone(),
            customer_id: cust.id.clone(),
            session_id: None,
            category: categories[rng.gen_range(0..4)].to_string(),
            usage_date: day0 + Duration::days(rng.gen_range(0..40)),
            duration_seconds: minutes * 60,
            billed,
            billed_minutes: minutes,
            rate_id: None,
            unit_price: billing::Money::ZERO,
            price: billing::Money::from_micros(price_micros),
            price_unit: "usd".into(),
            created_at: Utc::now(),
            created_by: "test".into(),
        });
    }
    // Billables reference calls.
    let calls: Vec<_> = rows
        .iter()
        .map(|r| {
            let sid = if r.account_id == a.id {
                ACCOUNT_SID
            } else {
                OTHER_SID
            };
            twilio_call(
                &r.call_sid,
                sid,
                "+1",
                "+2",
                "inbound",
                "completed",
                "2024-05-01T00:00:00Z",
                Some("60"),
            )
        })
        .collect();
    import(&f, calls).await.unwrap();
    let handles: Vec<_> = rows
        .chunks(50)
        .map(|chunk| {
            let (store, chunk) = (store.clone(), chunk.to_vec());
            std::thread::spawn(move || {
                for r in chunk {
                    assert_eq!(store.insert_billable(&r).unwrap(), InsertOutcome::Inserted);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // A duplicate does not count twice.
    assert!(matches!(
        store.insert_billable(&rows[0]).unwrap(),
        InsertOutcome::Existing(_)
    ));

    let conn = f.raw();
    let check = |account: &str, s: NaiveDate, e: NaiveDate| {
        let mut direct: Vec<(String, i64, i64, i64)> = conn
            .prepare(
                "SELECT category, COUNT(*), SUM(billed_minutes), SUM(price) FROM billables \
                 WHERE account_id = ?1 AND billed = 1 AND usage_date BETWEEN ?2 AND ?3 GROUP BY category ORDER BY category",
            )
            .unwrap()
            .query_map(rusqlite::params![account, s.to_string(), e.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        direct.sort();
        let rolled: Vec<(String, i64, i64, i64)> = store
            .usage_by_category(account, s, e)
            .unwrap()
            .into_iter()
            .map(|t| {
                (
                    t.category,
                    t.count,
                    t.billed_minutes,
                    t.price.to_micros().unwrap(),
                )
            })
            .collect();
        assert_eq!(rolled, direct, "{account} {s}..{e}");
    };
    for _ in 0..30 {
        let account = if rng.gen_bool(0.5) { &a.id } else { &b.id };
        let s = day0 + Duration::days(rng.gen_range(0..45));
        let e = s + Duration::days(rng.gen_range(0..20));
        check(account, s, e);
    }
    // Ranges holding whole months read the monthly roll-up for those months.
    let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    for (s, e) in [
        (day(5, 1), day(5, 31)),
        (day(4, 1), day(6, 30)),
        (day(4, 20), day(6, 10)),
        (day(4, 30), day(6, 1)),
        (day(5, 1), day(6, 3)),
        (day(4, 2), day(5, 31)),
        (day(5, 1), day(5, 30)),
    ] {
        check(&a.id, s, e);
        check(&b.id, s, e);
    }
    for _ in 0..30 {
        let account = if rng.gen_bool(0.5) { &a.id } else { &b.id };
        let s = day0 + Duration::days(rng.gen_range(-10..45));
        let e = s + Duration::days(rng.gen_range(25..90));
        check(account, s, e);
    }
    // The monthly roll-up is exactly the daily one summed per month.
    let mismatches: i64 = conn
        .query_row(
            "WITH m AS (SELECT account_id, substr(usage_date, 1, 7), category, COUNT(*), \
                    SUM(count), SUM(billed_minutes), SUM(price) FROM usage_daily GROUP BY 1, 2, 3) \
             SELECT (SELECT COUNT(*) FROM (SELECT * FROM m EXCEPT SELECT * FROM usage_monthly)) \
                  + (SELECT COUNT(*) FROM (SELECT * FROM usage_monthly EXCEPT SELECT * FROM m))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(mismatches, 0);
    // The roll-up holds at most one row per account, day and category.
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM usage_daily", [], |r| r.get(0))
        .unwrap();
    assert!(n <= 2 * 40 * 4, "{n}");
}

#[test]
fn write_errors_roll_back_only_their_own_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("b.db")).unwrap();
    let bad = Billable {
        id: "x".into(),
        call_sid: call_sid(1),
        account_id: "missing".into(),
        customer_id: "missing".into(),
        session_id: None,
        category: "calls-outbound".into(),
        usage_date: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        duration_seconds: 0,
        billed: true,
        billed_minutes: 1,
        rate_id: None,
        unit_price: billing::Money::ZERO,
        price: billing::Money::ZERO,
        price_unit: "usd".into(),
        created_at: Utc::now(),
        created_by: "t".into(),
    };
    // Foreign keys are enforced: no call, no account.
    assert!(store.insert_billable(&bad).is_err());
    assert!(store.get_billable_by_call(&call_sid(1)).unwrap().is_none());
    let conn = rusqlite::Connection::open(dir.path().join("b.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM usage_daily", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_failing_write_does_not_undo_the_writes_committed_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("b.db")).unwrap());
    let now = Utc::now();
    let accounts: Vec<_> = (0..40)
        .map(|i| billing::store::Account {
            id: format!("acct{i}"),
            name: format!("A{i}"),
            parent_account_id: None,
            // Every fourth account reuses a Twilio SID and must fail alone.
            twilio_account_sid: if i % 4 == 3 {
                format!("AC{:032x}", i - 1)
            } else {
                format!("AC{:032x}", i)
            },
            price_unit: "usd".into(),
            created_at: now,
        })
        .collect();
    let handles: Vec<_> = accounts
        .into_iter()
        .map(|a| {
            let store = store.clone();
            std::thread::spawn(move || (a.id.clone(), store.create_account(&a)))
        })
        .collect();
    let mut ok = 0;
    for h in handles {
        let (id, r) = h.join().unwrap();
        match r {
            Ok(()) => {
                ok += 1;
                assert!(store.get_account(&id).unwrap().is_some());
            }
            Err(e) => assert!(matches!(e, billing::StoreError::Conflict(_)), "{e}"),
        }
    }
    assert_eq!(ok, 30);
}
