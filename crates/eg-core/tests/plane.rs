//! The data plane (eg_core::plane) end to end inside one process: a mesh of devices whose send
//! areas are carried to each other's UDP batches, with forwarding, TTL, broadcast sets, MAC
//! learning, handshakes through the plane, queueing, drops by reason — and a property test of the
//! batch decoder and output areas over random and mutated batches.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::plane::layout::*;
use eg_core::plane::{Drop, EdgeConfig, Endpoint, Ev, Hs, Mode, Output, Plane, Routes};
use eg_core::session::{Config, Device};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use wg_common::*;

const NOW: f64 = 10.0;

struct Node {
    id: u16,
    dev: Device,
    plane: Plane,
    /// wg peer id by NodeID
    peer: std::collections::HashMap<u16, usize>,
}

fn ep(id: u16) -> Endpoint {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, (id >> 8) as u8, id as u8]);
    Endpoint { family: 4, port: 1000 + id, addr }
}

fn node_of(e: &[u8]) -> u16 {
    u16::from_be_bytes([e[4 + 2], e[4 + 3]])
}

/// A parsed event (every field decoded, so the layout is exercised even where a test reads few).
#[derive(Debug, Clone)]
#[allow(dead_code)]
struct Event {
    ty: u8,
    kind: u8,
    reason: u16,
    peer: u32,
    src: u16,
    dst: u16,
    from: u16,
    node: u16,
    aux: u16,
    payload: Vec<u8>,
}

/// Decodes the events area; panics on any inconsistency (the invariants of the layout).
fn events(out: &Output) -> Vec<Event> {
    let b = &out.events;
    let mut v = Vec::new();
    let mut off = 0;
    while off < b.len() {
        assert!(off + EV_HEADER <= b.len(), "event header cut");
        let u16at = |o: usize| u16::from_le_bytes([b[off + o], b[off + o + 1]]);
        let u32at = |o: usize| u32::from_le_bytes(b[off + o..off + o + 4].try_into().unwrap());
        let len = u32at(EV_LEN) as usize;
        assert!(off + EV_HEADER + len <= b.len(), "event payload cut");
        let ty = b[off + EV_TYPE];
        assert!((1..=11).contains(&ty), "event type {ty}");
        let reason = u16at(EV_REASON);
        if ty == Ev::Drop as u8 {
            assert!(Drop::from_code(reason as u8).is_some(), "drop code {reason}");
        }
        v.push(Event {
            ty,
            kind: b[off + EV_KIND],
            reason,
            peer: u32at(EV_PEER),
            src: u16at(EV_SRC),
            dst: u16at(EV_DST),
            from: u16at(EV_FROM),
            node: u16at(EV_NODE),
            aux: u16at(EV_AUX),
            payload: b[off + EV_HEADER..off + EV_HEADER + len].to_vec(),
        });
        off += EV_HEADER + len;
    }
    assert_eq!(v.len() as u32, out.event_count);
    v
}

/// Splits a records area (`hdr` bytes of header, BE u16 length first); checks the chain is exact.
fn records(b: &[u8], hdr: usize, count: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v = Vec::new();
    let mut off = 0;
    while off < b.len() {
        assert!(off + hdr <= b.len(), "record header cut");
        let len = u16::from_be_bytes([b[off], b[off + 1]]) as usize;
        assert!(off + hdr + len <= b.len(), "record cut");
        v.push((b[off..off + hdr].to_vec(), b[off + hdr..off + hdr + len].to_vec()));
        off += hdr + len;
    }
    assert_eq!(v.len() as u32, count);
    v
}

fn drops(ev: &[Event]) -> Vec<Drop> {
    ev.iter().filter(|e| e.ty == Ev::Drop as u8).map(|e| Drop::from_code(e.reason as u8).unwrap()).collect()
}

struct Mesh {
    nodes: Vec<Node>,
}

