// Endpoints: "host:port" / "[v6]:port" parsing, resolution with AfPrefer, and the canonical
// string form used in logs, UAPI and the supernode's peer lists.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseEndpoint } from '../config/endpoint.js';

export interface Endpoint {
  address: string; // numeric
  port: number;
  family: 4 | 6;
}

/** Host (no brackets) and port of an endpoint, by the one parser the config loader uses too. */
export function parseHostPort(s: string): { host: string; port: number } {
  const r = parseEndpoint(s);
  if (!r.ok) throw new Error(`endpoint ${r.problem}`);
  return { host: r.value.host, port: r.value.port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * Resolves with upstream's AfPrefer: 4 or 6 tries that family first, 0 lets the resolver pick.
 * Families disabled in DisabledAf are never returned.
 */
export async function resolveEndpoint(s: string, afPrefer: number, enabled: { v4: boolean; v6: boolean }): Promise<Endpoint> {
  const { host, port } = parseHostPort(s);
  const literal = isIP(host);
  let cands: { address: string; family: number }[];
  if (literal) cands = [{ address: host, family: literal }];
  else cands = await lookup(host, { all: true, verbatim: true });
  cands = cands.filter((c) => (c.family === 4 ? enabled.v4 : enabled.v6));
  if (cands.length === 0) throw new Error(`endpoint ${s}: no address in an enabled address family`);
  if (afPrefer === 4 || afPrefer === 6) {
    const pref = cands.find((c) => c.family === afPrefer);
    if (pref) cands = [pref];
  }
  const c = cands[0];
  return { address: c.address, port, family: c.family === 6 ? 6 : 4 };
}
