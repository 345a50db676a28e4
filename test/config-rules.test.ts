// The config loader's rules against etherguard-go and wg(8): configs upstream runs must load
// (unused values only warn), values that reach file names are checked, keys are read the way
// wg and upstream read them, and endpoints follow one parser everywhere.
import assert from 'node:assert/strict';
import {
  ConfigError, cleanKey, generateKeyPair, generatePSK, keyProblem, parseEdgeConfig, parseEndpoint, parseSuperConfig,
  type EdgeConfig, type Problem, type SuperConfig,
} from '../ts/config/index.js';
import { parseHostPort, resolveEndpoint } from '../ts/wgnode/endpoint.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

const PRIV = 'ALxoLrfQCyy96hPjth0/d/0nLZHtOdtroo/36No8Lmw=';
const MINIMAL = `Interface:\n  IType: dummy\nNodeID: 1\nNodeName: n1\nPrivKey: ${PRIV}\n`;

interface Loaded<T> {
  config: T;
  warnings: Problem[];
}

function edge(text: string): Loaded<EdgeConfig> {
  const warnings: Problem[] = [];
  const config = parseEdgeConfig(text, 'e.yaml', (_l, p) => warnings.push(p));
  return { config, warnings };
}

function superCfg(text: string): Loaded<SuperConfig> {
  const warnings: Problem[] = [];
  const config = parseSuperConfig(text, 's.yaml', (_l, p) => warnings.push(p));
  return { config, warnings };
}

function refused(f: () => unknown): readonly Problem[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected the config to be refused');
}

const has = (ps: readonly Problem[], path: string, text: string | RegExp): boolean =>
  ps.some((p) => p.path === path && (typeof text === 'string' ? p.message.includes(text) : text.test(p.message)));

