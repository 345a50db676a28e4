// gencfg: every mode generates configs our loader runs; bad input is refused naming the key,
// the value and the rule, and then nothing is written.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatePSK, parseEdgeConfig, parseSuperConfig, publicKeyOf } from '../ts/config/index.js';
import { exampleInput } from '../ts/gencfg/example.js';
import { IdListError, parseNodeIds } from '../ts/gencfg/ids.js';
import { GencfgInputError } from '../ts/gencfg/input.js';
import { runGencfg } from '../ts/gencfg/mode.js';
import { WriteRefused } from '../ts/gencfg/write.js';

type Y = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function fresh(): string {
  return mkdtempSync(join(tmpdir(), 'eggen-'));
}

async function gen(mode: 'super' | 'static' | 'p2p', text: string, dir = fresh()) {
  const file = join(dir, 'gen.yaml');
  writeFileSync(file, text);
  const r = await runGencfg(mode, file, text);
  return { dir, r, read: (name: string) => parse(readFileSync(join(dir, 'out', name), 'utf8')) as Y };
}

async function refused(mode: 'super' | 'static' | 'p2p', text: string, key: RegExp, rule: RegExp): Promise<string> {
  const dir = fresh();
  const file = join(dir, 'gen.yaml');
  writeFileSync(file, text);
  await assert.rejects(runGencfg(mode, file, text), (e: unknown) => {
    assert.ok(e instanceof GencfgInputError, String(e));
    assert.match(e.message, key);
    assert.match(e.message, rule);
    return true;
  });
  assert.ok(!existsSync(join(dir, 'out')), 'nothing written');
  return dir;
}

const SUPER = (o: { ids?: string; v4?: string; v6?: string; v4range?: string; extra?: string } = {}) => `Config output dir: out
Enable generated config overwrite: false
Add NodeID to the interface name: true
Network name: tnet
Super Node:
  Listen port: 3456
  EdgeAPI prefix: /eg_api
  Endpoint(IPv4)(optional): ${o.v4 ?? '127.0.0.1'}
  Endpoint(IPv6)(optional): ${o.v6 ?? '""'}
  Endpoint(EdgeAPI): http://127.0.0.1:3456/eg_api
Edge Node:
  Node IDs: "${o.ids ?? '[1~3]'}"
  MacAddress prefix: ""
  IPv4 range: ${o.v4range ?? '10.212.0.0/16'}
  IPv6 range: fd95:71cb:a3df:e586::/64
  IPv6 LL range: fe80::a3df:0/112
${o.extra ?? ''}`;

const NM = (nodes: string, matrix: string, extra = '') => `Config output dir: out
Enable generated config overwrite: false
Add NodeID to the interface name: true
Network name: tnet
Edge Node:
  MacAddress prefix: "AA:BB:CC:DD"
  IPv4 range: 10.212.0.0/16
Edge Nodes:
${nodes}
Distance matrix for all nodes: |-
${matrix.split('\n').map((l) => '  ' + l).join('\n')}
${extra}`;

const THREE = `  1:
    Endpoint(optional): 10.0.0.1:3001
  40000:
    Endpoint(optional): 10.0.0.2:3001
  65000:
    Endpoint(optional): "[2001:db8::3]:3001"`;
const THREE_M = `X 1 40000 65000
1 0 1 Inf
40000 1 0 1
65000 Inf 1 0`;

