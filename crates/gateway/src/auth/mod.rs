//! Authentication the way ServiceStack clients expect it.

pub mod passwords;

pub use passwords::{hash_password, verify_password};
