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
