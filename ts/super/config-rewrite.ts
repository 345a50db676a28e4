// Rewriting the supernode's YAML after manage-API changes, and the edge YAML peer/add returns.
// The file is re-read and edited through the `yaml` Document API, so comments, key order and
// anything edited by hand meanwhile survive; writes are atomic and serialised. A change is a
// transaction: the edited file must load with the config loader before the running supernode
// changes and before anything is written.
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, isSeq, parseDocument, YAMLMap, type Document } from 'yaml';
import { ConfigError, formatProblem, generateKeyPair, writeConfigAtomic, type Problem, type SuperConfig, type SuperPeerInfo } from '../config/index.js';
import { prepareConfigWrite, type PreparedWrite } from '../config/atomic.js';
import { superModeEdgeConfig } from '../config/examples.js';
import { parseEdge, parseSuper } from '../config/validate.js';

/** A manage-API change refused before anything changed: the HTTP status and a message naming the parameter and the rule. */
export class Refused {
  constructor(
    readonly status: number,
    readonly message: string,
  ) {}
}

export type EditCheck =
  | { ok: true; text: string; config: SuperConfig; doc: Document }
  /** `introduced`: problems the edit adds; `before`: problems the unedited text already has (both located in their text). */
  | { ok: false; introduced: Problem[]; before: Problem[] };

const sameProblem = (a: Problem, b: Problem) => a.path === b.path && a.message === b.message;

function problemsOf(text: string, name: string): Problem[] {
  try {
    parseSuper(text, name);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
}

/**
 * Applies `edit` to the supernode config YAML `base` and loads the result with the config loader
 * (ts/config/validate.ts parseSuper: the schema and every cross-field rule the supernode's start
 * applies), so a change is accepted exactly when the file it writes would load. `name` prefixes
 * the problems. Pure apart from `edit`; never throws for bad YAML or bad values (they are
 * problems), only for a failing `edit`.
 */
export function checkEdit(base: string, name: string, edit: (doc: Document) => void, parsed?: Document): EditCheck {
  // `parsed`: a document of exactly `base` (ConfigWriter's copy of what it wrote last), so the
  // file is not parsed twice per change.
  const doc = parsed ?? parseDocument(base, { keepSourceTokens: false });
  if (doc.errors.length > 0) return { ok: false, introduced: [], before: problemsOf(base, name) };
  edit(doc);
  const text = doc.toString({ lineWidth: 0 });
  try {
    return { ok: true, text, config: parseSuper(text, name).config, doc };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const before = problemsOf(base, name);
    return { ok: false, introduced: e.problems.filter((p) => !before.some((b) => sameProblem(p, b))), before };
  }
}

/**
 * How a problem of the edited config reads in an API answer: a peer's key as the parameter of
 * the same name (`AdditionalCost: must be ... (config key Peers[2].AdditionalCost)`), anything
 * else by its config path.
 */
export function apiProblem(p: Problem): string {
  const m = /^Peers\[\d+\]\.(\w+)$/.exec(p.path);
  return m ? `${m[1]}: ${p.message} (config key ${p.path})` : p.path === '' ? p.message : `${p.path}: ${p.message}`;
}

export class ConfigWriter {
  private chain: Promise<unknown> = Promise.resolve();
  /** The text this writer last wrote and its document: reused while the file still holds exactly that text. */
  private last?: { text: string; doc: Document };

  constructor(
    private readonly path: string | undefined,
    private readonly onError: (msg: string) => void,
  ) {}

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Applies `edit` to the file's current document and writes it back; never rejects. */
  update(what: string, edit: (doc: Document) => void): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    return this.enqueue(async () => {
      try {
        const doc = parseDocument(await readFile(path, 'utf8'), { keepSourceTokens: false });
        if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
        edit(doc);
        await writeConfigAtomic(path, doc.toString({ lineWidth: 0 }));
      } catch (e) {
        this.onError(`cannot rewrite ${path} (${what}): ${(e as Error).message}`);
      }
    });
  }

  /**
   * One manage-API change as a transaction, serialised with every other rewrite. The config file
   * as it is now (or `snapshot()`, the running config as YAML, when there is no file) with `edit`
   * applied must load with the config loader (checkEdit); otherwise the answer is a Refused 400
   * listing the problems the edit introduced (409 when the file did not load even before). Then
   * the new text is written to a temp file beside the config and synced (prepareConfigWrite): a
   * full disk, a read-only file system or a permission problem is answered 500 naming the error,
   * with nothing changed (neither the running supernode nor the old file). Then
   * `apply(next)` gets the loaded new config and changes the running supernode (it may still
   * return a Refused, before changing anything; the temp file is then removed), and the temp
   * file is renamed over the config. Only a failing rename (after the running change) is
   * logged and answered 500 with the running change kept.
   */
  change<T>(what: string, edit: (doc: Document) => void, snapshot: () => string, apply: (next: SuperConfig) => Promise<T | Refused> | T | Refused): Promise<T | Refused> {
    const path = this.path;
    return this.enqueue(async () => {
      let base: string;
      try {
        base = path ? await readFile(path, 'utf8') : snapshot();
      } catch (e) {
        return new Refused(500, `cannot read the config file ${path}: ${(e as Error).message}; nothing changed`);
      }
      const name = path ?? 'running config';
      // The cached document is edited in place (no clone, which cost as much as a parse); it
      // stays cached only if this change is written, so a refused change cannot leave it edited.
      const cached = this.last?.text === base ? this.last.doc : undefined;
      this.last = undefined;
      const r = checkEdit(base, name, edit, cached);
      if (!r.ok) {
        if (r.before.length > 0 && (path !== undefined || r.introduced.length === 0)) {
          const where = path ? `the config file ${path} does not load as it is now (edited by hand?)` : 'the running config does not load as it is now';
          return new Refused(409, `${where}, so no change is made; fix it first: ${r.before.map((p) => formatProblem(name, p)).join('; ')}`);
        }
        return new Refused(400, r.introduced.map(apiProblem).join('; '));
      }
      let prepared: PreparedWrite | undefined;
      if (path) {
        try {
          prepared = await prepareConfigWrite(path, r.text);
        } catch (e) {
          this.onError(`cannot rewrite ${path} (${what}): ${(e as Error).message}; nothing changed`);
          return new Refused(500, `cannot write the config file ${path}: ${(e as Error).message}; nothing changed`);
        }
      }
      let out: T | Refused;
      try {
        out = await apply(r.config);
      } catch (e) {
        await prepared?.abort();
        throw e;
      }
      if (out instanceof Refused) {
        await prepared?.abort();
        return out;
      }
      if (prepared) {
        try {
          await prepared.commit();
          this.last = { text: r.text, doc: r.doc };
        } catch (e) {
          this.last = undefined;
          this.onError(`cannot rewrite ${path} (${what}): ${(e as Error).message}`);
          return new Refused(500, `the running supernode changed (${what}) but the config file ${path} could not be replaced: ${(e as Error).message}`);
        }
      }
      return out;
    });
  }

  /** Resolves once every queued rewrite is done. */
  async flush(): Promise<void> {
    await this.chain;
  }
}

