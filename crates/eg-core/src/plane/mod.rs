//! The data plane: one call takes a whole batch of frames (from the interface) or datagrams (from
//! a UDP socket), and seals, opens, routes and forwards every packet in it, leaving the results in
//! output areas the native I/O writes from directly, plus a list of events for the runtime
//! (control messages, handshakes, drops with reasons, log lines). Like boringtun's `TunnResult`,
//! but per batch: the runtime crosses into the core once per batch, never per packet.
//!
//! * [`forward`]: the per-message decision (deliver / control / forward / drop) and the routes.
//! * [`fib`]: MAC learning; [`dedup`]: the flood channel's duplicate filter.
//! * [`layout`]: every byte layout shared with the runtime; [`drop`]: the drop reasons;
//!   [`gen_ts`]: the TypeScript module generated from both.
//!
//! State is per instance ([`Plane`]); nothing is global, so several planes (one per worker) can
//! run side by side. Sealing and opening happen in place: a frame is framed straight into its
//! send record, behind the room the transport header needs, and sealed there; a datagram is
//! opened where it was received. docs/architecture.md describes the whole frame path.

pub mod dedup;
mod deferred;
pub mod drop;
pub mod fib;
pub mod forward;
pub mod gen_ts;
pub mod layout;
pub mod origin;

use std::collections::BTreeMap;

use crate::frame::{Kind, HEADER_LEN, MAX_FRAME_PAYLOAD};
use crate::noise::wire::{padded_len, TAG_LEN, TRANSPORT_HEADER_LEN, TRANSPORT_MIN_LEN, TYPE_TRANSPORT};
use crate::noise::Reason;
use crate::offload::{self, complete_in_place, CoalesceOpts, Coalescer, CsumMode, GsoType, SegmentOpts, Segmenter, VnetHdr, VNET_HDR_LEN};
use crate::route::{NodeId, BROADCAST, INVALID, SPREAD};
use crate::session::{batch, Device, PeerId, Verdict};

pub use dedup::DedupSet;
pub use drop::Drop;
pub use fib::{L2Fib, Learned};
pub use forward::{decide, Decision, Forward, Inner, Routes};
pub use layout::{Ev, Hs, Mode};
use layout::*;

/// A peer's UDP endpoint as the send records carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// 4 or 6.
    pub family: u8,
    /// UDP port.
    pub port: u16,
    /// Address bytes (IPv4: the first 4).
    pub addr: [u8; 16],
}

/// Edge settings of a plane. Without them (host mode, e.g. a supernode) every authenticated
/// plaintext goes to the runtime as an [`Ev::Plain`] event.
#[derive(Clone, Copy, Debug)]
pub struct EdgeConfig {
    /// This node's NodeID.
    pub me: NodeId,
    /// TTL of the frames this node sends (`DefaultTTL`).
    pub default_ttl: u8,
    /// `L2FIBTimeout`, seconds.
    pub fib_timeout: f64,
    /// `DupCheckTimeout`, seconds.
    pub dedup_timeout: f64,
    /// Emit [`Ev::LogSend`] / [`Ev::LogDeliver`] (the `normal` log category is on).
    pub log_normal: bool,
    /// Emit [`Ev::LogForward`] (the `transit` log category is on).
    pub log_transit: bool,
}

#[derive(Clone, Default)]
struct PeerInfo {
    node: Option<NodeId>,
    is_super: bool,
    endpoint: Option<Endpoint>,
    rx: u32,
    tx: u32,
    rx_seen: bool,
    touched: bool,
}

/// The output areas of one batch (see [`layout`]).
#[derive(Default)]
pub struct Output {
    /// Send areas, `[0]` IPv4, `[1]` IPv6: UDP records.
    pub send: [Vec<u8>; 2],
    /// Records in each send area.
    pub send_count: [u32; 2],
    /// TAP records.
    pub tap: Vec<u8>,
    /// Records in `tap`.
    pub tap_count: u32,
    /// Event records.
    pub events: Vec<u8>,
    /// Events in `events`.
    pub event_count: u32,
    /// Frames taken from the interface.
    pub from_iface: u32,
    /// Messages forwarded.
    pub forwarded: u32,
    /// TAP offloads: super-frames read from the interface (segmented before sealing).
    pub super_in: u32,
    /// TAP offloads: super-frames written to the interface (segments coalesced).
    pub super_out: u32,
    /// AEAD left to worker threads (only with [`Plane::set_defer_aead`]).
    pub jobs: deferred::Jobs,
}

impl Output {
    /// Empties every area (capacity is kept).
    pub fn clear(&mut self) {
        for s in &mut self.send {
            s.clear();
        }
        self.send_count = [0, 0];
        self.tap.clear();
        self.tap_count = 0;
        self.events.clear();
        self.event_count = 0;
        self.from_iface = 0;
        self.forwarded = 0;
        self.super_in = 0;
        self.super_out = 0;
        self.jobs.clear();
    }
}

