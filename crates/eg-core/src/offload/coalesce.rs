//! Coalescing (GRO): consecutive in-order TCP segments of one flow -> one super-frame with a
//! vnet header (`gso_type` TCPV4/TCPV6, `gso_size` = the segments' payload size), for a TAP
//! opened with `IFF_VNET_HDR`. Everything else passes through unchanged with a zero vnet header.
//!
//! A segment joins the open super-frame of its flow when, as in the kernel's `tcp_gro_receive`
//! (net/ipv4/tcp_offload.c) and `inet_gro_receive` / `ipv6_gro_receive`:
//! - Ethernet header (MACs, VLAN tags), IP addresses, ports, IPv4 TOS/TTL/DF/options or IPv6
//!   traffic class/flow label/hop limit, TCP ack number, window and options are all equal;
//! - its sequence number is where the super-frame's payload ends;
//! - its flags equal the first segment's except PSH, FIN and CWR, and it has no CWR itself;
//! - IPv4 IDs count up by one per segment (or DF is set on both: RFC 6864 atomic datagrams);
//! - its payload is not empty and not larger than the first segment's (the `gso_size`), and the
//!   super-frame stays within [`CoalesceOpts::max_frame`];
//! - its TCP checksum verifies, when [`CoalesceOpts::verify_csum`] (a merged super-frame gets a
//!   fresh checksum, so a corrupt segment would otherwise be accepted).
//!
//! A segment shorter than `gso_size`, or with PSH or FIN, closes the super-frame after joining
//! it (PSH/FIN are carried on the super-frame). SYN, RST, URG and empty segments never merge;
//! any TCP packet of the flow that does not join closes the flow's open super-frame, so the
//! flow's packets keep their order. At most [`MAX_OPEN`] flows are open at once.

use super::csum;
use super::headers::{self, Layout, PROTO_TCP};
use super::segment::{l4_checksum, CsumMode};
use super::vnet::{F_NEEDS_CSUM, GsoType, VnetHdr, VNET_HDR_LEN};
use super::OffloadError;

/// Flows with an open super-frame at once; the oldest is closed to open another.
pub const MAX_OPEN: usize = 16;
/// Largest output frame by default: a record's length is a u16 that also covers the vnet header.
pub const DEFAULT_MAX_FRAME: usize = u16::MAX as usize - VNET_HDR_LEN;

const TCP_FIN: u8 = 0x01;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;
const TCP_PSH: u8 = 0x08;
const TCP_URG: u8 = 0x20;
const TCP_CWR: u8 = 0x80;
const NONE: u32 = u32::MAX;

/// Options of [`Coalescer::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoalesceOpts {
    /// Checksum of merged super-frames: Partial (`NEEDS_CSUM`, the kernel skips it for local
    /// delivery) or Full (the kernel verifies it).
    pub csum: CsumMode,
    /// Verify each segment's TCP checksum before merging it (unverified segments pass through
    /// unmerged, for the kernel to judge).
    pub verify_csum: bool,
    /// Largest super-frame in bytes (Ethernet header included), at most [`DEFAULT_MAX_FRAME`].
    pub max_frame: usize,
}

impl Default for CoalesceOpts {
    fn default() -> Self {
        CoalesceOpts { csum: CsumMode::Partial, verify_csum: true, max_frame: DEFAULT_MAX_FRAME }
    }
}

/// What one [`Coalescer`] run wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coalesced {
    /// Records written (`[len u16 BE][vnet header][frame]`).
    pub records: usize,
    /// Bytes written to the output buffer.
    pub bytes: usize,
    /// Super-frames made of two or more segments.
    pub super_frames: usize,
    /// Input segments that went into those super-frames.
    pub merged: usize,
    /// Input frames written unchanged.
    pub passed: usize,
    /// Input frames not written because a record could not describe them (longer than
    /// 65,525 bytes): the caller counts them as drops.
    pub too_long: usize,
}

#[derive(Clone, Copy, Debug)]
struct Item {
    start: u32,
    len: u32,
    /// TCP payload bytes (a candidate's; padding after the IP packet excluded).
    plen: u32,
    group: u32,
    /// Next member of the same group, or NONE.
    next: u32,
}

#[derive(Clone, Copy, Debug)]
struct Group {
    first: u32,
    last: u32,
    lay: Layout,
    /// Payload bytes of the first segment: the gso_size.
    mss: usize,
    /// Header bytes + all payload so far.
    len: usize,
    count: u32,
    next_seq: u32,
    flags_or: u8,
    df: bool,
    ip_id: u16,
    open: bool,
}

