// ClockWatch fed per LinkReport (observeLinks, ts/super/clockwatch.ts): the same estimates as
// link-by-link observe() while the mesh is small, every k-th report of each edge once the pairs
// exceed PAIR_BUDGET (the supernode's per-link cost at N = 1000), and the running-sum fit giving
// the direct least-squares line over long histories.
import assert from 'node:assert/strict';
import { ClockWatch, PAIR_BUDGET, type ClockFlag } from '../ts/super/clockwatch.js';

/** One-way values of a full mesh of `n` nodes: base latency + off(dst) − off(src), with drifts (ppm). */
function mesh(n: number, driftPpm: (id: number) => number) {
  const base = (a: number, b: number) => 0.001 + ((a * 31 + b * 17) % 50) / 1e4;
  const off = (id: number, t: number) => (id % 7) * 0.5 + (driftPpm(id) * 1e-6 * t);
  return (src: number, dst: number, t: number) => base(src, dst) + off(dst, t) - off(src, t);
}

function feed(w: ClockWatch, n: number, value: (s: number, d: number, t: number) => number, seconds: number, perLink: boolean) {
  const srcs = new Uint16Array(n - 1);
  const lat = new Float64Array(n - 1);
  for (let t = 1; t <= seconds; t++) {
    for (let d = 1; d <= n; d++) {
      const now = t + d * 1e-4;
      let k = 0;
      for (let s = 1; s <= n; s++) {
        if (s === d) continue;
        srcs[k] = s;
        lat[k++] = value(s, d, now);
      }
      if (perLink) for (let i = 0; i < k; i++) w.observe(srcs[i]!, d, lat[i]!, now);
      else w.observeLinks(d, srcs, lat, now);
    }
  }
}

describe('ClockWatch fed per report', () => {
  it('a small mesh: observeLinks gives exactly what observe gives link by link', () => {
    const v = mesh(12, (id) => (id === 5 ? 900 : 0));
    const flags: Array<[number, ClockFlag]> = [];
    const a = new ClockWatch({ limitPpm: 500, onFlag: (n, f) => flags.push([n, f]) });
    const b = new ClockWatch({ limitPpm: 500 });
    feed(a, 12, v, 90, false);
    feed(b, 12, v, 90, true);
    assert.equal(a.sampleEvery, 1);
    assert.deepEqual(a.view(91), b.view(91));
    assert.equal(a.view(91).Nodes['5']!.Flag, 'drift');
    assert.ok(Math.abs(a.view(91).Nodes['5']!.DriftPpm! - 900) < 1, `${a.view(91).Nodes['5']!.DriftPpm} ppm`);
    assert.deepEqual(flags, [[5, 'drift']]);
  });

  it('beyond PAIR_BUDGET pairs it takes every k-th report and still finds the drifting clock', function () {
    this.timeout(60_000);
    const n = 210; // 21 945 pairs
    assert.ok((n * (n - 1)) / 2 > PAIR_BUDGET);
    const v = mesh(n, (id) => (id === 77 ? -800 : id % 3 === 0 ? 40 : 0));
    const flags: Array<[number, ClockFlag]> = [];
    const w = new ClockWatch({ limitPpm: 500, onFlag: (id, f) => flags.push([id, f]) });
    feed(w, n, v, 80, false);
    assert.equal(w.sampleEvery, 2);
    const view = w.view(81);
    const p = view.Pairs.find((x) => x.A === 1 && x.B === 2)!;
    // Every second interval: about 40 samples in 80 s.
    assert.ok(p.Samples >= 35 && p.Samples <= 42, `${p.Samples} samples`);
    assert.ok(Math.abs(view.Nodes['77']!.DriftPpm! + 800) < 1, `${view.Nodes['77']!.DriftPpm} ppm`);
    assert.deepEqual(flags, [[77, 'drift']], 'only the drifting clock is flagged');
  });

  it('the running-sum fit equals a direct least-squares fit over a long history with a large offset', () => {
    const w = new ClockWatch({ limitPpm: 500 });
    // One pair, a 3-hour offset drifting 120 ppm with ±50 µs noise, for 40 minutes (the 600 s
    // window slides 2400 times and the sums are rebuilt every 1024 updates).
    let seed = 9;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 1e-4;
    const hist: Array<[number, number]> = [];
    for (let t = 1; t <= 2400; t++) {
      const theta = 10800 + 120e-6 * t;
      const ab = 0.002 + theta + noise();
      const ba = 0.002 - theta + noise();
      w.observe(1, 2, ab, t);
      w.observe(2, 1, ba, t + 0.01);
      hist.push([t + 0.01, (ab - ba) / 2]);
    }
    const inWindow = hist.filter(([t]) => 2400.01 - t <= 600);
    const n = inWindow.length;
    const mt = inWindow.reduce((s, [t]) => s + t, 0) / n;
    const my = inWindow.reduce((s, [, y]) => s + y, 0) / n;
    const slope = inWindow.reduce((s, [t, y]) => s + (t - mt) * (y - my), 0) / inWindow.reduce((s, [t]) => s + (t - mt) ** 2, 0);
    const p = w.view(2400.01).Pairs[0]!;
    assert.equal(p.Samples, n);
    assert.ok(Math.abs(p.DriftPpm! - slope * 1e6) < 1e-3, `${p.DriftPpm} ppm vs direct fit ${slope * 1e6} ppm`);
    assert.ok(Math.abs(p.DriftPpm! - 120) < 2, `${p.DriftPpm} ppm`);
  });
});
