//! Password hashing with argon2id on a small pool of dedicated threads.
//!
//! One argon2id computation needs 19 MiB and tens of milliseconds of CPU. Running them on the
//! general blocking pool let every one of its (up to 512) threads keep its own 19 MiB in its
//! malloc arena: a login flood grew the process to gigabytes (docs/bench-auth.md). Instead,
//! exactly as many threads as there are cores run every hash and verification, each reusing
//! one memory buffer for its whole life, so memory stays at cores × 19 MiB whatever the load,
//! and a flood of logins queues rather than exhausting the machine or starving other requests.
//! The queue is bounded: past it a sign-in is refused with 503 at once, and a queued job whose
//! caller has gone is skipped ([`Pool::run`]).

use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot};

use crate::error::ApiError;

/// argon2id memory cost in KiB (decisions.md item 24, the OWASP baseline).
const M_COST: u32 = 19 * 1024;
/// argon2id passes.
const T_COST: u32 = 2;
/// argon2id lanes.
const P_COST: u32 = 1;
/// Length of a new hash's output in bytes.
const OUTPUT_LEN: usize = 32;
/// Stored hashes asking for more memory than this (in 1 KiB blocks) are refused rather than
/// computed, so a tampered hash cannot make a verification allocate without bound.
const MAX_BLOCKS: usize = 64 * 1024;
/// Jobs waiting for a thread; further callers are refused with 503 ([`Pool::run`]). At 15-25 ms
/// per job that is a wait of a few seconds at most on two cores, and still room for a burst of
/// 200 logins (docs/bench-auth.md) to be served rather than refused.
const QUEUE: usize = 256;

fn params() -> Result<Params, ApiError> {
    Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).map_err(ApiError::internal)
}

