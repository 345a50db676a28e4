// The pure parts of the observability features: CLI flags of -mode status and -metrics, the
// listen-address rule, the route-change history's reasons, the status document and table, and
// the bounded drop-reason labels.
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../ts/cli/args.js';
import { dropKind, type PeerSnapshot } from '../ts/metrics/snapshot.js';
import { peerAlive } from '../ts/wgnode/peers.js';
import { RouteHistory, pathIn, type SolveView } from '../ts/metrics/routelog.js';
import { parseMetricsListen } from '../ts/metrics/server.js';
import { edgeStatus } from '../ts/status/json.js';
import { renderStatus } from '../ts/status/mode.js';
import { edgeRegistry, superRegistry } from '../ts/metrics/registry.js';

const peer = (nodeId: number, o: Partial<PeerSnapshot> = {}): PeerSnapshot => ({ nodeId, endpoint: '', lastHandshakeMs: 0, rxBytes: 0, txBytes: 0, isSuper: nodeId === 65533, ...o });

describe('observability: CLI, history, status document', () => {
  it('-mode status takes an optional NodeName in either mode form; -metrics takes a value', () => {
    assert.equal(parseArgs(['-mode', 'status']).node, undefined);
    assert.equal(parseArgs(['-mode', 'status', 'edge1']).node, 'edge1');
    assert.equal(parseArgs(['status', 'edge1', '-json']).node, 'edge1');
    assert.equal(parseArgs(['status', '-json']).json, true);
    assert.throws(() => parseArgs(['edge', 'extra']), /unexpected argument "extra"/);
    assert.throws(() => parseArgs(['status', 'a', 'b']), UsageError);
    assert.equal(parseArgs(['edge', '-config', 'x', '-metrics', '127.0.0.1:9586']).metrics, '127.0.0.1:9586');
    assert.throws(() => parseArgs(['edge', '-metrics']), /flag -metrics needs a value/);
  });

  it('metrics listen addresses: the supernode listen forms, an IP host, a port <= 65535', () => {
    assert.deepEqual(parseMetricsListen('9586', '-metrics'), { port: 9586 });
    assert.deepEqual(parseMetricsListen(':9586', '-metrics'), { port: 9586 });
    assert.deepEqual(parseMetricsListen('[::1]:9586', '-metrics'), { host: '::1', port: 9586 });
    assert.throws(() => parseMetricsListen('host.example:1', 'MetricsListen'), /MetricsListen: host "host.example" is not an IP address/);
    assert.throws(() => parseMetricsListen('127.0.0.1:70000', '-metrics'), /-metrics: port 70000 is above 65535/);
    assert.throws(() => parseMetricsListen('a:b:c', '-metrics'), /-metrics: listen address "a:b:c"/);
  });

  it('route changes record old and new next hop with the sums of both routes', () => {
    const w: Record<string, number> = { '1,2': 0.2, '1,3': 0.005, '3,2': 0.007, '2,1': 0.01, '3,1': 0.01, '2,3': 0.01 };
    const v: SolveView = { weight: (a, b) => w[`${a},${b}`] ?? Infinity, dist: (a, b) => (a === 3 && b === 2 ? 0.007 : a === 2 && b === 2 ? 0 : Infinity) };
    const h = new RouteHistory(3);
    const n = h.record({ 1: { 2: 2, 3: 3 } }, { 1: { 2: 3, 3: 3 }, 3: { 2: 2 } }, v, 1000);
    assert.equal(n, 2);
    const [a, b] = h.since(0);
    assert.deepEqual({ ...a, why: undefined }, { seq: 1, atMs: 1000, src: 1, dst: 2, oldNh: 2, newNh: 3, path: [1, 3, 2], newCostS: 0.012, oldCostS: 0.2, why: undefined });
    assert.equal(a!.why, 'via 3: 1→3 5.0 + 3→2 7.0 = 12.0 ms < direct 1→2 200.0 ms');
    assert.equal(b!.why, 'new route via 2: 3→2 7.0 ms');
    // A link that went down, a route that disappeared; the log keeps the last `capacity` entries.
    h.record({ 1: { 2: 3, 3: 3 } }, { 1: { 2: 2 } }, { weight: (x, y) => (x === 1 && y === 3 ? Infinity : 0.2), dist: () => Infinity }, 2000);
    assert.deepEqual(h.since(0).map((c) => c.seq), [2, 3, 4]);
    assert.match(h.since(2)[0]!.why, /^link 1→3 down; via 2: 1→2 200\.0 ms$/);
    assert.equal(h.since(3)[0]!.why, 'no route: nothing reaches 3 from 1');
    assert.equal(h.changes, 4);
    assert.equal(h.lastSeq, 4);
    assert.deepEqual(pathIn({ 1: { 2: 3 }, 3: { 2: 1 } }, 1, 2), [], 'a loop is no path');
  });

  it('the status document folds the two supernode sessions into one peer and renders as a table', () => {
    const s = edgeStatus({
      nodeId: 1,
      nodeName: 'e1',
      peers: [peer(65533, { rxBytes: 10, txBytes: 1, lastHandshakeMs: 5000, endpoint: '10.0.0.9:3000', alive: true }), peer(2, { rxBytes: 2048, txBytes: 3, lastHandshakeMs: 1_700_000_000_000, endpoint: '10.0.0.2:3001', alive: true }), peer(65533, { rxBytes: 5, txBytes: 2, lastHandshakeMs: 9000 })],
      latencyS: new Map([[2, 0.0125]]),
      forwarded: 0,
      drops: {},
      nextHops: new Map([[2, 2], [3, 2]]),
    });
    assert.deepEqual(s, {
      NodeName: 'e1',
      NodeID: 1,
      role: 'edge',
      probing: true,
      nextHops: { 2: 2, 3: 2 },
      peers: [
        { NodeID: 2, endpoint: '10.0.0.2:3001', lastHandshake: '2023-11-14T22:13:20.000Z', rxBytes: 2048, txBytes: 3, latencyMs: 12.5, supernode: false, alive: true, settling: false },
        { NodeID: 65533, endpoint: '10.0.0.9:3000', lastHandshake: '1970-01-01T00:00:09.000Z', rxBytes: 15, txBytes: 3, latencyMs: null, supernode: true, alive: true, settling: false },
      ],
    });
    const t = renderStatus([s], [{ socket: 'wg0', reason: 'does not answer eg_status (errno=-22)' }], '/run/wireguard', 1_700_000_010_000);
    assert.match(t, /^e1 \(NodeID 1, edge\)\n  peer +endpoint +handshake +rx +tx +latency\n  2 +10\.0\.0\.2:3001 +10 s ago +2\.0 KiB +3 B +12\.5 ms\n/);
    assert.match(t, /65533 \(super\) +10\.0\.0\.9:3000/);
    assert.match(t, /next hops: 2 direct, 3 via 2\n/);
    assert.match(t, /skipped wg0: does not answer eg_status/);
  });

  it('a peer past PeerAliveTimeout since its last authenticated packet is alive: false in the document and dead in the table, its stale latency kept', () => {
    const timeout = 70;
    const ep = { address: '10.0.0.2', port: 3001, family: 4 as const };
    // The edge's rule (SuperClient.alive): an endpoint, and an authenticated packet less than PeerAliveTimeout s ago.
    assert.equal(peerAlive({ endpoint: ep, lastRx: 100 }, 169.9, timeout), true);
    assert.equal(peerAlive({ endpoint: ep, lastRx: 100 }, 170, timeout), false);
    assert.equal(peerAlive({ endpoint: undefined, lastRx: 100 }, 101, timeout), false);
    assert.equal(peerAlive({ endpoint: ep, lastRx: -Infinity }, 1, timeout), false);
    const s = edgeStatus({
      nodeId: 1,
      nodeName: 'e1',
      peers: [
        peer(2, { endpoint: '10.0.0.2:3001', alive: false, lastHandshakeMs: 1_699_999_000_000 }),
        peer(3, { endpoint: '10.0.0.3:3001', alive: true }),
        peer(65533, { endpoint: '10.0.0.9:3000', alive: false }),
        peer(65533, { endpoint: '[fd00::9]:3000', alive: true }),
      ],
      latencyS: new Map([[2, 0.00034], [3, 0.0125]]),
      forwarded: 0,
      drops: {},
      nextHops: new Map(),
    });
    assert.deepEqual(s.peers.map((p) => [p.NodeID, p.alive, p.latencyMs]), [[2, false, 0.34], [3, true, 12.5], [65533, true, null]]);
    const t = renderStatus([s], [], '/run/wireguard', 1_700_000_010_000);
    assert.match(t, /\n  2 +10\.0\.0\.2:3001 .* dead\n/);
    assert.doesNotMatch(t, /0\.3 ms/);
    assert.match(t, /\n  3 +10\.0\.0\.3:3001 .* 12\.5 ms\n/);
  });

  it('a peer that never completed a handshake shows no session, not dead (a supernode device of a family no edge uses)', () => {
    const s = edgeStatus({
      nodeId: 1,
      nodeName: 'e1',
      peers: [peer(2, { endpoint: '', alive: false, lastHandshakeMs: 0 }), peer(3, { endpoint: '10.0.0.3:3001', alive: false, lastHandshakeMs: 1_700_000_000_000 })],
      latencyS: new Map(),
      forwarded: 0,
      drops: {},
      nextHops: new Map(),
    });
    const t = renderStatus([s], [], '/run/wireguard', 1_700_000_010_000);
    assert.match(t, /\n  2 +- +never .* no session\n/);
    assert.match(t, /\n  3 +10\.0\.0\.3:3001 .* dead\n/);
  });

  it('a static-mode edge (no pings) shows a quiet peer as idle, not dead', () => {
    const snap = (probing: boolean) => ({
      nodeId: 1,
      nodeName: 'e1',
      peers: [peer(2, { endpoint: '10.0.0.2:3001', alive: false, lastHandshakeMs: 1_699_999_000_000 })],
      latencyS: new Map<number, number>(),
      probing,
      forwarded: 0,
      drops: {},
      nextHops: new Map<number, number>(),
    });
    const stat = edgeStatus(snap(false));
    assert.equal(stat.probing, false);
    assert.match(renderStatus([stat], [], '/run/wireguard', 1_700_000_010_000), /\n  2 +10\.0\.0\.2:3001 .* idle\n/);
    assert.match(renderStatus([edgeStatus(snap(true))], [], '/run/wireguard', 1_700_000_010_000), /\n  2 +10\.0\.0\.2:3001 .* dead\n/);
  });

  it('a latency from fewer samples than the filter window is marked settling in the document and the table', () => {
    const s = edgeStatus({
      nodeId: 1,
      nodeName: 'e1',
      peers: [peer(2, { endpoint: '10.0.0.2:3001', alive: true }), peer(3, { endpoint: '10.0.0.3:3001', alive: true }), peer(4, { endpoint: '10.0.0.4:3001', alive: true })],
      latencyS: new Map([[2, 0.0031], [3, 0.0125]]),
      settling: new Set([2, 4]),
      forwarded: 0,
      drops: {},
      nextHops: new Map(),
    });
    assert.deepEqual(s.peers.map((p) => [p.NodeID, p.latencyMs, p.settling]), [[2, 3.1, true], [3, 12.5, false], [4, null, false]], 'no latency, nothing settling');
    const t = renderStatus([s], [], '/run/wireguard', 1_700_000_010_000);
    assert.match(t, /\n  2 +10\.0\.0\.2:3001 .* 3\.1 ms \(settling\)\n/);
    assert.match(t, /\n  3 +10\.0\.0\.3:3001 .* 12\.5 ms\n/);
  });

  it('drop reasons become bounded labels; collectors read one snapshot per scrape', async () => {
    assert.equal(dropKind('no route from 1 to 65000'), 'no route from N to N');
    assert.equal(dropKind('wireguard: InvalidMac'), 'wireguard: InvalidMac');
    assert.equal(dropKind('udp: IPv6 disabled'), 'udp: IPv6 disabled');
    let taken = 0;
    const reg = edgeRegistry(() => {
      taken++;
      return { nodeId: 7, nodeName: 'e7', peers: [peer(2, { rxBytes: 5, txBytes: 6 })], latencyS: new Map([[2, -0.25]]), forwarded: 3, drops: { 'no route from 7 to 9': 2, 'no route from 7 to 8': 1 }, nextHops: new Map() };
    });
    const text = await reg.metrics();
    assert.equal(taken, 1);
    assert.match(text, /^etherguard_peer_rx_bytes_total\{peer="2"\} 5$/m);
    assert.match(text, /^etherguard_peer_one_way_latency_seconds\{peer="2"\} -0\.25$/m);
    assert.match(text, /^etherguard_drops_total\{reason="no route from N to N"\} 3$/m);
    assert.match(text, /^etherguard_frames_forwarded_total 3$/m);
    assert.doesNotMatch(text, /etherguard_peer_last_handshake_timestamp_seconds\{/, 'no handshake yet: no sample');
    const sreg = superRegistry(() => ({ nodeName: 'sn', edges: [{ nodeId: 1, name: 'a', up: true }, { nodeId: 2, name: 'b', up: false }], links: [{ from: 1, to: 2, latencyS: 0.004 }], recalculations: 5, negativeCycleRepairs: 2, nextHopChanges: 9 }));
    const st = await sreg.metrics();
    assert.match(st, /^etherguard_edge_up\{node="1"\} 1$/m);
    assert.match(st, /^etherguard_edge_up\{node="2"\} 0$/m);
    assert.match(st, /^etherguard_link_latency_seconds\{from="1",to="2"\} 0\.004$/m);
    assert.match(st, /^etherguard_route_recalculations_total 5$/m);
    assert.match(st, /^etherguard_route_negative_cycle_repairs_total 2$/m);
    assert.match(st, /^etherguard_next_hop_changes_total 9$/m);
  });
});
