//! MAC → NodeID learning (the L2FIB). Entries are learned on delivery only (never from transit
//! traffic) and expire after `L2FIBTimeout` seconds; a lookup of an expired entry misses even
//! before the sweep. A timeout of 0.01 s or less never expires (upstream's rule).

use std::collections::HashMap;

use crate::route::NodeId;

/// What [`L2Fib::learn`] changed, for the `internal` log category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learned {
    /// Nothing new (refreshed, or not learnable).
    Nothing,
    /// A new MAC.
    New,
    /// The MAC moved from the given node.
    Moved(NodeId),
}

/// The table. Time is the caller's monotonic clock in seconds.
pub struct L2Fib {
    timeout: f64,
    map: HashMap<[u8; 6], (NodeId, f64)>,
}

fn mac(frame: &[u8], off: usize) -> [u8; 6] {
    let mut m = [0u8; 6];
    m.copy_from_slice(&frame[off..off + 6]);
    m
}

impl L2Fib {
    /// A table whose entries live `timeout` seconds.
    pub fn new(timeout: f64) -> L2Fib {
        L2Fib { timeout, map: HashMap::new() }
    }

    fn expires(&self) -> bool {
        self.timeout > 0.01
    }

    /// Learns the frame's source MAC (bytes 6..12) if it is unicast.
    pub fn learn(&mut self, frame: &[u8], node: NodeId, now: f64) -> Learned {
        if frame.len() < 14 || frame[6] & 1 != 0 {
            return Learned::Nothing;
        }
        match self.map.insert(mac(frame, 6), (node, now)) {
            None => Learned::New,
            Some((old, _)) if old == node => Learned::Nothing,
            Some((old, _)) => Learned::Moved(old),
        }
    }

    /// The NodeID behind the frame's destination MAC; `None` for broadcast, multicast, unknown
    /// or expired.
    pub fn lookup(&self, frame: &[u8], now: f64) -> Option<NodeId> {
        if frame.len() < 6 || frame[0] & 1 != 0 {
            return None;
        }
        let &(node, seen) = self.map.get(&mac(frame, 0))?;
        if self.expires() && now - seen > self.timeout {
            return None;
        }
        Some(node)
    }

    /// Forgets expired entries; returns how many.
    pub fn sweep(&mut self, now: f64) -> usize {
        if !self.expires() {
            return 0;
        }
        let before = self.map.len();
        let t = self.timeout;
        self.map.retain(|_, &mut (_, seen)| now - seen <= t);
        before - self.map.len()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
