//! Segmentation: one TSO/USO super-frame from a TAP with vnet headers -> MTU-sized frames.
//!
//! What a NIC's TSO engine (and the kernel's `tcp_gso_segment` / `__udp_gso_segment`) does:
//! every output frame carries a copy of the Ethernet/IP/L4 headers of the super-frame and the
//! next `gso_size` bytes of payload, and then per segment `i` (of `n`):
//! - IPv4: total length of this segment, ID = first ID + i (wrapping), header checksum;
//!   IPv6: payload length;
//! - TCP: sequence number = first + payload offset; FIN and PSH only on the last segment, CWR
//!   only on the first (RFC 3168 §6.1.2, as the kernel with `SKB_GSO_TCP_ECN`);
//!   UDP: length of this datagram;
//! - the L4 checksum over the pseudo-header and this segment, in full ([`CsumMode::Full`]) or
//!   as the pseudo-header sum for a receiver that is told `NEEDS_CSUM` ([`CsumMode::Partial`]).
//!
//! The checksum field and IP header checksum of the super-frame are ignored and recomputed:
//! the kernel leaves them partial or stale for the device to fill.

use super::csum;
use super::headers::{self, Layout, PROTO_TCP, PROTO_UDP};
use super::vnet::{F_NEEDS_CSUM, GsoType, VnetHdr, VNET_HDR_LEN};
use super::OffloadError;

const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// How L4 checksums of output frames are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsumMode {
    /// Complete checksums: any receiver can verify them.
    Full,
    /// The checksum field holds the pseudo-header sum and the frame's vnet header says
    /// `NEEDS_CSUM` (`csum_start` = L4 offset, `csum_offset` 16 or 6): for a TAP with vnet
    /// headers, whose kernel finishes (or skips, for local delivery) the sum. Needs
    /// [`SegmentOpts::vnet`].
    Partial,
}

/// Options of [`Segmenter::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentOpts {
    /// Largest IP packet of an output frame, in bytes (the L3 MTU, as `ip link` shows it).
    pub mtu: usize,
    pub csum: CsumMode,
    /// Put a vnet header ([`VNET_HDR_LEN`] bytes, `gso_type` NONE) in front of each output frame.
    pub vnet: bool,
}

/// One super-frame being cut into segments. Borrows the input; [`Segmenter::write`] writes
/// segment `i` into any buffer, so the caller chooses the layout (e.g. with headroom for a
/// transport header); [`Segmenter::write_records`] writes the `[len u16 BE][frame]` batch layout.
#[derive(Clone, Debug)]
pub struct Segmenter<'a> {
    frame: &'a [u8],
    opts: SegmentOpts,
    kind: Kind,
    count: usize,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A single frame copied unchanged (GSO_NONE, nothing to complete).
    Copy,
    /// A single frame whose L4 checksum the sender left partial: complete it (Full) or pass the
    /// offsets on (Partial). `end` = where the checksummed range ends.
    Complete { start: usize, field: usize, end: usize },
    /// A super-frame.
    Split { lay: Layout, seg: usize, payload: usize },
}

