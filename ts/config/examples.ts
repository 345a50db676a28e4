// `-example` output: complete, commented configs that pass our own validation. Keys are generated
// at call time so a copied example never shares keys with anyone else's.
import { randomInt } from 'node:crypto';
import { Document, isMap, isPair, isScalar } from 'yaml';
import { generateKeyPair, generatePSK } from './keys.js';

// The 6-node reference topology (links 1-2, 2-3, 2-4, 3-4, 3-5, 4-6): NEXT_HOP[src][dst].
const NEXT_HOP: Record<number, Record<number, number>> = {
  1: { 2: 2, 3: 2, 4: 2, 5: 2, 6: 2 },
  2: { 1: 1, 3: 3, 4: 4, 5: 3, 6: 4 },
  3: { 1: 2, 2: 2, 4: 4, 5: 5, 6: 4 },
  4: { 1: 2, 2: 2, 3: 3, 5: 3, 6: 6 },
  5: { 1: 3, 2: 3, 3: 3, 4: 3, 6: 3 },
  6: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 },
};

/** Integer-keyed maps, so YAML shows `1:` as upstream does rather than the quoted string "1". */
function intKeyed(t: Record<number, Record<number, number>>): Map<number, Map<number, number>> {
  return new Map(Object.entries(t).map(([s, row]) => [Number(s), new Map(Object.entries(row).map(([d, h]) => [Number(d), h]))]));
}

function withComments(value: unknown, header: string, comments: Record<string, string>): string {
  const doc = new Document(value);
  doc.commentBefore = header;
  for (const [path, text] of Object.entries(comments)) {
    let node: unknown = doc.contents;
    const segs = path.split('.');
    segs.forEach((seg, i) => {
      if (!isMap(node)) throw new Error(`example comment path ${path} is not in the example`);
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair || !isScalar(pair.key)) throw new Error(`example comment path ${path} is not in the example`);
      if (i === segs.length - 1) pair.key.commentBefore = text.split('\n').map((l) => ' ' + l).join('\n');
      node = pair.value;
    });
  }
  return doc.toString({ lineWidth: 0 });
}

/** The static-mode example's values (`-mode edge -example`), fresh keys each call. */
function exampleEdgeObject() {
  const me = generateKeyPair();
  const peer = generateKeyPair();
  const super4 = generateKeyPair();
  const super6 = generateKeyPair();
  return {
    Interface: {
      IType: 'tap',
      Name: 'tap1',
      VPPIFaceID: 0,
      VPPBridgeID: 0,
      MacAddrPrefix: 'AA:BB:CC:DD',
      IPv4CIDR: '192.168.76.0/24',
      IPv6CIDR: 'fd95:71cb:a3df:e586::/64',
      IPv6LLPrefix: 'fe80::a3df:0/112',
      MTU: 1404,
      RecvAddr: '',
      SendAddr: '',
      L2HeaderMode: 'nochg',
    },
    NodeID: 1,
    NodeName: 'Node01',
    PostScript: '',
    DefaultTTL: 200,
    L2FIBTimeout: 3600,
    PrivKey: me.privateKey,
    ListenPort: 3001,
    FwMark: 0,
    DisabledAf: { IPv4: false, IPv6: false, ListenIPv4: '', ListenIPv6: '' },
    AfPrefer: 4,
    LogLevel: { LogLevel: 'error', LogTransit: false, LogNormal: false, DumpNormal: false, LogControl: false, LogInternal: false, LogNTP: false },
    DynamicRoute: {
      SendPingInterval: 16,
      PeerAliveTimeout: 70,
      TimeoutCheckInterval: 20,
      ConnNextTry: 5,
      DupCheckTimeout: 40,
      AdditionalCost: 10,
      DampingFilterRadius: 4,
      SaveNewPeers: true,
      SuperNode: {
        UseSuperNode: false,
        PSKey: generatePSK(),
        EndpointV4: '127.0.0.1:3000',
        PubKeyV4: super4.publicKey,
        EndpointV6: '[::1]:3000',
        PubKeyV6: super6.publicKey,
        EndpointEdgeAPIUrl: 'http://127.0.0.1:3000/eg_api',
        SkipLocalIP: false,
        AdditionalLocalIP: [],
        SuperNodeInfoTimeout: 50,
      },
      P2P: {
        UseP2P: false,
        SendPeerInterval: 20,
        GraphRecalculateSetting: {
          StaticMode: false,
          ManualLatency: {},
          JitterTolerance: 50,
          JitterToleranceMultiplier: 1.1,
          TimeoutCheckInterval: 5,
          RecalculateCoolDown: 5,
        },
      },
      NTPConfig: { UseNTP: false, MaxServerUse: 8, SyncTimeInterval: 3600, NTPTimeout: 3, Servers: [] },
    },
    NextHopTable: intKeyed(NEXT_HOP),
    ResetEndPointInterval: 600,
    Peers: [{ NodeID: 2, PubKey: peer.publicKey, PSKey: generatePSK(), EndPoint: '127.0.0.1:3002', PersistentKeepalive: 0, Static: true }],
  };
}

