// The config keys of several supernodes: the supernode's Etcd and the edge's
// DynamicRoute.SuperNode.ExtraSuperNodes. Both optional; configs without them load as before.
import assert from 'node:assert/strict';
import { ConfigError, exampleSuperConfig, generateKeyPair, parseEdgeConfig, parseSuperConfig } from '../ts/config/index.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
};
const quiet = () => undefined;

describe('config: Etcd (supernode) and ExtraSuperNodes (edge)', () => {
  const superText = exampleSuperConfig();

  it('a supernode config without Etcd loads with no Etcd (the file holds the state)', () => {
    assert.equal(parseSuperConfig(superText, 's.yaml', quiet).Etcd, undefined);
  });

  it('Etcd takes endpoints, with Prefix and Timeout defaults', () => {
    const c = parseSuperConfig(`${superText}\nEtcd: {Endpoints: ["http://10.0.0.1:2379", "https://[fd00::1]:2379"]}\n`, 's.yaml', quiet);
    assert.deepEqual(c.Etcd, { Endpoints: ['http://10.0.0.1:2379', 'https://[fd00::1]:2379'], Prefix: '/etherguard/', Timeout: 2 });
  });

  it('a bad Etcd is refused naming the key and the rule', () => {
    const bad = (extra: string) => problems(() => parseSuperConfig(`${superText}\nEtcd: ${extra}\n`, 's.yaml', quiet));
    assert.deepEqual(bad('{Endpoints: []}'), ['Etcd.Endpoints: must NOT have fewer than 1 items']);
    assert.deepEqual(bad('{Endpoints: ["10.0.0.1:2379"]}'), ['Etcd.Endpoints[0]: must be an etcd client URL http(s)://host:port, got "10.0.0.1:2379"']);
    assert.match(bad('{Endpoints: ["http://a:1"], Timeout: 0}').join(), /Etcd\.Timeout: must be greater than 0/);
    assert.deepEqual(bad('{Endpoint: ["http://a:1"]}'), ['Etcd.Endpoints: is required but missing (Endpoint, an unknown key here, looks like a misspelling of it)']);
  });

  const edge = (extra: string) =>
    upstreamGeneratedEdge({ priv: generateKeyPair().privateKey, psk: '', pub4: generateKeyPair().publicKey, pub6: '', endpoint4: '127.0.0.1:3000', api: 'http://127.0.0.1:3000/eg_api' }).replace(
      '    SuperNodeInfoTimeout: 50\n',
      `    SuperNodeInfoTimeout: 50\n${extra}`,
    );

  it('an edge config without ExtraSuperNodes loads with an empty list', () => {
    assert.deepEqual(parseEdgeConfig(edge(''), 'e.yaml', quiet).DynamicRoute.SuperNode.ExtraSuperNodes, []);
  });

  it('ExtraSuperNodes entries need a session and an http(s) edge API URL', () => {
    const pub = generateKeyPair().publicKey;
    const ok = parseEdgeConfig(edge(`    ExtraSuperNodes:\n      - {EndpointV4: "127.0.0.2:3000", PubKeyV4: ${pub}, EndpointEdgeAPIUrl: "http://127.0.0.2:3000/eg_api"}\n`), 'e.yaml', quiet);
    assert.equal(ok.DynamicRoute.SuperNode.ExtraSuperNodes[0]!.PubKeyV4, pub);
    const p = problems(() =>
      parseEdgeConfig(
        edge(`    ExtraSuperNodes:\n      - {EndpointEdgeAPIUrl: "ftp://x"}\n      - {EndpointV4: "127.0.0.2:3000", EndpointEdgeAPIUrl: "http://127.0.0.2:3000"}\n`),
        'e.yaml',
        quiet,
      ),
    );
    assert.ok(p.some((x) => x.startsWith('DynamicRoute.SuperNode.ExtraSuperNodes[0]: needs a supernode session')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('DynamicRoute.SuperNode.ExtraSuperNodes[0].EndpointEdgeAPIUrl:')), p.join('\n'));
    assert.ok(p.some((x) => x === 'DynamicRoute.SuperNode.ExtraSuperNodes[1].PubKeyV4: is required because EndpointV4 is set'), p.join('\n'));
  });
});
