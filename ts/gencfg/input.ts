// Reading and checking gencfg's input YAML (upstream's gencfg/types.go SMCfg and NMCfg: keys with
// spaces, nested under "Super Node", "Edge Node" and "Edge Nodes"). Every problem names the key,
// the value and the rule; all problems of a file are collected so one run shows them all, and
// nothing is written while any remains. Nothing is resolved or dialled here: endpoints are
// checked for form only (ts/config/endpoint.ts), unlike upstream, which looked every host up.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isIPv6 } from 'node:net';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { parseEndpoint, type Problem } from '../config/index.js';
import { closestKey } from '../config/problems.js';
import { IdListError, parseNodeIds } from './ids.js';

export type CfgMode = 'super' | 'static' | 'p2p';

/** Keys shared by all three modes. */
export interface CommonInput {
  /** The input file; relative paths in it are relative to its directory, as upstream (it chdir'ed there). */
  file: string;
  outDir: string;
  overwrite: boolean;
  /** Absolute path or "" (= built-in defaults, see defaults.ts). */
  edgeTemplate: string;
  networkName: string;
  addIdToName: boolean;
  macPrefix: string;
  ipv4Range: string;
  ipv6Range: string;
  ipv6LLRange: string;
}

export interface SuperInput extends CommonInput {
  superTemplate: string;
  listenPort: number;
  apiPrefix: string;
  /** Host only, as written (IPv6 bracketed), or "". */
  endpointV4: string;
  endpointV6: string;
  edgeApiUrl: string;
  ids: number[];
}

export interface NmInput extends CommonInput {
  /** NodeID → its endpoint `host:port` as written, or "" (none). Ascending by NodeID. */
  nodes: Map<number, string>;
  /** The matrix text, or "" (full mesh of every pair where one side has an endpoint). */
  matrix: string;
  /** Line of the matrix's first text line in the input file, for error positions (0 if unknown). */
  matrixLine: number;
}

const SUPER_KEYS: Record<string, readonly string[] | null> = {
  'Config output dir': null,
  'Enable generated config overwrite': null,
  'ConfigTemplate for super node': null,
  'ConfigTemplate for edge node': null,
  'Network name': null,
  'Add NodeID to the interface name': null,
  'Super Node': ['Listen port', 'EdgeAPI prefix', 'Endpoint(IPv4)(optional)', 'Endpoint(IPv6)(optional)', 'Endpoint(EdgeAPI)'],
  'Edge Node': ['Node IDs', 'MacAddress prefix', 'IPv4 range', 'IPv6 range', 'IPv6 LL range'],
};

const NM_KEYS: Record<string, readonly string[] | null> = {
  'Config output dir': null,
  'Enable generated config overwrite': null,
  'ConfigTemplate for edge node': null,
  'Network name': null,
  'Add NodeID to the interface name': null,
  'Edge Node': ['MacAddress prefix', 'IPv4 range', 'IPv6 range', 'IPv6 LL range'],
  'Edge Nodes': null,
  'Distance matrix for all nodes': null,
};

const NAME_CHARS = /^[0-9A-Za-z_-]+$/;

