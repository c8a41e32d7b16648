//! A bounded in-memory cache of `ListUsageRecords` answers.
//!
//! Dashboards ask for the same account-month again and again, far more often than a call is
//! billed to it. An answer is kept (as a [`Shared`] value, so its JSON and JSV are also written
//! once) under the account, the resolved first and last day, and the account's *usage
//! version*: a counter that is bumped after every billable insert for the account has
//! committed. An answer is served only while the version it was computed under is still the
//! current one.
//!
//! Why that is never stale: a listing reads the version *before* its read snapshot begins. An
//! insert whose bump came before that read committed before it too, so the snapshot includes
//! it; an insert whose bump came after changes the version away from the stored one, so the
//! entry is dead from the moment of the bump. NewBillable answers only after its bump, so a
//! client that has seen its insert acknowledged never gets an answer without it.
//!
//! Versions live in a fixed array of counters indexed by a hash of the account id: memory is
//! bounded whatever the number of accounts, and two accounts sharing a counter only cost each
//! other an extra miss.
//!
//! What else the answer depends on, and why that needs no invalidation: the account's Twilio
//! SID and price unit (accounts are never changed or deleted), rates (applied when a billable
//! is inserted, never to stored ones), and "today" (only through the resolved end day, which is
//! part of the key). The cache also keeps each user's linked accounts, so that a Manager's
//! access can be checked without the store; links are written only when a user is created, and
//! [`UsageCache::forget_links`] drops a user's entry should that ever change.
//!
//! **Single process.** Versions and answers live in this process's memory, which is right for
//! the SQLite store (one process owns the database). Several server instances over a shared
//! database (a future PostgreSQL store) would need the bump to reach every instance (for
//! example a version column read in the listing's snapshot, or a notification channel) before
//! this cache could be used there.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::NaiveDate;
use gateway::format::Shared;

use crate::dto::UsageRecordInfo;
use crate::store::Account;

/// A cached answer: the records of one account over one day range.
pub type UsageAnswer = Shared<Vec<UsageRecordInfo>>;

/// Number of version counters (a power of two).
const VERSION_SLOTS: usize = 1024;

/// How much the cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageCacheLimits {
    /// Answers kept at most.
    pub max_entries: usize,
    /// Estimated bytes of answers kept at most (values plus their memoized JSON and JSV).
    pub max_bytes: usize,
    /// Users whose linked accounts are kept at most.
    pub max_users: usize,
}

impl Default for UsageCacheLimits {
    /// 4096 answers within 16 MiB (a month of one account is about 9 KB in all), links of
    /// 4096 users.
    fn default() -> Self {
        UsageCacheLimits {
            max_entries: 4096,
            max_bytes: 16 << 20,
            max_users: 4096,
        }
    }
}

/// One cached answer of an account.
struct Entry {
    start: NaiveDate,
    end: NaiveDate,
    /// The account's usage version the answer was computed under.
    version: u64,
    answer: UsageAnswer,
    /// What the entry counts against [`UsageCacheLimits::max_bytes`].
    bytes: usize,
}

/// FNV-1a, for the version counters and the answer map. Only ids of existing accounts are
/// ever stored (accounts are created by administrators), so a keyed hash's protection
/// against chosen colliding keys is not needed, and this is about four times cheaper on an id.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The cached answers of one account (a few day ranges), and the account itself, which a
/// listing that misses then needs not read again.
struct AccountAnswers {
    account: Arc<Account>,
    answers: Vec<Entry>,
}

/// Answers by account id, with running totals for the limits.
#[derive(Default)]
struct Entries {
    by_account: HashMap<String, AccountAnswers, BuildHasherDefault<Fnv>>,
    count: usize,
    bytes: usize,
}

