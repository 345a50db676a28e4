//! A member that claims another member's NodeID in a ping (a one-hop control frame that measures
//! the link sender → receiver): dropped with the reason "spoofed", never handed to the control
//! plane, so it cannot falsify the latency of another member's link.

use eg_core::frame::Kind;
use eg_core::plane::{decide, Drop, Inner, Routes};

const PING: u8 = Kind::PingPacket as u8;

#[test]
fn a_ping_whose_source_is_not_the_delivering_peer_is_dropped_as_spoofed() {
    let routes = Routes::from_rows(&[(2, 1, 1), (2, 3, 3), (1, 2, 2), (3, 2, 2)]).unwrap();
    // Member 3 sends node 2 a ping claiming to come from node 1.
    let h = Inner { kind: PING, ttl: 0, dst: 2, src: 1 };
    let d = decide(h, 2, 3, false, &routes);
    assert!(!d.control && !d.deliver, "{d:?}");
    assert_eq!(d.drop, Some((Drop::SpoofedSource, 1)));
    assert!(Drop::SpoofedSource.template().contains("spoofed"));
    // The genuine ping from 1 over 1's own session is processed.
    let ok = decide(h, 2, 1, false, &routes);
    assert!(ok.control && ok.drop.is_none(), "{ok:?}");
}
