import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONSchemaType } from 'ajv';
import { ROOT } from '../ts/paths.js';
import {
  AddrError, ConfigError, exampleEdgeConfig, generatePSK, exampleSuperConfig, ipv4ForNode, ipv6ForNode, ipv6LLForNode, keyProblem,
  loadEdgeConfig, loadEdgeConfigDocument, loadSuperConfig, macForNode, parseEdgeConfig, parseSuperConfig, publicKeyOf,
  writeConfigAtomic, type EdgeConfig, type Problem,
} from '../ts/config/index.js';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'config');

function problemsOf(f: () => unknown): { err: ConfigError; problems: readonly Problem[] } {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return { err: e, problems: e.problems };
  }
  assert.fail('expected a ConfigError');
}

const MINIMAL = 'Interface:\n  IType: dummy\nNodeID: 1\nNodeName: n1\nPrivKey: ALxoLrfQCyy96hPjth0/d/0nLZHtOdtroo/36No8Lmw=\n';

/** `# expect…: <key path> :: <text>` lines of a fixture (see test/fixtures/config/README.md). */
function expectLines(text: string, tag: string): { path: string; text: string }[] {
  return [...text.matchAll(new RegExp(`^# ${tag}: (.+?) :: (.+)$`, 'gm'))].map((m) => ({ path: m[1]!, text: m[2]! }));
}

