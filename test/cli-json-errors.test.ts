// With -json every line an edge or supernode prints is a JSON object, config problems included
// (ts/cli/errors.ts cliErrorJson, ts/cli/lifecycle.ts loadConfig); they were plain text before.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function run(args: string[]): { code: number | null; lines: Record<string, unknown>[]; raw: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  const raw = r.stderr;
  const lines = raw.split('\n').filter((l) => l !== '').map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      assert.fail(`not a JSON line under -json: ${l}`);
    }
  });
  return { code: r.status, lines, raw };
}

describe('-json and config problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eg-cli-json-'));

  it('a refused edge config prints one JSON line per error and per warning, naming file, key and line', () => {
    const file = join(dir, 'bad-edge.yaml');
    writeFileSync(file, 'NodeName: x\nNodeID: 70000\nPrivKey: nope\nDefaultTTl: 3\n');
    const { code, lines } = run(['edge', '-json', '-config', file]);
    assert.equal(code, 1);
    const errs = lines.filter((l) => l.level === 'error');
    assert.ok(errs.some((l) => l.key === 'NodeID' && l.line === 2 && l.file === file && /at most 65531/.test(String(l.msg))), JSON.stringify(lines));
    assert.ok(errs.some((l) => l.key === 'PrivKey' && l.line === 3));
    assert.ok(lines.some((l) => l.level === 'warning' && l.key === 'DefaultTTl' && /did you mean DefaultTTL/.test(String(l.msg))));
    for (const l of lines) assert.equal(l.name, 'etherguard');
  });

  it('a supernode without -config prints its usage error as a JSON line; without -json it stays text', () => {
    const j = run(['super', '-json']);
    assert.equal(j.code, 2);
    assert.equal(j.lines.length, 1);
    assert.match(String(j.lines[0]!.msg), /needs -config FILE/);
    const t = spawnSync(process.execPath, [MAIN, 'super'], { encoding: 'utf8' });
    assert.match(t.stderr, /^etherguard: super needs -config FILE/);
  });
});
