//! Poly1305 (RFC 8439 §2.5) with a WebAssembly SIMD128 kernel that absorbs four blocks per step.
//!
//! RustCrypto's `poly1305` has AVX2 but only a portable back end on wasm32, where it was 15–19 %
//! of an edge's CPU samples after the ChaCha20 kernel (docs/benchmarks.md, "Where the CPU goes").
//! This one splits the message into four interleaved Horner chains: with blocks m1..mn (n = 4k),
//!
//! ```text
//!   h' = (h + m1)·r^n + m2·r^(n-1) + … + mn·r
//!      = Σ_lane Σ_j  m(4j+lane+1) · r^(4(k-1-j)) · r^(4-lane)        (lane 0..3)
//! ```
//!
//! so lane `l` of a u32x4 accumulator takes block `4j+l+1`, every step multiplies all lanes by
//! r^4, and the last step multiplies lane 0..3 by r^4, r^3, r^2, r instead; summing the lanes
//! gives h'. Numbers are five 26-bit limbs (value = Σ limb_i·2^(26i)), one u32x4 per limb with
//! the four chains in its lanes; the 25 limb products of a step are `u64x2_extmul_{low,high}_u32x4`
//! (two lanes each), reduced mod 2^130−5 by folding 2^130 ≡ 5 into the limb products (the
//! `5·r_i` terms) and carried lazily in 64-bit lanes. Leftover blocks, messages too short to pay
//! for the powers r^2..r^4, the lane sum and the final reduction to [0, p) are scalar.
//!
//! Bounds that keep every sum inside its lane (checked by the edge-case tests in
//! [`super::poly1305_check`]): after a carry pass a limb is < 2^26 + 2^9; a block adds < 2^26,
//! so a multiplicand limb is < 2^27.1; multiplier limbs (r and its partly reduced powers) are
//! < 2^26 + 2^9, their 5× versions < 2^28.4; five products sum to < 2^58.
//!
//! Only compiled for wasm32 with `+simd128`; used by `super::chacha_simd` (the transport AEAD)
//! for ciphertexts of [`VECTOR_MIN_BLOCKS`] blocks and more; shorter ones and other targets keep
//! RustCrypto's. The crate forbids `unsafe`: the SIMD128 intrinsics are safe
//! to call where the feature is enabled at compile time, and loads go through `u64` pairs.

use core::arch::wasm32::*;

use zeroize::Zeroize;

use super::chacha_simd::load16;

/// 26 one bits: a limb's width.
const M26: u32 = 0x03ff_ffff;
/// The 2^128 bit a full block carries, in limb 4 (2^128 = 2^(4·26) · 2^24).
const HIBIT: u32 = 1 << 24;
/// Update calls below this many 16-byte blocks stay scalar: the vector path pays three scalar
/// multiplications for r^2..r^4 and a lane sum, about four blocks' worth, and was measured
/// (V8, x86-64) at about 1.35× the scalar speed per block; `super::chacha_simd` also sends
/// ciphertexts shorter than this to RustCrypto's Poly1305, which costs less per message.
pub const VECTOR_MIN_BLOCKS: usize = 12;

/// An element mod 2^130−5 as five 26-bit limbs, least significant first; between steps a limb
/// may exceed 26 bits by the bounds in the module docs.
type Limbs = [u32; 5];

#[inline(always)]
fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A 16-byte block as limbs, plus `hibit` (HIBIT for full blocks, 0 for the padded last one).
#[inline(always)]
fn block_limbs(b: &[u8], hibit: u32) -> Limbs {
    let (w0, w1, w2, w3) = (le32(b, 0), le32(b, 4), le32(b, 8), le32(b, 12));
    [
        w0 & M26,
        ((w0 >> 26) | (w1 << 6)) & M26,
        ((w1 >> 20) | (w2 << 12)) & M26,
        ((w2 >> 14) | (w3 << 18)) & M26,
        (w3 >> 8) | hibit,
    ]
}

