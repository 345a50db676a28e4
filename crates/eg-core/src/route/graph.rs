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

use std::collections::{BTreeMap, BTreeSet};

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

/// Position of `dst` in a row sorted by destination (`Ok`), or where it would go (`Err`).
///
/// NodeIDs are usually dense (1..N), so a row of a full mesh holds nearly every id and the
/// position of `dst` is close to its linear interpolation between the row's first and last id:
/// one or two probes instead of a binary search of ~10 steps, each a likely cache miss in a
/// supernode's million links (every LinkReport item lands in a different row).
fn find(r: &Row, dst: NodeId) -> Result<usize, usize> {
    let row = &r.v;
    let n = row.len();
    if n > 8 {
        // The ends are kept beside the row's header (in the map's node, read anyway): reading
        // them from the row itself would cost two more cache misses per lookup.
        let (lo, hi) = (r.lo, r.hi);
        if dst > lo && dst < hi {
            let g = (dst - lo) as usize * (n - 1) / (hi - lo) as usize;
            for p in [g, g.wrapping_sub(1), g + 1] {
                if p < n && row[p].0 == dst {
                    return Ok(p);
                }
            }
        }
    }
    row.binary_search_by_key(&dst, |&(d, _)| d)
}

/// One source's edges, sorted by destination, with the first and last destination.
#[derive(Clone, Debug, Default)]
struct Row {
    lo: NodeId,
    hi: NodeId,
    v: Vec<(NodeId, EdgeState)>,
}

impl Row {
    /// Re-reads `lo`/`hi` after an insertion or removal.
    fn bounds(&mut self) {
        if let (Some(f), Some(l)) = (self.v.first(), self.v.last()) {
            self.lo = f.0;
            self.hi = l.0;
        }
    }
}

