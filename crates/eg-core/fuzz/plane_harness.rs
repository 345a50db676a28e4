//! Fuzz harness of the data plane's batch decoder (eg_core::plane): input byte 0 picks the mode
//! (TAP frames, UDP datagrams, plaintexts), byte 1 whether the rest is raw records or a mutation
//! mask over valid sealed datagrams; the batch goes to node 2 of a two-node mesh with a session.
//! Nothing may panic, and the outputs must obey their layout: records chain exactly to the end of
//! each area with the announced counts, every event decodes with a known type and drop code.
#![allow(dead_code)]

use eg_core::noise::keys::{private_from_random, public_key};
use eg_core::noise::Tai64N;
use eg_core::plane::layout::*;
use eg_core::plane::{Drop, EdgeConfig, Endpoint, Mode, Output, Plane, Routes, TapOffload};
use eg_core::session::{Config, Device};
use rand::rngs::StdRng;
use rand::SeedableRng;

pub struct PlaneHarness {
    devs: [Device; 2],
    planes: [Plane; 2],
    /// Valid UDP records from node 1 to node 2 (sealed frames), to mutate.
    templates: Vec<u8>,
    out: Output,
}

fn ep(n: u8) -> Endpoint {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, n]);
    Endpoint { family: 4, port: 1000, addr }
}

fn chain(b: &[u8], hdr: usize, count: u32) {
    let (mut off, mut n) = (0, 0u32);
    while off < b.len() {
        assert!(off + hdr <= b.len(), "record header cut");
        off += hdr + u16::from_be_bytes([b[off], b[off + 1]]) as usize;
        assert!(off <= b.len(), "record cut");
        n += 1;
    }
    assert_eq!(n, count, "record count");
}

/// Checks every output area of one batch.
pub fn check(out: &Output) {
    chain(&out.send[0], UDP_REC, out.send_count[0]);
    chain(&out.send[1], UDP_REC, out.send_count[1]);
    chain(&out.tap, TAP_REC, out.tap_count);
    let e = &out.events;
    let (mut off, mut n) = (0, 0u32);
    while off < e.len() {
        assert!(off + EV_HEADER <= e.len(), "event header cut");
        let ty = e[off + EV_TYPE];
        assert!((1..=11).contains(&ty), "event type {ty}");
        if ty == 1 {
            let r = u16::from_le_bytes([e[off + EV_REASON], e[off + EV_REASON + 1]]);
            assert!(Drop::from_code(r as u8).is_some() && r < 256, "drop code {r}");
        }
        off += EV_HEADER + u32::from_le_bytes(e[off + EV_LEN..off + EV_LEN + 4].try_into().unwrap()) as usize;
        assert!(off <= e.len(), "event payload cut");
        n += 1;
    }
    assert_eq!(n, out.event_count, "event count");
}

impl Default for PlaneHarness {
    fn default() -> Self {
        PlaneHarness::new()
    }
}