/// Fields of an event header; unset ones are written as zero / [`NO_PEER`].
#[derive(Clone, Copy)]
struct EvHead {
    ty: Ev,
    kind: u8,
    reason: u16,
    peer: u32,
    src: u16,
    dst: u16,
    from: u16,
    node: u16,
    aux: u16,
    max: u16,
    size: u32,
}

impl EvHead {
    fn new(ty: Ev) -> EvHead {
        EvHead { ty, kind: 0, reason: 0, peer: NO_PEER, src: 0, dst: 0, from: 0, node: 0, aux: 0, max: 0, size: 0 }
    }
}

fn push_event(out: &mut Output, h: EvHead, payload: &[u8]) {
    let e = &mut out.events;
    let at = e.len();
    e.resize(at + EV_HEADER, 0);
    let b = &mut e[at..];
    b[EV_TYPE] = h.ty as u8;
    b[EV_KIND] = h.kind;
    b[EV_REASON..EV_REASON + 2].copy_from_slice(&h.reason.to_le_bytes());
    b[EV_PEER..EV_PEER + 4].copy_from_slice(&h.peer.to_le_bytes());
    b[EV_SRC..EV_SRC + 2].copy_from_slice(&h.src.to_le_bytes());
    b[EV_DST..EV_DST + 2].copy_from_slice(&h.dst.to_le_bytes());
    b[EV_FROM..EV_FROM + 2].copy_from_slice(&h.from.to_le_bytes());
    b[EV_NODE..EV_NODE + 2].copy_from_slice(&h.node.to_le_bytes());
    b[EV_LEN..EV_LEN + 4].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    b[EV_AUX..EV_AUX + 2].copy_from_slice(&h.aux.to_le_bytes());
    b[EV_MAX..EV_MAX + 2].copy_from_slice(&h.max.to_le_bytes());
    b[EV_SIZE..EV_SIZE + 4].copy_from_slice(&h.size.to_le_bytes());
    e.extend_from_slice(payload);
    out.event_count += 1;
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Where one record of a UDP batch lies (layout `[len u16 BE][port u16 BE][address 16][datagram]`,
/// [`UDP_REC`] bytes before the datagram).
#[derive(Clone, Copy)]
struct UdpRecord {
    /// The record's first byte.
    rec: usize,
    /// The datagram's first byte.
    at: usize,
    /// The datagram's length.
    len: usize,
}

impl UdpRecord {
    /// The record at `off` of a UDP batch, or None at the end of the batch or where a record's
    /// datagram would run past it (the rest of the batch is then ignored, as the native reader
    /// never writes one).
    fn at(input: &[u8], off: usize) -> Option<UdpRecord> {
        if off + UDP_REC > input.len() {
            return None;
        }
        let len = be16(input, off) as usize;
        let at = off + UDP_REC;
        (at + len <= input.len()).then_some(UdpRecord { rec: off, at, len })
    }

    /// Offset of the next record.
    fn next(&self) -> usize {
        self.at + self.len
    }

    /// The sender's endpoint (an IPv4 address keeps only its first 4 bytes).
    fn source(&self, input: &[u8], family: u8) -> Endpoint {
        let mut src = Endpoint { family, port: be16(input, self.rec + 2), addr: [0u8; 16] };
        src.addr.copy_from_slice(&input[self.rec + 4..self.rec + 20]);
        if family == 4 {
            src.addr[4..].fill(0);
        }
        src
    }
}

/// Whether an Ethernet frame (untagged or with one VLAN tag) carries TCP over IPv4 or IPv6: a
/// cheap pre-check for coalescing, which parses properly.
fn is_tcp(f: &[u8]) -> bool {
    let (t, l3) = match ethertype(f) {
        0x8100 if f.len() >= 18 => (be16(f, 16), 18),
        t => (t, 14),
    };
    match t {
        0x0800 => f.len() > l3 + 9 && f[l3 + 9] == 6,
        0x86dd => f.len() > l3 + 6 && f[l3 + 6] == 6,
        _ => false,
    }
}

fn ethertype(frame: &[u8]) -> u16 {
    if frame.len() >= 14 {
        be16(frame, 12)
    } else {
        0
    }
}

/// TAP offload settings of a plane ([`Plane::set_tap_offload`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapOffload {
    /// The TAP was opened with `IFF_VNET_HDR`: TAP records in both directions carry a
    /// `virtio_net_hdr` (crate::offload::vnet).
    pub vnet: bool,
    /// The interface's L3 MTU in bytes: TSO super-frames are cut to segments of at most this
    /// IP packet size before they are sealed.
    pub mtu: usize,
}

/// Why [`Plane::process`] refused a whole batch (never for a bad packet: those are drops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// Unknown mode code.
    BadMode,
    /// A UDP batch with a family other than 4 or 6.
    BadFamily,
}

