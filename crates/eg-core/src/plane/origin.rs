//! Whether a data frame (NormalPacket) that claims source NodeID `src` may arrive here from the
//! peer `from`: the source of a relayed frame is bound to the path.
//!
//! Encryption is hop by hop, so the header source of a frame is only the sender's word. A frame
//! whose source is the peer that delivered it (`src == from`) speaks for that peer, which holds
//! the session key. A frame with `src != from` is a relayed one, and with the next-hop table every
//! node forwards by, a frame from `src` reaches this node `me` only from one neighbour:
//!
//! * **unicast** (`dst` a node, `me` included): the frame follows `src → next[src][dst] → … → dst`;
//!   it may come from `from` only when `from` lies on that route and `next[from][dst] == me`;
//! * **broadcast** (`dst` 65535, [`crate::route::broadcast`]): node `p` forwards a broadcast from
//!   `src` to `C` when `C` is one of the next hops in `p`'s row and `p` lies on the route
//!   `src → C`; so it may come from `from` only when `me` is in `from`'s row and `from` lies on the
//!   route `src → me` (with a solved table that makes `from` the last hop of that route);
//! * **flood** (`dst` 65534): no edge sends a NormalPacket there (its frames go to a node or to
//!   65535, upstream's too), and a flood may come from anyone, so a relayed one cannot be
//!   attributed: refused.
//!
//! A route the table does not know (source or destination unknown, or the route breaks before it
//! reaches `me`) gives no path to check the frame against, so it is refused as well: such a frame
//! could not have been sent along this node's table. Tables change, and they reach the nodes at
//! different times; the caller asks with the current table and, for a grace period, the one it
//! replaced ([`super::forward::Routes`]).
//!
//! Pure functions over a [`Solution`]; no state, no allocation.

use crate::route::broadcast::on_route;
use crate::route::{NodeId, Solution, BROADCAST, INVALID, SPREAD};

/// Whether `me` appears as a next hop in `node`'s row (`node` would send its own broadcast to
/// `me`, and forwards others' broadcasts only to such nodes).
fn in_row(sol: &Solution, node: NodeId, me: NodeId) -> bool {
    sol.ids().iter().any(|&x| x != node && sol.next_hop(node, x) == me)
}

/// Whether `me` may receive, from the neighbour `from`, a data frame with header source `src` and
/// destination `dst` that `from` relayed (`src != from`), under the next-hop table `sol`. Rules in
/// the module docs. `src == from` is always true (the sender's own frame).
pub fn relayed_via(sol: &Solution, me: NodeId, from: NodeId, src: NodeId, dst: NodeId) -> bool {
    if src == from {
        return true;
    }
    match dst {
        BROADCAST => in_row(sol, from, me) && on_route(sol, src, me, from),
        SPREAD => false,
        _ => {
            // Walk the unicast route src → dst; `from` must be on it with `me` right after.
            let mut cur = src;
            for _ in 0..=sol.len() {
                if cur == dst || cur == me {
                    return false;
                }
                let next = sol.next_hop(cur, dst);
                if next == INVALID {
                    return false;
                }
                if cur == from {
                    return next == me;
                }
                cur = next;
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line 1 – 2 – 3 with a side node 4 attached to 2 (full table, as a solver makes it).
    fn line() -> Solution {
        let mut rows = Vec::new();
        let next = |s: NodeId, d: NodeId| -> NodeId {
            match (s, d) {
                (1, _) => 2,
                (3, _) => 2,
                (4, _) => 2,
                (2, d) => d,
                _ => unreachable!(),
            }
        };
        for s in 1..=4u16 {
            for d in 1..=4u16 {
                if s != d {
                    rows.push((s, d, next(s, d)));
                }
            }
        }
        Solution::from_next_hops(&rows).unwrap()
    }

    #[test]
    fn own_frames_always_pass() {
        let sol = line();
        assert!(relayed_via(&sol, 2, 1, 1, 2));
        assert!(relayed_via(&sol, 2, 4, 4, 9), "src == from needs no route");
    }

    #[test]
    fn unicast_only_from_the_hop_before_me_on_the_route() {
        let sol = line();
        // 3 receives 1's frames for 3 from 2 (the relay), never from 4 or from 1 via someone else.
        assert!(relayed_via(&sol, 3, 2, 1, 3));
        assert!(!relayed_via(&sol, 3, 4, 1, 3));
        // 2 is the relay: it may get 1's frame only from 1 itself, not from 4 or 3 claiming 1.
        assert!(!relayed_via(&sol, 2, 4, 1, 3));
        assert!(!relayed_via(&sol, 2, 3, 1, 2));
        // 2 is not on the route 1 → 3 as its second hop from 3's side.
        assert!(!relayed_via(&sol, 2, 3, 1, 3));
    }

    #[test]
    fn broadcast_only_from_the_tree_parent() {
        let sol = line();
        // 1's broadcast: 1 → 2, 2 → 3 and 4.
        assert!(relayed_via(&sol, 3, 2, 1, BROADCAST));
        assert!(relayed_via(&sol, 4, 2, 1, BROADCAST));
        assert!(!relayed_via(&sol, 2, 4, 1, BROADCAST), "4 is a leaf of 1's tree");
        assert!(!relayed_via(&sol, 3, 4, 1, BROADCAST));
    }

    #[test]
    fn unknown_routes_and_relayed_floods_are_refused() {
        let sol = line();
        assert!(!relayed_via(&sol, 3, 2, 9, 3), "source not in the table");
        assert!(!relayed_via(&sol, 3, 2, 1, 9), "destination not in the table");
        assert!(!relayed_via(&sol, 3, 2, 9, BROADCAST));
        assert!(!relayed_via(&sol, 3, 2, 1, SPREAD));
        let empty = Solution::from_next_hops(&[]).unwrap();
        assert!(!relayed_via(&empty, 3, 2, 1, 3));
    }

    #[test]
    fn a_table_with_a_loop_ends() {
        // 1 → 2 → 1 → … towards 3: never reaches 3.
        let sol = Solution::from_next_hops(&[(1, 3, 2), (2, 3, 1)]).unwrap();
        assert!(!relayed_via(&sol, 3, 2, 1, 3));
        assert!(!relayed_via(&sol, 3, 2, 1, BROADCAST));
    }
}
