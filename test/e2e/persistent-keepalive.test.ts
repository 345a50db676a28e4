// Persistent keepalive between two real edges (IType dummy, static endpoints on loopback) with no
// traffic at all: a peer configured with PersistentKeepalive > 0 sends a keepalive at once, which
// (there being no session yet) is a handshake initiation, and then one keepalive per interval.
// Checked from outside through each edge's UAPI socket with the stock `wg show`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildConfigs, Proc, startEdge, stopAll, waitFor } from '../helpers/mesh.js';
import { isRoot } from '../helpers/netns.js';

const WG = '/usr/bin/wg';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `wg show <name> <what>` as rows of whitespace-separated fields. */
function wgShow(name: string, what: string): string[][] {
  return execFileSync(WG, ['show', name, what], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter((l) => l)
    .map((l) => l.split(/\s+/));
}

/** Seconds since the epoch of the latest handshake with the only peer (0 = never). */
const latestHandshake = (name: string): number => Number(wgShow(name, 'latest-handshakes')[0]?.[1] ?? 0);
/** [rx, tx] bytes with the only peer. */
const transfer = (name: string): [number, number] => {
  const r = wgShow(name, 'transfer')[0];
  return [Number(r[1]), Number(r[2])];
};

describe('e2e: persistent keepalive with no traffic (two edges, IType dummy)', function () {
  this.timeout(30_000);
  const procs: Proc[] = [];
  const tag = `${process.pid % 100000}`;
  before(function () {
    // The UAPI socket lives in /var/run/wireguard, where `wg` looks for it.
    if (!isRoot() || !existsSync(WG)) this.skip();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const p of procs) console.log(p.out.slice(-30).join('\n'));
    await stopAll(procs.splice(0));
  });

  /** Two edges 1 and 2 with the given PersistentKeepalive toward each other; returns their names. */
  async function start(ka1: number, ka2: number, suffix: string): Promise<[string, string]> {
    const port = 40000 + Math.floor(Math.random() * 5000);
    const names: [string, string] = [`egpk${tag}${suffix}1`, `egpk${tag}${suffix}2`];
    const { files } = buildConfigs({
      nodes: [
        { id: 1, host: '127.0.0.1', port, iface: { IType: 'dummy', Name: `pk${suffix}1` }, extra: { NodeName: names[0] } },
        { id: 2, host: '127.0.0.1', port: port + 1, iface: { IType: 'dummy', Name: `pk${suffix}2` }, extra: { NodeName: names[1] } },
      ],
      links: [[1, 2]],
      table: { 1: { 2: 2 }, 2: { 1: 1 } },
    });
    const { parse, stringify } = await import('yaml');
    const { readFileSync, writeFileSync } = await import('node:fs');
    // The edge without a keepalive first: the other one's first initiation goes out the moment
    // it is up, and one sent to a port nobody listens on yet is retried only REKEY_TIMEOUT later.
    const order = ka1 <= ka2 ? ([[1, ka1], [2, ka2]] as const) : ([[2, ka2], [1, ka1]] as const);
    for (const [id, ka] of order) {
      const f = files.get(id)!;
      const doc = parse(readFileSync(f, 'utf8'));
      doc.Peers[0].PersistentKeepalive = ka;
      writeFileSync(f, stringify(doc));
      const p = startEdge(f);
      procs.push(p);
      await waitFor(() => p.out.some((l) => l.includes(' up: ')), 10_000, `edge ${id} up`);
    }
    return names;
  }

  it('PersistentKeepalive 1 on one side: a handshake within a second, then a keepalive every second', async () => {
    const [a, b] = await start(1, 0, 'a');
    await waitFor(() => latestHandshake(a) > 0 && latestHandshake(b) > 0, 3000, 'a handshake between the idle edges');
    const [rx0] = transfer(b);
    await sleep(3200);
    const [rx1] = transfer(b);
    // three or so 32-byte keepalives from a (nothing else flows)
    assert.ok(rx1 - rx0 >= 2 * 32, `b received ${rx1 - rx0} bytes in 3.2 s`);
    assert.ok(rx1 - rx0 <= 5 * 32, `b received ${rx1 - rx0} bytes in 3.2 s: more than keepalives`);
    assert.deepEqual(wgShow(a, 'persistent-keepalive')[0][1], '1');
  });

  it('PersistentKeepalive 0 on both sides: no handshake without traffic', async () => {
    const [a, b] = await start(0, 0, 'b');
    await sleep(2500);
    assert.equal(latestHandshake(a), 0);
    assert.equal(latestHandshake(b), 0);
    assert.deepEqual(transfer(a), [0, 0]);
  });

  it('`wg set … persistent-keepalive 1` at run time starts the handshake at once; 0 stops the keepalives', async () => {
    const [a, b] = await start(0, 0, 'c');
    await sleep(500);
    assert.equal(latestHandshake(b), 0);
    const peerOfB = wgShow(b, 'peers')[0][0];
    execFileSync(WG, ['set', b, 'peer', peerOfB, 'persistent-keepalive', '1']);
    await waitFor(() => latestHandshake(a) > 0 && latestHandshake(b) > 0, 3000, 'the handshake after wg set');
    assert.equal(wgShow(b, 'persistent-keepalive')[0][1], '1');
    execFileSync(WG, ['set', b, 'peer', peerOfB, 'persistent-keepalive', 'off']);
    await sleep(300);
    const [rx0] = transfer(a);
    await sleep(2500);
    assert.equal(transfer(a)[0], rx0, 'no keepalives after turning it off');
    // Anything else is refused with the reason, and changes nothing.
    assert.throws(() => execFileSync(WG, ['set', b, 'listen-port', '1'], { stdio: 'pipe' }), /Operation not permitted/);
  });
});
