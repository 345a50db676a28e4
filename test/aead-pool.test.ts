// Worker threads for the AEAD of large batches (ts/wgnode/aead-pool.ts): a batch sealed by the
// workers' own WASM instances opens on a peer with the direct path and the other way round, in
// order and intact, with the main thread taking part or not; a forged message in a batch opened
// by workers is refused; the workers stop when the pool is stopped. The core's side (job tables
// byte for byte equal to the direct seal, replays inside a batch) is in
// crates/eg-core/tests/plane_deferred.rs; the edge end to end in test/e2e/edge-aead-workers.test.ts.
import assert from 'node:assert/strict';
import { EV, Ev, Mode, REC, SUMMARY } from '../ts/core/generated.js';
import { StaticRoutes } from '../ts/core/table.js';
import { generatePrivateKey, WgDevice } from '../ts/core/wg.js';
import { AeadPool, aeadPoolSettings } from '../ts/wgnode/aead-pool.js';

const addr = (n: number) => Uint8Array.of(10, 0, 0, n);

/** Edges 1 and 2 with a session. */
function pair(): [WgDevice, WgDevice] {
  const clock = () => 50;
  const d = [1, 2].map(() => new WgDevice(generatePrivateKey(), { clock, wallClock: () => 1.7e12 }));
  const ids = [1, 2].map((me, i) => {
    d[i].configureEdge(me, 10, 300, 40, false, false);
    d[i].setRoutes(new StaticRoutes({ 1: { 2: 2 }, 2: { 1: 1 } }).triples);
    const p = d[i].addPeer(d[1 - i].publicKey);
    d[i].setPeerNode(p, 3 - me, false);
    d[i].setEndpoint(p, 4, 1000, addr(3 - me));
    return p;
  });
  const init = d[0].initiate(ids[0]);
  assert.ok(init.ok);
  const r = d[1].handle(init.packet, addr(1));
  assert.ok('packet' in r);
  const ready = d[0].handle(r.packet, addr(2));
  assert.ok('packet' in ready);
  d[1].handle(ready.packet, addr(1));
  return [d[0], d[1]];
}

/** `count` Ethernet frames of different sizes, 2 -> from 1. */
function frames(count: number, seed: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const f = new Uint8Array(64 + ((i * 131 + seed) % 1300));
    for (let k = 14; k < f.length; k++) f[k] = (k * 7 + i + seed) & 255;
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
    return f;
  });
}

function tapBatch(fs: Uint8Array[]): Uint8Array {
  const b = new Uint8Array(fs.reduce((n, f) => n + REC.TAP + f.length, 0));
  let at = 0;
  for (const f of fs) {
    b[at] = f.length >> 8;
    b[at + 1] = f.length & 255;
    b.set(f, at + REC.TAP);
    at += REC.TAP + f.length;
  }
  return b;
}

/** Records [len u16 BE][hdr][bytes] of a view, as copies. */
function split(v: Uint8Array, hdr: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + hdr <= v.length; ) {
    const n = (v[at] << 8) | v[at + 1];
    out.push(v.slice(at + hdr, at + hdr + n));
    at += hdr + n;
  }
  return out;
}

/** Runs a staged batch as WgHost.run does: deferred through `pool`, or direct. */
function run(dev: WgDevice, mode: Mode, data: Uint8Array, pool?: AeadPool): void {
  const len = dev.stageBytes(data);
  if (!pool) return dev.process(mode, len, 4);
  dev.processDeferred(mode, len, 4);
  if (dev.openPending()) {
    pool.run(dev, 2);
    dev.finishOpen();
  }
  pool.run(dev, 0);
  pool.run(dev, 1);
}

/** The UDP batch the peer receives from `dev`'s IPv4 send area (sender address set). */
function sent(dev: WgDevice, from: number): Uint8Array {
  const v = dev.view(dev.summary(SUMMARY.SEND4_PTR), dev.summary(SUMMARY.SEND4_LEN)).slice();
  for (let at = 0; at + REC.UDP <= v.length; at += REC.UDP + ((v[at] << 8) | v[at + 1])) v.set(addr(from), at + 4);
  return v;
}

function delivered(dev: WgDevice): Uint8Array[] {
  return split(dev.view(dev.summary(SUMMARY.TAP_PTR), dev.summary(SUMMARY.TAP_LEN)), REC.TAP);
}

/** Drop events' WireGuard reason codes (aux) of the last batch. */
function wireDrops(dev: WgDevice): number[] {
  const n = dev.summary(SUMMARY.EV_BYTES);
  const b = dev.view(dev.summary(SUMMARY.EV_PTR), n);
  const dv = new DataView(b.buffer, b.byteOffset, n);
  const r: number[] = [];
  for (let at = 0; at + EV.HEADER <= n; at += EV.HEADER + dv.getUint32(at + EV.LEN, true)) if (b[at + EV.TYPE] === Ev.Drop) r.push(dv.getUint16(at + EV.AUX, true));
  return r;
}

