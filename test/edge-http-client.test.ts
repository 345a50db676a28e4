// The edge's HTTP client (ts/edge/http-client.ts), which replaced fetch() for the supernode's
// edge API: against a real local server, every way an answer can go wrong ends in a clear
// rejection or a non-ok answer, never a hang.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpText } from '../ts/edge/http-client.js';

describe('edge HTTP client (node:http)', () => {
  let srv: Server;
  let base = '';
  before(async () => {
    srv = createServer((q, r) => {
      const u = new URL(q.url!, 'http://x');
      if (u.pathname === '/echo') {
        const parts: Buffer[] = [];
        q.on('data', (c: Buffer) => parts.push(c));
        q.on('end', () => r.end(JSON.stringify({ method: q.method, type: q.headers['content-type'], body: Buffer.concat(parts).toString(), q: u.search })));
      } else if (u.pathname === '/404') {
        r.statusCode = 404;
        r.end('State not correct');
      } else if (u.pathname === '/big') {
        r.end(Buffer.alloc(5000, 0x61));
      } else if (u.pathname === '/slow') {
        r.write('partial');
      } else if (u.pathname === '/cut') {
        r.writeHead(200, { 'content-length': '100' });
        r.write('only part');
        setTimeout(() => r.socket?.destroy(), 20);
      } else r.end('é ok');
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  });
  after(() => {
    srv.closeAllConnections();
    srv.close();
  });

  it('GET: status, ok and the whole body as UTF-8', async () => {
    assert.deepEqual(await httpText(`${base}/x`, { timeoutMs: 2000 }), { status: 200, ok: true, text: 'é ok' });
  });

  it('POST sends the body, its headers and the query string', async () => {
    const r = await httpText(`${base}/echo?NodeID=1&State=a%2Bb`, { method: 'POST', body: Buffer.from('{"v":1}'), headers: { 'content-type': 'application/json' }, timeoutMs: 2000 });
    assert.deepEqual(JSON.parse(r.text), { method: 'POST', type: 'application/json', body: '{"v":1}', q: '?NodeID=1&State=a%2Bb' });
  });

  it('a refusal is an answer (not ok, with its text), not an error', async () => {
    assert.deepEqual(await httpText(`${base}/404`, { timeoutMs: 2000 }), { status: 404, ok: false, text: 'State not correct' });
  });

  it('an answer that does not complete in time is refused, naming the time', async () => {
    await assert.rejects(httpText(`${base}/slow`, { timeoutMs: 200 }), /no complete answer within 200 ms/);
  });

  it('an answer larger than the cap is refused', async () => {
    await assert.rejects(httpText(`${base}/big`, { timeoutMs: 2000, maxBytes: 4096 }), /answer larger than 4096 bytes/);
    assert.equal((await httpText(`${base}/big`, { timeoutMs: 2000, maxBytes: 5000 })).text.length, 5000);
  });

  it('a connection cut in the middle of the answer is refused', async () => {
    await assert.rejects(httpText(`${base}/cut`, { timeoutMs: 2000 }), /aborted|closed|socket hang up|ECONNRESET/);
  });

  it('a closed port and a bad URL are refused with the reason', async () => {
    const closed = createServer();
    await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((res) => closed.close(res));
    await assert.rejects(httpText(`http://127.0.0.1:${port}/x`, { timeoutMs: 2000 }), /ECONNREFUSED/);
    await assert.rejects(httpText('ftp://127.0.0.1/x', { timeoutMs: 2000 }), /unsupported protocol ftp:/);
    await assert.rejects(httpText('not a url', { timeoutMs: 2000 }), /not a URL/);
  });
});
