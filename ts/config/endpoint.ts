// The one parser for WireGuard-style endpoints ("host:port"), shared by the config loader, the
// UAPI (`endpoint=` lines) and the runtime (configured endpoints and the supernode's peer lists),
// so that one string means the same thing everywhere.
//
// Accepted forms follow `wg set <if> peer <key> endpoint X` (wireguard-tools src/config.c,
// parse_endpoint), which etherguard-go's Go resolver (net.Dial "udp4"/"udp6") also accepts:
//   1.2.3.4:51820  host.example:51820  [2001:db8::1]:51820  [fe80::1%eth0]:51820
//   [1.2.3.4]:51820  [host.example]:51820  host.example:ntp  (a UDP service name from /etc/services)
// Refused on purpose, each with the rule named (see docs/config.md "Endpoints"):
//   * an IPv6 address with a port but without brackets (wg splits at the last ':', Go refuses it;
//     `2001:db8::1:51820` is itself a valid address, so the reading is ambiguous);
//   * port 0 as a destination (wg accepts it, but every send to port 0 fails with EINVAL);
//   * IPv4 short or octal forms (`127.1`, `010.0.0.1`): getaddrinfo reads them as inet_aton does,
//     Go as host names, so the two disagree.
import { readFileSync } from 'node:fs';
import { parseIPv4, parseIPv6 } from './ip.js';

export type EndpointHostKind = 'v4' | 'v6' | 'name' | 'any';

export interface ParsedEndpoint {
  /** Host without brackets: an IPv4/IPv6 literal (IPv6 possibly with `%scope`), a DNS name, or "" (listen on all addresses). */
  host: string;
  /** 0..65535; 0 only for listen addresses. */
  port: number;
  kind: EndpointHostKind;
}

export interface EndpointOptions {
  /** A listen address: `:port` (all addresses) and port 0 (any free port) are allowed. */
  listen?: boolean;
  /**
   * Only IP literals and numeric ports, as the UAPI carries them (wg resolves names before it
   * writes `endpoint=`; wireguard-go parses the value with netip.ParseAddrPort).
   */
  numeric?: boolean;
}

export type EndpointResult = { ok: true; value: ParsedEndpoint } | { ok: false; problem: string };

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const SCOPE = /^[A-Za-z0-9_.-]{1,64}$/;

let services: Map<string, number> | undefined;

/** UDP service names from /etc/services (as getaddrinfo resolves them for wg); empty if unreadable. */
function udpServices(): Map<string, number> {
  if (services) return services;
  services = new Map();
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    return services;
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/udp$/.exec(words[1] ?? '');
    if (!m) continue;
    for (const name of [words[0]!, ...words.slice(2)]) if (!services.has(name)) services.set(name, Number(m[1]));
  }
  return services;
}

function portOf(s: string, text: string, o: EndpointOptions): number | string {
  let port: number;
  if (/^[0-9]+$/.test(text)) {
    port = Number(text);
    if (port > 65535) return `"${s}" has port ${text}, outside 0..65535`;
  } else if (o.numeric) {
    return `"${s}" has port "${text}", which is not a number (UAPI endpoints are numeric)`;
  } else {
    const known = udpServices().get(text);
    if (known === undefined) return `"${s}" has port "${text}", which is neither a number nor a UDP service name in /etc/services`;
    port = known;
  }
  if (port === 0 && !o.listen) return `"${s}" has port 0, which cannot be sent to (use the peer's real port, 1..65535)`;
  return port;
}

