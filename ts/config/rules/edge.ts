// Edge rules that JSON Schema cannot express: formats with specific messages, and relations
// between keys.
import { AddrError, ipv4ForNode, ipv6ForNode, ipv6LLForNode, macForNode } from '../addr.js';
import { publicKeyOf } from '../keys.js';
import type { Segment } from '../problems.js';
import type { EdgeConfig } from '../schema/edge.js';
import { Ctx, checkEndpoint, checkListenIPs, checkUnique } from './ctx.js';
import { envValueProblem, ifNameProblem, uapiNameProblem, uapiNameWarning, unixPathProblem } from '../names.js';
import { nextHopTableRule } from './nexthop.js';

const SOCK_TYPES = new Set(['udpsock', 'tcpsock', 'unixsock', 'unixgramsock', 'unixpacketsock']);
const IP_SOCK_TYPES = new Set(['udpsock', 'tcpsock']);
/** Linux's largest TAP MTU: the tun driver's max_mtu is 65535 (IP_MAX_MTU) minus ETH_HLEN (14). */
const TAP_MAX_MTU = 65521;

function addrRule(ctx: Ctx, segs: Segment[], f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof AddrError) ctx.add(segs, e.message);
    else throw e;
  }
}

/** Largest vpp MTU: a frame (MTU + 14 Ethernet + 4 VLAN tag) must fit a batch record's u16 length. */
const VPP_MAX_MTU = 65535 - 18;

/**
 * IType vpp names the memif socket `$VPP_MEMIF_SOCKET_DIR/<Name>.sock` and is sent to the server
 * in CONNECT (32 bytes with the NUL): one path component, 1 to 31 bytes, as upstream's < 16-byte
 * rule for tap/vpp names is relaxed only as far as the protocol allows. An empty name loads (upstream
 * ran with it: socket `<dir>/.sock`) with a warning from checkVpp.
 */
export function vppNameProblem(name: string): string | null {
  if (Buffer.byteLength(name) > 31) return `is ${Buffer.byteLength(name)} bytes; a memif interface name has at most 31`;
  if (name.includes('/') || name.includes('\0') || name === '.' || name === '..') return 'must be one file name (no "/", NUL, "." or ".."): it names the socket file';
  return null;
}

function checkVpp(ctx: Ctx, c: EdgeConfig): void {
  const I = ['Interface'];
  const i = c.Interface;
  if (ctx.ok([...I, 'MTU']) && i.MTU > VPP_MAX_MTU) {
    ctx.add([...I, 'MTU'], `is ${i.MTU}, above ${VPP_MAX_MTU} (a frame, MTU + 14 Ethernet + 4 VLAN tag bytes, must fit 65535)`);
  }
  if (ctx.ok([...I, 'Name']) && i.Name === '') {
    ctx.warn([...I, 'Name'], 'is empty: the memif socket is then $VPP_MEMIF_SOCKET_DIR/.sock; name the interface');
  }
  const rs = i.VPPRingSize;
  if (typeof rs === 'number' && ctx.ok([...I, 'VPPRingSize']) && (rs & (rs - 1)) !== 0) {
    ctx.add([...I, 'VPPRingSize'], `is ${rs}; memif rings have a power-of-two number of slots (e.g. 1024, upstream's)`);
  }
}

