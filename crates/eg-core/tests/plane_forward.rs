//! The edge's per-message decision (eg_core::plane::forward::decide), MAC learning (L2Fib) and
//! the flood filter (DedupSet), each rule on its own. These were the TypeScript unit tests of
//! ts/edge/forward.ts, l2fib.ts and dedup.ts before forwarding moved into the core; the
//! assertions are the same.

use eg_core::frame::Kind;
use eg_core::plane::{decide, DedupSet, Decision, Drop, Forward, Inner, L2Fib, Learned, Routes};
use eg_core::route::{forward_set, NodeId, Solution, BROADCAST, INVALID, SPREAD, SUPER_NODE};

const ME: NodeId = 2;
const NORMAL: u8 = Kind::NormalPacket as u8;
const PING: u8 = Kind::PingPacket as u8;
const PONG: u8 = Kind::PongPacket as u8;
const QUERY: u8 = Kind::QueryPeer as u8;
const BPEER: u8 = Kind::BroadcastPeer as u8;
const SUPD: u8 = Kind::ServerUpdate as u8;
const REG: u8 = Kind::Register as u8;

/// Node 2's view: 2→3 direct, 2→4 via 3, 2→5 via 1, 2→1 direct; no entry for 6 or 9.
fn rows() -> Vec<(NodeId, NodeId, NodeId)> {
    vec![(2, 3, 3), (2, 4, 3), (2, 5, 1), (2, 1, 1), (1, 2, 2), (3, 2, 2), (5, 1, 1), (1, 5, 5), (5, 2, 1)]
}
fn routes() -> Routes {
    Routes::from_rows(&rows()).unwrap()
}

fn hdr(kind: u8, ttl: u8, dst: NodeId, src: NodeId) -> Inner {
    Inner { kind, ttl, dst, src }
}
fn normal(dst: NodeId, ttl: u8) -> Inner {
    hdr(NORMAL, ttl, dst, 1)
}

/// The drop's name as the runtime writes it (the template with the event's fields).
fn name(d: &Decision, h: Inner, me: NodeId, from: NodeId) -> Option<String> {
    d.drop.map(|(why, node)| {
        why.template()
            .replace("{me}", &me.to_string())
            .replace("{src}", &h.src.to_string())
            .replace("{dst}", &h.dst.to_string())
            .replace("{from}", &from.to_string())
            .replace("{node}", &node.to_string())
            .replace("{kind}", &h.kind.to_string())
    })
}

fn hops(d: &Decision) -> Vec<NodeId> {
    match d.forward {
        Forward::One(n) => vec![n],
        _ => vec![],
    }
}

#[test]
fn delivers_a_frame_addressed_here_and_does_not_forward_it() {
    let d = decide(normal(ME, 10), ME, 1, false, &routes());
    assert_eq!(d, Decision { deliver: true, control: false, forward: Forward::None, drop: None });
}

#[test]
fn delivers_a_frame_addressed_here_even_with_ttl_0() {
    let d = decide(normal(ME, 0), ME, 1, false, &routes());
    assert!(d.deliver);
    assert_eq!(d.drop, None);
    assert_eq!(d.forward, Forward::None);
}

#[test]
fn forwards_a_transit_frame_to_the_next_hop_and_does_not_deliver_it() {
    let d = decide(normal(4, 5), ME, 1, false, &routes());
    assert_eq!(hops(&d), vec![3]);
    assert!(!d.deliver);
    assert_eq!(d.drop, None);
}

#[test]
fn forwards_a_transit_frame_that_arrives_with_ttl_1() {
    assert_eq!(hops(&decide(normal(4, 1), ME, 1, false, &routes())), vec![3]);
}

#[test]
fn drops_a_transit_frame_whose_ttl_is_0_as_ttl_expired() {
    let h = normal(4, 0);
    let d = decide(h, ME, 1, false, &routes());
    assert_eq!(name(&d, h, ME, 1).as_deref(), Some("TTL expired"));
    assert_eq!(d.forward, Forward::None);
    assert!(!d.deliver);
}

