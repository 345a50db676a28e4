// Building every node's config from gencfg input (upstream gencfg/gencfgSM.go and gencfgNM.go):
// fresh keys and PSKs, addresses derived from the NodeIDs, and for static mode the NextHopTable
// computed by our route engine (ts/core/solve.ts, the same engine as `solve`). Each generated
// file is loaded back with our own config loader before anything is written, so a template that
// would produce a config we cannot run is refused up front.
import { randomBytes, randomInt } from 'node:crypto';
import { Document, isMap, parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AddrError, ConfigError, generateKeyPair, generatePSK, ipv4ForNode, ipv6ForNode, ipv6LLForNode, macForNode,
  parseEdgeConfig, parseEndpoint, parseSuperConfig, type Problem,
} from '../config/index.js';
import { MatrixError, solveMatrixJson, solveMatrixText } from '../core/solve.js';
import type { CfgMode, CommonInput, NmInput, Reader, SuperInput } from './input.js';
import type { OutFile } from './write.js';

export interface Generated {
  files: OutFile[];
  /** Text printed before the file list: static mode's NextHopTable and paths, as upstream prints them. */
  report: string;
}

type Table = Record<string, Record<string, number>>;

// Upstream's example edge config with the per-network parts blanked (gencfg/example_conf.go,
// GetExampleEdgeConf without demo). Differences on purpose: NTP is off with no servers (this
// project must run offline; upstream turns it on with 27 public servers), as in our -example.
function defaultEdge(): Record<string, unknown> {
  return {
    Interface: {
      IType: 'tap', Name: 'tap1', VPPIFaceID: 1, VPPBridgeID: 4242, MacAddrPrefix: 'AA:BB:CC:DD',
      IPv4CIDR: '', IPv6CIDR: '', IPv6LLPrefix: '', MTU: 1404, RecvAddr: '127.0.0.1:4001', SendAddr: '127.0.0.1:5001', L2HeaderMode: 'nochg',
    },
    NodeID: 1,
    NodeName: 'Node01',
    PostScript: '',
    DefaultTTL: 200,
    L2FIBTimeout: 3600,
    PrivKey: '',
    ListenPort: 0,
    FwMark: 0,
    DisabledAf: { IPv4: false, IPv6: false, ListenIPv4: '', ListenIPv6: '' },
    AfPrefer: 4,
    LogLevel: { LogLevel: 'error', LogTransit: false, LogNormal: false, DumpNormal: false, LogControl: true, LogInternal: true, LogNTP: true },
    DynamicRoute: {
      SendPingInterval: 16, PeerAliveTimeout: 70, TimeoutCheckInterval: 20, ConnNextTry: 5, DupCheckTimeout: 40,
      AdditionalCost: 10, DampingFilterRadius: 4, SaveNewPeers: true,
      SuperNode: {
        UseSuperNode: true, PSKey: '', EndpointV4: '', PubKeyV4: '', EndpointV6: '', PubKeyV6: '', EndpointEdgeAPIUrl: '',
        SkipLocalIP: false, AdditionalLocalIP: [], SuperNodeInfoTimeout: 50,
      },
      P2P: {
        UseP2P: false, SendPeerInterval: 20,
        GraphRecalculateSetting: { StaticMode: false, ManualLatency: {}, JitterTolerance: 50, JitterToleranceMultiplier: 1.1, TimeoutCheckInterval: 5, RecalculateCoolDown: 5 },
      },
      NTPConfig: { UseNTP: false, MaxServerUse: 8, SyncTimeInterval: 3600, NTPTimeout: 3, Servers: [] },
    },
    NextHopTable: {},
    ResetEndPointInterval: 600,
    Peers: [],
  };
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

// Each password gets its own random part: a shared one would let the holder of the read-only
// ShowState password derive AddPeer/DelPeer/UpdateSuper.
const pw = (suffix: string): string => Array.from({ length: 8 }, () => ALNUM[randomInt(ALNUM.length)]).join('') + suffix;

function defaultSuper(): Record<string, unknown> {
  return {
    NodeName: 'NodeSuper', PostScript: '', PrivKeyV4: '', PrivKeyV6: '', ListenPort: 3000, ListenPort_EdgeAPI: '3000', ListenPort_ManageAPI: '3000',
    FwMark: 0, DisabledAf: { IPv4: false, IPv6: false, ListenIPv4: '', ListenIPv6: '' }, API_Prefix: '/eg_api',
    RePushConfigInterval: 30, HttpPostInterval: 50, PeerAliveTimeout: 70, SendPingInterval: 15, DampingFilterRadius: 4,
    LogLevel: { LogLevel: 'error', LogTransit: false, LogNormal: false, DumpNormal: false, LogControl: true, LogInternal: true, LogNTP: true },
    Passwords: { ShowState: pw('_showstate'), AddPeer: pw('_addpeer'), DelPeer: pw('_delpeer'), UpdatePeer: pw('_updatepeer'), UpdateSuper: pw('_updatesuper') },
    GraphRecalculateSetting: { StaticMode: false, ManualLatency: {}, JitterTolerance: 30, JitterToleranceMultiplier: 1.01, TimeoutCheckInterval: 5, RecalculateCoolDown: 5 },
    NextHopTable: {},
    EdgeTemplate: '',
    UsePSKForInterEdge: true,
    ResetEndPointInterval: 600,
    Peers: [],
  };
}

/** The template as a YAML document (its comments and key order kept), or the built-in default. */
function baseDoc(template: string, dflt: () => Record<string, unknown>): Document {
  if (template === '') return new Document(dflt());
  const d = parseDocument(readFileSync(template, 'utf8'));
  if (!isMap(d.contents)) throw new Error(`${template}: top level is not a mapping`);
  return d;
}

/** A copy of `base` with `sets` applied (paths created when the template lacks them) and a header comment. */
function render(base: Document, header: string, sets: [string[], unknown][]): string {
  const d = base.clone();
  for (const [path, v] of sets) d.setIn(path, d.createNode(v));
  d.commentBefore = [` ${header}`, ...(base.commentBefore ? [base.commentBefore] : [])].join('\n');
  return d.toString({ lineWidth: 0 });
}

/** Integer-keyed maps, so the YAML shows `1:` as upstream's files do rather than the quoted string "1". */
function intKeyed(t: Table): Map<number, Map<number, number>> {
  return new Map(Object.entries(t).map(([s, row]) => [Number(s), new Map(Object.entries(row).map(([d, h]) => [Number(d), h]))]));
}

const idWidth = (ids: readonly number[]) => String(Math.max(...ids)).length;
const idStr = (id: number, width: number) => String(id).padStart(width, '0');

/** MAC prefix (random when empty, as upstream: locally administered, unicast) and address ranges checked against every ID. */
function addressing(r: Reader, c: CommonInput, ids: readonly number[]): string {
  const maxId = Math.max(...ids);
  let mac = c.macPrefix;
  if (mac === '') {
    const b = randomBytes(4);
    b[0] = (b[0]! & ~0x01) | 0x02;
    mac = [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':');
  } else {
    try {
      macForNode(mac, maxId);
    } catch (e) {
      if (!(e instanceof AddrError)) throw e;
      r.fail(['Edge Node', 'MacAddress prefix'], `value ${JSON.stringify(mac)}: ${e.message}`);
    }
  }
  const ranges: [string, string, (c: string, id: number) => unknown][] = [
    ['IPv4 range', c.ipv4Range, ipv4ForNode],
    ['IPv6 range', c.ipv6Range, ipv6ForNode],
    ['IPv6 LL range', c.ipv6LLRange, ipv6LLForNode],
  ];
  for (const [key, v, f] of ranges) {
    if (v === '') continue;
    try {
      f(v, maxId);
    } catch (e) {
      if (!(e instanceof AddrError)) throw e;
      r.fail(['Edge Node', key], `value ${JSON.stringify(v)}: ${e.message}${/does not fit/.test(e.message) ? ` (the largest NodeID is ${maxId})` : ''}`);
    }
  }
  return mac;
}

function interfaceSets(c: CommonInput, mac: string, id: number, width: number): { name: string; sets: [string[], unknown][] } {
  const name = c.addIdToName ? c.networkName + idStr(id, width) : c.networkName;
  return {
    name,
    sets: [
      [['NodeID'], id],
      [['NodeName'], name],
      [['Interface', 'Name'], name],
      [['Interface', 'MacAddrPrefix'], mac],
      [['Interface', 'IPv4CIDR'], c.ipv4Range],
      [['Interface', 'IPv6CIDR'], c.ipv6Range],
      [['Interface', 'IPv6LLPrefix'], c.ipv6LLRange],
    ],
  };
}

/**
 * Loads each generated file with our loader; a problem there is reported against the template (or
 * as ours), and so is a warning (e.g. an unknown key the template carries), once per kind of file.
 */
function checkLoads(r: Reader, files: readonly OutFile[], kind: (f: OutFile) => 'edge' | 'super', templateKey: (k: 'edge' | 'super') => string | undefined): void {
  const warned = new Set<string>();
  for (const f of files) {
    const k = kind(f);
    const key = templateKey(k);
    const warn = (_line: string, p: Problem) => {
      const what = `${p.path}: ${p.message}`;
      if (warned.has(`${k} ${what}`)) return;
      warned.add(`${k} ${what}`);
      r.warn(key ? [key] : [], `the generated ${f.name}${key ? ' (from the template)' : ''} loads with a warning: ${what}`);
    };
    try {
      if (k === 'edge') parseEdgeConfig(f.text, f.name, warn);
      else parseSuperConfig(f.text, f.name, warn);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      r.problems.push({
        path: key ?? '',
        message: `the generated ${f.name} would not load${key ? ' (check the template)' : ''}:\n  ${e.message.split('\n').join('\n  ')}`,
        ...(key ? r.pos([key]) : {}),
      });
    }
  }
}

/** `-cfgmode super`: the supernode config and one config per edge; problems go to `r`. */
export function generateSuper(r: Reader, c: SuperInput): Generated {
  if (c.ids.length === 0 || r.problems.length > 0) return { files: [], report: '' };
  const mac = addressing(r, c, c.ids);
  if (r.problems.length > 0) return { files: [], report: '' };
  const width = idWidth(c.ids);
  const sv4 = generateKeyPair();
  const sv6 = generateKeyPair();
  const port = c.listenPort;
  const ep4 = c.endpointV4 ? `${c.endpointV4}:${port}` : '';
  const ep6 = c.endpointV6 ? `${c.endpointV6}:${port}` : '';
  const edgeBase = baseDoc(c.edgeTemplate, defaultEdge);
  const superBase = baseDoc(c.superTemplate, defaultSuper);
  const files: OutFile[] = [];
  const peers: Record<string, unknown>[] = [];
  // The supernode announces each edge's AdditionalCost and SkipLocalIP from the edge template.
  const tmpl = edgeBase.toJS() as { DynamicRoute?: { AdditionalCost?: unknown; SuperNode?: { SkipLocalIP?: unknown } } };
  const ac = typeof tmpl.DynamicRoute?.AdditionalCost === 'number' ? tmpl.DynamicRoute.AdditionalCost : 10;
  const skip = tmpl.DynamicRoute?.SuperNode?.SkipLocalIP === true;
  for (const id of c.ids) {
    const kp = generateKeyPair();
    const psk = generatePSK();
    const { sets } = interfaceSets(c, mac, id, width);
    const text = render(edgeBase, `Edge ${id} of network ${c.networkName} (super mode), generated by etherguard gencfg -cfgmode super.`, [
      ...sets,
      [['PrivKey'], kp.privateKey],
      [['DynamicRoute', 'SuperNode', 'UseSuperNode'], true],
      [['DynamicRoute', 'P2P', 'UseP2P'], false],
      [['DynamicRoute', 'SuperNode', 'PSKey'], psk],
      [['DynamicRoute', 'SuperNode', 'EndpointV4'], ep4],
      // A key without its endpoint is never used (the loader warns about it): written only with
      // its endpoint, unlike upstream, which writes both keys always.
      [['DynamicRoute', 'SuperNode', 'PubKeyV4'], ep4 === '' ? '' : sv4.publicKey],
      [['DynamicRoute', 'SuperNode', 'EndpointV6'], ep6],
      [['DynamicRoute', 'SuperNode', 'PubKeyV6'], ep6 === '' ? '' : sv6.publicKey],
      [['DynamicRoute', 'SuperNode', 'EndpointEdgeAPIUrl'], c.edgeApiUrl],
    ]);
    files.push({ name: `${c.networkName}_edge${idStr(id, width)}.yaml`, text });
    peers.push({ NodeID: id, Name: c.networkName + idStr(id, width), PubKey: kp.publicKey, PSKey: psk, AdditionalCost: ac, SkipLocalIP: skip });
  }
  // peer/add builds a new edge's config from EdgeTemplate; without a template in the input, one
  // is written that carries this network's edge settings (interface, MAC prefix, address ranges,
  // supernode endpoints), so edges added later match the generated ones. peer/add replaces
  // NodeID, NodeName, PrivKey and the per-edge supernode values; Interface.Name stays the network
  // name (docs/gencfg.md).
  let edgeTemplate = c.edgeTemplate;
  if (edgeTemplate === '') {
    const name = `${c.networkName}_edge_template.yaml`;
    edgeTemplate = join(c.outDir, name);
    const { sets } = interfaceSets({ ...c, addIdToName: false }, mac, 0, width);
    files.push({
      name,
      text: render(edgeBase, `Edge template of network ${c.networkName} (super mode) for the supernode's peer/add (EdgeTemplate), generated by etherguard gencfg -cfgmode super. peer/add fills in NodeID, NodeName, PrivKey and DynamicRoute.SuperNode's PSKey, keys and SkipLocalIP.`, [
        ...sets,
        [['NodeName'], c.networkName],
        [['PrivKey'], 'Your_Private_Key'],
        [['DynamicRoute', 'SuperNode', 'UseSuperNode'], true],
        [['DynamicRoute', 'P2P', 'UseP2P'], false],
        [['DynamicRoute', 'SuperNode', 'PSKey'], ''],
        [['DynamicRoute', 'SuperNode', 'EndpointV4'], ep4],
        [['DynamicRoute', 'SuperNode', 'PubKeyV4'], ep4 === '' ? '' : sv4.publicKey],
        [['DynamicRoute', 'SuperNode', 'EndpointV6'], ep6],
        [['DynamicRoute', 'SuperNode', 'PubKeyV6'], ep6 === '' ? '' : sv6.publicKey],
        [['DynamicRoute', 'SuperNode', 'EndpointEdgeAPIUrl'], c.edgeApiUrl],
      ]),
    });
  }
  const superText = render(superBase, `Supernode of network ${c.networkName}, generated by etherguard gencfg -cfgmode super.`, [
    [['NodeName'], `${c.networkName}SN`],
    [['PrivKeyV4'], sv4.privateKey],
    [['PrivKeyV6'], sv6.privateKey],
    [['ListenPort'], port],
    [['ListenPort_EdgeAPI'], String(port)],
    [['ListenPort_ManageAPI'], String(port)],
    [['API_Prefix'], c.apiPrefix],
    [['EdgeTemplate'], edgeTemplate],
    [['Peers'], peers],
  ]);
  files.unshift({ name: `${c.networkName}_super.yaml`, text: superText });
  // The template is not a config of its own (placeholder key); the edges built like it are checked.
  checkLoads(r, files.filter((f) => f.name !== `${c.networkName}_edge_template.yaml`), (f) => (f.name.endsWith('_super.yaml') ? 'super' : 'edge'), (k) =>
    k === 'super' ? (c.superTemplate ? 'ConfigTemplate for super node' : undefined) : c.edgeTemplate ? 'ConfigTemplate for edge node' : undefined,
  );
  return { files, report: '' };
}

/**
 * The finite links of a matrix that the route engine has already accepted: row → column for
 * every off-diagonal value below upstream's Infinity (99999), as ts/core's parser reads them.
 */
function matrixLinks(text: string): { ids: number[]; links: [number, number, number][] } {
  let ids: number[] | undefined;
  const links: [number, number, number][] = [];
  for (const raw of text.split(/\r?\n/)) {
    const toks = raw.replace(/#.*/, '').trim().split(/\s+/).filter((t) => t !== '');
    if (toks.length === 0) continue;
    if (!ids) {
      ids = toks.slice(1).map(Number);
      continue;
    }
    const src = Number(toks[0]);
    toks.slice(1).forEach((t, i) => {
      const dst = ids![i]!;
      const v = /^\+?inf(inity)?$/i.test(t) ? Infinity : Number(t);
      if (dst !== src && v < 99999) links.push([src, dst, v]);
    });
  }
  return { ids: ids ?? [], links };
}

/** `-cfgmode static|p2p`: one config per node with its connected peers; static adds the NextHopTable. */
export function generateNm(r: Reader, c: NmInput, mode: Exclude<CfgMode, 'super'>): Generated {
  const MKEY = 'Distance matrix for all nodes';
  if (r.problems.length > 0 || c.nodes.size === 0) return { files: [], report: '' };
  const ids = [...c.nodes.keys()];
  let matrix = c.matrix;
  let links: [number, number, number][];
  if (matrix.trim() !== '') {
    try {
      solveMatrixJson(matrix);
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      const m = /^line (\d+), column (\d+): /.exec(e.message);
      r.problems.push({ path: MKEY, message: `matrix ${e.message}`, ...(m && c.matrixLine ? { line: c.matrixLine + Number(m[1]) - 1 } : r.pos([MKEY])) });
      return { files: [], report: '' };
    }
    const ml = matrixLinks(matrix);
    links = ml.links;
    for (const id of ml.ids) if (!c.nodes.has(id)) r.fail([MKEY], `NodeID ${id} is in the matrix but not in "Edge Nodes"; every matrix node needs an entry there (with its endpoint, if it has one)`);
    for (const id of ids) if (!ml.ids.includes(id)) r.fail(['Edge Nodes', String(id)], `NodeID ${id} is missing from "${MKEY}"; every node needs a row and a column`);
    const linked = new Set(links.flatMap(([a, b]) => [a, b]));
    for (const id of ml.ids) if (c.nodes.has(id) && !linked.has(id)) r.fail([MKEY], `NodeID ${id} has no link (every entry of its row and column is Inf): it could reach no one`);
  } else {
    // Without a matrix: every pair where at least one side has an endpoint, weight 1 (upstream).
    links = [];
    for (const a of ids) for (const b of ids) if (a !== b && (c.nodes.get(a) || c.nodes.get(b))) links.push([a, b, 1]);
    const row = (a: number) => `${a} ${ids.map((b) => (a === b ? '0' : links.some(([x, y]) => x === a && y === b) ? '1' : 'Inf')).join(' ')}`;
    matrix = [`X ${ids.join(' ')}`, ...ids.map(row)].join('\n') + '\n';
  }
  const pairs = new Map<string, [number, number]>();
  for (const [a, b] of links) {
    const k = a < b ? `${a}-${b}` : `${b}-${a}`;
    if (pairs.has(k)) continue;
    pairs.set(k, a < b ? [a, b] : [b, a]);
    if (!c.nodes.get(a) && !c.nodes.get(b) && c.nodes.has(a) && c.nodes.has(b)) {
      r.fail(['Edge Nodes'], `nodes ${Math.min(a, b)} and ${Math.max(a, b)} are linked${c.matrix.trim() ? ' in the matrix' : ''} but neither has "Endpoint(optional)": one of them must be reachable for the link to come up`);
    }
  }
  if (r.problems.length > 0) return { files: [], report: '' };
  let table: Table = {};
  let report = '';
  if (mode === 'static') {
    const sol = JSON.parse(solveMatrixJson(matrix)) as { NextHopTable: Table };
    table = sol.NextHopTable;
    const missing = ids.flatMap((a) => ids.filter((b) => a !== b && table[a]?.[b] === undefined).map((b) => `${a}->${b}`));
    if (missing.length > 0) {
      r.fail([c.matrix.trim() ? MKEY : 'Edge Nodes'], `static mode needs a path between every ordered pair, but there is none for ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
      return { files: [], report: '' };
    }
    report = solveMatrixText(matrix);
  }
  const mac = addressing(r, c, ids);
  if (r.problems.length > 0) return { files: [], report: '' };
  const width = idWidth(ids);
  const keys = new Map(ids.map((id) => [id, generateKeyPair()]));
  const psk = new Map(mode === 'p2p' ? [] : [...pairs.keys()].map((k) => [k, generatePSK()]));
  const base = baseDoc(c.edgeTemplate, defaultEdge);
  const files: OutFile[] = [];
  for (const id of ids) {
    const ep = c.nodes.get(id)!;
    const parsed = ep ? parseEndpoint(ep) : undefined;
    const listenPort = parsed?.ok ? parsed.value.port : 0;
    // A node nobody can reach keeps its NAT mapping open towards its peers (upstream: 30 s).
    const keepalive = ep ? 0 : 30;
    const peers = [...pairs.values()]
      .filter(([a, b]) => a === id || b === id)
      .map(([a, b]) => (a === id ? b : a))
      .sort((x, y) => x - y)
      .map((p) => ({
        NodeID: p,
        PubKey: keys.get(p)!.publicKey,
        // P2P mode uses no edge-to-edge PSKs (upstream's SetPSK is a no-op there, and discovered
        // peers have none), so a generated one would only be ignored, with a note at every start.
        PSKey: mode === 'p2p' ? '' : psk.get(id < p ? `${id}-${p}` : `${p}-${id}`)!,
        EndPoint: c.nodes.get(p)!,
        PersistentKeepalive: keepalive,
        Static: true,
      }));
    const { sets } = interfaceSets(c, mac, id, width);
    const extra: [string[], unknown][] = [];
    if (mode === 'p2p' && c.edgeTemplate === '') extra.push([['DynamicRoute', 'AdditionalCost'], 1000]);
    const text = render(base, `Edge ${id} of network ${c.networkName} (${mode} mode), generated by etherguard gencfg -cfgmode ${mode}.`, [
      ...sets,
      ...extra,
      [['PrivKey'], keys.get(id)!.privateKey],
      [['ListenPort'], listenPort],
      [['DynamicRoute', 'SuperNode', 'UseSuperNode'], false],
      [['DynamicRoute', 'SuperNode', 'PSKey'], ''],
      [['DynamicRoute', 'SuperNode', 'EndpointV4'], ''],
      [['DynamicRoute', 'SuperNode', 'PubKeyV4'], ''],
      [['DynamicRoute', 'SuperNode', 'EndpointV6'], ''],
      [['DynamicRoute', 'SuperNode', 'PubKeyV6'], ''],
      [['DynamicRoute', 'SuperNode', 'EndpointEdgeAPIUrl'], ''],
      [['DynamicRoute', 'P2P', 'UseP2P'], mode === 'p2p'],
      // Upstream empties the server list in static and p2p configs, which turns NTP off.
      [['DynamicRoute', 'NTPConfig', 'Servers'], []],
      [['NextHopTable'], intKeyed(mode === 'static' ? table : {})],
      [['Peers'], peers],
    ]);
    files.push({ name: `${c.networkName}_edge${idStr(id, width)}.yaml`, text });
  }
  checkLoads(r, files, () => 'edge', () => (c.edgeTemplate ? 'ConfigTemplate for edge node' : undefined));
  return { files, report };
}

export type { Problem };
