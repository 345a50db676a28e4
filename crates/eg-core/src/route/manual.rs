//! `ManualLatency`: configured overrides of measured latencies.
//!
//! Keys are `(src, dst)` with 65535 as the wildcard. Precedence, lowest to highest:
//! `[*][*]` < `[*][dst]` < `[src][*]` < `[src][dst]`. An override only replaces the
//! latency of an edge that was actually reported; it never creates an edge.

use std::collections::BTreeMap;

use super::ids::{NodeId, WILDCARD};

/// The override table; values are stored in seconds (the config gives milliseconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ManualLatency {
    table: BTreeMap<(NodeId, NodeId), f64>,
}

impl ManualLatency {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the override for `src -> dst` (either may be [`WILDCARD`]) in milliseconds.
    pub fn set_ms(&mut self, src: NodeId, dst: NodeId, ms: f64) {
        self.table.insert((src, dst), ms / 1000.0);
    }

    /// Removes one override.
    pub fn remove(&mut self, src: NodeId, dst: NodeId) {
        self.table.remove(&(src, dst));
    }

    /// Removes all overrides.
    pub fn clear(&mut self) {
        self.table.clear();
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The override in seconds for the edge `src -> dst`, if any, by precedence.
    pub fn lookup(&self, src: NodeId, dst: NodeId) -> Option<f64> {
        // The usual case (no overrides): a full solve asks for each of millions of links.
        if self.table.is_empty() {
            return None;
        }
        [
            (src, dst),
            (src, WILDCARD),
            (WILDCARD, dst),
            (WILDCARD, WILDCARD),
        ]
        .iter()
        .find_map(|k| self.table.get(k).copied())
    }

    /// The latency to use for a reported edge: the override if one applies, else `measured`.
    pub fn apply(&self, src: NodeId, dst: NodeId, measured: f64) -> f64 {
        self.lookup(src, dst).unwrap_or(measured)
    }
}
