// The supernode's durable state in an etcd cluster (config key `Etcd`, docs/supernode.md
// "Durable state in etcd"), shared by every supernode of one network. Layout under Prefix:
//   peers/<NodeID>  JSON SuperPeerInfo (as the loader returns it, defaults included)
//   passwords       JSON Passwords
//   settings        JSON {PeerAliveTimeout, DampingFilterRadius, SendPingInterval, HttpPostInterval, NextHopTable}
//   rev             JSON {By, At}: rewritten by every change; its mod revision is what a change compares on
//   secret          32 random bytes (base64), written once: the state-hash salt and pair PSKs every supernode derives
// A change reads the whole prefix (a linearizable read), checks the edited state with the config
// loader exactly as the file store does (checkEdit), and commits all its puts and deletes in one
// transaction that succeeds only if `rev` was not rewritten since the read — otherwise it is
// re-read and re-checked, so two supernodes never lose each other's updates. Every supernode
// watches the prefix and applies what changed to its running state. Without quorum a read or a
// commit fails within Timeout: the manage API answers 503 and the running state stays as it was.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { readFile } from 'node:fs/promises';
import { parseDocument, stringify, type Document } from 'yaml';
import { ConfigError, formatProblem, type EtcdSetting, type SuperConfig, type SuperPeerInfo } from '../config/index.js';
import { parseSuper } from '../config/validate.js';
import { apiProblem, checkEdit, Refused, setNextHopTable, setTopLevel } from './config-rewrite.js';
import type { EdgeRec } from './state.js';
import { durableOf, peerIdentityChanged, SETTING_KEYS, withDurable, type DurableState, type SuperStore } from './store.js';

/** What the store needs of the running supernode to apply a state (a narrow face of Supernode). */
export interface DurableTarget {
  readonly cfg: SuperConfig;
  readonly edges: ReadonlyMap<number, EdgeRec>;
  readonly routes: { readonly staticMode: boolean; setStatic(t: SuperConfig['NextHopTable']): unknown };
  /** Adds a configured edge (its entry is already in cfg.Peers). */
  addEdge(conf: SuperPeerInfo): Promise<unknown>;
  /** Removes an edge with its Shutdown notices; false when there is none. */
  removeEdge(id: number): Promise<boolean>;
  /** After SuperParams changed: new hashes pushed. */
  paramsChanged(): void;
  invalidateState(): void;
  /** The network's shared secret (key `secret`): state-hash salt and pair PSKs. */
  useSharedSecret(secret: Buffer): void;
}

/** A read of the prefix: the state, the store revision it was read at, and `rev`'s mod revision (0 = never written). */
interface Read {
  d: DurableState;
  revision: number;
  revMod: number;
  /** The network's shared secret (key `secret`), undefined until written. */
  secret?: Buffer;
}

/**
 * The shared state does not load (a value written around the manage API, e.g. with etcdctl):
 * it is never applied; the running state stays and writes answer 409 naming the problems.
 */
export class BadSharedState extends Error {}

/** Transactions a change retries when another supernode committed between its read and its commit. */
const MAX_ATTEMPTS = 20;

/**
 * How long close() waits (ms) for a change in flight and the watch cancel before it closes the
 * client anyway: a stop must not wait on an etcd that does not answer.
 */
const CLOSE_WAIT_MS = 500;

/**
 * Longest pause (ms) between watch reconnects while etcd is down. etcd3's default backs off up
 * to 30 s with a timer that keeps the process alive after close(); 1 s bounds that and also
 * brings the watch back within a second of etcd answering again.
 */
const WATCH_BACKOFF_MAX_MS = 1000;

