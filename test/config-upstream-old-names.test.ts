// Keys that older etherguard-go releases read (and that their example configs, still copied
// around, contain) load with a warning that names the key that took their place, and an error
// about that newer key says when its value sits under the older name. A bare "unknown key,
// ignored" or "EndpointV4 is missing" left the user to find the rename in upstream's history.
// Renames in upstream's history: e311314 (2021-12-04) ConnURLV4/ConnURLV6/APIUrl ->
// EndpointV4/EndpointV6/EndpointEdgeAPIUrl; db8cf47 (2021-12-09) ConnTimeOut ->
// TimeoutCheckInterval; cdb096b (2021-12-26) DampingResistance -> DampingFilterRadius.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseEdgeConfig, parseSuperConfig, exampleSuperConfig, type Problem } from '../ts/config/index.js';
import { ROOT } from '../ts/paths.js';

const EDGE = readFileSync(join(ROOT, 'test/fixtures/config/good/edge-super.yaml'), 'utf8');

function load(kind: 'edge' | 'super', text: string): { warnings: Problem[]; error?: ConfigError; config?: unknown } {
  const warnings: Problem[] = [];
  try {
    const config = (kind === 'edge' ? parseEdgeConfig : parseSuperConfig)(text, 'x.yaml', (_l, p) => warnings.push(p));
    return { warnings, config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { warnings: [...e.warnings], error: e };
  }
}

function warningAt(ws: readonly Problem[], path: string): string {
  const w = ws.find((x) => x.path === path);
  assert.ok(w, `a warning at ${path}; got ${JSON.stringify(ws.map((x) => x.path))}`);
  return w.message;
}

describe("config: upstream's older key names get a rename hint", () => {
  it('ConnURLV4 / ConnURLV6 (upstream before 2021-12): the warnings name EndpointV4 / EndpointV6, and the missing-session error names ConnURLV4', () => {
    const text = EDGE.replace('EndpointV4:', 'ConnURLV4:').replace('EndpointV6:', 'ConnURLV6:');
    const r = load('edge', text);
    assert.match(warningAt(r.warnings, 'DynamicRoute.SuperNode.ConnURLV4'), /older|before/);
    assert.match(warningAt(r.warnings, 'DynamicRoute.SuperNode.ConnURLV4'), /rename it to EndpointV4/);
    assert.match(warningAt(r.warnings, 'DynamicRoute.SuperNode.ConnURLV6'), /rename it to EndpointV6/);
    assert.ok(r.error, 'no supernode session: still an error');
    const p = r.error.problems.find((x) => x.path === 'DynamicRoute.SuperNode.EndpointV4');
    assert.ok(p, r.error.message);
    assert.match(p.message, /ConnURLV4.*older name of EndpointV4.*rename/);
  });

  it('the lower-case spelling older upstream examples wrote (connurlv4, apiurl) gets the same hint', () => {
    const text = EDGE.replace('EndpointV4:', 'connurlv4:').replace('EndpointEdgeAPIUrl:', 'apiurl:');
    const r = load('edge', text);
    assert.match(warningAt(r.warnings, 'DynamicRoute.SuperNode.connurlv4'), /rename it to EndpointV4/);
    assert.match(warningAt(r.warnings, 'DynamicRoute.SuperNode.apiurl'), /rename it to EndpointEdgeAPIUrl/);
  });

  it('APIUrl where EndpointEdgeAPIUrl is required (an ExtraSuperNodes entry): the required-key error names APIUrl as its older name', () => {
    const text = EDGE.replace(
      '    AdditionalLocalIP:',
      '    ExtraSuperNodes:\n      - EndpointV4: 127.0.0.2:3000\n        PubKeyV4: Y4gNhRxSGTp4fKquF9oP+U0mr9a869u/IT3UfCjArCI=\n        APIUrl: http://127.0.0.2:3000/eg_api\n    AdditionalLocalIP:',
    );
    const r = load('edge', text);
    assert.ok(r.error);
    const at = r.error.problems.filter((x) => x.path === 'DynamicRoute.SuperNode.ExtraSuperNodes[0].EndpointEdgeAPIUrl').map((x) => x.message);
    assert.ok(
      at.some((m) => m === "is required but missing (APIUrl, an unknown key here, is upstream's older name of it: rename it to EndpointEdgeAPIUrl)"),
      r.error.message,
    );
  });

  it('ConnTimeOut (upstream before 2021-12) names TimeoutCheckInterval; the config loads', () => {
    const text = EDGE.replace('DynamicRoute:\n', 'DynamicRoute:\n  ConnTimeOut: 30\n');
    const r = load('edge', text);
    assert.equal(r.error, undefined, r.error?.message);
    assert.match(warningAt(r.warnings, 'DynamicRoute.ConnTimeOut'), /rename it to TimeoutCheckInterval/);
  });

  it('DampingResistance (edge DynamicRoute, supernode top level, GraphRecalculateSetting): says it was replaced by DampingFilterRadius and is not converted; the configs load with DampingFilterRadius at its default', () => {
    const edge = load('edge', EDGE.replace('DynamicRoute:\n', 'DynamicRoute:\n  DampingResistance: 0.9\n'));
    assert.equal(edge.error, undefined, edge.error?.message);
    const we = warningAt(edge.warnings, 'DynamicRoute.DampingResistance');
    assert.match(we, /DampingFilterRadius/);
    assert.match(we, /not converted/);
    assert.equal((edge.config as { DynamicRoute: { DampingFilterRadius: number } }).DynamicRoute.DampingFilterRadius, 4);

    const sup = load('super', `DampingResistance: 0.9\n${exampleSuperConfig()}`);
    assert.equal(sup.error, undefined, sup.error?.message);
    assert.match(warningAt(sup.warnings, 'DampingResistance'), /replaced .*DampingFilterRadius.*not converted/);

    // The first release with it kept it under GraphRecalculateSetting, where DampingFilterRadius
    // has no place: the hint says where that one belongs.
    const g = load('edge', EDGE.replace('DynamicRoute:\n', 'DynamicRoute:\n  P2P:\n    GraphRecalculateSetting:\n      DampingResistance: 0.9\n'));
    assert.equal(g.error, undefined, g.error?.message);
    assert.match(warningAt(g.warnings, 'DynamicRoute.P2P.GraphRecalculateSetting.DampingResistance'), /DampingFilterRadius belongs under DynamicRoute/);
  });
});
