// Wire timestamps (docs/routing.md §Wire timestamps): the native UDP reader hands each datagram's
// kernel receive time (SO_TIMESTAMPNS, CLOCK_REALTIME) to JS with the batch, WgHost turns it into
// the ping clock for the control message that datagram carried, and without kernel stamps
// (option off, node:dgram) everything falls back to the batch's arrival in JS.
import assert from 'node:assert/strict';
import { generatePrivateKey, keyToBase64, publicKey } from '../ts/core/wg.js';
import { loadNative, type Native } from '../ts/native/index.js';
import { records, spin } from './helpers/native-batches.js';
import { pingTimeMs, systemClock } from '../ts/wgnode/clock.js';
import { WgHost } from '../ts/wgnode/host.js';

const n = loadNative();
const mod = n.ok ? n.mod : (undefined as unknown as Native);

async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('wire timestamps: kernel receive times on the native UDP path', function () {
  before(function () {
    if (!n.ok) this.skip();
  });

  it('a timestamped socket delivers kind-3 batches with one CLOCK_REALTIME stamp per datagram, taken on arrival and not when JS runs', async () => {
    const got: { kind: number; data: Buffer; handledMs: number }[] = [];
    const rx = mod.NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (kind, data) => got.push({ kind, data: Buffer.from(data), handledMs: mod.realtimeMs() }), { timestamps: true });
    const tx = mod.NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, () => {});
    try {
      assert.equal(rx.rxTimestamps, true);
      // The kernel turns receive timestamping on system-wide through deferred work (the
      // netstamp static key, net_enable_timestamp()); until that has run, a datagram carries no
      // arrival stamp and recvmsg stamps it when read. With no other timestamping socket open
      // (a fresh suite process) the first datagrams can be read-time stamped: warm up first.
      assert.equal(tx.sendBatch(records(rx.port, [Buffer.from('warm-up')]), 1), 0);
      await waitFor(() => got.length > 0, 'the warm-up datagram');
      await new Promise((r) => setTimeout(r, 200));
      got.length = 0;
      const sentMs = mod.realtimeMs();
      assert.equal(tx.sendBatch(records(rx.port, [Buffer.from('one'), Buffer.from('two!'), Buffer.from('three')]), 3), 0);
      spin(60); // the event loop is busy: the batch waits for JS, the stamps must not
      await waitFor(() => got.reduce((k, g) => k + (g.kind === 3 ? g.data.readUInt32LE(g.data.length - 4) : 0), 0) >= 3, 'three stamped datagrams');
      for (const g of got) {
        assert.equal(g.kind, 3, 'timestamped batches are kind 3');
        const count = g.data.readUInt32LE(g.data.length - 4);
        const end = g.data.length - 4 - 8 * count;
        // The records part parses to exactly `count` records.
        let off = 0;
        let recs = 0;
        while (off + 20 <= end) {
          off += 20 + g.data.readUInt16BE(off);
          recs++;
        }
        assert.equal(off, end, 'records end where the stamps begin');
        assert.equal(recs, count);
        for (let i = 0; i < count; i++) {
          const t = g.data.readDoubleLE(end + 8 * i);
          assert.ok(t >= sentMs - 0.05 && t - sentMs < 5, `stamp ${t - sentMs} ms after the send`);
          assert.ok(g.handledMs - t >= 50, `JS handled the batch ${g.handledMs - t} ms after the stamp (event loop was blocked)`);
        }
      }
    } finally {
      rx.close();
      tx.close();
    }
  });

  it('without the option (or where the kernel refuses it) batches are kind 0 with no trailer, and rxTimestamps says so', async () => {
    const got: { kind: number; data: Buffer }[] = [];
    const rx = mod.NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, (kind, data) => got.push({ kind, data: Buffer.from(data) }), { timestamps: false });
    const tx = mod.NativeIo.udp(4, '127.0.0.1', 0, 1 << 20, () => {});
    try {
      assert.equal(rx.rxTimestamps, false);
      tx.sendBatch(records(rx.port, [Buffer.from('plain')]), 1);
      await waitFor(() => got.length > 0, 'a batch');
      assert.equal(got[0].kind, 0);
      assert.equal(got[0].data.length, 20 + 5, 'exactly one record, nothing appended');
    } finally {
      rx.close();
      tx.close();
    }
  });

  it('the ping clock reads CLOCK_REALTIME through the addon and converts kernel stamps with the same test offset', () => {
    const saved = { t: process.env.EG_TEST, o: process.env.EG_TEST_CLOCK_OFFSET_MS };
    process.env.EG_TEST = '1';
    process.env.EG_TEST_CLOCK_OFFSET_MS = '-7200000';
    try {
      const c = systemClock();
      const k = mod.realtimeMs();
      const p = pingTimeMs(c);
      const conv = c.fromRealtimeMs!(k);
      assert.ok(Math.abs(p - conv) < 1, `ping clock ${p} vs converted kernel time ${conv}`);
      assert.ok(Math.abs(p - (Date.now() - 7200000)) < 50, 'the test offset is applied');
      c.setNtpOffsetMs!(250);
      assert.ok(Math.abs(pingTimeMs(c) - c.fromRealtimeMs!(mod.realtimeMs()) ) < 1, 'and the NTP offset, to both');
    } finally {
      if (saved.t === undefined) delete process.env.EG_TEST;
      else process.env.EG_TEST = saved.t;
      if (saved.o === undefined) delete process.env.EG_TEST_CLOCK_OFFSET_MS;
      else process.env.EG_TEST_CLOCK_OFFSET_MS = saved.o;
    }
  });
});

