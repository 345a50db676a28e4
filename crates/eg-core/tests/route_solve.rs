//! Solver properties: negative edges and cycles, disconnected graphs, deterministic ties,
//! blocked == naive, and routing invariance under per-node clock offsets.

use eg_core::route::{solve, solve_naive, RouteError, Solution, WeightedEdge, INVALID};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

fn e(s: u16, d: u16, l: f64) -> WeightedEdge {
    WeightedEdge::new(s, d, l, 0.0)
}

#[test]
fn negative_edges_are_routed() {
    // 1 -> 2 -> 3 is cheaper thanks to a negative edge.
    let edges = [
        e(1, 2, -0.003),
        e(2, 3, 0.005),
        e(1, 3, 0.004),
        e(2, 1, 0.010),
        e(3, 1, 0.001),
    ];
    let sol = solve(&[], &edges).unwrap();
    assert_eq!(sol.path(1, 3).unwrap(), vec![1, 2, 3]);
    assert!((sol.dist(1, 3) - 0.002).abs() < 1e-15);
    assert_eq!(sol, solve_naive(&[], &edges).unwrap());
}

#[test]
fn negative_cycle_is_an_error() {
    let edges = [e(1, 2, -0.010), e(2, 1, 0.005), e(2, 3, 0.001)];
    let err = solve(&[], &edges).unwrap_err();
    assert_eq!(err, RouteError::NegativeCycle(vec![1, 2]));
    assert_eq!(solve_naive(&[], &edges).unwrap_err(), err);
    assert_eq!(err.to_string(), "negative cycle through node(s) 1, 2");
}

#[test]
fn disconnected_graph() {
    let edges = [e(1, 2, 0.1), e(2, 1, 0.1), e(3, 4, 0.1)];
    let sol = solve(&[9], &edges).unwrap();
    assert_eq!(sol.ids(), &[1, 2, 3, 4, 9]);
    assert_eq!(sol.next_hop(1, 3), INVALID);
    assert_eq!(sol.next_hop(4, 3), INVALID);
    assert_eq!(sol.next_hop(3, 4), 4);
    assert_eq!(sol.dist(1, 3), f64::INFINITY);
    assert_eq!(sol.dist(9, 9), 0.0);
    assert_eq!(sol.path(1, 9), None);
    assert_eq!(sol.path(9, 9).unwrap(), vec![9]);
    assert!(sol.next_hops_of(9).is_empty());
}

#[test]
fn reserved_ids_and_infinite_inputs() {
    assert_eq!(
        solve(&[], &[e(1, 65532, 0.1)]).unwrap_err(),
        RouteError::InvalidNodeId(65532)
    );
    assert_eq!(
        solve(&[65535], &[]).unwrap_err(),
        RouteError::InvalidNodeId(65535)
    );
    // Infinity and NaN are "no edge"; 99999 and beyond are measurements (clock offsets).
    let sol = solve(
        &[],
        &[
            e(1, 2, f64::NEG_INFINITY),
            e(2, 1, f64::INFINITY),
            e(1, 3, f64::NAN),
            e(3, 1, 99998.0),
        ],
    )
    .unwrap();
    assert_eq!(sol.next_hop(1, 2), INVALID);
    assert_eq!(sol.next_hop(2, 1), INVALID);
    assert_eq!(sol.next_hop(1, 3), INVALID);
    assert_eq!(sol.next_hop(3, 1), 1);
    let sol = solve(&[], &[e(1, 2, 99999.0), e(2, 1, 250000.0)]).unwrap();
    assert_eq!((sol.next_hop(1, 2), sol.next_hop(2, 1)), (2, 1));
    // Later duplicates win.
    let sol = solve(&[], &[e(1, 2, 0.5), e(1, 2, 0.25)]).unwrap();
    assert_eq!(sol.dist(1, 2), 0.25);
}

fn tie_graph() -> Vec<WeightedEdge> {
    vec![
        // 1 -> 4 via 2 or via 3: both 0.3 (0.1 + 0.2 vs 0.2 + 0.1, not equal in f64).
        e(1, 3, 0.2),
        e(3, 4, 0.1),
        e(1, 2, 0.1),
        e(2, 4, 0.2),
        // 5 -> 7: direct 0.3 vs 5 -> 6 -> 7 = 0.1 + 0.2: equal cost, fewer hops wins.
        e(5, 6, 0.1),
        e(6, 7, 0.2),
        e(5, 7, 0.3),
        // 8 -> 11 through 10 or 9, 3 hops each, equal cost, lowest first hop (9) wins.
        e(8, 10, 1.0),
        e(10, 12, 1.0),
        e(12, 11, 1.0),
        e(8, 9, 2.0),
        e(9, 13, 0.5),
        e(13, 11, 0.5),
    ]
}

fn check_ties(sol: &Solution) {
    assert_eq!(sol.next_hop(1, 4), 2);
    assert_eq!(sol.path(1, 4).unwrap(), vec![1, 2, 4]);
    assert_eq!(sol.next_hop(5, 7), 7);
    assert_eq!(sol.path(8, 11).unwrap(), vec![8, 9, 13, 11]);
}

#[test]
fn deterministic_ties_regardless_of_order() {
    let mut edges = tie_graph();
    let reference = solve(&[], &edges).unwrap();
    check_ties(&reference);
    check_ties(&solve_naive(&[], &edges).unwrap());
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..50 {
        edges.shuffle(&mut rng);
        let mut nodes: Vec<u16> = (1..=13).collect();
        nodes.shuffle(&mut rng);
        let sol = solve(&nodes, &edges).unwrap();
        assert_eq!(sol, reference);
    }
}

