//! [`BillingStore`] on SQLite: WAL, `synchronous=FULL`, foreign keys, a pool of read
//! connections and one writer thread that commits concurrent writes together.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Datelike, Months, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Statement, params};
use tokio::sync::oneshot;

use super::{
    Account, BillFuture, BillJob, Billable, BillableFilter, BillingReads, BillingStore, Call,
    Customer, EvoSession, ImportOutcome, InsertOutcome, NewUserRecord, Page, Rate, StoreError,
    UsageTotals, User,
};
use crate::money::Money;

/// Ordered migrations; each runs in its own transaction and is recorded in
/// `schema_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_core",
        include_str!("../../migrations/0001_core.sql"),
    ),
    (
        2,
        "0002_auth",
        include_str!("../../migrations/0002_auth.sql"),
    ),
    (
        3,
        "0003_usage_monthly",
        include_str!("../../migrations/0003_usage_monthly.sql"),
    ),
];

/// Writes committed together at most; bounds the latency one slow batch adds.
const MAX_BATCH: usize = 256;
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// How long a statement waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection. rusqlite's default (16) is fewer than the distinct
/// statements one connection serves (billing, auth, transaction control), and an evicted
/// statement is parsed and planned again on its next use.
const STATEMENT_CACHE: usize = 128;

thread_local! {
    /// The read connection [`BillingStore::share_reads`] checked out on this thread, with the
    /// address of the [`SqliteStore`] it belongs to: reads of that store on this thread use it
    /// instead of a pool round trip each.
    static PINNED: Cell<Option<(usize, Connection)>> = const { Cell::new(None) };

    /// On the writer thread: the `usage_daily` changes of the billables inserted in the open
    /// group transaction, applied once per distinct key just before its `COMMIT`
    /// ([`flush_rollup`]) instead of one upsert (and one `usage_monthly` trigger) per row.
    /// Nothing on the writer reads the roll-ups, so no write sees them short meanwhile.
    static ROLLUP: RefCell<Vec<RollupDelta>> = const { RefCell::new(Vec::new()) };

    /// On the writer thread: the reference rows billing jobs read ([`RefCache`]).
    static REFS: RefCell<RefCache> = RefCell::new(RefCache::default());
}

/// Reference rows (accounts, customers, user-account links, rates) as billing jobs on the
/// writer thread last read them: every NewBillable needs the same few, and they change rarely.
///
/// It only ever holds what the writer's connection showed, and is emptied whenever that may
/// have changed: by this store's writes to those tables ([`forget_references`] in their write
/// closures), by any rollback on the writer (a row read inside a group that did not commit),
/// and by a commit of any other connection or process (`PRAGMA data_version`, checked once per
/// group before the first cached read; the writer holds the write lock then, so nothing else can
/// commit until the group ends).
#[derive(Default)]
struct RefCache {
    /// Whether `data_version` was compared in the current group.
    checked: bool,
    /// `PRAGMA data_version` when the entries were read.
    data_version: Option<i64>,
    accounts: HashMap<String, Option<Account>>,
    customers: HashMap<String, Option<Customer>>,
    links: HashMap<String, Vec<String>>,
    /// Keyed by scope and category (see `TxReads::find_rate`).
    rates: HashMap<String, Option<Rate>>,
}

/// Entries kept at most per map: the cache stays small even with many customers.
const MAX_REFS: usize = 4096;

impl RefCache {
    fn clear(&mut self) {
        self.accounts.clear();
        self.customers.clear();
        self.links.clear();
        self.rates.clear();
    }
}

/// Empties the writer's [`RefCache`]; call it on the writer thread after changing a reference
/// table, and on every rollback there.
fn forget_references() {
    REFS.with(|r| r.borrow_mut().clear());
}

/// Starts a new group for the [`RefCache`]: its `data_version` is compared again before the
/// next cached read.
fn recheck_references() {
    REFS.with(|r| r.borrow_mut().checked = false);
}

/// Reads through the writer's [`RefCache`]: `pick` selects the map, `load` reads the row on a
/// miss.
fn cached<V: Clone>(
    w: &Writer<'_>,
    key: &str,
    pick: fn(&mut RefCache) -> &mut HashMap<String, V>,
    load: impl FnOnce() -> Result<V, StoreError>,
) -> Result<V, StoreError> {
    let hit = REFS.with(|r| -> Result<Option<V>, StoreError> {
        let mut refs = r.borrow_mut();
        if !refs.checked {
            let version: i64 = w.with(Hot::DataVersion, |s| s.query_row([], |row| row.get(0)))?;
            if refs.data_version != Some(version) {
                refs.clear();
                refs.data_version = Some(version);
            }
            refs.checked = true;
        }
        Ok(pick(&mut refs).get(key).cloned())
    })?;
    if let Some(v) = hit {
        return Ok(v);
    }
    let v = load()?;
    REFS.with(|r| {
        let mut refs = r.borrow_mut();
        let map = pick(&mut refs);
        if map.len() >= MAX_REFS {
            map.clear();
        }
        map.insert(key.to_string(), v.clone());
    });
    Ok(v)
}

/// One billed billable's share of a `usage_daily` row.
struct RollupDelta {
    account_id: String,
    usage_date: String,
    category: String,
    count: i64,
    billed_minutes: i64,
    price: i64,
}

/// Applies the pending roll-up changes of the open transaction, merged by key; the caller
/// commits afterwards, or rolls back (and the changes are dropped) when this fails.
fn flush_rollup(w: &Writer<'_>) -> Result<(), StoreError> {
    let pending = ROLLUP.with(|r| std::mem::take(&mut *r.borrow_mut()));
    if pending.is_empty() {
        return Ok(());
    }
    // Under load most rows of a batch share one key (one account, today, one category), so a
    // linear merge beats hashing three strings per row.
    let mut merged: Vec<RollupDelta> = Vec::new();
    for d in pending {
        let same = merged.iter_mut().find(|m| {
            m.account_id == d.account_id && m.usage_date == d.usage_date && m.category == d.category
        });
        match same {
            Some(m) => {
                m.count = checked_sum(m.count, d.count)?;
                m.billed_minutes = checked_sum(m.billed_minutes, d.billed_minutes)?;
                m.price = checked_sum(m.price, d.price)?;
            }
            None => merged.push(d),
        }
    }
    w.with(Hot::UpsertDaily, |stmt| {
        for m in &merged {
            stmt.execute(params![
                m.account_id,
                m.usage_date,
                m.category,
                m.count,
                m.billed_minutes,
                m.price
            ])?;
        }
        Ok(())
    })?;
    Ok(())
}

fn checked_sum(a: i64, b: i64) -> Result<i64, StoreError> {
    a.checked_add(b)
        .ok_or_else(|| StoreError::Invalid("usage totals overflow".to_string()))
}

