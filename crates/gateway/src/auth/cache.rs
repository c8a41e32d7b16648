//! Small in-memory caches that keep SQLite and argon2 off the per-request path.
//!
//! Entries live for a short, fixed time and the maps are bounded: when full, expired entries
//! are dropped and, if that is not enough, everything is, which costs a few store lookups but
//! never unbounded memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A bounded map whose entries expire `ttl` after insertion.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    map: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// An empty cache.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity: capacity.max(1),
            map: RwLock::new(HashMap::new()),
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
