//! Known-answer tests for the primitives and an independent re-implementation of the
//! WireGuard initiator (written here directly on the primitive crates) that must agree
//! byte for byte with eg_core and complete a session with it.

mod wg_common;

use blake2::digest::consts::U16;
use blake2::digest::{Digest, KeyInit, Mac};
use blake2::{Blake2s256, Blake2sMac};
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use eg_core::noise::cookie::CookieState;
use eg_core::noise::handshake::create_initiation;
use eg_core::noise::kdf;
use eg_core::noise::keys::{self, Identity, Remote};
use eg_core::noise::Tai64N;
use eg_core::session::{Config, Device, Verdict};
use wg_common::*;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}
fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

// ---------- independent reference primitives ----------

fn r_hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Blake2s256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

/// HMAC by its definition (RFC 2104) over BLAKE2s (64-byte block).
fn r_hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&r_hash(&[key]));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = r_hash(&[&ipad, data]);
    r_hash(&[&opad, &inner])
}

fn r_kdf(ck: &[u8; 32], input: &[u8], n: usize) -> Vec<[u8; 32]> {
    let t0 = r_hmac(ck, input);
    let mut out: Vec<[u8; 32]> = Vec::new();
    let mut prev: Vec<u8> = Vec::new();
    for i in 1..=n {
        let mut m = prev.clone();
        m.push(i as u8);
        let t = r_hmac(&t0, &m);
        prev = t.to_vec();
        out.push(t);
    }
    out
}

fn r_aead(key: &[u8; 32], counter: u64, aad: &[u8], pt: &[u8]) -> Vec<u8> {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    ChaCha20Poly1305::new(key.into())
        .encrypt((&n).into(), Payload { msg: pt, aad })
        .unwrap()
}

fn r_aead_open(key: &[u8; 32], counter: u64, aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    ChaCha20Poly1305::new(key.into())
        .decrypt((&n).into(), Payload { msg: ct, aad })
        .ok()
}

fn r_mac(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut m = <Blake2sMac<U16> as KeyInit>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().into()
}

// ---------- constants ----------

