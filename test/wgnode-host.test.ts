// WgHost (ts/wgnode/host.ts) in host mode, as the supernode runs it: two hosts on loopback
// handshake and exchange plaintexts through the data plane's batch call, over the native UDP
// sockets and over node:dgram (EG_NATIVE_UDP=0); a message sent before the session is queued and
// flushed once the handshake completes, on the initiator's side and on the responder's, unless it
// waited too long; roaming and counters follow the datagrams.
import assert from 'node:assert/strict';
import { generatePrivateKey, keyToBase64, publicKey } from '../ts/core/wg.js';
import { systemClock } from '../ts/wgnode/clock.js';
import { WgHost, type HostOptions } from '../ts/wgnode/host.js';
import { HEADER_LEN, Kind, writeHeader } from '../ts/core/frame.js';
import { QUEUE_LIMIT, type Peer } from '../ts/wgnode/peers.js';

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function host(priv: Uint8Array, got: { from: number; text: string }[], drops: string[], expected: boolean[] = [], extra: Partial<HostOptions> = {}): WgHost {
  return new WgHost({
    ...extra,
    privateKey: keyToBase64(priv),
    port: 0,
    v4: true,
    v6: false,
    listenV4: '127.0.0.1',
    clock: systemClock(),
    log: { internal: () => {}, error: () => {}, debug: () => {}, drop: (r, _f, e) => (drops.push(r), expected.push(e === true)) },
    onPlaintext: (plain, from) => got.push({ from: from.nodeId, text: Buffer.from(plain).toString('utf8').replace(/\0+$/, '') }),
  });
}

