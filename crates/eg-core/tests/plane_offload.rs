//! TAP offloads in the data plane (eg_core::plane with `set_tap_offload`): a TSO/USO super-frame
//! read with its vnet header is cut into MTU-sized frames before sealing (equal sealed sizes, so
//! the UDP writer can send them with GSO), and on the receiving edge consecutive TCP segments of a
//! flow leave the TAP area as one super-frame with a vnet header (GRO). Checksums are checked with
//! `csum` below, a separate byte-at-a-time RFC 1071 routine.

mod wg_common;

use eg_core::plane::layout::*;
use eg_core::plane::{Drop, EdgeConfig, Endpoint, Ev, Mode, Output, Plane, Routes, TapOffload};
use eg_core::session::{Config, Device};
use wg_common::*;

const NOW: f64 = 10.0;
const MTU: usize = 1404;

struct Node {
    dev: Device,
    plane: Plane,
}

fn ep(id: u16) -> Endpoint {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, id as u8]);
    Endpoint { family: 4, port: 1000 + id, addr }
}

fn udp_batch(from: u16, msgs: &[Vec<u8>]) -> Vec<u8> {
    let e = ep(from);
    let mut r = Vec::new();
    for m in msgs {
        r.extend_from_slice(&(m.len() as u16).to_be_bytes());
        r.extend_from_slice(&e.port.to_be_bytes());
        r.extend_from_slice(&e.addr);
        r.extend_from_slice(m);
    }
    r
}

fn records(b: &[u8], hdr: usize, count: u32) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut off = 0;
    while off < b.len() {
        let len = u16::from_be_bytes([b[off], b[off + 1]]) as usize;
        assert!(off + hdr + len <= b.len(), "record cut");
        v.push(b[off + hdr..off + hdr + len].to_vec());
        off += hdr + len;
    }
    assert_eq!(v.len() as u32, count);
    v
}

/// (reason, payload) of every drop event.
fn drops(out: &Output) -> Vec<(Drop, String)> {
    let b = &out.events;
    let mut v = Vec::new();
    let mut off = 0;
    while off + EV_HEADER <= b.len() {
        let len = u32::from_le_bytes(b[off + EV_LEN..off + EV_LEN + 4].try_into().unwrap()) as usize;
        if b[off + EV_TYPE] == Ev::Drop as u8 {
            let r = u16::from_le_bytes([b[off + EV_REASON], b[off + EV_REASON + 1]]);
            v.push((Drop::from_code(r as u8).unwrap(), String::from_utf8_lossy(&b[off + EV_HEADER..off + EV_HEADER + len]).into_owned()));
        }
        off += EV_HEADER + len;
    }
    v
}

/// Two edges, 1 and 2, with a session; both with or without TAP offloads.
fn pair(vnet1: bool, vnet2: bool) -> (Node, Node) {
    let k1 = static_key(71);
    let k2 = static_key(72);
    let rows = [(1, 2, 2), (2, 1, 1)];
    let mk = |id: u16, k: [u8; 32], other: [u8; 32], vnet: bool| {
        let mut dev = Device::new(k, Config::default(), rng(id as u64 + 900));
        let mut plane = Plane::new();
        plane.configure_edge(EdgeConfig { me: id, default_ttl: 200, fib_timeout: 30.0, dedup_timeout: 40.0, log_normal: false, log_transit: false });
        plane.set_routes(Routes::from_rows(&rows).unwrap());
        plane.set_tap_offload(TapOffload { vnet, mtu: MTU });
        let pid = dev.add_peer(other, None, 0.0).unwrap();
        plane.set_peer(pid, 3 - id, false);
        plane.set_endpoint(pid, Some(ep(3 - id)));
        Node { dev, plane }
    };
    let mut a = mk(1, k1.0, k2.1, vnet1);
    let mut b = mk(2, k2.0, k1.1, vnet2);
    let mut init = vec![0u8; 148];
    a.dev.format_initiation(0, NOW, wall(NOW), &mut init).unwrap();
    let resp = run(&mut b, Mode::Udp, &mut udp_batch(1, &[init]));
    let confirm = run(&mut a, Mode::Udp, &mut udp_batch(2, &records(&resp.send[0], UDP_REC, 1)));
    let _ = run(&mut b, Mode::Udp, &mut udp_batch(1, &records(&confirm.send[0], UDP_REC, 1)));
    assert!(a.dev.has_session(0, NOW) && b.dev.has_session(0, NOW));
    (a, b)
}

fn run(n: &mut Node, mode: Mode, input: &mut [u8]) -> Output {
    let mut out = Output::default();
    n.plane.process(&mut n.dev, mode, input, 4, NOW, &mut out).unwrap();
    out
}

