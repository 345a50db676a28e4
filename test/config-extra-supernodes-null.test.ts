// A null (or non-mapping) entry in DynamicRoute.SuperNode.ExtraSuperNodes must be a config error
// naming that entry, not a TypeError from the rules (found by bench/fuzz-ts.ts, target config).
import assert from 'node:assert/strict';
import { ConfigError, parseEdgeConfig } from '../ts/config/index.js';

const edge = (entry: string) => `Interface: {IType: dummy}
NodeID: 5
NodeName: n5
PrivKey: V1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1c=
DynamicRoute:
  SuperNode:
    UseSuperNode: true
    EndpointV4: 192.0.2.1:3000
    PubKeyV4: WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFg=
    EndpointEdgeAPIUrl: http://192.0.2.1:3000/eg_api
    ExtraSuperNodes:
      - ${entry}
`;

describe('config: a malformed ExtraSuperNodes entry', () => {
  for (const entry of ['~', '3', '[1]', '"x"']) {
    it(`${entry} is a ConfigError naming ExtraSuperNodes[0]`, () => {
      assert.throws(
        () => parseEdgeConfig(edge(entry), 'extra.yaml', () => {}),
        (e: unknown) => e instanceof ConfigError && /extra\.yaml/.test(e.message) && e.problems.some((p) => p.path.startsWith('DynamicRoute.SuperNode.ExtraSuperNodes[0]')),
      );
    });
  }
});
