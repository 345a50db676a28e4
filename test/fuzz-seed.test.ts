// The TS fuzz loops' seeds (bench/lib/seeded.ts): shards are only worth their sum when every
// seed gives its own stream. `seed | 1` gave 102 and 103 (and 104 and 105) the same one.
import assert from 'node:assert/strict';
import { seeded, seedState } from '../bench/lib/seeded.js';

describe('fuzz seeds', () => {
  it('every seed of 0..2000 starts its own nonzero state and its own stream', () => {
    const states = new Set<bigint>();
    const firsts = new Set<string>();
    for (let s = 0n; s <= 2000n; s++) {
      const st = seedState(s);
      assert.notEqual(st, 0n, `seed ${s}: xorshift cannot leave state 0`);
      states.add(st);
      const r = seeded(s);
      firsts.add([r(), r(), r()].join(','));
    }
    assert.equal(states.size, 2001);
    assert.equal(firsts.size, 2001);
  });

  it('a seed reproduces its stream, in [0, 1)', () => {
    const a = seeded(104n);
    const b = seeded(104n);
    for (let i = 0; i < 1000; i++) {
      const x = a();
      assert.equal(x, b());
      assert.ok(x >= 0 && x < 1, `${x}`);
    }
  });
});
