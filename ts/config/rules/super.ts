// Supernode rules that JSON Schema cannot express.
import { publicKeyOf } from '../keys.js';
import { parseIPv4, parseIPv6 } from '../ip.js';
import type { Segment } from '../problems.js';
import type { SuperConfig } from '../schema/super.js';
import { Ctx, checkEndpoint, checkListenIPs, checkUnique } from './ctx.js';
import { endpointProblem } from '../endpoint.js';
import { envValueProblem, uapiNameProblem } from '../names.js';
import { checkNodeName } from './edge.js';
import { nextHopTableRule } from './nexthop.js';

/** `3000`, `:3000` (upstream's forms) or, our extension, `host:3000` to bind one address. */
function listenProblem(v: string): string | null {
  if (/^[0-9]{1,5}$/.test(v)) return Number(v) >= 1 && Number(v) <= 65535 ? null : `port ${v} is outside 1..65535`;
  const why = endpointProblem(v, { listen: true });
  if (why === null && /:0+$/.test(v)) return `"${v}" has port 0; the edges need a fixed port for this API`;
  return why;
}

function checkKeys(ctx: Ctx, c: SuperConfig): Set<string> {
  const own = new Set<string>();
  const D = 'DisabledAf';
  const fams = (['4', '6'] as const).map((fam) => ({ fam, k: `PrivKeyV${fam}` as const, off: ctx.ok([D, `IPv${fam}`]) && c.DisabledAf[`IPv${fam}`] }));
  const present = fams.filter((f) => ctx.ok([f.k]) && c[f.k] !== '' && !f.off);
  for (const { fam, k, off } of fams) {
    if (!ctx.ok([k])) continue;
    if (c[k] === '') {
      // Upstream makes no session for a family without a key (main_super.go), so one family is
      // enough; with none the supernode could talk to no edge.
      if (!off && present.length > 0) ctx.warn([k], `is empty, so the supernode has no IPv${fam} session (set DisabledAf.IPv${fam}: true to say so)`);
      else if (!off) ctx.add([k], `is required while IPv${fam} is enabled and no other address family has a key (set DisabledAf.IPv${fam}: true to run without IPv${fam})`);
    } else if (off) {
      // A disabled family's key is blanked by upstream, so a broken one only warns.
      ctx.unused(`DisabledAf.IPv${fam} is true`, () => ctx.key([k], c[k], false));
    } else if (ctx.key([k], c[k], false)) {
      own.add(publicKeyOf(c[k]));
    }
  }
  return own;
}

function checkPeers(ctx: Ctx, c: SuperConfig, ownPubs: Set<string>): void {
  if (!ctx.ok(['Peers'])) return;
  c.Peers.forEach((p, n) => {
    if (!ctx.ok(['Peers', n])) return;
    const at = (k: string): Segment[] => ['Peers', n, k];
    if (ctx.key(at('PubKey'), p.PubKey, false) && ownPubs.has(p.PubKey)) ctx.add(at('PubKey'), "is the supernode's own public key");
    ctx.key(at('PSKey'), p.PSKey, true);
    // Upstream only logs an EndPoint it cannot use and waits for the edge to connect; so do we.
    ctx.unused('the supernode waits for this edge to connect instead', () => checkEndpoint(ctx, at('EndPoint'), p.EndPoint));
    if (ctx.ok(at('ExternalIP')) && p.ExternalIP !== '' && parseIPv4(p.ExternalIP) === null && parseIPv6(p.ExternalIP) === null) {
      ctx.warn(at('ExternalIP'), `"${p.ExternalIP}" is not an IP address, so it is ignored and the observed address is published`);
    }
    if (ctx.ok(at('Name'))) {
      const why = uapiNameProblem(p.Name);
      if (why !== null) ctx.warn(at('Name'), `${why} (the edge config peer/add returns uses Name as its NodeName, which would be refused)`);
    }
    if (ctx.ok(at('AdditionalCost')) && p.AdditionalCost < 0 && p.AdditionalCost !== -1) {
      ctx.add(at('AdditionalCost'), `must be -1 (use the edge's own value) or at least 0, got ${p.AdditionalCost}`);
    }
  });
  checkUnique(ctx, c.Peers, 'NodeID', ['Peers'], 'NodeID');
  checkUnique(ctx, c.Peers, 'Name', ['Peers'], 'Name');
  checkUnique(ctx, c.Peers, 'PubKey', ['Peers'], 'PubKey');
}

/** The supernode keys the liveness rules below relate (all seconds). */
export type LivenessKey = 'SendPingInterval' | 'PeerAliveTimeout' | 'HttpPostInterval';

/**
 * A combination of supernode timers that breaks liveness: `keys` are the keys the rule relates
 * (the first is the one the message is about), `message` states the rule and the value given,
 * `loads` says whether a config file with it still loads (with a warning) because etherguard-go
 * loads and runs it. super/update refuses every one of them (docs/supernode.md, "Manage API").
 */