impl PlaneHarness {
    pub fn new() -> PlaneHarness {
        let keys: Vec<_> = [11u8, 12].iter().map(|&s| {
            let p = private_from_random([s; 32]);
            (p, public_key(&p))
        }).collect();
        let mut devs = [0usize, 1].map(|i| Device::new(keys[i].0, Config::default(), Box::new(StdRng::seed_from_u64(i as u64 + 7))));
        let mut planes = [Plane::new(), Plane::new()];
        let table = [(1, 2, 2), (2, 1, 1)];
        for i in 0..2 {
            let other = 1 - i;
            let id = devs[i].add_peer(keys[other].1, None, 0.0).unwrap();
            planes[i].configure_edge(EdgeConfig { me: i as u16 + 1, default_ttl: 4, fib_timeout: 30.0, dedup_timeout: 30.0, log_normal: true, log_transit: true });
            planes[i].set_routes(Routes::from_rows(&table).unwrap());
            planes[i].set_peer(id, other as u16 + 1, false);
            planes[i].set_endpoint(id, Some(ep(other as u8 + 1)));
        }
        // Handshake 1 → 2 with the device API.
        let wall = Tai64N::from_unix_millis(1.7e12);
        let mut init = [0u8; 148];
        devs[0].format_initiation(0, 1.0, wall, &mut init).unwrap();
        let mut out = vec![0u8; 2048];
        let (_, v) = devs[1].decapsulate(&init, b"a", 1.0, false, &mut out);
        let eg_core::session::Verdict::WriteToNetwork(n) = v else { panic!("{v:?}") };
        let resp = out[..n].to_vec();
        let (_, v) = devs[0].decapsulate(&resp, b"b", 1.0, false, &mut out);
        let eg_core::session::Verdict::SessionReady(n) = v else { panic!("{v:?}") };
        let ka = out[..n].to_vec();
        devs[1].decapsulate(&ka, b"a", 1.0, false, &mut out);
        // Templates: a few frames from node 1's interface, sealed to node 2.
        let mut tap = Vec::new();
        for len in [14usize, 60, 300] {
            tap.extend_from_slice(&(len as u16).to_be_bytes());
            let mut f = vec![0xffu8; len];
            f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
            tap.extend_from_slice(&f);
        }
        // ...and three in-order TCP segments of one flow (valid checksums), which a plane with
        // TAP offloads coalesces when they are delivered together.
        for i in 0..3u32 {
            let f = tcp_segment(1000 + 100 * i, 100);
            tap.extend_from_slice(&(f.len() as u16).to_be_bytes());
            tap.extend_from_slice(&f);
        }
        let mut o = Output::default();
        let (d0, p0) = (&mut devs[0], &mut planes[0]);
        p0.process(d0, Mode::Tap, &mut tap, 0, 2.0, &mut o).unwrap();
        let templates = o.send[0].clone();
        PlaneHarness { devs, planes, templates, out: o }
    }

    pub fn run(&mut self, data: &[u8]) {
        if data.len() < 2 {
            return;
        }
        let mode = Mode::from_u8(data[0] % 3 + 1).unwrap();
        let mut input: Vec<u8> = if data[1] & 1 == 1 && mode == Mode::Udp {
            let mut t = self.templates.clone();
            for (i, m) in data[2..].iter().enumerate() {
                if i < t.len() {
                    t[i] ^= m;
                }
            }
            t
        } else {
            data[2..].to_vec()
        };
        let (d, p) = (&mut self.devs[1], &mut self.planes[1]);
        // Bit 1: TAP offloads (vnet records in, segmentation; coalescing of what is delivered).
        let vnet = data[1] & 2 == 2;
        p.set_tap_offload(TapOffload { vnet, mtu: 1404 });
        p.process(d, mode, &mut input, 4, 3.0, &mut self.out).unwrap();
        check(&self.out);
        if vnet {
            let mut off = 0;
            while off < self.out.tap.len() {
                let len = u16::from_be_bytes([self.out.tap[off], self.out.tap[off + 1]]) as usize;
                assert!(len >= 10, "a vnet TAP record holds its vnet header");
                off += 2 + len;
            }
        }
    }
}

/// RFC 1071 sum of `b` added to `acc` (not folded).
fn sum16(b: &[u8], mut acc: u32) -> u32 {
    for c in b.chunks(2) {
        acc += ((c[0] as u32) << 8) | *c.get(1).unwrap_or(&0) as u32;
    }
    acc
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An Ethernet/IPv4/TCP frame (node 1's MAC to node 2's) with `plen` payload bytes at `seq`,
/// IP and TCP checksums complete.
fn tcp_segment(seq: u32, plen: usize) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&((40 + plen) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let c = fold(sum16(&f[14..34], 0));
    f[24..26].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&[0x9c, 0x40, 0x14, 0x51]);
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0x50, 0x10, 0x01, 0xf5, 0, 0, 0, 0]);
    f.extend((0..plen).map(|i| i as u8));
    let pseudo = sum16(&f[26..34], 6 + (20 + plen) as u32);
    let c = fold(sum16(&f[34..], pseudo));
    f[50..52].copy_from_slice(&c.to_be_bytes());
    f
}
