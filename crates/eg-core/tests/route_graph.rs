//! Graph state: ManualLatency precedence (§9.5), expiry, AdditionalCost resolution.

use eg_core::route::{
    resolve_additional_cost, Graph, ManualLatency, Measurement, INVALID, WILDCARD,
};

#[test]
fn manual_latency_case_d() {
    let mut m = ManualLatency::new();
    m.set_ms(1, 2, 1.14);
    m.set_ms(2, 1, 5.14);
    m.set_ms(100, WILDCARD, 1.919);
    m.set_ms(WILDCARD, 100, 8.1);
    assert_eq!(m.lookup(1, 2), Some(1.14 / 1000.0));
    assert_eq!(m.lookup(2, 1), Some(5.14 / 1000.0));
    assert_eq!(m.lookup(100, 7), Some(1.919 / 1000.0));
    assert_eq!(m.lookup(7, 100), Some(8.1 / 1000.0));
    assert_eq!(
        m.lookup(100, 100),
        Some(1.919 / 1000.0),
        "[src][*] beats [*][dst]"
    );
    assert_eq!(m.lookup(1, 3), None);
    m.set_ms(WILDCARD, WILDCARD, 50.0);
    assert_eq!(m.lookup(1, 3), Some(0.05));
    m.set_ms(7, WILDCARD, 2.0);
    assert_eq!(m.lookup(7, 100), Some(0.002), "[src][*] beats [*][dst]");
    m.set_ms(7, 100, 3.0);
    assert_eq!(m.lookup(7, 100), Some(0.003), "[src][dst] beats all");
}

#[test]
fn manual_latency_only_overrides_reported_edges() {
    let mut g = Graph::new();
    g.manual_latency_mut().set_ms(WILDCARD, WILDCARD, 1.0);
    g.manual_latency_mut().set_ms(1, 2, 7.0);
    g.set_edge(1, 2, 0.5, 0.0, 100.0).unwrap();
    g.set_edge(2, 3, 0.5, 0.0, 100.0).unwrap();
    assert_eq!(g.latency(1, 2, 0.0), 0.007);
    assert_eq!(g.latency(2, 3, 0.0), 0.001);
    assert_eq!(g.latency(3, 2, 0.0), f64::INFINITY, "never creates edges");
    let sol = g.solve(0.0).unwrap();
    assert_eq!(sol.next_hop(3, 2), INVALID);
    assert!((sol.dist(1, 3) - 0.008).abs() < 1e-15);
}

#[test]
fn expiry_and_infinity() {
    let mut g = Graph::new();
    g.set_edge(1, 2, 0.1, 0.0, 10.0).unwrap();
    // Only a non-finite measurement means "down" (99999 is an ordinary value, see route_offsets.rs).
    g.set_edge(2, 1, f64::INFINITY, 0.0, 10.0).unwrap();
    assert_eq!(g.latency(1, 2, 10.0), 0.1, "valid until inclusive");
    assert_eq!(g.latency(1, 2, 10.001), f64::INFINITY);
    assert_eq!(g.latency(2, 1, 0.0), f64::INFINITY);
    assert_eq!(g.solve(11.0).unwrap().next_hop(1, 2), INVALID);
    assert_eq!(g.solve(5.0).unwrap().next_hop(1, 2), 2);
    assert!(g.add_node(65533).is_err());
    assert!(g.set_edge(1, 65535, 0.1, 0.0, 1.0).is_err());
}

#[test]
fn additional_cost_minus_one_uses_own_value() {
    assert_eq!(resolve_additional_cost(-1.0, 10.0), 0.010);
    assert_eq!(resolve_additional_cost(20.0, 10.0), 0.020);
    assert_eq!(resolve_additional_cost(-1.0, -1.0), 0.0);
    assert_eq!(resolve_additional_cost(f64::NAN, 5.0), 0.005);
    let mut g = Graph::new();
    let m = Measurement {
        src: 1,
        dst: 2,
        latency: 0.002,
        additional_cost_ms: -1.0,
        time_to_alive: 70.0,
    };
    g.apply(&m, 10.0, 100.0).unwrap();
    let e = g.edge(1, 2).unwrap();
    assert_eq!(e.additional_cost, 0.010);
    assert_eq!(e.valid_until, 170.0);
    assert!((g.weight(1, 2, 100.0) - 0.012).abs() < 1e-15);
    let sol = g.solve(100.0).unwrap();
    assert!((sol.dist(1, 2) - 0.012).abs() < 1e-15);
    assert_eq!(sol.dist_no_ac(1, 2), 0.002);
}

