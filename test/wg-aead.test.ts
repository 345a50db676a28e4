import assert from 'node:assert/strict';
import { wasm } from '../ts/core/wasm.js';

describe('WASM SIMD128 ChaCha20-Poly1305 kernel', () => {
  it('is byte-identical to RustCrypto on 3000 random messages (0..1600 bytes, random AAD)', () => {
    assert.equal(wasm().simd128(), true, 'the module under test is the SIMD build');
    assert.equal(wasm().wgAeadSelfTest(1, 1500), 0);
    assert.equal(wasm().wgAeadSelfTest(0xdeadbeef, 1500), 0);
  });
});
