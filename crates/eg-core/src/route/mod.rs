//! Route engine: everything Etherguard needs to turn measured one-way latencies into a
//! shared next-hop table, as pure functions over explicit state.
//!
//! * [`ids`]: NodeId and the reserved ids, latency normalisation (only non-finite is "no edge";
//!   upstream's `>= 99999` lives on in the matrix format and `ManualLatency` only).
//! * [`manual`]: `ManualLatency` overrides with the 65535 wildcard.
//! * [`graph`]: directed edges `{latency, additional_cost, valid_until}` with expiry.
//! * [`solve`] (+ [`fw`], [`naive`], [`key`]): all-pairs shortest paths with deterministic ties.
//! * [`incremental`]: link-by-link updates of a solution, bit-identical to a full solve.
//! * [`broadcast`]: source-rooted broadcast trees derived from the next-hop table.
//! * [`filter`]: the damping filters (sliding median; median of windowed minima).
//! * [`hysteresis`]: clock-offset invariant "is a recalculation needed?".
//! * [`matrix`] / [`format`]: upstream's latency-matrix text and `solve` output.
//!
//! Time is always passed in as `f64` seconds; nothing here reads a clock.
//! The rules (tie-breaking, quantisation, hysteresis) are documented in `docs/routing.md`.

pub mod broadcast;
pub mod filter;
pub mod format;
mod fw;
pub mod graph;
pub mod hysteresis;
pub mod incremental;
mod kernel_rows;
pub mod ids;
pub mod key;
pub mod manual;
pub mod matrix;
pub mod naive;
pub mod solve;

pub use broadcast::{broadcast_edges, broadcast_targets, forward_set};
pub use filter::{MedianFilter, SpikeFilter, MAX_DRIFT};
pub use format::{format_solve_json, format_solve_text};
pub use fw::set_kernel_options;
pub use graph::{resolve_additional_cost, EdgeState, Graph, Measurement};
pub use hysteresis::{Hysteresis, RecalculateSetting};
pub use incremental::{FullReason, IncrementalSolver, UpdateMode, UpdateReport};
pub use kernel_rows::set_row_kernel_min_n;
pub use ids::{
    normalize_latency, normalize_upstream_latency, NodeId, BROADCAST, INFINITY_THRESHOLD, INVALID,
    MAX_NODE_ID, SPREAD, SUPER_NODE, WILDCARD,
};
pub use manual::ManualLatency;
pub use matrix::{parse_matrix, LatencyMatrix, MatrixError, EXAMPLE_MATRIX};
pub use naive::solve_naive;
pub use solve::{solve, DenseInput, RouteError, Solution, WeightedEdge};
