// The edge's forwarding as the core does it at run time: node 2's data plane (a WASM WgDevice in
// edge mode) receives sealed messages from its peers in one UDP batch each, and what it delivers,
// forwards, queues, hands to the control plane or drops (with the name the edge logs) is read
// from the batch's outputs. The rules one by one, and the L2FIB and flood filter, are tested in
// the core (crates/eg-core/tests/plane_forward.rs, plane.rs); the Logger here.
import assert from 'node:assert/strict';
import { Drop, EV, Ev, Mode, REC, SUMMARY } from '../ts/core/generated.js';
import { HEADER_LEN, Kind, NODE_BROADCAST, NODE_INVALID, NODE_SPREAD, NODE_SUPER, writeHeader, type Header } from '../ts/core/frame.js';
import { StaticRoutes, type TableRows } from '../ts/core/table.js';
import { generatePrivateKey, Reason, WgDevice } from '../ts/core/wg.js';
import { dropName } from '../ts/wgnode/host.js';
import { Logger, type LogSwitches } from '../ts/shared/log.js';

const ME = 2;
/** Node 2's view: 2→3 direct, 2→4 via 3, 2→5 via 1, 2→1 direct; no entry for 6 or 9. */
const TABLE = { 1: { 2: 2, 5: 5 }, 2: { 3: 3, 4: 3, 5: 1, 1: 1 }, 3: { 2: 2 }, 5: { 1: 1, 2: 1 } };
const addr = (n: number) => Uint8Array.of(10, 0, 0, n & 255);

interface Outcome {
  delivered: Uint8Array[];
  /** Next hops the message went to (sent, or queued for a handshake), with the TTL it carried. */
  forward: { node: number; ttl: number }[];
  control: { kind: number; src: number; dst: number }[];
  drops: string[];
}

/** Node 2 with peers 1, 3, 5 and a supernode session; senders 1, 3 and the supernode have sessions with it. */
class Mesh {
  clock = 100;
  readonly me: WgDevice;
  readonly senders = new Map<number, { dev: WgDevice; peer: number; mePeer: number }>();
  private readonly ids = new Map<number, number>(); // wg id at ME -> node

  constructor(table: TableRows = TABLE, dedupS = 40) {
    const now = () => this.clock;
    this.me = new WgDevice(generatePrivateKey(), { clock: now, wallClock: () => 1.7e12 + this.clock * 1000 });
    this.me.configureEdge(ME, 10, 300, dedupS, false, true);
    this.me.setRoutes(new StaticRoutes(table).triples);
    for (const node of [1, 3, 5, NODE_SUPER]) {
      const dev = new WgDevice(generatePrivateKey(), { clock: now, wallClock: () => 1.7e12 + this.clock * 1000 });
      const mePeer = this.me.addPeer(dev.publicKey);
      this.me.setPeerNode(mePeer, node, node === NODE_SUPER);
      this.me.setEndpoint(mePeer, 4, 1000, addr(node));
      this.ids.set(mePeer, node);
      const peer = dev.addPeer(this.me.publicKey);
      dev.setPeerNode(peer, ME, false);
      dev.setEndpoint(peer, 4, 1000, addr(ME));
      if (node !== 5) {
        const init = dev.initiate(peer);
        assert.ok(init.ok);
        const r = this.me.handle(init.packet, addr(node));
        assert.ok('packet' in r);
        const ready = dev.handle(r.packet, addr(ME));
        assert.ok('packet' in ready);
        this.me.handle(ready.packet, addr(node));
      }
      this.senders.set(node, { dev, peer, mePeer });
    }
  }

  /** `from` seals one Etherguard message to node 2, which processes it as a UDP batch. */
  send(from: number, h: Partial<Header>, payload: Uint8Array = frame(BCAST, A)): Outcome {
    const s = this.senders.get(from)!;
    const full: Header = { kind: Kind.Normal, ttl: 10, dst: ME, src: from === NODE_SUPER ? NODE_SUPER : from, len: payload.length, ...h };
    const plain = new Uint8Array(HEADER_LEN + payload.length);
    writeHeader(plain, full);
    plain.set(payload, HEADER_LEN);
    const at = s.dev.stage(REC.PLAIN + plain.length);
    const v = s.dev.view(at, REC.PLAIN + plain.length);
    new DataView(v.buffer, v.byteOffset).setUint32(0, s.peer, true);
    new DataView(v.buffer, v.byteOffset).setUint32(4, plain.length, true);
    v.set(plain, REC.PLAIN);
    s.dev.process(Mode.Plain, v.length, 0);
    assert.equal(s.dev.summary(SUMMARY.SEND4_COUNT), 1, 'the sender sealed it');
    const rec = s.dev.view(s.dev.summary(SUMMARY.SEND4_PTR), s.dev.summary(SUMMARY.SEND4_LEN)).slice();
    rec.set(addr(from), 4); // received from the sender's address
    this.me.process(Mode.Udp, this.me.stageBytes(rec), 4);
    return this.outcome();
  }

