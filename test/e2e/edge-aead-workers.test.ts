// AEAD worker threads end to end (ts/wgnode/aead-pool.ts, docs/architecture.md §Worker threads):
// two edges over TAP in two namespaces move TCP streams of random bytes both ways (SHA-256
// compared), so large batches are sealed and opened by worker threads at one edge and by the
// main thread at the other, or by workers at both with every batch, handshakes and pings
// included, going through the deferred path (EG_AEAD_MIN_BYTES=0). Then SIGTERM: each edge exits
// 0 promptly and an edge with workers says they stopped, after having run chunks.
import assert from 'node:assert/strict';
import { isRoot, runIn } from '../helpers/netns.js';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { tcpInCsumErrors, transfer } from '../helpers/stream.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';

const NET = 88;
const v4 = (id: number) => `192.168.${NET}.${id}`;
const BYTES = 16 << 20;

for (const c of [
  { name: 'workers at edge 1 (EG_AEAD_WORKERS=2), none at edge 2 (EG_AEAD_WORKERS=0)', env: [{ EG_AEAD_WORKERS: '2' }, { EG_AEAD_WORKERS: '0' }] },
  {
    name: 'workers at both edges, every batch deferred (EG_AEAD_MIN_BYTES=0)',
    env: [
      { EG_AEAD_WORKERS: '2', EG_AEAD_MIN_BYTES: '0' },
      { EG_AEAD_WORKERS: '1', EG_AEAD_MIN_BYTES: '0' },
    ],
  },
]) {
  describe(`e2e: AEAD worker threads: ${c.name}`, function () {
    this.timeout(180_000);
    let topo: Topo | undefined;
    const procs: Proc[] = [];
    const ns = (id: number) => topo!.ns.get(id)!;
    const workers = (id: number) => Number(c.env[id - 1].EG_AEAD_WORKERS);

    before(async function () {
      if (!isRoot()) this.skip();
      topo = buildStar([1, 2], NET);
      const { files } = buildConfigs({
        nodes: [1, 2].map((id) => ({
          id,
          host: topo!.addr(id),
          port: 3001,
          iface: { IType: 'tap', Name: `egw${id}`, IPv4CIDR: `192.168.${NET}.0/24` },
          extra: { NodeName: `egw${process.pid % 10000}n${id}` },
        })),
        links: [[1, 2]],
        table: { 1: { 2: 2 }, 2: { 1: 1 } },
      });
      for (const id of [1, 2]) procs.push(startEdge(files.get(id)!, { netns: ns(id), args: ['-no-uapi'], env: c.env[id - 1] }));
      await Promise.all(procs.map((p, i) => waitFor(() => p.out.some((l) => l.includes(' up: tap ')), 15_000, `edge ${i + 1} up: ${p.out.join('\n')}`)));
      for (const [a, b] of [[1, 2], [2, 1]]) assert.ok(await pingFrom(ns(a), v4(b), 5), `ping ${a} -> ${b}`);
    });

    after(async () => {
      await stopAll(procs);
      topo?.teardown();
    });

    it('an edge with workers says how many it uses; one with EG_AEAD_WORKERS=0 uses none', () => {
      for (const id of [1, 2]) {
        const line = procs[id - 1].out.find((l) => l.includes('aead: '));
        if (workers(id) > 0) assert.ok(line?.includes(`aead: ${workers(id)} worker thread(s)`), `edge ${id}: ${line}`);
        else assert.equal(line, undefined, `edge ${id}`);
      }
    });

    it('TCP streams arrive intact both ways; no TCP checksum errors', async () => {
      const before = [1, 2].map((id) => tcpInCsumErrors(ns(id)));
      await transfer(ns(1), ns(2), v4(2), 5301, BYTES);
      await transfer(ns(2), ns(1), v4(1), 5302, BYTES);
      assert.deepEqual([1, 2].map((id) => tcpInCsumErrors(ns(id))), before);
    });

    it('pings of every size cross', async () => {
      for (const size of [1, 333, 1376]) {
        const r = await runIn(ns(1), 'ping', ['-c', '1', '-W', '2', '-s', String(size), v4(2)]);
        assert.equal(r.code, 0, `ping -s ${size}: ${r.stdout}${r.stderr}`);
      }
    });

    it('on SIGTERM each edge exits 0 within 3 s; workers stop after having run chunks of batches', async () => {
      const t0 = Date.now();
      for (const p of procs) p.child.kill('SIGTERM');
      const codes = await Promise.race([Promise.all(procs.map((p) => p.exited)), new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
      assert.ok(codes, `edges still running 3 s after SIGTERM:\n${procs.map((p) => p.out.slice(-5).join('\n')).join('\n')}`);
      assert.deepEqual(codes, [0, 0], 'exit codes');
      assert.ok(Date.now() - t0 < 3000);
      for (const id of [1, 2]) {
        const stopped = jsonLines(procs[id - 1]).find((l) => String(l.msg ?? l.message ?? '').includes('aead: worker threads stopped'));
        if (workers(id) === 0) {
          assert.equal(stopped, undefined);
          continue;
        }
        assert.ok(stopped, `edge ${id}: no 'worker threads stopped' line:\n${procs[id - 1].out.slice(-8).join('\n')}`);
        assert.ok(Number(stopped.workerChunks) > 0, `edge ${id}: ${JSON.stringify(stopped)}`);
      }
    });
  });
}
