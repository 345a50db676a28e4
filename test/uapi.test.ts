import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { startUapi, UapiDevice, UapiHandle } from '../ts/uapi/server.js';
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

  it('answers malformed requests with errno=22 and refuses a second server on the same name', async () => {
    const reply = await new Promise<string>((res) => {
      const c = connect(h!.path);
      let s = '';
      c.on('data', (d) => (s += d.toString()));
      c.on('close', () => res(s));
      c.write('frobnicate=1\n\n');
    });
    assert.equal(reply, 'errno=22\n\n');
    await assert.rejects(startUapi(name, dev), /in use by another process/);
  });

  it('passes `wg set` operations to the device', async () => {
    sets = [];
    await wg('set', name, 'listen-port', '51999');
    assert.deepEqual(sets[0], [['listen_port', '51999']]);
  });
});