  private outcome(): Outcome {
    const d = this.me;
    const o: Outcome = { delivered: [], forward: [], control: [], drops: [] };
    const tap = d.view(d.summary(SUMMARY.TAP_PTR), d.summary(SUMMARY.TAP_LEN)).slice();
    for (let off = 0; off < tap.length; ) {
      const n = (tap[off] << 8) | tap[off + 1];
      o.delivered.push(tap.slice(off + 2, off + 2 + n));
      off += 2 + n;
    }
    const ev = d.view(d.summary(SUMMARY.EV_PTR), d.summary(SUMMARY.EV_BYTES)).slice();
    const dv = new DataView(ev.buffer);
    for (let at = 0; at < ev.length; at += EV.HEADER + dv.getUint32(at + EV.LEN, true)) {
      const u16 = (f: number) => dv.getUint16(at + f, true);
      const pl = ev.subarray(at + EV.HEADER, at + EV.HEADER + dv.getUint32(at + EV.LEN, true));
      switch (ev[at + EV.TYPE]) {
        case Ev.Drop:
          o.drops.push(dropName(u16(EV.REASON), { me: ME, node: u16(EV.NODE), kind: ev[at + EV.KIND], src: u16(EV.SRC), dst: u16(EV.DST), from: u16(EV.FROM), wg: Reason[u16(EV.AUX)] }));
          break;
        case Ev.Queue:
          o.forward.push({ node: u16(EV.NODE), ttl: pl[1] });
          break;
        case Ev.Control:
          o.control.push({ kind: ev[at + EV.KIND], src: u16(EV.SRC), dst: u16(EV.DST) });
          break;
      }
    }
    // Sends to peers with a session: the next hop is the record's address.
    const sent = d.summary(SUMMARY.SEND4_COUNT);
    const rec = d.view(d.summary(SUMMARY.SEND4_PTR), d.summary(SUMMARY.SEND4_LEN)).slice();
    for (let i = 0, off = 0; i < sent; i++) {
      const n = (rec[off] << 8) | rec[off + 1];
      const node = rec[off + 7] === 0 ? NODE_SUPER : rec[off + 7];
      const s = this.senders.get(node)!;
      const r = s.dev.handle(rec.slice(off + REC.UDP, off + REC.UDP + n), addr(ME));
      o.forward.push({ node, ttl: 'data' in r ? r.data[1] : -1 });
      off += REC.UDP + n;
    }
    return o;
  }

  free(): void {
    this.me.free();
    for (const s of this.senders.values()) s.dev.free();
  }
}

function frame(dst: string, src: string, len = 60): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst.split(':').map((h) => parseInt(h, 16)), 0);
  f.set(src.split(':').map((h) => parseInt(h, 16)), 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  return f;
}
const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const BCAST = 'ff:ff:ff:ff:ff:ff';

