//! The parts of authentication that need no server: tokens, ids, cookies, throttling, cache
//! keys, proxy trust, and the authenticator against an in-memory store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::Utc;
use gateway::Authenticator;
use gateway::auth::cache::{CredentialKeyer, TtlCache};
use gateway::auth::cookies::{self, is_session_id, new_session_id, parse_cookie_header};
use gateway::auth::jwt::{Claims, ISSUER, JwtError, JwtKey, TokenKind};
use gateway::auth::net::{IpNet, client_ip, is_secure, loopback_nets};
use gateway::auth::throttle::{Throttle, ThrottleLimits};
use gateway::auth::{
    API_KEY_INSECURE, ApiKeyRecord, AuthConfig, AuthFeature, AuthStore, AuthStoreError, AuthUser,
    NewAuthUser, StoredRefreshToken, StoredSession, api_key_hash,
};

fn claims(exp_in: i64) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        iss: ISSUER.to_string(),
        sub: "u1".to_string(),
        iat: now,
        exp: now + exp_in,
        name: Some("Mary".to_string()),
        preferred_username: Some("mary".to_string()),
        roles: vec!["Manager".to_string()],
        perms: vec![],
        rid: None,
    }
}

fn key() -> JwtKey {
    JwtKey::new(vec![7u8; 32])
}

fn now() -> Option<i64> {
    Some(Utc::now().timestamp())
}

fn b64json(v: serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap())
}

#[test]
fn jwt_round_trips_with_servicestack_header_and_claims() {
    let k = key();
    let t = k.encode(TokenKind::Access, &claims(60));
    let parts: Vec<&str> = t.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], k.kid());
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(payload["iss"], "ssjwt");
    assert!(payload["iat"].is_i64() && payload["exp"].is_i64());
    assert_eq!(payload["roles"], serde_json::json!(["Manager"]));
    assert!(payload.get("perms").is_none(), "empty lists are omitted");
    let back = k.decode(&t, TokenKind::Access, now()).unwrap();
    assert_eq!(
        (
            back.sub.as_str(),
            back.name.as_deref(),
            back.roles.as_slice()
        ),
        ("u1", Some("Mary"), ["Manager".to_string()].as_slice())
    );
    assert_eq!(back.exp, payload["exp"].as_i64().unwrap());
}

#[test]
fn jwt_refuses_tampering_expiry_other_algorithms_and_keys() {
    let k = key();
    let t = k.encode(TokenKind::Access, &claims(60));
    let parts: Vec<&str> = t.split('.').collect();

    // A payload granting Admin under the original signature.
    let mut evil = claims(60);
    evil.roles = vec!["Admin".to_string()];
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&evil).unwrap()),
        parts[2]
    );
    assert_eq!(
        k.decode(&tampered, TokenKind::Access, now()),
        Err(JwtError::BadSignature)
    );

    // A flipped signature character.
    let mut sig = parts[2].to_string();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], sig);
    assert_eq!(
        k.decode(&bad_sig, TokenKind::Access, now()),
        Err(JwtError::BadSignature)
    );

    // Expired, correctly signed.
    let expired = k.encode(TokenKind::Access, &claims(-10));
    assert_eq!(
        k.decode(&expired, TokenKind::Access, now()),
        Err(JwtError::Expired)
    );
    assert!(
        k.decode(&expired, TokenKind::Access, None).is_ok(),
        "logout reads expired tokens"
    );

    // alg none, empty signature.
    let none = format!(
        "{}.{}.",
        b64json(serde_json::json!({"typ":"JWT","alg":"none"})),
        parts[1]
    );
    assert_eq!(
        k.decode(&none, TokenKind::Access, now()),
        Err(JwtError::UnsupportedAlgorithm)
    );
    let none_upper = format!(
        "{}.{}.",
        b64json(serde_json::json!({"typ":"JWT","alg":"None"})),
        parts[1]
    );
    assert_eq!(
        k.decode(&none_upper, TokenKind::Access, now()),
        Err(JwtError::UnsupportedAlgorithm)
    );

    // HS512 header, even with a signature made with the right key over HS256.
    let hs512 = format!(
        "{}.{}.{}",
        b64json(serde_json::json!({"typ":"JWT","alg":"HS512"})),
        parts[1],
        parts[2]
    );
    assert_eq!(
        k.decode(&hs512, TokenKind::Access, now()),
        Err(JwtError::UnsupportedAlgorithm)
    );

    // Another key.
    let other = JwtKey::new(vec![8u8; 32]);
    assert_eq!(
        other.decode(&t, TokenKind::Access, now()),
        Err(JwtError::BadSignature)
    );

    // A refresh token is not an access token and vice versa.
    let r = k.encode(TokenKind::Refresh, &claims(60));
    assert_eq!(
        k.decode(&r, TokenKind::Access, now()),
        Err(JwtError::WrongType)
    );
    assert_eq!(
        k.decode(&t, TokenKind::Refresh, now()),
        Err(JwtError::WrongType)
    );
    assert!(k.decode(&r, TokenKind::Refresh, now()).is_ok());

    // Shapes.
    for junk in ["", "a.b", "a.b.c.d", "....", "x.y.z", "ak-abc"] {
        assert!(k.decode(junk, TokenKind::Access, now()).is_err(), "{junk}");
    }
}

