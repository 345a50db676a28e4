// Manage API cost against the number of configured peers (issue 11 part 3): a supernode in
// this process with a config file of P peers (P = 10, 100, 300 by default), then K peer/add
// calls (each followed, one at a time, by its peer/del) over real HTTP on loopback; median and
// max process CPU milliseconds per call (server and client; wall time on a shared box is noise), and the size of /manage/super/state for those never-connected
// peers. Run: npx tsx bench/super-peer-add.bench.ts   Env: BENCH_PEERS ("10,100,300"), BENCH_K (20).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, parseSuperConfig } from '../ts/config/index.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';

const PEERS = (process.env.BENCH_PEERS ?? '10,100,300').split(',').map(Number);
const K = Number(process.env.BENCH_K ?? 20);
const PW = 'bench_pw';
const quiet = () => new Logger('bench', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });

function yamlFor(n: number): string {
  const v4 = generateKeyPair();
  const v6 = generateKeyPair();
  const peers = Array.from({ length: n }, (_, i) => `  # edge ${i + 1000}\n  - NodeID: ${i + 1000}\n    Name: edge${i + 1000}\n    PubKey: ${generateKeyPair().publicKey}\n    PSKey: ${generatePSK()}\n    AdditionalCost: 10\n`).join('');
  return `# bench supernode
NodeName: BenchSuper
PrivKeyV4: ${v4.privateKey}
PrivKeyV6: ${v6.privateKey}
ListenPort: 3000
ListenPort_EdgeAPI: "3000"
ListenPort_ManageAPI: "3000"
DisabledAf:
  IPv6: true
API_Prefix: eg_api
PeerAliveTimeout: 70
SendPingInterval: 15
HttpPostInterval: 50
Passwords: {ShowState: ${PW}, AddPeer: ${PW}, DelPeer: ${PW}, UpdatePeer: ${PW}, UpdateSuper: ${PW}}
GraphRecalculateSetting:
  JitterTolerance: 30
  JitterToleranceMultiplier: 1.01
  TimeoutCheckInterval: 5
  RecalculateCoolDown: 5
Peers:
${peers}`;
}

/** Process CPU time (user + system), ms: server and client share this process; other load on the machine does not count. */
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};

async function one(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'eg-bench-add-'));
  const path = join(dir, 'super.yaml');
  writeFileSync(path, yamlFor(n));
  const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path, () => {});
  cfg.ListenPort = 0;
  cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
  cfg.ListenPort_ManageAPI = '127.0.0.1:0';
  cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
  const sn = new Supernode(cfg, { configPath: path, log: quiet(), uapi: false, shutdownNotices: { count: 1, intervalMs: 0 } });
  await sn.start();
  const base = `${sn.manageAddress()}/eg_api/manage`;
  const add: number[] = [];
  const del: number[] = [];
  try {
    for (let i = 0; i < K + 2; i++) {
      const id = 1 + i; // the example edge config's IPv4CIDR (/24) takes NodeIDs up to 254
      let t = cpuMs();
      const a = await fetch(`${base}/peer/add`, { method: 'POST', headers: { authorization: `Bearer ${PW}` }, body: new URLSearchParams({ NodeID: String(id), Name: `new${i}`, AdditionalCost: '10', PubKey: generateKeyPair().publicKey }) });
      const body = await a.text();
      if (!a.ok) throw new Error(`peer/add: HTTP ${a.status} ${body}`);
      if (i >= 2) add.push(cpuMs() - t); // the first two warm up the JIT
      t = cpuMs();
      const d = await fetch(`${base}/peer/del`, { method: 'POST', headers: { authorization: `Bearer ${PW}` }, body: new URLSearchParams({ NodeID: String(id) }) });
      await d.text();
      if (!d.ok) throw new Error(`peer/del: HTTP ${d.status}`);
      if (i >= 2) del.push(cpuMs() - t);
    }
    sn.invalidateState();
    const st = await fetch(`${base}/super/state`, { headers: { authorization: `Bearer ${PW}` } });
    const bytes = (await st.arrayBuffer()).byteLength;
    const a = stats(add);
    const d = stats(del);
    return `${String(n).padStart(6)} | ${a.median.toFixed(1).padStart(13)} | ${a.max.toFixed(1).padStart(10)} | ${d.median.toFixed(1).padStart(13)} | ${d.max.toFixed(1).padStart(10)} | ${String(bytes).padStart(11)}`;
  } finally {
    await sn.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`manage API cost vs configured peers (${K} peer/add + peer/del each, over HTTP on loopback; process CPU ms per call)`);
console.log(' peers | add median ms | add max ms | del median ms | del max ms | state bytes');
for (const n of PEERS) console.log(await one(n));
