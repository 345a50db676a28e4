// `gencfg -cfgmode X -example`: a commented input file for each mode (upstream printed an empty
// skeleton for super and nodes 1, 2 with matrix `X 1 2 / 1 0 1 / 2 1 0` for static/p2p).
// Each example generates as it stands (test/gencfg.test.ts).
import type { CfgMode } from './input.js';

const COMMON_HEAD = `# Paths are relative to this file's directory.
# Directory for the generated configs; created with mode 0700, files are written 0600.
Config output dir: ./eg_gen_%MODE%
# false: refuse (and write nothing) if any generated file already exists.
Enable generated config overwrite: false
# true: append the NodeID, zero-padded to the width of the largest one, to NodeName and the
# interface name (EgNet1 here; EgNet001 when the NodeIDs reach 100).
Add NodeID to the interface name: true
`;

const EDGE_NODE = `# Network name: 1..10 characters from 0-9 a-z A-Z _ -. Files are <name>_edge<id>.yaml.
Network name: EgNet
Edge Node:
  # MAC = prefix + NodeID. Empty: a random locally administered unicast prefix.
  MacAddress prefix: ""
  # TAP addresses = range + NodeID; every NodeID must fit. Empty: no address of that kind.
  IPv4 range: 192.168.76.0/24
  IPv6 range: fd95:71cb:a3df:e586::/64
  IPv6 LL range: fe80::a3df:0/112
`;

const SUPER = `${COMMON_HEAD.replace('%MODE%', 'super')}# Optional templates (complete configs); their values are kept except the generated ones.
# Empty: built-in defaults (those of upstream's example configs, with NTP off).
ConfigTemplate for super node: ""
ConfigTemplate for edge node: ""
${EDGE_NODE.replace('Edge Node:\n', `Edge Node:
  # NodeIDs: IDs and inclusive ranges a~b, ascending, 0..65531.
  Node IDs: "[1~3,100]"
`)}Super Node:
  # UDP port of the supernode's WireGuard devices, and of its HTTP APIs.
  Listen port: 3456
  EdgeAPI prefix: /eg_net/eg_api
  # Hosts only (the port above is appended); at least one. Written as given, never resolved
  # here: a DNS name works even if it does not resolve on this machine. IPv6 in brackets.
  Endpoint(IPv4)(optional): 127.0.0.1
  Endpoint(IPv6)(optional): ""
  # The URL edges use for the supernode's edge API (prefix included).
  Endpoint(EdgeAPI): http://127.0.0.1:3456/eg_net/eg_api
`;

const nm = (mode: 'static' | 'p2p') => `${COMMON_HEAD.replace('%MODE%', mode)}# Optional edge template (a complete edge config); empty: built-in defaults${mode === 'p2p' ? ' with AdditionalCost 1000' : ''}.
ConfigTemplate for edge node: ""
${EDGE_NODE}# Every node of the network, by NodeID (0..65531), with the address others reach it at
# (host:port, IPv6 as [addr]:port; its port becomes the node's ListenPort). A node without
# one keeps its NAT open with PersistentKeepalive 30; every link needs an endpoint on one side.
Edge Nodes:
  1:
    Endpoint(optional): 127.0.0.1:3001
  2:
    Endpoint(optional): 127.0.0.1:3002
  3:
    Endpoint(optional): ""
# Links and their cost (any unit; row = from, column = to). Inf = no link. Every node of
# "Edge Nodes" needs a row and a column. ${mode === 'static' ? 'The NextHopTable is computed from it (and printed);\n# 3 reaches 2 through 1 here.' : 'P2P mode measures real latencies; the matrix\n# only says who peers with whom.'} Empty: every pair where one side has an endpoint, cost 1.
Distance matrix for all nodes: |-
  X 1   2   3
  1 0   1   1
  2 1   0   Inf
  3 1   Inf 0
`;

/** The commented example input for `mode`. */
export function exampleInput(mode: CfgMode): string {
  return mode === 'super' ? SUPER : nm(mode);
}
