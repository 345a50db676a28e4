use super::*;
use crate::noise::keys::{clamp, public_key};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn random32(r: &mut StdRng) -> [u8; 32] {
    let mut b = [0u8; 32];
    r.fill_bytes(&mut b);
    b
}

fn random64(r: &mut StdRng) -> [u8; 64] {
    let mut b = [0u8; 64];
    r.fill_bytes(&mut b);
    b
}

/// The sign bit of kB for the clamped private key: 1 means the signer must negate its scalar.
fn edwards_sign_bit(private: &[u8; 32]) -> u8 {
    let k = Scalar::from_bytes_mod_order(clamp_integer(*private));
    (&k * ED25519_BASEPOINT_TABLE).compress().to_bytes()[31] >> 7
}

/// A private key whose Edwards point kB has the given sign bit (about half of all keys have each).
fn key_with_sign(r: &mut StdRng, want: u8) -> [u8; 32] {
    loop {
        let k = clamp(random32(r));
        if edwards_sign_bit(&k) == want {
            return k;
        }
    }
}

/// q = 2^252 + 27742317777372353535851937790883648493, little-endian.
const Q_LE: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

fn add_le(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = a[i] as u16 + b[i] as u16 + carry;
        out[i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "sum must fit 256 bits");
    out
}

#[test]
fn sign_then_verify_round_trips_for_random_keys_and_messages() {
    let mut r = rng(1);
    for i in 0..200 {
        // Unclamped bytes too: any 32 bytes are an X25519 private key.
        let private = random32(&mut r);
        let public = public_key(&private);
        let len = [0usize, 1, 31, 32, 33, 64, 1000][i % 7];
        let mut msg = vec![0u8; len];
        r.fill_bytes(&mut msg);
        let sig = sign(&private, &msg, &random64(&mut r));
        assert_eq!(verify(&public, &msg, &sig), Ok(()), "key {i}, message of {len} bytes");
        assert!(is_valid(&public, &msg, &sig));
    }
}

#[test]
fn keys_with_either_edwards_sign_bit_sign_and_verify() {
    let mut r = rng(2);
    for want in [0u8, 1] {
        for _ in 0..20 {
            let private = key_with_sign(&mut r, want);
            let public = public_key(&private);
            let msg = b"etherguard p2p peer announcement";
            let sig = sign(&private, msg, &random64(&mut r));
            assert_eq!(verify(&public, msg, &sig), Ok(()), "Edwards sign bit {want}");
            // The key the verifier derives always has sign bit 0, and maps back to the same u.
            let ed = edwards_public_key(&public).unwrap();
            assert_eq!(ed[31] >> 7, 0);
            let back = CompressedEdwardsY(ed).decompress().unwrap().to_montgomery().to_bytes();
            assert_eq!(back, public);
        }
    }
}

#[test]
fn signatures_pass_ed25519_dalek_verify_strict_against_the_converted_key() {
    let mut r = rng(3);
    for i in 0..100 {
        let private = key_with_sign(&mut r, (i % 2) as u8);
        let public = public_key(&private);
        let mut msg = vec![0u8; r.gen_range(0..300)];
        r.fill_bytes(&mut msg);
        let sig = sign(&private, &msg, &random64(&mut r));
        let vk = VerifyingKey::from_bytes(&edwards_public_key(&public).unwrap()).unwrap();
        vk.verify_strict(&msg, &Signature::from_bytes(&sig)).expect("independent Ed25519 verifier accepts");
        // And refuses it for another message, so the check above is not vacuous.
        let mut other = msg.clone();
        other.push(0);
        assert!(vk.verify_strict(&other, &Signature::from_bytes(&sig)).is_err());
    }
}

#[test]
fn ed25519_dalek_signatures_verify_through_the_montgomery_key_only_with_sign_bit_zero() {
    // The other direction of the independent check: an Ed25519 signer whose public key has sign
    // bit 0 makes signatures our verifier accepts given only its Montgomery u; with sign bit 1
    // the u names the negated point, so the same signature must be refused.
    let mut r = rng(4);
    let (mut seen0, mut seen1) = (0, 0);
    while seen0 < 10 || seen1 < 10 {
        let sk = SigningKey::from_bytes(&random32(&mut r));
        let vk = sk.verifying_key();
        let u = vk.to_montgomery().to_bytes();
        let msg = random32(&mut r);
        let sig = sk.sign(&msg).to_bytes();
        if vk.to_bytes()[31] >> 7 == 0 {
            seen0 += 1;
            assert_eq!(verify(&u, &msg, &sig), Ok(()));
        } else {
            seen1 += 1;
            assert_eq!(verify(&u, &msg, &sig), Err(VerifyError::Mismatch));
        }
    }
}