/// Reusable GRO state: the vectors grow to the largest batch seen and are then reused.
#[derive(Debug)]
pub struct Coalescer {
    opts: CoalesceOpts,
    items: Vec<Item>,
    groups: Vec<Group>,
    open: [u32; MAX_OPEN],
    n_open: usize,
}

impl Coalescer {
    /// A coalescer; `opts.max_frame` is capped at [`DEFAULT_MAX_FRAME`].
    pub fn new(opts: CoalesceOpts) -> Coalescer {
        let opts = CoalesceOpts { max_frame: opts.max_frame.min(DEFAULT_MAX_FRAME), ..opts };
        Coalescer { opts, items: Vec::new(), groups: Vec::new(), open: [NONE; MAX_OPEN], n_open: 0 }
    }

    /// Coalesces `frames` (Ethernet frames, in arrival order) into `out` as
    /// `[len u16 BE][vnet header][frame]` records, the layout a vnet TAP batch write takes.
    /// On `OutputTooSmall` nothing was written.
    pub fn coalesce(&mut self, frames: &[&[u8]], out: &mut [u8]) -> Result<Coalesced, OffloadError> {
        self.items.clear();
        let mut at = 0u32;
        for f in frames {
            self.items.push(Item { start: at, len: f.len() as u32, plen: 0, group: NONE, next: NONE });
            at = at.wrapping_add(f.len() as u32);
        }
        self.run(|i, _| frames[i], out)
    }


    /// Like [`Coalescer::coalesce`], with the input in the `[len u16 BE][frame]` batch layout.
    /// A record that runs past the end of `records` is refused before anything is written.
    pub fn coalesce_records(&mut self, records: &[u8], out: &mut [u8]) -> Result<Coalesced, OffloadError> {
        self.index_records(records, 0)?;
        self.run(|_, it| &records[it.start as usize..(it.start + it.len) as usize], out)
    }

    /// Like [`Coalescer::coalesce_records`], with the input already in the output layout
    /// `[len u16 BE][vnet header][frame]` (the headers read are ignored: the frames must be
    /// complete, as a data plane that delivers them writes them). A record shorter than a vnet
    /// header is refused like a cut one.
    pub fn coalesce_vnet_records(&mut self, records: &[u8], out: &mut [u8]) -> Result<Coalesced, OffloadError> {
        self.index_records(records, VNET_HDR_LEN)?;
        self.run(|_, it| &records[it.start as usize..(it.start + it.len) as usize], out)
    }

    /// Items for the records of `records`, the first `skip` bytes of each record not part of
    /// its frame.
    fn index_records(&mut self, records: &[u8], skip: usize) -> Result<(), OffloadError> {
        self.items.clear();
        let mut at = 0usize;
        while at < records.len() {
            if at + 2 > records.len() {
                return Err(OffloadError::RecordTruncated { at, len: 2, have: records.len() - at });
            }
            let len = u16::from_be_bytes([records[at], records[at + 1]]) as usize;
            if at + 2 + len > records.len() || len < skip {
                return Err(OffloadError::RecordTruncated { at, len, have: records.len() - at - 2 });
            }
            self.items.push(Item { start: (at + 2 + skip) as u32, len: (len - skip) as u32, plen: 0, group: NONE, next: NONE });
            at += 2 + len;
        }
        Ok(())
    }

