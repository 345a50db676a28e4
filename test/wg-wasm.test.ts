// The typed WireGuard wrapper (ts/core/wg.ts) through the real WASM module: two devices in one
// process handshake and exchange data, the data plane's batch call agrees with the single path,
// memory growth does not break its views, and malformed datagrams come back as reason codes.
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
import { DROP_TEMPLATES, EV, Ev, Mode, REC, SUMMARY } from '../ts/core/generated.js';

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

  describe('data plane: one process() call per batch (host mode)', () => {
    /** Events of the last process() on `d` as plain objects. */
    function events(d: WgDevice): { type: number; kind: number; reason: number; peer: number; aux: number; payload: Uint8Array }[] {
      const bytes = d.summary(SUMMARY.EV_BYTES);
      const buf = d.view(d.summary(SUMMARY.EV_PTR), bytes).slice();
      const dv = new DataView(buf.buffer);
      const out = [];
      let at = 0;
      while (at < bytes) {
        const len = dv.getUint32(at + EV.LEN, true);
        out.push({
          type: buf[at + EV.TYPE],
          kind: buf[at + EV.KIND],
          reason: dv.getUint16(at + EV.REASON, true),
          peer: dv.getUint32(at + EV.PEER, true),
          aux: dv.getUint16(at + EV.AUX, true),
          payload: buf.slice(at + EV.HEADER, at + EV.HEADER + len),
        });
        at += EV.HEADER + len;
      }
      assert.equal(at, bytes, 'events chain exactly to the end');
      assert.equal(out.length, d.summary(SUMMARY.EV_COUNT));
      return out;
    }

    /** Seals `plains` for `peer` with one Plain batch; returns the IPv4 send area (a copy). */
    function sealBatch(d: WgDevice, peer: number, plains: Uint8Array[]): { records: Uint8Array; count: number } {
      const len = plains.reduce((n, x) => n + REC.PLAIN + x.length, 0);
      const at = d.stage(len);
      let off = 0;
      for (const x of plains) {
        const v = d.view(at + off, REC.PLAIN + x.length);
        new DataView(v.buffer, v.byteOffset).setUint32(0, peer, true);
        new DataView(v.buffer, v.byteOffset).setUint32(4, x.length, true);
        v.set(x, REC.PLAIN);
        off += REC.PLAIN + x.length;
      }
      d.process(Mode.Plain, len, 0);
      return { records: d.view(d.summary(SUMMARY.SEND4_PTR), d.summary(SUMMARY.SEND4_LEN)).slice(), count: d.summary(SUMMARY.SEND4_COUNT) };
    }

    function withEndpoints(p: Pair): void {
      p.a.setPeerNode(p.aPeer, 2, false);
      p.b.setPeerNode(p.bPeer, 1, false);
      p.a.setEndpoint(p.aPeer, 4, 51820, Uint8Array.of(192, 0, 2, 2));
      p.b.setEndpoint(p.bPeer, 4, 51820, Uint8Array.of(192, 0, 2, 1));
    }

    it('seals a batch into send records for the endpoint and opens it on the other side, equal to the single path', () => {
      const p = pair();
      handshake(p);
      withEndpoints(p);
      const pkts = Array.from({ length: 40 }, (_, i) => randomBytes(1 + ((i * 37) % 1400)));
      const { records, count } = sealBatch(p.a, p.aPeer, pkts);
      assert.equal(count, pkts.length);
      // Each record: [len u16 BE][port u16 BE][address 16][message], addressed to B's endpoint.
      let off = 0;
      for (let i = 0; i < count; i++) {
        const len = (records[off] << 8) | records[off + 1];
        assert.equal(len, transportLen(pkts[i].length));
        assert.equal((records[off + 2] << 8) | records[off + 3], 51820);
        assert.deepEqual([...records.subarray(off + 4, off + 8)], [192, 0, 2, 2]);
        off += REC.UDP + len;
      }
      assert.equal(off, records.length);
      // The same records, received by B as a batch from 192.0.2.1:51820, come out as plaintexts.
      p.b.process(Mode.Udp, p.b.stageBytes(records), 4);
      const ev = events(p.b);
      const plains = ev.filter((e) => e.type === Ev.Plain);
      assert.equal(plains.length, pkts.length);
      plains.forEach((e, i) => {
        assert.equal(e.peer, p.bPeer);
        assert.equal(e.payload.length, padded(pkts[i].length));
        assert.deepEqual(e.payload.subarray(0, pkts[i].length), new Uint8Array(pkts[i]));
      });
      assert.deepEqual(ev.filter((e) => e.type === Ev.Drop), []);
      // The single path agrees: B opens A's next single-sealed packet.
      const d = expectVerdict(p.b.handle(seal(p.a, p.aPeer, pkts[3]), SRC_A), Verdict.Data);
      assert.deepEqual(d.data.subarray(0, pkts[3].length), new Uint8Array(pkts[3]));
    });

    it('per-datagram failures are counted drops with the WireGuard reason; the good ones go through', () => {
      const p = pair();
      handshake(p);
      withEndpoints(p);
      const { records } = sealBatch(p.a, p.aPeer, [randomBytes(50), randomBytes(60)]);
      const first = REC.UDP + ((records[0] << 8) | records[1]);
      const rec = Uint8Array.from([...records, ...records.subarray(0, first)]); // third = replay of the first
      rec[first + REC.UDP + 40] ^= 1; // tamper with the second
      p.b.process(Mode.Udp, p.b.stageBytes(rec), 4);
      const ev = events(p.b);
      const drops = ev.filter((e) => e.type === Ev.Drop).map((e) => [DROP_TEMPLATES[e.reason], Reason[e.aux]]);
      assert.deepEqual(drops, [
        ['wireguard: {wg}', 'DecryptFailed'],
        ['wireguard: {wg}', 'Replayed'],
      ]);
      assert.equal(ev.filter((e) => e.type === Ev.Plain).length, 1);
    });

    it('without a session the plaintext comes back as a Queue event and a tick produces the initiation', () => {
      const p = pair();
      withEndpoints(p);
      sealBatch(p.a, p.aPeer, [Uint8Array.of(1, 2, 3)]);
      const q = events(p.a).filter((e) => e.type === Ev.Queue);
      assert.equal(q.length, 1);
      assert.deepEqual([...q[0].payload], [1, 2, 3]);
      assert.equal(p.a.summary(SUMMARY.SEND4_COUNT), 0);
      const t = p.a.tick();
      assert.equal(t.filter((x) => x.kind === TickKind.SendInitiation).length, 1);
    });

    it('survives WASM memory growth between batches (summary and views are re-read)', () => {
      const p = pair();
      handshake(p);
      withEndpoints(p);
      const before = wgMemory().buffer;
      sealBatch(p.a, p.aPeer, [randomBytes(100)]);
      p.a.stage(32 << 20); // grows memory: every older view is detached
      assert.notEqual(wgMemory().buffer, before);
      const { count, records } = sealBatch(p.a, p.aPeer, [randomBytes(200), randomBytes(300)]);
      assert.equal(count, 2);
      p.b.process(Mode.Udp, p.b.stageBytes(records), 4);
      assert.equal(events(p.b).filter((e) => e.type === Ev.Plain).length, 2);
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