#[test]
fn a_broadcast_with_ttl_0_is_delivered_but_neither_forwarded_nor_a_drop() {
    let d = decide(normal(BROADCAST, 0), ME, 1, false, &routes());
    assert!(d.deliver);
    assert_eq!(d.forward, Forward::None);
    assert_eq!(d.drop, None);
}

#[test]
fn a_broadcast_is_delivered_and_forwarded_to_the_forward_set_of_me_src_from() {
    let mut r = routes();
    let d = decide(hdr(NORMAL, 3, BROADCAST, 5), ME, 1, false, &r);
    assert!(d.deliver);
    assert_eq!(d.forward, Forward::BroadcastSet);
    let sol = Solution::from_next_hops(&rows()).unwrap();
    assert_eq!(r.forward_set(ME, 5, 1), &forward_set(&sol, ME, 5, Some(1))[..]);
}

#[test]
fn a_broadcast_whose_forward_set_is_empty_is_delivered_only() {
    let mut r = Routes::empty();
    let d = decide(normal(BROADCAST, 3), ME, 1, false, &r);
    assert!(d.deliver);
    assert!(r.forward_set(ME, 1, 1).is_empty());
    assert_eq!(d.drop, None);
}

#[test]
fn dst_65534_is_processed_here_and_flooded_not_routed() {
    let d = decide(hdr(QUERY, 3, SPREAD, 1), ME, 1, false, &routes());
    assert!(d.control);
    assert_eq!(d.forward, Forward::Flood);
    let n = decide(normal(SPREAD, 3), ME, 1, false, &routes());
    assert!(n.deliver);
    assert_eq!(n.forward, Forward::Flood);
}

#[test]
fn a_spread_message_with_ttl_0_is_processed_but_not_flooded() {
    let d = decide(hdr(BPEER, 0, SPREAD, 1), ME, 1, false, &routes());
    assert!(d.control);
    assert_eq!(d.forward, Forward::None);
    assert_eq!(d.drop, None);
}

#[test]
fn drops_unknown_message_kinds() {
    for kind in [0u8, 1, 3, 11, 99, 255] {
        let h = hdr(kind, 10, ME, 1);
        let d = decide(h, ME, 1, false, &routes());
        assert_eq!(name(&d, h, ME, 1), Some(format!("unknown message kind {kind}")));
        assert!(!d.deliver && !d.control && d.forward == Forward::None);
    }
}

#[test]
fn drops_a_server_update_from_a_non_supernode_peer_even_one_addressed_here() {
    for dst in [ME, SUPER_NODE, 4] {
        let h = hdr(SUPD, 10, dst, 1);
        let d = decide(h, ME, 1, false, &routes());
        assert_eq!(name(&d, h, ME, 1).as_deref(), Some("server update from a non-supernode peer"));
        assert!(!d.control);
        assert_eq!(d.forward, Forward::None);
    }
}

#[test]
fn accepts_a_server_update_from_the_supernode_for_this_node_never_relays_one_for_another() {
    assert!(decide(hdr(SUPD, 10, ME, 1), ME, 1, true, &routes()).control);
    assert!(decide(hdr(SUPD, 10, SUPER_NODE, 1), ME, 1, true, &routes()).control);
    let h = hdr(SUPD, 10, 4, 1);
    let d = decide(h, ME, 1, true, &routes());
    assert_eq!(name(&d, h, ME, 1).as_deref(), Some("server update for node 4"));
    assert_eq!(d.forward, Forward::None);
}

#[test]
fn drops_register_messages_and_peer_control_messages_from_the_supernode() {
    let h = hdr(REG, 10, ME, 1);
    assert!(name(&decide(h, ME, 1, false, &routes()), h, ME, 1).unwrap().contains("register"));
    for kind in [PING, PONG, QUERY, BPEER] {
        let h = hdr(kind, 10, ME, 1);
        let d = decide(h, ME, 1, true, &routes());
        assert_eq!(name(&d, h, ME, 1), Some(format!("kind {kind} from the supernode")));
    }
}

