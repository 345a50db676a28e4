//! cargo-fuzz entry: XEdDSA (eg_core::sign). Input: 32-byte private key, 64-byte Z, a flip
//! position, then the message. Invariants: sign → verify succeeds and ed25519-dalek's
//! verify_strict accepts it under the converted Edwards key; flipping any one bit of the
//! message, signature or public key makes verify fail; and arbitrary (public key, message,
//! signature) triples from the input that our verifier accepts are accepted by verify_strict too.
#![no_main]

use eg_core::noise::keys::public_key;
use eg_core::sign::{edwards_public_key, is_valid, sign, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 32 + 64 + 2 {
        return;
    }
    let key: [u8; 32] = data[..32].try_into().unwrap();
    let z: [u8; 64] = data[32..96].try_into().unwrap();
    let flip = u16::from_le_bytes([data[96], data[97]]) as usize;
    let msg = &data[98..];

    // 1. Raw input as (u, signature) against the rest: no panic; anything accepted is a strict
    //    Ed25519 signature too.
    let sig_raw: [u8; 64] = z;
    if verify(&key, msg, &sig_raw).is_ok() {
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&edwards_public_key(&key).unwrap()).unwrap();
        vk.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig_raw)).expect("strict Ed25519 agrees");
    }

    // 2. Round trip and single-bit mutations.
    let public = public_key(&key);
    let sig = sign(&key, msg, &z);
    assert!(is_valid(&public, msg, &sig), "fresh signature refused");
    let total = (msg.len() + 64 + 32) * 8;
    let bit = flip % total;
    if bit < msg.len() * 8 {
        let mut m = msg.to_vec();
        m[bit / 8] ^= 1 << (bit % 8);
        assert!(!is_valid(&public, &m, &sig), "flipped message bit {bit} accepted");
    } else if bit < (msg.len() + 64) * 8 {
        let b = bit - msg.len() * 8;
        let mut s = sig;
        s[b / 8] ^= 1 << (b % 8);
        assert!(!is_valid(&public, msg, &s), "flipped signature bit {b} accepted");
    } else {
        let b = bit - (msg.len() + 64) * 8;
        let mut k = public;
        k[b / 8] ^= 1 << (b % 8);
        assert!(!is_valid(&k, msg, &sig), "flipped key bit {b} accepted");
    }
});