/// h·r mod 2^130−5, partly reduced (limbs < 2^26 except limb 1 < 2^26 + 2^9).
#[inline(always)]
fn mul(h: &Limbs, r: &Limbs) -> Limbs {
    let [h0, h1, h2, h3, h4] = h.map(u64::from);
    let [r0, r1, r2, r3, r4] = r.map(u64::from);
    let (s1, s2, s3, s4) = (r1 * 5, r2 * 5, r3 * 5, r4 * 5);
    let d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
    let mut d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
    let mut d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
    let mut d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
    let mut d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
    let m = u64::from(M26);
    d1 += d0 >> 26;
    d2 += d1 >> 26;
    d3 += d2 >> 26;
    d4 += d3 >> 26;
    // 2^130 ≡ 5: the carry out of limb 4 comes back into limb 0 times five.
    let e0 = (d0 & m) + (d4 >> 26) * 5;
    let e1 = (d1 & m) + (e0 >> 26);
    [(e0 & m) as u32, e1 as u32, (d2 & m) as u32, (d3 & m) as u32, (d4 & m) as u32]
}

/// One full carry pass h0 → h1 → … → h4 → h0 (×5) → h1.
#[inline(always)]
fn carry(h: &mut Limbs) {
    let mut c;
    for i in 0..4 {
        c = h[i] >> 26;
        h[i] &= M26;
        h[i + 1] += c;
    }
    c = h[4] >> 26;
    h[4] &= M26;
    h[0] += c * 5;
    c = h[0] >> 26;
    h[0] &= M26;
    h[1] += c;
}

/// Four consecutive blocks (64 bytes) as five limb vectors, lane l = block l, with the 2^128 bit.
#[inline(always)]
fn load4(c: &[u8]) -> [v128; 5] {
    let (v0, v1, v2, v3) = (load16(&c[..16]), load16(&c[16..32]), load16(&c[32..48]), load16(&c[48..64]));
    // 4×4 transpose of 32-bit words: w_i holds word i of blocks 0..3.
    let t0 = u32x4_shuffle::<0, 4, 1, 5>(v0, v1);
    let t1 = u32x4_shuffle::<2, 6, 3, 7>(v0, v1);
    let t2 = u32x4_shuffle::<0, 4, 1, 5>(v2, v3);
    let t3 = u32x4_shuffle::<2, 6, 3, 7>(v2, v3);
    let w0 = u64x2_shuffle::<0, 2>(t0, t2);
    let w1 = u64x2_shuffle::<1, 3>(t0, t2);
    let w2 = u64x2_shuffle::<0, 2>(t1, t3);
    let w3 = u64x2_shuffle::<1, 3>(t1, t3);
    let m = u32x4_splat(M26);
    [
        v128_and(w0, m),
        v128_and(v128_or(u32x4_shr(w0, 26), u32x4_shl(w1, 6)), m),
        v128_and(v128_or(u32x4_shr(w1, 20), u32x4_shl(w2, 12)), m),
        v128_and(v128_or(u32x4_shr(w2, 14), u32x4_shl(w3, 18)), m),
        v128_or(u32x4_shr(w3, 8), u32x4_splat(HIBIT)),
    ]
}

/// Multipliers for one step: limb i of each lane's multiplier (`r`) and five times it (`s`,
/// index 0 unused), u32x4 each.
struct VecMul {
    r: [v128; 5],
    s: [v128; 5],
}

impl VecMul {
    fn lanes(p: [&Limbs; 4]) -> Self {
        let mut r = [u32x4_splat(0); 5];
        let mut s = [u32x4_splat(0); 5];
        for i in 0..5 {
            r[i] = u32x4(p[0][i], p[1][i], p[2][i], p[3][i]);
            s[i] = u32x4(p[0][i] * 5, p[1][i] * 5, p[2][i] * 5, p[3][i] * 5);
        }
        VecMul { r, s }
    }
}

/// h·m per lane, reduced mod 2^130−5 and carried back to limbs < 2^26 + 2^9 (as in [`mul`]).
#[inline(always)]
fn mul4(h: &[v128; 5], m: &VecMul) -> [v128; 5] {
    // Column j of the schoolbook product: limb i of h times limb j−i of r, or, for i > j, the
    // wrapped limb 5+j−i times five.
    let coef = |i: usize, j: usize| if i <= j { m.r[j - i] } else { m.s[5 + j - i] };
    let mut lo = [u64x2_splat(0); 5];
    let mut hi = [u64x2_splat(0); 5];
    for j in 0..5 {
        let mut a = u64x2_extmul_low_u32x4(h[0], coef(0, j));
        let mut b = u64x2_extmul_high_u32x4(h[0], coef(0, j));
        for i in 1..5 {
            a = u64x2_add(a, u64x2_extmul_low_u32x4(h[i], coef(i, j)));
            b = u64x2_add(b, u64x2_extmul_high_u32x4(h[i], coef(i, j)));
        }
        lo[j] = a;
        hi[j] = b;
    }
    carry2(&mut lo);
    carry2(&mut hi);
    [0, 1, 2, 3, 4].map(|j| u32x4_shuffle::<0, 2, 4, 6>(lo[j], hi[j]))
}

