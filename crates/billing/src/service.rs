//! The billing services: one async method per operation, each taking the request DTO and the
//! caller. Store work runs off the async workers: on a blocking thread, or for `NewBillable` as
//! one job on the store's writer thread ([`BillingStore::bill_call`]); a cached
//! `ListUsageRecords` answer needs no store work at all.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use gateway::{ApiError, FieldError, Session};

use crate::dto::*;
use crate::money::Money;
use crate::rating;
use crate::store::{
    Account, BillJob, Billable, BillableFilter, BillingReads, BillingStore, Call, Customer,
    EvoSession, InsertOutcome, NewUserRecord, Page, Rate, ReadsOf, StoreError, User,
};
use crate::usage_cache::{UsageAnswer, UsageCache, UsageCacheLimits};

/// Evo Voice's top role: every account.
pub const SYSTEM_ADMINISTRATOR: &str = "SystemAdministrator";
/// Account managers: their linked accounts.
pub const MANAGER: &str = "Manager";

/// Default page size of list envelopes.
pub const DEFAULT_PAGE_SIZE: i64 = 100;
/// Largest page size of list envelopes.
pub const MAX_PAGE_SIZE: i64 = 1000;

/// The error code of 400s raised by the services' own validation.
const ARGUMENT: &str = "ArgumentException";

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}

/// A clock, so tests can fix "today".
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The billing services over a [`BillingStore`].
pub struct BillingService {
    store: Arc<dyn BillingStore>,
    clock: Clock,
    /// ListUsageRecords answers, valid until the account's next billable.
    usage: Arc<UsageCache>,
}

impl std::fmt::Debug for BillingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BillingService").finish_non_exhaustive()
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::validation(field, ARGUMENT, message)
}

fn non_blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    non_blank(v).ok_or_else(|| invalid(field, format!("{field} is required")))
}

/// Whether `s` is `prefix` followed by 32 hexadecimal digits (a Twilio SID).
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn random_hex(bytes: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Digit by digit: a `format!` per byte cost more than the rest of rating a call.
    let mut s = String::with_capacity(bytes * 2);
    for _ in 0..bytes {
        let b = rand::random::<u8>();
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// A new opaque id: 24 lowercase hex digits, like a MongoDB ObjectId.
pub fn new_id() -> String {
    random_hex(12)
}

/// A new billable id, laid out like a MongoDB ObjectId: seconds since 1970 (4 bytes), a random
/// value fixed for the process (5 bytes) and a counter (3 bytes, starting anywhere), all
/// big-endian hex. Billables are the one high-volume table: ids that grow with time append to
/// the end of its id index, so a group commit of many rows dirties one leaf page there instead
/// of one random page per row. Unique within the process (up to 16M per second) and, through
/// the process value, across processes; the primary key rejects a collision anyway.
fn new_billable_id(now: DateTime<Utc>) -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};
    static PROCESS: OnceLock<(u64, AtomicU32)> = OnceLock::new();
    let (process, counter) =
        PROCESS.get_or_init(|| (rand::random::<u64>(), AtomicU32::new(rand::random::<u32>())));
    let seconds = u32::try_from(now.timestamp().max(0)).unwrap_or(u32::MAX);
    let count = counter.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&seconds.to_be_bytes());
    bytes[4..9].copy_from_slice(&process.to_be_bytes()[3..]);
    bytes[9..].copy_from_slice(&count.to_be_bytes()[1..]);
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(24);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

fn is_superuser(s: &Session) -> bool {
    s.is_admin() || s.has_role(SYSTEM_ADMINISTRATOR)
}

fn ensure_access(
    store: &dyn BillingStore,
    caller: &Session,
    account_id: &str,
) -> Result<(), ApiError> {
    ensure_billing_access(&crate::store::ReadsOf(store), caller, account_id)
}

fn account_or_404(store: &dyn BillingStore, id: &str) -> Result<Account, ApiError> {
    store
        .get_account(id)?
        .ok_or_else(|| ApiError::not_found(format!("Account {id} not found")))
}

fn customer_or_404(store: &dyn BillingStore, id: &str) -> Result<Customer, ApiError> {
    store
        .get_customer(id)?
        .ok_or_else(|| ApiError::not_found(format!("Customer {id} not found")))
}

/// The account a listing is for: the given one, or the caller's only linked account.
fn listing_account(
    store: &dyn BillingStore,
    caller: &Session,
    given: &Option<String>,
) -> Result<Account, ApiError> {
    let id = match non_blank(given) {
        Some(id) => id.to_string(),
        None => {
            let linked = store.user_account_ids(&caller.user_id)?;
            match linked.as_slice() {
                [only] => only.clone(),
                _ => return Err(invalid("AccountId", "AccountId is required")),
            }
        }
    };
    let account = account_or_404(store, &id)?;
    ensure_access(store, caller, &account.id)?;
    Ok(account)
}

/// A `YYYY-MM-DD` date that exists in the calendar.
fn parse_day(v: &str) -> Option<NaiveDate> {
    // Read by hand: chrono's format-string parser cost more than the rest of a cached
    // ListUsageRecords on the service side.
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    match v.as_bytes() {
        [y @ .., b'-', m1, m2, b'-', d1, d2] if y.len() == 4 => {
            let year = i32::try_from(number(y)?).ok()?;
            NaiveDate::from_ymd_opt(year, number(&[*m1, *m2])?, number(&[*d1, *d2])?)
        }
        _ => None,
    }
}

/// The inclusive UTC day range of a listing: `endDate` defaults to today, `startDate` to the
/// first day of the end date's month (Twilio's "ThisMonth").
fn date_range(
    start: &Option<String>,
    end: &Option<String>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let mut errors = Vec::new();
    let mut parse = |v: &Option<String>, field: &str| -> Option<NaiveDate> {
        let s = non_blank(v)?;
        let d = parse_day(s);
        if d.is_none() {
            errors.push(FieldError {
                error_code: ARGUMENT.to_string(),
                field_name: field.to_string(),
                message: format!("{field} '{s}' is not a valid date in the form YYYY-MM-DD"),
            });
        }
        d
    };
    let start = parse(start, "StartDate");
    let end = parse(end, "EndDate");
    if !errors.is_empty() {
        return Err(ApiError::validation_errors(errors));
    }
    let end = end.unwrap_or(today);
    let start = start.unwrap_or_else(|| end.with_day(1).unwrap_or(end));
    if start > end {
        return Err(invalid("StartDate", "StartDate must not be after EndDate"));
    }
    Ok((start, end))
}