/** Reads typed values out of the input document, collecting problems with their positions. */
export class Reader {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];
  private readonly lc = new LineCounter();
  readonly doc: Document;

  constructor(
    text: string,
    readonly file: string,
  ) {
    // Duplicate keys are found below (Edge Nodes IDs written twice get their own message).
    this.doc = parseDocument(text, { lineCounter: this.lc, uniqueKeys: false, prettyErrors: false });
    for (const e of this.doc.errors) {
      const pos = e.linePos?.[0];
      this.problems.push({ path: '', message: `not valid YAML: ${e.message.split('\n')[0]}`, line: pos?.line, col: pos?.col });
    }
    if (this.problems.length === 0 && !isMap(this.doc.contents)) {
      this.problems.push({ path: '', message: 'the top level must be a mapping of gencfg keys (see -example)' });
    }
  }

  node(path: readonly (string | number)[]): Node | undefined {
    return this.doc.getIn(path, true) as Node | undefined;
  }

  pos(path: readonly (string | number)[]): { line?: number; col?: number } {
    const n = this.node(path);
    const off = n?.range?.[0];
    if (off === undefined) return {};
    const { line, col } = this.lc.linePos(off);
    return { line, col };
  }

  fail(path: readonly (string | number)[], message: string): void {
    this.problems.push({ path: path.join('.'), message, ...this.pos(path) });
  }

  warn(path: readonly (string | number)[], message: string): void {
    this.warnings.push({ path: path.join('.'), message, ...this.pos(path) });
  }

  private raw(path: readonly string[]): unknown {
    const n = this.node(path);
    if (n === undefined) return undefined;
    if (isScalar(n)) return n.value;
    return isMap(n) ? 'mapping' : isSeq(n) ? 'list' : undefined;
  }

  /** A string value; absent or null reads as "" (as Go's zero value). Numbers are refused, not converted. */
  str(path: readonly string[]): string {
    const v = this.raw(path);
    if (v === undefined || v === null) return '';
    if (typeof v === 'string' && !(isMap(this.node(path)) || isSeq(this.node(path)))) return v;
    this.fail(path, `value ${JSON.stringify(v)}: must be a string (quote it)`);
    return '';
  }

  bool(path: readonly string[]): boolean {
    const v = this.raw(path);
    if (v === undefined || v === null) return false;
    if (typeof v === 'boolean') return v;
    this.fail(path, `value ${JSON.stringify(v)}: must be true or false`);
    return false;
  }

  /** Warns about keys neither mode knows (typos are silently ignored upstream). */
  unknownKeys(known: Record<string, readonly string[] | null>): void {
    const top = this.doc.contents;
    if (!isMap(top)) return;
    for (const p of top.items) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (!(k in known)) {
        const hint = closestKey(k, Object.keys(known));
        this.warn([k], `unknown key, ignored${hint ? ` (did you mean "${hint}"?)` : ''}`);
        continue;
      }
      const sub = known[k];
      if (!sub || !isMap(p.value)) continue;
      for (const q of p.value.items) {
        const k2 = isScalar(q.key) ? String(q.key.value) : String(q.key);
        if (!sub.includes(k2)) {
          const hint = closestKey(k2, sub);
          this.warn([k, k2], `unknown key, ignored${hint ? ` (did you mean "${hint}"?)` : ''}`);
        }
      }
    }
    for (const [k, sub] of Object.entries(known)) {
      if (sub && this.node([k]) !== undefined && !isMap(this.node([k])) && this.raw([k]) !== null) {
        this.fail([k], `value ${JSON.stringify(this.raw([k]))}: must be a mapping of ${sub.map((s) => `"${s}"`).join(', ')}`);
      }
    }
  }
}

/** Thrown with every problem of the input file; nothing was written. */
export class GencfgInputError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(problems.map((p) => `${p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}` : file}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
  }
}

