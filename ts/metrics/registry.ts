// Prometheus metric families of an edge and of a supernode (prom-client), read from a snapshot
// at scrape time (ts/metrics/snapshot.ts): the data path keeps its counters as it always did and
// the collectors only copy them out, so scraping adds no per-packet work.
// Families and labels: docs/observability.md. NodeIDs are decimal label values.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { dropKind, mergeSuperSessions, type EdgeSnapshot, type SuperSnapshot } from './snapshot.js';

/**
 * A snapshot shared by every collector of one scrape: the first collector takes it, the others
 * reuse it, so one scrape walks the peer table once (prom-client runs the collect callbacks of
 * one `registry.metrics()` call back to back).
 */
function perScrape<T>(take: () => T, maxAgeMs = 50): () => T {
  let at = -Infinity;
  let v: T | undefined;
  return () => {
    const now = performance.now();
    if (v === undefined || now - at > maxAgeMs) {
      v = take();
      at = now;
    }
    return v;
  };
}

/** A counter whose value is copied from `read` at scrape time (never incremented in between). */
function mirroredCounter(reg: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [reg],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (Number.isFinite(v) && v >= 0) this.inc(labels, v);
    },
  });
}

function mirroredGauge(reg: Registry, name: string, help: string, labelNames: string[], read: () => Array<[Record<string, string>, number]>): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [reg],
    collect() {
      this.reset();
      for (const [labels, v] of read()) if (Number.isFinite(v)) this.set(labels, v);
    },
  });
}

/**
 * Registry of an edge: per-peer bytes, last handshake and one-way latency, drops by reason,
 * frames forwarded, plus prom-client's process and Node.js metrics. `snapshot` is called at most
 * once per scrape.
 */
export function edgeRegistry(snapshot: () => EdgeSnapshot): Registry {
  const reg = new Registry();
  const snap = perScrape(snapshot);
  const peers = () => mergeSuperSessions(snap().peers);
  new Gauge({
    name: 'etherguard_node_info',
    help: 'Always 1; labels name this node (node = NodeID, name = NodeName, role = edge).',
    labelNames: ['node', 'name', 'role'],
    registers: [reg],
    collect() {
      const s = snap();
      this.reset();
      this.set({ node: String(s.nodeId), name: s.nodeName, role: 'edge' }, 1);
    },
  });
  mirroredCounter(reg, 'etherguard_peer_rx_bytes_total', 'UDP payload bytes received from the peer (WireGuard messages of every kind); peer = NodeID, 65533 = supernode.', ['peer'], () =>
    peers().map((p) => [{ peer: String(p.nodeId) }, p.rxBytes]),
  );
  mirroredCounter(reg, 'etherguard_peer_tx_bytes_total', 'UDP payload bytes sent to the peer (WireGuard messages of every kind); peer = NodeID, 65533 = supernode.', ['peer'], () =>
    peers().map((p) => [{ peer: String(p.nodeId) }, p.txBytes]),
  );
  mirroredGauge(reg, 'etherguard_peer_last_handshake_timestamp_seconds', 'Unix time of the last completed handshake with the peer (absent if none yet).', ['peer'], () =>
    peers().filter((p) => p.lastHandshakeMs > 0).map((p) => [{ peer: String(p.nodeId) }, p.lastHandshakeMs / 1000]),
  );
  mirroredGauge(
    reg,
    'etherguard_peer_one_way_latency_seconds',
    'Filtered one-way latency peer -> this node (median filter, as reported to the supernode); includes the clock offset between the two nodes. Super mode only.',
    ['peer'],
    () => [...snap().latencyS].map(([id, s]) => [{ peer: String(id) }, s]),
  );
  mirroredCounter(reg, 'etherguard_drops_total', 'Packets and frames dropped, by reason (numbers in a reason are written N).', ['reason'], () => {
    const by = new Map<string, number>();
    for (const [r, n] of Object.entries(snap().drops)) by.set(dropKind(r), (by.get(dropKind(r)) ?? 0) + n);
    return [...by].map(([reason, n]) => [{ reason }, n]);
  });
  mirroredCounter(reg, 'etherguard_frames_forwarded_total', 'Frames this edge relayed for other nodes (once per frame, whatever the number of next hops).', [], () => [[{}, snap().forwarded]]);
  const load = () => snap().handshakeLoad;
  mirroredCounter(reg, 'etherguard_handshake_cookie_replies_total', 'Cookie replies sent instead of processing a handshake message: the edge was under load (more handshake messages per second than its budget; WireGuard whitepaper 5.4.7).', [], () => (load() ? [[{}, load()!.cookieReplies]] : []));
  mirroredCounter(reg, 'etherguard_handshake_rate_limited_total', 'Handshake messages with a valid cookie (mac2) refused under load because their source address exceeded its rate.', [], () => (load() ? [[{}, load()!.rateLimited]] : []));
  mirroredCounter(reg, 'etherguard_under_load_episodes_total', 'Times the edge went under load (handshake budget exceeded).', [], () => (load() ? [[{}, load()!.episodes]] : []));
  collectDefaultMetrics({ register: reg });
  return reg;
}

/**
 * Registry of a supernode: liveness per edge, the latency of every measured directed link, route
 * solves and next-hop changes, plus process and Node.js metrics.
 */
export function superRegistry(snapshot: () => SuperSnapshot): Registry {
  const reg = new Registry();
  const snap = perScrape(snapshot);
  new Gauge({
    name: 'etherguard_node_info',
    help: 'Always 1; labels name this node (node = NodeID 65533, name = NodeName, role = super).',
    labelNames: ['node', 'name', 'role'],
    registers: [reg],
    collect() {
      this.reset();
      this.set({ node: '65533', name: snap().nodeName, role: 'super' }, 1);
    },
  });
  mirroredGauge(reg, 'etherguard_edge_up', '1 if the edge registered or reported within PeerAliveTimeout, else 0; node = NodeID.', ['node'], () =>
    snap().edges.map((e) => [{ node: String(e.nodeId) }, e.up ? 1 : 0]),
  );
  mirroredGauge(
    reg,
    'etherguard_link_latency_seconds',
    'Current one-way latency of the directed link from -> to as measured by `to` (without AdditionalCost; clock offsets included, so it may be negative). Absent when not measured or expired.',
    ['from', 'to'],
    () => snap().links.map((l) => [{ from: String(l.from), to: String(l.to) }, l.latencyS]),
  );
  mirroredCounter(reg, 'etherguard_route_recalculations_total', 'Route solves (all-pairs shortest paths) run since start.', [], () => [[{}, snap().recalculations]]);
  mirroredCounter(
    reg,
    'etherguard_route_negative_cycle_repairs_total',
    'Route solves that found a negative cycle among the measured links (a clock step, jitter beyond a short round trip) and repaired it (impossible round trips raised, then a uniform extra per link if needed), since start.',
    [],
    () => [[{}, snap().negativeCycleRepairs]],
  );
  mirroredCounter(reg, 'etherguard_next_hop_changes_total', 'Entries (src, dst) of the published next-hop table that changed, summed over every change since start.', [], () => [[{}, snap().nextHopChanges]]);
  collectDefaultMetrics({ register: reg });
  return reg;
}
