// Edge rules that JSON Schema cannot express: formats with specific messages, and relations
// between keys.
import { AddrError, ipv4ForNode, ipv6ForNode, ipv6LLForNode, macForNode } from '../addr.js';
import { publicKeyOf } from '../keys.js';
import type { Segment } from '../problems.js';
import type { EdgeConfig } from '../schema/edge.js';
import { Ctx, checkEndpoint, checkListenIPs, checkUnique } from './ctx.js';
import { nextHopTableRule } from './nexthop.js';

const SOCK_TYPES = new Set(['udpsock', 'tcpsock', 'unixsock', 'unixgramsock', 'unixpacketsock']);
const IP_SOCK_TYPES = new Set(['udpsock', 'tcpsock']);

function addrRule(ctx: Ctx, segs: Segment[], f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof AddrError) ctx.add(segs, e.message);
    else throw e;
  }
}

function checkInterface(ctx: Ctx, c: EdgeConfig): void {
  const I = ['Interface'];
  if (!ctx.ok(I)) return;
  const i = c.Interface;
  const it = i.IType;
  if (ctx.ok([...I, 'IType'])) {
    if (it === 'vpp') ctx.add([...I, 'IType'], 'IType vpp is not supported yet');
    if (it === 'tap' && ctx.ok([...I, 'Name'])) {
      const len = Buffer.byteLength(i.Name);
      if (len === 0) ctx.add([...I, 'Name'], 'must name the TAP device for IType tap');
      else if (len >= 16) ctx.add([...I, 'Name'], `"${i.Name}" is ${len} bytes; Linux interface names must be shorter than 16 bytes`);
      else if (/[\s/:]/.test(i.Name)) ctx.add([...I, 'Name'], `"${i.Name}" contains a space, '/' or ':', which Linux interface names cannot`);
    }
    if (it !== 'stdio' && ctx.ok([...I, 'L2HeaderMode']) && i.L2HeaderMode !== 'nochg' && i.L2HeaderMode !== '') {
      ctx.add([...I, 'L2HeaderMode'], `${i.L2HeaderMode} only applies to IType stdio (IType is ${it}); remove it or use nochg`);
    }
    if (SOCK_TYPES.has(it) && ctx.ok([...I, 'RecvAddr'], [...I, 'SendAddr'])) {
      if (i.RecvAddr === '' && i.SendAddr === '') {
        ctx.add([...I, 'RecvAddr'], `IType ${it} needs RecvAddr (to listen) or SendAddr (to connect), or both`);
      } else if (IP_SOCK_TYPES.has(it)) {
        checkEndpoint(ctx, [...I, 'RecvAddr'], i.RecvAddr, { emptyHost: true });
        checkEndpoint(ctx, [...I, 'SendAddr'], i.SendAddr);
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
  for (const [k, f] of cidrs) {
    const v = i[k];
    if (ctx.ok([...I, k]) && typeof v === 'string' && v !== '') addrRule(ctx, [...I, k], () => f(v, id));
  }
}

function checkDynamic(ctx: Ctx, c: EdgeConfig): void {
  const D = ['DynamicRoute'];
  if (!ctx.ok(D)) return;
  const S = [...D, 'SuperNode'];
  const P = [...D, 'P2P'];
  const s = c.DynamicRoute.SuperNode;
  const superOn = ctx.ok([...S, 'UseSuperNode']) && s.UseSuperNode;
  const p2pOn = ctx.ok([...P, 'UseP2P']) && c.DynamicRoute.P2P.UseP2P;
  if (superOn && p2pOn) {
    ctx.add([...P, 'UseP2P'], 'UseSuperNode and UseP2P cannot both be true; pick super mode or P2P mode');
  }
  if (ctx.ok(S)) {
    ctx.key([...S, 'PubKeyV4'], s.PubKeyV4, true);
    ctx.key([...S, 'PubKeyV6'], s.PubKeyV6, true);
    ctx.key([...S, 'PSKey'], s.PSKey, true);
    const v4ep = checkEndpoint(ctx, [...S, 'EndpointV4'], s.EndpointV4);
    const v6ep = checkEndpoint(ctx, [...S, 'EndpointV6'], s.EndpointV6);
    if (v4ep === 'v6') ctx.add([...S, 'EndpointV4'], `"${s.EndpointV4}" is an IPv6 address; put it in EndpointV6`);
    if (v6ep === 'v4') ctx.add([...S, 'EndpointV6'], `"${s.EndpointV6}" is an IPv4 address; put it in EndpointV4`);
    if (ctx.ok([...S, 'AdditionalLocalIP'])) {
      s.AdditionalLocalIP.forEach((a, n) => { if (a === '') ctx.add([...S, 'AdditionalLocalIP', n], 'must not be empty'); else checkEndpoint(ctx, [...S, 'AdditionalLocalIP', n], a); });
    }
    if (superOn) {
      const af = ctx.ok(['DisabledAf', 'IPv4'], ['DisabledAf', 'IPv6']) ? c.DisabledAf : { IPv4: false, IPv6: false };
      // A key without its endpoint (or the reverse) is a half-configured session: refuse it
      // rather than silently using only the other family.
      const fams = [
        { fam: 'V4', key: s.PubKeyV4, ep: s.EndpointV4, off: af.IPv4 },
        { fam: 'V6', key: s.PubKeyV6, ep: s.EndpointV6, off: af.IPv6 },
      ].filter((f) => ctx.ok([...S, `PubKey${f.fam}`], [...S, `Endpoint${f.fam}`]));
      for (const f of fams) {
        if (f.key !== '' && f.ep === '') ctx.add([...S, `Endpoint${f.fam}`], `is required because PubKey${f.fam} is set`);
        if (f.ep !== '' && f.key === '') ctx.add([...S, `PubKey${f.fam}`], `is required because Endpoint${f.fam} is set`);
      }
      const complete = fams.filter((f) => f.key !== '' && f.ep !== '');
      if (fams.length === 2 && fams.every((f) => f.key === '' && f.ep === '')) {
        ctx.add([...S, 'PubKeyV4'], 'super mode needs the supernode PubKeyV4 + EndpointV4, or PubKeyV6 + EndpointV6, or both');
      } else if (complete.length > 0 && complete.every((f) => f.off)) {
        ctx.add(['DisabledAf'], `disables IPv${complete.map((f) => f.fam.slice(1)).join(' and IPv')}, the only supernode address family configured`);
      }
      if (ctx.ok([...S, 'EndpointEdgeAPIUrl'])) {
        const why = urlProblem(s.EndpointEdgeAPIUrl);
        if (why !== null) ctx.add([...S, 'EndpointEdgeAPIUrl'], why);
      }
    } else if (ctx.ok([...S, 'EndpointEdgeAPIUrl']) && s.EndpointEdgeAPIUrl !== '') {
      const why = urlProblem(s.EndpointEdgeAPIUrl);
      if (why !== null) ctx.add([...S, 'EndpointEdgeAPIUrl'], why);
    }
  }
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
    ctx.key(at('PSKey'), p.PSKey, true);
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
  checkInterface(ctx, c);
  const ownPub = ctx.key(['PrivKey'], c.PrivKey, false) ? safePub(c.PrivKey) : undefined;
  checkListenIPs(ctx, c.DisabledAf);
  checkDynamic(ctx, c);
  ctx.nodeTableKeys(['NextHopTable'], c.NextHopTable, false);
  nextHopTableRule(ctx, c);
  checkPeers(ctx, c, ownPub);
}
