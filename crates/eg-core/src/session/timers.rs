//! The WireGuard timer state machine: protocol constants, per-peer deadlines, every timer
//! hook the handshake and transport code calls, and the tick that runs due timers.
//!
//! Everything that arms, moves or clears a timer lives in this file, so it can be read
//! against the whitepaper (§6.1–§6.5) and wireguard-go's `device/timers.go` /
//! `device/send.go` event by event. Time is the caller's monotonic clock in seconds; the
//! core never reads a clock: callers pass `now` and ask `Peer::next_deadline` (via
//! [`Device::next_deadline`](super::Device::next_deadline)) when to call `tick` again.
//!
//! | event (wireguard-go name)                    | hook here                     | effect |
//! |----------------------------------------------|-------------------------------|--------|
//! | peer configured / interval turned on 0 → n   | `set_persistent_keepalive` | keepalive at the next tick |
//! | any authenticated packet sent or received (`AnyAuthenticatedPacketTraversal`) | `on_traversal` | persistent keepalive in `n` s |
//! | any authenticated packet sent (`…PacketSent`) | `on_authenticated_sent`      | cancel the passive keepalive |
//! | any authenticated packet received (`…PacketReceived`) | `on_authenticated_received` | cancel "new handshake" |
//! | data sent (`DataSent`)                       | `on_data_sent`                | new handshake in KEEPALIVE + REKEY_TIMEOUT + jitter unless pending |
//! | data received (`DataReceived`)               | `on_data_received`            | passive keepalive in KEEPALIVE_TIMEOUT (or one more after it) |
//! | initiation sent (`HandshakeInitiated`)       | `on_handshake_initiated`      | retransmit in REKEY_TIMEOUT + jitter |
//! | handshake complete                           | `on_handshake_complete`       | stop retransmits, attempts = 0 |
//! | session derived (`SessionDerived`)           | `on_session_derived`          | erase all keys in 3 × REJECT_AFTER_TIME |
//! | packet finds no keypair, rekey due (`SendHandshakeInitiation(false)`) | `request_handshake` | attempts = 0, initiate when the rate limit allows |
//! | after sealing (`keepKeyFreshSending`)        | `keep_key_fresh_sending`      | rekey after REKEY_AFTER_MESSAGES / REKEY_AFTER_TIME (initiator) |
//! | after opening (`keepKeyFreshReceiving`)      | `keep_key_fresh_receiving`    | initiator rekeys at REJECT − KEEPALIVE − REKEY_TIMEOUT of age, once |
//!
//! Deliberate differences from wireguard-go (documented in docs/wire.md §6): a handshake
//! requested inside the REKEY_TIMEOUT rate limit is deferred until the limit allows it
//! (wireguard-go drops the request); keypairs older than REJECT_AFTER_TIME are erased at
//! the next tick instead of lingering until the 3 × REJECT_AFTER_TIME erasure; a response
//! to an initiation we gave up on is refused (its index is freed at give-up).

use super::peer::{Action, Peer, PeerId, Shared};
use crate::noise::wire::{INITIATION_LEN, TRANSPORT_MIN_LEN};
use crate::noise::Tai64N;

/// Timing and limit configuration. Times are seconds of the caller's monotonic clock.
/// Defaults are the whitepaper's §6.1 constants (and wireguard-go's `constants.go`).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Initiate a rekey after this many messages sent on a keypair (2^60).
    pub rekey_after_messages: u64,
    /// Refuse to use a keypair for this many messages (2^64 - 2^13 - 1).
    pub reject_after_messages: u64,
    /// The initiator of a keypair rekeys once it is this old (120 s).
    pub rekey_after_time: f64,
    /// Keypairs this old are unusable and erased (180 s).
    pub reject_after_time: f64,
    /// How long a handshake is retried: `rekey_attempt_time / rekey_timeout` retransmits
    /// (see [`Config::max_timer_handshakes`]) (90 s).
    pub rekey_attempt_time: f64,
    /// Retransmit an unanswered initiation after this (5 s) plus jitter; also the minimum
    /// spacing between initiations we send.
    pub rekey_timeout: f64,
    /// Maximum random jitter added to `rekey_timeout` for retransmits and to the "new
    /// handshake" timer (1/3 s; wireguard-go: 334 ms).
    pub rekey_timeout_jitter: f64,
    /// Send a keepalive this long after receiving data if we sent nothing (10 s).
    pub keepalive_timeout: f64,
    /// Cookie secret lifetime (120 s).
    pub cookie_refresh_time: f64,
    /// Minimum spacing of initiations accepted from one peer (1/50 s).
    pub handshake_initiation_rate: f64,
    /// Key material of a peer is erased this long after the last handshake when nothing
    /// replaces it (3 x REJECT_AFTER_TIME = 540 s).
    pub zero_key_material_after: f64,
    /// Handshake messages (passing mac1) per second a device processes before it is under load
    /// and demands cookies (100; boringtun's default limit; see `session::ratelimit`).
    pub handshake_budget: u32,
    /// Under load: handshake messages per second one source address may have processed (20,
    /// as the Linux module's ratelimiter).
    pub handshake_source_rate: f64,
    /// Under load: burst of one source address's bucket (5).
    pub handshake_source_burst: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rekey_after_messages: 1 << 60,
            reject_after_messages: u64::MAX - (1 << 13) - 1,
            rekey_after_time: 120.0,
            reject_after_time: 180.0,
            rekey_attempt_time: 90.0,
            rekey_timeout: 5.0,
            rekey_timeout_jitter: 1.0 / 3.0,
            keepalive_timeout: 10.0,
            cookie_refresh_time: 120.0,
            handshake_initiation_rate: 1.0 / 50.0,
            zero_key_material_after: 540.0,
            handshake_budget: 100,
            handshake_source_rate: 20.0,
            handshake_source_burst: 5.0,
        }
    }
}