/// Seals `frames` (vnet records when `vnet`) on 1 and opens what it sent on 2, as one UDP batch.
fn through(a: &mut Node, b: &mut Node, tap_in: &mut [u8]) -> (Output, Output) {
    let sent = run(a, Mode::Tap, tap_in);
    let msgs = records(&sent.send[0], UDP_REC, sent.send_count[0]);
    let got = run(b, Mode::Udp, &mut udp_batch(1, &msgs));
    (sent, got)
}

fn csum(data: &[u8], init: u32) -> u16 {
    let mut s = init;
    for c in data.chunks(2) {
        s += ((c[0] as u32) << 8) | *c.get(1).unwrap_or(&0) as u32;
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

#[derive(Clone, Copy)]
struct Spec {
    v6: bool,
    vlan: bool,
    udp: bool,
    payload: usize,
    mss: u16,
}

struct Built {
    frame: Vec<u8>,
    l3: usize,
    l4: usize,
    hdr: usize,
}

fn pseudo(f: &[u8], b: &Built, v6: bool, proto: u8, l4len: usize) -> u32 {
    let (s, e) = if v6 { (b.l3 + 8, b.l3 + 40) } else { (b.l3 + 12, b.l3 + 20) };
    let mut x = 0u32;
    for c in f[s..e].chunks(2) {
        x += ((c[0] as u32) << 8) | c[1] as u32;
    }
    x + proto as u32 + l4len as u32
}

/// A frame from `mac 02:..:01` to `02:..:02` carrying a TCP or UDP packet of `payload` bytes, the
/// L4 checksum field holding the pseudo-header sum (as the kernel leaves it for NEEDS_CSUM).
fn build(s: Spec) -> Built {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if s.vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a]);
    }
    f.extend_from_slice(if s.v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    let l3 = f.len();
    let l4h = if s.udp { 8 } else { 20 };
    let proto = if s.udp { 17 } else { 6 };
    let l4len = l4h + s.payload;
    if s.v6 {
        f.extend_from_slice(&[0x60, 0, 0, 0]);
        f.extend_from_slice(&(l4len as u16).to_be_bytes());
        f.extend_from_slice(&[proto, 64]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    } else {
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&((20 + l4len) as u16).to_be_bytes());
        f.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, proto, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2]);
        let c = csum(&f[l3..l3 + 20], 0);
        f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
    }
    let l4 = f.len();
    if s.udp {
        f.extend_from_slice(&[0x13, 0x88, 0x13, 0x89]);
        f.extend_from_slice(&(l4len as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    } else {
        f.extend_from_slice(&[0x9c, 0x40, 0x14, 0x51, 0, 0, 0x10, 0, 0, 0, 0, 7, 0x50, 0x18, 0x01, 0xf5, 0, 0, 0, 0]);
    }
    let hdr = f.len();
    f.extend((0..s.payload).map(|i| (i * 13 % 251) as u8));
    let b = Built { frame: f, l3, l4, hdr };
    let mut frame = b.frame.clone();
    let p = pseudo(&frame, &b, s.v6, proto, l4len);
    let folded = !csum(&[], p);
    let field = l4 + if s.udp { 6 } else { 16 };
    frame[field..field + 2].copy_from_slice(&folded.to_be_bytes());
    Built { frame, ..b }
}

fn vnet_rec(s: Spec, b: &Built, gso: bool) -> Vec<u8> {
    let gso_type: u8 = if !gso { 0 } else if s.udp { 5 } else if s.v6 { 4 } else { 1 };
    let mut h = vec![1u8, gso_type];
    h.extend_from_slice(&(b.hdr as u16).to_le_bytes());
    h.extend_from_slice(&(if gso { s.mss } else { 0 }).to_le_bytes());
    h.extend_from_slice(&(b.l4 as u16).to_le_bytes());
    h.extend_from_slice(&(if s.udp { 6u16 } else { 16 }).to_le_bytes());
    let mut r = ((h.len() + b.frame.len()) as u16).to_be_bytes().to_vec();
    r.extend_from_slice(&h);
    r.extend_from_slice(&b.frame);
    r
}

/// Checks a frame's IPv4 header checksum and its full L4 checksum.
fn assert_checksums(f: &[u8], b: &Built, s: Spec) {
    let proto = if s.udp { 17 } else { 6 };
    let l4len = if s.v6 {
        u16::from_be_bytes([f[b.l3 + 4], f[b.l3 + 5]]) as usize
    } else {
        assert_eq!(csum(&f[b.l3..b.l3 + 20], 0), 0, "IPv4 header checksum");
        u16::from_be_bytes([f[b.l3 + 2], f[b.l3 + 3]]) as usize - 20
    };
    assert_eq!(b.l4 + l4len, f.len(), "IP length matches the frame");
    let p = pseudo(f, b, s.v6, proto, l4len);
    assert_eq!(csum(&f[b.l4..], p), 0, "L4 checksum verifies");
}

#[test]
fn a_tso_super_frame_is_cut_to_the_mtu_sealed_in_equal_sizes_and_arrives_as_valid_segments() {
    for (v6, vlan) in [(false, false), (false, true), (true, false), (true, true)] {
        let s = Spec { v6, vlan, udp: false, payload: 9001, mss: 1448 };
        let b = build(s);
        let (mut a, mut c) = pair(true, false);
        let (sent, got) = through(&mut a, &mut c, &mut vnet_rec(s, &b, true));
        assert!(drops(&sent).is_empty(), "{:?}", drops(&sent));
        assert_eq!(sent.super_in, 1);
        // The MTU, not the sender's gso_size, bounds the segments: 1404 − IP − TCP headers.
        let seg = (MTU - if v6 { 40 } else { 20 } - 20).min(1448);
        let n = 9001usize.div_ceil(seg);
        assert_eq!(sent.send_count[0] as usize, n);
        let sizes: Vec<usize> = records(&sent.send[0], UDP_REC, sent.send_count[0]).iter().map(|m| m.len()).collect();
        assert!(sizes[..n - 1].iter().all(|&x| x == sizes[0]), "all but the last seal to one size (GSO runs): {sizes:?}");
        // Without offloads on the receiver: n ordinary frames, each with valid checksums.
        let frames = records(&got.tap, TAP_REC, got.tap_count);
        assert_eq!(frames.len(), n);
        let mut payload = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            assert_checksums(f, &b, s);
            assert_eq!(f[..b.l3], b.frame[..b.l3], "Ethernet/VLAN header copied");
            if !v6 {
                assert_eq!(u16::from_be_bytes([f[b.l3 + 4], f[b.l3 + 5]]), 0x1234 + i as u16, "IPv4 ID counts up");
            }
            let seq = u32::from_be_bytes(f[b.l4 + 4..b.l4 + 8].try_into().unwrap());
            assert_eq!(seq, 0x1000 + (i * seg) as u32, "sequence number");
            payload.extend_from_slice(&f[b.hdr..]);
        }
        assert_eq!(payload, b.frame[b.hdr..], "payload in order");
    }
}

