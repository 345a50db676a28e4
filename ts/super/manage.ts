// What the manage API does (ts/super/api/manage-*.ts are its HTTP face). Every endpoint that
// writes is one transaction of the peer store (SuperStore.change, ts/super/store.ts): the config
// with the change must load with the config loader before the running supernode changes and the
// store (the config file, or etcd) makes it durable. Answers and refusals are upstream's
// (docs/supernode.md, "Manage API").
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { formatProblem, keyProblem, publicKeyOf, type NodeIdTable, type SuperConfig, type SuperPeerInfo } from '../config/index.js';
import { livenessProblems, type LivenessKey } from '../config/rules/super.js';
import type { ManageApi, Params, RequestOrigin } from './api/service.js';
import type { AuthLimiter } from './auth.js';
import {
  addPeerToDoc, delPeerFromDoc, edgeConfigProblems, edgeConfigYaml, Refused, setNextHopTable, setTopLevel, updatePeerInDoc, type EdgeFill,
} from './config-rewrite.js';
import { resolveConfigPath } from './config-paths.js';
import { edgeEndpoints, type EndpointSource } from './endpoints.js';
import type { EdgeRec } from './state.js';
import type { SuperStore } from './store.js';
import type { HttpState } from './types.js';

/** The parts of the running supernode the manage API reads and changes. */
export interface ManageTarget extends EndpointSource {
  readonly cfg: SuperConfig;
  /** The peer store every write goes through. */
  readonly writer: SuperStore;
  readonly edges: ReadonlyMap<number, EdgeRec>;
  readonly routes: { readonly staticMode: boolean; readonly nhTable: NodeIdTable; setStatic(t: NodeIdTable): unknown };
  readonly limiter: AuthLimiter;
  readonly log: { info(m: string): void; error(m: string): void };
  /** The config file; relative file paths in the config are relative to its directory (undefined: no file, the current directory). */
  readonly configPath: string | undefined;
  state(): HttpState;
  addEdge(conf: SuperPeerInfo): Promise<unknown>;
  removeEdge(id: number): Promise<boolean>;
  /** After SuperParams changed: new hashes pushed. */
  paramsChanged(): void;
  /** The supernode's public keys per family ("" when that family is off). */
  publicKeys(): { 4: string; 6: string };
}

/** The running config as YAML: what a change is checked against when there is no config file. */
const snapshot = (cfg: SuperConfig) => () => stringify(cfg);

/** A StaticMode NextHopTable parameter: JSON text → value for the loader to check, or the problem. */
function tableParam(v: unknown): { table: unknown } | string {
  try {
    return { table: JSON.parse(v as string) as unknown };
  } catch {
    return 'NextHopTable is not valid JSON (expected {"src": {"dst": next}, ...})';
  }
}

/** The StaticMode table without node `id` (its row and its column). */
function withoutNode(t: NodeIdTable, id: number): NodeIdTable {
  const out: NodeIdTable = {};
  for (const [s, row] of Object.entries(t)) {
    if (Number(s) !== id) out[s] = Object.fromEntries(Object.entries(row).filter(([d]) => Number(d) !== id));
  }
  return out;
}

type SuperParamsKey = 'PeerAliveTimeout' | 'DampingFilterRadius' | 'SendPingInterval' | 'HttpPostInterval';

/**
 * The super/update parameters that were given (nothing checked: the change is checked as a whole
 * by the config loader, against the values after the update, so upstream bug #12 cannot recur).
 */
export function superUpdate(p: Params): Partial<Record<SuperParamsKey, number>> {
  const upd: Partial<Record<SuperParamsKey, number>> = {};
  for (const k of ['PeerAliveTimeout', 'DampingFilterRadius', 'SendPingInterval', 'HttpPostInterval'] as const) {
    if (p[k] !== undefined) upd[k] = p[k] as number;
  }
  return upd;
}

/**
 * super/update's refusal of timer values that break liveness although a config file with them
 * loads (only with a warning, as upstream's loader accepts them; upstream's super/update refuses
 * SendPingInterval >= PeerAliveTimeout). `after` holds the values the update would produce (s),
 * `given` the parameters sent: a rule counts only when the update sets one of its keys, so a
 * file that already loaded with such a warning can still get other updates. Values out of range
 * are left to the loader, whose message names the real problem. Returns the 400 or null.
 */
export function livenessRefusal(after: Readonly<Record<LivenessKey, number>>, given: readonly string[]): Refused | null {
  if (!Object.values(after).every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) return null;
  const bad = livenessProblems(after).filter((p) => p.loads && p.keys.some((k) => given.includes(k)));
  if (bad.length === 0) return null;
  const what = bad.map((p) => `${p.keys[0]}: ${p.message} (${p.keys.map((k) => `${k}=${after[k]}`).join(', ')} after this update)`);
  return new Refused(400, `${what.join('; ')}; nothing changed`);
}

