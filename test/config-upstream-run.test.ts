// An edge config as etherguard-go's generator writes it for a supernode without IPv6 (PubKeyV6
// set, EndpointV6 "") must not only load but run: the edge registers with a real supernode over
// IPv4 on loopback, and its AdditionalLocalIP given as a host name reaches the supernode as an
// address (upstream resolves it before reporting).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, loadEdgeConfig, parseSuperConfig, type Problem } from '../ts/config/index.js';
import { StaticRoutes } from '../ts/core/table.js';
import { Edge } from '../ts/edge/edge.js';
import { Logger } from '../ts/edge/log.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Supernode } from '../ts/super/supernode.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

const quiet = (name: string): Logger =>
  new Logger(name, { LogLevel: process.env.EG_TEST_LOG ? 'debug' : 'silent', LogTransit: false, LogNormal: false, LogControl: true, LogInternal: true });

async function until<T>(f: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('an upstream-generated edge config (supernode without IPv6) runs', function () {
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

  it('loads with a warning about PubKeyV6, registers over IPv4 and reports a host-name AdditionalLocalIP as an address', async () => {
    dir = mkdtempSync(join(tmpdir(), 'eg-upstream-run-'));
    const v4 = generateKeyPair();
    const v6 = generateKeyPair();
    const e = generateKeyPair();
    const psk = generatePSK();
    const superPath = join(dir, 'super.yaml');
    const superText = `NodeName: EgNetSN
PrivKeyV4: ${v4.privateKey}
PrivKeyV6: ${v6.privateKey}
DisabledAf: {IPv6: true}
HttpPostInterval: 1
SendPingInterval: 1
Peers:
  - {NodeID: 1, Name: EgNet001, PubKey: ${e.publicKey}, PSKey: ${psk}, AdditionalCost: 10}
`;
    writeFileSync(superPath, superText);
    const scfg = parseSuperConfig(superText, superPath);
    scfg.ListenPort = 0;
    scfg.ListenPort_EdgeAPI = '127.0.0.1:0';
    scfg.ListenPort_ManageAPI = '';
    scfg.DisabledAf.ListenIPv4 = '127.0.0.1';
    sn = new Supernode(scfg, { configPath: superPath, log: quiet('super'), uapi: false });
    await sn.start();

    const edgePath = join(dir, 'EgNet_edge001.yaml');
    const text = upstreamGeneratedEdge({
      priv: e.privateKey, psk, pub4: v4.publicKey, pub6: v6.publicKey, endpoint4: `127.0.0.1:${sn.udpPort}`, api: `${sn.httpAddress()}/eg_api`,
    }).replace('    SkipLocalIP: false\n', '    SkipLocalIP: true\n    AdditionalLocalIP: ["localhost:40001"]\n');
    writeFileSync(edgePath, text);
    const warnings: Problem[] = [];
    const cfg = loadEdgeConfig(edgePath, (_l, p) => warnings.push(p));
    assert.deepEqual(warnings.map((w) => w.path), ['DynamicRoute.SuperNode.PubKeyV6']);

    const log = quiet('edge');
    edge = new Edge(cfg, { log, routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
    client = new SuperClient(edge, cfg);
    client.addSuperPeers();
    assert.deepEqual(edge.peers.supers.map((p) => p.configured), [`127.0.0.1:${sn.udpPort}`]);
    await edge.start();
    client.start();

    const st = await until(() => {
      const s = sn!.state().Status['1'];
      return s?.Alive && s.ExternalV4 !== '' && Object.keys(s.LocalV4s).length > 0 && s;
    }, 20_000, 'edge 1 registered and reported');
    assert.match(st.ExternalV4, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(st.LocalV4s, { '127.0.0.1:40001': 50 });
  });
});
