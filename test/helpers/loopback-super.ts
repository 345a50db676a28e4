// A supernode and one edge in this process on loopback (no namespaces), the edge's config
// written the way etherguard-go's generator writes it (supernode without IPv6).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, loadEdgeConfig, parseSuperConfig, type EdgeConfig, type Problem } from '../../ts/config/index.js';
import { StaticRoutes } from '../../ts/core/table.js';
import { Edge } from '../../ts/edge/edge.js';
import { Logger } from '../../ts/shared/log.js';
import { SuperClient } from '../../ts/edge/superclient.js';
import { Supernode } from '../../ts/super/supernode.js';
import type { Clock } from '../../ts/wgnode/clock.js';
import { upstreamGeneratedEdge } from './upstream-config.js';

export const quietLogger = (name: string): Logger =>
  new Logger(name, { LogLevel: process.env.EG_TEST_LOG ? 'debug' : 'silent', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true });

export interface LoopbackSuper {
  dir: string;
  sn: Supernode;
  edge: Edge;
  client: SuperClient;
  /** Warnings the loader reported for the edge config. */
  warnings: Problem[];
  /** Stops the edge, its client and the supernode, and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts a supernode (IPv4 only, NodeID 1 as its one peer) and an edge for NodeID 1, then
 * starts the edge's client. `superExtra` is appended to the supernode's top-level YAML keys;
 * `editEdge` may change the edge's YAML text before it is loaded; `beforeStart` runs after the
 * client is built and before anything is sent (to instrument it).
 */
export async function startLoopbackSuper(o: {
  superExtra: string;
  editEdge?: (yaml: string) => string;
  beforeStart?: (client: SuperClient) => void;
  /** The edge's clock and logger (default: the system clock, a silent logger). */
  clock?: Clock;
  edgeLog?: Logger;
}): Promise<LoopbackSuper> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-loopback-super-'));
  const v4 = generateKeyPair();
  const v6 = generateKeyPair();
  const e = generateKeyPair();
  const psk = generatePSK();
  const superPath = join(dir, 'super.yaml');
  const superText = `NodeName: EgNetSN
PrivKeyV4: ${v4.privateKey}
PrivKeyV6: ${v6.privateKey}
DisabledAf: {IPv6: true}
${o.superExtra.trim()}
Peers:
  - {NodeID: 1, Name: EgNet001, PubKey: ${e.publicKey}, PSKey: ${psk}, AdditionalCost: 10}
`;
  writeFileSync(superPath, superText);
  const scfg = parseSuperConfig(superText, superPath);
  scfg.ListenPort = 0;
  scfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  scfg.ListenPort_ManageAPI = '';
  scfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const sn = new Supernode(scfg, { configPath: superPath, log: quietLogger('super'), uapi: false });
  await sn.start();

  const edgePath = join(dir, 'EgNet_edge001.yaml');
  const text = upstreamGeneratedEdge({ priv: e.privateKey, psk, pub4: v4.publicKey, pub6: v6.publicKey, endpoint4: `127.0.0.1:${sn.udpPort}`, api: `${sn.httpAddress()}/eg_api` });
  writeFileSync(edgePath, o.editEdge ? o.editEdge(text) : text);
  const warnings: Problem[] = [];
  const cfg: EdgeConfig = loadEdgeConfig(edgePath, (_l, p) => warnings.push(p));
  let client: SuperClient | undefined;
  const edge = new Edge(cfg, { log: o.edgeLog ?? quietLogger('edge'), clock: o.clock, routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
  client = new SuperClient(edge, cfg);
  client.addSuperPeers();
  o.beforeStart?.(client);
  await edge.start();
  client.start();
  const c = client;
  return {
    dir, sn, edge, client: c, warnings,
    stop: async () => {
      c.stop();
      await edge.stop().catch(() => {});
      await sn.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `f` every 50 ms until it returns a truthy value; throws naming `what` after `ms`. */
export async function until<T>(f: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
