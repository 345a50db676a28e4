//! Shared set-up of the route tests (route_perf, route_kernel, route_incremental, route_dense).
// Each test file uses its own part of this module.
#![allow(dead_code)]

use eg_core::route::{Solution, WeightedEdge};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// A random 90 %-dense mesh of `n` nodes: one-way latencies 1..300 ms (in seconds) plus per-node
/// clock offsets of up to ±50 ms (off(v) − off(u) on each u→v link), 10 ms jitter tolerance.
pub fn full_mesh(n: usize, seed: u64) -> Vec<WeightedEdge> {
    let mut rng = StdRng::seed_from_u64(seed);
    let off: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.05..0.05)).collect();
    let mut edges = Vec::with_capacity(n * n);
    for u in 0..n {
        for v in 0..n {
            if u != v && rng.gen_bool(0.9) {
                let t = rng.gen_range(0.001..0.300);
                edges.push(WeightedEdge::new(
                    u as u16,
                    v as u16,
                    t + off[v] - off[u],
                    0.01,
                ));
            }
        }
    }
    edges
}

/// The f64s' bit patterns (so -0.0, NaN payloads and every last bit count).
pub fn bits(x: &[f64]) -> Vec<u64> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Two solutions are the same: ids, next hops, and both distance tables bit for bit.
pub fn assert_same(got: &Solution, want: &Solution, ctx: &str) {
    assert_eq!(got.ids(), want.ids(), "{ctx}: ids");
    assert_eq!(got.next_table(), want.next_table(), "{ctx}: next hops");
    assert_eq!(
        bits(got.dist_table()),
        bits(want.dist_table()),
        "{ctx}: dist"
    );
    assert_eq!(
        bits(got.dist_no_ac_table()),
        bits(want.dist_no_ac_table()),
        "{ctx}: dist_no_ac"
    );
}