    fn run<'f>(&mut self, get: impl Fn(usize, &Item) -> &'f [u8], out: &mut [u8]) -> Result<Coalesced, OffloadError> {
        self.groups.clear();
        self.n_open = 0;
        for i in 0..self.items.len() {
            let f = get(i, &self.items[i]);
            let Some(c) = candidate(f, self.opts.verify_csum) else { continue };
            self.items[i].plen = c.plen as u32;
            let slot = self.find_open(f, &c.lay, &get);
            if let Some(s) = slot {
                let gi = self.open[s] as usize;
                let first = self.groups[gi].first as usize;
                let f0 = get(first, &self.items[first]);
                if c.mergeable && self.can_join(&self.groups[gi], f0, f, &c) {
                    let last = self.groups[gi].last as usize;
                    self.items[last].next = i as u32;
                    self.items[i].group = gi as u32;
                    let g = &mut self.groups[gi];
                    g.last = i as u32;
                    g.count += 1;
                    g.len += c.plen;
                    g.next_seq = g.next_seq.wrapping_add(c.plen as u32);
                    g.flags_or |= c.flags & (TCP_PSH | TCP_FIN);
                    if c.plen < g.mss || c.flags & (TCP_PSH | TCP_FIN) != 0 {
                        self.close(s);
                    }
                    continue;
                }
                // The flow goes on with a packet that cannot join: what follows must not be
                // merged ahead of it.
                self.close(s);
            }
            if !c.mergeable || c.plen == 0 || c.flags & (TCP_SYN | TCP_RST | TCP_URG) != 0 {
                continue;
            }
            let gi = self.groups.len() as u32;
            self.groups.push(Group {
                first: i as u32,
                last: i as u32,
                lay: c.lay,
                mss: c.plen,
                len: c.lay.hdr_len() + c.plen,
                count: 1,
                next_seq: c.seq.wrapping_add(c.plen as u32),
                flags_or: 0,
                df: c.df,
                ip_id: c.ip_id,
                open: true,
            });
            self.items[i].group = gi;
            if c.flags & (TCP_PSH | TCP_FIN) == 0 {
                if self.n_open == MAX_OPEN {
                    self.close(0);
                }
                self.open[self.n_open] = gi;
                self.n_open += 1;
            }
        }

        // Space first, so that a short buffer leaves it untouched.
        let mut need = 0usize;
        let mut res = Coalesced::default();
        for (i, it) in self.items.iter().enumerate() {
            match self.emit_len(i, it) {
                Emit::Skip => {}
                Emit::TooLong => res.too_long += 1,
                Emit::Bytes(n) => need += 2 + VNET_HDR_LEN + n,
            }
        }
        if out.len() < need {
            return Err(OffloadError::OutputTooSmall { need, have: out.len() });
        }

        let mut at = 0usize;
        for i in 0..self.items.len() {
            let it = self.items[i];
            let n = match self.emit_len(i, &it) {
                Emit::Bytes(n) => n,
                _ => continue,
            };
            out[at..at + 2].copy_from_slice(&((VNET_HDR_LEN + n) as u16).to_be_bytes());
            let (vh, o) = out[at + 2..at + 2 + VNET_HDR_LEN + n].split_at_mut(VNET_HDR_LEN);
            let f = get(i, &it);
            let g = if it.group == NONE { None } else { Some(&self.groups[it.group as usize]) };
            match g {
                Some(g) if g.count > 1 => {
                    let v = self.write_group(g, o, &get);
                    vh.copy_from_slice(&v.to_bytes());
                    res.super_frames += 1;
                    res.merged += g.count as usize;
                }
                _ => {
                    o.copy_from_slice(f);
                    vh.copy_from_slice(&[0; VNET_HDR_LEN]);
                    res.passed += 1;
                }
            }
            at += 2 + VNET_HDR_LEN + n;
            res.records += 1;
        }
        res.bytes = at;
        Ok(res)
    }

    fn emit_len(&self, i: usize, it: &Item) -> Emit {
        if it.group != NONE {
            let g = &self.groups[it.group as usize];
            if g.first as usize != i {
                return Emit::Skip;
            }
            if g.count > 1 {
                return Emit::Bytes(g.len);
            }
        }
        if it.len as usize > DEFAULT_MAX_FRAME {
            Emit::TooLong
        } else {
            Emit::Bytes(it.len as usize)
        }
    }

    /// Writes a merged super-frame into `o` (exactly `g.len` bytes); returns its vnet header.
    fn write_group<'f>(&self, g: &Group, o: &mut [u8], get: &impl Fn(usize, &Item) -> &'f [u8]) -> VnetHdr {
        let lay = g.lay;
        let hl = lay.hdr_len();
        let first = g.first as usize;
        let f0 = get(first, &self.items[first]);
        o[..hl].copy_from_slice(&f0[..hl]);
        let mut p = hl;
        let mut m = g.first;
        while m != NONE {
            let it = &self.items[m as usize];
            let f = get(m as usize, it);
            let n = it.plen as usize;
            o[p..p + n].copy_from_slice(&f[hl..hl + n]);
            p += n;
            m = it.next;
        }
        let l3 = lay.l3;
        if lay.v6 {
            o[l3 + 4..l3 + 6].copy_from_slice(&((g.len - l3 - headers::IPV6_LEN) as u16).to_be_bytes());
        } else {
            o[l3 + 2..l3 + 4].copy_from_slice(&((g.len - l3) as u16).to_be_bytes());
            o[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
            let c = csum::checksum(&o[l3..lay.l4]);
            o[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
        }
        o[lay.l4 + 13] |= g.flags_or;
        l4_checksum(o, &lay, lay.l4 + 16, self.opts.csum);
        VnetHdr {
            flags: if self.opts.csum == CsumMode::Partial { F_NEEDS_CSUM } else { 0 },
            gso_type: if lay.v6 { GsoType::TcpV6 } else { GsoType::TcpV4 },
            ecn: f0[lay.l4 + 13] & TCP_CWR != 0,
            hdr_len: hl as u16,
            gso_size: g.mss as u16,
            csum_start: lay.l4 as u16,
            csum_offset: 16,
        }
    }

    /// The open slot of the flow (same IP addresses and ports) `f` belongs to.
    fn find_open<'f>(&self, f: &[u8], lay: &Layout, get: &impl Fn(usize, &Item) -> &'f [u8]) -> Option<usize> {
        let (a, b) = addr_range(lay);
        (0..self.n_open).find(|&s| {
            let g = &self.groups[self.open[s] as usize];
            if g.lay.v6 != lay.v6 || !g.open {
                return false;
            }
            let first = g.first as usize;
            let f0 = get(first, &self.items[first]);
            let (a0, b0) = addr_range(&g.lay);
            f0[a0..b0] == f[a..b] && f0[g.lay.l4..g.lay.l4 + 4] == f[lay.l4..lay.l4 + 4]
        })
    }

    fn can_join(&self, g: &Group, f0: &[u8], f: &[u8], c: &Cand) -> bool {
        let (l0, l) = (&g.lay, &c.lay);
        if l.l3 != l0.l3 || l.l4 != l0.l4 || l.l4_hdr != l0.l4_hdr || f[..l.l3] != f0[..l.l3] {
            return false;
        }
        let l3 = l.l3;
        let ip_ok = if l.v6 {
            f[l3..l3 + 4] == f0[l3..l3 + 4] && f[l3 + 7] == f0[l3 + 7]
        } else {
            f[l3..l3 + 2] == f0[l3..l3 + 2]
                && f[l3 + 8] == f0[l3 + 8]
                && c.df == g.df
                && f[l3 + 20..l.l4] == f0[l3 + 20..l.l4]
                && (c.df || c.ip_id == g.ip_id.wrapping_add(g.count as u16))
        };
        let l4 = l.l4;
        let flags0 = f0[l4 + 13];
        let ip_len = g.len + c.plen - l3 - if l.v6 { headers::IPV6_LEN } else { 0 };
        ip_ok
            && c.seq == g.next_seq
            && f[l4 + 8..l4 + 12] == f0[l4 + 8..l4 + 12]
            && (c.flags ^ flags0) & !(TCP_PSH | TCP_FIN | TCP_CWR) == 0
            && c.flags & TCP_CWR == 0
            && f[l4 + 14..l4 + 16] == f0[l4 + 14..l4 + 16]
            && f[l4 + 20..l4 + l.l4_hdr] == f0[l4 + 20..l4 + l.l4_hdr]
            && c.plen > 0
            && c.plen <= g.mss
            && g.len + c.plen <= self.opts.max_frame
            && ip_len <= u16::MAX as usize
    }

    fn close(&mut self, slot: usize) {
        let gi = self.open[slot] as usize;
        self.groups[gi].open = false;
        self.open.copy_within(slot + 1..self.n_open, slot);
        self.n_open -= 1;
    }
}

