//! Persistence for billing: the [`BillingStore`] trait the services depend on, its records, and
//! the SQLite implementation ([`SqliteStore`]).
//!
//! The trait is narrow and, but for [`BillingStore::bill_call`], synchronous; services call the
//! synchronous methods from blocking threads (`tokio::task::spawn_blocking`), never from an
//! async worker. `bill_call` returns a future instead: NewBillable hands the store one job (its
//! reads, rating and insert), which the SQLite store runs on its writer thread inside the group
//! transaction. A PostgreSQL backend would be a second implementation of the same trait (its
//! `bill_call` could run the job in one transaction, or keep the default).
//!
//! # Reusing the SQLite connections (for `src/store/auth.rs`)
//!
//! Crate-internal code that needs SQL the trait does not cover (sessions, refresh tokens, API
//! keys, settings) uses the connections of [`SqliteStore`] directly:
//!
//! - `SqliteStore::read` runs a closure with a pooled read-only-by-convention connection on
//!   the calling thread (call it from a blocking thread). WAL lets readers run beside the writer.
//!   Inside [`BillingStore::share_reads`] on the same thread, every `read` gets the one
//!   connection (and read transaction) checked out for the whole scope.
//! - `SqliteStore::write` (blocking) and `SqliteStore::write_async` (awaitable) send a
//!   closure to the single writer thread. It runs in the current group transaction (inside a
//!   savepoint when other writes share it), so an `Err` rolls back only that closure's
//!   changes; the result is delivered
//!   only after the `COMMIT` that contains it returned, so an acknowledged write is on disk.
//!   Keep write closures short: every writer waits for them.
//!
//! All statements take parameters (`rusqlite::params!`); never format values into SQL.
//! Times are stored as RFC 3339 UTC text (see [`sqlite::ts`]), money as integer micro-units.
//!
//! [`SqliteStore`] also implements `gateway::auth::AuthStore`, which shares the method names
//! `create_user`, `get_user` and `find_user_by_name` with [`BillingStore`]; where both traits
//! are in scope, call them as `BillingStore::create_user(&store, ...)`. Call sessions are
//! therefore named `create_evo_session`/`get_evo_session` here, apart from login sessions.

pub mod auth;
pub mod sqlite;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::money::Money;

pub use sqlite::SqliteStore;

/// A day as `YYYY-MM-DD`, exactly as chrono's `%Y-%m-%d` writes it (as stored, and on the
/// wire).
pub(crate) fn iso_day(d: NaiveDate) -> String {
    let mut s = iso_month(d);
    if s.len() == 7 {
        s.push('-');
        push_two_digits(&mut s, d.day());
    } else {
        s = d.format("%Y-%m-%d").to_string();
    }
    s
}

/// A month as `YYYY-MM`, exactly as chrono's `%Y-%m` writes it: the first 7 characters of
/// [`iso_day`].
pub(crate) fn iso_month(d: NaiveDate) -> String {
    // Written digit by digit: chrono's strftime parses its format string on every call, which
    // cost more than the query it feeds. Years outside 0..=9999 keep chrono's signed form.
    let Ok(year) = u32::try_from(d.year()) else {
        return d.format("%Y-%m").to_string();
    };
    if year > 9999 {
        return d.format("%Y-%m").to_string();
    }
    let mut s = String::with_capacity(10);
    push_two_digits(&mut s, year / 100);
    push_two_digits(&mut s, year % 100);
    s.push('-');
    push_two_digits(&mut s, d.month());
    s
}

