//! ServiceStack's own authentication DTOs, declared exactly as upstream publishes them
//! (namespace `ServiceStack`, XML namespace `http://schemas.servicestack.net/types`, members in
//! their declared `DataMember` order), plus evogate's API-key operations.
//!
//! `Debug` is written by hand wherever a type can hold a password or a token, so a logged
//! request never shows one.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::dto;
use crate::response::ResponseStatus;

macro_rules! redacted_debug {
    ($t:ident { $($shown:ident),* } hidden { $($hidden:ident),* }) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct(stringify!($t));
                $( d.field(stringify!($shown), &self.$shown); )*
                $( d.field(stringify!($hidden), &self.$hidden.as_ref().map(|_| "<redacted>")); )*
                d.finish()
            }
        }
    };
}

/// Sign In
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared",
    route("/auth", "GET,POST"),
    route("/auth/{provider}", "GET,POST"),
    verb = "POST",
    response = AuthenticateResponse,
    tag("auth")
)]
#[derive(Clone, Default)]
pub struct Authenticate {
    /// AuthProvider, e.g. credentials
    #[dto(name = "provider")]
    pub provider: Option<String>,
    /// The sign-in name.
    pub user_name: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// Keep the session in the permanent `ss-pid` cookie.
    pub remember_me: Option<bool>,
    /// OAuth access token (unused by evogate's providers).
    pub access_token: Option<String>,
    /// OAuth access token secret (unused).
    pub access_token_secret: Option<String>,
    /// Where to go after signing in.
    pub return_url: Option<String>,
    /// Error view (unused).
    pub error_view: Option<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

redacted_debug!(Authenticate { provider, user_name, remember_me, return_url } hidden { password, access_token, access_token_secret });

/// The answer to [`Authenticate`].
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Clone, Default, PartialEq)]
pub struct AuthenticateResponse {
    /// The user's id.
    pub user_id: Option<String>,
    /// The active session id (`ss-id`, or `ss-pid` with `rememberMe`).
    pub session_id: Option<String>,
    /// The sign-in name.
    pub user_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Referrer.
    pub referrer_url: Option<String>,
    /// A JWT access token.
    pub bearer_token: Option<String>,
    /// A JWT refresh token.
    pub refresh_token: Option<String>,
    /// When the refresh token expires.
    #[serde(with = "iso_opt")]
    pub refresh_token_expiry: Option<DateTime<Utc>>,
    /// Avatar URL.
    pub profile_url: Option<String>,
    /// Roles.
    pub roles: Option<Vec<String>>,
    /// Permissions.
    pub permissions: Option<Vec<String>>,
    /// The provider that authenticated the session.
    pub auth_provider: Option<String>,
    /// Error details.
    pub response_status: Option<ResponseStatus>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

redacted_debug!(AuthenticateResponse { user_id, user_name, display_name, roles, permissions, auth_provider } hidden { session_id, bearer_token, refresh_token });

/// Exchanges a refresh token for a new access token.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared",
    route("/access-token", "POST"),
    verb = "POST",
    response = GetAccessTokenResponse,
    tag("auth")
)]
#[derive(Clone, Default)]
pub struct GetAccessToken {
    /// The refresh token; the `ss-reftok` cookie when absent.
    pub refresh_token: Option<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

redacted_debug!(GetAccessToken { meta } hidden { refresh_token });

/// The answer to [`GetAccessToken`].
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Clone, Default)]
pub struct GetAccessTokenResponse {
    /// The new JWT access token.
    pub access_token: Option<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
    /// Error details.
    pub response_status: Option<ResponseStatus>,
}

redacted_debug!(GetAccessTokenResponse { meta } hidden { access_token });

/// Adds roles and permissions to a user (Admin only).
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared",
    route("/assignroles", "POST"),
    verb = "POST",
    response = AssignRolesResponse,
    tag("auth")
)]
#[derive(Debug, Clone, Default)]
pub struct AssignRoles {
    /// The user to change.
    pub user_name: Option<String>,
    /// Permissions to add.
    pub permissions: Vec<String>,
    /// Roles to add.
    pub roles: Vec<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

/// The answer to [`AssignRoles`]: the user's roles and permissions afterwards.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default)]
pub struct AssignRolesResponse {
    /// Every role the user now has.
    pub all_roles: Vec<String>,
    /// Every permission the user now has.
    pub all_permissions: Vec<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
    /// Error details.
    pub response_status: Option<ResponseStatus>,
}

/// Removes roles and permissions from a user (Admin only).
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared",
    route("/unassignroles", "POST"),
    verb = "POST",
    response = UnAssignRolesResponse,
    tag("auth")
)]
#[derive(Debug, Clone, Default)]
pub struct UnAssignRoles {
    /// The user to change.
    pub user_name: Option<String>,
    /// Permissions to remove.
    pub permissions: Vec<String>,
    /// Roles to remove.
    pub roles: Vec<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
}

/// The answer to [`UnAssignRoles`]: the user's roles and permissions afterwards.
#[dto(
    namespace = "ServiceStack",
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default)]
pub struct UnAssignRolesResponse {
    /// Every role the user still has.
    pub all_roles: Vec<String>,
    /// Every permission the user still has.
    pub all_permissions: Vec<String>,
    /// Extra data.
    pub meta: Option<HashMap<String, String>>,
    /// Error details.
    pub response_status: Option<ResponseStatus>,
}

/// Creates an API key for the signed-in user. The key is shown once and stored only as a hash.
#[dto(
    namespace = "Voice.Api.Auth",
    route("/apikeys", "POST"),
    verb = "POST",
    response = CreateApiKeyResponse,
    authenticate,
    tag("auth")
)]
#[derive(Debug, Clone, Default)]
pub struct CreateApiKey {
    /// A label for the key.
    pub name: Option<String>,
}

/// The answer to [`CreateApiKey`].
#[dto(namespace = "Voice.Api.Auth")]
#[derive(Clone, Default)]
pub struct CreateApiKeyResponse {
    /// The key's id, for revoking it.
    pub id: Option<String>,
    /// The key itself: `ak-` and 32 letters and digits. Not retrievable later.
    pub key: Option<String>,
    /// The label.
    pub name: Option<String>,
    /// Error details.
    pub response_status: Option<ResponseStatus>,
}

redacted_debug!(CreateApiKeyResponse { id, name } hidden { key });

/// Revokes one of the signed-in user's API keys (an Admin may revoke anyone's).
#[dto(
    namespace = "Voice.Api.Auth",
    route("/apikeys/{id}", "DELETE"),
    verb = "DELETE",
    authenticate,
    tag("auth")
)]
#[derive(Debug, Clone, Default)]
pub struct RevokeApiKey {
    /// The key's id.
    pub id: Option<String>,
}

/// ISO 8601 UTC for an optional date (`2025-01-01T00:00:00Z`), which every client parses.
mod iso_opt {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        Ok(text
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }
}
