//! The interface level: our identity, the cookie secret, the RNG and the receiver-index
//! table, with any number of peers. Incoming initiations are decrypted far enough to
//! learn the initiator's static key, which selects the peer. [`Tunnel`] is the same thing
//! fixed to a single peer.
//!
//! Batch transport ([`Device::seal_batch`], [`Device::open_batch`]) works in place on one
//! contiguous buffer of fixed-stride slots; see [`batch`] for the layout.

use std::collections::HashMap;

use rand_core::CryptoRngCore;

use super::keypair::AeadWork;
use super::peer::{Action, Peer, PeerId, Shared, Verdict};
use super::ratelimit::{HandshakeLimiter, LoadStats};
use super::timers::{min_opt, Config};
use crate::noise::cookie::CookieChecker;
use crate::noise::handshake::consume_initiation_static;
use crate::noise::wire::*;
use crate::noise::{Identity, Reason, Remote, Tai64N};

/// Slot layout of the batch API.
///
/// ```text
/// slot i = buf[i*stride .. (i+1)*stride]
///   +0   u32 LE  len / status
///   +4   u32 LE  peer id
///   +8   8 bytes reserved (ignored)
///   +16  transport message: 16-byte header (type, receiver, counter) ...
///   +32  ... plaintext / ciphertext, padding, 16-byte tag
/// ```
///
/// * seal input: `len` = plaintext length, plaintext at +32, `peer` = destination
///   (ignored by [`Tunnel`]). Output: `len` = transport message length, message at +16.
///   Needs `32 + pad16(len) + 16 <= stride`.
/// * open input: `len` = datagram length, datagram at +16. Output: `len` = padded
///   plaintext length (0 for a keepalive), plaintext at +32, `peer` = sender.
/// * on failure `len` = [`STATUS_ERROR`] | reason code and the slot is otherwise unspecified.
pub mod batch {
    /// Offset of the u32 length/status word.
    pub const LEN_OFFSET: usize = 0;
    /// Offset of the u32 peer id.
    pub const PEER_OFFSET: usize = 4;
    /// Offset of the transport message.
    pub const MSG_OFFSET: usize = 16;
    /// Offset of the plaintext.
    pub const PLAINTEXT_OFFSET: usize = 32;
    /// Smallest usable stride (room for a keepalive).
    pub const MIN_STRIDE: usize = 48;
    /// Bit set in the status word when the slot failed; the low byte is the reason.
    pub const STATUS_ERROR: u32 = 0x8000_0000;
    /// Peer id written by open when the sender is unknown.
    pub const NO_PEER: u32 = u32::MAX;

    /// Largest plaintext that fits a slot of `stride` bytes.
    pub const fn plaintext_capacity(stride: usize) -> usize {
        if stride < MIN_STRIDE {
            0
        } else {
            (stride - MIN_STRIDE) & !15
        }
    }
}

/// Outcome of a batch call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Slots processed successfully.
    pub ok: usize,
    /// Slots that failed (their status word holds the reason).
    pub failed: usize,
}

fn put32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn check_batch(buf: &[u8], stride: usize, count: usize) -> Result<(), Reason> {
    if stride < batch::MIN_STRIDE || stride > u32::MAX as usize {
        return Err(Reason::BufferTooSmall);
    }
    match stride.checked_mul(count) {
        Some(n) if n <= buf.len() => Ok(()),
        _ => Err(Reason::BufferTooSmall),
    }
}

/// A WireGuard interface with many peers.
pub struct Device {
    sh: Shared,
    peers: Vec<Option<Peer>>,
    by_key: HashMap<[u8; 32], PeerId>,
    limiter: HandshakeLimiter,
}

impl Device {
    /// A device with private key `private_key`, timing `config`, and the RNG used for
    /// ephemeral keys, receiver indices, jitter, cookie secrets and nonces.
    pub fn new(
        private_key: [u8; 32],
        config: Config,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Device {
        Device {
            sh: Shared {
                identity: Identity::new(private_key),
                checker: CookieChecker::new(),
                rng,
                jitter_state: 0,
                indices: HashMap::new(),
                config,
            },
            peers: Vec::new(),
            by_key: HashMap::new(),
            limiter: HandshakeLimiter::new(),
        }
    }

    /// Counters of the under-load defence (session::ratelimit): handshakes counted, how many
    /// arrived under load, cookie replies sent, messages refused per source address.
    pub fn load_stats(&self) -> LoadStats {
        self.limiter.stats()
    }

    /// Whether the device is under load at `now` (more than `Config::handshake_budget`
    /// handshake messages within the last second).
    pub fn is_under_load(&self, now: f64) -> bool {
        self.limiter.is_under_load(now)
    }

    /// Our static public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.sh.identity.public_key()
    }

