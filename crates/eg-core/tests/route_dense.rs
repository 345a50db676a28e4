//! `IncrementalSolver::from_dense` (links pushed row by row into a `DenseInput`, the WASM full
//! solve's one walk over the graph) must give exactly what `IncrementalSolver::new` gives for
//! the same links as a `WeightedEdge` list: ids, next hops, distance tables bit for bit, the
//! same errors, and an engine that updates alike afterwards. Random graphs with exact ties,
//! clock offsets from none to decades (offset-reduced ticks), negative links, a negative cycle,
//! down links, AC that is negative or NaN, self links, empty rows and sizes around the row
//! kernel's threshold.

mod route_common;
use route_common::assert_same;

use eg_core::route::{
    set_row_kernel_min_n, DenseInput, IncrementalSolver, RouteError, WeightedEdge,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

/// Links of a random graph over `ids`, ascending `(src, dst)` (as a graph walk gives them).
fn random_links(rng: &mut StdRng, ids: &[u16], case: usize) -> Vec<WeightedEdge> {
    let density = [1.0, 0.9, 0.5, 0.15, 0.0][case % 5];
    let off_scale = [0.0, 0.05, 7200.0, 3.0e7, 1.8e9][(case / 5) % 5];
    let off: Vec<f64> = ids
        .iter()
        .map(|_| (rng.gen::<f64>() - 0.5) * off_scale)
        .collect();
    // Rows left empty on purpose: a node with no outgoing link.
    let empty_row = rng.gen_range(0..ids.len().max(1));
    let mut out = Vec::new();
    for (i, &s) in ids.iter().enumerate() {
        if i == empty_row && case % 3 == 0 {
            continue;
        }
        for (j, &d) in ids.iter().enumerate() {
            if rng.gen::<f64>() >= density && !(i == j && case % 4 == 1) {
                continue;
            }
            // Coarse dyadic latencies: many exact ties.
            let mut lat = rng.gen_range(1..40) as f64 / 256.0 + off[j] - off[i];
            match rng.gen_range(0..40) {
                0 => lat = f64::INFINITY,
                1 => lat = f64::NAN,
                2 => lat = -0.001, // a negative link without offsets
                _ => {}
            }
            let ac = match rng.gen_range(0..6) {
                0 => -1.0,
                1 => f64::NAN,
                2 => 0.0,
                _ => 0.01,
            };
            out.push(WeightedEdge::new(s, d, lat, ac));
        }
    }
    out
}

fn dense_of(ids: &[u16], links: &[WeightedEdge]) -> Result<IncrementalSolver, RouteError> {
    let mut input = DenseInput::new(ids.to_vec())?;
    let pos = |id: u16| ids.binary_search(&id).unwrap();
    for e in links {
        input.push(pos(e.src), pos(e.dst), e.latency, e.additional_cost);
    }
    IncrementalSolver::from_dense(input)
}

#[test]
fn dense_input_solves_exactly_as_the_edge_list() {
    let mut rng = StdRng::seed_from_u64(0x5eed_d15e);
    let mut errors = 0;
    for case in 0..150 {
        let n = [0, 1, 2, 3, 17, 40, 65][case % 7];
        let ids: Vec<u16> = (0..n as u16).map(|i| i * 3 + 1).collect();
        let links = random_links(&mut rng, &ids, case);
        // Both kernels: the row kernel forced on, and Floyd–Warshall alone.
        set_row_kernel_min_n(if case % 2 == 0 { 0 } else { usize::MAX });
        let want = IncrementalSolver::new(&ids, &links);
        let got = dense_of(&ids, &links);
        let ctx = format!("case {case} (n = {n})");
        match (got, want) {
            (Ok(mut g), Ok(mut w)) => {
                assert_same(g.solution(), w.solution(), &ctx);
                // The engines' stored inputs and keys agree too: the same update gives the same
                // result (and the same mode) on both.
                if n >= 2 {
                    let change = [WeightedEdge::new(ids[0], ids[n - 1], 0.5 / 256.0, 0.0)];
                    let (rg, rw) = (g.update(&change), w.update(&change));
                    assert_eq!(rg, rw, "{ctx}: update report");
                    assert_same(
                        g.solution(),
                        w.solution(),
                        &format!("{ctx}, after an update"),
                    );
                }
                assert_eq!(g.edges(), w.edges(), "{ctx}: stored edges");
            }
            (Err(g), Err(w)) => {
                assert_eq!(g, w, "{ctx}: error");
                errors += 1;
            }
            (g, w) => panic!("{ctx}: from_dense {:?} but new {:?}", g.err(), w.err()),
        }
    }
    set_row_kernel_min_n(640);
    // The cases include negative cycles (negative links without offsets).
    assert!(errors > 0, "no case had a negative cycle");
}

#[test]
fn dense_input_rejects_reserved_ids() {
    assert_eq!(
        DenseInput::new(vec![1, 65533]).err(),
        Some(RouteError::InvalidNodeId(65533))
    );
}

#[test]
#[should_panic(expected = "out of order")]
fn dense_input_refuses_links_out_of_order() {
    let mut input = DenseInput::new(vec![1, 2, 3]).unwrap();
    input.push(1, 2, 0.01, 0.0);
    input.push(1, 0, 0.01, 0.0);
}

#[test]
#[should_panic(expected = "out of order")]
fn dense_input_refuses_a_row_going_back() {
    let mut input = DenseInput::new(vec![1, 2, 3]).unwrap();
    input.push(2, 0, 0.01, 0.0);
    input.push(1, 2, 0.01, 0.0);
}