export class ManageService implements ManageApi {
  constructor(private readonly sn: ManageTarget) {}

  state(): HttpState {
    return this.sn.state();
  }

  /**
   * peer/add: 409 on a duplicate NodeID/Name/PubKey (checked before the change and again inside
   * it, against the state it is based on), 400 on bad parameters or a config that would not load,
   * 500 when the edge YAML built from EdgeTemplate would not load. Returns the edge YAML.
   */
  async addPeer(p: Params, origin: RequestOrigin, hint: (m: string) => string): Promise<string | Refused> {
    const sn = this.sn;
    const cfg = sn.cfg;
    for (const k of ['NodeID', 'Name', 'AdditionalCost', 'PubKey']) if (p[k] === undefined) return new Refused(400, `${k} is required`);
    const id = p.NodeID as number;
    const name = p.Name as string;
    const pub = p.PubKey as string;
    const clash = (): Refused | null => {
      for (const q of cfg.Peers) {
        if (q.NodeID === id) return new Refused(409, `NodeID ${id} already exists`);
        if (q.Name === name) return new Refused(409, `Name ${name} already exists`);
        if (q.PubKey === pub) return new Refused(409, `PubKey already exists (NodeID ${q.NodeID})`);
      }
      return null;
    };
    const early = clash();
    if (early) return early;
    let nh: unknown;
    if (sn.routes.staticMode) {
      if (p.NextHopTable === undefined) return new Refused(400, 'NextHopTable is required in StaticMode (JSON covering every ordered pair of peers)');
      const t = tableParam(p.NextHopTable);
      if (typeof t === 'string') return new Refused(400, t);
      nh = t.table;
    }
    let template: string | undefined;
    if (cfg.EdgeTemplate) {
      // Relative to the config file's directory, resolved on every peer/add so a template
      // created or moved after the start is found (ts/super/config-paths.ts).
      const at = resolveConfigPath('EdgeTemplate', cfg.EdgeTemplate, sn.configPath);
      if (at.warning) sn.log.error(at.warning);
      try {
        template = await readFile(at.path, 'utf8');
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return new Refused(500, `cannot read EdgeTemplate ${cfg.EdgeTemplate} at ${at.path} (${at.how}): ${err.code ?? err.message}; nothing changed`);
      }
    }
    const addrs = await edgeEndpoints(sn, origin);
    const own = sn.publicKeys();
    // Written as given; the loader decides (schema, key format, own key, uniqueness, static table).
    const entry = { NodeID: id, Name: name, PubKey: pub, PSKey: p.PSKey ?? '', AdditionalCost: p.AdditionalCost, SkipLocalIP: p.SkipLocalIP ?? false, EndPoint: '', ExternalIP: '' };
    const out = await sn.writer.change(
      'peer/add',
      (doc) => {
        addPeerToDoc(doc, entry as SuperPeerInfo);
        if (nh !== undefined) setNextHopTable(doc, nh);
      },
      snapshot(cfg),
      async (next) => {
        const late = clash();
        if (late) return late;
        const conf = next.Peers.find((q) => q.NodeID === id)!;
        const fill: EdgeFill = { ...addrs, NodeID: id, NodeName: conf.Name, PSKey: conf.PSKey, PubKeyV4: own[4], PubKeyV6: own[6], AdditionalCost: conf.AdditionalCost, SkipLocalIP: conf.SkipLocalIP };
        const bad = edgeConfigProblems(template, fill);
        if (bad.length > 0) {
          const from = cfg.EdgeTemplate ? `EdgeTemplate ${cfg.EdgeTemplate}` : 'the example edge config';
          return new Refused(500, `the edge config built from ${from} would not load, so nothing changed: ${bad.map((x) => formatProblem('edge config', x)).join('; ')}`);
        }
        const yaml = edgeConfigYaml(template, fill);
        cfg.Peers.push(conf);
        const added = sn.addEdge(conf);
        if (nh !== undefined) {
          cfg.NextHopTable = next.NextHopTable;
          sn.routes.setStatic(next.NextHopTable);
        }
        await added;
        return yaml;
      },
    );
    if (out instanceof Refused) return new Refused(out.status, hint(out.message));
    sn.log.info(`peer added: NodeID ${id} (${name})`);
    sn.paramsChanged();
    return out;
  }