impl Config {
    /// MAX_TIMER_HANDSHAKES: `floor(rekey_attempt_time / rekey_timeout)` (18 by default).
    /// A handshake is given up when its retransmit timer fires with more attempts than
    /// this behind it, i.e. after `MAX_TIMER_HANDSHAKES + 2` initiations in all (the
    /// kernel's and wireguard-go's count).
    pub fn max_timer_handshakes(&self) -> u32 {
        if self.rekey_timeout > 0.0 {
            // `as` saturates: NaN and negatives give 0, huge ratios u32::MAX.
            (self.rekey_attempt_time / self.rekey_timeout).floor() as u32
        } else {
            0
        }
    }
}

/// Per-peer timer state. Deadlines are absolute times on the caller's clock (seconds).
#[derive(Clone, Debug, Default)]
pub struct TimerState {
    /// Retransmit the pending initiation.
    pub retransmit_at: Option<f64>,
    /// Send a (passive) keepalive: we received data and sent nothing back.
    pub keepalive_at: Option<f64>,
    /// Another passive keepalive is due after the pending one.
    pub need_another_keepalive: bool,
    /// We sent data and heard nothing back: start a new handshake.
    pub new_handshake_at: Option<f64>,
    /// Erase all key material.
    pub zero_keys_at: Option<f64>,
    /// Send a persistent keepalive.
    pub persistent_at: Option<f64>,
    /// A persistent keepalive is due at the next tick: the peer was just configured with
    /// a nonzero interval, or its interval was turned on (0 → n).
    pub persistent_now: bool,
    /// When we last sent an initiation or response (the REKEY_TIMEOUT rate limit).
    pub last_sent_handshake: Option<f64>,
    /// Retransmits of the current handshake so far (wireguard-go `handshakeAttempts`).
    pub handshake_attempts: u32,
    /// A handshake should be initiated as soon as the rate limit allows.
    pub want_handshake: bool,
    /// The receive-side "last minute" rekey was already requested for this keypair.
    pub sent_lastminute: bool,
}

pub(crate) fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn due(t: Option<f64>, now: f64) -> bool {
    matches!(t, Some(t) if t <= now)
}

impl Peer {
    // ----- configuration -----

    /// Sets the persistent keepalive interval in seconds (0 = off; negative and NaN are
    /// treated as 0). Turning it on (0 → n, including at peer creation) makes a keepalive
    /// due at the next tick, which starts a handshake if there is no keypair — as
    /// wireguard-go does for a new peer or a UAPI `persistent_keepalive_interval` change.
    /// Changing a nonzero interval takes effect from the next authenticated packet;
    /// turning it off cancels the pending keepalive.
    pub(crate) fn set_persistent_keepalive(&mut self, secs: f64) {
        let secs = if secs > 0.0 { secs } else { 0.0 };
        let was_off = self.persistent_keepalive == 0.0;
        self.persistent_keepalive = secs;
        if secs == 0.0 {
            self.timers.persistent_at = None;
            self.timers.persistent_now = false;
        } else if was_off {
            self.timers.persistent_now = true;
        }
    }

    // ----- hooks called by the handshake and transport code -----

    /// Any authenticated packet (handshake message, data or keepalive) is about to be sent.
    pub(crate) fn on_authenticated_sent(&mut self, now: f64) {
        self.timers.keepalive_at = None;
        self.on_traversal(now);
    }