/// `(page from 1, page size)` as validated values and the store's [`Page`].
fn paging(page: Option<i64>, page_size: Option<i64>) -> Result<(i64, Page), ApiError> {
    let page_no = page.unwrap_or(1);
    if page_no < 1 {
        return Err(invalid("Page", "Page must be 1 or more"));
    }
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(invalid(
            "PageSize",
            format!("PageSize must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let offset = (page_no - 1).saturating_mul(size);
    Ok((
        size,
        Page {
            offset,
            limit: size,
        },
    ))
}

/// `(totalPages, hasMorePages)` of a list envelope.
fn envelope(total: i64, size: i64, page: Page) -> (i64, bool) {
    let pages = (total + size - 1) / size;
    (pages, page.offset + page.limit < total)
}

/// A Twilio time: RFC 2822 (`Wed, 01 May 2024 10:00:00 +0000`), RFC 3339, or a naive ISO 8601
/// date-time taken as UTC.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(|n| n.and_utc())
        })
}

fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn account_info(a: Account) -> AccountInfo {
    AccountInfo {
        id: a.id,
        name: a.name,
        twilio_account_sid: a.twilio_account_sid,
        price_unit: a.price_unit,
    }
}

fn customer_info(c: Customer) -> CustomerInfo {
    CustomerInfo {
        id: c.id,
        account_id: c.account_id,
        parent_customer_id: c.parent_customer_id,
        name: c.name,
        reference_id: c.reference_id,
    }
}

fn session_info(s: EvoSession) -> SessionInfo {
    SessionInfo {
        id: s.id,
        account_id: s.account_id,
        customer_id: s.customer_id,
        call_sid: s.call_sid,
        channel: s.channel,
        from_address: s.from_address,
        to_address: s.to_address,
        date_created: iso(&s.date_created),
    }
}

fn rate_info(r: Rate) -> RateInfo {
    RateInfo {
        id: r.id,
        account_id: r.account_id,
        customer_id: r.customer_id,
        category: r.category,
        unit_price: r.unit_price,
    }
}

fn billable_info(b: Billable) -> BillableInfo {
    BillableInfo {
        id: b.id,
        call_sid: b.call_sid,
        account_id: b.account_id,
        customer_id: b.customer_id,
        session_id: b.session_id,
        category: b.category,
        usage_date: crate::store::iso_day(b.usage_date),
        duration_seconds: b.duration_seconds,
        billed: b.billed,
        billed_minutes: b.billed_minutes,
        unit_price: b.unit_price,
        price: b.price,
        price_unit: b.price_unit,
        created_at: iso(&b.created_at),
    }
}

/// Step 7 of NewBillable: a repeated report is accepted only for the same owner.
fn same_owner(
    existing: &Billable,
    account_id: &str,
    customer_id: &str,
    session_id: Option<&str>,
) -> Result<(), ApiError> {
    if existing.account_id == account_id
        && existing.customer_id == customer_id
        && existing.session_id.as_deref() == session_id
    {
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "Call {} is already billed to another customer or session",
            existing.call_sid
        )))
    }
}

/// The rate of a leaf category for a customer: the customer's, then each parent customer's,
/// then the account's, then the system default.
pub fn resolve_rate(
    store: &dyn BillingStore,
    account_id: &str,
    customer_id: &str,
    category: &str,
) -> Result<Rate, ApiError> {
    resolve_rate_in(&ReadsOf(store), account_id, customer_id, category)
}

/// [`resolve_rate`] over any [`BillingReads`], such as a billing job's transaction.
fn resolve_rate_in(
    store: &dyn BillingReads,
    account_id: &str,
    customer_id: &str,
    category: &str,
) -> Result<Rate, ApiError> {
    let mut seen = HashSet::new();
    let mut next = Some(customer_id.to_string());
    while let Some(cid) = next {
        // A parent cycle would otherwise loop forever; the store does not forbid one.
        if !seen.insert(cid.clone()) {
            break;
        }
        if let Some(r) = store.find_rate(Some(account_id), Some(&cid), category)? {
            return Ok(r);
        }
        next = store.get_customer(&cid)?.and_then(|c| c.parent_customer_id);
    }
    if let Some(r) = store.find_rate(Some(account_id), None, category)? {
        return Ok(r);
    }
    store.find_rate(None, None, category)?.ok_or_else(|| {
        ApiError::new(
            400,
            "NoRate",
            format!("No rate is configured for category {category}"),
        )
    })
}

/// Runs `f` with all its store reads on one connection ([`BillingStore::share_reads`]): one
/// pool checkout for the whole request instead of one per read.
fn with_shared_reads<R>(
    store: &dyn BillingStore,
    f: impl FnOnce() -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let mut f = Some(f);
    let mut out = None;
    store.share_reads(&mut || {
        if let Some(f) = f.take() {
            out = Some(f());
        }
    });
    match (out, f) {
        (Some(r), _) => r,
        // An implementation that did not call the closure: run it here.
        (None, Some(f)) => f(),
        (None, None) => Err(ApiError::internal("share_reads lost its result")),
    }
}

/// Steps 2 and 3 of NewBillable, which need no store: the call SID and the named owner
/// (session id, account id, customer id), trimmed.
type BillingTarget = (String, Option<String>, Option<String>, Option<String>);

fn new_billable_target(req: &NewBillable) -> Result<BillingTarget, ApiError> {
    // 2. The call SID.
    let call_sid = required(&req.call_sid, "CallSid")?;
    if !is_sid(call_sid, "CA") {
        return Err(invalid(
            "CallSid",
            "CallSid must be 'CA' followed by 32 hexadecimal digits",
        ));
    }
    // 3. An owner must be named.
    let session_id = non_blank(&req.session_id);
    let given_account = non_blank(&req.account_id);
    let given_customer = non_blank(&req.customer_id);
    if session_id.is_none() && (given_account.is_none() || given_customer.is_none()) {
        return Err(invalid(
            "SessionId",
            "You must specify either SessionId or AccountId + CustomerId",
        ));
    }
    Ok((
        call_sid.to_string(),
        session_id.map(str::to_string),
        given_account.map(str::to_string),
        given_customer.map(str::to_string),
    ))
}