    /// Timing configuration.
    pub fn config(&self) -> &Config {
        &self.sh.config
    }

    /// Replace the timing configuration.
    pub fn set_config(&mut self, config: Config) {
        self.sh.config = config;
    }

    /// Add a peer. `persistent_keepalive` in seconds, 0 for off; a nonzero interval makes
    /// the first keepalive (so, without a session, a handshake initiation) due at the next
    /// [`Device::tick`]. Errors: `BadPeer` if the key is already a peer, `BadKey` if it is
    /// a low-order point.
    pub fn add_peer(
        &mut self,
        public: [u8; 32],
        psk: Option<[u8; 32]>,
        persistent_keepalive: f64,
    ) -> Result<PeerId, Reason> {
        if self.by_key.contains_key(&public) {
            return Err(Reason::BadPeer);
        }
        let remote = Remote::new(&self.sh.identity, public, psk)?;
        let id = self.peers.len();
        self.peers
            .push(Some(Peer::new(remote, persistent_keepalive.max(0.0))));
        self.by_key.insert(public, id);
        Ok(id)
    }

    /// Remove a peer; its keys are erased and its indices freed. Ids are not reused.
    pub fn remove_peer(&mut self, id: PeerId) -> bool {
        let Some(mut p) = self.peers.get_mut(id).and_then(Option::take) else {
            return false;
        };
        p.release_all(&mut self.sh);
        self.by_key.remove(&p.public_key());
        true
    }

    /// Set a peer's persistent keepalive interval in seconds (0, negative or NaN = off).
    /// Turning it on (0 → n) makes a keepalive due at the next [`Device::tick`] — a
    /// handshake initiation if there is no session — as wireguard-go does for a UAPI
    /// `persistent_keepalive_interval` change; n → m only changes the next interval.
    /// Errors: `BadPeer` for an unknown id.
    pub fn set_persistent_keepalive(&mut self, id: PeerId, secs: f64) -> Result<(), Reason> {
        self.peer_mut(id)?.set_persistent_keepalive(secs);
        Ok(())
    }

    /// A peer.
    pub fn peer(&self, id: PeerId) -> Option<&Peer> {
        self.peers.get(id).and_then(Option::as_ref)
    }

    /// Peer id of a static public key.
    pub fn peer_by_key(&self, public: &[u8; 32]) -> Option<PeerId> {
        self.by_key.get(public).copied()
    }

    /// Ids of all live peers.
    pub fn peer_ids(&self) -> Vec<PeerId> {
        (0..self.peers.len())
            .filter(|&i| self.peers[i].is_some())
            .collect()
    }

    /// Whether the peer has a usable session at `now`.
    pub fn has_session(&self, id: PeerId, now: f64) -> bool {
        self.peer(id)
            .is_some_and(|p| p.has_session(now, &self.sh.config))
    }

    /// Number of receiver indices in use.
    pub fn index_count(&self) -> usize {
        self.sh.indices.len()
    }

    fn peer_mut(&mut self, id: PeerId) -> Result<&mut Peer, Reason> {
        self.peers
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or(Reason::BadPeer)
    }

    /// Write a handshake initiation to `id` into `out` (148 bytes). Not rate limited:
    /// the timers in [`Device::tick`] decide on their own when to initiate.
    pub fn format_initiation(
        &mut self,
        id: PeerId,
        now: f64,
        wall: Tai64N,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        let p = self
            .peers
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or(Reason::BadPeer)?;
        p.initiate(&mut self.sh, id, now, wall, out)
    }

