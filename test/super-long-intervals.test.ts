// Intervals the supernode pushes to its edges (SendPingInterval, HttpPostInterval) may be longer
// than Node's 2^31-1 ms timer limit; an edge must then wait, not ping and post every millisecond.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, loadEdgeConfig, parseSuperConfig } from '../ts/config/index.js';
import { StaticRoutes } from '../ts/core/table.js';
import { Edge } from '../ts/edge/edge.js';
import { Logger } from '../ts/edge/log.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Supernode } from '../ts/super/supernode.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

const quiet = (name: string): Logger =>
  new Logger(name, { LogLevel: process.env.EG_TEST_LOG ? 'debug' : 'silent', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('intervals longer than 24.8 days pushed by the supernode', function () {
  this.timeout(30_000);
  let dir = '';
  let sn: Supernode | undefined;
  let edge: Edge | undefined;
  let client: SuperClient | undefined;

  after(async () => {
    client?.stop();
    await edge?.stop().catch(() => {});
    await sn?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an edge told to ping and post every 1e7 s (116 days) does not do it every millisecond', async () => {
    dir = mkdtempSync(join(tmpdir(), 'eg-long-intervals-'));
    const v4 = generateKeyPair();
    const v6 = generateKeyPair();
    const e = generateKeyPair();
    const psk = generatePSK();
    const superPath = join(dir, 'super.yaml');
    const superText = `NodeName: EgLongSN
PrivKeyV4: ${v4.privateKey}
PrivKeyV6: ${v6.privateKey}
DisabledAf: {IPv6: true}
HttpPostInterval: 1e7
SendPingInterval: 1e7
PeerAliveTimeout: 2e7
Peers:
  - {NodeID: 1, Name: EgLong001, PubKey: ${e.publicKey}, PSKey: ${psk}, AdditionalCost: 10}
`;
    writeFileSync(superPath, superText);
    const scfg = parseSuperConfig(superText, superPath);
    scfg.ListenPort = 0;
    scfg.ListenPort_EdgeAPI = '127.0.0.1:0';
    scfg.ListenPort_ManageAPI = '';
    scfg.DisabledAf.ListenIPv4 = '127.0.0.1';
    sn = new Supernode(scfg, { configPath: superPath, log: quiet('super'), uapi: false });
    await sn.start();

    const edgePath = join(dir, 'edge.yaml');
    writeFileSync(edgePath, upstreamGeneratedEdge({ priv: e.privateKey, psk, pub4: v4.publicKey, pub6: v6.publicKey, endpoint4: `127.0.0.1:${sn.udpPort}`, api: `${sn.httpAddress()}/eg_api` }));
    const cfg = loadEdgeConfig(edgePath, () => undefined);
    edge = new Edge(cfg, { log: quiet('edge'), routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
    client = new SuperClient(edge, cfg);
    // Count the periodic work the pushed intervals drive (the timers call these by name).
    const calls = { pingAll: 0, postReport: 0 };
    const c = client as unknown as Record<'pingAll' | 'postReport', (...a: unknown[]) => unknown>;
    for (const k of ['pingAll', 'postReport'] as const) {
      const orig = c[k].bind(client);
      c[k] = (...a: unknown[]) => {
        calls[k]++;
        return orig(...a);
      };
    }
    client.addSuperPeers();
    await edge.start();
    client.start();
    const end = Date.now() + 20_000;
    while (!sn.state().Status['1']?.Alive) {
      if (Date.now() > end) throw new Error('edge 1 did not register');
      await sleep(50);
    }
    await sleep(1000);
    // Each may run once when the parameters arrive; a 1 ms timer would have run them ~1000 times.
    assert.ok(calls.pingAll <= 3, `pingAll ran ${calls.pingAll} times in about a second`);
    assert.ok(calls.postReport <= 3, `postReport ran ${calls.postReport} times in about a second`);
  });
});
