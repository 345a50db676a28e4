// Lengths near 64 KiB through the real WASM module (ts/core/wg.ts): the single seal and the data
// plane's batch path either produce a transport message that fits one UDP datagram (≤ 65,507 bytes, IPv4) and
// opens back to the same plaintext, or refuse the plaintext with FrameTooLarge before sealing —
// never a message whose length a 16-bit field would wrap. The limits are written as literals on
// purpose (docs/wire.md §5 derives them): the test checks the derivation, not the constants.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { addrKey, generatePrivateKey, limits, padded, Reason, reasonName, transportLen, Verdict, WgDevice } from '../ts/core/wg.js';
import { Drop, EV, Ev, Mode, REC, SUMMARY } from '../ts/core/generated.js';

const MAX_UDP_V4 = 65_507;
const MAX_PLAINTEXT = 65_472; // 16 + 65,472 + 16 = 65,504 ≤ 65,507; 65,473 pads to 65,488 → 65,520
const SRC_A = addrKey('192.0.2.1', 51820);
const SRC_B = addrKey('192.0.2.2', 51820);

/** Plaintext lengths around every boundary: the limit, the padding steps, the 16-bit wrap. */
const LENGTHS = [
  ...[-2, -1, 0, 1, 2].map((d) => MAX_PLAINTEXT + d),
  MAX_PLAINTEXT - 16,
  MAX_PLAINTEXT + 16,
  65_475, // the last one that would fit 65,507 without padding
  65_488, // EG frame of 65,480 (the old edge limit region): 65,520 sealed
  65_498, // EG frame of 65,490: sealed length 65,536 wraps to 0 in a u16
  65_515, // EG frame of 65,507: sealed length 65,552 wraps to 16
  65_535,
  65_536,
];

function makePair(): { a: WgDevice; b: WgDevice; aPeer: number; bPeer: number } {
  let t = 100;
  const clock = (): number => t;
  const wallClock = (): number => 1.7e12 + t * 1000;
  const a = new WgDevice(generatePrivateKey(), { clock, wallClock });
  const b = new WgDevice(generatePrivateKey(), { clock, wallClock });
  const aPeer = a.addPeer(b.publicKey);
  const bPeer = b.addPeer(a.publicKey);
  const init = a.initiate(aPeer);
  assert.ok(init.ok);
  const resp = b.handle(init.packet, SRC_A);
  assert.equal(resp.verdict, Verdict.WriteToNetwork);
  const ready = a.handle((resp as { packet: Uint8Array }).packet, SRC_B);
  assert.equal(ready.verdict, Verdict.SessionReady);
  assert.equal(b.handle((ready as { packet: Uint8Array }).packet, SRC_A).verdict, Verdict.Keepalive);
  t += 1;
  return { a, b, aPeer, bPeer };
}

