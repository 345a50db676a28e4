//! All-pairs shortest paths with a shared, deterministic next-hop table.
//!
//! # Rule
//! For every ordered pair `(i, j)` the route is the path minimising, lexicographically,
//! 1. its cost: the sum of edge weights (latency + AdditionalCost of the node entered),
//!    quantised to a grid of `2^-Q` seconds (`Q <= 30`, about 1 ns; see [`super::key`]);
//! 2. its hop count;
//! 3. the NodeId of its first hop.
//!
//! `next[i][j]` is that first hop, and the full route is obtained by following `next[.][j]`.
//! This is consistent: if `i -> v` is the chosen first hop, the chosen route from `v` has
//! exactly the remaining (cost, hops), so following next hops never loops (hops strictly
//! decrease), even when zero-cost cycles exist. The result does not depend on the order in
//! which nodes or edges were supplied, and [`solve`] (blocked Floyd–Warshall over packed keys)
//! and [`super::naive::solve_naive`] (integer triple loop) agree exactly.
//!
//! `dist` and `dist_no_ac` are then the plain `f64` sums of the original (unquantised) weights
//! and latencies along the chosen route, added from the destination backwards. [`solve`]
//! computes them on first access (routing only needs the next hops).
//!
//! A negative cycle (any `dist[i][i] < 0` on the quantised weights) is reported as
//! [`RouteError::NegativeCycle`]; nothing is patched.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::fw::floyd_warshall_blocked;
use super::ids::{is_usable, normalize_latency, NodeId, INVALID};
use super::kernel_rows::{relax_rows, row_kernel_enabled};
use super::key::KeySpace;

/// One directed edge as the solver sees it. `latency` is any finite number of seconds (negative
/// values and values of years are normal: they carry clock offsets); NaN or infinity means
/// "no edge". `additional_cost` is the AC (seconds) of `dst`, the node entered;
/// negative or NaN values count as 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightedEdge {
    pub src: NodeId,
    pub dst: NodeId,
    pub latency: f64,
    pub additional_cost: f64,
}

impl WeightedEdge {
    /// Convenience constructor.
    pub fn new(src: NodeId, dst: NodeId, latency: f64, additional_cost: f64) -> Self {
        WeightedEdge {
            src,
            dst,
            latency,
            additional_cost,
        }
    }
}

/// Errors of the route engine.
#[derive(Clone, Debug, PartialEq)]
pub enum RouteError {
    /// A node id in the reserved range `65532..=65535`.
    InvalidNodeId(NodeId),
    /// The graph has a negative cycle; lists every node `i` with `dist[i][i] < 0`.
    NegativeCycle(Vec<NodeId>),
    /// Following next hops did not terminate. Cannot happen while keys are exact; kept as a
    /// guard instead of looping forever.
    Inconsistent,
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::InvalidNodeId(id) => {
                write!(f, "node id {id} is reserved (must be <= 65531)")
            }
            RouteError::NegativeCycle(ids) => {
                write!(f, "negative cycle through node(s) ")?;
                for (n, id) in ids.iter().enumerate() {
                    if n > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{id}")?;
                }
                Ok(())
            }
            RouteError::Inconsistent => write!(f, "next-hop table is inconsistent"),
        }
    }
}

impl std::error::Error for RouteError {}

/// Dense solver input filled link by link in ascending `(row, column)` order, e.g. from one
/// walk over a graph's sorted edge rows, for [`super::incremental::IncrementalSolver::from_dense`].
///
/// Equivalent to handing [`super::incremental::IncrementalSolver::new`] the same links as a
/// [`WeightedEdge`] list, without the list: at N = 2000 that list is 3.6 million edges (86 MB)
/// written, scanned for ids and scattered into the same matrices again. The matrices are built
/// by appending, so each is written once (no fill with "no edge" first).
///
/// Shapes: `ids` ascending NodeIds, the solution's rows and columns; the matrices are row-major
/// `n × n` (`i * n + j` = link `ids[i] → ids[j]`), holding exactly what [`Prepared::new`]
/// stores for a [`WeightedEdge`] (see [`edge_values`]): weight = latency + AdditionalCost (s),
/// latency (s), both infinite for "no edge"; AdditionalCost (s, `>= 0`).
pub struct DenseInput {
    ids: Vec<NodeId>,
    weight: Vec<f64>,
    latency: Vec<f64>,
    ac: Vec<f64>,
    max_abs: f64,
    /// Rows present in the matrices: the last one is being filled (its links are written in
    /// place while the row is in cache; it was appended as "no edge").
    rows: usize,
    next_col: usize,
}