    /// Seal `plaintext` (padded to 16 with zeros) for `id` into `out`; returns the
    /// transport message length. `Err(NoSession)` means: queue the packet, a handshake
    /// has been requested (see [`Device::tick`]).
    pub fn encapsulate(
        &mut self,
        id: PeerId,
        plaintext: &[u8],
        now: f64,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        let p = self
            .peers
            .get_mut(id)
            .and_then(Option::as_mut)
            .ok_or(Reason::BadPeer)?;
        p.encapsulate(&mut self.sh, plaintext, now, out)
    }

    /// Process one incoming datagram. `src` identifies the sender's address (any stable
    /// byte encoding of IP and port; it keys the cookie and the per-address limit),
    /// `under_load` forces the under-load rules on handshake messages; without it the device
    /// decides itself from its handshake budget (session::ratelimit, whitepaper §5.4.7):
    /// under load a handshake message without a valid mac2 gets a cookie reply, one with a
    /// valid mac2 may be refused with `Flood` by its address's bucket. Output (response, cookie reply, keepalive or plaintext) is
    /// written to `out`, which should hold at least `datagram.len()` and 148 bytes.
    /// Returns the peer concerned when known.
    pub fn decapsulate(
        &mut self,
        datagram: &[u8],
        src: &[u8],
        now: f64,
        under_load: bool,
        out: &mut [u8],
    ) -> (Option<PeerId>, Verdict) {
        match self.decapsulate_inner(datagram, src, now, under_load, out) {
            Ok(v) => v,
            Err((p, r)) => (p, Verdict::Err(r)),
        }
    }

    fn lookup(&self, index: u32) -> Option<PeerId> {
        self.sh
            .indices
            .get(&index)
            .copied()
            .filter(|&id| self.peer(id).is_some())
    }

    fn check_handshake(
        &mut self,
        msg: &[u8],
        fixed: usize,
        src: &[u8],
        now: f64,
        under_load: bool,
        out: &mut [u8],
    ) -> Result<Option<Verdict>, Reason> {
        if msg.len() < fixed {
            return Err(Reason::Truncated);
        }
        if msg.len() > fixed {
            return Err(Reason::BadLength);
        }
        if !CookieChecker::check_mac1(&self.sh.identity, msg) {
            return Err(Reason::BadMac1);
        }
        let counted = self.limiter.count(now, self.sh.config.handshake_budget);
        if under_load || counted {
            let refresh = self.sh.config.cookie_refresh_time;
            if let Err(reason) =
                self.sh
                    .checker
                    .check_mac2(msg, src, now, refresh, &mut *self.sh.rng)
            {
                let len = self.sh.checker.make_reply(
                    &self.sh.identity,
                    msg,
                    src,
                    now,
                    refresh,
                    &mut *self.sh.rng,
                    out,
                )?;
                self.limiter.cookie_sent();
                return Ok(Some(Verdict::CookieReply { len, reason }));
            }
            let c = &self.sh.config;
            let (rate, burst) = (c.handshake_source_rate, c.handshake_source_burst);
            if !self.limiter.allow_source(src, now, rate, burst) {
                return Err(Reason::Flood);
            }
        }
        Ok(None)
    }

