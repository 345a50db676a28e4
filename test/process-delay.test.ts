// The node-side pieces of the one-way measurement (docs/routing.md §Wire timestamps): the
// processing delay (kernel receive → handled) that DynamicRoute.ProcessDelayCost may add to the
// reported AdditionalCost, and the send lead that moves a ping's stamp to its sendmmsg time.
import assert from 'node:assert/strict';
import { exampleEdgeConfig, parseEdgeConfig } from '../ts/config/index.js';
import { ProcessDelay } from '../ts/edge/procdelay.js';
import { SendLead } from '../ts/edge/txstamp.js';

describe('processing delay and send lead', () => {
  it('ProcessDelay is the median of the last 32 samples (ms, 0.1 ms steps), ignoring impossible ones', () => {
    const p = new ProcessDelay();
    assert.equal(p.costMs(), 0);
    for (const x of [NaN, -1, Infinity]) p.push(x);
    assert.equal(p.count, 0);
    for (let i = 0; i < 40; i++) p.push(i % 4 === 0 ? 30 : 0.42); // a busy node: a quarter of the pings wait 30 ms
    assert.equal(p.count, 32);
    assert.equal(p.costMs(), 0.4);
    for (let i = 0; i < 20; i++) p.push(12.34);
    assert.equal(p.costMs(), 12.3);
  });

  it('SendLead is the smallest plausible stamp → sendmmsg gap of the last 16 pings', () => {
    const s = new SendLead();
    assert.equal(s.ms, 0);
    for (const g of [0.08, 0.05, 0.3, -0.2, 400, NaN]) s.push(g);
    assert.equal(s.ms, 0.05);
    for (let i = 0; i < 16; i++) s.push(0.07);
    assert.equal(s.ms, 0.07, 'old gaps age out');
  });

  it('DynamicRoute.ProcessDelayCost is our key, off by default', () => {
    const warn = () => {};
    assert.equal(parseEdgeConfig(exampleEdgeConfig(), 'example', warn).DynamicRoute.ProcessDelayCost, false);
    const on = exampleEdgeConfig().replace(/DynamicRoute:\n/, 'DynamicRoute:\n  ProcessDelayCost: true\n');
    assert.equal(parseEdgeConfig(on, 'x', warn).DynamicRoute.ProcessDelayCost, true);
  });
});
