//! Known-answer and reference checks for the transport AEAD's Poly1305. In the wasm32 SIMD128
//! build they run our own Poly1305 (`super::poly1305_simd`) and ChaCha20-Poly1305
//! (`super::chacha_simd`, what [`super::kdf::seal`]/[`super::kdf::open`] call there); the WASM
//! test suite calls them through the `wgPoly1305SelfTest` binding (test/wg-poly1305.test.ts).
//! Natively "ours" is RustCrypto's, so `cargo test` checks the vectors and the harness itself.

use poly1305::universal_hash::{KeyInit, UniversalHash};

use super::{kdf, Reason};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod ours {
    pub use super::super::chacha_simd::{open, seal};
    pub use super::super::poly1305_simd::{mac, Poly1305};
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod ours {
    use super::*;
    use chacha20poly1305::aead::AeadInPlace;
    use chacha20poly1305::{ChaCha20Poly1305, Tag};

    pub fn mac(key: &[u8; 32], msg: &[u8]) -> [u8; 16] {
        poly1305::Poly1305::new(key.into()).compute_unpadded(msg).into()
    }

    pub struct Poly1305(poly1305::Poly1305);
    impl Poly1305 {
        pub fn new(key: &[u8; 32]) -> Self {
            Poly1305(poly1305::Poly1305::new(key.into()))
        }
        pub fn update_padded(&mut self, d: &[u8]) {
            self.0.update_padded(d)
        }
        pub fn finalize(self) -> [u8; 16] {
            self.0.finalize().into()
        }
    }

    pub fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let c = ChaCha20Poly1305::new(key.into());
        c.encrypt_in_place_detached(nonce.into(), aad, buf).expect("below limit").into()
    }

    pub fn open(
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8],
    ) -> Result<(), Reason> {
        let c = ChaCha20Poly1305::new(key.into());
        c.decrypt_in_place_detached(nonce.into(), aad, buf, Tag::from_slice(tag))
            .map_err(|_| Reason::DecryptFailed)
    }
}

fn unhex(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    (0..b.len() / 2)
        .map(|i| {
            let d = |c: u8| (c as char).to_digit(16).expect("hex digit") as u8;
            d(b[2 * i]) << 4 | d(b[2 * i + 1])
        })
        .collect()
}

fn key32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32-byte key")
}

/// RFC 8439 §A.3 vector 2's and 3's text (the IETF contribution notice, 375 bytes).
const IETF_TEXT: &str = "Any submission to the IETF intended by the Contributor for publication as all or \
part of an IETF Internet-Draft or RFC and any statement made within the context of an IETF activity is \
considered an \"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as \
written and electronic communications made at any time or place, which are addressed to";

/// (key, message, tag) in hex: RFC 8439 §2.5.2, then Appendix A.3 vectors 1, 4–11 (2 and 3 use
/// [`IETF_TEXT`]). Vectors 5–11 are the reduction edge cases: h landing on or just past
/// 2^130−5, and carries that must not be dropped.
const POLY_VECTORS: &[(&str, &str, &str)] = &[
    (
        "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
        "43727970746f6772617068696320466f72756d2052657365617263682047726f7570",
        "a8061dc1305136c6c22b8baf0c0127a9",
    ),
    (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000",
    ),
    (
        "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
        "2754776173206272696c6c69672c20616e642074686520736c6974687920746f7665730a446964206779726520616e642067696d626c6520696e2074686520776162653a0a416c6c206d696d737920776572652074686520626f726f676f7665732c0a416e6420746865206d6f6d65207261746873206f757467726162652e",
        "4541669a7eaaee61e708dc7cbcc5eb62",
    ),
    (
        "0200000000000000000000000000000000000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffff",
        "03000000000000000000000000000000",
    ),
    (
        "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
        "02000000000000000000000000000000",
        "03000000000000000000000000000000",
    ),
    (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000",
        "05000000000000000000000000000000",
    ),
    (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101",
        "00000000000000000000000000000000",
    ),
    (
        "0200000000000000000000000000000000000000000000000000000000000000",
        "fdffffffffffffffffffffffffffffff",
        "faffffffffffffffffffffffffffffff",
    ),
    (
        "0100000000000000040000000000000000000000000000000000000000000000",
        "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000",
        "14000000000000005500000000000000",
    ),
    (
        "0100000000000000040000000000000000000000000000000000000000000000",
        "e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
        "13000000000000000000000000000000",
    ),
];

