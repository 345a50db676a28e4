// Underlay addresses: which of this host's addresses may carry WireGuard traffic to peers.
// Shared by the supernode client (LocalV4s/LocalV6s in its report) and the P2P client (the
// endpoints it announces and the discovered candidates it tries), so both apply one rule.

import { networkInterfaces } from 'node:os';
import type { DisabledAf, InterfaceConf } from '../config/index.js';
import { parseCidr, parseIPv4, parseIPv6 } from '../config/ip.js';

/**
 * Whether `address` lies in one of the VPN's own subnets (`iface.IPv4CIDR`, `IPv6CIDR`,
 * `IPv6LLPrefix`). WireGuard traffic sent there would travel inside the tunnel it is meant to
 * carry: a dead direct link would look alive through a relay, and routes could never move off it.
 *
 * @param iface the edge's `Interface` section; unset or unparsable CIDRs are skipped.
 * @param address a numeric IPv4 or IPv6 address (a v6 one may be in brackets); anything else is
 *   never inside (returns false, no error).
 */
export function insideVpn(iface: Pick<InterfaceConf, 'IPv4CIDR' | 'IPv6CIDR' | 'IPv6LLPrefix'>, address: string): boolean {
  const v4 = parseIPv4(address);
  const v6 = v4 === null ? parseIPv6(address.replace(/^\[|\]$/g, '')) : null;
  for (const c of [iface.IPv4CIDR, iface.IPv6CIDR, iface.IPv6LLPrefix]) {
    if (!c) continue;
    const n = parseCidr(c);
    if (typeof n === 'string') continue;
    const bits = n.family === 4 ? 32 : 128;
    const a = n.family === 4 ? (v4 === null ? null : BigInt(v4)) : v6;
    if (a !== null && a >> BigInt(bits - n.prefixLen) === n.network >> BigInt(bits - n.prefixLen)) return true;
  }
  return false;
}

/**
 * This host's underlay addresses, in `os.networkInterfaces()` order: not loopback (internal),
 * not link-local IPv6 (fe80::/10 needs a zone, useless to a remote peer), not on the VPN's own
 * interface `vpnIfname`, not inside the VPN's subnets (see insideVpn), and only in families
 * `disabled` leaves on.
 *
 * @returns bare addresses (no port, no brackets) with their family (4 or 6).
 */
export function underlayAddresses(
  vpnIfname: string | undefined,
  iface: Pick<InterfaceConf, 'IPv4CIDR' | 'IPv6CIDR' | 'IPv6LLPrefix'>,
  disabled: Pick<DisabledAf, 'IPv4' | 'IPv6'>,
): { family: 4 | 6; address: string }[] {
  const out: { family: 4 | 6; address: string }[] = [];
  for (const [ifname, list] of Object.entries(networkInterfaces())) {
    if (ifname === vpnIfname) continue;
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && a.address.startsWith('fe80')) || insideVpn(iface, a.address)) continue;
      if (a.family === 'IPv4' && !disabled.IPv4) out.push({ family: 4, address: a.address });
      if (a.family === 'IPv6' && !disabled.IPv6) out.push({ family: 6, address: a.address });
    }
  }
  return out;
}