/// The account of a billing owner, or 404.
fn owner_account(reads: &dyn BillingReads, id: &str) -> Result<Account, ApiError> {
    reads
        .get_account(id)?
        .ok_or_else(|| ApiError::not_found(format!("Account {id} not found")))
}

/// The caller reaches the account: a SystemAdministrator (or Admin) every account, anyone else
/// only the accounts linked to them (NewBillable's step 5, and every account-scoped operation).
fn ensure_billing_access(
    reads: &dyn BillingReads,
    caller: &Session,
    account_id: &str,
) -> Result<(), ApiError> {
    if is_superuser(caller)
        || reads
            .user_account_ids(&caller.user_id)?
            .iter()
            .any(|a| a == account_id)
    {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "You do not have access to account {account_id}"
        )))
    }
}

/// Steps 4 to 9 of NewBillable: the billable to insert, or `None` when the call is already
/// billed to the same owner.
fn rate_call(
    store: &dyn BillingReads,
    call_sid: &str,
    (session_id, given_account, given_customer): (Option<&str>, Option<&str>, Option<&str>),
    caller: &Session,
    now: DateTime<Utc>,
) -> Result<Option<Billable>, ApiError> {
    // 4. Resolve the owner.
    let (account, customer_id) = match session_id {
        Some(sid) => {
            let s = store
                .get_evo_session(sid)?
                .ok_or_else(|| ApiError::not_found(format!("Session {sid} not found")))?;
            let Some(customer_id) = s.customer_id else {
                return Err(invalid(
                    "SessionId",
                    format!("Session {sid} has no customer"),
                ));
            };
            if given_account.is_some_and(|a| a != s.account_id) {
                return Err(invalid(
                    "AccountId",
                    "AccountId does not match the session's account",
                ));
            }
            if given_customer.is_some_and(|c| c != customer_id) {
                return Err(invalid(
                    "CustomerId",
                    "CustomerId does not match the session's customer",
                ));
            }
            (owner_account(store, &s.account_id)?, customer_id)
        }
        None => {
            let (Some(account_id), Some(customer_id)) = (given_account, given_customer) else {
                return Err(invalid(
                    "SessionId",
                    "You must specify either SessionId or AccountId + CustomerId",
                ));
            };
            let account = owner_account(store, account_id)?;
            let customer = store
                .get_customer(customer_id)?
                .ok_or_else(|| ApiError::not_found(format!("Customer {customer_id} not found")))?;
            if customer.account_id != account.id {
                return Err(invalid(
                    "CustomerId",
                    format!("Customer {customer_id} does not belong to account {account_id}"),
                ));
            }
            (account, customer.id)
        }
    };
    // 5. Access.
    ensure_billing_access(store, caller, &account.id)?;
    // 6. The call, of this account's Twilio account.
    let call = store
        .get_call(call_sid)?
        .ok_or_else(|| ApiError::not_found(format!("Call {call_sid} not found")))?;
    if call.account_sid != account.twilio_account_sid {
        return Err(invalid(
            "CallSid",
            format!("Call {call_sid} does not belong to account {}", account.id),
        ));
    }
    // 7. Idempotency. A billable of this call makes the answer `same_owner`'s, whatever steps
    // 8 and 9 would say: the insert's `ON CONFLICT(call_sid) DO NOTHING` reports it (the caller
    // then applies `same_owner`), and a rejection below looks for it before it stands. Steps 8
    // and 9 only read, so running them first changes no answer, and a new call (the common
    // case) costs one probe of the call_sid index instead of two.
    match price_call(
        store,
        call_sid,
        &call,
        &account,
        &customer_id,
        session_id,
        caller,
        now,
    ) {
        Ok(billable) => Ok(Some(billable)),
        Err(rejected) if rejected.status() < 500 => match store.get_billable_by_call(call_sid)? {
            Some(existing) => {
                same_owner(&existing, &account.id, &customer_id, session_id).map(|()| None)
            }
            None => Err(rejected),
        },
        Err(failed) => Err(failed),
    }
}

/// Steps 8 and 9 of NewBillable: the billable for a call that has none yet.
#[allow(
    clippy::too_many_arguments,
    reason = "the state of rate_call's earlier steps"
)]
fn price_call(
    store: &dyn BillingReads,
    call_sid: &str,
    call: &Call,
    account: &Account,
    customer_id: &str,
    session_id: Option<&str>,
    caller: &Session,
    now: DateTime<Utc>,
) -> Result<Billable, ApiError> {
    // 8. Only finished calls.
    let status = call.status.as_str();
    if rating::UNFINISHED_STATUSES.contains(&status) {
        return Err(invalid(
            "CallSid",
            format!("Call {call_sid} has not finished"),
        ));
    }
    let billed = match status {
        "completed" => true,
        s if rating::UNBILLED_STATUSES.contains(&s) => false,
        other => {
            return Err(invalid(
                "CallSid",
                format!("Call {call_sid} has an unknown status '{other}'"),
            ));
        }
    };
    if billed && call.duration_seconds.is_none() {
        return Err(invalid(
            "CallSid",
            format!("Call {call_sid} is completed but has no duration"),
        ));
    }
    // 9. Classify, rate, insert.
    let category = rating::classify(&call.from_address, &call.to_address, &call.direction)
        .ok_or_else(|| {
            invalid(
                "CallSid",
                format!(
                    "Call {call_sid} has an unknown direction '{}'",
                    call.direction
                ),
            )
        })?;
    let rate = resolve_rate_in(store, &account.id, customer_id, category)?;
    let duration = call.duration_seconds.unwrap_or(0).max(0);
    let (minutes, price) = if billed {
        let m = rating::billed_minutes(duration);
        (m, rating::price(m, rate.unit_price))
    } else {
        (0, Money::ZERO)
    };
    let usage_date = call
        .start_time
        .or(call.end_time)
        .unwrap_or(call.imported_at)
        .date_naive();
    let billable = Billable {
        id: new_billable_id(now),
        call_sid: call_sid.to_string(),
        account_id: account.id.clone(),
        customer_id: customer_id.to_string(),
        session_id: session_id.map(str::to_string),
        category: category.to_string(),
        usage_date,
        duration_seconds: duration,
        billed,
        billed_minutes: minutes,
        rate_id: Some(rate.id),
        unit_price: rate.unit_price,
        price,
        price_unit: account.price_unit.clone(),
        created_at: now,
        created_by: caller.user_id.clone(),
    };
    Ok(billable)
}