/// The number of pending roll-up changes: a savepoint notes it so that rolling the savepoint
/// back also drops the changes its job queued.
fn rollup_len() -> usize {
    ROLLUP.with(|r| r.borrow().len())
}

fn rollup_truncate(len: usize) {
    ROLLUP.with(|r| r.borrow_mut().truncate(len));
}

/// Runs a statement without parameters or rows (transaction control) from the statement
/// cache: `execute_batch` would parse the SQL again on every call, once or twice per write.
fn exec(conn: &Connection, sql: &'static str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A time as stored: RFC 3339, UTC, `Z`.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn conversion_error(
    idx: usize,
    e: impl std::error::Error + Send + Sync + 'static,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

/// A stored time: what [`ts`] writes (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`) is read field by field,
/// anything else goes through chrono's RFC 3339 parser.
fn parse_ts(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match parse_utc_fast(s.as_bytes()) {
        Some(t) => Ok(t),
        None => DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)),
    }
}

/// The fast path of [`parse_ts`]; `None` when `b` is not in the exact form [`ts`] writes or
/// names no valid time.
fn parse_utc_fast(b: &[u8]) -> Option<DateTime<Utc>> {
    let digits = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (&last, head) = b.split_last()?;
    if last != b'Z'
        || head.len() < 19
        || head[4] != b'-'
        || head[7] != b'-'
        || head[10] != b'T'
        || head[13] != b':'
        || head[16] != b':'
    {
        return None;
    }
    let nanos = match head.get(19) {
        None => 0,
        // 1 to 9 fraction digits, scaled to nanoseconds.
        Some(b'.') if (21..=29).contains(&head.len()) => {
            let n = digits(20, head.len())?;
            n * 10u32.pow(u32::try_from(29 - head.len()).ok()?)
        }
        Some(_) => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(0, 4)?).ok()?,
        digits(5, 7)?,
        digits(8, 10)?,
    )?;
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(11, 13)?,
        digits(14, 16)?,
        digits(17, 19)?,
        nanos,
    )?;
    Some(date.and_time(time).and_utc())
}

fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s = row
        .get_ref(idx)?
        .as_str()
        .map_err(|e| conversion_error(idx, e))?;
    parse_ts(s).map_err(|e| conversion_error(idx, e))
}

fn get_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s = row
        .get_ref(idx)?
        .as_str_or_null()
        .map_err(|e| conversion_error(idx, e))?;
    s.map(|s| parse_ts(s).map_err(|e| conversion_error(idx, e)))
        .transpose()
}

fn get_date(row: &Row<'_>, idx: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = row.get(idx)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| conversion_error(idx, e))
}

/// A day as stored: `YYYY-MM-DD`.
fn date(d: NaiveDate) -> String {
    super::iso_day(d)
}

/// The month key of `usage_monthly`: `YYYY-MM`, the first 7 characters of [`date`].
fn month(d: NaiveDate) -> String {
    super::iso_month(d)
}

fn micros(m: Money, what: &str) -> Result<i64, StoreError> {
    m.to_micros()
        .ok_or_else(|| StoreError::Invalid(format!("{what} {m} has more than 6 decimals")))
}

/// Turns a UNIQUE/PRIMARY KEY violation into [`StoreError::Conflict`].
fn conflict_on_unique(e: rusqlite::Error, what: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict(format!("{what} already exists"))
        }
        _ => StoreError::Sqlite(e),
    }
}