function checkInterface(ctx: Ctx, c: EdgeConfig): void {
  const I = ['Interface'];
  if (!ctx.ok(I)) return;
  const i = c.Interface;
  const it = i.IType;
  if (ctx.ok([...I, 'IType'])) {
    if (ctx.ok([...I, 'Name'])) {
      // tap: the kernel interface name (also EG_INTERFACE_NAME for PostScript); other types only
      // pass it to PostScript.
      const why =
        it === 'tap'
          ? i.Name === '' ? 'must name the TAP device for IType tap' : ifNameProblem(i.Name)
          : it === 'vpp'
            ? vppNameProblem(i.Name)
            : envValueProblem(i.Name);
      if (why !== null) ctx.add([...I, 'Name'], why);
    }
    if (it === 'tap' && ctx.ok([...I, 'MTU']) && i.MTU > TAP_MAX_MTU) {
      // Caught here rather than as "SIOCSIFMTU: Invalid argument" when the device is configured.
      ctx.add([...I, 'MTU'], `is ${i.MTU}, above ${TAP_MAX_MTU}, the largest MTU Linux gives a TAP device (65535 minus the 14-byte Ethernet header)`);
    }
    if (it === 'vpp') checkVpp(ctx, c);
    if (it !== 'stdio' && ctx.ok([...I, 'L2HeaderMode']) && i.L2HeaderMode !== 'nochg' && i.L2HeaderMode !== '') {
      // Upstream reads L2HeaderMode only for stdio.
      ctx.warn([...I, 'L2HeaderMode'], `${i.L2HeaderMode} only applies to IType stdio (IType is ${it}), so it is ignored`);
    }
    if (SOCK_TYPES.has(it) && ctx.ok([...I, 'RecvAddr'], [...I, 'SendAddr'])) {
      if (i.RecvAddr === '' && i.SendAddr === '') {
        ctx.add([...I, 'RecvAddr'], `IType ${it} needs RecvAddr (to listen) or SendAddr (to connect), or both`);
      } else if (IP_SOCK_TYPES.has(it)) {
        checkEndpoint(ctx, [...I, 'RecvAddr'], i.RecvAddr, { listen: true });
        checkEndpoint(ctx, [...I, 'SendAddr'], i.SendAddr);
      } else {
        for (const k of ['RecvAddr', 'SendAddr'] as const) {
          const why = i[k] === '' ? null : unixPathProblem(i[k]);
          if (why !== null) ctx.add([...I, k], why);
        }
      }
    }
  }
  if (!ctx.ok(['NodeID'])) return;
  const id = c.NodeID;
  if (ctx.ok([...I, 'MacAddrPrefix'])) addrRule(ctx, [...I, 'MacAddrPrefix'], () => macForNode(i.MacAddrPrefix, id));
  const cidrs: [keyof typeof i & string, (s: string, n: number) => unknown][] = [
    ['IPv4CIDR', ipv4ForNode],
    ['IPv6CIDR', ipv6ForNode],
    ['IPv6LLPrefix', ipv6LLForNode],
  ];
  // Only a TAP device gets these addresses (upstream ignores them for every other IType).
  const addrs = () => {
    for (const [k, f] of cidrs) {
      const v = i[k];
      if (ctx.ok([...I, k]) && typeof v === 'string' && v !== '') addrRule(ctx, [...I, k], () => f(v, id));
    }
  };
  if (it === 'tap') addrs();
  else ctx.unused(`only IType tap assigns addresses, IType is ${it}`, addrs);
}

/** NodeName names the UAPI socket `<EG_UAPI_DIR>/<NodeName>.sock` and is PostScript's EG_NODE_NAME. */
export function checkNodeName(ctx: Ctx, segs: Segment[], name: string): void {
  if (!ctx.ok(segs)) return;
  const bytes = Buffer.byteLength(name);
  // Upstream counts bytes (Go len) where the schema counts characters.
  const why = uapiNameProblem(name) ?? (bytes > 32 ? `"${name}" is ${bytes} bytes; at most 32 (upstream refuses longer names)` : null);
  if (why !== null) ctx.add(segs, why);
  else {
    const w = uapiNameWarning(name);
    if (w !== null) ctx.warn(segs, w);
  }
}

