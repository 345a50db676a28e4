// A member that puts another member's NodeID in the header source of its data frames. Three
// edges in network namespaces over TAP in static mode, on the line 1 – 2 – 3 (2 relays between 1
// and 3); a fourth member, 4, is a peer of 3 only, and it is this test itself: a raw WireGuard peer
// built on the project's WASM core (WgDevice) in the root namespace, so it can put anything in
// the Etherguard header. It sends node 3 frames claiming source NodeID 2 with node 1's TAP MAC as
// Ethernet source: without a check, node 3's L2FIB maps node 1's MAC to node 2, and 3's frames to
// node 1 go to node 2 (ping 3 → 1 dies). With the check (crates/eg-core/src/plane/origin.rs),
// 2's frames reach 3 only from 2 itself, so they are dropped, counted under the reason
// "data frame from N claims source NodeID N, ...", and the L2FIB keeps node 1's MAC on node 1,
// while frames that 2 relays from 1 still pass.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { isRoot } from '../helpers/netns.js';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { buildStar, pingFrom, Topo } from '../helpers/topo.js';
import { addrKey, keyFromBase64, Verdict, WgDevice } from '../../ts/core/wg.js';
import { HEADER_LEN, Kind } from '../../ts/core/generated.js';

const run = promisify(execFile);
const NET = 97;
const IDS = [1, 2, 3];
const HOSTILE = 4;
const PORT = 3001;
const HOSTILE_PORT = 20_000 + (process.pid % 10_000);
const METRICS_PORT = 9497;
// Full table (as a solver makes it): 4 is a leaf behind 3, nothing is routed through it.
const TABLE = {
  1: { 2: 2, 3: 2, 4: 2 },
  2: { 1: 1, 3: 3, 4: 3 },
  3: { 1: 2, 2: 2, 4: 4 },
  4: { 1: 3, 2: 3, 3: 3 },
};
const tapIp = (id: number) => `192.168.${NET}.${id}`;
const mac = (id: number) => Buffer.from(`aabbccdd${id.toString(16).padStart(4, '0')}`, 'hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SPOOF_REASON = /^data frame from N claims source NodeID N, but N is not the last hop/;

/** An Etherguard NormalPacket: kind, TTL, dst, src, length (big-endian), then the frame. */
function normalPacket(src: number, dst: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_LEN);
  h[0] = Kind.Normal;
  h[1] = 200;
  h.writeUInt16BE(dst, 2);
  h.writeUInt16BE(src, 4);
  h.writeUInt16BE(frame.length, 6);
  return Buffer.concat([h, frame]);
}

function ethFrame(dst: Buffer, src: Buffer): Buffer {
  return Buffer.concat([dst, src, Buffer.from([0x88, 0xb5]), Buffer.from('hostile member speaking for node 2'.padEnd(46, '.'))]);
}

/** The hostile member: one WireGuard session with node 3 from the root namespace. */
class Hostile {
  readonly dev: WgDevice;
  readonly peer: number;
  readonly sock: Socket;
  private readonly to: { host: string; port: number };
  ready = false;

  constructor(priv: string, node3Pub: string, psk: string | undefined, to: { host: string; port: number }, bindHost: string) {
    this.dev = new WgDevice(keyFromBase64(priv));
    this.peer = this.dev.addPeer(keyFromBase64(node3Pub), { psk: psk ? keyFromBase64(psk) : undefined });
    this.to = to;
    this.sock = createSocket('udp4');
    this.sock.on('message', (m, r) => {
      const res = this.dev.handle(new Uint8Array(m), addrKey(r.address, r.port));
      if ('packet' in res && res.packet) this.sock.send(res.packet, r.port, r.address);
      if (res.verdict === Verdict.SessionReady || this.dev.hasSession(this.peer)) this.ready = true;
    });
    this.sock.bind(HOSTILE_PORT, bindHost);
  }

  handshake(): void {
    const r = this.dev.initiate(this.peer);
    if (r.ok) this.sock.send(r.packet, this.to.port, this.to.host);
  }

  send(plain: Buffer): void {
    const r = this.dev.encapsulate(this.peer, new Uint8Array(plain));
    if (r.ok) this.sock.send(r.packet, this.to.port, this.to.host);
  }

  close(): void {
    this.sock.close();
    this.dev.free();
  }
}

/** `name{reason="..."} value` samples of one metric family. */
async function dropCounts(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const m = new Map<string, number>();
  for (const l of text.split('\n')) {
    const x = /^etherguard_drops_total\{reason="((?:[^"\\]|\\.)*)"\} (\S+)$/.exec(l);
    if (x) m.set(x[1]!, Number(x[2]));
  }
  return m;
}