/// The data plane of one WireGuard device: peer ↔ NodeID map, endpoints, routes, L2FIB and
/// flood filter. Per instance; drives a [`Device`] it is handed on every call.
pub struct Plane {
    edge: Option<EdgeConfig>,
    routes: Routes,
    fib: L2Fib,
    dedup: DedupSet,
    peers: Vec<PeerInfo>,
    /// Edge peers by NodeID (supernode sessions are not in here), ascending for floods.
    by_node: BTreeMap<NodeId, PeerId>,
    touched: Vec<PeerId>,
    hops: Vec<NodeId>,
    scratch: Vec<u8>,
    /// Index of the UDP record being processed in its batch (`u32::MAX` outside a UDP batch):
    /// Control and Plain events carry it in `size`, so the runtime can find the datagram's
    /// kernel receive time (docs/routing.md §Wire timestamps).
    rx_rec: u32,
    offload: TapOffload,
    /// One segment of a super-frame being sent (reused).
    seg: Vec<u8>,
    /// GRO state and the TAP area it writes (swapped with `Output::tap`).
    gro: Coalescer,
    gro_out: Vec<u8>,
    /// TCP frames delivered in this batch (with offloads: coalescing is only tried for 2+).
    tap_tcp: u32,
    /// Deferred AEAD (worker threads): switch and the UDP batch waiting for its opens.
    defer: deferred::Defer,
}

impl Default for Plane {
    fn default() -> Self {
        Plane::new()
    }
}

impl Plane {
    /// A plane in host mode with no peers and an empty route table.
    pub fn new() -> Plane {
        Plane {
            edge: None,
            routes: Routes::empty(),
            fib: L2Fib::new(0.0),
            dedup: DedupSet::new(0.0),
            peers: Vec::new(),
            by_node: BTreeMap::new(),
            touched: Vec::new(),
            hops: Vec::new(),
            scratch: vec![0u8; 65_536 + 256],
            rx_rec: u32::MAX,
            offload: TapOffload::default(),
            seg: Vec::new(),
            // Partial checksums: the coalescer verifies every segment before merging it, and a
            // receiving kernel skips the sum for CHECKSUM_PARTIAL on local delivery (it completes
            // it if the frame is forwarded on).
            gro: Coalescer::new(CoalesceOpts { csum: CsumMode::Partial, verify_csum: true, ..CoalesceOpts::default() }),
            gro_out: Vec::new(),
            tap_tcp: 0,
            defer: deferred::Defer::default(),
        }
    }

    /// Sets the TAP offload mode: with `vnet`, TAP input records carry a vnet header and may be
    /// super-frames (segmented here to `mtu`-sized IP packets with their own IDs, lengths and
    /// checksums), and delivered frames leave with a vnet header, consecutive TCP segments of a
    /// flow coalesced (GRO). Source: docs/architecture.md, crate::offload.
    pub fn set_tap_offload(&mut self, o: TapOffload) {
        self.offload = o;
    }

    /// The TAP offload mode.
    pub fn tap_offload(&self) -> TapOffload {
        self.offload
    }

    /// Switches to edge mode (or changes its settings; the L2FIB and flood filter restart when
    /// their timeouts change).
    pub fn configure_edge(&mut self, cfg: EdgeConfig) {
        let old = self.edge.replace(cfg);
        if !matches!(old, Some(o) if o.fib_timeout == cfg.fib_timeout) {
            self.fib = L2Fib::new(cfg.fib_timeout);
        }
        if !matches!(old, Some(o) if o.dedup_timeout == cfg.dedup_timeout) {
            self.dedup = DedupSet::new(cfg.dedup_timeout);
        }
    }

    /// The edge settings, if in edge mode.
    pub fn edge(&self) -> Option<&EdgeConfig> {
        self.edge.as_ref()
    }

    /// Replaces the route table; the old one still counts for relayed frames for a grace period
    /// ([`Routes::replacing`], [`forward::PREV_TABLE_GRACE_S`]).
    pub fn set_routes(&mut self, routes: Routes) {
        let old = std::mem::replace(&mut self.routes, Routes::empty());
        self.routes = routes.replacing(old);
    }

    /// The route table.
    pub fn routes(&mut self) -> &mut Routes {
        &mut self.routes
    }

    fn info(&mut self, id: PeerId) -> &mut PeerInfo {
        if self.peers.len() <= id {
            self.peers.resize(id + 1, PeerInfo::default());
        }
        &mut self.peers[id]
    }

    /// Ties WireGuard peer `id` to NodeID `node` (`is_super`: a supernode session, which is never
    /// a next hop). A later call for the same NodeID takes it over.
    pub fn set_peer(&mut self, id: PeerId, node: NodeId, is_super: bool) {
        let p = self.info(id);
        p.node = Some(node);
        p.is_super = is_super;
        if !is_super {
            self.by_node.insert(node, id);
        }
    }

    /// Forgets a peer (removed from the device).
    pub fn remove_peer(&mut self, id: PeerId) {
        if let Some(p) = self.peers.get_mut(id) {
            if let (Some(n), false) = (p.node, p.is_super) {
                if self.by_node.get(&n) == Some(&id) {
                    self.by_node.remove(&n);
                }
            }
            *p = PeerInfo::default();
        }
    }

    /// Sets (or with `None` clears) where datagrams for peer `id` go.
    pub fn set_endpoint(&mut self, id: PeerId, ep: Option<Endpoint>) {
        self.info(id).endpoint = ep;
    }

