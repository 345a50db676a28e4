// Mixed meshes (docs/p2p.md): a P2P edge whose peer runs another routing mode (here static) has a
// live session with it but never gets a report or description from it. It must say so once, in
// plain words, and keep working with its P2P peers. Real processes on loopback, dummy interfaces.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair } from '../ts/config/index.js';
import { jsonLines, Proc, startEdge, stopAll, waitFor } from './helpers/mesh.js';
import { freePort } from './helpers/ports.js';

describe('p2p: mixed mesh (a P2P edge meets a static-mode edge)', function () {
  this.timeout(60_000);
  const procs: Proc[] = [];
  after(() => stopAll(procs));

  it('logs once that the peer floods no P2P reports, while its P2P peer gets a route', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egp2pmix-'));
    const ids = [1, 2, 3];
    const keys = new Map(ids.map((id) => [id, generateKeyPair()]));
    const ports = new Map<number, number>();
    for (const id of ids) ports.set(id, await freePort('udp'));
    // 1 and 2 run P2P; 3 runs static mode (it knows only 1, with a keepalive so the session is up).
    for (const id of ids) {
      const p2p = id !== 3;
      const peers = ids
        .filter((b) => b !== id && (id === 3 ? b === 1 : true))
        .map((b) => ({ NodeID: b, PubKey: keys.get(b)!.publicKey, PSKey: '', EndPoint: `127.0.0.1:${ports.get(b)}`, PersistentKeepalive: id === 3 ? 1 : 0, Static: true }));
      const cfg = {
        Interface: { IType: 'dummy', MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404 },
        NodeID: id,
        NodeName: `egmix${id}`,
        PrivKey: keys.get(id)!.privateKey,
        ListenPort: ports.get(id),
        DisabledAf: { IPv6: true },
        LogLevel: { LogLevel: 'error', LogInternal: true },
        DynamicRoute: {
          SendPingInterval: 1,
          PeerAliveTimeout: 4,
          SaveNewPeers: false,
          P2P: { UseP2P: p2p, SendPeerInterval: 1, GraphRecalculateSetting: { TimeoutCheckInterval: 0.5, RecalculateCoolDown: 0.5, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 } },
        },
        NextHopTable: p2p ? {} : { 3: { 1: 1 } },
        Peers: peers,
      };
      const f = join(dir, `edge${id}.yaml`);
      writeFileSync(f, stringify(cfg));
      procs.push(startEdge(f, { args: ['-no-uapi'] }));
    }
    const notice = /^peer 3 has a live session but floods no P2P reports or description: it is probably in super or static mode/;
    await waitFor(() => jsonLines(procs[0]).some((l) => notice.test(String(l.msg))), 30_000, "node 1's mixed-mesh notice");
    // Node 1 still routes to its P2P peer 2 (and has nothing into 3, which never reports).
    const rows = () => jsonLines(procs[0]).filter((l) => l.msg === 'p2p next-hop table updated').map((l) => l.row as Record<string, number>);
    await waitFor(() => rows().some((r) => r['2'] === 2), 20_000, 'route 1 → 2');
    assert.equal(rows().at(-1)!['3'], undefined, 'no route into a node that never reports');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(jsonLines(procs[0]).filter((l) => notice.test(String(l.msg))).length, 1, 'said once');
    assert.ok(!jsonLines(procs[1]).some((l) => /peer 1 has a live session/.test(String(l.msg))), 'no notice about a P2P peer');
  });
});
