//! What an edge does with one authenticated Etherguard message: deliver it to the interface,
//! hand it to the control plane, forward it (to which neighbours, with TTL − 1), or drop it
//! with a reason. Pure: the caller supplies the routes and performs the I/O.
//!
//! The rules are upstream's (etherguard-go `device/receive.go`), with two additions of ours:
//! a message whose source is this node is dropped (it went round a loop, or another node uses
//! our NodeID), and reserved destinations (65532, 65533) are never routed.

use std::collections::HashMap;

use crate::frame::Kind;
use crate::route::{broadcast_targets, forward_set, NodeId, Solution, BROADCAST, INVALID, SPREAD, SUPER_NODE};

use super::drop::Drop;
use super::origin::relayed_via;

/// How long (seconds) the table a new one replaced still counts as the path of relayed frames,
/// from the first message after the change. A new table reaches the edges at different times (a
/// supernode's notice, then each edge's HTTP pull; an edge that missed the notice catches up at its
/// next state-hash check), and frames in flight follow the old paths meanwhile. 60 s covers a
/// missed notice with the default SendPingInterval; after it a relay that left the path is
/// refused again.
pub const PREV_TABLE_GRACE_S: f64 = 60.0;

/// The next-hop table an edge forwards by (static config or pulled from the supernode), with
/// the broadcast sets of the route engine ([`crate::route::broadcast`]) cached per
/// `(src, from)`, so a broadcast costs one hash lookup after the first.
pub struct Routes {
    sol: Solution,
    /// The table this one replaced, still accepted as the path of relayed frames until
    /// `prev_until` ([`PREV_TABLE_GRACE_S`] after the first message that needed it; NaN until
    /// then), because tables reach the nodes at different times ([`super::origin`]).
    prev: Option<Solution>,
    prev_until: f64,
    /// `me`'s own broadcast targets, per `me` asked for.
    targets: HashMap<NodeId, Vec<NodeId>>,
    /// Forward sets keyed by `(me, src, from)`; `from` = [`INVALID`] when `me` is the source.
    fwd: HashMap<(NodeId, NodeId, NodeId), Vec<NodeId>>,
}

impl Routes {
    /// Routes from `(src, dst, next)` rows. Errors as [`Solution::from_next_hops`] (a reserved
    /// NodeID in a row).
    pub fn from_rows(rows: &[(NodeId, NodeId, NodeId)]) -> Result<Routes, crate::route::RouteError> {
        Ok(Routes::new(Solution::from_next_hops(rows)?))
    }

    /// Routes over a solved table.
    pub fn new(sol: Solution) -> Routes {
        Routes { sol, prev: None, prev_until: f64::NAN, targets: HashMap::new(), fwd: HashMap::new() }
    }

    /// This table, replacing `old`: `old`'s paths stay valid for relayed frames for
    /// [`PREV_TABLE_GRACE_S`] ([`Routes::expire_previous`]). A table equal to `old` (the same
    /// rows pulled again) keeps `old`'s previous table and its grace period instead.
    pub fn replacing(mut self, old: Routes) -> Routes {
        let same = self.sol.ids() == old.sol.ids() && self.sol.next_table() == old.sol.next_table();
        if same {
            self.prev = old.prev;
            self.prev_until = old.prev_until;
        } else {
            self.prev = Some(old.sol);
            self.prev_until = f64::NAN;
        }
        self
    }

    /// Starts the previous table's grace period at `now` (seconds, the plane's clock) if it has
    /// not started, and forgets that table once the period is over.
    pub fn expire_previous(&mut self, now: f64) {
        if self.prev.is_none() {
            return;
        }
        if self.prev_until.is_nan() {
            self.prev_until = now + PREV_TABLE_GRACE_S;
        } else if now > self.prev_until {
            self.prev = None;
        }
    }

    /// Whether the previous table is still kept (tests, diagnostics).
    pub fn has_previous(&self) -> bool {
        self.prev.is_some()
    }

    /// Whether `me` may receive from the neighbour `from` a data frame with header source `src`
    /// and destination `dst`: `src == from`, or `from` is the hop before `me` on the path of such
    /// a frame under this table or the previous one ([`super::origin::relayed_via`]).
    pub fn relayed_via(&self, me: NodeId, from: NodeId, src: NodeId, dst: NodeId) -> bool {
        relayed_via(&self.sol, me, from, src, dst) || self.prev.as_ref().is_some_and(|p| relayed_via(p, me, from, src, dst))
    }

    /// An empty table: every unicast has no route, a broadcast has no targets.
    pub fn empty() -> Routes {
        Routes::new(Solution::from_next_hops(&[]).expect("an empty table is valid"))
    }

    /// Next hop from `src` to `dst`, or `None` when the table has none (or says 65532).
    pub fn next_hop(&self, src: NodeId, dst: NodeId) -> Option<NodeId> {
        match self.sol.next_hop(src, dst) {
            INVALID => None,
            n => Some(n),
        }
    }

    /// Neighbours `me` sends its own broadcast to (ascending).
    pub fn broadcast_targets(&mut self, me: NodeId) -> &[NodeId] {
        let sol = &self.sol;
        self.targets.entry(me).or_insert_with(|| broadcast_targets(sol, me))
    }

