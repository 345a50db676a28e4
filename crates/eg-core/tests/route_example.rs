//! Reference cases of the upstream inventory: §9.2 (6-node example), §9.3 (AdditionalCost),
//! §9.4 (negative one-way values) and the solve output format.

use eg_core::route::{
    broadcast_edges, broadcast_targets, format_solve_json, format_solve_text, forward_set,
    parse_matrix, solve, Solution, WeightedEdge, EXAMPLE_MATRIX, INVALID,
};

fn example() -> Solution {
    parse_matrix(EXAMPLE_MATRIX).unwrap().solve().unwrap()
}

const NEXT: [[u16; 6]; 6] = [
    [0, 2, 2, 2, 2, 2],
    [1, 0, 3, 4, 3, 4],
    [2, 2, 0, 4, 5, 4],
    [2, 2, 3, 0, 3, 6],
    [3, 3, 3, 3, 0, 3],
    [4, 4, 4, 4, 4, 0],
];
const DIST: [[f64; 6]; 6] = [
    [0.0, 0.5, 1.0, 1.0, 1.5, 1.5],
    [0.5, 0.0, 0.5, 0.5, 1.0, 1.0],
    [1.0, 0.5, 0.0, 0.5, 0.5, 1.0],
    [1.0, 0.5, 0.5, 0.0, 1.0, 0.5],
    [1.5, 1.0, 0.5, 1.0, 0.0, 1.5],
    [1.5, 1.0, 1.0, 0.5, 1.5, 0.0],
];

#[test]
fn six_node_next_hops_and_distances() {
    let sol = example();
    assert_eq!(sol.ids(), &[1, 2, 3, 4, 5, 6]);
    for s in 1..=6u16 {
        for d in 1..=6u16 {
            let want = if s == d {
                INVALID
            } else {
                NEXT[s as usize - 1][d as usize - 1]
            };
            assert_eq!(sol.next_hop(s, d), want, "next {s}->{d}");
            assert_eq!(
                sol.dist(s, d),
                DIST[s as usize - 1][d as usize - 1],
                "dist {s}->{d}"
            );
            assert_eq!(sol.dist_no_ac(s, d), DIST[s as usize - 1][d as usize - 1]);
        }
    }
}

#[test]
fn six_node_paths() {
    let sol = example();
    let cases: &[(u16, u16, &[u16])] = &[
        (1, 5, &[1, 2, 3, 5]),
        (1, 6, &[1, 2, 4, 6]),
        (5, 6, &[5, 3, 4, 6]),
        (6, 5, &[6, 4, 3, 5]),
        (5, 1, &[5, 3, 2, 1]),
        (6, 1, &[6, 4, 2, 1]),
        (2, 5, &[2, 3, 5]),
        (2, 6, &[2, 4, 6]),
        (3, 6, &[3, 4, 6]),
        (4, 5, &[4, 3, 5]),
        (3, 1, &[3, 2, 1]),
        (4, 1, &[4, 2, 1]),
        (3, 3, &[3]),
    ];
    for &(s, d, p) in cases {
        assert_eq!(sol.path(s, d).unwrap(), p, "path {s}->{d}");
    }
    assert_eq!(sol.path(1, 7), None);
}

fn sorted(mut v: Vec<(u16, u16)>) -> Vec<(u16, u16)> {
    v.sort_unstable();
    v
}

#[test]
fn six_node_broadcast_trees() {
    let sol = example();
    let want: [&[(u16, u16)]; 6] = [
        &[(1, 2), (2, 3), (2, 4), (3, 5), (4, 6)],
        &[(2, 1), (2, 3), (2, 4), (3, 5), (4, 6)],
        &[(3, 2), (3, 4), (3, 5), (2, 1), (4, 6)],
        &[(4, 2), (4, 3), (4, 6), (2, 1), (3, 5)],
        &[(5, 3), (3, 2), (3, 4), (2, 1), (4, 6)],
        &[(6, 4), (4, 2), (4, 3), (2, 1), (3, 5)],
    ];
    for src in 1..=6u16 {
        let got = sorted(broadcast_edges(&sol, src));
        assert_eq!(
            got,
            sorted(want[src as usize - 1].to_vec()),
            "tree of {src}"
        );
        let mut receivers: Vec<u16> = got.iter().map(|e| e.1).collect();
        receivers.sort_unstable();
        let all: Vec<u16> = (1..=6).filter(|&v| v != src).collect();
        assert_eq!(receivers, all, "each node exactly once, src {src}");
    }
}

#[test]
fn node4_worked_example() {
    let sol = example();
    assert_eq!(broadcast_targets(&sol, 4), vec![2, 3, 6]);
    assert_eq!(forward_set(&sol, 4, 1, Some(2)), vec![6]);
    // Own broadcast: every distinct next hop.
    assert_eq!(forward_set(&sol, 4, 4, None), vec![2, 3, 6]);
    assert_eq!(forward_set(&sol, 1, 1, None), vec![2]);
}