    /// The endpoint of peer `id`.
    pub fn endpoint(&self, id: PeerId) -> Option<Endpoint> {
        self.peers.get(id).and_then(|p| p.endpoint)
    }

    /// Housekeeping: expires L2FIB entries (returns how many) and old flood digests.
    pub fn sweep(&mut self, now: f64) -> usize {
        self.dedup.sweep(now);
        self.fib.sweep(now)
    }

    /// Number of L2FIB entries.
    pub fn fib_len(&self) -> usize {
        self.fib.len()
    }

    /// Processes one batch of `mode` records in `input` (see [`layout`]); `family` (4 or 6) is the
    /// UDP socket's for [`Mode::Udp`]. Results go to `out`, which is cleared first. Records are
    /// parsed until one would run past the end of `input` (a cut record is ignored).
    pub fn process(
        &mut self,
        dev: &mut Device,
        mode: Mode,
        input: &mut [u8],
        family: u8,
        now: f64,
        out: &mut Output,
    ) -> Result<(), BatchError> {
        out.clear();
        self.rx_rec = u32::MAX;
        self.tap_tcp = 0;
        self.defer.pending = None;
        match mode {
            Mode::Tap => self.tap_batch(dev, input, now, out),
            Mode::Udp => {
                if family != 4 && family != 6 {
                    return Err(BatchError::BadFamily);
                }
                if self.defer.on && self.udp_prepare(dev, input, family, now, out) {
                    // Opened elsewhere, then finished by Plane::finish_open.
                    return Ok(());
                }
                self.udp_batch(dev, input, family, now, out);
                self.rx_rec = u32::MAX;
                if self.offload.vnet {
                    self.coalesce_tap(out);
                }
            }
            Mode::Plain => self.plain_batch(dev, input, now, out),
        }
        self.report_peers(out);
        Ok(())
    }

    fn report_peers(&mut self, out: &mut Output) {
        for i in 0..self.touched.len() {
            let id = self.touched[i];
            let p = &mut self.peers[id];
            let mut pl = [0u8; 8];
            pl[..4].copy_from_slice(&p.rx.to_le_bytes());
            pl[4..].copy_from_slice(&p.tx.to_le_bytes());
            let mut h = EvHead::new(Ev::Peer);
            h.peer = id as u32;
            h.kind = p.rx_seen as u8;
            h.node = p.node.unwrap_or(INVALID);
            p.rx = 0;
            p.tx = 0;
            p.rx_seen = false;
            p.touched = false;
            push_event(out, h, &pl);
        }
        self.touched.clear();
    }

    fn touch(&mut self, id: PeerId) -> &mut PeerInfo {
        self.info(id);
        let p = &mut self.peers[id];
        if !p.touched {
            p.touched = true;
            self.touched.push(id);
        }
        p
    }

    fn drop_ev(&self, out: &mut Output, d: Drop, node: NodeId, hdr: Option<Inner>, from: NodeId, size: usize) {
        let mut h = EvHead::new(Ev::Drop);
        h.reason = d.code() as u16;
        h.node = node;
        h.from = from;
        h.size = size as u32;
        if let Some(i) = hdr {
            h.kind = i.kind;
            h.src = i.src;
            h.dst = i.dst;
        }
        if d == Drop::FrameTooLarge {
            h.max = MAX_FRAME_PAYLOAD as u16;
        }
        push_event(out, h, &[]);
    }

    // ---- sending ------------------------------------------------------------------------------

    /// Frames a plaintext of `plen` bytes (written by `fill` into the slice it is given) straight
    /// into a send record for peer `id` and seals it there. No endpoint, no session (queued via
    /// an event) and seal failures are reported as events.
    fn send_plain(
        &mut self,
        dev: &mut Device,
        out: &mut Output,
        id: PeerId,
        plen: usize,
        now: f64,
        fill: impl FnOnce(&mut [u8]),
    ) {
        let node = self.peers.get(id).and_then(|p| p.node).unwrap_or(INVALID);
        let Some(ep) = self.peers.get(id).and_then(|p| p.endpoint) else {
            return self.drop_ev(out, Drop::NoEndpoint, node, None, INVALID, plen);
        };
        let fam = (ep.family == 6) as usize;
        let area = &mut out.send[fam];
        let start = area.len();
        // Record header (whose last 16 bytes double as the core's batch-slot header while
        // sealing), transport header, padded plaintext, tag.
        let msg_len = TRANSPORT_HEADER_LEN + padded_len(plen) + TAG_LEN;
        area.resize(start + UDP_REC + msg_len, 0);
        let slot_at = start + UDP_REC - batch::MSG_OFFSET;
        let pt = start + UDP_REC + TRANSPORT_HEADER_LEN;
        fill(&mut area[pt..pt + plen]);
        let slot = &mut area[slot_at..];
        slot[batch::LEN_OFFSET..batch::LEN_OFFSET + 4].copy_from_slice(&(plen as u32).to_le_bytes());
        slot[batch::PEER_OFFSET..batch::PEER_OFFSET + 4].copy_from_slice(&(id as u32).to_le_bytes());
        let stride = slot.len();
        let st = if self.defer.on {
            deferred::seal_slot(dev, slot, now, &mut out.jobs.seal[fam], pt)
        } else {
            dev.seal_batch(slot, stride, 1, now)
        };
        let status = le32(&area[slot_at..], batch::LEN_OFFSET);
        match st {
            Ok(s) if s.ok == 1 => {
                let n = status as usize;
                area.truncate(start + UDP_REC + n);
                area[start..start + 2].copy_from_slice(&(n as u16).to_be_bytes());
                area[start + 2..start + 4].copy_from_slice(&ep.port.to_be_bytes());
                area[start + 4..start + 20].copy_from_slice(&ep.addr);
                out.send_count[fam] += 1;
                self.touch(id).tx += n as u32;
            }
            _ => {
                let reason = if status & batch::STATUS_ERROR != 0 {
                    Reason::from_code(status as u8).unwrap_or(Reason::BufferTooSmall)
                } else {
                    Reason::BufferTooSmall
                };
                if reason == Reason::NoSession {
                    let mut h = EvHead::new(Ev::Queue);
                    h.peer = id as u32;
                    h.node = node;
                    let plain = area[pt..pt + plen].to_vec();
                    area.truncate(start);
                    push_event(out, h, &plain);
                } else {
                    area.truncate(start);
                    let mut h = EvHead::new(Ev::Drop);
                    h.reason = Drop::SealFailed.code() as u16;
                    h.node = node;
                    h.peer = id as u32;
                    h.aux = reason.code() as u16;
                    h.size = plen as u32;
                    push_event(out, h, &[]);
                }
            }
        }
    }

