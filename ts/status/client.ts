// `-mode status`: finds the nodes on this machine through their UAPI sockets (`<EG_UAPI_DIR>/
// <name>.sock`, default /var/run/wireguard, the directory wg(8) lists) and asks each for its
// status with the UAPI operation `eg_status=1` (ts/uapi/server.ts). Sockets that do not answer it
// (stock WireGuard, a stale socket file, an older Etherguard) are listed as skipped, with why.
import { readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { StatusNode } from './json.js';

export interface Skipped {
  /** The socket's name (file name without ".sock"). */
  socket: string;
  reason: string;
}

export interface Found {
  nodes: Array<StatusNode & { socket: string }>;
  skipped: Skipped[];
}

/** Sends one request and resolves with the reply up to and including its `errno=N` line. */
function ask(path: string, request: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = new Socket();
    let buf = '';
    const done = (e?: Error) => {
      clearTimeout(t);
      c.destroy();
      if (e) reject(e);
      else resolve(buf);
    };
    const t = setTimeout(() => done(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      if (/(^|\n)errno=-?\d+\n\n$/.test(buf)) done();
    });
    c.on('error', (e) => done(e));
    c.on('close', () => done(buf ? undefined : new Error('closed without an answer')));
    c.connect(path, () => c.write(request));
  });
}

/**
 * Queries one socket. Resolves with the node's status, or throws an Error saying why the socket
 * is not an Etherguard node that answers `eg_status` (errno from the reply, connection error).
 */
export async function queryNode(path: string, timeoutMs = 2000): Promise<StatusNode> {
  const reply = await ask(path, 'eg_status=1\n\n', timeoutMs);
  const m = /(?:^|\n)errno=(-?\d+)\n\n$/.exec(reply);
  const errno = m ? Number(m[1]) : NaN;
  if (errno !== 0) throw new Error(`does not answer eg_status (errno=${m?.[1] ?? '?'}): not an Etherguard node, or an older version`);
  const json = reply.slice(0, reply.length - m![0].length);
  const doc = JSON.parse(json) as StatusNode;
  if (typeof doc !== 'object' || doc === null || typeof doc.NodeID !== 'number' || !Array.isArray(doc.peers)) {
    throw new Error('eg_status answer is not a node status document');
  }
  return doc;
}

/**
 * Every `*.sock` in `dir`, queried in parallel; nodes sorted by NodeName. `only` keeps the node
 * whose NodeName or socket name equals it (the supernode's sockets are `<NodeName>_v4` / `_v6`).
 */
export async function findNodes(dir: string, only?: string, timeoutMs = 2000): Promise<Found> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.sock')).map((f) => f.slice(0, -5));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { nodes: [], skipped: [] };
    throw new Error(`cannot list ${dir}: ${err.message}`);
  }
  const res = await Promise.all(
    names.sort().map(async (socket) => {
      try {
        return { socket, node: await queryNode(join(dir, `${socket}.sock`), timeoutMs) };
      } catch (e) {
        return { socket, reason: (e as Error).message };
      }
    }),
  );
  const out: Found = { nodes: [], skipped: [] };
  for (const r of res) {
    if ('node' in r && r.node) {
      if (only === undefined || r.node.NodeName === only || r.socket === only) out.nodes.push({ ...r.node, socket: r.socket });
    } else if (only === undefined || r.socket === only) {
      out.skipped.push({ socket: r.socket, reason: r.reason ?? 'unknown' });
    }
  }
  out.nodes.sort((a, b) => (a.NodeName < b.NodeName ? -1 : a.NodeName > b.NodeName ? 1 : a.socket < b.socket ? -1 : 1));
  return out;
}
