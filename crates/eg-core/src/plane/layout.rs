//! Byte layouts shared by the data plane and its runtime: the input records a batch arrives in,
//! the output areas it leaves in, the event records and the summary words. This file is the one
//! source: the TypeScript constants are generated from it ([`super::gen_ts`]).
//!
//! Input records (one batch = records back to back; integers big-endian as the native I/O writes
//! them, except the plaintext records, which only the runtime writes):
//! * [`Mode::Tap`]: `[len u16 BE][Ethernet frame]`, or with TAP offloads on
//!   ([`super::Plane::set_tap_offload`]) `[len u16 BE][virtio_net_hdr 10][frame]` (`len` counts
//!   both; the frame may be a TSO/USO super-frame, segmented by the core before sealing)
//! * [`Mode::Udp`]: `[len u16 BE][port u16 BE][address 16][datagram]` (IPv4: first 4 address
//!   bytes; the batch's family is given with the call)
//! * [`Mode::Plain`]: `[peer u32 LE][len u32 LE][plaintext]` (a plaintext to seal for a peer)
//!
//! Outputs:
//! * two send areas (IPv4, IPv6) of UDP records in the same layout as [`Mode::Udp`], each
//!   datagram sealed in place inside its record (the record header is headroom the transport
//!   header is written behind), so the native writer sends them with one sendmmsg without a copy;
//! * the TAP area: `[len u16 BE][frame]` records, the native TAP writer's batch layout; with TAP
//!   offloads on `[len u16 BE][virtio_net_hdr 10][frame]`, consecutive TCP segments of a flow
//!   coalesced into super-frames (GRO);
//! * events: [`EV_HEADER`]-byte headers ([`Ev`]) each followed by `EV_LEN` payload bytes.

/// How the input records of a batch are laid out and what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Frames read from the interface, to be framed, routed and sealed.
    Tap = 1,
    /// Datagrams received on a UDP socket, to be opened and forwarded / delivered.
    Udp = 2,
    /// Plaintexts from the runtime (control messages, packets queued during a handshake).
    Plain = 3,
}

impl Mode {
    /// From the numeric code.
    pub fn from_u8(v: u8) -> Option<Mode> {
        match v {
            1 => Some(Mode::Tap),
            2 => Some(Mode::Udp),
            3 => Some(Mode::Plain),
            _ => None,
        }
    }
}

/// Bytes before the frame in a TAP record.
pub const TAP_REC: usize = 2;
/// Bytes before the datagram in a UDP record: length, port, 16 address bytes.
pub const UDP_REC: usize = 20;
/// Bytes before the plaintext in a plaintext record: peer, length.
pub const PLAIN_REC: usize = 8;

/// Event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Ev {
    /// A counted drop: `reason` = [`super::Drop`] code, `aux` = WireGuard reason for
    /// `Wireguard`/`SealFailed`; `size` = the frame or datagram length; for `Wireguard` the
    /// payload is the sender's `[port u16 BE][address 16]` and `kind` its family (4/6).
    Drop = 1,
    /// A control message for this node: `kind`, `src`, `dst`, `from`, `peer`, `size` = index of
    /// the UDP record it arrived in within the batch (`u32::MAX` if not from a UDP batch; the
    /// runtime finds the datagram's kernel receive time by it); payload = the Etherguard payload.
    Control = 2,
    /// Host mode (no edge configured, e.g. a supernode): an authenticated plaintext from `peer`,
    /// `size` = UDP record index as for `Control`; payload = the padded plaintext.
    Plain = 3,
    /// No session with `peer` (NodeID `node`): the payload is the plaintext to queue until the
    /// handshake completes (one was requested).
    Queue = 4,
    /// A handshake message from `peer` was processed; `kind` = [`Hs`]. A reply (if any) is in
    /// the send area already.
    Handshake = 5,
    /// `peer`'s endpoint changed (roaming): payload = `[port u16 BE][address 16]`, `kind` = family.
    Roam = 6,
    /// Traffic of `peer` in this batch: payload = `[rx bytes u32 LE][tx bytes u32 LE]`; `kind`
    /// bit 0 = something authenticated was received.
    Peer = 7,
    /// Log line `normal`/`send`: `dst`, `size` = frame length, `aux` = ethertype.
    LogSend = 8,
    /// Log line `normal`/`deliver`: `src`, `dst`, `size`, `aux` = ethertype.
    LogDeliver = 9,
    /// Log line `transit`/`forward`: `src`, `dst`, `from`, `aux` = TTL sent; `kind` 1 = flood,
    /// else the payload lists the next hops as u16 LE.
    LogForward = 10,
    /// The L2FIB learned a MAC (`kind` 0) or saw it move (`kind` 1, from NodeID `from`) to
    /// NodeID `node`; payload = the 6 MAC bytes.
    Fib = 11,
}

