// The typed WireGuard wrapper (ts/core/wg.ts) through the real WASM module: two devices in one
// process handshake and exchange data, the batch path agrees with the single path, memory growth
// does not break batch views, and malformed datagrams come back as reason codes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  addrKey,
  generatePrivateKey,
  HandleResult,
  keyFromBase64,
  keyToBase64,
  padded,
  parseTickRecords,
  publicKey,
  Reason,
  reasonName,
  TickKind,
  transportLen,
  Verdict,
  WgDevice,
  wgMemory,
} from '../ts/core/wg.js';

const SRC_A = addrKey('192.0.2.1', 51820);
const SRC_B = addrKey('192.0.2.2', 51820);

/** A fake monotonic clock the test moves by hand. */
class Clock {
  t = 100;
  readonly fn = (): number => this.t;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function expectVerdict<V extends Verdict>(r: HandleResult, v: V): Extract<HandleResult, { verdict: V }> {
  assert.equal(
    r.verdict,
    v,
    `expected ${Verdict[v]}, got ${Verdict[r.verdict]}${r.verdict === Verdict.Error ? ` (${r.reasonName})` : ''}`,
  );
  return r as Extract<HandleResult, { verdict: V }>;
}

function expectError(r: HandleResult, reason: Reason): void {
  const e = expectVerdict(r, Verdict.Error);
  assert.equal(e.reason, reason, `expected ${Reason[reason]}, got ${e.reasonName}`);
  assert.equal(e.reasonName, Reason[reason]);
}

interface Pair {
  clock: Clock;
  a: WgDevice;
  b: WgDevice;
  aPeer: number; // B as seen by A
  bPeer: number; // A as seen by B
}

function makePair(psk?: Uint8Array, pskB = psk): Pair {
  const clock = new Clock();
  // TAI64N timestamps have ~16 ms resolution: the wall clock follows the fake clock too.
  const wallClock = (): number => 1.7e12 + clock.t * 1000;
  const a = new WgDevice(generatePrivateKey(), { clock: clock.fn, wallClock });
  const b = new WgDevice(generatePrivateKey(), { clock: clock.fn, wallClock });
  const aPeer = a.addPeer(b.publicKey, { psk });
  const bPeer = b.addPeer(a.publicKey, { psk: pskB });
  return { clock, a, b, aPeer, bPeer };
}

/** A initiates, B responds, A gets the session, B is confirmed by A's keepalive. */
function handshake(p: Pair): void {
  const init = p.a.initiate(p.aPeer);
  assert.ok(init.ok);
  assert.equal(init.packet.length, 148);
  const resp = expectVerdict(p.b.handle(init.packet, SRC_A), Verdict.WriteToNetwork);
  assert.equal(resp.peer, p.bPeer);
  assert.equal(resp.packet.length, 92);
  const ready = expectVerdict(p.a.handle(resp.packet, SRC_B), Verdict.SessionReady);
  assert.equal(ready.peer, p.aPeer);
  assert.equal(ready.packet.length, 32);
  const ka = expectVerdict(p.b.handle(ready.packet, SRC_A), Verdict.Keepalive);
  assert.equal(ka.peer, p.bPeer);
  assert.ok(p.a.hasSession(p.aPeer));
  assert.ok(p.b.hasSession(p.bPeer));
}

function seal(dev: WgDevice, peer: number, data: Uint8Array): Uint8Array {
  const r = dev.encapsulate(peer, data);
  if (!r.ok) assert.fail(`encapsulate: ${r.reasonName}`);
  return r.packet;
}

describe('WireGuard WASM wrapper (ts/core/wg.ts)', () => {
  const pairs: Pair[] = [];
  function pair(psk?: Uint8Array, pskB?: Uint8Array): Pair {
    const p = makePair(psk, pskB ?? psk);
    pairs.push(p);
    return p;
  }
  afterEach(() => {
    for (const p of pairs.splice(0)) {
      p.a.free();
      p.b.free();
    }
  });

  describe('keys and names', () => {
    it('derives the RFC 7748 public key and round-trips base64', () => {
      const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      const pub = publicKey(priv);
      assert.equal(Buffer.from(pub).toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
      const b64 = keyToBase64(pub);
      assert.equal(b64, Buffer.from(pub).toString('base64'));
      assert.deepEqual(keyFromBase64(b64), pub);
      assert.throws(() => keyFromBase64('not a key'));
      assert.throws(() => publicKey(new Uint8Array(31)));
    });

    it('generates clamped, distinct private keys', () => {
      const k1 = generatePrivateKey();
      const k2 = generatePrivateKey();
      assert.equal(k1.length, 32);
      assert.notDeepEqual(k1, k2);
      assert.equal(k1[0] & 7, 0);
      assert.equal(k1[31] & 0x80, 0);
      assert.equal(k1[31] & 0x40, 0x40);
    });

    it('has a TS Reason enum that matches the core names', () => {
      // Both ways, over every code the 7-bit field can hold: the TS enum is neither missing a
      // core reason nor holding one the core does not know.
      for (let c = 1; c <= 0x7f; c++) {
        const core = reasonName(c);
        assert.equal(Reason[c], core === 'Unknown' ? undefined : core, `code ${c}`);
      }
      assert.equal(reasonName(0x80 | Reason.Replayed), 'Replayed');
      assert.equal(reasonName(0x8000_0000 | Reason.NotTransport), 'NotTransport');
      assert.equal(reasonName(0), 'Unknown');
      assert.equal(reasonName(99), 'Unknown');
    });

    it('parses tick records', () => {
      const rec = new Uint8Array([
        ...[7, 0, 0, 0, 2, 3, 0, 0, 0, 0xaa, 0xbb, 0xcc],
        ...[1, 0, 0, 0, 3, 0, 0, 0, 0],
      ]);
      assert.deepEqual(parseTickRecords(rec), [
        { peer: 7, kind: TickKind.SendKeepalive, packet: new Uint8Array([0xaa, 0xbb, 0xcc]) },
        { peer: 1, kind: TickKind.HandshakeGaveUp },
      ]);
      assert.throws(() => parseTickRecords(new Uint8Array([1, 0, 0, 0, 2, 5, 0, 0, 0])), /truncated/);
      assert.throws(() => parseTickRecords(new Uint8Array([1, 0, 0, 0, 9, 0, 0, 0, 0])), /kind 9/);
    });
  });

  describe('two devices in one process', () => {
    it('handshake, then data both ways (padded plaintext)', () => {
      const p = pair(randomBytes(32));
      handshake(p);
      const msg = new TextEncoder().encode('hello through the tunnel');
      const ct = seal(p.a, p.aPeer, msg);
      assert.equal(ct.length, transportLen(msg.length));
      assert.equal(ct[0], 4);
      const d = expectVerdict(p.b.handle(ct, SRC_A), Verdict.Data);
      assert.equal(d.peer, p.bPeer);
      assert.equal(d.data.length, padded(msg.length));
      assert.deepEqual(d.data.subarray(0, msg.length), msg);
      assert.ok(d.data.subarray(msg.length).every((x) => x === 0));
      const back = randomBytes(1420);
      const d2 = expectVerdict(p.a.handle(seal(p.b, p.bPeer, back), SRC_B), Verdict.Data);
      assert.deepEqual(d2.data.subarray(0, 1420), new Uint8Array(back));
      // keepalive: empty plaintext
      expectVerdict(p.b.handle(seal(p.a, p.aPeer, new Uint8Array(0)), SRC_A), Verdict.Keepalive);
    });

    it('carries an Etherguard-header plaintext unchanged (the core adds no header itself)', () => {
      const p = pair();
      handshake(p);
      const frame = new Uint8Array([4, 8, 0, 2, 0, 1, 0, 3, 0xde, 0xad, 0xbe]);
      const d = expectVerdict(p.b.handle(seal(p.a, p.aPeer, frame), SRC_A), Verdict.Data);
      assert.deepEqual(d.data.subarray(0, frame.length), frame);
    });

    it('a PSK mismatch fails the handshake with DecryptFailed', () => {
      const p = pair(randomBytes(32), randomBytes(32));
      const init = p.a.initiate(p.aPeer);
      assert.ok(init.ok);
      const resp = expectVerdict(p.b.handle(init.packet, SRC_A), Verdict.WriteToNetwork);
      expectError(p.a.handle(resp.packet, SRC_B), Reason.DecryptFailed);
      assert.ok(!p.a.hasSession(p.aPeer));
    });

    it('no session: NoSession, then tick() produces the initiation', () => {
      const p = pair();
      const r = p.a.encapsulate(p.aPeer, new Uint8Array(10));
      assert.deepEqual(r, { ok: false, reason: Reason.NoSession, reasonName: 'NoSession' });
      const dl = p.a.nextDeadline();
      assert.ok(dl !== undefined && dl <= p.clock.t);
      const acts = p.a.tick();
      assert.equal(acts.length, 1);
      const act = acts[0];
      assert.equal(act.kind, TickKind.SendInitiation);
      if (act.kind !== TickKind.SendInitiation) return;
      assert.equal(act.peer, p.aPeer);
      assert.equal(act.packet.length, 148);
      expectVerdict(p.b.handle(act.packet, SRC_A), Verdict.WriteToNetwork);
      const bad = p.a.encapsulate(99, new Uint8Array(1));
      assert.ok(!bad.ok && bad.reason === Reason.BadPeer);
    });

    it('rekeys after rekeyAfterTime (shortened timers) with a new session index', () => {
      const p = pair();
      p.a.setTimers({ rekeyAfterTime: 2, rekeyTimeout: 1 });
      handshake(p);
      const first = seal(p.a, p.aPeer, new Uint8Array(16));
      const idx1 = Buffer.from(first).readUInt32LE(4);
      expectVerdict(p.b.handle(first, SRC_A), Verdict.Data);
      p.clock.t += 2.5;
      // Still usable (reject_after_time is 180 s), but sealing now asks for a handshake.
      const second = seal(p.a, p.aPeer, new Uint8Array(16));
      assert.equal(Buffer.from(second).readUInt32LE(4), idx1);
      const init = p.a.tick().find((x) => x.kind === TickKind.SendInitiation);
      assert.ok(init && init.kind === TickKind.SendInitiation);
      const resp = expectVerdict(p.b.handle(init.packet, SRC_A), Verdict.WriteToNetwork);
      const ready = expectVerdict(p.a.handle(resp.packet, SRC_B), Verdict.SessionReady);
      expectVerdict(p.b.handle(ready.packet, SRC_A), Verdict.Keepalive);
      // The old-key message still opens (previous keypair), the new one uses a new index.
      expectVerdict(p.b.handle(second, SRC_A), Verdict.Data);
      const third = seal(p.a, p.aPeer, new Uint8Array(16));
      assert.notEqual(Buffer.from(third).readUInt32LE(4), idx1);
      expectVerdict(p.b.handle(third, SRC_A), Verdict.Data);
    });

    it('under load: cookie reply, then the initiation with mac2 is accepted', () => {
      const p = pair();
      const init = p.a.initiate(p.aPeer);
      assert.ok(init.ok);
      const cr = expectVerdict(p.b.handle(init.packet, SRC_A, undefined, true), Verdict.CookieReply);
      assert.equal(cr.reason, Reason.NeedCookie);
      assert.equal(cr.packet.length, 64);
      expectVerdict(p.a.handle(cr.packet, SRC_B), Verdict.Nothing);
      p.clock.t += 0.1;
      const init2 = p.a.initiate(p.aPeer);
      assert.ok(init2.ok);
      assert.ok(init2.packet.subarray(132).some((x) => x !== 0), 'mac2 set');
      expectVerdict(p.b.handle(init2.packet, SRC_A, undefined, true), Verdict.WriteToNetwork);
      // The cookie is bound to the source address: from elsewhere it is refused again.
      p.clock.t += 0.1;
      const init3 = p.a.initiate(p.aPeer);
      assert.ok(init3.ok);
      const cr3 = expectVerdict(p.b.handle(init3.packet, addrKey('198.51.100.9', 1), undefined, true), Verdict.CookieReply);
      assert.equal(cr3.reason, Reason.BadMac2);
    });
  });

  describe('batch API', () => {
    it('batch seal/open equals the single path', () => {
      const p = pair();
      handshake(p);
      const pkts = Array.from({ length: 40 }, (_, i) => new Uint8Array(randomBytes(1 + ((i * 97) % 1420))));
      const bA = p.a.batch(16, 1420);
      const bB = p.b.batch(16, 1420);

      // Batch-sealed (chunked: 16 + 16 + 8) -> opened one at a time.
      const sealed = bA.seal(pkts.map((data) => ({ peer: p.aPeer, data })));
      const counters: bigint[] = [];
      sealed.forEach((s, i) => {
        if (!s.ok) assert.fail(`slot ${i}: ${s.reasonName}`);
        assert.equal(s.packet.length, transportLen(pkts[i].length));
        counters.push(Buffer.from(s.packet).readBigUInt64LE(8));
        const d = expectVerdict(p.b.handle(s.packet, SRC_A), Verdict.Data);
        assert.deepEqual(d.data.subarray(0, pkts[i].length), pkts[i]);
      });
      // Single-sealed -> opened in a batch; counters continue where the batch left off.
      const single = pkts.map((x) => seal(p.a, p.aPeer, x));
      counters.push(...single.map((s) => Buffer.from(s).readBigUInt64LE(8)));
      assert.deepEqual(counters, counters.map((_, i) => counters[0] + BigInt(i)));
      const opened = bB.open(single);
      opened.forEach((o, i) => {
        if (!o.ok) assert.fail(`slot ${i}: ${o.reasonName}`);
        assert.equal(o.peer, p.bPeer);
        assert.equal(o.data.length, padded(pkts[i].length));
        assert.deepEqual(o.data.subarray(0, pkts[i].length), pkts[i]);
      });
      // Both paths produce the same bytes for the same plaintext and counter: B->A through both.
      const x = new Uint8Array(randomBytes(300));
      const viaBatch = bB.seal([{ peer: p.bPeer, data: x }])[0];
      const viaSingle = seal(p.b, p.bPeer, x);
      assert.ok(viaBatch.ok);
      const a1 = bA.open([viaBatch.packet, viaSingle]);
      assert.ok(a1[0].ok && a1[1].ok);
      if (a1[0].ok && a1[1].ok) assert.deepEqual(a1[0].data, a1[1].data);
    });

    it('zero-copy slots: fill plaintextView in place, read messageView', () => {
      const p = pair();
      handshake(p);
      const bA = p.a.batch(4, 1420);
      const bB = p.b.batch(4, 1420);
      for (let i = 0; i < 4; i++) {
        bA.setPlaintextHeader(i, p.aPeer, 100 + i);
        bA.plaintextView(i, 100 + i).fill(i + 1);
      }
      assert.equal(bA.sealSlots(4), 4);
      for (let i = 0; i < 4; i++) bB.setDatagram(i, bA.messageView(i));
      assert.equal(bB.openSlots(4), 4);
      for (let i = 0; i < 4; i++) {
        assert.equal(bB.status(i), padded(100 + i));
        assert.equal(bB.peer(i), p.bPeer);
        assert.ok(bB.plaintextView(i).subarray(0, 100 + i).every((v) => v === i + 1));
      }
    });

    it('per-slot failures carry reason codes', () => {
      const p = pair();
      handshake(p);
      const bA = p.a.batch(8, 256);
      const bB = p.b.batch(8, 256);
      const res = bA.seal([
        { peer: p.aPeer, data: new Uint8Array(10) },
        { peer: 42, data: new Uint8Array(10) },
        { peer: p.aPeer, data: new Uint8Array(10) },
      ]);
      assert.ok(res[0].ok && res[2].ok);
      assert.ok(!res[1].ok && res[1].reason === Reason.BadPeer);
      const good = res[0].ok ? res[0].packet : new Uint8Array(0);
      const tampered = res[2].ok ? res[2].packet.slice() : new Uint8Array(0);
      tampered[20] ^= 1;
      const unknownIdx = good.slice();
      unknownIdx[4] ^= 0xff;
      const init = p.a.initiate(p.aPeer);
      assert.ok(init.ok);
      const opened = bB.open([good, good, tampered, unknownIdx, init.packet, good.subarray(0, 20), new Uint8Array(2)]);
      const reasons = opened.map((o) => (o.ok ? 'ok' : o.reasonName));
      assert.deepEqual(reasons, ['ok', 'Replayed', 'DecryptFailed', 'UnknownIndex', 'NotTransport', 'Truncated', 'Truncated']);
      assert.equal(opened[3].peer, -1);
      assert.throws(() => bA.setPlaintext(0, p.aPeer, new Uint8Array(300)), RangeError);
      assert.throws(() => bB.setDatagram(0, new Uint8Array(300)), RangeError);
    });

    it('a new geometry invalidates the old WgBatch', () => {
      const p = pair();
      const b1 = p.a.batch(4, 256);
      assert.equal(p.a.batch(4, 256), b1);
      const b2 = p.a.batch(8, 256);
      assert.notEqual(b2, b1);
      assert.ok(!b1.valid);
      assert.throws(() => b1.status(0), /replaced/);
    });

    it('survives WASM memory growth (views are re-created)', () => {
      const p = pair();
      handshake(p);
      const bA = p.a.batch(8, 1420);
      const bB = p.b.batch(8, 1420);
      const before = wgMemory().buffer;
      const oldView = bA.bytes();
      // Grow linear memory: a big batch buffer on a third device.
      const big = new WgDevice(generatePrivateKey());
      try {
        big.batch(8192, 1420);
        assert.notEqual(wgMemory().buffer, before, 'memory grew');
        assert.equal(oldView.byteLength, 0, 'old view detached');
        const data = new Uint8Array(randomBytes(1000));
        const s = bA.seal([{ peer: p.aPeer, data }]);
        assert.ok(s[0].ok);
        const o = bB.open([s[0].ok ? s[0].packet : new Uint8Array(0)]);
        assert.ok(o[0].ok);
        if (o[0].ok) assert.deepEqual(o[0].data.subarray(0, 1000), data);
      } finally {
        big.free();
      }
    });
  });

  describe('malformed datagrams', () => {
    it('return reason codes, never throw', () => {
      const p = pair();
      const h = (d: Uint8Array): HandleResult => p.b.handle(d, SRC_A);
      expectError(h(new Uint8Array(0)), Reason.Truncated);
      expectError(h(new Uint8Array([1, 0, 0])), Reason.Truncated);
      expectError(h(new Uint8Array([5, 0, 0, 0, 1, 2, 3])), Reason.BadType);
      expectError(h(new Uint8Array([0, 0, 0, 0])), Reason.BadType);
      const init = p.a.initiate(p.aPeer);
      assert.ok(init.ok);
      const ip = init.packet;
      const reserved = ip.slice();
      reserved[1] = 1;
      expectError(h(reserved), Reason.BadType);
      expectError(h(ip.subarray(0, 147)), Reason.Truncated);
      expectError(h(new Uint8Array([...ip, 0])), Reason.BadLength);
      const badMac = ip.slice();
      badMac[120] ^= 1;
      expectError(h(badMac), Reason.BadMac1);
      const random = new Uint8Array(randomBytes(148));
      random.set([1, 0, 0, 0]);
      expectError(h(random), Reason.BadMac1);
      expectError(h(new Uint8Array([2, 0, 0, 0, ...new Uint8Array(88)])), Reason.BadMac1);
      expectError(h(new Uint8Array([2, 0, 0, 0, ...new Uint8Array(80)])), Reason.Truncated);
      const cookie = new Uint8Array(64);
      cookie[0] = 3;
      expectError(h(cookie), Reason.UnknownIndex);
      expectError(h(new Uint8Array(65).fill(0).map((_, i) => (i === 0 ? 3 : 0))), Reason.BadLength);
      const transport = new Uint8Array(32);
      transport[0] = 4;
      expectError(h(transport.subarray(0, 31)), Reason.Truncated);
      expectError(h(transport), Reason.UnknownIndex);
      // The genuine initiation is accepted once; replaying it is refused.
      expectVerdict(h(ip), Verdict.WriteToNetwork);
      p.clock.t += 1;
      expectError(h(ip), Reason.StaleTimestamp);
      // An initiation from a key B does not know.
      const stranger = new WgDevice(generatePrivateKey(), { clock: p.clock.fn });
      try {
        const sp = stranger.addPeer(p.b.publicKey);
        const si = stranger.initiate(sp);
        assert.ok(si.ok);
        expectError(h(si.packet), Reason.UnknownPeer);
      } finally {
        stranger.free();
      }
    });

    it('transport: tampered, replayed, too old', () => {
      const p = pair();
      handshake(p);
      const m = seal(p.a, p.aPeer, new Uint8Array(64));
      const t = m.slice();
      t[t.length - 1] ^= 0x80;
      expectError(p.b.handle(t, SRC_A), Reason.DecryptFailed);
      expectVerdict(p.b.handle(m, SRC_A), Verdict.Data);
      expectError(p.b.handle(m, SRC_A), Reason.Replayed);
      // A message never delivered, then more than the 4032-counter window of newer ones.
      const lost = seal(p.a, p.aPeer, new Uint8Array(0));
      for (let i = 0; i < 4100; i++) expectVerdict(p.b.handle(seal(p.a, p.aPeer, new Uint8Array(0)), SRC_A), Verdict.Keepalive);
      expectError(p.b.handle(lost, SRC_A), Reason.TooOld);
      expectError(p.b.handle(m, SRC_A), Reason.TooOld);
    });
  });
});
