//! Curve25519 static keys: generation from caller randomness, public derivation, DH,
//! base64 (standard alphabet, padded: the `wg genkey` format), and the precomputed
//! per-identity / per-peer key material the handshake uses.

use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use super::kdf::{hash, LABEL_COOKIE, LABEL_MAC1};
use super::Reason;

/// Clamp 32 bytes into an X25519 private scalar (as `wg genkey` does).
pub fn clamp(mut k: [u8; 32]) -> [u8; 32] {
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    k
}

/// A private key from 32 caller-supplied random bytes (clamped).
pub fn private_from_random(random: [u8; 32]) -> [u8; 32] {
    clamp(random)
}

/// Public key of a private key.
pub fn public_key(private: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*private)).to_bytes()
}

/// X25519; rejects an all-zero (non-contributory) result.
pub fn dh(private: &StaticSecret, public: &[u8; 32]) -> Result<[u8; 32], Reason> {
    let s = private.diffie_hellman(&PublicKey::from(*public));
    if !s.was_contributory() {
        return Err(Reason::BadKey);
    }
    Ok(s.to_bytes())
}

/// X25519 on raw bytes (used by the RFC 7748 test).
pub fn x25519(private: [u8; 32], public: [u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(private, public)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard padded base64.
pub fn base64_encode(data: &[u8]) -> String {
    let mut s = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Decode standard padded base64 (whitespace not allowed). `None` if malformed.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() & 3 != 0 {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    let groups = b.len() / 4;
    for (gi, g) in b.chunks(4).enumerate() {
        let last = gi + 1 == groups;
        let pads = g.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in g.iter().enumerate() {
            let v = if i >= 4 - pads { 0 } else { val(c)? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Non-canonical encodings (unused low bits set) are rejected.
        if (pads == 1 && bytes[2] != 0) || (pads == 2 && (bytes[1] != 0 || bytes[2] != 0)) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pads]);
    }
    Some(out)
}

/// Decode a 44-character base64 key into 32 bytes.
pub fn key_from_base64(s: &str) -> Option<[u8; 32]> {
    let v = base64_decode(s.trim())?;
    v.try_into().ok()
}

/// Our own static identity with the derived keys incoming messages need.
#[derive(Clone)]
pub struct Identity {
    pub(crate) secret: StaticSecret,
    pub(crate) public: [u8; 32],
    /// HASH("mac1----" || our public): checks mac1 on messages sent to us.
    pub(crate) mac1_key: [u8; 32],
    /// HASH("cookie--" || our public): encrypts the cookie replies we send.
    pub(crate) cookie_key: [u8; 32],
}

impl Identity {
    /// From a private key (clamped on use by X25519 anyway).
    pub fn new(private: [u8; 32]) -> Identity {
        let secret = StaticSecret::from(private);
        let public = PublicKey::from(&secret).to_bytes();
        Identity {
            secret,
            public,
            mac1_key: hash(&[LABEL_MAC1, &public]),
            cookie_key: hash(&[LABEL_COOKIE, &public]),
        }
    }

    /// Our static public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }
}

/// A configured remote peer's keys, with everything derivable precomputed.
#[derive(Clone)]
pub struct Remote {
    pub(crate) public: [u8; 32],
    /// DH(our static, their static): the same value on both sides.
    pub(crate) ss: [u8; 32],
    /// Pre-shared key, zeros if none.
    pub(crate) psk: [u8; 32],
    /// HASH("mac1----" || their public): mac1 on messages we send them.
    pub(crate) mac1_key: [u8; 32],
    /// HASH("cookie--" || their public): decrypts cookie replies they send us.
    pub(crate) cookie_key: [u8; 32],
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.ss.zeroize();
        self.psk.zeroize();
    }
}

impl Remote {
    /// Precompute for `public` under our `identity`. Fails for low-order public keys.
    pub fn new(
        identity: &Identity,
        public: [u8; 32],
        psk: Option<[u8; 32]>,
    ) -> Result<Remote, Reason> {
        let ss = dh(&identity.secret, &public)?;
        Ok(Remote {
            public,
            ss,
            psk: psk.unwrap_or([0u8; 32]),
            mac1_key: hash(&[LABEL_MAC1, &public]),
            cookie_key: hash(&[LABEL_COOKIE, &public]),
        })
    }

    /// Their static public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }
}
