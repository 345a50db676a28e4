//! Known-answer and property tests for vnet headers, segmentation and coalescing. Checksums
//! are checked with `ref_csum` below, a byte-at-a-time RFC 1071 routine written separately
//! from `csum.rs`.

use super::coalesce::{CoalesceOpts, Coalescer};
use super::segment::{CsumMode, SegmentOpts, Segmenter};
use super::vnet::{GsoType, VnetHdr, VNET_HDR_LEN};
use super::{csum, OffloadError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// RFC 1071, the slow way: 16-bit big-endian words, 32-bit sum, end-around carry.
fn ref_csum(data: &[u8]) -> u16 {
    let mut s: u32 = 0;
    let mut i = 0;
    while i < data.len() {
        let hi = data[i] as u32;
        let lo = if i + 1 < data.len() { data[i + 1] as u32 } else { 0 };
        s += (hi << 8) | lo;
        s = (s & 0xffff) + (s >> 16);
        i += 2;
    }
    !(s as u16)
}

#[derive(Clone, Copy, Debug)]
struct Spec {
    v6: bool,
    vlan: bool,
    udp: bool,
    payload: usize,
    mss: u16,
    flags: u8,
    id: u16,
    seq: u32,
    tcp_opts: usize,
    df: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec { v6: false, vlan: false, udp: false, payload: 3000, mss: 1448, flags: 0x18, id: 0x1234, seq: 0x0102_0304, tcp_opts: 0, df: true }
    }
}

struct Offs {
    l3: usize,
    l4: usize,
    hdr: usize,
}

fn offs(s: &Spec) -> Offs {
    let l3 = if s.vlan { 18 } else { 14 };
    let l4 = l3 + if s.v6 { 40 } else { 20 };
    let hdr = l4 + if s.udp { 8 } else { 20 + s.tcp_opts };
    Offs { l3, l4, hdr }
}

fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(7).wrapping_add(3) % 251) as u8
}

/// Pseudo-header bytes for the independent check.
fn pseudo_bytes(f: &[u8], s: &Spec, o: &Offs, l4_len: usize) -> Vec<u8> {
    let proto = if s.udp { 17 } else { 6 };
    let mut p = Vec::new();
    if s.v6 {
        p.extend_from_slice(&f[o.l3 + 8..o.l3 + 40]);
        p.extend_from_slice(&(l4_len as u32).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, proto]);
    } else {
        p.extend_from_slice(&f[o.l3 + 12..o.l3 + 20]);
        p.extend_from_slice(&[0, proto]);
        p.extend_from_slice(&(l4_len as u16).to_be_bytes());
    }
    p
}

/// A super-frame as a TAP with TSO/USO hands it out: full lengths, IPv4 header checksum set,
/// L4 checksum field holding the pseudo-header sum (NEEDS_CSUM).
fn build(s: &Spec) -> (VnetHdr, Vec<u8>) {
    let o = offs(s);
    let n = o.hdr + s.payload;
    let mut f = vec![0u8; n];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    let et = if s.v6 { 0x86ddu16 } else { 0x0800 };
    if s.vlan {
        f[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
        f[14..16].copy_from_slice(&0x2064u16.to_be_bytes());
        f[16..18].copy_from_slice(&et.to_be_bytes());
    } else {
        f[12..14].copy_from_slice(&et.to_be_bytes());
    }
    let l3 = o.l3;
    let proto = if s.udp { 17 } else { 6 };
    if s.v6 {
        f[l3] = 0x60;
        f[l3 + 1] = 0x01;
        f[l3 + 2] = 0x23;
        f[l3 + 3] = 0x45;
        f[l3 + 4..l3 + 6].copy_from_slice(&((n - l3 - 40) as u16).to_be_bytes());
        f[l3 + 6] = proto;
        f[l3 + 7] = 64;
        for i in 0..16 {
            f[l3 + 8 + i] = 0xfd;
            f[l3 + 24 + i] = 0xfd;
        }
        f[l3 + 23] = 1;
        f[l3 + 39] = 2;
    } else {
        f[l3] = 0x45;
        f[l3 + 2..l3 + 4].copy_from_slice(&((n - l3) as u16).to_be_bytes());
        f[l3 + 4..l3 + 6].copy_from_slice(&s.id.to_be_bytes());
        f[l3 + 6] = if s.df { 0x40 } else { 0 };
        f[l3 + 8] = 64;
        f[l3 + 9] = proto;
        f[l3 + 12..l3 + 16].copy_from_slice(&[10, 7, 0, 1]);
        f[l3 + 16..l3 + 20].copy_from_slice(&[10, 7, 0, 2]);
        let c = ref_csum(&f[l3..l3 + 20]);
        f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
    }
    let l4 = o.l4;
    f[l4..l4 + 2].copy_from_slice(&40000u16.to_be_bytes());
    f[l4 + 2..l4 + 4].copy_from_slice(&5201u16.to_be_bytes());
    if s.udp {
        f[l4 + 4..l4 + 6].copy_from_slice(&((n - l4).min(65535) as u16).to_be_bytes());
    } else {
        f[l4 + 4..l4 + 8].copy_from_slice(&s.seq.to_be_bytes());
        f[l4 + 8..l4 + 12].copy_from_slice(&0xa0b0_c0d0u32.to_be_bytes());
        f[l4 + 12] = (((20 + s.tcp_opts) / 4) as u8) << 4;
        f[l4 + 13] = s.flags;
        f[l4 + 14..l4 + 16].copy_from_slice(&502u16.to_be_bytes());
        for k in (0..s.tcp_opts).step_by(12) {
            // NOP NOP timestamp
            f[l4 + 20 + k..l4 + 32 + k].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]);
        }
    }
    for i in 0..s.payload {
        f[o.hdr + i] = pattern(i);
    }
    // Partial: the pseudo-header sum, not complemented.
    let field = l4 + if s.udp { 6 } else { 16 };
    let p = pseudo_bytes(&f, s, &o, n - l4);
    let partial = !ref_csum(&p);
    f[field..field + 2].copy_from_slice(&partial.to_be_bytes());
    let h = VnetHdr {
        flags: 1,
        gso_type: if s.udp { GsoType::UdpL4 } else if s.v6 { GsoType::TcpV6 } else { GsoType::TcpV4 },
        ecn: !s.udp && s.flags & 0x80 != 0,
        hdr_len: o.hdr as u16,
        gso_size: s.mss,
        csum_start: l4 as u16,
        csum_offset: if s.udp { 6 } else { 16 },
    };
    (h, f)
}