/// Runs the known-answer tests; returns how many failed (0 = all pass): RFC 8439 §2.5.2 and
/// Appendix A.3 (11 vectors) through Poly1305, and §2.8.2 (114 bytes, below the SIMD threshold)
/// and §A.5 (265 bytes, through [`kdf::seal`]/[`kdf::open`]) through ChaCha20-Poly1305 seal
/// (ciphertext and tag), open (plaintext back) and open with a flipped tag bit (refused).
pub fn known_answers() -> u32 {
    let mut bad = 0;
    let mut check = |ok: bool| bad += u32::from(!ok);
    for (k, m, t) in POLY_VECTORS {
        check(ours::mac(&key32(k), &unhex(m))[..] == unhex(t)[..]);
    }
    let text = IETF_TEXT.as_bytes();
    check(text.len() == 375);
    let s = "36e5f6b5c5e06070f0efca96227a863e";
    let zeros = "00000000000000000000000000000000";
    check(ours::mac(&key32(&format!("{zeros}{s}")), text)[..] == unhex(s)[..]);
    check(ours::mac(&key32(&format!("{s}{zeros}")), text)[..] == unhex("f3477e7cd95417af89a6b8794c310cf0")[..]);

    // §2.8.2: the AEAD as the transport runs it (a 12-byte nonce; WireGuard's puts the counter
    // in its last 8 bytes, this one has a non-zero first word, so it goes one level below kdf).
    let key: [u8; 32] = core::array::from_fn(|i| 0x80 + i as u8);
    let nonce: [u8; 12] = unhex("070000004041424344454647").try_into().unwrap();
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let plain: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let want_ct = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b\
         1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc\
         3ff4def08e4b7a9de576d26586cec64b6116",
    );
    let want_tag = unhex("1ae10b594f09e26a7e902ecbd0600691");
    let mut buf = plain.to_vec();
    let tag = ours::seal(&key, &nonce, &aad, &mut buf);
    check(buf == want_ct && tag[..] == want_tag[..]);
    let mut back = want_ct.clone();
    check(ours::open(&key, &nonce, &aad, &mut back, &want_tag).is_ok() && back == plain);
    let mut forged = want_tag.clone();
    forged[15] ^= 0x80;
    let mut refused = want_ct.clone();
    check(ours::open(&key, &nonce, &aad, &mut refused, &forged) == Err(Reason::DecryptFailed) && refused == want_ct);

    // §A.5: its nonce is WireGuard's form (zero word, then the counter little-endian), so it runs
    // through kdf::seal/open as transport messages do; 265 bytes take the four-way SIMD path.
    let key = key32("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
    let counter = 0x0807_0605_0403_0201;
    let aad = unhex("f33388860000000000004e91");
    let plain = "Internet-Drafts are draft documents valid for a maximum of six months and may be updated, \
replaced, or obsoleted by other documents at any time. It is inappropriate to use Internet-Drafts as \
reference material or to cite them other than as /\u{201c}work in progress./\u{201d}";
    let want_ct = unhex(
        "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0\
         bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855\
         9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e9\
         9040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a\
         0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130\
         305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b",
    );
    let want_tag = unhex("eead9d67890cbb22392336fea1851f38");
    check(want_ct.len() == 265 && plain.len() == 265);
    let mut buf = plain.as_bytes().to_vec();
    let tag = kdf::seal(&key, counter, &aad, &mut buf);
    check(buf == want_ct && tag[..] == want_tag[..]);
    let mut back = want_ct.clone();
    check(kdf::open(&key, counter, &aad, &mut back, &want_tag).is_ok() && back == plain.as_bytes());
    let mut forged = want_tag.clone();
    forged[0] ^= 1;
    let mut refused = want_ct.clone();
    check(kdf::open(&key, counter, &aad, &mut refused, &forged) == Err(Reason::DecryptFailed) && refused == want_ct);
    bad
}

use super::aead_check::XorShift;

/// Compares our Poly1305 with RustCrypto's for every message length 0..=2048 (both the plain MAC
/// and the AEAD's two zero-padded pieces split at a random point); returns (disagreements, cases).
/// Keys rotate through random ones and edge cases (r = 1, r all ones after clamping, s all
/// ones); message bytes through random, all 0xff (the accumulator at its largest) and all zero.
pub fn compare_with_reference(seed: u64) -> (u32, u32) {
    let mut rng = XorShift(seed | 1);
    let (mut bad, mut cases) = (0u32, 0u32);
    let mut msg = vec![0u8; 2048];
    for len in 0..=2048usize {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        match len % 5 {
            1 => key[..16].fill(0xff),
            2 => {
                key[..16].fill(0);
                key[0] = 1;
            }
            3 => key.fill(0xff),
            _ => {}
        }
        let m = &mut msg[..len];
        match (len / 5) % 3 {
            0 => rng.fill(m),
            1 => m.fill(0xff),
            _ => m.fill(0),
        }
        let m = &msg[..len];
        let theirs: [u8; 16] = poly1305::Poly1305::new((&key).into()).compute_unpadded(m).into();
        cases += 1;
        bad += u32::from(ours::mac(&key, m) != theirs);

        let cut = if len == 0 { 0 } else { (rng.next() as usize) % (len + 1) };
        let mut p = ours::Poly1305::new(&key);
        p.update_padded(&m[..cut]);
        p.update_padded(&m[cut..]);
        let mut q = poly1305::Poly1305::new((&key).into());
        q.update_padded(&m[..cut]);
        q.update_padded(&m[cut..]);
        let theirs: [u8; 16] = q.finalize().into();
        cases += 1;
        bad += u32::from(p.finalize() != theirs);
    }
    // h landing on each value from 2^130−8 to 2^130−1 (so p−3 .. p+4) before the final
    // reduction: r = 1, two full blocks of 2^128−1 and 2^128−1−k sum to 2^130−2−k.
    for k in 0..8u8 {
        let mut key = [0u8; 32];
        key[0] = 1;
        rng.fill(&mut key[16..]);
        let mut m = [0xffu8; 32];
        m[16] = 0xff - k;
        let theirs: [u8; 16] = poly1305::Poly1305::new((&key).into()).compute_unpadded(&m).into();
        cases += 1;
        bad += u32::from(ours::mac(&key, &m) != theirs);
    }
    (bad, cases)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc8439_poly1305_and_aead_vectors_pass() {
        assert_eq!(super::known_answers(), 0);
    }

    #[test]
    fn poly1305_agrees_with_reference_for_every_length_to_2048() {
        let (bad, cases) = super::compare_with_reference(42);
        assert_eq!((bad, cases), (0, 2 * 2049 + 8));
    }
}