describe('config rules: configs etherguard-go runs must load', () => {
  const k4 = generateKeyPair();
  const k6 = generateKeyPair();
  const gen = () =>
    upstreamGeneratedEdge({ priv: PRIV, psk: generatePSK(), pub4: k4.publicKey, pub6: k6.publicKey, endpoint4: '127.0.0.1:3000', api: 'http://127.0.0.1:3000/eg_api' });

  it('a generated edge config for a supernode without IPv6 (PubKeyV6 set, EndpointV6 "") loads, warning that PubKeyV6 is unused', () => {
    const { config, warnings } = edge(gen());
    assert.equal(config.DynamicRoute.SuperNode.PubKeyV6, k6.publicKey);
    assert.ok(has(warnings, 'DynamicRoute.SuperNode.PubKeyV6', 'EndpointV6 is empty, so no IPv6 supernode session is made'), JSON.stringify(warnings));
  });

  it('an endpoint without its key is still refused in super mode (upstream fails to decode the empty key)', () => {
    const text = gen().replace(`PubKeyV4: ${k4.publicKey}`, 'PubKeyV4: ""');
    assert.ok(has(refused(() => edge(text)), 'DynamicRoute.SuperNode.PubKeyV4', 'is required because EndpointV4 is set'));
  });

  it('a session in a disabled address family only warns about its values', () => {
    const text = gen().replace('EndpointV6: ""', 'EndpointV6: "[::1]:3000"').replace(`PubKeyV6: ${k6.publicKey}`, 'PubKeyV6: "not a key"') + 'DisabledAf:\n  IPv6: true\n';
    const { warnings } = edge(text);
    assert.ok(has(warnings, 'DynamicRoute.SuperNode.PubKeyV6', /contains whitespace.*ignored: DisabledAf\.IPv6 is true/), JSON.stringify(warnings));
  });

  it('SuperNode values are not errors when UseSuperNode is false (upstream never reads them)', () => {
    const text = `${MINIMAL}DynamicRoute:\n  SuperNode:\n    PSKey: AAAA\n    EndpointV4: "[::1]"\n    PubKeyV6: xyz\n    EndpointEdgeAPIUrl: ftp://x\n`;
    const { warnings } = edge(text);
    for (const k of ['PSKey', 'EndpointV4', 'PubKeyV6', 'EndpointEdgeAPIUrl']) {
      assert.ok(has(warnings, `DynamicRoute.SuperNode.${k}`, 'ignored: UseSuperNode is false'), `${k}: ${JSON.stringify(warnings)}`);
    }
  });

  it('super mode still needs one complete session and the edge API URL', () => {
    const text = `${MINIMAL}DynamicRoute:\n  SuperNode:\n    UseSuperNode: true\n    PubKeyV6: ${k6.publicKey}\n`;
    const ps = refused(() => edge(text));
    assert.ok(has(ps, 'DynamicRoute.SuperNode.EndpointV4', 'super mode needs a supernode session'));
    assert.ok(has(ps, 'DynamicRoute.SuperNode.EndpointEdgeAPIUrl', 'is required in super mode'));
  });

  it('L2HeaderMode on a non-stdio IType and addresses on a non-tap IType only warn (upstream ignores them)', () => {
    const text = MINIMAL.replace('IType: dummy', 'IType: dummy\n  L2HeaderMode: noL2\n  IPv4CIDR: 192.168.300.0/24');
    const { warnings } = edge(text);
    assert.ok(has(warnings, 'Interface.L2HeaderMode', 'only applies to IType stdio'));
    assert.ok(has(warnings, 'Interface.IPv4CIDR', 'ignored: only IType tap assigns addresses'));
  });

  it('a broken Peers[].PSKey (never read by upstream) warns and the peer runs without one', () => {
    const p = generateKeyPair().publicKey;
    const { config, warnings } = edge(`${MINIMAL}Peers:\n  - NodeID: 2\n    PubKey: ${p}\n    PSKey: AAAA\n`);
    assert.equal(config.Peers[0]!.PSKey, '');
    assert.ok(has(warnings, 'Peers[0].PSKey', 'has 4 characters'));
  });

  it('a listen address of the wrong family binds all addresses with a warning, as upstream', () => {
    const { config, warnings } = edge(`${MINIMAL}DisabledAf: {ListenIPv4: "::1", ListenIPv6: 10.0.0.1}\n`);
    assert.deepEqual([config.DisabledAf.ListenIPv4, config.DisabledAf.ListenIPv6], ['', '']);
    assert.ok(has(warnings, 'DisabledAf.ListenIPv4', 'is not an IPv4 address, so all IPv4 addresses are bound'));
    assert.ok(has(warnings, 'DisabledAf.ListenIPv6', 'is not an IPv6 address'));
  });

  const SUPER = (extra: string) => `NodeName: sn\nPrivKeyV4: ${PRIV}\n${extra}`;

  it('a supernode with only one family key loads with a warning; with none it is refused', () => {
    const { warnings } = superCfg(SUPER(''));
    assert.ok(has(warnings, 'PrivKeyV6', 'is empty, so the supernode has no IPv6 session'));
    assert.ok(has(refused(() => superCfg('NodeName: sn\n')), 'PrivKeyV4', 'is required while IPv4 is enabled and no other address family has a key'));
  });

  it('supernode: SendPingInterval >= PeerAliveTimeout, an unusable peer EndPoint and ExternalIP only warn', () => {
    const p = generateKeyPair().publicKey;
    const { warnings } = superCfg(SUPER(`DisabledAf: {IPv6: true}\nSendPingInterval: 80\nPeers:\n  - {NodeID: 1, Name: a, PubKey: ${p}, EndPoint: "::1:3000", ExternalIP: edge.example}\n`));
    assert.ok(has(warnings, 'SendPingInterval', 'is not less than PeerAliveTimeout'));
    assert.ok(has(warnings, 'Peers[0].EndPoint', 'must be in brackets'));
    assert.ok(has(warnings, 'Peers[0].ExternalIP', 'is not an IP address, so it is ignored'));
  });
});