/// Independent check of one output frame: lengths, IPv4 header checksum and L4 checksum.
fn check_frame(f: &[u8], s: &Spec) {
    let o = offs(s);
    let l3 = o.l3;
    if s.v6 {
        assert_eq!(u16::from_be_bytes([f[l3 + 4], f[l3 + 5]]) as usize, f.len() - l3 - 40, "IPv6 payload length");
    } else {
        assert_eq!(u16::from_be_bytes([f[l3 + 2], f[l3 + 3]]) as usize, f.len() - l3, "IPv4 total length");
        assert_eq!(ref_csum(&f[l3..l3 + 20]), 0, "IPv4 header checksum");
    }
    if s.udp {
        assert_eq!(u16::from_be_bytes([f[o.l4 + 4], f[o.l4 + 5]]) as usize, f.len() - o.l4, "UDP length");
        assert_ne!(&f[o.l4 + 6..o.l4 + 8], &[0, 0], "UDP checksum present");
    }
    let mut p = pseudo_bytes(f, s, &o, f.len() - o.l4);
    p.extend_from_slice(&f[o.l4..]);
    assert_eq!(ref_csum(&p), 0, "L4 checksum verifies");
}

fn segs(h: &VnetHdr, f: &[u8], mtu: usize) -> Vec<Vec<u8>> {
    let s = Segmenter::new(h, f, SegmentOpts { mtu, csum: CsumMode::Full, vnet: false }).unwrap();
    (0..s.count())
        .map(|i| {
            let mut b = vec![0u8; s.len(i)];
            assert_eq!(s.write(i, &mut b).unwrap(), b.len());
            b
        })
        .collect()
}

#[test]
fn checksum_matches_rfc1071_example_and_the_reference_on_odd_lengths() {
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to dd f2.
    let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(csum::fold(csum::add(0, &d)), 0xddf2);
    assert_eq!(csum::checksum(&d), 0x220d);
    let mut r = StdRng::seed_from_u64(1);
    for len in 0..300 {
        let v: Vec<u8> = (0..len).map(|_| r.gen()).collect();
        assert_eq!(csum::checksum(&v), ref_csum(&v), "len {len}");
    }
}

#[test]
fn vnet_header_parses_and_writes_the_uapi_layout() {
    // NEEDS_CSUM, TCPV4, hdr_len 54, gso_size 1448, csum_start 34, csum_offset 16 (little-endian).
    let b = [1u8, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0];
    let h = VnetHdr::parse(&b).unwrap();
    assert_eq!(
        h,
        VnetHdr { flags: 1, gso_type: GsoType::TcpV4, ecn: false, hdr_len: 54, gso_size: 1448, csum_start: 34, csum_offset: 16 }
    );
    assert!(h.needs_csum());
    assert_eq!(h.to_bytes(), b);
    let e = VnetHdr::parse(&[0, 0x84, 74, 0, 0xa0, 0x05, 54, 0, 16, 0]).unwrap();
    assert_eq!((e.gso_type, e.ecn), (GsoType::TcpV6, true));
    assert_eq!(e.to_bytes()[1], 0x84);
    assert_eq!(VnetHdr::parse(&[0, 5, 0, 0, 100, 0, 0, 0, 0, 0]).unwrap().gso_type, GsoType::UdpL4);
    let mut out = [0u8; 9];
    assert!(matches!(h.write(&mut out), Err(OffloadError::OutputTooSmall { .. })));
}