enum Emit {
    Skip,
    TooLong,
    Bytes(usize),
}

/// A TCP segment as the merge rules see it.
struct Cand {
    lay: Layout,
    plen: usize,
    seq: u32,
    flags: u8,
    df: bool,
    ip_id: u16,
    /// False when its checksum did not verify: it passes through and closes its flow.
    mergeable: bool,
}

fn addr_range(lay: &Layout) -> (usize, usize) {
    if lay.v6 {
        (lay.l3 + 8, lay.l3 + 40)
    } else {
        (lay.l3 + 12, lay.l3 + 20)
    }
}

/// Parses `f` as TCP over IP; None for anything else (which passes through untouched).
fn candidate(f: &[u8], verify: bool) -> Option<Cand> {
    let lay = headers::parse(f).ok()?;
    if lay.proto != PROTO_TCP {
        return None;
    }
    let l4 = lay.l4;
    let plen = lay.ip_end - lay.hdr_len();
    let mergeable = !verify || {
        let (a, b) = addr_range(&lay);
        let half = (b - a) / 2;
        let l4_len = lay.ip_end - l4;
        let pseudo = if lay.v6 {
            csum::pseudo_v6(&f[a..a + half], &f[a + half..b], PROTO_TCP, l4_len)
        } else {
            csum::pseudo_v4(&f[a..a + half], &f[a + half..b], PROTO_TCP, l4_len)
        };
        csum::fold(csum::add(pseudo, &f[l4..lay.ip_end])) == 0xffff
    };
    let (df, ip_id) = if lay.v6 {
        (false, 0)
    } else {
        (f[lay.l3 + 6] & 0x40 != 0, u16::from_be_bytes([f[lay.l3 + 4], f[lay.l3 + 5]]))
    };
    Some(Cand {
        lay,
        plen,
        seq: u32::from_be_bytes([f[l4 + 4], f[l4 + 5], f[l4 + 6], f[l4 + 7]]),
        flags: f[l4 + 13],
        df,
        ip_id,
        mergeable,
    })
}