/// Twilio's usage record URI, built with one sized allocation: `format!`'s machinery cost more
/// than the rest of the record for each of the seven records of a ListUsageRecords.
fn usage_uri(account_sid: &str, category: &str, start: &str, end: &str) -> String {
    const PARTS: [&str; 4] = [
        "/2010-04-01/Accounts/",
        "/Usage/Records.json?Category=",
        "&StartDate=",
        "&EndDate=",
    ];
    let len = PARTS.iter().map(|p| p.len()).sum::<usize>()
        + account_sid.len()
        + category.len()
        + start.len()
        + end.len();
    let mut uri = String::with_capacity(len);
    for (part, value) in PARTS.iter().zip([account_sid, category, start, end]) {
        uri.push_str(part);
        uri.push_str(value);
    }
    uri
}

fn usage_record(
    account: &Account,
    category: &str,
    (start, end): (&str, &str),
    count: i64,
    usage: String,
    price: Money,
) -> UsageRecordInfo {
    let total = category == rating::TOTAL_PRICE;
    UsageRecordInfo {
        account_sid: account.twilio_account_sid.clone(),
        category: category.to_string(),
        count,
        count_unit: if total {
            String::new()
        } else {
            "calls".to_string()
        },
        description: rating::description(category).to_string(),
        end_date: end.to_string(),
        price,
        price_unit: account.price_unit.clone(),
        start_date: start.to_string(),
        usage,
        usage_unit: if total {
            account.price_unit.clone()
        } else {
            "minutes".to_string()
        },
        uri: usage_uri(&account.twilio_account_sid, category, start, end),
    }
}

/// The accounts linked to the caller, from the cache or (remembered there) the store.
fn linked_accounts(
    store: &dyn BillingStore,
    cache: &UsageCache,
    caller: &Session,
) -> Result<Arc<[String]>, ApiError> {
    if let Some(links) = cache.links(&caller.user_id) {
        return Ok(links);
    }
    let links: Arc<[String]> = store.user_account_ids(&caller.user_id)?.into();
    cache.put_links(&caller.user_id, links.clone());
    Ok(links)
}

/// ListUsageRecords on a blocking thread: validation in the order of domain.md 4.7, then the
/// cached answer or a fresh one (which is cached).
fn list_usage_blocking(
    store: &dyn BillingStore,
    cache: &UsageCache,
    req: &ListUsageRecords,
    caller: &Session,
    today: NaiveDate,
) -> Result<UsageAnswer, ApiError> {
    let given = non_blank(&req.account_id);
    let superuser = is_superuser(caller);
    // Links decide the default account and a non-administrator's access. Read outside the
    // shared read transaction below, whose snapshot must begin after the version is read.
    let links = if given.is_none() || !superuser {
        Some(linked_accounts(store, cache, caller)?)
    } else {
        None
    };
    let account_id = match (given, links.as_deref()) {
        (Some(id), _) => id,
        (None, Some([only])) => only.as_str(),
        (None, _) => return Err(invalid("AccountId", "AccountId is required")),
    };
    let range = date_range(&req.start_date, &req.end_date, today)?;
    // Before any read of the snapshot the answer comes from (see `usage_cache`).
    let version = cache.version(account_id);
    with_shared_reads(store, || {
        // Accounts never change: one the cache holds (with an outdated answer, typically) is
        // as good as a read.
        let account = match cache.account(account_id) {
            Some(account) => account,
            None => Arc::new(account_or_404(store, account_id)?),
        };
        let reachable = superuser || links.as_deref().is_some_and(|l| l.contains(&account.id));
        if !reachable {
            return Err(ApiError::forbidden(format!(
                "You do not have access to account {}",
                account.id
            )));
        }
        if let Some(hit) = cache.get(&account.id, range.0, range.1) {
            return Ok(hit);
        }
        let answer = UsageAnswer::new(list_usage(store, &account, range)?);
        cache.put(&account, range, version, &answer);
        Ok(answer)
    })
}

/// The usage records of `account` over `start..=end`, from the store's roll-ups.
fn list_usage(
    store: &dyn BillingStore,
    account: &Account,
    (start, end): (NaiveDate, NaiveDate),
) -> Result<Vec<UsageRecordInfo>, ApiError> {
    // At most one row per leaf category (four): a linear search is cheaper than hashing.
    let totals: Vec<(String, (i64, i64, Money))> = store
        .usage_by_category(&account.id, start, end)?
        .into_iter()
        .filter(|t| t.count > 0)
        .map(|t| (t.category, (t.count, t.billed_minutes, t.price)))
        .collect();
    let sum = |leaves: &[&str]| -> Option<(i64, i64, Money)> {
        leaves
            .iter()
            .filter_map(|c| totals.iter().find(|(k, _)| k == c).map(|(_, v)| v))
            .fold(None, |acc, (c2, m2, p2)| {
                let (c, m, p) = acc.unwrap_or((0, 0, Money::ZERO));
                Some((c + c2, m + m2, Money(p.0 + p2.0)))
            })
    };
    let (s, e) = (crate::store::iso_day(start), crate::store::iso_day(end));
    let range = (s.as_str(), e.as_str());
    let mut out = Vec::new();
    for category in rating::CANONICAL_ORDER {
        let leaf = [category];
        let leaves: &[&str] = match category {
            rating::CALLS => &[
                rating::CALLS_INBOUND_LOCAL,
                rating::CALLS_INBOUND_TOLLFREE,
                rating::CALLS_OUTBOUND,
            ],
            rating::CALLS_INBOUND => &[rating::CALLS_INBOUND_LOCAL, rating::CALLS_INBOUND_TOLLFREE],
            rating::TOTAL_PRICE => &rating::LEAF_CATEGORIES,
            _ => &leaf,
        };
        let Some((count, minutes, price)) = sum(leaves) else {
            continue;
        };
        let price = price.round_half_up(5);
        out.push(if category == rating::TOTAL_PRICE {
            usage_record(account, category, range, 0, price.to_plain_string(), price)
        } else {
            usage_record(account, category, range, count, minutes.to_string(), price)
        });
    }
    Ok(out)
}

