//! Incremental all-pairs update: when one link (or a few) changes, patch the last solution
//! instead of running the blocked Floyd–Warshall again. The result is bit for bit the one
//! [`super::solve::solve`] gives on the changed graph — next hops, hop counts, ties and the
//! (lazily derived) distances — because the solve's answer is a mathematical function of the
//! edges' integer ticks (docs/routing.md, "Solve and the tie-breaking rule"): for every pair the
//! lexicographically smallest `(ticks, hops, first-hop index)`. Any algorithm that finds those
//! minima exactly, on the same tick grid, gives the same table.
//!
//! The engine keeps the solve's final packed keys ([`super::key`]), unshifted (potential 0),
//! beside the dense inputs. Per changed directed link `u → v` (its new one-hop key `e`):
//!
//! * **same ticks** (a change below the grid, or AC/latency trading places): no key changes;
//!   only the inputs (and so the lazily summed distances) change.
//! * **decrease** (fewer ticks, or a link coming up): a negative cycle through the link is
//!   detected first (`ticks(D[v][u]) + ticks(e) < 0`). Otherwise every pair can only improve by a
//!   path through the link: `D[a][b] = min(D[a][b], D[a][u] + e + D[v][b])` (next-hop fields
//!   stripped from all but the first term). Only rows `a` with `D[a][u] + e < D[a][v]` and
//!   columns `b` with `e + D[v][b] < D[u][b]` (without next-hop fields) can change, so the
//!   work is O(n) plus the changed block; O(n²) at worst.
//! * **increase** (more ticks, or a link going down): only pairs whose chosen route uses the
//!   link can change. They are found on the next-hop table: the destinations `b` with
//!   `next[u][b] = v`, and per such `b` the sources whose route to `b` passes `u` (a walk over
//!   the in-tree of `b`, each node visited once). Those pairs are recomputed by a Dijkstra
//!   restricted to the affected sources: each starts from its best exit into an unaffected
//!   node, then affected nodes relax each other in order of their key minus their old cost
//!   (the old costs are a feasible potential because weights only grew, so the order is valid
//!   with negative weights, i.e. clock offsets). Cost O(n · affected + affected²) per `b`.
//!
//! A batch applies its increases first, then its decreases, one link at a time; each step is
//! exact for the graph in between. The full blocked solve is used instead (same result, by
//! construction) when the grid changes (`Q` depends on the largest |weight|; see
//! [`KeySpace::new`]), when clock offsets force the offset-reduced ticks (`solve.rs`, `reduce`;
//! those depend on a spanning tree of the whole graph), when a node is new, when a decrease
//! would close a negative cycle (so that the error is the solve's own), or when the increases
//! of a batch would cost more than [`IncrementalSolver::max_work`] (default
//! [`default_max_work`], about half a full solve; measured, see docs/routing.md).
//! An update either succeeds or leaves the engine exactly as it was (an undo log).

use std::fmt;

use super::ids::{is_usable, NodeId, INVALID};
use super::key::KeySpace;
use super::solve::{
    edge_values, max_abs_weight, uses_reduced, DenseInput, KeyDist, Prepared, RouteError, Solution,
    WeightedEdge, RAW_MIN_EXPONENT,
};

/// The default [`IncrementalSolver::max_work`] for `n` nodes: `n³ / 128` work units, at least
/// 4096. A unit is one step of the in-tree walk or one edge key of an exit scan (see
/// [`IncrementalSolver::max_work`]); measured natively at N = 1000 a unit costs about 13 ns and
/// the full solve about 190 ms, i.e. about `n³ / 68` units, so the increases stop after about
/// half a full solve's time and hand over to it.
pub fn default_max_work(n: usize) -> usize {
    // u64: n³ exceeds a 32-bit usize (wasm32) from n ≈ 1626.
    ((n as u64).pow(3) / 128).clamp(4096, usize::MAX as u64) as usize
}

/// Smallest batch limit (see [`FullReason::TooManyChanges`]), for small graphs.
pub const MIN_BATCH_LIMIT: usize = 64;