describe('edge: forwarding in the core (node 2 receiving batches)', () => {
  let m: Mesh;
  beforeEach(() => (m = new Mesh()));
  afterEach(() => m.free());

  it('delivers a frame addressed here and does not forward it', () => {
    const o = m.send(1, {});
    assert.equal(o.delivered.length, 1);
    assert.deepEqual(o.forward, []);
    assert.deepEqual(o.drops, []);
  });

  it('delivers a frame addressed here even with TTL 0 (TTL limits forwarding only)', () => {
    const o = m.send(1, { ttl: 0 });
    assert.equal(o.delivered.length, 1);
    assert.deepEqual(o.drops, []);
    assert.deepEqual(o.forward, []);
  });

  it('forwards a transit frame to the next hop with TTL − 1 and does not deliver it', () => {
    const o = m.send(1, { dst: 4, ttl: 5 });
    assert.deepEqual(o.forward, [{ node: 3, ttl: 4 }]);
    assert.equal(o.delivered.length, 0);
    assert.deepEqual(o.drops, []);
  });

  it('forwards a transit frame that arrives with TTL 1 (it leaves with 0)', () => {
    assert.deepEqual(m.send(1, { dst: 4, ttl: 1 }).forward, [{ node: 3, ttl: 0 }]);
  });

  it('drops a transit frame whose TTL is 0: "TTL expired"', () => {
    const o = m.send(1, { dst: 4, ttl: 0 });
    assert.deepEqual(o.drops, ['TTL expired']);
    assert.deepEqual(o.forward, []);
    assert.equal(o.delivered.length, 0);
  });

  it('a broadcast with TTL 0 is delivered but neither forwarded nor counted as a drop', () => {
    const o = m.send(1, { dst: NODE_BROADCAST, ttl: 0 });
    assert.equal(o.delivered.length, 1);
    assert.deepEqual(o.forward, []);
    assert.deepEqual(o.drops, []);
  });

  it('a broadcast is delivered and forwarded to the route engine forward set of (me, src, from)', () => {
    // 2 lies on 1's routes to 3 (1→2→3): from 1 it goes on to 3, not back to 1 or to 5.
    const t = { 1: { 2: 2, 3: 2, 5: 5 }, 2: { 1: 1, 3: 3, 5: 1 }, 3: { 1: 2, 2: 2, 5: 2 }, 5: { 1: 1, 2: 1, 3: 1 } };
    m.free();
    m = new Mesh(t);
    const o = m.send(1, { dst: NODE_BROADCAST, ttl: 3 });
    assert.equal(o.delivered.length, 1);
    assert.deepEqual(o.forward, [{ node: 3, ttl: 2 }]);
  });

  it('a broadcast whose forward set is empty is delivered only', () => {
    const o = m.send(1, { dst: NODE_BROADCAST, ttl: 3 });
    assert.equal(o.delivered.length, 1);
    assert.deepEqual(o.forward, []);
    assert.deepEqual(o.drops, []);
  });

  it('dst 65534 (spread) is processed here and flooded to every peer but the sender and the source, once', () => {
    const o = m.send(1, { kind: Kind.QueryPeer, dst: NODE_SPREAD, ttl: 3 }, Uint8Array.of(1, 2, 3));
    assert.deepEqual(o.control, [{ kind: Kind.QueryPeer, src: 1, dst: NODE_SPREAD }]);
    assert.deepEqual(o.forward.map((f) => f.node).sort(), [3, 5]);
    const again = m.send(1, { kind: Kind.QueryPeer, dst: NODE_SPREAD, ttl: 3 }, Uint8Array.of(1, 2, 3));
    assert.deepEqual(again.drops, ['duplicate flood message']);
    assert.deepEqual(again.forward, []);
    assert.deepEqual(again.control, []);
  });

  it('a spread message with TTL 0 is processed but not flooded', () => {
    const o = m.send(1, { kind: Kind.BroadcastPeer, dst: NODE_SPREAD, ttl: 0 }, Uint8Array.of(9));
    assert.equal(o.control.length, 1);
    assert.deepEqual(o.forward, []);
    assert.deepEqual(o.drops, []);
  });

  it('drops unknown message kinds', () => {
    for (const kind of [0, 1, 3, 11, 99, 255]) {
      const o = m.send(1, { kind });
      assert.deepEqual(o.drops, [`unknown message kind ${kind}`]);
      assert.equal(o.delivered.length + o.control.length + o.forward.length, 0);
    }
  });

  it('drops a ServerUpdate from a non-supernode peer; accepts one from the supernode for this node', () => {
    for (const dst of [ME, NODE_SUPER, 4]) {
      const o = m.send(1, { kind: Kind.ServerUpdate, dst }, Uint8Array.of(1));
      assert.deepEqual(o.drops, ['server update from a non-supernode peer']);
      assert.deepEqual(o.control, []);
    }
    assert.equal(m.send(NODE_SUPER, { kind: Kind.ServerUpdate, dst: ME }, Uint8Array.of(1)).control.length, 1);
    assert.equal(m.send(NODE_SUPER, { kind: Kind.ServerUpdate, dst: NODE_SUPER }, Uint8Array.of(2)).control.length, 1);
    const o = m.send(NODE_SUPER, { kind: Kind.ServerUpdate, dst: 4 }, Uint8Array.of(3));
    assert.deepEqual(o.drops, ['server update for node 4']);
    assert.deepEqual(o.forward, []);
  });

  it('drops Register messages and peer control messages that come from the supernode', () => {
    assert.match(m.send(1, { kind: Kind.Register }).drops[0] ?? '', /register/);
    for (const kind of [Kind.Ping, Kind.Pong, Kind.QueryPeer, Kind.BroadcastPeer]) {
      assert.deepEqual(m.send(NODE_SUPER, { kind }).drops, [`kind ${kind} from the supernode`]);
    }
  });

  it('processes a Ping for this node as control and relays a Ping for another node', () => {
    const here = m.send(1, { kind: Kind.Ping, dst: ME }, Uint8Array.of(1));
    assert.equal(here.control.length, 1);
    assert.equal(here.delivered.length, 0);
    const there = m.send(1, { kind: Kind.Ping, dst: 4 }, Uint8Array.of(2));
    assert.deepEqual(there.control, []);
    assert.deepEqual(there.forward.map((f) => f.node), [3]);
  });

  it('drops messages for the reserved ids 65532 and 65533 (they are never routed)', () => {
    for (const dst of [NODE_INVALID, NODE_SUPER]) {
      const o = m.send(1, { dst });
      assert.deepEqual(o.drops, [`message for reserved node ${dst}`]);
      assert.deepEqual(o.forward, []);
      assert.equal(o.delivered.length, 0);
    }
  });

  it('drops a transit frame without a route (missing entry)', () => {
    assert.deepEqual(m.send(1, { dst: 9 }).drops, ['no route from 2 to 9']);
    assert.deepEqual(m.send(1, { dst: 6 }).drops, ['no route from 2 to 6']);
  });

  it('drops a transit frame whose route points back to the peer it came from; from another neighbour it is forwarded', () => {
    // Each sender's own frame: a relayed one must also come from the hop its route names.
    const o = m.send(1, { dst: 5, src: 1 });
    assert.match(o.drops[0] ?? '', /points back to the sender 1/);
    assert.deepEqual(o.forward, []);
    assert.deepEqual(m.send(3, { dst: 5, src: 3 }).forward.map((f) => f.node), [1]);
  });

  it('a message of any kind with this node as header source is neither delivered, processed nor forwarded', () => {
    for (const [kind, dst] of [
      [Kind.Normal, 4], [Kind.Normal, ME], [Kind.Normal, NODE_BROADCAST], [Kind.Normal, NODE_SPREAD],
      [Kind.Ping, ME], [Kind.Pong, 4], [Kind.QueryPeer, NODE_SPREAD], [Kind.BroadcastPeer, NODE_SPREAD],
    ] as const) {
      const o = m.send(1, { kind, dst, src: ME, ttl: 5 });
      assert.equal(o.delivered.length + o.control.length + o.forward.length, 0, `kind ${kind} dst ${dst}`);
      assert.deepEqual(o.drops, ['message from this node (NodeID 2) came back: a routing loop, or another node uses the same NodeID']);
    }
  });

  it('learns a unicast source MAC on delivery: later frames for it go to that node, not as broadcast', () => {
    // Node 1's host A broadcasts; node 2 learns A → 1; a frame from 2's interface to A then goes
    // to node 1 only, with dst 1.
    m.send(1, { dst: NODE_BROADCAST, ttl: 3 }, frame(BCAST, A));
    const f = frame(A, B);
    const at = m.me.stage(REC.TAP + f.length);
    const v = m.me.view(at, REC.TAP + f.length);
    v[0] = 0;
    v[1] = f.length;
    v.set(f, REC.TAP);
    m.me.process(Mode.Tap, v.length, 0);
    assert.equal(m.me.summary(SUMMARY.FROM_IFACE), 1);
    const rec = m.me.view(m.me.summary(SUMMARY.SEND4_PTR), m.me.summary(SUMMARY.SEND4_LEN)).slice();
    assert.equal(m.me.summary(SUMMARY.SEND4_COUNT), 1);
    assert.equal(rec[7], 1, 'sent to node 1');
    const s = m.senders.get(1)!;
    const r = s.dev.handle(rec.subarray(REC.UDP), addr(ME));
    assert.ok('data' in r);
    assert.deepEqual([r.data[2], r.data[3]], [0, 1], 'dst 1, not 65535');
  });
});

