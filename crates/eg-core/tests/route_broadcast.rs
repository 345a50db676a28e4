//! Broadcast along the shared next-hop table: every reachable node receives each broadcast
//! exactly once, on random graphs with ties, zero-cost edges and offsets.

use eg_core::route::{broadcast_edges, forward_set, solve, Solution, WeightedEdge};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::BTreeMap;

/// Simulates the broadcast hop by hop with `forward_set` and counts receptions.
fn receptions(sol: &Solution, src: u16) -> BTreeMap<u16, usize> {
    let mut count = BTreeMap::new();
    let mut queue = vec![(src, None)];
    let mut steps = 0;
    while let Some((me, from)) = queue.pop() {
        for c in forward_set(sol, me, src, from) {
            *count.entry(c).or_insert(0) += 1;
            queue.push((c, Some(me)));
            steps += 1;
            assert!(
                steps <= sol.len() * sol.len(),
                "broadcast does not terminate"
            );
        }
    }
    count
}

#[test]
fn exactly_once_on_random_graphs() {
    let mut rng = StdRng::seed_from_u64(99);
    for round in 0..60 {
        let n = rng.gen_range(2..30u16);
        let density = rng.gen_range(0.05..1.0);
        let integer = round % 2 == 0;
        let off: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let mut edges = Vec::new();
        for u in 0..n {
            for v in 0..n {
                if u != v && rng.gen_bool(density) {
                    // Integer weights (0 included) create many ties and zero-cost cycles.
                    let t = if integer {
                        rng.gen_range(0..3) as f64
                    } else {
                        rng.gen_range(0.001..0.2)
                    };
                    let o = if integer {
                        0.0
                    } else {
                        off[v as usize] - off[u as usize]
                    };
                    edges.push(WeightedEdge::new(u * 2 + 1, v * 2 + 1, t + o, 0.0));
                }
            }
        }
        let sol = solve(&[], &edges).unwrap();
        for &src in sol.ids() {
            let got = receptions(&sol, src);
            for &v in sol.ids() {
                let reachable = v != src && sol.path(src, v).is_some();
                let times = got.get(&v).copied().unwrap_or(0);
                assert_eq!(
                    times,
                    usize::from(reachable),
                    "round {round}: src {src} node {v}"
                );
            }
            let tree = broadcast_edges(&sol, src);
            assert_eq!(tree.len(), got.values().sum::<usize>());
            // Every transmission uses a real edge whose receiver has it as next hop from the sender.
            for (a, b) in tree {
                assert_eq!(sol.next_hop(a, b), b);
            }
        }
    }
}
