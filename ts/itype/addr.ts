// "host:port" parsing for the IP socket types: "1.2.3.4:5", "[::1]:5", "host:5", ":5" (all
// addresses), "" (= ":0").
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface HostPort {
  /** Empty for "all addresses". */
  host: string;
  port: number;
}

export function parseHostPort(s: string | undefined, key: string): HostPort {
  const str = (s ?? '').trim();
  if (str === '') return { host: '', port: 0 };
  const i = str.lastIndexOf(':');
  if (i < 0) throw new Error(`${key} ${JSON.stringify(str)} must be host:port`);
  let host = str.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const portStr = str.slice(i + 1);
  const port = Number(portStr);
  if (!/^\d+$/.test(portStr) || port > 65535) throw new Error(`${key} ${JSON.stringify(str)} has an invalid port`);
  if (host.includes(':') && isIP(host) !== 6) throw new Error(`${key} ${JSON.stringify(str)}: IPv6 addresses go in brackets`);
  return { host, port };
}

/** The address a host name stands for (IP literals are returned as is). */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const fam = isIP(host);
  if (fam) return { address: host, family: fam as 4 | 6 };
  const r = await lookup(host);
  return { address: r.address, family: r.family as 4 | 6 };
}
