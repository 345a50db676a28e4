// The WireGuard cross-platform UAPI (the text protocol wg(8) speaks over a unix socket), so the
// stock `wg show <NodeName>` lists an edge's peers, endpoints, handshakes and counters.
// Protocol: the client sends `get=1\n\n` or `set=1\n<key=value lines>\n\n`; we answer with
// key=value lines and a final `errno=N\n\n`.
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { parseEndpoint } from '../config/endpoint.js';
import { SUN_PATH_MAX, uapiNameProblem } from '../config/names.js';

export interface UapiPeer {
  publicKey: Uint8Array;
  presharedKey?: Uint8Array;
  endpoint?: string; // "ip:port" or "[ip6]:port"
  lastHandshake?: { sec: number; nsec: number };
  rxBytes: bigint | number;
  txBytes: bigint | number;
  persistentKeepalive: number;
}

export interface UapiDevice {
  privateKey(): Uint8Array;
  listenPort(): number;
  fwmark(): number;
  peers(): UapiPeer[];
  /**
   * Applies a `set=1` request. Returns 0 on success or a *negated* errno (-22 EINVAL, -1 EPERM),
   * the value wireguard-go writes after `errno=` (its ipc.IpcError codes); wg(8) negates it
   * again for strerror, so a positive value would print "Unknown error -22".
   */
  set?(ops: [string, string][]): number;
  /**
   * Etherguard's own `eg_status=1` operation (`-mode status`, docs/observability.md): a JSON
   * document of what the WireGuard `get=1` reply cannot carry (NodeID, next hops, latencies).
   * A separate operation because wg(8) refuses a `get=1` reply with any key it does not know.
   */
  status?(): unknown;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function renderGet(dev: UapiDevice): string {
  const out: string[] = [`private_key=${hex(dev.privateKey())}`, `listen_port=${dev.listenPort()}`];
  if (dev.fwmark()) out.push(`fwmark=${dev.fwmark()}`);
  for (const p of dev.peers()) {
    out.push(`public_key=${hex(p.publicKey)}`);
    if (p.presharedKey) out.push(`preshared_key=${hex(p.presharedKey)}`);
    out.push('protocol_version=1');
    if (p.endpoint) out.push(`endpoint=${p.endpoint}`);
    // wg(8) parses these as unsigned integers and rejects the whole reply otherwise.
    const int = (v: number | bigint) => (typeof v === 'bigint' ? v : BigInt(Math.max(0, Math.floor(v))));
    const hs = p.lastHandshake ?? { sec: 0, nsec: 0 };
    out.push(`last_handshake_time_sec=${int(hs.sec)}`, `last_handshake_time_nsec=${int(hs.nsec)}`);
    out.push(`tx_bytes=${int(p.txBytes)}`, `rx_bytes=${int(p.rxBytes)}`);
    out.push(`persistent_keepalive_interval=${int(p.persistentKeepalive)}`);
    // Routing is Etherguard's, not AllowedIPs': every peer may carry any frame (as upstream reports).
    out.push('allowed_ip=0.0.0.0/0', 'allowed_ip=::/0');
  }
  return out.join('\n') + '\nerrno=0\n\n';
}

/** Handles one connection: possibly several requests, each ended by an empty line. */
function serve(sock: Socket, dev: UapiDevice, log: (m: string) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (d: string) => {
    buf += d;
    if (buf.length > 1 << 20) {
      log('uapi: request larger than 1 MiB, closing');
      sock.destroy();
      return;
    }
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const req = buf.slice(0, end).split('\n');
      buf = buf.slice(end + 2);
      const op = req[0];
      if (op === 'get=1') {
        sock.write(renderGet(dev));
      } else if (op === 'eg_status=1' && dev.status) {
        // One line of JSON (JSON.stringify never writes a raw newline), then the usual errno.
        let json: string;
        try {
          json = JSON.stringify(dev.status());
        } catch (e) {
          log(`uapi: eg_status failed: ${(e as Error).message}`);
          sock.write('errno=-5\n\n');
          continue;
        }
        sock.write(`${json}\nerrno=0\n\n`);
      } else if (op === 'set=1') {
        const ops: [string, string][] = [];
        let bad = false;
        for (const line of req.slice(1)) {
          const i = line.indexOf('=');
          if (i <= 0) {
            bad = true;
            break;
          }
          const key = line.slice(0, i);
          let value = line.slice(i + 1);
          if (key === 'endpoint') {
            // The same endpoint rules as the config (ts/config/endpoint.ts); wg resolves names
            // before writing the line, so only IP literals arrive here.
            const ep = parseEndpoint(value, { numeric: true });
            if (!ep.ok) {
              log(`uapi: set: endpoint ${ep.problem}`);
              bad = true;
              break;
            }
            value = ep.value.kind === 'v6' ? `[${ep.value.host}]:${ep.value.port}` : `${ep.value.host}:${ep.value.port}`;
          }
          ops.push([key, value]);
        }
        // -EINVAL for malformed lines, -EPERM when this device does not allow changes.
        const errno = bad ? -22 : dev.set ? dev.set(ops) : -1;
        sock.write(`errno=${errno}\n\n`);
      } else {
        log(`uapi: unknown operation ${JSON.stringify(op)}`);
        sock.write('errno=-22\n\n');
        sock.end();
        return;
      }
    }
  });
}

export interface UapiHandle {
  path: string;
  close(): Promise<void>;
}

export function uapiDir(): string {
  return process.env.EG_UAPI_DIR ?? '/var/run/wireguard';
}

/**
 * `<dir>/<name>.sock`, or an Error naming the rule when `name` could not be a socket file in
 * `dir` that `wg show <name>` reaches (the config loader checks the same rule on NodeName; this
 * is the check at the point of use, so no name can put the socket elsewhere).
 */
export function uapiSocketPath(dir: string, name: string): string {
  const why = uapiNameProblem(name);
  if (why !== null) throw new Error(`UAPI name ${JSON.stringify(name)}: ${why}`);
  const path = join(dir, `${name}.sock`);
  if (dirname(resolve(path)) !== resolve(dir)) throw new Error(`UAPI name ${JSON.stringify(name)} would put the socket outside ${dir}`);
  const bytes = Buffer.byteLength(path);
  if (bytes > SUN_PATH_MAX) throw new Error(`UAPI socket path ${path} is ${bytes} bytes; a unix socket path holds at most ${SUN_PATH_MAX} (shorten NodeName or EG_UAPI_DIR)`);
  return path;
}

/** Listens on `<EG_UAPI_DIR>/<name>.sock` (mode 0600). Refuses to replace a live socket. */
export async function startUapi(name: string, dev: UapiDevice, log: (m: string) => void = () => {}): Promise<UapiHandle> {
  const dir = uapiDir();
  const path = uapiSocketPath(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (existsSync(path)) {
    const alive = await new Promise<boolean>((res) => {
      const c = new Socket();
      c.once('connect', () => {
        c.destroy();
        res(true);
      });
      c.once('error', () => res(false));
      c.connect(path);
    });
    if (alive) throw new Error(`UAPI socket ${path} is in use by another process (is ${name} already running?)`);
    unlinkSync(path);
  }
  const server: Server = createServer((s) => serve(s, dev, log));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(path, () => res());
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        try {
          unlinkSync(path);
        } catch {
          /* gone already */
        }
      }),
  };
}
