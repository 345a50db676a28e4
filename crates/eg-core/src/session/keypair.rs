//! One set of transport keys with its counters. Keys are zeroed when the keypair is
//! dropped (or explicitly by [`Keypair::zeroize_keys`]).

use zeroize::Zeroize;

use super::replay::ReplayWindow;
use crate::noise::handshake::SessionKeys;
use crate::noise::kdf;
use crate::noise::wire::*;
use crate::noise::Reason;

/// Transport keypair.
pub struct Keypair {
    send_key: [u8; 32],
    recv_key: [u8; 32],
    pub(crate) send_counter: u64,
    pub(crate) replay: ReplayWindow,
    pub(crate) local_index: u32,
    pub(crate) remote_index: u32,
    pub(crate) created: f64,
    pub(crate) initiator: bool,
}

impl Drop for Keypair {
    fn drop(&mut self) {
        self.zeroize_keys();
    }
}

impl Keypair {
    pub(crate) fn new(
        keys: &SessionKeys,
        local_index: u32,
        remote_index: u32,
        created: f64,
        initiator: bool,
    ) -> Keypair {
        Keypair {
            send_key: keys.send,
            recv_key: keys.recv,
            send_counter: 0,
            replay: ReplayWindow::new(),
            local_index,
            remote_index,
            created,
            initiator,
        }
    }

    /// Overwrite both keys with zeros.
    pub fn zeroize_keys(&mut self) {
        self.send_key.zeroize();
        self.recv_key.zeroize();
    }

    /// Whether both keys are all zero (i.e. erased).
    pub fn keys_are_zero(&self) -> bool {
        self.send_key
            .iter()
            .chain(self.recv_key.iter())
            .all(|&b| b == 0)
    }

    /// Our receiver index for this keypair.
    pub fn local_index(&self) -> u32 {
        self.local_index
    }

    /// The peer's receiver index for this keypair.
    pub fn remote_index(&self) -> u32 {
        self.remote_index
    }

    /// Next send counter.
    pub fn send_counter(&self) -> u64 {
        self.send_counter
    }

    /// Monotonic creation time.
    pub fn created(&self) -> f64 {
        self.created
    }

    /// Whether we initiated the handshake that made it.
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// Seal the plaintext at `msg[16..16+plen]` in place into a complete transport message
    /// (header written to `msg[..16]`, zero padding to 16, tag appended). Returns its length.
    pub(crate) fn seal_in_place(
        &mut self,
        msg: &mut [u8],
        plen: usize,
        reject_after_messages: u64,
    ) -> Result<usize, Reason> {
        let (total, w) = self.seal_header(msg, plen, reject_after_messages)?;
        let padded = w.len;
        let tag = kdf::seal(&w.key, w.counter, &[], &mut msg[16..16 + padded]);
        msg[16 + padded..total].copy_from_slice(&tag);
        Ok(total)
    }

    /// Everything of [`Keypair::seal_in_place`] but the AEAD: the send counter is taken (so the
    /// order of counters is the order of these calls), the header written and the plaintext
    /// padded. Returns the message length and the AEAD still to do, for [`crate::session::aead`]
    /// (worker threads; docs/architecture.md §Worker threads).
    pub(crate) fn seal_header(
        &mut self,
        msg: &mut [u8],
        plen: usize,
        reject_after_messages: u64,
    ) -> Result<(usize, AeadWork), Reason> {
        let padded = padded_len(plen);
        let total = TRANSPORT_HEADER_LEN + padded + TAG_LEN;
        if msg.len() < total {
            return Err(Reason::BufferTooSmall);
        }
        let counter = self.send_counter;
        if counter >= reject_after_messages {
            return Err(Reason::KeyExpired);
        }
        self.send_counter += 1;
        msg[0..4].copy_from_slice(&TYPE_TRANSPORT.to_le_bytes());
        msg[4..8].copy_from_slice(&self.remote_index.to_le_bytes());
        msg[8..16].copy_from_slice(&counter.to_le_bytes());
        msg[16 + plen..16 + padded].fill(0);
        Ok((
            total,
            AeadWork {
                key: self.send_key,
                counter,
                len: padded,
            },
        ))
    }

    /// Open the transport message `msg` in place; the plaintext ends up at
    /// `msg[16..16+n]`. Checks the replay window before and updates it after.
    pub(crate) fn open_in_place(
        &mut self,
        msg: &mut [u8],
        reject_after_messages: u64,
    ) -> Result<usize, Reason> {
        let w = self.open_check(msg, reject_after_messages)?;
        let n = w.len;
        let (body, tag) = msg[16..].split_at_mut(n);
        kdf::open(&w.key, w.counter, &[], body, tag)?;
        self.replay.update(w.counter)?;
        Ok(n)
    }

    /// The checks of [`Keypair::open_in_place`] before the AEAD (length, counter limit, replay
    /// window), changing nothing: returns the AEAD to do. The window is updated by
    /// [`Keypair::open_commit`] once the message authenticated, so a duplicate inside one batch
    /// passes this check twice and fails the second commit.
    pub(crate) fn open_check(
        &self,
        msg: &[u8],
        reject_after_messages: u64,
    ) -> Result<AeadWork, Reason> {
        if msg.len() < TRANSPORT_MIN_LEN {
            return Err(Reason::Truncated);
        }
        let counter = le64(msg, 8);
        if counter >= reject_after_messages {
            return Err(Reason::KeyExpired);
        }
        self.replay.check(counter)?;
        Ok(AeadWork {
            key: self.recv_key,
            counter,
            len: msg.len() - TRANSPORT_MIN_LEN,
        })
    }

    /// Records an authenticated `counter` in the replay window (fails for a replay).
    pub(crate) fn open_commit(&mut self, counter: u64) -> Result<(), Reason> {
        self.replay.update(counter)
    }
}

/// ChaCha20-Poly1305 work taken out of a seal or open: the keypair's key, the message counter
/// (the nonce) and the body length (padded plaintext for a seal, ciphertext for an open; the
/// 16-byte tag follows the body). The key is a copy: it outlives the keypair only as long as the
/// caller keeps the job (one batch).
#[derive(Clone)]
pub struct AeadWork {
    /// ChaCha20-Poly1305 key.
    pub key: [u8; 32],
    /// Transport counter (nonce).
    pub counter: u64,
    /// Body bytes before the tag.
    pub len: usize,
}

impl Drop for AeadWork {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_erased() {
        let keys = SessionKeys {
            send: [1; 32],
            recv: [2; 32],
        };
        let mut kp = Keypair::new(&keys, 1, 2, 0.0, true);
        assert!(!kp.keys_are_zero());
        let mut msg = [0u8; 48];
        assert_eq!(kp.seal_in_place(&mut msg, 0, u64::MAX), Ok(32));
        kp.zeroize_keys();
        assert!(kp.keys_are_zero());
    }
}
