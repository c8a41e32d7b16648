//! HS256 JSON Web Tokens in the shape ServiceStack's `JwtAuthProvider` writes.
//!
//! Only compact three-part tokens signed with HMAC-SHA256 are accepted; any other `alg`
//! (`none` included) is refused before the signature is even looked at, so a token cannot
//! choose how it is verified.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::digest::KeyInit;
use hmac::digest::generic_array::GenericArray;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The `iss` claim ServiceStack writes and evogate requires.
pub const ISSUER: &str = "ssjwt";

/// Which kind of token: an access token (`typ: JWT`) or a refresh token (`typ: JWTR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer` or the `ss-tok` cookie.
    Access,
    /// Exchanged for an access token at `/access-token`; never authenticates a request.
    Refresh,
}

impl TokenKind {
    fn typ(self) -> &'static str {
        match self {
            TokenKind::Access => "JWT",
            TokenKind::Refresh => "JWTR",
        }
    }
}

/// The payload evogate writes and reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, always [`ISSUER`].
    #[serde(default)]
    pub iss: String,
    /// The user id.
    #[serde(default)]
    pub sub: String,
    /// Issued at, Unix seconds.
    #[serde(default)]
    pub iat: i64,
    /// Expires at, Unix seconds.
    #[serde(default)]
    pub exp: i64,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sign-in name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Roles (omitted when empty, as ServiceStack does).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Permissions (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub perms: Vec<String>,
    /// The refresh grant this token belongs to; logout revokes the grant and with it every
    /// access token minted from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid: Option<String>,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not `HS256`.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// `typ` is not the expected kind (a refresh token sent as an access token).
    #[error("wrong token type")]
    WrongType,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// The issuer is not [`ISSUER`].
    #[error("wrong issuer")]
    WrongIssuer,
    /// `exp` is in the past.
    #[error("token has expired")]
    Expired,
}

#[derive(Serialize)]
struct Header<'a> {
    typ: &'a str,
    alg: &'a str,
    kid: &'a str,
}

#[derive(Deserialize)]
struct ParsedHeader {
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    alg: Option<String>,
}

/// An HMAC-SHA256 signing key.
#[derive(Clone)]
pub struct JwtKey {
    /// The keyed MAC state, cloned for each token (saves the key schedule per request).
    mac: HmacSha256,
    kid: String,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// A key from raw bytes.
    pub fn new(secret: Vec<u8>) -> Self {
        // The key id is derived from a hash rather than from the key itself (ServiceStack uses
        // the first characters of the key), so the header discloses nothing about the secret.
        let digest = Sha256::digest(&secret);
        let kid = URL_SAFE_NO_PAD.encode(&digest[..3]);
        // HMAC pads keys up to the 64-byte block and hashes longer ones first; doing that here
        // gives the same MAC through the infallible fixed-size constructor.
        let mut block = [0u8; 64];
        if secret.len() <= block.len() {
            block[..secret.len()].copy_from_slice(&secret);
        } else {
            block[..32].copy_from_slice(&Sha256::digest(&secret));
        }
        let mac = <HmacSha256 as KeyInit>::new(&GenericArray::from(block));
        JwtKey { mac, kid }
    }

    /// A fresh random 256-bit key and its base64 form (what the store keeps).
    pub fn generate() -> (Self, String) {
        let mut bytes = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let text = STANDARD.encode(&bytes);
        (JwtKey::new(bytes), text)
    }

    /// A key from its stored base64 form.
    pub fn from_base64(text: &str) -> Option<Self> {
        STANDARD
            .decode(text.trim())
            .ok()
            .filter(|b| b.len() >= 16)
            .map(JwtKey::new)
    }

    /// The `kid` header value.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// Signs `claims` as a token of `kind`.
    pub fn encode(&self, kind: TokenKind, claims: &Claims) -> String {
        let header = Header {
            typ: kind.typ(),
            alg: "HS256",
            kid: &self.kid,
        };
        // Serialising plain structs of strings and numbers cannot fail.
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = String::with_capacity(64 + payload.len() * 4 / 3);
        token.push_str(&URL_SAFE_NO_PAD.encode(header));
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        let sig = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig));
        token
    }

    /// Verifies a token of `kind`: structure, `alg`, `typ`, signature (in constant time),
    /// issuer and, when `now` (Unix seconds) is given, expiry.
    ///
    /// # Errors
    /// The first check that failed.
    pub fn decode(
        &self,
        token: &str,
        kind: TokenKind,
        now: Option<i64>,
    ) -> Result<Claims, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: ParsedHeader = decode_json(h)?;
        if header.alg.as_deref() != Some("HS256") {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        let sig = URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| JwtError::Malformed)?;
        let mut mac = self.mac();
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        mac.verify_slice(&sig).map_err(|_| JwtError::BadSignature)?;
        // Only a signed header is trusted to say what kind of token this is.
        if header.typ.as_deref().unwrap_or("JWT") != kind.typ() {
            return Err(JwtError::WrongType);
        }
        let claims: Claims = decode_json(p)?;
        if claims.iss != ISSUER {
            return Err(JwtError::WrongIssuer);
        }
        if let Some(now) = now
            && claims.exp <= now
        {
            return Err(JwtError::Expired);
        }
        Ok(claims)
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// Whether a bearer value has the shape of a compact JWT (three dot-separated parts), as
/// opposed to an API key or something else.
pub fn looks_like_jwt(token: &str) -> bool {
    // `split_once` searches with `memchr`, a word at a time; tokens are long.
    token
        .split_once('.')
        .and_then(|(_, rest)| rest.split_once('.'))
        .is_some_and(|(_, sig)| !sig.contains('.'))
}
