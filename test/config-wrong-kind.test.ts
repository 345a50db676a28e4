// A config file given to the wrong mode says so first, and which mode runs it: loading an edge's
// file as a supernode's failed on "PrivKeyV4: is required" and "NodeID belongs under Peers[]",
// the reverse on "PrivKey … (PrivKeyV4 … looks like a misspelling of it)", which sent the user
// fixing keys instead of the command line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, exampleEdgeConfig, exampleSuperConfig, parseEdgeConfig, parseSuperConfig } from '../ts/config/index.js';
import { exampleInput } from '../ts/gencfg/example.js';
import { ROOT } from '../ts/paths.js';

function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('the file loaded');
}

const quiet = () => {};
const FIXTURE_EDGE = readFileSync(join(ROOT, 'test/fixtures/config/good/edge-super.yaml'), 'utf8');

describe('config: a file of the other kind says which mode runs it', () => {
  it('an edge config loaded as a supernode config: one problem, naming the edge keys it has and -mode edge', () => {
    for (const text of [exampleEdgeConfig(), FIXTURE_EDGE]) {
      const e = refusal(() => parseSuperConfig(text, 'edge.yaml', quiet));
      assert.equal(e.problems.length, 1, e.message);
      const m = e.problems[0]!.message;
      assert.match(m, /^this looks like an edge config, not a supernode config: it has NodeID, PrivKey, Interface/);
      assert.match(m, /none of a supernode's keys \(PrivKeyV4, PrivKeyV6, ListenPort_EdgeAPI, …\)/);
      assert.match(m, /run it with -mode edge$/);
      assert.doesNotMatch(e.message, /is required|belongs under Peers/);
    }
  });

  it('a supernode config loaded as an edge config: one problem, naming the supernode keys it has and -mode super', () => {
    const e = refusal(() => parseEdgeConfig(exampleSuperConfig(), 'super.yaml', quiet));
    assert.equal(e.problems.length, 1, e.message);
    const m = e.problems[0]!.message;
    assert.match(m, /^this looks like a supernode config, not an edge config: it has PrivKeyV4, PrivKeyV6, ListenPort_EdgeAPI/);
    assert.match(m, /none of an edge's keys \(NodeID, PrivKey, Interface, …\)/);
    assert.match(m, /run it with -mode super$/);
    assert.equal(e.problems[0]!.line, exampleSuperConfig().split('\n').findIndex((l) => l.startsWith('PrivKeyV4:')) + 1, 'points at the first supernode key');
  });

  it('the lower-case keys of upstream releases before 2021-12 are recognised too', () => {
    const e = refusal(() => parseSuperConfig('nodeid: 1\nprivkey: IOahG/8KykclgdEGtKdKAaqXhxl8QU/TwsQwQbbn6X4=\ninterface:\n  itype: dummy\n', 'old.yaml', quiet));
    assert.match(e.message, /looks like an edge config.*run it with -mode edge/);
  });

  it('a gencfg input loaded as either config says to generate configs from it with -mode gencfg', () => {
    for (const load of [parseEdgeConfig, parseSuperConfig]) {
      const e = refusal(() => load(exampleInput('super'), 'gen.yaml', quiet));
      assert.equal(e.problems.length, 1, e.message);
      assert.match(e.problems[0]!.message, /^this looks like a gencfg input, .*-mode gencfg -cfgmode super\|static\|p2p/);
    }
  });

  it('a file of its own kind with a stray key of the other kind gets the ordinary errors and warnings, not the wrong-mode one', () => {
    const warnings: string[] = [];
    parseEdgeConfig(FIXTURE_EDGE.replace('AfPrefer: 6\n', 'AfPrefer: 6\nPrivKeyV4: IOahG/8KykclgdEGtKdKAaqXhxl8QU/TwsQwQbbn6X4=\nPasswords: {}\n'), 'edge.yaml', (l) => warnings.push(l));
    assert.ok(warnings.some((w) => /PrivKeyV4: unknown key/.test(w)), warnings.join('\n'));
    const e = refusal(() => parseSuperConfig('NodeName: s\nNodeID: 3\nListenPort: 0\n', 'super.yaml', quiet));
    assert.doesNotMatch(e.message, /looks like/);
  });

  it('the command line prints the wrong-mode sentence first (dist/main.js)', function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'eg-wrong-kind-'));
    try {
      writeFileSync(join(dir, 'edge.yaml'), exampleEdgeConfig());
      const r = spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), '-mode', 'super', '-config', join(dir, 'edge.yaml')], { encoding: 'utf8', timeout: 15_000 });
      assert.notEqual(r.status, 0);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.match(lines[0]!, /invalid config/);
      assert.match(lines[1]!, /edge\.yaml:\d+:\d+: this looks like an edge config, not a supernode config: .*run it with -mode edge/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