// The supernode section, rule by rule against etherguard-go's main_edge.go (docs/config.md,
// "Supernode sessions"): upstream makes the IPv4 session when EndpointV4 is set and IPv4 is
// enabled (same for IPv6) and then needs PubKeyVx and PSKey; it reads nothing of SuperNode
// unless UseSuperNode is true. Values it never reads only warn here.
function checkSuperNode(ctx: Ctx, c: EdgeConfig, superOn: boolean): void {
  const S = ['DynamicRoute', 'SuperNode'];
  const s = c.DynamicRoute.SuperNode;
  const af = ctx.ok(['DisabledAf', 'IPv4'], ['DisabledAf', 'IPv6']) ? c.DisabledAf : { IPv4: false, IPv6: false };
  const fams = [
    { fam: 'V4', n: 4, key: s.PubKeyV4, ep: s.EndpointV4, off: af.IPv4 },
    { fam: 'V6', n: 6, key: s.PubKeyV6, ep: s.EndpointV6, off: af.IPv6 },
  ].filter((f) => ctx.ok([...S, `PubKey${f.fam}`], [...S, `Endpoint${f.fam}`]));
  const used = new Set<string>();
  for (const f of fams) {
    const K = [...S, `PubKey${f.fam}`];
    const E = [...S, `Endpoint${f.fam}`];
    const check = () => {
      const kind = checkEndpoint(ctx, E, f.ep);
      if (kind === 'v6' && f.n === 4) ctx.add(E, `"${f.ep}" is an IPv6 address; put it in EndpointV6`);
      if (kind === 'v4' && f.n === 6) ctx.add(E, `"${f.ep}" is an IPv4 address; put it in EndpointV4`);
      if (f.key === '') {
        if (f.ep !== '') ctx.add(K, `is required because Endpoint${f.fam} is set`);
      } else {
        ctx.key(K, f.key, true);
      }
    };
    if (!superOn) ctx.unused('UseSuperNode is false', check);
    else if (f.off) ctx.unused(`DisabledAf.IPv${f.n} is true`, check);
    else if (f.ep === '') {
      // What upstream's generator writes for a supernode without IPv6: no session is made.
      if (f.key !== '') ctx.warn(K, `is set but Endpoint${f.fam} is empty, so no IPv${f.n} supernode session is made and the key is not used`);
      ctx.unused(`Endpoint${f.fam} is empty`, check);
    } else {
      check();
      used.add(f.fam);
    }
  }
  const rest = () => {
    ctx.key([...S, 'PSKey'], s.PSKey, true);
    if (ctx.ok([...S, 'AdditionalLocalIP'])) {
      s.AdditionalLocalIP.forEach((a, n) => {
        if (a === '') ctx.add([...S, 'AdditionalLocalIP', n], 'must not be empty');
        else checkEndpoint(ctx, [...S, 'AdditionalLocalIP', n], a);
      });
    }
    if (ctx.ok([...S, 'EndpointEdgeAPIUrl']) && (superOn || s.EndpointEdgeAPIUrl !== '')) {
      const why = urlProblem(s.EndpointEdgeAPIUrl);
      if (why !== null) ctx.add([...S, 'EndpointEdgeAPIUrl'], why);
    }
    if (ctx.ok([...S, 'ExtraSuperNodes'])) checkExtraSupers(ctx, [...S, 'ExtraSuperNodes'], s.ExtraSuperNodes, af);
  };
  if (!superOn) {
    ctx.unused('UseSuperNode is false', rest);
    return;
  }
  rest();
  if (fams.length === 2 && used.size === 0) {
    const complete = fams.filter((f) => f.key !== '' && f.ep !== '');
    if (complete.length > 0) {
      ctx.add(['DisabledAf'], `disables IPv${complete.map((f) => f.n).join(' and IPv')}, the only supernode address family configured`);
    } else {
      ctx.add([...S, 'EndpointV4'], 'super mode needs a supernode session: EndpointV4 + PubKeyV4, or EndpointV6 + PubKeyV6, in an enabled address family');
    }
  }
}

/**
 * Our key ExtraSuperNodes: each entry is a supernode like the main one, so each needs a usable
 * session (an endpoint and its key in an enabled family) and an http(s) edge API URL.
 */
function checkExtraSupers(ctx: Ctx, X: Segment[], list: EdgeConfig['DynamicRoute']['SuperNode']['ExtraSuperNodes'], af: { IPv4: boolean; IPv6: boolean }): void {
  list.forEach((x, i) => {
    // An entry ajv refused (null, a scalar, a list) has already been reported; reading its fields
    // would throw (a null entry did: found by bench/fuzz-ts.ts).
    if (!ctx.ok([...X, i])) return;
    let sessions = 0;
    for (const f of [{ fam: 'V4', n: 4, key: x.PubKeyV4, ep: x.EndpointV4, off: af.IPv4 }, { fam: 'V6', n: 6, key: x.PubKeyV6, ep: x.EndpointV6, off: af.IPv6 }]) {
      const E = [...X, i, `Endpoint${f.fam}`];
      const K = [...X, i, `PubKey${f.fam}`];
      if (f.ep === '' && f.key === '') continue;
      const kind = checkEndpoint(ctx, E, f.ep);
      if (kind === 'v6' && f.n === 4) ctx.add(E, `"${f.ep}" is an IPv6 address; put it in EndpointV6`);
      if (kind === 'v4' && f.n === 6) ctx.add(E, `"${f.ep}" is an IPv4 address; put it in EndpointV4`);
      if (f.key === '') ctx.add(K, `is required because Endpoint${f.fam} is set`);
      else ctx.key(K, f.key, true);
      if (f.ep !== '' && f.key !== '' && !f.off) sessions++;
    }
    if (sessions === 0) ctx.add([...X, i], 'needs a supernode session: EndpointV4 + PubKeyV4, or EndpointV6 + PubKeyV6, in an enabled address family');
    const why = urlProblem(x.EndpointEdgeAPIUrl);
    if (why !== null) ctx.add([...X, i, 'EndpointEdgeAPIUrl'], why);
  });
}

