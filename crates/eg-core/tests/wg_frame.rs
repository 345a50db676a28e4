//! Etherguard header encode/parse, and its round trip through a WireGuard session.

mod wg_common;

use eg_core::frame::{self, FrameError, Header, Kind};
use eg_core::session::Verdict;
use wg_common::*;

fn hdr(kind: Kind) -> Header {
    Header {
        kind,
        ttl: 200,
        dst: 0x0102,
        src: 0xfffe,
        len: 0,
    }
}

#[test]
fn encode_layout() {
    let mut out = [0u8; 64];
    let n = frame::encode(hdr(Kind::NormalPacket), b"abc", &mut out).unwrap();
    assert_eq!(n, 11);
    assert_eq!(
        &out[..11],
        &[4, 200, 0x01, 0x02, 0xff, 0xfe, 0, 3, b'a', b'b', b'c']
    );
    assert_eq!(frame::frame_len(3), 16);
    assert_eq!(frame::frame_len(8), 16);
    assert_eq!(frame::frame_len(9), 32);
    for (b, k) in [
        (4, Kind::NormalPacket),
        (5, Kind::Register),
        (6, Kind::ServerUpdate),
        (7, Kind::PingPacket),
        (8, Kind::PongPacket),
        (9, Kind::QueryPeer),
        (10, Kind::BroadcastPeer),
    ] {
        assert_eq!(Kind::from_u8(b), Some(k));
        assert_eq!(k as u8, b);
    }
}

#[test]
fn parse_ok_with_and_without_padding() {
    let mut out = [0u8; 32];
    frame::encode(hdr(Kind::PingPacket), b"abc", &mut out).unwrap();
    let (h, p) = frame::parse(&out[..16]).unwrap();
    assert_eq!(
        h,
        Header {
            len: 3,
            ..hdr(Kind::PingPacket)
        }
    );
    assert_eq!(p, b"abc");
    let (_, p) = frame::parse(&out[..11]).unwrap();
    assert_eq!(p, b"abc");
    let (h, p) = frame::parse(&[10, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!((h.kind, p.len()), (Kind::BroadcastPeer, 0));
}

#[test]
fn parse_errors() {
    assert_eq!(frame::parse(&[]), Err(FrameError::TooShort { len: 0 }));
    assert_eq!(
        frame::parse(&[4, 1, 0, 0, 0, 0, 0]),
        Err(FrameError::TooShort { len: 7 })
    );
    assert_eq!(
        frame::parse(&[3, 1, 0, 0, 0, 0, 0, 0]),
        Err(FrameError::UnknownKind(3))
    );
    assert_eq!(
        frame::parse(&[11, 1, 0, 0, 0, 0, 0, 0]),
        Err(FrameError::UnknownKind(11))
    );
    assert_eq!(
        frame::parse(&[0, 1, 0, 0, 0, 0, 0, 0]),
        Err(FrameError::UnknownKind(0))
    );
    assert_eq!(
        frame::parse(&[4, 1, 0, 0, 0, 0, 0, 5, 1, 2]),
        Err(FrameError::LengthExceeds {
            declared: 5,
            available: 2
        })
    );
    let mut f = [0u8; 32];
    f[0] = 4;
    f[7] = 1;
    assert_eq!(frame::parse(&f), Err(FrameError::BadPadding)); // 23 bytes of padding
    assert!(frame::parse(&f[..24]).is_ok());
    f[20] = 1;
    assert_eq!(frame::parse(&f[..24]), Err(FrameError::BadPadding)); // non-zero padding
    let big = vec![0u8; 70_000];
    let mut out = vec![0u8; 70_100];
    assert_eq!(
        frame::encode(hdr(Kind::NormalPacket), &big, &mut out),
        Err(FrameError::PayloadTooLarge(70_000))
    );
    assert_eq!(
        frame::encode(hdr(Kind::NormalPacket), b"abc", &mut out[..10]),
        Err(FrameError::BufferTooSmall { need: 11 })
    );
}

#[test]
fn frame_through_tunnel() {
    let mut p = pair(None);
    p.handshake(1.0);
    let eth: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let mut pt = vec![0u8; 1100];
    let n = frame::encode(
        Header {
            kind: Kind::NormalPacket,
            ttl: 64,
            dst: 2,
            src: 1,
            len: 0,
        },
        &eth,
        &mut pt,
    )
    .unwrap();
    let mut msg = vec![0u8; 1200];
    let m = p.a.encapsulate(&pt[..n], 2.0, &mut msg).unwrap();
    assert_eq!(m, 32 + frame::frame_len(eth.len()));
    let mut out = vec![0u8; 1200];
    let Verdict::Data(r) = p.b.decapsulate(&msg[..m], SRC_A, 2.0, false, &mut out) else {
        panic!()
    };
    let (h, payload) = frame::parse(&out[r]).unwrap();
    assert_eq!(
        (h.kind, h.ttl, h.dst, h.src, h.len),
        (Kind::NormalPacket, 64, 2, 1, 1000)
    );
    assert_eq!(payload, &eth[..]);
}
