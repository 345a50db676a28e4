// Where the supernode's durable state lives: the peers (keys, PSKs, costs), the manage-API
// passwords and the settings super/update changes. Two backends behind one narrow interface:
// the YAML file (ConfigWriter, upstream's behaviour and the default) and an etcd cluster shared
// by several supernodes (EtcdStore, ts/super/etcd-store.ts). Soft state (latencies, endpoints,
// liveness) is never part of it.
import type { Document } from 'yaml';
import type { NodeIdTable, Passwords, SuperConfig, SuperPeerInfo } from '../config/index.js';
import { ConfigWriter, type Refused } from './config-rewrite.js';

/**
 * The manage API's view of the durable state: one change at a time, each a transaction.
 * `edit` changes the YAML document of the current state; the result must load with the config
 * loader (ts/config/validate.ts parseSuper) or the answer is a Refused 400 (409 when the current
 * state itself does not load); then `apply(next)` changes the running supernode (it may still
 * refuse, before changing anything) and the store makes the change durable. A store that cannot
 * reach its backing answers Refused 503 and changes nothing.
 */
export interface SuperStore {
  change<T>(what: string, edit: (doc: Document) => void, snapshot: () => string, apply: (next: SuperConfig) => Promise<T | Refused> | T | Refused): Promise<T | Refused>;
  /** Resolves once every queued change is done. */
  flush(): Promise<void>;
}

/** The YAML-file store: today's ConfigWriter (comment-preserving atomic rewrites of the config file). */
export class FileStore extends ConfigWriter implements SuperStore {}

/** The settings super/update changes, plus the StaticMode table peer/add and peer/del change. */
export const SETTING_KEYS = ['PeerAliveTimeout', 'DampingFilterRadius', 'SendPingInterval', 'HttpPostInterval', 'NextHopTable'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** The durable part of a supernode config, as one network shares it (etcd) or one file holds it. */
export interface DurableState {
  /** Sorted by NodeID. */
  Peers: SuperPeerInfo[];
  Passwords: Passwords;
  Settings: Pick<SuperConfig, 'PeerAliveTimeout' | 'DampingFilterRadius' | 'SendPingInterval' | 'HttpPostInterval'> & { NextHopTable: NodeIdTable };
}

/** The durable part of a loaded config (copies, so later edits of `cfg` do not show through). */
export function durableOf(cfg: SuperConfig): DurableState {
  const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
  return {
    Peers: copy(cfg.Peers).sort((a, b) => a.NodeID - b.NodeID),
    Passwords: copy(cfg.Passwords),
    Settings: {
      PeerAliveTimeout: cfg.PeerAliveTimeout,
      DampingFilterRadius: cfg.DampingFilterRadius,
      SendPingInterval: cfg.SendPingInterval,
      HttpPostInterval: cfg.HttpPostInterval,
      NextHopTable: copy(cfg.NextHopTable),
    },
  };
}

/** `cfg` (this supernode's own keys, ports, ...) with the shared durable state in place of its own. */
export function withDurable(cfg: SuperConfig, d: DurableState): SuperConfig {
  return { ...cfg, ...d.Settings, Peers: d.Peers.map((p) => ({ ...p })), Passwords: { ...d.Passwords } };
}

/** Whether two peer entries differ in anything but what peer/update changes in place (AdditionalCost, SkipLocalIP). */
export function peerIdentityChanged(a: SuperPeerInfo, b: SuperPeerInfo): boolean {
  return a.Name !== b.Name || a.PubKey !== b.PubKey || a.PSKey !== b.PSKey || a.EndPoint !== b.EndPoint || a.ExternalIP !== b.ExternalIP;
}