async function readyPool(workers: number, mainClaims: boolean): Promise<AeadPool> {
  const pool = new AeadPool(workers, 0, mainClaims);
  pool.start();
  const end = Date.now() + 20_000;
  while (pool.ready < workers) {
    assert.ok(Date.now() < end, 'workers loaded the WASM module');
    await new Promise((r) => setTimeout(r, 20));
  }
  return pool;
}

describe('AEAD worker threads (aead-pool)', function () {
  this.timeout(60_000);

  for (const mainClaims of [false, true]) {
    it(`a batch sealed by workers opens on the direct path and the other way round, intact and in order (main thread ${mainClaims ? 'helping' : 'idle'})`, async () => {
      const pool = await readyPool(2, mainClaims);
      try {
        const [a, b] = pair();
        for (let round = 0; round < 20; round++) {
          const fs = frames(40 + round, round);
          run(a, Mode.Tap, tapBatch(fs), pool);
          assert.equal(a.summary(SUMMARY.SEND4_COUNT), fs.length);
          run(b, Mode.Udp, sent(a, 1));
          assert.deepEqual(delivered(b), fs, `round ${round}: workers sealed, direct open`);
          run(b, Mode.Tap, tapBatch(fs));
          run(a, Mode.Udp, sent(b, 2), pool);
          assert.deepEqual(delivered(a), fs, `round ${round}: direct seal, workers opened`);
          assert.deepEqual(wireDrops(a), []);
        }
        assert.equal(pool.failure, undefined);
        if (!mainClaims) assert.equal(pool.stats.mainChunks, 0);
        assert.ok(pool.stats.workerChunks > 0, `workers ran chunks: ${JSON.stringify(pool.stats)}`);
      } finally {
        await pool.stop();
      }
    });
  }

  it('a forged or replayed message in a batch opened by workers is refused; the rest is delivered', async () => {
    const pool = await readyPool(1, false);
    try {
      const [a, b] = pair();
      const fs = frames(12, 3);
      run(a, Mode.Tap, tapBatch(fs));
      const batch = sent(a, 1);
      // Record 5's last byte (its tag) flipped; record 0 appended again (a replay).
      let at = 0;
      const starts: number[] = [];
      for (; at + REC.UDP <= batch.length; at += REC.UDP + ((batch[at] << 8) | batch[at + 1])) starts.push(at);
      const end5 = starts[6];
      batch[end5 - 1] ^= 1;
      const first = batch.slice(0, starts[1]);
      const withReplay = new Uint8Array(batch.length + first.length);
      withReplay.set(batch);
      withReplay.set(first, batch.length);
      run(b, Mode.Udp, withReplay, pool);
      assert.deepEqual(delivered(b), [...fs.slice(0, 5), ...fs.slice(6)]);
      assert.equal(wireDrops(b).length, 2, 'two WireGuard drops: the forged message and the replay');
      assert.ok(pool.stats.workerChunks > 0);
    } finally {
      await pool.stop();
    }
  });

  it('stop() ends every worker, and the pool then runs batches on the main thread', async () => {
    const pool = await readyPool(3, false);
    await Promise.race([pool.stop(), new Promise((_, rej) => setTimeout(() => rej(new Error('workers still running 3 s after stop()')), 3000))]);
    const [a, b] = pair();
    const fs = frames(30, 9);
    run(a, Mode.Tap, tapBatch(fs), pool);
    run(b, Mode.Udp, sent(a, 1));
    assert.deepEqual(delivered(b), fs);
    assert.equal(pool.stats.workerChunks, 0);
    assert.ok(pool.stats.inline > 0);
  });

  it('EG_AEAD_WORKERS and EG_AEAD_MIN_BYTES: off by default and with 0, bad values fall back to the defaults', () => {
    assert.equal(aeadPoolSettings({}).workers, 0, 'off unless asked for (it did not pay on 2 cores)');
    assert.equal(aeadPoolSettings({ EG_AEAD_WORKERS: '0' }).workers, 0);
    assert.equal(aeadPoolSettings({ EG_AEAD_WORKERS: '3' }).workers, 3);
    assert.equal(aeadPoolSettings({ EG_AEAD_WORKERS: 'x' }).workers, aeadPoolSettings({}).workers);
    assert.equal(aeadPoolSettings({ EG_AEAD_MIN_BYTES: '4096' }).minBytes, 4096);
    assert.equal(aeadPoolSettings({}).minBytes, 16384);
    const was = process.env.EG_AEAD_WORKERS;
    process.env.EG_AEAD_WORKERS = '0';
    try {
      assert.equal(AeadPool.acquire(), undefined, 'no pool with EG_AEAD_WORKERS=0');
    } finally {
      if (was === undefined) delete process.env.EG_AEAD_WORKERS;
      else process.env.EG_AEAD_WORKERS = was;
    }
  });
});
