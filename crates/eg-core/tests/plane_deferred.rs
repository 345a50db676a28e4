//! Deferred AEAD (worker threads): batches sealed or opened through AEAD jobs
//! (eg_core::session::aead, Plane::set_defer_aead) are byte-for-byte what the direct path makes,
//! interoperate with it in both directions, and keep the direct path's rules: one job per
//! record in batch order, replays inside one batch refused, forged messages refused, a batch
//! with a handshake message not deferred, a bad job table failing instead of panicking.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::plane::layout::*;
use eg_core::plane::{Drop, EdgeConfig, Endpoint, Ev, Mode, Output, Plane, Routes};
use eg_core::session::aead::{self, job};
use eg_core::session::{Config, Device};
use wg_common::*;

const NOW: f64 = 10.0;

struct Node {
    dev: Device,
    plane: Plane,
}

fn ep(id: u16) -> Endpoint {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, id as u8]);
    Endpoint { family: 4, port: 1000 + id, addr }
}

/// Nodes 1 and 2 with a session (peer id 0 on both), built from fixed seeds: two calls give two
/// identical pairs.
fn pair(offload: bool) -> [Node; 2] {
    let keys = [static_key(71), static_key(72)];
    let mut n: Vec<Node> = (0..2)
        .map(|i| {
            let id = i as u16 + 1;
            let mut dev = Device::new(keys[i].0, Config::default(), rng(900 + i as u64));
            let mut plane = Plane::new();
            plane.configure_edge(EdgeConfig { me: id, default_ttl: 5, fib_timeout: 30.0, dedup_timeout: 40.0, log_normal: false, log_transit: false });
            plane.set_routes(Routes::from_rows(&[(1, 2, 2), (2, 1, 1)]).unwrap());
            let pid = dev.add_peer(keys[1 - i].1, None, 0.0).unwrap();
            plane.set_peer(pid, 3 - id, false);
            plane.set_endpoint(pid, Some(ep(3 - id)));
            if offload {
                plane.set_tap_offload(eg_core::plane::TapOffload { vnet: true, mtu: 1400 });
            }
            Node { dev, plane }
        })
        .collect();
    let mut init = vec![0u8; 148];
    n[0].dev.format_initiation(0, NOW, wall(NOW), &mut init).unwrap();
    let out = run(&mut n[1], Mode::Udp, &mut udp_rec(1, &init));
    let resp = msgs(&out)[0].clone();
    let out = run(&mut n[0], Mode::Udp, &mut udp_rec(2, &resp));
    let ka = msgs(&out)[0].clone();
    run(&mut n[1], Mode::Udp, &mut udp_rec(1, &ka));
    let [a, b]: [Node; 2] = n.try_into().ok().unwrap();
    [a, b]
}

fn run(n: &mut Node, mode: Mode, input: &mut [u8]) -> Output {
    let mut out = Output::default();
    n.plane.process(&mut n.dev, mode, input, 4, NOW, &mut out).unwrap();
    out
}

