// An edge's signed HTTP report carries a PostCount the supernode accepts once (replay defence).
// When one post outlived HttpPostInterval (a slow supernode, a loaded machine), the next timer
// tick signed another report with the same count and the supernode refused it with 409
// "PostCount N already used" (seen once in the clock-step e2e). Posts must not overlap.
// A real supernode and edge in this process (loopback); the client's HTTP requests (its `http`
// seam, node:http underneath) are slowed for report posts only.
import assert from 'node:assert/strict';
import { startLoopbackSuper, until, type LoopbackSuper } from './helpers/loopback-super.js';

describe('edge reports: one signed post at a time', function () {
  this.timeout(30_000);
  let h: LoopbackSuper | undefined;
  after(async () => {
    await h?.stop();
  });

  it('a report post started while another is in flight does not reuse its PostCount', async () => {
    h = await startLoopbackSuper({ superExtra: 'SendPingInterval: 1\nHttpPostInterval: 0\nPeerAliveTimeout: 5\nRePushConfigInterval: 30' });
    const client = h.client as unknown as { postReport(): Promise<void>; postCount: number };
    await until(() => h!.sn.edges.get(1)?.secret !== undefined, 10_000, 'edge 1 registered');
    const statuses: number[] = [];
    const real = h.client.http;
    h.client.http = async (url, o) => {
      if (!url.includes('/edge/post/nodeinfo')) return real(url, o);
      await new Promise((r) => setTimeout(r, 800)); // slower than the next tick
      const r = await real(url, o);
      statuses.push(r.status);
      return r;
    };
    const before = client.postCount;
    // What two timer ticks do when the first post is still waiting for its answer.
    await Promise.all([client.postReport(), new Promise((r) => setTimeout(r, 100)).then(() => client.postReport())]);
    await client.postReport();
    assert.ok(!statuses.includes(409), `a report refused as a replay: statuses ${statuses.join(', ')}`);
    assert.ok(statuses.length >= 2 && statuses.every((s) => s === 200), `statuses ${statuses.join(', ')}`);
    assert.equal(client.postCount - before, statuses.length, 'one PostCount per accepted post');
  });
});