/// How an update was carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMode {
    /// No key changed (only inputs, e.g. a change below the tick grid or of an unused link).
    Unchanged,
    /// Patched in place.
    Incremental,
    /// The full blocked solve ran; the reason says why.
    Full(FullReason),
}

/// Why an update used the full solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullReason {
    /// A node not in the current solution.
    NewNode,
    /// The tick grid `Q` changed (the largest |weight| moved across a power of two).
    GridChanged,
    /// Clock offsets make the solve use offset-reduced ticks (docs/routing.md).
    OffsetReduced,
    /// The increases would cost more than `max_work` (many routes use the changed links).
    TooManyAffected,
    /// A decrease closes a negative cycle: the full solve reports it.
    NegativeCycle,
    /// More links changed their ticks than [`MIN_BATCH_LIMIT`] or `n`, whichever is larger
    /// (each costs at least O(n), a batch of n about a full solve's set-up).
    TooManyChanges,
}

impl fmt::Display for FullReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FullReason::NewNode => "new node",
            FullReason::GridChanged => "tick grid changed",
            FullReason::OffsetReduced => "offset-reduced ticks",
            FullReason::TooManyAffected => "too many affected pairs",
            FullReason::NegativeCycle => "negative cycle",
            FullReason::TooManyChanges => "too many changed links",
        })
    }
}

/// What one update did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateReport {
    pub mode: UpdateMode,
    /// Pairs whose key (cost, hops or next hop) changed; `n * n` after a full solve.
    pub changed_pairs: usize,
    /// Whether any next hop changed.
    pub next_changed: bool,
}

/// An all-pairs solution that can be updated link by link (see the module docs).
///
/// Memory: besides the [`Solution`], two `n × n` `f64` matrices (keys and AdditionalCost),
/// about 16 MB at N = 1000.
#[derive(Clone)]
pub struct IncrementalSolver {
    sol: Solution,
    /// Row-major final keys on potential 0; empty when `ks` is `None`.
    keys: Vec<f64>,
    /// Row-major AdditionalCost (s) of every stored edge (0 where none).
    ac: Vec<f64>,
    /// The key space of raw ticks; `None` when the solve used offset-reduced ticks.
    ks: Option<KeySpace>,
    /// Largest finite |weight|.
    max_abs: f64,
    max_work: usize,
}

impl fmt::Debug for IncrementalSolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IncrementalSolver")
            .field("n", &self.sol.len())
            .field("q", &self.ks.map(|k| k.q))
            .finish()
    }
}

/// Undo information of one update.
#[derive(Default)]
struct Undo {
    /// `(pair, old key)`, in order of change.
    keys: Vec<(usize, f64)>,
    /// `(pair, old weight, old latency, old ac)`.
    inputs: Vec<(usize, f64, f64, f64)>,
}

/// A step of an update that cannot stay incremental.
enum Abort {
    Full(FullReason),
}

impl IncrementalSolver {
    /// Solves `nodes`/`edges` in full, exactly as [`super::solve::solve`] (same errors).
    pub fn new(nodes: &[NodeId], edges: &[WeightedEdge]) -> Result<Self, RouteError> {
        let prep = Prepared::new(nodes, edges)?;
        let n = prep.ids.len();
        let mut index = vec![0u32; 65536];
        for (p, &id) in prep.ids.iter().enumerate() {
            index[id as usize] = p as u32;
        }
        let mut ac = vec![0.0f64; n * n];
        for e in edges.iter().filter(|e| e.src != e.dst) {
            let (i, j) = (
                index[e.src as usize] as usize,
                index[e.dst as usize] as usize,
            );
            ac[i * n + j] = edge_values(e.latency, e.additional_cost).2;
        }
        Self::from_prepared(prep, ac, default_max_work(n))
    }

    /// Solves dense inputs in full (see [`DenseInput`]): the same engine, solution and errors
    /// as [`IncrementalSolver::new`] given the same links as a [`WeightedEdge`] list.
    pub fn from_dense(input: DenseInput) -> Result<Self, RouteError> {
        let (ids, weight, latency, ac, max_abs) = input.finish();
        let n = ids.len();
        let prep = Prepared::from_dense_max(ids, weight, latency, max_abs, || ac.clone());
        Self::from_prepared(prep, ac, default_max_work(n))
    }

