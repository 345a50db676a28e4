// A negative cycle among measured links must not freeze routing (docs/routing.md, "Negative
// cycles"). Drifting clocks (100 ppm moves an offset 1.5 ms between two measurements 15 s apart)
// and jitter beyond a short round trip can make a cycle's measured sum negative; the solver
// refused such a graph, and the supernode kept its last table until the cycle went away, through
// link failures too: in the simulator (N = 200, SendPingInterval 15 s, drift ±100 ppm, jitter
// ±2 ms) a cut link stayed in the routes of 37 pairs for as long as the run went on. Through the
// supernode's RouteState: the table is solved and published, a link that expires is routed
// around, and each repair is counted and reported.
import assert from 'node:assert/strict';
import { RouteState } from '../ts/super/routes.js';

const G = { StaticMode: false, JitterTolerance: 5, JitterToleranceMultiplier: 1.01, DampingFilterRadius: 0, TimeoutCheckInterval: 1, RecalculateCoolDown: 0, ManualLatency: {} };

describe('supernode routes with a negative cycle among the measured links', () => {
  it('solves, counts the repair, and routes around a link that then expires', () => {
    const errors: string[] = [];
    const notes: string[] = [];
    const r = new RouteState(G as never, {}, 'salt', (m) => errors.push(m), (m) => notes.push(m));
    // Four nodes, clocks off by up to 4 s; true latencies 1-4 ms, AdditionalCost 10 ms (so direct
    // links win). Node 1's and 2's links read a round trip of -25 ms, which the two ACs do not
    // make up (a clock stepped between the two directions' measurements).
    const off = [0, 2.5, -1.25, 4, -3];
    const t = (s: number, d: number) => 0.001 + ((s * 3 + d) % 4) / 1000;
    const m = (s: number, d: number) => t(s, d) + off[d] - off[s] + (s === 1 && d === 2 ? -0.025 - t(1, 2) - t(2, 1) : 0);
    assert.ok(m(1, 2) + m(2, 1) < 0, 'the round trip 1<->2 is negative');
    const ttl = (s: number, d: number) => (s === 2 && d === 3 ? 3 : 100);
    for (let d = 1; d <= 4; d++) for (let s = 1; s <= 4; s++) if (s !== d) r.applyPong(s, d, m(s, d), 10, ttl(s, d), 0);
    assert.equal(r.check(0), true, `a table is published (errors: ${errors.join('; ')})`);
    assert.deepEqual(errors, []);
    assert.equal(r.negativeCycleRepairs, 1);
    assert.match(notes[0] ?? '', /negative cycle .* 1 impossible round trip\(s\) raised to 2 µs/);
    for (let a = 1; a <= 4; a++) for (let b = 1; b <= 4; b++) if (a !== b) assert.ok(r.nhTable[a]?.[b] !== undefined, `a route ${a}->${b}`);
    // 2->3 expires at t = 3: the next check routes 2 to 3 through another node.
    assert.equal(r.nhTable[2]![3], 3, 'direct before');
    r.check(4);
    assert.notEqual(r.nhTable[2]![3], 3, '2->3 avoids the expired link');
    assert.ok(r.nhTable[2]![3] !== undefined, '2 still reaches 3');
    assert.deepEqual(errors, []);
    assert.equal(notes.length, 1, 'one report a minute at most');
    // Later solves that need no repair (the expiry above, and one for a changed link) are not
    // counted as repairs: the count is of solves that repaired, not of solves after one.
    assert.equal(r.negativeCycleRepairs, 1);
    r.applyPong(4, 3, m(4, 3) + 0.05, 10, 100, 5);
    r.check(6);
    assert.equal(r.negativeCycleRepairs, 1, 'a solve after a repair counted as another repair');
  });
});