export interface LivenessProblem {
  readonly keys: readonly LivenessKey[];
  readonly message: string;
  readonly loads: boolean;
}

/**
 * Every liveness rule of the supernode timers, for values already known to be finite and in
 * range (the schema's job). An edge is alive while a packet from it arrived within
 * PeerAliveTimeout; it sends its Register, pings and link report every SendPingInterval, and
 * its HTTP report every HttpPostInterval (upstream mtypes/config.go, main_super.go; here
 * ts/edge/superclient.ts).
 */
export function livenessProblems(t: Readonly<Record<LivenessKey, number>>): LivenessProblem[] {
  const out: LivenessProblem[] = [];
  if (t.HttpPostInterval > t.PeerAliveTimeout) {
    // Upstream refuses this at load (0 <= HttpPostInterval <= PeerAliveTimeout), so do we.
    out.push({ keys: ['HttpPostInterval', 'PeerAliveTimeout'], loads: false, message: `must be at most PeerAliveTimeout (${t.PeerAliveTimeout}), got ${t.HttpPostInterval}` });
  }
  if (t.SendPingInterval >= t.PeerAliveTimeout) {
    // Upstream's loader only requires > 0 and runs such a config, so a file with it loads with
    // a warning; upstream's super/update refuses it, and so does ours.
    out.push({
      keys: ['SendPingInterval', 'PeerAliveTimeout'],
      loads: true,
      message: `is not less than PeerAliveTimeout (${t.PeerAliveTimeout}), got ${t.SendPingInterval}: it must be less, or healthy edges are seen as dead between pings and their routes drop out`,
    });
  }
  return out;
}

function checkTimers(ctx: Ctx, c: SuperConfig): void {
  for (const p of livenessProblems(c)) {
    if (!ctx.ok(...p.keys.map((k) => [k]))) continue;
    if (p.loads) ctx.warn([p.keys[0]], p.message);
    else ctx.add([p.keys[0]], p.message);
  }
}

// In static mode the supernode hands out this table instead of computing one, so a missing pair
// would leave two edges without a route to each other.
function checkStaticTable(ctx: Ctx, c: SuperConfig): void {
  const G = ['GraphRecalculateSetting', 'StaticMode'];
  if (!ctx.ok(G, ['NextHopTable'], ['Peers']) || !c.GraphRecalculateSetting.StaticMode) return;
  const ids = c.Peers.map((p, n) => (ctx.ok(['Peers', n, 'NodeID']) ? p.NodeID : undefined)).filter((x): x is number => x !== undefined);
  const known = new Set(ids);
  const missing: string[] = [];
  for (const a of ids) {
    for (const b of ids) {
      if (a === b) continue;
      const hop = c.NextHopTable[String(a)]?.[String(b)];
      if (hop === undefined) missing.push(`${a}->${b}`);
      else if (!known.has(hop)) ctx.add(['NextHopTable', String(a), String(b)], `next hop ${hop} is not a configured peer`);
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, and ${missing.length - 10} more` : '');
    ctx.add(['NextHopTable'], `GraphRecalculateSetting.StaticMode needs a next hop for every ordered pair of peers; missing ${shown}`);
  }
}

export function superRules(ctx: Ctx, c: SuperConfig): void {
  // The UAPI sockets are <NodeName>_v4.sock and <NodeName>_v6.sock.
  checkNodeName(ctx, ['NodeName'], c.NodeName);
  if (ctx.ok(['PostScript'])) {
    const why = envValueProblem(c.PostScript);
    if (why !== null) ctx.add(['PostScript'], why.replace(' in its environment', ' as a command'));
  }
  checkListenIPs(ctx, c.DisabledAf);
  const ownPubs = checkKeys(ctx, c);
  if (ctx.ok(['ListenPort_EdgeAPI'])) {
    const why = c.ListenPort_EdgeAPI === '' ? 'must not be empty (the edges need the edge API)' : listenProblem(c.ListenPort_EdgeAPI);
    if (why !== null) ctx.add(['ListenPort_EdgeAPI'], why);
  }
  if (ctx.ok(['ListenPort_ManageAPI']) && c.ListenPort_ManageAPI !== '') {
    const why = listenProblem(c.ListenPort_ManageAPI);
    if (why !== null) ctx.add(['ListenPort_ManageAPI'], why);
  }
  if (ctx.ok(['API_Prefix']) && !/^\/?[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(c.API_Prefix)) {
    ctx.add(['API_Prefix'], `"${c.API_Prefix}" is not a URL path (like /eg_api)`);
  }
  checkTimers(ctx, c);
  ctx.nodeTableKeys(['NextHopTable'], c.NextHopTable, false);
  ctx.nodeTableKeys(['GraphRecalculateSetting', 'ManualLatency'], c.GraphRecalculateSetting.ManualLatency, true);
  checkPeers(ctx, c, ownPubs);
  checkStaticTable(ctx, c);
  nextHopTableRule(ctx, c);
}