impl Mesh {
    /// Every node peers with every other; `table` rows (src, dst, next).
    fn new(ids: &[u16], table: &[(u16, u16, u16)], ttl: u8) -> Mesh {
        let keys: Vec<_> = ids.iter().map(|&i| static_key(i as u64 * 7)).collect();
        let mut nodes = Vec::new();
        for (k, &id) in ids.iter().enumerate() {
            let mut dev = Device::new(keys[k].0, Config::default(), rng(id as u64 + 500));
            let mut plane = Plane::new();
            plane.configure_edge(EdgeConfig { me: id, default_ttl: ttl, fib_timeout: 30.0, dedup_timeout: 40.0, log_normal: true, log_transit: true });
            plane.set_routes(Routes::from_rows(table).unwrap());
            let mut peer = std::collections::HashMap::new();
            for (j, &other) in ids.iter().enumerate() {
                if other == id {
                    continue;
                }
                let pid = dev.add_peer(keys[j].1, None, 0.0).unwrap();
                plane.set_peer(pid, other, false);
                plane.set_endpoint(pid, Some(ep(other)));
                peer.insert(other, pid);
            }
            nodes.push(Node { id, dev, plane, peer });
        }
        Mesh { nodes }
    }

    fn idx(&self, id: u16) -> usize {
        self.nodes.iter().position(|n| n.id == id).unwrap()
    }

    fn run(&mut self, id: u16, mode: Mode, input: &mut [u8], fam: u8) -> Output {
        let i = self.idx(id);
        let n = &mut self.nodes[i];
        let mut out = Output::default();
        n.plane.process(&mut n.dev, mode, input, fam, NOW, &mut out).unwrap();
        out
    }

    /// Handshakes every pair through the planes (initiation made by the device, the rest by
    /// UDP batches).
    fn connect_all(&mut self) {
        let ids: Vec<u16> = self.nodes.iter().map(|n| n.id).collect();
        for &a in &ids {
            for &b in &ids {
                if a >= b {
                    continue;
                }
                let ia = self.idx(a);
                let pid = self.nodes[ia].peer[&b];
                let mut init = vec![0u8; 148];
                self.nodes[ia].dev.format_initiation(pid, NOW, wall(NOW), &mut init).unwrap();
                let mut rec = udp_rec(a, &init);
                let out = self.run(b, Mode::Udp, &mut rec, 4);
                let ev = events(&out);
                assert!(ev.iter().any(|e| e.ty == Ev::Handshake as u8 && e.kind == Hs::Response as u8), "{ev:?}");
                let sent = records(&out.send[0], UDP_REC, out.send_count[0]);
                assert_eq!(sent.len(), 1);
                assert_eq!(node_of(&sent[0].0), a, "response goes back to the sender");
                let mut rec = udp_rec(b, &sent[0].1);
                let out = self.run(a, Mode::Udp, &mut rec, 4);
                let ev = events(&out);
                assert!(ev.iter().any(|e| e.ty == Ev::Handshake as u8 && e.kind == Hs::SessionReady as u8), "{ev:?}");
                let sent = records(&out.send[0], UDP_REC, out.send_count[0]);
                let mut rec = udp_rec(a, &sent[0].1);
                let out = self.run(b, Mode::Udp, &mut rec, 4);
                assert!(drops(&events(&out)).is_empty());
            }
        }
    }

    /// Carries every send record of `out` (sent by `from`) to its destination, recursively, and
    /// returns (node, output) for every batch processed.
    fn carry(&mut self, from: u16, out: Output) -> Vec<(u16, Output)> {
        let mut seen = vec![(from, out)];
        let mut i = 0;
        while i < seen.len() {
            let (sender, ref o) = seen[i];
            let recs = records(&o.send[0], UDP_REC, o.send_count[0]);
            i += 1;
            for (h, msg) in recs {
                let to = node_of(&h);
                let mut rec = udp_rec(sender, &msg);
                let o2 = self.run(to, Mode::Udp, &mut rec, 4);
                seen.push((to, o2));
            }
            assert!(seen.len() < 1000, "runaway forwarding");
        }
        seen
    }
}