impl DenseInput {
    /// An input over `ids`, which must be strictly ascending (checked: panics otherwise, a
    /// caller's bug). Errors: [`RouteError::InvalidNodeId`] for a reserved id (as
    /// [`super::solve::solve`]).
    pub fn new(ids: Vec<NodeId>) -> Result<Self, RouteError> {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "DenseInput: ids must be strictly ascending"
        );
        if let Some(&bad) = ids.iter().find(|&&id| !is_usable(id)) {
            return Err(RouteError::InvalidNodeId(bad));
        }
        let n = ids.len();
        Ok(DenseInput {
            ids,
            weight: Vec::with_capacity(n * n),
            latency: Vec::with_capacity(n * n),
            ac: Vec::with_capacity(n * n),
            max_abs: 0.0,
            rows: 0,
            next_col: 0,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Stores the link `ids[i] → ids[j]`: `latency` in seconds (non-finite = no edge),
    /// `additional_cost` the AC of `ids[j]` in seconds (negative or NaN = 0), as a
    /// [`WeightedEdge`]. A link from a node to itself is ignored, as by [`solve`]. Links must
    /// come in strictly ascending `(i, j)` order, with `i, j < n` (panics otherwise: the caller
    /// walks sorted rows, so anything else is its bug); pairs never pushed have no edge.
    #[inline]
    pub fn push(&mut self, i: usize, j: usize, latency: f64, additional_cost: f64) {
        let n = self.ids.len();
        if i >= self.rows {
            assert!(i < n, "DenseInput::push: row {i} out of range (n = {n})");
            self.grow_to(i + 1);
        } else {
            assert!(
                i + 1 == self.rows,
                "DenseInput::push: row {i} out of order (at row {})",
                self.rows - 1
            );
        }
        assert!(
            j >= self.next_col && j < n,
            "DenseInput::push: link ({i}, {j}) out of order or range (n = {n})"
        );
        self.next_col = j + 1;
        if i == j {
            return;
        }
        let (w, l, a) = edge_values(latency, additional_cost);
        let p = i * n + j;
        self.weight[p] = w;
        self.latency[p] = l;
        self.ac[p] = a;
        if w != f64::INFINITY {
            self.max_abs = self.max_abs.max(w.abs());
        }
    }

    /// Appends rows without edges up to `rows` rows in all.
    fn grow_to(&mut self, rows: usize) {
        let len = rows * self.ids.len();
        self.weight.resize(len, f64::INFINITY);
        self.latency.resize(len, f64::INFINITY);
        self.ac.resize(len, 0.0);
        self.rows = rows;
        self.next_col = 0;
    }

    /// First repair after [`RouteError::NegativeCycle`]: every pair measured both ways whose
    /// round trip (latency + AC, both directions) is below `2 · floor` seconds has both
    /// directions raised by the same amount, to exactly `2 · floor`; returns how many pairs.
    ///
    /// Why: a measured one-way latency is the true one plus `off(dst) − off(src)`, so a cycle
    /// sums to its true latency (≥ 0) only while the offsets stand still. A clock drifting
    /// between the measurements of a cycle's links (100 ppm moves an offset 1.5 ms in a 15 s
    /// ping interval), jitter beyond a short round trip, or a clock step half-way through the
    /// damping filter can make a cycle's sum negative, and then no route is defined: the
    /// supernode kept its last table, through link failures too, until the cycle went away. A
    /// round trip carries no offset at all, so raising both directions alike is the smallest
    /// change that is the same whatever the offsets are, and it touches only pairs whose
    /// measurement is impossible. Most negative cycles are such a pair; for the others see
    /// [`Self::add_to_every_link`].
    pub fn raise_negative_round_trips(&mut self, floor: f64) -> usize {
        let n = self.ids.len();
        self.grow_to(n);
        let mut raised = 0;
        for i in 0..n {
            for j in (i + 1)..n {
                let (a, b) = (i * n + j, j * n + i);
                let rtt = self.weight[a] + self.weight[b];
                if !rtt.is_finite() || rtt >= 2.0 * floor {
                    continue;
                }
                let up = (2.0 * floor - rtt) / 2.0;
                for q in [a, b] {
                    let (w, l, _) = edge_values(self.latency[q] + up, self.ac[q]);
                    self.weight[q] = w;
                    self.latency[q] = l;
                    if w.is_finite() {
                        self.max_abs = self.max_abs.max(w.abs());
                    }
                }
                raised += 1;
            }
        }
        raised
    }

    /// Second repair, for a negative cycle that remains after
    /// [`Self::raise_negative_round_trips`] (three or more links whose errors add up, e.g.
    /// measured at different moments of a drifting clock): every link costs `extra` seconds
    /// more, counted as AdditionalCost (the latency tables keep the measurements). A cycle of
    /// `k` links gains `k · extra`, so an `extra` above the cycle's mean deficit removes it; the
    /// caller doubles it until the solve succeeds. Uniform, so it depends on no clock offset and
    /// favours no link over another: it only makes every route pay `extra` per hop, as an
    /// AdditionalCost of `extra` on every node would. (Raising links to an estimate of the
    /// offsets was tried first: with the one-way asymmetry of real paths the estimate is off by
    /// tens of milliseconds, and routes ended up 35 ms worse than optimal in the simulator.)
    /// Returns the number of links.
    pub fn add_to_every_link(&mut self, extra: f64) -> usize {
        let n = self.ids.len();
        self.grow_to(n);
        let mut links = 0;
        for q in 0..n * n {
            if self.weight[q].is_finite() {
                self.weight[q] += extra;
                self.ac[q] += extra;
                self.max_abs = self.max_abs.max(self.weight[q].abs());
                links += 1;
            }
        }
        links
    }

    /// `(ids, weight, latency, ac, max_abs)`, the matrices complete (`n * n`).
    pub(crate) fn finish(mut self) -> (Vec<NodeId>, Vec<f64>, Vec<f64>, Vec<f64>, f64) {
        self.grow_to(self.ids.len());
        (self.ids, self.weight, self.latency, self.ac, self.max_abs)
    }
}

/// The solver's input after validation: sorted ids and dense weights.
pub(crate) struct Prepared {
    pub ids: Vec<NodeId>,
    /// Row-major `n * n` edge weights (latency + AC), infinity = no edge.
    pub weight: Vec<f64>,
    /// Row-major `n * n` edge latencies.
    pub latency: Vec<f64>,
    pub space: KeySpace,
    /// Row-major `n * n` offset-reduced integer ticks (infinity = no edge) when clock offsets
    /// made the weights too large for a fine grid (see [`reduce`]); `None`: the ticks are
    /// `space.ticks(weight)`.
    pub reduced: Option<Vec<f64>>,
    /// Largest finite `|weight|` (0 if none).
    pub max_abs: f64,
}

/// A graph whose raw weights fit a grid of `2^-20` s (≈ 0.95 µs, about the resolution of an
/// edge's one-way measurement, a difference of two f64 millisecond timestamps near 1.7e12) is
/// quantised directly, exactly as without offsets; a coarser grid, i.e. weights inflated by
/// large clock offsets, goes through [`reduce`] first. So clock offsets never make the grid
/// coarser than this. (Reducing every graph would cost about 8 ms at N = 1000 for nothing
/// when the latencies themselves set the grid.)
pub(crate) const RAW_MIN_EXPONENT: i32 = 20;

fn transpose<T: Copy>(src: &[T], n: usize, fill: T) -> Vec<T> {
    const T_BLOCK: usize = 32;
    let mut dst = vec![fill; n * n];
    for i0 in (0..n).step_by(T_BLOCK) {
        for j0 in (0..n).step_by(T_BLOCK) {
            for i in i0..(i0 + T_BLOCK).min(n) {
                for j in j0..(j0 + T_BLOCK).min(n) {
                    dst[j * n + i] = src[i * n + j];
                }
            }
        }
    }
    dst
}

impl Prepared {
    pub(crate) fn new(nodes: &[NodeId], edges: &[WeightedEdge]) -> Result<Self, RouteError> {
        let mut seen = vec![false; 65536];
        for &id in nodes
            .iter()
            .chain(edges.iter().flat_map(|e| [&e.src, &e.dst]))
        {
            seen[id as usize] = true;
        }
        let ids: Vec<NodeId> = (0..=u16::MAX).filter(|&id| seen[id as usize]).collect();
        if let Some(&bad) = ids.iter().find(|&&id| !is_usable(id)) {
            return Err(RouteError::InvalidNodeId(bad));
        }
        let n = ids.len();
        let mut index = vec![u32::MAX; 65536];
        for (p, &id) in ids.iter().enumerate() {
            index[id as usize] = p as u32;
        }
        let mut weight = vec![f64::INFINITY; n * n];
        let mut latency = vec![f64::INFINITY; n * n];
        // Later duplicates replace earlier ones.
        for e in edges {
            if e.src == e.dst {
                continue;
            }
            let p = index[e.src as usize] as usize * n + index[e.dst as usize] as usize;
            (weight[p], latency[p], _) = edge_values(e.latency, e.additional_cost);
        }
        Ok(Self::from_dense(ids, weight, latency, || {
            // The AC separately: added to a latency of years it would lose its low bits.
            let mut ac = vec![0.0f64; n * n];
            for e in edges.iter().filter(|e| e.src != e.dst) {
                let p = index[e.src as usize] as usize * n + index[e.dst as usize] as usize;
                ac[p] = if e.additional_cost > 0.0 {
                    e.additional_cost
                } else {
                    0.0
                };
            }
            ac
        }))
    }

    /// The key space of dense inputs (`weight`, `latency` as built by [`Prepared::new`]);
    /// `ac` gives the dense AdditionalCost matrix, needed only when offsets force [`reduce`].
    pub(crate) fn from_dense(
        ids: Vec<NodeId>,
        weight: Vec<f64>,
        latency: Vec<f64>,
        ac: impl FnOnce() -> Vec<f64>,
    ) -> Self {
        let max_abs = max_abs_weight(&weight);
        Self::from_dense_max(ids, weight, latency, max_abs, ac)
    }

    /// [`Prepared::from_dense`] with `max_abs = max_abs_weight(&weight)` already known (the
    /// one-walk input of [`DenseInput`] keeps it as it goes, sparing a pass over `n * n`).
    pub(crate) fn from_dense_max(
        ids: Vec<NodeId>,
        weight: Vec<f64>,
        latency: Vec<f64>,
        max_abs: f64,
        ac: impl FnOnce() -> Vec<f64>,
    ) -> Self {
        let n = ids.len();
        let raw = KeySpace::new(n, max_abs);
        let (space, reduced) =
            if raw.q >= RAW_MIN_EXPONENT || !reduce_may_help(&weight, n, raw.q, max_abs) {
                (raw, None)
            } else {
                match reduce(&latency, &ac(), n, raw.q) {
                    Some((ks, t)) => (ks, Some(t)),
                    None => (raw, None),
                }
            };
        Prepared {
            ids,
            weight,
            latency,
            space,
            reduced,
            max_abs,
        }
    }

    /// Runs the blocked kernel: the final keys, shifted by the returned integer tick
    /// potentials (`key(i, j)` carries `+ (pot[i] - pot[j]) * H * M`, see [`potentials`]).
    pub(crate) fn kernel(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.ids.len();
        let ks = self.space;
        // Raw weights become ticks on the fly (`ticks_fast`, the same value as `ticks`);
        // reduced ones are ticks already.
        let start = || match &self.reduced {
            None => initial_keys(&self.weight, 2f64.powi(ks.q), n, &ks, |w| ks.ticks_fast(w)),
            Some(t) => initial_keys(t, 1.0, n, &ks, |t| t),
        };
        let (mut d, pot, kmin) = start();
        // The row relaxation first (fastest at large N); when it gives up (a negative cycle,
        // or paths too long for its sweeps) Floyd–Warshall starts over from the one-hop keys.
        // Both end at the same exact keys (see `kernel_rows.rs`).
        if row_kernel_enabled(n) {
            if relax_rows(&mut d, n, &ks, kmin) {
                return (d, pot);
            }
            (d, _, _) = start();
        }
        floyd_warshall_blocked(&mut d, n, &ks);
        (d, pot)
    }

    /// The integer ticks of the edge at row-major position `p` (infinity = no edge): the
    /// solver's cost of that edge, up to the potentials, which change no path order.
    pub(crate) fn ticks(&self, p: usize) -> f64 {
        match &self.reduced {
            Some(t) => t[p],
            None => {
                let w = self.weight[p];
                if w == f64::INFINITY {
                    w
                } else {
                    self.space.ticks(w)
                }
            }
        }
    }

    /// Builds the solution from the kernel's final keys (see [`super::key`]): next hops and
    /// hop counts come out of the keys and are checked for consistency (every multi-hop pair's
    /// next hop is one hop closer). The distances are left to [`KeyDist::tables`], computed on
    /// first access.
    ///
    /// With `unshift = Some(pot)` (the potentials [`Prepared::kernel`] returned) the keys in `d`
    /// are also brought back to potential 0 in the same pass (exact: integers below 2^52), as
    /// the incremental engine keeps them; on error `d` may be partly unshifted.
    pub(crate) fn finish_keys(
        self,
        d: &mut [f64],
        unshift: Option<&[f64]>,
    ) -> Result<Solution, RouteError> {
        let n = self.ids.len();
        let ks = self.space;
        let bits = ks.bits;
        let hm = 1i64 << (2 * bits);
        let mask = (1i64 << bits) - 1;
        let nn = n * n;
        if (0..n).any(|i| d[i * n + i] < 0.0) {
            let neg = (0..n)
                .filter(|&i| d[i * n + i] < 0.0)
                .map(|i| self.ids[i])
                .collect();
            return Err(RouteError::NegativeCycle(neg));
        }
        let mut next = vec![INVALID; nn];
        let mut nidx = vec![0u16; nn];
        let mut hops = vec![0u16; nn];
        let hs = ks.hop_scale();
        for i in 0..n {
            let row = i * n..(i + 1) * n;
            let (krow, nrow) = (&mut d[row.clone()], &mut next[row.clone()]);
            let (xrow, hrow) = (&mut nidx[row.clone()], &mut hops[row]);
            for j in 0..n {
                let key = krow[j];
                if j == i || key == f64::INFINITY {
                    continue;
                }
                // The potentials shift a key by whole multiples of `hm`: same fields either way.
                // `hm` is a power of two, so the Euclidean remainder is a mask (two's
                // complement), not a 64-bit division per pair.
                let r = (key as i64) & (hm - 1);
                let (h, v) = ((r >> bits) as usize, (r & mask) as usize);
                if h == 0 || h >= n || v >= n || (h == 1 && v != j) {
                    return Err(RouteError::Inconsistent);
                }
                nrow[j] = self.ids[v];
                xrow[j] = v as u16;
                hrow[j] = h as u16;
            }
            if let Some(pot) = unshift {
                // The diagonal too (potential difference 0), as a separate pass did before.
                let pi = pot[i];
                for (k, &pj) in krow.iter_mut().zip(pot) {
                    if *k != f64::INFINITY {
                        *k -= (pi - pj) * hs;
                    }
                }
            }
        }
        // hops[v][j] + 1 == hops[u][j] for every multi-hop pair (v = next hop): what the
        // distance pass relies on, checked here so that it cannot fail later.
        for u in 0..n {
            let row = u * n..(u + 1) * n;
            for (j, (&h, &v)) in hops[row.clone()].iter().zip(&nidx[row]).enumerate() {
                if h >= 2 && hops[v as usize * n + j] + 1 != h {
                    return Err(RouteError::Inconsistent);
                }
            }
        }
        let src = KeyDist {
            weight: self.weight,
            latency: self.latency,
            nidx,
            hops,
        };
        Ok(Solution {
            ids: self.ids,
            next,
            lazy: Some(Arc::new(src)),
            dist: OnceLock::new(),
        })
    }

    /// Builds the solution from a next-hop index table (`u32::MAX` = none).
    pub(crate) fn finish(self, next_idx: &[u32]) -> Result<Solution, RouteError> {
        let n = self.ids.len();
        let none = u32::MAX;
        // Work column by column (destination j) on transposed tables, so that everything a
        // column needs is contiguous.
        let next_t = transpose(next_idx, n, none);
        // Mostly next[u][j] == j: transposed weights make those reads contiguous.
        let weight_t = transpose(&self.weight, n, f64::INFINITY);
        let latency_t = transpose(&self.latency, n, f64::INFINITY);
        let mut dist_t = vec![f64::INFINITY; n * n];
        let mut dna_t = vec![f64::INFINITY; n * n];
        let mut stack: Vec<usize> = Vec::new();
        for j in 0..n {
            let nx = &next_t[j * n..(j + 1) * n];
            let dist = &mut dist_t[j * n..(j + 1) * n];
            let dna = &mut dna_t[j * n..(j + 1) * n];
            dist[j] = 0.0;
            dna[j] = 0.0;
            for i0 in 0..n {
                if i0 == j || nx[i0] == none || dist[i0] != f64::INFINITY {
                    continue;
                }
                // Walk towards j until a node with a known distance, then unwind.
                let mut i = i0;
                while i != j && dist[i] == f64::INFINITY {
                    stack.push(i);
                    let v = nx[i];
                    if v == none || stack.len() > n {
                        return Err(RouteError::Inconsistent);
                    }
                    i = v as usize;
                }
                while let Some(u) = stack.pop() {
                    let v = nx[u] as usize;
                    dist[u] = weight_t[v * n + u] + dist[v];
                    dna[u] = latency_t[v * n + u] + dna[v];
                }
            }
        }
        let next_ids: Vec<NodeId> = next_idx
            .iter()
            .map(|&v| {
                if v == none {
                    INVALID
                } else {
                    self.ids[v as usize]
                }
            })
            .collect();
        Ok(Solution::with_dist(
            self.ids,
            next_ids,
            transpose(&dist_t, n, f64::INFINITY),
            transpose(&dna_t, n, f64::INFINITY),
        ))
    }
}

/// What [`Prepared::finish_keys`] keeps to derive the distances later: the dense weights and
/// the next-hop index and hop count of every pair (already checked for consistency).
#[derive(Clone)]
pub(crate) struct KeyDist {
    pub(crate) weight: Vec<f64>,
    pub(crate) latency: Vec<f64>,
    pub(crate) nidx: Vec<u16>,
    pub(crate) hops: Vec<u16>,
}

/// `(dist, dist_no_ac)`, row-major `n * n`.
type DistTables = (Vec<f64>, Vec<f64>);

impl KeyDist {
    /// Distances summed in increasing hop order (a counting sort of the pairs, row-major
    /// within a count), so `dist[u][j] = weight[u][v] + dist[v][j]` (`v` = next hop) always
    /// finds `dist[v][j]` done. Same values as [`Prepared::finish`], without transposes.
    fn tables(&self, n: usize) -> DistTables {
        let nn = n * n;
        let (hops, nidx) = (&self.hops, &self.nidx);
        let mut dist = vec![f64::INFINITY; nn];
        let mut dna = vec![f64::INFINITY; nn];
        // count[h] = pairs with h >= 2 hops.
        let mut count = vec![0u32; n + 1];
        for i in 0..n {
            let row = i * n..(i + 1) * n;
            let (drow, arow) = (&mut dist[row.clone()], &mut dna[row.clone()]);
            let (wrow, lrow) = (&self.weight[row.clone()], &self.latency[row.clone()]);
            for (j, &h) in hops[row].iter().enumerate() {
                if j == i {
                    drow[j] = 0.0;
                    arow[j] = 0.0;
                } else if h == 1 {
                    // As in `finish`: weight of the hop plus dist[v][j] (= 0).
                    drow[j] = wrow[j] + 0.0;
                    arow[j] = lrow[j] + 0.0;
                } else if h >= 2 {
                    count[h as usize] += 1;
                }
            }
        }
        let mut start = vec![0usize; n + 1];
        let mut acc = 0usize;
        for h in 2..=n {
            start[h] = acc;
            acc += count[h] as usize;
        }
        let mut order = vec![0u32; acc];
        for i in 0..n {
            for (j, &h) in hops[i * n..(i + 1) * n].iter().enumerate() {
                if h >= 2 {
                    let s = &mut start[h as usize];
                    order[*s] = ((i as u32) << 16) | j as u32;
                    *s += 1;
                }
            }
        }
        for &pair in &order {
            let (u, j) = ((pair >> 16) as usize, (pair & 0xffff) as usize);
            let p = u * n + j;
            let v = nidx[p] as usize;
            let q = v * n + j;
            dist[p] = self.weight[u * n + v] + dist[q];
            dna[p] = self.latency[u * n + v] + dna[q];
        }
        (dist, dna)
    }
}

/// The result of a solve: a shared next-hop table plus distances, over sorted node ids.
///
/// The distance tables of [`solve`] are derived on first access (most solves only need the
/// next hops); the values do not depend on when that happens.
#[derive(Clone)]
pub struct Solution {
    ids: Vec<NodeId>,
    next: Vec<NodeId>,
    /// Source of the distances when `dist` is not filled in yet.
    lazy: Option<Arc<KeyDist>>,
    dist: OnceLock<DistTables>,
}

impl fmt::Debug for Solution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Solution")
            .field("ids", &self.ids)
            .field("next", &self.next)
            .field("dist", &self.dist_table())
            .field("dist_no_ac", &self.dist_no_ac_table())
            .finish()
    }
}

