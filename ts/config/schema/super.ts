// The supernode config: upstream's keys exactly plus our optional HttpTLS, with the example values
// as defaults.
import type { JSONSchemaType } from 'ajv';
import {
  bool, disabledAfSchema, WHY, graphSchema, int, loggerInfoSchema, METRICS_LISTEN, nextHopTable, nodeId, num, str,
  type DisabledAf, type GraphRecalculateSetting, type LoggerInfo, type NodeIdTable,
} from './common.js';

export interface Passwords {
  ShowState: string;
  AddPeer: string;
  DelPeer: string;
  UpdatePeer: string;
  UpdateSuper: string;
}

export interface SuperPeerInfo {
  NodeID: number;
  Name: string;
  PubKey: string;
  PSKey: string;
  AdditionalCost: number;
  SkipLocalIP: boolean;
  EndPoint: string;
  ExternalIP: string;
}

/**
 * Our addition: keep the durable state (Peers, Passwords, PeerAliveTimeout, DampingFilterRadius,
 * SendPingInterval, HttpPostInterval, NextHopTable) in an etcd cluster under `Prefix`, shared by
 * every supernode configured with the same endpoints and prefix (docs/supernode.md, "Durable state in etcd").
 */
export interface EtcdSetting {
  /** Client URLs of the cluster members, e.g. "http://10.0.0.1:2379". */
  Endpoints: string[];
  /** Key prefix of this network's state; default "/etherguard/". */
  Prefix: string;
  /** Seconds one etcd call may take before a write is answered 503 (default 2). */
  Timeout: number;
}

/** Our addition: serve the edge and manage APIs over HTTPS instead of plaintext HTTP. */
export interface HttpTLS {
  CertFile: string;
  KeyFile: string;
}

export interface SuperConfig {
  NodeName: string;
  PostScript: string;
  PrivKeyV4: string;
  PrivKeyV6: string;
  ListenPort: number;
  ListenPort_EdgeAPI: string;
  ListenPort_ManageAPI: string;
  FwMark: number;
  DisabledAf: DisabledAf;
  API_Prefix: string;
  RePushConfigInterval: number;
  HttpPostInterval: number;
  PeerAliveTimeout: number;
  SendPingInterval: number;
  DampingFilterRadius: number;
  LogLevel: LoggerInfo;
  Passwords: Passwords;
  GraphRecalculateSetting: GraphRecalculateSetting;
  NextHopTable: NodeIdTable;
  /** Our key: load a StaticMode NextHopTable with routing loops (docs/config.md). */
  AllowNextHopLoops: boolean;
  EdgeTemplate: string;
  UsePSKForInterEdge: boolean;
  ResetEndPointInterval: number;
  /** Our key: serve Prometheus metrics at http://MetricsListen/metrics ("" = off; -metrics overrides). docs/observability.md */
  MetricsListen: string;
  Peers: SuperPeerInfo[];
  HttpTLS?: HttpTLS;
  /** Our key: durable state in etcd instead of this file (absent: the file, as upstream). */
  Etcd?: EtcdSetting;
  /**
   * Our key: a node whose clock drifts more than this (ppm) against its peers is flagged in the
   * log and the state API's Clocks (docs/routing.md §Clock offset and drift). Default 500 ppm,
   * NTP's largest correctable frequency error (RFC 5905 §7.2, MAXFREQ).
   */
  ClockDriftLimitPpm: number;
}

const passwordsSchema: JSONSchemaType<Passwords> = {
  type: 'object',
  default: {},
  additionalProperties: false,
  required: [],
  properties: { ShowState: str(), AddPeer: str(), DelPeer: str(), UpdatePeer: str(), UpdateSuper: str() },
};

const superPeerSchema: JSONSchemaType<SuperPeerInfo> = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeID', 'Name', 'PubKey'],
  properties: {
    NodeID: nodeId(),
    Name: { type: 'string', minLength: 1, maxLength: 32 },
    PubKey: { type: 'string' },
    PSKey: str(),
    // -1 = keep the edge's own AdditionalCost; other negatives are refused in code.
    AdditionalCost: num(10, { min: -1 }),
    SkipLocalIP: bool(false),
    EndPoint: str(),
    ExternalIP: str(),
  },
};

export const superSchema: JSONSchemaType<SuperConfig> = {
  type: 'object',
  additionalProperties: false,
  required: ['NodeName'],
  properties: {
    NodeName: { type: 'string', minLength: 1, maxLength: 32 },
    PostScript: str(),
    PrivKeyV4: str(),
    PrivKeyV6: str(),
    ListenPort: int(3000, 1, 65535),
    ListenPort_EdgeAPI: str('3000'),
    ListenPort_ManageAPI: str('3000'),
    FwMark: int(0, 0, 0xffffffff),
    DisabledAf: disabledAfSchema,
    API_Prefix: str('/eg_api'),
    RePushConfigInterval: num(30, { positive: '0 would re-push routes to every edge without pause' }),
    HttpPostInterval: num(50),
    PeerAliveTimeout: num(70, { positive: '0 would mark every edge dead at once' }),
    SendPingInterval: num(15, { positive: '0 would disable pings, so no latency would ever be measured' }),
    DampingFilterRadius: int(4, 0, 1000),
    LogLevel: loggerInfoSchema,
    Passwords: passwordsSchema,
    GraphRecalculateSetting: graphSchema(30, 1.01, '0 makes the supernode timeout check spin in a busy loop'),
    NextHopTable: nextHopTable(),
    AllowNextHopLoops: bool(false),
    EdgeTemplate: str(),
    UsePSKForInterEdge: bool(true),
    ResetEndPointInterval: num(600),
    MetricsListen: METRICS_LISTEN,
    ClockDriftLimitPpm: num(500, { positive: '0 would flag every clock (ppm)' }),
    Peers: { type: 'array', items: superPeerSchema, default: [] },
    Etcd: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['Endpoints'],
      properties: {
        Endpoints: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^https?://[^\\s/]+/?$', [WHY]: 'an etcd client URL http(s)://host:port' } },
        Prefix: { type: 'string', default: '/etherguard/', minLength: 1 },
        Timeout: num(2, { positive: '0 would fail every etcd call at once (seconds)' }),
      },
    },
    HttpTLS: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['CertFile', 'KeyFile'],
      properties: { CertFile: { type: 'string', minLength: 1 }, KeyFile: { type: 'string', minLength: 1 } },
    },
  },
};

