// XEdDSA through the real WASM module (ts/core/sign.ts -> crates/eg-wasm/src/sign.rs ->
// eg_core::sign), with keys made the ways the runtime makes them, and checked against OpenSSL's
// Ed25519 verifier (node:crypto) as an independent implementation.
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { generateKeyPair } from '../ts/config/keys.js';
import { xeddsaRefusal, xeddsaSign, xeddsaVerify } from '../ts/core/sign.js';
import { generatePrivateKey, publicKey } from '../ts/core/wg.js';

const P = 2n ** 255n - 19n;
const Q = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function bigToLe(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** Edwards y (sign bit 0) of a Montgomery u: y = (u − 1)/(u + 1) mod p (RFC 7748 §4.1), in BigInt. */
function edwardsOf(u: Uint8Array): Uint8Array {
  const x = leToBig(u);
  const y = (((x - 1n + P) % P) * modPow(x + 1n, P - 2n, P)) % P;
  return bigToLe(y);
}

/** OpenSSL's Ed25519 verification of `sig` under the Edwards form of X25519 public key `u`. */
function opensslVerify(u: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), edwardsOf(u)]);
  return cryptoVerify(null, msg, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig);
}

function keysFromConfig(): { priv: Uint8Array; pub: Uint8Array } {
  const kp = generateKeyPair();
  return { priv: new Uint8Array(Buffer.from(kp.privateKey, 'base64')), pub: new Uint8Array(Buffer.from(kp.publicKey, 'base64')) };
}

describe('XEdDSA signatures (ts/core/sign.ts via WASM)', () => {
  it('signs with keys from config/keys.ts and verifies against their public key', () => {
    for (let i = 0; i < 50; i++) {
      const { priv, pub } = keysFromConfig();
      const msg = randomBytes(i * 7);
      const sig = xeddsaSign(priv, msg);
      assert.equal(sig.length, 64);
      assert.equal(xeddsaVerify(pub, msg, sig), true, `key ${i}`);
      assert.equal(xeddsaRefusal(pub, msg, sig), null);
    }
  });

  it('signs with keys from the WASM key generator (core/wg.ts) too', () => {
    const priv = generatePrivateKey();
    const sig = xeddsaSign(priv, new TextEncoder().encode('hello'));
    assert.equal(xeddsaVerify(publicKey(priv), new TextEncoder().encode('hello'), sig), true);
  });

  // About half of all keys have kB with sign bit 1 and must negate their scalar; 40 keys miss
  // both kinds with probability 2^-39, and a wrong negation fails every such key.
  it('makes signatures that OpenSSL Ed25519 accepts under the converted Edwards key', () => {
    for (let i = 0; i < 40; i++) {
      const { priv, pub } = keysFromConfig();
      const msg = randomBytes(1 + i);
      const sig = xeddsaSign(priv, msg);
      assert.equal(opensslVerify(pub, msg, sig), true, `key ${i}`);
      assert.equal(opensslVerify(pub, Buffer.concat([msg, Buffer.of(0)]), sig), false);
    }
  });

  it('uses fresh randomness per signature, and the given Z exactly', () => {
    const { priv, pub } = keysFromConfig();
    const msg = Buffer.from('same message');
    const a = xeddsaSign(priv, msg);
    const b = xeddsaSign(priv, msg);
    assert.notDeepEqual(a, b);
    assert.ok(xeddsaVerify(pub, msg, a) && xeddsaVerify(pub, msg, b));
    const z = randomBytes(64);
    assert.deepEqual(xeddsaSign(priv, msg, z), xeddsaSign(priv, msg, z));
  });

  it('refuses any flipped bit in message, signature or public key', () => {
    const { priv, pub } = keysFromConfig();
    const msg = randomBytes(24);
    const sig = xeddsaSign(priv, msg);
    for (let bit = 0; bit < msg.length * 8; bit++) {
      const m = Buffer.from(msg);
      m[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(xeddsaVerify(pub, m, sig), false, `message bit ${bit}`);
    }
    for (let bit = 0; bit < 512; bit++) {
      const s = Uint8Array.from(sig);
      s[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(xeddsaVerify(pub, msg, s), false, `signature bit ${bit}`);
    }
    for (let bit = 0; bit < 256; bit++) {
      const k = Uint8Array.from(pub);
      k[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(xeddsaVerify(k, msg, sig), false, `key bit ${bit}`);
    }
  });

  it('names the rule a malformed signature or key breaks', () => {
    const { priv, pub } = keysFromConfig();
    const msg = Buffer.from('rules');
    const sig = xeddsaSign(priv, msg);
    const sq = Uint8Array.from(sig);
    sq.set(bigToLe(leToBig(sig.subarray(32)) + Q), 32);
    assert.equal(xeddsaRefusal(pub, msg, sq), 'scalar_not_canonical');
    const top = Uint8Array.from(pub);
    top[31]! |= 0x80;
    assert.equal(xeddsaRefusal(top, msg, sig), 'public_key_not_canonical');
    assert.equal(xeddsaRefusal(bigToLe(P), msg, sig), 'public_key_not_canonical');
    assert.equal(xeddsaRefusal(new Uint8Array(32), msg, sig), 'public_key_small_order');
    assert.equal(xeddsaRefusal(keysFromConfig().pub, msg, sig), 'mismatch');
    assert.equal(xeddsaRefusal(pub, msg, sig.subarray(0, 63)), 'signature_length');
    assert.equal(xeddsaVerify(pub, msg, new Uint8Array(65)), false);
  });

  it('throws naming the argument for a key of the wrong length or type', () => {
    assert.throws(() => xeddsaSign(new Uint8Array(31), new Uint8Array(1)), /privateKey must be 32 bytes, got 31/);
    assert.throws(() => xeddsaSign(new Uint8Array(32), new Uint8Array(1), new Uint8Array(32)), /random must be 64 bytes/);
    assert.throws(() => xeddsaVerify(new Uint8Array(33), new Uint8Array(1), new Uint8Array(64)), /publicKey must be 32 bytes, got 33/);
    assert.throws(() => xeddsaVerify(new Uint8Array(32), 'text' as unknown as Uint8Array, new Uint8Array(64)), /message must be a Uint8Array/);
  });

  it('signs a 1 MiB message', () => {
    const { priv, pub } = keysFromConfig();
    const msg = randomBytes(1 << 20);
    assert.equal(xeddsaVerify(pub, msg, xeddsaSign(priv, msg)), true);
  });
});
