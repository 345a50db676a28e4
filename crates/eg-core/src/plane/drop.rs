//! Why the data plane dropped (or did not forward) a message: one code per kind of drop, named by
//! a template the runtime fills from the event's fields. The TypeScript side gets this table
//! generated from here ([`super::gen_ts`]), so a name is never kept in two places.
//!
//! Placeholders: `{me}` this node, `{src}` `{dst}` header NodeIDs, `{from}` the NodeID of the
//! peer that delivered it, `{node}` the NodeID the reason is about, `{kind}` the kind byte,
//! `{wg}` the name of a WireGuard [`crate::noise::Reason`].

macro_rules! drops {
    ($($(#[$doc:meta])* $name:ident = $code:literal => $text:literal,)*) => {
        /// A counted drop reason of the data plane (stable codes).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Drop {
            $($(#[$doc])* $name = $code,)*
        }

        impl Drop {
            /// Every reason, in code order.
            pub const ALL: &'static [Drop] = &[$(Drop::$name,)*];

            /// The name template (placeholders in the module docs).
            pub fn template(self) -> &'static str {
                match self {
                    $(Drop::$name => $text,)*
                }
            }

            /// The identifier, e.g. `"TtlExpired"`.
            pub fn ident(self) -> &'static str {
                match self {
                    $(Drop::$name => stringify!($name),)*
                }
            }

            /// Numeric code (stable, 1..).
            pub fn code(self) -> u8 {
                self as u8
            }

            /// Whether this drop is part of normal operation: still counted, but the runtime logs it
            /// at debug level only, so it never fills the error-level drop summary. A flood reaches
            /// a node once per neighbour that forwards it, so every copy after the first is dropped
            /// as a [`Drop::Duplicate`] on a healthy mesh.
            pub fn expected(self) -> bool {
                matches!(self, Drop::Duplicate)
            }

            /// Inverse of [`Drop::code`].
            pub fn from_code(c: u8) -> Option<Drop> {
                Drop::ALL.iter().copied().find(|d| d.code() == c)
            }
        }
    };
}

drops! {
    /// The header source is this node: the message went round a loop, or a NodeID is used twice.
    OwnMessage = 1 => "message from this node (NodeID {me}) came back: a routing loop, or another node uses the same NodeID",
    /// ServerUpdate from a peer that is not a supernode session.
    ServerUpdateNotSuper = 2 => "server update from a non-supernode peer",
    /// ServerUpdate addressed to another node (never relayed).
    ServerUpdateOther = 3 => "server update for node {dst}",
    /// Register arrived at an edge.
    RegisterToEdge = 4 => "register message sent to an edge",
    /// A peer-to-peer control message from the supernode.
    KindFromSuper = 5 => "kind {kind} from the supernode",
    /// Unknown kind byte.
    UnknownKind = 6 => "unknown message kind {kind}",
    /// Destination 65532 or 65533 (never routed).
    ReservedDestination = 7 => "message for reserved node {dst}",
    /// Transit message with TTL 0.
    TtlExpired = 8 => "TTL expired",
    /// No next hop towards the destination.
    NoRoute = 9 => "no route from {me} to {dst}",
    /// The next hop is the peer the message came from.
    RouteBack = 10 => "route to {dst} points back to the sender {from} (routing loop)",
    /// Plaintext shorter than the header or than its length field.
    Malformed = 11 => "malformed Etherguard header",
    /// A flood (dst 65534) seen within DupCheckTimeout.
    Duplicate = 12 => "duplicate flood message",
    /// A NormalPacket too short to be an Ethernet frame (12 bytes or less).
    FrameTooShort = 13 => "frame too short",
    /// Payload longer than the most one sealed datagram carries (docs/wire.md §5).
    FrameTooLarge = 14 => "frame too large",
    /// A frame from the interface shorter than an Ethernet header.
    InterfaceRunt = 15 => "frame from interface shorter than an Ethernet header",
    /// The next hop has no WireGuard peer here.
    NotAPeer = 16 => "next hop {node} is not a peer",
    /// The peer's endpoint is unknown.
    NoEndpoint = 17 => "peer {node} has no endpoint",
    /// Sealing failed (other than for want of a session, which queues).
    SealFailed = 18 => "seal for peer {node} failed: {wg}",
    /// A datagram the WireGuard layer refused.
    Wireguard = 19 => "wireguard: {wg}",
    /// Transport data from a WireGuard peer that no NodeID belongs to.
    UnknownPeerData = 20 => "data from an unknown peer",
    /// A control message in static mode (no control plane runs).
    ControlInStaticMode = 21 => "control message kind {kind} in static mode",
    /// The handshake queue of a peer is full.
    QueueFull = 22 => "queue for peer {node} full while handshaking",
    /// The interface did not take a frame.
    InterfaceRefused = 23 => "interface refused the frame",
    /// A frame read from a TAP with vnet headers whose header or super-frame the segmenter
    /// refused (crate::offload::OffloadError; the event's payload is its text).
    OffloadRefused = 24 => "TAP frame with a bad vnet header or super-frame",
    /// A ping addressed here whose header source is not the peer that delivered it: a ping is
    /// one hop (TTL 0), so the source is a member claiming another's NodeID (it would falsify
    /// the latency of the link {src} → {me}).
    SpoofedSource = 25 => "ping from {from} claims source NodeID {src} (a ping is one hop: spoofed)",
    /// A data frame whose header source is not the peer that delivered it, and that peer is not
    /// the hop before this node on the path such a frame takes from {src} under the next-hop table
    /// (nor the previous table, for a grace period): a member claiming another's NodeID, or
    /// tables that disagree (crate::plane::origin).
    SpoofedDataSource = 26 => "data frame from {from} claims source NodeID {src}, but {from} is not the last hop from {src} to {me} in the next-hop table (spoofed, or the tables disagree)",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_unique_and_round_trip() {
        for (i, d) in Drop::ALL.iter().enumerate() {
            assert_eq!(d.code() as usize, i + 1);
            assert_eq!(Drop::from_code(d.code()), Some(*d));
        }
        assert_eq!(Drop::from_code(0), None);
        assert_eq!(Drop::from_code(Drop::ALL.len() as u8 + 1), None);
    }
}
