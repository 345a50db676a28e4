//! The full solve's repairs when the measured links form a negative cycle (clock drift or jitter
//! beyond a short round trip), as crates/eg-wasm's RouteGraph runs them:
//! `DenseInput::raise_negative_round_trips` (a pair whose round trip is negative), then
//! `DenseInput::add_to_every_link` with a doubling extra (a longer cycle). A repaired input
//! solves; its routes do not depend on the clock offsets; a clean mesh has nothing to repair;
//! routes stay within the injected error (plus the extra per hop) of the true optimum.

use eg_core::route::{DenseInput, IncrementalSolver, RouteError};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// `ids` 1..=n; `lat[i][j]` seconds (infinity = no link), AC `ac` seconds on every link.
fn input(lat: &[Vec<f64>], ac: f64) -> DenseInput {
    let n = lat.len();
    let mut d = DenseInput::new((1..=n as u16).collect()).unwrap();
    for (i, row) in lat.iter().enumerate() {
        for (j, &l) in row.iter().enumerate() {
            if i != j && l.is_finite() {
                d.push(i, j, l, ac);
            }
        }
    }
    d
}

/// True latencies in [0.2, 20] ms, all distinct, asymmetric.
fn true_latencies(rng: &mut StdRng, n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 0.0 } else { rng.gen_range(0.0002..0.02) }).collect())
        .collect()
}

fn measured(t: &[Vec<f64>], off: &[f64], err: &[((usize, usize), f64)]) -> Vec<Vec<f64>> {
    let n = t.len();
    let mut m: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| t[i][j] + off[j] - off[i]).collect()).collect();
    for &((i, j), e) in err {
        m[i][j] += e;
    }
    m
}

/// Solves `lat` as RouteGraph does after a negative cycle: the round-trip repair, then an
/// extra per link from 0.25 ms, doubled until it solves; returns the engine, the pairs raised
/// and the extra (s).
fn solve_repaired(lat: &[Vec<f64>], ac: f64) -> (IncrementalSolver, usize, f64) {
    assert!(
        matches!(IncrementalSolver::from_dense(input(lat, ac)), Err(RouteError::NegativeCycle(_))),
        "the case must start with a negative cycle"
    );
    let mut extra = 0.0;
    loop {
        let mut d = input(lat, ac);
        let pairs = d.raise_negative_round_trips(1e-6);
        if extra > 0.0 {
            d.add_to_every_link(extra);
        }
        match IncrementalSolver::from_dense(d) {
            Ok(s) => return (s, pairs, extra),
            Err(RouteError::NegativeCycle(_)) if extra < 0.064 => extra = if extra == 0.0 { 0.00025 } else { extra * 2.0 },
            Err(e) => panic!("{e}"),
        }
    }
}

/// Next hops of every ordered pair, row-major over ids 1..=n.
fn table(s: &IncrementalSolver, n: usize) -> Vec<u16> {
    let sol = s.solution();
    (1..=n as u16).flat_map(|a| (1..=n as u16).map(move |b| (a, b))).map(|(a, b)| sol.next_hop(a, b)).collect()
}

/// True cost (latency + ac per hop) of the route a→b the table gives.
fn route_cost(s: &IncrementalSolver, t: &[Vec<f64>], ac: f64, a: usize, b: usize) -> f64 {
    let sol = s.solution();
    let (mut at, mut cost) = (a, 0.0);
    for _ in 0..t.len() {
        if at == b {
            return cost;
        }
        let nx = sol.next_hop(at as u16 + 1, b as u16 + 1);
        assert!(nx != eg_core::route::INVALID, "no route {a}->{b}");
        let nx = nx as usize - 1;
        cost += t[at][nx] + ac;
        at = nx;
    }
    panic!("route {a}->{b} loops");
}

/// Floyd–Warshall on the true latencies.
fn optimum(t: &[Vec<f64>], ac: f64) -> Vec<Vec<f64>> {
    let n = t.len();
    let mut d: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { t[i][j] + ac }).collect()).collect();
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if d[i][k] + d[k][j] < d[i][j] {
                    d[i][j] = d[i][k] + d[k][j];
                }
            }
        }
    }
    d
}

