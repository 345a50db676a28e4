// The edges' latency filter (SpikeFilter, WASM; docs/routing.md §Filter) on recorded samples:
// test/fixtures/latency-spikes.json holds, per directed link of a 4-edge mesh with delay lines on
// the bridge, the raw one-way samples of 20 s while an iperf3 flow ran over the VPN from node 1
// to node 2 (bench/latency-accuracy.bench.ts with BENCH_RECORD), measured with kernel receive
// stamps ("measured") and as the old JS-to-JS method would have seen them ("oldWay" = measured +
// the receiver's processing delay), and the link's true one-way time from kernel-timestamped
// probes ("truthMs"). All in ms.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MedianFilter, SpikeFilter } from '../ts/core/filter.js';
import { ROOT } from '../ts/paths.js';

interface Rec {
  radius: number;
  links: Record<string, { truthMs: number; measured: number[]; oldWay: number[] }>;
}
const rec = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'latency-spikes.json'), 'utf8')) as Rec;

function filtered(f: SpikeFilter | MedianFilter, xs: number[], radius: number, timed = false): number[] {
  // Samples in ms; push works in any unit (it only compares and picks). `timed`: through pushAt
  // (what the edges use), in seconds (its drift bound is in s/s), the samples 1 s apart: the
  // recording keeps no times, and its pings were regular.
  const out = xs.map((x, i) => (timed ? (f as SpikeFilter).pushAt(x / 1000, radius, i) * 1000 : f.push(x, radius)));
  f.free();
  return out.slice(2 * radius + 1);
}

const worst = (ys: number[], truth: number) => Math.max(...ys.map((y) => Math.abs(y - truth)));

describe('spike filter on recorded one-way samples (loaded mesh)', () => {
  const r = rec.radius;
  it('the recording has spikes: raw kernel-stamped samples up to tens of ms high, the old way up to hundreds', () => {
    const all = Object.values(rec.links);
    assert.ok(all.some((l) => Math.max(...l.measured) - l.truthMs > 5));
    assert.ok(all.some((l) => Math.max(...l.oldWay) - l.truthMs > 100));
  });

  for (const [link, l] of Object.entries(rec.links)) {
    it(`${link.replace('>', '→')}: kernel-stamped samples through the spike filter stay within 0.3 ms of the truth (${l.truthMs.toFixed(3)} ms)`, () => {
      const out = filtered(new SpikeFilter(), l.measured, r);
      assert.ok(out.length > 0);
      assert.ok(worst(out, l.truthMs) <= 0.3, `worst error ${worst(out, l.truthMs).toFixed(3)} ms: ${out.map((x) => x.toFixed(3)).join(' ')}`);
    });
  }

  for (const [link, l] of Object.entries(rec.links)) {
    it(`${link.replace('>', '→')}: the same through pushAt (drift removal, what the edges use) stay within 0.3 ms of the truth`, () => {
      const out = filtered(new SpikeFilter(), l.measured, r, true);
      assert.ok(out.length > 0);
      assert.ok(worst(out, l.truthMs) <= 0.3, `worst error ${worst(out, l.truthMs).toFixed(3)} ms: ${out.map((x) => x.toFixed(3)).join(' ')}`);
    });
  }

  it('on the same samples the upstream median is worse, and the old JS timing is worse still', () => {
    let spike = 0;
    let median = 0;
    let old = 0;
    for (const l of Object.values(rec.links)) {
      spike = Math.max(spike, worst(filtered(new SpikeFilter(), l.measured, r), l.truthMs));
      median = Math.max(median, worst(filtered(new MedianFilter(), l.measured, r), l.truthMs));
      old = Math.max(old, worst(filtered(new SpikeFilter(), l.oldWay, r), l.truthMs));
    }
    assert.ok(median > spike, `median ${median} vs spike filter ${spike}`);
    assert.ok(old > 1, `old timing through the spike filter: worst ${old} ms`);
  });
});
