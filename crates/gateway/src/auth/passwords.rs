//! Password hashing with argon2id, off the async workers and with a cap on concurrency.
//!
//! One verification costs about 19 MiB and tens of milliseconds of CPU, so they run on
//! blocking threads behind a semaphore sized to the number of cores: a flood of logins queues
//! instead of exhausting memory or starving other requests.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// argon2id with m = 19 MiB, t = 2, p = 1 (decisions.md item 24, the OWASP baseline).
fn hasher() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// A hash of a password nobody has: verified when the user name is unknown, so that an unknown
/// name and a wrong password cost the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("evogate-timing-equaliser").unwrap_or_default())
}

/// Hashes on the current thread; only for blocking contexts (CLI, tests, start-up).
///
/// # Errors
/// 500 if argon2 fails, which only happens with invalid parameters.
pub fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Verifies on the current thread; `hash == None` verifies against a dummy hash and fails.
pub fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    let (hash, real) = match hash {
        Some(h) => (h, true),
        None => (dummy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(argon) = hasher() else {
        return false;
    };
    // Verification runs even for unknown users; only then is the answer forced to false.
    argon.verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// Hashes a password with argon2id on a blocking thread, within the concurrency cap.
///
/// # Errors
/// 500 when the blocking pool is gone or argon2 fails.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    let _permit = permits().acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(ApiError::internal)?
}

/// Verifies a password against a stored hash on a blocking thread, within the concurrency cap.
/// `hash == None` (unknown user) still costs one verification and answers `false`.
///
/// # Errors
/// 500 when the blocking pool is gone.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    let _permit = permits().acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || verify_blocking(&password, hash.as_deref()))
        .await
        .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
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
}
