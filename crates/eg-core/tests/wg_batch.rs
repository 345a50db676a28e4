//! Batch in-place seal/open must equal the single-packet path byte for byte.

mod wg_common;

use eg_core::noise::Reason;
use eg_core::session::{batch, Config, Device, Verdict};
use wg_common::*;

const STRIDE: usize = 1536;

fn slot(buf: &mut [u8], i: usize) -> &mut [u8] {
    &mut buf[i * STRIDE..(i + 1) * STRIDE]
}
fn rd(buf: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(buf[off..off + 4].try_into().unwrap())
}

fn payload(i: usize) -> Vec<u8> {
    (0..(i * 37) % 1400).map(|x| (x ^ i) as u8).collect()
}

#[test]
fn batch_seal_equals_single_seal() {
    // Two identical pairs from the same seeds have identical keys.
    let mut p1 = pair_with(Config::default(), None, 0.0, 0.0, 21);
    let mut p2 = pair_with(Config::default(), None, 0.0, 0.0, 21);
    p1.handshake(1.0);
    p2.handshake(1.0);
    let n = 64;
    let mut buf = vec![0u8; STRIDE * n];
    for i in 0..n {
        let pl = payload(i);
        let s = slot(&mut buf, i);
        s[0..4].copy_from_slice(&(pl.len() as u32).to_le_bytes());
        s[4..8].copy_from_slice(&999u32.to_le_bytes()); // overwritten by Tunnel
        s[32..32 + pl.len()].copy_from_slice(&pl);
        s[32 + pl.len()..].fill(0xee); // garbage where padding goes
    }
    let st = p2.a.seal_batch(&mut buf, STRIDE, n, 2.0).unwrap();
    assert_eq!(st.ok, n);
    assert_eq!(st.failed, 0);
    for i in 0..n {
        let mut single = vec![0u8; STRIDE];
        let len = p1.a.encapsulate(&payload(i), 2.0, &mut single).unwrap();
        let s = slot(&mut buf, i);
        assert_eq!(rd(s, 0) as usize, len);
        assert_eq!(&s[16..16 + len], &single[..len], "slot {i}");
    }

    // Open the batch on B in place; compare with single-packet decapsulate on p1.b.
    let mut singles = Vec::new();
    for i in 0..n {
        let s = slot(&mut buf, i);
        let len = rd(s, 0) as usize;
        let mut out = vec![0u8; STRIDE];
        let v =
            p1.b.decapsulate(&s[16..16 + len], SRC_A, 2.0, false, &mut out);
        singles.push((v, out));
    }
    let st = p2.b.open_batch(&mut buf, STRIDE, n, 2.0).unwrap();
    assert_eq!(st.ok, n);
    for (i, (v, out)) in singles.iter().enumerate() {
        let s = slot(&mut buf, i);
        let plen = rd(s, 0) as usize;
        assert_eq!(rd(s, 4), 0);
        let pl = payload(i);
        assert_eq!(plen, pl.len().div_ceil(16) * 16);
        assert_eq!(&s[32..32 + pl.len()], &pl[..]);
        match v {
            Verdict::Data(r) => assert_eq!(&out[r.clone()], &s[32..32 + plen]),
            Verdict::Keepalive => assert_eq!(plen, 0),
            v => panic!("{v:?}"),
        }
    }
    // opening the same batch again: all replays (slots were overwritten by plaintext, so
    // re-seal first via the single path to get the same messages)
    assert_eq!(
        p1.a.peer().current().unwrap().send_counter(),
        p2.a.peer().current().unwrap().send_counter()
    );
}

#[test]
fn batch_open_reports_per_slot_errors() {
    let mut p = pair(None);
    p.handshake(1.0);
    let mut buf = vec![0u8; STRIDE * 6];
    let mut msg = vec![0u8; 64];
    let n = p.a.encapsulate(b"ok", 2.0, &mut msg).unwrap();
    let good = msg[..n].to_vec();
    let n = p.a.encapsulate(b"ok2", 2.0, &mut msg).unwrap();
    let good2 = msg[..n].to_vec();
    let mut put = |i: usize, d: &[u8]| {
        let s = slot(&mut buf, i);
        s[0..4].copy_from_slice(&(d.len() as u32).to_le_bytes());
        s[16..16 + d.len()].copy_from_slice(d);
    };
    put(0, &good);
    put(1, &good); // replay
    let mut bad = good2.clone();
    bad[20] ^= 0x40;
    put(2, &bad);
    put(3, &good[..20]);
    let mut init = [0u8; 148];
    p.a.format_initiation(2.0, wall(2.0), &mut init).unwrap();
    put(4, &init);
    let mut unk = good.clone();
    unk[4] ^= 0xff;
    put(5, &unk);
    let st = p.b.open_batch(&mut buf, STRIDE, 6, 2.0).unwrap();
    assert_eq!((st.ok, st.failed), (1, 5));
    let status = |buf: &[u8], i: usize| rd(&buf[i * STRIDE..], 0);
    assert_eq!(status(&buf, 0), 16);
    let err = |r: Reason| batch::STATUS_ERROR | r.code() as u32;
    assert_eq!(status(&buf, 1), err(Reason::Replayed));
    assert_eq!(status(&buf, 2), err(Reason::DecryptFailed));
    assert_eq!(status(&buf, 3), err(Reason::Truncated));
    assert_eq!(status(&buf, 4), err(Reason::NotTransport));
    assert_eq!(status(&buf, 5), err(Reason::UnknownIndex));
    assert_eq!(rd(&buf[5 * STRIDE..], 4), batch::NO_PEER);
    // bad geometry
    assert_eq!(
        p.b.open_batch(&mut buf, 40, 1, 2.0),
        Err(Reason::BufferTooSmall)
    );
    assert_eq!(
        p.b.open_batch(&mut buf, STRIDE, 7, 2.0),
        Err(Reason::BufferTooSmall)
    );
}

