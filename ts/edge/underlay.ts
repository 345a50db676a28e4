// Underlay addresses: which of this host's addresses may carry WireGuard traffic to peers.
// Shared by the supernode client (LocalV4s/LocalV6s in its report) and the P2P client (the
// endpoints it announces and the discovered candidates it tries), so both apply one rule.

import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
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
 * Link types (`/sys/class/net/<if>/type`, ARPHRD_* from linux/if_arp.h) that only IP tunnel drivers
 * give a device: ipip and vti (768), ip6tnl and vti6 (769), sit (776), gre (778), ip6gre (823).
 * Not PPP (512) or ARPHRD_NONE (65534): a PPPoE or raw-IP modem link is often the real uplink.
 */
const TUNNEL_LINK_TYPES: ReadonlyMap<number, string> = new Map([
  [768, 'IP-in-IP tunnel'],
  [769, 'IPv6 tunnel'],
  [776, 'sit tunnel'],
  [778, 'GRE tunnel'],
  [823, 'IPv6 GRE tunnel'],
]);

/**
 * Device types (`DEVTYPE=` in `/sys/class/net/<if>/uevent`) that drivers set on tunnel devices:
 * WireGuard's own (drivers/net/wireguard/device.c names it after the module) and the UDP
 * encapsulations whose drivers mark them "a virtual tunnel endpoint" for udev.
 */
const TUNNEL_DEVTYPES: ReadonlySet<string> = new Set(['wireguard', 'vxlan', 'geneve', 'bareudp', 'gtp', 'l2tpeth']);

function readSys(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Why network interface `ifname` is a tunnel or VPN device, or undefined when it is not one (or
 * when the OS does not say: no sysfs, the device gone meanwhile). Its addresses belong to some
 * overlay network (another Etherguard mesh's TAP, a WireGuard or OpenVPN tunnel, a VXLAN):
 * offering them as underlay endpoints would make peers carry this VPN inside that one.
 *
 * From Linux sysfs (`sysfsNet`, default `/sys/class/net`; the data `ip -d link` shows too):
 * a `tun_flags` file (TUN and TAP devices), `DEVTYPE=` in `uevent` (TUNNEL_DEVTYPES), or the
 * link type (TUNNEL_LINK_TYPES). An alias label (`eth0:1`) is looked up as its device.
 *
 * @returns a short description ("TUN/TAP device", "wireguard device", "GRE tunnel"), or undefined.
 */
export function tunnelDevice(ifname: string, sysfsNet = '/sys/class/net'): string | undefined {
  const dev = ifname.split(':')[0]!;
  // A name from the OS, but never let one walk out of the directory.
  if (dev === '' || dev === '.' || dev === '..' || dev.includes('/')) return undefined;
  const dir = join(sysfsNet, dev);
  if (existsSync(join(dir, 'tun_flags'))) return 'TUN/TAP device';
  const devtype = /^DEVTYPE=(.*)$/m.exec(readSys(dir, 'uevent') ?? '')?.[1]?.trim();
  if (devtype !== undefined && TUNNEL_DEVTYPES.has(devtype)) return `${devtype} device`;
  const type = Number.parseInt(readSys(dir, 'type') ?? '', 10);
  return TUNNEL_LINK_TYPES.get(type);
}

/**
 * This host's underlay addresses, in `os.networkInterfaces()` order: not loopback (internal),
 * not link-local IPv6 (fe80::/10 needs a zone, useless to a remote peer), not on the VPN's own
 * interface `vpnIfname`, not on any other tunnel or VPN device (see tunnelDevice), not inside the
 * VPN's subnets (see insideVpn), and only in families `disabled` leaves on.
 *
 * @param sysfsNet where tunnelDevice reads the devices' kinds (tests); default `/sys/class/net`.
 * @returns bare addresses (no port, no brackets) with their family (4 or 6).
 */
export function underlayAddresses(
  vpnIfname: string | undefined,
  iface: Pick<InterfaceConf, 'IPv4CIDR' | 'IPv6CIDR' | 'IPv6LLPrefix'>,
  disabled: Pick<DisabledAf, 'IPv4' | 'IPv6'>,
  sysfsNet?: string,
): { family: 4 | 6; address: string }[] {
  const out: { family: 4 | 6; address: string }[] = [];
  for (const [ifname, list] of Object.entries(networkInterfaces())) {
    if (ifname === vpnIfname || tunnelDevice(ifname, sysfsNet) !== undefined) continue;
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && a.address.startsWith('fe80')) || insideVpn(iface, a.address)) continue;
      if (a.family === 'IPv4' && !disabled.IPv4) out.push({ family: 4, address: a.address });
      if (a.family === 'IPv6' && !disabled.IPv6) out.push({ family: 6, address: a.address });
    }
  }
  return out;
}