#[test]
fn any_flipped_bit_in_message_signature_or_key_is_refused() {
    let mut r = rng(5);
    for want in [0u8, 1] {
        let private = key_with_sign(&mut r, want);
        let public = public_key(&private);
        let msg = random64(&mut r)[..40].to_vec();
        let sig = sign(&private, &msg, &random64(&mut r));
        assert!(is_valid(&public, &msg, &sig));
        for bit in 0..msg.len() * 8 {
            let mut m = msg.clone();
            m[bit / 8] ^= 1 << (bit % 8);
            assert!(!is_valid(&public, &m, &sig), "message bit {bit}");
        }
        for bit in 0..SIGNATURE_LEN * 8 {
            let mut s = sig;
            s[bit / 8] ^= 1 << (bit % 8);
            assert!(!is_valid(&public, &msg, &s), "signature bit {bit}");
        }
        for bit in 0..KEY_LEN * 8 {
            let mut k = public;
            k[bit / 8] ^= 1 << (bit % 8);
            assert!(!is_valid(&k, &msg, &sig), "public key bit {bit}");
        }
        // Length changes too: a dropped or an added byte.
        assert!(!is_valid(&public, &msg[..msg.len() - 1], &sig));
        let mut longer = msg.clone();
        longer.push(0);
        assert!(!is_valid(&public, &longer, &sig));
    }
}

#[test]
fn signature_with_s_plus_q_is_refused_as_non_canonical() {
    let mut r = rng(6);
    let private = random32(&mut r);
    let public = public_key(&private);
    let msg = b"malleability";
    let sig = sign(&private, msg, &random64(&mut r));
    let s: [u8; 32] = sig[32..].try_into().unwrap();
    // s + q is the same scalar mod q, so the bare equation would still hold.
    let mut forged = sig;
    forged[32..].copy_from_slice(&add_le(&s, &Q_LE));
    assert_eq!(verify(&public, msg, &forged), Err(VerifyError::ScalarNotCanonical));
    let mut high = sig;
    high[63] |= 0x80;
    assert_eq!(verify(&public, msg, &high), Err(VerifyError::ScalarNotCanonical));
    let mut q = sig;
    q[32..].copy_from_slice(&Q_LE);
    assert_eq!(verify(&public, msg, &q), Err(VerifyError::ScalarNotCanonical));
}

#[test]
fn public_key_u_at_or_above_p_is_refused() {
    let mut r = rng(7);
    let private = random32(&mut r);
    let public = public_key(&private);
    let msg = b"canonical u";
    let sig = sign(&private, msg, &random64(&mut r));
    // Bit 255 is outside the field; a decoder that masks it (as X25519 does) would accept this.
    let mut top = public;
    top[31] |= 0x80;
    assert_eq!(verify(&top, msg, &sig), Err(VerifyError::PublicKeyNotCanonical));
    // p, p + 1 … p + 18 (non-canonical spellings of 0 … 18) and 2^255 − 1, 2^256 − 1.
    for add in 0u8..19 {
        let mut u = P_LE;
        u[0] = u[0].wrapping_add(add);
        assert_eq!(verify(&u, msg, &sig), Err(VerifyError::PublicKeyNotCanonical), "p + {add}");
    }
    let mut max255 = [0xffu8; 32];
    max255[31] = 0x7f;
    assert_eq!(verify(&max255, msg, &sig), Err(VerifyError::PublicKeyNotCanonical));
    assert_eq!(verify(&[0xff; 32], msg, &sig), Err(VerifyError::PublicKeyNotCanonical));
    // p − 1 = −1 is canonical but has no Edwards point.
    let mut minus_one = P_LE;
    minus_one[0] -= 1;
    assert_eq!(verify(&minus_one, msg, &sig), Err(VerifyError::PublicKeyNotOnCurve));
}

#[test]
fn public_key_on_the_twist_is_refused() {
    // About half of all u lie on the twist; find small ones.
    let mut found = 0;
    for n in 2u8..64 {
        let mut u = [0u8; 32];
        u[0] = n;
        if MontgomeryPoint(u).to_edwards(0).is_none() {
            found += 1;
            assert_eq!(verify(&u, b"m", &[0u8; 64]), Err(VerifyError::PublicKeyNotOnCurve), "u = {n}");
            assert_eq!(edwards_public_key(&u), Err(VerifyError::PublicKeyNotOnCurve));
        }
    }
    assert!(found > 5);
}

/// The Montgomery u of every small-order point on Curve25519 (orders 2, 4, 8, 8).
fn small_order_us() -> Vec<[u8; 32]> {
    let mut out = vec![[0u8; 32]];
    let mut one = [0u8; 32];
    one[0] = 1;
    out.push(one);
    for h in [
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    ] {
        out.push(hex::decode(h).unwrap().try_into().unwrap());
    }
    out
}

