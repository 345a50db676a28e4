//! The memif control protocol, version 2.0, as DPDK's memif PMD (drivers/net/memif/memif.h) and
//! VPP's memif plugin speak it: fixed 128-byte messages on an AF_UNIX `SOCK_SEQPACKET` socket,
//! little-endian packed fields, and the shared-memory ring layout both sides index.
//!
//! Roles: the *server* (master; VPP or `dpdk-testpmd --vdev=net_memif,role=server`) listens on the
//! socket file; the *client* (slave; Etherguard) connects, owns the shared memory and proposes
//! every ring. Exchange:
//!
//! ```text
//! server                         client
//!   HELLO  (versions, limits)  ->
//!                              <-  INIT (version, interface id, mode, secret, app name)
//!   ACK                        ->
//!                              <-  ADD_REGION (index, size)        + memfd (SCM_RIGHTS)
//!   ACK                        ->
//!                              <-  ADD_RING (C2S, region, offset)  + eventfd (SCM_RIGHTS)
//!   ACK                        ->
//!                              <-  ADD_RING (S2C, ...)             + eventfd
//!   ACK                        ->
//!                              <-  CONNECT (client interface name)
//!   CONNECTED (server if name) ->
//!   ...either side: DISCONNECT (code, reason) or closing the socket ends the connection.
//! ```

/// Every control message is exactly this long (`memif_msg_t`, 128-byte aligned).
pub const MSG_LEN: usize = 128;
/// Protocol version 2.0 (`(major << 8) | minor`).
pub const VERSION: u16 = 0x0200;
/// `MEMIF_COOKIE`: the first word of every ring, which the server checks after mapping it.
pub const COOKIE: u32 = 0x03E3_1F20;
/// Name fields (`MEMIF_NAME_SZ`).
pub const NAME_LEN: usize = 32;
/// The INIT secret field.
pub const SECRET_LEN: usize = 24;

pub const T_ACK: u16 = 1;
pub const T_HELLO: u16 = 2;
pub const T_INIT: u16 = 3;
pub const T_ADD_REGION: u16 = 4;
pub const T_ADD_RING: u16 = 5;
pub const T_CONNECT: u16 = 6;
pub const T_CONNECTED: u16 = 7;
pub const T_DISCONNECT: u16 = 8;

/// ADD_RING flag: the ring carries client -> server traffic (S2M/C2S).
pub const RING_FLAG_C2S: u16 = 1;
/// Ring header flag set by a ring's *receiver*: "do not signal my eventfd, I am polling".
pub const RING_FLAG_MASK_INT: u16 = 1;
/// Descriptor flag: the frame continues in the next descriptor (chained buffers).
pub const DESC_FLAG_NEXT: u16 = 1;

/// Ring header: cookie u32 @0, flags u16 @4, head u16 @6 (first cache line), tail u16 @64
/// (second), descriptors from @128 (third); 64-byte cache lines as on x86-64 and most arm64.
pub const RING_FLAGS_OFF: usize = 4;
pub const RING_HEAD_OFF: usize = 6;
pub const RING_TAIL_OFF: usize = 64;
pub const RING_DESC_OFF: usize = 128;
/// Descriptor: flags u16 @0, region u16 @2, length u32 @4, offset u32 @8, metadata u32 @12.
pub const DESC_LEN: usize = 16;

/// Bytes of one ring (header + descriptors) of `1 << log2` slots.
pub fn ring_bytes(log2: u8) -> usize {
    RING_DESC_OFF + DESC_LEN * (1usize << log2)
}

fn put_name(b: &mut [u8], at: usize, len: usize, s: &str) {
    // Truncated to leave a NUL, as the C side reads these with strlcpy.
    let n = s.len().min(len - 1);
    b[at..at + n].copy_from_slice(&s.as_bytes()[..n]);
}

