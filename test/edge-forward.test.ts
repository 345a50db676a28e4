// Unit tests of the edge's pure parts: the forwarding decision (ts/edge/forward.ts decide()),
// MAC learning (L2Fib), flood de-duplication (DedupSet) and the Logger.
import assert from 'node:assert/strict';
import { decide, type RouteView } from '../ts/edge/forward.js';
import { DedupSet } from '../ts/edge/dedup.js';
import { Kind, NODE_BROADCAST, NODE_INVALID, NODE_SPREAD, NODE_SUPER, type Header } from '../ts/edge/ids.js';
import { L2Fib } from '../ts/edge/l2fib.js';
import { Logger, type LogSwitches } from '../ts/edge/log.js';

const ME = 2;

/** A route view over an explicit next-hop map; records the forwardSet calls. */
class FakeRoutes implements RouteView {
  calls: [number, number, number][] = [];
  constructor(
    private readonly next: Record<string, number>,
    private readonly fwd: readonly number[] = [7, 8],
  ) {}
  nextHop(src: number, dst: number): number | undefined {
    return this.next[`${src}>${dst}`];
  }
  broadcastTargets(): readonly number[] {
    return [1, 3];
  }
  forwardSet(me: number, src: number, from: number): readonly number[] {
    this.calls.push([me, src, from]);
    return this.fwd;
  }
}

// Node 2's view: 2→3 direct, 2→4 via 3, 2→5 via 1, 2→6 "no route" written as 65532.
const routes = () => new FakeRoutes({ '2>3': 3, '2>4': 3, '2>5': 1, '2>6': NODE_INVALID, '2>1': 1 });
const hdr = (h: Partial<Header>): Header => ({ kind: Kind.Normal, ttl: 10, dst: ME, src: 1, len: 60, ...h });