/** `-mode edge -example`: a commented static-mode edge config (two nodes of the 6-node reference topology). */
export function exampleEdgeConfig(): string {
  const config = exampleEdgeObject();
  return withComments(config, [
    ' Etherguard edge config (static mode example). Keys are generated fresh on every -example run.',
    ' Omitted keys take the defaults listed in docs/config.md.',
  ].join('\n'), {
    Interface: 'The local L2 endpoint. tap needs root (or CAP_NET_ADMIN); dummy, stdio, udpsock, tcpsock,\nunixsock, unixgramsock, unixpacketsock and fd do not.',
    'Interface.MacAddrPrefix': 'MAC = prefix + NodeID (big-endian), here AA:BB:CC:DD:00:01. Must be unicast.',
    'Interface.IPv4CIDR': 'tap only: address = network + NodeID (NodeID 0 takes the last usable host).',
    NodeID: 'Unique in the network, 0..65531.',
    PrivKey: 'This node\'s X25519 private key (base64, like `wg genkey`). Keep it secret.',
    DynamicRoute: 'Used only in super mode (SuperNode.UseSuperNode) or P2P mode (P2P.UseP2P);\nstatic mode (both false, as here) routes with NextHopTable.',
    'DynamicRoute.NTPConfig': 'NTP only makes the measured latencies readable; routing does not need it. Off by default.',
    NextHopTable: 'NextHopTable[src][dst] = next hop, the same table on every node (6-node reference topology).',
    Peers: 'Static peers. PSKey is shared with the peer; the peer needs this node\'s public key.',
  });
}

/**
 * The edge config the supernode's peer/add hands out when it has no EdgeTemplate: a super-mode
 * edge `NodeID`/`NodeName` with the example's other values, its comments describing this file
 * (peer/add fills in the supernode keys, endpoints, PSKey and AdditionalCost). The MAC prefix
 * and address ranges are the example's, since without a template the supernode does not know the
 * network's; the comments say so. See docs/supernode.md "The edge YAML from peer/add".
 */
