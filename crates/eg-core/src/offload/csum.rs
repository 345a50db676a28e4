//! The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of the
//! data taken as big-endian 16-bit words, and the TCP/UDP pseudo-headers (RFC 9293 §3.1,
//! RFC 768, RFC 8200 §8.1).
//!
//! Partial sums are carried unfolded in a `u64` so pieces can be added before one [`fold`].

/// Adds `data` to the running sum `acc` (an odd trailing byte counts as its high half, as
/// RFC 1071 pads). Only data that starts at an even offset of the checksummed range may be
/// added this way.
pub fn add(acc: u64, data: &[u8]) -> u64 {
    let mut s = acc;
    // 32-bit big-endian words: their sum folded to 16 bits equals the 16-bit word sum, and a
    // u64 cannot overflow for any length this code sees (< 2^32 words).
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        s += u32::from_be_bytes([w[0], w[1], w[2], w[3]]) as u64;
    }
    let rest = words.remainder();
    let mut i = 0;
    while i + 1 < rest.len() {
        s += u16::from_be_bytes([rest[i], rest[i + 1]]) as u64;
        i += 2;
    }
    if i < rest.len() {
        s += (rest[i] as u64) << 8;
    }
    s
}

/// Folds a running sum to 16 bits (end-around carry), not complemented.
pub fn fold(mut s: u64) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The checksum of `data` alone: `!fold(add(0, data))`.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(add(0, data))
}

/// IPv4 pseudo-header sum: source, destination, protocol, L4 length in bytes.
pub fn pseudo_v4(src: &[u8], dst: &[u8], proto: u8, l4_len: usize) -> u64 {
    add(add(proto as u64 + l4_len as u64, &src[..4]), &dst[..4])
}

/// IPv6 pseudo-header sum: source, destination, upper-layer length (32 bits), next header.
pub fn pseudo_v6(src: &[u8], dst: &[u8], proto: u8, l4_len: usize) -> u64 {
    let len = l4_len as u64;
    add(add(proto as u64 + (len >> 16) + (len & 0xffff), &src[..16]), &dst[..16])
}
