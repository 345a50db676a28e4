// TTL in static mode, with real edge processes in network namespaces (buildStar: UDP between
// namespaces through a bridge). The "hosts" are the test itself, talking to the edges that have
// an interface through IType stdio (nochg framing on the child's stdin/stdout, logs on stderr):
// that gives byte-exact frames with no kernel chatter (ARP, IPv6 RS, ...) in the counts. Relay
// nodes use IType dummy.
//
// TTL semantics (upstream's, see decide() in ts/edge/forward.ts): a frame leaves its source with
// DefaultTTL; every relay that forwards it decrements the TTL; a frame that arrives with TTL 0
// is still delivered if it is addressed to that node (or is a broadcast), but it is never
// forwarded ("TTL expired" if it was not for that node). So a frame can travel DefaultTTL + 1
// hops: DefaultTTL relays.
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../helpers/netns.js';
import { buildConfigs, MeshSpec } from '../helpers/mesh.js';
import { buildStar, Topo } from '../helpers/topo.js';
import { ROOT } from '../../ts/paths.js';
import { Unframer } from '../helpers/unframer.js';

const IDS = [1, 2, 3, 4];
const PORT = 3001;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- edge processes with a stdio interface -----------------------------------------------------


interface Node {
  id: number;
  child: ChildProcess;
  out: string[];
  /** Frames the edge wrote to its stdio interface. */
  frames: Buffer[];
  exited: Promise<number | null>;
  send(f: Buffer): void;
  logs(): Record<string, unknown>[];
}

function startNode(id: number, config: string, ns: string): Node {
  const argv = [join(ROOT, 'dist/main.js'), 'edge', '-config', config, '-json', '-no-uapi'];
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: string[] = [];
  const frames: Buffer[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    out.push(...lines);
  });
  const u = new Unframer();
  child.stdout!.on('data', (d: Buffer) => u.push(d, frames));
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  return {
    id,
    child,
    out,
    frames,
    exited,
    send(f) {
      const b = Buffer.alloc(2 + f.length);
      b.writeUInt16BE(f.length, 0);
      f.copy(b, 2);
      child.stdin!.write(b);
    },
    logs() {
      const r: Record<string, unknown>[] = [];
      for (const l of out) {
        try {
          r.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          /* not a log line */
        }
      }
      return r;
    },
  };
}

async function stopNodes(nodes: Iterable<Node>): Promise<void> {
  const list = [...nodes];
  for (const n of list) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGTERM');
  await Promise.race([Promise.all(list.map((n) => n.exited)), sleep(3000)]);
  for (const n of list) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
}

async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(20);
  }
}

/** Builds configs, starts one edge per namespace, waits until all are up. */
async function startMesh(topo: Topo, spec: Omit<MeshSpec, 'nodes'>, iface: (id: number) => Record<string, unknown>, extra: (id: number) => Record<string, unknown> = () => ({})) {
  const { files, dir } = buildConfigs({
    ...spec,
    nodes: IDS.map((id) => ({ id, host: topo.addr(id), port: PORT, iface: iface(id), extra: { NodeName: `egt${id}`, ...extra(id) } })),
  });
  const nodes = new Map<number, Node>();
  for (const id of IDS) nodes.set(id, startNode(id, files.get(id)!, topo.ns.get(id)!));
  const dump = () => [...nodes.values()].map((n) => `--- edge ${n.id}:\n${n.out.join('\n')}`).join('\n');
  await Promise.all(
    IDS.map((id) => waitFor(() => nodes.get(id)!.out.some((l) => l.includes(' up: ')) || nodes.get(id)!.child.exitCode !== null, 15_000, () => `edge ${id} up\n${dump()}`)),
  );
  for (const id of IDS) assert.equal(nodes.get(id)!.child.exitCode, null, `edge ${id} exited:\n${dump()}`);
  return { nodes, dir, dump };
}

// ---- frames -----------------------------------------------------------------------------------

const mac = (id: number) => Buffer.from(`02000000${id.toString(16).padStart(2, '0')}${id.toString(16).padStart(2, '0')}`, 'hex');
const BCAST = Buffer.alloc(6, 0xff);