impl PartialEq for Solution {
    fn eq(&self, other: &Self) -> bool {
        self.ids == other.ids
            && self.next == other.next
            && self.dist_table() == other.dist_table()
            && self.dist_no_ac_table() == other.dist_no_ac_table()
    }
}

impl Solution {
    fn with_dist(ids: Vec<NodeId>, next: Vec<NodeId>, dist: Vec<f64>, dna: Vec<f64>) -> Self {
        Solution {
            ids,
            next,
            lazy: None,
            dist: OnceLock::from((dist, dna)),
        }
    }

    /// For [`super::incremental`]: the ids, the next-hop table and the per-pair data the
    /// distances are derived from, to be patched in place. Forgets the distance tables (they are
    /// derived again on the next access). `None` for a solution without that data
    /// ([`Solution::from_next_hops`], the naive solver).
    pub(crate) fn parts_mut(&mut self) -> Option<(&[NodeId], &mut [NodeId], &mut KeyDist)> {
        let kd = Arc::make_mut(self.lazy.as_mut()?);
        self.dist = OnceLock::new();
        Some((&self.ids, &mut self.next, kd))
    }

    /// For [`super::incremental`]: the per-pair data the distances are derived from.
    pub(crate) fn key_dist(&self) -> Option<&KeyDist> {
        self.lazy.as_deref()
    }

