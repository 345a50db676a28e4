// Kernel offloads through the native addon: UDP GSO (UDP_SEGMENT) and GRO (UDP_GRO) on
// sockets, and TAP devices opened with IFF_VNET_HDR + TUNSETOFFLOAD whose TSO super-frames are
// segmented (and coalesced again) by the core. docs/interfaces.md §Offloads.
import assert from 'node:assert/strict';
import { loadNative, type Native } from '../ts/native/index.js';
import { datagrams, nativeIoSuite, udpRecords, until } from './helpers/native-batches.js';
import { netnsAdd, netnsDel, runIn, isRoot } from './helpers/netns.js';

type Io = InstanceType<Native['NativeIo']>;
interface Dgram {
  port: number;
  payload: Buffer;
}

function payload(i: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[k] = (i * 31 + k) & 0xff;
  if (len >= 4) b.writeUInt32BE(i, 0);
  return b;
}

describe('native offloads: UDP GSO and GRO', function () {
  this.timeout(10000);
  const { mod: native, opened } = nativeIoSuite();

  function open(family: 4 | 6, addr: string, offloads: { gso?: boolean; gro?: boolean }, got: Dgram[]): Io {
    const mod = native();
    const io = mod.NativeIo.udp(family, addr, 0, 4 << 20, (kind, data) => {
      if (kind === 0) got.push(...datagrams(data));
    }, offloads);
    opened.push(io);
    return io;
  }

  for (const [family, addr, bytes] of [[4, '127.0.0.1', [127, 0, 0, 1]], [6, '::1', [...Array(15).fill(0), 1]]] as const) {
    it(`IPv${family}: one sendBatch of 40 equal datagrams and a short one leaves as GSO messages and arrives split back from GRO`, async () => {
      const got: Dgram[] = [];
      const rx = open(family, addr, { gro: true }, got);
      const tx = open(family, addr, { gso: true }, []);
      assert.equal(rx.udpGro, true, rx.takeOffloadNote());
      assert.equal(tx.udpGso, true, tx.takeOffloadNote());
      const sent = [...Array.from({ length: 40 }, (_, i) => payload(i, 1200)), payload(40, 333)];
      const failed = tx.sendBatch(udpRecords({ port: rx.port, addr: [...bytes] }, sent), sent.length);
      assert.equal(failed, 0, tx.lastSendError());
      await until(() => got.length >= sent.length, 3000);
      assert.deepEqual(got.map((d) => d.payload.length), sent.map((p) => p.length), 'datagram sizes, in order');
      assert.ok(got.every((d, i) => d.payload.equals(sent[i]) && d.port === tx.port), 'contents and source port');
      // 40 × 1200 + 333 bytes fit one 64 KiB message of at most 64 segments.
      assert.equal(tx.gsoSends, 1, 'one UDP_SEGMENT message');
      assert.ok(rx.groReads >= 1, 'received at least one coalesced datagram');
    });
  }

  it('without GRO the receiver gets the GSO datagrams one by one; without GSO the sender sends them one by one', async () => {
    const plain: Dgram[] = [];
    const rx = open(4, '127.0.0.1', {}, plain);
    const tx = open(4, '127.0.0.1', { gso: true }, []);
    const sent = Array.from({ length: 100 }, (_, i) => payload(i, 700));
    assert.equal(tx.sendBatch(udpRecords({ port: rx.port, addr: [127, 0, 0, 1] }, sent), sent.length), 0);
    await until(() => plain.length >= 100, 3000);
    assert.equal(plain.length, 100);
    assert.ok(plain.every((d, i) => d.payload.equals(sent[i])));
    assert.equal(rx.groReads, 0);
    assert.equal(tx.gsoSends, 2, '100 datagrams = 64 + 36 segments');

    const got: Dgram[] = [];
    const rx2 = open(4, '127.0.0.1', { gro: true }, got);
    const tx2 = open(4, '127.0.0.1', {}, []);
    assert.equal(tx2.udpGso, false);
    assert.equal(tx2.sendBatch(udpRecords({ port: rx2.port, addr: [127, 0, 0, 1] }, sent), sent.length), 0);
    await until(() => got.length >= 100, 3000);
    assert.ok(got.every((d, i) => d.payload.equals(sent[i])));
    assert.equal(tx2.gsoSends, 0);
  });

  it('GSO groups only runs to one address with equal sizes: mixed batches arrive complete and in order', async () => {
    const a: Dgram[] = [];
    const b: Dgram[] = [];
    const ra = open(4, '127.0.0.1', { gro: true }, a);
    const rb = open(4, '127.0.0.1', { gro: true }, b);
    const tx = open(4, '127.0.0.1', { gso: true }, []);
    const lo = [127, 0, 0, 1];
    const parts: Buffer[] = [];
    const wantA: Buffer[] = [];
    const wantB: Buffer[] = [];
    let count = 0;
    // a a a b b a(short) a(long) b(empty) a a
    const plan: Array<[string, number]> = [['a', 1000], ['a', 1000], ['a', 1000], ['b', 500], ['b', 500], ['a', 10], ['a', 1400], ['b', 0], ['a', 1400], ['a', 1400]];
    plan.forEach(([to, len], i) => {
      const p = payload(i, len);
      parts.push(udpRecords({ port: to === 'a' ? ra.port : rb.port, addr: lo }, [p]));
      (to === 'a' ? wantA : wantB).push(p);
      count++;
    });
    assert.equal(tx.sendBatch(Buffer.concat(parts), count), 0, tx.lastSendError());
    await until(() => a.length >= wantA.length && b.length >= wantB.length, 3000);
    assert.deepEqual(a.map((d) => d.payload.toString('hex')), wantA.map((p) => p.toString('hex')));
    assert.deepEqual(b.map((d) => d.payload.toString('hex')), wantB.map((p) => p.toString('hex')));
    assert.ok(tx.gsoSends >= 2, `runs a×3, b×2, a(1400)×2 went as GSO (${tx.gsoSends})`);
  });

  it('a GSO run the kernel refuses (datagrams over the MTU: EMSGSIZE) goes out one by one and GSO stays on', async function () {
    if (!isRoot()) this.skip();
    const ns = netnsAdd('egoffu');
    try {
      const r = await runIn(ns, process.execPath, ['--import', 'tsx', 'test/fixtures/udp-gso-fallback.ts']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { failed: number; got: number[]; gsoSends: number; udpGso: boolean; note: string; lastError: string };
      assert.equal(o.failed, 0, o.lastError);
      assert.deepEqual(o.got, Array(10).fill(3000), 'all ten 3000-byte datagrams arrive (fragmented by the kernel)');
      assert.equal(o.gsoSends, 0);
      assert.match(o.lastError, /Message too long|Invalid argument/, 'the GSO attempt was refused');
      assert.equal(o.udpGso, true, 'the refusal concerns this run only');
      assert.equal(o.note, '');
    } finally {
      netnsDel(ns);
    }
  });

  it('a record running past the buffer is counted as failed, as without GSO', () => {
    const tx = open(4, '127.0.0.1', { gso: true }, []);
    const rec = udpRecords({ port: 9, addr: [127, 0, 0, 1] }, [payload(0, 100), payload(1, 100)]);
    assert.equal(tx.sendBatch(rec.subarray(0, rec.length - 1), 2), 1);
    assert.equal(tx.sendBatch(rec, 3), 1, 'a missing third record');
  });
});

interface TapRun {
  notes: string[];
  csumErrors: number;
  offloadsA: string[];
  offloadsB: string[];
  stats: { framesIn: number; superFrames: number; maxIn: number; gsoTypes: number[]; segmentsOut: number; maxOut: number; coalescedOut: number; errors: string[] };
  sent: { bytes?: number; sha?: string };
  received: { bytes?: number; sha?: string };
}

describe('native offloads: TAP super-frames segmented and coalesced by the core, checked by the kernel', function () {
  this.timeout(40000);
  let nss: string[] = [];
  before(function () {
    if (!isRoot() || !loadNative().ok) this.skip();
  });
  afterEach(() => {
    for (const ns of nss.splice(0)) netnsDel(ns);
  });

  async function tapRun(mode: string, fam: 4 | 6, bytes: number): Promise<TapRun> {
    nss = [netnsAdd('egoffm'), netnsAdd('egoffa'), netnsAdd('egoffb')];
    const r = await runIn(nss[0], process.execPath, ['--import', 'tsx', 'test/fixtures/tap-offload.ts', nss[1], nss[2], mode, String(fam), String(bytes)], {
      // The fixture needs only the offload exports, present in any build since they were added.
      env: { ...process.env, EG_ALLOW_STALE_WASM: '1' },
      timeoutMs: 35000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as TapRun;
  }

  for (const fam of [4, 6] as const) {
    const gso = fam === 4 ? 1 : 4; // VIRTIO_NET_HDR_GSO_TCPV4 / TCPV6
    it(`IPv${fam}: the kernel's TSO super-frames, cut into MTU-sized frames, reach a plain TAP that verifies every checksum`, async () => {
      const r = await tapRun('plain', fam, 4_000_000);
      assert.deepEqual(r.notes, [], 'every offload accepted on this kernel');
      assert.ok(r.offloadsA.includes(fam === 4 ? 'tso4' : 'tso6'));
      assert.deepEqual(r.offloadsB, [], 'B opened without offloads');
      assert.ok(r.stats.superFrames > 0 && r.stats.maxIn > 1514, `super-frames read: ${JSON.stringify(r.stats)}`);
      assert.deepEqual(r.stats.gsoTypes, [gso]);
      assert.ok(r.stats.maxOut <= 1514, 'every output frame within MTU 1500 + Ethernet header');
      assert.deepEqual(r.stats.errors, []);
      assert.equal(r.received.bytes, 4_000_000);
      assert.equal(r.received.sha, r.sent.sha, 'bytes received = bytes sent');
      assert.equal(r.csumErrors, 0);
    });

    for (const mode of ['gro-full', 'gro-partial']) {
      it(`IPv${fam}: segments coalesced again (${mode === 'gro-full' ? 'full' : 'partial'} checksums) are accepted as super-frames by a vnet TAP`, async () => {
        const r = await tapRun(mode, fam, 8_000_000);
        assert.ok(r.stats.superFrames > 0);
        assert.ok(r.stats.coalescedOut > 0, `super-frames written to B: ${JSON.stringify(r.stats)}`);
        assert.deepEqual(r.stats.errors, []);
        assert.equal(r.received.bytes, 8_000_000);
        assert.equal(r.received.sha, r.sent.sha);
        assert.equal(r.csumErrors, 0);
      });
    }
  }

  it('the receiving kernel does verify: segments with a corrupted payload byte are dropped as checksum errors', async () => {
    const r = await tapRun('plain-corrupt', 4, 1_000_000);
    assert.equal(r.received.bytes, undefined, 'the transfer never completes');
    assert.ok(r.csumErrors > 0, `InCsumErrors ${r.csumErrors}`);
  });
});
