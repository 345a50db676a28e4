// Lengths near 64 KiB through the real WASM module (ts/core/wg.ts): the single seal and the batch
// path either produce a transport message that fits one UDP datagram (≤ 65,507 bytes, IPv4) and
// opens back to the same plaintext, or refuse the plaintext with FrameTooLarge before sealing —
// never a message whose length a 16-bit field would wrap. The limits are written as literals on
// purpose (docs/wire.md §5 derives them): the test checks the derivation, not the constants.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { addrKey, generatePrivateKey, limits, padded, Reason, reasonName, transportLen, Verdict, WgDevice } from '../ts/core/wg.js';

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

  it('batch seal: slot lengths near 64 KiB fit one datagram or fail with FrameTooLarge; the batch opens intact', () => {
    const p = pair();
    const bA = p.a.batch(LENGTHS.length, 65_536);
    const bB = p.b.batch(LENGTHS.length, 65_536);
    const items = LENGTHS.map((len) => ({ peer: p.aPeer, data: new Uint8Array(randomBytes(len)) }));
    const sealed = bA.seal(items);
    const good: Uint8Array[] = [];
    const goodIdx: number[] = [];
    sealed.forEach((s, i) => {
      const len = LENGTHS[i];
      if (len <= MAX_PLAINTEXT) {
        assert.ok(s.ok, `slot ${i} (${len}): sealed (got ${s.ok ? '' : s.reasonName})`);
        assert.equal(s.packet.length, transportLen(len), `slot ${i} (${len}): status word = sealed length`);
        assert.ok(s.packet.length <= MAX_UDP_V4);
        good.push(s.packet);
        goodIdx.push(i);
      } else {
        assert.ok(!s.ok && s.reason === Reason.FrameTooLarge, `slot ${i} (${len}): ${s.ok ? `sealed to ${s.packet.length} bytes` : s.reasonName}`);
      }
    });
    const opened = bB.open(good);
    opened.forEach((o, k) => {
      const i = goodIdx[k];
      assert.ok(o.ok, `slot ${i}: opens (${o.ok ? '' : o.reasonName})`);
      if (o.ok) assert.ok(Buffer.from(o.data.subarray(0, LENGTHS[i])).equals(Buffer.from(items[i].data)), `slot ${i}: same plaintext`);
    });
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
