// A TCP stream of random bytes through a tunnel, checked end to end: a server in one namespace
// hashes what it receives, a client in another sends BYTES random bytes and hashes what it sent;
// the SHA-256 digests and byte counts must match. Also the kernel's TCP checksum-error counter.
// Used by the e2e data-path suites (edge-offload, edge-aead-workers).
import assert from 'node:assert/strict';
import { runIn, sh } from './netns.js';

/** TCP server in `ns` that hashes what it receives; resolves with the hex digest. */
export const SERVER = `
const { createServer } = require('node:net');
const { createHash } = require('node:crypto');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const srv = createServer((c) => {
  const h = createHash('sha256');
  let n = 0;
  c.on('data', (d) => { h.update(d); n += d.length; });
  c.on('end', () => { console.log(JSON.stringify({ n, sha: h.digest('hex') })); srv.close(); });
});
srv.listen(port, host, () => console.log('listening'));
`;
/** TCP client that sends `bytes` random bytes and prints their digest. */
export const CLIENT = `
const { connect } = require('node:net');
const { createHash, randomBytes } = require('node:crypto');
const [host, port, bytes] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const h = createHash('sha256');
const c = connect({ host, port }, () => {
  let left = bytes;
  const more = () => {
    while (left > 0) {
      const b = randomBytes(Math.min(left, 256 << 10));
      left -= b.length;
      h.update(b);
      if (!c.write(b)) return c.once('drain', more);
    }
    c.end(() => console.log(JSON.stringify({ n: bytes, sha: h.digest('hex') })));
  };
  more();
});
`;

export function tcpInCsumErrors(ns: string): number {
  const snmp = sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Tcp:'));
  const keys = snmp[0].split(/\s+/);
  const vals = snmp[1].split(/\s+/);
  return Number(vals[keys.indexOf('InCsumErrors')]);
}

/** Sends `bytes` random bytes from namespace `from` to `addr`:`port` in `to` and checks they arrive intact. */
export async function transfer(from: string, to: string, addr: string, port: number, bytes: number): Promise<void> {
  const node = process.execPath;
  const server = runIn(to, node, ['-e', SERVER, addr, String(port)], { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 400)); // the server is listening well within this
  const client = await runIn(from, node, ['-e', CLIENT, addr, String(port), String(bytes)], { timeoutMs: 60_000 });
  const srv = await server;
  assert.equal(client.code, 0, client.stderr);
  assert.equal(srv.code, 0, srv.stderr);
  const sent = JSON.parse(client.stdout.trim().split('\n').pop()!) as { n: number; sha: string };
  const got = JSON.parse(srv.stdout.trim().split('\n').pop()!) as { n: number; sha: string };
  assert.equal(got.n, bytes, `bytes received over ${addr}`);
  assert.equal(got.sha, sent.sha, `SHA-256 of the stream over ${addr}`);
}