describe('edge: StaticRoutes', () => {
  it('gives the next hop of a row and refuses reserved NodeIDs by name', () => {
    const r = new StaticRoutes({ 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 } });
    assert.equal(r.nextHop(1, 3), 2);
    assert.equal(r.nextHop(3, 1), undefined);
    assert.deepEqual([...r.triples], [1, 2, 2, 1, 3, 2, 2, 1, 1, 2, 3, 3]);
    assert.throws(() => new StaticRoutes({ 1: { 2: NODE_INVALID } }), /65532/);
  });

  it('the drop names come from the core table: every Drop code has one', () => {
    for (const code of Object.values(Drop).filter((v): v is number => typeof v === 'number')) {
      assert.ok(dropName(code, {}).length > 0 && !dropName(code, {}).startsWith('drop reason'), `code ${code}`);
    }
  });
});

// ---- Logger -----------------------------------------------------------------------------------

const T0 = Date.UTC(2030, 0, 1);
function logger(sw: Partial<LogSwitches>, json = true, start = T0) {
  const lines: string[] = [];
  let now = start;
  const log = new Logger(
    'n1',
    { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false, ...sw },
    json,
    { write: (l) => lines.push(l) },
    () => now,
    // The drop-summary spacing runs on the monotonic clock; here both advance together.
    () => now - start,
  );
  return {
    log,
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    advance: (ms: number) => (now += ms),
  };
}

