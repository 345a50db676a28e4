// The ping prober P2P uses (ts/edge/probe.ts): one-way latency = our receive time − the pinger's
// timestamp (offset included), through the edges' filter; pings that claim another source or a
// difference no two clocks can have are refused with the reason the caller counts.
import assert from 'node:assert/strict';
import { Prober } from '../ts/edge/probe.js';

describe('p2p prober', () => {
  it('measures receive time minus send time (ms → s), with a clock offset of any size kept', () => {
    const p = new Prober(1, () => 0);
    const yearMs = 365 * 86400_000;
    assert.deepEqual(p.ping(1_000_000, 2), { v: 1, Src: 1, Time: 1_000_000, RequestReply: 2 });
    const r = p.measure(2, { v: 1, Src: 2, Time: 1_000_000, RequestReply: 0 }, 1_000_000 + yearMs + 12.5, 1);
    assert.deepEqual(r, { ok: true, measured: (yearMs + 12.5) / 1000, filtered: (yearMs + 12.5) / 1000 });
    assert.equal(p.latency(2), (yearMs + 12.5) / 1000);
    p.free();
  });

  it('refuses a ping whose Src is not the peer that delivered it, and an impossible time difference', () => {
    const p = new Prober(1, () => 1);
    assert.deepEqual(p.measure(2, { v: 1, Src: 3, Time: 0, RequestReply: 0 }, 5, 1), { ok: false, reason: 'ping claims source 3 but came from 2' });
    assert.deepEqual(p.measure(2, { v: 1, Src: 2, Time: -1e17, RequestReply: 0 }, 1e17, 1), { ok: false, reason: 'ping time further from our clock than any two clocks can be' });
    assert.equal(p.latency(2), undefined, 'nothing stored from refused pings');
    p.free();
  });

  it('filters per peer with the configured radius, read on every sample', () => {
    let radius = 1;
    const p = new Prober(1, () => radius);
    const feed = (from: number, ms: number, t: number) => p.measure(from, { v: 1, Src: from, Time: t, RequestReply: 0 }, t + ms, t / 1000);
    for (const [i, ms] of [10, 10, 300, 10].entries()) feed(2, ms, i * 1000);
    assert.ok(p.latency(2)! < 0.1, `a single 300 ms spike is filtered out: ${p.latency(2)}`);
    feed(3, 50, 0);
    assert.deepEqual([...p.latencies().keys()].sort(), [2, 3]);
    radius = 0;
    assert.equal((feed(2, 300, 9000) as { filtered: number }).filtered, 0.3, 'radius 0 passes samples through');
    p.forget(2);
    assert.equal(p.latency(2), undefined);
    p.free();
  });
});
