// The supernode's settling solve: a solve that saw new links is followed by one more once the
// edges' filter windows are full (docs/routing.md, Hysteresis), because the hysteresis no longer
// re-solves on clock drift and a choice made from a link's first sample would otherwise stand.
import assert from 'node:assert/strict';
import type { GraphRecalculateSetting } from '../ts/config/index.js';
import { RouteState } from '../ts/super/routes.js';

const g = { StaticMode: false, ManualLatency: {}, JitterTolerance: 5, JitterToleranceMultiplier: 1.01, RecalculateCoolDown: 1, TimeoutCheckInterval: 1 } as GraphRecalculateSetting;

/** Both directions of every link of a triangle at `now`: 1–2 and 2–3 10 ms, 1–3 `directMs`. */
function report(r: RouteState, directMs: number, now: number): void {
  for (const [a, b, ms] of [[1, 2, 10], [2, 3, 10], [1, 3, directMs]] as const) {
    r.applyPong(a, b, ms / 1000, 0, 70, now);
    r.applyPong(b, a, ms / 1000, 0, 70, now);
  }
}

describe('supernode settling solve after new links', () => {
  it('re-judges a choice made from first samples once the filters are full, then stays put', () => {
    const r = new RouteState(g, {}, 'salt', (m) => assert.fail(m));
    r.settleS = 4;
    try {
      // The first samples make the direct 1 -> 3 (19 ms) look better than the relay (20 ms).
      report(r, 19, 0);
      assert.equal(r.check(0), true);
      assert.equal(r.view(0).NhTable['1']['3'], 3);
      // The filtered value settles at 23 ms: a 4 ms change of the link, within the 5 ms
      // tolerance, so the hysteresis alone would keep the direct link for good.
      for (let t = 1; t <= 3; t++) {
        report(r, 23, t);
        assert.equal(r.check(t), false, `t=${t}: before the filters are full`);
      }
      report(r, 23, 4);
      assert.equal(r.check(4), true, 'the settling solve runs');
      assert.equal(r.view(4).NhTable['1']['3'], 2, 'and picks the relay (20 ms < 23 ms)');
      const solves = r.recalculations;
      for (let t = 5; t <= 30; t++) {
        report(r, 23, t);
        r.check(t);
      }
      assert.equal(r.recalculations, solves, 'no further solve without a change');
    } finally {
      r.free();
    }
  });
});
