//! [`gateway::auth::AuthStore`] on [`SqliteStore`]: users with their roles, login sessions,
//! refresh-token grants, API keys (by hash) and the JWT signing key in `settings`.
//!
//! Reads go through the read pool on the calling (blocking) thread; writes through the writer
//! thread. Every statement takes parameters.

use chrono::{DateTime, Utc};
use gateway::auth::{
    ApiKeyRecord, AuthStore, AuthStoreError, AuthUser, NewAuthUser, StoredRefreshToken,
    StoredSession,
};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sqlite::{SqliteStore, ts};
use super::{BillingStore, NewUserRecord, StoreError, User};

/// The `settings` key holding the base64 JWT signing key.
const SIGNING_KEY: &str = "auth.jwt_signing_key";

impl From<StoreError> for AuthStoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AuthStoreError::Conflict(what),
            other => AuthStoreError::Other(other.to_string()),
        }
    }
}

fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = row.get(idx)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

fn get_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = row.get(idx)?;
    match s {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))),
    }
}

fn strings(conn: &Connection, query: &str, key: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(query)?;
    let rows = stmt.query_map(params![key], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A user row with its roles and permissions, read on one connection.
fn auth_user(
    conn: &Connection,
    where_clause: &str,
    key: &str,
) -> Result<Option<AuthUser>, StoreError> {
    let query = format!(
        "SELECT id, user_name, display_name, email, password_hash FROM users WHERE {where_clause}"
    );
    let row = conn
        .prepare_cached(&query)?
        .query_row(params![key], |r| {
            Ok(AuthUser {
                id: r.get(0)?,
                user_name: r.get(1)?,
                display_name: r.get(2)?,
                email: r.get(3)?,
                password_hash: r.get(4)?,
                roles: Vec::new(),
                permissions: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut user) = row else { return Ok(None) };
    user.roles = strings(
        conn,
        "SELECT role FROM user_roles WHERE user_id = ?1 ORDER BY role",
        &user.id,
    )?;
    user.permissions = strings(
        conn,
        "SELECT permission FROM user_permissions WHERE user_id = ?1 ORDER BY permission",
        &user.id,
    )?;
    Ok(Some(user))
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<StoredSession> {
    Ok(StoredSession {
        id: r.get(0)?,
        user_id: r.get(1)?,
        permanent: r.get(2)?,
        created_at: get_ts(r, 3)?,
        expires_at: get_ts(r, 4)?,
    })
}

fn refresh_row(r: &Row<'_>) -> rusqlite::Result<StoredRefreshToken> {
    Ok(StoredRefreshToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        session_id: r.get(2)?,
        created_at: get_ts(r, 3)?,
        expires_at: get_ts(r, 4)?,
        revoked_at: get_opt_ts(r, 5)?,
    })
}

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        created_at: get_ts(r, 3)?,
        expires_at: get_opt_ts(r, 4)?,
        revoked_at: get_opt_ts(r, 5)?,
    })
}

fn change_roles(
    conn: &Connection,
    role_sql: &str,
    perm_sql: &str,
    user_id: &str,
    roles: &[String],
    permissions: &[String],
) -> Result<(), StoreError> {
    for role in roles {
        conn.prepare_cached(role_sql)?
            .execute(params![user_id, role])?;
    }
    for p in permissions {
        conn.prepare_cached(perm_sql)?
            .execute(params![user_id, p])?;
    }
    Ok(())
}

impl AuthStore for SqliteStore {
    fn find_user_by_name(&self, user_name: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        // The column's NOCASE collation makes this match ignoring case.
        Ok(self.read(|conn| auth_user(conn, "user_name = ?1", user_name))?)
    }

    fn get_user(&self, user_id: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        Ok(self.read(|conn| auth_user(conn, "id = ?1", user_id))?)
    }

    fn create_user(&self, user: &NewAuthUser) -> Result<(), AuthStoreError> {
        let record = NewUserRecord {
            user: User {
                id: user.id.clone(),
                user_name: user.user_name.clone(),
                email: user.email.clone(),
                first_name: None,
                last_name: None,
                display_name: user.display_name.clone(),
                password_hash: user.password_hash.clone(),
                created_at: Utc::now(),
            },
            roles: user.roles.clone(),
            permissions: user.permissions.clone(),
            account_ids: Vec::new(),
        };
        Ok(BillingStore::create_user(self, &record)?)
    }

    fn count_users(&self) -> Result<u64, AuthStoreError> {
        let n: i64 =
            self.read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn assign_roles(
        &self,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<(), AuthStoreError> {
        let (user_id, roles, permissions) =
            (user_id.to_string(), roles.to_vec(), permissions.to_vec());
        Ok(self.write(move |conn| {
            change_roles(
                conn,
                "INSERT OR IGNORE INTO user_roles (user_id, role) VALUES (?1, ?2)",
                "INSERT OR IGNORE INTO user_permissions (user_id, permission) VALUES (?1, ?2)",
                &user_id,
                &roles,
                &permissions,
            )
        })?)
    }

    fn unassign_roles(
        &self,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<(), AuthStoreError> {
        let (user_id, roles, permissions) =
            (user_id.to_string(), roles.to_vec(), permissions.to_vec());
        Ok(self.write(move |conn| {
            change_roles(
                conn,
                "DELETE FROM user_roles WHERE user_id = ?1 AND role = ?2",
                "DELETE FROM user_permissions WHERE user_id = ?1 AND permission = ?2",
                &user_id,
                &roles,
                &permissions,
            )
        })?)
    }

    fn create_session(&self, session: &StoredSession) -> Result<(), AuthStoreError> {
        let s = session.clone();
        Ok(self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO auth_sessions (id, user_id, permanent, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![s.id, s.user_id, s.permanent, ts(&s.created_at), ts(&s.expires_at)])?;
            // Each login also clears the user's dead sessions and grants, so the tables stay the
            // size of what is alive without a separate sweeper.
            let now = ts(&s.created_at);
            conn.prepare_cached("DELETE FROM auth_sessions WHERE user_id = ?1 AND expires_at < ?2")?
                .execute(params![s.user_id, now])?;
            conn.prepare_cached(
                "DELETE FROM refresh_tokens WHERE user_id = ?1 AND (expires_at < ?2 OR revoked_at IS NOT NULL)",
            )?
            .execute(params![s.user_id, now])?;
            Ok(())
        })?)
    }

    fn get_session(&self, id: &str) -> Result<Option<StoredSession>, AuthStoreError> {
        Ok(self.read(|conn| {
            conn.prepare_cached("SELECT id, user_id, permanent, created_at, expires_at FROM auth_sessions WHERE id = ?1")?
                .query_row(params![id], session_row)
                .optional()
                .map_err(sql)
        })?)
    }

    fn delete_session(&self, id: &str) -> Result<(), AuthStoreError> {
        let id = id.to_string();
        Ok(self.write(move |conn| {
            conn.prepare_cached("DELETE FROM auth_sessions WHERE id = ?1")?
                .execute(params![id])?;
            Ok(())
        })?)
    }

    fn create_refresh_token(&self, token: &StoredRefreshToken) -> Result<(), AuthStoreError> {
        let t = token.clone();
        Ok(self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO refresh_tokens (id, user_id, session_id, created_at, expires_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                t.id,
                t.user_id,
                t.session_id,
                ts(&t.created_at),
                ts(&t.expires_at),
                t.revoked_at.as_ref().map(ts)
            ])?;
            Ok(())
        })?)
    }

    fn get_refresh_token(&self, id: &str) -> Result<Option<StoredRefreshToken>, AuthStoreError> {
        Ok(self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, user_id, session_id, created_at, expires_at, revoked_at FROM refresh_tokens WHERE id = ?1",
            )?
            .query_row(params![id], refresh_row)
            .optional()
            .map_err(sql)
        })?)
    }

    fn revoke_refresh_token(&self, id: &str) -> Result<(), AuthStoreError> {
        let id = id.to_string();
        Ok(self.write(move |conn| {
            conn.prepare_cached(
                "UPDATE refresh_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![id, ts(&Utc::now())])?;
            Ok(())
        })?)
    }

    fn revoke_refresh_tokens_for_session(
        &self,
        session_id: &str,
    ) -> Result<Vec<String>, AuthStoreError> {
        let session_id = session_id.to_string();
        Ok(self.write(move |conn| {
            let ids = strings(
                conn,
                "SELECT id FROM refresh_tokens WHERE session_id = ?1 AND revoked_at IS NULL",
                &session_id,
            )?;
            conn.prepare_cached(
                "UPDATE refresh_tokens SET revoked_at = ?2 WHERE session_id = ?1 AND revoked_at IS NULL",
            )?
            .execute(params![session_id, ts(&Utc::now())])?;
            Ok(ids)
        })?)
    }

    fn create_api_key(&self, key: &ApiKeyRecord, key_hash: &str) -> Result<(), AuthStoreError> {
        let (k, hash) = (key.clone(), key_hash.to_string());
        Ok(self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO api_keys (id, user_id, name, key_hash, created_at, expires_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                k.id,
                k.user_id,
                k.name,
                hash,
                ts(&k.created_at),
                k.expires_at.as_ref().map(ts),
                k.revoked_at.as_ref().map(ts)
            ])
            .map_err(|e| match &e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict("an API key with this id or hash".to_string())
                }
                _ => StoreError::Sqlite(e),
            })?;
            Ok(())
        })?)
    }

    fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, AuthStoreError> {
        Ok(self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, user_id, name, created_at, expires_at, revoked_at FROM api_keys WHERE key_hash = ?1",
            )?
            .query_row(params![key_hash], api_key_row)
            .optional()
            .map_err(sql)
        })?)
    }

    fn revoke_api_key(&self, id: &str, owner: Option<&str>) -> Result<bool, AuthStoreError> {
        let (id, owner) = (id.to_string(), owner.map(str::to_string));
        Ok(self.write(move |conn| {
            let n = conn
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?3 \
                     WHERE id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR user_id = ?2)",
                )?
                .execute(params![id, owner, ts(&Utc::now())])?;
            Ok(n > 0)
        })?)
    }

    fn get_or_create_signing_key(&self, candidate: &str) -> Result<String, AuthStoreError> {
        let candidate = candidate.to_string();
        Ok(self.write(move |conn| {
            // Insert-if-absent then read, in one write job: two processes starting on the same
            // file end up with the same key.
            conn.prepare_cached("INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)")?
                .execute(params![SIGNING_KEY, candidate])?;
            let key: String = conn
                .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row(params![SIGNING_KEY], |r| r.get(0))?;
            Ok(key)
        })?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Duration;

    use super::*;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path().join("auth.db")).unwrap();
        (dir, s)
    }

    fn user(name: &str) -> NewAuthUser {
        NewAuthUser {
            id: gateway::auth::new_user_id(),
            user_name: name.to_string(),
            display_name: Some("Display".to_string()),
            email: None,
            password_hash: "$argon2id$fake".to_string(),
            roles: vec!["Manager".to_string()],
            permissions: vec!["read".to_string()],
        }
    }

    #[test]
    fn users_roles_sessions_tokens_and_keys_round_trip() {
        let (_dir, s) = store();
        assert_eq!(s.count_users().unwrap(), 0);
        let u = user("Mary@Example.com");
        AuthStore::create_user(&s, &u).unwrap();
        assert!(matches!(
            AuthStore::create_user(&s, &user("mary@example.com")),
            Err(AuthStoreError::Conflict(_))
        ));
        assert_eq!(s.count_users().unwrap(), 1);

        let found = AuthStore::find_user_by_name(&s, "MARY@example.COM")
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id.as_str(), found.roles.as_slice()),
            (u.id.as_str(), ["Manager".to_string()].as_slice())
        );
        s.assign_roles(&u.id, &["Admin".to_string()], &["write".to_string()])
            .unwrap();
        s.unassign_roles(&u.id, &["Manager".to_string()], &[])
            .unwrap();
        let again = AuthStore::get_user(&s, &u.id).unwrap().unwrap();
        assert_eq!(again.roles, vec!["Admin"]);
        assert_eq!(again.permissions, vec!["read", "write"]);

        let now = Utc::now();
        let sess = StoredSession {
            id: "abcdefghijABCDEFGHIJ".to_string(),
            user_id: u.id.clone(),
            permanent: true,
            created_at: now,
            expires_at: now + Duration::days(28),
        };
        AuthStore::create_session(&s, &sess).unwrap();
        let got = AuthStore::get_session(&s, &sess.id).unwrap().unwrap();
        assert_eq!((got.user_id.as_str(), got.permanent), (u.id.as_str(), true));

        let tok = StoredRefreshToken {
            id: "grant1".to_string(),
            user_id: u.id.clone(),
            session_id: Some(sess.id.clone()),
            created_at: now,
            expires_at: now + Duration::days(365),
            revoked_at: None,
        };
        s.create_refresh_token(&tok).unwrap();
        assert!(
            s.get_refresh_token("grant1")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert_eq!(
            s.revoke_refresh_tokens_for_session(&sess.id).unwrap(),
            vec!["grant1"]
        );
        assert!(
            s.get_refresh_token("grant1")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        s.delete_session(&sess.id).unwrap();
        assert!(AuthStore::get_session(&s, &sess.id).unwrap().is_none());

        let key = ApiKeyRecord {
            id: "key1".to_string(),
            user_id: u.id.clone(),
            name: Some("ci".to_string()),
            created_at: now,
            expires_at: None,
            revoked_at: None,
        };
        s.create_api_key(&key, "hash1").unwrap();
        assert_eq!(s.find_api_key("hash1").unwrap().unwrap().id, "key1");
        assert!(!s.revoke_api_key("key1", Some("someone-else")).unwrap());
        assert!(s.revoke_api_key("key1", Some(&u.id)).unwrap());
        assert!(
            s.find_api_key("hash1")
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );

        let k1 = s.get_or_create_signing_key("first").unwrap();
        let k2 = s.get_or_create_signing_key("second").unwrap();
        assert_eq!((k1.as_str(), k2.as_str()), ("first", "first"));
    }
}
