//! Route engine bindings: a stateful graph handle plus the `solve` text helpers.
//!
//! Thin on purpose: all logic lives in `eg_core::route`. Node ids are `u16` (65532 = none),
//! times and latencies are `f64` seconds, AdditionalCost and ManualLatency are milliseconds
//! exactly as in the config. Tables come back as flat typed arrays (row-major, rows/columns in
//! the order of `nodeIds()`).

use eg_core::route::{
    self, format_solve_json, format_solve_text, parse_matrix, Graph, Hysteresis, MedianFilter,
    RecalculateSetting, Solution, INVALID,
};
use wasm_bindgen::prelude::*;

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A router's graph (supernode or P2P edge) with its hysteresis state and last solution.
#[wasm_bindgen]
pub struct RouteGraph {
    graph: Graph,
    hysteresis: Hysteresis,
    solution: Option<Solution>,
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
            solution: None,
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
        self.graph.add_node(id).map_err(js_err)
    }

    /// Removes a vertex and its edges.
    #[wasm_bindgen(js_name = removeNode)]
    pub fn remove_node(&mut self, id: u16) {
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
        self.graph
            .set_edge(src, dst, latency, additional_cost, valid_until)
            .map_err(js_err)
    }

    /// Stores many edges: `pairs` = [src0, dst0, src1, dst1, ...]; `values` =
    /// [latency0, ac0, validUntil0, latency1, ...] (seconds).
    #[wasm_bindgen(js_name = setEdges)]
    pub fn set_edges(&mut self, pairs: &[u16], values: &[f64]) -> Result<(), JsError> {
        if values.len() * 2 != pairs.len() * 3 {
            return Err(JsError::new("setEdges: need 2 ids and 3 values per edge"));
        }
        for (p, v) in pairs.chunks_exact(2).zip(values.chunks_exact(3)) {
            self.graph
                .set_edge(p[0], p[1], v[0], v[1], v[2])
                .map_err(js_err)?;
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
        let m = route::Measurement {
            src,
            dst,
            latency,
            additional_cost_ms,
            time_to_alive,
        };
        self.graph.apply(&m, own_ac_ms, now).map_err(js_err)
    }

    /// Removes one edge.
    #[wasm_bindgen(js_name = removeEdge)]
    pub fn remove_edge(&mut self, src: u16, dst: u16) {
        self.graph.remove_edge(src, dst);
    }

    /// Removes all edges.
    #[wasm_bindgen(js_name = clearEdges)]
    pub fn clear_edges(&mut self) {
        self.graph.clear_edges();
    }

    /// Sets a ManualLatency override in ms (65535 = wildcard).
    #[wasm_bindgen(js_name = setManualLatency)]
    pub fn set_manual_latency(&mut self, src: u16, dst: u16, ms: f64) {
        self.graph.manual_latency_mut().set_ms(src, dst, ms);
    }

    /// Removes every ManualLatency override.
    #[wasm_bindgen(js_name = clearManualLatency)]
    pub fn clear_manual_latency(&mut self) {
        self.graph.manual_latency_mut().clear();
    }

    /// Whether a recalculation is due at `now` (hysteresis + cooldown, see docs/routing.md).
    #[wasm_bindgen(js_name = recalcNeeded)]
    pub fn recalc_needed(&self, now: f64) -> bool {
        self.hysteresis.recalc_needed(&self.graph, now)
    }

    /// Solves at `now` and records the hysteresis snapshot. Returns whether the next-hop
    /// table differs from the previous solution's. Throws on a negative cycle (the previous
    /// solution stays).
    pub fn solve(&mut self, now: f64) -> Result<bool, JsError> {
        // One walk over the edge map feeds both the solver and the hysteresis snapshot.
        let edges = self.graph.weighted_edges(now);
        let nodes: Vec<u16> = self.graph.nodes().collect();
        let sol = eg_core::route::solve(&nodes, &edges).map_err(js_err)?;
        self.hysteresis.record_weighted(&self.graph, &edges, now);
        let changed = match &self.solution {
            Some(old) => old.ids() != sol.ids() || old.next_table() != sol.next_table(),
            None => true,
        };
        self.solution = Some(sol);
        Ok(changed)
    }

    fn sol(&self) -> Result<&Solution, JsError> {
        self.solution
            .as_ref()
            .ok_or_else(|| JsError::new("solve() has not succeeded yet"))
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
        self.solution
            .as_ref()
            .map_or(INVALID, |s| s.next_hop(src, dst))
    }

    /// The route `[src, ..., dst]` (empty if unreachable).
    pub fn path(&self, src: u16, dst: u16) -> Vec<u16> {
        self.solution
            .as_ref()
            .and_then(|s| s.path(src, dst))
            .unwrap_or_default()
    }

    /// Neighbours `me` forwards a broadcast from `src` to, received from `from`
    /// (pass 65532 when `me` is the source).
    #[wasm_bindgen(js_name = forwardSet)]
    pub fn forward_set(&self, me: u16, src: u16, from: u16) -> Vec<u16> {
        let from = (from != INVALID).then_some(from);
        self.solution
            .as_ref()
            .map_or_else(Vec::new, |s| route::forward_set(s, me, src, from))
    }

    /// Targets of `me`'s own broadcast (distinct next hops of its row).
    #[wasm_bindgen(js_name = broadcastTargets)]
    pub fn broadcast_targets(&self, me: u16) -> Vec<u16> {
        self.solution
            .as_ref()
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

/// The 6-node example matrix (`solve -example`).
#[wasm_bindgen(js_name = exampleMatrix)]
pub fn example_matrix() -> String {
    route::EXAMPLE_MATRIX.to_string()
}
