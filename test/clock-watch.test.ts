// Clock offset and drift per node pair from the two directions' one-way latencies
// (ts/super/clockwatch.ts, docs/routing.md §Clock offset and drift), on synthetic clocks: each
// node k has offset off_k + drift_k·t, each directed link a true latency; the supernode sees
// m(u→v) = d(u→v) + off_v(t) − off_u(t) plus measurement noise, as the route graph does.
import assert from 'node:assert/strict';
import { parseSuperConfig, exampleSuperConfig } from '../ts/config/index.js';
import fastJson from 'fast-json-stringify';
import { ClockWatch, type ClockFlag } from '../ts/super/clockwatch.js';
import { httpStateSchema } from '../ts/super/api/manage-schema.js';

interface Node {
  off: number; // s at t = 0
  ppm: number;
  step?: { at: number; s: number };
}

/** Deterministic noise in [-a, a] (xorshift). */
function noise(seed: number): (a: number) => number {
  let x = seed >>> 0 || 1;
  return (a) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return ((x / 0xffffffff) * 2 - 1) * a;
  };
}

function run(
  nodes: Record<number, Node>,
  lat: (u: number, v: number, t: number) => number,
  seconds: number,
  opts: { limitPpm?: number; noiseS?: number; every?: number; lagIn?: number } = {},
): { w: ClockWatch; flags: Array<[number, ClockFlag, string]>; now: number; estimates: number } {
  const flags: Array<[number, ClockFlag, string]> = [];
  let estimates = 0;
  const w = new ClockWatch({ limitPpm: opts.limitPpm ?? 500, onFlag: (n, f, d) => flags.push([n, f, d]), onEstimate: () => estimates++ });
  const rnd = noise(7);
  const ids = Object.keys(nodes).map(Number);
  const off = (k: number, t: number) => {
    const n = nodes[k];
    return n.off + n.ppm * 1e-6 * t + (n.step && t >= n.step.at ? n.step.s : 0);
  };
  const every = opts.every ?? 1;
  let t = 0;
  for (; t <= seconds; t += every) {
    // lagIn: the values *into* a node follow its clock lagIn s late (filters of the two
    // directions catch up with a change after different numbers of samples).
    const lag = opts.lagIn ?? 0;
    for (const u of ids) for (const v of ids) if (u !== v) w.observe(u, v, lat(u, v, t) + off(v, t - lag) - off(u, t) + rnd(opts.noiseS ?? 50e-6), t);
  }
  return { w, flags, now: t - every, estimates };
}

const base = (u: number, v: number) => 0.001 * (1 + ((u * 7 + v * 3) % 5)); // 1..5 ms, asymmetric