    /// Any authenticated packet was received (initiation, response, transport).
    pub(crate) fn on_authenticated_received(&mut self, now: f64) {
        self.timers.new_handshake_at = None;
        self.on_traversal(now);
    }

    /// The persistent keepalive counts from the last authenticated packet either way. A
    /// keepalive still due "at once" is redundant after any packet: it is replaced by the
    /// interval from now.
    fn on_traversal(&mut self, now: f64) {
        if self.persistent_keepalive > 0.0 {
            self.timers.persistent_at = Some(now + self.persistent_keepalive);
            self.timers.persistent_now = false;
        }
    }

    /// A data packet (non-empty plaintext) was sent: expect an answer within
    /// KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter), else start a new handshake.
    pub(crate) fn on_data_sent(&mut self, sh: &mut Shared, now: f64) {
        if self.timers.new_handshake_at.is_none() {
            let c = &sh.config;
            let d = c.keepalive_timeout + c.rekey_timeout;
            self.timers.new_handshake_at = Some(now + d + sh.jitter());
        }
    }

    /// A data packet was received: answer with a keepalive unless we send something first.
    pub(crate) fn on_data_received(&mut self, now: f64, cfg: &Config) {
        if self.timers.keepalive_at.is_none() {
            self.timers.keepalive_at = Some(now + cfg.keepalive_timeout);
        } else {
            self.timers.need_another_keepalive = true;
        }
    }

    /// An initiation was sent (first try or retransmit).
    pub(crate) fn on_handshake_initiated(&mut self, sh: &mut Shared, now: f64) {
        let jitter = sh.jitter();
        let t = &mut self.timers;
        t.last_sent_handshake = Some(now);
        t.retransmit_at = Some(now + sh.config.rekey_timeout + jitter);
        t.want_handshake = false;
        self.on_authenticated_sent(now);
    }

    /// A response was sent (responder): it counts for the rate limit and as a packet sent.
    pub(crate) fn on_response_sent(&mut self, now: f64) {
        self.timers.last_sent_handshake = Some(now);
        self.on_authenticated_sent(now);
    }

    /// A keypair was confirmed (initiator: response received; responder: first transport
    /// packet on the new keypair).
    pub(crate) fn on_handshake_complete(&mut self, now: f64) {
        let t = &mut self.timers;
        t.retransmit_at = None;
        t.handshake_attempts = 0;
        t.sent_lastminute = false;
        t.want_handshake = false;
        self.last_handshake = Some(now);
        self.stats.handshakes += 1;
    }

    /// New transport keys exist (response sent or received).
    pub(crate) fn on_session_derived(&mut self, now: f64, cfg: &Config) {
        self.timers.zero_keys_at = Some(now + cfg.zero_key_material_after);
    }

    /// A fresh (not retry) handshake is wanted: a packet found no usable keypair, a rekey
    /// is due, or the peer went silent. Resets the attempt counter like wireguard-go's
    /// `SendHandshakeInitiation(false)`, so steady traffic or a persistent keepalive keeps
    /// retrying past MAX_TIMER_HANDSHAKES. With an initiation in flight, its retransmit
    /// timer carries on; otherwise one is sent at the next tick the rate limit allows.
    pub(crate) fn request_handshake(&mut self) {
        self.timers.handshake_attempts = 0;
        if self.pending.is_none() {
            self.timers.want_handshake = true;
        }
    }

    /// After a transport message was sealed with the current keypair (keepalives too).
    pub(crate) fn keep_key_fresh_sending(&mut self, now: f64, cfg: &Config) {
        let stale = self.current.as_deref().is_some_and(|kp| {
            kp.send_counter > cfg.rekey_after_messages
                || (kp.initiator && now - kp.created >= cfg.rekey_after_time)
        });
        if stale {
            self.request_handshake();
        }
    }

    /// After any authenticated transport message was opened (keepalives too): the
    /// initiator rekeys before the keypair is rejected, once per keypair, even if it sends
    /// nothing itself.
    pub(crate) fn keep_key_fresh_receiving(&mut self, now: f64, cfg: &Config) {
        if self.timers.sent_lastminute {
            return;
        }
        let last_minute = cfg.reject_after_time - cfg.keepalive_timeout - cfg.rekey_timeout;
        if self
            .current
            .as_deref()
            .is_some_and(|kp| kp.initiator && now - kp.created > last_minute)
        {
            self.timers.sent_lastminute = true;
            self.request_handshake();
        }
    }

