//! Route engine bindings: a stateful graph handle plus the `solve` text helpers.
//!
//! Thin on purpose: all logic lives in `eg_core::route`. Node ids are `u16` (65532 = none),
//! times and latencies are `f64` seconds, AdditionalCost and ManualLatency are milliseconds
//! exactly as in the config. Tables come back as flat typed arrays (row-major, rows/columns in
//! the order of `nodeIds()`).

use eg_core::route::{
    self, format_solve_json, format_solve_text, parse_matrix, DenseInput, Graph, Hysteresis,
    IncrementalSolver, MedianFilter, NodeId, RecalculateSetting, Solution, SpikeFilter, UpdateMode,
    WeightedEdge, INVALID,
};
use wasm_bindgen::prelude::*;

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A router's graph (supernode or P2P edge) with its hysteresis state and last solution.
///
/// `solve` is incremental when it can be (eg_core::route::incremental): the graph records
/// which links were stored, replaced or removed since the last solve (a bitmap over the
/// solution's pairs) and the expiry time of every link (a dense matrix), so a solve finds the
/// changed links — touched or expired since the last solve — without walking the edge map, and
/// patches the solution instead of running the full blocked solve. Results are identical to a
/// full solve. A new or removed node, a ManualLatency change, `clearEdges`, time going
/// backwards, or more changed links than the engine's batch limit take the full path.
#[wasm_bindgen]
pub struct RouteGraph {
    graph: Graph,
    hysteresis: Hysteresis,
    engine: Option<IncrementalSolver>,
    /// NodeId -> row of the engine's solution (`u32::MAX`: not in it).
    index: Vec<u32>,
    /// Bit per pair: stored/removed since the last solve. Pair matrices are column-major over
    /// the solution's nodes (link `i -> j` at `j * n + i`): a LinkReport's links all enter one
    /// node, so its items touch one contiguous run instead of one cache line per link.
    touched: Vec<u64>,
    touched_count: usize,
    /// `valid_until` per pair (`-inf`: no stored link), for expiry between solves.
    valid: Vec<f64>,
    /// A change the incremental path cannot express: the next solve is a full one.
    structural: bool,
    /// `now` of the last successful solve.
    last_now: f64,
    incremental: bool,
    last_mode: String,
    /// Pairs whose round trip the last full solve raised to break a negative cycle.
    raised_pairs: usize,
    /// The extra cost per link (s) the last full solve added to break a negative cycle (0: none).
    repair_extra: f64,
    /// The hysteresis snapshot's previous list, refilled by the next full solve (its capacity:
    /// millions of links at N = 2000).
    hyst_buf: Vec<((NodeId, NodeId), f64)>,
    /// The previous `snap`, refilled by the next full solve (swapped in on success only).
    snap_spare: Vec<f64>,
    /// The previous `snap_rev`, refilled by the next full solve (swapped in on success only).
    snap_rev_spare: Vec<f64>,
    /// Weight (latency + AC, s) of every pair at the last solve, laid out like `valid` (link
    /// `i -> j` at `j * n + i`; infinity = no finite link then): `applyPongs`' pre-check reads it.
    snap: Vec<f64>,
    /// The same weights row-major (link `j -> i` at `j * n + i`): the reverse of each link of a
    /// report, again one contiguous run per report.
    snap_rev: Vec<f64>,
    /// Smallest `valid_until` of a link with a finite `snap` (when one can first expire).
    min_valid_snapped: f64,
    /// Whether the last solve saw a link that was not finite at the solve before.
    new_links: bool,
    /// `applyPongs`' previous link states, kept for its capacity.
    prev_buf: Vec<Option<route::EdgeState>>,
}

impl Default for RouteGraph {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl RouteGraph {
    /// Empty graph; hysteresis defaults to upstream's 30 ms / x1.01 / 5 s.
    #[wasm_bindgen(constructor)]
    pub fn new() -> RouteGraph {
        RouteGraph {
            graph: Graph::new(),
            hysteresis: Hysteresis::new(RecalculateSetting::default()),
            engine: None,
            index: vec![u32::MAX; 65536],
            touched: Vec::new(),
            touched_count: 0,
            valid: Vec::new(),
            structural: true,
            last_now: f64::NEG_INFINITY,
            incremental: true,
            last_mode: String::new(),
            raised_pairs: 0,
            repair_extra: 0.0,
            hyst_buf: Vec::new(),
            snap_spare: Vec::new(),
            snap_rev_spare: Vec::new(),
            snap: Vec::new(),
            snap_rev: Vec::new(),
            min_valid_snapped: f64::INFINITY,
            new_links: false,
            prev_buf: Vec::new(),
        }
    }

    /// Sets `JitterTolerance` (ms), `JitterToleranceMultiplier`, `RecalculateCoolDown` (s).
    #[wasm_bindgen(js_name = setRecalculateSetting)]
    pub fn set_recalculate_setting(
        &mut self,
        jitter_tolerance_ms: f64,
        multiplier: f64,
        cooldown_s: f64,
    ) {
        self.hysteresis.set_setting(RecalculateSetting {
            jitter_tolerance_ms,
            jitter_tolerance_multiplier: multiplier,
            recalculate_cooldown: cooldown_s,
        });
    }