#[test]
fn consecutive_tcp_segments_are_written_to_a_vnet_tap_as_one_super_frame() {
    for (v6, vlan) in [(false, false), (true, true)] {
        let s = Spec { v6, vlan, udp: false, payload: 20_001, mss: 1448 };
        let b = build(s);
        let (mut a, mut c) = pair(true, true);
        let (_, got) = through(&mut a, &mut c, &mut vnet_rec(s, &b, true));
        assert!(drops(&got).is_empty(), "{:?}", drops(&got));
        assert_eq!(got.super_out, 1);
        let recs = records(&got.tap, TAP_REC, got.tap_count);
        assert_eq!(recs.len(), 1, "one super-frame");
        let r = &recs[0];
        let seg = (MTU - if v6 { 40 } else { 20 } - 20).min(1448);
        assert_eq!(r[0], 1, "NEEDS_CSUM");
        assert_eq!(r[1], if v6 { 4 } else { 1 }, "gso_type TCPV4/TCPV6");
        assert_eq!(u16::from_le_bytes([r[4], r[5]]) as usize, seg, "gso_size = segment payload");
        assert_eq!(u16::from_le_bytes([r[6], r[7]]) as usize, b.l4, "csum_start");
        let f = &r[10..];
        assert_eq!(f.len(), b.frame.len());
        assert_eq!(f[b.hdr..], b.frame[b.hdr..], "payload");
    }
}

#[test]
fn a_partial_checksum_frame_and_a_uso_super_frame_arrive_with_complete_checksums() {
    // UDP with NEEDS_CSUM and no GSO (what a TAP with TUN_F_CSUM hands out for UDP).
    let s = Spec { v6: false, vlan: false, udp: true, payload: 777, mss: 0 };
    let b = build(s);
    let (mut a, mut c) = pair(true, false);
    let (_, got) = through(&mut a, &mut c, &mut vnet_rec(s, &b, false));
    let frames = records(&got.tap, TAP_REC, got.tap_count);
    assert_eq!(frames.len(), 1);
    assert_checksums(&frames[0], &b, s);
    // USO: UDP datagram boundaries are kept (gso_size is the datagram payload).
    let s = Spec { v6: true, vlan: true, udp: true, payload: 3 * 1200 + 5, mss: 1200 };
    let b = build(s);
    let (_, got) = through(&mut a, &mut c, &mut vnet_rec(s, &b, true));
    let frames = records(&got.tap, TAP_REC, got.tap_count);
    assert_eq!(frames.iter().map(|f| f.len() - b.hdr).collect::<Vec<_>>(), vec![1200, 1200, 1200, 5]);
    for f in &frames {
        assert_checksums(f, &b, s);
    }
}

