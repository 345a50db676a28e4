// HttpTLS: the supernode serves its edge and manage APIs over HTTPS; edges that trust the
// certificate (NODE_EXTRA_CA_CERTS) register, report and pull over it; plain HTTP is refused.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { buildMeshConfigs } from '../ts/demo/meshcfg.js';
import { Proc, startEdge, stopAll } from './helpers/mesh.js';

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('supernode over HTTPS (HttpTLS)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'egtls-'));
  const procs: Proc[] = [];
  after(() => stopAll(procs));

  it('edges converge through the HTTPS edge API; the manage API answers over HTTPS only', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=etherguard-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const base = 30000 + Math.floor(Math.random() * 10000);
    const cfgs = buildMeshConfigs({
      name: 'tls',
      superHost: '127.0.0.1',
      superPort: base,
      httpPort: base + 1,
      edges: [1, 2].map((id) => ({ id, listenPort: base + 10 + id, iface: { IType: 'dummy', Name: `tls${id}` } })),
      timing: { SendPingInterval: 1, HttpPostInterval: 1, PeerAliveTimeout: 5, DampingFilterRadius: 0, RecalculateCoolDown: 1, TimeoutCheckInterval: 1 },
    });
    const sup = parse(cfgs.superYaml) as Record<string, unknown>;
    sup.HttpTLS = { CertFile: cert, KeyFile: key };
    writeFileSync(join(dir, 'super.yaml'), stringify(sup));
    procs.push(startEdge(join(dir, 'super.yaml'), { mode: 'super', args: ['-no-uapi'] }));
    for (const id of [1, 2]) {
      const e = parse(cfgs.edgeYaml.get(id)!) as { DynamicRoute: { SuperNode: { EndpointEdgeAPIUrl: string } } };
      e.DynamicRoute.SuperNode.EndpointEdgeAPIUrl = e.DynamicRoute.SuperNode.EndpointEdgeAPIUrl.replace('http://', 'https://');
      writeFileSync(join(dir, `e${id}.yaml`), stringify(e));
      procs.push(startEdge(join(dir, `e${id}.yaml`), { args: ['-no-uapi'], env: { NODE_EXTRA_CA_CERTS: cert } }));
    }
    const ca = readFileSync(cert);
    const url = `https://127.0.0.1:${base + 1}${cfgs.apiPrefix}/manage/super/state?Password=${cfgs.passwords.ShowState}`;
    let nh: Record<string, Record<string, number>> = {};
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      try {
        const r = await httpsGet(url, ca);
        nh = (JSON.parse(r.body) as { NhTable: typeof nh }).NhTable;
        if (nh['1']?.['2'] === 2 && nh['2']?.['1'] === 1) break;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(nh, { 1: { 2: 2 }, 2: { 1: 1 } }, 'routes learned from reports that went over HTTPS');
    const synced = (JSON.parse((await httpsGet(url, ca)).body) as { Status: Record<string, { Synced: { NhTable: boolean } }> }).Status;
    assert.ok(synced['1'].Synced.NhTable && synced['2'].Synced.NhTable, 'both edges pulled the table over HTTPS');
    await assert.rejects(fetch(url.replace('https://', 'http://'), { signal: AbortSignal.timeout(3000) }));
  });
});