    /// Sends an Etherguard message (header + payload given apart; `ttl` replaces the header's) to
    /// the edge peer with NodeID `node`.
    fn send_to_node(
        &mut self,
        dev: &mut Device,
        out: &mut Output,
        node: NodeId,
        header: &[u8; HEADER_LEN],
        payload: &[u8],
        now: f64,
    ) {
        let Some(&id) = self.by_node.get(&node) else {
            let i = Inner { kind: header[0], ttl: header[1], dst: be16(header, 2), src: be16(header, 4) };
            return self.drop_ev(out, Drop::NotAPeer, node, Some(i), INVALID, payload.len());
        };
        self.send_plain(dev, out, id, HEADER_LEN + payload.len(), now, |b| {
            b[..HEADER_LEN].copy_from_slice(header);
            b[HEADER_LEN..].copy_from_slice(payload);
        });
    }

    // ---- batches ------------------------------------------------------------------------------

    fn tap_batch(&mut self, dev: &mut Device, input: &mut [u8], now: f64, out: &mut Output) {
        let Some(cfg) = self.edge else { return };
        let mut off = 0;
        while off + TAP_REC <= input.len() {
            let len = be16(input, off) as usize;
            let at = off + TAP_REC;
            if at + len > input.len() {
                break;
            }
            off = at + len;
            if !self.offload.vnet {
                self.tap_frame(dev, &cfg, &input[at..at + len], now, out);
                continue;
            }
            self.tap_vnet(dev, &cfg, &mut input[at..at + len], now, out);
        }
    }

    /// One record from a TAP with vnet headers: a plain frame goes on as it is; a super-frame (or
    /// a frame whose checksum the kernel left to the device) is segmented first, each segment
    /// sealed as its own frame. The consecutive segments of one super-frame to one peer seal to
    /// equal sizes, so the UDP writer sends them as one GSO message.
    fn tap_vnet(&mut self, dev: &mut Device, cfg: &EdgeConfig, rec: &mut [u8], now: f64, out: &mut Output) {
        let hdr = match VnetHdr::parse(rec) {
            Ok(h) => h,
            Err(e) => return self.offload_drop(out, e, rec.len()),
        };
        let frame = &mut rec[VNET_HDR_LEN..];
        if hdr.gso_type == GsoType::None {
            // One frame (checksum completed in place when the kernel left it partial), checked
            // against the frame limit as without offloads.
            if let Err(e) = complete_in_place(&hdr, frame) {
                return self.offload_drop(out, e, frame.len());
            }
            return self.tap_frame(dev, cfg, frame, now, out);
        }
        let frame = &*frame;
        let mtu = self.offload.mtu;
        let s = match Segmenter::new(&hdr, frame, SegmentOpts { mtu, csum: CsumMode::Full, vnet: false }) {
            Ok(s) => s,
            Err(e) => return self.offload_drop(out, e, frame.len()),
        };
        out.super_in += 1;
        let mut seg = std::mem::take(&mut self.seg);
        for i in 0..s.count() {
            let n = s.len(i);
            if seg.len() < n {
                seg.resize(n, 0);
            }
            match s.write(i, &mut seg) {
                Ok(n) => self.tap_frame(dev, cfg, &seg[..n], now, out),
                Err(e) => self.offload_drop(out, e, n),
            }
        }
        self.seg = seg;
    }

    fn offload_drop(&self, out: &mut Output, e: offload::OffloadError, size: usize) {
        let mut h = EvHead::new(Ev::Drop);
        h.reason = Drop::OffloadRefused.code() as u16;
        h.node = INVALID;
        h.size = size as u32;
        push_event(out, h, e.to_string().as_bytes());
    }

