//! Cached Basic credentials under concurrency: one verification per expiry, not one per request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gateway::Authenticator;
use gateway::auth::jwt::JwtKey;
use gateway::auth::{
    ApiKeyRecord, AuthConfig, AuthFeature, AuthStore, AuthStoreError, AuthUser, NewAuthUser,
    StoredRefreshToken, StoredSession,
};

/// One user, `mary` / `ok`; counts the password checks (each starts with a name lookup).
struct OneUser {
    user: AuthUser,
    checks: AtomicU32,
}

impl AuthStore for OneUser {
    fn find_user_by_name(&self, n: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok((n == self.user.user_name).then(|| self.user.clone()))
    }
    fn get_user(&self, id: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        Ok((id == self.user.id).then(|| self.user.clone()))
    }
    fn create_user(&self, _: &NewAuthUser) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn count_users(&self) -> Result<u64, AuthStoreError> {
        Ok(1)
    }
    fn assign_roles(&self, _: &str, _: &[String], _: &[String]) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn unassign_roles(&self, _: &str, _: &[String], _: &[String]) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn create_session(&self, _: &StoredSession) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn get_session(&self, _: &str) -> Result<Option<StoredSession>, AuthStoreError> {
        Ok(None)
    }
    fn delete_session(&self, _: &str) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn create_refresh_token(&self, _: &StoredRefreshToken) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn get_refresh_token(&self, _: &str) -> Result<Option<StoredRefreshToken>, AuthStoreError> {
        Ok(None)
    }
    fn revoke_refresh_token(&self, _: &str) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn revoke_refresh_tokens_for_session(&self, _: &str) -> Result<Vec<String>, AuthStoreError> {
        Ok(Vec::new())
    }
    fn create_api_key(&self, _: &ApiKeyRecord, _: &str) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn find_api_key(&self, _: &str) -> Result<Option<ApiKeyRecord>, AuthStoreError> {
        Ok(None)
    }
    fn revoke_api_key(&self, _: &str, _: Option<&str>) -> Result<bool, AuthStoreError> {
        Ok(false)
    }
    fn get_or_create_signing_key(&self, c: &str) -> Result<String, AuthStoreError> {
        Ok(c.to_string())
    }
}

async fn burst(auth: &AuthFeature, password: &str, n: usize) -> Vec<Result<String, u16>> {
    let header = format!("Basic {}", STANDARD.encode(format!("mary:{password}")));
    let reqs: Vec<_> = (0..n)
        .map(|_| {
            TestRequest::default()
                .insert_header(("Authorization", header.as_str()))
                .to_http_request()
        })
        .collect();
    let answers = futures_util::future::join_all(reqs.iter().map(|r| auth.authenticate(r))).await;
    answers
        .into_iter()
        .map(|a| match a {
            Ok(Some(s)) => Ok(s.user_id.clone()),
            Ok(None) => Err(0),
            Err(e) => Err(e.status()),
        })
        .collect()
}

#[actix_rt::test]
async fn concurrent_basic_requests_share_one_verification() {
    let store = Arc::new(OneUser {
        user: AuthUser {
            id: "u1".to_string(),
            user_name: "mary".to_string(),
            display_name: None,
            email: None,
            password_hash: gateway::auth::passwords::hash_blocking("ok").unwrap(),
            roles: vec![],
            permissions: vec![],
        },
        checks: AtomicU32::new(0),
    });
    let config = AuthConfig {
        basic_cache_ttl: Duration::from_secs(4),
        ..AuthConfig::default()
    };
    let auth = AuthFeature::with_key(store.clone(), config, JwtKey::new(vec![7u8; 32]));
    let checks = || store.checks.load(Ordering::SeqCst);

    // A cold cache: eight requests at once, one verification.
    let ok = vec![Ok("u1".to_string()); 8];
    assert_eq!(burst(&auth, "ok", 8).await, ok);
    assert_eq!(checks(), 1);
    assert_eq!(burst(&auth, "ok", 8).await, ok);
    assert_eq!(checks(), 1, "then the cache answers");

    // Wrong passwords are never served from the cache; concurrent identical ones share a check.
    assert_eq!(burst(&auth, "bad", 4).await, vec![Err(401); 4]);
    assert_eq!(checks(), 2);
    assert_eq!(burst(&auth, "ok", 2).await, vec![Ok("u1".to_string()); 2]);
    assert_eq!(
        checks(),
        2,
        "a wrong password leaves the right one's entry alone"
    );

    // In the last quarter of its life the entry is re-verified once while still in use.
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(burst(&auth, "ok", 8).await, ok);
    assert_eq!(checks(), 3);
    assert_eq!(burst(&auth, "ok", 8).await, ok);
    assert_eq!(checks(), 3, "the refreshed entry is fresh again");
}
