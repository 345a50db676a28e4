//! ChaCha20-Poly1305 (RFC 8439, 96-bit nonce) with a WebAssembly SIMD128 ChaCha20 kernel.
//!
//! RustCrypto's `chacha20` has SSE2/AVX2/NEON back ends but only a scalar one for wasm32, where
//! ChaCha20 was two thirds of the transport cost. This kernel runs four blocks at a time, one
//! block per u32x4 lane (the state is 16 vectors of 4 lanes), transposes the result back to
//! block order and XORs it into the buffer 16 bytes at a time (safe code: the crate forbids
//! `unsafe`, so loads/stores go through u64 pairs, which LLVM turns into v128 loads). Poly1305 is
//! the four-way SIMD128 one of [`super::poly1305_simd`] for ciphertexts of 192 bytes and more,
//! RustCrypto's below.
//! Used by [`super::kdf::seal`] / [`super::kdf::open`] only when compiled for wasm32 with
//! `+simd128`; checked against wireguard-go by test/wg-interop.test.ts.

use core::arch::wasm32::*;

use poly1305::universal_hash::{KeyInit, UniversalHash};

use super::poly1305_simd::{self, Poly1305};
use zeroize::Zeroize;

use super::wire::ct_eq;
use super::Reason;

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn rotl16(x: v128) -> v128 {
    i8x16_shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(x, x)
}

#[inline(always)]
fn rotl8(x: v128) -> v128 {
    i8x16_shuffle::<3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14>(x, x)
}

#[inline(always)]
fn rotl<const L: u32, const R: u32>(x: v128) -> v128 {
    v128_or(u32x4_shl(x, L), u32x4_shr(x, R))
}

