//! The Etherguard header carried at the start of every transport plaintext.
//!
//! ```text
//! byte 0     kind (message usage, see [`Kind`])
//! byte 1     TTL
//! bytes 2-3  destination NodeID, big-endian
//! bytes 4-5  source NodeID, big-endian
//! bytes 6-7  payload length, big-endian
//! bytes 8..  payload (length bytes)
//! then       zero padding so the whole plaintext is a multiple of 16 bytes
//! ```
//!
//! The header sits inside the WireGuard ciphertext, so every byte is authenticated.
//! See docs/wire.md.

use core::fmt;

use crate::noise::wire::MAX_PLAINTEXT_LEN;

/// Length of the Etherguard header.
pub const HEADER_LEN: usize = 8;
/// Largest payload the 16-bit length field can describe (what [`parse`] accepts).
pub const MAX_PAYLOAD: usize = u16::MAX as usize;
/// Largest payload (Ethernet frame or control message) that is ever sent: header + payload,
/// padded to 16 and sealed, must fit one UDP datagram over IPv4 or IPv6
/// ([`MAX_PLAINTEXT_LEN`] = 65,472), so 65,464 bytes. Tighter than the length field
/// ([`MAX_PAYLOAD`]); [`encode`] and [`write_header`] refuse anything longer. docs/wire.md §5.
pub const MAX_FRAME_PAYLOAD: usize = MAX_PLAINTEXT_LEN - HEADER_LEN;

/// Message usage (byte 0). Codes 0..=3 are never used so that a header can not be
/// mistaken for a WireGuard message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// An Ethernet frame for the overlay.
    NormalPacket = 4,
    /// Edge -> supernode registration.
    Register = 5,
    /// Supernode -> edge: state changed, fetch an update.
    ServerUpdate = 6,
    /// Peer-to-peer latency probe.
    PingPacket = 7,
    /// Answer to a ping, reported to everyone including the supernode.
    PongPacket = 8,
    /// Ask a peer for its peer list.
    QueryPeer = 9,
    /// Announce a peer to others.
    BroadcastPeer = 10,
}

impl Kind {
    /// From the wire byte.
    pub fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            4 => Kind::NormalPacket,
            5 => Kind::Register,
            6 => Kind::ServerUpdate,
            7 => Kind::PingPacket,
            8 => Kind::PongPacket,
            9 => Kind::QueryPeer,
            10 => Kind::BroadcastPeer,
            _ => return None,
        })
    }
}

/// Parsed Etherguard header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Message usage.
    pub kind: Kind,
    /// Hops left.
    pub ttl: u8,
    /// Destination NodeID.
    pub dst: u16,
    /// Source NodeID.
    pub src: u16,
    /// Payload length in bytes.
    pub len: u16,
}

/// Why a plaintext is not a valid Etherguard frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer than 8 bytes.
    TooShort {
        /// bytes available
        len: usize,
    },
    /// Byte 0 is not a known [`Kind`].
    UnknownKind(u8),
    /// The length field claims more payload than the plaintext holds.
    LengthExceeds {
        /// declared payload length
        declared: usize,
        /// bytes available after the header
        available: usize,
    },
    /// 16 or more bytes follow the payload, or a padding byte is not zero.
    BadPadding,
    /// Encoding: payload longer than [`MAX_FRAME_PAYLOAD`] (65,464 bytes), the most one sealed
    /// transport message in one UDP datagram carries.
    PayloadTooLarge(usize),
    /// Encoding: output buffer too small.
    BufferTooSmall {
        /// bytes needed
        need: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for FrameError {}

/// Frame length (header + payload + padding) for a payload of `payload_len` bytes.
pub const fn frame_len(payload_len: usize) -> usize {
    (HEADER_LEN + payload_len + 15) & !15
}

impl Header {
    /// The 8 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.kind as u8;
        b[1] = self.ttl;
        b[2..4].copy_from_slice(&self.dst.to_be_bytes());
        b[4..6].copy_from_slice(&self.src.to_be_bytes());
        b[6..8].copy_from_slice(&self.len.to_be_bytes());
        b
    }

    /// Parse just the 8 header bytes (no length/padding consistency check).
    pub fn parse_header(buf: &[u8]) -> Result<Header, FrameError> {
        if buf.len() < HEADER_LEN {
            return Err(FrameError::TooShort { len: buf.len() });
        }
        let kind = Kind::from_u8(buf[0]).ok_or(FrameError::UnknownKind(buf[0]))?;
        Ok(Header {
            kind,
            ttl: buf[1],
            dst: u16::from_be_bytes([buf[2], buf[3]]),
            src: u16::from_be_bytes([buf[4], buf[5]]),
            len: u16::from_be_bytes([buf[6], buf[7]]),
        })
    }
}

/// Parse a decrypted transport plaintext: header, payload, and check that what follows
/// the payload is fewer than 16 zero bytes. Returns the header and the payload slice.
pub fn parse(plaintext: &[u8]) -> Result<(Header, &[u8]), FrameError> {
    let h = Header::parse_header(plaintext)?;
    let available = plaintext.len() - HEADER_LEN;
    let declared = h.len as usize;
    if declared > available {
        return Err(FrameError::LengthExceeds {
            declared,
            available,
        });
    }
    let pad = &plaintext[HEADER_LEN + declared..];
    if pad.len() >= 16 || pad.iter().any(|&b| b != 0) {
        return Err(FrameError::BadPadding);
    }
    Ok((h, &plaintext[HEADER_LEN..HEADER_LEN + declared]))
}

/// Write header + payload into `out` (no padding: the WireGuard layer pads to 16).
/// `header.len` is overwritten with the payload length. Returns bytes written.
/// Errors: `PayloadTooLarge` above [`MAX_FRAME_PAYLOAD`], `BufferTooSmall`.
pub fn encode(header: Header, payload: &[u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let need = HEADER_LEN + payload.len();
    if payload.len() > MAX_FRAME_PAYLOAD {
        return Err(FrameError::PayloadTooLarge(payload.len()));
    }
    if out.len() < need {
        return Err(FrameError::BufferTooSmall { need });
    }
    write_header(header, payload.len(), out)?;
    out[HEADER_LEN..need].copy_from_slice(payload);
    Ok(need)
}

/// Write only the header for a payload of `payload_len` bytes that the caller already
/// placed at `out[8..]` (zero-copy framing inside a batch slot). Errors as [`encode`]; the
/// length check is what keeps the u16 field from wrapping.
pub fn write_header(
    mut header: Header,
    payload_len: usize,
    out: &mut [u8],
) -> Result<(), FrameError> {
    if payload_len > MAX_FRAME_PAYLOAD {
        return Err(FrameError::PayloadTooLarge(payload_len));
    }
    if out.len() < HEADER_LEN {
        return Err(FrameError::BufferTooSmall { need: HEADER_LEN });
    }
    header.len = payload_len as u16;
    out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    Ok(())
}
