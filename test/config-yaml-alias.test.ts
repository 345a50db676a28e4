// YAML aliases in a config: an alias with no anchor before it, and an alias bomb past the limit,
// are config errors naming the file and the rule — not a ReferenceError from the YAML library
// (found by bench/fuzz-ts.ts).
import assert from 'node:assert/strict';
import { ConfigError, exampleEdgeConfig, parseEdgeConfig, parseSuperConfig, exampleSuperConfig } from '../ts/config/index.js';

const quiet = () => {};

describe('config YAML aliases', () => {
  it('an alias used before (or without) its anchor is a ConfigError naming the alias and line', () => {
    const text = exampleEdgeConfig().replace(/^NodeName: .*$/m, 'NodeName: *missing');
    assert.throws(
      () => parseEdgeConfig(text, 'edge.yaml', quiet),
      (e: unknown) => e instanceof ConfigError && /edge\.yaml/.test(e.message) && /alias/i.test(e.message) && /missing/.test(e.message) && /:\d+/.test(e.message),
    );
    const sup = exampleSuperConfig().replace(/^NodeName: .*$/m, 'NodeName: *nowhere');
    assert.throws(() => parseSuperConfig(sup, 'super.yaml', quiet), (e: unknown) => e instanceof ConfigError && /nowhere/.test(e.message));
  });

  it('an alias bomb beyond the alias limit is a ConfigError, not a hang or a ReferenceError', () => {
    let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 9; i++) bomb += `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(10).fill(`*${'abcdefghij'[i - 1]}`).join(',')}]\n`;
    const t0 = Date.now();
    assert.throws(() => parseEdgeConfig(bomb, 'bomb.yaml', quiet), (e: unknown) => e instanceof ConfigError && /bomb\.yaml/.test(e.message) && /alias/i.test(e.message));
    assert.ok(Date.now() - t0 < 2000);
  });
});
