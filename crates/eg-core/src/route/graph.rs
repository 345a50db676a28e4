//! The measured graph: directed edges with latency, AdditionalCost and expiry.
//!
//! An edge's effective latency at time `now` is:
//! * infinity if `now > valid_until` (expired) or the stored latency is not finite ("down");
//! * else the `ManualLatency` override for `(src, dst)` if one applies (an override `>= 99999` s
//!   means "down", upstream's config meaning);
//! * else the measured latency. Any finite value is a measurement: negative values and values
//!   far beyond upstream's 99999 are normal, they carry the clock offset between the two nodes.
//!
//! Its weight is the effective latency plus the AdditionalCost of the node it enters.

use std::collections::BTreeSet;

use super::ids::{is_usable, normalize_latency, normalize_upstream_latency, NodeId};
use super::manual::ManualLatency;
use super::solve::{solve, RouteError, Solution, WeightedEdge};

/// Stored state of one directed edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeState {
    /// Measured one-way latency in seconds (`f64::INFINITY` = down).
    pub latency: f64,
    /// AdditionalCost of the destination node, seconds (>= 0).
    pub additional_cost: f64,
    /// Absolute time (seconds) after which the edge counts as infinite.
    pub valid_until: f64,
}

/// One latency report (a Pong): `dst` measured `latency` seconds for packets from `src`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub src: NodeId,
    pub dst: NodeId,
    /// Filtered one-way latency, seconds.
    pub latency: f64,
    /// AdditionalCost in ms as reported; negative = "use the node's own value".
    pub additional_cost_ms: f64,
    /// Seconds the report stays valid.
    pub time_to_alive: f64,
}

/// Resolves an AdditionalCost given in milliseconds to seconds.
///
/// `reported_ms` is what the report (or a configured override) says; a negative value means
/// "use the node's own value", which the caller supplies as `own_ms` (e.g. the AC the edge
/// advertised, or the one in the supernode's peer list). Negative or non-finite results
/// become 0. This is what makes `AdditionalCost: -1` work (upstream bug #7).
pub fn resolve_additional_cost(reported_ms: f64, own_ms: f64) -> f64 {
    let ms = if reported_ms.is_nan() || reported_ms < 0.0 {
        own_ms
    } else {
        reported_ms
    };
    if ms.is_finite() && ms > 0.0 {
        ms / 1000.0
    } else {
        0.0
    }
}

/// No link stored in a cell (its `latency`): stored latencies are normalized, never NaN.
const ABSENT: f64 = f64::NAN;

const EMPTY: EdgeState = EdgeState {
    latency: ABSENT,
    additional_cost: 0.0,
    valid_until: f64::NEG_INFINITY,
};

