//! Every length in the data path, swept around its boundaries: Etherguard payload and header,
//! padding, sealed transport message, batch slot. A length either fits (and round-trips
//! unchanged) or is refused with a named error before sealing; nothing wraps or truncates.
//! The limits are literals here on purpose (docs/wire.md §5 derives them).

mod wg_common;

use eg_core::frame::{self, FrameError, Header, Kind};
use eg_core::noise::wire::{
    padded_len, transport_len, MAX_PLAINTEXT_LEN, MAX_TRANSPORT_LEN, MAX_UDP_PAYLOAD_V4,
    MAX_UDP_PAYLOAD_V6,
};
use eg_core::noise::Reason;
use eg_core::session::{batch, Verdict};
use wg_common::*;

const UDP_V4: usize = 65_507;
const MAX_PT: usize = 65_472;
const MAX_FRAME: usize = 65_464;

/// `x-2 ..= x+2` for each boundary, plus the lengths whose sealed size wraps a u16.
fn around(points: &[usize]) -> Vec<usize> {
    let mut v: Vec<usize> = points
        .iter()
        .flat_map(|&p| p.saturating_sub(2)..=p + 2)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn limits_are_derived_from_the_field_widths() {
    assert_eq!(MAX_UDP_PAYLOAD_V4, UDP_V4);
    assert_eq!(MAX_UDP_PAYLOAD_V6, 65_527);
    assert_eq!(MAX_TRANSPORT_LEN, UDP_V4);
    assert_eq!(MAX_PLAINTEXT_LEN, MAX_PT);
    assert_eq!(frame::MAX_FRAME_PAYLOAD, MAX_FRAME);
    assert_eq!(frame::MAX_FRAME_PAYLOAD + frame::HEADER_LEN, MAX_PLAINTEXT_LEN);
    assert!(frame::MAX_FRAME_PAYLOAD <= frame::MAX_PAYLOAD, "the u16 length field holds it");
}

#[test]
fn padding_and_sealed_length_sweep_every_plaintext_length() {
    // Pure arithmetic, so every length up to past the u16 range.
    for len in 0..=70_000usize {
        let p = padded_len(len);
        assert_eq!(p % 16, 0, "{len}");
        assert!(p >= len && p < len + 16, "{len} pads to {p}");
        let t = transport_len(len);
        assert_eq!(t, 16 + p + 16, "{len}");
        assert_eq!(t <= UDP_V4, len <= MAX_PT, "{len}: sealed {t}");
    }
}

#[test]
fn single_seal_fits_one_datagram_or_is_refused() {
    let mut p = pair(None);
    p.handshake(1.0);
    let lens = around(&[MAX_PT, MAX_PT - 16, MAX_PT + 16, 65_475, 65_498, 65_515, 65_535]);
    let mut out = vec![0u8; 70_000];
    let mut opened = vec![0u8; 70_000];
    for len in lens {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        let r = p.a.encapsulate(&data, 2.0, &mut out);
        if len <= MAX_PT {
            let n = r.unwrap_or_else(|e| panic!("{len}: {e:?}"));
            assert_eq!(n, transport_len(len), "{len}");
            assert!(n <= UDP_V4, "{len}: sealed {n}");
            let v = p.b.decapsulate(&out[..n], SRC_A, 2.0, false, &mut opened);
            let Verdict::Data(range) = v else {
                panic!("{len}: {v:?}")
            };
            assert_eq!(range.len(), padded_len(len));
            assert_eq!(&opened[range.start..range.start + len], &data[..], "{len}");
        } else {
            assert_eq!(r, Err(Reason::FrameTooLarge), "{len}");
        }
    }
    // Refused even when the output buffer is too small as well: the size is the reason.
    assert_eq!(
        p.a.encapsulate(&vec![0u8; MAX_PT + 1], 2.0, &mut [0u8; 64]),
        Err(Reason::FrameTooLarge)
    );
}

#[test]
fn too_large_is_refused_before_the_session_check() {
    // No handshake yet: a sendable plaintext gets NoSession (and asks for a handshake), an
    // unsendable one FrameTooLarge (and must not: it would only be queued and dropped later).
    let mut p = pair(None);
    let mut out = vec![0u8; 70_000];
    assert_eq!(
        p.a.encapsulate(&vec![0u8; MAX_PT + 1], 1.0, &mut out),
        Err(Reason::FrameTooLarge)
    );
    assert!(p.a.tick(1.0, wall(1.0)).is_empty(), "no initiation for a refused plaintext");
    assert_eq!(
        p.a.encapsulate(&vec![0u8; MAX_PT], 1.0, &mut out),
        Err(Reason::NoSession)
    );
}

fn rd(buf: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(buf[off..off + 4].try_into().unwrap())
}

#[test]
fn batch_slots_near_64k_fit_or_fail_with_a_reason() {
    let mut p = pair(None);
    p.handshake(1.0);
    // A slot big enough for any u16 length, so only the datagram limit can refuse.
    let stride = batch::MIN_STRIDE + 65_536;
    let lens = around(&[MAX_PT, 65_498, 65_515, 65_535]);
    let mut buf = vec![0u8; stride * lens.len()];
    for (i, &len) in lens.iter().enumerate() {
        let s = &mut buf[i * stride..(i + 1) * stride];
        s[0..4].copy_from_slice(&(len as u32).to_le_bytes());
        for (k, b) in s[32..32 + len].iter_mut().enumerate() {
            *b = (k + i) as u8;
        }
    }
    let st = p.a.seal_batch(&mut buf, stride, lens.len(), 2.0).unwrap();
    let fits = lens.iter().filter(|&&l| l <= MAX_PT).count();
    assert_eq!((st.ok, st.failed), (fits, lens.len() - fits));
    for (i, &len) in lens.iter().enumerate() {
        let s = &buf[i * stride..(i + 1) * stride];
        let status = rd(s, 0);
        if len <= MAX_PT {
            assert_eq!(status as usize, transport_len(len), "slot {i} ({len})");
            assert!(status as usize <= UDP_V4);
        } else {
            assert_eq!(
                status,
                batch::STATUS_ERROR | Reason::FrameTooLarge.code() as u32,
                "slot {i} ({len})"
            );
        }
    }
    // Open the good ones in place on B: same plaintext, padded length in the status word.
    let mut good = Vec::new();
    for (i, &len) in lens.iter().enumerate() {
        if len > MAX_PT {
            continue;
        }
        let s = &buf[i * stride..(i + 1) * stride];
        let n = rd(s, 0) as usize;
        let mut slot = vec![0u8; stride];
        slot[0..4].copy_from_slice(&(n as u32).to_le_bytes());
        slot[16..16 + n].copy_from_slice(&s[16..16 + n]);
        good.push((i, len, slot));
    }
    let mut obuf: Vec<u8> = good.iter().flat_map(|g| g.2.clone()).collect();
    let st = p.b.open_batch(&mut obuf, stride, good.len(), 2.0).unwrap();
    assert_eq!(st.ok, good.len());
    for (k, (i, len, _)) in good.iter().enumerate() {
        let s = &obuf[k * stride..(k + 1) * stride];
        assert_eq!(rd(s, 0) as usize, padded_len(*len));
        assert!(s[32..32 + len].iter().enumerate().all(|(j, &b)| b == (j + i) as u8), "slot {i}");
    }
}

#[test]
fn frame_payload_lengths_around_the_limit() {
    let h = Header {
        kind: Kind::NormalPacket,
        ttl: 3,
        dst: 2,
        src: 1,
        len: 0,
    };
    let mut out = vec![0u8; 70_000];
    for len in around(&[MAX_FRAME, 65_527, 65_535]) {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let r = frame::encode(h, &payload, &mut out);
        if len <= MAX_FRAME {
            let n = r.unwrap_or_else(|e| panic!("{len}: {e:?}"));
            assert_eq!(n, 8 + len);
            assert!(transport_len(n) <= UDP_V4, "{len}: the frame seals into one datagram");
            // Padding as the WireGuard layer adds it, then parse back.
            let padded = padded_len(n);
            out[n..padded].fill(0);
            let (hh, p) = frame::parse(&out[..padded]).unwrap();
            assert_eq!(hh.len as usize, len);
            assert_eq!(p, &payload[..]);
            assert!(frame::write_header(h, len, &mut out).is_ok());
        } else {
            assert_eq!(r, Err(FrameError::PayloadTooLarge(len)), "{len}");
            assert_eq!(
                frame::write_header(h, len, &mut out),
                Err(FrameError::PayloadTooLarge(len)),
                "{len}"
            );
        }
    }
}