#[test]
fn signing_keys_survive_their_stored_form() {
    let (k, text) = JwtKey::generate();
    let again = JwtKey::from_base64(&text).unwrap();
    let t = k.encode(TokenKind::Access, &claims(60));
    assert!(again.decode(&t, TokenKind::Access, now()).is_ok());
    assert!(JwtKey::from_base64("not base64!").is_none());
    assert!(!STANDARD.decode(&text).unwrap().is_empty());
}

#[test]
fn session_ids_are_twenty_alphanumerics_and_fresh() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..500 {
        let id = new_session_id();
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert!(is_session_id(&id));
        assert!(seen.insert(id));
    }
    assert!(!is_session_id("short"));
    assert!(!is_session_id("abcdefghij+bcdefghij"));
}

#[test]
fn cookie_header_parsing_skips_the_typescript_junk_pair() {
    let h = "ss-id=AAAAAAAAAAAAAAAAAAAA; ss-pid=BBBBBBBBBBBBBBBBBBBB; 01 Jan 2100 00:00:00 GMT=null; ss-opt=perm; novalue; =x; q=\"quoted\"";
    let pairs: Vec<(&str, &str)> = parse_cookie_header(h).collect();
    assert_eq!(
        pairs,
        vec![
            ("ss-id", "AAAAAAAAAAAAAAAAAAAA"),
            ("ss-pid", "BBBBBBBBBBBBBBBBBBBB"),
            ("ss-opt", "perm"),
            ("q", "quoted")
        ]
    );

    let req = TestRequest::default()
        .insert_header(("Cookie", h))
        .to_http_request();
    assert_eq!(
        cookies::session_id(&req),
        Some("BBBBBBBBBBBBBBBBBBBB"),
        "perm selects ss-pid"
    );
    let req = TestRequest::default()
        .insert_header((
            "Cookie",
            "ss-id=AAAAAAAAAAAAAAAAAAAA; ss-pid=BBBBBBBBBBBBBBBBBBBB; ss-opt=temp",
        ))
        .to_http_request();
    assert_eq!(cookies::session_id(&req), Some("AAAAAAAAAAAAAAAAAAAA"));
    let req = TestRequest::default()
        .insert_header(("X-ss-id", "CCCCCCCCCCCCCCCCCCCC"))
        .insert_header(("Cookie", "ss-id=AAAAAAAAAAAAAAAAAAAA"))
        .to_http_request();
    assert_eq!(
        cookies::session_id(&req),
        Some("CCCCCCCCCCCCCCCCCCCC"),
        "the header wins"
    );
    let req = TestRequest::default()
        .insert_header(("Cookie", "ss-id=not-an-id"))
        .to_http_request();
    assert_eq!(cookies::session_id(&req), None);
}

