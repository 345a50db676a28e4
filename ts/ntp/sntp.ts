// A small SNTP client (RFC 4330, NTPv4 packet format of RFC 5905 §7.3): one request, one reply,
// clock offset and round-trip delay from the four timestamps.
//
// Why not an npm client: @hapi/sntp, ntp-time-sync, ntp-client, ntp-time and
// @destinationstransfers/ntp all open `udp4` sockets only (no IPv6 servers, which upstream's
// beevik/ntp supports), and all time the exchange with Date.now(), a whole-millisecond clock that
// is not the edge's clock object; ntp-time-sync also averages absolute differences, which is not
// the RFC offset. The offset applied to an edge must be measured against that edge's own clock
// (ts/wgnode/clock.ts), so the local timestamps here come from a caller-supplied clock.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_DELTA = 2_208_988_800;

export interface SntpResult {
  /** Server clock minus local clock, milliseconds (RFC 4330 §5: ((T2-T1)+(T3-T4))/2). */
  offsetMs: number;
  /** Round-trip delay, milliseconds ((T4-T1)-(T3-T2)), never below 0. */
  rttMs: number;
  /** The address queried (after name resolution). */
  address: string;
  stratum: number;
}

export class SntpError extends Error {}

/**
 * Splits a configured server into host and port: `host`, `host:port`, `1.2.3.4:123`,
 * `[2001:db8::1]:123`, or a bare IPv6 address. Port defaults to 123.
 */
export function parseServer(s: string): { host: string; port: number } {
  const t = s.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : 123 };
  if (isIP(t) === 6) return { host: t, port: 123 };
  const c = t.lastIndexOf(':');
  if (c > 0 && /^\d+$/.test(t.slice(c + 1))) return { host: t.slice(0, c), port: Number(t.slice(c + 1)) };
  return { host: t, port: 123 };
}

/** NTP 64-bit timestamp at `buf[off]` as Unix milliseconds (RFC 4330 §3 era rule: MSB 0 = 2036..2104). */
function readTimestamp(buf: Buffer, off: number): number {
  const sec = buf.readUInt32BE(off);
  const frac = buf.readUInt32BE(off + 4);
  const era = (sec & 0x80000000) === 0 ? 2 ** 32 : 0;
  return (sec + era - NTP_UNIX_DELTA) * 1000 + (frac / 2 ** 32) * 1000;
}

/**
 * Queries one server once. `nowMs` is the local clock the offset is measured against (Unix ms,
 * fractional allowed). Rejects with SntpError on timeout (`timeoutMs`, name resolution included),
 * a reply that does not answer our request (wrong origin timestamp: spoofed or stale), a
 * kiss-o'-death (stratum 0) or an unsynchronised server (leap indicator 3, stratum > 15).
 */
export function querySntp(server: string, timeoutMs: number, nowMs: () => number): Promise<SntpResult> {
  const { host, port } = parseServer(server);
  let sock: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  const done = () => {
    settled = true;
    if (timer) clearTimeout(timer);
    try {
      sock?.close();
    } catch {
      /* already closed */
    }
  };
  return new Promise<SntpResult>((resolve, reject) => {
    const fail = (m: string) => {
      if (settled) return;
      done();
      reject(new SntpError(m));
    };
    timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
    const addr = isIP(host) ? Promise.resolve({ address: host, family: isIP(host) }) : lookup(host);
    addr.then(
      ({ address, family }) => {
        if (settled) return;
        const s = createSocket(family === 6 ? 'udp6' : 'udp4');
        sock = s;
        // The transmit timestamp is only an identifier for the reply (the server copies it to
        // the originate field); random bits keep off-path replies from matching (RFC 5905 §8).
        const req = Buffer.alloc(48);
        req[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
        const cookie = randomBytes(8);
        cookie.copy(req, 40);
        let t1 = 0;
        s.on('error', (e) => fail(e.message));
        s.on('message', (msg) => {
          const t4 = nowMs();
          if (settled) return;
          if (msg.length < 48) return; // not an NTP reply; keep waiting for one
          if (!msg.subarray(24, 32).equals(cookie)) return; // not the answer to our request
          const li = msg[0]! >> 6;
          const mode = msg[0]! & 7;
          const stratum = msg[1]!;
          if (mode !== 4) return fail(`reply has mode ${mode}, not 4 (server)`);
          if (stratum === 0) return fail(`kiss-o'-death ${JSON.stringify(msg.subarray(12, 16).toString('latin1'))}`);
          if (li === 3 || stratum > 15) return fail(`server is not synchronised (leap indicator ${li}, stratum ${stratum})`);
          if (msg.readUInt32BE(40) === 0 && msg.readUInt32BE(44) === 0) return fail('reply has no transmit timestamp');
          const t2 = readTimestamp(msg, 32);
          const t3 = readTimestamp(msg, 40);
          done();
          resolve({ offsetMs: (t2 - t1 + (t3 - t4)) / 2, rttMs: Math.max(0, t4 - t1 - (t3 - t2)), address, stratum });
        });
        t1 = nowMs();
        s.send(req, port, address, (e) => {
          if (e) fail(e.message);
        });
      },
      (e: Error) => fail(`cannot resolve ${host}: ${(e as NodeJS.ErrnoException).code ?? e.message}`),
    );
  });
}