describe('config rules: values that become file names', () => {
  for (const name of ['../../../tmp/x', 'site/office-2']) {
    it(`NodeName ${JSON.stringify(name)} is refused, naming NodeName and the rule`, () => {
      const ps = refused(() => edge(MINIMAL.replace('NodeName: n1', `NodeName: "${name}"`)));
      assert.ok(has(ps, 'NodeName', "contains '/'"), JSON.stringify(ps));
      assert.ok(has(ps, 'NodeName', 'UAPI socket'));
    });
  }

  it('NodeName with a control character, "." or "..", and a supernode NodeName with "/" are refused', () => {
    assert.ok(has(refused(() => edge(MINIMAL.replace('NodeName: n1', 'NodeName: "a\\nb"'))), 'NodeName', 'control character'));
    assert.ok(has(refused(() => edge(MINIMAL.replace('NodeName: n1', 'NodeName: ".."'))), 'NodeName', 'not a usable file name'));
    assert.ok(has(refused(() => superCfg(`NodeName: a/b\nPrivKeyV4: ${PRIV}\nDisabledAf: {IPv6: true}\n`)), 'NodeName', "contains '/'"));
  });

  it('NodeName counts bytes as upstream (at most 32) and warns for names wg show reads as a subcommand', () => {
    assert.ok(has(refused(() => edge(MINIMAL.replace('NodeName: n1', `NodeName: ${'é'.repeat(20)}`))), 'NodeName', 'is 40 bytes; at most 32'));
    assert.ok(has(edge(MINIMAL.replace('NodeName: n1', 'NodeName: all')).warnings, 'NodeName', 'wg show all'));
  });

  for (const [name, rule] of [['.', 'not allowed'], ['..', 'not allowed'], ['tap 1', 'whitespace'], ['a/b', "'/'"], ['eth0:1', "':'"], ['abcdefghijklmnop', 'is 16 bytes']] as const) {
    it(`TAP Interface.Name ${JSON.stringify(name)} is refused (${rule})`, () => {
      const ps = refused(() => edge(MINIMAL.replace('IType: dummy', `IType: tap\n  Name: "${name}"`)));
      assert.ok(has(ps, 'Interface.Name', rule), JSON.stringify(ps));
    });
  }

  it('a TAP MTU above the kernel\'s 65521 is refused at load naming Interface.MTU; 65521 loads', () => {
    const tap = (mtu: number) => MINIMAL.replace('IType: dummy', `IType: tap\n  Name: egmtu\n  MTU: ${mtu}`);
    assert.ok(has(refused(() => edge(tap(65522))), 'Interface.MTU', 'largest MTU Linux gives a TAP device'));
    assert.equal(edge(tap(65521)).config.Interface.MTU, 65521);
    assert.equal(edge(MINIMAL.replace('IType: dummy', 'IType: dummy\n  MTU: 65535')).config.Interface.MTU, 65535);
  });

  it('a NUL in a value passed to PostScript, and an over-long unix socket path, are refused', () => {
    assert.ok(has(refused(() => edge(MINIMAL.replace('IType: dummy', 'IType: dummy\n  Name: "a\\0b"'))), 'Interface.Name', 'NUL'));
    const long = '/tmp/' + 'x'.repeat(120);
    assert.ok(has(refused(() => edge(MINIMAL.replace('IType: dummy', `IType: unixsock\n  RecvAddr: ${long}`))), 'Interface.RecvAddr', 'at most 107'));
  });
});

