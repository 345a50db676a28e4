// Static mode on the 6-node reference topology (links 1-2, 2-3, 2-4, 3-4, 3-5, 4-6) over real
// TAP devices, one edge process per network namespace, UDP between namespaces through a bridge.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRoot, sh } from '../helpers/netns.js';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';

const run = promisify(execFile);
const IDS = [1, 2, 3, 4, 5, 6];
const LINKS: [number, number][] = [[1, 2], [2, 3], [2, 4], [3, 4], [3, 5], [4, 6]];
const TABLE = {
  1: { 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 },
  2: { 1: 1, 3: 3, 4: 4, 5: 3, 6: 4 },
  3: { 1: 2, 2: 2, 4: 4, 5: 5, 6: 4 },
  4: { 1: 2, 2: 2, 3: 3, 5: 3, 6: 6 },
  5: { 1: 3, 2: 3, 3: 3, 4: 3, 6: 3 },
  6: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 },
};
const tapIp = (id: number) => `192.168.76.${id}`;

const ping = (ns: string, ip: string) => pingFrom(ns, ip, 4);

describe('e2e: static mode over TAP in network namespaces', function () {
  this.timeout(120_000);
  let topo: Topo | undefined;
  const procs = new Map<number, Proc>();
  const uapiDir = mkdtempSync(join(tmpdir(), 'eguapi-'));
  const nodeName = (id: number) => `egs${process.pid % 10000}n${id}`;

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar(IDS);
    const { files } = buildConfigs({
      nodes: IDS.map((id) => ({
        id,
        host: topo!.addr(id),
        port: 3001,
        iface: { IType: 'tap', Name: `eg${id}`, IPv4CIDR: '192.168.76.0/24' },
        extra: { NodeName: nodeName(id) },
      })),
      links: LINKS,
      table: TABLE,
      log: { LogLevel: 'debug', LogTransit: true, LogNormal: true },
    });
    for (const id of IDS) procs.set(id, startEdge(files.get(id)!, { netns: topo.ns.get(id)!, env: { EG_UAPI_DIR: uapiDir } }));
    await Promise.all(
      IDS.map((id) => waitFor(() => procs.get(id)!.out.some((l) => l.includes(' up: tap ')), 15_000, `edge ${id} to start: ${procs.get(id)!.out.join('\n')}`)),
    );
  });

  after(async () => {
    await stopAll([...procs.values()]);
    topo?.teardown();
  });

  it('ping succeeds between every pair of TAP addresses', async () => {
    const pairs = IDS.flatMap((a) => IDS.filter((b) => b !== a).map((b) => [a, b] as const));
    const results = await Promise.all(pairs.map(async ([a, b]) => [a, b, await ping(topo!.ns.get(a)!, tapIp(b))] as const));
    const failed = results.filter((r) => !r[2]).map(([a, b]) => `${a}->${b}`);
    assert.deepEqual(failed, [], `pings failed: ${failed.join(' ')}`);
  });

  it('traffic between 1 and 6 is relayed by 2 and 4 (and not by 3 or 5)', async () => {
    const transit = (id: number, src: number, dst: number) =>
      jsonLines(procs.get(id)!).filter((l) => l.level === 'transit' && l.src === src && l.dst === dst).length;
    const before = IDS.map((id) => transit(id, 1, 6) + transit(id, 6, 1));
    await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'ping', '-c', '5', '-i', '0.2', '-W', '2', tapIp(6)]);
    await new Promise((r) => setTimeout(r, 300));
    const delta = IDS.map((id, i) => transit(id, 1, 6) + transit(id, 6, 1) - before[i]);
    assert.ok(delta[1] >= 10, `node 2 relayed ${delta[1]} (want >= 10: 5 requests + 5 replies)`);
    assert.ok(delta[3] >= 10, `node 4 relayed ${delta[3]}`);
    assert.equal(delta[2], 0, 'node 3 is not on the 1<->6 path');
    assert.equal(delta[4], 0, 'node 5 is not on the 1<->6 path');
  });

  it('a broadcast frame from node 1 reaches every other node exactly once', async () => {
    const count = (id: number) =>
      jsonLines(procs.get(id)!).filter((l) => l.level === 'normal' && l.msg === 'deliver' && l.src === 1 && l.ethertype === '88b5').length;
    const before = IDS.map(count);
    // A raw Ethernet broadcast with a private ethertype, written straight into tap eg1.
    const py = `import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('eg1',0)); s.send(b'\\xff'*6 + bytes.fromhex('aabbccdd0001') + b'\\x88\\xb5' + b'etherguard-broadcast-test'.ljust(46, b'.'))`;
    await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'python3', '-c', py]);
    await new Promise((r) => setTimeout(r, 1000));
    const got = IDS.map((id, i) => count(id) - before[i]);
    assert.deepEqual(got, [0, 1, 1, 1, 1, 1]);
  });

  it('malformed datagrams are dropped with a reason and forwarding goes on', async () => {
    const ns1 = topo!.ns.get(1)!;
    const py = `import socket,os; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in [b'', b'\\x01', b'\\x04\\x00\\x00\\x00' + os.urandom(40), b'\\x01\\x00\\x00\\x00' + os.urandom(144), os.urandom(1000)]: s.sendto(m, ('${topo!.addr(2)}', 3001))`;
    await run('ip', ['netns', 'exec', ns1, 'python3', '-c', py]);
    await new Promise((r) => setTimeout(r, 500));
    const drops = jsonLines(procs.get(2)!).filter((l) => l.level === 'drop' && String(l.msg).startsWith('wireguard: '));
    assert.ok(drops.length >= 4, `node 2 logged ${drops.length} wireguard drops`);
    const reasons = new Set(drops.map((d) => d.msg));
    assert.ok(reasons.has('wireguard: Truncated') || reasons.has('wireguard: BadType'), [...reasons].join(', '));
    assert.ok(await ping(ns1, tapIp(6)), 'still forwarding after garbage');
    assert.equal(procs.get(2)!.child.exitCode, null, 'node 2 still running');
  });

  it('`wg show` from wireguard-tools lists an edge’s peers with endpoints, handshakes and transfer', async function () {
    // wg(8) only looks in /var/run/wireguard: run one more UAPI check there via a symlink.
    const name = nodeName(2);
    const real = join(uapiDir, `${name}.sock`);
    assert.ok(existsSync(real), 'UAPI socket exists in EG_UAPI_DIR');
    sh('mkdir', ['-p', '/var/run/wireguard']);
    const link = `/var/run/wireguard/${name}.sock`;
    sh('ln', ['-sf', real, link]);
    try {
      const { stdout } = await run('wg', ['show', name, 'dump']);
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, 1 + 3, 'node 2 has peers 1, 3, 4');
      const peers = lines.slice(1).map((l) => l.split('\t'));
      for (const p of peers) {
        assert.match(p[2], /^10\.77\.0\.[134]:3001$/);
        assert.ok(Number(p[4]) > Date.now() / 1000 - 120, 'recent handshake');
        assert.ok(Number(p[5]) > 0 && Number(p[6]) > 0, 'bytes both ways');
      }
    } finally {
      sh('rm', ['-f', link]);
    }
  });

  it('SIGTERM stops an edge cleanly: exit 0, TAP removed, UAPI socket deleted', async () => {
    const p = procs.get(5)!;
    p.child.kill('SIGTERM');
    const code = await p.exited;
    assert.equal(code, 0);
    assert.doesNotMatch(sh('ip', ['-n', topo!.ns.get(5)!, 'link', 'show']), /eg5/);
    assert.ok(!existsSync(join(uapiDir, `${nodeName(5)}.sock`)));
  });
});
