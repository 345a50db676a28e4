//! Protocol timing constants (all in one struct so tests can shorten them) and the
//! per-peer timer state.

/// Timing and limit configuration. Times are seconds of the caller's monotonic clock.
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
    /// Give up retrying a handshake after this long (90 s).
    pub rekey_attempt_time: f64,
    /// Retransmit an unanswered initiation after this (5 s) plus jitter; also the minimum
    /// spacing between initiations we send.
    pub rekey_timeout: f64,
    /// Maximum random jitter added to `rekey_timeout` for retransmits (1/3 s).
    pub rekey_timeout_jitter: f64,
    /// Send a keepalive this long after receiving data if we sent nothing (10 s).
    pub keepalive_timeout: f64,
    /// Cookie secret lifetime (120 s).
    pub cookie_refresh_time: f64,
    /// Minimum spacing of initiations accepted from one peer (1/50 s).
    pub handshake_initiation_rate: f64,
    /// Key material of a peer is erased this long after the last handshake when nothing
    /// replaces it (3 x REJECT_AFTER_TIME).
    pub zero_key_material_after: f64,
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
        }
    }
}

/// Per-peer timer state. Every field is an absolute deadline on the caller's clock.
#[derive(Clone, Debug, Default)]
pub struct TimerState {
    /// Retransmit the pending initiation.
    pub retransmit_at: Option<f64>,
    /// Send a keepalive (we received data and sent nothing back).
    pub keepalive_at: Option<f64>,
    /// Another keepalive is due after the pending one.
    pub need_another_keepalive: bool,
    /// We sent data and heard nothing back: start a new handshake.
    pub new_handshake_at: Option<f64>,
    /// Erase all key material.
    pub zero_keys_at: Option<f64>,
    /// Persistent keepalive.
    pub persistent_at: Option<f64>,
    /// When we last sent an initiation or response.
    pub last_sent_handshake: Option<f64>,
    /// Start of the current attempt cycle (for `rekey_attempt_time`).
    pub attempt_started: Option<f64>,
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

pub(crate) fn due(t: Option<f64>, now: f64) -> bool {
    matches!(t, Some(t) if t <= now)
}
