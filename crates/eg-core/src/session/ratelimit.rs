//! When a device is "under load", and what it then does with handshake messages.
//!
//! A handshake initiation costs the responder Diffie-Hellman operations before it even knows
//! who sent it; mac1 only proves the sender knows our public key, which every member does. So a
//! member (or anyone holding our public key) can burn our CPU with initiations. The
//! WireGuard whitepaper §5.4.7 answers with cookies: a responder under load answers a handshake
//! message that lacks a valid mac2 with a cookie reply instead of processing it, so a sender
//! must prove it can receive at its source address before it costs a DH, and senders that do
//! prove it are rate limited per address.
//!
//! "Under load" is decided here, inside the core, from the traffic itself (boringtun decides
//! it in its `rate_limiter.rs` the same way: a per-second count against a limit): every handshake
//! message that passes mac1 counts against a per-second budget
//! ([`Config::handshake_budget`](super::Config::handshake_budget)); a message over the budget
//! puts the device under load until one full second later. Under load:
//!
//! * no valid mac2 (none or a stale cookie) → a cookie reply, counted in
//!   [`LoadStats::cookie_replies`]; the message is not processed further;
//! * a valid mac2 → a token bucket per source address (rate
//!   [`Config::handshake_source_rate`](super::Config::handshake_source_rate) per second, burst
//!   [`Config::handshake_source_burst`](super::Config::handshake_source_burst); the Linux
//!   module's ratelimiter uses 20/s and 5); an empty bucket refuses the message with
//!   [`Reason::Flood`](crate::noise::Reason::Flood), counted in [`LoadStats::rate_limited`].
//!
//! Time is the caller's monotonic clock in seconds, like everything else in the core.

use std::collections::HashMap;

/// Most source addresses the per-address buckets remember; when a new address would exceed it,
/// the idle ones are forgotten first and, if that is not enough, all of them (a forgotten
/// address starts again with a full bucket, which only helps it by `burst` messages).
const MAX_SOURCES: usize = 4096;

/// Counters of the under-load defence since the device was made (all monotonic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Handshake messages (initiations, responses) that passed mac1 and were counted.
    pub handshakes: u64,
    /// Of those, how many arrived while the device was under load.
    pub under_load: u64,
    /// Cookie replies sent instead of processing a message (under load, no valid mac2).
    pub cookie_replies: u64,
    /// Messages with a valid mac2 refused by their source address's bucket.
    pub rate_limited: u64,
    /// Times the device went from not under load to under load.
    pub load_episodes: u64,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: f64,
}

/// The per-device load detector and per-source limiter (see the module docs).
pub struct HandshakeLimiter {
    window: f64,
    count: u32,
    load_until: f64,
    sources: HashMap<Vec<u8>, Bucket>,
    stats: LoadStats,
}

impl Default for HandshakeLimiter {
    fn default() -> Self {
        HandshakeLimiter::new()
    }
}

impl HandshakeLimiter {
    /// A limiter that is not under load.
    pub fn new() -> HandshakeLimiter {
        HandshakeLimiter {
            window: f64::NEG_INFINITY,
            count: 0,
            load_until: f64::NEG_INFINITY,
            sources: HashMap::new(),
            stats: LoadStats::default(),
        }
    }

    /// Counts one handshake message (mac1 already valid) at `now` against `budget` messages per
    /// second and says whether the device is under load for it. `budget` 0 = always under load.
    pub fn count(&mut self, now: f64, budget: u32) -> bool {
        // A clock that went backwards (or a first call) starts a new window rather than
        // extending an old one for ever.
        if !(now >= self.window && now - self.window < 1.0) {
            self.window = now;
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        self.stats.handshakes += 1;
        if self.count > budget {
            if !self.is_under_load(now) {
                self.stats.load_episodes += 1;
            }
            self.load_until = now + 1.0;
        }
        let load = self.is_under_load(now);
        if load {
            self.stats.under_load += 1;
        }
        load
    }

    /// Whether the device is under load at `now` (a message over the budget less than a second
    /// ago; a clock step backwards by more than that ends it).
    pub fn is_under_load(&self, now: f64) -> bool {
        now < self.load_until && self.load_until - now <= 1.0
    }

    /// Records a cookie reply sent.
    pub fn cookie_sent(&mut self) {
        self.stats.cookie_replies += 1;
    }

    /// Takes one token from `src`'s bucket (`rate` per second, at most `burst`); false when it is
    /// empty (the message is refused and counted).
    pub fn allow_source(&mut self, src: &[u8], now: f64, rate: f64, burst: f64) -> bool {
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(src) {
            let full = if rate > 0.0 { burst / rate } else { f64::INFINITY };
            self.sources.retain(|_, b| !(now - b.at >= full));
            if self.sources.len() >= MAX_SOURCES {
                self.sources.clear();
            }
        }
        let b = self.sources.entry(src.to_vec()).or_insert(Bucket { tokens: burst, at: now });
        let dt = now - b.at;
        if dt > 0.0 {
            b.tokens = (b.tokens + dt * rate).min(burst);
        }
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            self.stats.rate_limited += 1;
            false
        }
    }

    /// The counters.
    pub fn stats(&self) -> LoadStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_then_load_for_one_second() {
        let mut l = HandshakeLimiter::new();
        for i in 0..10 {
            assert!(!l.count(5.0 + i as f64 * 0.01, 10));
        }
        assert!(l.count(5.2, 10), "the 11th message in one second is over the budget");
        assert!(l.is_under_load(6.1));
        assert!(!l.is_under_load(6.21));
        assert_eq!(l.stats().load_episodes, 1);
        // A quiet second later the budget is fresh.
        assert!(!l.count(7.0, 10));
    }

    #[test]
    fn clock_step_back_does_not_stick() {
        let mut l = HandshakeLimiter::new();
        for _ in 0..5 {
            l.count(100.0, 2);
        }
        assert!(l.is_under_load(100.5));
        // Stepped back an hour: not under load for an hour.
        assert!(!l.is_under_load(100.0 - 3600.0));
    }

    #[test]
    fn source_bucket_refills_at_its_rate() {
        let mut l = HandshakeLimiter::new();
        let a = [1u8, 2, 3];
        for _ in 0..5 {
            assert!(l.allow_source(&a, 0.0, 20.0, 5.0));
        }
        assert!(!l.allow_source(&a, 0.0, 20.0, 5.0));
        assert!(l.allow_source(&[9u8], 0.0, 20.0, 5.0), "another address has its own bucket");
        assert!(l.allow_source(&a, 0.05, 20.0, 5.0), "1/20 s later one token is back");
        assert!(!l.allow_source(&a, 0.05, 20.0, 5.0));
        assert_eq!(l.stats().rate_limited, 2);
    }
}
