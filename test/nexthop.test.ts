// The static next-hop table checker (ts/config/rules/nexthop.ts): loops named with their
// cycle, destinations a source cannot reach, and how the config loader applies it.
import assert from 'node:assert/strict';
import { ConfigError, exampleEdgeConfig, generateKeyPair } from '../ts/config/index.js';
import { checkNextHopTable, describeLoop, describeUnreachable } from '../ts/config/rules/nexthop.js';
import { parseEdge, parseSuper } from '../ts/config/validate.js';

type Table = Record<string, Record<string, number>>;

// Static README / `solve -example` (docs reference topology A): links 1-2, 2-3, 2-4, 3-4, 3-5, 4-6.
const REFERENCE_6: Table = {
  1: { 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 },
  2: { 1: 1, 3: 3, 4: 4, 5: 3, 6: 4 },
  3: { 1: 2, 2: 2, 4: 4, 5: 5, 6: 4 },
  4: { 1: 2, 2: 2, 3: 3, 5: 3, 6: 6 },
  5: { 1: 3, 2: 3, 3: 3, 4: 3, 6: 3 },
  6: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 },
};

// Frames from 1 to 4 go 1→2→3→1→… (the table a user filed: ~67 copies on each of three links).
const LOOP_1_4: Table = { 1: { 2: 2, 3: 3, 4: 2 }, 2: { 1: 1, 3: 3, 4: 3 }, 3: { 1: 1, 2: 2, 4: 1 }, 4: { 1: 3, 2: 3, 3: 3 } };

const KEY = 'ALxoLrfQCyy96hPjth0/d/0nLZHtOdtroo/36No8Lmw=';
const edgeYaml = (table: Table, extra = '') =>
  `Interface:\n  IType: dummy\nNodeID: 1\nNodeName: n1\nPrivKey: ${KEY}\n${extra}NextHopTable: ${JSON.stringify(table)}\n`;
/** The config loader's warnings about NextHopTable, as "path: message". */
const tableWarnings = (text: string) => parseEdge(text, 'e.yaml').warnings.filter((w) => w.path === 'NextHopTable').map((w) => w.message);

describe('NextHopTable checker', () => {
  it('the 6-node reference table has no loop and no unreachable pair', () => {
    assert.deepEqual(checkNextHopTable(REFERENCE_6), { loops: [], unreachable: [] });
  });

  it('names the cycle of the 1→4 loop once, with the other sources that end in it', () => {
    const r = checkNextHopTable(LOOP_1_4);
    assert.deepEqual(r.unreachable, []);
    assert.deepEqual(r.loops, [{ src: 1, dst: 4, path: [1, 2, 3, 1], alsoFrom: [2, 3] }]);
    assert.equal(describeLoop(r.loops[0]!), 'frames 1→4 loop 1→2→3→1 (frames from 2, 3 to 4 end in the same loop)');
  });

  it('a source outside the cycle is shown walking into it; separate cycles are separate loops', () => {
    // dst 9: 5→1, then 1→2→3→1. dst 8: 6→7→6 (a two-node loop).
    const t: Table = { 5: { 9: 1 }, 1: { 9: 2 }, 2: { 9: 3 }, 3: { 9: 1 }, 6: { 8: 7 }, 7: { 8: 6 } };
    const loops = checkNextHopTable(t).loops;
    assert.deepEqual(loops.map((l) => [l.dst, l.path, l.alsoFrom]), [
      [9, [1, 2, 3, 1], [2, 3, 5]],
      [8, [6, 7, 6], [7]],
    ]);
    // A self-loop (next hop = the node itself) is a loop too.
    assert.deepEqual(checkNextHopTable({ 1: { 2: 1 }, 2: { 1: 1 } }).loops.map((l) => l.path), [[1, 1]]);
  });

  it('reports destinations a source cannot reach: no entry, or a node on the way without one', () => {
    // 1→3 goes via 2, which has no entry for 3; 3 has no row at all.
    const r = checkNextHopTable({ 1: { 2: 2, 3: 2 }, 2: { 1: 1 } });
    assert.deepEqual(r.loops, []);
    assert.deepEqual(r.unreachable, [
      { src: 2, dst: 3, stuck: 2 },
      { src: 1, dst: 3, stuck: 2 },
      { src: 3, dst: 1, stuck: 3 },
      { src: 3, dst: 2, stuck: 3 },
    ].sort((a, b) => a.dst - b.dst || a.src - b.src));
    assert.deepEqual(describeUnreachable(r.unreachable), [
      'no route from 3 to 1, 2 (node 3 has no entry for them)',
      'no route from 1 to 3 (node 2 on the way has no next hop for it)',
      'no route from 2 to 3 (node 2 has no entry for it)',
    ]);
    // Extra nodes (the edge's own NodeID) count as sources and destinations.
    assert.equal(checkNextHopTable({ 1: { 2: 2 }, 2: { 1: 1 } }, [7]).unreachable.length, 4);
  });

  it('scales to 1000 nodes (O(n²) walk)', () => {
    // A ring where everyone forwards clockwise: every pair reachable.
    const n = 1000;
    const t: Table = {};
    for (let s = 0; s < n; s++) {
      const row: Record<string, number> = {};
      for (let d = 0; d < n; d++) if (d !== s) row[d] = (s + 1) % n;
      t[s] = row;
    }
    const t0 = Date.now();
    assert.deepEqual(checkNextHopTable(t), { loops: [], unreachable: [] });
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });
});