for (const native of [true, false]) {
  describe(`wire timestamps through WgHost (${native ? 'native sockets: kernel time' : 'node:dgram: fallback to the batch arrival'})`, () => {
    const saved = process.env.EG_NATIVE_UDP;
    const hosts: WgHost[] = [];
    before(function () {
      if (native && !n.ok) this.skip();
      if (!native) process.env.EG_NATIVE_UDP = '0';
    });
    after(() => {
      if (saved === undefined) delete process.env.EG_NATIVE_UDP;
      else process.env.EG_NATIVE_UDP = saved;
      for (const h of hosts.splice(0)) h.close();
    });

    it(native ? 'a plaintext handled 60 ms late by a blocked event loop reports its kernel arrival time' : 'a plaintext reports when its batch reached JS, never a later handler time', async () => {
      const clock = systemClock();
      const ka = generatePrivateKey();
      const kb = generatePrivateKey();
      const got: { text: string; rxMs: number; handledMs: number }[] = [];
      const mk = (priv: Uint8Array) =>
        new WgHost({
          privateKey: keyToBase64(priv),
          port: 0,
          v4: true,
          v6: false,
          listenV4: '127.0.0.1',
          clock,
          log: { internal: () => {}, error: () => {}, debug: () => {}, drop: () => {} },
          onPlaintext: (plain, _from, rxTimeMs) => got.push({ text: Buffer.from(plain).toString('utf8').replace(/\0+$/, ''), rxMs: rxTimeMs, handledMs: pingTimeMs(clock) }),
        });
      const a = mk(ka);
      const b = mk(kb);
      hosts.push(a, b);
      await a.open();
      await b.open();
      assert.equal(b.transport.rxTimestamps, native);
      const pb = a.addPeer(2, publicKey(kb), undefined, { endpoint: `127.0.0.1:${b.port}` });
      pb.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
      b.addPeer(1, publicKey(ka), undefined, {});
      a.sendTo(pb, Buffer.from('hello'));
      await waitFor(() => got.some((g) => g.text === 'hello'), 'the first message');
      const sentMs = pingTimeMs(clock);
      a.sendTo(pb, Buffer.from('late'));
      spin(60);
      await waitFor(() => got.some((g) => g.text === 'late'), 'the delayed message');
      const g = got.find((x) => x.text === 'late')!;
      assert.ok(g.handledMs - sentMs >= 55, 'the handler ran after the block');
      if (native) assert.ok(g.rxMs - sentMs < 5 && g.rxMs >= sentMs - 0.05, `kernel receive time ${g.rxMs - sentMs} ms after the send`);
      else assert.ok(g.rxMs <= g.handledMs, 'fallback: the batch arrival, not later than the handler');
    });
  });
}