    /// Adds a vertex.
    #[wasm_bindgen(js_name = addNode)]
    pub fn add_node(&mut self, id: u16) -> Result<(), JsError> {
        if !self.graph.has_node(id) {
            self.structural = true;
        }
        self.graph.add_node(id).map_err(js_err)
    }

    /// Removes a vertex and its edges.
    #[wasm_bindgen(js_name = removeNode)]
    pub fn remove_node(&mut self, id: u16) {
        if self.graph.has_node(id) {
            self.structural = true;
        }
        self.graph.remove_node(id);
    }

    /// Stores one edge: latency (s, any finite value; Infinity or NaN = down), AC of `dst` (s),
    /// absolute expiry (s).
    #[wasm_bindgen(js_name = setEdge)]
    pub fn set_edge(
        &mut self,
        src: u16,
        dst: u16,
        latency: f64,
        additional_cost: f64,
        valid_until: f64,
    ) -> Result<(), JsError> {
        let old = self
            .graph
            .store(src, dst, latency, additional_cost, valid_until)
            .map_err(js_err)?;
        self.stored(src, dst, old, valid_until);
        Ok(())
    }

    /// Stores many edges: `pairs` = [src0, dst0, src1, dst1, ...]; `values` =
    /// [latency0, ac0, validUntil0, latency1, ...] (seconds).
    #[wasm_bindgen(js_name = setEdges)]
    pub fn set_edges(&mut self, pairs: &[u16], values: &[f64]) -> Result<(), JsError> {
        if values.len() * 2 != pairs.len() * 3 {
            return Err(JsError::new("setEdges: need 2 ids and 3 values per edge"));
        }
        for (p, v) in pairs.chunks_exact(2).zip(values.chunks_exact(3)) {
            let old = self
                .graph
                .store(p[0], p[1], v[0], v[1], v[2])
                .map_err(js_err)?;
            self.stored(p[0], p[1], old, v[2]);
        }
        Ok(())
    }

    /// Applies a Pong received at `now`: AC in ms, negative = use `ownAcMs` (the node's own).
    #[wasm_bindgen(js_name = applyPong)]
    #[allow(clippy::too_many_arguments)]
    pub fn apply_pong(
        &mut self,
        src: u16,
        dst: u16,
        latency: f64,
        additional_cost_ms: f64,
        own_ac_ms: f64,
        time_to_alive: f64,
        now: f64,
    ) -> Result<(), JsError> {
        let ac = route::resolve_additional_cost(additional_cost_ms, own_ac_ms);
        let valid_until = now + time_to_alive;
        let old = self
            .graph
            .store(src, dst, latency, ac, valid_until)
            .map_err(js_err)?;
        self.stored(src, dst, old, valid_until);
        Ok(())
    }

    /// Applies the links of one LinkReport received at `now`, all measured by `dst`: link
    /// `srcs[k] -> dst` with latency `latencies[k]` (s, any finite value; non-finite = down) and
    /// lifetime `ttls[k]` (s), AdditionalCost `additional_cost_ms` (negative = `own_ac_ms`).
    /// One call per report instead of one per link (a supernode stores a million links a second
    /// at N = 1000). Returns bit 0 when a link may meet the hysteresis rule since the last solve
    /// (the supernode's pre-check, see `precheck`), bit 1 when a vertex was new (bit 0 then too).
    /// Throws when the three arrays differ in length or an id is not usable (65532..65535); the
    /// links before the bad one stay applied (the caller checks ids first).
    #[wasm_bindgen(js_name = applyPongs)]
    #[allow(clippy::too_many_arguments)]
    pub fn apply_pongs(
        &mut self,
        dst: u16,
        srcs: &[u16],
        latencies: &[f64],
        ttls: &[f64],
        additional_cost_ms: f64,
        own_ac_ms: f64,
        now: f64,
    ) -> Result<u32, JsError> {
        if srcs.len() != latencies.len() || srcs.len() != ttls.len() {
            return Err(JsError::new(
                "applyPongs: srcs, latencies and ttls must have the same length",
            ));
        }
        let mut flags = 0u32;
        if !self.graph.has_node(dst) {
            flags |= 3;
        }
        // A vertex of the last solution is still one unless a structural change came since.
        let known = |g: &RouteGraph, id: u16| {
            (!g.structural && g.index[id as usize] != u32::MAX) || g.graph.has_node(id)
        };
        let ac_s = route::resolve_additional_cost(additional_cost_ms, own_ac_ms);
        if srcs.iter().any(|&src| !known(self, src)) {
            flags |= 3;
        }
        // All links first, with what each held before (a link stored again with its value is not
        // a change), then the bookkeeping per link, whose matrices are contiguous per report. A
        // failure leaves links stored but not recorded as touched, so the next solve is a full one.
        let mut prev = std::mem::take(&mut self.prev_buf);
        prev.clear();
        let stored =
            self.graph
                .set_incoming_with(dst, srcs, latencies, ttls, ac_s, now, |_, old| {
                    prev.push(old)
                });
        if let Err(e) = stored {
            self.prev_buf = prev;
            self.structural = true;
            return Err(js_err(e));
        }
        for k in 0..srcs.len() {
            let src = srcs[k];
            let valid_until = now + ttls[k];
            self.stored(src, dst, prev[k], valid_until);
            if flags & 1 == 0 && self.precheck(src, dst, latencies[k], ac_s, valid_until, now) {
                flags |= 1;
            }
        }
        self.prev_buf = prev;
        Ok(flags)
    }