fn validate_call(i: usize, c: &TwilioCall, now: DateTime<Utc>) -> Result<Call, ApiError> {
    let field = |name: &str| format!("Calls[{i}].{name}");
    let sid = non_blank(&c.sid).ok_or_else(|| invalid(&field("Sid"), "Sid is required"))?;
    if !is_sid(sid, "CA") {
        return Err(invalid(
            &field("Sid"),
            "Sid must be 'CA' followed by 32 hexadecimal digits",
        ));
    }
    let account_sid = non_blank(&c.account_sid)
        .ok_or_else(|| invalid(&field("AccountSid"), "AccountSid is required"))?;
    if !is_sid(account_sid, "AC") {
        return Err(invalid(
            &field("AccountSid"),
            "AccountSid must be 'AC' followed by 32 hexadecimal digits",
        ));
    }
    let direction = non_blank(&c.direction).unwrap_or_default();
    if !rating::DIRECTIONS.contains(&direction) {
        return Err(invalid(
            &field("Direction"),
            format!("'{direction}' is not a Twilio call direction"),
        ));
    }
    let status = non_blank(&c.status).unwrap_or_default();
    if !rating::STATUSES.contains(&status) {
        return Err(invalid(
            &field("Status"),
            format!("'{status}' is not a Twilio call status"),
        ));
    }
    let time = |v: &Option<String>, name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        match non_blank(v) {
            None => Ok(None),
            Some(s) => parse_time(s).map(Some).ok_or_else(|| {
                invalid(
                    &field(name),
                    format!("'{s}' is not an RFC 2822 or ISO 8601 time"),
                )
            }),
        }
    };
    let start_time = time(&c.start_time, "StartTime")?;
    let end_time = time(&c.end_time, "EndTime")?;
    let duration_seconds = match non_blank(&c.duration) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            Ok(d) if d >= 0 => Some(d),
            _ => {
                return Err(invalid(
                    &field("Duration"),
                    format!("'{s}' is not a number of seconds"),
                ));
            }
        },
    };
    Ok(Call {
        sid: sid.to_string(),
        account_sid: account_sid.to_string(),
        parent_call_sid: non_blank(&c.parent_call_sid).map(str::to_string),
        from_address: c.from.clone().unwrap_or_default(),
        to_address: c.to.clone().unwrap_or_default(),
        direction: direction.to_string(),
        status: status.to_string(),
        start_time,
        end_time,
        duration_seconds,
        provider_price: non_blank(&c.price).map(str::to_string),
        provider_price_unit: non_blank(&c.price_unit).map(str::to_string),
        imported_at: now,
    })
}

fn user_info(
    store: &dyn BillingStore,
    user: &User,
    roles: Vec<String>,
) -> Result<UserInfo, ApiError> {
    let account_ids = store.user_account_ids(&user.id)?;
    let mut account_names = Vec::with_capacity(account_ids.len());
    for id in &account_ids {
        account_names.push(store.get_account(id)?.map(|a| a.name).unwrap_or_default());
    }
    Ok(UserInfo {
        id: user.id.clone(),
        email_address: user.email.clone().unwrap_or_else(|| user.user_name.clone()),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        roles,
        account_ids,
        account_names,
    })
}

impl BillingService {
    /// Services over `store`, with the system clock.
    pub fn new(store: Arc<dyn BillingStore>) -> Self {
        BillingService::with_clock(store, Arc::new(Utc::now))
    }

    /// Services over `store` with a custom clock ("today" for date defaults, creation times).
    pub fn with_clock(store: Arc<dyn BillingStore>, clock: Clock) -> Self {
        BillingService {
            store,
            clock,
            usage: Arc::new(UsageCache::default()),
        }
    }

    /// Replaces the cache of ListUsageRecords answers with an empty one within `limits`.
    #[must_use]
    pub fn with_usage_cache_limits(mut self, limits: UsageCacheLimits) -> Self {
        self.usage = Arc::new(UsageCache::new(limits));
        self
    }

