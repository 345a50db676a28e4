import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), ...args], { encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const dir = mkdtempSync(join(tmpdir(), 'egsolve-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// Upstream's reference table for the 6-node example (reference §9.2).
const EXPECTED: Record<string, Record<string, number>> = {
  1: { 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 },
  2: { 1: 1, 3: 3, 4: 4, 5: 3, 6: 4 },
  3: { 1: 2, 2: 2, 4: 4, 5: 5, 6: 4 },
  4: { 1: 2, 2: 2, 3: 3, 5: 3, 6: 6 },
  5: { 1: 3, 2: 3, 3: 3, 4: 3, 6: 3 },
  6: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 },
};

describe('solve mode', () => {
  const example = cli(['-mode', 'solve', '-example']).out;

  it('-example prints the 6-node matrix', () => {
    assert.match(example, /^X 1 +2 +3 +4 +5 +6\n/);
    assert.equal(example.trim().split('\n').length, 7);
  });

  it('prints upstream YAML tables and the human-readable pairs', () => {
    const r = cli(['solve', '-config', file('m.txt', example)]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NextHopTable:\n {2}1:\n {4}2: 2\n/);
    assert.match(r.out, /\nDistanceTable:\n/);
    assert.match(r.out, /\nDistanceTableWithoutAdditionalaCost:\n/);
    assert.match(r.out, /\nHuman readable:\nsrc\tdist\t\tpath\n/);
    assert.ok(r.out.includes('1 -> 6\t1.500000\t[1 2 4 6]\n'));
    assert.ok(r.out.includes('5 -> 6\t1.500000\t[5 3 4 6]\n'));
    assert.ok(r.out.includes('6 -> 5\t1.500000\t[6 4 3 5]\n'));
    assert.equal(r.out.split('\n').filter((l) => / -> /.test(l)).length, 30);
  });

  it('-json gives the same next-hop table as reference §9.2', () => {
    const r = cli(['solve', '-json', '-config', file('m2.txt', example)]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { NextHopTable: unknown; DistanceTable: Record<string, Record<string, number>> };
    assert.deepEqual(j.NextHopTable, EXPECTED);
    assert.equal(j.DistanceTable['1']['6'], 1.5);
  });

  it('tolerates CRLF, comments and trailing blank lines (upstream crashed on those)', () => {
    const messy = '# measured 2026-11-25\r\n' + example.replace(/\n/g, '\r\n') + '\r\n\r\n\n';
    const r = cli(['solve', '-json', '-config', file('m3.txt', messy)]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as { NextHopTable: unknown }).NextHopTable, EXPECTED);
  });

  it('accepts negative one-way values (clock offsets)', () => {
    const r = cli(['solve', '-json', '-config', file('neg.txt', 'X 1 2\n1 0 0.002179297\n2 -0.00030252 0\n')]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as { NextHopTable: unknown }).NextHopTable, { 1: { 2: 2 }, 2: { 1: 1 } });
  });

  it('names the line and column of a bad value, exits 1 without a stack trace', () => {
    const r = cli(['solve', '-config', file('bad.txt', 'X 1 2\n1 0 abc\n2 1 0\n')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.txt: line 2, column 5: expected a number or Inf, found 'abc'/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('reports a row with the wrong number of fields, a missing file and a missing -config', () => {
    const r = cli(['solve', '-config', file('short.txt', 'X 1 2\n1 0 1\n2 1\n')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /line 3/);
    assert.match(cli(['solve', '-config', join(dir, 'nope.txt')]).err, /cannot read .*nope\.txt/);
    const m = cli(['solve']);
    assert.equal(m.code, 2);
    assert.match(m.err, /solve needs -config/);
  });

  it('reads the matrix from stdin with -config -', () => {
    const r = cli(['solve', '-json', '-config', '-'], example);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((JSON.parse(r.out) as { NextHopTable: unknown }).NextHopTable, EXPECTED);
  });
});