describe('gencfg', () => {
  describe('NodeID lists', () => {
    it('reads IDs and inclusive ranges (upstream example: 39 IDs)', () => {
      assert.equal(parseNodeIds('[1~10,11,19,23,29,31,55~66,88~99]').length, 39);
      assert.deepEqual(parseNodeIds('[ 0 , 2~4 ]'), [0, 2, 3, 4]);
      assert.deepEqual(parseNodeIds('[40000,65000~65002,65531]'), [40000, 65000, 65001, 65002, 65531]);
    });
    for (const [text, rule] of [
      ['1,2', /in brackets/],
      ['[]', /no NodeID/],
      ['[5~3]', /range must ascend/],
      ['[3~3]', /range must ascend/],
      ['[1,2,2]', /listed twice/],
      ['[5,3]', /must ascend/],
      ['[1~5,3]', /3 is listed twice/],
      ['[1,,2]', /empty/],
      ['[65532]', /above 65531/],
      ['[1,x]', /not a NodeID/],
    ] as const) {
      it(`refuses ${text}: ${rule.source}`, () => assert.throws(() => parseNodeIds(text), (e: unknown) => e instanceof IdListError && rule.test(e.message)));
    }
  });

  describe('the -example input of each mode', () => {
    for (const mode of ['super', 'static', 'p2p'] as const) {
      it(`${mode}: generates configs that our loader accepts, 0600 files in a 0700 directory`, async () => {
        const dir = fresh();
        const file = join(dir, 'gen.yaml');
        const text = exampleInput(mode);
        assert.match(text, /^# /m, 'commented');
        writeFileSync(file, text);
        const r = await runGencfg(mode, file, text);
        const out = join(dir, `eg_gen_${mode}`);
        assert.equal(statSync(out).mode & 0o777, 0o700);
        const names = readdirSync(out).sort();
        assert.deepEqual(names, r.paths.map((p) => p.slice(out.length + 1)).sort());
        assert.ok(names.every((n) => !n.includes('.tmp')), 'no temporary files left');
        for (const n of names) {
          assert.equal(statSync(join(out, n)).mode & 0o777, 0o600, n);
          const t = readFileSync(join(out, n), 'utf8');
          // Generated configs load cleanly: not even a warning (a key without its endpoint, say).
          const warnings: string[] = [];
          const warn = (_l: unknown, p: { path: string; message: string }) => warnings.push(`${p.path}: ${p.message}`);
          if (n.endsWith('_super.yaml')) parseSuperConfig(t, n, warn);
          // The peer/add template carries a placeholder key; it loads once peer/add fills it in.
          else if (n.endsWith('_edge_template.yaml')) parseEdgeConfig(t.replace('Your_Private_Key', publicKeyOf(generatePSK())), n, warn);
          else {
            const c = parseEdgeConfig(t, n, warn);
            assert.equal(c.DynamicRoute.P2P.UseP2P, mode === 'p2p');
            assert.equal(c.DynamicRoute.SuperNode.UseSuperNode, mode === 'super');
          }
          assert.deepEqual(warnings, [], `${n} loads with warnings`);
        }
        if (mode === 'super') assert.deepEqual(names, ['EgNet_edge001.yaml', 'EgNet_edge002.yaml', 'EgNet_edge003.yaml', 'EgNet_edge100.yaml', 'EgNet_edge_template.yaml', 'EgNet_super.yaml']);
        else assert.deepEqual(names, ['EgNet_edge1.yaml', 'EgNet_edge2.yaml', 'EgNet_edge3.yaml']);
      });
    }
  });

  describe('super mode', () => {
    it('keys match across files: supernode peers, PSKs, endpoints, names; random MAC prefix is local unicast', async () => {
      const { r, read } = await gen('super', SUPER({ ids: '[1,40000,65000]' }));
      assert.equal(r.paths.length, 5);
      const s = read('tnet_super.yaml');
      assert.equal(s.NodeName, 'tnetSN');
      assert.equal(s.ListenPort, 3456);
      assert.equal(s.ListenPort_EdgeAPI, '3456');
      assert.deepEqual(s.Peers.map((p: Y) => [p.NodeID, p.Name]), [[1, 'tnet00001'], [40000, 'tnet40000'], [65000, 'tnet65000']]);
      for (const id of [1, 40000, 65000]) {
        const e = read(`tnet_edge${String(id).padStart(5, '0')}.yaml`);
        const peer = s.Peers.find((p: Y) => p.NodeID === id);
        assert.equal(e.NodeID, id);
        assert.equal(e.NodeName, `tnet${String(id).padStart(5, '0')}`);
        assert.equal(e.Interface.Name, e.NodeName);
        assert.equal(e.DynamicRoute.SuperNode.PSKey, peer.PSKey);
        assert.notEqual(e.PrivKey, s.PrivKeyV4);
        assert.equal(e.DynamicRoute.SuperNode.EndpointV4, '127.0.0.1:3456');
        assert.equal(e.DynamicRoute.SuperNode.EndpointV6, '');
        assert.equal(e.DynamicRoute.SuperNode.EndpointEdgeAPIUrl, 'http://127.0.0.1:3456/eg_api');
        const mac = parseInt(e.Interface.MacAddrPrefix.slice(0, 2), 16);
        assert.equal(mac & 1, 0, 'unicast');
        assert.equal(mac & 2, 2, 'locally administered');
      }
      const macs = new Set([1, 40000, 65000].map((id) => read(`tnet_edge${String(id).padStart(5, '0')}.yaml`).Interface.MacAddrPrefix));
      assert.equal(macs.size, 1, 'one prefix for the network');
    });

    it('gives each manage password its own random part, so one password does not reveal another', async () => {
      const { read } = await gen('super', SUPER({ ids: '[1,2]' }));
      const pw = read('tnet_super.yaml').Passwords as Record<string, string>;
      const names = ['ShowState', 'AddPeer', 'DelPeer', 'UpdatePeer', 'UpdateSuper'];
      const randomParts = names.map((n) => pw[n].split('_')[0]);
      assert.equal(new Set(randomParts).size, names.length, `random parts repeat: ${JSON.stringify(pw)}`);
      for (const n of names) assert.match(pw[n], new RegExp(`^[A-Za-z0-9]{8}_${n.toLowerCase()}$`));
    });

    it('writes a .invalid host name and an IPv6 literal as given, without resolving or dialling them', async () => {
      const { read } = await gen('super', SUPER({ v4: 'sn.example.invalid', v6: '"[2001:db8::53]"' }));
      const e = read('tnet_edge1.yaml');
      assert.equal(e.DynamicRoute.SuperNode.EndpointV4, 'sn.example.invalid:3456');
      assert.equal(e.DynamicRoute.SuperNode.EndpointV6, '[2001:db8::53]:3456');
    });

    it('keeps the templates’ values and comments, replacing only the generated keys', async () => {
      const dir = fresh();
      writeFileSync(join(dir, 'edge-t.yaml'), '# my edge template\nInterface:\n  IType: dummy\nDynamicRoute:\n  SendPingInterval: 2 # fast\n  AdditionalCost: 33\nLogLevel:\n  LogLevel: debug\n');
      writeFileSync(join(dir, 'super-t.yaml'), 'NodeName: x\nSendPingInterval: 2\nPasswords:\n  ShowState: look\n');
      const { read } = await gen('super', SUPER({ extra: 'ConfigTemplate for edge node: edge-t.yaml\nConfigTemplate for super node: super-t.yaml\n' }), dir);
      const e = read('tnet_edge1.yaml');
      assert.equal(e.DynamicRoute.SendPingInterval, 2);
      assert.equal(e.LogLevel.LogLevel, 'debug');
      assert.equal(e.DynamicRoute.SuperNode.UseSuperNode, true);
      assert.match(readFileSync(join(dir, 'out', 'tnet_edge1.yaml'), 'utf8'), /# my edge template[\s\S]*SendPingInterval: 2 # fast/);
      const s = read('tnet_super.yaml');
      assert.equal(s.SendPingInterval, 2);
      assert.equal(s.Passwords.ShowState, 'look');
      assert.equal(s.EdgeTemplate, join(dir, 'edge-t.yaml'));
      assert.equal(s.Peers[0].AdditionalCost, 33, 'the supernode announces the template’s AdditionalCost');
    });

    it('generates from an upstream template with keys we do not read, and passes their warnings on once', async () => {
      const dir = fresh();
      writeFileSync(join(dir, 'edge-t.yaml'), 'Interface:\n  IType: dummy\nResetConnInterval: 60\nDynamicRoute:\n  P2P:\n    GraphRecalculateSetting:\n      DampingResistance: 0.9\n');
      const { r } = await gen('super', SUPER({ extra: 'ConfigTemplate for edge node: edge-t.yaml\n' }), dir);
      const ours = r.warnings.filter((w) => /loads with a warning/.test(w));
      assert.equal(ours.length, 2, r.warnings.join('\n'));
      assert.match(ours[0]!, /gen\.yaml:\d+:\d+: warning: ConfigTemplate for edge node: the generated tnet_edge1\.yaml \(from the template\) loads with a warning: ResetConnInterval: unknown key, ignored: .*rename it to ResetEndPointInterval/);
      assert.match(ours[1]!, /DynamicRoute\.P2P\.GraphRecalculateSetting\.DampingResistance: unknown key, ignored/);
    });

    it('refuses a template whose generated configs would not load, naming the template key', async () => {
      const dir = fresh();
      writeFileSync(join(dir, 'edge-t.yaml'), 'DynamicRoute:\n  SendPingInterval: 2\n');
      await assert.rejects(gen('super', SUPER({ extra: 'ConfigTemplate for edge node: edge-t.yaml\n' }), dir), /ConfigTemplate for edge node: the generated tnet_edge1\.yaml would not load[\s\S]*Interface\.IType/);
      assert.ok(!existsSync(join(dir, 'out')));
    });

    it('refuses duplicate and descending NodeIDs, naming the key and the value', async () => {
      await refused('super', SUPER({ ids: '[1,2,2]' }), /Edge Node\.Node IDs: value "\[1,2,2\]"/, /listed twice/);
      await refused('super', SUPER({ ids: '[9~4]' }), /Edge Node\.Node IDs: value "\[9~4\]"/, /range must ascend/);
    });

    it('refuses an ID that does not fit the IPv4 range', async () => {
      await refused('super', SUPER({ ids: '[1,300]', v4range: '10.212.0.0/24' }), /Edge Node\.IPv4 range: value "10\.212\.0\.0\/24"/, /NodeID 300 does not fit/);
    });

    it('refuses an unbracketed IPv6 supernode endpoint and an IPv6 address in the IPv4 slot', async () => {
      await refused('super', SUPER({ v6: '2001:db8::53' }), /Super Node\.Endpoint\(IPv6\)\(optional\): value "2001:db8::53"/, /must be in brackets/);
      await refused('super', SUPER({ v4: '"[2001:db8::53]"' }), /Super Node\.Endpoint\(IPv4\)\(optional\)/, /IPv6 address; put it under/);
      // Unbracketed too: the slot is wrong, not the brackets.
      await refused('super', SUPER({ v4: '"2001:db8::53"' }), /Super Node\.Endpoint\(IPv4\)\(optional\): value "2001:db8::53"/, /an IPv6 address; put it under "Endpoint\(IPv6\)\(optional\)", in brackets: \[2001:db8::53\]/);
    });

    it('lists every problem of a file at once, each with its line', async () => {
      const dir = await refused('super', SUPER({ ids: '[2~1]', v6: '::1' }).replace('Network name: tnet', 'Network name: far-too-long-name'), /Network name/, /1 to 10 characters/);
      const text = readFileSync(join(dir, 'gen.yaml'), 'utf8');
      await assert.rejects(runGencfg('super', join(dir, 'gen.yaml'), text), (e: GencfgInputError) => {
        assert.equal(e.problems.length, 3, e.message);
        assert.match(e.message, /gen\.yaml:4:\d+: Network name/);
        return true;
      });
    });
  });

  describe('static and p2p modes', () => {
    it('static: NextHopTable from the matrix (1 and 65000 relay through 40000), peers only where linked, IDs up to 65000', async () => {
      const { r, read } = await gen('static', NM(THREE, THREE_M));
      assert.match(r.report, /NextHopTable:/);
      assert.match(r.report, /1 -> 65000\t2\.000000\t\[1 40000 65000\]/);
      const e1 = read('tnet_edge00001.yaml');
      assert.deepEqual(e1.NextHopTable[1], { 40000: 40000, 65000: 40000 });
      assert.deepEqual(e1.NextHopTable[65000], { 1: 40000, 40000: 40000 });
      assert.deepEqual(e1.Peers.map((p: Y) => p.NodeID), [40000]);
      assert.equal(e1.ListenPort, 3001);
      const mid = read('tnet_edge40000.yaml');
      assert.deepEqual(mid.Peers.map((p: Y) => [p.NodeID, p.EndPoint, p.PersistentKeepalive, p.Static]), [[1, '10.0.0.1:3001', 0, true], [65000, '[2001:db8::3]:3001', 0, true]]);
      const e3 = read('tnet_edge65000.yaml');
      assert.equal(e3.Peers[0].PSKey, mid.Peers[1].PSKey, 'one PSK per pair, the same on both ends');
      assert.notEqual(e1.Peers[0].PSKey, e3.Peers[0].PSKey);
      assert.deepEqual(e3.DynamicRoute.NTPConfig.Servers, []);
      assert.equal(e3.DynamicRoute.SuperNode.UseSuperNode, false);
    });

    it('without a matrix: every pair with an endpoint on one side is linked; a node without one keeps alive', async () => {
      const nodes = `  1:\n    Endpoint(optional): 10.0.0.1:3001\n  2:\n    Endpoint(optional): ""\n  3:\n`;
      const { read } = await gen('static', NM(nodes, '').replace(/Distance matrix for all nodes: \|-\n\s*\n?/, ''));
      const e2 = read('tnet_edge2.yaml');
      assert.deepEqual(e2.Peers.map((p: Y) => [p.NodeID, p.PersistentKeepalive]), [[1, 30]]);
      assert.equal(e2.ListenPort, 0);
      assert.deepEqual(e2.NextHopTable[2], { 1: 1, 3: 1 });
    });

    it('p2p: UseP2P, an empty NextHopTable, AdditionalCost 1000 without a template', async () => {
      const { r, read } = await gen('p2p', NM(THREE, THREE_M));
      assert.equal(r.report, '');
      for (const id of ['00001', '40000', '65000']) {
        const e = read(`tnet_edge${id}.yaml`);
        assert.equal(e.DynamicRoute.P2P.UseP2P, true);
        assert.deepEqual(e.NextHopTable, {});
        assert.equal(e.DynamicRoute.AdditionalCost, 1000);
        // P2P mode ignores edge-to-edge PSKs (upstream's SetPSK is a no-op there): none written.
        assert.ok(e.Peers.length > 0 && e.Peers.every((p: { PSKey: string }) => p.PSKey === ''), JSON.stringify(e.Peers));
        parseEdgeConfig(readFileSync(r.paths.find((p) => p.endsWith(`${id}.yaml`))!, 'utf8'), id, () => undefined);
      }
    });

    it('refuses a matrix node missing from "Edge Nodes"', async () => {
      const nodes = THREE.split('\n').slice(0, 4).join('\n');
      await refused('static', NM(nodes, THREE_M), /Distance matrix for all nodes/, /NodeID 65000 is in the matrix but not in "Edge Nodes"/);
    });

    it('refuses a matrix line with the wrong number of columns, with its line in the file', async () => {
      const dir = await refused('static', NM(THREE, THREE_M.replace('40000 1 0 1', '40000 1 0')), /Distance matrix for all nodes/, /element number mismatch/);
      const text = readFileSync(join(dir, 'gen.yaml'), 'utf8');
      await assert.rejects(runGencfg('static', join(dir, 'gen.yaml'), text), (e: GencfgInputError) => {
        const line = text.split('\n').findIndex((l) => l.trim() === '40000 1 0') + 1;
        assert.match(e.message, new RegExp(`gen\\.yaml:${line}:`));
        return true;
      });
    });

    it('refuses duplicate NodeIDs and unbracketed IPv6 endpoints in "Edge Nodes"', async () => {
      await refused('static', NM(`${THREE}\n  40000:\n    Endpoint(optional): 10.0.0.9:3001`, THREE_M), /Edge Nodes\.40000/, /listed twice/);
      await refused('static', NM(THREE.replace('"[2001:db8::3]:3001"', '2001:db8::3:3001'), THREE_M), /Edge Nodes\.65000\.Endpoint\(optional\): value "2001:db8::3:3001"/, /must be in brackets/);
    });

    it('refuses a link where neither end has an endpoint, and an unreachable pair in static mode', async () => {
      const none = THREE.replace('10.0.0.1:3001', '""').replace('10.0.0.2:3001', '""');
      await refused('static', NM(none, THREE_M), /Edge Nodes/, /nodes 1 and 40000 are linked in the matrix but neither has/);
      const cut = `X 1 40000 65000\n1 0 1 Inf\n40000 1 0 Inf\n65000 Inf 1 0`;
      await refused('static', NM(THREE, cut), /Distance matrix for all nodes/, /no path|none for/);
    });
  });

  describe('writing', () => {
    it('an output directory that cannot be created or written is refused at once, naming it and the reason (no hang, no stack)', async function () {
      this.timeout(5000);
      const dir = fresh();
      const file = join(dir, 'gen.yaml');
      writeFileSync(join(dir, 'plain-file'), '');
      const cases: [string, RegExp][] = [
        // Node 20's recursive mkdir loops forever here (ENOENT, then EEXIST for /proc).
        ['/proc/eg-gencfg-out/sub', /cannot create the output directory \/proc\/eg-gencfg-out\/sub \(at \/proc\/eg-gencfg-out\): ENOENT/],
        [join(dir, 'plain-file', 'out'), /cannot create the output directory .*plain-file\/out.*: ENOTDIR/],
        ['/proc', /cannot write the configs into \/proc: E[A-Z]+: .*nothing written/],
      ];
      for (const [out, why] of cases) {
        const text = NM(THREE, THREE_M).replace('Config output dir: out', `Config output dir: ${out}`).replace('overwrite: false', 'overwrite: true');
        writeFileSync(file, text);
        await assert.rejects(runGencfg('static', file, text), (e: unknown) => {
          assert.ok(e instanceof WriteRefused, `${out}: ${String(e)}`);
          assert.match(e.message, why);
          return true;
        });
      }
    });

    it('refuses to replace existing files unless overwrite is on, leaving them untouched; with it, replaces all', async () => {
      const dir = fresh();
      const file = join(dir, 'gen.yaml');
      const text = NM(THREE, THREE_M);
      writeFileSync(file, text);
      const first = await runGencfg('static', file, text);
      const before = first.paths.map((p) => readFileSync(p, 'utf8'));
      await assert.rejects(runGencfg('static', file, text), (e: unknown) => e instanceof WriteRefused && /Enable generated config overwrite/.test(e.message));
      assert.deepEqual(first.paths.map((p) => readFileSync(p, 'utf8')), before, 'old files untouched');
      assert.deepEqual(readdirSync(join(dir, 'out')).filter((n) => n.includes('.tmp')), []);
      const ow = text.replace('overwrite: false', 'overwrite: true');
      writeFileSync(file, ow);
      await runGencfg('static', file, ow);
      first.paths.forEach((p, i) => assert.notEqual(readFileSync(p, 'utf8'), before[i]));
    });
  });
});
