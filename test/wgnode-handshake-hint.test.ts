// Log lines that point at a misconfigured peer (ts/wgnode/host.ts): a peer that never answers our
// handshake initiations (a wrong PubKey looks exactly like this: the responder drops the
// initiation silently) gets one default-level hint after a few attempts, and no empty fields.
import assert from 'node:assert/strict';
import { generateKeyPair } from '../ts/config/index.js';
import { keyFromBase64 } from '../ts/core/wg.js';
import { systemClock } from '../ts/wgnode/clock.js';
import { WgHost, type HostLog } from '../ts/wgnode/host.js';

function logTo(lines: string[]): HostLog {
  const w = (level: string) => (msg: string, f?: Record<string, unknown>) =>
    lines.push(`${level}: ${msg}${f ? ' ' + Object.entries(f).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`).join(' ') : ''}`);
  return { info: w('info'), internal: w('internal'), error: w('error'), debug: w('debug'), drop: w('drop') };
}

// Short WireGuard timers (s) so that a few attempts take a second, not 15.
const TIMERS = { rekeyTimeout: 0.2, keepaliveTimeout: 0.2, rekeyAttemptTime: 30 };

async function until(f: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('wgnode: log hints about peers', function () {
  this.timeout(20_000);
  const hosts: WgHost[] = [];
  after(async () => {
    for (const h of hosts) await h.close();
  });

  function host(lines: string[], key = generateKeyPair().privateKey): WgHost {
    const h = new WgHost({ privateKey: key, port: 0, v4: true, v6: false, listenV4: '127.0.0.1', clock: systemClock(), log: logTo(lines), timers: TIMERS });
    hosts.push(h);
    return h;
  }

  it('"peer added" omits an empty endpoint', async () => {
    const lines: string[] = [];
    const a = host(lines);
    await a.open();
    a.addPeer(2, keyFromBase64(generateKeyPair().publicKey), undefined, {});
    a.addPeer(3, keyFromBase64(generateKeyPair().publicKey), undefined, { endpoint: '127.0.0.1:9' });
    assert.deepEqual(lines.filter((l) => l.includes('peer added')), ['internal: peer added node=2', 'internal: peer added node=3 endpoint=127.0.0.1:9']);
  });

  it('a peer that never answers (its PubKey configured wrong) gets one info line after 3 initiations, not repeated while it stays silent', async () => {
    const linesA: string[] = [];
    const linesB: string[] = [];
    const bKey = generateKeyPair();
    const a = host(linesA);
    const b = host(linesB, bKey.privateKey);
    await a.open();
    await b.open();
    const aPub = keyFromBase64(generateKeyPair().publicKey); // not A's key: B does not know A
    b.addPeer(1, aPub, undefined, {});
    // A's peer 2 is B, with a wrong public key: B cannot decrypt the initiations and drops them.
    const wrong = a.addPeer(2, keyFromBase64(generateKeyPair().publicKey), undefined, { keepalive: 1 });
    wrong.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
    a.kick();
    const hints = () => linesA.filter((l) => /^info: no handshake with peer 2 at 127\.0\.0\.1:\d+ after 3 attempts: check its PubKey and that it runs/.test(l));
    await until(() => hints().length > 0, 8_000);
    assert.equal(hints().length, 1, linesA.join('\n'));
    const sent = () => linesA.filter((l) => /handshake initiation sent node=2/.test(l)).length;
    const before = sent();
    await until(() => sent() >= before + 3, 8_000);
    assert.equal(hints().length, 1, 'said once while it stays silent');
  });

  it('a peer that answers gets no hint', async () => {
    const linesA: string[] = [];
    const aKey = generateKeyPair();
    const bKey = generateKeyPair();
    const a = host(linesA, aKey.privateKey);
    const b = host([], bKey.privateKey);
    await a.open();
    await b.open();
    b.addPeer(1, keyFromBase64(aKey.publicKey), undefined, {});
    const pb = a.addPeer(2, keyFromBase64(bKey.publicKey), undefined, { keepalive: 1 });
    pb.endpoint = { address: '127.0.0.1', port: b.port, family: 4 };
    a.kick();
    await until(() => pb.lastHandshakeMs > 0, 8_000);
    assert.ok(pb.lastHandshakeMs > 0, 'handshake completed');
    await new Promise((r) => setTimeout(r, 1000)); // keepalives and rekey timers run on
    assert.deepEqual(linesA.filter((l) => /no handshake/.test(l)), []);
  });
});