/// The graph of one router (supernode or P2P edge).
///
/// Edges are kept per source, each source's row sorted by destination: a supernode stores
/// every link of every report (a million a second at N = 1000), and a lookup is one search in a
/// small map of sources plus a binary search in one contiguous row, where a map keyed by
/// `(src, dst)` walked a tree of a million entries. Iteration is ascending `(src, dst)` as before.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: BTreeSet<NodeId>,
    rows: BTreeMap<NodeId, Row>,
    edge_count: usize,
    manual: ManualLatency,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a vertex (no-op if present).
    pub fn add_node(&mut self, id: NodeId) -> Result<(), RouteError> {
        if !is_usable(id) {
            return Err(RouteError::InvalidNodeId(id));
        }
        self.nodes.insert(id);
        Ok(())
    }

    /// Removes a vertex and every edge touching it.
    pub fn remove_node(&mut self, id: NodeId) {
        self.nodes.remove(&id);
        if let Some(row) = self.rows.remove(&id) {
            self.edge_count -= row.v.len();
        }
        for row in self.rows.values_mut() {
            if let Ok(p) = row.v.binary_search_by_key(&id, |&(d, _)| d) {
                row.v.remove(p);
                row.bounds();
                self.edge_count -= 1;
            }
        }
        self.rows.retain(|_, row| !row.v.is_empty());
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
        let additional_cost = if additional_cost.is_finite() && additional_cost > 0.0 {
            additional_cost
        } else {
            0.0
        };
        let state = EdgeState {
            latency: normalize_latency(latency),
            additional_cost,
            valid_until,
        };
        // The common case (a link reported again): its row exists, so both vertices do.
        if let Some(row) = self.rows.get_mut(&src) {
            if let Ok(p) = find(row, dst) {
                row.v[p].1 = state;
                return Ok(());
            }
        }
        self.add_node(src)?;
        self.add_node(dst)?;
        let row = self.rows.entry(src).or_default();
        match row.v.binary_search_by_key(&dst, |&(d, _)| d) {
            Ok(p) => row.v[p].1 = state,
            Err(p) => {
                row.v.insert(p, (dst, state));
                row.bounds();
                self.edge_count += 1;
            }
        }
        Ok(())
    }

    /// Stores the links `srcs[k] -> dst` of one report received at `now`: latency
    /// `latencies[k]` (s, non-finite = down), AdditionalCost `additional_cost` (s, negative = 0),
    /// valid until `now + ttls[k]`. The same result as [`Graph::set_edge`] per link, in two
    /// passes: first where each link is stored (reads only, so the cache misses of the items'
    /// different rows overlap instead of one waiting for the other), then the writes. A supernode
    /// stores a million links a second at N = 1000, each in another row of a store of 32 MB.
    /// Errors as `set_edge` (an unusable id); the links before it stay stored. Slices of unequal
    /// length are cut to the shortest.
    pub fn set_incoming(
        &mut self,
        dst: NodeId,
        srcs: &[NodeId],
        latencies: &[f64],
        ttls: &[f64],
        additional_cost: f64,
        now: f64,
    ) -> Result<(), RouteError> {
        let n = srcs.len().min(latencies.len()).min(ttls.len());
        let ac = if additional_cost.is_finite() && additional_cost > 0.0 {
            additional_cost
        } else {
            0.0
        };
        // Only a link's own insertion moves the elements of its row that later items could
        // look for (an insertion into row `s` is the link `s -> dst` itself), so the positions
        // found here stay right through the second pass.
        let pos: Vec<u32> = srcs[..n]
            .iter()
            .map(|s| {
                self.rows
                    .get(s)
                    .and_then(|r| find(r, dst).ok())
                    .map_or(u32::MAX, |p| p as u32)
            })
            .collect();
        for k in 0..n {
            let valid_until = now + ttls[k];
            if pos[k] != u32::MAX {
                if let Some(row) = self.rows.get_mut(&srcs[k]) {
                    row.v[pos[k] as usize].1 = EdgeState {
                        latency: normalize_latency(latencies[k]),
                        additional_cost: ac,
                        valid_until,
                    };
                    continue;
                }
            }
            self.set_edge(srcs[k], dst, latencies[k], ac, valid_until)?;
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
        if let Some(row) = self.rows.get_mut(&src) {
            if let Ok(p) = row.v.binary_search_by_key(&dst, |&(d, _)| d) {
                row.v.remove(p);
                row.bounds();
                self.edge_count -= 1;
                if row.v.is_empty() {
                    self.rows.remove(&src);
                }
            }
        }
    }

    /// Removes all edges (vertices stay).
    pub fn clear_edges(&mut self) {
        self.rows.clear();
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
        self.rows
            .iter()
            .flat_map(|(&s, row)| row.v.iter().map(move |(d, e)| ((s, *d), e)))
    }

    /// The stored state of one edge.
    pub fn edge(&self, src: NodeId, dst: NodeId) -> Option<&EdgeState> {
        let row = self.rows.get(&src)?;
        find(row, dst).ok().map(|p| &row.v[p].1)
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
        for (&s, row) in &self.rows {
            for (d, e) in &row.v {
                f(s, *d, self.effective(s, *d, e, now), e);
            }
        }
    }

    /// Number of stored edges (down and expired ones included).
    pub fn edge_count(&self) -> usize {
        self.edge_count
    }

    /// Whether `id` is a vertex.
    pub fn has_node(&self, id: NodeId) -> bool {
        self.nodes.contains(&id)
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

    /// The interpolated lookup answers exactly what a binary search answers, on dense rows
    /// (a full mesh: every id but the source), sparse rows and rows with gaps, for ids present,
    /// absent, below and above the row.
    #[test]
    fn find_agrees_with_binary_search() {
        let e = EdgeState {
            latency: 0.0,
            additional_cost: 0.0,
            valid_until: 0.0,
        };
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed >> 8
        };
        for case in 0..200 {
            let len = (next() % 300) as usize;
            let step = 1 + (next() % 4) as u16;
            let mut ids: Vec<NodeId> = (0..len as u16).map(|i| 1 + i * step).collect();
            if case % 3 == 0 && !ids.is_empty() {
                let skip = (next() as usize) % ids.len();
                ids.remove(skip);
            }
            let mut row = Row {
                lo: 0,
                hi: 0,
                v: ids.iter().map(|&d| (d, e)).collect(),
            };
            row.bounds();
            for dst in 0..(len as u16 * step + 3) {
                assert_eq!(
                    find(&row, dst),
                    row.v.binary_search_by_key(&dst, |&(d, _)| d),
                    "case {case} dst {dst}"
                );
            }
        }
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
