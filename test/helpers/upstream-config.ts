// Config text as etherguard-go writes it, for compatibility tests.

/** What etherguard-go's `gencfg -cfgmode super` writes for an edge when the supernode has no IPv6 endpoint. */
export function upstreamGeneratedEdge(o: { priv: string; psk: string; pub4: string; pub6: string; endpoint4: string; api: string; id?: number }): string {
  const id = o.id ?? 1;
  return `Interface:
  IType: dummy
  Name: EgNet${String(id).padStart(3, '0')}
  VPPIFaceID: ${id}
  VPPBridgeID: 4242
  MacAddrPrefix: 8E:AA:C1:23
  IPv4CIDR: 192.168.76.0/24
  IPv6CIDR: fd95:71cb:a3df:e586::/64
  IPv6LLPrefix: fe80::a3df:0/112
  MTU: 1416
  RecvAddr: 127.0.0.1:4001
  SendAddr: 127.0.0.1:5001
  L2HeaderMode: nochg
NodeID: ${id}
NodeName: EgNet${String(id).padStart(3, '0')}
PostScript: ""
DefaultTTL: 200
L2FIBTimeout: 3600
PrivKey: ${o.priv}
ListenPort: 0
LogLevel:
  LogLevel: error
  LogTransit: false
  LogNormal: false
  LogControl: true
  LogInternal: true
  LogNTP: true
DynamicRoute:
  SendPingInterval: 16
  PeerAliveTimeout: 70
  TimeoutCheckInterval: 20
  ConnNextTry: 5
  DupCheckTimeout: 40
  AdditionalCost: 10
  DampingFilterRadius: 4
  SaveNewPeers: true
  SuperNode:
    UseSuperNode: true
    PSKey: ${o.psk}
    EndpointV4: ${o.endpoint4}
    PubKeyV4: ${o.pub4}
    EndpointV6: ""
    PubKeyV6: ${o.pub6}
    EndpointEdgeAPIUrl: ${o.api}
    SkipLocalIP: false
    SuperNodeInfoTimeout: 50
  P2P:
    UseP2P: false
    SendPeerInterval: 20
    GraphRecalculateSetting:
      StaticMode: false
      ManualLatency: {}
      JitterTolerance: 20
      JitterToleranceMultiplier: 1.1
      DampingResistance: 0
      TimeoutCheckInterval: 5
      RecalculateCoolDown: 5
  NTPConfig:
    UseNTP: false
    MaxServerUse: 8
    SyncTimeInterval: 3600
    NTPTimeout: 3
    Servers: []
NextHopTable: {}
ResetEndPointInterval: 600
Peers: []
`.replace('      DampingResistance: 0\n', '');
}
