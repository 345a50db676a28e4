// The binary LinkReport (docs/control.md, "LinkReport, binary form"): what an edge sends once per
// SendPingInterval, decoded by the supernode straight into typed arrays. Round trips, every way a
// frame can be unreadable (refused whole, with the rule), every way an item can be bad (refused
// alone, counted, the good items of the same report applied), and the JSON form of older edges
// still read.
import assert from 'node:assert/strict';
import { generateKeyPair, parseSuperConfig, type SuperPeerInfo } from '../ts/config/index.js';
import { HEADER_LEN, Kind, NODE_SUPER, writeHeader } from '../ts/core/frame.js';
import {
  decode,
  decodeLinkReportBin,
  encode,
  encodeLinkReports,
  encodeLinkReportsBin,
  LINK_REPORT_BIN_HEAD,
  LINK_REPORT_BIN_ITEM,
  LINK_REPORT_MAX,
  ProtoError,
  TIMEDIFF_LIMIT_S,
  type LinkReportBin,
} from '../ts/proto/control.js';
import type { Scheduler } from '../ts/scheduler.js';
import { Logger } from '../ts/shared/log.js';
import { Supernode } from '../ts/super/supernode.js';
import type { Peer } from '../ts/wgnode/peers.js';
import { rng as rand } from '../sim/engine.js';

type Link = [number, number, number];


/** The links of decoded binary reports, in order. */
function items(d: LinkReportBin): Link[] {
  return Array.from(d.srcs, (s, k) => [s, d.timediffs[k], d.ttls[k]] as Link);
}

/** A binary report with the header fields given (count as written, body as many bytes as asked). */
function rawReport(o: { magic?: number; version?: number; dst?: number; count: number; reserved?: number; ac?: number; bodyBytes?: number }): Uint8Array {
  const body = o.bodyBytes ?? o.count * LINK_REPORT_BIN_ITEM;
  const b = new Uint8Array(LINK_REPORT_BIN_HEAD + body);
  const v = new DataView(b.buffer);
  v.setUint8(0, o.magic ?? 0xeb);
  v.setUint8(1, o.version ?? 1);
  v.setUint16(2, o.dst ?? 1, true);
  v.setUint16(4, o.count, true);
  v.setUint16(6, o.reserved ?? 0, true);
  v.setFloat64(8, o.ac ?? 0, true);
  return b;
}

describe('LinkReport, binary form: encoding', () => {
  it('decode(encode(links)) gives every link back bit for bit, in datagrams of at most maxBytes', () => {
    const r = rand(1);
    for (const [count, maxBytes] of [[0, 1200], [1, 1200], [65, 1200], [66, 1200], [1000, 1200], [300, 200], [5000, 65535]] as const) {
      const links: Link[] = Array.from({ length: count }, () => [
        Math.floor(r() * 65536),
        // Clock offsets of hours to decades, tiny latencies, negative zero, the limits.
        [(r() - 0.5) * 2 * TIMEDIFF_LIMIT_S, (r() - 0.5) * 7200, r() * 1e-4, -0, TIMEDIFF_LIMIT_S, -TIMEDIFF_LIMIT_S][Math.floor(r() * 6)]!,
        [0, 5, 4.875, r() * 1e6, Number.MAX_VALUE][Math.floor(r() * 5)]!,
      ]);
      const ac = [0, -1, 12.5, -0.001][count % 4]!;
      const msgs = encodeLinkReportsBin(7, ac, links, maxBytes);
      assert.ok(msgs.length >= 1, 'an edge without links still reports');
      const got: Link[] = [];
      for (const m of msgs) {
        assert.ok(m.length <= maxBytes, `${m.length} bytes > ${maxBytes}`);
        const d = decodeLinkReportBin(m);
        assert.equal(d.Dst, 7);
        assert.ok(Object.is(d.AdditionalCost, ac));
        got.push(...items(d));
      }
      assert.equal(got.length, links.length);
      for (let k = 0; k < links.length; k++) {
        // Object.is: -0 stays -0, every bit of the doubles survives.
        assert.ok(got[k]![0] === links[k]![0] && Object.is(got[k]![1], links[k]![1]) && Object.is(got[k]![2], links[k]![2]), `link ${k}: ${got[k]} vs ${links[k]}`);
      }
    }
  });

  it('needs fewer datagrams than the JSON form (about 1.7 times the links per datagram)', () => {
    const links: Link[] = Array.from({ length: 1000 }, (_, i) => [i + 2, -7200.0012345678 + i * 1e-6, 4.875]);
    const bin = encodeLinkReportsBin(1, 0, links);
    const json = encodeLinkReports(1, 0, links);
    assert.ok(bin.length * 1.5 < json.length, `${bin.length} binary vs ${json.length} JSON datagrams`);
  });

  it('decodes the same from an unaligned buffer (a view into a larger datagram)', () => {
    const links: Link[] = [[2, 0.001, 5], [3, -3600.25, 0], [65531, 1e-9, 70]];
    const [m] = encodeLinkReportsBin(1, 3, links);
    const big = new Uint8Array(m!.length + 3);
    big.set(m!, 3);
    const d = decodeLinkReportBin(big.subarray(3));
    assert.deepEqual(items(d), links);
  });

  it('pongOrReport tells the binary form from JSON by its first byte; JSON reports and Pongs still decode', () => {
    const [bin] = encodeLinkReportsBin(4, 0, [[2, 0.002, 5]]);
    const b = decode.pongOrReport(bin!);
    assert.ok('report' in b && 'srcs' in b.report);
    const j = decode.pongOrReport(encodeLinkReports(4, 0, [[2, 0.002, 5]])[0]!);
    assert.ok('report' in j && 'Links' in j.report);
    assert.deepEqual(j.report.Links, [[2, 0.002, 5]]);
    const p = decode.pongOrReport(encode({ v: 1, Src: 2, Dst: 4, Timediff: 0.002, TimeToAlive: 5, AdditionalCost: 0 }));
    assert.ok('pong' in p);
  });
});