/// One write sent to the writer thread.
trait WriteJob: Send {
    /// Runs the write in the open group transaction; `shared` tells that other writes share
    /// it, so that a failure must undo only this job's changes (a savepoint, unless the job
    /// writes with a single statement). Returns whether it succeeded.
    fn run(&mut self, w: &Writer<'_>, shared: bool) -> bool;
    /// Delivers the result once the group transaction has ended; `commit_error` is set when it
    /// did not commit, in which case the job's own result is discarded.
    fn finish(self: Box<Self>, commit_error: Option<&str>);
}

/// Where a write's result goes: a blocking caller waits on a std channel (which, unlike a tokio
/// one, may be waited on from any thread), an async caller on a oneshot.
enum Reply<R> {
    Blocking(mpsc::SyncSender<Result<R, StoreError>>),
    Async(oneshot::Sender<Result<R, StoreError>>),
}

struct Task<R, F> {
    work: Option<F>,
    result: Option<Result<R, StoreError>>,
    reply: Reply<R>,
    /// Whether `work` may change the database with more than one statement. A job that makes
    /// at most one change needs no savepoint: SQLite undoes a failed statement by itself.
    multi_statement: bool,
}

impl<R, F> WriteJob for Task<R, F>
where
    R: Send,
    F: FnOnce(&Writer<'_>) -> Result<R, StoreError> + Send,
{
    fn run(&mut self, w: &Writer<'_>, shared: bool) -> bool {
        if let Some(work) = self.work.take() {
            self.result = Some(if shared && self.multi_statement {
                in_savepoint(w, work)
            } else {
                let queued = rollup_len();
                let result = catching_panics(w, work);
                if result.is_err() {
                    rollup_truncate(queued);
                    forget_references();
                }
                result
            });
        }
        matches!(self.result, Some(Ok(_)))
    }

    fn finish(self: Box<Self>, commit_error: Option<&str>) {
        let result = match (commit_error, self.result) {
            (Some(e), _) => Err(StoreError::Commit(e.to_string())),
            (None, Some(r)) => r,
            (None, None) => Err(StoreError::Commit("the write did not run".to_string())),
        };
        // The caller may have given up waiting; its write is committed regardless.
        match self.reply {
            Reply::Blocking(tx) => {
                let _ = tx.send(result);
            }
            Reply::Async(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// Runs one job so that its failure (or panic) undoes only its own changes, not those of the
/// other writes sharing the transaction.
fn in_savepoint<R>(
    w: &Writer<'_>,
    work: impl FnOnce(&Writer<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    w.exec(Hot::Savepoint)?;
    let queued = rollup_len();
    let result = catching_panics(w, work);
    if result.is_err() {
        rollup_truncate(queued);
        forget_references();
    }
    match &result {
        Ok(_) => w.exec(Hot::Release)?,
        Err(_) => {
            w.exec(Hot::RollbackTo)?;
            w.exec(Hot::Release)?;
        }
    }
    result
}

/// Runs one job, turning a panic into an error so that the writer thread survives it.
fn catching_panics<R>(
    w: &Writer<'_>,
    work: impl FnOnce(&Writer<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| work(w))) {
        Ok(r) => r,
        Err(_) => Err(StoreError::Commit("a write panicked".to_string())),
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Box<dyn WriteJob>>) {
    // Declared after `conn`, so dropped (its statements finalized) before the connection closes.
    let w = Writer::new(&conn);
    while let Ok(first) = rx.recv() {
        // Whatever queued up while the previous commit was syncing shares this transaction.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        recheck_references();
        if let Err(e) = w.exec(Hot::Begin) {
            let msg = e.to_string();
            for job in batch {
                job.finish(Some(&msg));
            }
            continue;
        }
        // A job alone in its transaction needs no savepoint (two statements per write): if it
        // fails, rolling back the whole transaction undoes exactly its changes.
        let alone = batch.len() == 1;
        let mut failed_alone = false;
        let mut lost = false;
        for job in batch.iter_mut() {
            if !job.run(&w, !alone) && alone {
                failed_alone = true;
            }
            // Some errors (I/O, a full disk) make SQLite roll the whole transaction back; later
            // jobs would then commit one by one, outside the group: stop here instead. (A job
            // alone keeps its own error.)
            if !alone && conn.is_autocommit() {
                lost = true;
                break;
            }
        }
        let commit_error = if lost {
            tracing::error!("the group transaction was rolled back by SQLite");
            rollup_truncate(0);
            forget_references();
            Some("the group transaction was rolled back".to_string())
        } else if failed_alone {
            // The job's own error is what its caller gets; nothing else was in the transaction.
            rollup_truncate(0);
            forget_references();
            if let Err(e) = w.exec(Hot::Rollback) {
                tracing::error!(error = %e, "rollback of a failed write failed");
            }
            None
        } else {
            let committed = flush_rollup(&w).and_then(|()| Ok(w.exec(Hot::Commit)?));
            committed.err().map(|e| {
                tracing::error!(error = %e, "group commit failed");
                rollup_truncate(0);
                forget_references();
                let _ = w.exec(Hot::Rollback);
                e.to_string()
            })
        };
        for job in batch {
            job.finish(commit_error.as_deref());
        }
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused WAL mode");
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")?;
    Ok(())
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let apply = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let r = conn.execute_batch(sql).and_then(|_| {
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                    params![version, name, ts(&Utc::now())],
                )
            });
            match r {
                Ok(_) => conn.execute_batch("COMMIT"),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(e)
                }
            }
        };
        apply().map_err(|source| StoreError::Migration { version, source })?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}

/// The SQLite store. Cheap to share behind an `Arc`; dropping the last handle stops the writer
/// after it has finished the queued writes.
pub struct SqliteStore {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Option<mpsc::Sender<Box<dyn WriteJob>>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies pending migrations and starts
    /// the writer thread.
    ///
    /// # Errors
    /// When the file cannot be opened, a migration fails or the thread cannot be started.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(&path)?;
        configure(&conn)?;
        migrate(&conn)?;
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>();
        let handle = std::thread::Builder::new()
            .name("billing-sqlite-writer".to_string())
            .spawn(move || writer_loop(conn, rx))?;
        Ok(SqliteStore {
            path,
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(handle)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        if let Some(c) = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        Ok(conn)
    }

    /// Runs `f` with a pooled connection on the calling thread, which must be allowed to block.
    /// Use it for reads; writes belong on the writer ([`SqliteStore::write`]).
    ///
    /// # Errors
    /// Whatever `f` returns, or a failure to open a connection.
    pub(crate) fn read<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        // Inside `share_reads` on this thread: use its connection, and give it back after.
        // Taking it out of the slot (not borrowing it) keeps a nested read on the pool.
        let key = self.pin_key();
        match PINNED.with(Cell::take) {
            Some((k, conn)) if k == key => {
                let r = f(&conn);
                PINNED.with(|p| p.set(Some((k, conn))));
                return r;
            }
            other => PINNED.with(|p| p.set(other)),
        }
        let conn = self.reader()?;
        let r = f(&conn);
        self.release(conn);
        r
    }

    /// Returns a read connection to the pool, or closes it when the pool is full.
    fn release(&self, conn: Connection) {
        // A connection still inside a transaction would serve a stale snapshot to every later
        // read; close it instead.
        if !conn.is_autocommit() {
            return;
        }
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
    }

    /// Identifies this store in [`PINNED`]: its address, stable while `&self` is borrowed.
    fn pin_key(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Queues `f` for the writer; `multi_statement` as [`Task::multi_statement`].
    fn submit<R, F>(&self, f: F, reply: Reply<R>, multi_statement: bool) -> Result<(), StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Writer<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let job: Box<dyn WriteJob> = Box::new(Task {
            work: Some(f),
            result: None,
            reply,
            multi_statement,
        });
        let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }

    /// Runs `f` on the writer thread, in a group transaction (inside a savepoint when other
    /// writes share it: an `Err` from `f` undoes only `f`'s changes either way), and returns
    /// its result after that transaction committed. Blocks the calling thread, so call it from
    /// a blocking thread, not an async worker (see [`SqliteStore::write_async`]).
    ///
    /// # Errors
    /// Whatever `f` returns (its changes are then rolled back), a failed commit, or
    /// [`StoreError::WriterGone`].
    pub(crate) fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(move |w: &Writer<'_>| f(w.conn), Reply::Blocking(tx), true)?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// [`SqliteStore::write`] for async code: waits without holding a thread.
    ///
    /// # Errors
    /// As [`SqliteStore::write`].
    #[allow(dead_code, reason = "for the auth store, which writes from async code")]
    pub(crate) async fn write_async<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.submit(move |w: &Writer<'_>| f(w.conn), Reply::Async(tx), true)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the channel lets the writer drain what is queued and exit.
        self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = self
            .writer_thread
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = h.join();
        }
    }
}

// Column lists as macros so that every statement is one `concat!`ed constant: no `format!`
// (formatting and an allocation) per call before the statement-cache lookup.
macro_rules! rates_filter {
    () => {
        "account_id IS NULL OR account_id = ?1"
    };
}
macro_rules! billables_filter {
    () => {
        "account_id = ?1 AND usage_date BETWEEN ?2 AND ?3 AND (?4 IS NULL OR customer_id = ?4)"
    };
}
macro_rules! account_cols {
    () => {
        "id, name, parent_account_id, twilio_account_sid, price_unit, created_at"
    };
}
macro_rules! customer_cols {
    () => {
        "id, account_id, parent_customer_id, name, reference_id, created_at"
    };
}
macro_rules! user_cols {
    () => {
        "id, user_name, email, first_name, last_name, display_name, password_hash, created_at"
    };
}
macro_rules! session_cols {
    () => {
        "id, account_id, customer_id, call_sid, channel, from_address, to_address, date_created"
    };
}
macro_rules! call_cols {
    () => {
        "sid, account_sid, parent_call_sid, from_address, to_address, direction, status, \
     start_time, end_time, duration_seconds, provider_price, provider_price_unit, imported_at"
    };
}
macro_rules! rate_cols {
    () => {
        "id, account_id, customer_id, category, unit_price"
    };
}
macro_rules! billable_cols {
    () => {
        "id, call_sid, account_id, customer_id, session_id, category, usage_date, \
     duration_seconds, billed, billed_minutes, rate_id, unit_price, price, price_unit, created_at, created_by"
    };
}

/// The statements every NewBillable group runs on the writer, by slot in [`Writer::hot`].
#[derive(Clone, Copy)]
enum Hot {
    Begin,
    Commit,
    Rollback,
    Savepoint,
    Release,
    RollbackTo,
    DataVersion,
    CallBySid,
    BillableByCall,
    InsertBillable,
    UpsertDaily,
}

impl Hot {
    const COUNT: usize = 11;

    fn sql(self) -> &'static str {
        match self {
            Hot::Begin => "BEGIN IMMEDIATE",
            Hot::Commit => "COMMIT",
            Hot::Rollback => "ROLLBACK",
            Hot::Savepoint => "SAVEPOINT job",
            Hot::Release => "RELEASE job",
            Hot::RollbackTo => "ROLLBACK TO job",
            Hot::DataVersion => "PRAGMA data_version",
            Hot::CallBySid => concat!("SELECT ", call_cols!(), " FROM calls WHERE sid = ?1"),
            Hot::BillableByCall => concat!(
                "SELECT ",
                billable_cols!(),
                " FROM billables WHERE call_sid = ?1"
            ),
            Hot::InsertBillable => concat!(
                "INSERT INTO billables (",
                billable_cols!(),
                ") \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                 ON CONFLICT(call_sid) DO NOTHING"
            ),
            Hot::UpsertDaily => {
                "INSERT INTO usage_daily (account_id, usage_date, category, count, billed_minutes, price) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT(account_id, usage_date, category) DO UPDATE SET \
                   count = count + excluded.count, \
                   billed_minutes = billed_minutes + excluded.billed_minutes, \
                   price = price + excluded.price"
            }
        }
    }
}

/// The writer thread's connection with its hot statements, each prepared on first use and kept
/// for the connection's lifetime: `prepare_cached` would hash the SQL text on every use, several
/// times per billable. (SQLite prepares a kept statement again by itself after a schema change.)
struct Writer<'c> {
    conn: &'c Connection,
    hot: [RefCell<Option<Statement<'c>>>; Hot::COUNT],
}

impl<'c> Writer<'c> {
    fn new(conn: &'c Connection) -> Self {
        Writer {
            conn,
            hot: std::array::from_fn(|_| RefCell::new(None)),
        }
    }

    /// Runs `f` with the kept statement `which`.
    fn with<R>(
        &self,
        which: Hot,
        f: impl FnOnce(&mut Statement<'c>) -> rusqlite::Result<R>,
    ) -> rusqlite::Result<R> {
        let Ok(mut slot) = self.hot[which as usize].try_borrow_mut() else {
            // Already in use further up the stack (nothing does this today): use a fresh one.
            let mut stmt = self.conn.prepare_cached(which.sql())?;
            return f(&mut stmt);
        };
        let stmt = match slot.take() {
            Some(stmt) => slot.insert(stmt),
            None => slot.insert(self.conn.prepare(which.sql())?),
        };
        f(stmt)
    }

    /// Runs a kept statement without parameters or rows (transaction control).
    fn exec(&self, which: Hot) -> rusqlite::Result<()> {
        self.with(which, |s| s.execute([]).map(|_| ()))
    }
}

fn account_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        parent_account_id: r.get(2)?,
        twilio_account_sid: r.get(3)?,
        price_unit: r.get(4)?,
        created_at: get_ts(r, 5)?,
    })
}

fn customer_row(r: &Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: r.get(0)?,
        account_id: r.get(1)?,
        parent_customer_id: r.get(2)?,
        name: r.get(3)?,
        reference_id: r.get(4)?,
        created_at: get_ts(r, 5)?,
    })
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        user_name: r.get(1)?,
        email: r.get(2)?,
        first_name: r.get(3)?,
        last_name: r.get(4)?,
        display_name: r.get(5)?,
        password_hash: r.get(6)?,
        created_at: get_ts(r, 7)?,
    })
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<EvoSession> {
    Ok(EvoSession {
        id: r.get(0)?,
        account_id: r.get(1)?,
        customer_id: r.get(2)?,
        call_sid: r.get(3)?,
        channel: r.get(4)?,
        from_address: r.get(5)?,
        to_address: r.get(6)?,
        date_created: get_ts(r, 7)?,
    })
}

