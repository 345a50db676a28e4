//! Per-remote-peer state: handshake in flight, replay state of initiations, cookie,
//! the current/previous/next keypairs and the timer state machine.
//!
//! A `Peer` is driven by [`super::Device`] (or [`super::Tunnel`]), which owns the
//! interface-wide pieces (our identity, the cookie secret, the RNG, the index table)
//! and passes them in as [`Shared`].

use std::collections::HashMap;
use std::ops::Range;

use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use super::keypair::{AeadWork, Keypair};
use super::timers::{Config, TimerState};
use crate::noise::cookie::{CookieChecker, CookieState};
use crate::noise::handshake::{
    consume_initiation_timestamp, consume_response, create_initiation, create_response,
    InitiationHalf, InitiatorState,
};
use crate::noise::wire::*;
use crate::noise::{Identity, Reason, Remote, Tai64N};

/// Index of a peer inside its device.
pub type PeerId = usize;

/// What to do with an incoming datagram after [`super::Device::decapsulate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Consumed (e.g. a cookie reply was stored); nothing to send.
    Nothing,
    /// Send `out[..n]` back to the sender (a handshake response).
    WriteToNetwork(usize),
    /// The message was refused for want of a valid mac2 (`reason` is `NeedCookie` or
    /// `BadMac2`); send the cookie reply in `out[..len]` back to the sender.
    CookieReply {
        /// length of the cookie reply in `out`
        len: usize,
        /// why mac2 was not accepted
        reason: Reason,
    },
    /// Our initiation was answered: the session is up. `out[..n]` is a keepalive that
    /// confirms it to the responder; send it, then flush queued packets.
    SessionReady(usize),
    /// A transport packet: the (padded) plaintext is `out[range]`.
    Data(Range<usize>),
    /// An authenticated keepalive (empty plaintext).
    Keepalive,
    /// Rejected.
    Err(Reason),
}

impl Verdict {
    /// Compact numeric form: 0 Nothing, 1 WriteToNetwork, 2 CookieReply, 3 SessionReady,
    /// 4 Data, 5 Keepalive, 0x80 | reason for Err.
    pub fn code(&self) -> u32 {
        match self {
            Verdict::Nothing => 0,
            Verdict::WriteToNetwork(_) => 1,
            Verdict::CookieReply { .. } => 2,
            Verdict::SessionReady(_) => 3,
            Verdict::Data(_) => 4,
            Verdict::Keepalive => 5,
            Verdict::Err(r) => 0x80 | r.code() as u32,
        }
    }
}

/// Something a timer tick wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this handshake initiation to the peer.
    SendInitiation(Vec<u8>),
    /// Send this keepalive to the peer.
    SendKeepalive(Vec<u8>),
    /// Retries exhausted (REKEY_ATTEMPT_TIME): drop packets queued for this peer.
    HandshakeGaveUp,
    /// All key material of the peer was erased.
    KeysZeroed,
}

/// Traffic counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Transport bytes sent (whole messages).
    pub tx_bytes: u64,
    /// Transport bytes received and authenticated (whole messages).
    pub rx_bytes: u64,
    /// Handshakes completed.
    pub handshakes: u64,
}

/// Interface-wide state a peer needs while processing.
pub(crate) struct Shared {
    pub identity: Identity,
    pub checker: CookieChecker,
    pub rng: Box<dyn CryptoRngCore + Send>,
    /// State of the timer-jitter generator ([`Shared::jitter`]); never zero.
    pub jitter_state: u64,
    pub indices: HashMap<u32, PeerId>,
    pub config: Config,
}

impl Shared {
    pub fn alloc_index(&mut self, peer: PeerId) -> u32 {
        loop {
            let i = self.rng.next_u32();
            if let std::collections::hash_map::Entry::Vacant(e) = self.indices.entry(i) {
                e.insert(peer);
                return i;
            }
        }
    }

    pub fn release(&mut self, index: u32) {
        self.indices.remove(&index);
    }

    pub fn random32(&mut self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.rng.fill_bytes(&mut b);
        b
    }