#[test]
fn zero_cost_cycles_do_not_loop() {
    let edges = [
        e(1, 2, 0.0),
        e(2, 1, 0.0),
        e(2, 3, 0.0),
        e(1, 3, 0.0),
        e(3, 1, 0.0),
        e(3, 4, 1.0),
    ];
    let sol = solve(&[], &edges).unwrap();
    assert_eq!(sol.next_hop(1, 3), 3);
    assert_eq!(sol.path(2, 4).unwrap(), vec![2, 3, 4]);
    assert_eq!(sol.path(1, 4).unwrap(), vec![1, 3, 4]);
    assert_eq!(sol, solve_naive(&[], &edges).unwrap());
}

/// Random graph from "true" latencies plus per-node offsets: cycles are never negative.
fn random_graph(
    rng: &mut StdRng,
    n: usize,
    density: f64,
    integer: bool,
) -> (Vec<u16>, Vec<WeightedEdge>) {
    let mut ids: Vec<u16> = (0..n).map(|_| rng.gen_range(0..2000)).collect();
    ids.sort_unstable();
    ids.dedup();
    let off: Vec<f64> = ids
        .iter()
        .map(|_| {
            if integer {
                rng.gen_range(-3..=3) as f64
            } else {
                rng.gen_range(-0.5..0.5)
            }
        })
        .collect();
    let ac: Vec<f64> = ids
        .iter()
        .map(|_| if rng.gen_bool(0.3) { 0.01 } else { 0.0 })
        .collect();
    let mut edges = Vec::new();
    for (u, &a) in ids.iter().enumerate() {
        for (v, &b) in ids.iter().enumerate() {
            if u != v && rng.gen_bool(density) {
                let t = if integer {
                    rng.gen_range(0..4) as f64
                } else {
                    rng.gen_range(0.001..0.3)
                };
                edges.push(WeightedEdge::new(a, b, t + off[v] - off[u], ac[v]));
            }
        }
    }
    (ids, edges)
}

#[test]
fn blocked_equals_naive_on_random_graphs() {
    let mut rng = StdRng::seed_from_u64(42);
    for &(n, density) in &[
        (1, 0.5),
        (2, 1.0),
        (5, 0.5),
        (20, 0.2),
        (63, 0.1),
        (64, 0.3),
        (65, 0.05),
        (130, 0.08),
        (150, 0.9),
    ] {
        for integer in [false, true] {
            let (ids, edges) = random_graph(&mut rng, n, density, integer);
            let a = solve(&ids, &edges).unwrap();
            let b = solve_naive(&ids, &edges).unwrap();
            assert_eq!(a, b, "n={n} density={density} integer={integer}");
        }
    }
}

#[test]
fn blocked_equals_naive_with_huge_weights() {
    // Large weights lower the tick resolution; results must still agree.
    let n = 150u16;
    let mut edges = Vec::new();
    for v in 0..n - 1 {
        edges.push(e(v, v + 1, 99998.0));
        edges.push(e(v + 1, v, 99998.0 - (v % 7) as f64));
    }
    edges.push(e(0, n - 1, 99997.0));
    let a = solve(&[], &edges).unwrap();
    assert_eq!(a, solve_naive(&[], &edges).unwrap());
    assert_eq!(a.path(0, 2).unwrap(), vec![0, 1, 2]);
}

/// Follows the chosen route and sums `cost` along it.
fn route_cost(sol: &Solution, s: u16, d: u16, cost: &impl Fn(u16, u16) -> f64) -> Option<f64> {
    let p = sol.path(s, d)?;
    Some(p.windows(2).map(|w| cost(w[0], w[1])).sum())
}

#[test]
fn clock_offsets_do_not_change_route_quality() {
    let mut rng = StdRng::seed_from_u64(7);
    for round in 0..40 {
        let n = rng.gen_range(2..40);
        let density = rng.gen_range(0.1..1.0);
        let ids: Vec<u16> = (0..n).map(|i| i * 3 + 1).collect();
        let off: Vec<f64> = ids.iter().map(|_| rng.gen_range(-2.0..2.0)).collect();
        let ac: Vec<f64> = ids
            .iter()
            .map(|_| [0.0, 0.01, 0.05][rng.gen_range(0..3)])
            .collect();
        let mut truth = std::collections::BTreeMap::new();
        let (mut t_edges, mut m_edges) = (Vec::new(), Vec::new());
        for u in 0..n as usize {
            for v in 0..n as usize {
                if u != v && rng.gen_bool(density) {
                    let t = rng.gen_range(0.001..0.250);
                    truth.insert((ids[u], ids[v]), t + ac[v]);
                    t_edges.push(WeightedEdge::new(ids[u], ids[v], t, ac[v]));
                    m_edges.push(WeightedEdge::new(
                        ids[u],
                        ids[v],
                        t + off[v] - off[u],
                        ac[v],
                    ));
                }
            }
        }
        let true_sol = solve(&ids, &t_edges).unwrap();
        let meas_sol = solve(&ids, &m_edges).unwrap();
        let cost = |a: u16, b: u16| truth[&(a, b)];
        for &s in &ids {
            for &d in &ids {
                let opt = route_cost(&true_sol, s, d, &cost);
                let got = route_cost(&meas_sol, s, d, &cost);
                match (opt, got) {
                    (None, None) => {}
                    (Some(o), Some(g)) => assert!(
                        (o - g).abs() < 1e-6,
                        "round {round}: {s}->{d} true {o} got {g}"
                    ),
                    other => panic!("round {round}: reachability differs {s}->{d}: {other:?}"),
                }
            }
        }
    }
}
