// The edge config: upstream's keys exactly, with the example values as defaults (upstream has no
// defaults, and several of its zero values break the node; see docs/config.md).
import type { JSONSchemaType } from 'ajv';
import {
  bool, disabledAfSchema, graphSchema, int, loggerInfoSchema, METRICS_LISTEN, nextHopTable, nodeId, num, str,
  type DisabledAf, type GraphRecalculateSetting, type LoggerInfo, type NodeIdTable,
} from './common.js';

export const ITYPES = ['dummy', 'stdio', 'udpsock', 'tcpsock', 'unixsock', 'unixgramsock', 'unixpacketsock', 'fd', 'vpp', 'tap'] as const;
export type IType = (typeof ITYPES)[number];
/** "" is what upstream's generated configs hold for non-stdio interfaces; it means nochg. */
export const L2_HEADER_MODES = ['nochg', 'kbdbg', 'noL2', ''] as const;
export type L2HeaderMode = (typeof L2_HEADER_MODES)[number];

export interface InterfaceConf {
  IType: IType;
  Name: string;
  VPPIFaceID: number;
  VPPBridgeID: number;
  /** Our key (vpp): memif ring slots each way, a power of two; absent = 1024 as upstream. */
  VPPRingSize?: number;
  /** Our key (vpp): memif buffer bytes; absent = 2048 as upstream. */
  VPPBufferSize?: number;
  MacAddrPrefix: string;
  IPv4CIDR: string;
  IPv6CIDR: string;
  IPv6LLPrefix: string;
  MTU: number;
  RecvAddr: string;
  SendAddr: string;
  L2HeaderMode: L2HeaderMode;
}

/** Our key: one more supernode of the same network (docs/supernode.md, "Several supernodes"). */
export interface ExtraSuperNode {
  EndpointV4: string;
  PubKeyV4: string;
  EndpointV6: string;
  PubKeyV6: string;
  EndpointEdgeAPIUrl: string;
}

export interface SuperInfo {
  UseSuperNode: boolean;
  PSKey: string;
  EndpointV4: string;
  PubKeyV4: string;
  EndpointV6: string;
  PubKeyV6: string;
  EndpointEdgeAPIUrl: string;
  SkipLocalIP: boolean;
  AdditionalLocalIP: string[];
  SuperNodeInfoTimeout: number;
  /**
   * Our key: more supernodes sharing this network's state in etcd. The edge keeps a session with
   * each, sends its reports to all and pulls its state from any that answers. Default [].
   */
  ExtraSuperNodes: ExtraSuperNode[];
}

export interface P2PInfo {
  UseP2P: boolean;
  SendPeerInterval: number;
  GraphRecalculateSetting: GraphRecalculateSetting;
}

export interface NTPInfo {
  UseNTP: boolean;
  MaxServerUse: number;
  SyncTimeInterval: number;
  NTPTimeout: number;
  Servers: string[];
}

export interface DynamicRouteInfo {
  SendPingInterval: number;
  PeerAliveTimeout: number;
  TimeoutCheckInterval: number;
  ConnNextTry: number;
  DupCheckTimeout: number;
  AdditionalCost: number;
  DampingFilterRadius: number;
  SaveNewPeers: boolean;
  /**
   * Our key: add this node's measured processing delay (kernel receive → handled, median of the
   * last 32 pings, ms) to the AdditionalCost it reports, so busy relays are avoided. Default
   * false. docs/routing.md §Wire timestamps.
   */
  ProcessDelayCost: boolean;
  SuperNode: SuperInfo;
  P2P: P2PInfo;
  NTPConfig: NTPInfo;
}

export interface PeerInfo {
  NodeID: number;
  PubKey: string;
  PSKey: string;
  EndPoint: string;
  PersistentKeepalive: number;
  Static: boolean;
}

export interface EdgeConfig {
  Interface: InterfaceConf;
  NodeID: number;
  NodeName: string;
  PostScript: string;
  DefaultTTL: number;
  L2FIBTimeout: number;
  PrivKey: string;
  ListenPort: number;
  FwMark: number;
  DisabledAf: DisabledAf;
  AfPrefer: 0 | 4 | 6;
  LogLevel: LoggerInfo;
  DynamicRoute: DynamicRouteInfo;
  NextHopTable: NodeIdTable;
  /** Our key: load a NextHopTable with routing loops (docs/config.md). */
  AllowNextHopLoops: boolean;
  ResetEndPointInterval: number;
  /** Our key: serve Prometheus metrics at http://MetricsListen/metrics ("" = off; -metrics overrides). docs/observability.md */
  MetricsListen: string;
  Peers: PeerInfo[];
}