describe('WireGuard WASM lengths near 64 KiB', () => {
  const devs: WgDevice[] = [];
  afterEach(() => {
    for (const d of devs.splice(0)) d.free();
  });
  const pair = () => {
    const p = makePair();
    devs.push(p.a, p.b);
    return p;
  };

  it('the core reports the derived limits (UDP payload, transport message, plaintext, Etherguard frame)', () => {
    assert.deepEqual(limits(), {
      maxUdpPayloadV4: MAX_UDP_V4,
      maxUdpPayloadV6: 65_527,
      maxTransport: MAX_UDP_V4,
      maxPlaintext: MAX_PLAINTEXT,
      headerLen: 8,
      maxFrame: MAX_PLAINTEXT - 8,
      transportHeader: 16,
      tag: 16,
    });
    assert.equal(reasonName(Reason.FrameTooLarge), 'FrameTooLarge');
  });

  it('single seal: each length fits one datagram and opens intact, or is refused with FrameTooLarge', () => {
    const p = pair();
    for (const len of LENGTHS) {
      const data = new Uint8Array(randomBytes(len));
      const r = p.a.encapsulate(p.aPeer, data);
      if (len <= MAX_PLAINTEXT) {
        assert.ok(r.ok, `${len}: sealed (got ${r.ok ? '' : r.reasonName})`);
        assert.equal(r.packet.length, transportLen(len), `${len}: sealed length`);
        assert.ok(r.packet.length <= MAX_UDP_V4, `${len}: ${r.packet.length} fits an IPv4 UDP datagram`);
        const o = p.b.handle(r.packet, SRC_A);
        assert.equal(o.verdict, Verdict.Data, `${len}: opens`);
        const d = (o as { data: Uint8Array }).data;
        assert.equal(d.length, padded(len));
        assert.ok(Buffer.from(d.subarray(0, len)).equals(Buffer.from(data)), `${len}: same plaintext`);
      } else {
        assert.deepEqual(r, { ok: false, reason: Reason.FrameTooLarge, reasonName: 'FrameTooLarge' }, `${len}: refused`);
      }
    }
    assert.ok(p.a.hasSession(p.aPeer), 'a refused plaintext does not disturb the session');
  });

  it('batch seal: plaintexts near 64 KiB in one data-plane batch fit one datagram or are FrameTooLarge drops; the batch opens intact', () => {
    const p = pair();
    p.a.setPeerNode(p.aPeer, 2, false);
    p.b.setPeerNode(p.bPeer, 1, false);
    p.a.setEndpoint(p.aPeer, 4, 51820, Uint8Array.of(192, 0, 2, 2));
    const items = LENGTHS.map((len) => new Uint8Array(randomBytes(len)));
    const total = items.reduce((n, x) => n + REC.PLAIN + x.length, 0);
    const at = p.a.stage(total);
    let off = 0;
    for (const x of items) {
      const v = p.a.view(at + off, REC.PLAIN + x.length);
      new DataView(v.buffer, v.byteOffset).setUint32(0, p.aPeer, true);
      new DataView(v.buffer, v.byteOffset).setUint32(4, x.length, true);
      v.set(x, REC.PLAIN);
      off += REC.PLAIN + x.length;
    }
    p.a.process(Mode.Plain, total, 0);
    const fits = LENGTHS.filter((len) => len <= MAX_PLAINTEXT);
    assert.equal(p.a.summary(SUMMARY.SEND4_COUNT), fits.length);
    const rec = p.a.view(p.a.summary(SUMMARY.SEND4_PTR), p.a.summary(SUMMARY.SEND4_LEN)).slice();
    const ev = p.a.view(p.a.summary(SUMMARY.EV_PTR), p.a.summary(SUMMARY.EV_BYTES)).slice();
    const drops: number[] = [];
    for (let e = 0; e < ev.length; e += EV.HEADER + new DataView(ev.buffer).getUint32(e + EV.LEN, true)) {
      if (ev[e + EV.TYPE] === Ev.Drop) drops.push(new DataView(ev.buffer).getUint16(e + EV.REASON, true));
    }
    assert.deepEqual(drops, LENGTHS.filter((len) => len > MAX_PLAINTEXT).map(() => Drop.FrameTooLarge));
    let k = 0;
    for (let o = 0; o < rec.length; k++) {
      const len = (rec[o] << 8) | rec[o + 1];
      assert.equal(len, transportLen(fits[k]), `record ${k} (${fits[k]}): sealed length, not wrapped`);
      assert.ok(len <= MAX_UDP_V4);
      o += REC.UDP + len;
    }
    assert.equal(k, fits.length);
    // B opens the whole send area as one received batch.
    p.b.process(Mode.Udp, p.b.stageBytes(rec), 4);
    const evB = p.b.view(p.b.summary(SUMMARY.EV_PTR), p.b.summary(SUMMARY.EV_BYTES)).slice();
    const dv = new DataView(evB.buffer);
    const plains: Uint8Array[] = [];
    for (let e = 0; e < evB.length; e += EV.HEADER + dv.getUint32(e + EV.LEN, true)) {
      if (evB[e + EV.TYPE] === Ev.Plain) plains.push(evB.subarray(e + EV.HEADER, e + EV.HEADER + dv.getUint32(e + EV.LEN, true)));
      assert.notEqual(evB[e + EV.TYPE], Ev.Drop, 'nothing dropped on open');
    }
    const want = items.filter((x) => x.length <= MAX_PLAINTEXT);
    assert.equal(plains.length, want.length);
    plains.forEach((pl, i) => assert.ok(Buffer.from(pl.subarray(0, want[i].length)).equals(Buffer.from(want[i])), `record ${i}: same plaintext`));
  });

  it('a plaintext too large to send is refused before the session check (no handshake, nothing to queue)', () => {
    let t = 100;
    const a = new WgDevice(generatePrivateKey(), { clock: () => t, wallClock: () => 1.7e12 + t * 1000 });
    const b = new WgDevice(generatePrivateKey());
    devs.push(a, b);
    const peer = a.addPeer(b.publicKey);
    const r = a.encapsulate(peer, new Uint8Array(MAX_PLAINTEXT + 1));
    assert.deepEqual(r, { ok: false, reason: Reason.FrameTooLarge, reasonName: 'FrameTooLarge' });
    t += 1;
    assert.deepEqual(a.tick(), [], 'no initiation requested for a refused plaintext');
    const small = a.encapsulate(peer, new Uint8Array(MAX_PLAINTEXT));
    assert.ok(!small.ok && small.reason === Reason.NoSession, 'a sendable plaintext still asks for a session');
  });
});