impl Entries {
    /// Takes one entry out to make room. Which one is arbitrary (the hash map's first
    /// account): keeping recency would cost every hit a write, and a full cache is the unusual
    /// case.
    fn evict_one(&mut self) -> Option<Entry> {
        let id = self.by_account.keys().next()?.clone();
        let account = self.by_account.get_mut(&id)?;
        let entry = account.answers.pop();
        if account.answers.is_empty() {
            self.by_account.remove(&id);
        }
        let entry = entry?;
        self.count -= 1;
        self.bytes -= entry.bytes;
        Some(entry)
    }
}

/// The cache; see the module documentation.
pub struct UsageCache {
    versions: Box<[AtomicU64]>,
    /// Read-locked by every hit (workers do not queue behind each other), written by misses.
    entries: RwLock<Entries>,
    links: Mutex<HashMap<String, Arc<[String]>>>,
    limits: UsageCacheLimits,
}

impl std::fmt::Debug for UsageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageCache")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for UsageCache {
    fn default() -> Self {
        UsageCache::new(UsageCacheLimits::default())
    }
}

/// A poisoned lock only means a panic elsewhere while it was held; the maps stay usable (at
/// worst the byte total is off), so carry on rather than fail every later request.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// [`lock`] for reading an `RwLock`.
fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

/// [`lock`] for writing an `RwLock`.
fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// The version counter of an account.
fn slot(account_id: &str) -> usize {
    let mut f = Fnv::default();
    f.write(account_id.as_bytes());
    let h = f.finish();
    (h ^ (h >> 32)) as usize & (VERSION_SLOTS - 1)
}

/// Estimated memory of an answer: the records with their strings, and as much again for each
/// of the JSON and JSV that serving it will memoize (each about the size of the text), plus the
/// account (counted with each of its answers: an overestimate).
fn estimate(account: &Account, records: &[UsageRecordInfo]) -> usize {
    let text: usize = records
        .iter()
        .map(|r| {
            [
                &r.account_sid,
                &r.category,
                &r.count_unit,
                &r.description,
                &r.end_date,
                &r.price_unit,
                &r.start_date,
                &r.usage,
                &r.usage_unit,
                &r.uri,
            ]
            .iter()
            .map(|s| s.len())
            .sum::<usize>()
        })
        .sum();
    let value = std::mem::size_of_val(records) + text;
    let account_text = 2 * account.id.len()
        + account.name.len()
        + account.twilio_account_sid.len()
        + account.price_unit.len();
    3 * value + account_text + std::mem::size_of::<Account>() + std::mem::size_of::<Entry>()
}