#[test]
fn vnet_header_refuses_short_unknown_and_inconsistent_headers() {
    assert_eq!(VnetHdr::parse(&[0; 9]), Err(OffloadError::VnetTooShort { len: 9 }));
    assert_eq!(VnetHdr::parse(&[8, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Err(OffloadError::VnetFlags { flags: 8 }));
    // UFO (3) and unknown types.
    for t in [2u8, 3, 6, 0x7f, 0x83] {
        let e = VnetHdr::parse(&[0, t, 0, 0, 1, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(matches!(e, OffloadError::VnetGsoType { .. }), "{t}: {e}");
        assert!(e.to_string().contains("gso_type"));
    }
    assert_eq!(VnetHdr::parse(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), Err(OffloadError::VnetGsoSizeZero));
}

#[test]
fn tcp_ipv4_super_frame_is_cut_into_mss_segments_with_ids_seqs_flags_and_checksums() {
    // PSH|ACK|FIN|CWR on the super-frame: FIN/PSH only on the last segment, CWR only on the first.
    let s = Spec { flags: 0x80 | 0x18 | 0x01, ..Spec::default() };
    let (h, f) = build(&s);
    assert!(h.ecn);
    let out = segs(&h, &f, 1500);
    assert_eq!(out.iter().map(|x| x.len()).collect::<Vec<_>>(), vec![1502, 1502, 14 + 40 + 104]);
    let o = offs(&s);
    for (i, x) in out.iter().enumerate() {
        check_frame(x, &s);
        assert_eq!(u16::from_be_bytes([x[18], x[19]]), 0x1234 + i as u16, "IPv4 ID increments");
        let seq = u32::from_be_bytes(x[o.l4 + 4..o.l4 + 8].try_into().unwrap());
        assert_eq!(seq, 0x0102_0304 + 1448 * i as u32);
        let fl = x[o.l4 + 13];
        assert_eq!(fl & 0x80 != 0, i == 0, "CWR only on the first");
        assert_eq!(fl & 0x09, if i == 2 { 0x09 } else { 0 }, "FIN/PSH only on the last");
        assert_eq!(fl & 0x10, 0x10, "ACK everywhere");
        let p0 = 1448 * i;
        assert!(x[o.hdr..].iter().enumerate().all(|(k, &b)| b == pattern(p0 + k)), "payload of segment {i}");
    }
}

#[test]
fn tcp_ipv6_vlan_super_frame_with_options_and_a_short_last_segment() {
    let s = Spec { v6: true, vlan: true, payload: 5000, mss: 1428, tcp_opts: 12, ..Spec::default() };
    let (h, f) = build(&s);
    let out = segs(&h, &f, 1500);
    assert_eq!(out.len(), 4);
    let o = offs(&s);
    assert_eq!(out[3].len() - o.hdr, 5000 - 3 * 1428);
    for x in &out {
        check_frame(x, &s);
        assert!(x.len() - o.l3 <= 1500);
        assert_eq!(&x[12..16], &[0x81, 0x00, 0x20, 0x64], "VLAN tag kept");
        assert_eq!(&x[o.l4 + 20..o.hdr], &f[o.l4 + 20..o.hdr], "TCP options copied");
    }
}

#[test]
fn udp_uso_super_frames_become_datagrams_of_gso_size_over_ipv4_and_ipv6() {
    for (v6, vlan) in [(false, false), (true, false), (false, true), (true, true)] {
        let s = Spec { v6, vlan, udp: true, payload: 1000, mss: 300, ..Spec::default() };
        let (h, f) = build(&s);
        let out = segs(&h, &f, 1500);
        let o = offs(&s);
        assert_eq!(out.iter().map(|x| x.len() - o.hdr).collect::<Vec<_>>(), vec![300, 300, 300, 100]);
        for (i, x) in out.iter().enumerate() {
            check_frame(x, &s);
            if !v6 {
                assert_eq!(u16::from_be_bytes([x[o.l3 + 4], x[o.l3 + 5]]), 0x1234 + i as u16);
            }
            assert!(x[o.hdr..].iter().enumerate().all(|(k, &b)| b == pattern(300 * i + k)));
        }
    }
}

#[test]
fn one_byte_segments_and_one_byte_payloads() {
    let s = Spec { payload: 5, mss: 1, ..Spec::default() };
    let (h, f) = build(&s);
    let out = segs(&h, &f, 1500);
    assert_eq!(out.len(), 5);
    for (i, x) in out.iter().enumerate() {
        check_frame(x, &s);
        assert_eq!(x.len(), 55);
        assert_eq!(x[54], pattern(i));
    }
    let s = Spec { payload: 1, v6: true, ..Spec::default() };
    let (h, f) = build(&s);
    let out = segs(&h, &f, 1500);
    assert_eq!(out.len(), 1);
    check_frame(&out[0], &s);
    // FIN and PSH stay on the only segment.
    assert_eq!(out[0][offs(&s).l4 + 13], 0x18);
}

#[test]
fn ipv4_id_wraps_and_a_smaller_mtu_recuts_tcp_but_refuses_udp() {
    let s = Spec { id: 0xffff, payload: 4000, ..Spec::default() };
    let (h, f) = build(&s);
    let out = segs(&h, &f, 1000);
    assert_eq!(out.len(), 4000usize.div_ceil(960));
    assert_eq!(&out[1][18..20], &[0, 0], "ID wraps to 0");
    for x in &out {
        check_frame(x, &s);
        assert!(x.len() - 14 <= 1000);
    }
    let s = Spec { udp: true, payload: 4000, mss: 1400, ..Spec::default() };
    let (h, f) = build(&s);
    let e = Segmenter::new(&h, &f, SegmentOpts { mtu: 1400, csum: CsumMode::Full, vnet: false }).unwrap_err();
    assert_eq!(e, OffloadError::SegmentOverMtu { gso_size: 1400, headers: 28, mtu: 1400 });
    let e = Segmenter::new(&h, &f, SegmentOpts { mtu: 28, csum: CsumMode::Full, vnet: false }).unwrap_err();
    assert!(matches!(e, OffloadError::MtuTooSmall { .. }));
}

#[test]
fn partial_checksums_carry_a_needs_csum_vnet_header_per_segment() {
    let s = Spec { v6: true, payload: 3000, ..Spec::default() };
    let (h, f) = build(&s);
    let sg = Segmenter::new(&h, &f, SegmentOpts { mtu: 1500, csum: CsumMode::Partial, vnet: true }).unwrap();
    let o = offs(&s);
    let mut buf = vec![0u8; sg.total_len() + 2 * sg.count()];
    let n = sg.write_records(&mut buf).unwrap();
    assert_eq!(n, buf.len());
    let mut at = 0;
    let mut k = 0;
    while at < n {
        let len = u16::from_be_bytes([buf[at], buf[at + 1]]) as usize;
        let v = VnetHdr::parse(&buf[at + 2..]).unwrap();
        assert_eq!(v, VnetHdr { flags: 1, gso_type: GsoType::None, ecn: false, hdr_len: o.hdr as u16, gso_size: 0, csum_start: o.l4 as u16, csum_offset: 16 });
        let mut x = buf[at + 2 + VNET_HDR_LEN..at + 2 + len].to_vec();
        // What the receiving kernel does for NEEDS_CSUM: sum from csum_start, store at +offset.
        let c = ref_csum(&x[o.l4..]);
        x[o.l4 + 16..o.l4 + 18].copy_from_slice(&c.to_be_bytes());
        check_frame(&x, &s);
        at += 2 + len;
        k += 1;
    }
    assert_eq!(k, 3);
    assert_eq!(
        Segmenter::new(&h, &f, SegmentOpts { mtu: 1500, csum: CsumMode::Partial, vnet: false }).unwrap_err(),
        OffloadError::PartialNeedsVnet
    );
}

#[test]
fn non_gso_frames_pass_unchanged_or_get_their_checksum_completed() {
    // A small TCP packet with a partial checksum (TUN_F_CSUM without TSO).
    let s = Spec { payload: 100, ..Spec::default() };
    let (mut h, f) = build(&s);
    h.gso_type = GsoType::None;
    h.gso_size = 0;
    let out = segs(&h, &f, 1500);
    assert_eq!(out.len(), 1);
    check_frame(&out[0], &s);
    // An ARP frame: no vnet flags, copied byte for byte, never parsed as IP.
    let arp: Vec<u8> = (0..42u8).map(|i| if i == 12 { 8 } else if i == 13 { 6 } else { i }).collect();
    let out = segs(&VnetHdr::default(), &arp, 1500);
    assert_eq!(out, vec![arp.clone()]);
    // Without gso_type a frame may not exceed the MTU.
    let e = Segmenter::new(&VnetHdr::default(), &vec![0u8; 1515], SegmentOpts { mtu: 1500, csum: CsumMode::Full, vnet: false }).unwrap_err();
    assert_eq!(e, OffloadError::FrameOverMtu { len: 1515, max: 1514 });
    // NEEDS_CSUM pointing past the end.
    let h = VnetHdr { flags: 1, csum_start: 40, csum_offset: 16, ..VnetHdr::default() };
    assert!(matches!(Segmenter::new(&h, &arp, SegmentOpts { mtu: 1500, csum: CsumMode::Full, vnet: false }), Err(OffloadError::VnetCsum { .. })));
}

#[test]
fn a_partial_checksum_is_completed_in_place_as_the_segmenter_would() {
    for s in [
        Spec { payload: 100, ..Spec::default() },
        Spec { payload: 777, v6: true, vlan: true, ..Spec::default() },
        Spec { payload: 333, udp: true, ..Spec::default() },
        Spec { payload: 1, udp: true, v6: true, ..Spec::default() },
    ] {
        let (mut h, f) = build(&s);
        h.gso_type = GsoType::None;
        h.gso_size = 0;
        let want = segs(&h, &f, 65_000);
        let mut got = f.clone();
        super::complete_in_place(&h, &mut got).unwrap();
        assert_eq!(vec![got.clone()], want);
        check_frame(&got, &s);
    }
    // Nothing to do without NEEDS_CSUM; a super-frame and bad offsets are refused untouched.
    let (h, f) = build(&Spec::default());
    let mut g = f.clone();
    super::complete_in_place(&VnetHdr::default(), &mut g).unwrap();
    assert_eq!(g, f);
    assert!(super::complete_in_place(&h, &mut g).is_err());
    let bad = VnetHdr { flags: 1, csum_start: 4000, csum_offset: 16, ..VnetHdr::default() };
    assert!(matches!(super::complete_in_place(&bad, &mut g), Err(OffloadError::VnetCsum { .. })));
    assert_eq!(g, f);
}

#[test]
fn a_completed_checksum_that_sums_to_zero_is_sent_as_0xffff() {
    // UDP/IPv6 may not carry 0 ("no checksum"); the kernel's skb_checksum_help writes 0xffff.
    // Search a 2-byte payload whose datagram sums to 0 (the checksum field then holds 0xffff).
    let s = Spec { payload: 2, udp: true, v6: true, ..Spec::default() };
    let (mut h, f) = build(&s);
    h.gso_type = GsoType::None;
    h.gso_size = 0;
    let o = offs(&s);
    let mut found = false;
    for v in 0..=u16::MAX {
        let mut g = f.clone();
        g[o.hdr..o.hdr + 2].copy_from_slice(&v.to_be_bytes());
        super::complete_in_place(&h, &mut g).unwrap();
        let c = u16::from_be_bytes([g[o.l4 + 6], g[o.l4 + 7]]);
        assert_ne!(c, 0, "payload {v:#06x}: a zero UDP checksum went out");
        if c == 0xffff {
            found = true;
            // Both routes agree, and the datagram verifies.
            assert_eq!(segs(&h, &{ let mut x = f.clone(); x[o.hdr..o.hdr + 2].copy_from_slice(&v.to_be_bytes()); x }, 65_000), vec![g.clone()]);
            check_frame(&g, &s);
        }
    }
    assert!(found, "some payload sums to zero");
}

#[test]
fn inconsistent_super_frames_are_refused_with_the_field_named() {
    let opts = SegmentOpts { mtu: 1500, csum: CsumMode::Full, vnet: false };
    let (h, f) = build(&Spec::default());
    // gso_type that does not match the packet.
    let h6 = VnetHdr { gso_type: GsoType::TcpV6, ..h };
    assert!(matches!(Segmenter::new(&h6, &f, opts), Err(OffloadError::GsoMismatch { .. })));
    let hu = VnetHdr { gso_type: GsoType::UdpL4, csum_offset: 6, ..h };
    assert!(matches!(Segmenter::new(&hu, &f, opts), Err(OffloadError::GsoMismatch { .. })));
    // csum_start not at the TCP header.
    let hc = VnetHdr { csum_start: 30, ..h };
    let e = Segmenter::new(&hc, &f, opts).unwrap_err();
    assert!(e.to_string().contains("csum_start 30"), "{e}");
    // IPv4 total length larger than the frame, and smaller (stale).
    let mut g = f.clone();
    g[16] = 0xff;
    let e = Segmenter::new(&h, &g, opts).unwrap_err();
    assert!(e.to_string().starts_with("IPv4 total length"), "{e}");
    let mut g = f.clone();
    g[16..18].copy_from_slice(&100u16.to_be_bytes());
    assert!(matches!(Segmenter::new(&h, &g, opts), Err(OffloadError::Length { field: "IPv4 total length", .. })));
    // A fragment.
    let mut g = f.clone();
    g[20] |= 0x20;
    assert!(matches!(Segmenter::new(&h, &g, opts), Err(OffloadError::BadHeader { .. })));
    // TCP data offset beyond the packet.
    let mut g = f.clone();
    g[46] = 0xf0;
    let mut short = g[..34 + 40].to_vec();
    short[16..18].copy_from_slice(&40u16.to_be_bytes());
    assert!(matches!(Segmenter::new(&h, &short, opts), Err(OffloadError::Length { field: "TCP data offset", .. })));
    // Truncated at every length: an error, never a panic.
    for n in 0..f.len() {
        assert!(Segmenter::new(&h, &f[..n], opts).is_err(), "truncated to {n}");
    }
    // IPv6 with a hop-by-hop header.
    let (h6, mut g) = build(&Spec { v6: true, ..Spec::default() });
    g[14 + 6] = 0;
    let e = Segmenter::new(&h6, &g, opts).unwrap_err();
    assert!(e.to_string().contains("extension headers"), "{e}");
}

#[test]
fn output_buffers_that_are_too_small_are_refused_before_writing() {
    let (h, f) = build(&Spec::default());
    let s = Segmenter::new(&h, &f, SegmentOpts { mtu: 1500, csum: CsumMode::Full, vnet: false }).unwrap();
    let mut buf = vec![0xaau8; 2000];
    assert_eq!(s.write_records(&mut buf), Err(OffloadError::OutputTooSmall { need: 1502 * 2 + 158 + 6, have: 2000 }));
    assert!(buf.iter().all(|&b| b == 0xaa));
    assert!(s.write(0, &mut buf[..1501]).is_err());
    assert!(s.write(3, &mut buf).is_err());
}

fn coalesce_all(frames: &[Vec<u8>], opts: CoalesceOpts) -> (super::Coalesced, Vec<(VnetHdr, Vec<u8>)>) {
    let mut c = Coalescer::new(opts);
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let mut out = vec![0u8; frames.iter().map(|f| f.len() + 12).sum::<usize>()];
    let r = c.coalesce(&refs, &mut out).unwrap();
    let mut recs = Vec::new();
    let mut at = 0;
    while at < r.bytes {
        let len = u16::from_be_bytes([out[at], out[at + 1]]) as usize;
        recs.push((VnetHdr::parse(&out[at + 2..]).unwrap(), out[at + 2 + VNET_HDR_LEN..at + 2 + len].to_vec()));
        at += 2 + len;
    }
    assert_eq!(recs.len(), r.records);
    (r, recs)
}

#[test]
fn segments_coalesce_back_into_the_original_super_frame() {
    let mut r = StdRng::seed_from_u64(7);
    for round in 0..400 {
        let v6 = r.gen();
        let mss: u16 = if r.gen_bool(0.2) { r.gen_range(1..40) } else { r.gen_range(500..1448) };
        let flags = 0x10 | if r.gen() { 0x08 } else { 0 } | if r.gen_bool(0.2) { 0x01 } else { 0 } | if r.gen_bool(0.2) { 0x80 } else { 0 };
        let s = Spec {
            v6,
            vlan: r.gen(),
            mss,
            payload: r.gen_range(1..(60_000usize).min(mss as usize * 300)),
            flags,
            id: r.gen(),
            seq: r.gen(),
            tcp_opts: if r.gen() { 12 } else { 0 },
            df: r.gen(),
            udp: false,
        };
        let (h, x) = build(&s);
        let o = offs(&s);
        let out = segs(&h, &x, 1500);
        for f in &out {
            assert!(f.len() - o.l3 <= 1500, "round {round}: segment over MTU");
            check_frame(f, &s);
        }
        let (res, recs) = coalesce_all(&out, CoalesceOpts::default());
        assert_eq!(recs.len(), 1, "round {round} {s:?}: one record");
        let (v, y) = &recs[0];
        if out.len() == 1 {
            assert_eq!(res.passed, 1);
            assert_eq!(*v, VnetHdr::default());
            assert_eq!(y, &out[0]);
            continue;
        }
        assert_eq!((res.super_frames, res.merged), (1, out.len()));
        // A sender MSS larger than the MTU allows is re-cut at the MTU: that is the gso_size back.
        let eff = (s.mss as usize).min(1500 - (o.hdr - o.l3)) as u16;
        assert_eq!(*v, VnetHdr { gso_size: eff, ..h }, "round {round} {s:?}: vnet header reproduced");
        assert_eq!(y, &x, "round {round} {s:?}: super-frame reproduced byte for byte");
    }
}

#[test]
fn full_checksum_mode_writes_a_super_frame_any_receiver_can_verify() {
    let s = Spec { payload: 20_000, ..Spec::default() };
    let (_, x) = build(&s);
    let (h, _) = build(&s);
    let out = segs(&h, &x, 1500);
    let (_, recs) = coalesce_all(&out, CoalesceOpts { csum: CsumMode::Full, ..CoalesceOpts::default() });
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].0.flags, 0);
    assert_eq!(recs[0].0.gso_type, GsoType::TcpV4);
    check_frame(&recs[0].1, &s);
}

#[test]
fn only_mergeable_segments_merge_and_everything_else_passes_in_order() {
    let s = Spec { payload: 1448 * 6, flags: 0x10, ..Spec::default() };
    let (h, x) = build(&s);
    let out = segs(&h, &x, 1500);
    let o = offs(&s);
    let arp = {
        let mut a = vec![0u8; 42];
        a[12] = 8;
        a[13] = 6;
        a
    };
    // Another flow interleaved, an ARP frame and a UDP datagram in between: both TCP flows
    // still merge, the rest passes unchanged.
    let s2 = Spec { payload: 1448 * 3, flags: 0x10, seq: 77, ..Spec::default() };
    let (h2, x2) = build(&s2);
    let mut out2 = segs(&h2, &x2, 1500);
    for f in &mut out2 {
        f[o.l4 + 1] = 0x41; // other source port
        let l4len = f.len() - o.l4;
        f[o.l4 + 16..o.l4 + 18].copy_from_slice(&[0, 0]);
        let mut p = pseudo_bytes(f, &s2, &o, l4len);
        p.extend_from_slice(&f[o.l4..]);
        let c = ref_csum(&p);
        f[o.l4 + 16..o.l4 + 18].copy_from_slice(&c.to_be_bytes());
    }
    let (hu, xu) = build(&Spec { udp: true, payload: 100, mss: 100, ..Spec::default() });
    let udp = segs(&hu, &xu, 1500).remove(0);
    let input = vec![
        out[0].clone(), out2[0].clone(), out[1].clone(), arp.clone(), out2[1].clone(), out[2].clone(),
        udp.clone(), out2[2].clone(), out[3].clone(), out[4].clone(), out[5].clone(),
    ];
    let (r, recs) = coalesce_all(&input, CoalesceOpts::default());
    assert_eq!((r.super_frames, r.merged, r.passed), (2, 9, 2));
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0].1, x);
    assert_eq!(recs[1].1.len(), x2.len());
    assert_eq!(recs[2].1, arp);
    assert_eq!(recs[3].1, udp);
    assert_eq!(recs[2].0, VnetHdr::default());

    let merged = |frames: Vec<Vec<u8>>| coalesce_all(&frames, CoalesceOpts::default()).0;
    // A gap in the sequence (a lost segment): no merge across it.
    let r = merged(vec![out[0].clone(), out[2].clone(), out[3].clone()]);
    assert_eq!((r.records, r.super_frames, r.merged), (2, 1, 2));
    // Reordered: the later segment is not merged ahead of the earlier one.
    let r = merged(vec![out[1].clone(), out[0].clone()]);
    assert_eq!((r.records, r.super_frames), (2, 0));
    // A corrupted segment passes through unmerged and closes the flow.
    let mut bad = out[1].clone();
    bad[o.hdr + 5] ^= 0xff;
    let r = merged(vec![out[0].clone(), bad, out[2].clone()]);
    assert_eq!((r.records, r.super_frames), (3, 0));
    // SYN never merges; a different ack number does not either.
    let mut syn = out[1].clone();
    syn[o.l4 + 13] |= 0x02;
    assert_eq!(merged(vec![out[0].clone(), fix_tcp(syn, &s)]).super_frames, 0);
    let mut ack = out[1].clone();
    ack[o.l4 + 11] ^= 1;
    assert_eq!(merged(vec![out[0].clone(), fix_tcp(ack, &s)]).super_frames, 0);
    // IPv4 IDs that do not count up merge only with DF set.
    let mut gap = out[1].clone();
    gap[19] ^= 0x10;
    let gap = fix_ip(gap, &s);
    assert_eq!(merged(vec![out[0].clone(), gap.clone()]).super_frames, 1, "DF set: IDs are free");
    let s_nodf = Spec { df: false, ..s };
    let (hn, xn) = build(&s_nodf);
    let on = segs(&hn, &xn, 1500);
    let mut gapn = on[1].clone();
    gapn[19] ^= 0x10;
    let gapn = fix_ip(gapn, &s_nodf);
    assert_eq!(merged(vec![on[0].clone(), on[1].clone()]).super_frames, 1);
    assert_eq!(merged(vec![on[0].clone(), gapn]).super_frames, 0);
    // A larger segment after a smaller first one does not join (gso_size is the first's).
    let r = merged(vec![out[5].clone()]);
    assert_eq!(r.super_frames, 0);
    // PSH on a middle segment closes the super-frame after it.
    let mut psh = out[1].clone();
    psh[o.l4 + 13] |= 0x08;
    let r = merged(vec![out[0].clone(), fix_tcp(psh, &s), out[2].clone(), out[3].clone()]);
    assert_eq!((r.records, r.super_frames, r.merged), (2, 2, 4));
}