#[test]
fn batch_seal_errors_and_capacity() {
    let mut p = pair(None);
    let mut buf = vec![0u8; 128 * 3];
    buf[0..4].copy_from_slice(&5u32.to_le_bytes());
    let st = p.a.seal_batch(&mut buf, 128, 1, 1.0).unwrap();
    assert_eq!(st.failed, 1);
    assert_eq!(
        rd(&buf, 0),
        batch::STATUS_ERROR | Reason::NoSession.code() as u32
    );
    p.handshake(1.0);
    assert_eq!(batch::plaintext_capacity(128), 80);
    for (i, len) in [80u32, 81, 200].into_iter().enumerate() {
        buf[i * 128..i * 128 + 4].copy_from_slice(&len.to_le_bytes());
    }
    let st = p.a.seal_batch(&mut buf, 128, 3, 1.0).unwrap();
    assert_eq!((st.ok, st.failed), (1, 2));
    assert_eq!(rd(&buf, 0), 128 - 16);
    assert_eq!(
        rd(&buf, 128),
        batch::STATUS_ERROR | Reason::BufferTooSmall.code() as u32
    );
}

#[test]
fn device_batch_routes_by_peer() {
    let (d_priv, d_pub) = static_key(300);
    let mut dev = Device::new(d_priv, Config::default(), rng(300));
    let mut tun = Vec::new();
    for i in 0..3u64 {
        let (pk, pubk) = static_key(310 + i);
        dev.add_peer(pubk, None, 0.0).unwrap();
        let mut t =
            eg_core::session::Tunnel::new(pk, d_pub, None, 0.0, Config::default(), rng(320 + i))
                .unwrap();
        let mut init = [0u8; 148];
        t.format_initiation(1.0, wall(1.0), &mut init).unwrap();
        let mut out = [0u8; 256];
        let (_, Verdict::WriteToNetwork(n)) = dev.decapsulate(&init, SRC_A, 1.0, false, &mut out)
        else {
            panic!()
        };
        let resp = out[..n].to_vec();
        let Verdict::SessionReady(n) = t.decapsulate(&resp, SRC_B, 1.0, false, &mut out) else {
            panic!()
        };
        let ka = out[..n].to_vec();
        dev.decapsulate(&ka, SRC_A, 1.0, false, &mut out);
        tun.push(t);
    }
    let mut buf = vec![0u8; STRIDE * 6];
    for i in 0..6 {
        let s = slot(&mut buf, i);
        s[0..4].copy_from_slice(&3u32.to_le_bytes());
        s[4..8].copy_from_slice(&((i % 3) as u32).to_le_bytes());
        s[32..35].copy_from_slice(&[i as u8; 3]);
    }
    let st = dev.seal_batch(&mut buf, STRIDE, 6, 2.0).unwrap();
    assert_eq!(st.ok, 6);
    for i in 0..6 {
        let s = slot(&mut buf, i);
        let len = rd(s, 0) as usize;
        let mut out = [0u8; 64];
        let Verdict::Data(r) =
            tun[i % 3].decapsulate(&s[16..16 + len], SRC_B, 2.0, false, &mut out)
        else {
            panic!()
        };
        assert_eq!(&out[r.start..r.start + 3], &[i as u8; 3]);
    }
    // and back: peers seal, device opens with peer ids reported
    for i in 0..6 {
        let mut m = [0u8; 64];
        let n = tun[i % 3]
            .encapsulate(&[0x50 + i as u8], 3.0, &mut m)
            .unwrap();
        let s = slot(&mut buf, i);
        s[0..4].copy_from_slice(&(n as u32).to_le_bytes());
        s[16..16 + n].copy_from_slice(&m[..n]);
    }
    let st = dev.open_batch(&mut buf, STRIDE, 6, 3.0).unwrap();
    assert_eq!(st.ok, 6);
    for i in 0..6 {
        let s = slot(&mut buf, i);
        assert_eq!(rd(s, 0), 16);
        assert_eq!(rd(s, 4) as usize, i % 3);
        assert_eq!(s[32], 0x50 + i as u8);
    }
    // unknown peer id in a seal slot
    slot(&mut buf, 0)[4..8].copy_from_slice(&77u32.to_le_bytes());
    slot(&mut buf, 0)[0..4].copy_from_slice(&1u32.to_le_bytes());
    dev.seal_batch(&mut buf, STRIDE, 1, 3.0).unwrap();
    assert_eq!(
        rd(&buf, 0),
        batch::STATUS_ERROR | Reason::BadPeer.code() as u32
    );
}
