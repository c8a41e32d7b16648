//! Failed-login throttling (decisions 24 and 28).
//!
//! Failures are counted per user name (case-folded) and per client address in a fixed window
//! that starts at the first failure. Past the limit, further attempts for that name or from
//! that address are refused until the window ends, before any password is checked, so a
//! guessing run costs the server nothing. A successful login clears the name's count (not the
//! address's: one right password must not reset a spray from that address).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Debug)]
struct Counters<K> {
    map: Mutex<HashMap<K, Window>>,
    limit: u32,
}

impl<K: Eq + Hash + Clone> Counters<K> {
    fn new(limit: u32) -> Self {
        Counters {
            map: Mutex::new(HashMap::new()),
            limit,
        }
    }

    fn retry_after(&self, key: &K, now: Instant, window: Duration) -> Option<Duration> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let w = map.get(key)?;
        let ends = w.started + window;
        (w.failures >= self.limit && now < ends).then(|| ends - now)
    }

    fn fail(&self, key: K, now: Instant, window: Duration, capacity: usize) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= capacity && !map.contains_key(&key) {
            map.retain(|_, w| now.saturating_duration_since(w.started) < window);
            if map.len() >= capacity {
                // Still full of live windows: drop the oldest half rather than grow.
                let mut starts: Vec<Instant> = map.values().map(|w| w.started).collect();
                starts.sort_unstable();
                let cut = starts[starts.len() / 2];
                map.retain(|_, w| w.started > cut);
            }
        }
        let w = map.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.saturating_duration_since(w.started) >= window {
            *w = Window {
                started: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }

    fn reset(&self, key: &K) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Limits for [`Throttle`].
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// How long a window lasts from its first failure.
    pub window: Duration,
    /// Failures allowed per user name in a window.
    pub per_user: u32,
    /// Failures allowed per client address in a window.
    pub per_address: u32,
    /// Most names (and, separately, addresses) tracked at once.
    pub capacity: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            window: Duration::from_secs(15 * 60),
            per_user: 10,
            per_address: 100,
            capacity: 100_000,
        }
    }
}

/// Counts failed logins and says when to refuse.
#[derive(Debug)]
pub struct Throttle {
    limits: ThrottleLimits,
    names: Counters<String>,
    addresses: Counters<IpAddr>,
}

impl Throttle {
    /// A throttle with no failures recorded.
    pub fn new(limits: ThrottleLimits) -> Self {
        Throttle {
            limits,
            names: Counters::new(limits.per_user),
            addresses: Counters::new(limits.per_address),
        }
    }

    fn name_key(user_name: &str) -> String {
        user_name.trim().to_lowercase()
    }

    /// `Err(retry_after)` when an attempt for `user_name` from `addr` must be refused at `now`.
    ///
    /// # Errors
    /// The time until the longer of the exceeded windows ends.
    pub fn check(
        &self,
        user_name: &str,
        addr: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
        let by_name = self
            .names
            .retry_after(&Self::name_key(user_name), now, self.limits.window);
        let by_addr = addr.and_then(|a| self.addresses.retry_after(&a, now, self.limits.window));
        match (by_name, by_addr) {
            (None, None) => Ok(()),
            (a, b) => Err(a.unwrap_or_default().max(b.unwrap_or_default())),
        }
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, user_name: &str, addr: Option<IpAddr>, now: Instant) {
        let (window, cap) = (self.limits.window, self.limits.capacity);
        self.names.fail(Self::name_key(user_name), now, window, cap);
        if let Some(a) = addr {
            self.addresses.fail(a, now, window, cap);
        }
    }

    /// Records a successful login: the name's count starts again.
    pub fn record_success(&self, user_name: &str) {
        self.names.reset(&Self::name_key(user_name));
    }
}