#[test]
fn processes_a_ping_for_this_node_as_control_and_relays_a_ping_for_another_node() {
    let here = decide(hdr(PING, 10, ME, 1), ME, 1, false, &routes());
    assert!(here.control);
    assert!(!here.deliver);
    let there = decide(hdr(PING, 10, 4, 1), ME, 1, false, &routes());
    assert!(!there.control);
    assert_eq!(hops(&there), vec![3]);
}

#[test]
fn drops_messages_for_the_reserved_ids_65532_and_65533() {
    for dst in [INVALID, SUPER_NODE] {
        let h = normal(dst, 10);
        let d = decide(h, ME, 1, false, &routes());
        assert_eq!(name(&d, h, ME, 1), Some(format!("message for reserved node {dst}")));
        assert_eq!(d.forward, Forward::None);
        assert!(!d.deliver);
    }
}

#[test]
fn drops_a_transit_frame_without_a_route() {
    for dst in [9, 6] {
        let h = normal(dst, 10);
        assert_eq!(name(&decide(h, ME, 1, false, &routes()), h, ME, 1), Some(format!("no route from 2 to {dst}")));
    }
}

#[test]
fn drops_a_transit_frame_whose_route_points_back_to_the_peer_it_came_from() {
    // (Each frame is the sender's own: a relayed one must also come from the hop its route
    // names, plane::origin, which a route back never does with a consistent table.)
    let h = hdr(NORMAL, 10, 5, 1);
    let d = decide(h, ME, 1, false, &routes());
    assert!(name(&d, h, ME, 1).unwrap().contains("points back to the sender 1"));
    assert_eq!(d.forward, Forward::None);
    // The same destination from another neighbour is forwarded.
    assert_eq!(hops(&decide(hdr(NORMAL, 10, 5, 3), ME, 3, false, &routes())), vec![1]);
}

#[test]
fn broadcast_targets_depend_on_me_even_after_another_node_was_asked() {
    let t = [(1, 2, 2), (1, 3, 2), (2, 1, 1), (2, 3, 3), (3, 1, 2), (3, 2, 2)];
    let mut r = Routes::from_rows(&t).unwrap();
    assert_eq!(r.broadcast_targets(1), &[2]);
    assert_eq!(r.broadcast_targets(2), &[1, 3]);
}

// ---- a frame whose source is this node -----------------------------------------------------

/// Sends one frame from `src` into a mesh where every node runs decide() on one shared table;
/// counts transmissions per link and the drops per node.
fn simulate(t: &[(NodeId, NodeId, NodeId)], src: NodeId, dst: NodeId, ttl: u8) -> (Vec<(String, usize)>, Vec<String>, Vec<NodeId>) {
    let r = Routes::from_rows(t).unwrap();
    let mut links: std::collections::BTreeMap<String, usize> = Default::default();
    let mut drops = Vec::new();
    let mut delivered = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    let first = r.next_hop(src, dst).unwrap();
    *links.entry(format!("{src}>{first}")).or_default() += 1;
    queue.push_back((first, src, hdr(NORMAL, ttl, dst, src)));
    while let Some((at, from, h)) = queue.pop_front() {
        assert!(queue.len() < 10_000);
        let d = decide(h, at, from, false, &r);
        if let Some(n) = name(&d, h, at, from) {
            drops.push(format!("{at}: {n}"));
        }
        if d.deliver {
            delivered.push(at);
        }
        if let Forward::One(nh) = d.forward {
            *links.entry(format!("{at}>{nh}")).or_default() += 1;
            queue.push_back((nh, at, Inner { ttl: h.ttl - 1, ..h }));
        }
    }
    (links.into_iter().collect(), drops, delivered)
}

/// Frames from 1 to 4 go 1→2→3→1 (NextHopTable[3][4] = 1).
fn loop_table() -> Vec<(NodeId, NodeId, NodeId)> {
    vec![(1, 2, 2), (1, 3, 3), (1, 4, 2), (2, 1, 1), (2, 3, 3), (2, 4, 3), (3, 1, 1), (3, 2, 2), (3, 4, 1), (4, 1, 3), (4, 2, 3), (4, 3, 3)]
}