impl<'a> Segmenter<'a> {
    /// Checks `hdr` against `frame` (Ethernet frame without the vnet header) and prepares the
    /// cut. Refuses, with the reason: inconsistent lengths, a `gso_type` that does not match
    /// the packet, NEEDS_CSUM offsets that do not point at the L4 checksum, a UDP `gso_size`
    /// over the MTU, and a non-GSO frame longer than the MTU.
    pub fn new(hdr: &VnetHdr, frame: &'a [u8], opts: SegmentOpts) -> Result<Segmenter<'a>, OffloadError> {
        if opts.csum == CsumMode::Partial && !opts.vnet {
            return Err(OffloadError::PartialNeedsVnet);
        }
        if hdr.gso_type == GsoType::None {
            let (l2, _) = headers::l2(frame)?;
            if frame.len() - l2 > opts.mtu {
                return Err(OffloadError::FrameOverMtu { len: frame.len(), max: opts.mtu + l2 });
            }
            if !hdr.needs_csum() {
                return Ok(Segmenter { frame, opts, kind: Kind::Copy, count: 1 });
            }
            let (start, field, end) = partial_csum_range(hdr, frame)?;
            return Ok(Segmenter { frame, opts, kind: Kind::Complete { start, field, end }, count: 1 });
        }
        let lay = headers::parse(frame)?;
        let fits = match hdr.gso_type {
            GsoType::TcpV4 => !lay.v6 && lay.proto == PROTO_TCP,
            GsoType::TcpV6 => lay.v6 && lay.proto == PROTO_TCP,
            GsoType::UdpL4 => lay.proto == PROTO_UDP,
            GsoType::None => true,
        };
        if !fits {
            return Err(OffloadError::GsoMismatch { gso_type: hdr.gso_type, ipv6: lay.v6, proto: lay.proto });
        }
        if lay.ip_end != frame.len() {
            // A super-frame is never padded: a shorter IP length means a stale or bad header.
            return Err(OffloadError::Length {
                field: if lay.v6 { "IPv6 payload length" } else { "IPv4 total length" },
                value: lay.ip_end - lay.l3 - if lay.v6 { headers::IPV6_LEN } else { 0 },
                frame: frame.len() - lay.l3 - if lay.v6 { headers::IPV6_LEN } else { 0 },
            });
        }
        if hdr.needs_csum() {
            let want = if lay.proto == PROTO_TCP { 16 } else { 6 };
            if hdr.csum_start as usize != lay.l4 || hdr.csum_offset != want {
                return Err(OffloadError::VnetCsum {
                    csum_start: hdr.csum_start,
                    csum_offset: hdr.csum_offset,
                    why: "must point at the TCP (offset 16) or UDP (offset 6) checksum of the L4 header",
                });
            }
        }
        let l3_hdrs = lay.hdr_len() - lay.l3;
        if opts.mtu <= l3_hdrs {
            return Err(OffloadError::MtuTooSmall { mtu: opts.mtu, headers: l3_hdrs });
        }
        let seg = if lay.proto == PROTO_TCP {
            // TCP is a byte stream: a smaller MSS than the sender's is always correct.
            (hdr.gso_size as usize).min(opts.mtu - l3_hdrs)
        } else {
            // UDP datagram boundaries belong to the application: never re-cut.
            if l3_hdrs + hdr.gso_size as usize > opts.mtu {
                return Err(OffloadError::SegmentOverMtu { gso_size: hdr.gso_size, headers: l3_hdrs, mtu: opts.mtu });
            }
            hdr.gso_size as usize
        };
        let payload = frame.len() - lay.hdr_len();
        let count = payload.div_ceil(seg).max(1);
        Ok(Segmenter { frame, opts, kind: Kind::Split { lay, seg, payload }, count })
    }

    /// Number of output frames.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Bytes [`Segmenter::write`] writes for segment `i` (vnet header included when
    /// [`SegmentOpts::vnet`]); 0 when `i` is out of range.
    pub fn len(&self, i: usize) -> usize {
        if i >= self.count {
            return 0;
        }
        let v = if self.opts.vnet { VNET_HDR_LEN } else { 0 };
        v + match self.kind {
            Kind::Copy | Kind::Complete { .. } => self.frame.len(),
            Kind::Split { lay, seg, payload } => lay.hdr_len() + seg.min(payload - (i * seg).min(payload)),
        }
    }

    /// Whether there is nothing to write (never: every frame makes at least one segment).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of all segments together (without record prefixes).
    pub fn total_len(&self) -> usize {
        (0..self.count).map(|i| self.len(i)).sum()
    }

    /// Writes segment `i` at the start of `out`; returns its length ([`Segmenter::len`]).
    pub fn write(&self, i: usize, out: &mut [u8]) -> Result<usize, OffloadError> {
        let n = self.len(i);
        if i >= self.count || out.len() < n {
            return Err(OffloadError::OutputTooSmall { need: n.max(1), have: out.len() });
        }
        let (vh, o) = if self.opts.vnet { out[..n].split_at_mut(VNET_HDR_LEN) } else { out[..n].split_at_mut(0) };
        let mut v = VnetHdr::default();
        match self.kind {
            Kind::Copy => o.copy_from_slice(self.frame),
            Kind::Complete { start, field, end } => {
                o.copy_from_slice(self.frame);
                match self.opts.csum {
                    CsumMode::Full => {
                        // The field holds the pseudo-header sum the sender put there.
                        let c = finish(csum::add(0, &o[start..end]));
                        o[field..field + 2].copy_from_slice(&c.to_be_bytes());
                    }
                    CsumMode::Partial => {
                        v.flags = F_NEEDS_CSUM;
                        v.csum_start = start as u16;
                        v.csum_offset = (field - start) as u16;
                    }
                }
            }
            Kind::Split { lay, seg, payload } => {
                let hl = lay.hdr_len();
                let off = i * seg;
                let plen = seg.min(payload - off);
                o[..hl].copy_from_slice(&self.frame[..hl]);
                o[hl..].copy_from_slice(&self.frame[hl + off..hl + off + plen]);
                self.fix_headers(&lay, o, i, off);
                if self.opts.csum == CsumMode::Partial {
                    v.flags = F_NEEDS_CSUM;
                    v.hdr_len = hl as u16;
                    v.csum_start = lay.l4 as u16;
                    v.csum_offset = if lay.proto == PROTO_TCP { 16 } else { 6 };
                }
            }
        }
        if self.opts.vnet {
            vh.copy_from_slice(&v.to_bytes());
        }
        Ok(n)
    }

    /// Rewrites lengths, IDs, sequence number, flags and checksums of segment `i` in `o` (which
    /// holds the copied headers and this segment's payload, starting at payload offset `off`).
    fn fix_headers(&self, lay: &Layout, o: &mut [u8], i: usize, off: usize) {
        let n = o.len();
        let l3 = lay.l3;
        if lay.v6 {
            o[l3 + 4..l3 + 6].copy_from_slice(&((n - l3 - headers::IPV6_LEN) as u16).to_be_bytes());
        } else {
            let ihl = lay.l4 - l3;
            o[l3 + 2..l3 + 4].copy_from_slice(&((n - l3) as u16).to_be_bytes());
            let id = u16::from_be_bytes([o[l3 + 4], o[l3 + 5]]).wrapping_add(i as u16);
            o[l3 + 4..l3 + 6].copy_from_slice(&id.to_be_bytes());
            o[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
            let c = csum::checksum(&o[l3..l3 + ihl]);
            o[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        let l4 = lay.l4;
        let field = if lay.proto == PROTO_TCP {
            let seq = u32::from_be_bytes([o[l4 + 4], o[l4 + 5], o[l4 + 6], o[l4 + 7]]).wrapping_add(off as u32);
            o[l4 + 4..l4 + 8].copy_from_slice(&seq.to_be_bytes());
            if i + 1 < self.count {
                o[l4 + 13] &= !(TCP_FIN | TCP_PSH);
            }
            if i > 0 {
                o[l4 + 13] &= !TCP_CWR;
            }
            l4 + 16
        } else {
            o[l4 + 4..l4 + 6].copy_from_slice(&((n - l4) as u16).to_be_bytes());
            l4 + 6
        };
        self::l4_checksum(o, lay, field, self.opts.csum);
    }

    /// Writes every segment as a `[len u16 BE][segment]` record (the TAP batch layout of
    /// crates/eg-native) at the start of `out`. Returns the bytes written. Checks the space
    /// first: on `OutputTooSmall` nothing was written.
    pub fn write_records(&self, out: &mut [u8]) -> Result<usize, OffloadError> {
        let need = self.total_len() + 2 * self.count;
        if out.len() < need {
            return Err(OffloadError::OutputTooSmall { need, have: out.len() });
        }
        let mut at = 0;
        for i in 0..self.count {
            let n = self.write(i, &mut out[at + 2..])?;
            out[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
            at += 2 + n;
        }
        Ok(at)
    }
}

/// The range a `NEEDS_CSUM` single frame's L4 checksum covers, as `(start, field, end)` byte
/// offsets into `frame` (Ethernet frame without the vnet header): the sum runs over
/// `start..end` and is stored at `field..field + 2`. Refuses offsets whose checksum field does
/// not fit the frame (`VnetCsum`).
fn partial_csum_range(hdr: &VnetHdr, frame: &[u8]) -> Result<(usize, usize, usize), OffloadError> {
    let start = hdr.csum_start as usize;
    let field = start + hdr.csum_offset as usize;
    if start >= frame.len() || field + 2 > frame.len() {
        return Err(OffloadError::VnetCsum {
            csum_start: hdr.csum_start,
            csum_offset: hdr.csum_offset,
            why: "the checksum field lies beyond the end of the frame",
        });
    }
    // Sum to the end of the IP packet when the frame parses (Ethernet padding is not part of
    // it), else to the end of the frame as the kernel's skb_checksum_help does.
    let end = headers::parse(frame).map(|l| l.ip_end).unwrap_or(frame.len()).max(field + 2);
    Ok((start, field, end))
}

/// A completed checksum as the kernel's `skb_checksum_help` stores it: a sum that folds to 0 is
/// written as 0xffff (for UDP, 0 would mean "no checksum", which IPv6 forbids; for TCP the two are
/// the same number in one's complement).
fn finish(sum: u64) -> u16 {
    match !csum::fold(sum) {
        0 => 0xffff,
        c => c,
    }
}

/// Completes, in place, the L4 checksum of a single frame whose sender left it partial
/// (`NEEDS_CSUM` without GSO; the field holds the pseudo-header sum): what
/// [`Segmenter`] does for such a frame, without copying it. Nothing is changed when the header
/// does not say `NEEDS_CSUM`. Refuses, changing nothing, offsets that do not fit the frame and a
/// header with a `gso_type` (a super-frame needs [`Segmenter`]).
pub fn complete_in_place(hdr: &VnetHdr, frame: &mut [u8]) -> Result<(), OffloadError> {
    if hdr.gso_type != GsoType::None {
        return Err(OffloadError::BadHeader { what: "complete_in_place takes a frame without gso_type", value: hdr.gso_type.code() as u32 });
    }
    if !hdr.needs_csum() {
        return Ok(());
    }
    let (start, field, end) = partial_csum_range(hdr, frame)?;
    let c = finish(csum::add(0, &frame[start..end]));
    frame[field..field + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// Fills the L4 checksum at `field` of the IP packet in `o[..lay.ip_end or o.len()]`: complete,
/// or the (uncomplemented) pseudo-header sum for a `NEEDS_CSUM` receiver.
pub(crate) fn l4_checksum(o: &mut [u8], lay: &Layout, field: usize, mode: CsumMode) {
    let n = o.len();
    let l4_len = n - lay.l4;
    let (src, dst) = if lay.v6 { (lay.l3 + 8, lay.l3 + 24) } else { (lay.l3 + 12, lay.l3 + 16) };
    let pseudo = if lay.v6 {
        csum::pseudo_v6(&o[src..src + 16], &o[dst..dst + 16], lay.proto, l4_len)
    } else {
        csum::pseudo_v4(&o[src..src + 4], &o[dst..dst + 4], lay.proto, l4_len)
    };
    o[field..field + 2].copy_from_slice(&[0, 0]);
    let c = match mode {
        CsumMode::Partial => csum::fold(pseudo),
        CsumMode::Full => {
            let c = !csum::fold(csum::add(pseudo, &o[lay.l4..]));
            // UDP sends 0 as "no checksum" (RFC 768), so a computed 0 goes out as 0xffff.
            if c == 0 && lay.proto == PROTO_UDP {
                0xffff
            } else {
                c
            }
        }
    };
    o[field..field + 2].copy_from_slice(&c.to_be_bytes());
}