describe('LinkReport, binary form: frames that cannot be read are refused whole, with the rule', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /truncated: 0 bytes/],
    ['a header cut short', rawReport({ count: 0 }).subarray(0, 9), /truncated: 9 bytes, the header alone is 16/],
    ['a body cut short (count says 3, 2 items there)', rawReport({ count: 3, bodyBytes: 2 * LINK_REPORT_BIN_ITEM }), /length 52 does not match count 3 \(16 \+ 18 x count = 70 bytes\)/],
    ['a body cut mid-item', rawReport({ count: 2, bodyBytes: 2 * LINK_REPORT_BIN_ITEM - 1 }), /does not match count 2/],
    ['bytes after the last item', rawReport({ count: 1, bodyBytes: LINK_REPORT_BIN_ITEM + 4 }), /does not match count 1/],
    ['a count of 0 with items behind it', rawReport({ count: 0, bodyBytes: LINK_REPORT_BIN_ITEM }), /does not match count 0/],
    ['another layout version (a newer edge)', rawReport({ version: 2, count: 0 }), /layout version 2 is not supported \(this build reads version 1; edge and supernode are of different builds\)/],
    ['layout version 0', rawReport({ version: 0, count: 0 }), /layout version 0 is not supported/],
    ['reserved bytes set', rawReport({ reserved: 1, count: 0 }), /reserved bytes 6\.\.7 must be 0/],
    ['more items than LINK_REPORT_MAX', rawReport({ count: LINK_REPORT_MAX + 1 }), /count 4097 is above 4096/],
    ['AdditionalCost NaN', rawReport({ ac: NaN, count: 0 }), /AdditionalCost must be a finite number/],
    ['AdditionalCost Infinity', rawReport({ ac: Infinity, count: 0 }), /AdditionalCost must be a finite number/],
    ['AdditionalCost -Infinity', rawReport({ ac: -Infinity, count: 0 }), /AdditionalCost must be a finite number/],
    ['a wrong first byte', rawReport({ magic: 0xea, count: 0 }), /first byte must be 0xeb/],
  ];
  for (const [what, bytes, rule] of cases) {
    it(what, () => {
      assert.throws(() => decodeLinkReportBin(bytes), (e: unknown) => e instanceof ProtoError && rule.test(e.message));
    });
  }

  it('every truncation of a valid report is refused, never a crash or a partial decode', () => {
    const [m] = encodeLinkReportsBin(3, 0, [[1, 0.001, 5], [2, 0.002, 5], [4, -0.5, 5]]);
    for (let len = 0; len < m!.length; len++) {
      assert.throws(() => decodeLinkReportBin(m!.subarray(0, len)), ProtoError, `length ${len}`);
    }
    assert.equal(decodeLinkReportBin(m!).srcs.length, 3);
  });
});

