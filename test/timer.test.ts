import assert from 'node:assert/strict';
import { afterSec, everySec, MAX_TIMER_DELAY_MS } from '../ts/timer.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('timers: delays longer than Node can hold wait instead of firing at once', () => {
  it('a raw setTimeout past 2^31-1 ms fires within milliseconds (the fault this module exists for)', async () => {
    let fired = false;
    const warn = process.listeners('warning');
    process.removeAllListeners('warning'); // the TimeoutOverflowWarning is expected here
    const h = setTimeout(() => (fired = true), MAX_TIMER_DELAY_MS + 1);
    await sleep(30);
    clearTimeout(h);
    for (const l of warn) process.on('warning', l);
    assert.equal(fired, true);
  });

  it('afterSec and everySec with 30 days, 1e12 s and Infinity do not fire', async () => {
    let calls = 0;
    const ts = [30 * 86400, 1e12, Infinity].flatMap((s) => [afterSec(s, () => calls++), everySec(s, () => calls++)]);
    await sleep(60);
    for (const t of ts) t.cancel();
    assert.equal(calls, 0);
  });

  it('short delays still fire on time, and cancel() stops them', async () => {
    let once = 0;
    let many = 0;
    afterSec(0.01, () => once++);
    const e = everySec(0.01, () => many++);
    const c = afterSec(0.01, () => assert.fail('cancelled timer fired'));
    c.cancel();
    await sleep(80);
    e.cancel();
    const seen = many;
    await sleep(40);
    assert.equal(once, 1);
    assert.ok(seen >= 3, `interval fired ${seen} times in 80 ms`);
    assert.equal(many, seen, 'interval kept firing after cancel()');
  });

  it('refuses NaN, negative and zero-length intervals with a RangeError naming the problem', () => {
    assert.throws(() => afterSec(NaN, () => 0), /afterSec: delay must be a number of seconds >= 0, got NaN/);
    assert.throws(() => everySec(-1, () => 0), /everySec: delay must be a number of seconds >= 0, got -1/);
    assert.throws(() => everySec(0, () => 0), /interval must be > 0/);
  });
});
