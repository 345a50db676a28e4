//! XEdDSA signatures made and checked with a node's X25519 (WireGuard static) key pair, so that a
//! node can sign control data with the key its peers already know, without a second key.
//!
//! Source: Trevor Perrin, "The XEdDSA and VXEdDSA Signature Schemes", Signal, revision 1
//! (2016-10-20), §2.3 (XEdDSA), with the Curve25519 parameters of §2.1/§2.2 (hash = SHA-512,
//! p = 2^255 − 19, q = the prime order of the base point B, |p| = 255, b = 256). A signature is
//! an Ed25519 signature (RFC 8032 encoding `R || s`) under the Edwards point whose Montgomery u
//! is the X25519 public key and whose sign bit is 0, so it also verifies with any strict Ed25519
//! verifier given that converted key ([`edwards_public_key`]).
//!
//! Like the rest of the core this takes no randomness of its own: the caller passes the 64
//! random bytes Z (`crypto.randomBytes(64)` on the TypeScript side).

use core::fmt;

use curve25519_dalek::constants::ED25519_BASEPOINT_TABLE;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{clamp_integer, Scalar};
use sha2::{Digest, Sha512};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

/// Length of a signature in bytes: `R` (32, compressed Edwards point) then `s` (32, scalar LE).
pub const SIGNATURE_LEN: usize = 64;
/// Length of the random input Z in bytes (XEdDSA §2.3: 64 bytes of secure random data).
pub const RANDOM_LEN: usize = 64;
/// Length of X25519 private and public keys in bytes.
pub const KEY_LEN: usize = 32;

/// Why a signature was refused. Every variant means "not valid"; the distinction is for logs and
/// tests. Public keys and signatures are attacker-chosen, so none of these is a fault of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// The public key's u (32 bytes little-endian) is ≥ p, i.e. not the canonical encoding of a
    /// field element (this includes any key with bit 255 set). XEdDSA §2.3: "if u ≥ p return false".
    PublicKeyNotCanonical,
    /// No Edwards point has this u: it lies on the quadratic twist (or is −1, the one u the
    /// birational map cannot take).
    PublicKeyNotOnCurve,
    /// The public key is a point of order 1, 2, 4 or 8: every scalar times it falls in an
    /// 8-element group, so a signature "by" it can be forged without any secret.
    PublicKeySmallOrder,
    /// `s` (the last 32 bytes) is ≥ q: a malleable, non-canonical scalar (RFC 8032 §5.1.7).
    ScalarNotCanonical,
    /// `R` (the first 32 bytes) does not decode to a point on the curve.
    RNotOnCurve,
    /// `R` is a point of small order (as refused by Ed25519 strict verification).
    RSmallOrder,
    /// All encodings are valid but `R != sB − hA`: the signature is not for this key and message.
    Mismatch,
}

impl VerifyError {
    /// A short stable name (snake_case) for logs and counters.
    pub fn name(self) -> &'static str {
        match self {
            VerifyError::PublicKeyNotCanonical => "public_key_not_canonical",
            VerifyError::PublicKeyNotOnCurve => "public_key_not_on_curve",
            VerifyError::PublicKeySmallOrder => "public_key_small_order",
            VerifyError::ScalarNotCanonical => "scalar_not_canonical",
            VerifyError::RNotOnCurve => "r_not_on_curve",
            VerifyError::RSmallOrder => "r_small_order",
            VerifyError::Mismatch => "mismatch",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyError::PublicKeyNotCanonical => "public key u is not below p = 2^255 - 19 (non-canonical encoding)",
            VerifyError::PublicKeyNotOnCurve => "public key u is not on Curve25519 (it lies on the twist)",
            VerifyError::PublicKeySmallOrder => "public key is a small-order point",
            VerifyError::ScalarNotCanonical => "signature scalar s is not below the group order q",
            VerifyError::RNotOnCurve => "signature point R is not a valid Edwards point",
            VerifyError::RSmallOrder => "signature point R is a small-order point",
            VerifyError::Mismatch => "signature does not match this key and message",
        })
    }
}

/// p = 2^255 − 19, little-endian, for the canonical-u check.
const P_LE: [u8; 32] = {
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    p
};

/// Whether the little-endian integer `u` is < p (variable time: public keys are public).
fn below_p(u: &[u8; 32]) -> bool {
    for i in (0..32).rev() {
        if u[i] != P_LE[i] {
            return u[i] < P_LE[i];
        }
    }
    false
}

/// hash_1 of XEdDSA §2.5: SHA-512 over the 32-byte little-endian encoding of 2^256 − 1 − 1
/// (0xFE then 31 × 0xFF) followed by the input, so that r never collides with an Ed25519 hash.
fn hash1_prefix() -> [u8; 32] {
    let mut prefix = [0xffu8; 32];
    prefix[0] = 0xfe;
    prefix
}

/// calculate_key_pair of XEdDSA §2.3: the Edwards public key A (sign bit forced to 0) and the
/// scalar a with A = aB, for an X25519 private key (any 32 bytes; clamped first, as X25519 does,
/// so that A's Montgomery u is exactly the X25519 public key of `private_key`).
fn key_pair(private_key: &[u8; 32]) -> ([u8; 32], Scalar) {
    let mut clamped = clamp_integer(*private_key);
    let mut k = Scalar::from_bytes_mod_order(clamped);
    clamped.zeroize();
    let mut e = (&k * ED25519_BASEPOINT_TABLE).compress().to_bytes();
    let sign = Choice::from(e[31] >> 7);
    // −kB has the same y and the opposite sign, so negating the scalar flips E's sign bit to 0.
    let neg = -k;
    let a = Scalar::conditional_select(&k, &neg, sign);
    k.zeroize();
    e[31] &= 0x7f;
    (e, a)
}

