//! Broadcast (dst 65535) along source-rooted shortest-path trees derived from the shared
//! next-hop table.
//!
//! Rule (upstream's, made sound by the deterministic tie-breaking of [`super::solve`]):
//! a node `me` that receives a broadcast from `src` via neighbour `from` forwards it to each
//! candidate `C` in its own broadcast list (the distinct next hops of its row) such that `me`
//! lies on the route `src -> C` and `C != from`. The source sends to its whole list.
//!
//! Why every reachable node receives it exactly once (all nodes holding the same table):
//! if `C = next[me][x]` for some `x`, the edge `me -> C` is the prefix of a chosen route, so
//! it is itself an optimal route to `C` with one hop; the hop-count tie-break makes it *the*
//! chosen route, i.e. `next[me][C] = C`. Hence if `me` lies on route `src -> C` it is `C`'s
//! predecessor on it, so at most one node (that predecessor `p`) forwards to `C`. `p` does
//! forward: `C` is in its list, `p` is on the route, and `C` is not `p`'s own sender (that
//! sender precedes `p` on an optimal route with one hop fewer). Induction on the hop count.

use super::ids::{NodeId, INVALID};
use super::solve::Solution;

/// Whether `me` lies on the chosen route `src -> dst` (endpoints included). Bounded by the table
/// size, so a table with a loop ends. Also the data plane's source check (plane/origin.rs).
pub(crate) fn on_route(sol: &Solution, src: NodeId, dst: NodeId, me: NodeId) -> bool {
    let mut cur = src;
    for _ in 0..=sol.len() {
        if cur == me {
            return true;
        }
        if cur == dst {
            return false;
        }
        cur = sol.next_hop(cur, dst);
        if cur == INVALID {
            return false;
        }
    }
    false
}

/// The targets of `me`'s own broadcast: the distinct next hops in its row, ascending.
pub fn broadcast_targets(sol: &Solution, me: NodeId) -> Vec<NodeId> {
    sol.next_hops_of(me)
}

/// The neighbours `me` forwards a broadcast from `src` to, having received it from `from`
/// (`None` when `me` is the source). Ascending NodeIds.
pub fn forward_set(sol: &Solution, me: NodeId, src: NodeId, from: Option<NodeId>) -> Vec<NodeId> {
    sol.next_hops_of(me)
        .into_iter()
        .filter(|&c| Some(c) != from && c != src && on_route(sol, src, c, me))
        .collect()
}

/// Simulates a broadcast from `src` and returns every transmission `(sender, receiver)` in
/// breadth-first order. With a consistent table each reachable node appears exactly once as
/// a receiver.
pub fn broadcast_edges(sol: &Solution, src: NodeId) -> Vec<(NodeId, NodeId)> {
    let mut out = Vec::new();
    if sol.index_of(src).is_none() {
        return out;
    }
    let mut queue = std::collections::VecDeque::new();
    queue.push_back((src, None));
    // Bound the simulation: a broken table must not loop forever.
    let limit = sol.len() * sol.len() + 1;
    while let Some((me, from)) = queue.pop_front() {
        for c in forward_set(sol, me, src, from) {
            out.push((me, c));
            if out.len() > limit {
                return out;
            }
            queue.push_back((c, Some(me)));
        }
    }
    out
}