    fn can_send_handshake(&self, now: f64, cfg: &Config) -> bool {
        match self.timers.last_sent_handshake {
            None => true,
            // `now < t`: the caller's clock went backwards; do not stall for that long.
            Some(t) => now - t >= cfg.rekey_timeout || now < t,
        }
    }

    // ----- tick -----

    /// A keepalive (passive or persistent). Without a usable keypair it cannot be sealed;
    /// sealing then requests a handshake (see `seal_transport`), like wireguard-go's
    /// `SendKeepalive` → `SendStagedPackets` → `SendHandshakeInitiation(false)`.
    fn send_keepalive(&mut self, sh: &mut Shared, now: f64, actions: &mut Vec<Action>) {
        let mut buf = vec![0u8; TRANSPORT_MIN_LEN];
        if let Ok(n) = self.seal_transport(sh, &mut buf, 0, now) {
            buf.truncate(n);
            actions.push(Action::SendKeepalive(buf));
        }
    }

    fn send_initiation(
        &mut self,
        sh: &mut Shared,
        id: PeerId,
        now: f64,
        wall: Tai64N,
        actions: &mut Vec<Action>,
    ) {
        let mut buf = vec![0u8; INITIATION_LEN];
        if self.initiate(sh, id, now, wall, &mut buf).is_ok() {
            actions.push(Action::SendInitiation(buf));
        }
    }

    /// Runs every timer due at `now` and returns what to send or report.
    pub(crate) fn tick(
        &mut self,
        sh: &mut Shared,
        id: PeerId,
        now: f64,
        wall: Tai64N,
    ) -> Vec<Action> {
        let cfg = sh.config.clone();
        let mut actions = Vec::new();

        // Keypairs past REJECT_AFTER_TIME are useless: erase them now.
        self.drop_expired_keypairs(sh, now);

        if due(self.timers.zero_keys_at, now) {
            self.timers.zero_keys_at = None;
            self.timers.want_handshake = false;
            self.zero_all(sh);
            actions.push(Action::KeysZeroed);
        }

        if due(self.timers.retransmit_at, now) {
            self.timers.retransmit_at = None;
            if self.timers.handshake_attempts > cfg.max_timer_handshakes() {
                // Give up: the caller drops the packets it queued for this peer.
                if let Some(p) = self.pending.take() {
                    sh.release(p.local_index);
                }
                self.timers.keepalive_at = None;
                self.timers.want_handshake = false;
                if self.timers.zero_keys_at.is_none() {
                    self.timers.zero_keys_at = Some(now + cfg.zero_key_material_after);
                }
                actions.push(Action::HandshakeGaveUp);
            } else {
                self.timers.handshake_attempts += 1;
                self.send_initiation(sh, id, now, wall, &mut actions);
            }
        }

        if due(self.timers.keepalive_at, now) {
            self.timers.keepalive_at = None;
            self.send_keepalive(sh, now, &mut actions);
            if self.timers.need_another_keepalive {
                self.timers.need_another_keepalive = false;
                self.timers.keepalive_at = Some(now + cfg.keepalive_timeout);
            }
        }

        if due(self.timers.new_handshake_at, now) {
            self.timers.new_handshake_at = None;
            self.request_handshake();
        }

        if self.timers.persistent_now || due(self.timers.persistent_at, now) {
            self.timers.persistent_now = false;
            self.timers.persistent_at = None;
            if self.persistent_keepalive > 0.0 {
                self.send_keepalive(sh, now, &mut actions);
            }
        }

        if self.timers.want_handshake && self.can_send_handshake(now, &cfg) {
            self.send_initiation(sh, id, now, wall, &mut actions);
        }
        actions
    }

    /// Earliest time at which `tick` has work. `0.0` means "at once" for work that is not
    /// tied to a time (a keepalive just turned on, a handshake never rate limited), so the
    /// caller's clock must not be negative.
    pub(crate) fn next_deadline(&self, cfg: &Config) -> Option<f64> {
        let t = &self.timers;
        let mut d = min_opt(t.retransmit_at, t.keepalive_at);
        d = min_opt(d, t.new_handshake_at);
        d = min_opt(d, t.zero_keys_at);
        d = min_opt(d, t.persistent_at);
        if t.persistent_now {
            d = min_opt(d, Some(0.0));
        }
        for kp in [&self.current, &self.previous, &self.next]
            .into_iter()
            .flatten()
        {
            d = min_opt(d, Some(kp.created + cfg.reject_after_time));
        }
        if t.want_handshake {
            let at = t.last_sent_handshake.map_or(0.0, |l| l + cfg.rekey_timeout);
            d = min_opt(d, Some(at));
        }
        d
    }
}