    /// The distance tables, computed on first call.
    fn tables(&self) -> &DistTables {
        self.dist.get_or_init(|| match &self.lazy {
            Some(src) => src.tables(self.len()),
            None => unreachable!("Solution without distances or their source"),
        })
    }

    /// The node ids, ascending. Row/column `r` of every table is `ids()[r]`.
    pub fn ids(&self) -> &[NodeId] {
        &self.ids
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Row/column index of `id`.
    pub fn index_of(&self, id: NodeId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Next hop from `src` towards `dst`; [`INVALID`] (65532) if none, unknown or `src == dst`.
    pub fn next_hop(&self, src: NodeId, dst: NodeId) -> NodeId {
        match (self.index_of(src), self.index_of(dst)) {
            (Some(i), Some(j)) => self.next[i * self.len() + j],
            _ => INVALID,
        }
    }

    /// Cost of the chosen route including AdditionalCost; 0 for `src == dst`, infinity if
    /// unreachable or unknown.
    pub fn dist(&self, src: NodeId, dst: NodeId) -> f64 {
        match (self.index_of(src), self.index_of(dst)) {
            (Some(i), Some(j)) => self.tables().0[i * self.len() + j],
            _ => f64::INFINITY,
        }
    }

    /// Pure latency sum along the chosen route (no AdditionalCost).
    pub fn dist_no_ac(&self, src: NodeId, dst: NodeId) -> f64 {
        match (self.index_of(src), self.index_of(dst)) {
            (Some(i), Some(j)) => self.tables().1[i * self.len() + j],
            _ => f64::INFINITY,
        }
    }

    /// The chosen route `[src, ..., dst]`; `[src]` when `src == dst` (known); `None` if
    /// unreachable or unknown.
    pub fn path(&self, src: NodeId, dst: NodeId) -> Option<Vec<NodeId>> {
        let (mut i, j) = (self.index_of(src)?, self.index_of(dst)?);
        let n = self.len();
        let mut out = vec![src];
        while i != j {
            let v = self.next[i * n + j];
            if v == INVALID || out.len() > n {
                return None;
            }
            out.push(v);
            i = self.index_of(v)?;
        }
        Some(out)
    }

    /// Row-major `n * n` next-hop table (NodeIds, [`INVALID`] for none).
    pub fn next_table(&self) -> &[NodeId] {
        &self.next
    }

    /// Row-major `n * n` distances including AdditionalCost (infinity = unreachable).
    pub fn dist_table(&self) -> &[f64] {
        &self.tables().0
    }

    /// Row-major `n * n` latency-only distances along the chosen routes.
    pub fn dist_no_ac_table(&self) -> &[f64] {
        &self.tables().1
    }

    /// The distinct next hops in `me`'s row, ascending (the targets of `me`'s own broadcast).
    pub fn next_hops_of(&self, me: NodeId) -> Vec<NodeId> {
        let Some(i) = self.index_of(me) else {
            return Vec::new();
        };
        let n = self.len();
        let mut out: Vec<NodeId> = self.next[i * n..(i + 1) * n]
            .iter()
            .copied()
            .filter(|&v| v != INVALID)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Solves all pairs with blocked Floyd–Warshall (the production path).
///
/// `nodes` may list isolated nodes; every edge endpoint is added automatically.
pub fn solve(nodes: &[NodeId], edges: &[WeightedEdge]) -> Result<Solution, RouteError> {
    let prep = Prepared::new(nodes, edges)?;
    let (mut d, _) = prep.kernel();
    prep.finish_keys(&mut d, None)
}

/// `(weight, latency, ac)` of one edge as the solver stores it: both infinite for "no edge"
/// (a non-finite latency, or a sum that overflows), the AC clamped to `>= 0` (NaN = 0).
#[inline]
pub(crate) fn edge_values(latency: f64, additional_cost: f64) -> (f64, f64, f64) {
    let lat = normalize_latency(latency);
    let ac = if additional_cost.is_nan() || additional_cost < 0.0 {
        0.0
    } else {
        additional_cost
    };
    let w = if lat == f64::INFINITY {
        lat
    } else {
        normalize_latency(lat + ac)
    };
    if w == f64::INFINITY {
        (w, w, ac)
    } else {
        (w, lat, ac)
    }
}

/// Whether the full solve of these dense inputs would use offset-reduced ticks (see
/// [`Prepared::from_dense`]); `raw_q` is `KeySpace::new(n, max |weight|).q`.
pub(crate) fn uses_reduced(
    weight: &[f64],
    latency: &[f64],
    ac: &[f64],
    n: usize,
    raw_q: i32,
    max_abs: f64,
) -> bool {
    raw_q < RAW_MIN_EXPONENT
        && reduce_may_help(weight, n, raw_q, max_abs)
        && reduce(latency, ac, n, raw_q).is_some()
}

/// Largest finite `|w|` of a dense weight matrix (0 if none): what [`KeySpace::new`] needs.
pub(crate) fn max_abs_weight(weight: &[f64]) -> f64 {
    weight
        .iter()
        .filter(|w| w.is_finite())
        .fold(0.0f64, |m, w| m.max(w.abs()))
}

/// The kernel's starting keys: one-hop keys of every edge on reduced ticks, the diagonal key;
/// with the potentials and the smallest off-diagonal key (what `relax_rows` needs first,
/// taken here from each row while it is in cache instead of by another pass over `n * n`).
/// `values` are edge costs (infinity = none, the diagonal always none), `tick_of` turns one
/// into integer ticks and `scale` is ticks per unit of `values` (for [`potentials`]).
#[inline(always)]
fn initial_keys(
    values: &[f64],
    scale: f64,
    n: usize,
    ks: &KeySpace,
    tick_of: impl Fn(f64) -> f64,
) -> (Vec<f64>, Vec<f64>, f64) {
    let pot = potentials(values, scale, n, ks);
    let hm = ks.hop_scale();
    // Appended row by row: every element is written once (no fill with infinity first).
    let mut d = Vec::with_capacity(n * n);
    let mut kmin = f64::INFINITY;
    // The one-hop tails as a row, so that the loop below has no index conversion per pair.
    let tails: Vec<f64> = (0..n).map(|j| ks.edge_tail(j)).collect();
    for (i, wrow) in values.chunks_exact(n.max(1)).enumerate() {
        let pi = pot[i];
        // In WASM no test is needed: `tick_of` maps infinity to infinity there (`ticks_fast`
        // truncates with `f64.trunc`; reduced ticks are values already) and the key of an
        // infinite tick is infinite, so the loop is branch-free and becomes f64x2 code.
        // Natively `ticks_fast` goes through i64, which would saturate.
        #[cfg(target_arch = "wasm32")]
        d.extend(
            wrow.iter()
                .zip(&pot)
                .zip(&tails)
                .map(|((&w, &pj), &tail)| (tick_of(w) + (pi - pj)) * hm + tail),
        );
        #[cfg(not(target_arch = "wasm32"))]
        d.extend(wrow.iter().zip(&pot).zip(&tails).map(|((&w, &pj), &tail)| {
            if w != f64::INFINITY {
                (tick_of(w) + (pi - pj)) * hm + tail
            } else {
                f64::INFINITY
            }
        }));
        // The diagonal is still infinity here: no self edges.
        kmin = d[i * n..]
            .iter()
            .fold(kmin, |m, &x| if x < m { x } else { m });
        d[i * n + i] = ks.diag_key();
    }
    (d, pot, kmin)
}

/// Integer tick potentials `P` for the solve: the kernel runs on the reduced ticks
/// `t(u, v) + P(u) - P(v)`. Every path `i -> j` then changes by the same `P(i) - P(j)`, so
/// the order of the paths of each pair (and every key's hop and next-hop fields, and every
/// cycle's cost) is unchanged and the result is exactly the same; the kernel's pruning
/// (see `fw.rs`) just works much better when the rows are not shifted by clock offsets.
/// `P(v)` estimates `v`'s clock offset as half the difference between the mean incoming
/// and the mean outgoing weight: a measurement `u -> v` is `true + off(v) - off(u)`.
/// All zero if the shifted keys might leave the exact range (see [`KeySpace::new`]).
/// `values` are the edge costs (infinity = none) in units of `1 / scale` ticks: raw weights in
/// seconds with `scale = 2^Q`, or the reduced ticks of [`reduce`] with `scale = 1`.
fn potentials(weight: &[f64], scale: f64, n: usize, ks: &KeySpace) -> Vec<f64> {
    let mut pot = vec![0.0f64; n];
    if n < 3 {
        return pot;
    }
    let mut in_sum = vec![0.0f64; n];
    let mut in_cnt = vec![0u32; n];
    let mut out_sum = vec![0.0f64; n];
    let mut out_cnt = vec![0u32; n];
    let mut max_abs = 0.0f64;
    for (u, row) in weight.chunks_exact(n).enumerate() {
        let (mut s, mut c) = (0.0f64, 0u32);
        for ((&w, is), ic) in row.iter().zip(in_sum.iter_mut()).zip(in_cnt.iter_mut()) {
            if w != f64::INFINITY {
                s += w;
                c += 1;
                *is += w;
                *ic += 1;
                max_abs = max_abs.max(w.abs());
            }
        }
        out_sum[u] = s;
        out_cnt[u] = c;
    }
    let mut max_p = 0.0f64;
    for v in 0..n {
        if in_cnt[v] > 0 && out_cnt[v] > 0 {
            let est = (in_sum[v] / in_cnt[v] as f64 - out_sum[v] / out_cnt[v] as f64) / 2.0;
            if est.is_finite() {
                pot[v] = (est * scale).round();
                max_p = max_p.max(pot[v].abs());
            }
        }
    }
    // Reduced simple-path ticks are bounded by L = (n-1) * max|t| + 2 * max|P|; the kernel
    // adds two keys below (L + 1) * H * M and needs the sum below 2^52.
    let l = (n - 1) as f64 * ((max_abs * scale).round() + 1.0) + 2.0 * max_p;
    if (2.0 * l + 4.0) * ks.hop_scale() >= 2f64.powi(52) {
        pot.iter_mut().for_each(|p| *p = 0.0);
    }
    pot
}

/// Whether [`reduce`] could return a finer grid than `raw_q`: `false` when even a lower bound
/// of the reduced weights' magnitude already needs `raw_q` or coarser. Potentials cancel on
/// every round trip, so some reduced edge of each two-way link is at least half the round
/// trip's magnitude. The bound is lowered by more than the rounding of the `f64` weights
/// (`(|a| + |b|) · 2^-50`) and of `reduce`'s fine ticks (`max_abs · 2^-57`), so it never
/// exceeds what `reduce` computes. When the latencies themselves set the grid (N = 2000 with
/// 300 ms links) this skips `reduce`'s three passes, and it gives the same decision.
pub(crate) fn reduce_may_help(weight: &[f64], n: usize, raw_q: i32, max_abs: f64) -> bool {
    let eps = 2f64.powi(-50);
    let q_of = |lb: f64| KeySpace::new(n, (lb / 2.0 - max_abs * 2f64.powi(-57)).max(0.0)).q;
    // Without overflow (sums and spans finite) `q_of` never rises again as `lb` grows.
    let may_stop = (2.0 * n as f64 * max_abs).is_finite();
    let mut lb = 0.0f64;
    for u in 0..n {
        for v in u + 1..n {
            let (a, b) = (weight[u * n + v], weight[v * n + u]);
            if a != f64::INFINITY && b != f64::INFINITY {
                lb = lb.max((a + b).abs() - (a.abs() + b.abs()) * eps);
            }
        }
        // The grid only coarsens as the bound grows: once it is no finer than `raw_q` the
        // answer is known (on the benchmark graph after the first row; the column reads of
        // the full triangle cost ≈ 25 ms in WASM at N = 2000).
        if may_stop && q_of(lb) <= raw_q {
            return false;
        }
    }
    q_of(lb) > raw_q
}

/// Offset-free integer ticks for weights that clock offsets made large, and their key space.
///
/// A measured one-way weight is `w(u, v) = true(u, v) + off(v) - off(u)` (plus the AC of `v`),
/// where `off` is a node's clock offset: hours for a wrong time zone, 56 years for a device
/// whose clock starts at 1970. Quantising such weights directly would need a grid coarse
/// enough for the offsets (`KeySpace::new`), losing the microseconds that tell real paths
/// apart. Instead every edge is shifted by `P(u) - P(v)` for an integer potential `P`: each
/// `i -> j` path then shifts by the same `P(i) - P(j)` and each cycle by 0, so the order of
/// the paths of every pair, the next hops, the hop counts and the negative cycles are exactly
/// those of the unshifted ticks — the potentials only make the numbers small enough for a
/// fine grid.
///
/// `P` estimates `-off` (in ticks) along a spanning forest, deterministically (by index order,
/// never by value or input order):
/// 1. from the lowest unplaced node, breadth first over links measured in *both* directions:
///    `P(v) = P(u) + floor((T(u, v) - T(v, u)) / 2)`, so the reduced tree edge is half the
///    round trip, in which the offsets cancel;
/// 2. when that is exhausted, the lowest unplaced node with a one-way edge to or from the tree
///    joins it with that edge's reduced cost set to 0 (nothing better is known), and step 1
///    continues from there; then the next tree.
///
/// An edge's ticks are `round(latency * 2^Q) + round(ac * 2^Q)`: latency and AdditionalCost
/// are quantised separately (`latency`, `ac`: row-major, infinite latency = no edge), because
/// `latency + ac` as one `f64` would round the AC to the offset's resolution (a quarter of a
/// microsecond at 56 years) and turn equal-cost paths into unequal ones. The fine ticks use
/// `q0 = min(30, 61 - ceil(log2 max(|latency|, ac)))`, so each part fits in `i64` and keeps
/// every bit of a large latency; potentials and sums are `i128`. For inputs that differ by
/// exact constant offsets the reduced ticks are identical, and so is the next-hop table.
/// Cost: three passes over the `n * n` matrix.
/// `None` when the reduced weights would not get a finer grid than `raw_q`, the raw weights'
/// (their magnitude comes from the latencies themselves, not from offsets): the raw ticks are
/// used then, exactly as without this step.
fn reduce(latency: &[f64], ac: &[f64], n: usize, raw_q: i32) -> Option<(KeySpace, Vec<f64>)> {
    const INF: f64 = f64::INFINITY;
    let max_abs = latency
        .iter()
        .zip(ac)
        .filter(|(l, _)| l.is_finite())
        .fold(0.0f64, |m, (l, a)| m.max(l.abs()).max(*a));
    let q0 = (61 - max_abs.log2().ceil() as i32).min(super::key::MAX_TICK_EXPONENT);
    let scale0 = 2f64.powi(q0);
    let fine64 = |p: usize| round_i64(latency[p] * scale0) + round_i64(ac[p] * scale0);
    let fine = |p: usize| fine64(p) as i128;
    const NONE: usize = usize::MAX;
    let mut pot = vec![0i128; n];
    let mut placed = vec![false; n];
    let mut link = vec![NONE; n];
    let mut queue = std::collections::VecDeque::new();
    for root in 0..n {
        if placed[root] {
            continue;
        }
        placed[root] = true;
        queue.push_back(root);
        loop {
            while let Some(u) = queue.pop_front() {
                for v in 0..n {
                    if placed[v] {
                        continue;
                    }
                    let (a, b) = (latency[u * n + v] != INF, latency[v * n + u] != INF);
                    if a && b {
                        pot[v] = pot[u] + (fine(u * n + v) - fine(v * n + u)).div_euclid(2);
                        placed[v] = true;
                        queue.push_back(v);
                    } else if (a || b) && link[v] == NONE {
                        link[v] = u;
                    }
                }
            }
            let Some(v) = (0..n).find(|&v| !placed[v] && link[v] != NONE) else {
                break;
            };
            let u = link[v];
            pot[v] = if latency[u * n + v] != INF {
                pot[u] + fine(u * n + v)
            } else {
                pot[u] - fine(v * n + u)
            };
            placed[v] = true;
            queue.push_back(v);
        }
    }
    // The grid for the reduced magnitudes (never finer than the fine ticks). |T| < 2^62, so
    // with |P| < 2^60 the sum cannot overflow i64 (the usual case, much faster than i128).
    let max_r: i128 = if pot.iter().all(|p| p.abs() < 1 << 60) {
        let p64: Vec<i64> = pot.iter().map(|&p| p as i64).collect();
        let mut m = 0i64;
        for (u, row) in latency.chunks_exact(n).enumerate() {
            let pu = p64[u];
            for (v, (&l, &pv)) in row.iter().zip(&p64).enumerate() {
                if l != INF {
                    m = m.max((fine64(u * n + v) + (pu - pv)).abs());
                }
            }
        }
        m as i128
    } else {
        let mut m = 0i128;
        for (u, row) in latency.chunks_exact(n).enumerate() {
            for (v, &l) in row.iter().enumerate() {
                if l != INF {
                    m = m.max((fine(u * n + v) + pot[u] - pot[v]).abs());
                }
            }
        }
        m
    };
    let ks = KeySpace::with_max_exponent(n, max_r as f64 / scale0, q0);
    if ks.q <= raw_q {
        return None;
    }
    // Final ticks on that grid, plus the potentials rounded to the same grid: an exact integer
    // shift. The result is below 2^51 in magnitude, so wrapping i64 arithmetic on the
    // potentials taken modulo 2^64 gives it exactly.
    let shift = (q0 - ks.q) as u32;
    let pq: Vec<i64> = pot
        .iter()
        .map(|&p| {
            (if shift == 0 {
                p
            } else {
                (p + (1i128 << (shift - 1))) >> shift
            }) as i64
        })
        .collect();
    let scale = 2f64.powi(ks.q);
    let mut ticks = vec![INF; n * n];
    for (u, (trow, &pu)) in ticks.chunks_exact_mut(n).zip(&pq).enumerate() {
        for (v, (t, &pv)) in trow.iter_mut().zip(&pq).enumerate() {
            let p = u * n + v;
            if latency[p] != INF {
                let tq = round_i64(latency[p] * scale) + round_i64(ac[p] * scale);
                *t = tq.wrapping_add(pu.wrapping_sub(pv)) as f64;
            }
        }
    }
    Some((ks, ticks))
}

/// `x.round() as i64` (half away from zero) without the `round` libcall, as
/// [`KeySpace::ticks_fast`]. Valid for `|x| < 2^62`.
#[inline(always)]
fn round_i64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    t + (frac >= 0.5) as i64 - (frac <= -0.5) as i64
}

impl Solution {
    /// A solution from a configured next-hop table (static mode, or a table downloaded from the
    /// supernode): `rows` lists `(src, dst, next)`. Distances are unknown (NaN). Node ids are
    /// every id that appears; entries naming reserved ids are refused.
    pub fn from_next_hops(rows: &[(NodeId, NodeId, NodeId)]) -> Result<Solution, RouteError> {
        let mut ids: Vec<NodeId> = Vec::new();
        for &(s, d, n) in rows {
            for id in [s, d, n] {
                if id > super::ids::MAX_NODE_ID {
                    return Err(RouteError::InvalidNodeId(id));
                }
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let n = ids.len();
        let mut next = vec![INVALID; n * n];
        for &(s, d, h) in rows {
            let (i, j) = (
                ids.binary_search(&s).unwrap(),
                ids.binary_search(&d).unwrap(),
            );
            if i != j {
                next[i * n + j] = h;
            }
        }
        Ok(Solution::with_dist(
            ids,
            next,
            vec![f64::NAN; n * n],
            vec![f64::NAN; n * n],
        ))
    }
}

#[cfg(test)]
mod reduce_bound_tests {
    use super::*;

    /// `reduce_may_help` only skips `reduce` when `reduce` would return `None`.
    #[test]
    fn the_round_trip_bound_stops_early_with_the_full_scans_answer() {
        // The whole triangle, as before the early stop.
        let full = |weight: &[f64], n: usize, raw_q: i32, max_abs: f64| {
            let eps = 2f64.powi(-50);
            let mut lb = 0.0f64;
            for u in 0..n {
                for v in u + 1..n {
                    let (a, b) = (weight[u * n + v], weight[v * n + u]);
                    if a != f64::INFINITY && b != f64::INFINITY {
                        lb = lb.max((a + b).abs() - (a.abs() + b.abs()) * eps);
                    }
                }
            }
            let lb = (lb / 2.0 - max_abs * 2f64.powi(-57)).max(0.0);
            KeySpace::new(n, lb).q > raw_q
        };
        let mut seed = 0x2545f4914f6cdd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut yes, mut no) = (0, 0);
        for case in 0..400 {
            let n = 2 + (rnd() * 40.0) as usize;
            let lat_scale = [0.3, 50.0, 3e3, 1e300][case % 4];
            let off_scale = [0.0, 1.0, 1e4, 1e9, 1e307][(case / 4) % 5];
            let off: Vec<f64> = (0..n).map(|_| (rnd() - 0.5) * off_scale).collect();
            let mut weight = vec![f64::INFINITY; n * n];
            for u in 0..n {
                for v in 0..n {
                    if u != v && rnd() < 0.6 {
                        weight[u * n + v] = edge_values(rnd() * lat_scale + off[v] - off[u], 0.0).0;
                    }
                }
            }
            let max_abs = max_abs_weight(&weight);
            for raw_q in [KeySpace::new(n, max_abs).q, -40, 0, 10, 19] {
                let want = full(&weight, n, raw_q, max_abs);
                assert_eq!(
                    reduce_may_help(&weight, n, raw_q, max_abs),
                    want,
                    "case {case}"
                );
                if want {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
        }
        assert!(yes > 50 && no > 50, "{yes} {no}");
        // A later round trip whose span (n - 1) · bound overflows, after a finite bound already
        // decided "no": an infinite span has no grid (`KeySpace` takes its finest), so the full
        // scan says "yes", and so must the early stop.
        let inf = f64::INFINITY;
        let (a, b) = (1e300, 0.75e308);
        #[rustfmt::skip]
        let weight = [
            inf, a, inf, inf,
            a, inf, inf, inf,
            inf, inf, inf, b,
            inf, inf, b, inf,
        ];
        let max_abs = max_abs_weight(&weight);
        assert!(full(&weight, 4, 0, max_abs));
        assert!(reduce_may_help(&weight, 4, 0, max_abs));
    }

    #[test]
    fn the_round_trip_bound_never_skips_a_useful_reduction() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut skipped = 0;
        for case in 0..300 {
            let n = 3 + (rnd() * 60.0) as usize;
            let lat_scale = [0.3, 50.0, 3e3, 1e6][case % 4];
            let off_scale = [0.0, 1.0, 1e4, 1e9][(case / 4) % 4];
            let off: Vec<f64> = (0..n).map(|_| (rnd() - 0.5) * off_scale).collect();
            let mut latency = vec![f64::INFINITY; n * n];
            let mut ac = vec![0.0; n * n];
            let mut weight = vec![f64::INFINITY; n * n];
            for u in 0..n {
                for v in 0..n {
                    if u != v && rnd() < 0.7 {
                        let p = u * n + v;
                        let a = if rnd() < 0.5 { 0.01 } else { 0.0 };
                        (weight[p], latency[p], ac[p]) =
                            edge_values(rnd() * lat_scale + off[v] - off[u], a);
                    }
                }
            }
            let max_abs = max_abs_weight(&weight);
            let raw = KeySpace::new(n, max_abs);
            if raw.q >= RAW_MIN_EXPONENT {
                continue;
            }
            if !reduce_may_help(&weight, n, raw.q, max_abs) {
                skipped += 1;
                assert!(reduce(&latency, &ac, n, raw.q).is_none(), "case {case}");
            }
        }
        assert!(skipped > 10, "{skipped}");
    }
}