describe('e2e: a member spoofing another NodeID in data frames is dropped and cannot poison the L2FIB', function () {
  this.timeout(120_000);
  let topo: Topo | undefined;
  const procs = new Map<number, Proc>();
  let hostile: Hostile | undefined;
  const metricsUrl = () => `http://${topo!.addr(3)}:${METRICS_PORT}/metrics`;

  before(async function () {
    if (!isRoot()) this.skip();
    topo = buildStar(IDS, NET);
    topo.joinRoot(HOSTILE);
    const nodes = [...IDS, HOSTILE].map((id) => ({
      id,
      host: topo!.addr(id),
      port: id === HOSTILE ? HOSTILE_PORT : PORT,
      iface: { IType: 'tap', Name: `egsd${id}`, IPv4CIDR: `192.168.${NET}.0/24` },
      extra: { NodeName: `egsd${process.pid % 1000}n${id}` },
    }));
    const { files, keys } = buildConfigs({
      nodes,
      links: [[1, 2], [2, 3], [3, HOSTILE]],
      table: TABLE,
      log: { LogLevel: 'debug', LogInternal: true },
    });
    for (const id of IDS) {
      const args = ['-no-uapi', ...(id === 3 ? ['-metrics', `${topo.addr(3)}:${METRICS_PORT}`] : [])];
      procs.set(id, startEdge(files.get(id)!, { netns: topo.ns.get(id)!, args }));
    }
    await Promise.all(
      IDS.map((id) => waitFor(() => procs.get(id)!.out.some((l) => l.includes(' up: tap ')), 15_000, `edge ${id} up: ${procs.get(id)!.out.join('\n')}`)),
    );
    const cfg3 = parse(readFileSync(files.get(3)!, 'utf8')) as { Peers: { NodeID: number; PSKey?: string }[] };
    hostile = new Hostile(
      keys.get(HOSTILE)!.privateKey,
      keys.get(3)!.publicKey,
      cfg3.Peers.find((p) => p.NodeID === HOSTILE)!.PSKey,
      { host: topo.addr(3), port: PORT },
      topo.addr(HOSTILE),
    );
    for (let i = 0; i < 50 && !hostile.ready; i++) {
      if (i % 10 === 0) hostile.handshake();
      await sleep(100);
    }
    assert.ok(hostile.ready, 'the hostile member has a session with node 3');
    // Warm up: ARP and the handshakes along the line.
    assert.ok(await pingFrom(topo.ns.get(3)!, tapIp(1), 5), 'ping 3 -> 1 before the attack');
    assert.ok(await pingFrom(topo.ns.get(1)!, tapIp(3), 5), 'ping 1 -> 3 before the attack');
  });

  after(async () => {
    hostile?.close();
    await stopAll([...procs.values()]);
    topo?.teardown();
  });

  it('frames claiming node 2 with node 1’s MAC are dropped with a counted reason; node 1’s MAC stays on node 1 and 3 -> 1 pings (relayed by 2) go on', async () => {
    const spoofUnicast = normalPacket(2, 3, ethFrame(mac(3), mac(1)));
    const spoofBroadcast = normalPacket(2, 0xffff, ethFrame(Buffer.alloc(6, 0xff), mac(1)));
    const before = await dropCounts(metricsUrl());
    let sent = 0;
    // 50 spoofed frames a second during the whole ping run, so a poisoned entry has no time to heal.
    const timer = setInterval(() => {
      hostile!.send(sent % 2 === 0 ? spoofUnicast : spoofBroadcast);
      sent++;
    }, 20);
    let out = '';
    try {
      await sleep(300);
      const r = await run('ip', ['netns', 'exec', topo!.ns.get(3)!, 'ping', '-c', '20', '-i', '0.2', '-W', '1', tapIp(1)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
      out = r.stdout;
    } finally {
      clearInterval(timer);
    }
    await sleep(300);
    const received = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
    const after = await dropCounts(metricsUrl());
    const grown = [...after].filter(([k]) => SPOOF_REASON.test(k)).map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const);
    const dropped = grown.reduce((a, [, v]) => a + v, 0);
    const logs = jsonLines(procs.get(3)!);
    const poisoned = logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('L2FIB') && l.mac === mac(1).toString('hex') && l.node !== 1);
    const spoofLines = logs.filter((l) => l.level === 'drop' && typeof l.msg === 'string' && l.msg.startsWith('data frame from 4 claims source NodeID 2'));
    const report = `sent ${sent} spoofed frames; ping 3 -> 1: ${received}/20; drops counted: ${JSON.stringify(grown)}; L2FIB entries for node 1's MAC on another node: ${JSON.stringify(poisoned.slice(0, 3))}`;
    assert.ok(sent >= 100, report);
    assert.equal(poisoned.length, 0, `node 3's L2FIB was poisoned: ${report}`);
    assert.ok(received >= 18, `frames to node 1's MAC must still reach node 1: ${report}`);
    assert.ok(dropped >= sent - 5, `every spoofed frame counted as a drop: ${report}`);
    assert.ok(spoofLines.length >= sent - 5, `each drop is logged naming the member (debug): ${spoofLines.length} lines; ${report}`);
    assert.equal(procs.get(3)!.child.exitCode, null, 'node 3 still runs');
  });

  it('frames that node 2 relays between 1 and 3 (unicast and broadcast) are not dropped as spoofed', async () => {
    const relayedDrops = () => jsonLines(procs.get(3)!).concat(jsonLines(procs.get(1)!)).filter((l) => l.level === 'drop' && typeof l.msg === 'string' && /^data frame from 2 claims/.test(l.msg)).length;
    const dropsBefore = relayedDrops();
    const r = await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'ping', '-c', '10', '-i', '0.2', '-W', '1', tapIp(3)]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? 0);
    assert.ok(received >= 9, `ping 1 -> 3 through 2: ${received}/10`);
    // A broadcast from 1, written into its TAP, reaches 3 through 2.
    const count = () => jsonLines(procs.get(3)!).filter((l) => l.msg === 'L2FIB learned' || l.msg === 'L2FIB moved').length;
    const py = `import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('egsd1',0)); s.send(b'\\xff'*6 + bytes.fromhex('02aabbccdd77') + b'\\x88\\xb5' + b'relayed broadcast'.ljust(46, b'.'))`;
    const learnedBefore = count();
    await run('ip', ['netns', 'exec', topo!.ns.get(1)!, 'python3', '-c', py]);
    await waitFor(() => jsonLines(procs.get(3)!).some((l) => l.msg === 'L2FIB learned' && l.mac === '02aabbccdd77' && l.node === 1), 3000, 'node 3 to learn the broadcast’s MAC on node 1');
    assert.ok(count() > learnedBefore);
    assert.equal(relayedDrops() - dropsBefore, 0, 'no relayed frame of 1 or 3 was dropped as spoofed');
  });
});
