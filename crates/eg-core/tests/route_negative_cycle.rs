//! `DenseInput::raise_below_offset_estimate`: the full solve's repair when the measured links
//! form a negative cycle (clock drift or jitter beyond a short round trip). A repaired input
//! solves; its routes do not depend on the clock offsets; only links below the offset estimate
//! move; routes stay within the injected error of the true optimum; and a cycle through a node
//! measured in one direction only is left alone (the error stays).

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

fn solve_repaired(lat: &[Vec<f64>], ac: f64) -> (IncrementalSolver, usize) {
    assert!(
        matches!(IncrementalSolver::from_dense(input(lat, ac)), Err(RouteError::NegativeCycle(_))),
        "the case must start with a negative cycle"
    );
    let mut d = input(lat, ac);
    let raised = d.raise_below_offset_estimate(1e-6, 8);
    (IncrementalSolver::from_dense(d).expect("the repaired input solves"), raised)
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
        let (with_off, raised) = solve_repaired(&measured(&t, &off, &err), 0.0);
        let (without, raised0) = solve_repaired(&measured(&t, &zero, &err), 0.0);
        assert!(raised >= 1, "seed {seed}: nothing raised");
        assert_eq!(raised, raised0, "seed {seed}: which links are raised depends on the offsets");
        assert_eq!(table(&with_off, n), table(&without, n), "seed {seed}: routes depend on the offsets");
        // Only links with an impossible value can move: at most a handful, never most of the mesh.
        assert!(raised <= n, "seed {seed}: {raised} links raised for one bad link");
        let opt = optimum(&t, 0.0);
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    let c = route_cost(&with_off, &t, 0.0, a, b);
                    assert!(c <= opt[a][b] + e.abs() + 1e-9, "seed {seed}: {a}->{b} costs {c}, optimum {}", opt[a][b]);
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
    let (s, raised) = solve_repaired(&m, 0.0005);
    assert!(raised >= 1);
    assert_eq!(table(&s, n).len(), n * n);
}

#[test]
fn an_input_without_a_negative_cycle_solves_the_same_after_an_idle_repair_call_on_a_clean_mesh() {
    // Consistent measurements (no error): nothing is below its offset estimate by more than the
    // fit's own error, so a repair call raises nothing on a symmetric mesh.
    let n = 6;
    let t: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| if i == j { 0.0 } else { 0.001 * (1 + (i + j) % 5) as f64 }).collect()).collect();
    let off: Vec<f64> = (0..n).map(|k| k as f64 * 3.7 - 9.0).collect();
    let m = measured(&t, &off, &[]);
    let plain = IncrementalSolver::from_dense(input(&m, 0.0)).unwrap();
    let mut d = input(&m, 0.0);
    assert_eq!(d.raise_below_offset_estimate(1e-6, 8), 0, "a symmetric clean mesh has no link to raise");
    let again = IncrementalSolver::from_dense(d).unwrap();
    assert_eq!(table(&plain, n), table(&again, n));
}

#[test]
fn a_cycle_through_a_node_measured_one_way_only_is_left_alone() {
    // 0→1, 1→2 and 2→0 only, no reverse directions: no offset estimate for any of them, so the
    // repair cannot tell an error from an offset and raises nothing; the error stays.
    let inf = f64::INFINITY;
    let m = vec![vec![0.0, -0.002, inf], vec![inf, 0.0, -0.002], vec![-0.002, inf, 0.0]];
    let mut d = input(&m, 0.0);
    assert_eq!(d.raise_below_offset_estimate(1e-6, 8), 0);
    assert!(matches!(IncrementalSolver::from_dense(d), Err(RouteError::NegativeCycle(_))));
}