function readCommon(r: Reader, file: string, withSuperTemplate: boolean): CommonInput & { superTemplate: string } {
  const base = dirname(resolve(file));
  const path = (key: string, mustExist: boolean): string => {
    const v = r.str([key]);
    if (v === '') return '';
    const abs = isAbsolute(v) ? v : resolve(base, v);
    if (mustExist) {
      let text: string;
      try {
        text = readFileSync(abs, 'utf8');
      } catch (e) {
        r.fail([key], `value ${JSON.stringify(v)}: cannot read the template (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; relative paths are relative to ${base})`);
        return '';
      }
      const d = parseDocument(text);
      if (d.errors.length > 0) r.fail([key], `value ${JSON.stringify(v)}: the template is not valid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
      else if (!isMap(d.contents)) r.fail([key], `value ${JSON.stringify(v)}: the template's top level must be a mapping (a config file)`);
    }
    return abs;
  };
  const outRaw = r.str(['Config output dir']);
  let outDir = '';
  if (outRaw === '') r.fail(['Config output dir'], 'value "": required; the directory the configs are written to (created 0700 if missing)');
  else {
    outDir = isAbsolute(outRaw) ? outRaw : resolve(base, outRaw);
    if (existsSync(outDir) && !statSync(outDir).isDirectory()) r.fail(['Config output dir'], `value ${JSON.stringify(outRaw)}: ${outDir} exists and is not a directory`);
  }
  const networkName = r.str(['Network name']);
  if (networkName === '' || networkName.length > 10 || !NAME_CHARS.test(networkName)) {
    r.fail(['Network name'], `value ${JSON.stringify(networkName)}: must be 1 to 10 characters from 0-9 a-z A-Z _ - (it starts every NodeName, interface name and file name)`);
  }
  return {
    file,
    outDir,
    overwrite: r.bool(['Enable generated config overwrite']),
    edgeTemplate: path('ConfigTemplate for edge node', true),
    superTemplate: withSuperTemplate ? path('ConfigTemplate for super node', true) : '',
    networkName,
    addIdToName: r.bool(['Add NodeID to the interface name']),
    macPrefix: r.str(['Edge Node', 'MacAddress prefix']),
    ipv4Range: r.str(['Edge Node', 'IPv4 range']),
    ipv6Range: r.str(['Edge Node', 'IPv6 range']),
    ipv6LLRange: r.str(['Edge Node', 'IPv6 LL range']),
  };
}

/**
 * Reads `-cfgmode super` input. Throws GencfgInputError listing every problem; warnings (unknown
 * keys) go to `warn`. Address ranges and the MAC prefix are checked against the IDs in checks.ts.
 */
export function readSuperInput(text: string, file: string): { input: SuperInput; reader: Reader } {
  const r = new Reader(text, file);
  if (r.problems.length > 0) throw new GencfgInputError(file, r.problems);
  r.unknownKeys(SUPER_KEYS);
  const c = readCommon(r, file, true);
  const sn = (k: string) => ['Super Node', k];
  const portV = r.node(sn('Listen port'));
  let listenPort = 0;
  const pv = isScalar(portV) ? portV.value : undefined;
  if (typeof pv === 'number' && Number.isInteger(pv) && pv >= 1 && pv <= 65535) listenPort = pv;
  else r.fail(sn('Listen port'), `value ${JSON.stringify(pv ?? null)}: must be a UDP port number 1..65535 (the supernode's WireGuard and HTTP port)`);
  const v4 = r.str(sn('Endpoint(IPv4)(optional)')).trim();
  const v6 = r.str(sn('Endpoint(IPv6)(optional)')).trim();
  const port = listenPort || 3000;
  const bare = v4.replace(/^\[(.*)\]$/, '$1');
  if (v4 !== '' && isIPv6(bare)) {
    // Checked first: as "host:port" an unbracketed IPv6 address only fails for want of brackets.
    r.fail(sn('Endpoint(IPv4)(optional)'), `value ${JSON.stringify(v4)}: an IPv6 address; put it under "Endpoint(IPv6)(optional)", in brackets: [${bare}]`);
  } else if (v4 !== '') {
    const e = parseEndpoint(`${v4}:${port}`);
    if (!e.ok) r.fail(sn('Endpoint(IPv4)(optional)'), `value ${JSON.stringify(v4)}: not a host (an IPv4 address or a DNS name, without port; the listen port is appended): ${e.problem}`);
    else if (e.value.kind === 'v6') r.fail(sn('Endpoint(IPv4)(optional)'), `value ${JSON.stringify(v4)}: an IPv6 address; put it under "Endpoint(IPv6)(optional)" (in brackets)`);
  }
  if (v6 !== '') {
    if (v6.includes(':') && !(v6.startsWith('[') && v6.endsWith(']'))) {
      r.fail(sn('Endpoint(IPv6)(optional)'), `value ${JSON.stringify(v6)}: an IPv6 address must be in brackets, like [${v6}] (the listen port is appended after it)`);
    } else {
      const e = parseEndpoint(`${v6}:${port}`);
      if (!e.ok) r.fail(sn('Endpoint(IPv6)(optional)'), `value ${JSON.stringify(v6)}: not a host (a bracketed IPv6 address or a DNS name, without port): ${e.problem}`);
      else if (e.value.kind === 'v4') r.fail(sn('Endpoint(IPv6)(optional)'), `value ${JSON.stringify(v6)}: an IPv4 address; put it under "Endpoint(IPv4)(optional)"`);
    }
  }
  if (v4 === '' && v6 === '') {
    r.fail(['Super Node'], 'gives neither "Endpoint(IPv4)(optional)" nor "Endpoint(IPv6)(optional)": edges need at least one address of the supernode');
  }
  const edgeApiUrl = r.str(sn('Endpoint(EdgeAPI)')).trim();
  let url: URL | undefined;
  try {
    url = new URL(edgeApiUrl);
  } catch {
    /* below */
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    r.fail(sn('Endpoint(EdgeAPI)'), `value ${JSON.stringify(edgeApiUrl)}: must be an http:// or https:// URL ending in the EdgeAPI prefix, like http://sn.example:3000/eg_api`);
  }
  const idsText = r.str(['Edge Node', 'Node IDs']);
  let ids: number[] = [];
  try {
    ids = parseNodeIds(idsText);
  } catch (e) {
    if (!(e instanceof IdListError)) throw e;
    r.fail(['Edge Node', 'Node IDs'], `value ${JSON.stringify(idsText)}: ${e.message}`);
  }
  const v: SuperInput = {
    ...c,
    listenPort,
    apiPrefix: r.str(sn('EdgeAPI prefix')),
    endpointV4: v4,
    endpointV6: v6,
    edgeApiUrl,
    ids,
  };
  return { input: v, reader: r };
}

/** Reports the warnings, then throws GencfgInputError if any problem was collected. */
export function endInput(r: Reader, warn: (p: Problem) => void): void {
  for (const w of r.warnings) warn(w);
  if (r.problems.length > 0) throw new GencfgInputError(r.file, r.problems);
}

/** Reads `-cfgmode static|p2p` input (upstream NMCfg). Same error contract as readSuperInput. */
export function readNmInput(text: string, file: string): { input: NmInput; reader: Reader } {
  const r = new Reader(text, file);
  if (r.problems.length > 0) throw new GencfgInputError(file, r.problems);
  r.unknownKeys(NM_KEYS);
  const c = readCommon(r, file, false);
  const nodes = new Map<number, string>();
  const en = r.node(['Edge Nodes']);
  if (!isMap(en)) {
    r.fail(['Edge Nodes'], `value ${JSON.stringify(isScalar(en) ? en.value : en === undefined ? null : 'list')}: must be a mapping NodeID → {Endpoint(optional): host:port}`);
  } else {
    for (const pair of en.items) {
      const kv = isScalar(pair.key) ? pair.key.value : undefined;
      const key = String(kv);
      const id = typeof kv === 'number' ? kv : typeof kv === 'string' && /^[0-9]+$/.test(kv) ? Number(kv) : NaN;
      if (!Number.isInteger(id) || id < 0 || id > 65531) {
        r.fail(['Edge Nodes', key], `NodeID ${JSON.stringify(kv)}: must be a whole number 0..65531 (65532..65535 are reserved)`);
        continue;
      }
      if (nodes.has(id)) {
        r.fail(['Edge Nodes', key], `NodeID ${id}: listed twice; every node appears once`);
        continue;
      }
      let ep = '';
      const val = pair.value as Node | null;
      if (val !== null && !(isScalar(val) && val.value === null)) {
        if (!isMap(val)) {
          r.fail(['Edge Nodes', key], `value ${JSON.stringify(isScalar(val) ? val.value : 'list')}: must be a mapping {Endpoint(optional): host:port} (or empty)`);
        } else {
          for (const q of val.items) {
            const k2 = isScalar(q.key) ? String(q.key.value) : String(q.key);
            if (k2 !== 'Endpoint(optional)') r.warn(['Edge Nodes', key, k2], 'unknown key, ignored (each node has only "Endpoint(optional)")');
          }
          const e = val.get('Endpoint(optional)', true);
          const ev = isScalar(e) ? e.value : undefined;
          if (ev === undefined || ev === null) ep = '';
          else if (typeof ev !== 'string') r.fail(['Edge Nodes', key, 'Endpoint(optional)'], `value ${JSON.stringify(ev)}: must be a string host:port`);
          else ep = ev.trim();
        }
      }
      if (ep !== '') {
        const p = parseEndpoint(ep);
        if (!p.ok) {
          r.problems.push({ path: `Edge Nodes.${key}.Endpoint(optional)`, message: `value ${JSON.stringify(ep)}: not an endpoint host:port (IPv6 as [addr]:port): ${p.problem}`, ...r.pos(['Edge Nodes', pair.key as never, 'Endpoint(optional)']) });
          ep = '';
        }
      }
      nodes.set(id, ep);
    }
    if (nodes.size === 0 && r.problems.length === 0) r.fail(['Edge Nodes'], 'lists no node; a network needs at least two');
  }
  const sorted = new Map([...nodes.entries()].sort((a, b) => a[0] - b[0]));
  const m = r.node(['Distance matrix for all nodes']);
  const matrix = r.str(['Distance matrix for all nodes']);
  let matrixLine = 0;
  if (isScalar(m) && m.range) {
    // A block scalar's text starts on the line after its indicator (`|-`).
    const start = r.pos(['Distance matrix for all nodes']).line ?? 0;
    matrixLine = m.type === 'BLOCK_LITERAL' || m.type === 'BLOCK_FOLDED' ? start + 1 : start;
  }
  const v: NmInput = { ...c, nodes: sorted, matrix, matrixLine };
  return { input: v, reader: r };
}