/** `p`, or undefined once `ms` passed (the timer does not hold the process). */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => {
    t = setTimeout(() => r(undefined), ms);
    t.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

/**
 * Makes the running supernode's peers, passwords and settings equal to `d`: adds missing
 * edges, removes edges `d` no longer has (with their Shutdown notices), changes AdditionalCost /
 * SkipLocalIP in place, replaces an edge whose key, PSK, name or endpoint changed, and applies
 * the settings. Idempotent: applying the same state twice changes nothing the second time.
 * Returns whether anything changed.
 */
export async function applyDurable(sn: DurableTarget, d: DurableState): Promise<boolean> {
  const cfg = sn.cfg;
  let changed = false;
  let paramsChanged = false;
  const want = new Map(d.Peers.map((p) => [p.NodeID, p]));
  for (const [id, rec] of [...sn.edges]) {
    if (rec.removing) continue;
    const w = want.get(id);
    if (!w || peerIdentityChanged(rec.conf, w)) {
      await sn.removeEdge(id);
      changed = true;
    }
  }
  for (const p of d.Peers) {
    const rec = sn.edges.get(p.NodeID);
    if (rec && !rec.removing) {
      if (rec.conf.AdditionalCost !== p.AdditionalCost || rec.conf.SkipLocalIP !== p.SkipLocalIP) {
        rec.conf.AdditionalCost = p.AdditionalCost;
        rec.conf.SkipLocalIP = p.SkipLocalIP;
        changed = paramsChanged = true;
      }
      continue;
    }
    if (rec?.removing) continue; // being removed by a change still in flight; the next sync adds it
    const conf: SuperPeerInfo = { ...p };
    cfg.Peers.push(conf);
    await sn.addEdge(conf);
    changed = paramsChanged = true;
  }
  for (const k of SETTING_KEYS) {
    if (k === 'NextHopTable') {
      if (JSON.stringify(cfg.NextHopTable) !== JSON.stringify(d.Settings.NextHopTable)) {
        cfg.NextHopTable = d.Settings.NextHopTable;
        if (sn.routes.staticMode) sn.routes.setStatic(d.Settings.NextHopTable);
        changed = true;
      }
    } else if (cfg[k] !== d.Settings[k]) {
      cfg[k] = d.Settings[k];
      changed = paramsChanged = true;
    }
  }
  if (JSON.stringify(cfg.Passwords) !== JSON.stringify(d.Passwords)) {
    cfg.Passwords = { ...d.Passwords };
    changed = true;
  }
  if (paramsChanged) sn.paramsChanged();
  if (changed) sn.invalidateState();
  return changed;
}

export class EtcdStore implements SuperStore {
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private chain: Promise<unknown> = Promise.resolve();
  private target?: DurableTarget;
  /** The state the file (or embedding) started with: written to an empty prefix once. */
  private seed?: DurableState;
  private watcher?: Watcher;
  private timer?: NodeJS.Timeout;
  /** A pending re-watch after etcd cancelled the watch. */
  private rewatch?: NodeJS.Timeout;
  /** The store revision the running state was last made equal to. */
  private appliedRevision = 0;
  private closed = false;
  /** Whether the shared secret has been handed to the supernode. */
  private secretSet = false;
  /** Last sync failure, logged once per outage. */
  private failing = '';

  /**
   * `setting`: the config's Etcd key. `who`: this supernode's NodeName, recorded in `rev`.
   * `configPath`: this supernode's own config file (its keys, ports, ...), the base a change is
   * checked on with the shared state in place of its Peers, Passwords and settings; never written.
   */
  constructor(
    private readonly setting: EtcdSetting,
    private readonly who: string,
    private readonly configPath: string | undefined,
    private readonly onError: (msg: string) => void,
    private readonly onInfo: (msg: string) => void = () => undefined,
  ) {
    this.prefix = setting.Prefix.endsWith('/') ? setting.Prefix : `${setting.Prefix}/`;
    this.timeoutMs = Math.round(setting.Timeout * 1000);
    const timeout = this.timeoutMs;
    // Loaded here, not at import: the etcd client and its gRPC stack cost every supernode start
    // ~100 ms of CPU, and only a supernode with an etcd store uses them. cockatiel is etcd3's own
    // fault-handling dependency (its options take cockatiel policies).
    const req = createRequire(import.meta.url);
    const { Etcd3: Client } = req('etcd3') as typeof import('etcd3');
    const { ExponentialBackoff, noop } = req('cockatiel') as typeof import('cockatiel');
    this.client = new Client({
      hosts: setting.Endpoints,
      dialTimeout: timeout,
      // A quorum loss must show up as a failed call within Timeout (503), not as retries that
      // hold the manage API for the cockatiel defaults' tens of seconds.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: WATCH_BACKOFF_MAX_MS }).next() },
    });
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Reads the shared state (seeding an empty prefix with this supernode's file state first),
   * makes `target`'s config equal to it before its edges are created, then keeps it in step with
   * a watch on the prefix (and a resync every 10 s, which also covers a watch that stalled). When
   * etcd cannot be reached at start the supernode runs on its file's state and catches up once
   * etcd answers. Returns whether the state came from etcd.
   */
  async open(target: DurableTarget): Promise<boolean> {
    this.target = target;
    this.seed = durableOf(target.cfg);
    let fromEtcd = false;
    try {
      const r = await this.read();
      this.takeSecret(r);
      Object.assign(target.cfg, withDurable(target.cfg, r.d));
      this.appliedRevision = r.revision;
      fromEtcd = true;
      this.onInfo(`etcd: state loaded from ${this.setting.Endpoints.join(',')} prefix ${this.prefix} (${r.d.Peers.length} peer(s), revision ${r.revision})`);
    } catch (e) {
      this.failing = (e as Error).message;
      this.onError(`etcd: cannot load the state from ${this.setting.Endpoints.join(',')} (${this.failing}); running on the config file's state until etcd answers`);
    }
    this.startWatch();
    this.timer = setInterval(() => this.sync(), 10_000);
    this.timer.unref();
    return fromEtcd;
  }

  /**
   * Watches the prefix. The Watcher is kept from the moment it is made, not only once etcd
   * confirmed it (what create() would resolve with): while etcd is unreachable that never
   * happens, and a watcher nobody can cancel keeps etcd3 reconnecting — and the process alive —
   * after close().
   */
  private startWatch(): void {
    if (this.closed) return;
    const w = this.client.watch().prefix(this.prefix).watcher();
    this.watcher = w;
    w.on('data', () => this.sync());
    // After a reconnect the watch resumes, but a full read makes sure nothing was missed.
    w.on('connected', () => this.sync());
    // etcd cancelled the watch (etcd3 has already dropped it): watch again.
    w.on('error', (e: Error) => {
      if (this.watcher === w) this.watcher = undefined;
      if (this.closed) return;
      this.onError(`etcd: watch on ${this.prefix} ended (${e.message}); watching again in 1 s`);
      this.rewatch = setTimeout(() => this.startWatch(), 1000);
      this.rewatch.unref();
    });
  }

  /** Queues one read of the prefix and applies it to the running supernode if it is newer. */
  sync(): Promise<void> {
    if (this.closed || !this.target) return Promise.resolve();
    return this.enqueue(async () => {
      if (this.closed) return;
      let r: Read;
      try {
        r = await this.read();
      } catch (e) {
        const m = (e as Error).message;
        if (m !== this.failing) this.onError(`etcd: cannot ${e instanceof BadSharedState ? 'use' : 'read'} ${this.prefix} (${m}); routing continues on the last state`);
        this.failing = m;
        return;
      }
      if (this.failing) this.onInfo('etcd: reachable again');
      this.takeSecret(r);
      this.failing = '';
      try {
        await this.bringUp(r);
      } catch (e) {
        // Never an unhandled rejection from a watch event: say it, keep the last state.
        this.onError(`etcd: cannot apply revision ${r.revision}: ${(e as Error).message}`);
      }
    });
  }

  private takeSecret(r: Read): void {
    if (this.secretSet || !r.secret) return;
    this.target!.useSharedSecret(r.secret);
    this.secretSet = true;
  }

  private async bringUp(r: Read): Promise<void> {
    if (r.revision <= this.appliedRevision) return;
    if (await applyDurable(this.target!, r.d)) this.onInfo(`etcd: applied revision ${r.revision}`);
    this.appliedRevision = r.revision;
  }

  /** A linearizable read of the whole prefix; an empty prefix is seeded with the file's state first. */
  private async read(): Promise<Read> {
    for (let i = 0; i < 3; i++) {
      const res = await this.client.getAll().prefix(this.prefix).exec();
      const kvs = res.kvs;
      const has = (k: string) => kvs.some((kv) => kv.key.toString() === `${this.prefix}${k}`);
      if (has('rev') && has('secret')) return this.checked(this.decode(kvs, Number(res.header.revision)));
      if (has('rev')) await this.client.if(`${this.prefix}secret`, 'Create', '==', 0).then(this.client.put(`${this.prefix}secret`).value(randomBytes(32).toString('base64'))).commit();
      else await this.commitSeed();
    }
    throw new Error(`the prefix ${this.prefix} stays empty after seeding`);
  }

  /**
   * The read state as the config loader sees it in this supernode's config (defaults filled in,
   * every rule checked), or BadSharedState naming the problems.
   */
  private async checked(r: Read): Promise<Read> {
    const local = this.configPath ? await readFile(this.configPath, 'utf8') : stringify(this.target!.cfg);
    const name = `etcd ${this.prefix}`;
    try {
      return { ...r, d: durableOf(parseSuper(this.sharedBase(local, r.d), name).config) };
    } catch (e) {
      if (e instanceof ConfigError) throw new BadSharedState(`the state in etcd does not load: ${e.problems.map((p) => formatProblem(name, p)).join('; ')}`);
      throw e;
    }
  }

  private decode(kvs: IKeyValue[], revision: number): Read {
    const d: DurableState = { Peers: [], Passwords: { ...this.seed!.Passwords }, Settings: { ...this.seed!.Settings } };
    let revMod = 0;
    let secret: Buffer | undefined;
    for (const kv of kvs) {
      const k = kv.key.toString().slice(this.prefix.length);
      let v: unknown;
      try {
        v = k === 'secret' ? undefined : (JSON.parse(kv.value.toString()) as unknown);
      } catch {
        throw new BadSharedState(`${kv.key.toString()} does not hold JSON`);
      }
      if (k === 'secret') {
        secret = Buffer.from(kv.value.toString(), 'base64');
        continue;
      }
      if (k === 'rev') revMod = Number(kv.mod_revision);
      else if (k === 'passwords') d.Passwords = v as DurableState['Passwords'];
      else if (k === 'settings') d.Settings = v as DurableState['Settings'];
      else if (k.startsWith('peers/')) d.Peers.push(v as SuperPeerInfo);
    }
    d.Peers.sort((a, b) => a.NodeID - b.NodeID);
    return { d, revision, revMod, secret };
  }

  private revValue(): string {
    return JSON.stringify({ By: this.who, At: new Date().toISOString() });
  }

  /** Writes the file's state to an empty prefix; a no-op when another supernode seeded it first. */
  private async commitSeed(): Promise<void> {
    const s = this.seed!;
    const ops = [
      this.client.put(`${this.prefix}passwords`).value(JSON.stringify(s.Passwords)),
      this.client.put(`${this.prefix}settings`).value(JSON.stringify(s.Settings)),
      ...s.Peers.map((p) => this.client.put(`${this.prefix}peers/${p.NodeID}`).value(JSON.stringify(p))),
      this.client.put(`${this.prefix}rev`).value(this.revValue()),
      this.client.put(`${this.prefix}secret`).value(randomBytes(32).toString('base64')),
    ];
    const res = await this.client.if(`${this.prefix}rev`, 'Create', '==', 0).then(...ops).commit();
    if (res.succeeded) this.onInfo(`etcd: prefix ${this.prefix} was empty; seeded with this config's ${s.Peers.length} peer(s)`);
  }

  /**
   * Commits `from` → `to` if `rev` still has mod revision `revMod`. Resolves to the store
   * revision of the commit, or undefined when another change came first.
   */
  private async commit(from: DurableState, to: DurableState, revMod: number): Promise<number | undefined> {
    const ops = [];
    const before = new Map(from.Peers.map((p) => [p.NodeID, JSON.stringify(p)]));
    const after = new Set<number>();
    for (const p of to.Peers) {
      after.add(p.NodeID);
      const js = JSON.stringify(p);
      if (before.get(p.NodeID) !== js) ops.push(this.client.put(`${this.prefix}peers/${p.NodeID}`).value(js));
    }
    for (const id of before.keys()) if (!after.has(id)) ops.push(this.client.delete().key(`${this.prefix}peers/${id}`));
    if (JSON.stringify(from.Passwords) !== JSON.stringify(to.Passwords)) ops.push(this.client.put(`${this.prefix}passwords`).value(JSON.stringify(to.Passwords)));
    if (JSON.stringify(from.Settings) !== JSON.stringify(to.Settings)) ops.push(this.client.put(`${this.prefix}settings`).value(JSON.stringify(to.Settings)));
    ops.push(this.client.put(`${this.prefix}rev`).value(this.revValue()));
    const res = await this.client.if(`${this.prefix}rev`, 'Mod', '==', revMod).then(...ops).commit();
    return res.succeeded ? Number(res.header.revision) : undefined;
  }

  /** This supernode's config text with the shared durable state in place of its own (YAML that checkEdit loads). */
  private sharedBase(local: string, d: DurableState): string {
    const doc = parseDocument(local, { keepSourceTokens: false });
    if (doc.errors.length > 0) return local; // checkEdit reports the syntax error as the 409
    const { NextHopTable, ...settings } = d.Settings;
    setTopLevel(doc, { ...settings, Passwords: d.Passwords, Peers: d.Peers });
    setNextHopTable(doc, NextHopTable);
    return doc.toString({ lineWidth: 0 });
  }

  private unavailable(e: unknown, what: string): Refused {
    return new Refused(
      503,
      `etcd cluster ${this.setting.Endpoints.join(',')} unavailable while ${what} (${(e as Error).message}): nothing changed; routing continues on the last state, retry when etcd has quorum`,
    );
  }

  /**
   * One manage-API change (SuperStore.change): read the shared state, bring the running state up
   * to it, check the edited state with the config loader, commit it in one transaction compared
   * on `rev` (re-read and re-checked when another supernode committed first), then `apply(next)`.
   * If `apply` refuses after the commit (a broken EdgeTemplate), the commit is reverted by a
   * second transaction compared the same way. The config file is not rewritten: etcd holds the state.
   */
  change<T>(_what: string, edit: (doc: Document) => void, snapshot: () => string, apply: (next: SuperConfig) => Promise<T | Refused> | T | Refused): Promise<T | Refused> {
    return this.enqueue(async () => {
      const sn = this.target;
      if (!sn) return new Refused(503, 'the etcd store is not open yet; nothing changed');
      if (this.closed) return new Refused(503, 'the supernode is stopping; nothing changed');
      const name = `etcd ${this.prefix}`;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let cur: Read;
        try {
          cur = await this.read();
        } catch (e) {
          if (e instanceof BadSharedState) return new Refused(409, `${e.message}; no change is made: fix it first`);
          return this.unavailable(e, 'reading the current state');
        }
        // The handlers' own checks (duplicates, existence) then see the state this change is based on.
        await this.bringUp(cur);
        let base: string;
        try {
          base = this.sharedBase(this.configPath ? await readFile(this.configPath, 'utf8') : snapshot(), cur.d);
        } catch (e) {
          return new Refused(500, `cannot read the config file ${this.configPath}: ${(e as Error).message}; nothing changed`);
        }
        const r = checkEdit(base, name, edit);
        if (!r.ok) {
          if (r.before.length > 0 && r.introduced.length === 0) {
            return new Refused(409, `the state in etcd does not load as it is now, so no change is made; fix it first: ${r.before.map((p) => formatProblem(name, p)).join('; ')}`);
          }
          return new Refused(400, r.introduced.map(apiProblem).join('; '));
        }
        const next = durableOf(r.config);
        if (JSON.stringify(next) === JSON.stringify(cur.d)) return apply(r.config);
        let at: number | undefined;
        try {
          at = await this.commit(cur.d, next, cur.revMod);
        } catch (e) {
          return this.unavailable(e, 'committing the change');
        }
        if (at === undefined) continue; // another supernode committed first: re-read, re-check
        const out = await apply(r.config);
        if (out instanceof Refused) {
          try {
            const back = await this.read();
            if (back.revision === at) await this.commit(next, cur.d, back.revMod);
            else this.onError(`etcd: a refused change (${out.message}) was committed at revision ${at} and other changes followed; not reverted`);
          } catch (e) {
            this.onError(`etcd: cannot revert a refused change committed at revision ${at}: ${(e as Error).message}`);
          }
          return out;
        }
        this.appliedRevision = Math.max(this.appliedRevision, at);
        return out;
      }
      return new Refused(503, `etcd: ${MAX_ATTEMPTS} attempts each lost to a concurrent change; nothing changed, retry`);
    });
  }

  async flush(): Promise<void> {
    await this.chain;
  }

  /**
   * Stops watching and closes the etcd client, in about a second whatever etcd's state: a change
   * or read in flight and the watch cancel get CLOSE_WAIT_MS, then the client is closed, which
   * makes every call still pending fail ("Channel closed") instead of waiting for its deadline.
   * Queued syncs are dropped and queued changes answer 503. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.rewatch) clearTimeout(this.rewatch);
    const w = this.watcher;
    this.watcher = undefined;
    await bounded(Promise.all([this.flush(), w?.cancel().catch(() => undefined)]), CLOSE_WAIT_MS);
    this.client.close();
  }
}
