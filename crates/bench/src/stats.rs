//! Server-side timing (opt-in with `serve --timing`): a middleware records, per request path, the
//! time from the moment actix hands the parsed request to the app until the response (with its
//! body already serialized) comes back, into a histogram read by `GET /bench/stats`.
//!
//! The time excludes HTTP parsing, socket writes and queueing in the kernel; it is what an
//! `X-Response-Time` header would report.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// The path of the statistics endpoint itself, which is not timed.
pub const STATS_PATH: &str = "/bench/stats";

/// 1 µs buckets below 1 ms.
const FINE: usize = 1000;
/// 10 µs buckets from 1 ms to 100 ms; everything slower lands in the last bucket.
const COARSE: usize = 9900;

/// A latency histogram in nanoseconds.
#[derive(Clone)]
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_ns: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: vec![0; FINE + COARSE],
            total: 0,
            max_ns: 0,
        }
    }

    fn bucket(ns: u64) -> usize {
        let us = usize::try_from(ns / 1000).unwrap_or(usize::MAX);
        if us < FINE {
            us
        } else {
            (FINE + (us - FINE) / 10).min(FINE + COARSE - 1)
        }
    }

    /// The upper bound of bucket `i`, in µs.
    fn upper_us(i: usize) -> u64 {
        let i = u64::try_from(i).unwrap_or(u64::MAX);
        let fine = u64::try_from(FINE).unwrap_or(0);
        if i < fine {
            i + 1
        } else {
            fine + (i - fine + 1) * 10
        }
    }

    fn record(&mut self, ns: u64) {
        if let Some(c) = self.counts.get_mut(Self::bucket(ns)) {
            *c += 1;
        }
        self.total += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    /// The smallest bucket bound below which at least `q` of the samples fall, in µs.
    fn percentile_us(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        // A probability times a count that fits in f64's mantissa, rounded up.
        let want = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Self::upper_us(i);
            }
        }
        self.max_ns / 1000
    }
}

static STATS: LazyLock<Mutex<HashMap<String, Histogram>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn stats() -> MutexGuard<'static, HashMap<String, Histogram>> {
    STATS.lock().unwrap_or_else(|p| p.into_inner())
}

fn record(path: &str, ns: u64) {
    let mut s = stats();
    match s.get_mut(path) {
        Some(h) => h.record(ns),
        None => {
            let mut h = Histogram::new();
            h.record(ns);
            s.insert(path.to_string(), h);
        }
    }
}

/// The timing middleware (for `actix_web::middleware::from_fn`).
///
/// # Errors
/// Whatever the wrapped service returns.
pub async fn timing(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.path() == STATS_PATH {
        return next.call(req).await;
    }
    let start = Instant::now();
    let res = next.call(req).await?;
    let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    record(res.request().path(), ns);
    Ok(res)
}

/// One path's figures, in µs.
#[derive(Debug, Serialize)]
struct Summary {
    count: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    p999_us: u64,
    max_us: u64,
}

/// `GET /bench/stats[?reset=1]`: the server-time percentiles per path since the last reset, as
/// JSON; with `reset=1` the histograms are cleared after being read.
pub async fn stats_handler(req: HttpRequest) -> HttpResponse {
    let reset = req
        .query_string()
        .split('&')
        .any(|p| p == "reset=1" || p == "reset=true");
    let mut s = stats();
    let out: HashMap<&str, Summary> = s
        .iter()
        .map(|(path, h)| {
            (
                path.as_str(),
                Summary {
                    count: h.total,
                    p50_us: h.percentile_us(0.50),
                    p90_us: h.percentile_us(0.90),
                    p99_us: h.percentile_us(0.99),
                    p999_us: h.percentile_us(0.999),
                    max_us: h.max_ns / 1000,
                },
            )
        })
        .collect();
    let body = serde_json::to_string(&out).unwrap_or_else(|_| "{}".to_string());
    if reset {
        s.clear();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_bucket_bounds() {
        let mut h = Histogram::new();
        for us in 1..=100u64 {
            h.record(us * 1000 + 500);
        }
        assert_eq!(h.percentile_us(0.50), 51);
        assert_eq!(h.percentile_us(0.99), 100);
        h.record(1_500_000);
        h.record(250_000_000);
        assert_eq!(h.percentile_us(1.0), Histogram::upper_us(FINE + COARSE - 1));
        assert_eq!(Histogram::bucket(1_500_000), FINE + 50);
        assert_eq!(Histogram::upper_us(FINE + 50), 1510);
    }
}