for (const native of [true, false]) {
  describe(`WgHost in host mode over ${native ? 'native UDP sockets' : 'node:dgram (EG_NATIVE_UDP=0)'}`, () => {
    const saved = process.env.EG_NATIVE_UDP;
    const hosts: WgHost[] = [];
    before(() => {
      if (!native) process.env.EG_NATIVE_UDP = '0';
    });
    after(() => {
      if (saved === undefined) delete process.env.EG_NATIVE_UDP;
      else process.env.EG_NATIVE_UDP = saved;
      for (const h of hosts.splice(0)) h.close();
    });

    /** Hosts A (NodeID 1) and B (NodeID 2), open, each the other's peer, no endpoints yet; what each received and every drop. */
    async function pair() {
      const ka = generatePrivateKey();
      const kb = generatePrivateKey();
      const gotA: { from: number; text: string }[] = [];
      const gotB: { from: number; text: string }[] = [];
      const drops: string[] = [];
      const a = host(ka, gotA, drops);
      const b = host(kb, gotB, drops);
      hosts.push(a, b);
      await a.open();
      await b.open();
      const bAtA: Peer = a.addPeer(2, publicKey(kb), undefined);
      const aAtB: Peer = b.addPeer(1, publicKey(ka), undefined);
      return { a, b, bAtA, aAtB, gotA, gotB, drops };
    }

    it('queues a message until the handshake, then delivers both ways; endpoints roam in and counters move', async () => {
      const { a, b, bAtA, aAtB, gotA, gotB, drops } = await pair();
      bAtA.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
      a.sendTo(bAtA, new TextEncoder().encode('hello b'));
      assert.equal(bAtA.queue.length, 1, 'queued: no session yet');
      await waitFor(() => gotB.length === 1, 'B to receive the queued message');
      assert.deepEqual(gotB, [{ from: 1, text: 'hello b' }]);
      assert.equal(bAtA.queue.length, 0);
      // B learned A's endpoint from the handshake (it had none) and answers over it.
      assert.deepEqual(aAtB.endpoint, { address: '127.0.0.1', port: a.port, family: 4 });
      b.sendTo(aAtB, new TextEncoder().encode('hello a'));
      await waitFor(() => gotA.length === 1, 'A to receive the answer');
      assert.deepEqual(gotA, [{ from: 2, text: 'hello a' }]);
      assert.ok(aAtB.rxBytes > 0 && aAtB.txBytes > 0 && bAtA.rxBytes > 0 && bAtA.txBytes > 0);
      assert.ok(aAtB.lastHandshakeMs > 0 && bAtA.lastHandshakeMs > 0);
      assert.deepEqual(drops, []);
    });

    it("a message queued at the side that ends up responder is sent once the initiator's first transport message confirms the session", async () => {
      const { a, b, bAtA, aAtB, gotA, gotB, drops } = await pair();
      // A has B's endpoint wrong: its initiations go nowhere, and its message waits.
      bAtA.endpoint = { address: '127.0.0.1', port: 9, family: 4 };
      a.sendTo(bAtA, new TextEncoder().encode('queued at A'));
      assert.equal(bAtA.queue.length, 1);
      // B starts the session: A answers as responder, B's first message confirms it.
      aAtB.endpoint = { address: '127.0.0.1', port: a.port, family: 4 };
      b.sendTo(aAtB, new TextEncoder().encode('hello a'));
      await waitFor(() => gotA.length === 1, 'A to receive B\'s message');
      await waitFor(() => gotB.length === 1, 'B to receive the message A queued', 3000);
      assert.deepEqual(gotB, [{ from: 1, text: 'queued at A' }]);
      assert.equal(bAtA.queue.length, 0);
      assert.deepEqual(drops, []);
    });

    it('a queued ping older than pingQueueMaxAgeS and anything older than queueMaxAgeS are dropped with a reason, not sent', async () => {
      const ka = generatePrivateKey();
      const kb = generatePrivateKey();
      const gotB: { from: number; text: string }[] = [];
      const drops: string[] = [];
      const a = host(ka, [], drops, [], { pingQueueMaxAgeS: 0.2, queueMaxAgeS: 0.6 });
      const b = host(kb, gotB, []);
      hosts.push(a, b);
      await a.open();
      await b.open();
      const bAtA: Peer = a.addPeer(2, publicKey(kb), undefined);
      b.addPeer(1, publicKey(ka), undefined);
      bAtA.endpoint = { address: '127.0.0.1', port: 9, family: 4 };
      const framed = (kind: number, text: string) => {
        const body = new TextEncoder().encode(text);
        const m = new Uint8Array(HEADER_LEN + body.length);
        writeHeader(m, { kind, ttl: 0, dst: 2, src: 1, len: body.length });
        m.set(body, HEADER_LEN);
        return m;
      };
      a.sendTo(bAtA, framed(Kind.Ping, 'old ping'));
      a.sendTo(bAtA, framed(Kind.Ping + 1, 'old other'));
      await new Promise((r) => setTimeout(r, 700));
      a.sendTo(bAtA, framed(Kind.Ping, 'fresh ping'));
      a.sendTo(bAtA, framed(Kind.Ping + 1, 'fresh other'));
      assert.equal(bAtA.queue.length, 4);
      bAtA.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
      assert.ok(a.initiateNow(bAtA));
      await waitFor(() => gotB.length === 2, 'B to receive the fresh two');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(gotB.map((g) => g.text.slice(HEADER_LEN)), ['fresh ping', 'fresh other']);
      assert.deepEqual(drops.sort(), [
        '1 packet(s) to peer 2 waited over 0.6 s for a session; not sent',
        '1 ping(s) to peer 2 waited over 0.2 s for a session; not sent (their time would read as latency)',
      ]);
    });

    it('a full queue drops its oldest message, not the newest, and counts the drop', async () => {
      const { a, bAtA, b, gotB, drops } = await pair();
      bAtA.endpoint = { address: '127.0.0.1', port: 9, family: 4 };
      for (let i = 0; i < QUEUE_LIMIT + 2; i++) a.sendTo(bAtA, new TextEncoder().encode(`m${i}`));
      assert.equal(bAtA.queue.length, QUEUE_LIMIT);
      assert.equal(drops.filter((d) => /queue for peer 2 full/.test(d)).length, 2, drops.join('; '));
      bAtA.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
      assert.ok(a.initiateNow(bAtA));
      await waitFor(() => gotB.length === QUEUE_LIMIT, 'B to receive the queue');
      assert.deepEqual([gotB[0]!.text, gotB.at(-1)!.text], ['m2', `m${QUEUE_LIMIT + 1}`], 'the two oldest went');
    });

    it('an initiation from an unknown key is a drop, logged as expected only while the owner says so (a peer list on its way)', async () => {
      const ka = generatePrivateKey();
      const kb = generatePrivateKey();
      const drops: string[] = [];
      const expected: boolean[] = [];
      const a = host(ka, [], []);
      const b = host(kb, [], drops, expected);
      hosts.push(a, b);
      await a.open();
      await b.open();
      const bAtA: Peer = a.addPeer(2, publicKey(kb), undefined);
      bAtA.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
      let pending = true;
      b.unknownPeerExpected = () => pending;
      a.sendTo(bAtA, new TextEncoder().encode('who am I'));
      await waitFor(() => drops.length >= 1, 'B to drop the first initiation');
      assert.match(drops[0], /UnknownPeer/);
      assert.equal(expected[0], true, 'expected while the peer list is pending');
      pending = false;
      const n = drops.length;
      assert.ok(a.initiateNow(bAtA), 'A retries at once');
      await waitFor(() => drops.length > n, 'B to drop the retry');
      assert.match(drops[n], /UnknownPeer/);
      assert.equal(expected[n], false, 'not expected once the list is applied');
    });
  });
}
