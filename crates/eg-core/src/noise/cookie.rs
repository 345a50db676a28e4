//! mac1/mac2 and cookie replies (WireGuard's DoS mitigation).
//!
//! * mac1 = MAC(HASH("mac1----" || receiver static public), msg[..len-32]); always checked.
//! * Responder: the cookie is tau = MAC(secret, source address bytes) with a random
//!   secret rotated every `cookie_refresh_time` (120 s). Under load (a flag the caller
//!   passes), a handshake message needs mac2 = MAC(tau, msg[..len-16]); otherwise we answer
//!   with a cookie reply: type=3 | receiver | nonce 24 | XAEAD(HASH("cookie--" || our
//!   public), nonce, tau, aad = the message's mac1).
//! * Initiator: remembers the mac1 of the last handshake message sent, decrypts a cookie
//!   reply with it and uses the cookie for mac2 until it is `cookie_refresh_time - 5 s` old.

use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use super::kdf::{mac, xopen, xseal};
use super::keys::{Identity, Remote};
use super::wire::*;
use super::Reason;

/// Offsets of mac1 and mac2 in a handshake message of length `len`.
fn mac_offsets(len: usize) -> (usize, usize) {
    (len - 32, len - 16)
}

/// Responder-side cookie secret and mac checks (one per device).
pub struct CookieChecker {
    secret: [u8; 32],
    born: Option<f64>,
}

impl Drop for CookieChecker {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

impl Default for CookieChecker {
    fn default() -> Self {
        CookieChecker::new()
    }
}

impl CookieChecker {
    /// A checker whose secret is generated on first use.
    pub fn new() -> CookieChecker {
        CookieChecker {
            secret: [0u8; 32],
            born: None,
        }
    }

    /// Whether mac1 of the handshake message `msg` is valid for `identity`.
    pub fn check_mac1(identity: &Identity, msg: &[u8]) -> bool {
        if msg.len() < 32 {
            return false;
        }
        let (m1, m2) = mac_offsets(msg.len());
        ct_eq(&mac(&identity.mac1_key, &msg[..m1]), &msg[m1..m2])
    }

    fn refresh(&mut self, now: f64, refresh_time: f64, rng: &mut dyn CryptoRngCore) {
        let stale = match self.born {
            None => true,
            Some(b) => now - b >= refresh_time || now < b,
        };
        if stale {
            rng.fill_bytes(&mut self.secret);
            self.born = Some(now);
        }
    }

    /// The cookie tau for source address `src` (any byte encoding of ip+port).
    pub fn cookie(
        &mut self,
        src: &[u8],
        now: f64,
        refresh_time: f64,
        rng: &mut dyn CryptoRngCore,
    ) -> [u8; 16] {
        self.refresh(now, refresh_time, rng);
        mac(&self.secret, src)
    }

    /// Check mac2 of `msg` from `src`. `Err(NeedCookie)` if mac2 is all zero,
    /// `Err(BadMac2)` if it is wrong.
    pub fn check_mac2(
        &mut self,
        msg: &[u8],
        src: &[u8],
        now: f64,
        refresh_time: f64,
        rng: &mut dyn CryptoRngCore,
    ) -> Result<(), Reason> {
        let (_, m2) = mac_offsets(msg.len());
        let given = &msg[m2..];
        if given.iter().all(|&b| b == 0) {
            return Err(Reason::NeedCookie);
        }
        let mut tau = self.cookie(src, now, refresh_time, rng);
        let ok = ct_eq(&mac(&tau, &msg[..m2]), given);
        tau.zeroize();
        if ok {
            Ok(())
        } else {
            Err(Reason::BadMac2)
        }
    }

    /// Write a cookie reply to handshake message `msg` (from `src`) into `out[..64]`.
    #[allow(clippy::too_many_arguments)]
    pub fn make_reply(
        &mut self,
        identity: &Identity,
        msg: &[u8],
        src: &[u8],
        now: f64,
        refresh_time: f64,
        rng: &mut dyn CryptoRngCore,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        if out.len() < COOKIE_REPLY_LEN {
            return Err(Reason::BufferTooSmall);
        }
        let (m1, m2) = mac_offsets(msg.len());
        let out = &mut out[..COOKIE_REPLY_LEN];
        out[0..4].copy_from_slice(&TYPE_COOKIE_REPLY.to_le_bytes());
        out[4..8].copy_from_slice(&msg[4..8]); // the message's sender index
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut nonce);
        out[8..32].copy_from_slice(&nonce);
        let mut tau = self.cookie(src, now, refresh_time, rng);
        out[32..48].copy_from_slice(&tau);
        tau.zeroize();
        let tag = xseal(&identity.cookie_key, &nonce, &msg[m1..m2], &mut out[32..48]);
        out[48..64].copy_from_slice(&tag);
        Ok(COOKIE_REPLY_LEN)
    }
}

/// Initiator-side cookie state (one per peer).
#[derive(Default)]
pub struct CookieState {
    cookie: Option<[u8; 16]>,
    received_at: f64,
    last_mac1: Option<[u8; 16]>,
}

impl Drop for CookieState {
    fn drop(&mut self) {
        self.cookie.zeroize();
    }
}

impl CookieState {
    /// Fill mac1 (and mac2 if we hold a fresh cookie) of handshake message `msg`
    /// addressed to `remote`.
    pub fn add_macs(&mut self, remote: &Remote, msg: &mut [u8], now: f64, max_age: f64) {
        let (m1, m2) = mac_offsets(msg.len());
        let mac1 = mac(&remote.mac1_key, &msg[..m1]);
        msg[m1..m2].copy_from_slice(&mac1);
        self.last_mac1 = Some(mac1);
        match self.cookie {
            Some(c) if now - self.received_at < max_age && now >= self.received_at => {
                let mac2 = mac(&c, &msg[..m2]);
                msg[m2..].copy_from_slice(&mac2);
            }
            _ => msg[m2..].fill(0),
        }
    }

    /// Consume a cookie reply from `remote` (length and type checked by the caller).
    pub fn consume_reply(&mut self, remote: &Remote, msg: &[u8], now: f64) -> Result<(), Reason> {
        if msg.len() != COOKIE_REPLY_LEN {
            return Err(Reason::Truncated);
        }
        let Some(aad) = self.last_mac1 else {
            return Err(Reason::UnexpectedCookie);
        };
        let mut nonce = [0u8; 24];
        nonce.copy_from_slice(&msg[8..32]);
        let mut c = [0u8; 16];
        c.copy_from_slice(&msg[32..48]);
        xopen(&remote.cookie_key, &nonce, &aad, &mut c, &msg[48..64])?;
        self.cookie = Some(c);
        self.received_at = now;
        self.last_mac1 = None;
        Ok(())
    }

    /// Whether a cookie is held (for tests and diagnostics).
    pub fn has_cookie(&self) -> bool {
        self.cookie.is_some()
    }
}
