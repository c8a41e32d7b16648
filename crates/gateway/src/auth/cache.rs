//! Small in-memory caches that keep SQLite and argon2 off the per-request path.
//!
//! Entries live for a short, fixed time and the maps are bounded: when full, expired entries
//! are dropped and, if that is not enough, everything is, which costs a few store lookups but
//! never unbounded memory.

use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A bounded map whose entries expire `ttl` after insertion.
///
/// Keys are hashed with `S`: SipHash with a random key by default, which any key an outsider
/// can choose needs; [`RandomKeys`] for keys nobody outside this process can choose.
#[derive(Debug)]
pub struct TtlCache<K, V, S = std::hash::RandomState> {
    ttl: Duration,
    capacity: usize,
    map: RwLock<HashMap<K, (V, Instant), S>>,
}

impl<K: Eq + Hash, V: Clone, S: BuildHasher + Default> TtlCache<K, V, S> {
    /// An empty cache.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity: capacity.max(1),
            map: RwLock::new(HashMap::default()),
        }
    }

    /// The value for `key` if present and younger than the TTL at `now`.
    pub fn get_at<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let (v, at) = map.get(key)?;
        (now.saturating_duration_since(*at) < self.ttl).then(|| v.clone())
    }

    /// The value for `key` and how old it is, if present and younger than the TTL at `now`.
    pub fn get_with_age_at<Q>(&self, key: &Q, now: Instant) -> Option<(V, Duration)>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        let (v, at) = map.get(key)?;
        let age = now.saturating_duration_since(*at);
        (age < self.ttl).then(|| (v.clone(), age))
    }

    /// The time to live given at construction.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// [`TtlCache::get_at`] now.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_at(key, Instant::now())
    }

    /// Stores `value` for `key` as of `now`.
    pub fn insert_at(&self, key: K, value: V, now: Instant) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&key) {
            let ttl = self.ttl;
            map.retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (value, now));
    }

    /// [`TtlCache::insert_at`] now.
    pub fn insert(&self, key: K, value: V) {
        self.insert_at(key, value, Instant::now());
    }

    /// Forgets `key`.
    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Forgets everything (after role changes, whose effect must not wait for the TTL).
    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// How many entries are held (expired ones included).
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Hashing for keys that are already random to anyone outside this process: MAC outputs,
/// token signatures this process made, ids it generated. Nobody can pick such keys to collide,
/// so SipHash's protection against chosen keys buys nothing for them, and this costs a few
/// instructions instead of a few hundred: the length and the first 16 bytes are mixed with a
/// per-process seed. (The length matters: a signature can be sent with `=` padding appended.)
///
/// Keys an outsider chooses (session ids from cookies, API keys) must not use it.
#[derive(Debug, Clone, Copy)]
pub struct RandomKeys {
    seed: u64,
}

impl Default for RandomKeys {
    fn default() -> Self {
        RandomKeys {
            seed: rand::rngs::OsRng.next_u64(),
        }
    }
}

impl BuildHasher for RandomKeys {
    type Hasher = RandomKeysHasher;

    fn build_hasher(&self) -> RandomKeysHasher {
        RandomKeysHasher(self.seed)
    }
}

/// The [`Hasher`] of [`RandomKeys`].
#[derive(Debug, Clone, Copy)]
pub struct RandomKeysHasher(u64);

impl Hasher for RandomKeysHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        let (head, rest) = bytes.split_at(bytes.len().min(8));
        a[..head.len()].copy_from_slice(head);
        let rest = &rest[..rest.len().min(8)];
        b[..rest.len()].copy_from_slice(rest);
        // A multiply spreads every input bit over the high bits, which the table uses for its
        // tags; the rotation keeps the two halves from cancelling.
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.0 = (self.0 ^ u64::from_le_bytes(a) ^ len.rotate_right(8))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(23)
            ^ u64::from_le_bytes(b);
        self.0 = self.0.wrapping_mul(0xff51_afd7_ed55_8ccd);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Lets one task at a time compute the value for a key while the others asking for the same key
/// wait for its result, so that a cache entry expiring under load costs one store lookup or
/// password verification instead of one per waiting request.
///
/// Only keys being computed are held, so the map stays as small as the number of concurrent
/// computations. If the computing task is cancelled, a waiting one takes over.
#[derive(Debug)]
pub struct SingleFlight<K, V> {
    flights: Mutex<HashMap<K, Arc<tokio::sync::OnceCell<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlight<K, V> {
    /// Whether a computation for `key` is under way.
    pub fn running<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().contains_key(key)
    }

