// Intervals the supernode pushes to its edges (SendPingInterval, HttpPostInterval) may be longer
// than Node's 2^31-1 ms timer limit; an edge must then wait, not ping and post every millisecond.
import assert from 'node:assert/strict';
import type { SuperClient } from '../ts/edge/superclient.js';
import { startLoopbackSuper, until, type LoopbackSuper } from './helpers/loopback-super.js';

describe('intervals longer than 24.8 days pushed by the supernode', function () {
  this.timeout(30_000);
  let m: LoopbackSuper | undefined;
  after(async () => m?.stop());

  it('an edge told to ping and post every 1e7 s (116 days) does not do it every millisecond', async () => {
    // Count the periodic work the pushed intervals drive (the timers call these by name).
    const calls = { pingAll: 0, postReport: 0 };
    const instrument = (client: SuperClient) => {
      const c = client as unknown as Record<'pingAll' | 'postReport', (...a: unknown[]) => unknown>;
      for (const k of ['pingAll', 'postReport'] as const) {
        const orig = c[k].bind(client);
        c[k] = (...a: unknown[]) => {
          calls[k]++;
          return orig(...a);
        };
      }
    };
    m = await startLoopbackSuper({ superExtra: 'HttpPostInterval: 1e7\nSendPingInterval: 1e7\nPeerAliveTimeout: 2e7', beforeStart: instrument });
    const sn = m.sn;
    await until(() => sn.state().Status['1']?.Alive, 20_000, 'edge 1 registered');
    await new Promise((r) => setTimeout(r, 1000));
    // Each may run once when the parameters arrive; a 1 ms timer would have run them ~1000 times.
    assert.ok(calls.pingAll <= 3, `pingAll ran ${calls.pingAll} times in about a second`);
    assert.ok(calls.postReport <= 3, `postReport ran ${calls.postReport} times in about a second`);
  });
});