    fn from_prepared(prep: Prepared, ac: Vec<f64>, max_work: usize) -> Result<Self, RouteError> {
        let max_abs = prep.max_abs;
        let ks = prep.reduced.is_none().then_some(prep.space);
        let (mut d, pot) = prep.kernel();
        // The kernel's potentials come off in the decoding pass (only raw ticks keep keys).
        let sol = prep.finish_keys(&mut d, ks.is_some().then_some(&pot[..]))?;
        let keys = match ks {
            Some(_) => d,
            None => Vec::new(),
        };
        Ok(IncrementalSolver {
            sol,
            keys,
            ac,
            ks,
            max_abs,
            max_work,
        })
    }

    /// The current solution (identical to a full solve of the current graph).
    pub fn solution(&self) -> &Solution {
        &self.sol
    }

    /// The work the increases of one update may do before the full solve is used instead, in
    /// units of one step of the walk that finds the sources routed over a link (n per
    /// destination whose route starts with it) plus one edge key per affected pair and node
    /// (the exit scan; n per pair) and per pair of affected nodes (the restricted Dijkstra).
    pub fn max_work(&self) -> usize {
        self.max_work
    }

    /// Sets that threshold (0: every increase that touches a route runs the full solve;
    /// `usize::MAX`: never fall back for that reason).
    pub fn set_max_work(&mut self, units: usize) {
        self.max_work = units;
    }

    /// The stored inputs of `src → dst`: `(latency, additional_cost)` in seconds, latency
    /// infinite when there is no edge; `None` for an unknown node.
    pub fn edge(&self, src: NodeId, dst: NodeId) -> Option<(f64, f64)> {
        let (i, j) = (self.sol.index_of(src)?, self.sol.index_of(dst)?);
        let p = i * self.sol.len() + j;
        let lat = self.lat_table()[p];
        Some((
            lat,
            if lat == f64::INFINITY {
                0.0
            } else {
                self.ac[p]
            },
        ))
    }

    fn lat_table(&self) -> &[f64] {
        &self
            .sol
            .key_dist()
            .expect("an engine's solution keeps its inputs")
            .latency
    }

    /// Every stored finite edge, as solver input (row-major order).
    pub fn edges(&self) -> Vec<WeightedEdge> {
        let ids = self.sol.ids();
        let n = ids.len();
        let lat = self.lat_table();
        let mut out = Vec::new();
        for (p, &l) in lat.iter().enumerate() {
            if l != f64::INFINITY {
                out.push(WeightedEdge::new(ids[p / n], ids[p % n], l, self.ac[p]));
            }
        }
        out
    }

    /// Applies `changes` — the new state of each listed directed link: `latency` in seconds
    /// (non-finite = the link is down or gone), `additional_cost` in seconds — and updates the
    /// solution. Unlisted links keep their values. A later entry for the same link wins.
    ///
    /// Errors: [`RouteError::InvalidNodeId`] for a reserved id, [`RouteError::NegativeCycle`]
    /// exactly when [`super::solve::solve`] on the changed graph fails with it. On error the
    /// engine (inputs and solution) is unchanged.
    pub fn update(&mut self, changes: &[WeightedEdge]) -> Result<UpdateReport, RouteError> {
        if let Some(bad) = changes
            .iter()
            .flat_map(|c| [c.src, c.dst])
            .find(|&id| !is_usable(id))
        {
            return Err(RouteError::InvalidNodeId(bad));
        }
        let known = |id| self.sol.index_of(id).is_some();
        if !changes.iter().all(|c| known(c.src) && known(c.dst)) {
            let mut nodes: Vec<NodeId> = self.sol.ids().to_vec();
            nodes.extend(changes.iter().flat_map(|c| [c.src, c.dst]));
            let mut edges = self.edges();
            edges.extend_from_slice(changes);
            let mut fresh = IncrementalSolver::new(&nodes, &edges)?;
            if self.max_work != default_max_work(self.sol.len()) {
                fresh.max_work = self.max_work;
            }
            let old = std::mem::replace(self, fresh);
            return Ok(self.full_report(FullReason::NewNode, &old.sol));
        }
        let mut undo = Undo::default();
        match self.apply(changes, &mut undo) {
            Ok(report) => Ok(report),
            Err(Abort::Full(reason)) => {
                // Keys back as they were; the inputs stay changed for the full solve.
                self.rollback_keys(&mut undo);
                match self.full_from_inputs() {
                    Ok(old) => Ok(self.full_report(reason, &old)),
                    Err(e) => {
                        self.rollback_inputs(&mut undo);
                        Err(e)
                    }
                }
            }
        }
    }