#[test]
fn six_node_with_additional_cost_10ms() {
    let m = parse_matrix(EXAMPLE_MATRIX).unwrap();
    let edges: Vec<WeightedEdge> = m
        .edges
        .iter()
        .map(|e| WeightedEdge::new(e.src, e.dst, e.latency, 0.010))
        .collect();
    let sol = solve(&m.ids, &edges).unwrap();
    let plain = example();
    assert_eq!(sol.next_table(), plain.next_table());
    assert!((sol.dist(1, 6) - 1.53).abs() < 1e-12, "{}", sol.dist(1, 6));
    assert_eq!(sol.dist_no_ac(1, 6), 1.5);
}

#[test]
fn additional_cost_case_b() {
    // A=1, B=2, C=3: A->B 1 ms, B->C 2 ms, A->C 4 ms.
    let base = [(1, 2, 0.001), (2, 3, 0.002), (1, 3, 0.004)];
    let mk = |ac: f64| -> Vec<WeightedEdge> {
        base.iter()
            .map(|&(s, d, l)| WeightedEdge::new(s, d, l, ac))
            .collect()
    };
    let sol = solve(&[], &mk(0.0)).unwrap();
    assert_eq!(sol.next_hop(1, 3), 2);
    assert!((sol.dist(1, 3) - 0.003).abs() < 1e-12);
    let sol = solve(&[], &mk(0.010)).unwrap();
    assert_eq!(sol.next_hop(1, 3), 3);
    assert!((sol.dist(1, 3) - 0.014).abs() < 1e-12);
    assert!((sol.dist_no_ac(1, 3) - 0.004).abs() < 1e-12);
}

#[test]
fn negative_one_way_values_case_c() {
    let edges = [
        WeightedEdge::new(1, 2, 0.002179297, 0.010),
        WeightedEdge::new(2, 1, -0.00030252, 0.010),
    ];
    let sol = solve(&[], &edges).unwrap();
    assert_eq!(sol.next_hop(1, 2), 2);
    assert_eq!(sol.next_hop(2, 1), 1);
    assert!((sol.dist(1, 2) - 0.012179297).abs() < 1e-15);
    assert!((sol.dist(2, 1) - 0.00969748).abs() < 1e-15);
    assert_eq!(sol.dist_no_ac(2, 1), -0.00030252);
}

#[test]
fn solve_text_output() {
    let text = format_solve_text(&example());
    assert!(
        text.starts_with("NextHopTable:\n  1:\n    2: 2\n    3: 2\n"),
        "{text}"
    );
    assert!(text.contains("DistanceTable:\n  1:\n    1: 0\n    2: 0.5\n    3: 1\n"));
    assert!(text.contains("\nDistanceTableWithoutAdditionalaCost:\n  1:\n"));
    assert!(text.contains("\nHuman readable:\nsrc\tdist\t\tpath\n1 -> 2\t0.500000\t[1 2]\n"));
    assert!(text.contains("\n1 -> 6\t1.500000\t[1 2 4 6]\n"));
    assert!(text.ends_with("6 -> 5\t1.500000\t[6 4 3 5]\n"));
    assert_eq!(text.matches(" -> ").count(), 30);
}

#[test]
fn solve_text_unreachable_and_go_floats() {
    let m = parse_matrix("X 1 2 3\n1 0 0.00001 Inf\n2 99999 0 Inf\n3 Inf Inf 0\n").unwrap();
    let text = format_solve_text(&m.solve().unwrap());
    assert!(text.contains("  2: {}\n  3: {}\n"), "{text}");
    assert!(text.contains("    2: 1e-05\n"), "{text}");
    assert!(text.contains("    3: .inf\n"), "{text}");
    assert_eq!(text.matches(" -> ").count(), 1);
}

#[test]
fn go_float_formatting() {
    use eg_core::route::format::go_float;
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (0.5, "0.5"),
        (1.0, "1"),
        (1.53, "1.53"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.00030252, "-0.00030252"),
        (0.000012345, "1.2345e-05"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e21, "1e+21"),
        (f64::INFINITY, ".inf"),
    ];
    for &(x, want) in cases {
        assert_eq!(go_float(x), want, "{x}");
    }
}

#[test]
fn solve_json_output() {
    let json = format_solve_json(&example());
    assert!(
        json.starts_with("{\"nodes\":[1,2,3,4,5,6],\"NextHopTable\":{\"1\":{\"2\":2,\"3\":2,"),
        "{json}"
    );
    assert!(json.contains("\"DistanceTable\":{\"1\":{\"1\":0,\"2\":0.5,\"3\":1,"));
    assert!(json.contains("\"DistanceTableWithoutAdditionalCost\":{"));
    assert!(
        json.contains("{\"src\":1,\"dst\":6,\"dist\":1.5,\"dist_no_ac\":1.5,\"path\":[1,2,4,6]}")
    );
    assert!(json.ends_with("]}"));
}
