// The WireGuard underlay over IPv6 only (DisabledAf.IPv4), endpoints written as [addr]:port,
// and `wg show`-style endpoint reporting over UAPI in that form.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfigs, jsonLines, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';

describe('e2e: IPv6 underlay', function () {
  this.timeout(30_000);
  const procs: Proc[] = [];
  const socks: ReturnType<typeof createSocket>[] = [];
  after(async () => {
    await stopAll(procs);
    for (const s of socks) s.close();
  });

  it('two edges talk over [::1] with IPv4 disabled; frames cross; UAPI shows the v6 endpoint', async () => {
    const b = 41000 + Math.floor(Math.random() * 5000);
    const uapiDir = mkdtempSync(join(tmpdir(), 'eg6uapi-'));
    const { files } = buildConfigs({
      nodes: [1, 2].map((id) => ({
        id,
        host: '[::1]',
        port: b + id,
        iface: { IType: 'udpsock', Name: `v6e${id}`, RecvAddr: `127.0.0.1:${b + 10 + id}`, SendAddr: `127.0.0.1:${b + 20 + id}` },
        extra: { DisabledAf: { IPv4: true, IPv6: false }, AfPrefer: 6, NodeName: `eg6n${id}` },
      })),
      links: [[1, 2]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
    });
    for (const id of [1, 2]) procs.push(startEdge(files.get(id)!, { env: { EG_UAPI_DIR: uapiDir } }));
    await waitFor(() => procs.every((p) => p.out.some((l) => l.includes(' up: '))), 10_000, 'edges up');
    const got: Buffer[] = [];
    const rx = createSocket('udp4');
    socks.push(rx);
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(b + 22, '127.0.0.1', () => r()));
    const tx = createSocket('udp4');
    socks.push(tx);
    const frame = Buffer.concat([Buffer.alloc(6, 0xff), Buffer.from('aabbccdd0001', 'hex'), Buffer.from([0x88, 0xb5]), Buffer.from('over ipv6'.padEnd(46, '.'))]);
    tx.send(frame, b + 11, '127.0.0.1');
    await waitFor(() => got.length > 0, 8000, `frame at edge 2; logs: ${procs.map((p) => p.out.join('\n')).join('\n')}`);
    assert.deepEqual(got[0], frame);
    const dump = await new Promise<string>((resolve) => {
      const c = connect(join(uapiDir, 'eg6n1.sock'));
      let s = '';
      c.on('data', (d) => {
        s += d.toString();
        if (s.endsWith('\n\n')) c.end();
      });
      c.on('close', () => resolve(s));
      c.write('get=1\n\n');
    });
    assert.match(dump, new RegExp(`endpoint=\\[::1\\]:${b + 2}\\n`));
    assert.match(dump, /errno=0/);
    assert.equal(jsonLines(procs[0]).filter((l) => String(l.msg).startsWith('udp:')).length, 0, 'no socket errors');
  });
});