    #[allow(clippy::type_complexity)]
    fn decapsulate_inner(
        &mut self,
        msg: &[u8],
        src: &[u8],
        now: f64,
        under_load: bool,
        out: &mut [u8],
    ) -> Result<(Option<PeerId>, Verdict), (Option<PeerId>, Reason)> {
        if msg.len() < 4 {
            return Err((None, Reason::Truncated));
        }
        match le32(msg, 0) {
            TYPE_INITIATION => {
                if let Some(v) = self
                    .check_handshake(msg, INITIATION_LEN, src, now, under_load, out)
                    .map_err(|r| (None, r))?
                {
                    return Ok((None, v));
                }
                let half =
                    consume_initiation_static(&self.sh.identity, msg).map_err(|r| (None, r))?;
                let id = self
                    .peer_by_key(&half.static_public())
                    .ok_or((None, Reason::UnknownPeer))?;
                let p = self.peers[id].as_mut().ok_or((None, Reason::UnknownPeer))?;
                Ok((
                    Some(id),
                    p.consume_initiation(&mut self.sh, id, half, msg, now, out),
                ))
            }
            TYPE_RESPONSE => {
                if let Some(v) = self
                    .check_handshake(msg, RESPONSE_LEN, src, now, under_load, out)
                    .map_err(|r| (None, r))?
                {
                    return Ok((None, v));
                }
                let id = self
                    .lookup(le32(msg, 8))
                    .ok_or((None, Reason::UnknownIndex))?;
                let p = self.peers[id]
                    .as_mut()
                    .ok_or((None, Reason::UnknownIndex))?;
                Ok((Some(id), p.consume_response(&mut self.sh, msg, now, out)))
            }
            TYPE_COOKIE_REPLY => {
                if msg.len() < COOKIE_REPLY_LEN {
                    return Err((None, Reason::Truncated));
                }
                if msg.len() > COOKIE_REPLY_LEN {
                    return Err((None, Reason::BadLength));
                }
                let id = self
                    .lookup(le32(msg, 4))
                    .ok_or((None, Reason::UnknownIndex))?;
                let p = self.peers[id]
                    .as_mut()
                    .ok_or((None, Reason::UnknownIndex))?;
                Ok((Some(id), p.consume_cookie(msg, now)))
            }
            TYPE_TRANSPORT => {
                if msg.len() < TRANSPORT_MIN_LEN {
                    return Err((None, Reason::Truncated));
                }
                let id = self
                    .lookup(le32(msg, 4))
                    .ok_or((None, Reason::UnknownIndex))?;
                if out.len() < msg.len() {
                    return Err((Some(id), Reason::BufferTooSmall));
                }
                let p = self.peers[id]
                    .as_mut()
                    .ok_or((None, Reason::UnknownIndex))?;
                let buf = &mut out[..msg.len()];
                buf.copy_from_slice(msg);
                let n = p
                    .open_transport(&mut self.sh, buf, now)
                    .map_err(|r| (Some(id), r))?;
                if n == 0 {
                    Ok((Some(id), Verdict::Keepalive))
                } else {
                    Ok((
                        Some(id),
                        Verdict::Data(TRANSPORT_HEADER_LEN..TRANSPORT_HEADER_LEN + n),
                    ))
                }
            }
            _ => Err((None, Reason::BadType)),
        }
    }

    /// Run all due timers of all peers. Returns what to send (or report) per peer.
    /// `wall` is the current wall-clock time for initiations.
    pub fn tick(&mut self, now: f64, wall: Tai64N) -> Vec<(PeerId, Action)> {
        let mut out = Vec::new();
        for id in 0..self.peers.len() {
            if let Some(p) = self.peers[id].as_mut() {
                out.extend(
                    p.tick(&mut self.sh, id, now, wall)
                        .into_iter()
                        .map(|a| (id, a)),
                );
            }
        }
        out
    }

    /// Earliest time at which [`Device::tick`] has work; a value `<= now` means now.
    pub fn next_deadline(&self) -> Option<f64> {
        self.peers
            .iter()
            .flatten()
            .fold(None, |d, p| min_opt(d, p.next_deadline(&self.sh.config)))
    }

    /// Seal `count` slots of `buf` in place (layout in [`batch`]); each slot names its
    /// destination peer. No allocation.
    pub fn seal_batch(
        &mut self,
        buf: &mut [u8],
        stride: usize,
        count: usize,
        now: f64,
    ) -> Result<BatchStats, Reason> {
        check_batch(buf, stride, count)?;
        let mut st = BatchStats::default();
        for slot in buf.chunks_exact_mut(stride).take(count) {
            let plen = le32(slot, batch::LEN_OFFSET) as usize;
            let id = le32(slot, batch::PEER_OFFSET) as usize;
            let r = if plen > MAX_PLAINTEXT_LEN {
                Err(Reason::FrameTooLarge)
            } else if plen > stride - batch::PLAINTEXT_OFFSET {
                Err(Reason::BufferTooSmall)
            } else {
                match self.peers.get_mut(id).and_then(Option::as_mut) {
                    Some(p) => {
                        p.seal_transport(&mut self.sh, &mut slot[batch::MSG_OFFSET..], plen, now)
                    }
                    None => Err(Reason::BadPeer),
                }
            };
            record_slot(slot, r, &mut st);
        }
        Ok(st)
    }