    /// Removes one edge.
    #[wasm_bindgen(js_name = removeEdge)]
    pub fn remove_edge(&mut self, src: u16, dst: u16) {
        self.graph.remove_edge(src, dst);
        self.touch(src, dst, f64::NEG_INFINITY);
    }

    /// Removes all edges.
    #[wasm_bindgen(js_name = clearEdges)]
    pub fn clear_edges(&mut self) {
        self.graph.clear_edges();
        self.structural = true;
    }

    /// Sets a ManualLatency override in ms (65535 = wildcard).
    #[wasm_bindgen(js_name = setManualLatency)]
    pub fn set_manual_latency(&mut self, src: u16, dst: u16, ms: f64) {
        self.graph.manual_latency_mut().set_ms(src, dst, ms);
        self.structural = true;
    }

    /// Removes every ManualLatency override.
    #[wasm_bindgen(js_name = clearManualLatency)]
    pub fn clear_manual_latency(&mut self) {
        self.graph.manual_latency_mut().clear();
        self.structural = true;
    }

    /// Whether `solve` may update the last solution incrementally (default true); false
    /// always runs the full blocked solve (same results; for benchmarks and comparison).
    #[wasm_bindgen(js_name = setIncremental)]
    pub fn set_incremental(&mut self, on: bool) {
        self.incremental = on;
    }

    /// How the last successful `solve` ran: "full", "incremental", "unchanged" (no key
    /// changed), or "full: <reason>" when the incremental path handed over to the full solve.
    #[wasm_bindgen(js_name = lastSolveMode)]
    pub fn last_solve_mode(&self) -> String {
        self.last_mode.clone()
    }

    /// Whether a recalculation is due at `now` (hysteresis + cooldown, see docs/routing.md).
    #[wasm_bindgen(js_name = recalcNeeded)]
    pub fn recalc_needed(&self, now: f64) -> bool {
        self.hysteresis.recalc_needed(&self.graph, now)
    }

    /// Whether a link that was finite at the last solve has expired by `now` (a pass over the
    /// pairs only once one can have: `now` past the earliest such expiry).
    #[wasm_bindgen(js_name = snappedLinkExpired)]
    pub fn snapped_link_expired(&mut self, now: f64) -> bool {
        if now <= self.min_valid_snapped {
            return false;
        }
        let mut next = f64::INFINITY;
        for (w, &v) in self.snap.iter().zip(self.valid.iter()) {
            if w.is_finite() {
                if now > v {
                    return true;
                }
                next = next.min(v);
            }
        }
        self.min_valid_snapped = next;
        false
    }

    /// Whether the last successful solve saw a finite link that was not finite at the solve
    /// before (the supernode then schedules its settling solve).
    #[wasm_bindgen(js_name = newLinksAtLastSolve)]
    pub fn new_links_at_last_solve(&self) -> bool {
        self.new_links
    }

