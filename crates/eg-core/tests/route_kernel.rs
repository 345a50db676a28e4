//! The blocked kernel's speed-ups (row seeding through the cheapest out-neighbours, the `f32`
//! pruning mask) must not change any result: every combination gives exactly the naive solver's
//! tables on random graphs with many ties, clock offsets and negative edges, at sizes that
//! exercise several k blocks, partial tiles and sparse rows.

mod route_common;
use eg_core::route::{set_kernel_options, solve, solve_naive, WeightedEdge};
use rand::{rngs::StdRng, Rng, SeedableRng};

fn graph(rng: &mut StdRng, n: usize, density: f64, coarse: bool) -> Vec<WeightedEdge> {
    let off: Vec<f64> = (0..n)
        .map(|_| rng.gen_range(-8..=8) as f64 / 128.0)
        .collect();
    let mut edges = Vec::new();
    for u in 0..n {
        for v in 0..n {
            if u != v && rng.gen_bool(density) {
                let t = if coarse {
                    rng.gen_range(1..6) as f64 / 64.0
                } else {
                    rng.gen_range(0.0005..0.3)
                };
                let ac = [0.0, 0.01, 1.0 / 128.0][rng.gen_range(0..3)];
                edges.push(WeightedEdge::new(
                    u as u16 * 3 + 1,
                    v as u16 * 3 + 1,
                    t + off[v] - off[u],
                    ac,
                ));
            }
        }
    }
    edges
}

#[test]
fn kernel_speedups_give_the_naive_solvers_tables() {
    let mut rng = StdRng::seed_from_u64(11);
    for &(n, density, coarse) in &[
        (33, 0.9, true),
        (70, 0.9, true),
        (70, 0.3, false),
        (129, 0.95, true),
        (129, 0.6, false),
        (200, 0.9, false),
        (200, 0.15, true),
    ] {
        let edges = graph(&mut rng, n, density, coarse);
        let want = solve_naive(&[], &edges).unwrap();
        for (seed, m32) in [(false, false), (true, false), (false, true), (true, true)] {
            set_kernel_options(seed, m32);
            let got = solve(&[], &edges).unwrap();
            assert_eq!(
                got, want,
                "n={n} density={density} coarse={coarse} seed={seed} mask32={m32}"
            );
        }
        set_kernel_options(true, true);
    }
}

/// Native timing of the kernel variants (no assertions on time), interleaved. Run with
/// `EG_N=2000 cargo test -p etherguard-core --release --test route_kernel time_kernel_variants -- --ignored --nocapture`.
#[test]
#[ignore]
fn time_kernel_variants() {
    use std::time::Instant;
    let n: usize = std::env::var("EG_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let edges = route_common::full_mesh(n, 7);
    let variants = [(false, false), (true, false), (false, true), (true, true)];
    let mut best = [f64::INFINITY; 4];
    for _ in 0..3 {
        for (v, &(seed, m32)) in variants.iter().enumerate() {
            set_kernel_options(seed, m32);
            let t = Instant::now();
            solve(&[], &edges).unwrap();
            best[v] = best[v].min(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    set_kernel_options(true, true);
    for (v, &(seed, m32)) in variants.iter().enumerate() {
        println!("n={n} seed={seed} mask32={m32}: best {:.0} ms", best[v]);
    }
}
