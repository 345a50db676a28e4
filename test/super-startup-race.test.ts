// A supernode that learns an edge only after that edge's first handshake initiation (the edge
// started first, or peer/add came after it) hears its Register within about a second of
// learning it, not after WireGuard's REKEY_TIMEOUT (5 s): the edge starts fresh initiations to
// a supernode session without keys after a quarter of a second, then at twice the wait up to
// every second (ts/edge/superclient.ts, SUPER_RETRY_*).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, loadEdgeConfig, parseSuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { StaticRoutes } from '../ts/core/table.js';
import { Edge } from '../ts/edge/edge.js';
import { SuperClient } from '../ts/edge/superclient.js';
import { Supernode } from '../ts/super/supernode.js';
import { quietLogger, until } from './helpers/loopback-super.js';
import { upstreamGeneratedEdge } from './helpers/upstream-config.js';

describe('supernode start-up race', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'eg-startup-race-'));
  let sn: Supernode | undefined;
  let edge: Edge | undefined;
  let client: SuperClient | undefined;
  after(async () => {
    client?.stop();
    await edge?.stop().catch(() => {});
    await sn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an edge added after its first handshake attempt registers within 2 s, not after REKEY_TIMEOUT', async () => {
    const v4 = generateKeyPair();
    const v6 = generateKeyPair();
    const e = generateKeyPair();
    const psk = generatePSK();
    const superText = `NodeName: EgRaceSN\nPrivKeyV4: ${v4.privateKey}\nPrivKeyV6: ${v6.privateKey}\nDisabledAf: {IPv6: true}\nSendPingInterval: 1\nHttpPostInterval: 2\nPeers: []\n`;
    const scfg = parseSuperConfig(superText, 'race-super.yaml');
    scfg.ListenPort = 0;
    scfg.ListenPort_EdgeAPI = '127.0.0.1:0';
    scfg.ListenPort_ManageAPI = '';
    scfg.DisabledAf.ListenIPv4 = '127.0.0.1';
    sn = new Supernode(scfg, { log: quietLogger('super'), uapi: false });
    await sn.start();

    const edgePath = join(dir, 'edge.yaml');
    writeFileSync(edgePath, upstreamGeneratedEdge({ priv: e.privateKey, psk, pub4: v4.publicKey, pub6: v6.publicKey, endpoint4: `127.0.0.1:${sn.udpPort}`, api: `${sn.httpAddress()}/eg_api` }));
    const cfg = loadEdgeConfig(edgePath, () => {});
    edge = new Edge(cfg, { log: quietLogger('edge'), routes: new StaticRoutes(cfg.NextHopTable), uapi: false, onControl: (h, p, from) => client?.onControl(h, p, from) });
    client = new SuperClient(edge, cfg);
    client.addSuperPeers();
    await edge.start();
    client.start();
    // The edge's first initiation reaches a supernode that does not know its key yet.
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(sn.edges.size, 0);

    const conf: SuperPeerInfo = { NodeID: 1, Name: 'EgNet001', PubKey: e.publicKey, PSKey: psk, AdditionalCost: 10, SkipLocalIP: false, EndPoint: '', ExternalIP: '' };
    scfg.Peers.push(conf);
    await sn.addEdge(conf); // what peer/add does
    const t0 = Date.now();
    const s = sn;
    await until(() => Number.isFinite(s.edges.get(1)!.lastSeen), 8000, 'the edge registers');
    const took = (Date.now() - t0) / 1000;
    assert.ok(took < 2, `registered ${took.toFixed(2)} s after the supernode learned the edge (REKEY_TIMEOUT is 5 s)`);
  });
});