describe('NextHopTable loops at config load', () => {
  it('a static-mode edge config with a loop is refused, naming the cycle and the key that allows it', () => {
    assert.throws(
      () => parseEdge(edgeYaml(LOOP_1_4), 'e.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(e.problems.map((p) => p.path), ['NextHopTable']);
        assert.match(e.message, /^e\.yaml:\d+:\d+: NextHopTable: frames 1→4 loop 1→2→3→1 .*AllowNextHopLoops: true/);
        return true;
      },
    );
  });

  it('AllowNextHopLoops: true loads it, and the loop is still reported as a warning', () => {
    const p = parseEdge(edgeYaml(LOOP_1_4, 'AllowNextHopLoops: true\n'), 'e.yaml');
    assert.equal(p.config.AllowNextHopLoops, true);
    assert.deepEqual(tableWarnings(edgeYaml(LOOP_1_4, 'AllowNextHopLoops: true\n')), [
      'frames 1→4 loop 1→2→3→1 (frames from 2, 3 to 4 end in the same loop) (loaded because AllowNextHopLoops is true)',
    ]);
  });

  it('a table that is not used (super mode) is not checked: a stale looping table loads silently', () => {
    const sup = 'DynamicRoute:\n  SuperNode: {UseSuperNode: true, PubKeyV4: mM96uu1cTw180+fgnu+lsUTQGzlIZnmNxnDd6IjT6gg=, EndpointV4: "192.0.2.1:3000", EndpointEdgeAPIUrl: "http://192.0.2.1:3000/eg_api"}\n';
    assert.deepEqual(tableWarnings(edgeYaml(LOOP_1_4, sup)), []);
  });

  it('the example edge config (reference table) loads without a NextHopTable warning', () => {
    assert.deepEqual(tableWarnings(exampleEdgeConfig()), []);
  });

  it('a partial static table loads (as upstream), with its unreachable destinations as warnings', () => {
    assert.deepEqual(tableWarnings(edgeYaml({ 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 3 } })), ['no route from 3 to 1, 2 (node 3 has no entry for them)']);
  });

  it('a supernode in StaticMode refuses a looping table too', () => {
    const pubs = [1, 2, 3].map(() => generateKeyPair().publicKey);
    const text = `NodeName: S\nPrivKeyV4: ${KEY}\nDisabledAf: {IPv6: true}\nGraphRecalculateSetting: {StaticMode: true}\n` +
      `NextHopTable: ${JSON.stringify({ 1: { 2: 2, 3: 2 }, 2: { 1: 1, 3: 1 }, 3: { 1: 1, 2: 2 } })}\n` +
      `Peers:\n${[1, 2, 3].map((n) => `  - {NodeID: ${n}, Name: n${n}, PubKey: ${pubs[n - 1]}}\n`).join('')}`;
    assert.throws(() => parseSuper(text, 's.yaml'), /NextHopTable: frames 1→3 loop 1→2→1/);
    assert.doesNotThrow(() => parseSuper(text.replace('NodeName: S\n', 'NodeName: S\nAllowNextHopLoops: true\n'), 's.yaml'));
  });
});