    /// With offloads the TAP area already holds `[len][zero vnet header][frame]` records; when the
    /// batch delivered two or more TCP frames, consecutive in-order segments of one flow are merged
    /// into super-frames (GRO) in a second area, which becomes the TAP area.
    fn coalesce_tap(&mut self, out: &mut Output) {
        if self.tap_tcp < 2 {
            return;
        }
        let mut dst = std::mem::take(&mut self.gro_out);
        // Merging only removes headers: the input always fits.
        dst.resize(out.tap.len(), 0);
        match self.gro.coalesce_vnet_records(&out.tap, &mut dst) {
            Ok(r) => {
                dst.truncate(r.bytes);
                // The old area becomes the next batch's output buffer.
                self.gro_out = std::mem::replace(&mut out.tap, dst);
                out.tap_count = r.records as u32;
                out.super_out += r.super_frames as u32;
            }
            Err(e) => {
                // Cannot happen with records the plane wrote itself; the frames go out as they
                // are (each with its zero vnet header), and the refusal is reported.
                self.gro_out = dst;
                self.offload_drop(out, e, 0);
            }
        }
    }

    /// One Ethernet frame from the interface: L2FIB lookup, framed and sealed for its next hop(s).
    fn tap_frame(&mut self, dev: &mut Device, cfg: &EdgeConfig, frame: &[u8], now: f64, out: &mut Output) {
        let cfg = *cfg;
        let len = frame.len();
        if len < 14 {
            return self.drop_ev(out, Drop::InterfaceRunt, INVALID, None, INVALID, len);
        }
        if len > MAX_FRAME_PAYLOAD {
            return self.drop_ev(out, Drop::FrameTooLarge, INVALID, None, INVALID, len);
        }
        let dst = self.fib.lookup(frame, now).unwrap_or(BROADCAST);
        out.from_iface += 1;
        if cfg.log_normal {
            let mut h = EvHead::new(Ev::LogSend);
            h.dst = dst;
            h.src = cfg.me;
            h.size = len as u32;
            h.aux = ethertype(frame);
            push_event(out, h, &[]);
        }
        let mut header = [0u8; HEADER_LEN];
        header[0] = Kind::NormalPacket as u8;
        header[1] = cfg.default_ttl;
        header[2..4].copy_from_slice(&dst.to_be_bytes());
        header[4..6].copy_from_slice(&cfg.me.to_be_bytes());
        header[6..8].copy_from_slice(&(len as u16).to_be_bytes());
        if dst == BROADCAST {
            let mut hops = std::mem::take(&mut self.hops);
            hops.clear();
            hops.extend_from_slice(self.routes.broadcast_targets(cfg.me));
            for &nh in &hops {
                self.send_to_node(dev, out, nh, &header, frame, now);
            }
            self.hops = hops;
        } else {
            match self.routes.next_hop(cfg.me, dst) {
                None => {
                    let i = Inner { kind: header[0], ttl: header[1], dst, src: cfg.me };
                    self.drop_ev(out, Drop::NoRoute, dst, Some(i), INVALID, len);
                }
                Some(nh) => self.send_to_node(dev, out, nh, &header, frame, now),
            }
        }
    }

    fn plain_batch(&mut self, dev: &mut Device, input: &mut [u8], now: f64, out: &mut Output) {
        let mut off = 0;
        while off + PLAIN_REC <= input.len() {
            let id = le32(input, off) as usize;
            let len = le32(input, off + 4) as usize;
            let at = off + PLAIN_REC;
            if len > input.len() - at {
                break;
            }
            off = at + len;
            let plain = &input[at..at + len];
            if len > crate::noise::wire::MAX_PLAINTEXT_LEN {
                let node = self.peers.get(id).and_then(|p| p.node).unwrap_or(INVALID);
                self.drop_ev(out, Drop::FrameTooLarge, node, None, INVALID, len.saturating_sub(HEADER_LEN));
                continue;
            }
            if dev.peer(id).is_none() {
                let mut h = EvHead::new(Ev::Drop);
                h.reason = Drop::SealFailed.code() as u16;
                h.peer = id as u32;
                h.node = INVALID;
                h.aux = Reason::BadPeer.code() as u16;
                push_event(out, h, &[]);
                continue;
            }
            self.send_plain(dev, out, id, len, now, |b| b.copy_from_slice(plain));
        }
    }

