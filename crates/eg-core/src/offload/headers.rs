//! Finding the IP and L4 headers of an Ethernet frame, with every length checked.

use super::OffloadError;

pub(crate) const ETH_LEN: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const TCP_MIN: usize = 20;
pub(crate) const UDP_LEN: usize = 8;
pub(crate) const IPV6_LEN: usize = 40;

/// Where the headers of an IP-over-Ethernet frame are. Offsets from the frame start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Start of the IP header (14, 18 with one VLAN tag, 22 with two).
    pub l3: usize,
    pub v6: bool,
    /// Start of the TCP/UDP header.
    pub l4: usize,
    /// IP protocol / IPv6 next header.
    pub proto: u8,
    /// TCP header length (data offset × 4) or 8 for UDP; 0 for other protocols.
    pub l4_hdr: usize,
    /// End of the IP packet as its length field says (≤ the frame length; Ethernet padding
    /// may follow).
    pub ip_end: usize,
}

impl Layout {
    /// Ethernet + IP + L4 header bytes.
    pub fn hdr_len(&self) -> usize {
        self.l4 + self.l4_hdr
    }
}

fn need(f: &[u8], n: usize, what: &'static str) -> Result<(), OffloadError> {
    if f.len() < n {
        Err(OffloadError::Truncated { what, need: n, have: f.len() })
    } else {
        Ok(())
    }
}

/// Length of the Ethernet header including up to two VLAN tags (802.1Q / 802.1ad), and the
/// ethertype after them.
pub(crate) fn l2(f: &[u8]) -> Result<(usize, u16), OffloadError> {
    need(f, ETH_LEN, "Ethernet header")?;
    let mut at = 12;
    for _ in 0..3 {
        let t = u16::from_be_bytes([f[at], f[at + 1]]);
        if t != ETHERTYPE_VLAN && t != ETHERTYPE_QINQ {
            return Ok((at + 2, t));
        }
        at += 4;
        need(f, at + 2, "VLAN tag")?;
    }
    Err(OffloadError::BadHeader { what: "more than two VLAN tags", value: 3 })
}

/// Parses Ethernet (+VLAN) / IPv4 or IPv6 / TCP or UDP. Other IP protocols parse with
/// `l4_hdr` 0. IPv4 fragments and IPv6 extension headers are refused (neither can be
/// segmented or merged by these rules).
pub(crate) fn parse(f: &[u8]) -> Result<Layout, OffloadError> {
    let (l3, et) = l2(f)?;
    let (v6, l4, proto, ip_end) = match et {
        ETHERTYPE_IPV4 => {
            need(f, l3 + 20, "IPv4 header")?;
            if f[l3] >> 4 != 4 {
                return Err(OffloadError::BadHeader { what: "IPv4 version must be 4", value: (f[l3] >> 4) as u32 });
            }
            let ihl = (f[l3] & 0x0f) as usize * 4;
            if ihl < 20 {
                return Err(OffloadError::BadHeader { what: "IPv4 header length must be at least 20 bytes", value: ihl as u32 });
            }
            need(f, l3 + ihl, "IPv4 header with options")?;
            let tot = u16::from_be_bytes([f[l3 + 2], f[l3 + 3]]) as usize;
            if tot < ihl || l3 + tot > f.len() {
                return Err(OffloadError::Length { field: "IPv4 total length", value: tot, frame: f.len() - l3 });
            }
            let frag = u16::from_be_bytes([f[l3 + 6], f[l3 + 7]]);
            if frag & 0x3fff != 0 {
                return Err(OffloadError::BadHeader { what: "IPv4 fragment (MF set or offset non-zero)", value: frag as u32 });
            }
            (false, l3 + ihl, f[l3 + 9], l3 + tot)
        }
        ETHERTYPE_IPV6 => {
            need(f, l3 + IPV6_LEN, "IPv6 header")?;
            if f[l3] >> 4 != 6 {
                return Err(OffloadError::BadHeader { what: "IPv6 version must be 6", value: (f[l3] >> 4) as u32 });
            }
            let plen = u16::from_be_bytes([f[l3 + 4], f[l3 + 5]]) as usize;
            if plen == 0 || l3 + IPV6_LEN + plen > f.len() {
                // 0 would be a jumbogram (RFC 2675, the kernel's BIG TCP), never enabled here.
                return Err(OffloadError::Length { field: "IPv6 payload length", value: plen, frame: f.len() - l3 - IPV6_LEN });
            }
            (true, l3 + IPV6_LEN, f[l3 + 6], l3 + IPV6_LEN + plen)
        }
        other => return Err(OffloadError::NotIp { ethertype: other }),
    };
    let l4_hdr = match proto {
        PROTO_TCP => {
            if ip_end < l4 + TCP_MIN {
                return Err(OffloadError::Truncated { what: "TCP header", need: l4 + TCP_MIN, have: ip_end });
            }
            let doff = (f[l4 + 12] >> 4) as usize * 4;
            if doff < TCP_MIN || l4 + doff > ip_end {
                return Err(OffloadError::Length { field: "TCP data offset", value: doff, frame: ip_end - l4 });
            }
            doff
        }
        PROTO_UDP => {
            if ip_end < l4 + UDP_LEN {
                return Err(OffloadError::Truncated { what: "UDP header", need: l4 + UDP_LEN, have: ip_end });
            }
            UDP_LEN
        }
        0 | 43 | 44 | 50 | 51 | 60 | 135 if v6 => {
            return Err(OffloadError::BadHeader { what: "IPv6 extension headers are not supported (next header)", value: proto as u32 });
        }
        _ => 0,
    };
    Ok(Layout { l3, v6, l4, proto, l4_hdr, ip_end })
}