#[test]
fn udp_frames_are_never_coalesced_even_in_a_batch_whose_tcp_segments_are() {
    // One TAP batch: a UDP USO super-frame, then a TCP TSO super-frame. The receiving vnet TAP
    // gets the TCP segments back as one super-frame, and every UDP datagram as its own frame with
    // a zero vnet header (no GSO type, nothing left to checksum), in order, checksums complete.
    let (mut a, mut c) = pair(true, true);
    let su = Spec { v6: false, vlan: false, udp: true, payload: 6 * 1200, mss: 1200 };
    let bu = build(su);
    let st = Spec { v6: false, vlan: false, udp: false, payload: 8000, mss: 1448 };
    let bt = build(st);
    let mut batch = vnet_rec(su, &bu, true);
    batch.extend_from_slice(&vnet_rec(st, &bt, true));
    let (_, got) = through(&mut a, &mut c, &mut batch);
    assert!(drops(&got).is_empty(), "{:?}", drops(&got));
    assert_eq!(got.super_out, 1, "only the TCP segments were merged");
    let recs = records(&got.tap, TAP_REC, got.tap_count);
    assert_eq!(recs.len(), 7, "6 UDP frames and 1 TCP super-frame");
    for r in &recs[..6] {
        assert_eq!(r[..10], [0; 10], "a UDP frame goes out with a zero vnet header");
        assert_eq!(r.len() - 10 - bu.hdr, 1200);
        assert_checksums(&r[10..], &bu, su);
    }
    assert_eq!(recs[6][1], 1, "gso_type TCPV4");
    // A UDP flood alone is not coalesced at all (no GRO pass: the TAP area is written as it is).
    let (_, got) = through(&mut a, &mut c, &mut vnet_rec(su, &bu, true));
    assert_eq!(got.super_out, 0);
    assert_eq!(got.tap_count, 6);
}

#[test]
fn odd_sized_plain_frames_pass_through_with_and_without_vnet_headers() {
    let (mut a, mut c) = pair(true, true);
    // A lone non-IP frame of odd size: written with a zero vnet header.
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5];
    f.extend((0..63).map(|i| i as u8));
    let mut rec = ((10 + f.len()) as u16).to_be_bytes().to_vec();
    rec.extend_from_slice(&[0; 10]);
    rec.extend_from_slice(&f);
    let (_, got) = through(&mut a, &mut c, &mut rec);
    let recs = records(&got.tap, TAP_REC, got.tap_count);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0][..10], [0; 10]);
    assert_eq!(recs[0][10..], f[..]);
    // Without offloads the same frame is an ordinary record both ways.
    let (mut a, mut c) = pair(false, false);
    let mut rec = (f.len() as u16).to_be_bytes().to_vec();
    rec.extend_from_slice(&f);
    let (_, got) = through(&mut a, &mut c, &mut rec);
    assert_eq!(records(&got.tap, TAP_REC, got.tap_count), vec![f]);
}

#[test]
fn a_bad_vnet_header_or_super_frame_is_a_counted_drop_naming_the_rule() {
    let (mut a, _) = pair(true, true);
    let s = Spec { v6: false, vlan: false, udp: false, payload: 3000, mss: 1448 };
    let b = build(s);
    // UFO (gso_type 3) is never enabled.
    let mut r = vnet_rec(s, &b, true);
    r[3] = 3;
    let out = run(&mut a, Mode::Tap, &mut r);
    assert_eq!(out.send_count[0], 0);
    let d = drops(&out);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, Drop::OffloadRefused);
    assert!(d[0].1.contains("gso_type"), "{}", d[0].1);
    // TCPV6 on an IPv4 packet.
    let mut r = vnet_rec(s, &b, true);
    r[3] = 4;
    let d = drops(&run(&mut a, Mode::Tap, &mut r));
    assert_eq!(d[0].0, Drop::OffloadRefused);
    assert!(d[0].1.contains("does not fit"), "{}", d[0].1);
    // A record shorter than a vnet header.
    let mut r = vec![0, 4, 1, 2, 3, 4];
    let d = drops(&run(&mut a, Mode::Tap, &mut r));
    assert_eq!(d[0].0, Drop::OffloadRefused);
}
