// Hostile HTTP clients against both supernode APIs (edge API and manage API on separate servers):
// bad JSON, 5 MB bodies, invalid UTF-8, path traversal, missing and wrong passwords, garbage
// tokens. Every answer must be a 4xx (never a 5xx, never a hang), and neither the running
// supernode nor its config file may change. Then the per-client-IP request limit: a flood of
// unauthenticated requests is answered 429 with Retry-After, on every server.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, generatePSK, parseSuperConfig } from '../ts/config/index.js';
import { Supernode } from '../ts/super/supernode.js';
import { quietLogger } from './helpers/loopback-super.js';

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw request (the path is sent exactly as given: no URL normalisation). */
function raw(base: string, method: string, path: string | Buffer, o: { body?: Buffer | string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Res> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: typeof path === 'string' ? path : path.toString('latin1'), headers: o.headers, timeout: o.timeoutMs ?? 10_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${String(path).slice(0, 80)}: no answer within ${o.timeoutMs ?? 10_000} ms (a hang)`)));
    req.on('error', reject);
    if (o.body !== undefined) req.end(o.body);
    else req.end();
  });
}

describe('hostile HTTP clients against the supernode APIs', function () {
  this.timeout(90_000);
  let dir = '';
  let path = '';
  let sn: Supernode;
  let edgeBase = '';
  let manageBase = '';
  const edgePub = generateKeyPair().publicKey;
  const saved = { test: process.env.EG_TEST, rate: process.env.EG_TEST_HTTP_RATE };

  before(async () => {
    // A limit the flood below reaches quickly; the malformed-input cases stay far below it.
    process.env.EG_TEST = '1';
    process.env.EG_TEST_HTTP_RATE = '400/20000';
    dir = mkdtempSync(join(tmpdir(), 'eg-hostile-http-'));
    path = join(dir, 'super.yaml');
    writeFileSync(
      path,
      `NodeName: HostileSN
PrivKeyV4: ${generateKeyPair().privateKey}
PrivKeyV6: ${generateKeyPair().privateKey}
DisabledAf: {IPv6: true}
API_Prefix: eg_api
Passwords: {ShowState: show, AddPeer: add, DelPeer: del, UpdatePeer: upd, UpdateSuper: sup}
Peers:
  - {NodeID: 1, Name: Edge1, PubKey: ${edgePub}, PSKey: ${generatePSK()}, AdditionalCost: 10}
`,
    );
    const cfg = parseSuperConfig(readFileSync(path, 'utf8'), path);
    cfg.ListenPort = 0;
    cfg.ListenPort_EdgeAPI = '127.0.0.1:0';
    cfg.ListenPort_ManageAPI = '127.0.0.2:0';
    cfg.DisabledAf.ListenIPv4 = '127.0.0.1';
    sn = new Supernode(cfg, { configPath: path, log: quietLogger('hostile-super'), uapi: false });
    await sn.start();
    edgeBase = sn.httpAddress();
    manageBase = sn.manageAddress();
    assert.notEqual(edgeBase, manageBase, 'two servers');
  });
  after(async () => {
    await sn?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.env.EG_TEST = saved.test;
    process.env.EG_TEST_HTTP_RATE = saved.rate;
    if (saved.test === undefined) delete process.env.EG_TEST;
    if (saved.rate === undefined) delete process.env.EG_TEST_HTTP_RATE;
  });

  const snapshot = () => ({ file: readFileSync(path, 'utf8'), peers: Object.keys(sn.state().PeerInfo).sort(), ac: sn.edges.get(1)?.conf.AdditionalCost, params: JSON.stringify(sn.cfg.PeerAliveTimeout) });

  it('malformed requests get 4xx with a JSON error, never 5xx or a hang, and change nothing', async () => {
    const before = snapshot();
    const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const badUtf8 = Buffer.from([0x7b, 0x22, 0x4e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]); // {"Name":"\xff\xfe\xc3("}
    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const k = generateKeyPair().publicKey;
    const addQ = `NodeID=9&Name=X9&AdditionalCost=1&PubKey=${encodeURIComponent(k)}`;
    const cases: Array<[string, string, string, string | Buffer, { body?: Buffer | string; headers?: Record<string, string> }?]> = [
      // manage API
      ['bad JSON', manageBase, 'POST', `/eg_api/manage/peer/add?Password=add`, { body: '{"NodeID": 9, "Name": ', headers: json }],
      ['JSON that is not an object', manageBase, 'POST', `/eg_api/manage/peer/add?Password=add`, { body: '[1,2,3]', headers: json }],
      ['5 MB JSON body', manageBase, 'POST', `/eg_api/manage/peer/add?Password=add`, { body: big, headers: json }],
      ['5 MB form body', manageBase, 'POST', `/eg_api/manage/super/update?Password=sup`, { body: big, headers: form }],
      ['invalid UTF-8 in a JSON body', manageBase, 'POST', `/eg_api/manage/peer/add?Password=add&${addQ.replace('Name=X9&', '')}`, { body: badUtf8, headers: json }],
      ['invalid UTF-8 percent-escapes in the query', manageBase, 'GET', `/eg_api/manage/peer/add?Password=add&NodeID=9&Name=%FF%FE%C3%28&AdditionalCost=1&PubKey=${encodeURIComponent(k)}`],
      ['invalid UTF-8 raw bytes in the path', manageBase, 'GET', Buffer.from([...Buffer.from('/eg_api/manage/'), 0xff, 0xfe, ...Buffer.from('/state')])],
      ['invalid UTF-8 in a form body', manageBase, 'POST', `/eg_api/manage/peer/update?Password=upd`, { body: Buffer.from([0x4e, 0x6f, 0x64, 0x65, 0x49, 0x44, 0x3d, 0xff, 0x31]), headers: form }],
      ['path traversal into the playground', manageBase, 'GET', '/eg_api/playground/../../../../../../etc/passwd'],
      ['encoded path traversal into the playground', manageBase, 'GET', '/eg_api/playground/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd'],
      ['double-encoded path traversal into the dashboard', manageBase, 'GET', '/eg_api/dashboard/%252e%252e/%252e%252e/%252e%252e/etc/passwd'],
      ['dot segments into the dashboard', manageBase, 'GET', '/eg_api/dashboard/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd'],
      ['missing password', manageBase, 'GET', `/eg_api/manage/peer/add?${addQ}`],
      ['wrong password', manageBase, 'GET', `/eg_api/manage/peer/add?Password=nope&${addQ}`],
      ['wrong bearer token', manageBase, 'GET', `/eg_api/manage/super/state`, { headers: { authorization: 'Bearer nope' } }],
      ['wrong password as a number', manageBase, 'POST', `/eg_api/manage/peer/del`, { body: '{"Password": 123, "NodeID": 1}', headers: json }],
      ['a private key that is not base64', manageBase, 'GET', `/eg_api/manage/peer/del?PrivKey=%00%01not-a-key`],
      ['a 60 kB parameter', manageBase, 'GET', `/eg_api/manage/peer/update?Password=upd&NodeID=1&AdditionalCost=${'9'.repeat(60_000)}`],
      ['an unsupported content type', manageBase, 'POST', `/eg_api/manage/peer/add?Password=add`, { body: '<xml/>', headers: { 'content-type': 'application/xml' } }],
      ['a NodeID that is not a number', manageBase, 'GET', `/eg_api/manage/peer/update?Password=upd&NodeID=abc`],
      ['a prototype-polluting body', manageBase, 'POST', `/eg_api/manage/peer/update?Password=upd`, { body: '{"NodeID": 1, "__proto__": {"AdditionalCost": 0}, "constructor": {"prototype": {"x": 1}}}', headers: json }],
      // edge API
      ['edge API: NodeID not a number', edgeBase, 'GET', `/eg_api/edge/peerinfo?NodeID=abc&PubKey=x&State=y`],
      ['edge API: unknown NodeID', edgeBase, 'GET', `/eg_api/edge/peerinfo?NodeID=77&PubKey=x&State=y`],
      ['edge API: wrong PubKey', edgeBase, 'GET', `/eg_api/edge/nhtable?NodeID=1&PubKey=${encodeURIComponent(k)}&State=y`],
      ['edge API: stale State', edgeBase, 'GET', `/eg_api/edge/superparams?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&State=y`],
      ['edge API: bad JSON report', edgeBase, 'POST', `/eg_api/edge/post/nodeinfo?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&JWTSig=a.b.c`, { body: '{"Pongs": [', headers: json }],
      ['edge API: 5 MB report', edgeBase, 'POST', `/eg_api/edge/post/nodeinfo?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&JWTSig=a.b.c`, { body: big, headers: json }],
      ['edge API: garbage JWT', edgeBase, 'POST', `/eg_api/edge/post/nodeinfo?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&JWTSig=%FF%FE.%00.x`, { body: '{"v":1,"Pongs":[],"LocalV4s":{},"LocalV6s":{}}', headers: json }],
      ['edge API: invalid UTF-8 report', edgeBase, 'POST', `/eg_api/edge/post/nodeinfo?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&JWTSig=a.b.c`, { body: badUtf8, headers: json }],
      ['edge API: path traversal', edgeBase, 'GET', '/eg_api/edge/../../../../etc/passwd'],
      ['edge API: the manage API is not on this server', edgeBase, 'GET', '/eg_api/manage/super/state?Password=show'],
    ];
    const bad: string[] = [];
    for (const [what, base, method, p, o] of cases) {
      let r: Res;
      try {
        r = await raw(base, method, p, o);
      } catch (e) {
        const m = (e as Error).message;
        // A server may close the connection on a body over its limit after answering 413.
        if (/ECONNRESET|EPIPE/.test(m) && /5 MB/.test(what)) continue;
        bad.push(`${what}: ${m}`);
        continue;
      }
      if (r.status < 400 || r.status >= 500) bad.push(`${what}: ${r.status} ${r.body.slice(0, 200)}`);
      else if (r.body.includes('root:')) bad.push(`${what}: served a file outside its root`);
      else if (r.status !== 404 || !/passwd/.test(String(p))) {
        // Every refusal is a JSON error body naming the problem.
        try {
          const j = JSON.parse(r.body) as { statusCode?: number; message?: string };
          if (j.statusCode !== r.status || !j.message) bad.push(`${what}: error body without statusCode/message: ${r.body.slice(0, 200)}`);
        } catch {
          bad.push(`${what}: ${r.status} with a body that is not JSON: ${r.body.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(bad, []);
    assert.deepEqual(snapshot(), before, 'the running state and the config file are unchanged');
    // Still serving: a correct request works afterwards.
    const ok = await raw(manageBase, 'GET', '/eg_api/manage/super/state?Password=show');
    assert.equal(ok.status, 200);
  });

  it('a flood of unauthenticated requests from one address is answered 429 with Retry-After on both servers', async () => {
    const limit = /rate limit: more than 400 requests in 20 s/;
    for (const [base, p, why] of [
      [edgeBase, `/eg_api/edge/peerinfo?NodeID=1&PubKey=${encodeURIComponent(edgePub)}&State=nope`, limit],
      [edgeBase, '/no/such/path', limit],
      [manageBase, '/eg_api/playground/index.html', limit],
      // Missing passwords are also refused by the failure limiter (10 in 60 s); this server's
      // request limit is already used up by the playground flood above.
      [manageBase, '/eg_api/manage/peer/add?NodeID=5', /too many failed attempts|rate limit/],
    ] as const) {
      const statuses = new Map<number, number>();
      let limited: Res | undefined;
      // 500 requests, 25 at a time; the test limit is 400 per 20 s per client address.
      for (let i = 0; i < 500 && !limited; i += 25) {
        const rs = await Promise.all(Array.from({ length: 25 }, () => raw(base, 'GET', p)));
        for (const r of rs) {
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 429 && !limited) limited = r;
          assert.ok(r.status < 500, `${p}: ${r.status} ${r.body.slice(0, 200)}`);
        }
      }
      assert.ok(limited, `${base}${p}: no 429 after 500 requests (${JSON.stringify([...statuses])})`);
      assert.match(String(limited.headers['retry-after']), /^\d+$/);
      assert.match((JSON.parse(limited.body) as { message: string }).message, why);
    }
    // Another client address still gets through to the manage API (the limit is per address).
    // (127.0.0.2 binds the manage server; 127.0.0.3 is another loopback source.)
    const r = await new Promise<number>((resolve, reject) => {
      const u = new URL(manageBase);
      const req = request({ host: u.hostname, port: u.port, path: '/eg_api/manage/super/state?Password=show', localAddress: '127.0.0.3' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 200);
  });
});