    fn udp_batch(&mut self, dev: &mut Device, input: &mut [u8], family: u8, now: f64, out: &mut Output) {
        let mut off = 0;
        while let Some(r) = UdpRecord::at(input, off) {
            let UdpRecord { rec, at, len } = r;
            self.rx_rec = self.rx_rec.wrapping_add(1);
            off = r.next();
            let src = r.source(input, family);
            if len >= TRANSPORT_MIN_LEN && le32(input, at) == TYPE_TRANSPORT {
                // Open in place; the record header's last 16 bytes serve as the batch-slot header.
                let slot_at = at - batch::MSG_OFFSET;
                input[slot_at..slot_at + 4].copy_from_slice(&(len as u32).to_le_bytes());
                let slot = &mut input[slot_at..at + len];
                let stride = slot.len();
                let _ = dev.open_batch(slot, stride, 1, now);
                let status = le32(input, slot_at);
                let peer = le32(input, slot_at + batch::PEER_OFFSET);
                if status & batch::STATUS_ERROR != 0 {
                    self.wire_drop(out, Reason::from_code(status as u8), peer, &src, len);
                    continue;
                }
                let id = peer as PeerId;
                self.received(out, id, &src, len);
                let n = status as usize;
                if n > 0 {
                    let pt = at + TRANSPORT_HEADER_LEN;
                    self.plaintext(dev, out, id, &input[pt..pt + n], now);
                }
            } else {
                self.handshake(dev, out, rec, input, &src, len, now);
            }
        }
    }

    fn wire_drop(&self, out: &mut Output, r: Option<Reason>, peer: u32, src: &Endpoint, len: usize) {
        let mut h = EvHead::new(Ev::Drop);
        h.reason = Drop::Wireguard.code() as u16;
        h.aux = r.map_or(0, |r| r.code() as u16);
        h.peer = peer;
        h.kind = src.family;
        h.size = len as u32;
        let mut pl = [0u8; 18];
        pl[..2].copy_from_slice(&src.port.to_be_bytes());
        pl[2..].copy_from_slice(&src.addr);
        push_event(out, h, &pl);
    }

    /// Something authenticated arrived from `id` at `src`: counts it and follows the peer to a new
    /// endpoint (roaming; static peers too, only their configured address is kept by the runtime).
    fn received(&mut self, out: &mut Output, id: PeerId, src: &Endpoint, bytes: usize) {
        let p = self.touch(id);
        p.rx += bytes as u32;
        p.rx_seen = true;
        if p.endpoint != Some(*src) {
            p.endpoint = Some(*src);
            let mut h = EvHead::new(Ev::Roam);
            h.peer = id as u32;
            h.kind = src.family;
            h.node = p.node.unwrap_or(INVALID);
            let mut pl = [0u8; 18];
            pl[..2].copy_from_slice(&src.port.to_be_bytes());
            pl[2..].copy_from_slice(&src.addr);
            push_event(out, h, &pl);
        }
    }

    /// A handshake initiation / response / cookie reply (or anything that is not transport data):
    /// processed by the device, any reply sent back to the sender.
    #[allow(clippy::too_many_arguments)]
    fn handshake(&mut self, dev: &mut Device, out: &mut Output, rec: usize, input: &[u8], src: &Endpoint, len: usize, now: f64) {
        let msg = &input[rec + UDP_REC..rec + UDP_REC + len];
        // The cookie is keyed by the sender's address: any stable bytes of it will do.
        let mut key = [0u8; 19];
        key[0] = src.family;
        key[1..3].copy_from_slice(&src.port.to_be_bytes());
        key[3..].copy_from_slice(&src.addr);
        let mut scratch = std::mem::take(&mut self.scratch);
        let (peer, v) = dev.decapsulate(msg, &key, now, false, &mut scratch);
        let (reply, sub) = match v {
            Verdict::WriteToNetwork(n) => (n, Hs::Response),
            Verdict::CookieReply { len, .. } => (len, Hs::CookieReply),
            Verdict::SessionReady(n) => (n, Hs::SessionReady),
            Verdict::Nothing | Verdict::Keepalive | Verdict::Data(_) => (0, Hs::Consumed),
            Verdict::Err(r) => {
                self.scratch = scratch;
                return self.wire_drop(out, Some(r), peer.map_or(NO_PEER, |p| p as u32), src, len);
            }
        };
        if reply > 0 {
            let fam = (src.family == 6) as usize;
            let area = &mut out.send[fam];
            area.extend_from_slice(&(reply as u16).to_be_bytes());
            area.extend_from_slice(&src.port.to_be_bytes());
            area.extend_from_slice(&src.addr);
            area.extend_from_slice(&scratch[..reply]);
            out.send_count[fam] += 1;
        }
        self.scratch = scratch;
        if let Some(id) = peer {
            self.received(out, id, src, len);
            self.touch(id).tx += reply as u32;
        }
        let mut h = EvHead::new(Ev::Handshake);
        h.kind = sub as u8;
        h.peer = peer.map_or(NO_PEER, |p| p as u32);
        h.node = peer.and_then(|p| self.peers.get(p)).and_then(|p| p.node).unwrap_or(INVALID);
        push_event(out, h, &[]);
    }

