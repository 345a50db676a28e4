//! A member that claims another member's NodeID in the header source of a data frame
//! (NormalPacket): dropped with the reason SpoofedDataSource unless the delivering peer is the
//! hop before this node on the path such a frame takes under the next-hop table (or, for a grace
//! period after a change, the previous table), so it is neither delivered (no L2FIB learning) nor
//! relayed. Legitimately relayed frames, unicast and broadcast, still pass.

use eg_core::frame::Kind;
use eg_core::plane::forward::PREV_TABLE_GRACE_S;
use eg_core::plane::{decide, Drop, Forward, Inner, Routes};
use eg_core::route::{NodeId, BROADCAST, SPREAD};

const NORMAL: u8 = Kind::NormalPacket as u8;

/// Full table of the line 1 – 2 – 3 with a hostile member 4 attached to 2 and 3 (4 is a leaf:
/// no route goes through it).
fn line_rows() -> Vec<(NodeId, NodeId, NodeId)> {
    vec![
        (1, 2, 2), (1, 3, 2), (1, 4, 2),
        (2, 1, 1), (2, 3, 3), (2, 4, 4),
        (3, 1, 2), (3, 2, 2), (3, 4, 4),
        (4, 1, 2), (4, 2, 2), (4, 3, 3),
    ]
}

fn normal(src: NodeId, dst: NodeId) -> Inner {
    Inner { kind: NORMAL, ttl: 10, dst, src }
}

#[test]
fn a_data_frame_in_another_members_name_is_dropped_as_spoofed_not_delivered_or_relayed() {
    let r = Routes::from_rows(&line_rows()).unwrap();
    // 4 sends node 3 frames claiming to come from 1: to 3 itself, as a broadcast, and for 2 via 3.
    for dst in [3, BROADCAST] {
        let d = decide(normal(1, dst), 3, 4, false, &r);
        assert!(!d.deliver && d.forward == Forward::None, "dst {dst}: {d:?}");
        assert_eq!(d.drop, Some((Drop::SpoofedDataSource, 1)), "dst {dst}");
    }
    // 4 hands 2 a frame "from 3" for 1: 3's frames reach 2 only from 3.
    let d = decide(normal(3, 1), 2, 4, false, &r);
    assert_eq!(d.drop, Some((Drop::SpoofedDataSource, 3)));
    assert_eq!(d.forward, Forward::None);
    // A relayed frame on the flood channel cannot be attributed to a path.
    let d = decide(normal(1, SPREAD), 3, 4, false, &r);
    assert_eq!(d.drop, Some((Drop::SpoofedDataSource, 1)));
    // A source the table does not know.
    let d = decide(normal(9, 3), 3, 4, false, &r);
    assert_eq!(d.drop, Some((Drop::SpoofedDataSource, 9)));
    let t = Drop::SpoofedDataSource.template();
    assert!(t.contains("{from}") && t.contains("{src}") && t.contains("spoofed"), "{t}");
}

#[test]
fn frames_relayed_along_the_table_and_own_frames_pass() {
    let r = Routes::from_rows(&line_rows()).unwrap();
    // 2 relays 1's unicast and broadcast to 3.
    let d = decide(normal(1, 3), 3, 2, false, &r);
    assert!(d.deliver && d.drop.is_none(), "{d:?}");
    let d = decide(normal(1, BROADCAST), 3, 2, false, &r);
    assert!(d.deliver && d.drop.is_none(), "{d:?}");
    // 2 itself forwards 1's frame for 3 (it came straight from 1).
    assert_eq!(decide(normal(1, 3), 2, 1, false, &r).forward, Forward::One(3));
    // 4's own frames with its own NodeID, whatever the MAC (MAC spoofing is not prevented).
    for dst in [3, BROADCAST, SPREAD] {
        let d = decide(normal(4, dst), 3, 4, false, &r);
        assert!(d.deliver && d.drop.is_none(), "dst {dst}: {d:?}");
    }
}

#[test]
fn after_a_table_change_the_old_paths_count_for_a_grace_period_only() {
    // Old: 1 reaches 3 through 2. New: 1 reaches 3 through 4 (and 4 relays).
    let old = Routes::from_rows(&line_rows()).unwrap();
    let mut rows: Vec<_> = line_rows().into_iter().filter(|&(s, d, _)| !(s == 1 && d == 3) && !(s == 4 && d == 3)).collect();
    rows.push((1, 3, 4));
    rows.push((4, 3, 3));
    rows.push((1, 4, 4));
    rows.retain(|&(s, d, n)| !(s == 1 && d == 4 && n == 2));
    let mut r = Routes::from_rows(&rows).unwrap().replacing(old);
    assert!(r.has_previous());
    r.expire_previous(100.0);
    // Both the new relay (4) and the old one (2) are accepted during the grace period.
    assert!(decide(normal(1, 3), 3, 4, false, &r).drop.is_none());
    assert!(decide(normal(1, 3), 3, 2, false, &r).drop.is_none(), "frames in flight on the old path");
    r.expire_previous(100.0 + PREV_TABLE_GRACE_S - 1.0);
    assert!(decide(normal(1, 3), 3, 2, false, &r).drop.is_none());
    r.expire_previous(100.0 + PREV_TABLE_GRACE_S + 1.0);
    assert!(!r.has_previous());
    assert_eq!(decide(normal(1, 3), 3, 2, false, &r).drop, Some((Drop::SpoofedDataSource, 1)));
    assert!(decide(normal(1, 3), 3, 4, false, &r).drop.is_none());
}

#[test]
fn the_same_table_pulled_again_keeps_the_previous_one_and_its_deadline() {
    let old = Routes::from_rows(&[(1, 3, 2), (2, 3, 3)]).unwrap();
    let mut r = Routes::from_rows(&line_rows()).unwrap().replacing(old);
    r.expire_previous(0.0);
    let mut again = Routes::from_rows(&line_rows()).unwrap().replacing(r);
    assert!(again.has_previous());
    again.expire_previous(PREV_TABLE_GRACE_S + 1.0);
    assert!(!again.has_previous(), "the deadline set at 0 s still holds");
}