fn fix_tcp(mut f: Vec<u8>, s: &Spec) -> Vec<u8> {
    let o = offs(s);
    f[o.l4 + 16..o.l4 + 18].copy_from_slice(&[0, 0]);
    let mut p = pseudo_bytes(&f, s, &o, f.len() - o.l4);
    p.extend_from_slice(&f[o.l4..]);
    let c = ref_csum(&p);
    f[o.l4 + 16..o.l4 + 18].copy_from_slice(&c.to_be_bytes());
    f
}

fn fix_ip(mut f: Vec<u8>, s: &Spec) -> Vec<u8> {
    let l3 = offs(s).l3;
    f[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
    let c = ref_csum(&f[l3..l3 + 20]);
    f[l3 + 10..l3 + 12].copy_from_slice(&c.to_be_bytes());
    f
}

#[test]
fn coalescer_refuses_bad_batches_and_small_buffers_without_writing() {
    let mut c = Coalescer::new(CoalesceOpts::default());
    let mut out = vec![0xaau8; 100];
    assert!(matches!(c.coalesce_records(&[0, 5, 1, 2], &mut out), Err(OffloadError::RecordTruncated { at: 0, len: 5, have: 2 })));
    assert!(matches!(c.coalesce_records(&[0, 1, 9, 0], &mut out), Err(OffloadError::RecordTruncated { at: 3, .. })));
    let big = vec![1u8; 200];
    let mut rec = vec![0u8, 200];
    rec.extend_from_slice(&big);
    assert_eq!(c.coalesce_records(&rec, &mut out), Err(OffloadError::OutputTooSmall { need: 212, have: 100 }));
    assert!(out.iter().all(|&b| b == 0xaa));
    let mut out = vec![0u8; 212];
    let r = c.coalesce_records(&rec, &mut out).unwrap();
    assert_eq!((r.records, r.passed, r.bytes), (1, 1, 212));
    assert_eq!(&out[12..], &big[..]);
}

#[test]
fn random_and_mutated_input_never_panics() {
    let mut r = StdRng::seed_from_u64(99);
    let mut c = Coalescer::new(CoalesceOpts::default());
    let mut out = vec![0u8; 1 << 18];
    for round in 0..3000 {
        let s = Spec {
            v6: r.gen(),
            vlan: r.gen(),
            udp: r.gen(),
            payload: r.gen_range(0..5000),
            mss: r.gen_range(1..2000),
            tcp_opts: 12 * r.gen_range(0..3),
            ..Spec::default()
        };
        let (h, mut f) = build(&s);
        let mut hb = h.to_bytes();
        for _ in 0..r.gen_range(0..4) {
            let k = r.gen_range(0..f.len() + 10);
            if k < 10 {
                hb[k] = r.gen();
            } else {
                f[k - 10] = r.gen();
            }
        }
        if r.gen_bool(0.3) {
            f.truncate(r.gen_range(0..f.len() + 1));
        }
        let mtu = r.gen_range(0..2000);
        if let Ok(h) = VnetHdr::parse(&hb) {
            for csum in [CsumMode::Full, CsumMode::Partial] {
                if let Ok(sg) = Segmenter::new(&h, &f, SegmentOpts { mtu, csum, vnet: true }) {
                    if let Ok(n) = sg.write_records(&mut out) {
                        let mut at = 0;
                        while at < n {
                            let len = u16::from_be_bytes([out[at], out[at + 1]]) as usize;
                            let l2 = super::headers::l2(&out[at + 12..at + 2 + len]).map(|x| x.0).unwrap_or(14);
                            assert!(len - VNET_HDR_LEN - l2 <= mtu, "round {round}: segment over the MTU");
                            at += 2 + len;
                        }
                    }
                }
            }
        }
        let mut recs = Vec::new();
        for _ in 0..r.gen_range(0..4) {
            recs.extend_from_slice(&(f.len() as u16).to_be_bytes());
            recs.extend_from_slice(&f);
        }
        if r.gen_bool(0.2) {
            let n = r.gen_range(0..recs.len() + 1);
            recs.truncate(n);
        }
        let _ = c.coalesce_records(&recs, &mut out);
    }
}