describe('config rules: keys with whitespace', () => {
  const k = generateKeyPair();
  const psk = generatePSK();
  const withPeer = (priv: string, pskYaml: string) => `Interface:\n  IType: dummy\nNodeID: 1\nNodeName: n1\nPrivKey: ${priv}\nPeers:\n  - NodeID: 2\n    PubKey: ${k.publicKey}\n    PSKey: ${pskYaml}\n`;

  it('a key in a YAML block scalar, with a trailing space, or a PSK wrapped in a literal block loads as the clean key', () => {
    const wrapped = `|\n      ${psk.slice(0, 20)}\n      ${psk.slice(20)}`;
    const { config } = edge(withPeer(`|\n  ${PRIV}`, wrapped).replace(`PubKey: ${k.publicKey}`, `PubKey: "${k.publicKey} "`));
    assert.equal(config.PrivKey, PRIV);
    assert.equal(config.Peers[0]!.PubKey, k.publicKey);
    assert.equal(config.Peers[0]!.PSKey, psk);
  });

  it('a key wrapped over two lines as a plain scalar (a space inside) is refused naming the whitespace and its position', () => {
    // A plain scalar folds the line break into one space, as upstream's YAML does; Go's base64 refuses it.
    const ps = refused(() => edge(withPeer(`${PRIV.slice(0, 20)}\n  ${PRIV.slice(20)}`, psk)));
    assert.ok(has(ps, 'PrivKey', 'contains whitespace inside the key (a space at position 21)'), JSON.stringify(ps));
  });

  it('keyProblem names the cause: length, alphabet, padding, canonical form, hex', () => {
    assert.equal(keyProblem(PRIV), null);
    assert.match(keyProblem(PRIV.slice(0, 40) + '=')!, /has 41 characters; a key has 44/);
    assert.match(keyProblem(PRIV.replace('/', '-'))!, /character "-" at position 20 is not in the base64 alphabet .*URL-safe/);
    assert.match(keyProblem(PRIV.slice(0, 42) + '==')!, /has '=' at position 43/);
    assert.match(keyProblem(PRIV.slice(0, 42) + 'x=')!, /not canonical .*the canonical spelling is ALxoLrfQCyy96hPjth0\/d\/0nLZHtOdtroo\/36No8Lmw=/);
    assert.match(keyProblem('ab'.repeat(32))!, /64 hex digits/);
    assert.match(keyProblem(` ${PRIV}`)!, /whitespace before the key \(a space at position 1\)/);
    assert.match(keyProblem(`${PRIV}\n`)!, /whitespace after the key \(a line break at position 45\)/);
    assert.equal(cleanKey(`  ${PRIV.slice(0, 10)}\r\n${PRIV.slice(10)}\n`), PRIV);
  });

  it('every key field gets the same treatment (supernode keys too)', () => {
    const p = generateKeyPair().publicKey;
    const { config } = superCfg(`NodeName: sn\nPrivKeyV4: "${PRIV} "\nPrivKeyV6: |\n  ${k.privateKey}\nPeers:\n  - {NodeID: 1, Name: a, PubKey: " ${p}", PSKey: "${psk}\\n"}\n`);
    assert.deepEqual([config.PrivKeyV4, config.PrivKeyV6, config.Peers[0]!.PubKey, config.Peers[0]!.PSKey], [PRIV, k.privateKey, p, psk]);
    const ps = refused(() => superCfg(`NodeName: sn\nPrivKeyV4: "${PRIV.slice(0, 10)} ${PRIV.slice(10)}"\n`));
    assert.ok(has(ps, 'PrivKeyV4', 'contains whitespace inside the key (a space at position 11)'));
  });
});

