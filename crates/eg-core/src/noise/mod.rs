//! The Noise_IKpsk2 handshake exactly as WireGuard runs it, plus the pieces around it:
//! the HMAC-BLAKE2s KDF chain ([`kdf`]), TAI64N timestamps ([`tai64n`]), static keys and
//! their base64 form ([`keys`]), the two handshake messages ([`handshake`]), mac1/mac2 and
//! cookie replies ([`cookie`]), the stock wire constants ([`wire`]) and the reason codes
//! every rejection carries ([`reason`]).
//!
//! Everything here is pure: time, wall-clock and randomness are passed in.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod chacha_simd;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod poly1305_simd;
pub mod aead_check;
pub mod cookie;
pub mod handshake;
pub mod kdf;
pub mod keys;
pub mod poly1305_check;
pub mod reason;
pub mod tai64n;
pub mod wire;

pub use keys::{Identity, Remote};
pub use reason::Reason;
pub use tai64n::Tai64N;

/// Re-exported so that callers (the WASM crate) can implement an RNG for the device
/// without a direct dependency on `rand_core`.
pub use rand_core;
