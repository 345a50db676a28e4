// IType vpp end to end: node 1 is an edge with IType vpp, a memif client of DPDK's dpdk-testpmd
// (memif server, MAC-swap forwarding: every frame comes back with its MAC addresses swapped);
// node 2 is an edge with a TAP device. Both run in one network namespace and talk WireGuard over
// its loopback. A python AF_PACKET socket on node 2's TAP sends Ethernet frames (private
// ethertype 0x88b5, a sequence number, a body derived from it) to a MAC behind node 1; they
// cross the VPN, go into the memif ring, come back swapped from testpmd and cross the VPN again to
// the TAP. Asserted: >= 99 % of 1000 frames come back byte-correct; frames longer than node 1's
// memif MTU allows are counted as drops with their reason (metrics); testpmd killed with -9:
// node 1 keeps running and counts the frames for the memif as "memif peer not connected"; testpmd
// restarted (its stale socket file removed): node 1 reconnects by itself and >= 99 % of 1000 frames
// come back again. Needs root, python3 and dpdk-testpmd (scripts/bootstrap.sh installs them).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { isRoot, netnsAdd, netnsDel } from '../helpers/netns.js';
import { startTestpmd, testpmdAvailable, type Testpmd } from '../helpers/testpmd.js';

const run = promisify(execFile);
const TAP = 'egvt2';
const PEER_MAC = '02000000c0de'; // the host behind node 1's memif (testpmd answers for any MAC)
const METRICS = 9591;

// Sends n frames of `size` bytes from seq `first` on the TAP (paced: 25 frames, then 5 ms), then
// waits up to `wait` s for them to come back swapped; prints {sent, got, bad}.
const PY = `
import socket, struct, sys, time, json, select
tap, n, size, first, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
peer = bytes.fromhex(sys.argv[6])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
s.bind((tap, 0))
# Room for every frame that comes back while this script is busy sending (root: FORCE).
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
me = s.getsockname()[4]
s.setblocking(False)
def body(seq, n):
    return bytes((seq + i) & 0xff for i in range(n))
got, bad = set(), 0
def rx():
    global bad
    while True:
        try:
            d, a = s.recvfrom(70000)
        except BlockingIOError:
            return
        if a[2] == socket.PACKET_OUTGOING or len(d) < 18:
            continue
        seq = struct.unpack('!I', d[14:18])[0]
        if d[0:6] == me and d[6:12] == peer and d[18:] == body(seq, len(d) - 18):
            got.add(seq)
        else:
            bad += 1
for i in range(n):
    seq = first + i
    s.send(peer + me + b'\\x88\\xb5' + struct.pack('!I', seq) + body(seq, size - 18))
    if i % 25 == 24:
        time.sleep(0.005)
        rx()
end = time.time() + wait
while time.time() < end and len(got) < n:
    select.select([s], [], [], 0.1)
    rx()
print(json.dumps({'sent': n, 'got': len(got), 'bad': bad}))
`;