function hostKind(s: string, host: string, bracketed: boolean, o: EndpointOptions): EndpointHostKind | string {
  const pct = host.indexOf('%');
  if (pct >= 0) {
    const addr = host.slice(0, pct);
    const scope = host.slice(pct + 1);
    if (parseIPv6(addr) === null) return `"${s}": a %scope is only allowed after an IPv6 address, and "${addr}" is not one`;
    if (!SCOPE.test(scope)) return `"${s}" has an invalid IPv6 scope "${scope}" (an interface name or number, like %eth0)`;
    if (!bracketed) return `"${s}": an IPv6 address with a port must be in brackets, like [${host}]:PORT`;
    return 'v6';
  }
  if (parseIPv6(host) !== null) {
    if (!bracketed) return `"${s}": an IPv6 address with a port must be in brackets, like [${host}]:PORT`;
    return 'v6';
  }
  if (parseIPv4(host) !== null) return 'v4';
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) {
    return `"${s}" has "${host}", which is not an IPv4 address in dotted-quad form (four numbers 0..255, no leading zeros)`;
  }
  if (o.numeric) return `"${s}" has host "${host}", which is not an IP address (UAPI endpoints are numeric)`;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length > 253) return `"${s}" has a host name longer than 253 characters`;
  const bad = name.split('.').find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return bad === ''
      ? `"${s}" has host "${host}" with an empty label (two dots in a row, or a leading dot)`
      : `"${s}" has host "${host}", which is neither an IP address nor a DNS name (label "${bad}": letters, digits, '-' and '_', at most 63, not starting or ending with '-')`;
  }
  return 'name';
}

/**
 * Parses `host:port`, `[host]:port` (IPv6, optionally `%scope`; brackets around IPv4 or a name
 * are allowed as by wg and Go) and, with `listen`, `:port`. Returns the host without brackets
 * and the numeric port, or a sentence naming the value and the rule it breaks.
 * Source: wireguard-tools src/config.c parse_endpoint (wg set … endpoint), Go net.SplitHostPort.
 */
export function parseEndpoint(s: string, o: EndpointOptions = {}): EndpointResult {
  const fail = (problem: string): EndpointResult => ({ ok: false, problem });
  if (s === '') return fail('is empty (write host:port)');
  const ws = /\s/.exec(s);
  if (ws) return fail(`"${s}" contains whitespace at position ${ws.index + 1}`);
  let host: string;
  let portText: string;
  let bracketed = false;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return fail(`"${s}" has '[' without a matching ']'`);
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return fail(`"${s}" has no port (write [address]:port, like [${host}]:51820)`);
    if (!rest.startsWith(':')) return fail(`"${s}" has "${rest}" after ']'; expected :port`);
    portText = rest.slice(1);
    if (host === '') return fail(`"${s}" has nothing between the brackets`);
    bracketed = true;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return fail(`"${s}" has no port (write host:port, like ${s}:51820)`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    const pct = s.indexOf('%');
    if (parseIPv6(s) !== null || (pct >= 0 && parseIPv6(s.slice(0, pct)) !== null && SCOPE.test(s.slice(pct + 1)))) {
      // `2001:db8::1:3000` is itself an address, so a port there cannot be told apart from the
      // last group: say both readings.
      const tail = /^(.*[^:]):([0-9]{1,5})$/.exec(s);
      const alt = tail && parseIPv6(tail[1]!) !== null ? `, or [${tail[1]}]:${tail[2]} if ${tail[2]} is the port` : '';
      return fail(`"${s}" reads as an IPv6 address without a port: an IPv6 address with a port must be in brackets (write [${s}]:PORT${alt})`);
    }
    if (host.includes(']')) return fail(`"${s}" has ']' without a matching '['`);
  }
  if (portText === '') return fail(`"${s}" has an empty port after ':'`);
  const port = portOf(s, portText, o);
  if (typeof port === 'string') return fail(port);
  if (host === '') {
    if (!o.listen || bracketed) return fail(`"${s}" has no host before the port`);
    return { ok: true, value: { host: '', port, kind: 'any' } };
  }
  const kind = hostKind(s, host, bracketed, o);
  if (kind !== 'v4' && kind !== 'v6' && kind !== 'name' && kind !== 'any') return fail(kind);
  return { ok: true, value: { host, port, kind } };
}

/** Why `s` is not an endpoint (see parseEndpoint), or null. */
export function endpointProblem(s: string, o: EndpointOptions = {}): string | null {
  const r = parseEndpoint(s, o);
  return r.ok ? null : r.problem;
}

/** The canonical text of a parsed endpoint: IPv6 in brackets, the port as a number. */
export function formatParsedEndpoint(e: ParsedEndpoint): string {
  return e.kind === 'v6' ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
