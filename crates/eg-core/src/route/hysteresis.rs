//! Clock-offset and clock-drift invariant hysteresis: "is a recalculation needed?".
//!
//! Measured one-way values contain the clock offset `off(v) - off(u)`, and clocks drift, so the
//! offset itself moves: a drift of `r` between two nodes moves `u -> v` by `+r` per second and
//! `v -> u` by `-r`. That is a change of the node *potential* `off`, not of any path's cost: every
//! `s -> t` path shifts by the same `off(t) - off(s)`, so no route can become better or worse by
//! it. Every test here therefore uses quantities in which any potential — constant or drifting —
//! cancels. For the directed edge `u -> v` with weight `old` at the last solve and `new` now
//! (weights = effective latency + AdditionalCost, seconds), and its reverse `old_rev`/`new_rev`:
//!
//! 1. exactly one of `old`, `new` infinite (connect, disconnect, expiry) → **connectivity**
//!    change: always triggers, even during the cooldown;
//! 2. otherwise, during the cooldown (`now < last_recalc + RecalculateCoolDown`) nothing else
//!    triggers;
//! 3. if the reverse edge is finite both at the last solve and now, the change is judged on the
//!    **round trip** `rtt = w(u -> v) + w(v -> u)`, in which any potential cancels: its one-way
//!    share `|rtt_new - rtt_old| / 2` triggers iff it exceeds `T + (M - 1) * base` with
//!    `T = JitterTolerance` (ms), `M = JitterToleranceMultiplier`, and
//!    `base = max(rtt_old, rtt_new) / 2` (ms). A drifting clock moves the two directions by
//!    opposite amounts and never triggers; both directions moving by `x` trigger at `x > T`
//!    (upstream's vectors, unchanged);
//! 4. a change of one direction alone moves the round trip by only `x`, and one link cannot tell
//!    it from a symmetric change `x/2` plus a clock change `x/2`. The rest of the graph can:
//!    [`Hysteresis::evaluate`] fits every node's potential change since the last solve from all
//!    links (exact in a full mesh), and the edge's **residual** (its change minus the fitted
//!    potential difference, `x · (1 − 1/N)` in a full mesh of N nodes) triggers when it and the
//!    full round-trip change `|rtt_new - rtt_old|` both exceed the threshold. The round-trip
//!    guard keeps a clock change from ever triggering where the fit is only approximate, and the
//!    noise to beat stays one direction's jitter, not the sum of two;
//! 5. without the reverse edge (one-way only): `|new - old| > T`, the difference of two values of
//!    the same edge — free of a constant offset but not of drift (rare: a Pong in each direction
//!    gives both).
//!
//! `T <= 0` is treated as 0 and `M < 1` as 1, so `T = 0, M = 1` triggers on any change.
//! For a link whose two directions move together and zero offset this is exactly upstream's
//! supernode rule (`|new - old| > T + (M-1) max`).
//! Besides edges, a change of the vertex set triggers immediately.

use std::collections::BTreeSet;

use super::graph::Graph;
use super::ids::NodeId;

/// The config keys of `GraphRecalculateSetting` used here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecalculateSetting {
    /// `JitterTolerance`, milliseconds.
    pub jitter_tolerance_ms: f64,
    /// `JitterToleranceMultiplier`.
    pub jitter_tolerance_multiplier: f64,
    /// `RecalculateCoolDown`, seconds.
    pub recalculate_cooldown: f64,
}

impl Default for RecalculateSetting {
    /// Upstream's example supernode values: 30 ms, x1.01, 5 s.
    fn default() -> Self {
        RecalculateSetting {
            jitter_tolerance_ms: 30.0,
            jitter_tolerance_multiplier: 1.01,
            recalculate_cooldown: 5.0,
        }
    }
}

/// How much an edge changed since the last solve, in increasing importance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Same value (or infinite both times).
    None,
    /// Changed, within the tolerance.
    Jitter,
    /// Changed beyond the tolerance (subject to the cooldown).
    Significant,
    /// Finite ↔ infinite, or the vertex set changed (bypasses the cooldown).
    Connectivity,
}

impl RecalculateSetting {
    /// Classifies one directed edge on its own link (rules 1, 3, 4 of the module docs; no
    /// graph-wide potential, so a change in one direction alone counts half). `old`/`new` are
    /// its weights at the last solve and now; `old_rev`/`new_rev` those of the reverse edge
    /// (infinity if absent). Seconds.
    pub fn classify(&self, old: f64, new: f64, old_rev: f64, new_rev: f64) -> Change {
        self.classify_with_residual(old, new, old_rev, new_rev, 0.0)
    }