describe('edge: decide()', () => {
  it('delivers a frame addressed here and does not forward it', () => {
    const d = decide(hdr({}), ME, 1, false, routes());
    assert.deepEqual({ ...d }, { deliver: true, control: false, forward: [], flood: false });
  });

  it('delivers a frame addressed here even with TTL 0 (TTL limits forwarding only)', () => {
    const d = decide(hdr({ ttl: 0 }), ME, 1, false, routes());
    assert.equal(d.deliver, true);
    assert.equal(d.drop, undefined);
    assert.deepEqual(d.forward, []);
  });

  it('forwards a transit frame to the next hop and does not deliver it', () => {
    const d = decide(hdr({ dst: 4, ttl: 5 }), ME, 1, false, routes());
    assert.deepEqual(d.forward, [3]);
    assert.equal(d.deliver, false);
    assert.equal(d.flood, false);
    assert.equal(d.drop, undefined);
  });

  it('forwards a transit frame that arrives with TTL 1 (it leaves with 0)', () => {
    const d = decide(hdr({ dst: 4, ttl: 1 }), ME, 1, false, routes());
    assert.deepEqual(d.forward, [3]);
  });

  it('drops a transit frame whose TTL is 0: "TTL expired"', () => {
    const d = decide(hdr({ dst: 4, ttl: 0 }), ME, 1, false, routes());
    assert.equal(d.drop, 'TTL expired');
    assert.deepEqual(d.forward, []);
    assert.equal(d.deliver, false);
  });

  it('a broadcast with TTL 0 is delivered but neither forwarded nor counted as a drop', () => {
    const r = routes();
    const d = decide(hdr({ dst: NODE_BROADCAST, ttl: 0 }), ME, 1, false, r);
    assert.equal(d.deliver, true);
    assert.deepEqual(d.forward, []);
    assert.equal(d.drop, undefined);
    assert.deepEqual(r.calls, []);
  });

  it('a broadcast is delivered and forwarded to forwardSet(me, src, from)', () => {
    const r = routes();
    const d = decide(hdr({ dst: NODE_BROADCAST, src: 5, ttl: 3 }), ME, 1, false, r);
    assert.equal(d.deliver, true);
    assert.deepEqual(d.forward, [7, 8]);
    assert.equal(d.flood, false);
    assert.deepEqual(r.calls, [[ME, 5, 1]]);
  });

  it('a broadcast whose forward set is empty is delivered only', () => {
    const r = new FakeRoutes({}, []);
    const d = decide(hdr({ dst: NODE_BROADCAST, ttl: 3 }), ME, 1, false, r);
    assert.equal(d.deliver, true);
    assert.deepEqual(d.forward, []);
    assert.equal(d.drop, undefined);
  });

  it('dst 65534 (spread) is processed here and flooded (not routed)', () => {
    const r = routes();
    const d = decide(hdr({ kind: Kind.QueryPeer, dst: NODE_SPREAD, ttl: 3 }), ME, 1, false, r);
    assert.equal(d.control, true);
    assert.equal(d.flood, true);
    assert.deepEqual(d.forward, []);
    assert.deepEqual(r.calls, []);
    const n = decide(hdr({ dst: NODE_SPREAD, ttl: 3 }), ME, 1, false, r);
    assert.equal(n.deliver, true);
    assert.equal(n.flood, true);
  });

  it('a spread message with TTL 0 is processed but not flooded', () => {
    const d = decide(hdr({ kind: Kind.BroadcastPeer, dst: NODE_SPREAD, ttl: 0 }), ME, 1, false, routes());
    assert.equal(d.control, true);
    assert.equal(d.flood, false);
    assert.equal(d.drop, undefined);
  });

  it('drops unknown message kinds', () => {
    for (const kind of [0, 1, 3, 11, 99, 255]) {
      const d = decide(hdr({ kind }), ME, 1, false, routes());
      assert.equal(d.drop, `unknown message kind ${kind}`);
      assert.equal(d.deliver || d.control || d.flood || d.forward.length > 0, false);
    }
  });

  it('drops a ServerUpdate from a non-supernode peer, even one addressed here', () => {
    for (const dst of [ME, NODE_SUPER, 4]) {
      const d = decide(hdr({ kind: Kind.ServerUpdate, dst }), ME, 1, false, routes());
      assert.equal(d.drop, 'server update from a non-supernode peer');
      assert.equal(d.control, false);
      assert.deepEqual(d.forward, []);
    }
  });

  it('accepts a ServerUpdate from the supernode for this node, never relays one for another', () => {
    assert.equal(decide(hdr({ kind: Kind.ServerUpdate, dst: ME }), ME, 1, true, routes()).control, true);
    assert.equal(decide(hdr({ kind: Kind.ServerUpdate, dst: NODE_SUPER }), ME, 1, true, routes()).control, true);
    const d = decide(hdr({ kind: Kind.ServerUpdate, dst: 4 }), ME, 1, true, routes());
    assert.equal(d.drop, 'server update for node 4');
    assert.deepEqual(d.forward, []);
  });

  it('drops Register messages and peer control messages that come from the supernode', () => {
    assert.match(decide(hdr({ kind: Kind.Register }), ME, 1, false, routes()).drop ?? '', /register/);
    for (const kind of [Kind.Ping, Kind.Pong, Kind.QueryPeer, Kind.BroadcastPeer]) {
      const d = decide(hdr({ kind }), ME, 1, true, routes());
      assert.equal(d.drop, `kind ${kind} from the supernode`);
    }
  });

  it('processes a Ping for this node as control and relays a Ping for another node', () => {
    const here = decide(hdr({ kind: Kind.Ping, dst: ME }), ME, 1, false, routes());
    assert.equal(here.control, true);
    assert.equal(here.deliver, false);
    const there = decide(hdr({ kind: Kind.Ping, dst: 4 }), ME, 1, false, routes());
    assert.equal(there.control, false);
    assert.deepEqual(there.forward, [3]);
  });

  it('drops messages for the reserved ids 65532 and 65533 (they are never routed)', () => {
    for (const dst of [NODE_INVALID, NODE_SUPER]) {
      const d = decide(hdr({ dst }), ME, 1, false, routes());
      assert.equal(d.drop, `message for reserved node ${dst}`);
      assert.deepEqual(d.forward, []);
      assert.equal(d.deliver, false);
    }
  });

  it('drops a transit frame without a route (missing entry or 65532)', () => {
    assert.equal(decide(hdr({ dst: 9 }), ME, 1, false, routes()).drop, 'no route from 2 to 9');
    assert.equal(decide(hdr({ dst: 6 }), ME, 1, false, routes()).drop, 'no route from 2 to 6');
  });

  it('drops a transit frame whose route points back to the peer it came from', () => {
    const d = decide(hdr({ dst: 5, src: 4 }), ME, 1, false, routes());
    assert.match(d.drop ?? '', /points back to the sender 1/);
    assert.deepEqual(d.forward, []);
    // The same destination from another neighbour is forwarded.
    assert.deepEqual(decide(hdr({ dst: 5, src: 4 }), ME, 3, false, routes()).forward, [1]);
  });
});

describe('edge: StaticRoutes as the RouteView', () => {
  // Regression: the first answer used to be cached for every `me`.
  it('broadcastTargets(me) depends on me even after another node was asked', async () => {
    const { StaticRoutes } = await import('../ts/core/table.js');
    const t = { 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 }, 3: { 1: 2, 2: 2 } };
    const r = new StaticRoutes(t);
    assert.deepEqual([...r.broadcastTargets(1)], [2]);
    assert.deepEqual([...r.broadcastTargets(2)], [1, 3]);
  });
});