fn udp_rec(from: u16, msg: &[u8]) -> Vec<u8> {
    let e = ep(from);
    let mut r = Vec::new();
    r.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    r.extend_from_slice(&e.port.to_be_bytes());
    r.extend_from_slice(&e.addr);
    r.extend_from_slice(msg);
    r
}

fn tap_rec(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut r = Vec::new();
    for f in frames {
        r.extend_from_slice(&(f.len() as u16).to_be_bytes());
        r.extend_from_slice(f);
    }
    r
}

fn mac(n: u16) -> [u8; 6] {
    [2, 0, 0, 0, (n >> 8) as u8, n as u8]
}

fn frame(dst: [u8; 6], src: [u8; 6], len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; len];
    f[..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12] = 0x88;
    f[13] = 0xb5;
    f
}

/// Frames written to each node's TAP area over a carried run.
fn delivered(runs: &[(u16, Output)]) -> Vec<(u16, Vec<u8>)> {
    let mut v = Vec::new();
    for (n, o) in runs {
        for (_, f) in records(&o.tap, TAP_REC, o.tap_count) {
            v.push((*n, f));
        }
    }
    v
}

fn line_table() -> Vec<(u16, u16, u16)> {
    // 1 - 2 - 3 - 4 in a line.
    let mut t = Vec::new();
    for s in 1..=4u16 {
        for d in 1..=4u16 {
            if s != d {
                t.push((s, d, if d > s { s + 1 } else { s - 1 }));
            }
        }
    }
    t
}

#[test]
fn broadcast_reaches_every_node_exactly_once_along_the_table() {
    let mut m = Mesh::new(&[1, 2, 3, 4], &line_table(), 200);
    m.connect_all();
    let f = frame([0xff; 6], mac(1), 100, 7);
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[f.clone()]), 0);
    assert_eq!(out.from_iface, 1);
    let runs = m.carry(1, out);
    let mut got = delivered(&runs);
    got.sort();
    assert_eq!(got, vec![(2, f.clone()), (3, f.clone()), (4, f.clone())]);
    for (n, o) in &runs {
        assert!(drops(&events(o)).is_empty(), "node {n} dropped {:?}", drops(&events(o)));
    }
}

#[test]
fn only_nodes_that_relay_a_broadcast_count_it_as_forwarded() {
    // 1 - 2 - 3 - 4: a broadcast from 1 is relayed by 2 and 3; 4 is a leaf of the tree, so its
    // empty forward set is not a forwarded frame (the relay metric counted it before).
    let mut m = Mesh::new(&[1, 2, 3, 4], &line_table(), 200);
    m.connect_all();
    let f = frame([0xff; 6], mac(1), 100, 7);
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[f]), 0);
    let runs = m.carry(1, out);
    let forwarded = |id: u16| runs.iter().filter(|(n, _)| *n == id).map(|(_, o)| o.forwarded).sum::<u32>();
    assert_eq!((forwarded(2), forwarded(3), forwarded(4)), (1, 1, 0));
}

#[test]
fn unicast_after_learning_goes_hop_by_hop_and_ttl_decrements() {
    let mut m = Mesh::new(&[1, 2, 3, 4], &line_table(), 200);
    m.connect_all();
    // 4 broadcasts once, so 1 learns 4's MAC; then 1 sends a unicast to it.
    let out = m.run(4, Mode::Tap, &mut tap_rec(&[frame([0xff; 6], mac(4), 60, 1)]), 0);
    let runs = m.carry(4, out);
    let fib: Vec<_> = runs.iter().flat_map(|(n, o)| events(o).into_iter().filter(|e| e.ty == Ev::Fib as u8).map(move |e| (*n, e.node, e.payload))).collect();
    assert!(fib.contains(&(1, 4, mac(4).to_vec())), "{fib:?}");
    let f = frame(mac(4), mac(1), 300, 9);
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[f.clone()]), 0);
    let ev = events(&out);
    assert!(ev.iter().any(|e| e.ty == Ev::LogSend as u8 && e.dst == 4 && e.aux == 0x88b5));
    let runs = m.carry(1, out);
    assert_eq!(delivered(&runs), vec![(4, f)]);
    let fwd: Vec<_> = runs.iter().flat_map(|(n, o)| events(o).into_iter().filter(|e| e.ty == Ev::LogForward as u8).map(move |e| (*n, e.aux, e.payload))).collect();
    assert_eq!(fwd, vec![(2, 199, vec![3, 0]), (3, 198, vec![4, 0])]);
}