/// Lazy carry of five u64x2 limb sums (< 2^58): two chains interleaved (0→1→2→3, 3→4→0(×5)→1)
/// so they overlap, ending with limbs < 2^26 except 1 and 4 (< 2^26 + 2^9).
#[inline(always)]
fn carry2(d: &mut [v128; 5]) {
    let m = u64x2_splat(u64::from(M26));
    let step = |d: &mut [v128; 5], from: usize, to: usize| {
        let c = u64x2_shr(d[from], 26);
        d[from] = v128_and(d[from], m);
        d[to] = u64x2_add(d[to], c);
    };
    step(d, 0, 1);
    step(d, 3, 4);
    step(d, 1, 2);
    // c·5 as (c << 2) + c, with c << 2 written as (d4 >> 24) & !3: LLVM folds the plain
    // form into an i64x2.mul by 5, which V8 expands to a long sequence on x86 (no 64-bit lane
    // multiply before AVX-512).
    let c = u64x2_shr(d[4], 26);
    let c4 = v128_and(u64x2_shr(d[4], 24), u64x2_splat(!3));
    d[4] = v128_and(d[4], m);
    d[0] = u64x2_add(d[0], u64x2_add(c4, c));
    step(d, 2, 3);
    step(d, 0, 1);
    step(d, 3, 4);
}

/// A Poly1305 computation under one one-time key (RFC 8439 §2.5): `new`, then `update_padded`
/// (the AEAD's zero-padded pieces, §2.8) or [`mac`] for a plain message, then `finalize`.
/// Key material and the accumulator are zeroed on drop.
pub struct Poly1305 {
    /// r, r^2, r^3, r^4; the powers only once `have_powers` (computed for the first long update).
    pow: [Limbs; 4],
    have_powers: bool,
    h: Limbs,
    /// s, the second half of the key, as four little-endian words.
    pad: [u32; 4],
}

impl Poly1305 {
    /// Keys the computation with `key` = r (clamped here, §2.5.1) || s.
    pub fn new(key: &[u8; 32]) -> Self {
        let mut rb = [0u8; 16];
        rb.copy_from_slice(&key[..16]);
        // Clamping: the top four bits of bytes 3, 7, 11, 15 and the low two of 4, 8, 12 cleared.
        for i in [3, 7, 11, 15] {
            rb[i] &= 15;
        }
        for i in [4, 8, 12] {
            rb[i] &= 252;
        }
        let r = block_limbs(&rb, 0);
        rb.zeroize();
        Poly1305 {
            pow: [r, [0; 5], [0; 5], [0; 5]],
            have_powers: false,
            h: [0; 5],
            pad: [le32(key, 16), le32(key, 20), le32(key, 24), le32(key, 28)],
        }
    }

    /// Absorbs whole 16-byte blocks (`data.len()` a multiple of 16), each with the 2^128 bit.
    fn blocks(&mut self, data: &[u8]) {
        let n = data.len() / 16;
        let vec_bytes = if n >= VECTOR_MIN_BLOCKS { (n & !3) * 16 } else { 0 };
        if vec_bytes > 0 {
            self.blocks4(&data[..vec_bytes]);
        }
        let r = self.pow[0];
        for b in data[vec_bytes..].chunks_exact(16) {
            let m = block_limbs(b, HIBIT);
            for i in 0..5 {
                self.h[i] += m[i];
            }
            self.h = mul(&self.h, &r);
        }
    }