/// The graph of one router (supernode or P2P edge).
///
/// Edges live in a dense matrix over the vertices' slots (a slot per vertex, given when it is
/// added, reused after a removal), row-major by source: the link `src -> dst` is one cell at a
/// computed address. A supernode stores every link of every report (a million a second at
/// N = 1000, each item of a report in another source's row); a sorted row per source cost a
/// search and a dependent cache miss per link (the row's header, then the probe), where a
/// computed address costs one independent store the CPU overlaps with the next ones. A report's
/// reverse links (`dst -> *`, the hysteresis pre-check reads them) are one contiguous row.
/// Iteration is ascending `(src, dst)`. Memory: 24 bytes per cell of a `cap × cap` matrix
/// (`cap` ≥ vertices, grown by a quarter at a time, so up to 25 % wider than needed): 35 MB for
/// 1000 vertices added one by one (cap 1200; 57 MB while the last growth copies), where the
/// sorted rows of a full mesh took 32 MB.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: BTreeSet<NodeId>,
    /// NodeId -> slot (`u32::MAX`: not a vertex); empty until the first vertex.
    slot: Vec<u32>,
    /// Slots given back by removed vertices.
    free: Vec<u32>,
    /// Slots handed out so far (free ones included).
    used: usize,
    /// Side of the cell matrix.
    cap: usize,
    /// `cap * cap` cells, row-major by source slot; `latency` NaN = no link.
    cells: Vec<EdgeState>,
    edge_count: usize,
    manual: ManualLatency,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    fn slot_of(&self, id: NodeId) -> Option<usize> {
        match self.slot.get(usize::from(id)) {
            Some(&s) if s != u32::MAX => Some(s as usize),
            _ => None,
        }
    }

    /// Adds a vertex (no-op if present).
    pub fn add_node(&mut self, id: NodeId) -> Result<(), RouteError> {
        if !is_usable(id) {
            return Err(RouteError::InvalidNodeId(id));
        }
        if self.slot_of(id).is_some() {
            return Ok(());
        }
        if self.slot.is_empty() {
            self.slot = vec![u32::MAX; usize::from(NodeId::MAX) + 1];
        }
        let s = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                if self.used == self.cap {
                    self.grow(self.used + 1);
                }
                self.used += 1;
                self.used - 1
            }
        };
        self.slot[usize::from(id)] = s as u32;
        self.nodes.insert(id);
        Ok(())
    }

    /// Makes the matrix at least `need` wide (a quarter more than now, in steps of 16), moving
    /// every row.
    fn grow(&mut self, need: usize) {
        let cap = need.max(self.cap + self.cap / 4).div_ceil(16) * 16;
        let mut cells = vec![EMPTY; cap * cap];
        for r in 0..self.cap {
            cells[r * cap..r * cap + self.cap]
                .copy_from_slice(&self.cells[r * self.cap..(r + 1) * self.cap]);
        }
        self.cells = cells;
        self.cap = cap;
    }

    /// Removes a vertex and every edge touching it.
    pub fn remove_node(&mut self, id: NodeId) {
        let Some(s) = self.slot_of(id) else {
            return;
        };
        let cap = self.cap;
        for k in 0..cap {
            for p in [s * cap + k, k * cap + s] {
                if !self.cells[p].latency.is_nan() {
                    self.cells[p] = EMPTY;
                    self.edge_count -= 1;
                }
            }
        }
        self.slot[usize::from(id)] = u32::MAX;
        self.free.push(s as u32);
        self.nodes.remove(&id);
    }

    /// Stores the edge `src -> dst` (adding both vertices). `latency` in seconds, any finite
    /// value (a non-finite one stores the edge as down), `additional_cost` in seconds (negative
    /// counts as 0), `valid_until` absolute seconds.
    pub fn set_edge(
        &mut self,
        src: NodeId,
        dst: NodeId,
        latency: f64,
        additional_cost: f64,
        valid_until: f64,
    ) -> Result<(), RouteError> {
        self.store(src, dst, latency, additional_cost, valid_until)
            .map(|_| ())
    }

    /// [`Graph::set_edge`] returning the link's state before (`None`: there was no link).
    pub fn store(
        &mut self,
        src: NodeId,
        dst: NodeId,
        latency: f64,
        additional_cost: f64,
        valid_until: f64,
    ) -> Result<Option<EdgeState>, RouteError> {
        self.add_node(src)?;
        self.add_node(dst)?;
        let (Some(s), Some(d)) = (self.slot_of(src), self.slot_of(dst)) else {
            unreachable!("both vertices were just added");
        };
        let ac = if additional_cost.is_finite() && additional_cost > 0.0 {
            additional_cost
        } else {
            0.0
        };
        Ok(self.put(s * self.cap + d, latency, ac, valid_until))
    }

    /// Writes one cell; returns what it held.
    #[inline]
    fn put(&mut self, p: usize, latency: f64, ac: f64, valid_until: f64) -> Option<EdgeState> {
        let c = &mut self.cells[p];
        let old = *c;
        *c = EdgeState {
            latency: normalize_latency(latency),
            additional_cost: ac,
            valid_until,
        };
        if old.latency.is_nan() {
            self.edge_count += 1;
            None
        } else {
            Some(old)
        }
    }

    /// Stores the links `srcs[k] -> dst` of one report received at `now`: latency
    /// `latencies[k]` (s, non-finite = down), AdditionalCost `additional_cost` (s, negative = 0),
    /// valid until `now + ttls[k]`. The same result as [`Graph::set_edge`] per link. Errors as
    /// `set_edge` (an unusable id); the links before it stay stored. Slices of unequal length are
    /// cut to the shortest.
    pub fn set_incoming(
        &mut self,
        dst: NodeId,
        srcs: &[NodeId],
        latencies: &[f64],
        ttls: &[f64],
        additional_cost: f64,
        now: f64,
    ) -> Result<(), RouteError> {
        self.set_incoming_with(dst, srcs, latencies, ttls, additional_cost, now, |_, _| {})
    }

    /// [`Graph::set_incoming`], calling `prev(k, state)` with what link `k` held before it was
    /// stored (`None`: no link), in order.
    #[allow(clippy::too_many_arguments)]
    pub fn set_incoming_with(
        &mut self,
        dst: NodeId,
        srcs: &[NodeId],
        latencies: &[f64],
        ttls: &[f64],
        additional_cost: f64,
        now: f64,
        mut prev: impl FnMut(usize, Option<EdgeState>),
    ) -> Result<(), RouteError> {
        let n = srcs.len().min(latencies.len()).min(ttls.len());
        let ac = if additional_cost.is_finite() && additional_cost > 0.0 {
            additional_cost
        } else {
            0.0
        };
        self.add_node(dst)?;
        for k in 0..n {
            let (s, d) = match (self.slot_of(srcs[k]), self.slot_of(dst)) {
                (Some(s), Some(d)) => (s, d),
                _ => {
                    // A new source vertex (may grow the matrix).
                    self.add_node(srcs[k])?;
                    match (self.slot_of(srcs[k]), self.slot_of(dst)) {
                        (Some(s), Some(d)) => (s, d),
                        _ => unreachable!("both vertices were just added"),
                    }
                }
            };
            let old = self.put(s * self.cap + d, latencies[k], ac, now + ttls[k]);
            prev(k, old);
        }
        Ok(())
    }

    /// Applies a report received at `now`. `own_ac_ms` is the AC to use when the report's AC
    /// is negative (see [`resolve_additional_cost`]).
    pub fn apply(&mut self, m: &Measurement, own_ac_ms: f64, now: f64) -> Result<(), RouteError> {
        let ac = resolve_additional_cost(m.additional_cost_ms, own_ac_ms);
        self.set_edge(m.src, m.dst, m.latency, ac, now + m.time_to_alive)
    }

    /// Removes one edge.
    pub fn remove_edge(&mut self, src: NodeId, dst: NodeId) {
        if let (Some(s), Some(d)) = (self.slot_of(src), self.slot_of(dst)) {
            let c = &mut self.cells[s * self.cap + d];
            if !c.latency.is_nan() {
                *c = EMPTY;
                self.edge_count -= 1;
            }
        }
    }

    /// Removes all edges (vertices stay).
    pub fn clear_edges(&mut self) {
        self.cells.iter_mut().for_each(|c| *c = EMPTY);
        self.edge_count = 0;
    }

    /// The override table.
    pub fn manual_latency(&self) -> &ManualLatency {
        &self.manual
    }

    /// The override table, mutably.
    pub fn manual_latency_mut(&mut self) -> &mut ManualLatency {
        &mut self.manual
    }

    /// Replaces the override table.
    pub fn set_manual_latency(&mut self, manual: ManualLatency) {
        self.manual = manual;
    }

    /// Vertices, ascending.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.iter().copied()
    }

    /// Stored edges `((src, dst), state)`, ascending.
    pub fn edges(&self) -> impl Iterator<Item = ((NodeId, NodeId), &EdgeState)> + '_ {
        let order = self.order();
        let cap = self.cap;
        (0..order.len()).flat_map(move |a| {
            let (s, si) = order[a];
            let row = &self.cells[si * cap..(si + 1) * cap];
            order.clone().into_iter().filter_map(move |(d, di)| {
                let e = &row[di];
                (!e.latency.is_nan()).then_some(((s, d), e))
            })
        })
    }

    /// The vertices ascending with their slots.
    fn order(&self) -> Vec<(NodeId, usize)> {
        self.nodes
            .iter()
            .map(|&id| (id, self.slot[usize::from(id)] as usize))
            .collect()
    }

    /// The stored state of one edge.
    #[inline]
    pub fn edge(&self, src: NodeId, dst: NodeId) -> Option<&EdgeState> {
        let (s, d) = (self.slot_of(src)?, self.slot_of(dst)?);
        let e = &self.cells[s * self.cap + d];
        (!e.latency.is_nan()).then_some(e)
    }

    /// Effective latency of `src -> dst` at `now` (override applied; infinity if absent,
    /// expired or down).
    pub fn latency(&self, src: NodeId, dst: NodeId, now: f64) -> f64 {
        match self.edge(src, dst) {
            Some(e) => self.effective(src, dst, e, now),
            None => f64::INFINITY,
        }
    }

    /// Effective weight (latency + AC of `dst`) of `src -> dst` at `now`.
    pub fn weight(&self, src: NodeId, dst: NodeId, now: f64) -> f64 {
        match self.edge(src, dst) {
            Some(e) => {
                let l = self.effective(src, dst, e, now);
                if l == f64::INFINITY {
                    l
                } else {
                    normalize_latency(l + e.additional_cost)
                }
            }
            None => f64::INFINITY,
        }
    }

    /// [`Graph::weight`] of a link whose state `e` is at hand (no lookup): effective latency
    /// plus AC, infinity when expired or down.
    pub fn weight_of(&self, src: NodeId, dst: NodeId, e: &EdgeState, now: f64) -> f64 {
        let l = self.effective(src, dst, e, now);
        if l == f64::INFINITY {
            l
        } else {
            normalize_latency(l + e.additional_cost)
        }
    }

    fn effective(&self, src: NodeId, dst: NodeId, e: &EdgeState, now: f64) -> f64 {
        if now > e.valid_until || e.latency == f64::INFINITY {
            return f64::INFINITY;
        }
        if self.manual.is_empty() {
            return e.latency;
        }
        match self.manual.lookup(src, dst) {
            Some(m) => normalize_upstream_latency(m),
            None => e.latency,
        }
    }

    /// The finite edges at `now`, as solver input.
    pub fn weighted_edges(&self, now: f64) -> Vec<WeightedEdge> {
        self.edges()
            .filter_map(|((s, d), e)| {
                let l = self.effective(s, d, e, now);
                (l != f64::INFINITY).then(|| WeightedEdge::new(s, d, l, e.additional_cost))
            })
            .collect()
    }

    /// Calls `f(src, dst, effective_latency, state)` for every stored edge, ascending, in one
    /// walk (the effective latency at `now` as [`Graph::latency`], infinity if expired or down).
    pub fn visit_edges(&self, now: f64, mut f: impl FnMut(NodeId, NodeId, f64, &EdgeState)) {
        let order = self.order();
        for &(s, si) in &order {
            let row = &self.cells[si * self.cap..(si + 1) * self.cap];
            for &(d, di) in &order {
                let e = &row[di];
                if !e.latency.is_nan() {
                    f(s, d, self.effective(s, d, e, now), e);
                }
            }
        }
    }

    /// Number of stored edges (down and expired ones included).
    pub fn edge_count(&self) -> usize {
        self.edge_count
    }

    /// Whether `id` is a vertex.
    pub fn has_node(&self, id: NodeId) -> bool {
        self.slot_of(id).is_some()
    }

    /// Solves all pairs over the graph as it is at `now`.
    pub fn solve(&self, now: f64) -> Result<Solution, RouteError> {
        let nodes: Vec<NodeId> = self.nodes.iter().copied().collect();
        solve(&nodes, &self.weighted_edges(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense store behaves as a map keyed by `(src, dst)` plus a vertex set, through random
    /// vertex additions and removals (slots reused, the matrix grown several times), links stored,
    /// stored again and removed, `set_incoming` with new vertices, and `clear_edges`: same links
    /// in the same ascending order, same count, same lookups, same previous states.
    #[test]
    fn dense_store_equals_a_map() {
        use std::collections::BTreeMap;
        let mut g = Graph::new();
        let mut nodes: BTreeSet<NodeId> = BTreeSet::new();
        let mut links: BTreeMap<(NodeId, NodeId), EdgeState> = BTreeMap::new();
        let mut seed = 11u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        for step in 0..3000 {
            let a = 1 + (next() % 200) as NodeId;
            let b = 1 + (next() % 200) as NodeId;
            match next() % 20 {
                0 => {
                    g.remove_node(a);
                    nodes.remove(&a);
                    links.retain(|&(s, d), _| s != a && d != a);
                }
                1 => {
                    g.remove_edge(a, b);
                    links.remove(&(a, b));
                }
                2 if step % 500 == 0 => {
                    g.clear_edges();
                    links.clear();
                }
                3 => {
                    g.add_node(a).unwrap();
                    nodes.insert(a);
                }
                4..=7 => {
                    let len = (next() % 12) as usize;
                    let srcs: Vec<NodeId> =
                        (0..len).map(|_| 1 + (next() % 200) as NodeId).collect();
                    let lat: Vec<f64> = (0..len)
                        .map(|_| f64::from(next() % 50) * 1e-3 - 0.01)
                        .collect();
                    let ttl: Vec<f64> = (0..len).map(|_| f64::from(next() % 5)).collect();
                    let now = f64::from(step);
                    let mut seen = Vec::new();
                    g.set_incoming_with(b, &srcs, &lat, &ttl, 0.001, now, |k, old| {
                        seen.push((k, old))
                    })
                    .unwrap();
                    nodes.insert(b);
                    for k in 0..len {
                        nodes.insert(srcs[k]);
                        let st = EdgeState {
                            latency: lat[k],
                            additional_cost: 0.001,
                            valid_until: now + ttl[k],
                        };
                        assert_eq!(seen[k], (k, links.insert((srcs[k], b), st)), "step {step}");
                    }
                }
                _ => {
                    let lat = if next() % 9 == 0 {
                        f64::NAN
                    } else {
                        f64::from(next() % 50) * 1e-3
                    };
                    let old = g.store(a, b, lat, -1.0, f64::from(step)).unwrap();
                    nodes.insert(a);
                    nodes.insert(b);
                    let st = EdgeState {
                        latency: normalize_latency(lat),
                        additional_cost: 0.0,
                        valid_until: f64::from(step),
                    };
                    assert_eq!(old, links.insert((a, b), st), "step {step}");
                }
            }
            if step % 50 == 0 || step > 2950 {
                let got: Vec<_> = g.edges().map(|(k, e)| (k, *e)).collect();
                let want: Vec<_> = links.iter().map(|(&k, &e)| (k, e)).collect();
                assert_eq!(got, want, "step {step}");
                let mut visited = Vec::new();
                g.visit_edges(0.0, |s, d, _, e| visited.push(((s, d), *e)));
                assert_eq!(visited, want, "step {step}");
                assert_eq!(g.edge_count(), links.len());
                assert_eq!(g.nodes().collect::<BTreeSet<_>>(), nodes);
                for s in 0..=201 {
                    assert_eq!(g.has_node(s), nodes.contains(&s));
                    assert_eq!(
                        g.edge(s, b).copied(),
                        links.get(&(s, b)).copied(),
                        "{s}->{b}"
                    );
                }
            }
        }
        assert!(g.cap >= 190, "the matrix grew (cap {})", g.cap);
    }

    /// set_incoming stores exactly what set_edge per link stores: new links, links stored
    /// again, duplicates within one report (the last wins), a down link, a negative AC.
    #[test]
    fn set_incoming_equals_set_edge_per_link() {
        let mut a = Graph::new();
        let mut b = Graph::new();
        let mut seed = 3u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        for round in 0..40 {
            let dst = 1 + (next() % 30) as u16;
            let len = (next() % 40) as usize;
            let srcs: Vec<u16> = (0..len).map(|_| 1 + (next() % 30) as u16).collect();
            let lat: Vec<f64> = (0..len)
                .map(|_| match next() % 10 {
                    0 => f64::INFINITY,
                    1 => f64::NAN,
                    x => f64::from(x) * 1e-3 - 0.004,
                })
                .collect();
            let ttl: Vec<f64> = (0..len).map(|_| f64::from(next() % 7)).collect();
            let ac = if round % 3 == 0 { -0.5 } else { 0.002 };
            let now = f64::from(round);
            a.set_incoming(dst, &srcs, &lat, &ttl, ac, now).unwrap();
            for k in 0..len {
                b.set_edge(srcs[k], dst, lat[k], ac, now + ttl[k]).unwrap();
            }
            let ea: Vec<_> = a.edges().map(|(k, e)| (k, format!("{e:?}"))).collect();
            let eb: Vec<_> = b.edges().map(|(k, e)| (k, format!("{e:?}"))).collect();
            assert_eq!(ea, eb, "round {round}");
            assert_eq!(a.edge_count(), b.edge_count());
        }
    }

    /// A link stored again replaces its state in place; lookups see the new one.
    #[test]
    fn set_edge_replaces_and_edge_finds() {
        let mut g = Graph::new();
        for s in 1..=50u16 {
            for d in 1..=50u16 {
                if s != d {
                    g.set_edge(s, d, f64::from(s) + f64::from(d) / 100.0, 0.0, 10.0)
                        .unwrap();
                }
            }
        }
        g.set_edge(7, 30, 0.5, 0.001, 20.0).unwrap();
        assert_eq!(g.edge_count(), 50 * 49);
        assert_eq!(g.edge(7, 30).map(|e| e.latency), Some(0.5));
        assert_eq!(g.edge(30, 7).map(|e| e.latency), Some(30.07));
        assert!(g.edge(7, 7).is_none());
        assert!((g.weight(7, 30, 0.0) - 0.501).abs() < 1e-12);
    }
}
