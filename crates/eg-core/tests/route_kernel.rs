//! The blocked kernel's speed-ups (row seeding through the cheapest out-neighbours, the `f32`
//! pruning mask) must not change any result: every combination gives exactly the naive solver's
//! tables on random graphs with many ties, clock offsets and negative edges, at sizes that
//! exercise several k blocks, partial tiles and sparse rows.

mod route_common;
use eg_core::route::{set_kernel_options, set_row_kernel_min_n, solve, solve_naive, WeightedEdge};
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
    // This thread's CPU time (ms): the box is shared, wall time would measure the load.
    let cpu_ms = || {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
        s.split_whitespace().next().unwrap().parse::<f64>().unwrap() / 1e6
    };
    let n: usize = std::env::var("EG_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let edges = route_common::full_mesh(n, 7);
    // (seeding, f32 mask, row relaxation kernel)
    let variants = [
        (false, false, false),
        (true, false, false),
        (false, true, false),
        (true, true, false),
        (true, true, true),
    ];
    let mut best = [f64::INFINITY; 5];
    let mut want = None;
    for _ in 0..3 {
        for (v, &(seed, m32, rows)) in variants.iter().enumerate() {
            set_kernel_options(seed, m32);
            set_row_kernel_min_n(if rows { 0 } else { usize::MAX });
            let t = cpu_ms();
            let got = solve(&[], &edges).unwrap();
            best[v] = best[v].min(cpu_ms() - t);
            match &want {
                None => want = Some(got),
                Some(w) => assert!(got == *w, "variant {v} differs"),
            }
        }
    }
    set_kernel_options(true, true);
    set_row_kernel_min_n(640);
    for (v, &(seed, m32, rows)) in variants.iter().enumerate() {
        println!(
            "n={n} seed={seed} mask32={m32} rows={rows}: best {:.0} ms CPU",
            best[v]
        );
    }
}

/// The row relaxation kernel (`kernel_rows.rs`, used first by the full solve from N = 640)
/// forced on at every size: exactly the naive solver's tables on graphs with ties (coarse
/// weights), negative edges (clock offsets), unreachable pairs (sparse), sizes that are not
/// multiples of its 16-column chunks or 64-row blocks; negative cycles and paths too long for
/// its sweeps fall back to Floyd–Warshall with the same result.
#[test]
fn row_kernel_gives_the_naive_solvers_tables() {
    let mut rng = StdRng::seed_from_u64(29);
    let mut cases: Vec<(String, Vec<WeightedEdge>)> = Vec::new();
    for &(n, density, coarse) in &[
        (2, 1.0, true),
        (17, 0.9, true),
        (33, 0.9, true),
        (70, 0.9, true),
        (70, 0.3, false),
        (97, 0.05, true),
        (129, 0.95, true),
        (129, 0.6, false),
        (200, 0.9, false),
        (200, 0.15, true),
        (300, 0.9, false),
    ] {
        cases.push((
            format!("n={n} density={density} coarse={coarse}"),
            graph(&mut rng, n, density, coarse),
        ));
    }
    // One hop per sweep (every path runs against the row order): the kernel gives up.
    let chain: Vec<WeightedEdge> = (0..120u16)
        .map(|i| WeightedEdge::new(i, i + 1, 0.001, 0.0))
        .collect();
    cases.push(("chain".into(), chain));
    // A negative cycle (2 -> 3 -> 4 -> 2 costs -0.03) inside a dense graph.
    let mut neg = graph(&mut rng, 40, 0.9, true);
    neg.retain(|e| !matches!((e.src, e.dst), (7, 10) | (10, 13) | (13, 7)));
    neg.extend([
        WeightedEdge::new(7, 10, -0.01, 0.0),
        WeightedEdge::new(10, 13, -0.01, 0.0),
        WeightedEdge::new(13, 7, -0.01, 0.0),
    ]);
    cases.push(("negative cycle".into(), neg));
    // Zero-cost cycles and equal-cost paths of different hop counts.
    let mut zero = Vec::new();
    for u in 0..50u16 {
        for v in 0..50u16 {
            if u != v && (u + 2 * v) % 3 != 0 {
                zero.push(WeightedEdge::new(u, v, ((u + v) % 4) as f64 / 64.0, 0.0));
            }
        }
    }
    cases.push(("zero-cost cycles".into(), zero));
    set_row_kernel_min_n(0);
    for (name, edges) in &cases {
        let want = solve_naive(&[], edges);
        let got = solve(&[], edges);
        // Not assert_eq: the tables of a failure would fill the log.
        assert!(
            got == want,
            "{name}: the row kernel's solve differs from solve_naive"
        );
    }
    set_row_kernel_min_n(640);
}
