// Bad edge configs through the real CLI (`node dist/main.js edge -config bad.yaml`): each must
// exit 1 (2 for usage errors), name the key path and what is wrong on stderr, and print no stack
// trace. Also: `edge -example` prints a config that starts (after swapping the TAP for a dummy).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { generateKeyPair } from '../ts/config/index.js';
import { ROOT } from '../ts/paths.js';

const MAIN = join(ROOT, 'dist/main.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; kills it after `ms` (a config that should fail must not start an edge). */
function cli(args: string[], ms = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const me = generateKeyPair();
const peer2 = generateKeyPair();
const peer3 = generateKeyPair();

/** A valid config (dummy interface, one peer) that each case breaks in one place. */
function base(o: { top?: string; iface?: string; peers?: string; table?: string } = {}): string {
  return [
    'Interface:',
    '  IType: dummy',
    ...(o.iface ? [o.iface] : []),
    'NodeID: 1',
    'NodeName: badcfg1',
    `PrivKey: ${me.privateKey}`,
    'ListenPort: 0',
    ...(o.top ? [o.top] : []),
    'NextHopTable:',
    o.table ?? '  1: {2: 2}\n  2: {1: 1}',
    'Peers:',
    '  - NodeID: 2',
    `    PubKey: ${peer2.publicKey}`,
    '    EndPoint: 127.0.0.1:3002',
    ...(o.peers ? [o.peers] : []),
    '',
  ].join('\n');
}

interface Case {
  name: string;
  /** Config text (or a function of the temp dir). */
  yaml?: string | ((dir: string) => string);
  /** Extra CLI args, or the whole args list when `argv` is given. */
  argv?: (file: string) => string[];
  code?: number;
  /** Key path that must be named as `file:line:col: PATH: ` (config problems). */
  path?: string;
  /** Text that must appear in stderr. */
  says: RegExp[];
  /** Known bug: the case is reported as pending (see its comment). */
  skip?: boolean;
}

const CASES: Case[] = [
  { name: 'missing -config (usage error)', argv: () => ['edge'], code: 2, says: [/needs -config/] },
  { name: '-config without a value (usage error)', argv: () => ['edge', '-config'], code: 2, says: [/flag -config needs a value/] },
  { name: 'config file does not exist', argv: (f) => ['edge', '-config', f + '.missing.yaml', '-no-uapi'], says: [/\.missing\.yaml: cannot read the file: ENOENT/] },
  { name: 'empty file', yaml: '', says: [/the file is empty/] },
  {
    name: 'YAML syntax error (with its line)',
    yaml: base().replace('NodeID: 1\n', 'NodeID: [1, 2\n'),
    says: [/\.yaml:\d+:\d+: YAML syntax error: /],
  },
  {
    name: 'misspelt required key (NodeIDD)',
    yaml: base().replace('NodeID: 1\n', 'NodeIDD: 1\n'),
    path: 'NodeID',
    says: [/NodeID: is required but missing \(NodeIDD, an unknown key here, looks like a misspelling of it\)/, /warning: NodeIDD: unknown key, ignored \(did you mean NodeID\?\)/],
  },
  { name: 'NodeID 65532 (reserved)', yaml: base().replace('NodeID: 1\n', 'NodeID: 65532\n'), path: 'NodeID', says: [/NodeID: must be at most 65531, got 65532/] },
  { name: 'DefaultTTL 0', yaml: base({ top: 'DefaultTTL: 0' }), path: 'DefaultTTL', says: [/DefaultTTL: must be at least 1, got 0/] },
  {
    name: 'multicast MacAddrPrefix',
    yaml: base({ iface: '  MacAddrPrefix: AB:BB:CC:DD' }),
    path: 'Interface.MacAddrPrefix',
    says: [/Interface\.MacAddrPrefix: "AB:BB:CC:DD" is a multicast prefix/],
  },
  { name: 'PrivKey not base64', yaml: base().replace(`PrivKey: ${me.privateKey}`, 'PrivKey: not*base64!'), path: 'PrivKey', says: [/PrivKey: character "\*" at position 4 is not in the base64 alphabet/] },
  {
    name: 'PubKey of the wrong length',
    yaml: base().replace(`PubKey: ${peer2.publicKey}`, 'PubKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='),
    path: 'Peers[0].PubKey',
    says: [/Peers\[0\]\.PubKey: has 40 characters; a key has 44/],
  },
  {
    // Low-order points would only fail at handshake time; the config check refuses them.
    name: 'all-zero PubKey (low-order point)',
    yaml: base().replace(`PubKey: ${peer2.publicKey}`, 'PubKey: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='),
    path: 'Peers[0].PubKey',
    says: [/Peers\[0\]\.PubKey: is a low-order Curve25519 point/],
  },
  {
    name: 'duplicate peer NodeID',
    yaml: base({ peers: `  - NodeID: 2\n    PubKey: ${peer3.publicKey}` }),
    path: 'Peers[1].NodeID',
    says: [/Peers\[1\]\.NodeID: duplicate NodeID 2 \(also used by Peers\[0\]\)/],
  },
  {
    name: "peer with this node's own NodeID",
    yaml: base({ peers: `  - NodeID: 1\n    PubKey: ${peer3.publicKey}` }),
    path: 'Peers[1].NodeID',
    says: [/Peers\[1\]\.NodeID: is this node's own NodeID 1/],
  },
  {
    name: 'UseSuperNode and UseP2P together',
    yaml: base({ top: 'DynamicRoute:\n  SuperNode: {UseSuperNode: true}\n  P2P: {UseP2P: true}' }),
    path: 'DynamicRoute.P2P.UseP2P',
    says: [/UseSuperNode and UseP2P cannot both be true/],
  },
  {
    name: 'tap Name too long',
    yaml: base().replace('IType: dummy', 'IType: tap\n  Name: abcdefghijklmnopq'),
    path: 'Interface.Name',
    says: [/Interface\.Name: "abcdefghijklmnopq" is 17 bytes; Linux interface names are at most 15 bytes/],
  },
  {
    name: 'PrivKey wrapped over two lines (a space inside)',
    yaml: base().replace(`PrivKey: ${me.privateKey}`, `PrivKey: ${me.privateKey.slice(0, 30)}\n  ${me.privateKey.slice(30)}`),
    path: 'PrivKey',
    says: [/PrivKey: contains whitespace inside the key \(a space at position 31\)/],
  },
  { name: 'NodeName as a path (../../../tmp/x)', yaml: base().replace('NodeName: badcfg1', 'NodeName: ../../../tmp/x'), path: 'NodeName', says: [/NodeName: "\.\.\/\.\.\/\.\.\/tmp\/x" contains '\/': it names the UAPI socket file/] },
  { name: 'NodeName with a slash (site/office-2)', yaml: base().replace('NodeName: badcfg1', 'NodeName: site/office-2'), path: 'NodeName', says: [/NodeName: "site\/office-2" contains '\/'/] },
  { name: 'tap Name ".."', yaml: base().replace('IType: dummy', 'IType: tap\n  Name: ".."'), path: 'Interface.Name', says: [/Interface\.Name: "\.\." is not allowed as a Linux interface name/] },
  { name: 'vpp Name with a slash', yaml: base().replace('IType: dummy', 'IType: vpp\n  Name: a/b'), path: 'Interface.Name', says: [/Interface\.Name: must be one file name \(no "\/"/] },
  { name: 'vpp VPPRingSize not a power of two', yaml: base().replace('IType: dummy', 'IType: vpp\n  Name: vpp1\n  VPPRingSize: 1000'), path: 'Interface.VPPRingSize', says: [/Interface\.VPPRingSize: is 1000; memif rings have a power-of-two number of slots/] },
  { name: 'vpp MTU above 65517', yaml: base().replace('IType: dummy', 'IType: vpp\n  Name: vpp1\n  MTU: 65530'), path: 'Interface.MTU', says: [/Interface\.MTU: is 65530, above 65517/] },
  { name: 'IType nosuch', yaml: base().replace('IType: dummy', 'IType: nosuch'), path: 'Interface.IType', says: [/Interface\.IType: must be one of .*"tap"; got "nosuch"/] },
  {
    name: 'NodeID does not fit IPv4CIDR',
    yaml: base({ iface: '  Name: tap9\n  IPv4CIDR: 192.168.1.0/30' }).replace('IType: dummy', 'IType: tap').replace('NodeID: 1\n', 'NodeID: 9\n').replace('1: {2: 2}\n  2: {1: 1}', '9: {2: 2}\n  2: {9: 9}'),
    path: 'Interface.IPv4CIDR',
    says: [/Interface\.IPv4CIDR: NodeID 9 does not fit in "192\.168\.1\.0\/30"/],
  },
  { name: 'EndPoint without a port', yaml: base().replace('EndPoint: 127.0.0.1:3002', 'EndPoint: 127.0.0.1'), path: 'Peers[0].EndPoint', says: [/"127\.0\.0\.1" has no port \(write host:port/] },
  { name: 'EndPoint port out of range', yaml: base().replace('EndPoint: 127.0.0.1:3002', 'EndPoint: "127.0.0.1:99999"'), path: 'Peers[0].EndPoint', says: [/has port 99999, outside 0\.\.65535/] },
  { name: 'EndPoint with IPv6 and a port but no brackets', yaml: base().replace('EndPoint: 127.0.0.1:3002', 'EndPoint: "::1:3002"'), path: 'Peers[0].EndPoint', says: [/must be in brackets .*or \[::1\]:3002 if 3002 is the port/] },
  {
    name: 'NextHopTable naming NodeID 65535',
    yaml: base({ table: '  1: {2: 2}\n  2: {1: 65535}' }),
    path: 'NextHopTable.2.1',
    says: [/NextHopTable\.2\.1: must be at most 65531, got 65535/],
  },
  {
    name: 'PostScript that exits 3 aborts the start',
    yaml: base({ top: `PostScript: sh -c 'exit 3'` }),
    says: [/cannot start edge badcfg1: PostScript .* exited with 3/],
  },
  {
    name: 'PostScript that cannot be run aborts the start',
    yaml: base({ top: 'PostScript: /nonexistent/egpost.sh' }),
    says: [/PostScript .*egpost\.sh.* failed to run: .*ENOENT/],
  },
];

describe('edge: bad configs through the CLI', function () {
  this.timeout(60_000);
  let dir = '';
  const runs = new Map<number, { file: string; run: Run }>();

  // Every case is a separate process that fails fast; run them all concurrently up front
  // (a few at a time) and check each result in its own test.
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'egbad-'));
    const todo = CASES.map((c, i) => ({ c, i }));
    const worker = async () => {
      for (let t = todo.shift(); t; t = todo.shift()) {
        const file = join(dir, `bad${t.i}.yaml`);
        if (t.c.yaml !== undefined) writeFileSync(file, typeof t.c.yaml === 'function' ? t.c.yaml(dir) : t.c.yaml);
        const args = t.c.argv ? t.c.argv(file) : ['edge', '-config', file, '-no-uapi'];
        runs.set(t.i, { file, run: await cli(args) });
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function check(r: Run, c: { code?: number; says: RegExp[]; path?: string }, file: string): void {
    const ctx = `exit ${r.code} ${r.signal ?? ''}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
    assert.equal(r.code, c.code ?? 1, ctx);
    assert.ok(!r.stderr.includes('\n    at '), `stack trace in stderr:\n${ctx}`);
    assert.doesNotMatch(r.stderr, /internal error/, ctx);
    for (const re of c.says) assert.match(r.stderr, re, ctx);
    if (c.path) {
      const re = new RegExp(`^etherguard: invalid config:\\n(.*\\n)*${esc(file)}:\\d+:\\d+: ${esc(c.path)}: `, 'm');
      assert.match(r.stderr, re, `stderr names ${file}:LINE:COL: ${c.path}:\n${ctx}`);
    }
    assert.doesNotMatch(r.stderr + r.stdout, / up: /, `the edge must not have started:\n${ctx}`);
  }

  CASES.forEach((c, i) => {
    (c.skip ? it.skip : it)(`${c.name}: exit ${c.code ?? 1}, stderr says what and where, no stack trace`, () => {
      const { file, run } = runs.get(i)!;
      check(run, c, file);
    });
  });

  it('a ListenPort already in use: exit 1, the bind error names the port', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, () => r()));
    const port = s.address().port;
    try {
      const file = join(dir, 'port-in-use.yaml');
      writeFileSync(file, base().replace('ListenPort: 0', `ListenPort: ${port}`));
      const r = await cli(['edge', '-config', file, '-no-uapi']);
      check(r, { says: [new RegExp(`cannot start edge badcfg1: cannot bind UDP port ${port}: .*(EADDRINUSE|Address already in use)`)] }, file);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('a config with only warnings (upstream-style unused values, unknown keys, a key in a block scalar) starts and prints the warnings', async () => {
    const file = join(dir, 'warn.yaml');
    const yaml = base({ iface: '  L2HeaderMode: noL2\n  MTUU: 1400', top: 'ResetConnInterval: 60' })
      .replace(`PrivKey: ${me.privateKey}`, `PrivKey: |\n  ${me.privateKey}`)
      .replace('ListenPort: 0', `ListenPort: 0\nDynamicRoute:\n  SuperNode:\n    PubKeyV6: not-a-key\n    EndpointV6: ""`);
    writeFileSync(file, yaml);
    const child = spawn(process.execPath, [MAIN, 'edge', '-config', file, '-no-uapi'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const end = Date.now() + 15_000;
      while (!/ up: dummy /.test(err) && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.match(err, new RegExp(`^${esc(file)}:3:3: warning: Interface\\.L2HeaderMode: noL2 only applies to IType stdio`, 'm'), err);
      assert.match(err, /warning: DynamicRoute\.SuperNode\.PubKeyV6: .*ignored: UseSuperNode is false/, err);
      assert.match(err, new RegExp(`^${esc(file)}:\\d+:1: warning: ResetConnInterval: unknown key, ignored: ResetConnInterval is upstream's documented name of ResetEndPointInterval`, 'm'), err);
      assert.match(err, /warning: Interface\.MTUU: unknown key, ignored \(did you mean MTU\?\)/, err);
      assert.match(err, /edge badcfg1 \(node 1\) up: dummy /, err);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('`edge -example` prints a config that starts (IType dummy, loopback peers) and stops on SIGTERM with exit 0', async () => {
    const ex = await cli(['edge', '-example']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stderr, '');
    const doc = parseDocument(ex.stdout);
    assert.deepEqual(doc.errors, []);
    assert.equal(doc.getIn(['Interface', 'IType']), 'tap');
    doc.setIn(['Interface', 'IType'], 'dummy');
    doc.setIn(['ListenPort'], 0);
    const peers = doc.get('Peers') as { items: unknown[] };
    assert.ok(peers.items.length >= 1, 'the example has peers');
    peers.items.forEach((_, i) => doc.setIn(['Peers', i, 'EndPoint'], `127.0.0.1:${40000 + i}`));
    const file = join(dir, 'example.yaml');
    writeFileSync(file, doc.toString());

    const child = spawn(process.execPath, [MAIN, 'edge', '-config', file, '-no-uapi'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const end = Date.now() + 15_000;
      while (!/ up: dummy /.test(err) && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.match(err, /edge Node01 \(node 1\) up: dummy /, `no "up:" line:\n${err}`);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      // One CI run saw no "SIGTERM: stopping" within 5 s (not reproduced in 15 runs by hand): if
      // it happens again, say what every thread of the edge was doing.
      assert.equal(code, 0, `${err}\n${code === 'timeout' ? threadStates(child.pid!) : ''}`);
      assert.match(err, /edge stopped/);
      assert.ok(!err.includes('\n    at '), err);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

/** Each thread of `pid`: name, state and kernel wait channel (why a process does not react). */
function threadStates(pid: number): string {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map((t) => {
        const r = (f: string) => {
          try {
            return readFileSync(`/proc/${pid}/task/${t}/${f}`, 'utf8').trim();
          } catch {
            return '?';
          }
        };
        return `${t} ${r('comm')} state=${/State:\s+(\S+)/.exec(r('status'))?.[1] ?? '?'} wchan=${r('wchan')}`;
      })
      .join('\n');
  } catch (e) {
    return `no thread states: ${(e as Error).message}`;
  }
}