    /// [`Device::seal_batch`] for one slot, without the AEAD: the peer's counter is taken and
    /// the header written and padded now (so counters follow the order of these calls), the
    /// ChaCha20-Poly1305 is returned to be run by [`super::aead::run_jobs`] before the message
    /// is sent. Returns the transport message length (at `slot[16..]`) and that work.
    pub fn seal_slot_deferred(&mut self, slot: &mut [u8], now: f64) -> Result<(usize, AeadWork), Reason> {
        if slot.len() < batch::MIN_STRIDE {
            return Err(Reason::BufferTooSmall);
        }
        let plen = le32(slot, batch::LEN_OFFSET) as usize;
        let id = le32(slot, batch::PEER_OFFSET) as usize;
        if plen > MAX_PLAINTEXT_LEN {
            return Err(Reason::FrameTooLarge);
        }
        if plen > slot.len() - batch::PLAINTEXT_OFFSET {
            return Err(Reason::BufferTooSmall);
        }
        match self.peers.get_mut(id).and_then(Option::as_mut) {
            Some(p) => p.seal_transport_deferred(&mut self.sh, &mut slot[batch::MSG_OFFSET..], plen, now),
            None => Err(Reason::BadPeer),
        }
    }

    /// The checks an open makes before the AEAD, for the transport message `msg` (receiver
    /// index, keypair age, counter limit, replay window), changing nothing. Returns the peer (when
    /// the index is known) and the AEAD to run; [`Device::open_commit`] finishes the message once
    /// it authenticated. Used to open a batch's messages on worker threads: the whole batch is
    /// prepared, opened, then committed in its order.
    pub fn open_prepare(&self, msg: &[u8], now: f64) -> (Option<PeerId>, Result<AeadWork, Reason>) {
        if msg.len() < TRANSPORT_MIN_LEN || le32(msg, 0) != TYPE_TRANSPORT {
            return (None, Err(if msg.len() < 4 || le32(msg, 0) == TYPE_TRANSPORT { Reason::Truncated } else { Reason::NotTransport }));
        }
        let Some(id) = self.lookup(le32(msg, 4)) else { return (None, Err(Reason::UnknownIndex)) };
        match self.peers[id].as_ref() {
            Some(p) => (Some(id), p.open_transport_prepare(&self.sh, msg, now)),
            None => (None, Err(Reason::UnknownIndex)),
        }
    }

    /// Finishes the transport message `msg` (header intact, body opened in place) after its AEAD
    /// authenticated: the replay window takes the counter (a duplicate in the same batch fails
    /// with `Replay`), then keypair rotation, stats and timers as [`Device::open_batch`] does.
    /// Returns the peer and the plaintext length.
    pub fn open_commit(&mut self, msg: &[u8], now: f64) -> (Option<PeerId>, Result<usize, Reason>) {
        if msg.len() < TRANSPORT_MIN_LEN {
            return (None, Err(Reason::Truncated));
        }
        let Some(id) = self.lookup(le32(msg, 4)) else { return (None, Err(Reason::UnknownIndex)) };
        match self.peers[id].as_mut() {
            Some(p) => (Some(id), p.open_transport_commit(&mut self.sh, msg, now)),
            None => (None, Err(Reason::UnknownIndex)),
        }
    }

    /// Open `count` slots of received transport messages in place (layout in [`batch`]).
    /// Slots holding other message types fail with `NotTransport` (hand those to
    /// [`Device::decapsulate`]). No allocation.
    pub fn open_batch(
        &mut self,
        buf: &mut [u8],
        stride: usize,
        count: usize,
        now: f64,
    ) -> Result<BatchStats, Reason> {
        check_batch(buf, stride, count)?;
        let mut st = BatchStats::default();
        for slot in buf.chunks_exact_mut(stride).take(count) {
            let len = le32(slot, batch::LEN_OFFSET) as usize;
            let mut peer = None;
            let r = if len > stride - batch::MSG_OFFSET {
                Err(Reason::BufferTooSmall)
            } else if len < 4 {
                Err(Reason::Truncated)
            } else if le32(slot, batch::MSG_OFFSET) != TYPE_TRANSPORT {
                Err(Reason::NotTransport)
            } else if len < TRANSPORT_MIN_LEN {
                Err(Reason::Truncated)
            } else {
                match self.lookup(le32(slot, batch::MSG_OFFSET + 4)) {
                    None => Err(Reason::UnknownIndex),
                    Some(id) => {
                        peer = Some(id);
                        match self.peers[id].as_mut() {
                            Some(p) => {
                                let msg = &mut slot[batch::MSG_OFFSET..batch::MSG_OFFSET + len];
                                p.open_transport(&mut self.sh, msg, now)
                            }
                            None => Err(Reason::UnknownIndex),
                        }
                    }
                }
            };
            put32(
                slot,
                batch::PEER_OFFSET,
                peer.map_or(batch::NO_PEER, |p| p as u32),
            );
            record_slot(slot, r, &mut st);
        }
        Ok(st)
    }
}

