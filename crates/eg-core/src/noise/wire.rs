//! Stock WireGuard framing constants: message types, sizes and field offsets.

/// Handshake initiation.
pub const TYPE_INITIATION: u32 = 1;
/// Handshake response.
pub const TYPE_RESPONSE: u32 = 2;
/// Cookie reply.
pub const TYPE_COOKIE_REPLY: u32 = 3;
/// Transport data.
pub const TYPE_TRANSPORT: u32 = 4;

/// Size of a handshake initiation.
pub const INITIATION_LEN: usize = 148;
/// Size of a handshake response.
pub const RESPONSE_LEN: usize = 92;
/// Size of a cookie reply.
pub const COOKIE_REPLY_LEN: usize = 64;
/// Size of the transport header: type, receiver index, counter.
pub const TRANSPORT_HEADER_LEN: usize = 16;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Smallest transport message (a keepalive).
pub const TRANSPORT_MIN_LEN: usize = TRANSPORT_HEADER_LEN + TAG_LEN;
/// WireGuard pads transport plaintext to a multiple of this.
pub const PADDING_MULTIPLE: usize = 16;

/// Largest UDP payload over IPv4: 65,535 (IPv4 total length, 16 bits) − 20 (IPv4 header)
/// − 8 (UDP header). RFC 791, RFC 768.
pub const MAX_UDP_PAYLOAD_V4: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms: 65,535 (payload length, 16 bits) − 8
/// (UDP header). RFC 8200, RFC 2675 (jumbograms, not used).
pub const MAX_UDP_PAYLOAD_V6: usize = 65_527;
/// Largest transport message that is ever sealed: one UDP datagram over *either* family,
/// because a relay may forward over IPv4 what arrived over IPv6. Longer plaintexts are
/// refused with [`Reason::FrameTooLarge`](super::Reason::FrameTooLarge) before sealing.
pub const MAX_TRANSPORT_LEN: usize = MAX_UDP_PAYLOAD_V4;
/// Largest plaintext whose padded transport message fits [`MAX_TRANSPORT_LEN`]: 65,472 bytes
/// (16 header + 65,472 + 16 tag = 65,504 ≤ 65,507; 65,473 would pad to 65,488 → 65,520).
pub const MAX_PLAINTEXT_LEN: usize =
    (MAX_TRANSPORT_LEN - TRANSPORT_HEADER_LEN - TAG_LEN) & !(PADDING_MULTIPLE - 1);

/// Transport message size for a plaintext of `plaintext_len` bytes (after padding).
pub const fn transport_len(plaintext_len: usize) -> usize {
    TRANSPORT_HEADER_LEN + padded_len(plaintext_len) + TAG_LEN
}

/// `len` rounded up to a multiple of 16.
pub const fn padded_len(len: usize) -> usize {
    (len + PADDING_MULTIPLE - 1) & !(PADDING_MULTIPLE - 1)
}

/// Read a little-endian u32 at `off` (caller checked the length).
pub(crate) fn le32(buf: &[u8], off: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[off..off + 4]);
    u32::from_le_bytes(b)
}

/// Read a little-endian u64 at `off` (caller checked the length).
pub(crate) fn le64(buf: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[off..off + 8]);
    u64::from_le_bytes(b)
}

/// Constant-time equality of two equal-length byte strings.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    d == 0
}