describe('edge: a frame whose source is this node', () => {
  /** Every node forwards by its own row of one shared static table (what static mode does). */
  const tableView = (t: Record<number, Record<number, number>>): RouteView => ({
    nextHop: (s, d) => t[s]?.[d],
    broadcastTargets: () => [],
    forwardSet: () => [],
  });

  /**
   * Sends one frame from `src` into a mesh where every node runs decide(), and counts the
   * transmissions per link ("a>b") and the drops per (node, reason).
   */
  function simulate(t: Record<number, Record<number, number>>, src: number, dst: number, ttl: number) {
    const routes = tableView(t);
    const links = new Map<string, number>();
    const drops: string[] = [];
    const delivered: number[] = [];
    const queue: { at: number; from: number; h: Header }[] = [];
    const send = (a: number, b: number, h: Header) => {
      links.set(`${a}>${b}`, (links.get(`${a}>${b}`) ?? 0) + 1);
      queue.push({ at: b, from: a, h });
    };
    send(src, routes.nextHop(src, dst)!, { kind: Kind.Normal, ttl, dst, src, len: 60 });
    while (queue.length > 0 && queue.length < 10_000) {
      const { at, from, h } = queue.shift()!;
      const d = decide(h, at, from, false, routes);
      if (d.drop) drops.push(`${at}: ${d.drop}`);
      if (d.deliver) delivered.push(at);
      for (const nh of d.forward) send(at, nh, { ...h, ttl: h.ttl - 1 });
    }
    return { links: Object.fromEntries(links), drops, delivered };
  }

  // Frames from 1 to 4 go 1→2→3→1 (NextHopTable[3][4] = 1).
  const LOOP: Record<number, Record<number, number>> = { 1: { 2: 2, 3: 3, 4: 2 }, 2: { 1: 1, 3: 3, 4: 3 }, 3: { 1: 1, 2: 2, 4: 1 }, 4: { 1: 3, 2: 3, 3: 3 } };

  it('a unicast that comes back to its source is dropped there: one copy per link, not one per TTL step', () => {
    const r = simulate(LOOP, 1, 4, 200);
    assert.deepEqual(r.links, { '1>2': 1, '2>3': 1, '3>1': 1 });
    assert.deepEqual(r.drops, ['1: message from this node (NodeID 1) came back: a routing loop, or another node uses the same NodeID']);
    assert.deepEqual(r.delivered, []);
  });

  it('a loop that does not pass the source still ends by TTL (decide() alone cannot see it)', () => {
    // 5 is outside the cycle 1→2→3→1 for destination 4.
    const t = { ...LOOP, 5: { 4: 1 } };
    const r = simulate(t, 5, 4, 9);
    assert.equal(Object.values(r.links).reduce((a, b) => a + b, 0), 10);
    assert.deepEqual(r.drops, ['1: TTL expired']);
  });

  it('a message of any kind with this node as header source is neither delivered, processed nor forwarded', () => {
    for (const [kind, dst] of [
      [Kind.Normal, 4], [Kind.Normal, ME], [Kind.Normal, NODE_BROADCAST], [Kind.Normal, NODE_SPREAD],
      [Kind.Ping, ME], [Kind.Pong, 4], [Kind.QueryPeer, NODE_SPREAD], [Kind.BroadcastPeer, NODE_SPREAD],
    ] as const) {
      const r = routes();
      const d = decide(hdr({ kind, dst, src: ME, ttl: 5 }), ME, 1, false, r);
      assert.deepEqual({ ...d }, { deliver: false, control: false, forward: [], flood: false, drop: d.drop }, `kind ${kind} dst ${dst}`);
      assert.match(d.drop ?? '', /this node \(NodeID 2\) came back/);
      assert.deepEqual(r.calls, []);
    }
  });
});

// ---- L2Fib ------------------------------------------------------------------------------------

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

