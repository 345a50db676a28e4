// Kernel offloads on the data path, end to end: two edges over TAP in two network namespaces.
// With offloads the sending kernel hands the edge TSO super-frames (up to 64 KiB, checksums left
// partial), the core cuts them into MTU-sized frames with their own IDs, lengths and checksums,
// the segments go out as UDP GSO messages, and the receiving edge writes coalesced super-frames
// (GRO) to its TAP. Each case moves a TCP stream of random bytes over IPv4 and IPv6 and compares
// SHA-256 at both ends; the receiving kernels' TCP checksum-error counters must not move. The mixed
// case (sender with offloads, receiver without) makes the receiving kernel verify the checksum of
// every segment the core wrote. Odd-sized pings cross in every case. VLAN-tagged super-frames are
// covered by the core's tests (crates/eg-core/tests/plane_offload.rs): this machine's kernel has
// no 802.1Q support (CONFIG_VLAN_8021Q is not set), so no VLAN device can be made here.
import assert from 'node:assert/strict';
import { isRoot, runIn, sh } from '../helpers/netns.js';
import { buildConfigs, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';
import { tcpInCsumErrors, transfer } from '../helpers/stream.js';

const NET = 86;
const v4 = (id: number) => `192.168.${NET}.${id}`;
const v6 = (id: number) => `fd86:86::${id}`;
const BYTES = 24 << 20;

function tapFeature(ns: string, dev: string, feature: string): string {
  const m = sh('ip', ['netns', 'exec', ns, 'ethtool', '-k', dev]).match(new RegExp(`^${feature}: (\\w+)`, 'm'));
  return m ? m[1] : '?';
}

for (const c of [
  { name: 'offloads on at both edges', env: ['1', '1'] },
  { name: 'offloads on at the sender, off at the receiver (EG_OFFLOADS=0)', env: ['1', '0'] },
  { name: 'offloads off at both edges (EG_OFFLOADS=0)', env: ['0', '0'] },
]) {
  describe(`e2e: TAP and UDP offloads: ${c.name}`, function () {
    this.timeout(180_000);
    let topo: Topo | undefined;
    const procs: Proc[] = [];
    const ns = (id: number) => topo!.ns.get(id)!;

    before(async function () {
      if (!isRoot()) this.skip();
      topo = buildStar([1, 2], NET);
      const { files } = buildConfigs({
        nodes: [1, 2].map((id) => ({
          id,
          host: topo!.addr(id),
          port: 3001,
          iface: { IType: 'tap', Name: `ego${id}`, IPv4CIDR: `192.168.${NET}.0/24`, IPv6CIDR: 'fd86:86::/64' },
          extra: { NodeName: `ego${process.pid % 10000}n${id}` },
        })),
        links: [[1, 2]],
        table: { 1: { 2: 2 }, 2: { 1: 1 } },
      });
      for (const id of [1, 2]) procs.push(startEdge(files.get(id)!, { netns: ns(id), args: ['-no-uapi'], env: { EG_OFFLOADS: c.env[id - 1] } }));
      await Promise.all(procs.map((p, i) => waitFor(() => p.out.some((l) => l.includes(' up: tap ')), 15_000, `edge ${i + 1} up: ${p.out.join('\n')}`)));
      // IPv6 addresses become usable after DAD.
      await waitFor(() => !sh('ip', ['-n', ns(1), '-6', 'addr', 'show', 'dev', 'ego1']).includes('tentative'), 10_000, 'IPv6 DAD');
      for (const [a, b] of [[1, 2], [2, 1]]) {
        for (const ip of [v4(b), v6(b)]) assert.ok(await pingFrom(ns(a), ip, 5), `ping ${a} -> ${ip}`);
      }
    });

    after(async () => {
      await stopAll(procs);
      topo?.teardown();
    });

    it('each edge says which offloads it uses, and the TAP shows them', () => {
      for (const id of [1, 2]) {
        const up = procs[id - 1].out.find((l) => l.includes(' up: tap ')) ?? '';
        const on = c.env[id - 1] === '1';
        const tapLine = procs[id - 1].out.find((l) => l.includes(`tap ego${id}: up`)) ?? '';
        assert.equal(/offloads: .*tso4/.test(tapLine), on, `edge ${id}: ${tapLine} / ${up}`);
        assert.equal(tapFeature(ns(id), `ego${id}`, 'tcp-segmentation-offload'), on ? 'on' : 'off', `edge ${id} TAP TSO`);
      }
    });

    it('TCP streams over IPv4 and IPv6 arrive intact both ways; no TCP checksum errors', async () => {
      const before = [1, 2].map((id) => tcpInCsumErrors(ns(id)));
      let port = 5201;
      for (const [a, b] of [[1, 2], [2, 1]]) {
        for (const ip of [v4(b), v6(b)]) await transfer(ns(a), ns(b), ip, port++, BYTES);
      }
      const after = [1, 2].map((id) => tcpInCsumErrors(ns(id)));
      assert.deepEqual(after, before, 'TcpInCsumErrors unchanged in both namespaces');
    });

    it('odd-sized and full-MTU pings cross over IPv4 and IPv6', async () => {
      for (const size of [1, 59, 333, 1001, 1376]) {
        for (const [args, ip] of [[['-M', 'do'], v4(2)], [[], v6(2)]] as const) {
          const s = ip === v6(2) ? Math.min(size, 1356) : size;
          const r = await runIn(ns(1), 'ping', ['-c', '1', '-W', '2', '-s', String(s), ...args, ip]);
          assert.equal(r.code, 0, `ping -s ${s} ${ip}: ${r.stdout}${r.stderr}`);
        }
      }
    });

    it('no frame was dropped for a bad vnet header or super-frame', () => {
      for (const p of procs) assert.equal(p.out.filter((l) => l.includes('vnet header')).length, 0, p.out.join('\n'));
    });
  });
}