  /**
   * peer/del by NodeID, or (`byKey`, no password presented) by the edge's own PrivKey; a PrivKey
   * that matches no peer counts as a failed attempt of client `ip`. 404 unknown; in StaticMode a
   * table that no longer loads without the node is a 400 asking for NextHopTable.
   */
  async delPeer(p: Params, byKey: boolean, ip: string, hint: (m: string) => string): Promise<string | Refused> {
    const sn = this.sn;
    const cfg = sn.cfg;
    let id = p.NodeID as number | undefined;
    if (byKey || id === undefined) {
      const priv = p.PrivKey as string | undefined;
      if (priv === undefined) return new Refused(400, 'NodeID is required (or PrivKey, the edge\'s own private key)');
      if (keyProblem(priv)) return new Refused(400, hint(`PrivKey ${keyProblem(priv)}`));
      const pub = publicKeyOf(priv);
      const q = cfg.Peers.find((x) => x.PubKey === pub);
      if (!q) {
        sn.limiter.fail(ip);
        return new Refused(404, 'no peer has the public key of this PrivKey');
      }
      id = q.NodeID;
    }
    const gone = sn.edges.get(id);
    if (!gone || gone.removing) return new Refused(404, `NodeID ${id} not found`);
    let nh: unknown;
    if (sn.routes.staticMode) {
      if (p.NextHopTable !== undefined) {
        const t = tableParam(p.NextHopTable);
        if (typeof t === 'string') return new Refused(400, t);
        nh = t.table;
      } else nh = withoutNode(sn.routes.nhTable, id);
    }
    const del = id;
    const out = await sn.writer.change(
      'peer/del',
      (doc) => {
        delPeerFromDoc(doc, del);
        if (nh !== undefined) setNextHopTable(doc, nh);
      },
      snapshot(cfg),
      async (next) => {
        if (!(await sn.removeEdge(del))) return new Refused(404, `NodeID ${del} not found`);
        if (nh !== undefined) {
          cfg.NextHopTable = next.NextHopTable;
          sn.routes.setStatic(next.NextHopTable);
        }
        return true;
      },
    );
    if (out instanceof Refused && out.status === 400 && nh !== undefined && p.NextHopTable === undefined) {
      return new Refused(400, `${out.message}; NodeID ${del} is a next hop in the StaticMode NextHopTable, so pass NextHopTable (the full table without it)`);
    }
    if (out instanceof Refused) return out;
    sn.log.info(`peer deleted: NodeID ${del}`);
    return `NodeID: ${del} deleted.`;
  }

  /** peer/update: AdditionalCost and/or SkipLocalIP of a running peer; 404 unknown, 409 running but not in the config. */
  async updatePeer(p: Params): Promise<string | Refused> {
    const sn = this.sn;
    if (p.NodeID === undefined) return new Refused(400, 'NodeID is required');
    const id = p.NodeID as number;
    const rec = sn.edges.get(id);
    if (!rec || rec.removing) return new Refused(404, `NodeID ${id} not found`);
    const keys = (['AdditionalCost', 'SkipLocalIP'] as const).filter((k) => p[k] !== undefined);
    if (keys.length === 0) return `NodeID: ${id}: no parameter updated`;
    const upd = Object.fromEntries(keys.map((k) => [k, p[k]])) as Partial<SuperPeerInfo>;
    let inFile = true;
    const out = await sn.writer.change(
      'peer/update',
      (doc) => {
        inFile = updatePeerInDoc(doc, id, upd);
      },
      snapshot(sn.cfg),
      (next) => {
        if (!inFile) return new Refused(409, `NodeID ${id} runs but is not in the config file (removed by hand?); nothing changed`);
        if (rec.removing) return new Refused(404, `NodeID ${id} not found`);
        const q = next.Peers.find((x) => x.NodeID === id)!;
        for (const k of keys) (rec.conf as unknown as Record<string, unknown>)[k] = q[k];
        return keys.map((k) => `${k}=${String(q[k])}`);
      },
    );
    if (out instanceof Refused) return out;
    sn.paramsChanged();
    return `NodeID: ${id} updated: ${out.join(', ')}`;
  }

  /**
   * super/update: checked whole by the loader against the values after the update (upstream bug
   * #12), and refused (400) when it sets timers that break liveness (livenessRefusal): checked on
   * the running values before the change, and on the loaded result (another supernode may have
   * changed the shared state meanwhile) before anything is applied.
   */
  async updateSuper(p: Params): Promise<string | Refused> {
    const sn = this.sn;
    const cfg = sn.cfg;
    const upd = superUpdate(p);
    const keys = Object.keys(upd) as SuperParamsKey[];
    if (keys.length === 0) return 'no parameter updated';
    const timers = (c: Pick<SuperConfig, LivenessKey>) => ({ SendPingInterval: c.SendPingInterval, PeerAliveTimeout: c.PeerAliveTimeout, HttpPostInterval: c.HttpPostInterval });
    const early = livenessRefusal(timers({ ...cfg, ...upd }), keys);
    if (early) return early;
    const out = await sn.writer.change('super/update', (doc) => setTopLevel(doc, upd), snapshot(cfg), (next) => {
      const late = livenessRefusal(timers(next), keys);
      if (late) return late;
      for (const k of keys) cfg[k] = next[k];
      return keys.map((k) => `${k}=${next[k]}`);
    });
    if (out instanceof Refused) return out;
    sn.paramsChanged();
    return `updated: ${out.join(', ')}`;
  }
}