    /// A rekey-timer jitter in [0, `rekey_timeout_jitter`] seconds (whitepaper §6.1's
    /// "jitter"). It only spreads handshake retries of many peers apart, so it needs no secrecy:
    /// it comes from a xorshift64* generator seeded once from the CSPRNG, not from the CSPRNG
    /// itself, which in the WASM build is a call out to WebCrypto (`getRandomValues`) and cost
    /// a lone data packet about a quarter of its processing (every request sent after an answer
    /// re-arms the new-handshake timer; docs/benchmarks.md, idle ping).
    pub fn jitter(&mut self) -> f64 {
        if self.jitter_state == 0 {
            // Lazily seeded: a Device built with a fixed-sequence RNG keeps that sequence for
            // keys and indices until the first timer needs a jitter.
            self.jitter_state = self.rng.next_u64() | 1;
        }
        let mut x = self.jitter_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.jitter_state = x;
        let r = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32;
        r as f64 / u32::MAX as f64 * self.config.rekey_timeout_jitter
    }

    fn drop_kp(&mut self, kp: Option<Box<Keypair>>) {
        if let Some(kp) = kp {
            self.release(kp.local_index);
        }
    }
}

/// One remote peer.
pub struct Peer {
    pub(crate) remote: Remote,
    pub(crate) persistent_keepalive: f64,
    pub(crate) pending: Option<InitiatorState>,
    last_timestamp: Option<Tai64N>,
    /// The TAI64N timestamp of our last initiation to this peer: the next one is always later.
    last_sent_timestamp: Option<Tai64N>,
    last_init_consumed: Option<f64>,
    pub(crate) cookie: CookieState,
    pub(crate) current: Option<Box<Keypair>>,
    pub(crate) previous: Option<Box<Keypair>>,
    pub(crate) next: Option<Box<Keypair>>,
    pub(crate) timers: TimerState,
    pub(crate) last_handshake: Option<f64>,
    pub(crate) stats: PeerStats,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Current,
    Previous,
    Next,
}

impl Peer {
    /// A peer with the given persistent keepalive interval (seconds, 0 = off); a nonzero
    /// interval makes the first keepalive due at once (see `set_persistent_keepalive`).
    pub(crate) fn new(remote: Remote, persistent_keepalive: f64) -> Peer {
        let mut p = Peer {
            remote,
            persistent_keepalive: 0.0,
            pending: None,
            last_timestamp: None,
            last_sent_timestamp: None,
            last_init_consumed: None,
            cookie: CookieState::default(),
            current: None,
            previous: None,
            next: None,
            timers: TimerState::default(),
            last_handshake: None,
            stats: PeerStats::default(),
        };
        p.set_persistent_keepalive(persistent_keepalive);
        p
    }

    // ----- read-only accessors -----