fn call_row(r: &Row<'_>) -> rusqlite::Result<Call> {
    Ok(Call {
        sid: r.get(0)?,
        account_sid: r.get(1)?,
        parent_call_sid: r.get(2)?,
        from_address: r.get(3)?,
        to_address: r.get(4)?,
        direction: r.get(5)?,
        status: r.get(6)?,
        start_time: get_opt_ts(r, 7)?,
        end_time: get_opt_ts(r, 8)?,
        duration_seconds: r.get(9)?,
        provider_price: r.get(10)?,
        provider_price_unit: r.get(11)?,
        imported_at: get_ts(r, 12)?,
    })
}

fn rate_row(r: &Row<'_>) -> rusqlite::Result<Rate> {
    Ok(Rate {
        id: r.get(0)?,
        account_id: r.get(1)?,
        customer_id: r.get(2)?,
        category: r.get(3)?,
        unit_price: Money::from_micros(r.get(4)?),
    })
}

fn billable_row(r: &Row<'_>) -> rusqlite::Result<Billable> {
    Ok(Billable {
        id: r.get(0)?,
        call_sid: r.get(1)?,
        account_id: r.get(2)?,
        customer_id: r.get(3)?,
        session_id: r.get(4)?,
        category: r.get(5)?,
        usage_date: get_date(r, 6)?,
        duration_seconds: r.get(7)?,
        billed: r.get(8)?,
        billed_minutes: r.get(9)?,
        rate_id: r.get(10)?,
        unit_price: Money::from_micros(r.get(11)?),
        price: Money::from_micros(r.get(12)?),
        price_unit: r.get(13)?,
        created_at: get_ts(r, 14)?,
        created_by: r.get(15)?,
    })
}

fn strings(conn: &Connection, sql: &str, key: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![key], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn billable_by_call(conn: &Connection, call_sid: &str) -> Result<Option<Billable>, StoreError> {
    let sql = concat!(
        "SELECT ",
        billable_cols!(),
        " FROM billables WHERE call_sid = ?1"
    );
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![call_sid], billable_row)
        .optional()?)
}