#[test]
fn a_unicast_that_comes_back_to_its_source_is_dropped_there_one_copy_per_link() {
    let (links, drops, delivered) = simulate(&loop_table(), 1, 4, 200);
    assert_eq!(links, vec![("1>2".into(), 1), ("2>3".into(), 1), ("3>1".into(), 1)]);
    assert_eq!(drops, vec!["1: message from this node (NodeID 1) came back: a routing loop, or another node uses the same NodeID".to_string()]);
    assert!(delivered.is_empty());
}

#[test]
fn a_loop_that_does_not_pass_the_source_ends_where_it_closes() {
    // 5 is outside the cycle 1→2→3→1 for destination 4. Node 1 relays 5's frame coming from 5;
    // when it comes back from 3, 3 is not the hop before 1 on the route from 5, so the loop ends
    // there after one round (it ran until the TTL expired: 10 transmissions with TTL 9).
    let mut t = loop_table();
    t.push((5, 4, 1));
    let (links, drops, _) = simulate(&t, 5, 4, 9);
    assert_eq!(links.iter().map(|l| l.1).sum::<usize>(), 4);
    assert_eq!(drops.len(), 1, "{drops:?}");
    assert!(drops[0].starts_with("1: data frame from 3 claims source NodeID 5"), "{drops:?}");
}

#[test]
fn a_message_of_any_kind_with_this_node_as_source_is_neither_delivered_processed_nor_forwarded() {
    for (kind, dst) in [(NORMAL, 4), (NORMAL, ME), (NORMAL, BROADCAST), (NORMAL, SPREAD), (PING, ME), (PONG, 4), (QUERY, SPREAD), (BPEER, SPREAD)] {
        let h = hdr(kind, 5, dst, ME);
        let d = decide(h, ME, 1, false, &routes());
        assert!(!d.deliver && !d.control && d.forward == Forward::None, "kind {kind} dst {dst}");
        assert!(name(&d, h, ME, 1).unwrap().contains("this node (NodeID 2) came back"));
        assert_eq!(d.drop.map(|x| x.0), Some(Drop::OwnMessage));
    }
}

// ---- L2Fib ----------------------------------------------------------------------------------

fn frame(dst: [u8; 6], src: [u8; 6]) -> Vec<u8> {
    let mut f = vec![0u8; 60];
    f[..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12] = 0x88;
    f[13] = 0xb5;
    f
}
const A: [u8; 6] = [2, 0, 0, 0, 0, 0x0a];
const B: [u8; 6] = [2, 0, 0, 0, 0, 0x0b];
const BCAST: [u8; 6] = [0xff; 6];

#[test]
fn fib_learns_a_unicast_source_mac_and_finds_it_as_a_destination() {
    let mut fib = L2Fib::new(100.0);
    assert_eq!(fib.learn(&frame(BCAST, A), 5, 0.0), Learned::New);
    assert_eq!(fib.len(), 1);
    assert_eq!(fib.lookup(&frame(A, B), 1.0), Some(5));
    assert_eq!(fib.lookup(&frame(B, A), 1.0), None, "unknown MAC");
}

#[test]
fn fib_ignores_multicast_broadcast_sources_and_never_resolves_a_multicast_destination() {
    let mut fib = L2Fib::new(100.0);
    fib.learn(&frame(A, [1, 0, 0x5e, 0, 0, 1]), 5, 0.0);
    fib.learn(&frame(A, BCAST), 5, 0.0);
    fib.learn(&frame(A, [3, 0, 0, 0, 0, 0x0a]), 5, 0.0);
    assert_eq!(fib.len(), 0);
    assert_eq!(fib.lookup(&frame(BCAST, A), 0.0), None);
    assert_eq!(fib.lookup(&frame([0x33, 0x33, 0, 0, 0, 1], A), 0.0), None);
}

#[test]
fn fib_ignores_frames_shorter_than_an_ethernet_header() {
    let mut fib = L2Fib::new(100.0);
    fib.learn(&frame(BCAST, A)[..13], 5, 0.0);
    assert_eq!(fib.len(), 0);
}