/// `run` with deferred AEAD: process, every job run (in `chunks` pieces, on copies of their part
/// of the area, as worker threads do), then the open finished.
fn run_deferred(n: &mut Node, mode: Mode, input: &mut [u8], chunks: usize) -> Output {
    let mut out = Output::default();
    n.plane.set_defer_aead(true);
    n.plane.process(&mut n.dev, mode, input, 4, NOW, &mut out).unwrap();
    n.plane.set_defer_aead(false);
    if n.plane.open_pending() {
        let open = std::mem::take(&mut out.jobs.open);
        out.jobs.open = run_in_pieces(input, open, false, chunks);
        // As WgDevice.finishOpen: what the batch relays is sealed as jobs too.
        n.plane.set_defer_aead(true);
        n.plane.finish_open(&mut n.dev, input, NOW, &mut out);
        n.plane.set_defer_aead(false);
    }
    let seal = std::mem::take(&mut out.jobs.seal[0]);
    out.jobs.seal[0] = run_in_pieces(&mut out.send[0], seal, true, chunks);
    out
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Runs the jobs of `table` in `chunks` contiguous pieces, each on a copy of just the area bytes
/// its jobs cover, copied back afterwards (what a worker with its own WASM memory does).
fn run_in_pieces(area: &mut [u8], mut table: Vec<u8>, seal: bool, chunks: usize) -> Vec<u8> {
    let n = table.len() / job::LEN;
    let per = n.div_ceil(chunks.max(1)).max(1);
    let mut i = 0;
    while i < n {
        let j = (i + per).min(n);
        let t = &mut table[i * job::LEN..j * job::LEN];
        let todo: Vec<usize> = (0..j - i).filter(|&k| le32(t, k * job::LEN + job::STATUS) == job::TODO as usize).collect();
        if let (Some(&f), Some(&l)) = (todo.first(), todo.last()) {
            let lo = le32(t, f * job::LEN + job::OFF);
            let hi = le32(t, l * job::LEN + job::OFF) + le32(t, l * job::LEN + job::BODY) + 16;
            let mut copy = area[lo..hi].to_vec();
            aead::run_jobs(&mut copy, lo, t, seal);
            area[lo..hi].copy_from_slice(&copy);
        }
        i = j;
    }
    table
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

/// The datagrams of the IPv4 send area.
fn msgs(out: &Output) -> Vec<Vec<u8>> {
    let b = &out.send[0];
    let mut v = Vec::new();
    let mut off = 0;
    while off + UDP_REC <= b.len() {
        let len = u16::from_be_bytes([b[off], b[off + 1]]) as usize;
        v.push(b[off + UDP_REC..off + UDP_REC + len].to_vec());
        off += UDP_REC + len;
    }
    assert_eq!(v.len() as u32, out.send_count[0]);
    v
}

fn batch_of(from: u16, ms: &[Vec<u8>]) -> Vec<u8> {
    ms.iter().flat_map(|m| udp_rec(from, m)).collect()
}

/// The frames of a TAP area (no vnet header).
fn tap_frames(out: &Output) -> Vec<Vec<u8>> {
    let b = &out.tap;
    let mut v = Vec::new();
    let mut off = 0;
    while off + TAP_REC <= b.len() {
        let len = u16::from_be_bytes([b[off], b[off + 1]]) as usize;
        v.push(b[off + TAP_REC..off + TAP_REC + len].to_vec());
        off += TAP_REC + len;
    }
    v
}

fn frames(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut f = vec![(i * 7) as u8; 60 + (i * 97) % 1300];
            f[..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
            f[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
            f[12] = 0x88;
            f[13] = 0xb5;
            f
        })
        .collect()
}

fn tap_batch(fs: &[Vec<u8>]) -> Vec<u8> {
    fs.iter().flat_map(|f| [&(f.len() as u16).to_be_bytes()[..], f].concat()).collect()
}

/// (drop reason, WireGuard reason) of every Drop event.
fn drops(out: &Output) -> Vec<(Drop, Option<Reason>)> {
    let b = &out.events;
    let mut v = Vec::new();
    let mut off = 0;
    while off + EV_HEADER <= b.len() {
        let len = le32(b, off + EV_LEN);
        if b[off + EV_TYPE] == Ev::Drop as u8 {
            let r = u16::from_le_bytes([b[off + EV_REASON], b[off + EV_REASON + 1]]);
            let aux = u16::from_le_bytes([b[off + EV_AUX], b[off + EV_AUX + 1]]);
            v.push((Drop::from_code(r as u8).unwrap(), Reason::from_code(aux as u8)));
        }
        off += EV_HEADER + len;
    }
    v
}

#[test]
fn a_batch_sealed_through_jobs_is_byte_for_byte_the_direct_seal() {
    let [mut a1, _] = pair(false);
    let [mut a2, _] = pair(false);
    let fs = frames(40);
    let direct = run(&mut a1, Mode::Tap, &mut tap_batch(&fs));
    let deferred = run_deferred(&mut a2, Mode::Tap, &mut tap_batch(&fs), 3);
    assert_eq!(direct.send_count[0], 40);
    assert_eq!(deferred.jobs.seal[0].len(), 40 * job::LEN);
    assert_eq!(msgs(&direct), msgs(&deferred));
    assert_eq!(direct.events, deferred.events, "same events (peer tx counters)");
}

#[test]
fn sealed_by_jobs_opens_directly_and_sealed_directly_opens_by_jobs() {
    let [mut a, mut b] = pair(false);
    let fs = frames(30);
    // Jobs at the sender, direct open at the receiver.
    let out = run_deferred(&mut a, Mode::Tap, &mut tap_batch(&fs), 4);
    let got = run(&mut b, Mode::Udp, &mut batch_of(1, &msgs(&out)));
    assert_eq!(tap_frames(&got), fs);
    assert!(drops(&got).is_empty(), "{:?}", drops(&got));
    // Direct seal, jobs at the receiver; then jobs on both sides.
    let out = run(&mut a, Mode::Tap, &mut tap_batch(&fs));
    let got = run_deferred(&mut b, Mode::Udp, &mut batch_of(1, &msgs(&out)), 4);
    assert_eq!(tap_frames(&got), fs);
    assert!(drops(&got).is_empty(), "{:?}", drops(&got));
    let out = run_deferred(&mut b, Mode::Tap, &mut tap_batch(&fs), 2);
    let got = run_deferred(&mut a, Mode::Udp, &mut batch_of(2, &msgs(&out)), 5);
    assert_eq!(tap_frames(&got), fs);
}

#[test]
fn an_opened_batch_through_jobs_has_the_direct_outputs_with_offloads() {
    // TCP-free frames skip GRO; with vnet on each delivered frame carries a zero vnet header:
    // both paths must write the same TAP area and the same events.
    let [mut a1, mut b1] = pair(true);
    let [mut a2, mut b2] = pair(true);
    let fs = frames(25);
    let vnet: Vec<Vec<u8>> = fs.iter().map(|f| [&[0u8; 10][..], f].concat()).collect();
    let s1 = run(&mut a1, Mode::Tap, &mut tap_batch(&vnet));
    let s2 = run_deferred(&mut a2, Mode::Tap, &mut tap_batch(&vnet), 2);
    assert_eq!(msgs(&s1), msgs(&s2));
    let r1 = run(&mut b1, Mode::Udp, &mut batch_of(1, &msgs(&s1)));
    let r2 = run_deferred(&mut b2, Mode::Udp, &mut batch_of(1, &msgs(&s2)), 3);
    assert_eq!(r1.tap, r2.tap);
    assert_eq!(r1.tap_count, 25);
    assert_eq!(r1.events, r2.events);
}

#[test]
fn a_replay_inside_a_deferred_batch_and_a_forged_message_are_refused() {
    let [mut a, mut b] = pair(false);
    let fs = frames(3);
    let out = run(&mut a, Mode::Tap, &mut tap_batch(&fs));
    let mut ms = msgs(&out);
    let mut forged = ms[2].clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    ms.insert(1, ms[0].clone()); // the same counter twice in one batch
    ms.push(forged);
    let got = run_deferred(&mut b, Mode::Udp, &mut batch_of(1, &ms), 2);
    assert_eq!(tap_frames(&got), fs, "each message delivered once, in order");
    assert_eq!(
        drops(&got),
        vec![(Drop::Wireguard, Some(Reason::Replayed)), (Drop::Wireguard, Some(Reason::DecryptFailed))],
        "the in-batch duplicate fails its commit; the forged copy of message 3 passed the replay \
         check before the batch was opened (the direct path names it Replayed), and fails the AEAD"
    );
    // A forged message whose counter is new: fails the AEAD, nothing delivered.
    let out = run(&mut a, Mode::Tap, &mut tap_batch(&fs[..1]));
    let mut m = msgs(&out)[0].clone();
    m[20] ^= 0x40;
    let got = run_deferred(&mut b, Mode::Udp, &mut batch_of(1, &[m.clone(), m]), 1);
    assert_eq!(got.tap_count, 0);
    assert_eq!(drops(&got), vec![(Drop::Wireguard, Some(Reason::DecryptFailed)); 2]);
}

#[test]
fn a_batch_with_a_handshake_message_is_not_deferred() {
    let [mut a, mut b] = pair(false);
    let fs = frames(2);
    let out = run(&mut a, Mode::Tap, &mut tap_batch(&fs));
    let mut ms = msgs(&out);
    ms.push(vec![1, 0, 0, 0, 9, 9]); // not transport data: a (truncated) handshake type
    let mut input = batch_of(1, &ms);
    let mut o = Output::default();
    b.plane.set_defer_aead(true);
    b.plane.process(&mut b.dev, Mode::Udp, &mut input, 4, NOW, &mut o).unwrap();
    assert!(!b.plane.open_pending());
    assert!(o.jobs.open.is_empty());
    assert_eq!(tap_frames(&o), fs);
    assert_eq!(drops(&o).len(), 1);
}

#[test]
fn a_job_table_pointing_outside_its_data_fails_without_panicking() {
    let [mut a, _] = pair(false);
    let mut out = Output::default();
    a.plane.set_defer_aead(true);
    a.plane.process(&mut a.dev, Mode::Tap, &mut tap_batch(&frames(3)), 4, NOW, &mut out).unwrap();
    let mut table = out.jobs.seal[0].clone();
    // Job 0 rebased past the data, job 1 with a huge length, job 2 intact but offset by `base`.
    table[job::OFF..job::OFF + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    table[job::LEN + job::BODY..job::LEN + job::BODY + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let failed = aead::run_jobs(&mut out.send[0], 0, &mut table, true);
    assert_eq!(failed, 2);
    assert_eq!(aead::status(&table, 0), Some(job::FAILED | Reason::BufferTooSmall.code() as u32));
    assert_eq!(aead::status(&table, 1), Some(job::FAILED | Reason::BufferTooSmall.code() as u32));
    assert_eq!(aead::status(&table, 2), Some(job::DONE));
    assert!(table.chunks(job::LEN).all(|j| j[job::KEY..].iter().all(|&b| b == 0)), "keys erased after the run");
    // A base larger than an offset is refused too.
    let mut t2 = out.jobs.seal[0].clone();
    assert_eq!(aead::run_jobs(&mut out.send[0], 1 << 20, &mut t2, true), 3);
}

/// Deferred and direct processing of the same hostile UDP batches (genuine messages, duplicates,
/// flipped bits, cut records, random bytes, in random order) on two identical pairs: never a
/// panic, the same frames delivered, the same datagrams sent, the same number of drops (the
/// reason may differ for a forged copy of a message in the same batch; see the replay test).
#[test]
fn deferred_and_direct_agree_on_hostile_batches() {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    let [mut a1, mut b1] = pair(true);
    let [mut a2, mut b2] = pair(true);
    let mut rng = StdRng::seed_from_u64(0x5eed_a7ad);
    for round in 0..60 {
        let fs: Vec<Vec<u8>> = frames(1 + rng.gen_range(0..20)).into_iter().map(|f| [&[0u8; 10][..], &f].concat()).collect();
        let s1 = run(&mut a1, Mode::Tap, &mut tap_batch(&fs));
        let s2 = run_deferred(&mut a2, Mode::Tap, &mut tap_batch(&fs), 1 + round % 4);
        assert_eq!(msgs(&s1), msgs(&s2), "round {round}: sealed alike");
        let mut ms = msgs(&s1);
        for _ in 0..rng.gen_range(0..8) {
            let i = rng.gen_range(0..ms.len());
            let mut m = ms[i].clone();
            match rng.gen_range(0..4) {
                0 => {}
                1 => {
                    let at = rng.gen_range(0..m.len());
                    m[at] ^= 1 << rng.gen_range(0..8);
                }
                2 => m.truncate(rng.gen_range(0..m.len())),
                _ => rng.fill(&mut m[..]),
            }
            let at = rng.gen_range(0..=ms.len());
            ms.insert(at, m);
        }
        let mut batch = batch_of(1, &ms);
        if rng.gen_bool(0.2) {
            batch.truncate(rng.gen_range(0..batch.len()));
        }
        let r1 = run(&mut b1, Mode::Udp, &mut batch.clone());
        let r2 = run_deferred(&mut b2, Mode::Udp, &mut batch, 1 + round % 3);
        assert_eq!(r1.tap, r2.tap, "round {round}: same TAP area");
        assert_eq!(r1.tap_count, r2.tap_count);
        assert_eq!(r1.send, r2.send, "round {round}: same send areas");
        assert_eq!(drops(&r1).len(), drops(&r2).len(), "round {round}: same number of drops");
    }
}