#[test]
fn throttle_counts_per_name_and_address_within_the_window() {
    let limits = ThrottleLimits {
        window: Duration::from_secs(900),
        per_user: 3,
        per_address: 5,
        capacity: 100,
    };
    let t = Throttle::new(limits);
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    let t0 = Instant::now();
    for _ in 0..3 {
        assert!(t.check("Mary", Some(a), t0).is_ok());
        t.record_failure("Mary", Some(a), t0);
    }
    // The name is blocked from any address, case-insensitively, for the rest of the window.
    let wait = t
        .check("mary", Some(b), t0 + Duration::from_secs(100))
        .unwrap_err();
    assert_eq!(wait, Duration::from_secs(800));
    assert!(
        t.check("MARY", None, t0 + Duration::from_secs(899))
            .is_err()
    );
    assert!(
        t.check("mary", Some(b), t0 + Duration::from_secs(900))
            .is_ok(),
        "the window passed"
    );

    // Per address: two more failures for other names from `a` reach its limit of 5.
    t.record_failure("x", Some(a), t0);
    t.record_failure("y", Some(a), t0);
    assert!(t.check("someone-else", Some(a), t0).is_err());
    assert!(t.check("someone-else", Some(b), t0).is_ok());

    // Success resets the name, not the address.
    let t = Throttle::new(limits);
    for _ in 0..2 {
        t.record_failure("bob", Some(b), t0);
    }
    t.record_success("Bob");
    t.record_failure("bob", Some(b), t0);
    t.record_failure("bob", Some(b), t0);
    assert!(
        t.check("bob", Some(b), t0).is_ok(),
        "2 failures since the reset"
    );
}

#[test]
fn throttle_memory_is_bounded() {
    let limits = ThrottleLimits {
        window: Duration::from_secs(900),
        per_user: 3,
        per_address: 5,
        capacity: 10,
    };
    let t = Throttle::new(limits);
    let t0 = Instant::now();
    for i in 0..1000 {
        t.record_failure(&format!("user{i}"), None, t0 + Duration::from_millis(i));
    }
    // Nothing to observe directly but that it did not grow without bound or panic; the newest
    // names are still tracked.
    for _ in 0..3 {
        t.record_failure("user999", None, t0 + Duration::from_secs(2));
    }
    assert!(
        t.check("user999", None, t0 + Duration::from_secs(2))
            .is_err()
    );
}

#[test]
fn basic_cache_keys_depend_on_both_credentials_and_the_process_key() {
    let k = CredentialKeyer::with_key(&[1u8; 32]);
    assert_eq!(k.key("mary", "pw"), k.key("mary", "pw"));
    assert_ne!(k.key("mary", "pw"), k.key("mary", "pw2"));
    assert_ne!(k.key("mary", "pw"), k.key("Mary", "pw"));
    assert_ne!(k.key("ab", "c"), k.key("a", "bc"));
    assert_ne!(
        k.key("mary", "pw"),
        CredentialKeyer::with_key(&[2u8; 32]).key("mary", "pw")
    );
    assert_ne!(
        CredentialKeyer::new().key("m", "p"),
        CredentialKeyer::new().key("m", "p")
    );
}

#[test]
fn ttl_cache_expires_and_stays_bounded() {
    let c: TtlCache<String, u32> = TtlCache::new(Duration::from_secs(10), 3);
    let t0 = Instant::now();
    c.insert_at("a".to_string(), 1, t0);
    assert_eq!(c.get_at("a", t0 + Duration::from_secs(9)), Some(1));
    assert_eq!(c.get_at("a", t0 + Duration::from_secs(10)), None);
    for i in 0..100 {
        c.insert_at(format!("k{i}"), i, t0);
        assert!(c.len() <= 3);
    }
    c.remove("k99");
    assert_eq!(c.get_at("k99", t0), None);
}

#[test]
fn proxies_are_believed_only_when_trusted() {
    let lo = loopback_nets();
    let remote: IpAddr = "203.0.113.9".parse().unwrap();
    let local: IpAddr = "127.0.0.1".parse().unwrap();
    assert!(is_secure(true, Some(remote), None, &lo), "TLS");
    assert!(is_secure(false, Some(local), None, &lo), "loopback peer");
    assert!(is_secure(false, Some("::1".parse().unwrap()), None, &lo));
    assert!(is_secure(
        false,
        Some("::ffff:127.0.0.1".parse().unwrap()),
        None,
        &lo
    ));
    assert!(
        !is_secure(false, Some(remote), None, &lo),
        "plain HTTP from afar"
    );
    assert!(
        !is_secure(false, Some(remote), Some("https"), &lo),
        "an untrusted peer cannot claim https"
    );
    assert!(
        is_secure(false, Some(local), Some("https"), &lo),
        "trusted proxy on https"
    );
    assert!(
        !is_secure(false, Some(local), Some("http"), &lo),
        "trusted proxy forwarding plain http"
    );
    assert!(!is_secure(false, None, None, &lo));

    let xff = Some("198.51.100.7, 203.0.113.9, 127.0.0.1");
    assert_eq!(
        client_ip(Some(local), xff, &lo),
        Some(remote),
        "right-most untrusted hop"
    );
    assert_eq!(
        client_ip(Some(remote), xff, &lo),
        Some(remote),
        "untrusted peers are taken as they are"
    );
    let nets: Vec<IpNet> = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    assert!(nets[0].contains("10.200.1.1".parse().unwrap()));
    assert!(!nets[0].contains("11.0.0.1".parse().unwrap()));
    assert!(nets[1].contains("2001:db8::5".parse().unwrap()));
    assert!("300.1.1.1".parse::<IpNet>().is_err() && "10.0.0.0/33".parse::<IpNet>().is_err());
}