fn account_by_id(conn: &Connection, id: &str) -> Result<Option<Account>, StoreError> {
    let sql = concat!("SELECT ", account_cols!(), " FROM accounts WHERE id = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![id], account_row)
        .optional()?)
}

fn customer_by_id(conn: &Connection, id: &str) -> Result<Option<Customer>, StoreError> {
    let sql = concat!("SELECT ", customer_cols!(), " FROM customers WHERE id = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![id], customer_row)
        .optional()?)
}

fn linked_accounts(conn: &Connection, user_id: &str) -> Result<Vec<String>, StoreError> {
    strings(
        conn,
        "SELECT account_id FROM user_accounts WHERE user_id = ?1 ORDER BY rowid",
        user_id,
    )
}

fn session_by_id(conn: &Connection, id: &str) -> Result<Option<EvoSession>, StoreError> {
    let sql = concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![id], session_row)
        .optional()?)
}

fn rate_at(
    conn: &Connection,
    account_id: Option<&str>,
    customer_id: Option<&str>,
    category: &str,
) -> Result<Option<Rate>, StoreError> {
    let sql = concat!(
        "SELECT ",
        rate_cols!(),
        " FROM rates WHERE account_id IS ?1 AND customer_id IS ?2 AND category = ?3"
    );
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![account_id, customer_id, category], rate_row)
        .optional()?)
}

/// [`BillingReads`] inside the writer's open transaction: a billing job sees the latest state,
/// including the writes queued before it in the same group, and no write can slip in between
/// its reads and its insert.
struct TxReads<'a, 'c> {
    w: &'a Writer<'c>,
}

impl BillingReads for TxReads<'_, '_> {
    fn get_evo_session(&self, id: &str) -> Result<Option<EvoSession>, StoreError> {
        session_by_id(self.w.conn, id)
    }
    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        cached(
            self.w,
            id,
            |r| &mut r.accounts,
            || account_by_id(self.w.conn, id),
        )
    }
    fn get_customer(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        cached(
            self.w,
            id,
            |r| &mut r.customers,
            || customer_by_id(self.w.conn, id),
        )
    }
    fn user_account_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        cached(
            self.w,
            user_id,
            |r| &mut r.links,
            || linked_accounts(self.w.conn, user_id),
        )
    }
    fn get_call(&self, sid: &str) -> Result<Option<Call>, StoreError> {
        Ok(self.w.with(Hot::CallBySid, |s| {
            s.query_row(params![sid], call_row).optional()
        })?)
    }
    fn find_rate(
        &self,
        account_id: Option<&str>,
        customer_id: Option<&str>,
        category: &str,
    ) -> Result<Option<Rate>, StoreError> {
        let mut key = String::with_capacity(
            account_id.map_or(0, str::len) + customer_id.map_or(0, str::len) + category.len() + 4,
        );
        // `-` for a missing scope, `+id` for a given one, each part ended by a NUL, which no
        // id or category contains: distinct scopes never share a key.
        for part in [account_id, customer_id] {
            match part {
                Some(id) => {
                    key.push('+');
                    key.push_str(id);
                }
                None => key.push('-'),
            }
            key.push('\0');
        }
        key.push_str(category);
        cached(
            self.w,
            &key,
            |r| &mut r.rates,
            || rate_at(self.w.conn, account_id, customer_id, category),
        )
    }
    fn get_billable_by_call(&self, call_sid: &str) -> Result<Option<Billable>, StoreError> {
        writer_billable_by_call(self.w, call_sid)
    }
}

/// [`billable_by_call`] with the writer's kept statement.
fn writer_billable_by_call(w: &Writer<'_>, call_sid: &str) -> Result<Option<Billable>, StoreError> {
    Ok(w.with(Hot::BillableByCall, |s| {
        s.query_row(params![call_sid], billable_row).optional()
    })?)
}

fn call_by_sid(conn: &Connection, sid: &str) -> Result<Option<Call>, StoreError> {
    let sql = concat!("SELECT ", call_cols!(), " FROM calls WHERE sid = ?1");
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![sid], call_row)
        .optional()?)
}

fn insert_billable_tx(w: &Writer<'_>, b: &Billable) -> Result<InsertOutcome, StoreError> {
    let unit_price = micros(b.unit_price, "unit price")?;
    let price = micros(b.price, "price")?;
    let inserted = w.with(Hot::InsertBillable, |s| {
        s.execute(params![
            b.id,
            b.call_sid,
            b.account_id,
            b.customer_id,
            b.session_id,
            b.category,
            date(b.usage_date),
            b.duration_seconds,
            b.billed,
            b.billed_minutes,
            b.rate_id,
            unit_price,
            price,
            b.price_unit,
            ts(&b.created_at),
            b.created_by,
        ])
    })?;
    if inserted == 0 {
        return match writer_billable_by_call(w, &b.call_sid)? {
            Some(existing) => Ok(InsertOutcome::Existing(Box::new(existing))),
            None => Err(StoreError::Conflict(format!(
                "billable for {} could not be inserted",
                b.call_sid
            ))),
        };
    }
    if b.billed {
        // Written to `usage_daily` with the rest of the group, just before its commit.
        let delta = RollupDelta {
            account_id: b.account_id.clone(),
            usage_date: date(b.usage_date),
            category: b.category.clone(),
            count: 1,
            billed_minutes: b.billed_minutes,
            price,
        };
        ROLLUP.with(|r| r.borrow_mut().push(delta));
    }
    Ok(InsertOutcome::Inserted)
}

fn offset_limit(page: Page) -> (i64, i64) {
    (page.offset.max(0), page.limit.max(0))
}

/// Gives the pinned connection back to the pool when `share_reads` ends, even by a panic.
struct Unpin<'a>(&'a SqliteStore);

impl Drop for Unpin<'_> {
    fn drop(&mut self) {
        // `try_with`: at thread exit the slot may already be gone; the connection then closes.
        if let Ok(Some((_, conn))) = PINNED.try_with(Cell::take) {
            // Ends the read transaction; should that fail, `release` closes the connection.
            if let Err(e) = exec(&conn, "COMMIT") {
                tracing::warn!(error = %e, "ending a shared read transaction failed");
            }
            self.0.release(conn);
        }
    }
}