/** The value at a dotted path with [i] indexes, as the fixtures write it. */
function valueAt(o: unknown, path: string): unknown {
  let cur = o;
  for (const seg of path.split(/\.|(?=\[)/)) {
    const m = /^\[(\d+)\]$/.exec(seg);
    cur = (cur as Record<string, unknown>)[m ? Number(m[1]) : seg];
  }
  return cur;
}

function checkWarnings(file: string, text: string, warnings: readonly Problem[]): void {
  const dump = warnings.map((w) => `${w.line}:${w.col}: ${w.path}: ${w.message}`).join('\n');
  for (const e of expectLines(text, 'expect-warning')) {
    assert.ok(warnings.some((w) => w.path === e.path && w.message.includes(e.text)), `${file}: missing warning "${e.path}: ${e.text}" in:\n${dump}`);
  }
}

describe('config: fixtures', () => {
  for (const file of readdirSync(join(FIXTURES, 'good')).sort()) {
    it(`good/${file} loads`, () => {
      const path = join(FIXTURES, 'good', file);
      if (file.startsWith('super-')) loadSuperConfig(path);
      else loadEdgeConfig(path);
    });
  }

  for (const file of readdirSync(join(FIXTURES, 'warn')).sort()) {
    it(`warn/${file} loads with the expected warnings, located`, () => {
      const path = join(FIXTURES, 'warn', file);
      const text = readFileSync(path, 'utf8');
      const warnings: Problem[] = [];
      const lines: string[] = [];
      const sink = (l: string, p: Problem) => { lines.push(l); warnings.push(p); };
      const cfg = file.startsWith('super-') ? loadSuperConfig(path, sink) : loadEdgeConfig(path, sink);
      assert.ok(expectLines(text, 'expect-warning').length > 0, 'fixture has no # expect-warning: lines');
      checkWarnings(file, text, warnings);
      for (const l of expectLines(text, 'expect-line')) assert.equal(warnings.find((w) => w.path === l.path)?.line, Number(l.text), l.path);
      for (const v of expectLines(text, 'expect-value')) assert.deepEqual(valueAt(cfg, v.path), JSON.parse(v.text), v.path);
      // Every warning is printed as file:line:col: warning: path: message.
      for (const l of lines) assert.match(l, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: warning: \\S`), l);
    });
  }

  for (const file of readdirSync(join(FIXTURES, 'bad')).sort()) {
    it(`bad/${file} reports the expected problems`, () => {
      const path = join(FIXTURES, 'bad', file);
      const text = readFileSync(path, 'utf8');
      const expects = expectLines(text, 'expect');
      const lines = expectLines(text, 'expect-line').map((m) => ({ path: m.path, line: Number(m.text) }));
      assert.ok(expects.length > 0, 'fixture has no # expect: lines');
      const { err, problems } = problemsOf(() => (file.startsWith('super-') ? loadSuperConfig(path) : loadEdgeConfig(path)));
      const dump = err.message;
      for (const e of expects) {
        assert.ok(problems.some((p) => p.path === e.path && p.message.includes(e.text)), `missing "${e.path}: ${e.text}" in:\n${dump}`);
      }
      checkWarnings(file, text, err.warnings);
      for (const l of lines) {
        assert.equal(problems.find((p) => p.path === l.path)?.line, l.line, dump);
      }
      // Every line of the message names the file, and every problem names a key path.
      for (const line of dump.split('\n')) assert.ok(line.startsWith(path), line);
      for (const p of problems) assert.notEqual(p.path, '', p.message);
    });
  }
});

describe('config: error reporting', () => {
  it('formats one line per problem as file:line:col: path: message', () => {
    const { err } = problemsOf(() => parseEdgeConfig(MINIMAL.replace('NodeID: 1', 'NodeID: 0x'), 'e.yaml'));
    assert.equal(err.message, 'e.yaml:3:1: NodeID: must be an integer, got the string "0x"');
    assert.equal(err.file, 'e.yaml');
  });

  it('loads an unknown key with a located warning and drops it before the other checks', () => {
    const lines: string[] = [];
    const c = parseEdgeConfig(MINIMAL.replace('NodeID: 1', 'NodeID: 1\nNodeIDD: 2\nDefaultTTl: 0'), 'e.yaml', (l) => lines.push(l));
    assert.deepEqual(lines, [
      'e.yaml:4:1: warning: NodeIDD: unknown key, ignored (did you mean NodeID?)',
      'e.yaml:5:1: warning: DefaultTTl: unknown key, ignored (did you mean DefaultTTL?)',
    ]);
    assert.equal(c.NodeID, 1);
    assert.equal(c.DefaultTTL, 200);
    assert.ok(!Object.hasOwn(c, 'NodeIDD') && !Object.hasOwn(c, 'DefaultTTl'));
  });

  it('reads YAML 1.1 booleans (yes/no/on/off, as gopkg.in/yaml.v2 does) where a boolean is expected, with a warning; quoted ones stay strings', () => {
    const lines: string[] = [];
    const c = parseEdgeConfig(`${MINIMAL}DynamicRoute: {P2P: {UseP2P: yes}, SaveNewPeers: Off}\nLogLevel: {LogNTP: Y}\n`, 'e', (l) => lines.push(l));
    assert.equal(c.DynamicRoute.P2P.UseP2P, true);
    assert.equal(c.DynamicRoute.SaveNewPeers, false);
    assert.equal(c.LogLevel.LogNTP, true);
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /^e:6:\d+: warning: DynamicRoute\.P2P\.UseP2P: "yes" is a YAML 1\.1 boolean .*loaded as true; write true/);
    const { problems } = problemsOf(() => parseEdgeConfig(`${MINIMAL}DynamicRoute: {P2P: {UseP2P: "yes"}}\n`, 'e'));
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [['DynamicRoute.P2P.UseP2P', 'must be true or false, got the string "yes"']]);
    // Where a string is expected the word stays a string (yaml.v2 does the same).
    assert.equal(parseEdgeConfig(MINIMAL.replace('NodeName: n1', 'NodeName: yes'), 'e', () => undefined).NodeName, 'yes');
  });

  it('reports YAML syntax errors with line and column', () => {
    const { problems, err } = problemsOf(() => parseEdgeConfig('Interface:\n  IType: dummy\nNodeID: [1, 2\nNodeName: x\n', 's.yaml'));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /^YAML syntax error: /);
    assert.equal(problems[0]!.line, 4);
    assert.match(err.message, /^s\.yaml:4:\d+: YAML syntax error/);
  });

  it('refuses duplicate YAML keys, naming the key', () => {
    const { problems } = problemsOf(() => parseEdgeConfig(MINIMAL + 'NodeID: 2\n', 'd.yaml'));
    assert.match(problems[0]!.message, /YAML syntax error: the key "NodeID" appears twice in the same mapping/);
    assert.equal(problems[0]!.line, 6);
    // Nested and quoted keys too.
    const nested = problemsOf(() => parseEdgeConfig(MINIMAL + 'DynamicRoute:\n  SendPingInterval: 1\n  "SendPingInterval": 2\n', 'n.yaml'));
    assert.match(nested.problems[0]!.message, /the key "SendPingInterval" appears twice/);
  });

  it('refuses an empty file and a non-mapping top level', () => {
    assert.match(problemsOf(() => parseEdgeConfig('', 'x')).err.message, /^x: the file is empty/);
    assert.match(problemsOf(() => parseSuperConfig('- 1\n', 'x')).err.message, /top level is not a mapping/);
  });

  it('names an unreadable file', () => {
    const { err } = problemsOf(() => loadEdgeConfig('/nonexistent/edge.yaml'));
    assert.equal(err.message, '/nonexistent/edge.yaml: cannot read the file: ENOENT');
  });

  it('does not pile follow-on errors on a value that already has the wrong type', () => {
    const { problems } = problemsOf(() => parseEdgeConfig(MINIMAL.replace('IType: dummy', 'IType: tap\n  Name: 5').replace('NodeID: 1', 'NodeID: x'), 'e'));
    assert.deepEqual(problems.map((p) => p.path), ['Interface.Name', 'NodeID']);
  });

  it('treats __proto__ as an ordinary unknown key', () => {
    const warnings: Problem[] = [];
    const c = parseEdgeConfig(MINIMAL + '__proto__: {NodeID: 3}\n', 'e', (_l, p) => warnings.push(p));
    assert.deepEqual(warnings.map((p) => [p.path, p.message]), [['__proto__', 'unknown key, ignored']]);
    assert.equal(c.NodeID, 1);
    assert.equal(Object.getPrototypeOf(c), Object.prototype);
  });

  it('rejects a peer using the own public key and a SuperNode key that is not 32 bytes', () => {
    const pub = publicKeyOf('ALxoLrfQCyy96hPjth0/d/0nLZHtOdtroo/36No8Lmw=');
    const sn = `{UseSuperNode: true, PSKey: "AAAA", EndpointV4: "127.0.0.1:3000", PubKeyV4: "${publicKeyOf(generatePSK())}", EndpointEdgeAPIUrl: "http://127.0.0.1:3000/eg_api"}`;
    const { problems } = problemsOf(() => parseEdgeConfig(`${MINIMAL}DynamicRoute: {SuperNode: ${sn}}\nPeers: [{NodeID: 2, PubKey: "${pub}"}]\n`, 'e'));
    assert.deepEqual(problems.map((p) => p.path), ['DynamicRoute.SuperNode.PSKey', 'Peers[0].PubKey']);
    assert.match(problems[1]!.message, /own public key/);
  });
});

describe('config: defaults', () => {
  it('fills every omitted edge key with the example value', () => {
    const c = loadEdgeConfig(join(FIXTURES, 'good', 'edge-minimal.yaml'));
    assert.deepEqual(c.Interface, {
      IType: 'dummy', Name: '', VPPIFaceID: 0, VPPBridgeID: 0, MacAddrPrefix: 'AA:BB:CC:DD', IPv4CIDR: '', IPv6CIDR: '',
      IPv6LLPrefix: '', MTU: 1404, RecvAddr: '', SendAddr: '', L2HeaderMode: 'nochg',
    });
    assert.equal(c.DefaultTTL, 200);
    assert.equal(c.L2FIBTimeout, 3600);
    assert.equal(c.AfPrefer, 4);
    assert.equal(c.ResetEndPointInterval, 600);
    assert.equal(c.ListenPort, 0);
    assert.equal(c.PostScript, '');
    assert.equal(c.LogLevel.LogLevel, 'error');
    assert.deepEqual(c.DisabledAf, { IPv4: false, IPv6: false, ListenIPv4: '', ListenIPv6: '' });
    const d = c.DynamicRoute;
    assert.deepEqual(
      [d.SendPingInterval, d.PeerAliveTimeout, d.TimeoutCheckInterval, d.ConnNextTry, d.DupCheckTimeout, d.AdditionalCost, d.DampingFilterRadius],
      [16, 70, 20, 5, 40, 10, 4],
    );
    assert.equal(d.SuperNode.UseSuperNode, false);
    assert.equal(d.P2P.UseP2P, false);
    assert.equal(d.P2P.SendPeerInterval, 20);
    assert.deepEqual(d.P2P.GraphRecalculateSetting, {
      StaticMode: false, ManualLatency: {}, JitterTolerance: 50, JitterToleranceMultiplier: 1.1, TimeoutCheckInterval: 5, RecalculateCoolDown: 5,
    });
    assert.deepEqual(d.NTPConfig, { UseNTP: false, MaxServerUse: 8, SyncTimeInterval: 3600, NTPTimeout: 3, Servers: [] });
    assert.deepEqual(c.NextHopTable, {});
    assert.deepEqual(c.Peers, []);
  });

  it('fills peer and supernode defaults and keeps given values', () => {
    const c = loadEdgeConfig(join(FIXTURES, 'good', 'edge-p2p-udpsock.yaml'));
    assert.equal(c.PostScript, ''); // `PostScript:` with no value means "default"
    assert.equal(c.DynamicRoute.AdditionalCost, 1000);
    assert.deepEqual(c.DynamicRoute.P2P.GraphRecalculateSetting.ManualLatency, { 1: { 2: 1.14 }, 65535: { 1: 8.1 } });
    assert.deepEqual(c.Peers[0], { NodeID: 1, PubKey: 'mM96uu1cTw180+fgnu+lsUTQGzlIZnmNxnDd6IjT6gg=', EndPoint: '[2001:db8::1]:3001', PersistentKeepalive: 30, Static: false, PSKey: '' });
    const s = loadSuperConfig(join(FIXTURES, 'good', 'super-static.yaml'));
    assert.equal(s.ListenPort_EdgeAPI, '3000'); // a YAML integer is accepted for upstream's string port
    assert.deepEqual(
      [s.RePushConfigInterval, s.HttpPostInterval, s.PeerAliveTimeout, s.SendPingInterval, s.DampingFilterRadius, s.ResetEndPointInterval],
      [30, 50, 70, 15, 4, 600],
    );
    assert.equal(s.GraphRecalculateSetting.JitterTolerance, 30);
    assert.equal(s.GraphRecalculateSetting.JitterToleranceMultiplier, 1.01);
    assert.equal(s.GraphRecalculateSetting.TimeoutCheckInterval, 5);
    assert.equal(s.UsePSKForInterEdge, true);
    assert.equal(s.PrivKeyV6, '');
    assert.deepEqual(s.Passwords, { ShowState: 'abcdefgh_showstate', AddPeer: '', DelPeer: '', UpdatePeer: '', UpdateSuper: '' });
    assert.deepEqual(s.HttpTLS, { CertFile: '/etc/etherguard/cert.pem', KeyFile: '/etc/etherguard/key.pem' });
    assert.deepEqual(s.Peers[2], { NodeID: 3, Name: 'Node_03', PubKey: 'cUWDL59REgYpw9wXH/Xd2aNVMaLPqwnkZP6Z+qCQKHY=', SkipLocalIP: true, PSKey: '', AdditionalCost: 10, EndPoint: '', ExternalIP: '' });
    assert.deepEqual(s.NextHopTable, { 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 }, 3: { 1: 2, 2: 2 } });
  });

  it('gives separate default objects to separate loads', () => {
    const a = parseEdgeConfig(MINIMAL, 'a');
    a.DynamicRoute.NTPConfig.Servers.push('ntp.example');
    assert.deepEqual(parseEdgeConfig(MINIMAL, 'b').DynamicRoute.NTPConfig.Servers, []);
  });
});

describe('config: examples', () => {
  const TABLE_9_2: Record<string, Record<string, number>> = {
    1: { 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 }, 2: { 1: 1, 3: 3, 4: 4, 5: 3, 6: 4 }, 3: { 1: 2, 2: 2, 4: 4, 5: 5, 6: 4 },
    4: { 1: 2, 2: 2, 3: 3, 5: 3, 6: 6 }, 5: { 1: 3, 2: 3, 3: 3, 4: 3, 6: 3 }, 6: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 },
  };

  it('the edge example validates, has comments and the reference NextHopTable', () => {
    const text = exampleEdgeConfig();
    const c: EdgeConfig = parseEdgeConfig(text, 'example-edge.yaml');
    assert.match(text, /^# /);
    assert.match(text, /\nNextHopTable:\n {2}1:\n {4}2: 2\n/); // integer keys, as upstream writes them
    assert.equal(c.Interface.IType, 'tap');
    assert.equal(c.NodeID, 1);
    assert.equal(c.NodeName, 'Node01');
    assert.deepEqual(c.NextHopTable, TABLE_9_2);
    assert.equal(c.Peers.length, 1);
    assert.equal(c.Peers[0]!.NodeID, 2);
    assert.equal(c.Peers[0]!.Static, true);
    for (const k of [c.PrivKey, c.Peers[0]!.PubKey, c.Peers[0]!.PSKey]) assert.equal(keyProblem(k), null);
    assert.notEqual(publicKeyOf(c.PrivKey), c.Peers[0]!.PubKey);
  });

  it('the supernode example validates with upstream-style passwords', () => {
    const c = parseSuperConfig(exampleSuperConfig(), 'example-super.yaml');
    assert.match(c.Passwords.ShowState, /^[A-Za-z0-9]{8}_showstate$/);
    assert.match(c.Passwords.AddPeer, /^[A-Za-z0-9]{8}_addpeer$/);
    assert.match(c.Passwords.DelPeer, /^[A-Za-z0-9]{8}_delpeer$/);
    assert.match(c.Passwords.UpdatePeer, /^[A-Za-z0-9]{8}_updatepeer$/);
    assert.match(c.Passwords.UpdateSuper, /^[A-Za-z0-9]{8}_updatesuper$/);
    assert.ok(c.Peers.length >= 2);
    assert.notEqual(c.PrivKeyV4, c.PrivKeyV6);
  });

  it('generates fresh keys on every call', () => {
    assert.notEqual(parseEdgeConfig(exampleEdgeConfig(), 'a').PrivKey, parseEdgeConfig(exampleEdgeConfig(), 'b').PrivKey);
    assert.notEqual(parseSuperConfig(exampleSuperConfig(), 'a').PrivKeyV4, parseSuperConfig(exampleSuperConfig(), 'b').PrivKeyV4);
  });

  it('round-trips through a file and the YAML Document with comments kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-config-'));
    try {
      const path = join(dir, 'edge.yaml');
      const text = exampleEdgeConfig();
      await writeConfigAtomic(path, text);
      const { config, doc } = loadEdgeConfigDocument(path);
      assert.equal(doc.toString({ lineWidth: 0 }), text);
      assert.deepEqual(parseEdgeConfig(doc.toString(), 'again'), config);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config: address derivation (reference case G)', () => {
  it('MAC = prefix + big-endian NodeID', () => {
    assert.equal(macForNode('AA:BB:CC:DD', 1), 'AA:BB:CC:DD:00:01');
    assert.equal(macForNode('4e:29:67:d2', 100), '4e:29:67:d2:00:64');
    assert.equal(macForNode('02:00', 0x1234), '02:00:00:00:12:34');
    assert.equal(macForNode('AA:BB:CC:DD:EE', 255), 'AA:BB:CC:DD:EE:FF');
    assert.throws(() => macForNode('AA:BB:CC:DD:EE', 256), /does not fit in the 1 byte/);
    assert.throws(() => macForNode('01:00:5E:00', 1), /multicast/);
    assert.throws(() => macForNode('AA', 1), /2 to 6 hex bytes/);
    assert.throws(() => macForNode('AA:BB:CC:DD:EE:FF:00', 1), AddrError);
    assert.throws(() => macForNode('AA:BB:CC:DD', 65532), /not an integer in 0\.\.65531/);
  });

  it('IPv4: network + NodeID, NodeID 0 = last usable host', () => {
    assert.deepEqual(ipv4ForNode('192.168.76.0/24', 100), { addr: '192.168.76.100', prefixLen: 24 });
    assert.deepEqual(ipv4ForNode('192.168.76.0/24', 0), { addr: '192.168.76.254', prefixLen: 24 });
    assert.deepEqual(ipv4ForNode('192.168.76.0/24', 254), { addr: '192.168.76.254', prefixLen: 24 });
    assert.deepEqual(ipv4ForNode('10.0.0.0/8', 65531), { addr: '10.0.255.251', prefixLen: 8 });
    assert.deepEqual(ipv4ForNode('192.168.76.77/24', 1), { addr: '192.168.76.1', prefixLen: 24 }); // host bits ignored, like Go
    assert.throws(() => ipv4ForNode('192.168.76.0/24', 255), /NodeID 255 does not fit in "192\.168\.76\.0\/24" \(highest usable host number is 254\)/);
    assert.throws(() => ipv4ForNode('192.168.76.0/31', 1), /fewer than 2 host bits/);
    assert.throws(() => ipv4ForNode('192.168.76.0', 1), /missing the \/prefix-length/);
    assert.throws(() => ipv4ForNode('192.168.076.0/24', 1), /invalid address/);
    assert.throws(() => ipv4ForNode('fd00::/64', 1), /IPv6 CIDR, expected IPv4/);
  });

  it('IPv6 and link-local', () => {
    assert.deepEqual(ipv6ForNode('fd95:71cb:a3df:e586::/64', 100), { addr: 'fd95:71cb:a3df:e586::64', prefixLen: 64 });
    assert.deepEqual(ipv6ForNode('fd95:71cb:a3df:e586::/64', 0), { addr: 'fd95:71cb:a3df:e586:ffff:ffff:ffff:fffe', prefixLen: 64 });
    assert.deepEqual(ipv6ForNode('2001:db8::/120', 1), { addr: '2001:db8::1', prefixLen: 120 });
    assert.deepEqual(ipv6LLForNode('fe80::a3df:0/112', 100), { addr: 'fe80::a3df:64', prefixLen: 64 });
    assert.deepEqual(ipv6LLForNode('fe80::a3df:0/112', 0), { addr: 'fe80::a3df:fffe', prefixLen: 64 });
    assert.throws(() => ipv6ForNode('2001:db8::/120', 255), /highest usable host number is 254/);
    assert.throws(() => ipv6LLForNode('fd00::/112', 1), /link-local/);
    assert.throws(() => ipv6ForNode('2001:db8:::/64', 1), /invalid address/);
    assert.throws(() => ipv6ForNode('192.168.0.0/16', 1), /IPv4 CIDR, expected IPv6/);
  });
});

describe('config: writeConfigAtomic', () => {
  let dir = '';
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'eg-atomic-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file owner-only and leaves no temp files', async () => {
    const path = join(dir, 'super.yaml');
    await writeConfigAtomic(path, 'NodeName: a\n');
    assert.equal(readFileSync(path, 'utf8'), 'NodeName: a\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['super.yaml']);
  });

  it('replaces an existing file, keeping its mode', async () => {
    const path = join(dir, 'edge.yaml');
    writeFileSync(path, 'old\n');
    chmodSync(path, 0o640);
    await Promise.all([1, 2, 3].map((n) => writeConfigAtomic(path, `v${n}\n`)));
    assert.match(readFileSync(path, 'utf8'), /^v[123]\n$/);
    assert.equal(statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['edge.yaml']);
  });

  it('fails cleanly when the target is a directory', async () => {
    const path = join(dir, 'sub');
    mkdirSync(path);
    await assert.rejects(writeConfigAtomic(path, 'x\n'));
    assert.deepEqual(readdirSync(dir), ['sub']);
  });
});

// Compile-time check (run by `tsc -p test/tsconfig.json`): a schema that disagrees with its TS
// interface is a type error, which is what keeps ts/config/schema and the interfaces in step.
// @ts-expect-error `a` is a number in the interface but a string in the schema
const mismatched: JSONSchemaType<{ a: number }> = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
void mismatched;