    /// Every stored link (down and expired ones included), ascending by `(src, dst)`, as
    /// `[src0, dst0, latency0, src1, ...]` (Float64Array; latency = the effective value at `now`
    /// in seconds, ManualLatency applied, infinity when down or expired).
    #[wasm_bindgen(js_name = storedLinks)]
    pub fn stored_links(&self, now: f64) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.graph.edge_count() * 3);
        self.graph.visit_edges(now, |s, d, lat, _| {
            out.extend_from_slice(&[f64::from(s), f64::from(d), lat]);
        });
        out
    }

    /// The supernode's pre-check of the hysteresis rule for the link `src -> dst` just stored
    /// (valid until `valid_until`), on that link and its reverse against their weights at the
    /// last solve: a superset of `Hysteresis::evaluate`'s rule (finite <-> infinite, or the round
    /// trip moved by more than `T + (M - 1) * base`, or without a reverse `|new - old| > T`; a
    /// hair below the threshold counts), so the walk over every link runs only when a link could
    /// have met it. True also when either end is not in the last solution.
    #[allow(clippy::too_many_arguments)]
    fn precheck(
        &mut self,
        src: u16,
        dst: u16,
        latency: f64,
        ac_s: f64,
        valid_until: f64,
        now: f64,
    ) -> bool {
        if src == dst {
            return false;
        }
        let (i, j) = (self.index[src as usize], self.index[dst as usize]);
        let n = self.engine.as_ref().map_or(0, |e| e.solution().len());
        if i == u32::MAX || j == u32::MAX || n == 0 || self.snap.len() != n * n {
            return true;
        }
        let p = j as usize * n + i as usize;
        let (old, old_rev) = (self.snap[p], self.snap_rev[p]);
        if old.is_finite() && valid_until < self.min_valid_snapped {
            self.min_valid_snapped = valid_until;
        }
        // The link just stored, as set_edge stored it (no second lookup).
        let stored = route::EdgeState {
            latency: route::ids::normalize_latency(latency),
            additional_cost: ac_s,
            valid_until,
        };
        let cur = self.graph.weight_of(src, dst, &stored, now);
        let cur_rev = self.graph.weight(dst, src, now);
        let st = self.hysteresis.setting();
        let t = if st.jitter_tolerance_ms > 0.0 {
            st.jitter_tolerance_ms / 1000.0
        } else {
            0.0
        };
        let m = if st.jitter_tolerance_multiplier > 1.0 {
            st.jitter_tolerance_multiplier
        } else {
            1.0
        };
        triggers(t, m, old, cur, old_rev, cur_rev) || triggers(t, m, old_rev, cur_rev, old, cur)
    }

    /// Solves at `now` and records the hysteresis snapshot. Returns whether the next-hop
    /// table differs from the previous solution's. Throws on a negative cycle (the previous
    /// solution stays). Incremental when few links changed since the last solve (see the type's
    /// docs); the result is the same either way.
    pub fn solve(&mut self, now: f64) -> Result<bool, JsError> {
        // The repair figures describe this solve only (an incremental one repairs nothing).
        self.raised_pairs = 0;
        self.repair_extra = 0.0;
        if self.incremental && !self.structural && self.engine.is_some() && now >= self.last_now {
            if let Some(changed) = self.solve_incremental(now)? {
                return Ok(changed);
            }
        }
        self.solve_full(now)
    }

    fn sol(&self) -> Result<&Solution, JsError> {
        self.solution()
            .ok_or_else(|| JsError::new("solve() has not succeeded yet"))
    }

    fn solution(&self) -> Option<&Solution> {
        self.engine.as_ref().map(|e| e.solution())
    }

    /// Bookkeeping after the link `src -> dst` was stored (`old`: what it held before, `None` if
    /// nothing; `valid_until` its new expiry): recorded as changed for the next incremental solve
    /// unless it was stored again with the latency and AC it had, and was not expired at the last
    /// solve. Such a link has the weight the last solve saw (a link changed since then is already
    /// marked; expiry between solves is found from `valid`), so listing it would only push the
    /// solve past the batch limit: a supernode re-receives every link each interval.
    fn stored(&mut self, src: u16, dst: u16, old: Option<route::EdgeState>, valid_until: f64) {
        let same = old.is_some_and(|o| {
            self.graph.edge(src, dst).is_some_and(|e| {
                e.latency == o.latency
                    && e.additional_cost == o.additional_cost
                    && o.valid_until >= self.last_now
            })
        });
        if !same {
            return self.touch(src, dst, valid_until);
        }
        let (i, j) = (self.index[src as usize], self.index[dst as usize]);
        let n = self.engine.as_ref().map_or(0, |e| e.solution().len());
        if src == dst {
            return;
        }
        if i == u32::MAX || j == u32::MAX || n == 0 {
            self.structural = true;
            return;
        }
        self.valid[j as usize * n + i as usize] = valid_until;
    }

    /// Records a stored/removed link for the next incremental solve.
    fn touch(&mut self, src: u16, dst: u16, valid_until: f64) {
        if src == dst {
            return;
        }
        let (i, j) = (self.index[src as usize], self.index[dst as usize]);
        let n = self.engine.as_ref().map_or(0, |e| e.solution().len());
        if i == u32::MAX || j == u32::MAX || n == 0 {
            self.structural = true;
            return;
        }
        let p = j as usize * n + i as usize;
        let (w, b) = (p / 64, 1u64 << (p % 64));
        if self.touched[w] & b == 0 {
            self.touched[w] |= b;
            self.touched_count += 1;
        }
        self.valid[p] = valid_until;
    }

    /// The incremental path; `Ok(None)` hands over to the full solve.
    fn solve_incremental(&mut self, now: f64) -> Result<Option<bool>, JsError> {
        let Some(engine) = self.engine.as_mut() else {
            return Ok(None);
        };
        let n = engine.solution().len();
        let limit = n.max(route::incremental::MIN_BATCH_LIMIT);
        if self.touched_count > limit {
            return Ok(None);
        }
        // Touched since the last solve, or valid then and expired now.
        let t0 = self.last_now;
        let mut pairs: Vec<usize> = Vec::new();
        for (w, &bits) in self.touched.iter().enumerate() {
            let mut b = bits;
            while b != 0 {
                pairs.push(w * 64 + b.trailing_zeros() as usize);
                b &= b - 1;
            }
        }
        for (p, &v) in self.valid.iter().enumerate() {
            if v >= t0 && v < now {
                pairs.push(p);
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        if pairs.len() > limit {
            return Ok(None);
        }
        let ids = engine.solution().ids();
        let mut changes = Vec::with_capacity(pairs.len());
        let mut snapshot = Vec::with_capacity(pairs.len());
        for &p in &pairs {
            let (s, d) = (ids[p % n], ids[p / n]);
            let lat = self.graph.latency(s, d, now);
            let ac = self.graph.edge(s, d).map_or(0.0, |e| e.additional_cost);
            changes.push(WeightedEdge::new(s, d, lat, ac));
            // As Hysteresis::record: latency + AC of each finite edge.
            snapshot.push(((s, d), if lat == f64::INFINITY { lat } else { lat + ac }));
        }
        let rep = engine.update(&changes).map_err(js_err)?;
        self.hysteresis.record_changes(&snapshot, now);
        self.new_links = false;
        for (&p, &(_, w)) in pairs.iter().zip(snapshot.iter()) {
            if !self.snap[p].is_finite() && w.is_finite() {
                self.new_links = true;
            }
            self.snap[p] = w;
            self.snap_rev[(p % n) * n + p / n] = w;
        }
        self.min_valid_snapped = min_valid(&self.snap, &self.valid);
        self.touched.iter_mut().for_each(|w| *w = 0);
        self.touched_count = 0;
        self.last_now = now;
        self.last_mode = match rep.mode {
            UpdateMode::Unchanged => "unchanged".to_string(),
            UpdateMode::Incremental => "incremental".to_string(),
            UpdateMode::Full(r) => format!("full: {r}"),
        };
        Ok(Some(rep.next_changed))
    }

    fn solve_full(&mut self, now: f64) -> Result<bool, JsError> {
        // One walk over the graph's sorted edge rows builds the solver's dense input, both
        // pre-check snapshots (row-major directly, column-major through groups of rows), the
        // expiry matrix (column-major), the hysteresis snapshot, the earliest expiry of a
        // finite link and whether a link is new: no edge list, no n × n fill before a scatter,
        // no transpose pass.
        let nodes: Vec<u16> = self.graph.nodes().collect();
        let n = nodes.len();
        let nn = n * n;
        let mut index = vec![u32::MAX; 65536];
        for (p, &id) in nodes.iter().enumerate() {
            index[id as usize] = p as u32;
        }
        let mut input = DenseInput::new(nodes.clone()).map_err(js_err)?;
        // Same nodes as the last solution: the old snapshot's pair `p` is the new one's.
        let same =
            self.solution().is_some_and(|s| s.ids() == &nodes[..]) && self.snap_rev.len() == nn;
        let old_n = self.engine.as_ref().map_or(0, |e| e.solution().len());
        let (old_index, old_snap, old_rev) = (&self.index, &self.snap, &self.snap_rev);
        let old_ok = old_snap.len() == old_n * old_n;
        let mut valid = ColSink::new(std::mem::take(&mut self.valid), n, f64::NEG_INFINITY);
        let mut snap = ColSink::new(std::mem::take(&mut self.snap_spare), n, f64::INFINITY);
        let mut snap_rev = RowSink::new(std::mem::take(&mut self.snap_rev_spare), n, f64::INFINITY);
        let mut hyst = std::mem::take(&mut self.hyst_buf);
        hyst.clear();
        hyst.reserve(self.graph.edge_count());
        let mut min_valid = f64::INFINITY;
        let mut new_links = false;
        self.graph.visit_edges(now, |s, d, lat, e| {
            let (i, j) = (index[s as usize] as usize, index[d as usize] as usize);
            let p = i * n + j;
            valid.set(i, j, e.valid_until);
            if lat == f64::INFINITY {
                return;
            }
            input.push(i, j, lat, e.additional_cost);
            // As Hysteresis::record: latency + AC of each edge with a finite latency.
            let w = lat + e.additional_cost;
            snap_rev.set(i, j, w);
            snap.set(i, j, w);
            hyst.push(((s, d), w));
            if w.is_finite() {
                min_valid = min_valid.min(e.valid_until);
                let was = if same {
                    old_rev[p]
                } else {
                    let (oi, oj) = (old_index[s as usize], old_index[d as usize]);
                    if oi != u32::MAX && oj != u32::MAX && old_ok {
                        old_snap[oj as usize * old_n + oi as usize]
                    } else {
                        f64::INFINITY
                    }
                };
                new_links |= !was.is_finite();
            }
        });
        let (snap, snap_rev) = (snap.finish(), snap_rev.finish());
        // The expiry matrix now follows the new index: until a solve succeeds, only a full
        // solve can use it.
        self.valid = valid.finish();
        self.structural = true;
        let mut raised = 0;
        let mut extra = 0.0;
        let engine = match IncrementalSolver::from_dense(input).or_else(|e| match e {
            route::RouteError::NegativeCycle(_) => {
                let (engine, pairs, ex) = self.solve_repaired(now, &nodes, &index)?;
                raised = pairs;
                extra = ex;
                Ok(engine)
            }
            e => Err(e),
        }) {
            Ok(e) => e,
            Err(e) => {
                self.snap_rev_spare = snap_rev;
                self.snap_spare = snap;
                self.hyst_buf = hyst;
                return Err(js_err(e));
            }
        };
        self.hyst_buf = self.hysteresis.record_snapshot(&self.graph, hyst, now);
        // The pre-check's snapshots over the new index.
        self.snap_spare = std::mem::replace(&mut self.snap, snap);
        self.snap_rev_spare = std::mem::replace(&mut self.snap_rev, snap_rev);
        self.new_links = new_links;
        self.min_valid_snapped = min_valid;
        let changed = match self.solution() {
            Some(old) => {
                old.ids() != engine.solution().ids()
                    || old.next_table() != engine.solution().next_table()
            }
            None => true,
        };
        self.engine = Some(engine);
        self.index = index;
        self.touched.clear();
        self.touched.resize(nn.div_ceil(64), 0);
        self.touched_count = 0;
        self.structural = false;
        self.last_now = now;
        self.last_mode = "full".to_string();
        self.raised_pairs = raised;
        self.repair_extra = extra;
        Ok(changed)
    }

    /// The full solve's retry after a negative cycle, on the links as stored at `now`: first
    /// the pairs whose round trip is negative are raised to a round trip of 2 µs
    /// (`DenseInput::raise_negative_round_trips`); if a longer cycle remains, every link also
    /// costs a uniform extra (`DenseInput::add_to_every_link`) of 0.25 ms, doubled per try up
    /// to 64 ms. Returns the engine and the repair (pairs raised, extra in seconds); the last
    /// error when nothing helps (the last table then stays).
    fn solve_repaired(&self, now: f64, nodes: &[u16], index: &[u32]) -> Result<(IncrementalSolver, usize, f64), route::RouteError> {
        let walk = || -> Result<DenseInput, route::RouteError> {
            let mut input = DenseInput::new(nodes.to_vec())?;
            self.graph.visit_edges(now, |s, d, lat, e| {
                if lat != f64::INFINITY {
                    input.push(index[s as usize] as usize, index[d as usize] as usize, lat, e.additional_cost);
                }
            });
            Ok(input)
        };
        let mut extra = 0.0;
        loop {
            let mut input = walk()?;
            let pairs = input.raise_negative_round_trips(1e-6);
            if extra > 0.0 {
                input.add_to_every_link(extra);
            }
            match IncrementalSolver::from_dense(input) {
                Ok(engine) => return Ok((engine, pairs, extra)),
                Err(e @ route::RouteError::NegativeCycle(_)) if extra >= 0.064 => return Err(e),
                Err(route::RouteError::NegativeCycle(_)) => extra = if extra == 0.0 { 0.00025 } else { extra * 2.0 },
                Err(e) => return Err(e),
            }
        }
    }

    /// Pairs whose negative round trip the last solve raised (0: none, or not a full solve; see
    /// `DenseInput::raise_negative_round_trips` in eg-core).
    #[wasm_bindgen(js_name = repairedPairs)]
    pub fn repaired_pairs(&self) -> usize {
        self.raised_pairs
    }

    /// The extra cost per link (s) the last solve added to break a longer negative cycle
    /// (0: none, or not a full solve; see `DenseInput::add_to_every_link` in eg-core).
    #[wasm_bindgen(js_name = repairExtra)]
    pub fn repair_extra(&self) -> f64 {
        self.repair_extra
    }

    /// Every finite edge the last solve used, ascending: [src0, dst0, src1, ...] (Uint16Array).
    /// With `solvedEdgeWeights`, the state API's `Edges_Nh`.
    #[wasm_bindgen(js_name = solvedEdgePairs)]
    pub fn solved_edge_pairs(&self) -> Vec<u16> {
        self.hysteresis
            .weights()
            .iter()
            .flat_map(|&((s, d), _)| [s, d])
            .collect()
    }

    /// The weights (latency + AC, seconds) of `solvedEdgePairs` at the last solve (Float64Array).
    #[wasm_bindgen(js_name = solvedEdgeWeights)]
    pub fn solved_edge_weights(&self) -> Vec<f64> {
        self.hysteresis.weights().iter().map(|&(_, w)| w).collect()
    }

    /// Node ids of the last solution, ascending (Uint16Array).
    #[wasm_bindgen(js_name = nodeIds)]
    pub fn node_ids(&self) -> Result<Vec<u16>, JsError> {
        Ok(self.sol()?.ids().to_vec())
    }

    /// n*n next hops (Uint16Array, 65532 = none).
    #[wasm_bindgen(js_name = nextHops)]
    pub fn next_hops(&self) -> Result<Vec<u16>, JsError> {
        Ok(self.sol()?.next_table().to_vec())
    }

    /// n*n distances incl. AC (Float64Array, Infinity = unreachable).
    pub fn dist(&self) -> Result<Vec<f64>, JsError> {
        Ok(self.sol()?.dist_table().to_vec())
    }

    /// n*n latency-only distances along the chosen routes (Float64Array).
    #[wasm_bindgen(js_name = distNoAc)]
    pub fn dist_no_ac(&self) -> Result<Vec<f64>, JsError> {
        Ok(self.sol()?.dist_no_ac_table().to_vec())
    }

    /// Next hop from `src` to `dst` (65532 = none).
    #[wasm_bindgen(js_name = nextHop)]
    pub fn next_hop(&self, src: u16, dst: u16) -> u16 {
        self.solution().map_or(INVALID, |s| s.next_hop(src, dst))
    }

    /// The route `[src, ..., dst]` (empty if unreachable).
    pub fn path(&self, src: u16, dst: u16) -> Vec<u16> {
        self.solution()
            .and_then(|s| s.path(src, dst))
            .unwrap_or_default()
    }

    /// Neighbours `me` forwards a broadcast from `src` to, received from `from`
    /// (pass 65532 when `me` is the source).
    #[wasm_bindgen(js_name = forwardSet)]
    pub fn forward_set(&self, me: u16, src: u16, from: u16) -> Vec<u16> {
        let from = (from != INVALID).then_some(from);
        self.solution()
            .map_or_else(Vec::new, |s| route::forward_set(s, me, src, from))
    }

    /// Targets of `me`'s own broadcast (distinct next hops of its row).
    #[wasm_bindgen(js_name = broadcastTargets)]
    pub fn broadcast_targets(&self, me: u16) -> Vec<u16> {
        self.solution()
            .map_or_else(Vec::new, |s| route::broadcast_targets(s, me))
    }

    /// Upstream `solve` text of the last solution.
    #[wasm_bindgen(js_name = solutionText)]
    pub fn solution_text(&self) -> Result<String, JsError> {
        Ok(format_solve_text(self.sol()?))
    }

    /// JSON form of the last solution.
    #[wasm_bindgen(js_name = solutionJson)]
    pub fn solution_json(&self) -> Result<String, JsError> {
        Ok(format_solve_json(self.sol()?))
    }
}

/// A row-major `n × n` matrix written in ascending `(row, column)` order: each row is
/// appended as `fill` when its first value comes and then written in place while it is in
/// cache, so the matrix is written about once (no fill of all `n * n` first, no per-value
/// `resize` and `push` with their length checks). Positions must not go backwards.
struct RowSink {
    out: Vec<f64>,
    n: usize,
    fill: f64,
    /// Rows present in `out`.
    rows: usize,
}

impl RowSink {
    /// Reuses `out`'s allocation.
    fn new(mut out: Vec<f64>, n: usize, fill: f64) -> Self {
        out.clear();
        out.reserve(n * n);
        RowSink {
            out,
            n,
            fill,
            rows: 0,
        }
    }

    #[inline]
    fn set(&mut self, i: usize, j: usize, x: f64) {
        if i >= self.rows {
            self.grow_to(i + 1);
        }
        self.out[i * self.n + j] = x;
    }

    fn grow_to(&mut self, rows: usize) {
        self.out.resize(rows * self.n, self.fill);
        self.rows = rows;
    }

    fn finish(mut self) -> Vec<f64> {
        self.grow_to(self.n);
        self.out
    }
}

/// Rows per group of [`ColSink`]: 8 `f64` of a column are one 64-byte cache line.
const COL_GROUP: usize = 8;

/// A column-major `n × n` matrix (`j * n + i` = pair `(i, j)`) written in ascending row-major
/// `(i, j)` order: the values of `COL_GROUP` rows are kept row-major in a small buffer and
/// written out per column as one contiguous piece when the next group starts, so each of the
/// matrix's cache lines is written once. This replaces a row-major copy and a transpose
/// pass. Every pair is written (`fill` where no value came); the old allocation is reused.
struct ColSink {
    out: Vec<f64>,
    buf: Vec<f64>,
    n: usize,
    fill: f64,
    /// First row of the group in `buf`.
    i0: usize,
    dirty: bool,
}

impl ColSink {
    fn new(mut out: Vec<f64>, n: usize, fill: f64) -> Self {
        if out.len() != n * n {
            out.clear();
            out.resize(n * n, fill);
        }
        ColSink {
            out,
            buf: vec![fill; COL_GROUP * n],
            n,
            fill,
            i0: 0,
            dirty: false,
        }
    }

    #[inline]
    fn set(&mut self, i: usize, j: usize, x: f64) {
        while i >= self.i0 + COL_GROUP {
            self.flush();
        }
        self.buf[(i - self.i0) * self.n + j] = x;
        self.dirty = true;
    }

    /// Writes the group's rows into their columns and starts the next group.
    fn flush(&mut self) {
        let n = self.n;
        let g = COL_GROUP.min(n - self.i0);
        for j in 0..n {
            let col = &mut self.out[j * n + self.i0..j * n + self.i0 + g];
            for (r, x) in col.iter_mut().enumerate() {
                *x = self.buf[r * n + j];
            }
        }
        if self.dirty {
            self.buf.fill(self.fill);
            self.dirty = false;
        }
        self.i0 += COL_GROUP;
    }

    fn finish(mut self) -> Vec<f64> {
        while self.i0 < self.n {
            self.flush();
        }
        self.out
    }
}

/// Smallest `valid` of the pairs with a finite `snap` (infinity if none).
fn min_valid(snap: &[f64], valid: &[f64]) -> f64 {
    snap.iter()
        .zip(valid.iter())
        .filter(|(w, _)| w.is_finite())
        .fold(f64::INFINITY, |m, (_, &v)| m.min(v))
}

/// One direction of the pre-check (see `RouteGraph::precheck`): `old`/`cur` the link's weight at
/// the last solve and now, `old_rev`/`cur_rev` its reverse's (s); `t` = JitterTolerance (s),
/// `m` = JitterToleranceMultiplier, both already clamped as the hysteresis clamps them.
fn triggers(t: f64, m: f64, old: f64, cur: f64, old_rev: f64, cur_rev: f64) -> bool {
    if old.is_finite() != cur.is_finite() {
        return true;
    }
    if !old.is_finite() {
        return false;
    }
    if !(old_rev.is_finite() && cur_rev.is_finite()) {
        return (cur - old).abs() > t - 1e-9 * (1.0 + t);
    }
    let thr = t + (m - 1.0) * ((old + old_rev).max(cur + cur_rev) / 2.0);
    (cur + cur_rev - (old + old_rev)).abs() > thr - 1e-9 * (1.0 + thr.abs())
}

/// Per-peer damping filter (sliding median).
#[wasm_bindgen]
#[derive(Default)]
pub struct DampingFilter {
    inner: MedianFilter,
}

#[wasm_bindgen]
impl DampingFilter {
    #[wasm_bindgen(constructor)]
    pub fn new() -> DampingFilter {
        DampingFilter::default()
    }

    /// Pushes a sample (seconds) with the current `DampingFilterRadius`; returns the output.
    pub fn push(&mut self, sample: f64, radius: u32) -> f64 {
        self.inner.push(sample, radius as usize)
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.inner.clear();
    }
}

/// Per-peer spike-robust latency filter (median of windowed minima; eg_core::route::SpikeFilter).
#[wasm_bindgen(js_name = SpikeFilter)]
#[derive(Default)]
pub struct SpikeFilterJs {
    inner: SpikeFilter,
}

#[wasm_bindgen(js_class = SpikeFilter)]
impl SpikeFilterJs {
    #[wasm_bindgen(constructor)]
    pub fn new() -> SpikeFilterJs {
        SpikeFilterJs::default()
    }

    /// Pushes a sample (seconds) with the current `DampingFilterRadius`; returns the output.
    pub fn push(&mut self, sample: f64, radius: u32) -> f64 {
        self.inner.push(sample, radius as usize)
    }

    /// `push` with the sample's receive time `at` (s, monotonic): the drift between the two
    /// clocks is taken out (eg_core::route::SpikeFilter::push_at).
    #[wasm_bindgen(js_name = pushAt)]
    pub fn push_at(&mut self, sample: f64, radius: u32, at: f64) -> f64 {
        self.inner.push_at(sample, radius as usize, at)
    }

    /// Forgets all samples.
    pub fn clear(&mut self) {
        self.inner.clear();
    }
}

fn solve_text(text: &str) -> Result<Solution, JsError> {
    let m = parse_matrix(text).map_err(js_err)?;
    m.solve().map_err(js_err)
}

/// `solve` on a latency matrix: upstream's YAML + human-readable text. Throws an Error with
/// "line L, column C: ..." on bad input.
#[wasm_bindgen(js_name = solveMatrixText)]
pub fn solve_matrix_text(text: &str) -> Result<String, JsError> {
    Ok(format_solve_text(&solve_text(text)?))
}

/// `solve` on a latency matrix, JSON form.
#[wasm_bindgen(js_name = solveMatrixJson)]
pub fn solve_matrix_json(text: &str) -> Result<String, JsError> {
    Ok(format_solve_json(&solve_text(text)?))
}

/// Switches the full solve's two kernel speed-ups (both on by default; results identical either
/// way): row seeding through the cheapest out-neighbours and the `f32` pruning mask. For the
/// route benchmark's before/after figures.
#[wasm_bindgen(js_name = routeKernelOptions)]
pub fn route_kernel_options(seed_rows: bool, mask_f32: bool) {
    route::set_kernel_options(seed_rows, mask_f32);
}

/// Sets the node count from which the full solve tries the row relaxation kernel before
/// Floyd–Warshall (default 640; `0`: always; `4294967295` or more: never). Process-wide, for tests
/// and A/B runs: the results are identical either way (docs/routing.md, "Row relaxation").
#[wasm_bindgen(js_name = routeRowKernelMinN)]
pub fn route_row_kernel_min_n(min_n: u32) {
    route::set_row_kernel_min_n(if min_n == u32::MAX {
        usize::MAX
    } else {
        min_n as usize
    });
}

/// The 6-node example matrix (`solve -example`).
#[wasm_bindgen(js_name = exampleMatrix)]
pub fn example_matrix() -> String {
    route::EXAMPLE_MATRIX.to_string()
}