impl BillingStore for SqliteStore {
    /// Runs the whole job on the writer thread, inside the group transaction: its reads use
    /// the writer's connection, whose page cache every commit keeps current (a pooled reader
    /// starts each read transaction after a commit with an emptied cache), and the caller
    /// waits for the commit without holding a thread.
    fn bill_call(self: Arc<Self>, job: BillJob) -> BillFuture {
        let (tx, rx) = oneshot::channel();
        let submitted = self.submit(
            move |w: &Writer<'_>| {
                let billable = match job(&TxReads { w }) {
                    Ok(Some(b)) => b,
                    Ok(None) => return Ok(Ok(None)),
                    // A rejection wrote nothing; it is not a failure of the transaction.
                    Err(rejected) => return Ok(Err(rejected)),
                };
                let outcome = insert_billable_tx(w, &billable)?;
                Ok(Ok(Some((billable, outcome))))
            },
            Reply::Async(tx),
            // Reads, then one INSERT (the roll-up waits for the commit): no savepoint needed.
            false,
        );
        Box::pin(async move {
            submitted?;
            match rx.await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(e)) => Err(e.into()),
                Err(_) => Err(StoreError::WriterGone.into()),
            }
        })
    }

    fn share_reads(&self, f: &mut dyn FnMut()) {
        let occupied = PINNED.with(|p| {
            let pinned = p.take();
            let occupied = pinned.is_some();
            p.set(pinned);
            occupied
        });
        // Nested (or another store's scope on this thread): leave that pin alone. Failing to
        // open a connection: run unpinned, and each read reports the failure itself.
        let conn = match occupied {
            true => None,
            false => self.reader().ok(),
        };
        // One read transaction for all of `f`'s reads: SQLite then starts a read (WAL snapshot,
        // shared-memory locks, page-cache check) once instead of once per statement, and the
        // reads see one consistent state.
        let conn = conn.filter(|c| exec(c, "BEGIN").is_ok());
        let Some(conn) = conn else {
            f();
            return;
        };
        PINNED.with(|p| p.set(Some((self.pin_key(), conn))));
        let _unpin = Unpin(self);
        f();
    }

    fn create_account(&self, a: &Account) -> Result<(), StoreError> {
        let a = a.clone();
        self.write(move |conn| {
            forget_references();
            conn.prepare_cached(concat!(
                "INSERT INTO accounts (",
                account_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))?
            .execute(params![
                a.id,
                a.name,
                a.parent_account_id,
                a.twilio_account_sid,
                a.price_unit,
                ts(&a.created_at)
            ])
            .map_err(|e| conflict_on_unique(e, "an account with this id or Twilio account SID"))?;
            Ok(())
        })
    }

    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        self.read(|conn| account_by_id(conn, id))
    }

    fn get_account_by_sid(&self, sid: &str) -> Result<Option<Account>, StoreError> {
        self.read(|conn| {
            let sql = concat!(
                "SELECT ",
                account_cols!(),
                " FROM accounts WHERE twilio_account_sid = ?1"
            );
            Ok(conn
                .prepare_cached(sql)?
                .query_row(params![sid], account_row)
                .optional()?)
        })
    }

    fn create_customer(&self, c: &Customer) -> Result<(), StoreError> {
        let c = c.clone();
        self.write(move |conn| {
            forget_references();
            conn.prepare_cached(concat!(
                "INSERT INTO customers (",
                customer_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))?
            .execute(params![
                c.id,
                c.account_id,
                c.parent_customer_id,
                c.name,
                c.reference_id,
                ts(&c.created_at)
            ])
            .map_err(|e| conflict_on_unique(e, "a customer with this id"))?;
            Ok(())
        })
    }

    fn get_customer(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        self.read(|conn| customer_by_id(conn, id))
    }

    fn list_customers(
        &self,
        account_id: &str,
        page: Page,
    ) -> Result<(Vec<Customer>, i64), StoreError> {
        let (offset, limit) = offset_limit(page);
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM customers WHERE account_id = ?1")?
                .query_row(params![account_id], |r| r.get(0))?;
            let sql = concat!(
                "SELECT ",
                customer_cols!(),
                " FROM customers WHERE account_id = ?1 ORDER BY rowid LIMIT ?2 OFFSET ?3"
            );
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params![account_id, limit, offset], customer_row)?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
        })
    }

    fn create_user(&self, u: &NewUserRecord) -> Result<(), StoreError> {
        let u = u.clone();
        self.write(move |conn| {
            // Cached reference rows (user-account links for a user) may change.
            forget_references();
            let user = &u.user;
            conn.prepare_cached(concat!(
                "INSERT INTO users (",
                user_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?
            .execute(params![
                user.id,
                user.user_name,
                user.email,
                user.first_name,
                user.last_name,
                user.display_name,
                user.password_hash,
                ts(&user.created_at),
            ])
            .map_err(|e| conflict_on_unique(e, "a user with this user name or email address"))?;
            for role in &u.roles {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?1, ?2)",
                )?
                .execute(params![user.id, role])?;
            }
            for p in &u.permissions {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO user_permissions (user_id, permission) VALUES (?1, ?2)",
                )?
                .execute(params![user.id, p])?;
            }
            for a in &u.account_ids {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO user_accounts (user_id, account_id) VALUES (?1, ?2)",
                )?
                .execute(params![user.id, a])?;
            }
            Ok(())
        })
    }

    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(|conn| {
            let sql = concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?1");
            Ok(conn
                .prepare_cached(sql)?
                .query_row(params![id], user_row)
                .optional()?)
        })
    }

    fn find_user_by_name(&self, user_name: &str) -> Result<Option<User>, StoreError> {
        self.read(|conn| {
            // The column's NOCASE collation makes this match ignoring case.
            let sql = concat!("SELECT ", user_cols!(), " FROM users WHERE user_name = ?1");
            Ok(conn
                .prepare_cached(sql)?
                .query_row(params![user_name], user_row)
                .optional()?)
        })
    }

    fn user_roles(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            strings(
                conn,
                "SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role",
                user_id,
            )
        })
    }

    fn user_permissions(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.read(|conn| {
            strings(
                conn,
                "SELECT permission FROM user_permissions WHERE user_id = ?1 ORDER BY permission",
                user_id,
            )
        })
    }

    fn user_account_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.read(|conn| linked_accounts(conn, user_id))
    }

    fn set_user_roles(&self, user_id: &str, roles: &[String]) -> Result<(), StoreError> {
        let user_id = user_id.to_string();
        let roles = roles.to_vec();
        self.write(move |conn| {
            conn.prepare_cached("DELETE FROM user_roles WHERE user_id = ?1")?
                .execute(params![user_id])?;
            for role in &roles {
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?1, ?2)",
                )?
                .execute(params![user_id, role])?;
            }
            Ok(())
        })
    }

    fn create_evo_session(&self, s: &EvoSession) -> Result<(), StoreError> {
        let s = s.clone();
        self.write(move |conn| {
            conn.prepare_cached(concat!(
                "INSERT INTO sessions (",
                session_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ))?
            .execute(params![
                s.id,
                s.account_id,
                s.customer_id,
                s.call_sid,
                s.channel,
                s.from_address,
                s.to_address,
                ts(&s.date_created),
            ])
            .map_err(|e| conflict_on_unique(e, "a session with this id"))?;
            Ok(())
        })
    }

    fn get_evo_session(&self, id: &str) -> Result<Option<EvoSession>, StoreError> {
        self.read(|conn| session_by_id(conn, id))
    }

    fn upsert_calls(&self, calls: &[Call]) -> Result<ImportOutcome, StoreError> {
        let calls = calls.to_vec();
        self.write(move |conn| {
            let mut out = ImportOutcome::default();
            for c in &calls {
                let existing = call_by_sid(conn, &c.sid)?;
                if let Some(old) = &existing {
                    if old.same_content(c) {
                        continue;
                    }
                    if billable_by_call(conn, &c.sid)?.is_some() {
                        return Err(StoreError::Conflict(format!(
                            "Call {} already has a billable and cannot be changed",
                            c.sid
                        )));
                    }
                }
                conn.prepare_cached(concat!("INSERT INTO calls (", call_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
                     ON CONFLICT(sid) DO UPDATE SET account_sid = excluded.account_sid, \
                       parent_call_sid = excluded.parent_call_sid, from_address = excluded.from_address, \
                       to_address = excluded.to_address, direction = excluded.direction, status = excluded.status, \
                       start_time = excluded.start_time, end_time = excluded.end_time, \
                       duration_seconds = excluded.duration_seconds, provider_price = excluded.provider_price, \
                       provider_price_unit = excluded.provider_price_unit, imported_at = excluded.imported_at"))?
                .execute(params![
                    c.sid,
                    c.account_sid,
                    c.parent_call_sid,
                    c.from_address,
                    c.to_address,
                    c.direction,
                    c.status,
                    c.start_time.as_ref().map(ts),
                    c.end_time.as_ref().map(ts),
                    c.duration_seconds,
                    c.provider_price,
                    c.provider_price_unit,
                    ts(&c.imported_at),
                ])?;
                if existing.is_some() {
                    out.updated += 1;
                } else {
                    out.imported += 1;
                }
            }
            Ok(out)
        })
    }

    fn get_call(&self, sid: &str) -> Result<Option<Call>, StoreError> {
        self.read(|conn| call_by_sid(conn, sid))
    }

    fn find_rate(
        &self,
        account_id: Option<&str>,
        customer_id: Option<&str>,
        category: &str,
    ) -> Result<Option<Rate>, StoreError> {
        self.read(|conn| rate_at(conn, account_id, customer_id, category))
    }

    fn set_rate(&self, rate: &Rate) -> Result<Rate, StoreError> {
        let rate = rate.clone();
        let unit_price = micros(rate.unit_price, "unit price")?;
        self.write(move |conn| {
            forget_references();
            let updated = conn
                .prepare_cached(
                    "UPDATE rates SET unit_price = ?4 \
                     WHERE account_id IS ?1 AND customer_id IS ?2 AND category = ?3",
                )?
                .execute(params![
                    rate.account_id,
                    rate.customer_id,
                    rate.category,
                    unit_price
                ])?;
            if updated == 0 {
                conn.prepare_cached(concat!(
                    "INSERT INTO rates (",
                    rate_cols!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5)"
                ))?
                .execute(params![
                    rate.id,
                    rate.account_id,
                    rate.customer_id,
                    rate.category,
                    unit_price
                ])?;
            }
            let sql = concat!(
                "SELECT ",
                rate_cols!(),
                " FROM rates WHERE account_id IS ?1 AND customer_id IS ?2 AND category = ?3"
            );
            Ok(conn.prepare_cached(sql)?.query_row(
                params![rate.account_id, rate.customer_id, rate.category],
                rate_row,
            )?)
        })
    }

    fn list_rates(
        &self,
        account_id: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Rate>, i64), StoreError> {
        let (offset, limit) = offset_limit(page);
        self.read(|conn| {
            let total: i64 = conn
                .prepare_cached(concat!(
                    "SELECT COUNT(*) FROM rates WHERE ",
                    rates_filter!()
                ))?
                .query_row(params![account_id], |r| r.get(0))?;
            let sql = concat!(
                "SELECT ",
                rate_cols!(),
                " FROM rates WHERE ",
                rates_filter!(),
                " \
                 ORDER BY account_id IS NOT NULL, customer_id IS NOT NULL, customer_id, category \
                 LIMIT ?2 OFFSET ?3"
            );
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params![account_id, limit, offset], rate_row)?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
        })
    }

    fn get_billable_by_call(&self, call_sid: &str) -> Result<Option<Billable>, StoreError> {
        self.read(|conn| billable_by_call(conn, call_sid))
    }

    fn insert_billable(&self, billable: &Billable) -> Result<InsertOutcome, StoreError> {
        let b = billable.clone();
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(
            move |w: &Writer<'_>| insert_billable_tx(w, &b),
            Reply::Blocking(tx),
            true,
        )?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn list_billables(
        &self,
        f: &BillableFilter,
        page: Page,
    ) -> Result<(Vec<Billable>, i64), StoreError> {
        let (offset, limit) = offset_limit(page);
        self.read(|conn| {
            let (start, end) = (date(f.start), date(f.end));
            let total: i64 = conn
                .prepare_cached(concat!(
                    "SELECT COUNT(*) FROM billables WHERE ",
                    billables_filter!()
                ))?
                .query_row(params![f.account_id, start, end, f.customer_id], |r| {
                    r.get(0)
                })?;
            let sql = concat!(
                "SELECT ",
                billable_cols!(),
                " FROM billables WHERE ",
                billables_filter!(),
                " ORDER BY usage_date, created_at, id \
                 LIMIT ?5 OFFSET ?6"
            );
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(
                params![f.account_id, start, end, f.customer_id, limit, offset],
                billable_row,
            )?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total))
        })
    }

    fn usage_by_category(
        &self,
        account_id: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<UsageTotals>, StoreError> {
        self.read(|conn| {
            // Rows are summed here rather than with GROUP BY, which needs a temporary B-tree
            // sorter; BTreeMap's byte order is the BINARY collation's `ORDER BY category`.
            let mut totals: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
            for part in usage_parts(start, end) {
                let (sql, from, to) = match part {
                    UsagePart::Days(a, b) => (USAGE_DAYS_SQL, date(a), date(b)),
                    UsagePart::Months(a, b) => (USAGE_MONTHS_SQL, month(a), month(b)),
                };
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(params![account_id, from, to])?;
                while let Some(r) = rows.next()? {
                    let (count, minutes, price): (i64, i64, i64) =
                        (r.get(1)?, r.get(2)?, r.get(3)?);
                    let category = r.get_ref(0)?.as_str().map_err(|e| conversion_error(0, e))?;
                    // Looked up by `&str` first: a category's String is allocated once.
                    let Some(t) = totals.get_mut(category) else {
                        totals.insert(category.to_string(), (count, minutes, price));
                        continue;
                    };
                    // SQL's SUM fails on integer overflow; so does this.
                    *t = match (
                        t.0.checked_add(count),
                        t.1.checked_add(minutes),
                        t.2.checked_add(price),
                    ) {
                        (Some(c), Some(m), Some(p)) => (c, m, p),
                        _ => return Err(StoreError::Invalid("usage totals overflow".to_string())),
                    };
                }
            }
            Ok(totals
                .into_iter()
                .map(|(category, (count, billed_minutes, price))| UsageTotals {
                    category,
                    count,
                    billed_minutes,
                    price: Money::from_micros(price),
                })
                .collect())
        })
    }
}

