//! Large constant clock offsets (hours, years, a device that booted at 1970) must give the same
//! routes as no offset at all: a measured one-way latency `m(u→v) = true + off(v) − off(u)` is a
//! measurement of any finite size, never "no edge", and the solver must not lose the
//! microsecond differences between real latencies to the size of the offsets.

use eg_core::route::hysteresis::{Change, Hysteresis, RecalculateSetting};
use eg_core::route::{parse_matrix, solve, solve_naive, Graph, Solution, WeightedEdge, INVALID};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Seconds: 2 h, 1 day + 1 h (beyond upstream's 99999), 1 year, 56 years (a clock at 1970
/// while the others are in 2026), 300 years (a clock far in the future).
const HOUR2: f64 = 7_200.0;
const DAY_AND_HOUR: f64 = 90_000.0;
const YEAR: f64 = 31_536_000.0;
const BOOT_1970: f64 = -1_767_225_600.0;
const CENTURIES: f64 = 9_467_280_000.0;

fn offset_sets() -> Vec<(&'static str, Vec<f64>)> {
    vec![
        ("-2 h on one node", vec![0.0, -HOUR2]),
        ("+2 h on one node", vec![0.0, HOUR2]),
        ("+-2 h", vec![0.0, -HOUR2, HOUR2]),
        ("+25 h", vec![0.0, DAY_AND_HOUR]),
        ("+1 year", vec![0.0, YEAR]),
        ("-1 year", vec![0.0, -YEAR]),
        ("1970 boot", vec![0.0, BOOT_1970]),
        (
            "1970 boot, -2 h, +1 year",
            vec![0.0, BOOT_1970, -HOUR2, YEAR],
        ),
        ("every node off", vec![HOUR2, BOOT_1970, -YEAR, CENTURIES]),
    ]
}

/// `(src index, dst index, true latency)`.
type TrueEdge = (usize, usize, f64);

/// `(ids, true edges, AC per node)`: latencies are multiples of 2^-10 s (so, with integer
/// offsets, every measured value and sum is exact in f64 and ties stay ties), some links
/// one-directional, some absent.
fn dyadic_graph(rng: &mut StdRng, n: usize) -> (Vec<u16>, Vec<TrueEdge>, Vec<f64>) {
    let ids: Vec<u16> = (0..n as u16).map(|i| i * 7 + 3).collect();
    let ac: Vec<f64> = (0..n)
        .map(|_| [0.0, 0.001, 1.0 / 64.0, 0.01][rng.gen_range(0..4)])
        .collect();
    let mut edges = Vec::new();
    for u in 0..n {
        for v in 0..n {
            if u != v && rng.gen_bool(0.6) {
                edges.push((u, v, rng.gen_range(1..48) as f64 / 1024.0));
            }
        }
    }
    (ids, edges, ac)
}

fn measured(ids: &[u16], edges: &[TrueEdge], ac: &[f64], off: &[f64]) -> Vec<WeightedEdge> {
    edges
        .iter()
        .map(|&(u, v, t)| WeightedEdge::new(ids[u], ids[v], t + off[v] - off[u], ac[v]))
        .collect()
}

#[test]
fn constant_offsets_give_the_same_next_hops_as_none() {
    let mut rng = StdRng::seed_from_u64(0x0ff5e7);
    for round in 0..30 {
        let n = rng.gen_range(3..24);
        let (ids, edges, ac) = dyadic_graph(&mut rng, n);
        let zero = measured(&ids, &edges, &ac, &vec![0.0; n]);
        let want = solve(&ids, &zero).unwrap();
        assert_eq!(want, solve_naive(&ids, &zero).unwrap());
        for (name, set) in offset_sets() {
            let off: Vec<f64> = (0..n).map(|i| set[(i + round) % set.len()]).collect();
            let m = measured(&ids, &edges, &ac, &off);
            let got = solve(&ids, &m).unwrap_or_else(|e| panic!("round {round}, {name}: {e}"));
            assert_eq!(
                got.next_table(),
                want.next_table(),
                "round {round}, {name}: next hops differ"
            );
            assert_eq!(
                got,
                solve_naive(&ids, &m).unwrap(),
                "round {round}, {name}: naive solver"
            );
            // Distances are the measured sums: the true ones plus off(dst) - off(src), up to
            // the f64 rounding of sums of values as large as the offsets.
            let big = off.iter().fold(1.0f64, |m, o| m.max(o.abs()));
            let tol = 4.0 * n as f64 * f64::EPSILON * big;
            for (i, &s) in ids.iter().enumerate() {
                for (j, &d) in ids.iter().enumerate() {
                    let (a, b) = (want.dist(s, d), got.dist(s, d));
                    if a.is_finite() {
                        assert!(
                            ((b - off[j] + off[i]) - a).abs() <= tol,
                            "{name}: dist {s}->{d}"
                        );
                    } else {
                        assert_eq!(b, f64::INFINITY);
                    }
                }
            }
        }
    }
}

/// Follows the chosen route and sums the true cost along it.
fn route_cost(sol: &Solution, s: u16, d: u16, cost: &impl Fn(u16, u16) -> f64) -> Option<f64> {
    let p = sol.path(s, d)?;
    Some(p.windows(2).map(|w| cost(w[0], w[1])).sum())
}

#[test]
fn microsecond_latencies_survive_huge_offsets() {
    // Network-namespace scale latencies (10–100 µs, arbitrary f64s) under offsets of up to
    // centuries: the chosen routes must be optimal for the true latencies up to the f64
    // resolution of the offsets (ulp(1e10 s) ≈ 2 µs per measurement).
    let mut rng = StdRng::seed_from_u64(1970);
    for round in 0..20 {
        let n = rng.gen_range(3..30);
        let ids: Vec<u16> = (0..n as u16).map(|i| 100 + i).collect();
        let set = &offset_sets()[round % offset_sets().len()].1;
        let off: Vec<f64> = (0..n)
            .map(|i| set[i % set.len()] + rng.gen_range(-0.5..0.5))
            .collect();
        let mut truth = std::collections::BTreeMap::new();
        let mut m = Vec::new();
        for u in 0..n {
            for v in 0..n {
                if u != v && rng.gen_bool(0.7) {
                    let t = rng.gen_range(10e-6..100e-6);
                    truth.insert((ids[u], ids[v]), t);
                    m.push(WeightedEdge::new(ids[u], ids[v], t + off[v] - off[u], 0.0));
                }
            }
        }
        let t_edges: Vec<WeightedEdge> = truth
            .iter()
            .map(|(&(a, b), &t)| WeightedEdge::new(a, b, t, 0.0))
            .collect();
        let opt_sol = solve(&ids, &t_edges).unwrap();
        let sol = solve(&ids, &m).unwrap();
        let cost = |a: u16, b: u16| truth[&(a, b)];
        // Each measured value is the true one rounded to f64 at the offsets' size (half an ulp),
        // and the solver's grid is never coarser than 2^-20 s because of offsets (half a tick
        // per edge): a route can look better than the optimum by at most that per hop of
        // either route. (Before: an offset of 25 h gave a grid of 30 µs.)
        let big = m.iter().fold(0.0f64, |x, e| x.max(e.latency.abs()));
        let ulp = 2f64.powi(big.log2().floor() as i32 - 52) + 2f64.powi(-20);
        for &s in &ids {
            for &d in &ids {
                let hops = |x: &Solution| x.path(s, d).map_or(0, |p| p.len() - 1) as f64;
                let tol = (hops(&opt_sol) + hops(&sol)) * ulp + 1e-12;
                match (
                    route_cost(&opt_sol, s, d, &cost),
                    route_cost(&sol, s, d, &cost),
                ) {
                    (None, None) => {}
                    (Some(o), Some(g)) => assert!(
                        g - o <= tol,
                        "round {round}: {s}->{d} optimum {o} chosen {g} (tol {tol})"
                    ),
                    other => panic!("round {round}: reachability differs {s}->{d}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn a_measured_latency_of_any_finite_size_is_an_edge() {
    let mut g = Graph::new();
    g.set_edge(1, 2, 99_999.0, 0.0, 10.0).unwrap();
    g.set_edge(2, 1, -99_998.99, 0.0, 10.0).unwrap();
    g.set_edge(2, 3, 5.0e9, 0.01, 10.0).unwrap();
    assert_eq!(g.latency(1, 2, 0.0), 99_999.0);
    assert_eq!(g.latency(2, 3, 0.0), 5.0e9);
    assert_eq!(g.weight(2, 3, 0.0), 5.0e9 + 0.01);
    // Only a non-finite value means "no edge" (and expiry).
    g.set_edge(3, 1, f64::INFINITY, 0.0, 10.0).unwrap();
    g.set_edge(3, 2, f64::NAN, 0.0, 10.0).unwrap();
    assert_eq!(g.latency(3, 1, 0.0), f64::INFINITY);
    assert_eq!(g.latency(3, 2, 0.0), f64::INFINITY);
    let sol = g.solve(0.0).unwrap();
    assert_eq!(sol.path(1, 3).unwrap(), vec![1, 2, 3]);
    assert_eq!(sol.next_hop(3, 1), INVALID);
    // The upstream matrix text format keeps its own rule: 99999 there means "no edge".
    let m = parse_matrix("X 1 2\n1 0 99999\n2 100000 0\n").unwrap();
    let s = m.solve().unwrap();
    assert_eq!(s.next_hop(1, 2), INVALID);
    assert_eq!(s.next_hop(2, 1), INVALID);
}

#[test]
fn manual_latency_of_99999_s_still_means_down() {
    // A configured override (not a measurement) keeps upstream's meaning.
    let mut g = Graph::new();
    g.manual_latency_mut().set_ms(1, 2, 99_999_000.0);
    g.set_edge(1, 2, 0.001, 0.0, 10.0).unwrap();
    assert_eq!(g.latency(1, 2, 0.0), f64::INFINITY);
}

#[test]
fn hysteresis_decisions_do_not_depend_on_large_offsets() {
    let setting = RecalculateSetting {
        jitter_tolerance_ms: 30.0,
        jitter_tolerance_multiplier: 1.01,
        recalculate_cooldown: 0.0,
    };
    for off in [0.0, HOUR2, -YEAR, BOOT_1970, CENTURIES] {
        // Node 2's clock is `off` ahead: 1→2 reads true + off, 2→1 true − off.
        let mut g = Graph::new();
        let mut h = Hysteresis::new(setting);
        g.set_edge(1, 2, 0.100 + off, 0.0, 1e9).unwrap();
        g.set_edge(2, 1, 0.100 - off, 0.0, 1e9).unwrap();
        assert!(h.recalc_needed(&g, 0.0), "offset {off}: first solve");
        h.record(&g, 0.0);
        assert_eq!(h.evaluate(&g, 1.0), Change::None, "offset {off}");
        g.set_edge(1, 2, 0.110 + off, 0.0, 1e9).unwrap();
        assert_eq!(
            h.evaluate(&g, 1.0),
            Change::Jitter,
            "offset {off}: +10 ms is jitter"
        );
        // Both directions (a lone link counts half of a one-direction change: it cannot tell
        // it from a clock drift, docs/routing.md "Hysteresis").
        g.set_edge(1, 2, 0.140 + off, 0.0, 1e9).unwrap();
        g.set_edge(2, 1, 0.140 - off, 0.0, 1e9).unwrap();
        assert_eq!(
            h.evaluate(&g, 1.0),
            Change::Significant,
            "offset {off}: +40 ms is significant"
        );
    }
}
