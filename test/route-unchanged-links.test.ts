// A link reported again with the value it already had is not a change (crates/eg-wasm/src/route.rs,
// docs/routing.md "Incremental updates"): a supernode receives every link of every edge each
// interval, and when each of those counted as changed, one real change among them pushed the
// solve past the incremental path's batch limit into the full solve. Checked against a twin
// graph that always solves in full: same tables bit for bit, including a link that expired before
// the last solve and comes back with its old value (that one is a change).
import assert from 'node:assert/strict';
import { wasm } from '../ts/core/wasm.js';
import { assertSameSolution, type RawRouteGraph as Raw } from './helpers/route-graph.js';

const same = assertSameSolution;

describe('RouteGraph: links reported again unchanged (WASM)', () => {
  const n = 100;
  const lat = (s: number, d: number) => 0.01 + ((s * 37 + d * 11) % 97) / 1e4;
  /** Every edge's LinkReport: all its incoming links with their fixed latencies, lifetime `ttl`. */
  const reportAll = (gs: Raw[], now: number, ttl: number, skip?: [number, number]) => {
    for (let d = 1; d <= n; d++) {
      const srcs = Uint16Array.from({ length: n }, (_, i) => i + 1).filter((s) => s !== d && !(skip && skip[0] === s && skip[1] === d));
      const l = Float64Array.from(srcs, (s) => lat(s, d));
      const t = new Float64Array(srcs.length).fill(ttl);
      for (const g of gs) g.applyPongs(d, srcs, l, t, 0, 0, now);
    }
  };

  it('solves incrementally when one link of a full round of reports changed, with the full solve\'s tables', () => {
    const inc = new (wasm().RouteGraph)();
    const full = new (wasm().RouteGraph)();
    full.setIncremental(false);
    const both = [inc, full];
    reportAll(both, 0, 5);
    for (const g of both) g.solve(0);
    assert.equal(inc.lastSolveMode(), 'full');
    // The next interval: every link again with its value, one of them (7 -> 8) much cheaper.
    reportAll(both, 1, 5);
    for (const g of both) g.applyPong(7, 8, 0.0001, 0, 0, 5, 1);
    assert.equal(inc.solve(1), full.solve(1));
    assert.equal(inc.lastSolveMode(), 'incremental');
    same(inc, full, 'one changed link');
    // Single-link calls (applyPong, setEdge) with unchanged values are not changes either.
    for (let s = 1; s <= n; s++) for (let d = 1; d <= n; d++) if (s !== d && !(s === 7 && d === 8)) for (const g of both) g.applyPong(s, d, lat(s, d), 0, 0, 5, 2);
    for (const g of both) g.setEdge(9, 10, lat(9, 10), 0, 7);
    assert.equal(inc.solve(2), full.solve(2));
    assert.equal(inc.lastSolveMode(), 'unchanged');
    same(inc, full, 'nothing changed');
    inc.free();
    full.free();
  });

  it('counts a link that expired before the last solve and returns with its old value as a change', () => {
    const inc = new (wasm().RouteGraph)();
    const full = new (wasm().RouteGraph)();
    full.setIncremental(false);
    const both = [inc, full];
    reportAll(both, 0, 5);
    for (const g of both) g.solve(0);
    // 3 -> 4 is not reported for a while: it expires (valid until 5) before the solve at 8.
    for (const t of [3, 6]) reportAll(both, t, 5, [3, 4]);
    assert.equal(inc.solve(8), full.solve(8));
    same(inc, full, 'expired');
    assert.ok(!Array.from(inc.solvedEdgePairs()).some((_, i, a) => i % 2 === 0 && a[i] === 3 && a[i + 1] === 4), '3 -> 4 gone at t = 8');
    // Back with the value it had before it expired.
    reportAll(both, 9, 5);
    assert.equal(inc.solve(9), full.solve(9));
    assert.equal(inc.lastSolveMode(), 'incremental');
    same(inc, full, 'back');
    assert.ok(Array.from(inc.solvedEdgePairs()).some((_, i, a) => i % 2 === 0 && a[i] === 3 && a[i + 1] === 4), '3 -> 4 back at t = 9');
    inc.free();
    full.free();
  });
});