/** Index of the Peers item with this NodeID, or -1. */
function peerIndex(doc: Document, id: number): number {
  const seq = doc.get('Peers');
  if (!isSeq(seq)) return -1;
  return seq.items.findIndex((it) => isMap(it) && Number((it as YAMLMap).get('NodeID')) === id);
}

export function addPeerToDoc(doc: Document, p: SuperPeerInfo): void {
  const seq = doc.get('Peers');
  const node = doc.createNode({ ...p });
  if (isSeq(seq)) {
    if (seq.items.length === 0) seq.flow = false;
    seq.items.push(node);
  } else {
    doc.set('Peers', doc.createNode([p]));
  }
}

/** Returns whether the file had that peer. */
export function delPeerFromDoc(doc: Document, id: number): boolean {
  const i = peerIndex(doc, id);
  if (i >= 0) doc.deleteIn(['Peers', i]);
  return i >= 0;
}

/** Returns whether the file had that peer. */
export function updatePeerInDoc(doc: Document, id: number, fields: Partial<SuperPeerInfo>): boolean {
  const i = peerIndex(doc, id);
  if (i < 0) return false;
  for (const [k, v] of Object.entries(fields)) doc.setIn(['Peers', i, k], v);
  return true;
}

export function setTopLevel(doc: Document, fields: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(fields)) doc.set(k, doc.createNode(v));
}

const isPlain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
/** A decimal key as the integer upstream writes (`1:`), anything else as it is (for the loader to name). */
const intKey = (k: string): string | number => (/^(0|[1-9][0-9]{0,8})$/.test(k) ? Number(k) : k);

/**
 * Sets NextHopTable with integer keys, as upstream and our example write it. `t` comes from an
 * API parameter and is written as it is where it is not a table, so the loader reports it.
 */
export function setNextHopTable(doc: Document, t: unknown): void {
  if (!isPlain(t)) {
    doc.set('NextHopTable', doc.createNode(t));
    return;
  }
  const m = new Map(Object.entries(t).map(([s, row]) => [intKey(s), isPlain(row) ? new Map(Object.entries(row).map(([d, h]) => [intKey(d), h])) : row]));
  doc.set('NextHopTable', doc.createNode(m));
}

export interface EdgeFill {
  NodeID: number;
  NodeName: string;
  PSKey: string;
  PubKeyV4: string;
  PubKeyV6: string;
  /** Used only where the template leaves them empty. */
  EndpointV4: string;
  EndpointV6: string;
  EndpointEdgeAPIUrl: string;
  AdditionalCost: number;
  SkipLocalIP: boolean;
}

/** What peer/add writes for the private key the new edge's admin fills in (as upstream). */
export const PRIVKEY_PLACEHOLDER = 'Your_Private_Key';

