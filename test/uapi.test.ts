import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEndpoint } from '../ts/config/endpoint.js';
import { startUapi, uapiSocketPath, UapiDevice, UapiHandle } from '../ts/uapi/server.js';
import { isRoot } from './helpers/netns.js';

// wg must run asynchronously: the UAPI server lives in this very event loop.
const wg = async (...a: string[]) => (await promisify(execFile)('wg', a, { encoding: 'utf8' })).stdout;

function x25519(): { priv: Buffer; pub: Buffer } {
  const k = generateKeyPairSync('x25519');
  const priv = Buffer.from(k.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(k.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { priv, pub };
}

describe('UAPI: the real wg(8) talks to our socket', function () {
  const name = `egu${process.pid % 100000}`;
  const me = x25519();
  const peer = x25519();
  const psk = Buffer.alloc(32, 7);
  let h: UapiHandle | undefined;
  let sets: [string, string][][] = [];
  const dev: UapiDevice = {
    privateKey: () => me.priv,
    listenPort: () => 51820,
    fwmark: () => 0,
    peers: () => [
      {
        publicKey: peer.pub,
        presharedKey: psk,
        endpoint: '192.0.2.7:3001',
        // Fractional inputs (sub-ms clocks) must still come out as integers.
        lastHandshake: { sec: Date.now() / 1000 - 5, nsec: 123456.789 },
        rxBytes: 123456n,
        txBytes: 654321n,
        persistentKeepalive: 25,
      },
    ],
    set: (ops) => {
      sets.push(ops);
      return 0;
    },
  };

  before(async function () {
    if (!isRoot()) this.skip();
    try {
      execFileSync('wg', ['--version']);
    } catch {
      throw new Error('wireguard-tools (wg) is not installed: run scripts/bootstrap.sh');
    }
    h = await startUapi(name, dev);
  });
  after(async () => h?.close());

  it('`wg show NAME dump` lists our key, the peer, endpoint, handshake and counters', async () => {
    const out = (await wg('show', name, 'dump')).trim().split('\n');
    assert.equal(out.length, 2);
    const [priv, pub, port] = out[0].split('\t');
    assert.equal(priv, me.priv.toString('base64'));
    assert.equal(pub, me.pub.toString('base64'));
    assert.equal(port, '51820');
    const f = out[1].split('\t');
    assert.equal(f[0], peer.pub.toString('base64'));
    assert.equal(f[1], psk.toString('base64'));
    assert.equal(f[2], '192.0.2.7:3001');
    assert.equal(f[3], '0.0.0.0/0,::/0');
    assert.ok(Math.abs(Number(f[4]) - (Date.now() / 1000 - 5)) < 5);
    assert.equal(f[5], '123456');
    assert.equal(f[6], '654321');
    assert.equal(f[7], '25');
  });

  it('human `wg show NAME` names the interface and the transfer', async () => {
    const out = await wg('show', name);
    assert.match(out, new RegExp(`interface: ${name}`));
    assert.match(out, /transfer: 120\.56 KiB received, 638\.99 KiB sent/);
  });

  it('answers malformed requests with errno=-22 (negated, as wireguard-go) and refuses a second server on the same name', async () => {
    const reply = await new Promise<string>((res) => {
      const c = connect(h!.path);
      let s = '';
      c.on('data', (d) => (s += d.toString()));
      c.on('close', () => res(s));
      c.write('frobnicate=1\n\n');
    });
    assert.equal(reply, 'errno=-22\n\n');
    await assert.rejects(startUapi(name, dev), /in use by another process/);
  });

  it('passes `wg set` operations to the device', async () => {
    sets = [];
    await wg('set', name, 'listen-port', '51999');
    assert.deepEqual(sets[0], [['listen_port', '51999']]);
  });

  /** One raw UAPI request on a fresh connection; resolves with the whole reply. */
  const raw = (text: string) =>
    new Promise<string>((res) => {
      const c = connect(h!.path);
      let out = '';
      c.on('data', (d) => {
        out += d.toString();
        if (out.endsWith('\n\n')) c.end();
      });
      c.on('close', () => res(out));
      c.write(text);
    });

  it('`wg set … endpoint X` arrives with the address and port our parser reads from X (every accepted literal form)', async () => {
    const key = peer.pub.toString('base64');
    for (const form of ['1.2.3.4:51820', '[2001:db8::1]:51820', '[fe80::1%lo]:5', '[1.2.3.4]:5', '[localhost]:5', '1.2.3.4:051', '1.2.3.4:domain', 'localhost:65535']) {
      sets = [];
      await wg('set', name, 'peer', key, 'endpoint', form);
      const sent = sets[0]?.find((o) => o[0] === 'endpoint')?.[1];
      const ours = parseEndpoint(form);
      assert.ok(ours.ok, form);
      const theirs = parseEndpoint(sent ?? '', { numeric: true });
      assert.ok(theirs.ok, `${form}: wg sent ${sent}`);
      assert.equal(theirs.value.port, ours.value.port, form);
      if (ours.value.kind !== 'name') assert.equal(theirs.value.host, ours.value.host, form);
    }
  });

  it('an endpoint= line that breaks the endpoint rules is answered with EINVAL and not applied', async () => {
    sets = [];
    const pk = `public_key=${peer.pub.toString('hex')}`;
    for (const bad of ['1.2.3.4', '1.2.3.4:0', '::1:51820', 'host.example:5', '1.2.3.4:65536']) {
      assert.equal(await raw(`set=1\n${pk}\nendpoint=${bad}\n\n`), 'errno=-22\n\n', bad);
    }
    assert.deepEqual(sets, []);
    assert.equal(await raw(`set=1\n${pk}\nendpoint=[fe80::1%lo]:7\n\n`), 'errno=0\n\n');
    assert.deepEqual(sets[0], [['public_key', peer.pub.toString('hex')], ['endpoint', '[fe80::1%lo]:7']]);
  });

  it('a refused `wg set` makes wg(8) print the errno\'s name ("Invalid argument"), not "Unknown error -22"', async () => {
    sets = [];
    const err = await wg('set', name, 'peer', peer.pub.toString('base64'), 'endpoint', '1.2.3.4:0').then(
      () => assert.fail('wg set with port 0 must fail'),
      (e: { stderr: string }) => e.stderr,
    );
    assert.match(err, /Invalid argument/);
    assert.doesNotMatch(err, /Unknown error/);
    assert.deepEqual(sets, []);
  });

  it('`wg show` reaches a UAPI socket with a 32-byte name (the longest NodeName)', async () => {
    const long = `eg${process.pid}`.padEnd(32, 'x');
    const h2 = await startUapi(long, dev);
    try {
      assert.match(await wg('show', long, 'listen-port'), /^51820\n$/);
    } finally {
      await h2.close();
    }
  });
});

describe('UAPI socket path: the name cannot leave the socket directory', () => {
  it('refuses names with "/", "." / "..", or control characters, and paths over the unix socket limit, before creating anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eg-uapi-'));
    const outside = join(tmpdir(), `eg-uapi-escape-${process.pid}.sock`);
    const old = process.env.EG_UAPI_DIR;
    process.env.EG_UAPI_DIR = join(dir, 'sock');
    const dev: UapiDevice = { privateKey: () => new Uint8Array(32), listenPort: () => 1, fwmark: () => 0, peers: () => [] };
    try {
      await assert.rejects(startUapi(`../../../..${outside.replace(/\.sock$/, '')}`, dev), /contains '\/'.*must stay in that directory/);
      await assert.rejects(startUapi('site/office-2', dev), /UAPI name "site\/office-2": "site\/office-2" contains '\/'/);
      await assert.rejects(startUapi('..', dev), /not a usable file name/);
      await assert.rejects(startUapi('a\nb', dev), /control character/);
      assert.equal(existsSync(outside), false);
      assert.equal(existsSync(join(dir, 'sock')), false);
      assert.throws(() => uapiSocketPath('/' + 'd'.repeat(100), 'node1'), /at most 107/);
      assert.equal(uapiSocketPath(dir, 'n1'), join(dir, 'n1.sock'));
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      if (old === undefined) delete process.env.EG_UAPI_DIR;
      else process.env.EG_UAPI_DIR = old;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

