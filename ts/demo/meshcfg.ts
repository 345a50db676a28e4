// Configs for a supernode and its edges, generated together (fresh keys and PSKs): used by the
// demo and by the super-mode end-to-end tests, so both run the same shape of network.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { generateKeyPair, generatePSK } from '../config/index.js';

export interface MeshEdge {
  id: number;
  iface: Record<string, unknown>;
  listenPort: number;
  /** Edge's AdditionalCost as the supernode sees it (ms); -1 = use the edge's own. */
  additionalCost?: number;
  extra?: Record<string, unknown>;
}

export interface MeshOptions {
  name: string;
  superHost: string; // address edges use for the supernode (UDP and HTTP)
  superPort: number; // UDP
  httpPort: number;
  edges: MeshEdge[];
  timing?: Partial<{ SendPingInterval: number; HttpPostInterval: number; PeerAliveTimeout: number; DampingFilterRadius: number; RecalculateCoolDown: number; TimeoutCheckInterval: number; JitterTolerance: number; JitterToleranceMultiplier: number }>;
  manualLatency?: Record<string, Record<string, number>>;
  log?: Record<string, unknown>;
}

export interface MeshConfigs {
  superYaml: string;
  edgeYaml: Map<number, string>;
  passwords: Record<'ShowState' | 'AddPeer' | 'DelPeer' | 'UpdatePeer' | 'UpdateSuper', string>;
  apiPrefix: string;
  keys: Map<number, { privateKey: string; publicKey: string; psk: string }>;
}

export function buildMeshConfigs(o: MeshOptions): MeshConfigs {
  const t = { SendPingInterval: 15, HttpPostInterval: 50, PeerAliveTimeout: 70, DampingFilterRadius: 4, RecalculateCoolDown: 5, TimeoutCheckInterval: 5, JitterTolerance: 30, JitterToleranceMultiplier: 1.01, ...o.timing };
  const sv4 = generateKeyPair();
  const sv6 = generateKeyPair();
  const pw = () => randomBytes(6).toString('base64url');
  const passwords = { ShowState: pw(), AddPeer: pw(), DelPeer: pw(), UpdatePeer: pw(), UpdateSuper: pw() };
  const apiPrefix = '/eg_api';
  const keys = new Map(o.edges.map((e) => [e.id, { ...generateKeyPair(), psk: generatePSK() }]));
  const superCfg = {
    NodeName: `${o.name}SN`,
    PrivKeyV4: sv4.privateKey,
    PrivKeyV6: sv6.privateKey,
    ListenPort: o.superPort,
    ListenPort_EdgeAPI: `${o.superHost}:${o.httpPort}`,
    ListenPort_ManageAPI: `${o.superHost}:${o.httpPort}`,
    DisabledAf: { IPv4: false, IPv6: true },
    API_Prefix: apiPrefix,
    RePushConfigInterval: 30,
    HttpPostInterval: t.HttpPostInterval,
    PeerAliveTimeout: t.PeerAliveTimeout,
    SendPingInterval: t.SendPingInterval,
    DampingFilterRadius: t.DampingFilterRadius,
    LogLevel: { LogLevel: 'error', ...o.log },
    Passwords: passwords,
    GraphRecalculateSetting: {
      StaticMode: false,
      ManualLatency: o.manualLatency ?? {},
      JitterTolerance: t.JitterTolerance,
      JitterToleranceMultiplier: t.JitterToleranceMultiplier,
      TimeoutCheckInterval: t.TimeoutCheckInterval,
      RecalculateCoolDown: t.RecalculateCoolDown,
    },
    NextHopTable: {},
    UsePSKForInterEdge: true,
    Peers: o.edges.map((e) => ({
      NodeID: e.id,
      Name: `${o.name}${e.id}`,
      PubKey: keys.get(e.id)!.publicKey,
      PSKey: keys.get(e.id)!.psk,
      AdditionalCost: e.additionalCost ?? 10,
      SkipLocalIP: false,
    })),
  };
  const edgeYaml = new Map<number, string>();
  for (const e of o.edges) {
    const k = keys.get(e.id)!;
    edgeYaml.set(
      e.id,
      stringify({
        Interface: { MacAddrPrefix: 'AA:BB:CC:DD', MTU: 1404, ...e.iface },
        NodeID: e.id,
        NodeName: `${o.name}${e.id}`,
        PrivKey: k.privateKey,
        ListenPort: e.listenPort,
        DisabledAf: { IPv6: true },
        LogLevel: { LogLevel: 'error', ...o.log },
        DynamicRoute: {
          SendPingInterval: t.SendPingInterval,
          PeerAliveTimeout: t.PeerAliveTimeout,
          ConnNextTry: 1,
          AdditionalCost: 10,
          DampingFilterRadius: t.DampingFilterRadius,
          SuperNode: {
            UseSuperNode: true,
            PSKey: k.psk,
            EndpointV4: `${o.superHost}:${o.superPort}`,
            PubKeyV4: sv4.publicKey,
            EndpointEdgeAPIUrl: `http://${o.superHost}:${o.httpPort}${apiPrefix}`,
          },
        },
        NextHopTable: {},
        Peers: [],
        ...e.extra,
      }),
    );
  }
  return { superYaml: stringify(superCfg), edgeYaml, passwords, apiPrefix, keys };
}
