// An edge whose supernode does not answer says so at the default log level (once), and says
// again when it answers (ts/edge/superclient.ts); before, it printed "up" and then nothing at all.
import assert from 'node:assert/strict';
import { Logger } from '../ts/shared/log.js';
import { systemClock } from '../ts/wgnode/clock.js';
import { startLoopbackSuper, until, type LoopbackSuper } from './helpers/loopback-super.js';

describe('an edge whose supernode is silent', function () {
  this.timeout(30_000);
  let m: LoopbackSuper | undefined;
  after(async () => m?.stop());

  it('logs "no answer from the supernode" once after 10 s of silence, not again while it stays silent', async () => {
    const lines: string[] = [];
    const log = new Logger('edge', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, { write: (l) => lines.push(l) });
    // The edge's monotonic clock runs 12 s ahead on demand, so 10 s of silence need no waiting.
    const sys = systemClock();
    let skew = 0;
    const clock = { ...sys, now: () => sys.now() + skew, wallMs: () => sys.wallMs() };
    m = await startLoopbackSuper({
      superExtra: 'HttpPostInterval: 1\nSendPingInterval: 1',
      // Nothing listens on port 9: the supernode never answers.
      editEdge: (t) => t.replace(/EndpointV4: 127\.0\.0\.1:\d+/, 'EndpointV4: 127.0.0.1:9'),
      clock,
      edgeLog: log,
    });
    skew = 12;
    const silent = () => lines.filter((l) => /no answer from the supernode at 127\.0\.0\.1:9 for \d+ s \(no handshake completed yet\)/.test(l));
    await until(() => silent().length > 0, 8_000, 'the silence is reported');
    await new Promise((r) => setTimeout(r, 5_500)); // one more check: not repeated
    assert.equal(silent().length, 1, lines.join(''));
    assert.ok(!lines.some((l) => /answers again/.test(l)));
  });
});