    /// The result of `compute` for `key`, run by this task unless another one is already
    /// computing it, in which case that one's result.
    pub async fn run<F, Fut>(&self, key: K, compute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self.lock().entry(key.clone()).or_default().clone();
        let flight = Flight {
            owner: self,
            key,
            cell: Some(cell),
        };
        match &flight.cell {
            Some(cell) => cell.get_or_init(compute).await.clone(),
            // `cell` is only taken out in `drop`.
            None => compute().await,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<tokio::sync::OnceCell<V>>>> {
        self.flights.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A task's part in a [`SingleFlight`] computation; the last task to leave removes the entry,
/// whether it finished or was cancelled.
struct Flight<'a, K: Eq + Hash + Clone, V: Clone> {
    owner: &'a SingleFlight<K, V>,
    key: K,
    cell: Option<Arc<tokio::sync::OnceCell<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Drop for Flight<'_, K, V> {
    fn drop(&mut self) {
        let mut map = self.owner.lock();
        // Dropped under the lock, where every other handle is also taken and dropped, so the
        // count below is exact.
        drop(self.cell.take());
        if map
            .get(&self.key)
            .is_some_and(|c| Arc::strong_count(c) == 1)
        {
            map.remove(&self.key);
        }
    }
}

/// Derives cache keys for Basic credentials: HMAC-SHA256 with a random per-process key, so the
/// cache never holds a password, nor anything that could be checked against a guess outside
/// this process.
#[derive(Clone)]
pub struct CredentialKeyer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for CredentialKeyer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialKeyer")
    }
}

impl Default for CredentialKeyer {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialKeyer {
    /// A keyer with a fresh random key.
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self::with_key(&key)
    }

    /// A keyer with a given key (tests).
    pub fn with_key(key: &[u8; 32]) -> Self {
        use hmac::digest::KeyInit;
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        CredentialKeyer {
            mac: <Hmac<Sha256> as KeyInit>::new(&block.into()),
        }
    }

    /// The cache key of a user name and password. The user name's length is included, so
    /// `("ab", "c")` and `("a", "bc")` never collide.
    pub fn key(&self, user: &str, password: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(&(user.len() as u64).to_le_bytes());
        mac.update(user.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::hash::BuildHasher;

    #[test]
    fn random_keys_hash_every_length_and_prefix_apart() {
        let h = RandomKeys::default();
        let sig = "q3Zb1x9Jk0aPz7Wc2Lm4Nn8Rr6Tt5Yy1Uu0Ii9Oo8Pp7";
        let padded = format!("{sig}=");
        let mut seen = std::collections::HashSet::new();
        for k in [sig, padded.as_str(), &sig[1..], &sig[..16], &sig[..15], ""] {
            assert!(seen.insert(h.hash_one(k)), "{k}");
        }
        assert_ne!(h.hash_one([1u8; 32]), h.hash_one([2u8; 32]));
        // Another process (seed) places the same keys elsewhere.
        assert_ne!(h.hash_one(sig), RandomKeys::default().hash_one(sig));
    }

    #[tokio::test]
    async fn single_flight_runs_once_for_concurrent_callers() {
        let flights: SingleFlight<u32, u32> = SingleFlight::default();
        let runs = Cell::new(0);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let rx = std::cell::RefCell::new(Some(rx));
        let compute = || async {
            runs.set(runs.get() + 1);
            let rx = rx.borrow_mut().take();
            if let Some(rx) = rx {
                let _ = rx.await;
            }
            7
        };
        let a = flights.run(1, compute);
        let b = flights.run(1, compute);
        let c = flights.run(1, compute);
        let release = async {
            tokio::task::yield_now().await;
            assert!(flights.running(&1));
            let _ = tx.send(());
        };
        let (a, b, c, ()) = tokio::join!(a, b, c, release);
        assert_eq!((a, b, c), (7, 7, 7));
        assert_eq!(runs.get(), 1);
        // Finished flights are forgotten; the next call computes again.
        assert!(!flights.running(&1));
        assert_eq!(flights.run(1, || async { 8 }).await, 8);
        assert!(!flights.running(&1));
    }

    #[tokio::test]
    async fn a_cancelled_flight_is_taken_over_and_forgotten() {
        let flights: SingleFlight<u32, u32> = SingleFlight::default();
        let leader = flights.run(1, std::future::pending::<u32>);
        let mut leader = Box::pin(leader);
        // Start the leader, then give up on it (a client that went away).
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(leader.as_mut().poll(&mut cx).is_pending());
        assert!(flights.running(&1));
        drop(leader);
        assert!(!flights.running(&1));
        assert_eq!(flights.run(1, || async { 3 }).await, 3);
    }
}