    /// The peer's static public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.remote.public
    }
    /// Whether a usable current keypair exists at `now`.
    pub fn has_session(&self, now: f64, config: &Config) -> bool {
        matches!(&self.current, Some(kp) if now - kp.created < config.reject_after_time
            && kp.send_counter < config.reject_after_messages)
    }
    /// Current keypair (used for sending).
    pub fn current(&self) -> Option<&Keypair> {
        self.current.as_deref()
    }
    /// Previous keypair (receive only).
    pub fn previous(&self) -> Option<&Keypair> {
        self.previous.as_deref()
    }
    /// Next keypair (responder side, awaiting confirmation).
    pub fn next(&self) -> Option<&Keypair> {
        self.next.as_deref()
    }
    /// Number of keypairs held.
    pub fn keypair_count(&self) -> usize {
        [&self.current, &self.previous, &self.next]
            .iter()
            .filter(|k| k.is_some())
            .count()
    }
    /// Sender index of our initiation in flight.
    pub fn pending_index(&self) -> Option<u32> {
        self.pending.as_ref().map(|p| p.local_index)
    }
    /// Timer state (deadlines).
    pub fn timers(&self) -> &TimerState {
        &self.timers
    }
    /// Monotonic time of the last completed handshake.
    pub fn last_handshake(&self) -> Option<f64> {
        self.last_handshake
    }
    /// Traffic counters.
    pub fn stats(&self) -> PeerStats {
        self.stats
    }
    /// Cookie state (initiator side).
    pub fn cookie_state(&self) -> &CookieState {
        &self.cookie
    }
    /// Persistent keepalive interval in seconds (0 = off).
    pub fn persistent_keepalive(&self) -> f64 {
        self.persistent_keepalive
    }
    /// Last initiation timestamp accepted from this peer.
    pub fn last_timestamp(&self) -> Option<Tai64N> {
        self.last_timestamp
    }

    // ----- handshake -----

    pub(crate) fn initiate(
        &mut self,
        sh: &mut Shared,
        id: PeerId,
        now: f64,
        wall: Tai64N,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        if out.len() < INITIATION_LEN {
            return Err(Reason::BufferTooSmall);
        }
        if let Some(p) = self.pending.take() {
            sh.release(p.local_index);
        }
        // The responder accepts an initiation only with a timestamp later than the last one it
        // accepted from us (replay protection, whitepaper §5.1). A wall clock stepped back (by
        // an admin, NTP, a VM restore) would otherwise get every initiation refused as stale
        // until real time caught up with the step, up to hours without a new session; so the
        // timestamps we send never go down: one whitened step (2^24 ns) after the last one.
        let wall = match self.last_sent_timestamp {
            Some(last) if wall.as_bytes() <= last.as_bytes() => last.next_after(),
            _ => wall,
        };
        self.last_sent_timestamp = Some(wall);
        let idx = sh.alloc_index(id);
        let mut e = sh.random32();
        let r = create_initiation(&sh.identity, &self.remote, idx, e, wall, out);
        e.zeroize();
        let mut st = match r {
            Ok(st) => st,
            Err(err) => {
                sh.release(idx);
                return Err(err);
            }
        };
        st.sent_at = now;
        self.pending = Some(st);
        let max_age = sh.config.cookie_refresh_time - sh.config.rekey_timeout;
        self.cookie
            .add_macs(&self.remote, &mut out[..INITIATION_LEN], now, max_age);
        self.on_handshake_initiated(sh, now);
        Ok(INITIATION_LEN)
    }

    pub(crate) fn consume_initiation(
        &mut self,
        sh: &mut Shared,
        id: PeerId,
        mut half: InitiationHalf,
        msg: &[u8],
        now: f64,
        out: &mut [u8],
    ) -> Verdict {
        if out.len() < RESPONSE_LEN {
            return Verdict::Err(Reason::BufferTooSmall);
        }
        let ts = match consume_initiation_timestamp(&mut half, &self.remote, msg) {
            Ok(ts) => ts,
            Err(r) => return Verdict::Err(r),
        };
        if matches!(self.last_timestamp, Some(last) if ts <= last) {
            return Verdict::Err(Reason::StaleTimestamp);
        }
        if matches!(self.last_init_consumed, Some(t) if now < t + sh.config.handshake_initiation_rate)
        {
            return Verdict::Err(Reason::Flood);
        }
        let idx = sh.alloc_index(id);
        let mut e = sh.random32();
        let keys = create_response(&half, &self.remote, idx, e, out);
        e.zeroize();
        let keys = match keys {
            Ok(k) => k,
            Err(r) => {
                sh.release(idx);
                return Verdict::Err(r);
            }
        };
        self.last_timestamp = Some(ts);
        self.last_init_consumed = Some(now);
        let kp = Box::new(Keypair::new(&keys, idx, half.sender_index, now, false));
        // Responder: the new keypair waits in `next` until the initiator uses it.
        let old_next = self.next.replace(kp);
        sh.drop_kp(old_next);
        let old_prev = self.previous.take();
        sh.drop_kp(old_prev);
        let max_age = sh.config.cookie_refresh_time - sh.config.rekey_timeout;
        self.cookie
            .add_macs(&self.remote, &mut out[..RESPONSE_LEN], now, max_age);
        self.on_authenticated_received(now);
        self.on_session_derived(now, &sh.config);
        self.on_response_sent(now);
        Verdict::WriteToNetwork(RESPONSE_LEN)
    }

    pub(crate) fn consume_response(
        &mut self,
        sh: &mut Shared,
        msg: &[u8],
        now: f64,
        out: &mut [u8],
    ) -> Verdict {
        if out.len() < TRANSPORT_MIN_LEN {
            return Verdict::Err(Reason::BufferTooSmall);
        }
        let receiver = le32(msg, 8);
        let Some(state) = self.pending.as_ref().filter(|p| p.local_index == receiver) else {
            return Verdict::Err(Reason::UnknownIndex);
        };
        let (sender, keys) = match consume_response(state, &sh.identity, &self.remote, msg) {
            Ok(v) => v,
            Err(r) => return Verdict::Err(r),
        };
        self.pending = None; // its index lives on in the keypair
        let kp = Box::new(Keypair::new(&keys, receiver, sender, now, true));
        if self.next.is_some() {
            let old_prev = std::mem::replace(&mut self.previous, self.next.take());
            sh.drop_kp(old_prev);
            let old_cur = self.current.take();
            sh.drop_kp(old_cur);
        } else {
            let old_prev = std::mem::replace(&mut self.previous, self.current.take());
            sh.drop_kp(old_prev);
        }
        self.current = Some(kp);
        self.on_authenticated_received(now);
        self.on_session_derived(now, &sh.config);
        self.on_handshake_complete(now);
        // The initiator confirms the keypair at once (wireguard-go: SendKeepalive).
        match self.seal_transport(sh, out, 0, now) {
            Ok(n) => Verdict::SessionReady(n),
            Err(r) => Verdict::Err(r),
        }
    }

    pub(crate) fn consume_cookie(&mut self, msg: &[u8], now: f64) -> Verdict {
        match self.cookie.consume_reply(&self.remote, msg, now) {
            Ok(()) => Verdict::Nothing,
            Err(r) => Verdict::Err(r),
        }
    }

    // ----- transport -----

    /// Seal `msg[16..16+plen]` in place with the current keypair.
    pub(crate) fn seal_transport(
        &mut self,
        sh: &mut Shared,
        msg: &mut [u8],
        plen: usize,
        now: f64,
    ) -> Result<usize, Reason> {
        self.seal_with(sh, plen, now, |kp, ram| {
            kp.seal_in_place(msg, plen, ram).map(|n| (n, ()))
        })
        .map(|(n, ())| n)
    }

    /// [`Peer::seal_transport`] without the AEAD: counter taken, header written, timers and
    /// stats as for a sealed message; the caller must run the returned work before the message
    /// leaves (crate::session::aead).
    pub(crate) fn seal_transport_deferred(
        &mut self,
        sh: &mut Shared,
        msg: &mut [u8],
        plen: usize,
        now: f64,
    ) -> Result<(usize, AeadWork), Reason> {
        self.seal_with(sh, plen, now, |kp, ram| kp.seal_header(msg, plen, ram))
    }

    fn seal_with<T>(
        &mut self,
        sh: &mut Shared,
        plen: usize,
        now: f64,
        f: impl FnOnce(&mut Keypair, u64) -> Result<(usize, T), Reason>,
    ) -> Result<(usize, T), Reason> {
        // Before the session check: an unsendable plaintext must neither be queued for a
        // handshake nor start one.
        if plen > MAX_PLAINTEXT_LEN {
            return Err(Reason::FrameTooLarge);
        }
        let usable = self.has_session(now, &sh.config);
        let Some(kp) = self.current.as_deref_mut().filter(|_| usable) else {
            // wireguard-go: a staged packet (or keepalive) without a keypair initiates.
            self.request_handshake();
            return Err(Reason::NoSession);
        };
        let (n, t) = f(kp, sh.config.reject_after_messages)?;
        self.stats.tx_bytes += n as u64;
        self.on_authenticated_sent(now);
        if plen > 0 {
            self.on_data_sent(sh, now);
        }
        self.keep_key_fresh_sending(now, &sh.config);
        Ok((n, t))
    }

    fn slot_of(&self, receiver: u32) -> Option<Slot> {
        let is = |k: &Option<Box<Keypair>>| k.as_ref().is_some_and(|k| k.local_index == receiver);
        if is(&self.current) {
            Some(Slot::Current)
        } else if is(&self.previous) {
            Some(Slot::Previous)
        } else if is(&self.next) {
            Some(Slot::Next)
        } else {
            None
        }
    }

    fn keypair(&self, slot: Slot) -> Option<&Keypair> {
        match slot {
            Slot::Current => self.current.as_deref(),
            Slot::Previous => self.previous.as_deref(),
            Slot::Next => self.next.as_deref(),
        }
    }

    /// The keypair `msg` names (its receiver index) if it may still receive at `now`.
    fn open_slot(&self, sh: &Shared, msg: &[u8], now: f64) -> Result<Slot, Reason> {
        if msg.len() < TRANSPORT_MIN_LEN {
            return Err(Reason::Truncated);
        }
        let slot = self.slot_of(le32(msg, 4)).ok_or(Reason::UnknownIndex)?;
        let kp = self.keypair(slot).ok_or(Reason::UnknownIndex)?;
        if now - kp.created >= sh.config.reject_after_time {
            return Err(Reason::KeyExpired);
        }
        Ok(slot)
    }

    /// Open the transport message `msg` in place; plaintext at `msg[16..16+n]`.
    pub(crate) fn open_transport(
        &mut self,
        sh: &mut Shared,
        msg: &mut [u8],
        now: f64,
    ) -> Result<usize, Reason> {
        let slot = self.open_slot(sh, msg, now)?;
        let ram = sh.config.reject_after_messages;
        let kp = match slot {
            Slot::Current => self.current.as_deref_mut(),
            Slot::Previous => self.previous.as_deref_mut(),
            Slot::Next => self.next.as_deref_mut(),
        }
        .ok_or(Reason::UnknownIndex)?;
        let n = kp.open_in_place(msg, ram)?;
        self.opened(sh, slot, msg.len(), n, now);
        Ok(n)
    }

    /// The checks of [`Peer::open_transport`] before the AEAD, changing nothing; returns the
    /// AEAD to run. [`Peer::open_transport_commit`] finishes the message once it authenticated.
    pub(crate) fn open_transport_prepare(
        &self,
        sh: &Shared,
        msg: &[u8],
        now: f64,
    ) -> Result<AeadWork, Reason> {
        let slot = self.open_slot(sh, msg, now)?;
        self.keypair(slot)
            .ok_or(Reason::UnknownIndex)?
            .open_check(msg, sh.config.reject_after_messages)
    }

    /// The rest of [`Peer::open_transport`] for a message `msg` (header intact, `msg.len()` its
    /// datagram length) whose AEAD passed: the replay window takes its counter (a duplicate
    /// fails here), then keypair rotation, stats and timers as for a message opened at once.
    /// Returns the plaintext length.
    pub(crate) fn open_transport_commit(
        &mut self,
        sh: &mut Shared,
        msg: &[u8],
        now: f64,
    ) -> Result<usize, Reason> {
        let slot = self.open_slot(sh, msg, now)?;
        let kp = match slot {
            Slot::Current => self.current.as_deref_mut(),
            Slot::Previous => self.previous.as_deref_mut(),
            Slot::Next => self.next.as_deref_mut(),
        }
        .ok_or(Reason::UnknownIndex)?;
        kp.open_commit(le64(msg, 8))?;
        let n = msg.len() - TRANSPORT_MIN_LEN;
        self.opened(sh, slot, msg.len(), n, now);
        Ok(n)
    }

    /// Bookkeeping after a transport message of `len` bytes (`n` plaintext) authenticated.
    fn opened(&mut self, sh: &mut Shared, slot: Slot, len: usize, n: usize, now: f64) {
        let cfg = sh.config.clone();
        self.stats.rx_bytes += len as u64;
        if slot == Slot::Next {
            // The initiator confirmed the keypair: rotate it in.
            let old_prev = std::mem::replace(&mut self.previous, self.current.take());
            sh.drop_kp(old_prev);
            self.current = self.next.take();
            if let Some(p) = self.pending.take() {
                sh.release(p.local_index);
            }
            self.on_handshake_complete(now);
        }
        self.keep_key_fresh_receiving(now, &cfg);
        self.on_authenticated_received(now);
        if n > 0 {
            self.on_data_received(now, &cfg);
        }
    }

    /// Copy `plaintext` behind a transport header in `out` and seal it.
    pub(crate) fn encapsulate(
        &mut self,
        sh: &mut Shared,
        plaintext: &[u8],
        now: f64,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        if plaintext.len() > MAX_PLAINTEXT_LEN {
            return Err(Reason::FrameTooLarge);
        }
        if out.len() < transport_len(plaintext.len()) {
            return Err(Reason::BufferTooSmall);
        }
        out[TRANSPORT_HEADER_LEN..TRANSPORT_HEADER_LEN + plaintext.len()]
            .copy_from_slice(plaintext);
        self.seal_transport(sh, out, plaintext.len(), now)
    }

    // ----- key erasure (the timers themselves are in timers.rs) -----

    /// Erase keypairs past REJECT_AFTER_TIME: they can neither seal nor open any more.
    pub(crate) fn drop_expired_keypairs(&mut self, sh: &mut Shared, now: f64) {
        let reject = sh.config.reject_after_time;
        for slot in [&mut self.current, &mut self.previous, &mut self.next] {
            if slot.as_ref().is_some_and(|k| now - k.created >= reject) {
                sh.drop_kp(slot.take());
            }
        }
    }

    /// Erase every keypair and the initiation in flight, freeing their indices.
    pub(crate) fn zero_all(&mut self, sh: &mut Shared) {
        for kp in [self.current.take(), self.previous.take(), self.next.take()] {
            sh.drop_kp(kp);
        }
        if let Some(p) = self.pending.take() {
            sh.release(p.local_index);
        }
    }

    pub(crate) fn release_all(&mut self, sh: &mut Shared) {
        self.zero_all(sh);
    }
}
