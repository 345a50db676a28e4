// Minimal IPv4/IPv6 text parsing and formatting. Node's `net.isIP` says whether a string is an
// address but gives neither its bits nor the canonical text, and both are needed to add a NodeID.

export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (const part of m.slice(1)) {
    // Leading zeros are refused because some resolvers read them as octal.
    if (part.length > 1 && part.startsWith('0')) return null;
    const n = Number(part);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}

export function formatIPv4(v: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

export function parseIPv6(s: string): bigint | null {
  if (s.includes('%')) return null; // zone ids have no meaning in a config-wide prefix
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) is rewritten as its two hex groups.
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    text = s.slice(0, lastColon + 1) + Math.floor(v4 / 65536).toString(16) + ':' + (v4 % 65536).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (head === null || rest === null) return null;
  const given = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return null;
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  } else {
    if (given !== 8) return null;
    groups = head;
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** RFC 5952 text: lower case, longest run (>= 2) of zero groups shown as `::`, leftmost on ties. */
export function formatIPv6(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

export interface Cidr {
  family: 4 | 6;
  /** Network address with the host bits cleared, as Go's net.ParseCIDR does. */
  network: bigint;
  prefixLen: number;
}

/** Parses `addr/len`; returns a reason string on failure so callers can word their own error. */
export function parseCidr(s: string): Cidr | string {
  const slash = s.indexOf('/');
  if (slash < 0) return 'is missing the /prefix-length';
  const addr = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return `has an invalid prefix length "${lenText}"`;
  const prefixLen = Number(lenText);
  const v4 = parseIPv4(addr);
  if (v4 !== null) {
    if (prefixLen > 32) return `has prefix length /${prefixLen}, more than 32`;
    const hostBits = BigInt(32 - prefixLen);
    return { family: 4, network: (BigInt(v4) >> hostBits) << hostBits, prefixLen };
  }
  const v6 = parseIPv6(addr);
  if (v6 !== null) {
    if (prefixLen > 128) return `has prefix length /${prefixLen}, more than 128`;
    const hostBits = BigInt(128 - prefixLen);
    return { family: 6, network: (v6 >> hostBits) << hostBits, prefixLen };
  }
  return `has an invalid address "${addr}"`;
}
