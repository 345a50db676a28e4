//! The two handshake messages of Noise_IKpsk2 as WireGuard frames them.
//!
//! Initiation (148 bytes): type=1 u32 LE | sender u32 LE | ephemeral 32 |
//! static 32+16 | timestamp 12+16 | mac1 16 | mac2 16.
//! Response (92 bytes): type=2 | sender | receiver | ephemeral 32 | empty 0+16 | mac1 | mac2.
//!
//! These functions do the Noise part only; mac1/mac2 are added and checked by
//! [`super::cookie`].

use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use super::kdf::{hash, initial_chaining_key, initial_hash, kdf1, kdf2, kdf3, open, seal};
use super::keys::{dh, Identity, Remote};
use super::wire::*;
use super::{Reason, Tai64N};

/// Initiator-side state kept between sending the initiation and reading the response.
pub struct InitiatorState {
    pub(crate) local_index: u32,
    pub(crate) ephemeral: StaticSecret,
    pub(crate) hash: [u8; 32],
    pub(crate) ck: [u8; 32],
    pub(crate) sent_at: f64,
}

impl Drop for InitiatorState {
    fn drop(&mut self) {
        self.ephemeral.zeroize();
        self.hash.zeroize();
        self.ck.zeroize();
    }
}

impl InitiatorState {
    /// Sender index of the initiation (the receiver index of the expected response).
    pub fn local_index(&self) -> u32 {
        self.local_index
    }
}

/// Transport keys produced by a completed handshake.
pub struct SessionKeys {
    pub(crate) send: [u8; 32],
    pub(crate) recv: [u8; 32],
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        self.send.zeroize();
        self.recv.zeroize();
    }
}

/// Write an initiation (without macs) into `out[..148]`.
pub fn create_initiation(
    identity: &Identity,
    remote: &Remote,
    local_index: u32,
    ephemeral: [u8; 32],
    timestamp: Tai64N,
    out: &mut [u8],
) -> Result<InitiatorState, Reason> {
    if out.len() < INITIATION_LEN {
        return Err(Reason::BufferTooSmall);
    }
    let out = &mut out[..INITIATION_LEN];
    out.fill(0);
    out[0..4].copy_from_slice(&TYPE_INITIATION.to_le_bytes());
    out[4..8].copy_from_slice(&local_index.to_le_bytes());

    let mut ck = initial_chaining_key();
    let mut h = initial_hash();
    h = hash(&[&h, &remote.public]);

    let e = StaticSecret::from(ephemeral);
    let e_pub = PublicKey::from(&e).to_bytes();
    ck = kdf1(&ck, &e_pub);
    out[8..40].copy_from_slice(&e_pub);
    h = hash(&[&h, &e_pub]);

    let mut es = dh(&e, &remote.public)?;
    let (ck2, mut k) = kdf2(&ck, &es);
    es.zeroize();
    ck = ck2;
    out[40..72].copy_from_slice(&identity.public);
    let tag = seal(&k, 0, &h, &mut out[40..72]);
    out[72..88].copy_from_slice(&tag);
    h = hash(&[&h, &out[40..88]]);

    let (ck3, k2) = kdf2(&ck, &remote.ss);
    k.zeroize();
    k = k2;
    ck = ck3;
    out[88..100].copy_from_slice(timestamp.as_bytes());
    let tag = seal(&k, 0, &h, &mut out[88..100]);
    out[100..116].copy_from_slice(&tag);
    h = hash(&[&h, &out[88..116]]);
    k.zeroize();

    Ok(InitiatorState {
        local_index,
        ephemeral: e,
        hash: h,
        ck,
        sent_at: 0.0,
    })
}

/// Responder state after decrypting the initiator's static key (first half of consuming
/// an initiation, done before we know which peer sent it).
pub struct InitiationHalf {
    pub(crate) sender_index: u32,
    pub(crate) ephemeral: [u8; 32],
    pub(crate) static_public: [u8; 32],
    pub(crate) hash: [u8; 32],
    pub(crate) ck: [u8; 32],
}

impl Drop for InitiationHalf {
    fn drop(&mut self) {
        self.ephemeral.zeroize();
        self.hash.zeroize();
        self.ck.zeroize();
    }
}

impl InitiationHalf {
    /// The initiator's static public key, for the peer lookup.
    pub fn static_public(&self) -> [u8; 32] {
        self.static_public
    }
}

