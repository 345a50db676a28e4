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

/// Upstream's infinity, `99999` seconds. It survives only where upstream's *formats* use it: the
/// latency-matrix text (`solve`, see [`super::matrix`]) and a configured `ManualLatency`
/// override (see [`super::graph`]). A measured latency is never compared with it: a constant
/// clock offset of more than 27.8 h makes an ordinary measurement exceed it.
pub const INFINITY_THRESHOLD: f64 = 99999.0;

/// Whether `id` may name a real node (not one of the reserved ids).
#[inline]
pub fn is_usable(id: NodeId) -> bool {
    id <= MAX_NODE_ID
}

/// Maps a measured latency (seconds) to the engine's representation: every finite value is a
/// measurement and passes through unchanged, whatever its size or sign (a one-way value
/// contains the clock offset between the two nodes, which may be years); `+inf`, `-inf` and NaN
/// become `f64::INFINITY`, "no edge".
#[inline]
pub fn normalize_latency(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::INFINITY
    }
}

/// Upstream's format rule (matrix text, `ManualLatency`): non-finite or `>= 99999` is "no edge".
#[inline]
pub fn normalize_upstream_latency(x: f64) -> f64 {
    if x >= INFINITY_THRESHOLD {
        f64::INFINITY
    } else {
        normalize_latency(x)
    }
}