export function superModeEdgeConfig(node: { NodeID: number; NodeName: string }): string {
  const config = exampleEdgeObject();
  config.Interface.Name = `eg${node.NodeID}`;
  config.NodeID = node.NodeID;
  config.NodeName = node.NodeName;
  config.ListenPort = 0;
  config.DynamicRoute.SuperNode = { ...config.DynamicRoute.SuperNode, UseSuperNode: true, PSKey: '', EndpointV4: '', PubKeyV4: '', EndpointV6: '', PubKeyV6: '', EndpointEdgeAPIUrl: '' };
  const c = config as Record<string, unknown>;
  c.NextHopTable = {};
  c.Peers = [];
  return withComments(config, [
    ` Etherguard edge config of node ${node.NodeID} (${node.NodeName}) in super mode, from the supernode's peer/add.`,
    ' The supernode has no EdgeTemplate, so the values other than this node\'s and the supernode\'s are defaults:',
    ' check Interface (MacAddrPrefix and the address ranges must be the same on every edge of the network).',
    ' Omitted keys take the defaults listed in docs/config.md.',
  ].join('\n'), {
    Interface: 'The local L2 endpoint. tap needs root (or CAP_NET_ADMIN); dummy, stdio, udpsock, tcpsock,\nunixsock, unixgramsock, unixpacketsock and fd do not.',
    'Interface.MacAddrPrefix': 'MAC = prefix + NodeID (big-endian). Must be unicast, and the same on every edge of the network.',
    'Interface.IPv4CIDR': 'tap only: address = network + NodeID (NodeID 0 takes the last usable host).',
    NodeID: 'Unique in the network, 0..65531; the supernode knows this node by it.',
    PrivKey: 'This node\'s X25519 private key (base64), the one whose public key was given to peer/add. Keep it secret.',
    ListenPort: 'UDP port; 0 = any free port (the supernode learns it when the edge registers).',
    DynamicRoute: 'Super mode: the supernode tells this edge its peers and next hops.',
    'DynamicRoute.NTPConfig': 'NTP only makes the measured latencies readable; routing does not need it. Off by default.',
  });
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const password = (suffix: string): string => Array.from({ length: 8 }, () => ALNUM[randomInt(ALNUM.length)]).join('') + suffix;

export function exampleSuperConfig(): string {
  const v4 = generateKeyPair();
  const v6 = generateKeyPair();
  const peers = [1, 2].map((id) => ({
    NodeID: id,
    Name: `Node_${String(id).padStart(2, '0')}`,
    PubKey: generateKeyPair().publicKey,
    PSKey: generatePSK(),
    AdditionalCost: 10,
    SkipLocalIP: false,
    EndPoint: '',
    ExternalIP: '',
  }));
  const config = {
    NodeName: 'NodeSuper',
    PostScript: '',
    PrivKeyV4: v4.privateKey,
    PrivKeyV6: v6.privateKey,
    ListenPort: 3000,
    ListenPort_EdgeAPI: '3000',
    ListenPort_ManageAPI: '3000',
    FwMark: 0,
    DisabledAf: { IPv4: false, IPv6: false, ListenIPv4: '', ListenIPv6: '' },
    API_Prefix: '/eg_api',
    RePushConfigInterval: 30,
    HttpPostInterval: 50,
    PeerAliveTimeout: 70,
    SendPingInterval: 15,
    DampingFilterRadius: 4,
    LogLevel: { LogLevel: 'error', LogTransit: false, LogNormal: false, DumpNormal: false, LogControl: false, LogInternal: false, LogNTP: false },
    Passwords: {
      ShowState: password('_showstate'),
      AddPeer: password('_addpeer'),
      DelPeer: password('_delpeer'),
      UpdatePeer: password('_updatepeer'),
      UpdateSuper: password('_updatesuper'),
    },
    GraphRecalculateSetting: {
      StaticMode: false,
      ManualLatency: {},
      JitterTolerance: 30,
      JitterToleranceMultiplier: 1.01,
      TimeoutCheckInterval: 5,
      RecalculateCoolDown: 5,
    },
    NextHopTable: {},
    EdgeTemplate: '',
    UsePSKForInterEdge: true,
    ResetEndPointInterval: 600,
    Peers: peers,
  };
  return withComments(config, [
    ' Etherguard supernode config example. Keys and passwords are generated fresh on every -example run.',
    ' Omitted keys take the defaults listed in docs/config.md.',
    ' Optional (our addition): HttpTLS: {CertFile: cert.pem, KeyFile: key.pem} serves both HTTP APIs over HTTPS.',
    ' Optional (our addition): Etcd: {Endpoints: [http://10.0.0.1:2379], Prefix: /etherguard/net1/} keeps peers, passwords',
    ' and settings in etcd, shared by several supernodes (docs/ha.md).',
  ].join('\n'), {
    PrivKeyV4: 'Two WireGuard devices, one per address family, so the supernode learns both external\naddresses of every edge. Edges need the matching public keys.',
    ListenPort_EdgeAPI: 'HTTP ports: "3000" or ":3000" (upstream forms) or "127.0.0.1:3000" to bind one address.\nThe same value for both APIs serves them on one listener; an empty ManageAPI disables it.',
    Passwords: 'Manage API passwords; an empty password disables that endpoint.',
    'GraphRecalculateSetting.ManualLatency': 'ManualLatency[src][dst] = latency in ms overriding measurements; 65535 matches any node.',
    NextHopTable: 'Used only with GraphRecalculateSetting.StaticMode: then it must cover every ordered pair of peers.',
    EdgeTemplate: 'Edge YAML returned (filled in) by the manage API peer/add.',
    Peers: 'Edges allowed to register: PSKey protects the edge<->supernode session.',
  });
}
