// The supernode's notices to an edge go on its live session(s) (ts/super/sessions.ts sendBoth):
// an edge that left a family kept its old endpoint there, and every notice sent to it queued and
// started handshake initiations to a dead address.
import assert from 'node:assert/strict';
import type { SuperConfig } from '../ts/config/index.js';
import { EdgeSessions } from '../ts/super/sessions.js';
import type { EdgeRec } from '../ts/super/state.js';
import type { Peer } from '../ts/wgnode/peers.js';

describe('supernode notices to an edge', () => {
  let now = 1000;
  const sent: string[] = [];
  const sessions = new EdgeSessions({ PeerAliveTimeout: 70 } as SuperConfig, { now: () => now, wallMs: () => now * 1000 }, {} as never, {} as never);
  (sessions as unknown as { hosts: Record<number, unknown> }).hosts = {
    4: { sendTo: () => sent.push('v4') },
    6: { sendTo: () => sent.push('v6') },
  };
  const session = (family: 4 | 6, lastRx: number) => ({ nodeId: 1, endpoint: { address: family === 4 ? '10.0.0.1' : 'fd00::1', port: 3001, family }, lastRx }) as unknown as Peer;
  const send = (rec: { wg: Record<number, Peer | undefined> }) => {
    sent.length = 0;
    sessions.sendBoth(rec as unknown as EdgeRec, new Uint8Array(8));
    return [...sent].sort();
  };

  it('go only on the live family when the other has been silent for PeerAliveTimeout', () => {
    assert.deepEqual(send({ wg: { 4: session(4, now - 200), 6: session(6, now - 1) } }), ['v6']);
    assert.deepEqual(send({ wg: { 4: session(4, now - 2), 6: session(6, now - 300) } }), ['v4']);
  });

  it('go on both when both are alive, and on both when neither is (the edge may come back on either)', () => {
    assert.deepEqual(send({ wg: { 4: session(4, now - 1), 6: session(6, now - 3) } }), ['v4', 'v6']);
    assert.deepEqual(send({ wg: { 4: session(4, -Infinity), 6: session(6, now - 500) } }), ['v4', 'v6']);
  });

  it('skip a session without an endpoint', () => {
    const noEp = { ...session(6, now), endpoint: undefined } as unknown as Peer;
    assert.deepEqual(send({ wg: { 4: session(4, -Infinity), 6: noEp } }), ['v4']);
    now += 1;
  });
});
