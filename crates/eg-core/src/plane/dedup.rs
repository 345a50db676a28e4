//! Duplicate suppression for the flood channel (dst 65534). Keyed on a BLAKE2s digest of the
//! whole inner message (kind, source and payload), not upstream's CRC32 of the payload alone, so
//! two different messages never suppress each other. A sighting refreshes the entry.

use std::collections::HashMap;

use blake2::{Blake2s256, Digest};

/// Entries kept before a sweep is forced.
const MAX_ENTRIES: usize = 65_536;

/// Seen-set with a timeout in seconds (0 or less: disabled).
pub struct DedupSet {
    timeout: f64,
    seen: HashMap<[u8; 16], f64>,
}

impl DedupSet {
    /// A set whose entries live `timeout` seconds (`DupCheckTimeout`).
    pub fn new(timeout: f64) -> DedupSet {
        DedupSet { timeout, seen: HashMap::new() }
    }

    /// True if this message was seen within the timeout (then it must be dropped).
    pub fn check(&mut self, kind: u8, src: u16, payload: &[u8], now: f64) -> bool {
        if self.timeout <= 0.0 {
            return false;
        }
        let mut h = Blake2s256::new();
        h.update([kind, (src >> 8) as u8, src as u8]);
        h.update(payload);
        let mut k = [0u8; 16];
        k.copy_from_slice(&h.finalize()[..16]);
        let prev = self.seen.insert(k, now);
        if self.seen.len() > MAX_ENTRIES {
            self.sweep(now);
        }
        matches!(prev, Some(t) if now - t <= self.timeout)
    }

    /// Forgets expired entries.
    pub fn sweep(&mut self, now: f64) {
        let t = self.timeout;
        self.seen.retain(|_, &mut s| now - s <= t);
    }
}
