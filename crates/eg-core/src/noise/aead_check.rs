//! Cross-check of [`super::kdf::seal`]/[`super::kdf::open`] against RustCrypto's
//! ChaCha20-Poly1305 on pseudo-random inputs. Natively both are the same code; in the wasm32
//! SIMD128 build `seal`/`open` run our own ChaCha20 kernel, and the WASM test suite calls this
//! through the bindings to prove the kernel byte-identical to the reference.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Tag};

use super::kdf::{nonce, open, seal};

/// Deterministic xorshift64 bytes for the self-checks (the WASM build has no `rand` source here;
/// the checks must repeat exactly for a seed). Seed with an odd value.
pub(super) struct XorShift(pub(super) u64);
impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(super) fn fill(&mut self, b: &mut [u8]) {
        for x in b {
            *x = self.next() as u8;
        }
    }
}

/// Runs `count` random cases (lengths 0..=1600, random AAD up to 64 bytes); returns how many
/// disagreed with the reference (ciphertext, tag, round trip, or a tampered tag accepted).
pub fn compare_with_reference(seed: u64, count: u32) -> u32 {
    let mut r = XorShift(seed | 1);
    let mut bad = 0;
    for _ in 0..count {
        let mut key = [0u8; 32];
        r.fill(&mut key);
        let counter = r.next();
        let len = (r.next() % 1601) as usize;
        let alen = (r.next() % 65) as usize;
        let mut aad = vec![0u8; alen];
        r.fill(&mut aad);
        let mut msg = vec![0u8; len];
        r.fill(&mut msg);

        let mut ours = msg.clone();
        let tag = seal(&key, counter, &aad, &mut ours);
        let mut theirs = msg.clone();
        let c = ChaCha20Poly1305::new((&key).into());
        let n = nonce(counter);
        let ref_tag = c.encrypt_in_place_detached((&n).into(), &aad, &mut theirs).expect("below limit");
        if ours != theirs || tag[..] != ref_tag[..] {
            bad += 1;
            continue;
        }
        let mut back = ours.clone();
        if open(&key, counter, &aad, &mut back, &tag).is_err() || back != msg {
            bad += 1;
            continue;
        }
        let mut t2 = tag;
        t2[(r.next() % 16) as usize] ^= 1 << (r.next() % 8);
        let mut again = ours.clone();
        if open(&key, counter, &aad, &mut again, &t2).is_ok() {
            bad += 1;
            continue;
        }
        // And the reference accepts what we sealed.
        let mut check = ours;
        if c.decrypt_in_place_detached((&n).into(), &aad, &mut check, Tag::from_slice(&tag)).is_err() {
            bad += 1;
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    #[test]
    fn native_path_agrees_with_reference() {
        assert_eq!(super::compare_with_reference(7, 300), 0);
    }
}
