//! Seeding a benchmark database fast with raw SQL, and checking it afterwards.
//!
//! The schema comes from the billing store's own migrations (the store is opened once to apply
//! them). One account and one customer are created, plus:
//!
//! - `calls` completed, unbilled calls for the `NewBillable` benchmark, with SIDs
//!   `CA` + the index as 32 zero-padded decimal digits (`CA000…0`, `CA000…1`, …), dated
//!   [`INSERT_CALL_START`];
//! - `billables` billed calls (each with its call row) spread over the 31 days of
//!   [`USAGE_MONTH`], across the four leaf categories, with SIDs `CA9` + 31 digits;
//! - `usage_daily` recomputed from `billables` with one `INSERT … SELECT … GROUP BY`, exactly as
//!   the store's per-insert upserts would have left it.
//!
//! Everything is written in one transaction with `synchronous=OFF` (seeding is not measured).
//! `ANALYZE` runs only when asked (`--analyze`): the store itself never runs it.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rusqlite::{Connection, params};
use serde::Serialize;

/// The account every benchmark request names.
pub const ACCOUNT_ID: &str = "be0c00000000000000000001";
/// The customer every benchmark request names.
pub const CUSTOMER_ID: &str = "be0c00000000000000000002";
/// The account's Twilio account SID.
pub const TWILIO_SID: &str = "ACbe0c0000000000000000000000000001";
/// The month the seeded billables count in (`ListUsageRecords` for it reads them all).
pub const USAGE_MONTH: &str = "2026-10";
/// The start time of the calls left for `NewBillable` (a month apart from the usage month).
pub const INSERT_CALL_START: &str = "2026-11-15T12:00:00Z";

const SEEDED_AT: &str = "2026-11-01T00:00:00Z";

/// The SID of the `i`-th call left for `NewBillable` (the wrk script builds the same string).
pub fn insert_call_sid(i: u64) -> String {
    format!("CA{i:032}")
}

/// The SID of the call behind the `i`-th seeded billable.
fn billed_call_sid(i: u64) -> String {
    format!("CA9{i:031}")
}

/// What was seeded, printed as JSON for the scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedInfo {
    /// The account id.
    pub account_id: &'static str,
    /// The customer id.
    pub customer_id: &'static str,
    /// Calls available to `NewBillable`.
    pub calls: u64,
    /// Billables seeded in [`USAGE_MONTH`].
    pub billables: u64,
    /// The first day of the usage month.
    pub usage_start: String,
    /// The last day of the usage month.
    pub usage_end: String,
    /// Seconds spent.
    pub seconds: f64,
}

/// Removes a database and its WAL files.
fn remove_db(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {p:?}")),
        }
    }
    Ok(())
}

/// The leaf category, direction and numbers of a seeded call, by index.
fn call_shape(i: u64) -> (&'static str, &'static str, &'static str, &'static str) {
    // (category, from, to, direction)
    match i % 4 {
        0 => ("calls-inbound-local", "+15550001", "+15550002", "inbound"),
        1 => (
            "calls-inbound-tollfree",
            "+15550001",
            "+18005550002",
            "inbound",
        ),
        2 => ("calls-outbound", "+15550001", "+15550002", "outbound-api"),
        _ => ("calls-client", "client:alice", "+15550002", "outbound-dial"),
    }
}

