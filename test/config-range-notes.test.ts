// A value outside a key's range is refused with the range and the note for the bound it broke,
// not a note about the other bound (DefaultTTL: 300 used to end with "(0 makes upstream refuse to
// start ...)"). docs/config.md, "Loading and errors".
import assert from 'node:assert/strict';
import { ConfigError, edgeSchema, exampleEdgeConfig, exampleSuperConfig, superSchema } from '../ts/config/index.js';
import { parseEdge, parseSuper } from '../ts/config/validate.js';
import { WHY } from '../ts/config/schema/common.js';

/** The messages of the problems loading `text` gives (none: []). */
function problems(parse: (t: string, n: string) => unknown, text: string): string[] {
  try {
    parse(text, 'cfg.yaml');
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

const edgeWith = (key: string, value: string) => exampleEdgeConfig().replace(new RegExp(`^${key}: .*$`, 'm'), `${key}: ${value}`);
const superWith = (key: string, value: string) => exampleSuperConfig().replace(new RegExp(`^${key}: .*$`, 'm'), `${key}: ${value}`);

describe('config: range errors give the range and the note of the bound broken', () => {
  it('DefaultTTL: 300 names the range 1..255 and why 255 is the top, not what 0 does', () => {
    const got = problems(parseEdge, edgeWith('DefaultTTL', '300'));
    assert.equal(got.length, 1, got.join('\n'));
    assert.equal(got[0], 'DefaultTTL: must be at most 255, got 300 (allowed: 1..255; the TTL is one byte of the frame header; upstream refuses such a value too)');
  });

  it('DefaultTTL: 0 names the range and what 0 would do', () => {
    const got = problems(parseEdge, edgeWith('DefaultTTL', '0'));
    assert.deepEqual(got, ['DefaultTTL: must be at least 1, got 0 (allowed: 1..255; 0 makes upstream refuse to start and would drop every frame)']);
  });

  it('other bounded integers name their range (ListenPort 70000, MTU 100)', () => {
    assert.deepEqual(problems(parseSuper, superWith('ListenPort', '70000')), ['ListenPort: must be at most 65535, got 70000 (allowed: 1..65535)']);
    assert.deepEqual(problems(parseEdge, edgeWith('  MTU', '100')), ['Interface.MTU: must be at least 576, got 100 (allowed: 576..65535)']);
  });

  it('no schema gives one note for every bound of a key that has two bounds', () => {
    const bad: string[] = [];
    const walk = (s: unknown, at: string): void => {
      if (s === null || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      const bounds = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].filter((k) => typeof o[k] === 'number');
      if (bounds.length > 1 && typeof o[WHY] === 'string') bad.push(`${at}: ${String(o[WHY])}`);
      if (o[WHY] !== null && typeof o[WHY] === 'object') {
        for (const k of Object.keys(o[WHY] as object)) if (!bounds.includes(k)) bad.push(`${at}: a note for ${k}, which the schema does not have`);
      }
      for (const [k, v] of Object.entries(o)) if (k !== WHY) walk(v, `${at}.${k}`);
    };
    walk(edgeSchema, 'edge');
    walk(superSchema, 'super');
    assert.deepEqual(bad, []);
  });
});