function checkDynamic(ctx: Ctx, c: EdgeConfig): void {
  const D = ['DynamicRoute'];
  if (!ctx.ok(D)) return;
  const S = [...D, 'SuperNode'];
  const P = [...D, 'P2P'];
  const superOn = ctx.ok([...S, 'UseSuperNode']) && c.DynamicRoute.SuperNode.UseSuperNode;
  const p2pOn = ctx.ok([...P, 'UseP2P']) && c.DynamicRoute.P2P.UseP2P;
  if (superOn && p2pOn) {
    ctx.add([...P, 'UseP2P'], 'UseSuperNode and UseP2P cannot both be true; pick super mode or P2P mode');
  }
  if (ctx.ok(S)) checkSuperNode(ctx, c, superOn);
  const G = [...P, 'GraphRecalculateSetting', 'ManualLatency'];
  if (ctx.ok(G)) ctx.nodeTableKeys(G, c.DynamicRoute.P2P.GraphRecalculateSetting.ManualLatency, true);
}

export function urlProblem(u: string): string | null {
  if (u === '') return 'is required in super mode (the supernode edge API base URL, like http://203.0.113.1:3000/eg_api)';
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return `"${u}" is not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${u}" must be an http:// or https:// URL`;
  if (url.search !== '' || url.hash !== '') return `"${u}" must not have a query or fragment (paths are appended to it)`;
  return null;
}

function checkPeers(ctx: Ctx, c: EdgeConfig, ownPub: string | undefined): void {
  if (!ctx.ok(['Peers'])) return;
  c.Peers.forEach((p, n) => {
    if (!ctx.ok(['Peers', n])) return;
    const at = (k: string): Segment[] => ['Peers', n, k];
    if (ctx.ok(at('NodeID'), ['NodeID']) && p.NodeID === c.NodeID) ctx.add(at('NodeID'), `is this node's own NodeID ${c.NodeID}`);
    if (ctx.key(at('PubKey'), p.PubKey, false) && p.PubKey === ownPub) ctx.add(at('PubKey'), "is this node's own public key (derived from PrivKey)");
    // etherguard-go never reads Peers[].PSKey (main_edge.go sets no pair PSK), so a broken one
    // must not stop the load; we use a valid one, and run without one otherwise.
    if (ctx.ok(at('PSKey')) && p.PSKey !== '') {
      let valid = true;
      ctx.unused('upstream never reads Peers[].PSKey; this peer runs without a pre-shared key', () => { valid = ctx.key(at('PSKey'), p.PSKey, true); });
      if (!valid) p.PSKey = '';
    }
    checkEndpoint(ctx, at('EndPoint'), p.EndPoint);
  });
  checkUnique(ctx, c.Peers, 'NodeID', ['Peers'], 'NodeID');
  checkUnique(ctx, c.Peers, 'PubKey', ['Peers'], 'PubKey');
}

function safePub(priv: string): string | undefined {
  try {
    return publicKeyOf(priv);
  } catch {
    return undefined;
  }
}

export function edgeRules(ctx: Ctx, c: EdgeConfig): void {
  checkNodeName(ctx, ['NodeName'], c.NodeName);
  if (ctx.ok(['PostScript'])) {
    const why = envValueProblem(c.PostScript);
    if (why !== null) ctx.add(['PostScript'], why.replace(' in its environment', ' as a command'));
  }
  checkInterface(ctx, c);
  const ownPub = ctx.key(['PrivKey'], c.PrivKey, false) ? safePub(c.PrivKey) : undefined;
  checkListenIPs(ctx, c.DisabledAf);
  checkDynamic(ctx, c);
  ctx.nodeTableKeys(['NextHopTable'], c.NextHopTable, false);
  nextHopTableRule(ctx, c);
  checkPeers(ctx, c, ownPub);
}