const interfaceSchema: JSONSchemaType<InterfaceConf> = {
  type: 'object',
  additionalProperties: false,
  required: ['IType'],
  properties: {
    IType: { type: 'string', enum: ITYPES },
    Name: str(),
    VPPIFaceID: int(0, 0, 0xffffffff),
    VPPBridgeID: int(0, 0, 0xffffffff),
    VPPRingSize: { type: 'integer', nullable: true, minimum: 2, maximum: 32768 },
    VPPBufferSize: { type: 'integer', nullable: true, minimum: 64, maximum: 65535 },
    MacAddrPrefix: str('AA:BB:CC:DD'),
    IPv4CIDR: str(),
    IPv6CIDR: str(),
    IPv6LLPrefix: str(),
    // 576 is the IPv4 minimum datagram; 1280 would be IPv6's, but L2 frames of any protocol pass.
    MTU: int(1404, 576, 65535),
    RecvAddr: str(),
    SendAddr: str(),
    L2HeaderMode: { type: 'string', enum: L2_HEADER_MODES, default: 'nochg' },
  },
};

const superInfoSchema: JSONSchemaType<SuperInfo> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: {
    UseSuperNode: bool(false),
    PSKey: str(),
    EndpointV4: str(),
    PubKeyV4: str(),
    EndpointV6: str(),
    PubKeyV6: str(),
    EndpointEdgeAPIUrl: str(),
    SkipLocalIP: bool(false),
    AdditionalLocalIP: { type: 'array', items: { type: 'string' }, default: [] },
    SuperNodeInfoTimeout: num(50),
    ExtraSuperNodes: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['EndpointEdgeAPIUrl'],
        properties: { EndpointV4: str(), PubKeyV4: str(), EndpointV6: str(), PubKeyV6: str(), EndpointEdgeAPIUrl: { type: 'string' } },
      },
    },
  },
};

const p2pSchema: JSONSchemaType<P2PInfo> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: {
    UseP2P: bool(false),
    SendPeerInterval: num(20, { positive: '0 would re-flood the peer list without pause' }),
    GraphRecalculateSetting: graphSchema(50, 1.1, '0 would disable route recalculation in P2P mode'),
  },
};

const ntpSchema: JSONSchemaType<NTPInfo> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: {
    // Off by default: this project must work offline and upstream's default list is public servers.
    UseNTP: bool(false),
    MaxServerUse: int(8, 1, 1000),
    SyncTimeInterval: num(3600, { positive: '0 would re-sync the clock without pause' }),
    NTPTimeout: num(3, { positive: '0 would time out every query immediately' }),
    Servers: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
  },
};

const dynamicRouteSchema: JSONSchemaType<DynamicRouteInfo> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: {
    SendPingInterval: num(16, { positive: '0 would disable pings, so no latency would ever be measured' }),
    PeerAliveTimeout: num(70, { positive: '0 would mark every peer dead at once' }),
    TimeoutCheckInterval: num(20, { positive: '0 would disable retrying other endpoints of dead peers' }),
    ConnNextTry: num(5, { positive: '0 would try endpoints without pause' }),
    DupCheckTimeout: num(40, { positive: '0 would disable flood de-duplication, so floods would live for TTL hops' }),
    AdditionalCost: num(10),
    DampingFilterRadius: int(4, 0, 1000),
    SaveNewPeers: bool(true),
    ProcessDelayCost: bool(false),
    SuperNode: superInfoSchema,
    P2P: p2pSchema,
    NTPConfig: ntpSchema,
  },
};

const peerSchema: JSONSchemaType<PeerInfo> = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'PubKey'],
  properties: {
    NodeID: nodeId(),
    PubKey: { type: 'string' },
    PSKey: str(),
    EndPoint: str(),
    PersistentKeepalive: int(0, 0, 65535),
    Static: bool(true),
  },
};

export const edgeSchema: JSONSchemaType<EdgeConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['Interface', 'NodeID', 'NodeName', 'PrivKey'],
  properties: {
    Interface: interfaceSchema,
    NodeID: nodeId(),
    NodeName: { type: 'string', minLength: 1, maxLength: 32 },
    PostScript: str(),
    DefaultTTL: int(200, 1, 255, { below: '0 makes upstream refuse to start and would drop every frame', above: 'the TTL is one byte of the frame header; upstream refuses such a value too' }),
    L2FIBTimeout: num(3600),
    PrivKey: { type: 'string' },
    ListenPort: int(0, 0, 65535),
    FwMark: int(0, 0, 0xffffffff),
    DisabledAf: disabledAfSchema,
    AfPrefer: { type: 'integer', enum: [0, 4, 6], default: 4 },
    LogLevel: loggerInfoSchema,
    DynamicRoute: dynamicRouteSchema,
    NextHopTable: nextHopTable(),
    AllowNextHopLoops: bool(false),
    MetricsListen: METRICS_LISTEN,
    ResetEndPointInterval: num(600),
    Peers: { type: 'array', items: peerSchema, default: [] },
  },
};
