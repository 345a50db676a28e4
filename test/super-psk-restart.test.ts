// Edge-to-edge PSKs (UsePSKForInterEdge) handed out by a supernode must survive its restart:
// if they were random per process, every edge pair would rekey (and drop frames) each time the
// supernode restarts, though nothing about the pair changed (issue 17: kill -9 and restart).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleSuperConfig, generateKeyPair, loadSuperConfig } from '../ts/config/index.js';
import { Supernode } from '../ts/super/supernode.js';
import { quietLogger } from './helpers/loopback-super.js';

describe('supernode pair PSKs across restarts', () => {
  it('a supernode restarted from the same config hands every edge pair the same PSK; another supernode key gives other PSKs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-psk-'));
    const path = join(dir, 'super.yaml');
    writeFileSync(path, exampleSuperConfig());
    const cfg = loadSuperConfig(path, () => {});
    const first = new Supernode(cfg, { configPath: path, log: quietLogger('psk-a'), uapi: false });
    const second = new Supernode(loadSuperConfig(path, () => {}), { configPath: path, log: quietLogger('psk-b'), uapi: false });
    assert.equal(second.psks.get(1, 2), first.psks.get(2, 1));
    assert.equal(second.psks.get(3, 7), first.psks.get(3, 7));
    assert.notEqual(first.psks.get(1, 2), first.psks.get(1, 3));
    const other = loadSuperConfig(path, () => {});
    other.PrivKeyV4 = generateKeyPair().privateKey;
    other.PrivKeyV6 = generateKeyPair().privateKey;
    const third = new Supernode(other, { configPath: path, log: quietLogger('psk-c'), uapi: false });
    assert.notEqual(third.psks.get(1, 2), first.psks.get(1, 2));
    // A PSK is 32 bytes of key material, never the supernode key itself.
    assert.equal(Buffer.from(first.psks.get(1, 2), 'base64').length, 32);
    assert.notEqual(first.psks.get(1, 2), cfg.PrivKeyV4);
  });
});
