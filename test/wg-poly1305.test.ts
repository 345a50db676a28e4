import assert from 'node:assert/strict';
import { wasm } from '../ts/core/wasm.js';

// The WASM build runs its own four-way SIMD128 Poly1305 (crates/eg-core/src/noise/poly1305_simd.rs);
// a native `cargo test` never reaches it, so these checks run inside the module.
describe('WASM SIMD128 Poly1305', () => {
  it('passes RFC 8439 §2.5.2, A.3 (11 vectors) and the §2.8.2 and §A.5 AEAD seal/open known answers', () => {
    assert.equal(wasm().simd128(), true, 'the module under test is the SIMD build');
    const [kat] = wasm().wgPoly1305SelfTest(1);
    assert.equal(kat, 0, 'known-answer vectors failed');
  });

  it('agrees with RustCrypto for every length 0..=2048, random and edge-case keys, two seeds', () => {
    for (const seed of [1, 0x9e3779b9]) {
      const [, bad, cases] = wasm().wgPoly1305SelfTest(seed);
      assert.equal(cases, 2 * 2049 + 8);
      assert.equal(bad, 0, `seed ${seed}: ${bad} of ${cases} tags differ`);
    }
  });
});
