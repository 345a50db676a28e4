// An edge whose configured Peers[].EndPoint does not resolve starts anyway (a DDNS name may
// resolve later) and its log line says whether and when the name is tried again
// (docs/config.md, "What upstream does with questionable values").
import assert from 'node:assert/strict';
import { generateKeyPair } from '../ts/config/index.js';
import { parseEdge } from '../ts/config/validate.js';
import { StaticRoutes } from '../ts/core/table.js';
import { Edge } from '../ts/edge/edge.js';
import { Logger } from '../ts/shared/log.js';

function edgeYaml(resetEndPointInterval: number): string {
  const peer = (id: number, ep: string, isStatic: boolean) => `  - NodeID: ${id}
    PubKey: ${generateKeyPair().publicKey}
    EndPoint: ${ep}
    Static: ${isStatic}
`;
  return `Interface:
  IType: dummy
  Name: unres1
NodeID: 1
NodeName: unres1
PrivKey: ${generateKeyPair().privateKey}
ListenPort: 0
DisabledAf:
  IPv6: true
  ListenIPv4: 127.0.0.1
ResetEndPointInterval: ${resetEndPointInterval}
NextHopTable:
  1: {2: 2, 3: 3}
  2: {1: 1, 3: 3}
  3: {1: 1, 2: 2}
Peers:
${peer(2, 'nosuchhost.invalid:3001', true)}${peer(3, 'nosuchhost.invalid:3002', false)}`;
}

async function startEdge(yaml: string): Promise<{ edge: Edge; logged: string[] }> {
  const cfg = parseEdge(yaml, 'edge under test').config;
  const logged: string[] = [];
  const log = new Logger('unres', { LogLevel: 'error', LogTransit: false, LogNormal: false, LogControl: false, LogInternal: false }, false, { write: (s: string) => void logged.push(s) });
  const edge = new Edge(cfg, { log, routes: new StaticRoutes(cfg.NextHopTable), uapi: false });
  await edge.start();
  return { edge, logged };
}

describe('edge: a configured endpoint that does not resolve', function () {
  this.timeout(20000);
  let edge: Edge | undefined;
  afterEach(async () => {
    await edge?.stop();
    edge = undefined;
  });

  it('starts anyway; the log says a static peer is retried every ResetEndPointInterval and a non-static one is not', async () => {
    const r = await startEdge(edgeYaml(600));
    edge = r.edge;
    const text = r.logged.join('');
    assert.match(text, /peer 2: cannot resolve endpoint nosuchhost\.invalid:3001: .*nosuchhost\.invalid.*; retried every 600 s while it is not alive \(ResetEndPointInterval\)/);
    assert.match(text, /peer 3: cannot resolve endpoint nosuchhost\.invalid:3002: .*; not retried \(Static is false\); its endpoint is learned when it connects/);
    assert.match(text, /edge unres1 \(node 1\) up/);
    // The retry the line promises: the re-resolution pass tries the dead static peer only.
    r.logged.length = 0;
    await edge.resolveAll(true);
    const again = r.logged.join('');
    assert.match(again, /peer 2: cannot resolve endpoint/);
    assert.doesNotMatch(again, /peer 3:/);
  });

  it('with ResetEndPointInterval 0 the log says it is not retried', async () => {
    const r = await startEdge(edgeYaml(0));
    edge = r.edge;
    assert.match(r.logged.join(''), /peer 2: cannot resolve endpoint nosuchhost\.invalid:3001: .*; not retried \(ResetEndPointInterval is 0\)/);
  });
});