fn push_two_digits(s: &mut String, n: u32) {
    for digit in [n / 10 % 10, n % 10] {
        s.push(char::from(b'0' + digit as u8));
    }
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A uniqueness rule was broken (duplicate email, id, Twilio account SID...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value cannot be stored as given (money with more than 6 decimals...).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// A migration failed; the database is left at the previous version.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration's version number.
        version: i64,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The group transaction holding this write could not be committed.
    #[error("commit failed: {0}")]
    Commit(String),
    /// The writer thread is gone (the store is shutting down or a write panicked).
    #[error("the store's writer thread has stopped")]
    WriterGone,
    /// Creating the database directory or the writer thread failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// An Evo Voice account, bound to one Twilio (sub)account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Opaque id (24 lowercase hex).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Parent account, if any.
    pub parent_account_id: Option<String>,
    /// `AC` + 32 hex.
    pub twilio_account_sid: String,
    /// Lowercase ISO 4217 code.
    pub price_unit: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A customer of an account; customers form a tree inside one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// Opaque id.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Parent customer in the same account.
    pub parent_customer_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Id in a third-party system.
    pub reference_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// The sign-in name (an email address or a plain name), unique ignoring case.
    pub user_name: String,
    /// Email address, unique ignoring case when present.
    pub email: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A user to create, with its roles, permissions and linked accounts.
#[derive(Debug, Clone)]
pub struct NewUserRecord {
    /// The user row.
    pub user: User,
    /// Role names.
    pub roles: Vec<String>,
    /// Permission names.
    pub permissions: Vec<String>,
    /// Accounts the user may reach.
    pub account_ids: Vec<String>,
}

/// An Evo Voice call session (not a login session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvoSession {
    /// Session id.
    pub id: String,
    /// Owning account.
    pub account_id: String,
    /// Customer the session belongs to.
    pub customer_id: Option<String>,
    /// The Twilio call of the session.
    pub call_sid: Option<String>,
    /// `Voice`, `Chat` or `Fax`.
    pub channel: String,
    /// Caller address.
    pub from_address: Option<String>,
    /// Called address.
    pub to_address: Option<String>,
    /// Creation time.
    pub date_created: DateTime<Utc>,
}

/// An imported Twilio Call resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `CA` + 32 hex.
    pub sid: String,
    /// The Twilio account the call belongs to.
    pub account_sid: String,
    /// Parent call (for legs).
    pub parent_call_sid: Option<String>,
    /// Caller.
    pub from_address: String,
    /// Callee.
    pub to_address: String,
    /// Twilio direction.
    pub direction: String,
    /// Twilio status.
    pub status: String,
    /// Start, UTC.
    pub start_time: Option<DateTime<Utc>>,
    /// End, UTC.
    pub end_time: Option<DateTime<Utc>>,
    /// Duration in seconds.
    pub duration_seconds: Option<i64>,
    /// Twilio's own cost, informational.
    pub provider_price: Option<String>,
    /// Currency of `provider_price`.
    pub provider_price_unit: Option<String>,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
}

impl Call {
    /// Whether two versions of a call describe the same call (the import time aside).
    pub fn same_content(&self, other: &Call) -> bool {
        Call {
            imported_at: other.imported_at,
            ..self.clone()
        } == *other
    }
}

/// What importing a batch of calls did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// New calls.
    pub imported: i64,
    /// Existing calls that changed.
    pub updated: i64,
}

/// A per-minute price for a leaf category at one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Opaque id.
    pub id: String,
    /// `None`: the system default.
    pub account_id: Option<String>,
    /// Set only with `account_id`: a customer override.
    pub customer_id: Option<String>,
    /// Leaf category.
    pub category: String,
    /// Price per billed minute, at most 6 decimals.
    pub unit_price: Money,
}

/// One rated call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Billable {
    /// Opaque id.
    pub id: String,
    /// The call billed; unique.
    pub call_sid: String,
    /// Account billed.
    pub account_id: String,
    /// Customer billed.
    pub customer_id: String,
    /// Session the billable was reported for.
    pub session_id: Option<String>,
    /// Leaf category.
    pub category: String,
    /// UTC day the usage counts on.
    pub usage_date: NaiveDate,
    /// Call duration in seconds.
    pub duration_seconds: i64,
    /// Whether the call is charged (completed).
    pub billed: bool,
    /// Minutes charged; 0 when not billed.
    pub billed_minutes: i64,
    /// The rate applied.
    pub rate_id: Option<String>,
    /// Snapshot of the unit price.
    pub unit_price: Money,
    /// `billed_minutes × unit_price`, 5 decimals half-up.
    pub price: Money,
    /// Currency.
    pub price_unit: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// User id of the reporter.
    pub created_by: String,
}

/// Result of inserting a billable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The row was inserted (and committed).
    Inserted,
    /// A billable for the call already existed; it is returned unchanged.
    Existing(Box<Billable>),
}

/// Totals of billed billables of one leaf category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageTotals {
    /// Leaf category.
    pub category: String,
    /// Number of billed billables.
    pub count: i64,
    /// Sum of billed minutes.
    pub billed_minutes: i64,
    /// Sum of prices.
    pub price: Money,
}

