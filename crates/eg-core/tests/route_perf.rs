//! Timing of the blocked solver (no timed assertions). Run with
//! `cargo test -p etherguard-core --release --test route_perf -- --ignored --nocapture`.

mod route_common;

use eg_core::route::{solve, solve_naive, WeightedEdge};
use rand::{rngs::StdRng, Rng, SeedableRng};
use route_common::full_mesh;
use std::time::Instant;

#[test]
#[ignore]
fn time_solve_n1000() {
    let n = 1000;
    let edges = full_mesh(n, 7);
    let t = Instant::now();
    let sol = solve(&[], &edges).unwrap();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("blocked solve n={n}: {ms:.1} ms ({} edges)", edges.len());
    assert_eq!(sol.len(), n);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        let _ = solve(&[], &edges).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    println!("blocked solve n={n}: best of 5 {best:.1} ms");
}

#[test]
#[ignore]
fn time_naive_n300() {
    let n = 300;
    let edges = full_mesh(n, 8);
    let t = Instant::now();
    let a = solve_naive(&[], &edges).unwrap();
    println!("naive n={n}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let t = Instant::now();
    let b = solve(&[], &edges).unwrap();
    println!("blocked n={n}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    assert_eq!(a, b);
}

/// Times `Graph::solve` plus the hysteresis snapshot (what `RouteGraph.solve` in WASM does)
/// next to the bare solve, to show the share of the graph bookkeeping.
#[test]
#[ignore]
fn time_graph_overhead() {
    use eg_core::route::{Graph, Hysteresis, RecalculateSetting};
    let edges = full_mesh(1000, 7);
    let mut g = Graph::new();
    for e in &edges {
        g.set_edge(e.src, e.dst, e.latency, e.additional_cost, 1e9)
            .unwrap();
    }
    let mut h = Hysteresis::new(RecalculateSetting::default());
    for _ in 0..3 {
        let t = Instant::now();
        let we = g.weighted_edges(0.0);
        let t1 = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let _ = solve(&[], &we).unwrap();
        let t2 = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let _ = g.solve(0.0).unwrap();
        h.record(&g, 0.0);
        let t3 = t.elapsed().as_secs_f64() * 1e3;
        println!("weighted_edges {t1:.1} ms, solve {t2:.1} ms, Graph::solve + record {t3:.1} ms");
    }
}

/// The kernel prunes with bounds and runs on potential-reduced keys (see fw.rs / solve.rs):
/// on dense graphs with clock offsets, ties (integer latencies) and negative edges it must
/// still agree exactly with the naive solver. Several k blocks, so pruning is exercised.
#[test]
fn dense_offsets_blocked_equals_naive() {
    let mut rng = StdRng::seed_from_u64(99);
    for &(n, integer) in &[(200usize, false), (200, true), (129, true)] {
        let off: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.05..0.05)).collect();
        let mut edges = Vec::new();
        for u in 0..n {
            for v in 0..n {
                if u != v && rng.gen_bool(0.9) {
                    let t = if integer {
                        // Coarse values: many exact ties, offsets cancel along cycles.
                        rng.gen_range(1..30) as f64 / 1000.0
                    } else {
                        rng.gen_range(0.001..0.300)
                    };
                    let ac = if integer { 0.0 } else { 0.01 };
                    let o = if integer { 0.0 } else { off[v] - off[u] };
                    edges.push(WeightedEdge::new(u as u16, v as u16, t + o, ac));
                }
            }
        }
        let a = solve(&[], &edges).unwrap();
        let b = solve_naive(&[], &edges).unwrap();
        assert_eq!(a, b, "n={n} integer={integer}");
    }
}