/// A device with exactly one peer: the boringtun-style per-peer handle.
pub struct Tunnel {
    dev: Device,
    id: PeerId,
}

impl Tunnel {
    /// Tunnel from our private key to the peer `peer_public`.
    pub fn new(
        private_key: [u8; 32],
        peer_public: [u8; 32],
        psk: Option<[u8; 32]>,
        persistent_keepalive: f64,
        config: Config,
        rng: Box<dyn CryptoRngCore + Send>,
    ) -> Result<Tunnel, Reason> {
        let mut dev = Device::new(private_key, config, rng);
        let id = dev.add_peer(peer_public, psk, persistent_keepalive)?;
        Ok(Tunnel { dev, id })
    }

    /// The underlying device.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The underlying device, mutable.
    pub fn device_mut(&mut self) -> &mut Device {
        &mut self.dev
    }

    /// The peer state.
    pub fn peer(&self) -> &Peer {
        self.dev
            .peer(self.id)
            .expect("tunnel peer is never removed")
    }

    /// Whether a usable session exists.
    pub fn has_session(&self, now: f64) -> bool {
        self.dev.has_session(self.id, now)
    }

    /// See [`Device::format_initiation`].
    pub fn format_initiation(
        &mut self,
        now: f64,
        wall: Tai64N,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        self.dev.format_initiation(self.id, now, wall, out)
    }

    /// See [`Device::encapsulate`].
    pub fn encapsulate(
        &mut self,
        plaintext: &[u8],
        now: f64,
        out: &mut [u8],
    ) -> Result<usize, Reason> {
        self.dev.encapsulate(self.id, plaintext, now, out)
    }

    /// See [`Device::decapsulate`].
    pub fn decapsulate(
        &mut self,
        datagram: &[u8],
        src: &[u8],
        now: f64,
        under_load: bool,
        out: &mut [u8],
    ) -> Verdict {
        self.dev.decapsulate(datagram, src, now, under_load, out).1
    }

    /// See [`Device::tick`].
    pub fn tick(&mut self, now: f64, wall: Tai64N) -> Vec<Action> {
        self.dev
            .tick(now, wall)
            .into_iter()
            .map(|(_, a)| a)
            .collect()
    }

    /// See [`Device::next_deadline`].
    pub fn next_deadline(&self) -> Option<f64> {
        self.dev.next_deadline()
    }

    /// See [`Device::seal_batch`]; the slots' peer fields are overwritten with this peer.
    pub fn seal_batch(
        &mut self,
        buf: &mut [u8],
        stride: usize,
        count: usize,
        now: f64,
    ) -> Result<BatchStats, Reason> {
        check_batch(buf, stride, count)?;
        for slot in buf.chunks_exact_mut(stride).take(count) {
            put32(slot, batch::PEER_OFFSET, self.id as u32);
        }
        self.dev.seal_batch(buf, stride, count, now)
    }

    /// See [`Device::open_batch`].
    pub fn open_batch(
        &mut self,
        buf: &mut [u8],
        stride: usize,
        count: usize,
        now: f64,
    ) -> Result<BatchStats, Reason> {
        self.dev.open_batch(buf, stride, count, now)
    }
}

/// Writes a batch slot's outcome into its length/status field and counts it.
fn record_slot(slot: &mut [u8], r: Result<usize, Reason>, st: &mut BatchStats) {
    match r {
        Ok(n) => {
            put32(slot, batch::LEN_OFFSET, n as u32);
            st.ok += 1;
        }
        Err(e) => {
            put32(slot, batch::LEN_OFFSET, batch::STATUS_ERROR | e.code() as u32);
            st.failed += 1;
        }
    }
}