#[test]
fn fib_entry_expires_after_the_timeout() {
    let mut fib = L2Fib::new(10.0);
    fib.learn(&frame(BCAST, A), 5, 100.0);
    assert_eq!(fib.lookup(&frame(A, B), 110.0), Some(5), "still valid at exactly the timeout");
    assert_eq!(fib.lookup(&frame(A, B), 110.5), None);
    assert_eq!(fib.len(), 1, "not removed by the lookup");
    assert_eq!(fib.sweep(105.0), 0);
    assert_eq!(fib.sweep(110.5), 1);
    assert_eq!(fib.len(), 0);
}

#[test]
fn fib_a_new_sighting_refreshes_the_entry() {
    let mut fib = L2Fib::new(10.0);
    fib.learn(&frame(BCAST, A), 5, 0.0);
    fib.learn(&frame(BCAST, A), 5, 8.0);
    assert_eq!(fib.lookup(&frame(A, B), 15.0), Some(5));
    assert_eq!(fib.sweep(15.0), 0);
}

#[test]
fn fib_a_timeout_of_001_or_less_never_expires() {
    for t in [0.0, 0.01] {
        let mut fib = L2Fib::new(t);
        fib.learn(&frame(BCAST, A), 5, 0.0);
        assert_eq!(fib.lookup(&frame(A, B), 1e9), Some(5));
        assert_eq!(fib.sweep(1e9), 0);
        assert_eq!(fib.len(), 1);
    }
}

#[test]
fn fib_reports_learned_and_moved_entries_not_refreshes() {
    let mut fib = L2Fib::new(100.0);
    assert_eq!(fib.learn(&frame(BCAST, A), 5, 0.0), Learned::New);
    assert_eq!(fib.learn(&frame(BCAST, A), 5, 1.0), Learned::Nothing);
    assert_eq!(fib.learn(&frame(BCAST, A), 6, 2.0), Learned::Moved(5));
    assert_eq!(fib.lookup(&frame(A, B), 3.0), Some(6));
}

// ---- DedupSet -------------------------------------------------------------------------------

const P1: [u8; 4] = [1, 2, 3, 4];
const P2: [u8; 4] = [1, 2, 3, 5];

#[test]
fn dedup_drops_a_duplicate_within_the_timeout_not_a_different_message() {
    let mut d = DedupSet::new(40.0);
    assert!(!d.check(QUERY, 1, &P1, 0.0), "first sighting");
    assert!(d.check(QUERY, 1, &P1, 10.0), "duplicate");
    assert!(!d.check(QUERY, 1, &P2, 10.0), "different payload");
    assert!(!d.check(QUERY, 2, &P1, 10.0), "different source");
    assert!(!d.check(BPEER, 1, &P1, 10.0), "different kind");
    // Same bytes but the src split differently must not collide (0x0102 vs 0x0201).
    assert!(!d.check(NORMAL, 0x0102, &P1, 10.0));
    assert!(!d.check(NORMAL, 0x0201, &P1, 10.0));
}

#[test]
fn dedup_accepts_the_message_again_after_the_timeout() {
    let mut d = DedupSet::new(40.0);
    assert!(!d.check(NORMAL, 1, &P1, 0.0));
    assert!(d.check(NORMAL, 1, &P1, 30.0));
    assert!(d.check(NORMAL, 1, &P1, 65.0), "refreshed at 30, so still within 40 s");
    assert!(!d.check(NORMAL, 1, &P1, 106.0), "more than 40 s after the last sighting");
}

#[test]
fn dedup_sweep_forgets_expired_entries_only() {
    let mut d = DedupSet::new(40.0);
    d.check(NORMAL, 1, &P1, 0.0);
    d.check(NORMAL, 1, &P2, 30.0);
    d.sweep(50.0);
    assert!(d.check(NORMAL, 1, &P2, 50.0));
    // P1 was swept: a fresh sighting is not a duplicate even if the check uses an old clock.
    assert!(!d.check(NORMAL, 1, &P1, 20.0));
}

#[test]
fn dedup_a_timeout_of_0_disables_it() {
    let mut d = DedupSet::new(0.0);
    for i in 0..3 {
        assert!(!d.check(NORMAL, 1, &P1, i as f64));
    }
}
