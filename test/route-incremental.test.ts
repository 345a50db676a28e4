// RouteGraph.solve through the real WASM module is incremental when few links changed since the
// last solve (crates/eg-wasm/src/route.rs, docs/routing.md "Incremental updates"). Its tables must
// be exactly those of the full solve: a twin graph with setIncremental(false) gets the same
// random sequence of stored, replaced, removed and expiring links, new nodes and ManualLatency
// changes, and after every solve both must agree bit for bit (ids, next hops, both distance
// tables, the "changed" flag, the Edges_Nh snapshot).
import assert from 'node:assert/strict';
import { wasm } from '../ts/core/wasm.js';
import { rng as mulberry32 } from '../sim/engine.js';
import { assertSameSolution, type RawRouteGraph as Raw } from './helpers/route-graph.js';

const same = assertSameSolution;

describe('RouteGraph incremental solve (WASM)', () => {
  it('gives exactly the full solve after every step of random link changes, expiries and node joins', () => {
    const modes = new Map<string, number>();
    for (let seed = 1; seed <= 12; seed++) {
      const rnd = mulberry32(seed);
      const n = [6, 12, 24, 40][seed % 4];
      const ids: number[] = Array.from({ length: n }, (_, i) => 3 + 7 * i);
      // Clock offsets (s) per node: measured = true + off[dst] - off[src].
      const off = new Map<number, number>();
      const offOf = (id: number) => {
        if (!off.has(id)) off.set(id, Math.round((rnd() - 0.5) * 16) / 64);
        return off.get(id)!;
      };
      const lat = (s: number, d: number) => Math.ceil(rnd() * 10) / 64 + offOf(d) - offOf(s);
      const inc = new (wasm().RouteGraph)();
      const full = new (wasm().RouteGraph)();
      full.setIncremental(false);
      const both = (f: (g: Raw) => void) => {
        f(inc);
        f(full);
      };
      let now = 1000;
      for (const s of ids) for (const d of ids) if (s !== d && rnd() < 0.7) {
        const l = lat(s, d);
        const ttl = 5 + rnd() * 100;
        both((g) => g.applyPong(s, d, l, 10, 0, ttl, now));
      }
      for (let step = 0; step < 50; step++) {
        const ctx = `seed ${seed} step ${step}`;
        now += rnd() * 3;
        const k = rnd() < 0.7 ? 1 : 1 + Math.floor(rnd() * 4);
        for (let c = 0; c < k; c++) {
          const s = ids[Math.floor(rnd() * ids.length)];
          let d = ids[Math.floor(rnd() * ids.length)];
          if (d === s) d = ids[(ids.indexOf(s) + 1) % ids.length];
          const r = rnd();
          if (r < 0.15) both((g) => g.removeEdge(s, d));
          else if (r < 0.25) both((g) => g.setEdge(s, d, Infinity, 0, now + 50));
          else {
            const l = lat(s, d);
            const ttl = rnd() < 0.2 ? 1 : 20 + rnd() * 100;
            const acMs = [0, 10, -1][Math.floor(rnd() * 3)];
            both((g) => g.applyPong(s, d, l, acMs, 5, ttl, now));
          }
        }
        if (rnd() < 0.04) {
          const id = ids[ids.length - 1] + 7;
          ids.push(id);
          const l = lat(ids[0], id);
          both((g) => g.applyPong(ids[0], id, l, 0, 0, 100, now));
        }
        if (rnd() < 0.03) both((g) => g.setManualLatency(ids[0], ids[1], 1 + step));
        let a: boolean | Error;
        let b: boolean | Error;
        try {
          a = inc.solve(now);
        } catch (e) {
          a = e as Error;
        }
        try {
          b = full.solve(now);
        } catch (e) {
          b = e as Error;
        }
        if (a instanceof Error || b instanceof Error) {
          assert.ok(a instanceof Error && b instanceof Error, `${ctx}: ${a} vs ${b}`);
          assert.equal(a.message, b.message);
        } else {
          assert.equal(a, b, `${ctx}: changed flag`);
        }
        same(inc, full, ctx);
        const m = inc.lastSolveMode();
        modes.set(m, (modes.get(m) ?? 0) + 1);
      }
      inc.free();
      full.free();
    }
    // Both paths ran: incremental updates and full solves.
    assert.ok((modes.get('incremental') ?? 0) > 100, JSON.stringify([...modes]));
    assert.ok([...modes.keys()].some((m) => m.startsWith('full')), JSON.stringify([...modes]));
  });

  it('treats a link that expires between solves as down', () => {
    const inc = new (wasm().RouteGraph)();
    for (const [s, d] of [[1, 2], [2, 3], [1, 3], [2, 1], [3, 2], [3, 1]]) inc.applyPong(s, d, s === 1 && d === 3 ? 0.05 : 0.01, 0, 0, 100, 0);
    inc.solve(0);
    assert.equal(inc.nextHop(1, 3), 2);
    // Refresh everything but 1->2 and 2->3 for longer; 1->2 expires at t = 100.
    inc.applyPong(2, 3, 0.01, 0, 0, 1000, 50);
    inc.applyPong(1, 3, 0.05, 0, 0, 1000, 50);
    assert.equal(inc.solve(60), false);
    assert.equal(inc.lastSolveMode(), 'unchanged');
    assert.equal(inc.solve(101), true);
    assert.equal(inc.lastSolveMode(), 'incremental');
    assert.equal(inc.nextHop(1, 3), 3);
    assert.ok(!Array.from(inc.solvedEdgePairs()).some((_, i, a) => i % 2 === 0 && a[i] === 1 && a[i + 1] === 2));
    inc.free();
  });
});