/// Which billables to list.
#[derive(Debug, Clone)]
pub struct BillableFilter {
    /// Account.
    pub account_id: String,
    /// Only this customer, if set.
    pub customer_id: Option<String>,
    /// First usage day, inclusive.
    pub start: NaiveDate,
    /// Last usage day, inclusive.
    pub end: NaiveDate,
}

/// A page of a list: rows `offset..offset + limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return at most.
    pub limit: i64,
}

/// The reads that rating a call needs (NewBillable steps 4 to 7), as seen from inside
/// [`BillingStore::bill_call`]'s transaction.
pub trait BillingReads {
    /// A session by id.
    fn get_evo_session(&self, id: &str) -> Result<Option<EvoSession>, StoreError>;
    /// An account by id.
    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError>;
    /// A customer by id.
    fn get_customer(&self, id: &str) -> Result<Option<Customer>, StoreError>;
    /// The accounts linked to a user, in link order.
    fn user_account_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// A call by SID.
    fn get_call(&self, sid: &str) -> Result<Option<Call>, StoreError>;
    /// The rate row at exactly this scope (`None` account: system default).
    fn find_rate(
        &self,
        account_id: Option<&str>,
        customer_id: Option<&str>,
        category: &str,
    ) -> Result<Option<Rate>, StoreError>;
    /// The billable of a call.
    fn get_billable_by_call(&self, call_sid: &str) -> Result<Option<Billable>, StoreError>;
}

/// Decides, from the store's current state, which billable (if any) to insert; a rejection
/// is the API error the caller gets, and nothing is written.
pub type BillJob = Box<
    dyn FnOnce(&dyn BillingReads) -> Result<Option<Billable>, gateway::ApiError> + Send + 'static,
>;

/// What [`BillingStore::bill_call`] resolves to: the billable the job chose and the insert's
/// outcome (`None` when the job chose to insert nothing), or the job's rejection or a store
/// failure.
pub type BillFuture = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<Option<Billed>, gateway::ApiError>>
            + Send
            + 'static,
    >,
>;

/// A billable the job of [`BillingStore::bill_call`] chose, and what inserting it did.
pub type Billed = (Billable, InsertOutcome);

/// [`BillingReads`] over the plain [`BillingStore`] methods: what the default
/// [`BillingStore::bill_call`] hands its job.
pub(crate) struct ReadsOf<'a, S: ?Sized>(pub(crate) &'a S);

impl<S: BillingStore + ?Sized> BillingReads for ReadsOf<'_, S> {
    fn get_evo_session(&self, id: &str) -> Result<Option<EvoSession>, StoreError> {
        self.0.get_evo_session(id)
    }
    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        self.0.get_account(id)
    }
    fn get_customer(&self, id: &str) -> Result<Option<Customer>, StoreError> {
        self.0.get_customer(id)
    }
    fn user_account_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        self.0.user_account_ids(user_id)
    }
    fn get_call(&self, sid: &str) -> Result<Option<Call>, StoreError> {
        self.0.get_call(sid)
    }
    fn find_rate(
        &self,
        account_id: Option<&str>,
        customer_id: Option<&str>,
        category: &str,
    ) -> Result<Option<Rate>, StoreError> {
        self.0.find_rate(account_id, customer_id, category)
    }
    fn get_billable_by_call(&self, call_sid: &str) -> Result<Option<Billable>, StoreError> {
        self.0.get_billable_by_call(call_sid)
    }
}