#[test]
fn initial_chaining_key_and_hash() {
    assert_eq!(
        kdf::initial_chaining_key(),
        h32("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36")
    );
    assert_eq!(
        kdf::initial_hash(),
        h32("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3")
    );
    assert_eq!(kdf::CONSTRUCTION, b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    assert_eq!(kdf::IDENTIFIER, b"WireGuard v1 zx2c4 Jason@zx2c4.com");
    assert_eq!(kdf::LABEL_MAC1, b"mac1----");
    assert_eq!(kdf::LABEL_COOKIE, b"cookie--");
}

#[test]
fn blake2s_known_answers() {
    assert_eq!(
        kdf::hash(&[b""]),
        h32("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9")
    );
    assert_eq!(
        kdf::hash(&[b"abc"]),
        h32("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982")
    );
    assert_eq!(kdf::hash(&[b"a", b"bc"]), kdf::hash(&[b"abc"]));
}

#[test]
fn hmac_and_kdf_chain_match_definition() {
    for (key, data) in [
        (vec![0u8; 32], b"".to_vec()),
        ((0u8..32).collect::<Vec<_>>(), b"WireGuard".to_vec()),
        (vec![0xaa; 80], vec![0x55; 200]),
        (vec![7u8; 16], (0u8..=255).collect()),
    ] {
        assert_eq!(kdf::hmac(&key, &[&data]), r_hmac(&key, &data));
    }
    let ck = kdf::initial_chaining_key();
    for input in [&b""[..], &[1u8; 32][..], &[0xffu8; 77][..]] {
        let r = r_kdf(&ck, input, 3);
        assert_eq!(kdf::kdf1(&ck, input), r[0]);
        assert_eq!(kdf::kdf2(&ck, input), (r[0], r[1]));
        assert_eq!(kdf::kdf3(&ck, input), (r[0], r[1], r[2]));
    }
    // mac is keyed BLAKE2s with a 16-byte digest (not a truncation of the 32-byte one).
    let k = [3u8; 32];
    assert_eq!(kdf::mac(&k, b"hello"), r_mac(&k, b"hello"));
    assert_ne!(kdf::mac(&k, b"hello")[..], kdf::hmac(&k, &[b"hello"])[..16]);
}

#[test]
fn chacha20poly1305_rfc8439_vector() {
    // RFC 8439 section 2.8.2
    let key = h32("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce = h("070000004041424344454647");
    let aad = h("50515253c0c1c2c3c4c5c6c7");
    let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    let expect_ct = h("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116");
    let expect_tag = h("1ae10b594f09e26a7e902ecbd0600691");
    let c = ChaCha20Poly1305::new((&key).into());
    let out = c
        .encrypt(nonce.as_slice().into(), Payload { msg: pt, aad: &aad })
        .unwrap();
    assert_eq!(&out[..pt.len()], &expect_ct[..]);
    assert_eq!(&out[pt.len()..], &expect_tag[..]);

    // Our seal/open use nonce = 4 zero bytes || LE64(counter).
    assert_eq!(
        kdf::nonce(0x0807060504030201),
        [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    );
    let mut buf = pt.to_vec();
    let tag = kdf::seal(&key, 42, &aad, &mut buf);
    let mut joined = buf.clone();
    joined.extend_from_slice(&tag);
    assert_eq!(joined, r_aead(&key, 42, &aad, pt));
    kdf::open(&key, 42, &aad, &mut buf, &tag).unwrap();
    assert_eq!(&buf[..], &pt[..]);
    let mut bad = tag;
    bad[0] ^= 1;
    assert!(kdf::open(&key, 42, &aad, &mut buf.clone(), &bad).is_err());
}

#[test]
fn xchacha_cookie_seal_roundtrip() {
    let key = [9u8; 32];
    let nonce = [4u8; 24];
    let mut c = *b"sixteen byte ck!";
    let tag = kdf::xseal(&key, &nonce, b"aad", &mut c);
    assert_ne!(&c, b"sixteen byte ck!");
    kdf::xopen(&key, &nonce, b"aad", &mut c, &tag).unwrap();
    assert_eq!(&c, b"sixteen byte ck!");
    assert!(kdf::xopen(&key, &nonce, b"aaX", &mut c, &tag).is_err());
}

#[test]
fn x25519_rfc7748_vectors() {
    // Section 5.2, first vector.
    let k = h32("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    let u = h32("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    assert_eq!(
        keys::x25519(k, u),
        h32("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    );
    // Section 6.1 Diffie-Hellman.
    let a = h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let b = h32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    assert_eq!(
        keys::public_key(&a),
        h32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    );
    assert_eq!(
        keys::public_key(&b),
        h32("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    );
    let shared = h32("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    assert_eq!(keys::x25519(a, keys::public_key(&b)), shared);
    assert_eq!(keys::x25519(b, keys::public_key(&a)), shared);
}

#[test]
fn key_generation_and_base64() {
    let p = keys::private_from_random([0xff; 32]);
    assert_eq!(p[0] & 7, 0);
    assert_eq!(p[31] & 0x80, 0);
    assert_eq!(p[31] & 0x40, 0x40);
    let p0 = keys::private_from_random([0; 32]);
    assert_eq!(p0[31], 0x40);
    // RFC 4648 vectors.
    for (raw, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(keys::base64_encode(raw.as_bytes()), enc);
        assert_eq!(keys::base64_decode(enc).unwrap(), raw.as_bytes());
    }
    assert_eq!(
        keys::base64_encode(&[0u8; 32]),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    let k = keys::public_key(&p);
    assert_eq!(keys::key_from_base64(&keys::base64_encode(&k)), Some(k));
    for bad in ["Zg=", "Z===", "Zh==", "Zm9v!A==", "Zg==Zg==", "AAAA"] {
        assert!(keys::base64_decode(bad).is_none() || bad == "AAAA", "{bad}");
    }
    assert!(keys::key_from_base64("AAAA").is_none());
}

#[test]
fn tai64n_layout_and_order() {
    let t = Tai64N::from_unix(0, 0);
    assert_eq!(t.0, [0x40, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0]);
    let t = Tai64N::from_unix(1, 999_999_999);
    assert_eq!(&t.0[..8], &(0x4000_0000_0000_000bu64).to_be_bytes());
    assert_eq!(
        u32::from_be_bytes(t.0[8..].try_into().unwrap()) & 0x00ff_ffff,
        0
    );
    assert!(Tai64N::from_unix(5, 0) < Tai64N::from_unix(5, 20_000_000));
    assert!(Tai64N::from_unix(5, 999_000_000) < Tai64N::from_unix(6, 0));
    // whitening: 10 ms apart inside one 16.7 ms bucket compare equal
    assert_eq!(
        Tai64N::from_unix(5, 1_000_000),
        Tai64N::from_unix(5, 11_000_000)
    );
    assert_eq!(
        Tai64N::from_unix_millis(1500.0),
        Tai64N::from_unix(1, 500_000_000)
    );
}

// ---------- independent initiator against eg_core ----------

#[test]
fn reference_initiator_interoperates() {
    for psk in [None, Some([0x42u8; 32])] {
        let (i_priv, i_pub) = static_key(10);
        let (r_priv, r_pub) = static_key(11);
        let e_priv = keys::private_from_random([0x33; 32]);
        let e_pub = keys::public_key(&e_priv);
        let ts = Tai64N::from_unix(1_700_000_000, 123_456_789);
        let sender: u32 = 0x1122_3344;
        let q = psk.unwrap_or([0u8; 32]);

        // Reference initiator (WireGuard paper, section 5.4.2).
        let mut c = r_hash(&[b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"]);
        let mut hh = r_hash(&[&c, b"WireGuard v1 zx2c4 Jason@zx2c4.com"]);
        hh = r_hash(&[&hh, &r_pub]);
        c = r_kdf(&c, &e_pub, 1)[0];
        hh = r_hash(&[&hh, &e_pub]);
        let o = r_kdf(&c, &keys::x25519(e_priv, r_pub), 2);
        c = o[0];
        let enc_static = r_aead(&o[1], 0, &hh, &i_pub);
        hh = r_hash(&[&hh, &enc_static]);
        let o = r_kdf(&c, &keys::x25519(i_priv, r_pub), 2);
        c = o[0];
        let enc_ts = r_aead(&o[1], 0, &hh, &ts.0);
        hh = r_hash(&[&hh, &enc_ts]);
        let mut msg = Vec::new();
        msg.extend_from_slice(&1u32.to_le_bytes());
        msg.extend_from_slice(&sender.to_le_bytes());
        msg.extend_from_slice(&e_pub);
        msg.extend_from_slice(&enc_static);
        msg.extend_from_slice(&enc_ts);
        let mac1 = r_mac(&r_hash(&[b"mac1----", &r_pub]), &msg);
        msg.extend_from_slice(&mac1);
        msg.extend_from_slice(&[0u8; 16]);
        assert_eq!(msg.len(), 148);

        // eg_core's initiator produces the same bytes.
        let id = Identity::new(i_priv);
        let remote = Remote::new(&id, r_pub, psk).unwrap();
        let mut ours = [0u8; 148];
        create_initiation(&id, &remote, sender, e_priv, ts, &mut ours).unwrap();
        CookieState::default().add_macs(&remote, &mut ours, 0.0, 115.0);
        assert_eq!(hex::encode(ours), hex::encode(&msg));

        // eg_core responder answers the reference initiation.
        let mut dev = Device::new(r_priv, Config::default(), rng(5));
        let pid = dev.add_peer(i_pub, psk, 0.0).unwrap();
        let mut out = [0u8; 256];
        let (p, v) = dev.decapsulate(&msg, SRC_A, 1.0, false, &mut out);
        assert_eq!(p, Some(pid));
        let Verdict::WriteToNetwork(92) = v else {
            panic!("{v:?}")
        };
        let resp = out[..92].to_vec();
        assert_eq!(&resp[0..4], &2u32.to_le_bytes());
        assert_eq!(&resp[8..12], &sender.to_le_bytes());
        assert_eq!(
            &resp[60..76],
            &r_mac(&r_hash(&[b"mac1----", &i_pub]), &resp[..60])
        );
        assert_eq!(&resp[76..92], &[0u8; 16]);

        // Reference consumes the response (section 5.4.3).
        let e_r: [u8; 32] = resp[12..44].try_into().unwrap();
        c = r_kdf(&c, &e_r, 1)[0];
        hh = r_hash(&[&hh, &e_r]);
        c = r_kdf(&c, &keys::x25519(e_priv, e_r), 1)[0];
        c = r_kdf(&c, &keys::x25519(i_priv, e_r), 1)[0];
        let o = r_kdf(&c, &q, 3);
        c = o[0];
        hh = r_hash(&[&hh, &o[1]]);
        assert_eq!(r_aead_open(&o[2], 0, &hh, &resp[44..60]), Some(vec![]));
        let t = r_kdf(&c, &[], 2);
        let (send, recv) = (t[0], t[1]);
        let r_index = u32::from_le_bytes(resp[4..8].try_into().unwrap());

        // Reference sends transport counter 0 with a padded plaintext.
        let mut pt = b"hello from the reference".to_vec();
        pt.resize(32, 0);
        let mut tmsg = Vec::new();
        tmsg.extend_from_slice(&4u32.to_le_bytes());
        tmsg.extend_from_slice(&r_index.to_le_bytes());
        tmsg.extend_from_slice(&0u64.to_le_bytes());
        tmsg.extend_from_slice(&r_aead(&send, 0, &[], &pt));
        let (_, v) = dev.decapsulate(&tmsg, SRC_A, 1.1, false, &mut out);
        assert_eq!(v, Verdict::Data(16..48));
        assert_eq!(&out[16..48], &pt[..]);
        assert!(dev.has_session(pid, 1.1));

        // And eg_core's reply decrypts with the reference receive key.
        let n = dev.encapsulate(pid, b"pong", 1.2, &mut out).unwrap();
        assert_eq!(n, 16 + 16 + 16);
        assert_eq!(&out[0..4], &4u32.to_le_bytes());
        assert_eq!(&out[4..8], &sender.to_le_bytes());
        assert_eq!(&out[8..16], &0u64.to_le_bytes());
        let mut expect = b"pong".to_vec();
        expect.resize(16, 0);
        assert_eq!(r_aead_open(&recv, 0, &[], &out[16..n]), Some(expect));
    }
}