#[test]
fn remove_node_and_edges() {
    let mut g = Graph::new();
    g.set_edge(1, 2, 0.1, 0.0, 1e9).unwrap();
    g.set_edge(2, 3, 0.1, 0.0, 1e9).unwrap();
    g.remove_node(2);
    assert_eq!(g.nodes().collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(g.edges().count(), 0);
    g.set_edge(1, 3, 0.1, 0.0, 1e9).unwrap();
    g.remove_edge(1, 3);
    assert!(g.edge(1, 3).is_none());
}

/// The per-source edge rows behave as one map keyed by `(src, dst)`: random stores, re-stores,
/// edge and vertex removals and clears, compared after each step with a BTreeMap model
/// (contents, ascending order, count, lookups, weights and the solver input).
#[test]
fn edge_storage_matches_a_map_model() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};
    let mut rng = StdRng::seed_from_u64(11);
    let mut g = Graph::new();
    let mut model: BTreeMap<(u16, u16), (f64, f64, f64)> = BTreeMap::new();
    let mut nodes: BTreeSet<u16> = BTreeSet::new();
    for step in 0..4000 {
        let (s, d) = (rng.gen_range(0..12u16), rng.gen_range(0..12u16));
        match rng.gen_range(0..20) {
            0 => {
                g.remove_node(s);
                nodes.remove(&s);
                model.retain(|&(a, b), _| a != s && b != s);
            }
            1 => {
                g.remove_edge(s, d);
                model.remove(&(s, d));
            }
            2 if step % 500 == 0 => {
                g.clear_edges();
                model.clear();
            }
            _ => {
                let lat = rng.gen_range(-0.05..0.3);
                let ac = rng.gen_range(0.0..0.01);
                let until = rng.gen_range(0.0..10.0);
                g.set_edge(s, d, lat, ac, until).unwrap();
                nodes.insert(s);
                nodes.insert(d);
                model.insert((s, d), (lat, ac, until));
            }
        }
        let got: Vec<((u16, u16), (f64, f64, f64))> = g
            .edges()
            .map(|(k, e)| (k, (e.latency, e.additional_cost, e.valid_until)))
            .collect();
        let want: Vec<((u16, u16), (f64, f64, f64))> =
            model.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(got, want, "step {step}");
        assert_eq!(g.edge_count(), model.len(), "step {step}");
        assert_eq!(g.nodes().collect::<BTreeSet<_>>(), nodes, "step {step}");
        let (a, b) = (rng.gen_range(0..12u16), rng.gen_range(0..12u16));
        assert_eq!(
            g.edge(a, b).map(|e| e.latency),
            model.get(&(a, b)).map(|v| v.0)
        );
        let now = 5.0;
        let w =
            model.get(&(a, b)).map_or(
                f64::INFINITY,
                |&(l, ac, u)| if now > u { f64::INFINITY } else { l + ac },
            );
        assert_eq!(g.weight(a, b, now), w, "step {step}");
        let mut visited = Vec::new();
        g.visit_edges(now, |s, d, _, _| visited.push((s, d)));
        assert_eq!(visited, model.keys().copied().collect::<Vec<_>>());
        let live: Vec<(u16, u16)> = model
            .iter()
            .filter(|(_, v)| now <= v.2)
            .map(|(&k, _)| k)
            .collect();
        let input: Vec<(u16, u16)> = g
            .weighted_edges(now)
            .iter()
            .map(|e| (e.src, e.dst))
            .collect();
        assert_eq!(input, live);
    }
}
