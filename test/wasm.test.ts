import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreSimd128, coreVersion, wasm } from '../ts/core/wasm.js';
import { ROOT } from '../ts/paths.js';

describe('WASM core (Node build)', () => {
  it('loads once and reports the Rust crate version', () => {
    const v = /version = "([^"]+)"/.exec(readFileSync(join(ROOT, 'Cargo.toml'), 'utf8'))![1];
    assert.equal(coreVersion(), v);
    assert.equal(wasm(), wasm());
  });
  it('was built with SIMD128', () => {
    assert.equal(coreSimd128(), true);
  });
});