/// The storage the billing services need, and nothing more.
pub trait BillingStore: Send + Sync + 'static {
    /// Bills a call: runs `job` against the store's state and inserts the billable it returns
    /// (unless one exists for its call, as [`BillingStore::insert_billable`]), resolving once
    /// the insert is committed. Awaiting it does not block the async worker.
    ///
    /// The default runs the job's reads and the insert on a blocking thread, one after the
    /// other; a store that can, runs both in one write transaction so that the job sees no
    /// concurrent change (the SQLite store does it on its writer thread).
    fn bill_call(self: std::sync::Arc<Self>, job: BillJob) -> BillFuture {
        Box::pin(async move {
            let joined = tokio::task::spawn_blocking(move || {
                let Some(billable) = job(&ReadsOf(&*self))? else {
                    return Ok(None);
                };
                let outcome = self.insert_billable(&billable)?;
                Ok(Some((billable, outcome)))
            })
            .await;
            joined.map_err(gateway::ApiError::internal)?
        })
    }

    /// Runs `f`, letting this store serve all the reads `f` makes on the calling thread from
    /// one connection: a pooled implementation checks a connection out once instead of once
    /// per read (ListUsageRecords makes several). Writes are unaffected. Keep `f` to reads: a
    /// write waiting for its group commit would hold the connection meanwhile. The default
    /// just runs `f`.
    fn share_reads(&self, f: &mut dyn FnMut()) {
        f();
    }

    /// Creates an account; a duplicate id or Twilio account SID is a [`StoreError::Conflict`].
    fn create_account(&self, account: &Account) -> Result<(), StoreError>;
    /// An account by id.
    fn get_account(&self, id: &str) -> Result<Option<Account>, StoreError>;
    /// An account by Twilio account SID.
    fn get_account_by_sid(&self, twilio_account_sid: &str) -> Result<Option<Account>, StoreError>;

    /// Creates a customer.
    fn create_customer(&self, customer: &Customer) -> Result<(), StoreError>;
    /// A customer by id.
    fn get_customer(&self, id: &str) -> Result<Option<Customer>, StoreError>;
    /// A page of an account's customers, in creation order, and their total number.
    fn list_customers(
        &self,
        account_id: &str,
        page: Page,
    ) -> Result<(Vec<Customer>, i64), StoreError>;

    /// Creates a user with roles, permissions and accounts in one transaction; a duplicate user
    /// name or email is a [`StoreError::Conflict`].
    fn create_user(&self, user: &NewUserRecord) -> Result<(), StoreError>;
    /// A user by id.
    fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// A user by sign-in name, ignoring case.
    fn find_user_by_name(&self, user_name: &str) -> Result<Option<User>, StoreError>;
    /// A user's roles, sorted.
    fn user_roles(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// A user's permissions, sorted.
    fn user_permissions(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// The accounts linked to a user, in link order.
    fn user_account_ids(&self, user_id: &str) -> Result<Vec<String>, StoreError>;
    /// Replaces a user's roles.
    fn set_user_roles(&self, user_id: &str, roles: &[String]) -> Result<(), StoreError>;

    /// Creates a session; a duplicate id is a [`StoreError::Conflict`].
    fn create_evo_session(&self, session: &EvoSession) -> Result<(), StoreError>;
    /// A session by id.
    fn get_evo_session(&self, id: &str) -> Result<Option<EvoSession>, StoreError>;

    /// Inserts or updates calls by SID, all or nothing; changing a call that already has a
    /// billable is a [`StoreError::Conflict`].
    fn upsert_calls(&self, calls: &[Call]) -> Result<ImportOutcome, StoreError>;
    /// A call by SID.
    fn get_call(&self, sid: &str) -> Result<Option<Call>, StoreError>;

    /// The rate row at exactly this scope (`None` account: system default).
    fn find_rate(
        &self,
        account_id: Option<&str>,
        customer_id: Option<&str>,
        category: &str,
    ) -> Result<Option<Rate>, StoreError>;
    /// Sets the price at the rate's scope, keeping the id of an existing row; returns the
    /// stored row.
    fn set_rate(&self, rate: &Rate) -> Result<Rate, StoreError>;
    /// A page of rates: the system defaults, plus the account's rows when `account_id` is set.
    fn list_rates(
        &self,
        account_id: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Rate>, i64), StoreError>;

    /// The billable of a call.
    fn get_billable_by_call(&self, call_sid: &str) -> Result<Option<Billable>, StoreError>;
    /// Inserts a billable unless one exists for its call, and updates the daily roll-up in the
    /// same transaction. Returns only after the commit.
    fn insert_billable(&self, billable: &Billable) -> Result<InsertOutcome, StoreError>;
    /// A page of billables by usage date, and their total number.
    fn list_billables(
        &self,
        filter: &BillableFilter,
        page: Page,
    ) -> Result<(Vec<Billable>, i64), StoreError>;
    /// Totals per leaf category of billed billables of an account between two UTC days,
    /// inclusive, sorted by category, from the roll-ups (monthly for the whole months in the
    /// range, daily for the rest).
    fn usage_by_category(
        &self,
        account_id: &str,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<UsageTotals>, StoreError>;
}