    fn full_report(&self, reason: FullReason, old: &Solution) -> UpdateReport {
        let n = self.sol.len();
        UpdateReport {
            mode: UpdateMode::Full(reason),
            changed_pairs: n * n,
            next_changed: old.ids() != self.sol.ids() || old.next_table() != self.sol.next_table(),
        }
    }

    /// Replaces the solution by a full solve of the current inputs and returns the old one
    /// (the state is unchanged on error).
    fn full_from_inputs(&mut self) -> Result<Solution, RouteError> {
        let kd = self.sol.key_dist().expect("engine inputs");
        let prep = Prepared::from_dense(
            self.sol.ids().to_vec(),
            kd.weight.clone(),
            kd.latency.clone(),
            || self.ac.clone(),
        );
        let fresh = Self::from_prepared(prep, self.ac.clone(), self.max_work)?;
        Ok(std::mem::replace(self, fresh).sol)
    }

    fn apply(&mut self, changes: &[WeightedEdge], undo: &mut Undo) -> Result<UpdateReport, Abort> {
        let n = self.sol.len();
        // Resolve to pair positions; the last entry per link wins.
        let mut items: Vec<(usize, f64, f64, f64)> = Vec::with_capacity(changes.len());
        for c in changes.iter().filter(|c| c.src != c.dst) {
            let p = self.sol.index_of(c.src).expect("known") * n
                + self.sol.index_of(c.dst).expect("known");
            let (w, l, a) = edge_values(c.latency, c.additional_cost);
            items.push((p, w, l, a));
        }
        // Stable: equal pairs keep their order, and the last of each run wins.
        items.sort_by_key(|it| it.0);
        let mut uniq: Vec<(usize, f64, f64, f64)> = Vec::with_capacity(items.len());
        for it in items {
            match uniq.last_mut() {
                Some(last) if last.0 == it.0 => *last = it,
                _ => uniq.push(it),
            }
        }
        let items = uniq;
        // Write the inputs (all of them: the full solve, if needed, reads them).
        let old_max = self.max_abs;
        let mut rescan = false;
        let mut new_max = self.max_abs;
        let mut old_w = Vec::with_capacity(items.len());
        {
            let (_, _, kd) = self.sol.parts_mut().expect("engine inputs");
            for &(p, w, l, a) in &items {
                let ow = kd.weight[p];
                undo.inputs.push((p, ow, kd.latency[p], self.ac[p]));
                old_w.push(ow);
                kd.weight[p] = w;
                kd.latency[p] = l;
                self.ac[p] = a;
                if w.is_finite() {
                    new_max = new_max.max(w.abs());
                }
                if ow.is_finite() && ow.abs() == old_max && !(w.is_finite() && w.abs() >= old_max) {
                    rescan = true;
                }
            }
            if rescan {
                new_max = max_abs_weight(&kd.weight);
            }
        }
        self.max_abs = new_max;
        let Some(ks) = self.ks else {
            return Err(Abort::Full(FullReason::OffsetReduced));
        };
        let new_ks = KeySpace::new(n, new_max);
        if new_ks.q != ks.q {
            return Err(Abort::Full(if new_ks.q < RAW_MIN_EXPONENT {
                FullReason::OffsetReduced
            } else {
                FullReason::GridChanged
            }));
        }
        if ks.q < RAW_MIN_EXPONENT {
            // The full solve would try the offset-reduced ticks on the changed graph: take the
            // same decision (usually settled by an O(n²) bound, see `reduce_may_help`).
            let kd = self.sol.key_dist().expect("engine inputs");
            if uses_reduced(&kd.weight, &kd.latency, &self.ac, n, ks.q, new_max) {
                return Err(Abort::Full(FullReason::OffsetReduced));
            }
        }
        // Classify by ticks: only the integer grid matters for the keys.
        let tick = |w: f64| if w == f64::INFINITY { w } else { ks.ticks(w) };
        let mut inc = Vec::new();
        let mut dec = Vec::new();
        for (&(p, w, _, _), &ow) in items.iter().zip(&old_w) {
            let (t_old, t_new) = (tick(ow), tick(w));
            if t_new > t_old {
                inc.push((p, ()));
            } else if t_new < t_old {
                dec.push((p, t_new));
            }
        }
        // Each step must see exactly the graph in between: the links still to come keep
        // their old weights until their own step.
        let staged: Vec<(usize, f64, f64)> = items
            .iter()
            .zip(&old_w)
            .filter(|(it, &ow)| tick(it.1) != tick(ow))
            .map(|(it, &ow)| (it.0, it.1, ow))
            .collect();
        let set_weight = |sol: &mut Solution, p: usize, w: f64| {
            sol.parts_mut().expect("engine inputs").2.weight[p] = w;
        };
        for &(p, _, ow) in &staged {
            set_weight(&mut self.sol, p, ow);
        }
        if inc.len() + dec.len() > n.max(MIN_BATCH_LIMIT) {
            return Err(Abort::Full(FullReason::TooManyChanges));
        }
        let mut budget = self.max_work;
        let mut steps = || -> Result<(), Abort> {
            for &(p, ()) in &inc {
                set_weight(
                    &mut self.sol,
                    p,
                    items.iter().rev().find(|it| it.0 == p).expect("item").1,
                );
                self.increase(&ks, p / n, p % n, &mut budget, undo)?;
            }
            for &(p, t) in &dec {
                set_weight(
                    &mut self.sol,
                    p,
                    items.iter().rev().find(|it| it.0 == p).expect("item").1,
                );
                self.decrease(&ks, p / n, p % n, t, undo)?;
            }
            Ok(())
        };
        if let Err(e) = steps() {
            for &(p, w, _) in &staged {
                set_weight(&mut self.sol, p, w);
            }
            return Err(e);
        }
        // Derived tables of the changed pairs. The undo log lists every changed key; a pair's
        // first entry holds its value before the update.
        let mut seen = vec![0u64; (n * n).div_ceil(64)];
        let mut first: Vec<(usize, f64)> = Vec::new();
        for &(p, k) in &undo.keys {
            if seen[p / 64] & (1 << (p % 64)) == 0 {
                seen[p / 64] |= 1 << (p % 64);
                first.push((p, k));
            }
        }
        let mut next_changed = false;
        let mut changed_pairs = 0;
        {
            let keys = &self.keys;
            let (ids, next, kd) = self.sol.parts_mut().expect("engine inputs");
            for &(p, old) in &first {
                let new = keys[p];
                derive(&ks, ids, new, p, next, kd);
                if new.to_bits() != old.to_bits() {
                    changed_pairs += 1;
                    next_changed |= next_field(&ks, new) != next_field(&ks, old);
                }
            }
        }
        Ok(UpdateReport {
            mode: if undo.keys.is_empty() {
                UpdateMode::Unchanged
            } else {
                UpdateMode::Incremental
            },
            changed_pairs,
            next_changed,
        })
    }

