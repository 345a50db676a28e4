//! `struct virtio_net_hdr`, the header a TAP opened with `IFF_VNET_HDR` exchanges in front of
//! every frame.
//!
//! Layout (Linux `include/uapi/linux/virtio_net.h`, the 10-byte legacy header that
//! `TUNSETVNETHDRSZ` = 10 selects):
//!
//! ```text
//! byte 0     flags        1 = NEEDS_CSUM (L4 checksum left to do: sum from csum_start to the
//!                             end, store at csum_start + csum_offset), 2 = DATA_VALID
//! byte 1     gso_type     0 NONE, 1 TCPV4, 3 UDP (UFO), 4 TCPV6, 5 UDP_L4 (USO); | 0x80 ECN
//! bytes 2-3  hdr_len      length of the Ethernet + IP + L4 headers (a hint: the kernel writes
//!                         skb_headlen() here, which may be more; we parse the headers instead)
//! bytes 4-5  gso_size     payload bytes per segment (the MSS for TCP, the datagram payload for UDP)
//! bytes 6-7  csum_start   offset of the L4 header from the start of the frame
//! bytes 8-9  csum_offset  offset of the checksum field inside it (16 TCP, 6 UDP)
//! ```
//!
//! The 16-bit fields are `__virtio16`: little-endian on the little-endian hosts the native side
//! enables vnet headers on (x86-64, arm64), which is also what virtio 1.0 specifies.

use super::OffloadError;

/// Bytes in a vnet header (`sizeof(struct virtio_net_hdr)`).
pub const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`.
pub const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_ECN`: the TCP segments carry ECN (CWR on the first segment only).
pub const GSO_ECN: u8 = 0x80;
const GSO_NONE: u8 = 0;
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;
const GSO_UDP_L4: u8 = 5;

/// `gso_type` without the ECN bit. UFO (3) is refused: it means IP fragmentation, which the
/// native side never enables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum GsoType {
    /// One ordinary frame.
    #[default]
    None,
    /// A TCP/IPv4 super-frame (TSO4).
    TcpV4,
    /// A TCP/IPv6 super-frame (TSO6).
    TcpV6,
    /// A UDP super-frame split into datagrams of `gso_size` payload bytes (USO), IPv4 or IPv6.
    UdpL4,
}

impl GsoType {
    /// The wire value (without the ECN bit).
    pub fn code(self) -> u8 {
        match self {
            GsoType::None => GSO_NONE,
            GsoType::TcpV4 => GSO_TCPV4,
            GsoType::TcpV6 => GSO_TCPV6,
            GsoType::UdpL4 => GSO_UDP_L4,
        }
    }
}

/// A parsed `struct virtio_net_hdr`. All integers are host values (sizes and offsets in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct VnetHdr {
    /// [`F_NEEDS_CSUM`] and/or [`F_DATA_VALID`].
    pub flags: u8,
    pub gso_type: GsoType,
    /// The ECN bit of `gso_type`.
    pub ecn: bool,
    pub hdr_len: u16,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Parses the first [`VNET_HDR_LEN`] bytes of `b`. Refuses a short buffer, unknown flag
    /// bits, an unknown or UFO `gso_type`, and a `gso_type` with `gso_size` 0. Offsets are
    /// checked against the frame later, by the segmenter, which knows the frame.
    pub fn parse(b: &[u8]) -> Result<VnetHdr, OffloadError> {
        if b.len() < VNET_HDR_LEN {
            return Err(OffloadError::VnetTooShort { len: b.len() });
        }
        let u = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let flags = b[0];
        if flags & !(F_NEEDS_CSUM | F_DATA_VALID) != 0 {
            return Err(OffloadError::VnetFlags { flags });
        }
        let gso_type = match b[1] & !GSO_ECN {
            GSO_NONE => GsoType::None,
            GSO_TCPV4 => GsoType::TcpV4,
            GSO_TCPV6 => GsoType::TcpV6,
            GSO_UDP_L4 => GsoType::UdpL4,
            // UFO (GSO_UDP) lands here too: it is never enabled.
            _ => return Err(OffloadError::VnetGsoType { gso_type: b[1] }),
        };
        let h = VnetHdr {
            flags,
            gso_type,
            ecn: b[1] & GSO_ECN != 0,
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        };
        if gso_type != GsoType::None && h.gso_size == 0 {
            return Err(OffloadError::VnetGsoSizeZero);
        }
        Ok(h)
    }

    /// The 10 wire bytes.
    pub fn to_bytes(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type.code() | if self.ecn { GSO_ECN } else { 0 };
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b
    }

    /// Writes the header into the first [`VNET_HDR_LEN`] bytes of `out`.
    pub fn write(&self, out: &mut [u8]) -> Result<(), OffloadError> {
        if out.len() < VNET_HDR_LEN {
            return Err(OffloadError::OutputTooSmall { need: VNET_HDR_LEN, have: out.len() });
        }
        out[..VNET_HDR_LEN].copy_from_slice(&self.to_bytes());
        Ok(())
    }

    /// Whether the L4 checksum is left to the receiver (`NEEDS_CSUM`).
    pub fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }
}