    /// An authenticated, decrypted transport plaintext from peer `id`.
    fn plaintext(&mut self, dev: &mut Device, out: &mut Output, id: PeerId, plain: &[u8], now: f64) {
        let (node, is_super) = match self.peers.get(id) {
            Some(PeerInfo { node: Some(n), is_super, .. }) => (*n, *is_super),
            _ => {
                let mut h = EvHead::new(Ev::Drop);
                h.reason = Drop::UnknownPeerData.code() as u16;
                h.peer = id as u32;
                h.size = plain.len() as u32;
                return push_event(out, h, &[]);
            }
        };
        let Some(cfg) = self.edge else {
            let mut h = EvHead::new(Ev::Plain);
            h.size = self.rx_rec;
            h.peer = id as u32;
            h.from = node;
            return push_event(out, h, plain);
        };
        if plain.len() < HEADER_LEN || HEADER_LEN + be16(plain, 6) as usize > plain.len() {
            return self.drop_ev(out, Drop::Malformed, node, None, node, plain.len());
        }
        let h = Inner { kind: plain[0], ttl: plain[1], dst: be16(plain, 2), src: be16(plain, 4) };
        let hlen = be16(plain, 6) as usize;
        let payload = &plain[HEADER_LEN..HEADER_LEN + hlen];
        self.routes.expire_previous(now);
        let d = decide(h, cfg.me, node, is_super, &self.routes);
        if let Some((why, n)) = d.drop {
            self.drop_ev(out, why, n, Some(h), node, hlen);
        }
        // Pings (TTL 0, one hop, timestamped) are measurements, not floods: never deduplicated.
        if h.dst == SPREAD
            && h.kind != Kind::PingPacket as u8
            && (d.forward == Forward::Flood || d.control || d.deliver)
            && self.dedup.check(h.kind, h.src, payload, now)
        {
            // A duplicate flood is dropped whole: neither processed again nor forwarded again.
            return self.drop_ev(out, Drop::Duplicate, h.src, Some(h), node, hlen);
        }
        if d.deliver {
            if hlen <= 12 {
                self.drop_ev(out, Drop::FrameTooShort, h.src, Some(h), node, hlen);
            } else {
                match self.fib.learn(payload, h.src, now) {
                    Learned::Nothing => {}
                    l => {
                        let mut e = EvHead::new(Ev::Fib);
                        e.node = h.src;
                        if let Learned::Moved(old) = l {
                            e.kind = 1;
                            e.from = old;
                        }
                        push_event(out, e, &payload[6..12]);
                    }
                }
                if cfg.log_normal {
                    let mut e = EvHead::new(Ev::LogDeliver);
                    e.src = h.src;
                    e.dst = h.dst;
                    e.size = hlen as u32;
                    e.aux = ethertype(payload);
                    push_event(out, e, &[]);
                }
                if !self.offload.vnet {
                    out.tap.extend_from_slice(&(hlen as u16).to_be_bytes());
                    out.tap.extend_from_slice(payload);
                    out.tap_count += 1;
                } else if hlen + VNET_HDR_LEN > u16::MAX as usize {
                    // A record's length (a u16) cannot describe it with its vnet header.
                    self.drop_ev(out, Drop::InterfaceRefused, h.src, Some(h), node, hlen);
                } else {
                    out.tap.extend_from_slice(&((hlen + VNET_HDR_LEN) as u16).to_be_bytes());
                    out.tap.extend_from_slice(&[0u8; VNET_HDR_LEN]);
                    out.tap.extend_from_slice(payload);
                    out.tap_count += 1;
                    self.tap_tcp += is_tcp(payload) as u32;
                }
            }
        }
        if d.control {
            let mut e = EvHead::new(Ev::Control);
            e.size = self.rx_rec;
            e.kind = h.kind;
            e.src = h.src;
            e.dst = h.dst;
            e.from = node;
            e.peer = id as u32;
            push_event(out, e, payload);
        }
        if d.forward == Forward::None {
            return;
        }
        // A peer may send us more than we may send (an IPv6 datagram holds 20 bytes more than an
        // IPv4 one): such a frame is delivered above but not relayed, since sealing would fail.
        if hlen > MAX_FRAME_PAYLOAD {
            return self.drop_ev(out, Drop::FrameTooLarge, h.dst, Some(h), node, hlen);
        }
        let mut hops = std::mem::take(&mut self.hops);
        hops.clear();
        match d.forward {
            Forward::One(nh) => hops.push(nh),
            Forward::BroadcastSet => hops.extend_from_slice(self.routes.forward_set(cfg.me, h.src, node)),
            Forward::Flood => hops.extend(self.by_node.keys().copied().filter(|&n| n != h.src && n != node)),
            Forward::None => {}
        }
        if hops.is_empty() {
            // A leaf of the broadcast tree (or a flood with no one left): nothing is relayed,
            // so nothing is logged or counted as forwarded.
            self.hops = hops;
            return;
        }
        let ttl = h.ttl - 1;
        if cfg.log_transit {
            let mut e = EvHead::new(Ev::LogForward);
            e.src = h.src;
            e.dst = h.dst;
            e.from = node;
            e.aux = ttl as u16;
            e.kind = (d.forward == Forward::Flood) as u8;
            let list: Vec<u8> = if d.forward == Forward::Flood { Vec::new() } else { hops.iter().flat_map(|n| n.to_le_bytes()).collect() };
            push_event(out, e, &list);
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&plain[..HEADER_LEN]);
        header[1] = ttl;
        for &nh in &hops {
            self.send_to_node(dev, out, nh, &header, payload, now);
        }
        self.hops = hops;
        out.forwarded += 1;
    }
}
