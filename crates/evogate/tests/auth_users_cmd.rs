//! Compiles and runs the unit tests of `src/users_cmd.rs` (the CLI's `user add` and `apikey
//! create`) on their own, independently of where `main` mounts them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../src/users_cmd.rs"]
#[allow(dead_code, unreachable_pub)]
mod users_cmd;