#[test]
fn ttl_limits_forwarding_not_delivery() {
    // DefaultTTL 1: 1 → 2 (TTL 1) → 3 (TTL 0) is delivered at 3, not forwarded to 4.
    let mut m = Mesh::new(&[1, 2, 3, 4], &line_table(), 1);
    m.connect_all();
    let f = frame([0xff; 6], mac(1), 100, 7);
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[f.clone()]), 0);
    let runs = m.carry(1, out);
    let mut got: Vec<u16> = delivered(&runs).into_iter().map(|x| x.0).collect();
    got.sort();
    assert_eq!(got, vec![2, 3]);
    // A broadcast arriving with TTL 0 is delivered but is no drop.
    for (_, o) in &runs {
        assert!(drops(&events(o)).is_empty());
    }
    // A unicast from 1 for 4 sent with TTL 1: 2 forwards it with TTL 0, and 3 (not its
    // destination) drops it as TTL expired.
    let i1 = m.idx(1);
    let mut fr = vec![0u8; 8 + 80];
    fr[0] = 4;
    fr[1] = 1;
    fr[2..4].copy_from_slice(&4u16.to_be_bytes());
    fr[4..6].copy_from_slice(&1u16.to_be_bytes());
    fr[6..8].copy_from_slice(&80u16.to_be_bytes());
    fr[8..].copy_from_slice(&frame(mac(4), mac(1), 80, 2));
    let pid = m.nodes[i1].peer[&2];
    let mut rec = Vec::new();
    rec.extend_from_slice(&(pid as u32).to_le_bytes());
    rec.extend_from_slice(&(fr.len() as u32).to_le_bytes());
    rec.extend_from_slice(&fr);
    let out = m.run(1, Mode::Plain, &mut rec, 0);
    let runs = m.carry(1, out);
    let ttl_drops: Vec<_> = runs.iter().flat_map(|(n, o)| events(o).into_iter().filter(|e| e.ty == Ev::Drop as u8 && e.reason == Drop::TtlExpired as u16).map(move |e| (*n, e.src, e.dst))).collect();
    assert_eq!(ttl_drops, vec![(3, 1, 4)]);
    assert!(delivered(&runs).is_empty());
}

#[test]
fn a_message_with_this_node_as_source_is_dropped_and_not_forwarded() {
    let mut m = Mesh::new(&[1, 2, 3], &[(1, 3, 2), (2, 3, 3), (2, 1, 1), (3, 1, 2), (1, 2, 2), (3, 2, 2)], 10);
    m.connect_all();
    // 2 sends 3 a frame claiming to come from 3 itself.
    let i2 = m.idx(2);
    let pid = m.nodes[i2].peer[&3];
    let mut fr = vec![4u8, 5, 0, 3, 0, 3, 0, 60];
    fr.extend_from_slice(&frame(mac(3), mac(9), 60, 3));
    let mut rec = Vec::new();
    rec.extend_from_slice(&(pid as u32).to_le_bytes());
    rec.extend_from_slice(&(fr.len() as u32).to_le_bytes());
    rec.extend_from_slice(&fr);
    let out = m.run(2, Mode::Plain, &mut rec, 0);
    let runs = m.carry(2, out);
    assert!(delivered(&runs).is_empty());
    let d: Vec<_> = runs.iter().flat_map(|(n, o)| drops(&events(o)).into_iter().map(move |d| (*n, d))).collect();
    assert_eq!(d, vec![(3, Drop::OwnMessage)]);
    assert_eq!(runs.len(), 2, "nothing forwarded");
}

