// The three-node line the gencfg e2e tests generate (test/e2e/gencfg-mesh.test.ts,
// test/e2e/p2p-gencfg.test.ts): 1 — 40000 — 65000, so that 1 and 65000 reach each other only
// through 40000 (NodeIDs above 32767 included on purpose).

/** The line's NodeIDs, in matrix order. */
export const LINE_IDS = [1, 40000, 65000];
/** The namespace index (helpers/topo.ts buildStar) each NodeID runs in. */
export const LINE_IDX: Record<number, number> = { 1: 1, 40000: 2, 65000: 3 };
/** A NodeID as gencfg writes it in file names (five digits, zero-padded). */
export const pad5 = (id: number): string => String(id).padStart(5, '0');

/**
 * The `Edge Node`, `Edge Nodes` and distance-matrix part of a gencfg input (static or p2p mode,
 * upstream's gencfg YAML keys) for the line: every node listens on port 3001 at `addr(id)`, the
 * matrix links 1–40000 and 40000–65000 (1 and 65000 not at all).
 *
 * @param ipv4Range the `IPv4 range` the TAP addresses are taken from (CIDR).
 */
export function lineEdgeNodes(ipv4Range: string, addr: (id: number) => string): string {
  return `Edge Node:
  MacAddress prefix: ""
  IPv4 range: ${ipv4Range}
Edge Nodes:
${LINE_IDS.map((id) => `  ${id}:\n    Endpoint(optional): ${addr(id)}:3001`).join('\n')}
Distance matrix for all nodes: |-
  X 1 40000 65000
  1 0 1 Inf
  40000 1 0 1
  65000 Inf 1 0
`;
}