/// Signs `message` with an X25519 private key (XEdDSA §2.3 `xeddsa_sign`).
///
/// * `private_key`: 32 bytes, a WireGuard/X25519 private key (clamped here as X25519 would).
/// * `message`: any length.
/// * `random`: Z, 64 bytes from a secure random source, fresh per signature. The same Z with the
///   same key and message gives the same signature; reuse across different messages does not leak
///   the key (r is a hash of a, M and Z) but fresh Z is what the scheme asks for.
///
/// Returns `R || s` (64 bytes). Cannot fail: every 32-byte string is a usable private key.
/// Runs in constant time with respect to the private key and Z (curve25519-dalek's fixed-base
/// multiplication, constant-time scalar select).
pub fn sign(private_key: &[u8; 32], message: &[u8], random: &[u8; RANDOM_LEN]) -> [u8; SIGNATURE_LEN] {
    let (a_pub, mut a) = key_pair(private_key);

    let mut a_bytes = a.to_bytes();
    let mut h1 = Sha512::new();
    h1.update(hash1_prefix());
    h1.update(a_bytes);
    h1.update(message);
    h1.update(random);
    let mut wide: [u8; 64] = h1.finalize().into();
    let mut r = Scalar::from_bytes_mod_order_wide(&wide);
    wide.zeroize();
    a_bytes.zeroize();

    let r_enc = (&r * ED25519_BASEPOINT_TABLE).compress().to_bytes();
    let h = challenge(&r_enc, &a_pub, message);
    let s = r + h * a;
    r.zeroize();
    a.zeroize();

    let mut sig = [0u8; SIGNATURE_LEN];
    sig[..32].copy_from_slice(&r_enc);
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// h = SHA-512(R || A || M) mod q (the Ed25519 challenge).
fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// The Edwards point (and its 32-byte encoding) for a Montgomery public key u, sign bit 0
/// (XEdDSA §2.3 `convert_mont`), refusing what XEdDSA/strict Ed25519 refuse: u ≥ p, u with no
/// Edwards point, small-order points.
fn convert_mont(public_key: &[u8; 32]) -> Result<(EdwardsPoint, [u8; 32]), VerifyError> {
    if !below_p(public_key) {
        return Err(VerifyError::PublicKeyNotCanonical);
    }
    let a = MontgomeryPoint(*public_key).to_edwards(0).ok_or(VerifyError::PublicKeyNotOnCurve)?;
    if a.is_small_order() {
        return Err(VerifyError::PublicKeySmallOrder);
    }
    Ok((a, a.compress().to_bytes()))
}

/// The Ed25519 public key (32-byte compressed Edwards y, sign bit 0) that XEdDSA signatures by the
/// owner of X25519 public key `public_key` verify against, for use with an Ed25519 verifier.
/// Errors: as [`verify`] for the key (`PublicKeyNotCanonical`, `PublicKeyNotOnCurve`,
/// `PublicKeySmallOrder`).
pub fn edwards_public_key(public_key: &[u8; 32]) -> Result<[u8; 32], VerifyError> {
    convert_mont(public_key).map(|(_, enc)| enc)
}

/// Checks a signature against an X25519 public key (XEdDSA §2.3 `xeddsa_verify`, made strict).
///
/// * `public_key`: 32 bytes, the Montgomery u (little-endian) of the signer's X25519 key.
/// * `message`: the signed bytes.
/// * `signature`: 64 bytes `R || s`.
///
/// Refuses, beyond the equation `R == sB − hA` with h = SHA-512(R || A || M) mod q: u ≥ p, u
/// without an Edwards point, small-order A or R, s ≥ q, and any R that is not the canonical
/// encoding of sB − hA (so exactly one encoding of each valid signature is accepted).
/// Every signature this accepts also passes ed25519-dalek's `verify_strict` for
/// [`edwards_public_key`]. Variable time: all inputs are public.
pub fn verify(public_key: &[u8; 32], message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> Result<(), VerifyError> {
    let (a, a_enc) = convert_mont(public_key)?;
    let r_enc: [u8; 32] = signature[..32].try_into().expect("32 of 64 bytes");
    let s_bytes: [u8; 32] = signature[32..].try_into().expect("32 of 64 bytes");
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or(VerifyError::ScalarNotCanonical)?;
    let r = CompressedEdwardsY(r_enc).decompress().ok_or(VerifyError::RNotOnCurve)?;
    if r.is_small_order() {
        return Err(VerifyError::RSmallOrder);
    }
    let h = challenge(&r_enc, &a_enc, message);
    let check = EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, &-a, &s).compress();
    if bool::from(check.as_bytes().ct_eq(&r_enc)) {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// [`verify`] as a yes/no answer.
pub fn is_valid(public_key: &[u8; 32], message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
    verify(public_key, message, signature).is_ok()
}

#[cfg(test)]
mod tests;
