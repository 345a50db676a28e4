// The supernode's own addresses as the edge YAML from peer/add names them: UDP endpoints per
// family and the edge API URL, from where the supernode really listens (docs/supernode.md, "The
// edge YAML from peer/add").
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { SuperConfig } from '../config/index.js';
import { parseListen } from '../shared/http.js';
import type { RequestOrigin } from './api/service.js';

/** What edgeEndpoints reads of the supernode. */
export interface EndpointSource {
  readonly cfg: Pick<SuperConfig, 'DisabledAf' | 'ListenPort_EdgeAPI'>;
  readonly prefix: string;
  readonly udpPort: number;
  famEnabled(f: 4 | 6): boolean;
  /** Base URL of the edge API server (without API_Prefix). */
  httpAddress(): string;
}

/** An address as endpoints and URLs write it: IPv4-mapped IPv6 as IPv4, no zone index. */
function plainAddress(a: string | undefined): string {
  const s = (a ?? '').replace(/%.*$/, '');
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return m ? m[1]! : s;
}

const UNSPECIFIED = new Set(['', '0.0.0.0', '::']);
const hostPart = (h: string) => (isIP(h) === 6 ? `[${h}]` : h);

const isLoopback = (a: string) => /^127\./.test(a) || a === '::1';

/**
 * An address of family `fam` on the interface that holds `near` (the loopback IPv4 address for
 * ::1, a LAN address's interface for a LAN address). IPv6 link-local addresses are skipped (they
 * need a zone to be usable). Only with `anyInterface` may another interface's address be used,
 * non-loopback first. A loopback address is used only when `near` is loopback itself: an edge that
 * reached the supernode over the network cannot use it. `ifs` is os.networkInterfaces()'s shape.
 * undefined when there is none, and then that family gets no endpoint.
 */
export function localAddressOfFamily(
  near: string,
  fam: 4 | 6,
  ifs: ReturnType<typeof networkInterfaces> = networkInterfaces(),
  o: { anyInterface?: boolean } = {},
): string | undefined {
  const nearLoop = isLoopback(near);
  const usable = (a: { address: string; family: string | number; internal: boolean }) =>
    (a.family === `IPv${fam}` || a.family === fam) &&
    !(fam === 6 && /^fe[89ab]/i.test(a.address)) &&
    (nearLoop || !(a.internal || isLoopback(plainAddress(a.address))));
  const lists = Object.keys(ifs).sort().map((n) => ifs[n] ?? []);
  const own = lists.find((l) => l.some((a) => plainAddress(a.address) === near));
  let pick = own?.find(usable);
  if (!pick && (o.anyInterface || own === undefined)) pick = lists.flat().filter(usable).sort((a, b) => Number(a.internal) - Number(b.internal))[0];
  return pick ? plainAddress(pick.address) : undefined;
}

/** Whether the name the admin used resolves to the address the request arrived on (then it reaches us too). */
async function nameReaches(name: string, local: string): Promise<boolean> {
  if (name === '' || isIP(name) !== 0) return false;
  try {
    const found = await Promise.race([lookup(name, { all: true }), new Promise<never>((_, no) => setTimeout(() => no(new Error('timeout')), 2000).unref())]);
    return found.some((a) => plainAddress(a.address) === local);
  } catch {
    return false;
  }
}

/**
 * The supernode's UDP endpoints and edge API URL for the edge config peer/add returns, from
 * where the supernode really listens: a bound address (DisabledAf.ListenIPv4/6, the host of
 * ListenPort_EdgeAPI) as it is; for a wildcard bind, the local address the admin's request
 * arrived on when it has that family, else an address of the other family on the same
 * interface (127.0.0.1 for a request to [::1]; loopback only for a request over loopback). The
 * Host name the admin used is kept only when it resolves to that local address. A family whose
 * UDP socket is off, or that has no such address, stays empty (peer/add then drops its key).
 */
export async function edgeEndpoints(sn: EndpointSource, req: RequestOrigin): Promise<{ EndpointV4: string; EndpointV6: string; EndpointEdgeAPIUrl: string }> {
  const local = plainAddress(req.localAddress);
  const localFam = isIP(local);
  const name = req.hostname.replace(/^\[(.*)\]$/, '$1');
  const named = await nameReaches(name, local);
  const show = (a: string) => hostPart(named && a === local ? name : a);
  const udp = (fam: 4 | 6): string => {
    if (!sn.famEnabled(fam)) return '';
    const bound = plainAddress(sn.cfg.DisabledAf[`ListenIPv${fam}`]);
    const a = !UNSPECIFIED.has(bound) ? bound : localFam === fam ? local : localAddressOfFamily(local, fam);
    return a ? `${show(a)}:${sn.udpPort}` : '';
  };
  const edge = new URL(sn.httpAddress());
  const bound = plainAddress(parseListen(sn.cfg.ListenPort_EdgeAPI).host);
  // "3000" binds "::" (both families) unless the host has no IPv6; "0.0.0.0:3000" binds IPv4 only.
  const accepts = bound === '0.0.0.0' ? [4] : [4, 6];
  // The URL must name some host: an IPv4 address of the interface, else of another one.
  const api = !UNSPECIFIED.has(bound) ? bound : accepts.includes(localFam) ? local : (localAddressOfFamily(local, 4, undefined, { anyInterface: true }) ?? '127.0.0.1');
  return { EndpointV4: udp(4), EndpointV6: udp(6), EndpointEdgeAPIUrl: `${edge.protocol}//${show(api)}:${edge.port}${sn.prefix}` };
}