describe('LinkReport, binary form, at the supernode', () => {
  /** A supernode with edges 1, 2, 3 (and 4, being removed), fed kind-8 payloads from an edge. */
  async function harness() {
    const k = generateKeyPair();
    const k6 = generateKeyPair();
    const cfg = parseSuperConfig(`NodeName: LrBinSN\nPrivKeyV4: ${k.privateKey}\nPrivKeyV6: ${k6.privateKey}\nPeers: []\n`, 'lrbin.yaml', () => {});
    const drops: Array<{ reason: string; meta: Record<string, unknown> | undefined }> = [];
    const log = new Logger('lrbin', { LogLevel: 'silent', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false });
    log.drop = (reason: string, meta?: Record<string, unknown>) => void drops.push({ reason, meta });
    const now = 100;
    const clock = { now: () => now, wallMs: () => 1.7e12 + now * 1000 };
    const pending: Array<() => void> = [];
    const sched: Scheduler = { every: () => ({ cancel: () => undefined }), after: (_s, f) => (pending.push(f), { cancel: () => undefined }) };
    const sn = new Supernode(cfg, { log, clock, uapi: false, scheduler: sched, shutdownNotices: { count: 0, intervalMs: 1 } });
    const conf = (id: number): SuperPeerInfo => ({ NodeID: id, Name: `n${id}`, PubKey: generateKeyPair().publicKey, PSKey: '', AdditionalCost: 0, SkipLocalIP: true, EndPoint: '', ExternalIP: '' });
    for (const id of [1, 2, 3, 4]) await sn.addEdge(conf(id));
    sn.edges.get(4)!.removing = true;
    const send = (src: number, payload: Uint8Array) => {
      const p = new Uint8Array(HEADER_LEN + payload.length);
      writeHeader(p, { kind: Kind.Pong, ttl: 0, dst: NODE_SUPER, src, len: payload.length });
      p.set(payload, HEADER_LEN);
      sn.receive(4, p, { nodeId: src, endpoint: { address: '10.0.0.1', port: 1, family: 4 } } as unknown as Peer);
    };
    const links = () => sn.routes.measuredLinks(now).map(([s, d, l]) => `${s}->${d} ${l}`);
    return { sn, drops, send, links, pending };
  }

  it('one bad item is refused with its rule and counted; the good items of the same report are applied', async () => {
    const { sn, drops, send, links } = await harness();
    try {
      // Edge 1 reports, among good links from 2 and 3: NaN, ±Infinity and out-of-range Timediffs,
      // bad lifetimes, itself, a special NodeID, an unknown NodeID and a peer being removed.
      const report: Link[] = [
        [2, 0.002, 5],
        [2, NaN, 5],
        [3, Infinity, 5],
        [3, -Infinity, 5],
        [3, TIMEDIFF_LIMIT_S * 2, 5],
        [2, 0.001, -1],
        [2, 0.001, NaN],
        [2, 0.001, Infinity],
        [1, 0.001, 5],
        [65535, 0.001, 5],
        [65532, 0.001, 5],
        [999, 0.001, 5],
        [4, 0.001, 5],
        [3, -3600.004, 5],
      ];
      send(1, encodeLinkReportsBin(1, 0, report)[0]!);
      assert.equal(sn.controlStats.linkReports, 1);
      assert.equal(sn.controlStats.links, 2, 'the two good links applied');
      assert.deepEqual(links(), ['2->1 0.002', '3->1 -3600.004']);
      const refused = drops.filter((d) => d.reason.startsWith('report item refused: '));
      assert.equal(refused.length, report.length - 2, drops.map((d) => d.reason).join('; '));
      const byItem = new Map(refused.map((d) => [d.meta?.item, d.reason.slice('report item refused: '.length)]));
      assert.match(byItem.get('Links/1')!, /Timediff must be a number within/);
      assert.match(byItem.get('Links/2')!, /Timediff must be a number within/);
      assert.match(byItem.get('Links/3')!, /Timediff must be a number within/);
      assert.match(byItem.get('Links/4')!, /Timediff must be a number within/);
      for (const i of [5, 6, 7]) assert.match(byItem.get(`Links/${i}`)!, /TimeToAlive must be a finite number >= 0/);
      assert.match(byItem.get('Links/8')!, /Src is the reporting edge itself/);
      for (const i of [9, 10, 11, 12]) assert.match(byItem.get(`Links/${i}`)!, /Src is not a peer/);
    } finally {
      await sn.stop();
    }
  });

  it('a lone bad item first, in the middle or last is refused alone; an all-good report is applied whole', async () => {
    // The intake hands an all-good report's decoded columns over as they are and copies only when
    // an item is refused: every position of every kind of bad item must still leave exactly the
    // good links stored, with their own values.
    const bad: Link[] = [[2, NaN, 5], [3, TIMEDIFF_LIMIT_S * 2, 5], [2, 0.001, -1], [1, 0.001, 5], [65535, 0.001, 5], [999, 0.001, 5], [4, 0.001, 5]];
    for (const b of bad) {
      for (const at of [0, 1, 2]) {
        const { sn, drops, send, links } = await harness();
        try {
          const good: Link[] = [[2, 0.0021, 5], [3, -0.0042, 7]];
          const report = [...good];
          report.splice(at, 0, b);
          send(1, encodeLinkReportsBin(1, 0, report)[0]!);
          const ctx = `bad ${JSON.stringify(b)} at ${at}`;
          assert.equal(sn.controlStats.links, 2, ctx);
          assert.deepEqual(links(), ['2->1 0.0021', '3->1 -0.0042'], ctx);
          const refused = drops.filter((d) => d.reason.startsWith('report item refused: '));
          assert.deepEqual(refused.map((d) => d.meta?.item), [`Links/${at}`], ctx);
          // The next report, all good, replaces both values.
          send(1, encodeLinkReportsBin(1, 0, [[2, 0.0031, 5], [3, 0.0052, 5]])[0]!);
          assert.equal(sn.controlStats.links, 4, ctx);
          assert.deepEqual(links(), ['2->1 0.0031', '3->1 0.0052'], ctx);
        } finally {
          await sn.stop();
        }
      }
    }
  });

  it('an unreadable frame is dropped whole with a counted reason (another layout version, truncated); the supernode goes on', async () => {
    const { sn, drops, send, links } = await harness();
    try {
      const [good] = encodeLinkReportsBin(2, 0, [[1, 0.003, 5], [3, 0.001, 5]]);
      const v2 = good!.slice();
      v2[1] = 2;
      send(2, v2);
      send(2, good!.subarray(0, good!.length - 1));
      assert.equal(sn.controlStats.linkReports, 0);
      assert.ok(drops.some((d) => /^bad control message: LinkReport \(binary\): layout version 2 is not supported/.test(d.reason)), drops.map((d) => d.reason).join('; '));
      assert.ok(drops.some((d) => /^bad control message: LinkReport \(binary\): length \d+ does not match count 2/.test(d.reason)), drops.map((d) => d.reason).join('; '));
      assert.deepEqual(links(), []);
      send(2, good!);
      assert.deepEqual(links(), ['1->2 0.003', '3->2 0.001']);
      // A wrong Dst drops the whole report, as in the JSON form.
      send(3, encodeLinkReportsBin(1, 0, [[2, 0.001, 5]])[0]!);
      assert.ok(drops.some((d) => d.reason === 'LinkReport Dst is not the sending edge'));
      assert.equal(sn.controlStats.links, 2);
    } finally {
      await sn.stop();
    }
  });

  it('binary reports and JSON reports of older edges give the same links, routes and clock estimates', async () => {
    const a = await harness();
    const b = await harness();
    try {
      // Node 2's clock is 10 s ahead: m(a→b) = d(a→b) + off(b) − off(a).
      const reports: Array<[number, Link[]]> = [
        [1, [[2, -9.9975, 5], [3, 0.007, 5]]],
        [2, [[1, 10.0025, 5], [3, 10.001, 5]]],
        [3, [[1, 0.005, 5], [2, -9.9985, 5]]],
      ];
      for (const [id, l] of reports) {
        a.send(id, encodeLinkReportsBin(id, 0, l)[0]!);
        b.send(id, encodeLinkReports(id, 0, l)[0]!);
      }
      assert.deepEqual(a.links(), b.links());
      assert.equal(a.pending.length, 1);
      a.pending.shift()!();
      b.pending.shift()!();
      assert.deepEqual(a.sn.routes.nhTable, b.sn.routes.nhTable);
      assert.equal(a.sn.routes.nhTable['1']?.['3'], 2, '1→3 via 2 (2.5 ms + 1.5 ms < 5 ms, offsets cancel)');
      assert.deepEqual(a.sn.clocks.view(100), b.sn.clocks.view(100));
      const off12 = a.sn.clocks.view(100).Pairs.find((p) => p.A === 1 && p.B === 2)?.OffsetMs;
      assert.ok(Math.abs(off12! - 10000) < 1e-6, `offset of 2 against 1: ${off12} ms`);
    } finally {
      await a.sn.stop();
      await b.sn.stop();
    }
  });
});
