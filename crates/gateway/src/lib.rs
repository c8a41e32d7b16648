//! A ServiceStack-compatible web-service host on actix-web.
//!
//! Request flow: route match (operation name or REST route) → format negotiation →
//! authentication → role check → DTO binding → typed service → response or error, written in
//! the negotiated format. DTOs are declared once with [`dto`]; see [`meta`].

// The `#[dto]` expansion names this crate `::gateway`, also from inside it.
extern crate self as gateway;

pub mod app;
pub mod auth;
pub mod bind;
pub mod context;
pub mod error;
pub mod format;
pub mod meta;
pub mod metadata;
pub mod negotiate;
pub mod pipeline;
pub mod registry;
pub mod response;
pub mod router;
pub mod serde_util;

pub use context::{Authenticator, NoAuth, RequestContext, Session};
pub use error::{ApiError, FieldError};
pub use gateway_macros::dto;
pub use meta::{Dto, Operation};
pub use registry::Registry;
pub use response::{ErrorResponse, ResponseError, ResponseStatus};
