// In a flood every node gets each message once per neighbour that forwards it, so the copies
// after the first are normal. They are counted (etherguard_drops_total) but must not fill the
// log of an edge at LogLevel error with a drop summary every 10 s, as they did. Real processes on
// loopback, dummy interfaces, a full P2P mesh of three.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyPair } from '../ts/config/index.js';
import { jsonLines, Proc, startEdge, stopAll } from './helpers/mesh.js';
import { freePort } from './helpers/ports.js';

// The core drops a flood's later copies (crates/eg-core plane/dedup.rs) before the P2P logic sees them.
const DUP = 'duplicate flood message';

describe('p2p: flood copies are counted, not logged as drops at LogLevel error', function () {
  this.timeout(60_000);
  const procs: Proc[] = [];
  after(() => stopAll(procs));

  it('three P2P edges: duplicates show in the metrics, and no error-level line mentions them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egp2pdup-'));
    const ids = [1, 2, 3];
    const keys = new Map(ids.map((id) => [id, generateKeyPair()]));
    const ports = new Map<number, number>();
    for (const id of ids) ports.set(id, await freePort('udp'));
    const metrics = await freePort('tcp');
    for (const id of ids) {
      const cfg = {
        Interface: { IType: 'dummy', MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404 },
        NodeID: id,
        NodeName: `egdup${id}`,
        PrivKey: keys.get(id)!.privateKey,
        ListenPort: ports.get(id),
        DisabledAf: { IPv6: true },
        LogLevel: { LogLevel: 'error' },
        DynamicRoute: {
          SendPingInterval: 1,
          PeerAliveTimeout: 4,
          SaveNewPeers: false,
          P2P: { UseP2P: true, SendPeerInterval: 1, GraphRecalculateSetting: { TimeoutCheckInterval: 0.5, RecalculateCoolDown: 0.5, JitterTolerance: 20, JitterToleranceMultiplier: 1.01 } },
        },
        NextHopTable: {},
        Peers: ids.filter((b) => b !== id).map((b) => ({ NodeID: b, PubKey: keys.get(b)!.publicKey, PSKey: '', EndPoint: `127.0.0.1:${ports.get(b)}`, PersistentKeepalive: 0, Static: true })),
      };
      const f = join(dir, `edge${id}.yaml`);
      writeFileSync(f, stringify(cfg));
      procs.push(startEdge(f, { args: ['-no-uapi', ...(id === 1 ? ['-metrics', `127.0.0.1:${metrics}`] : [])] }));
    }
    const dupCount = async (): Promise<number> => {
      const text = await fetch(`http://127.0.0.1:${metrics}/metrics`).then((r) => r.text()).catch(() => '');
      const m = new RegExp(`^etherguard_drops_total\\{reason="${DUP.replace(/[()]/g, '\\$&')}"\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    let n = 0;
    for (const end = Date.now() + 30_000; n < 3 && Date.now() < end; await new Promise((r) => setTimeout(r, 250))) n = await dupCount();
    assert.ok(n >= 3, `flood copies counted on node 1: ${n}\n${await fetch(`http://127.0.0.1:${metrics}/metrics`).then((r) => r.text()).then((t) => t.split("\n").filter((l) => l.includes("drops")).join("\n"))}`);
    // The first drop of a process used to be summarised at once: a few seconds are enough.
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of procs) {
      const noisy = jsonLines(p).filter((l) => JSON.stringify(l).includes(DUP));
      assert.deepEqual(noisy, [], `error-level lines about flood copies (counted ${n} on node 1)`);
    }
  });
});