/// Sub-kinds of [`Ev::Handshake`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Hs {
    /// Consumed, nothing sent (e.g. a cookie reply was stored).
    Consumed = 0,
    /// A handshake response was sent back.
    Response = 1,
    /// A cookie reply was sent back (we are under load).
    CookieReply = 2,
    /// Our initiation was answered: the session is up (a keepalive confirming it was sent);
    /// flush the packets queued for the peer.
    SessionReady = 3,
}

/// Event header fields (byte offsets; integers little-endian).
pub const EV_TYPE: usize = 0; // u8
/// u8
pub const EV_KIND: usize = 1;
/// u16
pub const EV_REASON: usize = 2;
/// u32 (WireGuard peer id, [`NO_PEER`] if none)
pub const EV_PEER: usize = 4;
/// u16
pub const EV_SRC: usize = 8;
/// u16
pub const EV_DST: usize = 10;
/// u16
pub const EV_FROM: usize = 12;
/// u16
pub const EV_NODE: usize = 14;
/// u32: payload bytes after the header
pub const EV_LEN: usize = 16;
/// u16
pub const EV_AUX: usize = 20;
/// u16 (the largest frame, for FrameTooLarge)
pub const EV_MAX: usize = 22;
/// u32
pub const EV_SIZE: usize = 24;
/// Header length.
pub const EV_HEADER: usize = 28;

/// Peer id meaning "none".
pub const NO_PEER: u32 = u32::MAX;

/// Summary words (u32 each) a batch call leaves for the runtime, by index.
pub mod summary {
    /// IPv4 send area: address, bytes, records.
    pub const SEND4_PTR: usize = 0;
    /// bytes
    pub const SEND4_LEN: usize = 1;
    /// records
    pub const SEND4_COUNT: usize = 2;
    /// IPv6 send area address.
    pub const SEND6_PTR: usize = 3;
    /// bytes
    pub const SEND6_LEN: usize = 4;
    /// records
    pub const SEND6_COUNT: usize = 5;
    /// TAP area address.
    pub const TAP_PTR: usize = 6;
    /// bytes
    pub const TAP_LEN: usize = 7;
    /// records
    pub const TAP_COUNT: usize = 8;
    /// Events address.
    pub const EV_PTR: usize = 9;
    /// bytes
    pub const EV_BYTES: usize = 10;
    /// events
    pub const EV_COUNT: usize = 11;
    /// Frames taken from the interface (framed and routed).
    pub const FROM_IFACE: usize = 12;
    /// Messages forwarded.
    pub const FORWARDED: usize = 13;
    /// TAP offloads: super-frames read from the interface and segmented.
    pub const SUPER_IN: usize = 14;
    /// TAP offloads: super-frames written to the interface (coalesced segments).
    pub const SUPER_OUT: usize = 15;
    /// Number of words.
    pub const WORDS: usize = 16;
}

/// Kinds of the records `WgDevice.tick` returns (`[peer u32 LE][kind u8][len u32 LE][bytes]`).
pub mod tick {
    /// Send this handshake initiation.
    pub const SEND_INITIATION: u8 = 1;
    /// Send this keepalive.
    pub const SEND_KEEPALIVE: u8 = 2;
    /// Retries exhausted: drop what is queued for the peer.
    pub const HANDSHAKE_GAVE_UP: u8 = 3;
    /// Every key of the peer was erased: drop what is queued.
    pub const KEYS_ZEROED: u8 = 4;
}