#[test]
fn small_order_public_keys_are_refused_even_with_a_forgery_that_satisfies_the_equation() {
    let mut r = rng(8);
    for u in small_order_us() {
        let a = MontgomeryPoint(u).to_edwards(0).expect("small-order u is on the curve");
        assert!(a.is_small_order());
        let a_enc = a.compress().to_bytes();
        // Forge without any secret: guess T = hA among A's multiples; hA lands in a group of at
        // most 8 elements, so a few tries make R = sB − T satisfy R == sB − hA.
        let msg = b"forged";
        let mut forged = None;
        for _ in 0..1000 {
            let s = Scalar::from_bytes_mod_order(random32(&mut r));
            let t = a * Scalar::from(r.gen_range(0u64..8));
            let r_enc = (EdwardsPoint::mul_base(&s) - t).compress().to_bytes();
            let h = challenge(&r_enc, &a_enc, msg);
            if a * h == t {
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&r_enc);
                sig[32..].copy_from_slice(s.as_bytes());
                forged = Some(sig);
                break;
            }
        }
        let sig = forged.expect("a forgery against a small-order key is found in a few tries");
        assert_eq!(verify(&u, msg, &sig), Err(VerifyError::PublicKeySmallOrder), "u = {}", hex::encode(u));
        assert_eq!(edwards_public_key(&u), Err(VerifyError::PublicKeySmallOrder));
    }
}

#[test]
fn small_order_r_is_refused_even_when_the_equation_holds() {
    // R = identity with s = h·a satisfies sB − hA = identity = R; strict Ed25519 refuses it.
    let mut r = rng(9);
    let private = random32(&mut r);
    let public = public_key(&private);
    let (a_enc, a) = key_pair(&private);
    let msg = b"identity R";
    let mut r_enc = [0u8; 32];
    r_enc[0] = 1; // y = 1, x = 0: the identity
    let s = challenge(&r_enc, &a_enc, msg) * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_enc);
    sig[32..].copy_from_slice(s.as_bytes());
    assert_eq!(verify(&public, msg, &sig), Err(VerifyError::RSmallOrder));
}

#[test]
fn r_that_is_not_a_point_is_refused() {
    let mut r = rng(10);
    let private = random32(&mut r);
    let public = public_key(&private);
    let msg = b"bad R";
    let sig = sign(&private, msg, &random64(&mut r));
    let mut seen = 0;
    for n in 2u8..64 {
        let mut y = [0u8; 32];
        y[0] = n;
        if CompressedEdwardsY(y).decompress().is_none() {
            seen += 1;
            let mut bad = sig;
            bad[..32].copy_from_slice(&y);
            assert_eq!(verify(&public, msg, &bad), Err(VerifyError::RNotOnCurve));
        }
    }
    assert!(seen > 5);
}

#[test]
fn random_input_decides_r_and_nothing_else_matters_to_validity() {
    let mut r = rng(11);
    let private = random32(&mut r);
    let public = public_key(&private);
    let msg = b"same message";
    let z1 = random64(&mut r);
    let z2 = random64(&mut r);
    let a = sign(&private, msg, &z1);
    assert_eq!(a, sign(&private, msg, &z1), "same Z, same signature (no hidden randomness)");
    let b = sign(&private, msg, &z2);
    assert_ne!(a[..32], b[..32], "fresh Z gives a fresh R");
    assert!(is_valid(&public, msg, &a) && is_valid(&public, msg, &b));
    // The clamping bits of the private key do not matter, as in X25519.
    let mut unclamped = clamp(private);
    unclamped[0] |= 7;
    unclamped[31] |= 0x80;
    unclamped[31] &= !0x40;
    assert_eq!(sign(&unclamped, msg, &z1), sign(&clamp(private), msg, &z1));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let mut r = rng(12);
    let k1 = random32(&mut r);
    let k2 = random32(&mut r);
    let sig = sign(&k1, b"m", &random64(&mut r));
    assert_eq!(verify(&public_key(&k2), b"m", &sig), Err(VerifyError::Mismatch));
}

#[test]
fn base_point_sanity() {
    // u = 9 is the X25519 base point; its Edwards point with sign 0 is B itself.
    let mut nine = [0u8; 32];
    nine[0] = 9;
    assert_eq!(edwards_public_key(&nine).unwrap(), ED25519_BASEPOINT_POINT.compress().to_bytes());
}

#[test]
fn nonce_is_hash1_of_the_sign_adjusted_scalar_message_and_random() {
    // XEdDSA §2.3/§2.5: r = SHA-512(0xFE 0xFF×31 || a || M || Z) mod q, with a the scalar after
    // the sign fix (so A = aB has sign bit 0). Recomputed here from the spec's definitions.
    let mut r = rng(13);
    for want in [0u8, 1] {
        let private = key_with_sign(&mut r, want);
        let k = Scalar::from_bytes_mod_order(clamp_integer(private));
        let a = if want == 1 { -k } else { k };
        assert_eq!((&a * ED25519_BASEPOINT_TABLE).compress().to_bytes()[31] >> 7, 0);
        let msg = b"nonce derivation";
        let z = random64(&mut r);
        let mut prefix = [0xffu8; 32];
        prefix[0] = 0xfe;
        let digest: [u8; 64] = Sha512::new().chain_update(prefix).chain_update(a.as_bytes()).chain_update(msg).chain_update(z).finalize().into();
        let nonce = Scalar::from_bytes_mod_order_wide(&digest);
        let sig = sign(&private, msg, &z);
        assert_eq!(sig[..32], (&nonce * ED25519_BASEPOINT_TABLE).compress().to_bytes(), "sign bit {want}");
    }
}