#[test]
fn a_two_way_cycle_pushed_negative_by_one_link_is_repaired_offset_invariantly_and_near_optimal() {
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = 8;
        let t = true_latencies(&mut rng, n);
        // Link 0→1 reads its round trip plus 3 ms too low: the 2-cycle 0↔1 sums to −3 ms.
        let e = -(t[0][1] + t[1][0] + 0.003);
        let err = [((0usize, 1usize), e)];
        let off: Vec<f64> = (0..n).map(|_| rng.gen_range(-10.0..10.0)).collect();
        let zero = vec![0.0; n];
        let (with_off, raised, extra) = solve_repaired(&measured(&t, &off, &err), 0.0);
        let (without, raised0, extra0) = solve_repaired(&measured(&t, &zero, &err), 0.0);
        assert_eq!(raised, 1, "seed {seed}: the one impossible round trip is raised, no other");
        assert_eq!((raised, extra), (raised0, extra0), "seed {seed}: the repair depends on the offsets");
        assert_eq!(table(&with_off, n), table(&without, n), "seed {seed}: routes depend on the offsets");
        let opt = optimum(&t, 0.0);
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    // The repair cannot tell which direction of the pair is wrong, so 0→1 keeps
                    // most of its error; each hop of the optimum pays the extra too.
                    let c = route_cost(&with_off, &t, 0.0, a, b);
                    let bound = opt[a][b] + e.abs() + extra * (n - 1) as f64 + 1e-9;
                    assert!(c <= bound, "seed {seed}: {a}->{b} costs {c}, optimum {}, extra {extra}", opt[a][b]);
                }
            }
        }
    }
}

#[test]
fn a_three_way_cycle_negative_while_every_round_trip_is_positive_is_repaired() {
    let mut rng = StdRng::seed_from_u64(7);
    let n = 6;
    let mut t = true_latencies(&mut rng, n);
    // 0→1→2→0 read 2 ms low each (true 1 ms): the cycle sums to −3 ms; the reverse directions
    // are slow (10 ms), so each round trip stays positive.
    let mut err = Vec::new();
    for (i, j) in [(0, 1), (1, 2), (2, 0)] {
        t[i][j] = 0.001;
        t[j][i] = 0.010;
        err.push(((i, j), -0.002));
    }
    let off: Vec<f64> = (0..n).map(|_| rng.gen_range(-5.0..5.0)).collect();
    let m = measured(&t, &off, &err);
    for (i, j) in [(0, 1), (1, 2), (2, 0)] {
        assert!(m[i][j] + m[j][i] > 0.0, "round trip {i}<->{j} positive");
    }
    let mut d = input(&m, 0.0005);
    assert_eq!(d.raise_negative_round_trips(1e-6), 0, "no round trip is negative");
    assert!(matches!(IncrementalSolver::from_dense(d), Err(RouteError::NegativeCycle(_))), "the 3-cycle stays after the round-trip repair");
    let (s, pairs, extra) = solve_repaired(&m, 0.0005);
    assert_eq!(pairs, 0);
    // −3 ms over 3 links with 0.5 ms AC each: −1.5 ms, so 0.5 ms per link is the least that
    // works (a zero-cost cycle is not negative), and the doubling from 0.25 ms lands on it.
    assert_eq!(extra, 0.0005);
    assert_eq!(table(&s, n).len(), n * n);
    // Offsets do not change the repair or the routes.
    let (s0, _, extra0) = solve_repaired(&measured(&t, &vec![0.0; n], &err), 0.0005);
    assert_eq!(extra0, extra);
    assert_eq!(table(&s0, n), table(&s, n));
}

#[test]
fn a_clean_mesh_has_nothing_to_repair() {
    // Consistent measurements (no error): every round trip is the true one, so nothing moves.
    let n = 6;
    let t: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { 0.001 * (1 + (i + j) % 5) as f64 }).collect()).collect();
    let off: Vec<f64> = (0..n).map(|k| k as f64 * 3.7 - 9.0).collect();
    let m = measured(&t, &off, &[]);
    let plain = IncrementalSolver::from_dense(input(&m, 0.0)).unwrap();
    let mut d = input(&m, 0.0);
    assert_eq!(d.raise_negative_round_trips(1e-6), 0, "a clean mesh has no impossible round trip");
    let again = IncrementalSolver::from_dense(d).unwrap();
    assert_eq!(table(&plain, n), table(&again, n));
}

#[test]
fn a_cycle_measured_one_way_only_is_repaired_by_the_extra_alone() {
    // 1→2→3→1 only (no reverse directions, so no round trip to raise): the extra does it.
    let inf = f64::INFINITY;
    let m = vec![vec![0.0, -0.002, inf], vec![inf, 0.0, -0.002], vec![-0.002, inf, 0.0]];
    let (_, pairs, extra) = solve_repaired(&m, 0.0);
    assert_eq!(pairs, 0);
    assert!((0.002..=0.004).contains(&extra), "extra {extra}");
}