    /// [`Self::classify`] plus rule 4 of the module docs: `residual` (seconds) is this edge's
    /// change since the last solve minus the graph-wide potential change fitted across it (see
    /// [`Hysteresis::evaluate`]); it triggers when it and the link's round-trip change both
    /// exceed the threshold. `0` = no estimate.
    pub fn classify_with_residual(
        &self,
        old: f64,
        new: f64,
        old_rev: f64,
        new_rev: f64,
        residual: f64,
    ) -> Change {
        let (oi, ni) = (old.is_infinite(), new.is_infinite());
        if oi != ni {
            return Change::Connectivity;
        }
        if oi || old == new {
            return Change::None;
        }
        let t = if self.jitter_tolerance_ms > 0.0 {
            self.jitter_tolerance_ms
        } else {
            0.0
        };
        let m = if self.jitter_tolerance_multiplier > 1.0 {
            self.jitter_tolerance_multiplier
        } else {
            1.0
        };
        let significant = if old_rev.is_finite() && new_rev.is_finite() {
            // A potential change (clock offset or drift) moves the two directions by opposite
            // amounts, so only the round trip tells a path-cost change from a clock change.
            let (rtt_old, rtt_new) = (old + old_rev, new + new_rev);
            let rtt_delta_ms = (rtt_new - rtt_old).abs() * 1000.0;
            let threshold = t + (m - 1.0) * (rtt_old.max(rtt_new) / 2.0 * 1000.0).max(0.0);
            // The residual alone would let an inexact potential fit (a sparse graph) pass a
            // clock change; the round-trip guard is exact, and the residual keeps the jitter
            // of a single direction (not the sum of two) as the noise to beat.
            rtt_delta_ms / 2.0 > threshold
                || (rtt_delta_ms > threshold && residual.abs() * 1000.0 > threshold)
        } else {
            (new - old).abs() * 1000.0 > t
        };
        if significant {
            Change::Significant
        } else {
            Change::Jitter
        }
    }
}

/// Snapshot of the weights used by the last solve, plus the time of that solve.
#[derive(Clone, Debug, Default)]
pub struct Hysteresis {
    setting: RecalculateSetting,
    last_recalc: Option<f64>,
    nodes: BTreeSet<NodeId>,
    /// Finite weights at the last solve, sorted by `(src, dst)`.
    weights: Vec<((NodeId, NodeId), f64)>,
}

type Weights = Vec<((NodeId, NodeId), f64)>;

/// Finite weights at `now`, sorted by `(src, dst)` (the graph iterates its edges in order).
fn current_weights(graph: &Graph, now: f64) -> Weights {
    graph
        .weighted_edges(now)
        .into_iter()
        .map(|e| ((e.src, e.dst), e.latency + e.additional_cost))
        .collect()
}

impl Hysteresis {
    /// No snapshot yet: the first evaluation reports a change if the graph has any vertex.
    pub fn new(setting: RecalculateSetting) -> Self {
        Hysteresis {
            setting,
            ..Default::default()
        }
    }

    /// The settings.
    pub fn setting(&self) -> &RecalculateSetting {
        &self.setting
    }

    /// Replaces the settings (the snapshot stays).
    pub fn set_setting(&mut self, setting: RecalculateSetting) {
        self.setting = setting;
    }

    /// Time of the last recorded solve.
    pub fn last_recalc(&self) -> Option<f64> {
        self.last_recalc
    }

    /// The strongest change of `graph` at `now` relative to the snapshot, ignoring the cooldown.
    ///
    /// Fits the node potential change `p` since the snapshot from every link finite in both
    /// directions both times: `p(v) = Σ_u (Δ(u→v) − Δ(v→u)) / 2 / (deg(v) + 1)`, with
    /// `Δ = new − old` (seconds). In a full mesh this is the least-squares fit and absorbs any
    /// clock offset or drift exactly, so `Δ(u→v) − (p(v) − p(u))` is the edge's own change
    /// (`x · (1 − 1/N)` for a change `x` of one direction in N nodes); elsewhere it is an
    /// approximation, which the round-trip guard of rule 4 keeps from triggering on a clock.
    /// O(edges · log edges): one binary search per edge (its reverse).
    pub fn evaluate(&self, graph: &Graph, now: f64) -> Change {
        let nodes: BTreeSet<NodeId> = graph.nodes().collect();
        if nodes != self.nodes {
            return Change::Connectivity;
        }
        let cur = current_weights(graph, now);
        // One row per directed edge in the snapshot or now: (key, old, new), ascending (a merge
        // of the two sorted lists), then each row's reverse found once (not per use).
        let mut rows: Vec<((NodeId, NodeId), f64, f64)> =
            Vec::with_capacity(self.weights.len().max(cur.len()));
        let (mut i, mut j) = (0, 0);
        while i < self.weights.len() || j < cur.len() {
            let a = self.weights.get(i).map(|e| e.0);
            let b = cur.get(j).map(|e| e.0);
            match (a, b) {
                (Some(ka), Some(kb)) if ka == kb => {
                    rows.push((ka, self.weights[i].1, cur[j].1));
                    i += 1;
                    j += 1;
                }
                (Some(ka), Some(kb)) if ka < kb => {
                    rows.push((ka, self.weights[i].1, f64::INFINITY));
                    i += 1;
                }
                (Some(ka), None) => {
                    rows.push((ka, self.weights[i].1, f64::INFINITY));
                    i += 1;
                }
                (_, Some(kb)) => {
                    rows.push((kb, f64::INFINITY, cur[j].1));
                    j += 1;
                }
                (None, None) => unreachable!(),
            }
        }
        let rev: Vec<(f64, f64)> = rows
            .iter()
            .map(|&((u, v), _, _)| {
                rows.binary_search_by(|r| r.0.cmp(&(v, u)))
                    .map_or((f64::INFINITY, f64::INFINITY), |p| (rows[p].1, rows[p].2))
            })
            .collect();
        // Node ids are u16: a direct table beats hashing a million times at N = 1000.
        let mut pos = vec![0u32; usize::from(NodeId::MAX) + 1];
        for (k, &n) in nodes.iter().enumerate() {
            pos[usize::from(n)] = k as u32;
        }
        let at = |n: NodeId| pos[usize::from(n)] as usize;
        let mut sum = vec![0.0f64; nodes.len()];
        let mut count = vec![0usize; nodes.len()];
        for (&((u, v), old, new), &(old_rev, new_rev)) in rows.iter().zip(&rev) {
            if old.is_finite() && new.is_finite() && old_rev.is_finite() && new_rev.is_finite() {
                // Each direction adds its half: u→v gives v its +Δ/2, v→u gives v its −Δ/2.
                let half = (new - old) / 2.0;
                sum[at(v)] += half;
                sum[at(u)] -= half;
                count[at(v)] += 1;
            }
        }
        let p = |n: NodeId| sum[at(n)] / (count[at(n)] + 1) as f64;
        let mut worst = Change::None;
        for (&((u, v), old, new), &(old_rev, new_rev)) in rows.iter().zip(&rev) {
            let residual = if old.is_finite() && new.is_finite() {
                (new - old) - (p(v) - p(u))
            } else {
                0.0
            };
            let c = self
                .setting
                .classify_with_residual(old, new, old_rev, new_rev, residual);
            if c == Change::Connectivity {
                return c;
            }
            worst = worst.max(c);
        }
        worst
    }

