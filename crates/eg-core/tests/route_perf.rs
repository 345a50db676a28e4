//! Timing of the blocked solver (no timed assertions). Run with
//! `cargo test -p etherguard-core --release --test route_perf -- --ignored --nocapture`.

use eg_core::route::{solve, solve_naive, WeightedEdge};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::Instant;

fn full_mesh(n: usize, seed: u64) -> Vec<WeightedEdge> {
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
