//! cargo-fuzz entry: the Etherguard header (eg_core::frame, docs/wire.md) on arbitrary plaintexts.
//! Invariants: whatever `parse` accepts re-encodes to the same bytes followed only by the zero
//! padding it allowed (< 16 bytes), and `parse_header` agrees with it; a header built from the
//! input (any kind, TTL, ids, payload) survives encode → pad to 16 → parse unchanged.
#![no_main]

use eg_core::frame::{encode, frame_len, parse, Header, Kind, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

const KINDS: [Kind; 7] = [
    Kind::NormalPacket,
    Kind::Register,
    Kind::ServerUpdate,
    Kind::PingPacket,
    Kind::PongPacket,
    Kind::QueryPeer,
    Kind::BroadcastPeer,
];

fuzz_target!(|data: &[u8]| {
    // 1. Arbitrary bytes as a decrypted plaintext.
    match parse(data) {
        Ok((h, payload)) => {
            assert_eq!(Header::parse_header(data), Ok(h));
            assert_eq!(payload.len(), h.len as usize);
            let mut out = vec![0u8; HEADER_LEN + payload.len()];
            let n = encode(h, payload, &mut out).expect("a parsed frame re-encodes");
            assert_eq!(&out[..n], &data[..n], "re-encoding changed the bytes");
            let pad = &data[n..];
            assert!(pad.len() < 16 && pad.iter().all(|&b| b == 0), "parse accepted bad padding");
        }
        Err(_) => {
            // A refused plaintext is refused for a reason the bytes show.
            if let Ok(h) = Header::parse_header(data) {
                let rest = data.len() - HEADER_LEN;
                let len = h.len as usize;
                assert!(len > rest || rest - len >= 16 || data[HEADER_LEN + len..].iter().any(|&b| b != 0));
            }
        }
    }
    // 2. A header and payload chosen by the input: decode(encode(x)) == x.
    if data.len() >= 6 {
        let h = Header {
            kind: KINDS[data[0] as usize % KINDS.len()],
            ttl: data[1],
            dst: u16::from_be_bytes([data[2], data[3]]),
            src: u16::from_be_bytes([data[4], data[5]]),
            len: 0,
        };
        let payload = &data[6..];
        let mut out = vec![0u8; frame_len(payload.len())];
        let n = encode(h, payload, &mut out).unwrap();
        assert_eq!(n, HEADER_LEN + payload.len());
        let (back, p) = parse(&out).expect("an encoded, zero-padded frame parses");
        assert_eq!(back, Header { len: payload.len() as u16, ..h });
        assert_eq!(p, payload);
    }
});