/// Enough of a store for the authenticator.
#[derive(Default)]
struct MemStore {
    users: Mutex<Vec<AuthUser>>,
    sessions: Mutex<HashMap<String, StoredSession>>,
    grants: Mutex<HashMap<String, StoredRefreshToken>>,
    lookups: Mutex<u32>,
}

impl AuthStore for MemStore {
    fn find_user_by_name(&self, n: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(n))
            .cloned())
    }
    fn get_user(&self, id: &str) -> Result<Option<AuthUser>, AuthStoreError> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .find(|u| u.id == id)
            .cloned())
    }
    fn create_user(&self, u: &NewAuthUser) -> Result<(), AuthStoreError> {
        self.users.lock().unwrap().push(AuthUser {
            id: u.id.clone(),
            user_name: u.user_name.clone(),
            display_name: u.display_name.clone(),
            email: None,
            password_hash: u.password_hash.clone(),
            roles: u.roles.clone(),
            permissions: u.permissions.clone(),
        });
        Ok(())
    }
    fn count_users(&self) -> Result<u64, AuthStoreError> {
        Ok(self.users.lock().unwrap().len() as u64)
    }
    fn assign_roles(&self, _: &str, _: &[String], _: &[String]) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn unassign_roles(&self, _: &str, _: &[String], _: &[String]) -> Result<(), AuthStoreError> {
        Ok(())
    }
    fn create_session(&self, s: &StoredSession) -> Result<(), AuthStoreError> {
        self.sessions
            .lock()
            .unwrap()
            .insert(s.id.clone(), s.clone());
        Ok(())
    }
    fn get_session(&self, id: &str) -> Result<Option<StoredSession>, AuthStoreError> {
        *self.lookups.lock().unwrap() += 1;
        Ok(self.sessions.lock().unwrap().get(id).cloned())
    }
    fn delete_session(&self, id: &str) -> Result<(), AuthStoreError> {
        self.sessions.lock().unwrap().remove(id);
        Ok(())
    }
    fn create_refresh_token(&self, t: &StoredRefreshToken) -> Result<(), AuthStoreError> {
        self.grants.lock().unwrap().insert(t.id.clone(), t.clone());
        Ok(())
    }
    fn get_refresh_token(&self, id: &str) -> Result<Option<StoredRefreshToken>, AuthStoreError> {
        Ok(self.grants.lock().unwrap().get(id).cloned())
    }
    fn revoke_refresh_token(&self, id: &str) -> Result<(), AuthStoreError> {
        if let Some(t) = self.grants.lock().unwrap().get_mut(id) {
            t.revoked_at = Some(Utc::now());
        }
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

fn feature(store: Arc<MemStore>) -> AuthFeature {
    store
        .create_user(&NewAuthUser {
            id: "u1".to_string(),
            user_name: "mary".to_string(),
            display_name: None,
            email: None,
            password_hash: gateway::auth::passwords::hash_blocking("ok").unwrap(),
            roles: vec!["Manager".to_string()],
            permissions: vec![],
        })
        .unwrap();
    let now = Utc::now();
    store
        .create_session(&StoredSession {
            id: "SSSSSSSSSSSSSSSSSSSS".to_string(),
            user_id: "u1".to_string(),
            permanent: false,
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
        })
        .unwrap();
    AuthFeature::with_key(store, AuthConfig::default(), key())
}

fn peer(ip: &str) -> std::net::SocketAddr {
    format!("{ip}:40000").parse().unwrap()
}

#[actix_rt::test]
async fn authenticator_reads_every_carrier() {
    let store = Arc::new(MemStore::default());
    let auth = feature(store.clone());

    // Anonymous.
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .to_http_request();
    assert_eq!(auth.authenticate(&req).await.unwrap(), None);

    // Session cookie next to the TypeScript junk; cached after the first lookup.
    let cookie = "01 Jan 2100 00:00:00 GMT=null; ss-id=SSSSSSSSSSSSSSSSSSSS; ss-opt=temp";
    for _ in 0..5 {
        let req = TestRequest::default()
            .insert_header(("Cookie", cookie))
            .to_http_request();
        let s = auth.authenticate(&req).await.unwrap().unwrap();
        assert_eq!(
            (s.user_name.as_str(), s.session_id.as_deref()),
            ("mary", Some("SSSSSSSSSSSSSSSSSSSS"))
        );
    }
    assert_eq!(
        *store.lookups.lock().unwrap(),
        1,
        "later requests hit the cache"
    );

    // X-ss-id header.
    let req = TestRequest::default()
        .insert_header(("X-ss-id", "SSSSSSSSSSSSSSSSSSSS"))
        .to_http_request();
    assert_eq!(
        auth.authenticate(&req).await.unwrap().unwrap().user_id,
        "u1"
    );

    // Basic, right and wrong.
    let basic = |u: &str, p: &str| format!("Basic {}", STANDARD.encode(format!("{u}:{p}")));
    let req = TestRequest::default()
        .insert_header(("Authorization", basic("MARY", "ok")))
        .to_http_request();
    let s = auth.authenticate(&req).await.unwrap().unwrap();
    assert_eq!(
        (
            s.user_id.as_str(),
            s.auth_provider.as_str(),
            s.session_id.as_deref()
        ),
        ("u1", "basic", None)
    );
    let req = TestRequest::default()
        .insert_header(("Authorization", basic("mary", "bad")))
        .to_http_request();
    let e = auth.authenticate(&req).await.unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (401, "Invalid Username or Password")
    );

    // Bearer JWT: fine from loopback, 403 from afar, TokenException when expired or unsigned.
    let t = auth.jwt_key().encode(TokenKind::Access, &claims(60));
    let bearer = format!("Bearer {t}");
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", bearer.as_str()))
        .to_http_request();
    let s = auth.authenticate(&req).await.unwrap().unwrap();
    assert_eq!(
        (s.user_id.as_str(), s.roles.as_slice()),
        ("u1", ["Manager".to_string()].as_slice())
    );
    let req = TestRequest::default()
        .peer_addr(peer("203.0.113.9"))
        .insert_header(("Authorization", bearer.as_str()))
        .to_http_request();
    let e = auth.authenticate(&req).await.unwrap_err();
    assert_eq!(
        (e.status(), e.message()),
        (403, gateway::auth::JWT_INSECURE)
    );
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("X-Forwarded-Proto", "https"))
        .insert_header(("Authorization", bearer.as_str()))
        .to_http_request();
    assert!(
        auth.authenticate(&req).await.unwrap().is_some(),
        "trusted proxy on https"
    );

    let expired = format!(
        "Bearer {}",
        auth.jwt_key().encode(TokenKind::Access, &claims(-5))
    );
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", expired.as_str()))
        .to_http_request();
    let e = auth.authenticate(&req).await.unwrap_err();
    assert_eq!(
        (e.status(), e.error_code(), e.message()),
        (401, "TokenException", "Token has expired")
    );
    // ... but ignored on the endpoints a client uses to recover.
    let req = TestRequest::with_uri("/api/GetAccessToken")
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", expired.as_str()))
        .to_http_request();
    assert_eq!(auth.authenticate(&req).await.unwrap(), None);

    let parts: Vec<&str> = t.split('.').collect();
    let none = format!(
        "Bearer {}.{}.",
        b64json(serde_json::json!({"typ":"JWT","alg":"none"})),
        parts[1]
    );
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", none.as_str()))
        .to_http_request();
    let e = auth.authenticate(&req).await.unwrap_err();
    assert_eq!(
        (e.status(), e.error_code(), e.message()),
        (401, "TokenException", "Invalid token")
    );

    // A token whose grant was revoked.
    let now = Utc::now();
    store
        .create_refresh_token(&StoredRefreshToken {
            id: "g1".to_string(),
            user_id: "u1".to_string(),
            session_id: None,
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
            revoked_at: Some(now),
        })
        .unwrap();
    let mut c = claims(60);
    c.rid = Some("g1".to_string());
    let revoked = format!("Bearer {}", auth.jwt_key().encode(TokenKind::Access, &c));
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", revoked.as_str()))
        .to_http_request();
    assert_eq!(
        auth.authenticate(&req).await.unwrap_err().error_code(),
        "TokenException"
    );

    // Unknown API key.
    let req = TestRequest::default()
        .peer_addr(peer("127.0.0.1"))
        .insert_header(("Authorization", "Bearer ak-doesnotexist"))
        .to_http_request();
    assert_eq!(auth.authenticate(&req).await.unwrap_err().status(), 401);
    // A key from a remote peer over plain HTTP is refused before it is looked up.
    let req = TestRequest::default()
        .peer_addr(peer("203.0.113.9"))
        .insert_header(("Authorization", "Bearer ak-doesnotexist"))
        .to_http_request();
    let e = auth.authenticate(&req).await.unwrap_err();
    assert_eq!((e.status(), e.message()), (403, API_KEY_INSECURE));
    assert_eq!(api_key_hash("ak-x").len(), 64);

    assert_eq!(
        auth.challenges(),
        vec![
            r#"credentials realm="/auth/credentials""#,
            r#"Basic realm="/auth/basic""#
        ]
    );
}