    /// The vector path: `data` is 4k blocks, k ≥ 1.
    fn blocks4(&mut self, data: &[u8]) {
        if !self.have_powers {
            let r = self.pow[0];
            let r2 = mul(&r, &r);
            self.pow[1] = r2;
            self.pow[2] = mul(&r2, &r);
            self.pow[3] = mul(&r2, &r2);
            self.have_powers = true;
        }
        let [r1, r2, r3, r4] = &self.pow;
        let every = VecMul::lanes([r4, r4, r4, r4]);
        let last = VecMul::lanes([r4, r3, r2, r1]);
        // The running h joins chain 0 (the first block of the message so far).
        let mut h = [0, 1, 2, 3, 4].map(|i| u32x4(self.h[i], 0, 0, 0));
        let mut chunks = data.chunks_exact(64);
        let k = chunks.len();
        for _ in 1..k {
            let m = load4(chunks.next().unwrap());
            for i in 0..5 {
                h[i] = u32x4_add(h[i], m[i]);
            }
            // black_box keeps LLVM from widening the loop-invariant multipliers to u64x2 once
            // before the loop: it then replaces every extmul with i64x2.mul, which V8 lowers to
            // a long sequence on x86 (3.5x slower per step, seen in the emitted code).
            h = mul4(&h, core::hint::black_box(&every));
        }
        let m = load4(chunks.next().unwrap());
        for i in 0..5 {
            h[i] = u32x4_add(h[i], m[i]);
        }
        h = mul4(&h, core::hint::black_box(&last));
        for i in 0..5 {
            let v = h[i];
            self.h[i] = u32x4_extract_lane::<0>(v)
                + u32x4_extract_lane::<1>(v)
                + u32x4_extract_lane::<2>(v)
                + u32x4_extract_lane::<3>(v);
        }
        carry(&mut self.h);
    }

    /// Absorbs `data` zero-padded to a multiple of 16 bytes, every block with the 2^128 bit
    /// (RFC 8439 §2.8: the AAD, the ciphertext and the lengths block).
    pub fn update_padded(&mut self, data: &[u8]) {
        let full = data.len() & !15;
        self.blocks(&data[..full]);
        if full < data.len() {
            let mut b = [0u8; 16];
            b[..data.len() - full].copy_from_slice(&data[full..]);
            self.blocks(&b);
        }
    }

    /// Absorbs the final partial block of a plain message: `rest` (< 16 bytes) || 0x01 || zeros,
    /// without the 2^128 bit (§2.5.1).
    fn last_partial(&mut self, rest: &[u8]) {
        let mut b = [0u8; 16];
        b[..rest.len()].copy_from_slice(rest);
        b[rest.len()] = 1;
        let m = block_limbs(&b, 0);
        for i in 0..5 {
            self.h[i] += m[i];
        }
        self.h = mul(&self.h, &self.pow[0]);
    }

    /// The tag: (h mod 2^130−5) + s mod 2^128, little-endian. Constant time in h.
    pub fn finalize(self) -> [u8; 16] {
        let mut h = self.h;
        // Two passes: the first leaves limb 1 possibly at 2^26, the second makes every limb
        // < 2^26 with h < 2^130.
        carry(&mut h);
        carry(&mut h);
        // g = h + 5 − 2^130; h ≥ p exactly when h + 5 reaches 2^130, then the result is g.
        let mut g = [0u32; 5];
        let mut c = 5;
        for i in 0..5 {
            let t = h[i] + c;
            c = t >> 26;
            g[i] = t & M26;
        }
        let take_g = 0u32.wrapping_sub(c);
        for i in 0..5 {
            h[i] = (h[i] & !take_g) | (g[i] & take_g);
        }
        let lo = u64::from(h[0]) | u64::from(h[1]) << 26 | u64::from(h[2]) << 52;
        let hi = u64::from(h[2]) >> 12 | u64::from(h[3]) << 14 | u64::from(h[4]) << 40;
        let s = u128::from(self.pad[0])
            | u128::from(self.pad[1]) << 32
            | u128::from(self.pad[2]) << 64
            | u128::from(self.pad[3]) << 96;
        let t = ((u128::from(hi) << 64) | u128::from(lo)).wrapping_add(s);
        h.zeroize();
        g.zeroize();
        t.to_le_bytes()
    }
}

impl Drop for Poly1305 {
    fn drop(&mut self) {
        // The powers are only written once a long update needed them.
        let used = if self.have_powers { 4 } else { 1 };
        for p in self.pow[..used].iter_mut() {
            p.zeroize();
        }
        self.h.zeroize();
        self.pad.zeroize();
    }
}

/// Poly1305 of a plain message (RFC 8439 §2.5.1: the last partial block gets a 0x01 byte and no
/// 2^128 bit). The AEAD uses [`Poly1305::update_padded`]; this is for the known-answer tests.
pub fn mac(key: &[u8; 32], msg: &[u8]) -> [u8; 16] {
    let mut p = Poly1305::new(key);
    let full = msg.len() & !15;
    p.blocks(&msg[..full]);
    if full < msg.len() {
        p.last_partial(&msg[full..]);
    }
    p.finalize()
}
