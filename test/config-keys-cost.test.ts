// Deriving a node's own public key from its private key is what each config load spends most on
// after the YAML parse (edge: PrivKey; supernode: PrivKeyV4 and PrivKeyV6, again on every manage
// API peer/add). publicKeyOf remembers what it derived; these tests pin the results and count the derivations (no timing: speed is for bench/).
import assert from 'node:assert/strict';
import { exampleSuperConfig, generateKeyPair, parseSuperConfig, publicKeyOf } from '../ts/config/index.js';
import { keyDerivations } from '../ts/config/keys.js';

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

  it('a key derived before is answered from memory (config reloads, peer/add); a new one is derived once', () => {
    const fresh = Array.from({ length: 20 }, () => generateKeyPair().privateKey);
    const n0 = keyDerivations.count;
    fresh.forEach((k) => publicKeyOf(k));
    assert.equal(keyDerivations.count - n0, 20, 'each new private key is derived');
    for (let i = 0; i < 200; i++) publicKeyOf(fresh[i % 20]!);
    assert.equal(keyDerivations.count - n0, 20, 'repeats derive nothing');
  });

  it('a supernode config loaded again does not derive its two public keys again; one with new keys derives two', () => {
    const text = exampleSuperConfig();
    const other = text.replace(/^PrivKeyV4: .*$/m, `PrivKeyV4: ${generateKeyPair().privateKey}`).replace(/^PrivKeyV6: .*$/m, `PrivKeyV6: ${generateKeyPair().privateKey}`);
    parseSuperConfig(text, 'super.yaml', () => {});
    const n0 = keyDerivations.count;
    for (let i = 0; i < 10; i++) parseSuperConfig(text, 'super.yaml', () => {});
    assert.equal(keyDerivations.count, n0, 'reloads derive nothing');
    parseSuperConfig(other, 'super.yaml', () => {});
    assert.equal(keyDerivations.count - n0, 2, 'PrivKeyV4 and PrivKeyV6 derived once each');
  });
});
