// IType vpp against a real memif server: DPDK's dpdk-testpmd (test/helpers/testpmd.ts) with the
// memif PMD as server and MAC-swap forwarding. The interface is opened as the edge opens it
// (openInterface), frames go in through writeRecords (the edge's batch path) and come back
// through startRecords. Covers: the handshake and both rings (frames return MAC-swapped,
// byte-identical otherwise), frames longer than the MTU allows and a full ring counted by reason
// (never queued or crashed on), and a server killed with SIGKILL and restarted: the same open
// interface counts frames as "memif peer not connected" meanwhile and reconnects by itself.
// Needs root (DPDK's runtime directory) and dpdk-testpmd (scripts/bootstrap.sh installs it). Without a
// server (second block, native addon only): one "waiting" line, writes counted as not connected, and
// the VPP API line in both cases (socket absent / present).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInterface } from '../ts/itype/index.js';
import type { L2Interface } from '../ts/itype/types.js';
import { VPP_DROP_NOT_CONNECTED, VPP_DROP_RING_FULL, vppDropTooLong, type VppInterface } from '../ts/itype/vpp.js';
import { loadNative } from '../ts/native/index.js';
import { isRoot } from './helpers/netns.js';
import { startTestpmd, testpmdAvailable, type Testpmd } from './helpers/testpmd.js';

const MAC_ME = Buffer.from('020000000a01', 'hex');
const MAC_PEER = Buffer.from('020000000b02', 'hex');
const ETHERTYPE = 0x88b5; // IEEE local experimental

function frame(seq: number, len: number): Buffer {
  const f = Buffer.alloc(len);
  MAC_PEER.copy(f, 0);
  MAC_ME.copy(f, 6);
  f.writeUInt16BE(ETHERTYPE, 12);
  f.writeUInt32BE(seq, 14);
  for (let i = 18; i < len; i++) f[i] = (seq + i) & 0xff;
  return f;
}