    fn set_key(&mut self, p: usize, k: f64, undo: &mut Undo) {
        let old = self.keys[p];
        if old.to_bits() != k.to_bits() {
            undo.keys.push((p, old));
            self.keys[p] = k;
        }
    }

    /// The link `u → v` got more ticks (its new weight is in place, infinity = down); keys still
    /// hold the graph before this step.
    fn increase(
        &mut self,
        ks: &KeySpace,
        u: usize,
        v: usize,
        budget: &mut usize,
        undo: &mut Undo,
    ) -> Result<(), Abort> {
        let n = self.sol.len();
        let inf = f64::INFINITY;
        let kd = self.sol.key_dist().expect("engine inputs");
        // Destinations whose route from u starts with this link.
        let dests: Vec<usize> = (0..n)
            .filter(|&b| b != u && kd.hops[u * n + b] != 0 && kd.nidx[u * n + b] as usize == v)
            .collect();
        if dests.is_empty() {
            return Ok(());
        }
        // The walks alone cost n per destination.
        let walks = dests.len().saturating_mul(n);
        if walks > *budget {
            return Err(Abort::Full(FullReason::TooManyAffected));
        }
        *budget -= walks;
        let hm = ks.hop_scale();
        // 0 = unknown, 1 = route to b passes u, 2 = it does not (or no route).
        let mut state = vec![0u8; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut colb = vec![inf; n];
        let mut set: Vec<usize> = Vec::new();
        let mut label: Vec<f64> = Vec::new();
        let mut shift: Vec<f64> = Vec::new();
        let mut done: Vec<bool> = Vec::new();
        let mut results: Vec<(usize, f64)> = Vec::new();
        for &b in &dests {
            let kd = self.sol.key_dist().expect("engine inputs");
            state.iter_mut().for_each(|s| *s = 0);
            state[b] = 2;
            state[u] = 1;
            set.clear();
            for a in 0..n {
                let mut x = a;
                while state[x] == 0 {
                    if kd.hops[x * n + b] == 0 {
                        state[x] = 2;
                        break;
                    }
                    stack.push(x);
                    x = kd.nidx[x * n + b] as usize;
                }
                let s = state[x];
                for y in stack.drain(..) {
                    state[y] = s;
                }
                if s == 1 {
                    set.push(a);
                }
            }
            let work = set.len().saturating_mul(n + set.len());
            if work > *budget {
                return Err(Abort::Full(FullReason::TooManyAffected));
            }
            *budget -= work;
            // Stripped keys of the unaffected nodes towards b (affected: infinity).
            for (x, c) in colb.iter_mut().enumerate() {
                *c = if state[x] == 1 {
                    inf
                } else {
                    ks.strip(self.keys[x * n + b])
                };
            }
            // Best exit of each affected node into an unaffected one.
            label.clear();
            shift.clear();
            for &a in &set {
                let wrow = &kd.weight[a * n..(a + 1) * n];
                let mut best = inf;
                for (x, (&w, &c)) in wrow.iter().zip(&colb).enumerate() {
                    if w != inf && c != inf {
                        let cand = ks.ticks_fast(w) * hm + ks.edge_tail(x) + c;
                        best = if cand < best { cand } else { best };
                    }
                }
                label.push(best);
                // Old cost in ticks (times H·M) as the potential of the search order.
                shift.push(ks.key_ticks(self.keys[a * n + b]) * hm);
            }
            // Dijkstra among the affected nodes, ordered by key minus old cost.
            done.clear();
            done.resize(set.len(), false);
            for _ in 0..set.len() {
                let mut pick = usize::MAX;
                let mut best = inf;
                for (s, (&l, &sh)) in label.iter().zip(&shift).enumerate() {
                    if !done[s] && l != inf && (pick == usize::MAX || l - sh < best) {
                        best = l - sh;
                        pick = s;
                    }
                }
                if pick == usize::MAX {
                    break;
                }
                done[pick] = true;
                let a = set[pick];
                let sa = ks.strip(label[pick]);
                let tail = ks.edge_tail(a);
                for (s, &y) in set.iter().enumerate() {
                    if done[s] {
                        continue;
                    }
                    let w = kd.weight[y * n + a];
                    if w != inf {
                        let cand = ks.ticks_fast(w) * hm + tail + sa;
                        if cand < label[s] {
                            label[s] = cand;
                        }
                    }
                }
            }
            results.clear();
            results.extend(set.iter().zip(&label).map(|(&a, &l)| (a * n + b, l)));
            for &(p, l) in &results {
                self.set_key(p, l, undo);
            }
            // The in-tree of b changed only inside the affected set; derive its next hops now
            // so that the next destination's walk (another b) is unaffected, and later
            // increases walk the new trees.
            let keys = &self.keys;
            let (ids, next, kd) = self.sol.parts_mut().expect("engine inputs");
            for &(p, _) in &results {
                derive(ks, ids, keys[p], p, next, kd);
            }
        }
        Ok(())
    }

    /// The link `u → v` got fewer ticks (`t_new`, finite); keys still hold the graph before
    /// this step.
    fn decrease(
        &mut self,
        ks: &KeySpace,
        u: usize,
        v: usize,
        t_new: f64,
        undo: &mut Undo,
    ) -> Result<(), Abort> {
        let n = self.sol.len();
        let inf = f64::INFINITY;
        let hm = ks.hop_scale();
        let back = self.keys[v * n + u];
        if back != inf && ks.key_ticks(back) + t_new < 0.0 {
            return Err(Abort::Full(FullReason::NegativeCycle));
        }
        let e = t_new * hm + ks.edge_tail(v);
        if e >= self.keys[u * n + v] {
            return Ok(());
        }
        let se = ks.strip(e);
        let sv: Vec<f64> = self.keys[v * n..(v + 1) * n]
            .iter()
            .map(|&k| ks.strip(k))
            .collect();
        // Columns other rows can improve: strictly better than u's route in (ticks, hops).
        let cols: Vec<usize> = (0..n)
            .filter(|&b| se + sv[b] < ks.strip(self.keys[u * n + b]))
            .collect();
        // Row u itself (its next-hop field may also win a tie).
        for (b, &s) in sv.iter().enumerate() {
            let cand = e + s;
            if cand < self.keys[u * n + b] {
                self.set_key(u * n + b, cand, undo);
            }
        }
        if cols.is_empty() {
            return Ok(());
        }
        for a in (0..n).filter(|&a| a != u) {
            let au = self.keys[a * n + u];
            if au == inf {
                continue;
            }
            let pref = au + se;
            if pref >= self.keys[a * n + v] {
                continue;
            }
            for &b in &cols {
                let cand = pref + sv[b];
                if cand < self.keys[a * n + b] {
                    self.set_key(a * n + b, cand, undo);
                }
            }
        }
        Ok(())
    }

    fn rollback_keys(&mut self, undo: &mut Undo) {
        let Some(ks) = self.ks else {
            undo.keys.clear();
            return;
        };
        for &(p, k) in undo.keys.iter().rev() {
            self.keys[p] = k;
        }
        let keys = &self.keys;
        if let Some((ids, next, kd)) = self.sol.parts_mut() {
            for &(p, _) in &undo.keys {
                derive(&ks, ids, keys[p], p, next, kd);
            }
        }
        undo.keys.clear();
    }

    fn rollback_inputs(&mut self, undo: &mut Undo) {
        if let Some((_, _, kd)) = self.sol.parts_mut() {
            for &(p, w, l, a) in undo.inputs.iter().rev() {
                kd.weight[p] = w;
                kd.latency[p] = l;
                self.ac[p] = a;
            }
        }
        self.max_abs = self
            .sol
            .key_dist()
            .map_or(0.0, |kd| max_abs_weight(&kd.weight));
        undo.inputs.clear();
    }
}

/// The next-hop index field of a key (`None` for infinity).
#[inline]
fn next_field(ks: &KeySpace, key: f64) -> Option<usize> {
    (key != f64::INFINITY).then(|| ks.next_index(key))
}

/// Next hop, its index and the hop count of pair `p` from its key, as `finish_keys` does.
#[inline]
fn derive(
    ks: &KeySpace,
    ids: &[NodeId],
    key: f64,
    p: usize,
    next: &mut [NodeId],
    kd: &mut KeyDist,
) {
    if key == f64::INFINITY {
        next[p] = INVALID;
        kd.nidx[p] = 0;
        kd.hops[p] = 0;
        return;
    }
    let bits = ks.bits;
    let r = (key as i64).rem_euclid(1i64 << (2 * bits));
    let (h, v) = ((r >> bits) as usize, (r & ((1i64 << bits) - 1)) as usize);
    next[p] = ids[v];
    kd.nidx[p] = v as u16;
    kd.hops[p] = h as u16;
}
