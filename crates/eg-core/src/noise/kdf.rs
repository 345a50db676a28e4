//! Symmetric primitives of the handshake: BLAKE2s HASH, keyed-BLAKE2s MAC (16 bytes),
//! HMAC-BLAKE2s and the HKDF-style KDF1/KDF2/KDF3 chain, and the ChaCha20-Poly1305 AEAD
//! with WireGuard's nonce (4 zero bytes || LE64 counter).

use blake2::digest::consts::U16;
use blake2::digest::{Digest, KeyInit, Mac};
use blake2::{Blake2s256, Blake2sMac};
use chacha20poly1305::{AeadInPlace, Tag, XChaCha20Poly1305};
use hmac::SimpleHmac;
use zeroize::Zeroize;

use super::Reason;

/// Noise protocol name; BLAKE2s of it is the initial chaining key.
pub const CONSTRUCTION: &[u8] = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
/// WireGuard's prologue/identifier, mixed into the initial hash.
pub const IDENTIFIER: &[u8] = b"WireGuard v1 zx2c4 Jason@zx2c4.com";
/// Label for the mac1 key: HASH(LABEL_MAC1 || receiver static public).
pub const LABEL_MAC1: &[u8] = b"mac1----";
/// Label for the cookie encryption key: HASH(LABEL_COOKIE || cookie sender static public).
pub const LABEL_COOKIE: &[u8] = b"cookie--";

/// BLAKE2s-256 of the concatenation of `parts`.
pub fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Blake2s256::new();
    for p in parts {
        Digest::update(&mut h, p);
    }
    h.finalize().into()
}

/// Keyed BLAKE2s with a 16-byte output (WireGuard's MAC). `key` is 16 or 32 bytes.
pub fn mac(key: &[u8], data: &[u8]) -> [u8; 16] {
    // Keys of 1..=32 bytes are always accepted.
    let mut m = <Blake2sMac<U16> as KeyInit>::new_from_slice(key).expect("key <= 32 bytes");
    Mac::update(&mut m, data);
    m.finalize().into_bytes().into()
}

/// HMAC-BLAKE2s over the concatenation of `parts`.
pub fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <SimpleHmac<Blake2s256> as KeyInit>::new_from_slice(key).expect("any key length");
    for p in parts {
        Mac::update(&mut m, p);
    }
    m.finalize().into_bytes().into()
}

/// KDF with one output.
pub fn kdf1(ck: &[u8; 32], input: &[u8]) -> [u8; 32] {
    let mut t0 = hmac(ck, &[input]);
    let t1 = hmac(&t0, &[&[1]]);
    t0.zeroize();
    t1
}

/// KDF with two outputs.
pub fn kdf2(ck: &[u8; 32], input: &[u8]) -> ([u8; 32], [u8; 32]) {
    let mut t0 = hmac(ck, &[input]);
    let t1 = hmac(&t0, &[&[1]]);
    let t2 = hmac(&t0, &[&t1, &[2]]);
    t0.zeroize();
    (t1, t2)
}

/// KDF with three outputs.
pub fn kdf3(ck: &[u8; 32], input: &[u8]) -> ([u8; 32], [u8; 32], [u8; 32]) {
    let mut t0 = hmac(ck, &[input]);
    let t1 = hmac(&t0, &[&[1]]);
    let t2 = hmac(&t0, &[&t1, &[2]]);
    let t3 = hmac(&t0, &[&t2, &[3]]);
    t0.zeroize();
    (t1, t2, t3)
}

/// Initial chaining key: HASH(CONSTRUCTION).
pub fn initial_chaining_key() -> [u8; 32] {
    hash(&[CONSTRUCTION])
}

/// Initial hash: HASH(initial chaining key || IDENTIFIER).
pub fn initial_hash() -> [u8; 32] {
    hash(&[&initial_chaining_key(), IDENTIFIER])
}

/// WireGuard's 96-bit nonce: 32 zero bits then the counter little-endian.
pub fn nonce(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    n
}

/// ChaCha20-Poly1305 seal of `buf` in place; returns the tag. On wasm32 with SIMD128 the
/// ChaCha20 part runs on the four-block SIMD kernel of `chacha_simd`.
pub fn seal(key: &[u8; 32], counter: u64, aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::chacha_simd::seal(key, &nonce(counter), aad, buf)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let c = chacha20poly1305::ChaCha20Poly1305::new(key.into());
        let n = nonce(counter);
        // Encryption only fails for messages longer than 256 GiB.
        let tag = c
            .encrypt_in_place_detached((&n).into(), aad, buf)
            .expect("message below AEAD limit");
        tag.into()
    }
}

/// ChaCha20-Poly1305 open of `buf` in place against `tag`.
pub fn open(
    key: &[u8; 32],
    counter: u64,
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), Reason> {
    if tag.len() != 16 {
        return Err(Reason::Truncated);
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        super::chacha_simd::open(key, &nonce(counter), aad, buf, tag)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let c = chacha20poly1305::ChaCha20Poly1305::new(key.into());
        let n = nonce(counter);
        c.decrypt_in_place_detached((&n).into(), aad, buf, Tag::from_slice(tag))
            .map_err(|_| Reason::DecryptFailed)
    }
}

/// XChaCha20-Poly1305 seal (cookie replies).
pub fn xseal(key: &[u8; 32], nonce24: &[u8; 24], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    let c = XChaCha20Poly1305::new(key.into());
    let tag = c
        .encrypt_in_place_detached(nonce24.into(), aad, buf)
        .expect("message below AEAD limit");
    tag.into()
}

/// XChaCha20-Poly1305 open (cookie replies).
pub fn xopen(
    key: &[u8; 32],
    nonce24: &[u8; 24],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), Reason> {
    if tag.len() != 16 {
        return Err(Reason::Truncated);
    }
    let c = XChaCha20Poly1305::new(key.into());
    c.decrypt_in_place_detached(nonce24.into(), aad, buf, Tag::from_slice(tag))
        .map_err(|_| Reason::DecryptFailed)
}
