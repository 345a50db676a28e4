// The supernode's route checks ask the WASM hysteresis (a walk over every link) only when a
// pong since the last solve met its rule on that link or its reverse, a vertex changed, or a
// link expired (ts/super/routes.ts). Same decisions, tables and solve count as asking it on
// every check, over random pong sequences with jitter, clock offsets, links going down and
// expiring, and different tolerances.
import assert from 'node:assert/strict';
import type { GraphRecalculateSetting } from '../ts/config/index.js';
import { RouteState } from '../ts/super/routes.js';
import { rng as rand } from '../sim/engine.js';

describe('supernode route checks: skipping the hysteresis walk changes nothing', () => {
  for (const [seed, tolMs, mult, cooldown] of [[1, 5, 1.01, 1], [2, 0, 1, 0], [3, 20, 1.1, 2], [4, 2, 1.5, 0.5]] as const) {
    it(`seed ${seed}: JitterTolerance ${tolMs} ms, multiplier ${mult}, cooldown ${cooldown} s`, () => {
      const g: GraphRecalculateSetting = { StaticMode: false, ManualLatency: {}, JitterTolerance: tolMs, JitterToleranceMultiplier: mult, RecalculateCoolDown: cooldown, TimeoutCheckInterval: 1 } as GraphRecalculateSetting;
      const fast = new RouteState(g, {}, 'salt', (m) => assert.fail(m));
      const slow = new RouteState(g, {}, 'salt', (m) => assert.fail(m));
      slow.alwaysAskHysteresis = true;
      try {
        const r = rand(seed);
        const n = 9;
        const off = Array.from({ length: n + 1 }, () => (r() - 0.5) * 20);
        const base = Array.from({ length: n + 1 }, () => Array.from({ length: n + 1 }, () => 0.001 + r() * 0.05));
        for (const x of [fast, slow]) for (let i = 1; i <= n; i++) x.addNode(i);
        let now = 0;
        for (let step = 0; step < 400; step++) {
          now += 0.05 + r() * 0.4;
          const pongs = 1 + Math.floor(r() * 12);
          for (let p = 0; p < pongs; p++) {
            const a = 1 + Math.floor(r() * n);
            const b = 1 + Math.floor(r() * n);
            if (a === b) continue;
            const roll = r();
            // Mostly jitter around the base; sometimes a jump, a link down, or a short lifetime.
            const lat = roll < 0.03 ? Infinity : base[a][b] + (roll < 0.1 ? r() * 0.05 : (r() - 0.5) * 0.004) + off[b] - off[a];
            const ttl = roll > 0.97 ? 0.3 : 5;
            for (const x of [fast, slow]) x.applyPong(a, b, lat, 0, ttl, now);
          }
          const cf = fast.check(now);
          const cs = slow.check(now);
          assert.equal(cf, cs, `step ${step}: table changed`);
          assert.equal(fast.hash, slow.hash, `step ${step}: same table`);
          assert.equal(fast.recalculations, slow.recalculations, `step ${step}: same solves`);
        }
        assert.ok(fast.checksSkipped > (tolMs > 0 ? 20 : 0), `${fast.checksSkipped} walks skipped`);
        assert.ok(fast.recalculations > 5, `${fast.recalculations} solves`);
      } finally {
        fast.free();
        slow.free();
      }
    });
  }
});
