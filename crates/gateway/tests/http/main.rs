//! The gateway over real HTTP: a server on 127.0.0.1:0 with test-only operations, called with
//! reqwest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batch;
mod binding;
mod errors;
mod formats;
mod golden;
mod routing;
mod support;