#[test]
fn tap_frames_short_large_and_without_session_are_reported() {
    let mut m = Mesh::new(&[1, 2, 3], &[(1, 2, 2), (2, 1, 1)], 5);
    // No handshakes: a frame for 2 queues (NoSession) rather than drops.
    let f = frame([0xff; 6], mac(1), 64, 1);
    let big = frame([0xff; 6], mac(1), eg_core::frame::MAX_FRAME_PAYLOAD + 1, 1);
    let mut input = tap_rec(&[vec![1, 2, 3], big, f.clone()]);
    let out = m.run(1, Mode::Tap, &mut input, 0);
    let ev = events(&out);
    assert_eq!(drops(&ev), vec![Drop::InterfaceRunt, Drop::FrameTooLarge]);
    let q: Vec<_> = ev.iter().filter(|e| e.ty == Ev::Queue as u8).collect();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].node, 2);
    assert_eq!(&q[0].payload[8..], &f[..]);
    assert_eq!(q[0].payload[..8], [4, 5, 0xff, 0xff, 0, 1, 0, 64]);
    assert_eq!(out.send_count, [0, 0]);
}

#[test]
fn a_learned_destination_without_a_route_is_a_no_route_drop() {
    let mut m = Mesh::new(&[1, 2, 3], &[(1, 2, 2), (2, 1, 1)], 5);
    m.connect_all();
    // 3 sends 1 a frame directly (dst 1): 1 delivers it and learns 3's MAC.
    let i3 = m.idx(3);
    let pid = m.nodes[i3].peer[&1];
    let mut fr = vec![4u8, 5, 0, 1, 0, 3, 0, 60];
    fr.extend_from_slice(&frame(mac(1), mac(3), 60, 3));
    let mut rec = Vec::new();
    rec.extend_from_slice(&(pid as u32).to_le_bytes());
    rec.extend_from_slice(&(fr.len() as u32).to_le_bytes());
    rec.extend_from_slice(&fr);
    let out = m.run(3, Mode::Plain, &mut rec, 0);
    let runs = m.carry(3, out);
    assert_eq!(delivered(&runs).len(), 1);
    // 1's answer to 3's MAC has no next hop in the table.
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[frame(mac(3), mac(1), 70, 4)]), 0);
    let ev = events(&out);
    let d: Vec<_> = ev.iter().filter(|e| e.ty == Ev::Drop as u8).map(|e| (Drop::from_code(e.reason as u8).unwrap(), e.src, e.dst)).collect();
    assert_eq!(d, vec![(Drop::NoRoute, 1, 3)]);
    assert_eq!(out.send_count, [0, 0]);
}

#[test]
fn replayed_and_garbage_datagrams_are_counted_wireguard_drops() {
    let mut m = Mesh::new(&[1, 2], &[(1, 2, 2), (2, 1, 1)], 5);
    m.connect_all();
    let f = frame([0xff; 6], mac(1), 64, 1);
    let out = m.run(1, Mode::Tap, &mut tap_rec(&[f]), 0);
    let sent = records(&out.send[0], UDP_REC, out.send_count[0]);
    let mut twice = udp_rec(1, &sent[0].1);
    twice.extend_from_slice(&udp_rec(1, &sent[0].1));
    twice.extend_from_slice(&udp_rec(1, &[4, 0, 0, 0, 1, 2]));
    let out = m.run(2, Mode::Udp, &mut twice, 4);
    let ev = events(&out);
    let w: Vec<_> = ev.iter().filter(|e| e.ty == Ev::Drop as u8).map(|e| (Drop::from_code(e.reason as u8).unwrap(), Reason::from_code(e.aux as u8))).collect();
    assert_eq!(w, vec![(Drop::Wireguard, Some(Reason::Replayed)), (Drop::Wireguard, Some(Reason::Truncated))]);
    assert_eq!(out.tap_count, 1);
}