    /// The cache of ListUsageRecords answers. Anything that inserts billables other than
    /// through [`BillingService::new_billable`] must [`UsageCache::invalidate`] their account
    /// once the insert has committed.
    pub fn usage_cache(&self) -> &UsageCache {
        &self.usage
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn BillingStore> {
        &self.store
    }

    /// Runs store work on a blocking thread, off the async workers.
    async fn blocking<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&dyn BillingStore, DateTime<Utc>) -> Result<R, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        let now = (self.clock)();
        tokio::task::spawn_blocking(move || f(&*store, now))
            .await
            .map_err(ApiError::internal)?
    }

    /// `NewBillable`: rates a finished call and records it for a customer (domain.md 4.6).
    ///
    /// # Errors
    /// 400, 403, 404 or 409 as domain.md 4.6 and decisions.md 27 specify.
    pub async fn new_billable(&self, req: NewBillable, caller: Session) -> Result<(), ApiError> {
        let (call_sid, session_id, given_account, given_customer) = new_billable_target(&req)?;
        let now = (self.clock)();
        // Steps 4 to 9 run where the store puts them (for SQLite: on its writer thread, in the
        // transaction of the insert), reached without a blocking-pool thread in between.
        let owner_session = session_id.clone();
        let job: BillJob = Box::new(move |reads| {
            rate_call(
                reads,
                &call_sid,
                (
                    session_id.as_deref(),
                    given_account.as_deref(),
                    given_customer.as_deref(),
                ),
                &caller,
                now,
            )
        });
        match self.store.clone().bill_call(job).await? {
            None => Ok(()),
            Some((billable, InsertOutcome::Inserted)) => {
                // Committed: cached usage of the account is outdated from here on, before
                // the client hears of the insert.
                self.usage.invalidate(&billable.account_id);
                Ok(())
            }
            Some((billable, InsertOutcome::Existing(existing))) => same_owner(
                &existing,
                &billable.account_id,
                &billable.customer_id,
                owner_session.as_deref(),
            ),
        }
    }

    /// `ListUsageRecords`: Twilio-shaped usage of an account over whole UTC days (domain.md 4.7).
    ///
    /// # Errors
    /// 400 for a missing account or an invalid date, 404 for an unknown account, 403 when the
    /// caller cannot reach it.
    pub async fn list_usage_records(
        &self,
        req: ListUsageRecords,
        caller: Session,
    ) -> Result<UsageAnswer, ApiError> {
        match self.cached_usage_records(&req, &caller)? {
            Some(hit) => Ok(hit),
            None => self.list_usage_records_uncached(req, caller).await,
        }
    }

    /// The answer to a ListUsageRecords from the cache, when one is current and the caller's
    /// access is settled without the store: a SystemAdministrator, or a user whose linked
    /// accounts are cached. `None` when the store has to be asked; an invalid date is reported
    /// here already (the account was given, so it is the first error in any case).
    ///
    /// # Errors
    /// 400 for an invalid date range.
    pub fn cached_usage_records(
        &self,
        req: &ListUsageRecords,
        caller: &Session,
    ) -> Result<Option<UsageAnswer>, ApiError> {
        let Some(account_id) = non_blank(&req.account_id) else {
            return Ok(None);
        };
        let (start, end) = date_range(&req.start_date, &req.end_date, self.today())?;
        let Some(answer) = self.usage.get(account_id, start, end) else {
            return Ok(None);
        };
        // A cached answer means the account exists (accounts are never deleted): only access
        // remains, and anything but a positive answer goes to the store for the exact error.
        let allowed = is_superuser(caller)
            || self
                .usage
                .links(&caller.user_id)
                .is_some_and(|l| l.iter().any(|a| a == account_id));
        Ok(allowed.then_some(answer))
    }

    /// ListUsageRecords through the store (which also fills the cache).
    ///
    /// # Errors
    /// As [`BillingService::list_usage_records`].
    pub async fn list_usage_records_uncached(
        &self,
        req: ListUsageRecords,
        caller: Session,
    ) -> Result<UsageAnswer, ApiError> {
        let cache = self.usage.clone();
        self.blocking(move |store, now| {
            list_usage_blocking(store, &cache, &req, &caller, now.date_naive())
        })
        .await
    }

    /// Today's UTC date by the service's clock.
    fn today(&self) -> NaiveDate {
        (self.clock)().date_naive()
    }

    /// `NewAccount`.
    ///
    /// # Errors
    /// 400 for an invalid field, 403 unless SystemAdministrator, 409 for a Twilio account SID in use.
    pub async fn new_account(
        &self,
        req: NewAccount,
        caller: Session,
    ) -> Result<AccountInfo, ApiError> {
        if !is_superuser(&caller) {
            return Err(ApiError::invalid_role());
        }
        self.blocking(move |store, now| {
            let name = required(&req.name, "Name")?.to_string();
            let twilio_account_sid = match non_blank(&req.twilio_account_sid) {
                Some(s) if is_sid(s, "AC") => s.to_string(),
                Some(_) => {
                    return Err(invalid(
                        "TwilioAccountSid",
                        "TwilioAccountSid must be 'AC' followed by 32 hexadecimal digits",
                    ));
                }
                None => format!("AC{}", random_hex(16)),
            };
            let price_unit = match non_blank(&req.price_unit) {
                Some(p) if p.len() == 3 && p.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    p.to_ascii_lowercase()
                }
                Some(_) => {
                    return Err(invalid(
                        "PriceUnit",
                        "PriceUnit must be a three-letter ISO 4217 code",
                    ));
                }
                None => "usd".to_string(),
            };
            let account = Account {
                id: new_id(),
                name,
                parent_account_id: None,
                twilio_account_sid,
                price_unit,
                created_at: now,
            };
            store.create_account(&account)?;
            Ok(account_info(account))
        })
        .await
    }

    /// `GetAccount`.
    ///
    /// # Errors
    /// 400 without an id, 404 for an unknown account, 403 when the caller cannot reach it.
    pub async fn get_account(
        &self,
        req: GetAccount,
        caller: Session,
    ) -> Result<AccountInfo, ApiError> {
        self.blocking(move |store, _| {
            let id = required(&req.account_id, "AccountId")?;
            let account = account_or_404(store, id)?;
            ensure_access(store, &caller, &account.id)?;
            Ok(account_info(account))
        })
        .await
    }

    /// `NewCustomer`.
    ///
    /// # Errors
    /// 400 for an invalid field or a parent in another account, 404 for an unknown account or
    /// parent, 403 when the caller cannot reach the account.
    pub async fn new_customer(
        &self,
        req: NewCustomer,
        caller: Session,
    ) -> Result<CustomerInfo, ApiError> {
        self.blocking(move |store, now| {
            let account_id = required(&req.account_id, "AccountId")?;
            let name = required(&req.name, "Name")?.to_string();
            let account = account_or_404(store, account_id)?;
            ensure_access(store, &caller, &account.id)?;
            let parent_customer_id = match non_blank(&req.parent_customer_id) {
                Some(p) => {
                    let parent = customer_or_404(store, p)?;
                    if parent.account_id != account.id {
                        return Err(invalid(
                            "ParentCustomerId",
                            "The parent customer belongs to another account",
                        ));
                    }
                    Some(parent.id)
                }
                None => None,
            };
            let customer = Customer {
                id: new_id(),
                account_id: account.id,
                parent_customer_id,
                name,
                reference_id: non_blank(&req.reference_id).map(str::to_string),
                created_at: now,
            };
            store.create_customer(&customer)?;
            Ok(customer_info(customer))
        })
        .await
    }

    /// `ListCustomers`.
    ///
    /// # Errors
    /// 400 for a missing account or bad paging, 404, 403.
    pub async fn list_customers(
        &self,
        req: ListCustomers,
        caller: Session,
    ) -> Result<ListCustomersResponse, ApiError> {
        self.blocking(move |store, _| {
            let (size, page) = paging(req.page, req.page_size)?;
            let account = listing_account(store, &caller, &req.account_id)?;
            let (rows, total) = store.list_customers(&account.id, page)?;
            let (total_pages, has_more_pages) = envelope(total, size, page);
            Ok(ListCustomersResponse {
                items: rows.into_iter().map(customer_info).collect(),
                total_count: total,
                total_pages,
                has_more_pages,
            })
        })
        .await
    }

    /// `NewUser`: a login with roles and accounts; the password is hashed with argon2id.
    ///
    /// # Errors
    /// 400 for an invalid field, 403 when a Manager grants SystemAdministrator (or Admin) or
    /// links an account not theirs, 404 for an unknown account, 409 for an email in use.
    pub async fn new_user(&self, req: NewUser, caller: Session) -> Result<UserInfo, ApiError> {
        let email = required(&req.email_address, "EmailAddress")?.to_string();
        if !email.contains('@') {
            return Err(invalid(
                "EmailAddress",
                "EmailAddress is not a valid email address",
            ));
        }
        let password = req.password.clone().filter(|p| !p.is_empty());
        let Some(password) = password else {
            return Err(invalid("Password", "Password is required"));
        };
        let roles: Vec<String> = {
            let mut seen = HashSet::new();
            req.roles
                .iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty() && seen.insert(r.clone()))
                .collect()
        };
        let account_ids: Vec<String> = {
            let mut seen = HashSet::new();
            req.account_ids
                .iter()
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty() && seen.insert(r.clone()))
                .collect()
        };
        if !is_superuser(&caller)
            && roles
                .iter()
                .any(|r| r == SYSTEM_ADMINISTRATOR || r == gateway::context::ADMIN_ROLE)
        {
            return Err(ApiError::forbidden(format!(
                "Only a {SYSTEM_ADMINISTRATOR} may grant that role"
            )));
        }
        {
            let (email, account_ids, caller) = (email.clone(), account_ids.clone(), caller.clone());
            self.blocking(move |store, _| {
                for id in &account_ids {
                    account_or_404(store, id)?;
                    ensure_access(store, &caller, id)?;
                }
                if store.find_user_by_name(&email)?.is_some() {
                    return Err(ApiError::conflict(format!(
                        "A user with email address {email} already exists"
                    )));
                }
                Ok(())
            })
            .await?;
        }
        let password_hash = gateway::auth::hash_password(password).await?;
        self.blocking(move |store, now| {
            let user = User {
                id: new_id(),
                user_name: email.clone(),
                email: Some(email),
                first_name: non_blank(&req.first_name).map(str::to_string),
                last_name: non_blank(&req.last_name).map(str::to_string),
                display_name: match (non_blank(&req.first_name), non_blank(&req.last_name)) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    (Some(n), None) | (None, Some(n)) => Some(n.to_string()),
                    (None, None) => None,
                },
                password_hash,
                created_at: now,
            };
            let record = NewUserRecord {
                user: user.clone(),
                roles: roles.clone(),
                permissions: Vec::new(),
                account_ids,
            };
            store.create_user(&record).map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::conflict(format!(
                    "A user with email address {} already exists",
                    user.user_name
                )),
                other => other.into(),
            })?;
            user_info(store, &user, roles)
        })
        .await
        // The usage cache keeps users' links; a new id has none cached, but dropping the entry
        // keeps that true whatever ids the store hands out.
        .inspect(|info| self.usage.forget_links(&info.id))
    }

    /// `GetAuthStatus`: the caller, with roles and accounts.
    ///
    /// # Errors
    /// Only store failures.
    pub async fn get_auth_status(
        &self,
        _req: GetAuthStatus,
        caller: Session,
    ) -> Result<UserInfo, ApiError> {
        self.blocking(move |store, now| {
            let user = store.get_user(&caller.user_id)?.unwrap_or_else(|| User {
                // A user the store does not hold (configured elsewhere) is described by its session.
                id: caller.user_id.clone(),
                user_name: caller.user_name.clone(),
                email: None,
                first_name: None,
                last_name: None,
                display_name: caller.display_name.clone(),
                password_hash: String::new(),
                created_at: now,
            });
            user_info(store, &user, caller.roles.clone())
        })
        .await
    }

    /// `ImportCalls`: inserts or updates Twilio calls by SID, all or nothing.
    ///
    /// # Errors
    /// 400 for an invalid call or an unknown Twilio account, 403 for an account the caller
    /// cannot reach, 409 when a call that already has a billable would change.
    pub async fn import_calls(
        &self,
        req: ImportCalls,
        caller: Session,
    ) -> Result<ImportCallsResponse, ApiError> {
        self.blocking(move |store, now| {
            if req.calls.is_empty() {
                return Err(invalid("Calls", "Calls is required"));
            }
            let calls = req
                .calls
                .iter()
                .enumerate()
                .map(|(i, c)| validate_call(i, c, now))
                .collect::<Result<Vec<_>, _>>()?;
            let mut checked = HashSet::new();
            for (i, c) in calls.iter().enumerate() {
                if !checked.insert(c.account_sid.clone()) {
                    continue;
                }
                let account = store.get_account_by_sid(&c.account_sid)?.ok_or_else(|| {
                    invalid(
                        &format!("Calls[{i}].AccountSid"),
                        format!("No account has Twilio account SID {}", c.account_sid),
                    )
                })?;
                ensure_access(store, &caller, &account.id)?;
            }
            let out = store.upsert_calls(&calls)?;
            Ok(ImportCallsResponse {
                imported: out.imported,
                updated: out.updated,
            })
        })
        .await
    }

    /// `NewSession`: records an Evo Voice session.
    ///
    /// # Errors
    /// 400 for an invalid field, 404, 403, 409 for an id in use.
    pub async fn new_session(
        &self,
        req: NewSession,
        caller: Session,
    ) -> Result<SessionInfo, ApiError> {
        self.blocking(move |store, now| {
            let account_id = required(&req.account_id, "AccountId")?;
            let customer_id = required(&req.customer_id, "CustomerId")?;
            if let Some(sid) = non_blank(&req.call_sid)
                && !is_sid(sid, "CA")
            {
                return Err(invalid(
                    "CallSid",
                    "CallSid must be 'CA' followed by 32 hexadecimal digits",
                ));
            }
            let channel = match non_blank(&req.channel) {
                None => "Voice".to_string(),
                Some(c) => match ["Voice", "Chat", "Fax"]
                    .iter()
                    .find(|k| k.eq_ignore_ascii_case(c))
                {
                    Some(k) => k.to_string(),
                    None => return Err(invalid("Channel", "Channel must be Voice, Chat or Fax")),
                },
            };
            let date_created = match non_blank(&req.date_created) {
                None => now,
                Some(s) => parse_time(s).ok_or_else(|| {
                    invalid(
                        "DateCreated",
                        format!("'{s}' is not an ISO 8601 or RFC 2822 time"),
                    )
                })?,
            };
            let account = account_or_404(store, account_id)?;
            ensure_access(store, &caller, &account.id)?;
            let customer = customer_or_404(store, customer_id)?;
            if customer.account_id != account.id {
                return Err(invalid(
                    "CustomerId",
                    format!("Customer {customer_id} does not belong to account {account_id}"),
                ));
            }
            let session = EvoSession {
                id: non_blank(&req.id)
                    .map(str::to_string)
                    .unwrap_or_else(new_id),
                account_id: account.id,
                customer_id: Some(customer.id),
                call_sid: non_blank(&req.call_sid).map(str::to_string),
                channel,
                from_address: non_blank(&req.from_address).map(str::to_string),
                to_address: non_blank(&req.to_address).map(str::to_string),
                date_created,
            };
            store.create_evo_session(&session)?;
            Ok(session_info(session))
        })
        .await
    }

    /// `SetRate` (decisions.md 27).
    ///
    /// # Errors
    /// 400 for a roll-up or unknown category or an invalid price, 404, 403 when a non
    /// SystemAdministrator sets a default or account rate or a customer rate outside their
    /// accounts.
    pub async fn set_rate(&self, req: SetRate, caller: Session) -> Result<RateInfo, ApiError> {
        self.blocking(move |store, _| {
            let category = required(&req.category, "Category")?;
            if rating::ROLLUP_CATEGORIES.contains(&category) {
                return Err(invalid(
                    "Category",
                    format!("{category} is a roll-up category; set the rates of its leaves"),
                ));
            }
            let Some(category) = rating::LEAF_CATEGORIES.iter().find(|c| **c == category) else {
                return Err(invalid(
                    "Category",
                    format!("'{category}' is not a billing category"),
                ));
            };
            let unit_price = req
                .unit_price
                .ok_or_else(|| invalid("UnitPrice", "UnitPrice is required"))?;
            if unit_price.value().is_sign_negative() && !unit_price.value().is_zero() {
                return Err(invalid("UnitPrice", "UnitPrice must not be negative"));
            }
            if unit_price.to_micros().is_none() {
                return Err(invalid(
                    "UnitPrice",
                    "UnitPrice must have at most 6 decimal places",
                ));
            }
            let (account_id, customer_id) =
                match (non_blank(&req.account_id), non_blank(&req.customer_id)) {
                    (None, None) => {
                        if !is_superuser(&caller) {
                            return Err(ApiError::forbidden(
                                "Only a SystemAdministrator may set default rates",
                            ));
                        }
                        (None, None)
                    }
                    (Some(a), None) => {
                        let account = account_or_404(store, a)?;
                        if !is_superuser(&caller) {
                            return Err(ApiError::forbidden(
                                "Only a SystemAdministrator may set account rates",
                            ));
                        }
                        (Some(account.id), None)
                    }
                    (a, Some(c)) => {
                        let customer = customer_or_404(store, c)?;
                        if let Some(a) = a {
                            account_or_404(store, a)?;
                            if customer.account_id != a {
                                return Err(invalid(
                                    "CustomerId",
                                    format!("Customer {c} does not belong to account {a}"),
                                ));
                            }
                        }
                        ensure_access(store, &caller, &customer.account_id)?;
                        (Some(customer.account_id), Some(customer.id))
                    }
                };
            let rate = Rate {
                id: new_id(),
                account_id,
                customer_id,
                category: category.to_string(),
                unit_price,
            };
            Ok(rate_info(store.set_rate(&rate)?))
        })
        .await
    }

    /// `ListRates`: the system defaults, plus an account's own rates when one is given.
    ///
    /// # Errors
    /// 400 for bad paging, 404, 403.
    pub async fn list_rates(
        &self,
        req: ListRates,
        caller: Session,
    ) -> Result<ListRatesResponse, ApiError> {
        self.blocking(move |store, _| {
            let (size, page) = paging(req.page, req.page_size)?;
            let account_id = match non_blank(&req.account_id) {
                Some(id) => {
                    let account = account_or_404(store, id)?;
                    ensure_access(store, &caller, &account.id)?;
                    Some(account.id)
                }
                None => None,
            };
            let (rows, total) = store.list_rates(account_id.as_deref(), page)?;
            let (total_pages, has_more_pages) = envelope(total, size, page);
            Ok(ListRatesResponse {
                items: rows.into_iter().map(rate_info).collect(),
                total_count: total,
                total_pages,
                has_more_pages,
            })
        })
        .await
    }

    /// `ListBillables`: the line items behind the usage records.
    ///
    /// # Errors
    /// 400 for a missing account, an invalid date or bad paging, 404, 403.
    pub async fn list_billables(
        &self,
        req: ListBillables,
        caller: Session,
    ) -> Result<ListBillablesResponse, ApiError> {
        self.blocking(move |store, now| {
            let (size, page) = paging(req.page, req.page_size)?;
            if non_blank(&req.account_id).is_none()
                && store.user_account_ids(&caller.user_id)?.len() != 1
            {
                return Err(invalid("AccountId", "AccountId is required"));
            }
            let (start, end) = date_range(&req.start_date, &req.end_date, now.date_naive())?;
            let account = listing_account(store, &caller, &req.account_id)?;
            let customer_id = match non_blank(&req.customer_id) {
                Some(c) => {
                    let customer = customer_or_404(store, c)?;
                    if customer.account_id != account.id {
                        return Err(invalid(
                            "CustomerId",
                            format!("Customer {c} does not belong to account {}", account.id),
                        ));
                    }
                    Some(customer.id)
                }
                None => None,
            };
            let filter = BillableFilter {
                account_id: account.id,
                customer_id,
                start,
                end,
            };
            let (rows, total) = store.list_billables(&filter, page)?;
            let (total_pages, has_more_pages) = envelope(total, size, page);
            Ok(ListBillablesResponse {
                items: rows.into_iter().map(billable_info).collect(),
                total_count: total,
                total_pages,
                has_more_pages,
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_day_agrees_with_chrono_on_the_strict_shape() {
        let shape = |v: &str| {
            let b = v.as_bytes();
            b.len() == 10
                && b.iter().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        *c == b'-'
                    } else {
                        c.is_ascii_digit()
                    }
                })
        };
        for v in [
            "2024-05-01",
            "2024-02-29",
            "2023-02-29",
            "2026-10-31",
            "2026-11-31",
            "0000-01-01",
            "9999-12-31",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-5-01",
            "2024-05-1x",
            "+024-05-01",
            "2024/05/01",
            "20240-5-01",
            "2024-05-011",
            "２０２４-05-01",
            "",
        ] {
            let chrono = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .filter(|_| shape(v));
            assert_eq!(parse_day(v), chrono, "{v:?}");
        }
    }
}
