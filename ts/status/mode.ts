// `-mode status [-json] [NodeName]`: lists the Etherguard nodes running on this machine with
// their peers (endpoint, last handshake, rx/tx bytes, measured latency) and next hops.
// Exit codes: 0 when at least one node answered (or none exist and no NodeName was asked for),
// 1 when the NodeName asked for is not running.
import { CliArgs } from '../cli/args.js';
import { CliError } from '../cli/errors.js';
import { uapiDir } from '../uapi/server.js';
import { findNodes, type Found } from './client.js';
import type { StatusDoc, StatusNode } from './json.js';

export async function statusMode(a: CliArgs): Promise<number> {
  const dir = uapiDir();
  let found: Found;
  try {
    found = await findNodes(dir, a.node);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (a.node !== undefined && found.nodes.length === 0) {
    const why = found.skipped[0] ? `: ${found.skipped[0].reason}` : '';
    throw new CliError(`no node ${JSON.stringify(a.node)} answers in ${dir}${why}`);
  }
  if (a.json) {
    // Exactly {"nodes":[...]}: the socket name is ours to know, not part of the document.
    const doc: StatusDoc = { nodes: found.nodes.map(({ socket: _s, ...n }) => n) };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(renderStatus(found.nodes, found.skipped, dir, Date.now()));
  return 0;
}

const bytes = (n: number): string => {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${u[i]}`;
};

const ago = (iso: string | null, nowMs: number): string => {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
};

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The readable form: one block per node, a peer table, then the next hops. */
export function renderStatus(nodes: Array<StatusNode & { socket?: string }>, skipped: Array<{ socket: string; reason: string }>, dir: string, nowMs: number): string {
  let out = '';
  if (nodes.length === 0) out += `no Etherguard node answers in ${dir}\n`;
  for (const n of nodes) {
    out += `${n.NodeName} (NodeID ${n.NodeID}${n.role ? `, ${n.role}` : ''}${n.socket && n.socket !== n.NodeName ? `, socket ${n.socket}` : ''})\n`;
    const rows = [['peer', 'endpoint', 'handshake', 'rx', 'tx', 'latency']];
    for (const p of n.peers) {
      rows.push([
        p.supernode ? `${p.NodeID} (super)` : String(p.NodeID),
        p.endpoint || '-',
        ago(p.lastHandshake, nowMs),
        bytes(p.rxBytes),
        bytes(p.txBytes),
        // A peer that never completed a handshake on this device (a supernode's second family
        // that no edge uses, a peer not started yet) was never alive: "dead" would suggest a failure.
        p.alive === false ? (p.lastHandshake === null ? 'no session' : n.probing === false ? 'idle' : 'dead') : p.latencyMs === null ? '-' : `${p.latencyMs.toFixed(1)} ms${p.settling ? ' (settling)' : ''}`,
      ]);
    }
    out += rows.length > 1 ? table(rows) : '  no peers\n';
    const nh = Object.entries(n.nextHops);
    if (nh.length) out += `  next hops: ${nh.map(([d, h]) => (String(h) === d ? `${d} direct` : `${d} via ${h}`)).join(', ')}\n`;
    out += '\n';
  }
  for (const s of skipped) out += `skipped ${s.socket}: ${s.reason}\n`;
  return out;
}