/// Daily roll-up rows of an account between two days, inclusive (`YYYY-MM-DD`); walks the
/// primary key in order, no sorter.
const USAGE_DAYS_SQL: &str = "SELECT category, count, billed_minutes, price FROM usage_daily \
     WHERE account_id = ?1 AND usage_date BETWEEN ?2 AND ?3";
/// Monthly roll-up rows of an account between two months, inclusive (`YYYY-MM`).
const USAGE_MONTHS_SQL: &str = "SELECT category, count, billed_minutes, price FROM usage_monthly \
     WHERE account_id = ?1 AND month BETWEEN ?2 AND ?3";

/// A stretch of a usage query answered by one roll-up table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UsagePart {
    /// Days from the first to the second, inclusive, from `usage_daily`.
    Days(NaiveDate, NaiveDate),
    /// Whole months from the month of the first day to the month of the second, inclusive,
    /// from `usage_monthly`.
    Months(NaiveDate, NaiveDate),
}

/// Splits `start..=end` into the whole months inside it (read from `usage_monthly`) and the
/// partial months at either end (read from `usage_daily`).
fn usage_parts(start: NaiveDate, end: NaiveDate) -> Vec<UsagePart> {
    if start > end {
        return Vec::new();
    }
    // `usage_monthly` keys are the first 7 characters of the stored date, which is 'YYYY-MM'
    // only for years with 4 digits; other ranges stay on the daily rows.
    let four_digits = |d: NaiveDate| (0..=9999).contains(&d.year());
    let first_of = |d: NaiveDate| d.with_day(1);
    // First day of the first whole month, and the day after the last whole month.
    let whole_start = if start.day() == 1 {
        Some(start)
    } else {
        first_of(start).and_then(|d| d.checked_add_months(Months::new(1)))
    };
    let whole_end = match end.succ_opt() {
        Some(next) if next.day() == 1 => Some(next),
        _ => first_of(end),
    };
    match (whole_start, whole_end) {
        (Some(ws), Some(we)) if ws < we && four_digits(start) && four_digits(end) => {
            let mut parts = Vec::with_capacity(3);
            if let Some(before) = ws.pred_opt().filter(|_| start < ws) {
                parts.push(UsagePart::Days(start, before));
            }
            if let Some(last_month) = we.pred_opt() {
                parts.push(UsagePart::Months(ws, last_month));
            }
            if we <= end {
                parts.push(UsagePart::Days(we, end));
            }
            parts
        }
        _ => vec![UsagePart::Days(start, end)],
    }
}

