import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../ts/paths.js';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const coreVersion = /version = "([^"]+)"/.exec(readFileSync(join(ROOT, 'Cargo.toml'), 'utf8'))![1];

describe('CLI', () => {
  it('-version prints our version, the WASM core version and the native addon status', () => {
    const r = cli('-version');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^etherguard ${pkgVersion}\n`));
    assert.match(r.out, new RegExp(`wasm core ${coreVersion} \\(simd128 on\\)`));
    assert.match(r.out, /native addon \d+\.\d+\.\d+: loaded/);
    // Upstream's "VPP support enabled|disabled" line, saying what is built (the memif client).
    assert.match(r.out, /\nVPP support enabled \(IType vpp: memif client; VPP binary API integration not built\)\n/);
  });

  it('-help and --help print usage to stdout and exit 0', () => {
    for (const f of ['-help', '--help']) {
      const r = cli(f);
      assert.equal(r.code, 0);
      assert.match(r.out, /^Usage: etherguard -mode <super\|edge\|solve\|gencfg>/);
      for (const flag of ['-config', '-example', '-cfgmode', '-bind', '-no-uapi', '-version']) assert.ok(r.out.includes(flag), flag);
    }
  });

  it('an unknown mode prints usage to stderr and exits 2', () => {
    const r = cli('-mode', 'nosuch');
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /unknown mode "nosuch"/);
    assert.match(r.err, /Usage:/);
  });

  it('an unknown positional mode, an unknown flag, a missing value and a bad -bind exit 2', () => {
    assert.equal(cli('frobnicate').code, 2);
    const r = cli('-mode', 'solve', '-frob');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown flag -frob/);
    assert.match(cli('-mode', 'solve', '-config').err, /flag -config needs a value/);
    assert.match(cli('edge', '-bind', 'udp').err, /-bind must be linux or std/);
  });

  it('no mode at all is a usage error', () => {
    const r = cli();
    assert.equal(r.code, 2);
    assert.match(r.err, /no mode given/);
  });

  it('-mode x and positional x are the same; conflicting ones are refused', () => {
    assert.match(cli('edge', '-mode', 'super').err, /mode given twice/);
  });

  it('gencfg with an unreadable input file exits 1 with a clear message and no stack trace', () => {
    const r = cli('-mode', 'gencfg', '-cfgmode', 'static', '-config', 'no-such-gen-input.yaml');
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read no-such-gen-input\.yaml: ENOENT/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });
});

describe('CLI output into a closed pipe', () => {
  it('stops quietly with exit 0 when the reader has gone (`… -example | true`), no EPIPE stack', () => {
    // A shell pipe into `true`: the reader exits before the writer has written everything.
    for (const args of [['-help'], ['edge', '-example'], ['solve', '-example']]) {
      const cmd = `"${process.execPath}" "${join(ROOT, 'dist/main.js')}" ${args.join(' ')} | true; echo "rc=\${PIPESTATUS[0]}"`;
      for (let i = 0; i < 2; i++) {
        const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
        assert.doesNotMatch(r.stderr, /EPIPE|Unhandled/, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, /rc=0/, `${args.join(' ')}: ${r.stdout}`);
      }
    }
  });
});