function records(frames: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(f.length);
    parts.push(h, f);
  }
  return Buffer.concat(parts);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('itype vpp (memif client) against dpdk-testpmd', function () {
  this.timeout(90_000);
  let dir = '';
  let pmd: Testpmd | undefined;
  let itf: (L2Interface & VppInterface) | undefined;
  const got = new Map<number, Buffer>();
  const drops = new Map<string, number>();
  const logs: string[] = [];
  const prefix = `eg15t${process.pid}`;

  before(async function () {
    if (!isRoot() || !testpmdAvailable() || !loadNative().ok) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'egvpp-'));
    process.env.VPP_MEMIF_SOCKET_DIR = dir;
    pmd = await startTestpmd(join(dir, 'vpp1.sock'), prefix, 7);
    itf = (await openInterface({
      IType: 'vpp',
      Name: 'vpp1',
      MTU: 1404,
      mac: MAC_ME,
      vpp: { ifaceId: 7, bridgeId: 0 },
      log: (l, m) => logs.push(`[${l}] ${m}`),
    })) as L2Interface & VppInterface;
    itf.on('drop', (reason, n) => drops.set(reason, (drops.get(reason) ?? 0) + n));
    itf.startRecords((recs) => {
      const b = Buffer.from(recs);
      for (let off = 0; off + 2 <= b.length; ) {
        const len = b.readUInt16BE(off);
        const f = b.subarray(off + 2, off + 2 + len);
        if (len >= 18 && f.readUInt16BE(12) === ETHERTYPE) got.set(f.readUInt32BE(14), Buffer.from(f));
        off += 2 + len;
      }
    });
    await waitFor(() => itf!.connected, 15_000, `the memif connection (log: ${logs.join(' | ')})`);
  });

  after(async () => {
    await itf?.close();
    await pmd?.kill();
    delete process.env.VPP_MEMIF_SOCKET_DIR;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Sends `n` frames from `first` in batches of 32, paced; returns how many the ring took. */
  async function roundTrip(first: number, n: number, len = 200): Promise<number> {
    let taken = 0;
    for (let s = first; s < first + n; s += 32) {
      const fs = Array.from({ length: Math.min(32, first + n - s) }, (_, i) => frame(s + i, len));
      taken += itf!.writeRecords(records(fs), fs.length);
      await sleep(2);
    }
    await waitFor(() => [...got.keys()].filter((k) => k >= first && k < first + n).length >= n, 5000, 'the frames to come back').catch(() => {});
    return taken;
  }

  function checkBack(first: number, n: number, len: number): number {
    let back = 0;
    for (let s = first; s < first + n; s++) {
      const f = got.get(s);
      if (!f) continue;
      back++;
      const want = frame(s, len);
      // MAC swap: the peer's MAC is now the source, ours the destination; the rest unchanged.
      assert.deepEqual(f.subarray(0, 6), MAC_ME, `frame ${s} dst`);
      assert.deepEqual(f.subarray(6, 12), MAC_PEER, `frame ${s} src`);
      assert.deepEqual(f.subarray(12), want.subarray(12), `frame ${s} body`);
    }
    return back;
  }

  it('says where it connects and that the VPP API is not used', () => {
    assert.ok(logs.some((l) => /no VPP API socket at .*acting as a plain memif client/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /connected to "DPDK [^"]+" .*interface id 7, 1024 slots of 2048 bytes/.test(l)), logs.join('\n'));
  });

  it('1000 frames go through the memif server and come back MAC-swapped (>= 99 %)', async () => {
    const taken = await roundTrip(0, 1000);
    assert.equal(taken, 1000);
    assert.ok(checkBack(0, 1000, 200) >= 990, `back: ${checkBack(0, 1000, 200)}`);
    // Frames of 2048+ bytes span chained descriptors; 1422 = MTU + 18 is the largest allowed.
    await roundTrip(5000, 64, 1422);
    assert.ok(checkBack(5000, 64, 1422) >= 63);
  });

  it('frames longer than MTU + 18 are dropped and counted, not sent', async () => {
    const before = drops.get(vppDropTooLong(1422)) ?? 0;
    const n = itf!.writeRecords(records([frame(9000, 1423), frame(9001, 9000), frame(9002, 100)]), 3);
    assert.equal(n, 1);
    assert.equal((drops.get(vppDropTooLong(1422)) ?? 0) - before, 2);
    await waitFor(() => got.has(9002), 5000, 'the short frame');
    assert.ok(!got.has(9000) && !got.has(9001));
  });

  it('a full ring (server stopped) is counted as "memif ring full", then frames flow again', async () => {
    await pmd!.kill('SIGSTOP');
    // The stop is asynchronous: wait until the process is stopped before filling the ring.
    await waitFor(() => /^\d+ \(.*\) T/.test(readFileSync(`/proc/${pmd!.child.pid}/stat`, 'utf8')), 5000, 'testpmd to stop');
    await sleep(50);
    let taken = 0;
    try {
      for (let s = 10_000; s < 11_200; s += 40) {
        const fs = Array.from({ length: 40 }, (_, i) => frame(s + i, 100));
        taken += itf!.writeRecords(records(fs), fs.length);
      }
    } finally {
      await pmd!.kill('SIGCONT');
    }
    assert.ok(taken <= 1024, `taken ${taken}`);
    assert.equal(drops.get(VPP_DROP_RING_FULL) ?? 0, 1200 - taken);
    // Resumed, the server drains the ring (what it took comes back), then takes new frames.
    await waitFor(() => [...got.keys()].filter((k) => k >= 10_000 && k < 11_200).length >= taken, 10_000, 'the queued frames to come back');
    const t = await roundTrip(20_000, 200);
    assert.equal(t, 200);
    assert.ok(checkBack(20_000, 200, 200) >= 198);
  });

  it('survives the server being killed (-9) and restarted: drops counted meanwhile, reconnects by itself', async () => {
    const connects = itf!.stats()!.connects;
    await pmd!.kill('SIGKILL');
    await waitFor(() => !itf!.connected, 5000, 'the disconnect');
    const before = drops.get(VPP_DROP_NOT_CONNECTED) ?? 0;
    assert.equal(itf!.writeRecords(records([frame(30_000, 100), frame(30_001, 100)]), 2), 0);
    assert.equal((drops.get(VPP_DROP_NOT_CONNECTED) ?? 0) - before, 2);
    pmd = await startTestpmd(join(dir, 'vpp1.sock'), prefix, 7); // removes the stale socket file
    await waitFor(() => itf!.connected, 15_000, 'the reconnect');
    assert.equal(itf!.stats()!.connects, connects + 1);
    assert.ok(logs.some((l) => /memif disconnected: the server closed the socket; reconnecting/.test(l)), logs.join('\n'));
    await roundTrip(40_000, 1000);
    assert.ok(checkBack(40_000, 1000, 200) >= 990, `back: ${checkBack(40_000, 1000, 200)}`);
  });
});

describe('itype vpp without a memif server', function () {
  this.timeout(20_000);
  let dir = '';
  before(function () {
    if (!loadNative().ok) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'egvpp0-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  async function open(env: Record<string, string>, logs: string[]): Promise<L2Interface & VppInterface> {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      return (await openInterface({ IType: 'vpp', Name: 'vpp0', mac: MAC_ME, vpp: { ifaceId: 0, bridgeId: 4242 }, log: (l, m) => logs.push(`[${l}] ${m}`) })) as L2Interface & VppInterface;
    } finally {
      for (const k of Object.keys(env)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  }

  it('says once that it waits, keeps retrying quietly, and counts writes as "memif peer not connected"', async () => {
    const logs: string[] = [];
    const itf = await open({ VPP_MEMIF_SOCKET_DIR: join(dir, 'a'), VPP_API_SOCKET_PATH: join(dir, 'none.sock') }, logs);
    const drops = new Map<string, number>();
    itf.on('drop', (r, n) => drops.set(r, (drops.get(r) ?? 0) + n));
    itf.startRecords(() => {});
    try {
      await sleep(1500); // ~5 connect attempts (100, 200, 400, 800 ms back-off)
      assert.equal(logs.filter((l) => l.includes('waiting for the memif server')).length, 1, logs.join('\n'));
      assert.ok(logs.some((l) => l.includes(`no VPP API socket at ${join(dir, 'none.sock')}: acting as a plain memif client of ${join(dir, 'a', 'vpp0.sock')}`)), logs.join('\n'));
      assert.equal(itf.writeRecords(records([frame(1, 64), frame(2, 64), frame(3, 64)]), 3), 0);
      assert.equal(drops.get(VPP_DROP_NOT_CONNECTED), 3);
      assert.equal(itf.connected, false);
    } finally {
      await itf.close();
    }
  });

  it('with a VPP API socket present, says that VPP API integration is not built and acts as a plain memif client', async () => {
    const api = join(dir, 'api.sock');
    const srv = createServer(() => {});
    await new Promise<void>((r) => srv.listen(api, () => r()));
    const logs: string[] = [];
    try {
      const itf = await open({ VPP_MEMIF_SOCKET_DIR: join(dir, 'b'), VPP_API_SOCKET_PATH: api }, logs);
      await itf.close();
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    const line = logs.find((l) => l.includes(`VPP API socket ${api} found`));
    assert.ok(line, logs.join('\n'));
    assert.match(line, /VPP binary API integration is not built: create the memif server in VPP yourself \(socket .*vpp0\.sock, id 0, bridge domain 4242; docs\/interfaces\.md\)/);
  });
});