    /// Whether the graph must be re-solved at `now`: a connectivity change always, a
    /// significant change only once the cooldown since the last solve has passed.
    pub fn recalc_needed(&self, graph: &Graph, now: f64) -> bool {
        match self.evaluate(graph, now) {
            Change::Connectivity => true,
            Change::Significant => match self.last_recalc {
                Some(t) => now >= t + self.setting.recalculate_cooldown,
                None => true,
            },
            _ => false,
        }
    }

    /// Records that `graph` was solved at `now`: every edge's current weight becomes the
    /// reference (upstream: "all edges take their current values").
    pub fn record(&mut self, graph: &Graph, now: f64) {
        self.nodes = graph.nodes().collect();
        self.weights = current_weights(graph, now);
        self.last_recalc = Some(now);
    }

    /// [`Self::record`] after an incremental solve: only the listed edges may differ from the
    /// snapshot (`(src, dst)` and the weight at `now`, latency + AC, infinity = none), the
    /// vertex set is unchanged. Gives the same snapshot as [`Self::record`] when every edge whose
    /// weight changed since the last record is listed.
    pub fn record_changes(&mut self, changes: &[((NodeId, NodeId), f64)], now: f64) {
        for &(k, w) in changes {
            match self.weights.binary_search_by(|e| e.0.cmp(&k)) {
                Ok(p) if w.is_finite() => self.weights[p].1 = w,
                Ok(p) => {
                    self.weights.remove(p);
                }
                Err(p) if w.is_finite() => self.weights.insert(p, (k, w)),
                Err(_) => {}
            }
        }
        self.last_recalc = Some(now);
    }

    /// The snapshot's finite weights (latency + AC, seconds) by `(src, dst)`, ascending: what the
    /// last recorded solve used.
    pub fn weights(&self) -> &[((NodeId, NodeId), f64)] {
        &self.weights
    }

    /// [`Self::record`] from the edges the solver was just given (`graph.weighted_edges(now)`),
    /// so a solve walks the graph's edge map once instead of twice.
    pub fn record_weighted(
        &mut self,
        graph: &Graph,
        edges: &[super::solve::WeightedEdge],
        now: f64,
    ) {
        self.nodes = graph.nodes().collect();
        // Reuses the old snapshot's allocation (millions of edges at N = 2000).
        self.weights.clear();
        self.weights.extend(
            edges
                .iter()
                .map(|e| ((e.src, e.dst), e.latency + e.additional_cost)),
        );
        debug_assert!(self.weights.windows(2).all(|w| w[0].0 < w[1].0));
        self.last_recalc = Some(now);
    }

    /// [`Self::record_weighted`] with the list already built by the caller (in the walk that
    /// also built the solver's input): `((src, dst), latency + AC)` of every edge whose
    /// effective latency at `now` is finite, ascending. Returns the previous list, whose
    /// allocation the caller can fill next time (millions of edges at N = 2000).
    pub fn record_snapshot(
        &mut self,
        graph: &Graph,
        weights: Vec<((NodeId, NodeId), f64)>,
        now: f64,
    ) -> Vec<((NodeId, NodeId), f64)> {
        debug_assert!(weights.windows(2).all(|w| w[0].0 < w[1].0));
        self.nodes = graph.nodes().collect();
        self.last_recalc = Some(now);
        std::mem::replace(&mut self.weights, weights)
    }
}
