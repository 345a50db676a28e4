// The control-plane parsers face the network: random and mutated inputs must be either decoded
// into a schema-valid message or refused with ProtoError — never another exception, never a
// half-valid object.
import assert from 'node:assert/strict';
import { decode, encode, ProtoError } from '../ts/proto/control.js';
import { readHeader } from '../ts/core/frame.js';
import { signReport, verifyReport, bodyHash } from '../ts/proto/jwt.js';

let seed = 0x2545f491;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

const samples: Record<keyof typeof decode, object> = {
  register: { v: 1, NodeID: 3, Version: '0.1.0', PeerStateHash: 'a', NhStateHash: '', SuperParamStateHash: '', JWTSecret: Buffer.alloc(32, 1).toString('base64'), HttpPostCount: 4 },
  serverUpdate: { v: 1, NodeID: 3, Action: 5, Code: 0, Params: 'abc' },
  ping: { v: 1, Src: 1, Time: 1764000000000.5, RequestReply: 0 },
  pong: { v: 1, Src: 1, Dst: 2, Timediff: -0.0003, TimeToAlive: 70, AdditionalCost: -1 },
  pongOrReport: { v: 1, Dst: 2, AdditionalCost: -1, Links: [[1, 0.002, 60], [3, -0.0004, 60]] },
  nodeInfo: { v: 1, Pongs: [{ Src: 1, Dst: 2, Timediff: 0.002, TimeToAlive: 60, AdditionalCost: 10 }], LocalV4s: { '10.0.0.1:3001': 100 }, LocalV6s: {} },
  peerInfo: { 'AAAA': { NodeID: 2, PSKey: '', Connurl: { ExternalV4: { '1.2.3.4:5': 4 }, ExternalV6: {}, LocalV4: {}, LocalV6: {} } } },
  nhTable: { 1: { 2: 2 }, 2: { 1: 1 } },
  superParams: { SendPingInterval: 15, HttpPostInterval: 50, PeerAliveTimeout: 70, DampingFilterRadius: 4, AdditionalCost: 10 },
};

const weird: unknown[] = [null, true, -1, 1e308, -0, 65536, 1.5, '', 'x'.repeat(5000), [], {}, [1, 2], { v: 2 }, NaN];

function mutateValue(o: unknown, depth = 0): unknown {
  if (o === null || typeof o !== 'object' || depth > 3) return rnd() < 0.5 ? pick(weird) : o;
  const c: Record<string, unknown> = Array.isArray(o) ? ([...o] as unknown as Record<string, unknown>) : { ...(o as Record<string, unknown>) };
  const keys = Object.keys(c);
  const r = rnd();
  if (r < 0.2 && keys.length) delete c[pick(keys)];
  else if (r < 0.35) c[pick(['extra', '__proto__', 'constructor', 'v', ...keys])] = pick(weird);
  else if (keys.length) {
    const k = pick(keys);
    c[k] = mutateValue(c[k], depth + 1);
  }
  return c;
}

describe('control-plane parsers under random input', () => {
  for (const name of Object.keys(samples) as (keyof typeof decode)[]) {
    it(`${name}: 3000 mutations decode or raise ProtoError only`, () => {
      const d = decode[name];
      // The sample itself is valid.
      assert.doesNotThrow(() => d(encode(samples[name])));
      let accepted = 0;
      for (let i = 0; i < 3000; i++) {
        let bytes: Uint8Array;
        if (i % 3 === 0) {
          bytes = Buffer.from(JSON.stringify(mutateValue(samples[name])));
        } else {
          const b = Buffer.from(encode(samples[name]));
          for (let j = 0, n = 1 + Math.floor(rnd() * 4); j < n; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
          bytes = i % 3 === 1 ? b : b.subarray(0, Math.floor(rnd() * b.length));
        }
        try {
          const m = d(bytes);
          accepted++;
          // Whatever is accepted re-validates after a round trip (nothing half-valid slips in).
          // pongOrReport answers {pong} or {report}: the message is the one value inside.
          const msg = name === 'pongOrReport' ? Object.values(m as object)[0] : m;
          assert.doesNotThrow(() => d(encode(msg as object)));
        } catch (e) {
          assert.ok(e instanceof ProtoError, `${name}: unexpected ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      assert.ok(accepted < 3000, 'mutations are mostly refused');
    });
  }

  it('Etherguard header: any bytes either parse consistently or are refused', () => {
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 24));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      const h = readHeader(b);
      if (h) assert.ok(8 + h.len <= b.length && h.kind === b[0] && h.ttl === b[1]);
      else assert.ok(b.length < 8 || 8 + b.readUInt16BE(6) > b.length);
    }
  });

  it('report JWT: tampering with token, body or secret is always refused', () => {
    const secret = Buffer.alloc(32, 9);
    const body = Buffer.from('{"v":1,"Pongs":[],"LocalV4s":{},"LocalV6s":{}}');
    const tok = signReport(secret, { PostCount: 7, BodyHash: bodyHash(body) });
    assert.deepEqual(verifyReport(secret, tok, body), { PostCount: 7, BodyHash: bodyHash(body) });
    for (let i = 0; i < 2000; i++) {
      const t = Buffer.from(tok);
      t[Math.floor(rnd() * t.length)] ^= 1 + Math.floor(rnd() * 255);
      const r = verifyReport(secret, t.toString('latin1'), body);
      // A flip may only "survive" where base64url decoding ignores it (same bytes underneath).
      if (typeof r !== 'string') assert.deepEqual(r, { PostCount: 7, BodyHash: bodyHash(body) });
    }
    assert.equal(typeof verifyReport(secret, tok, Buffer.concat([body, Buffer.from(' ')])), 'string');
    assert.equal(typeof verifyReport(Buffer.alloc(32, 8), tok, body), 'string');
  });
});
