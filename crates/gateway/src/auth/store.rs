//! What authentication needs from persistent storage, as a narrow synchronous trait.
//!
//! Every method may block (SQLite, a network database): the auth layer calls them from
//! blocking threads only, never from an async worker.

use chrono::{DateTime, Utc};

/// A failure of the auth store.
#[derive(Debug, thiserror::Error)]
pub enum AuthStoreError {
    /// A uniqueness rule was broken (a user name that already exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else; the text is for the log, never for clients.
    #[error("{0}")]
    Other(String),
}

/// A user as authentication sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// Opaque id.
    pub id: String,
    /// The sign-in name, as stored.
    pub user_name: String,
    /// Display name, if any.
    pub display_name: Option<String>,
    /// Email address, if any.
    pub email: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role names, sorted.
    pub roles: Vec<String>,
    /// Permission names, sorted.
    pub permissions: Vec<String>,
}

// The hash stays out of logs.
impl std::fmt::Debug for AuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthUser")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A user to create.
#[derive(Clone)]
pub struct NewAuthUser {
    /// Opaque id chosen by the caller (see [`crate::auth::new_user_id`]).
    pub id: String,
    /// The sign-in name.
    pub user_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role names.
    pub roles: Vec<String>,
    /// Permission names.
    pub permissions: Vec<String>,
}

impl std::fmt::Debug for NewAuthUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuthUser")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// A persisted login session (what an `ss-id` / `ss-pid` value points at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session id: the cookie value.
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// Whether it was created with `rememberMe` (lives in `ss-pid`).
    pub permanent: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// After this the session is no longer accepted.
    pub expires_at: DateTime<Utc>,
}

/// A refresh-token grant. JWTs carry its id, so revoking it also ends their access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefreshToken {
    /// Grant id (the `rid` claim).
    pub id: String,
    /// The user it was issued to.
    pub user_id: String,
    /// The session created by the same login, if any.
    pub session_id: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An API key, without the key itself (only its SHA-256 hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Opaque id.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// A label.
    pub name: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry, if any.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// A live key for `user_id`, created now, with a fresh id.
    pub fn new(user_id: impl Into<String>, name: Option<String>) -> Self {
        ApiKeyRecord {
            id: crate::auth::new_user_id(),
            user_id: user_id.into(),
            name: name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
            created_at: Utc::now(),
            expires_at: None,
            revoked_at: None,
        }
    }
}

/// Storage for users, sessions, refresh tokens, API keys and the JWT signing key.
///
/// Implementations must be usable from several blocking threads at once.
pub trait AuthStore: Send + Sync + 'static {
    /// A user by sign-in name, ignoring case, with roles and permissions.
    ///
    /// # Errors
    /// A storage failure.
    fn find_user_by_name(&self, user_name: &str) -> Result<Option<AuthUser>, AuthStoreError>;

    /// A user by id, with roles and permissions.
    ///
    /// # Errors
    /// A storage failure.
    fn get_user(&self, user_id: &str) -> Result<Option<AuthUser>, AuthStoreError>;

    /// Creates a user with its roles and permissions.
    ///
    /// # Errors
    /// [`AuthStoreError::Conflict`] when the name is taken.
    fn create_user(&self, user: &NewAuthUser) -> Result<(), AuthStoreError>;

    /// How many users exist (0 on the first start).
    ///
    /// # Errors
    /// A storage failure.
    fn count_users(&self) -> Result<u64, AuthStoreError>;

    /// Adds roles and permissions to a user (existing ones are kept).
    ///
    /// # Errors
    /// A storage failure.
    fn assign_roles(
        &self,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<(), AuthStoreError>;

    /// Removes roles and permissions from a user.
    ///
    /// # Errors
    /// A storage failure.
    fn unassign_roles(
        &self,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<(), AuthStoreError>;

    /// Persists a session.
    ///
    /// # Errors
    /// A storage failure or a duplicate id.
    fn create_session(&self, session: &StoredSession) -> Result<(), AuthStoreError>;

    /// A session by id (expired ones included; the caller checks `expires_at`).
    ///
    /// # Errors
    /// A storage failure.
    fn get_session(&self, id: &str) -> Result<Option<StoredSession>, AuthStoreError>;

    /// Deletes a session; deleting a missing one is not an error.
    ///
    /// # Errors
    /// A storage failure.
    fn delete_session(&self, id: &str) -> Result<(), AuthStoreError>;

    /// Persists a refresh-token grant.
    ///
    /// # Errors
    /// A storage failure.
    fn create_refresh_token(&self, token: &StoredRefreshToken) -> Result<(), AuthStoreError>;

    /// A refresh-token grant by id.
    ///
    /// # Errors
    /// A storage failure.
    fn get_refresh_token(&self, id: &str) -> Result<Option<StoredRefreshToken>, AuthStoreError>;

    /// Revokes one grant (no error when missing or already revoked).
    ///
    /// # Errors
    /// A storage failure.
    fn revoke_refresh_token(&self, id: &str) -> Result<(), AuthStoreError>;

    /// Revokes every grant of a session; returns their ids.
    ///
    /// # Errors
    /// A storage failure.
    fn revoke_refresh_tokens_for_session(
        &self,
        session_id: &str,
    ) -> Result<Vec<String>, AuthStoreError>;

    /// Stores an API key under the hex SHA-256 hash of the key.
    ///
    /// # Errors
    /// A storage failure or a duplicate hash.
    fn create_api_key(&self, key: &ApiKeyRecord, key_hash: &str) -> Result<(), AuthStoreError>;

    /// An API key by the hex SHA-256 hash of the key.
    ///
    /// # Errors
    /// A storage failure.
    fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, AuthStoreError>;

    /// Revokes an API key; with `owner`, only if that user owns it. Returns whether a live key
    /// was revoked.
    ///
    /// # Errors
    /// A storage failure.
    fn revoke_api_key(&self, id: &str, owner: Option<&str>) -> Result<bool, AuthStoreError>;

    /// The JWT signing key: the stored one, or `candidate` stored now if there is none yet
    /// (atomically, so two processes starting together agree on one key).
    ///
    /// # Errors
    /// A storage failure.
    fn get_or_create_signing_key(&self, candidate: &str) -> Result<String, AuthStoreError>;
}
