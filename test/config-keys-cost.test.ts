// Deriving a node's own public key from its private key is what each config load spends most on
// after the YAML parse (edge: PrivKey; supernode: PrivKeyV4 and PrivKeyV6, again on every manage
// API peer/add). publicKeyOf remembers what it derived; these tests pin the results and the cost.
import assert from 'node:assert/strict';
import { exampleSuperConfig, generateKeyPair, parseSuperConfig, publicKeyOf } from '../ts/config/index.js';

const cpuMs = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

describe('config: public key derivation', () => {
  it('derives the RFC 7748 §6.1 public keys, the same on the first and every later call', () => {
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64');
    const alicePub = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64');
    const bob = Buffer.from('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'hex').toString('base64');
    const bobPub = Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex').toString('base64');
    for (let i = 0; i < 3; i++) {
      assert.equal(publicKeyOf(alice), alicePub);
      assert.equal(publicKeyOf(bob), bobPub);
    }
    // generateKeyPair's public key is the one publicKeyOf derives for its private key.
    const kp = generateKeyPair();
    assert.equal(publicKeyOf(kp.privateKey), kp.publicKey);
    assert.throws(() => publicKeyOf('AAAA'));
  });

  it('a key derived before costs far less than a new derivation (config reloads, peer/add)', () => {
    const fresh = Array.from({ length: 20 }, () => generateKeyPair().privateKey);
    const newCost = cpuMs(() => fresh.forEach((k) => publicKeyOf(k)));
    const again = fresh[0]!;
    const repeatCost = cpuMs(() => {
      for (let i = 0; i < 200; i++) publicKeyOf(again);
    });
    // 200 repeats of one key against 20 new keys: without the memo that is 10x the work.
    assert.ok(repeatCost < newCost / 2, `200 repeated derivations took ${repeatCost.toFixed(2)} ms of CPU, 20 new ones ${newCost.toFixed(2)} ms`);
  });

  it('a supernode config loaded again does not derive its two public keys again', () => {
    const text = exampleSuperConfig();
    // The same loads with a PrivKeyV4 and PrivKeyV6 never seen before, each load its own pair.
    const texts = Array.from({ length: 60 }, () =>
      text.replace(/^PrivKeyV4: .*$/m, `PrivKeyV4: ${generateKeyPair().privateKey}`).replace(/^PrivKeyV6: .*$/m, `PrivKeyV6: ${generateKeyPair().privateKey}`),
    );
    // Warmed up first (the YAML parser and the validators are compiled by V8 on first use).
    for (let i = 0; i < 30; i++) parseSuperConfig(texts[30 + i]!, 'super.yaml', () => {});
    let withKeys = 0;
    let newKeys = 0;
    // Interleaved in rounds, so that a burst of GC or other load lands on both sides.
    for (let r = 0; r < 3; r++) {
      newKeys += cpuMs(() => texts.slice(r * 10, r * 10 + 10).forEach((t) => parseSuperConfig(t, 'super.yaml', () => {})));
      withKeys += cpuMs(() => {
        for (let i = 0; i < 10; i++) parseSuperConfig(text, 'super.yaml', () => {});
      });
    }
    // Two derivations are about half of a load's CPU without the memo.
    assert.ok(withKeys < newKeys * 0.8, `30 reloads took ${withKeys.toFixed(1)} ms of CPU, 30 loads with new keys ${newKeys.toFixed(1)} ms`);
  });
});