describe('endpoints: one parser for config, UAPI and peer data', () => {
  // [input, host, port]: forms `wg set … endpoint` accepts with this meaning (checked against the
  // real wg in test/uapi.test.ts).
  const ACCEPTED: [string, string, number][] = [
    ['1.2.3.4:51820', '1.2.3.4', 51820],
    ['host.example:51820', 'host.example', 51820],
    ['host.example.:1', 'host.example.', 1],
    ['_srv.host-1.example:65535', '_srv.host-1.example', 65535],
    ['[2001:db8::1]:51820', '2001:db8::1', 51820],
    ['[fe80::1%eth0]:51820', 'fe80::1%eth0', 51820],
    ['[fe80::1%2]:51820', 'fe80::1%2', 51820],
    ['[1.2.3.4]:5', '1.2.3.4', 5],
    ['[localhost]:5', 'localhost', 5],
    ['1.2.3.4:051', '1.2.3.4', 51],
    ['1.2.3.4:domain', '1.2.3.4', 53],
  ];
  for (const [s, host, port] of ACCEPTED) {
    it(`accepts ${s}`, () => {
      const r = parseEndpoint(s);
      assert.ok(r.ok, r.ok ? '' : r.problem);
      assert.deepEqual([r.value.host, r.value.port], [host, port]);
    });
  }

  const REFUSED: [string, RegExp][] = [
    ['', /is empty/],
    ['1.2.3.4', /has no port/],
    ['[::1]', /has no port/],
    ['1.2.3.4:', /empty port/],
    [':51820', /no host before the port/],
    ['[::1', /without a matching '\]'/],
    ['[]:5', /nothing between the brackets/],
    ['[::1]5', /expected :port/],
    ['::1:51820', /an IPv6 address with a port must be in brackets, like \[::1\]:PORT/],
    ['fe80::1%eth0:5', /must be in brackets/],
    ['2001:db8::1', /without a port/],
    ['1.2.3.4:65536', /port 65536, outside 0\.\.65535/],
    ['1.2.3.4:0', /port 0, which cannot be sent to/],
    ['1.2.3.4:-1', /neither a number nor a UDP service name/],
    ['1.2.3.4:http', /neither a number nor a UDP service name/],
    ['127.1:5', /not an IPv4 address in dotted-quad form/],
    ['010.0.0.1:5', /not an IPv4 address in dotted-quad form/],
    ['1234:5', /not an IPv4 address in dotted-quad form/],
    ['0x7f000001:5', /not an IPv4 address in dotted-quad form/],
    ['a b:5', /contains whitespace at position 2/],
    ['[fe80::1%]:5', /invalid IPv6 scope/],
    ['[1.2.3.4%eth0]:5', /scope is only allowed after an IPv6 address/],
    ['-bad.example:5', /neither an IP address nor a DNS name \(label "-bad"/],
    ['a..b:5', /empty label/],
  ];
  for (const [s, rule] of REFUSED) {
    it(`refuses ${JSON.stringify(s)} naming the rule`, () => {
      const r = parseEndpoint(s);
      assert.ok(!r.ok, `accepted ${s}`);
      assert.match(r.problem, rule);
    });
  }

  it('listen addresses may have no host and port 0; UAPI endpoints must be numeric', () => {
    assert.deepEqual(parseEndpoint(':0', { listen: true }), { ok: true, value: { host: '', port: 0, kind: 'any' } });
    assert.ok(parseEndpoint('127.0.0.1:0', { listen: true }).ok);
    const r = parseEndpoint('host.example:5', { numeric: true });
    assert.ok(!r.ok && /UAPI endpoints are numeric/.test(r.problem));
    assert.ok(parseEndpoint('[fe80::1%lo]:5', { numeric: true }).ok);
  });

  it('the config loader takes the scoped and service forms and refuses the rest with the rule', () => {
    const p = generateKeyPair().publicKey;
    const { config } = edge(`${MINIMAL}Peers:\n  - {NodeID: 2, PubKey: ${p}, EndPoint: "[fe80::1%lo]:3000"}\n  - {NodeID: 3, PubKey: ${generateKeyPair().publicKey}, EndPoint: "localhost:domain"}\n`);
    assert.equal(config.Peers[0]!.EndPoint, '[fe80::1%lo]:3000');
    const ps = refused(() => edge(`${MINIMAL}Peers:\n  - {NodeID: 2, PubKey: ${p}, EndPoint: "1.2.3.4:0"}\n`));
    assert.ok(has(ps, 'Peers[0].EndPoint', 'port 0, which cannot be sent to'));
  });

  it('the runtime (configured endpoints, the supernode peer lists) reads endpoints with the same parser', async () => {
    assert.deepEqual(parseHostPort('[fe80::1%lo]:3000'), { host: 'fe80::1%lo', port: 3000 });
    assert.throws(() => parseHostPort('::1:3000'), /must be in brackets/);
    assert.throws(() => parseHostPort('1.2.3.4:0'), /port 0/);
    assert.deepEqual(await resolveEndpoint('[::1%lo]:3000', 6, { v4: true, v6: true }), { address: '::1%lo', port: 3000, family: 6 });
    assert.deepEqual(await resolveEndpoint('127.0.0.1:domain', 4, { v4: true, v6: true }), { address: '127.0.0.1', port: 53, family: 4 });
  });
});

describe('config hints for a mode that is off by mistake', () => {
  it('UseSuperNode written one level too high names where it belongs; misspelt, the closest key', () => {
    const up = edge(`${MINIMAL}DynamicRoute:\n  UseSuperNode: true\n`);
    assert.ok(has(up.warnings, 'DynamicRoute.UseSuperNode', /belongs under DynamicRoute\.SuperNode/), JSON.stringify(up.warnings));
    assert.equal(up.config.DynamicRoute.SuperNode.UseSuperNode, false, 'still ignored, as upstream');
    const misspelt = edge(`${MINIMAL}DynamicRoute:\n  SuperNode:\n    UseSupernode: true\n`);
    assert.ok(has(misspelt.warnings, 'DynamicRoute.SuperNode.UseSupernode', /did you mean UseSuperNode/), JSON.stringify(misspelt.warnings));
  });
});
