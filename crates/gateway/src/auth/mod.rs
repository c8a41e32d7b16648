//! Authentication the way ServiceStack clients expect it.
//!
//! [`AuthFeature`] is both the [`crate::Authenticator`] the pipeline asks who is calling and the
//! provider of ServiceStack's auth operations (`Authenticate`, `GetAccessToken`,
//! `AssignRoles`, `UnAssignRoles`) and evogate's API-key operations, added with
//! [`AuthFeature::register`]. Persistence goes through the [`AuthStore`] trait.
//!
//! A request is authenticated by the first credential it carries, in this order:
//! `Authorization: Bearer <jwt>`, `Authorization: Bearer ak-…` (API key), the `ss-tok` cookie,
//! `Authorization: Basic` (a password, or an API key as the user name), and finally a session id
//! from `X-ss-id`/`X-ss-pid` headers or `ss-id`/`ss-pid` cookies.
//!
//! Nothing on the hot path touches SQLite or argon2 when it can be avoided: sessions, refresh
//! grants, API keys and successful Basic checks are cached in memory for a short time, and the
//! caches are invalidated by logout, revocation and role changes made through this process.
//! Concurrent requests with the same uncached Basic credentials share one argon2 verification,
//! and a cached Basic check is re-verified by one request shortly before it would expire, so
//! a busy Basic client never sees its entry lapse.

// `ApiError` is the crate-wide error type; its size is a decision for `error.rs`, not for each
// function that returns it.
#![allow(clippy::result_large_err)]

pub mod cache;
pub mod cookies;
pub mod dto;
mod feature;
pub mod jwt;
pub mod net;
pub mod passwords;
pub mod store;
pub mod throttle;

pub use feature::{
    API_KEY_INSECURE, API_KEY_PREFIX, AuthConfig, AuthFeature, JWT_INSECURE, api_key_hash,
    new_api_key, new_user_id,
};
pub use passwords::{hash_password, verify_password};
pub use store::{
    ApiKeyRecord, AuthStore, AuthStoreError, AuthUser, NewAuthUser, StoredRefreshToken,
    StoredSession,
};