#[inline(always)]
fn qr(x: &mut [v128; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = u32x4_add(x[a], x[b]);
    x[d] = rotl16(v128_xor(x[d], x[a]));
    x[c] = u32x4_add(x[c], x[d]);
    x[b] = rotl::<12, 20>(v128_xor(x[b], x[c]));
    x[a] = u32x4_add(x[a], x[b]);
    x[d] = rotl8(v128_xor(x[d], x[a]));
    x[c] = u32x4_add(x[c], x[d]);
    x[b] = rotl::<7, 25>(v128_xor(x[b], x[c]));
}

/// Four consecutive keystream blocks (counters `ctr..ctr+4`), 256 bytes in block order, as
/// 16 vectors: `out[4*j + g]` = bytes `64*j + 16*g ..+16` (block j, word group g).
#[inline(always)]
fn blocks4(state: &[u32; 16], ctr: u32) -> [v128; 16] {
    let mut init = [u32x4_splat(0); 16];
    for (i, v) in init.iter_mut().enumerate() {
        *v = u32x4_splat(state[i]);
    }
    init[12] = u32x4(ctr, ctr.wrapping_add(1), ctr.wrapping_add(2), ctr.wrapping_add(3));
    let mut x = init;
    for _ in 0..10 {
        qr(&mut x, 0, 4, 8, 12);
        qr(&mut x, 1, 5, 9, 13);
        qr(&mut x, 2, 6, 10, 14);
        qr(&mut x, 3, 7, 11, 15);
        qr(&mut x, 0, 5, 10, 15);
        qr(&mut x, 1, 6, 11, 12);
        qr(&mut x, 2, 7, 8, 13);
        qr(&mut x, 3, 4, 9, 14);
    }
    for i in 0..16 {
        x[i] = u32x4_add(x[i], init[i]);
    }
    let mut out = [u32x4_splat(0); 16];
    for g in 0..4 {
        let (a, b, c, d) = (x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
        let ab_lo = u32x4_shuffle::<0, 4, 1, 5>(a, b);
        let ab_hi = u32x4_shuffle::<2, 6, 3, 7>(a, b);
        let cd_lo = u32x4_shuffle::<0, 4, 1, 5>(c, d);
        let cd_hi = u32x4_shuffle::<2, 6, 3, 7>(c, d);
        out[g] = u64x2_shuffle::<0, 2>(ab_lo, cd_lo);
        out[4 + g] = u64x2_shuffle::<1, 3>(ab_lo, cd_lo);
        out[8 + g] = u64x2_shuffle::<0, 2>(ab_hi, cd_hi);
        out[12 + g] = u64x2_shuffle::<1, 3>(ab_hi, cd_hi);
    }
    out
}

fn state(key: &[u8; 32], nonce: &[u8; 12]) -> [u32; 16] {
    let mut s = [0u32; 16];
    s[..4].copy_from_slice(&SIGMA);
    for i in 0..8 {
        s[4 + i] = u32::from_le_bytes(key[4 * i..4 * i + 4].try_into().unwrap());
    }
    for i in 0..3 {
        s[13 + i] = u32::from_le_bytes(nonce[4 * i..4 * i + 4].try_into().unwrap());
    }
    s
}

/// 16 bytes as a vector, little-endian (also the Poly1305 kernel's block load).
#[inline(always)]
pub(super) fn load16(b: &[u8]) -> v128 {
    let lo = u64::from_le_bytes(b[..8].try_into().unwrap());
    let hi = u64::from_le_bytes(b[8..16].try_into().unwrap());
    u64x2(lo, hi)
}

#[inline(always)]
fn store16(b: &mut [u8], v: v128) {
    b[..8].copy_from_slice(&u64x2_extract_lane::<0>(v).to_le_bytes());
    b[8..16].copy_from_slice(&u64x2_extract_lane::<1>(v).to_le_bytes());
}

/// XOR the ChaCha20 keystream starting at block `ctr` into `data`.
fn xor_keystream(st: &[u32; 16], mut ctr: u32, data: &mut [u8]) {
    let mut chunks = data.chunks_exact_mut(256);
    for chunk in &mut chunks {
        let ks = blocks4(st, ctr);
        ctr = ctr.wrapping_add(4);
        for (piece, k) in chunk.chunks_exact_mut(16).zip(ks.iter()) {
            let v = v128_xor(load16(piece), *k);
            store16(piece, v);
        }
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        let ks = blocks4(st, ctr);
        let mut buf = [0u8; 256];
        for (piece, k) in buf.chunks_exact_mut(16).zip(ks.iter()) {
            store16(piece, *k);
        }
        for (d, k) in rest.iter_mut().zip(buf.iter()) {
            *d ^= k;
        }
        buf.zeroize();
    }
}

/// The state, the Poly1305 key (block 0) and blocks 1..=3 of the keystream: the kernel makes
/// four blocks per call, so the ones after the Poly1305 key encrypt the first 192 bytes instead
/// of being thrown away (a 1424-byte message needed 28 blocks made for 23 used; now 24).
fn setup(key: &[u8; 32], nonce: &[u8; 12]) -> ([u32; 16], [u8; 32], [u8; HEAD]) {
    let st = state(key, nonce);
    let ks = blocks4(&st, 0);
    let mut first = [0u8; 256];
    for (piece, k) in first.chunks_exact_mut(16).zip(ks.iter()) {
        store16(piece, *k);
    }
    let mut block0 = [0u8; 32];
    block0.copy_from_slice(&first[..32]);
    let mut head = [0u8; HEAD];
    head.copy_from_slice(&first[64..]);
    first.zeroize();
    (st, block0, head)
}

/// Keystream bytes that come with the Poly1305 key (blocks 1..=3).
const HEAD: usize = 192;

/// XORs the keystream from block 1 on into `buf`: `head` (blocks 1..=3, erased afterwards), then
/// the kernel from block 4.
fn xor_from_block1(st: &[u32; 16], head: &mut [u8; HEAD], buf: &mut [u8]) {
    let n = buf.len().min(HEAD);
    let full = n & !15;
    let (front, back) = buf.split_at_mut(n);
    for (piece, k) in front[..full].chunks_exact_mut(16).zip(head.chunks_exact(16)) {
        store16(piece, v128_xor(load16(piece), load16(k)));
    }
    for (d, k) in front[full..].iter_mut().zip(&head[full..n]) {
        *d ^= k;
    }
    if !back.is_empty() {
        xor_keystream(st, 4, back);
    }
    head.zeroize();
}

/// The tag over `aad` and `ct` (RFC 8439 §2.8) under the Poly1305 key `pk`, erased afterwards.
/// A ciphertext long enough for the four-way SIMD path goes to [`poly1305_simd`]; shorter
/// ones (keepalives, ACKs, small datagrams) to RustCrypto's, whose fixed cost per message is
/// lower (by about 15 ns, which our vector path only wins back from 12 blocks on).
fn tag(pk: &mut [u8; 32], aad: &[u8], ct: &[u8]) -> [u8; 16] {
    let mut lens = [0u8; 16];
    lens[..8].copy_from_slice(&(aad.len() as u64).to_le_bytes());
    lens[8..].copy_from_slice(&(ct.len() as u64).to_le_bytes());
    let t = if ct.len() >= poly1305_simd::VECTOR_MIN_BLOCKS * 16 {
        let mut mac = Poly1305::new(pk);
        mac.update_padded(aad);
        mac.update_padded(ct);
        mac.update_padded(&lens);
        mac.finalize()
    } else {
        let mut mac = poly1305::Poly1305::new((&*pk).into());
        mac.update_padded(aad);
        mac.update_padded(ct);
        mac.update_padded(&lens);
        mac.finalize().into()
    };
    pk.zeroize();
    t
}

/// Seal `buf` in place; returns the tag.
pub fn seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
    let (mut st, mut pk, mut head) = setup(key, nonce);
    xor_from_block1(&st, &mut head, buf);
    st.zeroize();
    tag(&mut pk, aad, buf)
}

/// Verify `tag` and open `buf` in place (left untouched on failure).
pub fn open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag_in: &[u8],
) -> Result<(), Reason> {
    let (mut st, mut pk, mut head) = setup(key, nonce);
    let t = tag(&mut pk, aad, buf);
    if !ct_eq(&t, tag_in) {
        st.zeroize();
        head.zeroize();
        return Err(Reason::DecryptFailed);
    }
    xor_from_block1(&st, &mut head, buf);
    st.zeroize();
    Ok(())
}