/// Creates (with `force`, recreates) the database at `db` and seeds it.
///
/// # Errors
/// When the database exists without `force`, or SQLite fails.
pub fn seed(
    db: &Path,
    calls: u64,
    billables: u64,
    force: bool,
    analyze: bool,
) -> anyhow::Result<SeedInfo> {
    let started = std::time::Instant::now();
    if force {
        remove_db(db)?;
    } else if db.exists() {
        anyhow::bail!("{} exists; pass --force to recreate it", db.display());
    }
    // Apply the billing migrations through the store itself, then let it go.
    drop(
        billing::SqliteStore::open(db)
            .with_context(|| format!("cannot create {}", db.display()))?,
    );
    let mut conn = Connection::open(db)?;
    conn.execute_batch(
        "PRAGMA synchronous=OFF; PRAGMA foreign_keys=ON; PRAGMA cache_size=-262144;",
    )?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO accounts (id, name, parent_account_id, twilio_account_sid, price_unit, created_at) \
         VALUES (?1, 'Bench account', NULL, ?2, 'usd', ?3)",
        params![ACCOUNT_ID, TWILIO_SID, SEEDED_AT],
    )?;
    tx.execute(
        "INSERT INTO customers (id, account_id, parent_customer_id, name, reference_id, created_at) \
         VALUES (?1, ?2, NULL, 'Bench customer', NULL, ?3)",
        params![CUSTOMER_ID, ACCOUNT_ID, SEEDED_AT],
    )?;
    {
        let mut insert_call = tx.prepare(
            "INSERT INTO calls (sid, account_sid, parent_call_sid, from_address, to_address, direction, \
             status, start_time, end_time, duration_seconds, provider_price, provider_price_unit, imported_at) \
             VALUES (?1, ?2, NULL, ?3, ?4, ?5, 'completed', ?6, ?7, ?8, NULL, NULL, ?9)",
        )?;
        for i in 0..calls {
            insert_call.execute(params![
                insert_call_sid(i),
                TWILIO_SID,
                "+15550001",
                "+15550002",
                "outbound-api",
                INSERT_CALL_START,
                "2026-11-15T12:01:05Z",
                65,
                SEEDED_AT
            ])?;
        }
        // The system default rates of the migration, by category.
        let mut rates = std::collections::HashMap::new();
        {
            let mut q = tx.prepare(
                "SELECT category, id, unit_price FROM rates WHERE account_id IS NULL AND customer_id IS NULL",
            )?;
            let rows = q.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    (r.get::<_, String>(1)?, r.get::<_, i64>(2)?),
                ))
            })?;
            for row in rows {
                let (category, rate) = row?;
                rates.insert(category, rate);
            }
        }
        let mut insert_billable = tx.prepare(
            "INSERT INTO billables (id, call_sid, account_id, customer_id, session_id, category, usage_date, \
             duration_seconds, billed, billed_minutes, rate_id, unit_price, price, price_unit, created_at, created_by) \
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, 'usd', ?12, 'seed')",
        )?;
        for i in 0..billables {
            let sid = billed_call_sid(i);
            let (category, from, to, direction) = call_shape(i);
            let day = 1 + i % 31;
            let date = format!("{USAGE_MONTH}-{day:02}");
            let start = format!("{date}T10:00:00Z");
            let duration = 5 + i64::try_from((i * 7) % 600).unwrap_or(0);
            insert_call.execute(params![
                sid, TWILIO_SID, from, to, direction, start, start, duration, SEEDED_AT
            ])?;
            let (rate_id, unit_price) = rates
                .get(category)
                .cloned()
                .with_context(|| format!("no default rate for {category}"))?;
            let minutes = ((duration + 59) / 60).max(1);
            insert_billable.execute(params![
                format!("bb{i:022x}"),
                sid,
                ACCOUNT_ID,
                CUSTOMER_ID,
                category,
                date,
                duration,
                minutes,
                rate_id,
                unit_price,
                minutes * unit_price,
                SEEDED_AT
            ])?;
        }
    }
    tx.execute_batch(
        "DELETE FROM usage_daily;
         INSERT INTO usage_daily (account_id, usage_date, category, count, billed_minutes, price)
           SELECT account_id, usage_date, category, COUNT(*), SUM(billed_minutes), SUM(price)
           FROM billables WHERE billed = 1 GROUP BY account_id, usage_date, category;",
    )?;
    tx.commit()?;
    if analyze {
        // The store never runs ANALYZE; with the bundled SQLite's STAT4 statistics, statements
        // with a range on a bound parameter are re-prepared on every execution.
        conn.execute_batch("ANALYZE;")?;
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(SeedInfo {
        account_id: ACCOUNT_ID,
        customer_id: CUSTOMER_ID,
        calls,
        billables,
        usage_start: format!("{USAGE_MONTH}-01"),
        usage_end: format!("{USAGE_MONTH}-31"),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Row counts after a run, printed as JSON for the scripts.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Billables created by `NewBillable` (calls of the insert range).
    pub inserted_billables: i64,
    /// All billables.
    pub billables: i64,
    /// Whether `usage_daily` equals the roll-up recomputed from `billables`.
    pub usage_daily_consistent: bool,
    /// Whether `usage_monthly` equals the roll-up of `usage_daily` by month; `None` when the
    /// schema has no monthly table.
    pub usage_monthly_consistent: Option<bool>,
}

/// Counts billables and checks the roll-up table (read-only).
///
/// # Errors
/// When SQLite fails.
pub fn count(db: &Path) -> anyhow::Result<Counts> {
    let conn = Connection::open(db)?;
    let inserted_billables = conn.query_row(
        "SELECT COUNT(*) FROM billables WHERE call_sid >= 'CA0' AND call_sid < 'CA1'",
        [],
        |r| r.get(0),
    )?;
    let billables = conn.query_row("SELECT COUNT(*) FROM billables", [], |r| r.get(0))?;
    let mismatches: i64 = conn.query_row(
        "WITH r AS (SELECT account_id, usage_date, category, COUNT(*) AS count, \
                SUM(billed_minutes) AS billed_minutes, SUM(price) AS price \
                FROM billables WHERE billed = 1 GROUP BY account_id, usage_date, category) \
         SELECT (SELECT COUNT(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM usage_daily)) \
              + (SELECT COUNT(*) FROM (SELECT * FROM usage_daily EXCEPT SELECT * FROM r))",
        [],
        |r| r.get(0),
    )?;
    let has_monthly: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'usage_monthly'",
        [],
        |r| r.get(0),
    )?;
    let usage_monthly_consistent = if has_monthly > 0 {
        let monthly_mismatches: i64 = conn.query_row(
            "WITH r AS (SELECT account_id, substr(usage_date, 1, 7) AS month, category, \
                    COUNT(*) AS days, SUM(count) AS count, SUM(billed_minutes) AS billed_minutes, \
                    SUM(price) AS price FROM usage_daily GROUP BY 1, 2, 3), \
                  m AS (SELECT account_id, month, category, days, count, billed_minutes, price \
                    FROM usage_monthly) \
             SELECT (SELECT COUNT(*) FROM (SELECT * FROM r EXCEPT SELECT * FROM m)) \
                  + (SELECT COUNT(*) FROM (SELECT * FROM m EXCEPT SELECT * FROM r))",
            [],
            |r| r.get(0),
        )?;
        Some(monthly_mismatches == 0)
    } else {
        None
    };
    Ok(Counts {
        inserted_billables,
        billables,
        usage_daily_consistent: mismatches == 0,
        usage_monthly_consistent,
    })
}

/// Opens the store for serving (migrations included), on a blocking thread.
///
/// # Errors
/// When the database cannot be opened.
pub async fn open_store(db: &Path) -> anyhow::Result<Arc<billing::SqliteStore>> {
    let path = db.to_path_buf();
    let store = tokio::task::spawn_blocking(move || billing::SqliteStore::open(&path))
        .await
        .context("the store opener panicked")?
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use billing::BillingStore;

    #[test]
    fn seeds_a_consistent_roll_up_the_store_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("b.db");
        let info = seed(&db, 5, 400, false, true).unwrap();
        assert_eq!(info.billables, 400);
        assert!(seed(&db, 5, 400, false, false).is_err());
        let counts = count(&db).unwrap();
        assert_eq!(counts.billables, 400);
        assert_eq!(counts.inserted_billables, 0);
        assert!(counts.usage_daily_consistent);
        assert_ne!(counts.usage_monthly_consistent, Some(false));
        let store = billing::SqliteStore::open(&db).unwrap();
        let start = chrono_date(&info.usage_start);
        let end = chrono_date(&info.usage_end);
        let totals = store.usage_by_category(ACCOUNT_ID, start, end).unwrap();
        assert_eq!(totals.len(), 4);
        assert_eq!(totals.iter().map(|t| t.count).sum::<i64>(), 400);
        assert!(store.get_call(&insert_call_sid(4)).unwrap().is_some());
        assert!(store.get_call(&insert_call_sid(5)).unwrap().is_none());
    }

    fn chrono_date(s: &str) -> chrono::NaiveDate {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
}