/// Consume an initiation up to (and including) the encrypted static key.
/// The caller has checked length, type and mac1.
pub fn consume_initiation_static(
    identity: &Identity,
    msg: &[u8],
) -> Result<InitiationHalf, Reason> {
    if msg.len() != INITIATION_LEN {
        return Err(Reason::Truncated);
    }
    let sender_index = le32(msg, 4);
    let mut ck = initial_chaining_key();
    let mut h = initial_hash();
    h = hash(&[&h, &identity.public]);

    let mut e_i = [0u8; 32];
    e_i.copy_from_slice(&msg[8..40]);
    ck = kdf1(&ck, &e_i);
    h = hash(&[&h, &e_i]);

    let mut es = dh(&identity.secret, &e_i)?;
    let (ck2, mut k) = kdf2(&ck, &es);
    es.zeroize();
    ck = ck2;
    let mut s_i = [0u8; 32];
    s_i.copy_from_slice(&msg[40..72]);
    let r = open(&k, 0, &h, &mut s_i, &msg[72..88]);
    k.zeroize();
    r?;
    h = hash(&[&h, &msg[40..88]]);
    Ok(InitiationHalf {
        sender_index,
        ephemeral: e_i,
        static_public: s_i,
        hash: h,
        ck,
    })
}

/// Second half: decrypt the timestamp with the peer's precomputed static-static DH.
pub fn consume_initiation_timestamp(
    half: &mut InitiationHalf,
    remote: &Remote,
    msg: &[u8],
) -> Result<Tai64N, Reason> {
    if msg.len() != INITIATION_LEN {
        return Err(Reason::Truncated);
    }
    let (ck, mut k) = kdf2(&half.ck, &remote.ss);
    let mut ts = [0u8; 12];
    ts.copy_from_slice(&msg[88..100]);
    let r = open(&k, 0, &half.hash, &mut ts, &msg[100..116]);
    k.zeroize();
    r?;
    half.ck = ck;
    half.hash = hash(&[&half.hash, &msg[88..116]]);
    Ok(Tai64N(ts))
}

/// Write a response (without macs) into `out[..92]` and derive the responder's keys.
pub fn create_response(
    half: &InitiationHalf,
    remote: &Remote,
    local_index: u32,
    ephemeral: [u8; 32],
    out: &mut [u8],
) -> Result<SessionKeys, Reason> {
    if out.len() < RESPONSE_LEN {
        return Err(Reason::BufferTooSmall);
    }
    let out = &mut out[..RESPONSE_LEN];
    out.fill(0);
    out[0..4].copy_from_slice(&TYPE_RESPONSE.to_le_bytes());
    out[4..8].copy_from_slice(&local_index.to_le_bytes());
    out[8..12].copy_from_slice(&half.sender_index.to_le_bytes());

    let mut ck = half.ck;
    let mut h = half.hash;
    let e = StaticSecret::from(ephemeral);
    let e_pub = PublicKey::from(&e).to_bytes();
    ck = kdf1(&ck, &e_pub);
    out[12..44].copy_from_slice(&e_pub);
    h = hash(&[&h, &e_pub]);

    let mut ee = dh(&e, &half.ephemeral)?;
    ck = kdf1(&ck, &ee);
    ee.zeroize();
    let mut se = dh(&e, &half.static_public)?;
    ck = kdf1(&ck, &se);
    se.zeroize();

    let (ck2, mut t, mut k) = kdf3(&ck, &remote.psk);
    ck = ck2;
    h = hash(&[&h, &t]);
    t.zeroize();
    let tag = seal(&k, 0, &h, &mut []);
    k.zeroize();
    out[44..60].copy_from_slice(&tag);
    h.zeroize();

    let (recv, send) = kdf2(&ck, &[]);
    ck.zeroize();
    Ok(SessionKeys { send, recv })
}

/// Consume a response to our initiation `state` (caller checked length, type, mac1 and
/// that the receiver index matches). Returns the responder's sender index and the keys.
pub fn consume_response(
    state: &InitiatorState,
    identity: &Identity,
    remote: &Remote,
    msg: &[u8],
) -> Result<(u32, SessionKeys), Reason> {
    if msg.len() != RESPONSE_LEN {
        return Err(Reason::Truncated);
    }
    let sender = le32(msg, 4);
    let mut ck = state.ck;
    let mut h = state.hash;
    let mut e_r = [0u8; 32];
    e_r.copy_from_slice(&msg[12..44]);
    ck = kdf1(&ck, &e_r);
    h = hash(&[&h, &e_r]);

    let mut ee = dh(&state.ephemeral, &e_r)?;
    ck = kdf1(&ck, &ee);
    ee.zeroize();
    let mut se = dh(&identity.secret, &e_r)?;
    ck = kdf1(&ck, &se);
    se.zeroize();

    let (ck2, mut t, mut k) = kdf3(&ck, &remote.psk);
    ck = ck2;
    h = hash(&[&h, &t]);
    t.zeroize();
    let r = open(&k, 0, &h, &mut [], &msg[44..60]);
    k.zeroize();
    h.zeroize();
    r?;
    let (send, recv) = kdf2(&ck, &[]);
    ck.zeroize();
    Ok((sender, SessionKeys { send, recv }))
}