/// Runs argon2 into `out` with `buf` as its working memory, growing `buf` only when needed.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    buf: &mut Vec<Block>,
) -> Result<(), argon2::Error> {
    let need = params.block_count();
    if need > MAX_BLOCKS {
        return Err(argon2::Error::MemoryTooMuch);
    }
    if buf.len() < need {
        buf.resize(need, Block::default());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut buf[..need],
    )
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) for `password`.
fn hash_with(password: &str, buf: &mut Vec<Block>) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(ApiError::internal)?;
    let params = params()?;
    let mut out = [0u8; OUTPUT_LEN];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        salt_raw,
        &mut out,
        buf,
    )
    .map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`; any malformed hash is a mismatch.
fn matches(password: &str, hash: &str, buf: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed.hash,
        parsed.salt,
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if compute(
        algorithm,
        version,
        params,
        password.as_bytes(),
        salt_raw,
        &mut out,
        buf,
    )
    .is_err()
    {
        return false;
    }
    expected.as_bytes().ct_eq(&out).into()
}

/// A hash of a password nobody has: verified when the user name is unknown, so that an unknown
/// name and a wrong password cost the same time.
fn dummy_hash(buf: &mut Vec<Block>) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_with("evogate-timing-equaliser", buf).unwrap_or_default())
}

/// Verifies with `buf`; `hash == None` verifies against the dummy hash and answers `false`.
fn verify_with(password: &str, hash: Option<&str>, buf: &mut Vec<Block>) -> bool {
    match hash {
        Some(h) => matches(password, h, buf),
        None => {
            let dummy = dummy_hash(buf);
            // Computed for its cost only: an unknown user never signs in.
            let _ = matches(password, dummy, buf);
            false
        }
    }
}

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Threads that run argon2 jobs, each with its own reused working memory, fed by one bounded
/// queue.
struct Pool {
    tx: mpsc::Sender<Job>,
}

impl Pool {
    /// `threads` threads behind a queue of `capacity` waiting jobs.
    fn start(threads: usize, capacity: usize) -> Pool {
        let (tx, rx) = mpsc::channel::<Job>(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut buf = Vec::new();
                    loop {
                        // One thread waits on the channel at a time; the others wait for the lock.
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).blocking_recv();
                        match job {
                            Some(job) => job(&mut buf),
                            None => break,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start an argon2 thread");
            }
        }
        Pool { tx }
    }

    /// Runs `f` on one of the threads and awaits its answer.
    ///
    /// A full queue is answered at once with 503 rather than by waiting for room, which could
    /// last until long after the client has given up. A
    /// job whose caller has gone by the time a thread takes it (the client disconnected and
    /// the request was dropped) is skipped, so a flood of abandoned logins drains quickly.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |buf| {
            if !tx.is_closed() {
                let _ = tx.send(f(buf));
            }
        });
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                return Err(ApiError::new(
                    503,
                    "ServiceUnavailable",
                    "Too many sign-ins are being checked; try again shortly",
                )
                .with_header("Retry-After", "1"));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(ApiError::internal("the argon2 threads are gone"));
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("an argon2 job was dropped"))
    }
}

/// The process's argon2 threads: one per core, started on first use.
fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Pool::start(threads, QUEUE)
    })
}

/// Runs `f` on an argon2 thread and awaits its answer.
async fn run<R: Send + 'static>(
    f: impl FnOnce(&mut Vec<Block>) -> R + Send + 'static,
) -> Result<R, ApiError> {
    pool().run(f).await
}

/// Hashes on the current thread; only for blocking contexts (CLI, tests, start-up).
///
/// # Errors
/// 500 if argon2 fails, which only happens with invalid parameters.
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    hash_with(password, &mut Vec::new())
}

/// Verifies on the current thread; `hash == None` verifies against a dummy hash and fails.
pub fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    verify_with(password, hash, &mut Vec::new())
}

/// Hashes a password with argon2id on one of the argon2 threads.
///
/// # Errors
/// 503 when too many jobs are queued; 500 when the argon2 threads are gone or argon2 fails.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    run(move |buf| hash_with(&password, buf)).await?
}

/// Verifies a password against a stored hash on one of the argon2 threads. `hash == None`
/// (unknown user) still costs one verification and answers `false`.
///
/// # Errors
/// 503 when too many jobs are queued; 500 when the argon2 threads are gone.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    run(move |buf| verify_with(&password, hash.as_deref(), buf)).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_blocking("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking("s3cret", Some(&h)));
        assert!(!verify_blocking("wrong", Some(&h)));
        assert!(!verify_blocking("s3cret", None));
        assert!(!verify_blocking("s3cret", Some("not a hash")));
    }

    #[test]
    fn hashes_from_the_argon2_crate_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params().unwrap());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(verify_blocking("pw", Some(&theirs)));
        let ours = hash_blocking("pw").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(argon.verify_password(b"pw", &parsed).is_ok());
        assert!(argon.verify_password(b"nope", &parsed).is_err());
    }

    #[test]
    fn absurd_memory_costs_are_refused() {
        let huge = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!verify_blocking("x", Some(huge)));
    }

    /// A pool of one thread held busy until the returned sender fires.
    async fn held_pool(capacity: usize) -> (Pool, std::sync::mpsc::Sender<()>) {
        let pool = Pool::start(1, capacity);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let job: Job = Box::new(move |_| {
            let _ = started.send(());
            let _ = wait.recv();
        });
        assert!(pool.tx.try_send(job).is_ok());
        running.await.unwrap();
        (pool, release)
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_with_503() {
        let (pool, release) = held_pool(1).await;
        let queued = tokio::spawn({
            let tx = pool.tx.clone();
            async move { Pool { tx }.run(|_| 7).await }
        });
        // Let the spawned caller take the only queue slot.
        let filled = tokio::time::timeout(Duration::from_secs(10), async {
            while pool.tx.capacity() > 0 {
                tokio::task::yield_now().await;
            }
        });
        filled.await.expect("the queue never filled");
        // Refused at once, not after waiting for room (which would wait here until the timeout).
        let refused = tokio::time::timeout(Duration::from_secs(10), pool.run(|_| 8))
            .await
            .expect("a full queue made the caller wait")
            .unwrap_err();
        assert_eq!(refused.status(), 503);
        assert_eq!(refused.error_code(), "ServiceUnavailable");
        release.send(()).unwrap();
        assert_eq!(queued.await.unwrap().unwrap(), 7);
    }

    #[tokio::test]
    async fn a_job_whose_caller_left_is_skipped() {
        let (pool, release) = held_pool(4).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let abandoned = {
            let ran = Arc::clone(&ran);
            pool.run(move |_| ran.store(true, std::sync::atomic::Ordering::SeqCst))
        };
        // Polled once (so the job is queued), then dropped, as when a client disconnects.
        let mut abandoned = Box::pin(abandoned);
        assert!(
            futures_util::FutureExt::now_or_never(abandoned.as_mut()).is_none(),
            "the held thread cannot have answered yet"
        );
        drop(abandoned);
        release.send(()).unwrap();
        // A later job runs, so the thread has been past the abandoned one.
        let later = tokio::time::timeout(Duration::from_secs(10), pool.run(|_| 1)).await;
        assert_eq!(later.expect("the pool stopped").unwrap(), 1);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_pool_hashes_and_verifies_concurrently() {
        let h = hash_password("pw".into()).await.unwrap();
        let checks = (0..8).map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                verify_password(if i % 2 == 0 { "pw" } else { "no" }.into(), Some(h)).await
            })
        });
        for (i, c) in checks.enumerate() {
            assert_eq!(c.await.unwrap().unwrap(), i % 2 == 0);
        }
    }
}