/// The property test of the batch decoder: whatever the input (random records, cut records,
/// valid datagrams with flipped bits, frames of any length), process() never panics and its
/// outputs obey the layout: records chain exactly to the end of each area with the announced
/// counts, events decode with known types and drop codes, every TAP record is a frame longer
/// than 12 bytes, and every send record is at least a transport message or a handshake reply.
#[test]
fn batch_decoder_invariants_hold_for_random_and_mutated_batches() {
    let mut m = Mesh::new(&[1, 2, 3], &[(1, 2, 2), (1, 3, 2), (2, 1, 1), (2, 3, 3), (3, 1, 2), (3, 2, 2)], 3);
    m.connect_all();
    let mut rng = StdRng::seed_from_u64(0x9a7e);
    // Valid datagrams from 1 to 2 to mutate.
    let mut valid = Vec::new();
    for k in 0..8 {
        let out = m.run(1, Mode::Tap, &mut tap_rec(&[frame([0xff; 6], mac(1), 20 + k * 100, k as u8)]), 0);
        for (h, msg) in records(&out.send[0], UDP_REC, out.send_count[0]) {
            if node_of(&h) == 2 {
                valid.push(msg);
            }
        }
    }
    for round in 0..3000 {
        let mode = [Mode::Tap, Mode::Udp, Mode::Plain][rng.gen_range(0..3)];
        let mut input = Vec::new();
        for _ in 0..rng.gen_range(0..6) {
            match mode {
                Mode::Udp => {
                    let msg = if rng.gen_bool(0.5) && !valid.is_empty() {
                        let mut v = valid[rng.gen_range(0..valid.len())].clone();
                        if rng.gen_bool(0.7) {
                            let i = rng.gen_range(0..v.len());
                            v[i] ^= 1 << rng.gen_range(0..8);
                        }
                        v
                    } else {
                        let mut v = vec![0u8; rng.gen_range(0..200)];
                        rng.fill_bytes(&mut v);
                        if v.len() >= 4 && rng.gen_bool(0.5) {
                            v[0] = rng.gen_range(1..=4);
                            v[1..4].fill(0);
                        }
                        v
                    };
                    input.extend_from_slice(&udp_rec(1, &msg));
                }
                Mode::Tap => {
                    let len = [0, 5, 13, 14, 60, 1500][rng.gen_range(0..6)];
                    let mut f = vec![0u8; len];
                    rng.fill_bytes(&mut f);
                    input.extend_from_slice(&tap_rec(&[f]));
                }
                Mode::Plain => {
                    let len = rng.gen_range(0..100);
                    input.extend_from_slice(&(rng.gen_range(0..4u32)).to_le_bytes());
                    input.extend_from_slice(&(len as u32).to_le_bytes());
                    let mut p = vec![0u8; len];
                    rng.fill_bytes(&mut p);
                    input.extend_from_slice(&p);
                }
            }
        }
        if rng.gen_bool(0.2) && !input.is_empty() {
            // a cut record at the end, or a length word pointing past the end
            let cut = rng.gen_range(0..input.len());
            input.truncate(cut);
        }
        let node = [1, 2, 3][round % 3];
        let out = m.run(node, mode, &mut input, 4);
        events(&out);
        for (_, f) in records(&out.tap, TAP_REC, out.tap_count) {
            assert!(f.len() > 12);
        }
        assert!(out.send[1].is_empty() && out.send_count[1] == 0, "no IPv6 endpoint exists");
        for (_, msg) in records(&out.send[0], UDP_REC, out.send_count[0]) {
            assert!(msg.len() >= 32, "send record of {} bytes", msg.len());
            assert_eq!(msg.len() % 16, 0, "transport messages are padded: {}", msg.len());
        }
    }
}