fn get_str(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn msg(t: u16) -> [u8; MSG_LEN] {
    let mut m = [0u8; MSG_LEN];
    m[0..2].copy_from_slice(&t.to_le_bytes());
    m
}

/// INIT: version u16 @2, interface id u32 @4, mode u8 @8 (0 = ethernet), secret @9, name @33.
pub fn init(id: u32, secret: &str, app: &str) -> [u8; MSG_LEN] {
    let mut m = msg(T_INIT);
    m[2..4].copy_from_slice(&VERSION.to_le_bytes());
    m[4..8].copy_from_slice(&id.to_le_bytes());
    m[8] = 0;
    put_name(&mut m, 9, SECRET_LEN, secret);
    put_name(&mut m, 33, NAME_LEN, app);
    m
}

/// ADD_REGION: index u16 @2, size u64 @4 (the memfd goes along as SCM_RIGHTS).
pub fn add_region(index: u16, size: u64) -> [u8; MSG_LEN] {
    let mut m = msg(T_ADD_REGION);
    m[2..4].copy_from_slice(&index.to_le_bytes());
    m[4..12].copy_from_slice(&size.to_le_bytes());
    m
}

/// ADD_RING: flags u16 @2, index u16 @4, region u16 @6, offset u32 @8, log2 size u8 @12,
/// private header size u16 @13 (the interrupt eventfd goes along as SCM_RIGHTS).
pub fn add_ring(c2s: bool, index: u16, region: u16, offset: u32, log2: u8) -> [u8; MSG_LEN] {
    let mut m = msg(T_ADD_RING);
    m[2..4].copy_from_slice(&(if c2s { RING_FLAG_C2S } else { 0 }).to_le_bytes());
    m[4..6].copy_from_slice(&index.to_le_bytes());
    m[6..8].copy_from_slice(&region.to_le_bytes());
    m[8..12].copy_from_slice(&offset.to_le_bytes());
    m[12] = log2;
    m
}

/// CONNECT: the client's interface name @2.
pub fn connect(if_name: &str) -> [u8; MSG_LEN] {
    let mut m = msg(T_CONNECT);
    put_name(&mut m, 2, NAME_LEN, if_name);
    m
}

/// DISCONNECT: code u32 @2, reason (96 bytes) @6.
pub fn disconnect(code: u32, reason: &str) -> [u8; MSG_LEN] {
    let mut m = msg(T_DISCONNECT);
    m[2..6].copy_from_slice(&code.to_le_bytes());
    put_name(&mut m, 6, 96, reason);
    m
}

/// Message type of a received message.
pub fn msg_type(m: &[u8; MSG_LEN]) -> u16 {
    u16::from_le_bytes([m[0], m[1]])
}

/// What a server says in HELLO: name @2, min/max version @34/@36, max region index @38, max
/// S2C (M2S) ring index @40, max C2S (S2M) ring index @42, max log2 ring size @44.
#[derive(Debug, Clone)]
pub struct Hello {
    pub name: String,
    pub min_version: u16,
    pub max_version: u16,
    pub max_log2_ring: u8,
}

pub fn parse_hello(m: &[u8; MSG_LEN]) -> Hello {
    let u16at = |o: usize| u16::from_le_bytes([m[o], m[o + 1]]);
    Hello { name: get_str(&m[2..2 + NAME_LEN]), min_version: u16at(34), max_version: u16at(36), max_log2_ring: m[44] }
}

/// The server's interface name from CONNECTED.
pub fn parse_connected(m: &[u8; MSG_LEN]) -> String {
    get_str(&m[2..2 + NAME_LEN])
}

/// DISCONNECT's code and reason.
pub fn parse_disconnect(m: &[u8; MSG_LEN]) -> (u32, String) {
    (u32::from_le_bytes([m[2], m[3], m[4], m[5]]), get_str(&m[6..6 + 96]))
}

/// Name of a message type, for errors.
pub fn type_name(t: u16) -> &'static str {
    match t {
        0 => "NONE",
        T_ACK => "ACK",
        T_HELLO => "HELLO",
        T_INIT => "INIT",
        T_ADD_REGION => "ADD_REGION",
        T_ADD_RING => "ADD_RING",
        T_CONNECT => "CONNECT",
        T_CONNECTED => "CONNECTED",
        T_DISCONNECT => "DISCONNECT",
        _ => "unknown",
    }
}
