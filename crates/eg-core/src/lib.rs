//! Etherguard core: everything that is pure computation.
//!
//! No OS access, no clock, no randomness source of its own: callers pass time and
//! random bytes in, so the same code runs natively, in WASM and under test.
#![forbid(unsafe_code)]

pub mod frame;
pub mod noise;
pub mod plane;
pub mod offload;
pub mod route;
pub mod session;
pub mod sign;

/// Version of the core, reported by `-version` through the WASM build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
