//! Kernel offloads for the TAP path, as pure computation on byte slices.
//!
//! A TAP opened with `IFF_VNET_HDR` puts a [`VnetHdr`] (Linux `struct virtio_net_hdr`, 10 bytes)
//! in front of every frame it hands out and expects one in front of every frame written to it.
//! With `TUNSETOFFLOAD` (TSO4/TSO6/USO) the kernel hands out *super-frames*: one Ethernet frame
//! of up to 64 KiB that stands for many MTU-sized TCP segments or UDP datagrams, with the
//! checksum left for the device to fill in (`NEEDS_CSUM`).
//!
//! - [`segment`]: a super-frame and its header -> MTU-sized frames with their own IPv4 IDs,
//!   lengths, TCP sequence numbers and flags, and IP/L4 checksums (full, or partial for a
//!   receiver that reads vnet headers). What a NIC's TSO engine does, and what the kernel's
//!   `tcp_gso_segment` / `__udp_gso_segment` do in software.
//! - [`coalesce`]: the reverse on the receiving edge (GRO): consecutive, in-order TCP segments
//!   of one flow become one super-frame written with a vnet header of `gso_type` TCPV4/TCPV6,
//!   so the receiving kernel runs its TCP stack once per 64 KiB instead of once per segment.
//!   The merge rules follow the kernel's `tcp_gro_receive` (net/ipv4/tcp_offload.c).
//!
//! Everything works on borrowed slices and writes into buffers the caller provides; the only
//! heap use is the coalescer's bookkeeping vectors, which are reused from batch to batch.
//! Nothing here panics on bad input: every refusal is an [`OffloadError`] naming the field and
//! the rule. Source of the header format: Linux `include/uapi/linux/virtio_net.h` and
//! `include/uapi/linux/if_tun.h`; the OS side (ioctls, sockets) lives in `crates/eg-native`.
//! docs/interfaces.md §Offloads.

pub mod coalesce;
pub mod csum;
mod headers;
pub mod segment;
pub mod vnet;

#[cfg(test)]
mod tests;

pub use coalesce::{CoalesceOpts, Coalesced, Coalescer};
pub use segment::{complete_in_place, CsumMode, SegmentOpts, Segmenter};
pub use vnet::{GsoType, VnetHdr, VNET_HDR_LEN};

use core::fmt;

/// Why a vnet header, a frame or an output buffer was refused. `Display` names the field and
/// the rule that was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadError {
    /// Fewer than [`VNET_HDR_LEN`] bytes where a vnet header was expected.
    VnetTooShort { len: usize },
    /// `flags` has bits other than NEEDS_CSUM (1) and DATA_VALID (2).
    VnetFlags { flags: u8 },
    /// `gso_type` (without the ECN bit) is not NONE, TCPV4, TCPV6 or UDP_L4.
    VnetGsoType { gso_type: u8 },
    /// `gso_type` is set but `gso_size` is 0.
    VnetGsoSizeZero,
    /// `csum_start` / `csum_offset` do not point at the L4 checksum field inside the frame.
    VnetCsum { csum_start: u16, csum_offset: u16, why: &'static str },
    /// The frame ends before a header it must contain.
    Truncated { what: &'static str, need: usize, have: usize },
    /// The Ethernet type (after any VLAN tags) is not IPv4 or IPv6.
    NotIp { ethertype: u16 },
    /// A header field that is not what it must be (`what` names field and rule).
    BadHeader { what: &'static str, value: u32 },
    /// A length field disagrees with the frame (`field` says which, `value` is its value,
    /// `frame` the bytes actually there).
    Length { field: &'static str, value: usize, frame: usize },
    /// `gso_type` does not match the packet (e.g. TCPV4 on an IPv6 or a UDP packet).
    GsoMismatch { gso_type: GsoType, ipv6: bool, proto: u8 },
    /// The L3 MTU leaves no room for payload after the headers.
    MtuTooSmall { mtu: usize, headers: usize },
    /// A UDP segment (datagram boundaries are fixed by `gso_size`) would exceed the MTU.
    SegmentOverMtu { gso_size: u16, headers: usize, mtu: usize },
    /// A frame longer than a non-GSO frame may be (MTU plus the Ethernet header).
    FrameOverMtu { len: usize, max: usize },
    /// The caller's output buffer is too small; nothing was written beyond `have`.
    OutputTooSmall { need: usize, have: usize },
    /// A `[len u16][frame]` record runs past the end of the batch buffer.
    RecordTruncated { at: usize, len: usize, have: usize },
    /// Partial checksums leave the work to the receiver, which can only know that from a vnet
    /// header in front of each frame.
    PartialNeedsVnet,
}

impl fmt::Display for OffloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use OffloadError::*;
        match *self {
            VnetTooShort { len } => write!(f, "vnet header: {len} bytes, need {VNET_HDR_LEN}"),
            VnetFlags { flags } => write!(f, "vnet header flags {flags:#04x}: only NEEDS_CSUM (1) and DATA_VALID (2) are known"),
            VnetGsoType { gso_type } => write!(
                f,
                "vnet header gso_type {gso_type}: only NONE (0), TCPV4 (1), TCPV6 (4) and UDP_L4 (5) are supported (UFO, 3, is never enabled)"
            ),
            VnetGsoSizeZero => write!(f, "vnet header gso_size is 0 although gso_type is set"),
            VnetCsum { csum_start, csum_offset, why } => {
                write!(f, "vnet header csum_start {csum_start} / csum_offset {csum_offset}: {why}")
            }
            Truncated { what, need, have } => write!(f, "frame truncated: {what} needs {need} bytes, frame has {have}"),
            NotIp { ethertype } => write!(f, "ethertype {ethertype:#06x} is neither IPv4 (0x0800) nor IPv6 (0x86dd)"),
            BadHeader { what, value } => write!(f, "{what} (got {value})"),
            Length { field, value, frame } => write!(f, "{field} {value} disagrees with the frame's {frame} bytes"),
            GsoMismatch { gso_type, ipv6, proto } => write!(
                f,
                "gso_type {gso_type:?} does not fit an IPv{} packet with protocol {proto}",
                if ipv6 { 6 } else { 4 }
            ),
            MtuTooSmall { mtu, headers } => write!(f, "MTU {mtu} leaves no payload after {headers} bytes of IP and L4 headers"),
            SegmentOverMtu { gso_size, headers, mtu } => {
                write!(f, "UDP gso_size {gso_size} plus {headers} bytes of headers exceeds the MTU {mtu}")
            }
            FrameOverMtu { len, max } => write!(f, "frame of {len} bytes without gso_type exceeds {max} (MTU plus Ethernet header)"),
            OutputTooSmall { need, have } => write!(f, "output buffer of {have} bytes is too small, need {need}"),
            RecordTruncated { at, len, have } => {
                write!(f, "batch record at byte {at} says {len} bytes but only {have} follow")
            }
            PartialNeedsVnet => write!(f, "partial checksums need a vnet header in front of each output frame"),
        }
    }
}

impl std::error::Error for OffloadError {}