    /// Neighbours `me` forwards a broadcast from `src` to, having received it from `from`.
    pub fn forward_set(&mut self, me: NodeId, src: NodeId, from: NodeId) -> &[NodeId] {
        let sol = &self.sol;
        self.fwd.entry((me, src, from)).or_insert_with(|| {
            forward_set(sol, me, src, if from == INVALID { None } else { Some(from) })
        })
    }
}

/// Where a forwarded copy goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// Not forwarded.
    None,
    /// To one next hop.
    One(NodeId),
    /// To the broadcast forward set of `(me, src, from)` ([`Routes::forward_set`]).
    BroadcastSet,
    /// To every edge peer except the source and the sender (dst 65534, the flood channel).
    Flood,
}

/// The decision for one message. `drop` may be set together with `deliver`/`control` (e.g. a
/// message delivered here whose forwarding failed), so the caller counts it either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// A NormalPacket for the interface.
    pub deliver: bool,
    /// A control message for this node.
    pub control: bool,
    /// Forwarding (with TTL − 1).
    pub forward: Forward,
    /// Why nothing, or not everything, was done; with the NodeID the reason names (if any).
    pub drop: Option<(Drop, NodeId)>,
}

const NOTHING: Decision = Decision { deliver: false, control: false, forward: Forward::None, drop: None };

fn dropped(d: Drop, node: NodeId) -> Decision {
    Decision { drop: Some((d, node)), ..NOTHING }
}

/// The header fields [`decide`] looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inner {
    /// Kind byte (raw: unknown kinds are a drop reason, not a parse error).
    pub kind: u8,
    /// Hops left.
    pub ttl: u8,
    /// Destination NodeID.
    pub dst: NodeId,
    /// Source NodeID.
    pub src: NodeId,
}

/// Decides for a message received by `me` from the peer with NodeID `from` (`from_super`: that
/// peer is a supernode session). Never forwards with TTL 0; a message addressed here with TTL 0
/// is still delivered or processed (so a frame travels at most DefaultTTL + 1 hops, as upstream).
pub fn decide(h: Inner, me: NodeId, from: NodeId, from_super: bool, routes: &Routes) -> Decision {
    // A node never needs its own message back. One that returns went round a routing loop:
    // forwarding it again would repeat the loop until the TTL runs out (one frame becoming
    // DefaultTTL copies), and delivering it would echo our own frame into our interface.
    if h.src == me {
        return dropped(Drop::OwnMessage, me);
    }
    let for_me = h.dst == me || h.dst == BROADCAST || h.dst == SPREAD;
    let mut d = NOTHING;
    match Kind::from_u8(h.kind) {
        Some(Kind::NormalPacket) => {
            // Hop-by-hop keys only prove who delivered the frame: a relayed frame's source must
            // be one whose path (by the table) ends with that peer, or a member could make the
            // receivers' L2FIB map any MAC to another member (super::origin).
            if h.src != from && !routes.relayed_via(me, from, h.src, h.dst) {
                return dropped(Drop::SpoofedDataSource, h.src);
            }
            d.deliver = for_me
        }
        Some(Kind::ServerUpdate) => {
            // Only a supernode session may tell us what to do, and such messages are never relayed.
            if !from_super {
                return dropped(Drop::ServerUpdateNotSuper, from);
            }
            if h.dst != me && h.dst != SUPER_NODE {
                return dropped(Drop::ServerUpdateOther, h.dst);
            }
            return Decision { control: true, ..NOTHING };
        }
        Some(Kind::Register) => return dropped(Drop::RegisterToEdge, from),
        Some(Kind::PingPacket | Kind::PongPacket | Kind::QueryPeer | Kind::BroadcastPeer) => {
            if from_super {
                return dropped(Drop::KindFromSuper, from);
            }
            // A ping measures the link from its sender to us, so its source must be the peer
            // whose session delivered it; anything else is a member using another's NodeID.
            if h.kind == Kind::PingPacket as u8 && h.dst == me && h.src != from {
                return dropped(Drop::SpoofedSource, h.src);
            }
            d.control = for_me;
        }
        None => return dropped(Drop::UnknownKind, from),
    }
    if h.dst == me || h.dst == SUPER_NODE || h.dst == INVALID {
        if !for_me {
            return dropped(Drop::ReservedDestination, h.dst);
        }
        return d;
    }
    if h.ttl == 0 {
        // Delivered/processed locally if addressed here, but never forwarded.
        if !for_me {
            d.drop = Some((Drop::TtlExpired, h.dst));
        }
        return d;
    }
    if h.dst == BROADCAST {
        d.forward = Forward::BroadcastSet;
    } else if h.dst == SPREAD {
        d.forward = Forward::Flood;
    } else {
        match routes.next_hop(me, h.dst) {
            None => d.drop = Some((Drop::NoRoute, h.dst)),
            Some(nh) if nh == from => d.drop = Some((Drop::RouteBack, h.dst)),
            Some(nh) => d.forward = Forward::One(nh),
        }
    }
    d
}