function ethFrame(dst: Buffer, src: Buffer, len: number, tag: string): Buffer {
  const f = randomBytes(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  Buffer.from(tag).copy(f, 14);
  return f;
}
const has = (n: Node, f: Buffer) => n.frames.some((x) => x.equals(f));

// ---- tests ------------------------------------------------------------------------------------

describe('e2e: TTL bounds forwarding (static mode, network namespaces)', function () {
  this.timeout(90_000);
  let topo: Topo | undefined;
  let nodes = new Map<number, Node>();
  const dirs: string[] = [];
  let dump = () => '';
  const node = (id: number) => nodes.get(id)!;

  before(function () {
    if (!isRoot()) this.skip();
    topo = buildStar(IDS, 78);
  });

  after(async () => {
    await stopNodes(nodes.values());
    topo?.teardown();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe('a routing loop 2 → 3 → 4 → 2 (DefaultTTL 20)', () => {
    // Links 1-2, 2-3, 3-4, 4-2. Routes to every node but 1 are sane; routes to node 1 from
    // 2, 3 and 4 go round the triangle (2→1 via 3, 3→1 via 4, 4→1 via 2), and no route from
    // 2 to 4 or 3 to 2 goes back the way a frame came, so decide()'s "points back to the
    // sender" check never fires: a frame for node 1 entering the triangle circulates, until it
    // comes back to its source, which drops it (a loop that avoids the source ends by TTL: see
    // test/edge-forward.test.ts).
    const TABLE = {
      1: { 2: 2, 3: 2, 4: 2 },
      2: { 1: 3, 3: 3, 4: 4 },
      3: { 1: 4, 2: 2, 4: 4 },
      4: { 1: 2, 2: 2, 3: 3 },
    };
    const TTL = 20;
    const transit = (src: number, dst: number) =>
      [2, 3, 4].map((id) => node(id).logs().filter((l) => l.level === 'transit' && l.src === src && l.dst === dst).length);
    const ttlDrops = (id: number) => node(id).logs().filter((l) => l.level === 'drop' && l.msg === 'TTL expired');

    before(async function () {
      if (!topo) this.skip();
      const m = await startMesh(
        topo,
        { links: [[1, 2], [2, 3], [3, 4], [4, 2]], table: TABLE, log: { LogLevel: 'debug', LogTransit: true, LogNormal: true } },
        (id) => ({ IType: id === 1 || id === 3 ? 'stdio' : 'dummy' }),
        // The loop is on purpose here: without AllowNextHopLoops the edges refuse this table.
        () => ({ DefaultTTL: TTL, AllowNextHopLoops: true }),
      );
      nodes = m.nodes;
      dirs.push(m.dir);
      dump = m.dump;
    });

    after(async () => {
      await stopNodes(nodes.values());
      nodes = new Map();
    });

    it('a broadcast from host 1 reaches host 3 (so edge 3 learns host 1’s MAC)', async () => {
      const f = ethFrame(BCAST, mac(1), 100, 'learn');
      node(1).send(f);
      await waitFor(() => has(node(3), f), 10_000, () => `broadcast at host 3\n${dump()}`);
      await waitFor(() => node(3).logs().some((l) => l.level === 'normal' && l.msg === 'deliver' && l.src === 1), 2000, () => 'deliver log on edge 3');
    });

    it('a unicast for node 1 sent into the loop goes round once and is dropped by its source (not forwarded until the TTL runs out)', async () => {
      const before = transit(3, 1);
      const ownDrops = () => node(3).logs().filter((l) => l.level === 'drop' && typeof l.msg === 'string' && l.msg.startsWith('message from this node (NodeID 3) came back'));
      const ownBefore = ownDrops().length;
      const dropsBefore = [2, 3, 4].map((id) => ttlDrops(id).length);
      const f = ethFrame(mac(1), mac(3), 200, 'loop');
      node(3).send(f);
      await waitFor(() => ownDrops().length > ownBefore, 15_000, () => `edge 3 drops its own returning frame (transit so far ${transit(3, 1)})\n${dump()}`);
      await sleep(300); // a frame that kept circulating would add more transit lines now
      // 3 → 4 → 2 → 3: one transit line each on 4 and 2, none on 3 (its own frame is not relayed).
      const per = transit(3, 1).map((n, i) => n - before[i]);
      assert.deepEqual(per, [1, 0, 1], `transit lines for the looping frame per node 2,3,4`);
      assert.equal(ownDrops().length - ownBefore, 1);
      assert.deepEqual([2, 3, 4].map((id, i) => ttlDrops(id).length - dropsBefore[i]), [0, 0, 0]);
      // It left node 3 with dst 1 (unicast, learned MAC) rather than as a broadcast.
      assert.ok(node(3).logs().some((l) => l.level === 'normal' && l.msg === 'send' && l.dst === 1 && l.len === 200));
      assert.equal(node(1).frames.some((x) => x.equals(f)), false, 'node 1 is behind the loop and never gets it');
    });

    it('the edges keep running and forwarding after the loop', async () => {
      for (const id of IDS) assert.equal(node(id).child.exitCode, null, `edge ${id} running`);
      const f = ethFrame(BCAST, mac(1), 300, 'after');
      node(1).send(f);
      await waitFor(() => has(node(3), f), 10_000, () => `broadcast after the loop\n${dump()}`);
    });
  });

  describe('DefaultTTL 1 on a line 1-2-3-4', () => {
    // Node 1 sends with TTL 1; the others keep the default 200 so their broadcasts reach node 1
    // (edge 1 has to learn host 3's and host 4's MACs to send unicasts).
    const TABLE = {
      1: { 2: 2, 3: 2, 4: 2 },
      2: { 1: 1, 3: 3, 4: 3 },
      3: { 1: 2, 2: 2, 4: 4 },
      4: { 1: 3, 2: 3, 3: 3 },
    };

    before(async function () {
      if (!topo) this.skip();
      const m = await startMesh(
        topo,
        { links: [[1, 2], [2, 3], [3, 4]], table: TABLE, log: { LogLevel: 'debug', LogTransit: true, LogNormal: true } },
        (id) => ({ IType: id === 2 ? 'dummy' : 'stdio' }),
        (id) => (id === 1 ? { DefaultTTL: 1 } : {}),
      );
      nodes = m.nodes;
      dirs.push(m.dir);
      dump = m.dump;
      // Hosts 3 and 4 announce themselves (TTL 200): edge 1 learns their MACs.
      for (const id of [3, 4]) {
        const f = ethFrame(BCAST, mac(id), 90, `hello from ${id}`);
        node(id).send(f);
        await waitFor(() => has(node(1), f), 10_000, () => `host ${id}'s broadcast at host 1\n${dump()}`);
      }
    });

    after(async () => {
      await stopNodes(nodes.values());
      nodes = new Map();
    });

    it('a unicast over 3 hops (two relays) is not delivered: the second relay (3) logs "TTL expired"', async () => {
      const f = ethFrame(mac(4), mac(1), 222, 'too far');
      node(1).send(f);
      await waitFor(
        () => node(3).logs().some((l) => l.level === 'drop' && l.msg === 'TTL expired' && l.src === 1 && l.dst === 4),
        10_000,
        () => `TTL expired on edge 3\n${dump()}`,
      );
      await sleep(300);
      assert.equal(has(node(4), f), false, 'host 4 must not receive it');
      assert.ok(node(1).logs().some((l) => l.level === 'normal' && l.msg === 'send' && l.dst === 4 && l.len === 222), 'sent as unicast to 4');
      const t2 = node(2).logs().filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 4);
      assert.deepEqual(t2.map((l) => l.ttl), [0], 'relay 2 forwarded it once, with TTL 0');
      assert.equal(node(3).logs().filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 4).length, 0, 'relay 3 did not forward it');
      for (const id of IDS) assert.equal(node(id).child.exitCode, null, `edge ${id} running`);
    });

    it('a unicast over 2 hops (one relay) still arrives: it leaves the relay with TTL 0 and TTL 0 is delivered (upstream semantics)', async () => {
      const f = ethFrame(mac(3), mac(1), 223, 'one relay');
      node(1).send(f);
      await waitFor(() => has(node(3), f), 10_000, () => `unicast at host 3\n${dump()}`);
      const t2 = node(2).logs().filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 3);
      assert.deepEqual(t2.map((l) => l.ttl), [0]);
    });

    it('a broadcast with TTL 1 reaches nodes 2 and 3 but is not forwarded by 3 to 4', async () => {
      const f = ethFrame(BCAST, mac(1), 224, 'bcast ttl 1');
      const fwd3 = () => node(3).logs().filter((l) => l.level === 'transit' && l.src === 1 && l.dst === 65535).length;
      const before = fwd3();
      node(1).send(f);
      await waitFor(() => has(node(3), f), 10_000, () => `broadcast at host 3\n${dump()}`);
      await sleep(300);
      assert.equal(has(node(4), f), false, 'host 4 must not receive it');
      assert.equal(fwd3(), before, 'edge 3 did not forward it');
    });
  });
});