/// How much each carrier costs the authenticator once warm (run with
/// `cargo test --release -p gateway --test auth_pure -- --ignored --nocapture`).
#[actix_rt::test]
#[ignore = "a timing report, not a check"]
async fn carrier_costs() {
    let store = Arc::new(MemStore::default());
    let auth = feature(store);
    let jwt = format!(
        "Bearer {}",
        auth.jwt_key().encode(TokenKind::Access, &claims(600))
    );
    let basic = format!("Basic {}", STANDARD.encode("mary:ok"));
    let cases: Vec<(&str, actix_web::HttpRequest)> = vec![
        (
            "anonymous",
            TestRequest::default()
                .peer_addr(peer("127.0.0.1"))
                .to_http_request(),
        ),
        (
            "cookie",
            TestRequest::default()
                .peer_addr(peer("127.0.0.1"))
                .insert_header((
                    "Cookie",
                    "ss-id=SSSSSSSSSSSSSSSSSSSS; ss-pid=PPPPPPPPPPPPPPPPPPPP; ss-opt=temp",
                ))
                .to_http_request(),
        ),
        (
            "jwt",
            TestRequest::default()
                .peer_addr(peer("127.0.0.1"))
                .insert_header(("Authorization", jwt.as_str()))
                .to_http_request(),
        ),
        (
            "basic",
            TestRequest::default()
                .peer_addr(peer("127.0.0.1"))
                .insert_header(("Authorization", basic.as_str()))
                .to_http_request(),
        ),
    ];
    for (name, req) in &cases {
        auth.authenticate(req).await.unwrap();
        let n = 100_000u32;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(auth.authenticate(req).await.unwrap());
        }
        println!("{name:>10}: {:?} per request", t.elapsed() / n);
    }
}

#[actix_rt::test]
async fn the_first_admin_is_seeded_once() {
    let store = Arc::new(MemStore::default());
    let auth = AuthFeature::with_key(store.clone(), AuthConfig::default(), key());
    let password = auth
        .seed_admin(None, None)
        .await
        .unwrap()
        .expect("a generated password");
    assert!(password.len() >= 20 && password.bytes().all(|b| b.is_ascii_alphanumeric()));
    let admin = store.find_user_by_name("ADMIN").unwrap().unwrap();
    assert_eq!(admin.roles, vec!["Admin", "SystemAdministrator"]);
    assert!(gateway::auth::passwords::verify_blocking(
        &password,
        Some(&admin.password_hash)
    ));
    assert_eq!(
        auth.seed_admin(Some("other".into()), None).await.unwrap(),
        None,
        "users exist"
    );
    assert_eq!(store.count_users().unwrap(), 1);

    let store = Arc::new(MemStore::default());
    let auth = AuthFeature::with_key(store.clone(), AuthConfig::default(), key());
    assert_eq!(
        auth.seed_admin(Some("root".into()), Some("given".into()))
            .await
            .unwrap(),
        None
    );
    assert!(store.find_user_by_name("root").unwrap().is_some());
}
