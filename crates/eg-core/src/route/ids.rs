//! Node identifiers and latency normalisation.

/// A node's id on the mesh. `0..=65531` are usable; the top four values are reserved.
pub type NodeId = u16;

/// Largest usable node id.
pub const MAX_NODE_ID: NodeId = 65531;
/// "Invalid / no route": what a next-hop lookup returns when there is none.
pub const INVALID: NodeId = 65532;
/// The supernode.
pub const SUPER_NODE: NodeId = 65533;
/// Spread (flood with dedup).
pub const SPREAD: NodeId = 65534;
/// Broadcast along the shortest-path tree.
pub const BROADCAST: NodeId = 65535;
/// In `ManualLatency`, 65535 is the "any node" wildcard.
pub const WILDCARD: NodeId = 65535;

/// Upstream's infinity: any latency at or above this many seconds means "no edge".
pub const INFINITY_THRESHOLD: f64 = 99999.0;

/// Whether `id` may name a real node (not one of the reserved ids).
#[inline]
pub fn is_usable(id: NodeId) -> bool {
    id <= MAX_NODE_ID
}

/// Maps a raw latency (seconds) to the engine's representation: finite values below
/// [`INFINITY_THRESHOLD`] pass through (negative values included, they come from clock
/// offsets), everything else (`>= 99999`, `+inf`, NaN) becomes `f64::INFINITY`.
#[inline]
pub fn normalize_latency(x: f64) -> f64 {
    if x.is_nan() || x >= INFINITY_THRESHOLD {
        f64::INFINITY
    } else if x == f64::NEG_INFINITY {
        // A clock offset can make a value negative, never infinitely so: treat as garbage.
        f64::INFINITY
    } else {
        x
    }
}
