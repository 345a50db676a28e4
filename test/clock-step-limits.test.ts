// The limits that time clients out run on the monotonic clock, so a step of the system clock
// neither stretches nor shortens them. The wall clock is stepped here by replacing Date.now (the
// clock they used before); test/e2e/clock-step.test.ts steps the real one under a running mesh.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { makeApp } from '../ts/shared/http.js';
import { MonotonicRateStore } from '../ts/shared/rate-store.js';
import { AuthLimiter } from '../ts/super/auth.js';

const HOUR_MS = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Date.now reads the real clock plus `step` while these tests run (installed before anything under
// test is built, since a default parameter `= Date.now` keeps the function it found).
let step = 0;
const realNow = Date.now;

/** Runs `f` with the wall clock `stepMs` ahead of the real one. */
async function withWallStep<T>(stepMs: number, f: () => Promise<T> | T): Promise<T> {
  step = stepMs;
  try {
    return await f();
  } finally {
    step = 0;
  }
}

describe('limits after a step of the system clock', () => {
  before(() => {
    Date.now = () => realNow() + step;
  });
  after(() => {
    Date.now = realNow;
  });

  it('a client blocked for wrong manage passwords stays blocked for the 60 s block, not an hour more, after a step back of 1 h', async () => {
    const l = new AuthLimiter();
    await withWallStep(HOUR_MS, () => {
      for (let i = 0; i < 10; i++) l.fail('10.0.0.1');
    });
    const left = l.blockedFor('10.0.0.1');
    assert.ok(left > 59_000 && left <= 60_000, `blocked for ${left} ms`);
    // A step forward does not end it early either.
    await withWallStep(HOUR_MS, () => assert.ok(l.blockedFor('10.0.0.1') > 59_000));
  });

  it('the HTTP request limit window ends after its length whatever the wall clock does', async () => {
    const saved = { test: process.env.EG_TEST, rate: process.env.EG_TEST_HTTP_RATE };
    process.env.EG_TEST = '1';
    process.env.EG_TEST_HTTP_RATE = '3/300';
    let app: FastifyInstance | undefined;
    try {
      app = makeApp(undefined, (e) => {
        throw e;
      });
      app.get('/x', async () => 'ok');
      await app.ready();
      const get = async () => (await app!.inject({ method: 'GET', url: '/x', remoteAddress: '10.0.0.2' })).statusCode;
      // Three requests fill the window while the clock reads an hour ahead...
      const first = await withWallStep(HOUR_MS, async () => [await get(), await get(), await get(), await get()]);
      assert.deepEqual(first, [200, 200, 200, 429]);
      // ...then the clock is stepped back: after the window's 300 ms the client may ask again.
      await sleep(350);
      assert.deepEqual([await get(), await get(), await get(), await get()], [200, 200, 200, 429]);
      await sleep(350);
      assert.equal(await get(), 200);
    } finally {
      await app?.close();
      for (const [k, v] of [['EG_TEST', saved.test], ['EG_TEST_HTTP_RATE', saved.rate]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('MonotonicRateStore: a fixed window per key, the time left as ttl, least recently seen keys forgotten past its size', () => {
    let t = 1000;
    const s = new MonotonicRateStore({ cache: 2 }, () => t);
    const incr = (k: string) => {
      let out: { current: number; ttl: number } | undefined;
      s.incr(k, (_e, r) => (out = r), 100, 5);
      return out!;
    };
    assert.deepEqual(incr('a'), { current: 1, ttl: 100 });
    t += 40;
    assert.deepEqual(incr('a'), { current: 2, ttl: 60 });
    t += 60;
    assert.deepEqual(incr('a'), { current: 1, ttl: 100 }, 'a new window after 100 ms');
    incr('b');
    incr('c'); // 'a' is the least recently seen of three: forgotten
    assert.deepEqual(incr('a'), { current: 1, ttl: 100 });
    assert.ok(s.child({}) instanceof MonotonicRateStore);
  });
});
