// Rewriting the supernode's YAML after manage-API changes, and the edge YAML peer/add returns.
// The file is re-read and edited through the `yaml` Document API, so comments, key order and
// anything edited by hand meanwhile survive; writes are atomic and serialised.
import { readFile } from 'node:fs/promises';
import { isMap, isSeq, parseDocument, YAMLMap, type Document } from 'yaml';
import { exampleEdgeConfig, writeConfigAtomic, type SuperPeerInfo } from '../config/index.js';

export class ConfigWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string | undefined,
    private readonly onError: (msg: string) => void,
  ) {}

  /** Applies `edit` to the file's current document and writes it back; never rejects. */
  update(what: string, edit: (doc: Document) => void): Promise<void> {
    const path = this.path;
    if (!path) return Promise.resolve();
    const run = async () => {
      try {
        const doc = parseDocument(await readFile(path, 'utf8'), { keepSourceTokens: false });
        if (doc.errors.length > 0) throw new Error(doc.errors[0].message);
        edit(doc);
        await writeConfigAtomic(path, doc.toString({ lineWidth: 0 }));
      } catch (e) {
        this.onError(`cannot rewrite ${path} (${what}): ${(e as Error).message}`);
      }
    };
    this.chain = this.chain.then(run);
    return this.chain;
  }

  /** Resolves once every queued rewrite is done. */
  flush(): Promise<void> {
    return this.chain;
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

export function delPeerFromDoc(doc: Document, id: number): void {
  const i = peerIndex(doc, id);
  if (i >= 0) doc.deleteIn(['Peers', i]);
}

export function updatePeerInDoc(doc: Document, id: number, fields: Partial<SuperPeerInfo>): void {
  const i = peerIndex(doc, id);
  if (i < 0) return;
  for (const [k, v] of Object.entries(fields)) doc.setIn(['Peers', i, k], v);
}

export function setTopLevel(doc: Document, fields: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(fields)) doc.set(k, doc.createNode(v));
}

/** NextHopTable with integer keys, as upstream and our example write it. */
export function setNextHopTable(doc: Document, t: Record<string, Record<string, number>>): void {
  const m = new Map(Object.entries(t).map(([s, row]) => [Number(s), new Map(Object.entries(row).map(([d, h]) => [Number(d), h]))]));
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

/**
 * The edge config peer/add hands out: the template (or our example edge config) with this
 * edge's identity and the supernode's keys filled in, static-mode parts emptied.
 */
export function edgeConfigYaml(template: string | undefined, f: EdgeFill): string {
  const doc = parseDocument(template ?? exampleEdgeConfig());
  if (doc.errors.length > 0) throw new Error(`EdgeTemplate: ${doc.errors[0].message}`);
  if (!isMap(doc.contents)) throw new Error('EdgeTemplate: the top level is not a mapping');
  const SN = ['DynamicRoute', 'SuperNode'];
  const keepOr = (path: string[], v: string) => {
    const cur = doc.getIn(path);
    doc.setIn(path, typeof cur === 'string' && cur !== '' && template !== undefined ? cur : v);
  };
  doc.set('NodeID', f.NodeID);
  doc.set('NodeName', f.NodeName);
  doc.set('PrivKey', 'Your_Private_Key');
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