describe('clock offset and drift from two-way one-way latencies', () => {
  it('estimates every pair\'s drift within 2 ppm and offset within half the path asymmetry, with offsets of hours', () => {
    const nodes: Record<number, Node> = { 1: { off: 0, ppm: 20 }, 2: { off: 7200, ppm: -30 }, 3: { off: -3.25, ppm: 75 }, 4: { off: 86400 * 365, ppm: 0 } };
    const { w, flags, now, estimates } = run(nodes, base, 300);
    const v = w.view(now);
    assert.equal(v.Pairs.length, 6);
    assert.equal(estimates, 6 * 301, 'one logged estimate per pair and round');
    for (const p of v.Pairs) {
      const want = nodes[p.B].ppm - nodes[p.A].ppm;
      assert.ok(p.DriftPpm !== null && Math.abs(p.DriftPpm - want) < 2, `pair ${p.A}-${p.B}: drift ${p.DriftPpm} ppm, want ${want}`);
      const trueOff = (nodes[p.B].off + nodes[p.B].ppm * 1e-6 * now - nodes[p.A].off - nodes[p.A].ppm * 1e-6 * now) * 1e3;
      const asym = Math.abs(base(p.A, p.B) - base(p.B, p.A)) * 1e3 / 2;
      assert.ok(Math.abs(p.OffsetMs - trueOff) <= asym + 0.1, `pair ${p.A}-${p.B}: offset ${p.OffsetMs} ms, true ${trueOff} ± ${asym}`);
      assert.ok(Math.abs(p.RttMs - (base(p.A, p.B) + base(p.B, p.A)) * 1e3) < 0.2, 'round trip free of offsets');
    }
    for (const [id, n] of Object.entries(v.Nodes)) assert.equal(n.Flag, '', `node ${id} not flagged`);
    assert.deepEqual(flags, []);
  });

  it('flags the one node whose clock drifts beyond ClockDriftLimitPpm (and only it), with a log line naming it', () => {
    const nodes: Record<number, Node> = { 1: { off: 0, ppm: 10 }, 2: { off: 5, ppm: -40 }, 3: { off: -2, ppm: 60 }, 4: { off: 1, ppm: 900 } };
    const { w, flags, now } = run(nodes, base, 120);
    const v = w.view(now);
    assert.equal(v.Nodes['4'].Flag, 'drift');
    assert.ok(Math.abs(v.Nodes['4'].DriftPpm! - 890) < 50, `node 4 drift ${v.Nodes['4'].DriftPpm}`);
    for (const id of ['1', '2', '3']) assert.equal(v.Nodes[id].Flag, '', `node ${id}`);
    assert.deepEqual(flags.map((f) => [f[0], f[1]]), [[4, 'drift']]);
    assert.match(flags[0][2], /node 4 drifts 8\d\d ppm .*limit 500 ppm, ClockDriftLimitPpm/);
    // A higher limit lets the same clocks pass.
    assert.equal(run(nodes, base, 120, { limitPpm: 1000 }).w.view(now).Nodes['4'].Flag, '');
  });

  for (const lagIn of [0, 4]) it(`flags a node whose clock steps, for the node that stepped only, and restarts the pair fits (directions ${lagIn} s apart)`, () => {
    const nodes: Record<number, Node> = { 1: { off: 0, ppm: 0 }, 2: { off: 0, ppm: 0, step: { at: 100, s: 1.5 } }, 3: { off: 0, ppm: 0 }, 4: { off: 0, ppm: 0 } };
    const { w, flags, now } = run(nodes, base, 160, { lagIn });
    const v = w.view(now);
    assert.equal(v.Nodes['2'].Flag, 'step');
    for (const id of ['1', '3', '4']) assert.equal(v.Nodes[id].Flag, '', `node ${id}`);
    const p12 = v.Pairs.find((p) => p.A === 1 && p.B === 2)!;
    assert.ok(p12.LastStep && Math.abs(p12.LastStep.Ms - 1500) < 5, `step size ${p12.LastStep?.Ms}`);
    assert.ok(Math.abs(p12.DriftPpm!) < 2, 'the fit restarted after the step: no drift from it');
    assert.deepEqual(flags.map((f) => [f[0], f[1]]), [[2, 'step']]);
  });

  it('a path that gets 50 ms slower one way, then fast again, is not a clock step', () => {
    const nodes: Record<number, Node> = { 1: { off: 0, ppm: 0 }, 2: { off: 100, ppm: 0 }, 3: { off: -1, ppm: 0 } };
    const lat = (u: number, v: number, t: number) => base(u, v) + (u === 1 && v === 2 && t >= 60 && t < 120 ? 0.05 : 0);
    const { w, flags, now } = run(nodes, lat, 180);
    assert.deepEqual(flags, []);
    for (const p of w.view(now).Pairs) assert.equal(p.LastStep, null, `pair ${p.A}-${p.B}`);
  });

  it('the state API\'s response schema carries Clocks whole (the serializer drops what it does not name)', () => {
    const nodes: Record<number, Node> = { 1: { off: 0, ppm: 10 }, 2: { off: 5, ppm: -40 }, 3: { off: -2, ppm: 900, step: { at: 50, s: 0.5 } } };
    const { w, now } = run(nodes, base, 90);
    const Clocks = w.view(now);
    assert.ok(Clocks.Pairs.some((p) => p.DriftPpm === null) || Clocks.Pairs.some((p) => p.LastStep !== null), 'nulls and steps are in the sample');
    const doc = { PeerInfo: {}, Infinity: 99999, Edges: {}, Edges_Nh: {}, NhTable: {}, Dist: {}, Dist_noAC: {}, Status: {}, Clocks };
    const out = JSON.parse(fastJson(httpStateSchema as unknown as Parameters<typeof fastJson>[0])(doc)) as typeof doc;
    assert.deepEqual(out.Clocks, JSON.parse(JSON.stringify(Clocks)));
  });

  it('ClockDriftLimitPpm: defaults to 500 ppm, is our key next to upstream\'s, and must be positive', () => {
    const warn = () => {};
    assert.equal(parseSuperConfig(exampleSuperConfig(), 'example', warn).ClockDriftLimitPpm, 500);
    assert.equal(parseSuperConfig(`${exampleSuperConfig()}\nClockDriftLimitPpm: 100\n`, 'x', warn).ClockDriftLimitPpm, 100);
    assert.throws(() => parseSuperConfig(`${exampleSuperConfig()}\nClockDriftLimitPpm: 0\n`, 'x', warn), /ClockDriftLimitPpm/);
    assert.throws(() => new ClockWatch({ limitPpm: 0 }), /ClockDriftLimitPpm must be a positive number of ppm/);
  });
});