describe('e2e: IType vpp (memif client) behind dpdk-testpmd, reached over the VPN from a TAP edge', function () {
  this.timeout(180_000);
  let ns = '';
  let dir = '';
  let pmd: Testpmd | undefined;
  const procs: Proc[] = [];
  let sock = '';
  const prefix = `eg15e${process.pid}`;

  before(async function () {
    if (!isRoot() || !testpmdAvailable()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'egvppe2e-'));
    sock = join(dir, 'vppe1.sock');
    pmd = await startTestpmd(sock, prefix, 3);
    ns = netnsAdd('egvpp');
    const cfg = buildConfigs({
      nodes: [
        { id: 1, host: '127.0.0.1', port: 3101, iface: { IType: 'vpp', Name: 'vppe1', MTU: 1404, VPPIFaceID: 3 } },
        { id: 2, host: '127.0.0.1', port: 3102, iface: { IType: 'tap', Name: TAP, MTU: 9000 } },
      ],
      links: [[1, 2]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
    });
    const env = { VPP_MEMIF_SOCKET_DIR: dir, VPP_API_SOCKET_PATH: join(dir, 'no-vpp-api.sock') };
    procs.push(startEdge(cfg.files.get(1)!, { netns: ns, env, args: ['-no-uapi', '-metrics', `127.0.0.1:${METRICS}`] }));
    procs.push(startEdge(cfg.files.get(2)!, { netns: ns, env, args: ['-no-uapi', '-metrics', `127.0.0.1:${METRICS + 1}`] }));
    await waitFor(() => jsonLines(procs[0]).some((l) => /memif connected to "DPDK/.test(String(l.msg))), 20_000, 'node 1 to connect to testpmd').catch((e: Error) => {
      throw new Error(`${e.message}; node 1 said:\n${procs[0].out.slice(-20).join('\n')}`);
    });
    await waitFor(() => jsonLines(procs[1]).some((l) => /^edge .* up:/.test(String(l.msg))), 20_000, 'node 2 up');
  });

  after(async () => {
    await stopAll(procs);
    await pmd?.kill();
    if (ns) netnsDel(ns);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function blast(n: number, size: number, first: number, wait = 8): Promise<{ sent: number; got: number; bad: number }> {
    const r = await run('ip', ['netns', 'exec', ns, 'python3', '-c', PY, TAP, String(n), String(size), String(first), String(wait), PEER_MAC], { timeout: 60_000 });
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { sent: number; got: number; bad: number };
  }

  async function drops(port = METRICS): Promise<Map<string, number>> {
    const r = await run('ip', ['netns', 'exec', ns, 'curl', '-s', `http://127.0.0.1:${port}/metrics`]);
    const m = new Map<string, number>();
    for (const l of r.stdout.split('\n')) {
      const x = /^etherguard_drops_total\{reason="(.*)"\} (\d+)/.exec(l);
      if (x) m.set(x[1]!, Number(x[2]));
    }
    return m;
  }

  /** Where frames went missing, for a failure message. */
  async function where(): Promise<string> {
    const pmdStats = pmd!.out.filter((l) => /RX-packets|TX-packets/.test(l)).slice(-2).join(' / ');
    return `node 1 drops ${JSON.stringify([...(await drops())])}, node 2 drops ${JSON.stringify([...(await drops(METRICS + 1))])}, testpmd ${pmdStats}`;
  }

  /** Until one frame made the whole round trip (handshake, MAC learning on both edges). */
  async function warmUp(first: number): Promise<void> {
    for (let i = 0; i < 20; i++) if ((await blast(5, 100, first + i * 10, 1)).got > 0) return;
    throw new Error(`no frame came back:\n${procs.map((p) => p.out.slice(-15).join('\n')).join('\n---\n')}`);
  }

  it('frames from the TAP side reach the memif peer and come back (>= 99 % of 1000)', async () => {
    await warmUp(100_000);
    const r = await blast(1000, 200, 0);
    assert.equal(r.bad, 0);
    assert.ok(r.got >= 990, `came back: ${r.got} of 1000; ${await where()}`);
    const big = await blast(50, 1422, 2000); // MTU 1404 + 18: the largest frame node 1 carries
    assert.ok(big.got >= 49, `came back: ${big.got} of 50 frames of 1422 bytes`);
  });

  it('frames longer than the memif MTU allows are dropped and counted with their reason', async () => {
    const reason = 'frame longer than the memif MTU allows (N bytes)';
    const before = (await drops()).get(reason) ?? 0;
    const r = await blast(20, 3000, 3000, 1);
    assert.equal(r.got, 0);
    await waitFor(() => true, 10, '');
    const after = (await drops()).get(reason) ?? 0;
    assert.equal(after - before, 20, `drops by reason: ${JSON.stringify([...(await drops())])}`);
  });

  it('testpmd killed (-9): node 1 keeps running and counts frames for it; restarted: reconnects, >= 99 % again', async () => {
    await pmd!.kill('SIGKILL');
    await waitFor(() => jsonLines(procs[0]).some((l) => /memif disconnected: the server closed the socket/.test(String(l.msg))), 10_000, 'the disconnect');
    const reason = 'memif peer not connected';
    const before = (await drops()).get(reason) ?? 0;
    const r = await blast(100, 200, 10_000, 1);
    assert.equal(r.got, 0);
    const counted = ((await drops()).get(reason) ?? 0) - before;
    assert.ok(counted >= 99, `counted ${counted} of 100 as "${reason}"`);
    assert.equal(procs[0].child.exitCode, null, 'node 1 still running');
    const ups = () => jsonLines(procs[0]).filter((l) => /memif connected to "DPDK/.test(String(l.msg))).length;
    const upsBefore = ups();
    pmd = await startTestpmd(sock, prefix, 3); // removes the stale socket file first
    await waitFor(() => ups() > upsBefore, 15_000, 'node 1 to reconnect');
    const again = await blast(1000, 200, 20_000);
    assert.equal(again.bad, 0);
    assert.ok(again.got >= 990, `came back after the restart: ${again.got} of 1000; ${await where()}`);
  });
});