/** Keys whose value peer/add replaces: a template's comments on them describe its values, not this edge's. */
const REPLACED: readonly (readonly string[])[] = [
  ['NodeID'], ['NodeName'], ['PrivKey'], ['NextHopTable'], ['Peers'], ['DynamicRoute', 'AdditionalCost'], ['DynamicRoute', 'P2P', 'UseP2P'],
  ...['UseSuperNode', 'PSKey', 'PubKeyV4', 'PubKeyV6', 'EndpointV4', 'EndpointV6', 'EndpointEdgeAPIUrl', 'SkipLocalIP'].map((k) => ['DynamicRoute', 'SuperNode', k]),
];

function dropComments(doc: Document, path: readonly string[]): void {
  let node: unknown = doc.contents;
  for (const [i, seg] of path.entries()) {
    if (!isMap(node)) return;
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
    if (!pair) return;
    if (i === path.length - 1) {
      for (const n of [pair.key, pair.value]) {
        if (isNode(n)) {
          n.commentBefore = undefined;
          n.comment = undefined;
        }
      }
    }
    node = pair.value;
  }
}

/**
 * The edge config peer/add hands out: the template (or, without one, a commented super-mode
 * edge config, config/examples.ts superModeEdgeConfig) with this edge's identity and the
 * supernode's keys filled in, static-mode parts emptied. The template's header and its comments
 * on the replaced keys are replaced by ones that describe this file. Throws when the template is
 * not YAML or not a mapping.
 */
export function edgeConfigYaml(template: string | undefined, f: EdgeFill, privKey = PRIVKEY_PLACEHOLDER): string {
  const doc = parseDocument(template ?? superModeEdgeConfig({ NodeID: f.NodeID, NodeName: f.NodeName }));
  if (doc.errors.length > 0) throw new Error(`EdgeTemplate: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new Error('EdgeTemplate: the top level is not a mapping');
  if (template !== undefined) {
    for (const p of REPLACED) dropComments(doc, p);
    doc.commentBefore = ` Etherguard edge config of node ${f.NodeID} (${f.NodeName}) in super mode, from the supernode's peer/add (built from its EdgeTemplate).`;
    if (privKey === PRIVKEY_PLACEHOLDER) {
      const pk = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'PrivKey');
      if (pk && isNode(pk.key)) pk.key.commentBefore = " This node's private key goes here: the one whose public key was given to peer/add.";
    }
  }
  const SN = ['DynamicRoute', 'SuperNode'];
  const keepOr = (path: string[], v: string) => {
    const cur = doc.getIn(path);
    doc.setIn(path, typeof cur === 'string' && cur !== '' && template !== undefined ? cur : v);
  };
  doc.set('NodeID', f.NodeID);
  doc.set('NodeName', f.NodeName);
  doc.set('PrivKey', privKey);
  doc.setIn([...SN, 'UseSuperNode'], true);
  doc.setIn(['DynamicRoute', 'P2P', 'UseP2P'], false);
  doc.setIn([...SN, 'PSKey'], f.PSKey);
  doc.setIn([...SN, 'PubKeyV4'], f.PubKeyV4);
  doc.setIn([...SN, 'PubKeyV6'], f.PubKeyV6);
  // A session needs both its key and its endpoint: a family without either gets neither.
  for (const fam of ['4', '6'] as const) {
    const ep = [...SN, `EndpointV${fam}`];
    const pk = [...SN, `PubKeyV${fam}`];
    if (f[`PubKeyV${fam}`]) keepOr(ep, f[`EndpointV${fam}`]);
    else doc.setIn(ep, '');
    if (doc.getIn(ep) === '') doc.setIn(pk, '');
  }
  keepOr([...SN, 'EndpointEdgeAPIUrl'], f.EndpointEdgeAPIUrl);
  doc.setIn([...SN, 'SkipLocalIP'], f.SkipLocalIP);
  // -1 = the edge keeps its own AdditionalCost: leave the template's value.
  if (f.AdditionalCost >= 0) doc.setIn(['DynamicRoute', 'AdditionalCost'], f.AdditionalCost);
  doc.set('NextHopTable', doc.createNode({}));
  doc.set('Peers', doc.createNode([]));
  return doc.toString({ lineWidth: 0 });
}

/**
 * What the edge loader (ts/config/validate.ts parseEdge, as `-mode edge` runs it) says about the
 * config edgeConfigYaml() builds, with a fresh private key in place of the placeholder; [] means
 * it loads. A broken template shows up here rather than at the new edge.
 */
export function edgeConfigProblems(template: string | undefined, f: EdgeFill): Problem[] {
  let text: string;
  try {
    text = edgeConfigYaml(template, f, generateKeyPair().privateKey);
  } catch (e) {
    return [{ path: '', message: (e as Error).message }];
  }
  try {
    parseEdge(text, 'edge config');
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
}