describe('edge: L2Fib', () => {
  it('learns a unicast source MAC and finds it as a destination', () => {
    const fib = new L2Fib(100);
    fib.learn(frame(BCAST, A), 5, 0);
    assert.equal(fib.size, 1);
    assert.equal(fib.lookup(frame(A, B), 1), 5);
    assert.equal(fib.lookup(frame(B, A), 1), undefined, 'unknown MAC');
  });

  it('ignores multicast/broadcast source MACs and never resolves a multicast destination', () => {
    const fib = new L2Fib(100);
    fib.learn(frame(A, '01:00:5e:00:00:01'), 5, 0);
    fib.learn(frame(A, BCAST), 5, 0);
    fib.learn(frame(A, '03:00:00:00:00:0a'), 5, 0);
    assert.equal(fib.size, 0);
    assert.equal(fib.lookup(frame(BCAST, A), 0), undefined);
    assert.equal(fib.lookup(frame('33:33:00:00:00:01', A), 0), undefined);
  });

  it('ignores frames shorter than an Ethernet header', () => {
    const fib = new L2Fib(100);
    fib.learn(frame(BCAST, A).subarray(0, 13), 5, 0);
    assert.equal(fib.size, 0);
  });

  it('an entry expires after the timeout (lookup misses before the sweep; sweep removes it)', () => {
    const fib = new L2Fib(10);
    fib.learn(frame(BCAST, A), 5, 100);
    assert.equal(fib.lookup(frame(A, B), 110), 5, 'still valid at exactly the timeout');
    assert.equal(fib.lookup(frame(A, B), 110.5), undefined);
    assert.equal(fib.size, 1, 'not removed by the lookup');
    assert.equal(fib.sweep(105), 0);
    assert.equal(fib.sweep(110.5), 1);
    assert.equal(fib.size, 0);
  });

  it('a new sighting refreshes the entry', () => {
    const fib = new L2Fib(10);
    fib.learn(frame(BCAST, A), 5, 0);
    fib.learn(frame(BCAST, A), 5, 8);
    assert.equal(fib.lookup(frame(A, B), 15), 5);
    assert.equal(fib.sweep(15), 0);
  });

  it('a timeout <= 0.01 never expires', () => {
    for (const t of [0, 0.01]) {
      const fib = new L2Fib(t);
      fib.learn(frame(BCAST, A), 5, 0);
      assert.equal(fib.lookup(frame(A, B), 1e9), 5);
      assert.equal(fib.sweep(1e9), 0);
      assert.equal(fib.size, 1);
    }
  });

  it('reports learned and moved entries, not refreshes', () => {
    const ev: [string, number, number | undefined][] = [];
    const fib = new L2Fib(100, (mac, node, old) => ev.push([mac, node, old]));
    fib.learn(frame(BCAST, A), 5, 0);
    fib.learn(frame(BCAST, A), 5, 1);
    fib.learn(frame(BCAST, A), 6, 2);
    assert.deepEqual(ev, [
      ['02000000000a', 5, undefined],
      ['02000000000a', 6, 5],
    ]);
    assert.equal(fib.lookup(frame(A, B), 3), 6);
  });
});

// ---- DedupSet ---------------------------------------------------------------------------------

describe('edge: DedupSet', () => {
  const p1 = Uint8Array.from([1, 2, 3, 4]);
  const p2 = Uint8Array.from([1, 2, 3, 5]);

  it('drops a duplicate within the timeout, not a different message', () => {
    const d = new DedupSet(40);
    assert.equal(d.check(Kind.QueryPeer, 1, p1, 0), false, 'first sighting');
    assert.equal(d.check(Kind.QueryPeer, 1, p1, 10), true, 'duplicate');
    assert.equal(d.check(Kind.QueryPeer, 1, p2, 10), false, 'different payload');
    assert.equal(d.check(Kind.QueryPeer, 2, p1, 10), false, 'different source');
    assert.equal(d.check(Kind.BroadcastPeer, 1, p1, 10), false, 'different kind');
    // Same bytes but the src split differently must not collide (0x0102 vs 0x0201).
    assert.equal(d.check(Kind.Normal, 0x0102, p1, 10), false);
    assert.equal(d.check(Kind.Normal, 0x0201, p1, 10), false);
  });

  it('accepts the message again after the timeout (a sighting refreshes it)', () => {
    const d = new DedupSet(40);
    assert.equal(d.check(Kind.Normal, 1, p1, 0), false);
    assert.equal(d.check(Kind.Normal, 1, p1, 30), true);
    assert.equal(d.check(Kind.Normal, 1, p1, 65), true, 'refreshed at 30, so still within 40 s');
    assert.equal(d.check(Kind.Normal, 1, p1, 106), false, 'more than 40 s after the last sighting');
  });

  it('sweep() forgets expired entries only', () => {
    const d = new DedupSet(40);
    d.check(Kind.Normal, 1, p1, 0);
    d.check(Kind.Normal, 1, p2, 30);
    d.sweep(50);
    assert.equal(d.check(Kind.Normal, 1, p2, 50), true);
    // p1 was swept: a fresh sighting is not a duplicate even if the check uses an old clock.
    assert.equal(d.check(Kind.Normal, 1, p1, 20), false);
  });

  it('a timeout of 0 disables de-duplication', () => {
    const d = new DedupSet(0);
    for (let i = 0; i < 3; i++) assert.equal(d.check(Kind.Normal, 1, p1, i), false);
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