#[cfg(test)]
mod tests {
    use super::{UsagePart, date, month, usage_parts};
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn stored_times_read_back_exactly() {
        use chrono::{DateTime, TimeZone, Utc};
        let base = Utc.with_ymd_and_hms(2026, 10, 5, 23, 59, 58).unwrap();
        for nanos in [0, 1, 120_000_000, 123_456_000, 123_456_789, 999_999_999] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            let s = super::ts(&t);
            assert_eq!(super::parse_utc_fast(s.as_bytes()), Some(t), "{s}");
            assert_eq!(super::parse_ts(&s).unwrap(), t);
        }
        // Other RFC 3339 forms still parse, through chrono.
        for s in [
            "2026-10-05T23:59:58+02:00",
            "2026-10-05t23:59:58z",
            "2026-10-05T23:59:58.5Z",
        ] {
            let want = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            assert_eq!(super::parse_ts(s).unwrap(), want, "{s}");
        }
        for bad in [
            "2026-13-05T23:59:58Z",
            "2026-10-05T24:00:00Z",
            "2026-10-05T23:59:58.Z",
            "x",
        ] {
            assert!(super::parse_utc_fast(bad.as_bytes()).is_none(), "{bad}");
            assert!(super::parse_ts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        for s in [
            "2026-10-01",
            "2024-02-29",
            "0001-01-09",
            "0999-12-31",
            "9999-12-31",
            "1970-07-10",
        ] {
            assert_eq!(date(d(s)), s);
            assert_eq!(month(d(s)), s[..7]);
        }
        for day in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-1, 3, 4).unwrap(),
            NaiveDate::from_ymd_opt(0, 3, 4).unwrap(),
        ] {
            assert_eq!(date(day), day.format("%Y-%m-%d").to_string());
            assert_eq!(month(day), day.format("%Y-%m").to_string());
        }
    }

    #[test]
    fn usage_ranges_split_into_whole_months_and_partial_days() {
        use UsagePart::{Days, Months};
        assert_eq!(
            usage_parts(d("2026-10-01"), d("2026-10-31")),
            [Months(d("2026-10-01"), d("2026-10-31"))]
        );
        assert_eq!(
            usage_parts(d("2026-10-02"), d("2026-10-31")),
            [Days(d("2026-10-02"), d("2026-10-31"))]
        );
        assert_eq!(
            usage_parts(d("2026-10-01"), d("2026-10-30")),
            [Days(d("2026-10-01"), d("2026-10-30"))]
        );
        assert_eq!(
            usage_parts(d("2026-09-15"), d("2026-12-03")),
            [
                Days(d("2026-09-15"), d("2026-09-30")),
                Months(d("2026-10-01"), d("2026-11-30")),
                Days(d("2026-12-01"), d("2026-12-03")),
            ]
        );
        assert_eq!(
            usage_parts(d("2024-02-01"), d("2024-02-29")),
            [Months(d("2024-02-01"), d("2024-02-29"))]
        );
        assert_eq!(
            usage_parts(d("2026-12-01"), d("2027-01-31")),
            [Months(d("2026-12-01"), d("2027-01-31"))]
        );
        assert_eq!(
            usage_parts(d("2026-10-05"), d("2026-10-05")),
            [Days(d("2026-10-05"), d("2026-10-05"))]
        );
        assert!(usage_parts(d("2026-10-05"), d("2026-10-04")).is_empty());
        assert_eq!(
            usage_parts(NaiveDate::MAX, NaiveDate::MAX),
            [Days(NaiveDate::MAX, NaiveDate::MAX)]
        );
    }
}