describe('edge: Logger', () => {
  it('JSON format: one object per line with t, name, level, msg and the fields', () => {
    const { log, lines, parsed } = logger({});
    log.info('hello', { a: 1, b: 'x' });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n') && !lines[0].slice(0, -1).includes('\n'));
    assert.deepEqual(parsed()[0], { t: new Date(T0).toISOString(), name: 'n1', level: 'info', msg: 'hello', a: 1, b: 'x' });
  });

  it('text format: time, name, LEVEL, message and key=value fields', () => {
    const { log, lines } = logger({}, false);
    log.error('boom', { node: 3, why: 'x y' });
    assert.equal(lines[0], `${new Date(T0).toISOString()} n1: ERROR: boom node=3 why=x y\n`);
  });

  it('error level: errors and info are written, debug is not', () => {
    const { log, parsed } = logger({ LogLevel: 'error' });
    log.debug('d');
    log.info('i');
    log.error('e');
    assert.deepEqual(parsed().map((l) => l.msg), ['i', 'e']);
    assert.equal(log.debugOn, false);
  });

  it('an unknown level counts as error; verbose counts as debug', () => {
    assert.equal(logger({ LogLevel: 'chatty' }).log.debugOn, false);
    assert.equal(logger({ LogLevel: 'chatty' }).log.errorOn, true);
    assert.equal(logger({ LogLevel: 'verbose' }).log.debugOn, true);
  });

  it('category switches select transit/normal/control/internal lines', () => {
    const { log, parsed } = logger({ LogTransit: true, LogInternal: true });
    log.cat('transit', 'forward', { src: 1 });
    log.cat('normal', 'send');
    log.cat('control', 'ping');
    log.cat('internal', 'peer added');
    assert.deepEqual(
      parsed().map((l) => [l.level, l.msg]),
      [
        ['transit', 'forward'],
        ['internal', 'peer added'],
      ],
    );
    assert.equal(log.enabled('normal'), false);
  });

  it('error level: drops are summarised at most every 10 s, with per-reason totals', () => {
    const { log, parsed, advance } = logger({ LogLevel: 'error' });
    log.drop('TTL expired', { src: 1 });
    advance(1000);
    log.drop('TTL expired');
    log.drop('no route from 1 to 9');
    advance(8_999); // 9.999 s after the first summary
    log.drop('TTL expired');
    assert.equal(parsed().length, 1, 'only the first drop is reported within 10 s');
    assert.equal(parsed()[0].level, 'drop');
    assert.equal(parsed()[0].msg, 'dropped 1 packet(s) since last report; latest: TTL expired');
    assert.equal(parsed()[0].src, 1);
    advance(1);
    log.drop('no route from 1 to 9', { dst: 9 });
    const p = parsed();
    assert.equal(p.length, 2);
    assert.equal(p[1].msg, 'dropped 4 packet(s) since last report; latest: no route from 1 to 9');
    assert.deepEqual(p[1].totals, { 'TTL expired': 3, 'no route from 1 to 9': 2 });
    assert.deepEqual(log.dropCounts(), { 'TTL expired': 3, 'no route from 1 to 9': 2 });
  });

  it('debug level: every drop is written with its reason', () => {
    const { log, parsed } = logger({ LogLevel: 'debug' });
    for (let i = 0; i < 5; i++) log.drop('TTL expired', { i });
    const p = parsed();
    assert.equal(p.length, 5);
    assert.ok(p.every((l, i) => l.level === 'drop' && l.msg === 'TTL expired' && l.i === i));
  });

  it('silent: nothing is written (not even category lines or drop summaries), drops are still counted', () => {
    const { log, lines } = logger({ LogLevel: 'silent', LogTransit: true, LogNormal: true, LogControl: true, LogInternal: true });
    log.error('e');
    log.info('i');
    log.debug('d');
    log.cat('transit', 't');
    log.drop('x');
    assert.deepEqual(lines, []);
    assert.equal(log.enabled('transit'), false);
    assert.deepEqual(log.dropCounts(), { x: 1 });
  });
});