impl UsageCache {
    /// An empty cache within `limits`.
    pub fn new(limits: UsageCacheLimits) -> Self {
        UsageCache {
            versions: (0..VERSION_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            entries: RwLock::new(Entries::default()),
            links: Mutex::new(HashMap::new()),
            limits,
        }
    }

    /// The account's current usage version. A listing reads it before its read snapshot
    /// begins and stores its answer under it ([`UsageCache::put`]).
    pub fn version(&self, account_id: &str) -> u64 {
        self.versions
            .get(slot(account_id))
            .map_or(0, |v| v.load(Ordering::SeqCst))
    }

    /// Marks every answer of the account as outdated. Call it after a change to the account's
    /// billables has committed (and before acknowledging it), also when the outcome of a
    /// write is unknown.
    pub fn invalidate(&self, account_id: &str) {
        if let Some(v) = self.versions.get(slot(account_id)) {
            v.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The answer for the account over `start..=end`, if one is cached and still current.
    ///
    /// An outdated answer stays until [`UsageCache::put`] replaces it (or it is evicted): the
    /// reader, often on an async worker, does not pay for freeing it.
    pub fn get(&self, account_id: &str, start: NaiveDate, end: NaiveDate) -> Option<UsageAnswer> {
        let current = self.version(account_id);
        let entries = read(&self.entries);
        entries
            .by_account
            .get(account_id)?
            .answers
            .iter()
            .find(|e| e.start == start && e.end == end && e.version == current)
            .map(|e| e.answer.clone())
    }

    /// The account, if any answer of it is cached (accounts never change, so it is current).
    pub fn account(&self, account_id: &str) -> Option<Arc<Account>> {
        let entries = read(&self.entries);
        entries
            .by_account
            .get(account_id)
            .map(|a| a.account.clone())
    }

    /// Keeps `answer` for `account`, computed from a snapshot that began after `version` was
    /// read, unless the account has changed since (then it is outdated already) or it alone
    /// exceeds the limits. Replaces an older answer for the same days.
    pub fn put(
        &self,
        account: &Arc<Account>,
        (start, end): (NaiveDate, NaiveDate),
        version: u64,
        answer: &UsageAnswer,
    ) {
        let bytes = estimate(account, answer.get());
        if self.limits.max_entries == 0 || bytes > self.limits.max_bytes {
            return;
        }
        // Whatever leaves the cache is freed after the lock is released.
        let mut dropped = Vec::new();
        {
            let mut entries = write(&self.entries);
            // Checked under the lock only to skip useless work: a bump right after this leaves
            // an entry whose version no longer matches, which `get` never serves.
            if version != self.version(&account.id) {
                return;
            }
            if let Some(cached) = entries.by_account.get_mut(&account.id)
                && let Some(i) = cached
                    .answers
                    .iter()
                    .position(|e| e.start == start && e.end == end)
            {
                let old = cached.answers.swap_remove(i);
                entries.count -= 1;
                entries.bytes -= old.bytes;
                dropped.push(old);
            }
            while entries.count >= self.limits.max_entries
                || entries.bytes + bytes > self.limits.max_bytes
            {
                match entries.evict_one() {
                    Some(e) => dropped.push(e),
                    None => break,
                }
            }
            entries.count += 1;
            entries.bytes += bytes;
            let entry = Entry {
                start,
                end,
                version,
                answer: answer.clone(),
                bytes,
            };
            match entries.by_account.get_mut(&account.id) {
                Some(cached) => cached.answers.push(entry),
                None => {
                    entries.by_account.insert(
                        account.id.clone(),
                        AccountAnswers {
                            account: account.clone(),
                            answers: vec![entry],
                        },
                    );
                }
            }
        }
        drop(dropped);
    }

    /// The accounts linked to a user, if known.
    pub fn links(&self, user_id: &str) -> Option<Arc<[String]>> {
        lock(&self.links).get(user_id).cloned()
    }

    /// Remembers the accounts linked to a user, as just read from the store.
    pub fn put_links(&self, user_id: &str, accounts: Arc<[String]>) {
        let mut links = lock(&self.links);
        if links.len() >= self.limits.max_users && !links.contains_key(user_id) {
            // Rebuilt on demand, one read per user: simpler than tracking recency.
            links.clear();
        }
        if self.limits.max_users > 0 {
            links.insert(user_id.to_string(), accounts);
        }
    }

    /// Forgets a user's linked accounts (after they changed).
    pub fn forget_links(&self, user_id: &str) {
        lock(&self.links).remove(user_id);
    }

    /// Answers cached now and their estimated bytes (for tests and diagnostics).
    pub fn usage(&self) -> (usize, usize) {
        let entries = read(&self.entries);
        (entries.count, entries.bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    fn acct(id: &str) -> Arc<Account> {
        Arc::new(Account {
            id: id.to_string(),
            name: "Name".to_string(),
            parent_account_id: None,
            twilio_account_sid: "AC".to_string(),
            price_unit: "usd".to_string(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        })
    }

    fn answer(tag: &str) -> UsageAnswer {
        Shared::new(vec![UsageRecordInfo {
            category: tag.to_string(),
            ..UsageRecordInfo::default()
        }])
    }

    const OCTOBER: (u32, u32) = (1, 31);

    fn range() -> (NaiveDate, NaiveDate) {
        (day(OCTOBER.0), day(OCTOBER.1))
    }

    #[test]
    fn serves_an_answer_until_the_account_changes() {
        let cache = UsageCache::default();
        let v = cache.version("a");
        let first = answer("first");
        cache.put(&acct("a"), range(), v, &first);
        let hit = cache.get("a", day(1), day(31)).unwrap();
        assert!(Shared::ptr_eq(&hit, &first));
        assert!(cache.get("a", day(1), day(30)).is_none());
        assert!(cache.get("b", day(1), day(31)).is_none());

        assert_eq!(cache.account("a").unwrap().name, "Name");
        assert!(cache.account("b").is_none());

        cache.invalidate("a");
        assert!(cache.get("a", day(1), day(31)).is_none());
        // Kept until a fresh answer replaces it.
        assert_eq!(cache.usage().0, 1);
        cache.put(&acct("a"), range(), cache.version("a"), &answer("second"));
        assert_eq!(cache.usage().0, 1);
        assert_eq!(
            cache.get("a", day(1), day(31)).unwrap()[0].category,
            "second"
        );
    }

    #[test]
    fn an_insert_racing_a_listing_never_leaves_a_stale_answer() {
        let cache = UsageCache::default();
        // The listing reads the version, then its snapshot starts (without the insert)...
        let seen = cache.version("a");
        // ...meanwhile the insert commits and bumps...
        cache.invalidate("a");
        // ...and the listing, done, stores what it read: it must not be served.
        cache.put(&acct("a"), range(), seen, &answer("stale"));
        assert!(cache.get("a", day(1), day(31)).is_none());

        // The same race with the bump landing after `put` checked the version.
        let seen = cache.version("a");
        cache.put(&acct("a"), range(), seen, &answer("stale too"));
        cache.invalidate("a");
        assert!(cache.get("a", day(1), day(31)).is_none());

        // A listing that starts after the bump is served.
        let seen = cache.version("a");
        cache.put(&acct("a"), range(), seen, &answer("fresh"));
        assert_eq!(
            cache.get("a", day(1), day(31)).unwrap()[0].category,
            "fresh"
        );
    }

    #[test]
    fn versions_only_grow_across_threads() {
        let cache = Arc::new(UsageCache::default());
        let before = cache.version("a");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let c = cache.clone();
                std::thread::spawn(move || (0..100).for_each(|_| c.invalidate("a")))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(cache.version("a"), before + 400);
    }

    #[test]
    fn stays_within_its_limits() {
        let one = estimate(&acct("acct-0"), answer("x").get());
        let cache = UsageCache::new(UsageCacheLimits {
            max_entries: 3,
            max_bytes: one * 10,
            max_users: 2,
        });
        for i in 0..10 {
            let id = format!("acct-{i}");
            cache.put(&acct(&id), range(), cache.version(&id), &answer("x"));
            let (count, bytes) = cache.usage();
            assert!(count <= 3 && bytes <= one * 10, "{count} {bytes}");
        }
        assert_eq!(cache.usage().0, 3);

        let tight = UsageCache::new(UsageCacheLimits {
            max_entries: 100,
            max_bytes: one * 2,
            max_users: 2,
        });
        for i in 0..10 {
            let id = format!("acct-{i}");
            tight.put(&acct(&id), range(), 0, &answer("x"));
        }
        assert!(tight.usage().1 <= one * 2);
        // Storing the same range again replaces the entry.
        tight.put(&acct("acct-9"), range(), 0, &answer("y"));
        assert_eq!(
            tight.get("acct-9", day(1), day(31)).unwrap()[0].category,
            "y"
        );
        assert!(tight.usage().0 <= 2);

        for u in ["u1", "u2", "u3"] {
            tight.put_links(u, Arc::from(vec!["a".to_string()]));
        }
        assert!(tight.links("u3").is_some());
        assert!(lock(&tight.links).len() <= 2);
        tight.forget_links("u3");
        assert!(tight.links("u3").is_none());
    }
}
