// Per-node addresses derived from the NodeID, as upstream does for TAP interfaces: the NodeID is
// added to a network prefix, so every node of a network can share one config template.
import { formatIPv4, formatIPv6, parseCidr, type Cidr } from './ip.js';

export const NODE_ID_MAX = 65531; // 65532..65535 are the Invalid/SuperNode/Spread/Broadcast ids

export class AddrError extends Error {
  override name = 'AddrError';
}

export interface NodeAddr {
  addr: string;
  prefixLen: number;
}

function checkNodeId(nodeId: number): void {
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > NODE_ID_MAX) {
    throw new AddrError(`NodeID ${nodeId} is not an integer in 0..${NODE_ID_MAX}`);
  }
}

/** Parses `AA:BB:CC:DD` into bytes; 2..6 bytes, two hex digits each. */
export function parseMacPrefix(prefix: string): number[] {
  if (!/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){1,5}$/.test(prefix)) {
    throw new AddrError(`"${prefix}" is not 2 to 6 hex bytes separated by ':' (like AA:BB:CC:DD)`);
  }
  const bytes = prefix.split(':').map((b) => parseInt(b, 16));
  // Bit 0 of the first byte marks a group address; a node's own MAC must be unicast.
  if ((bytes[0]! & 1) !== 0) {
    throw new AddrError(`"${prefix}" is a multicast prefix (the lowest bit of the first byte ${prefix.slice(0, 2)} is set); use a unicast prefix such as AA:BB:CC:DD`);
  }
  return bytes;
}

/** Prefix bytes followed by the NodeID, big-endian, in the remaining bytes. */
export function macForNode(prefix: string, nodeId: number): string {
  checkNodeId(nodeId);
  const bytes = parseMacPrefix(prefix);
  const room = 6 - bytes.length;
  const max = 256 ** room - 1;
  if (nodeId > max) {
    throw new AddrError(`NodeID ${nodeId} does not fit in the ${room} byte(s) that MAC prefix "${prefix}" leaves (max NodeID ${max}); use a shorter prefix`);
  }
  for (let i = room - 1; i >= 0; i--) bytes.push(Math.floor(nodeId / 256 ** i) % 256);
  // Keep the prefix's letter case so the result reads like the configured prefix.
  const upper = !/[a-f]/.test(prefix);
  return bytes.map((b) => { const h = b.toString(16).padStart(2, '0'); return upper ? h.toUpperCase() : h; }).join(':');
}

function cidrOf(cidr: string, family: 4 | 6): Cidr {
  const c = parseCidr(cidr);
  if (typeof c === 'string') throw new AddrError(`"${cidr}" is not a valid CIDR: it ${c}`);
  if (c.family !== family) throw new AddrError(`"${cidr}" is an IPv${c.family} CIDR, expected IPv${family}`);
  return c;
}

// NodeID 0 maps to the last usable host (2^hostbits - 2) as upstream does, since host 0 is the
// network address itself.
function hostAddr(c: Cidr, cidr: string, nodeId: number): bigint {
  checkNodeId(nodeId);
  const hostBits = (c.family === 4 ? 32 : 128) - c.prefixLen;
  if (hostBits < 2) throw new AddrError(`"${cidr}" has fewer than 2 host bits, no room for a NodeID`);
  const maxHost = (1n << BigInt(hostBits)) - 2n;
  if (BigInt(nodeId) > maxHost) {
    throw new AddrError(`NodeID ${nodeId} does not fit in "${cidr}" (highest usable host number is ${maxHost})`);
  }
  return c.network + (nodeId === 0 ? maxHost : BigInt(nodeId));
}

export function ipv4ForNode(cidr: string, nodeId: number): NodeAddr {
  const c = cidrOf(cidr, 4);
  return { addr: formatIPv4(Number(hostAddr(c, cidr, nodeId))), prefixLen: c.prefixLen };
}

export function ipv6ForNode(cidr: string, nodeId: number): NodeAddr {
  const c = cidrOf(cidr, 6);
  return { addr: formatIPv6(hostAddr(c, cidr, nodeId)), prefixLen: c.prefixLen };
}

/** Link-local address; upstream assigns it as a /64 whatever the configured prefix length. */
export function ipv6LLForNode(prefix: string, nodeId: number): NodeAddr {
  const c = cidrOf(prefix, 6);
  if (c.prefixLen < 10 || c.network >> 118n !== 0x3fan) {
    throw new AddrError(`"${prefix}" is not inside the link-local range fe80::/10`);
  }
  return { addr: formatIPv6(hostAddr(c, prefix, nodeId)), prefixLen: 64 };
}
