// The edge's HTTP client for the supernode's edge API (pulls and signed reports), on node:http
// and node:https. Why not fetch(): Node 20 loads its fetch (undici) on first use, about 35 ms of
// CPU more than node:http for the first request, and every edge makes that request at start; a
// machine starting a mesh pays it once per edge (docs/benchmarks.md, "Process start"). Both use
// Node's CA store and a keep-alive agent; this one also caps the answer's size.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** An answer: the status and the whole body as text (UTF-8). */
export interface HttpAnswer {
  status: number;
  /** 2xx. */
  ok: boolean;
  text: string;
}

/**
 * Answers larger than this are refused (bytes). The largest the edge API sends is a peer list:
 * about 400 bytes per peer, so 64 MiB is 160,000 peers, far beyond a 16-bit NodeID space.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * One HTTP request to `url` (http: or https:); resolves to the answer whatever its status.
 * Rejects with an Error naming the reason when the request cannot be made or the answer is not
 * complete within `timeoutMs` (ms, connect to last byte), or is larger than `maxBytes` (default
 * MAX_ANSWER_BYTES).
 */
export function httpText(url: string, o: { method?: 'GET' | 'POST'; body?: Buffer; headers?: Record<string, string>; timeoutMs: number; maxBytes?: number }): Promise<HttpAnswer> {
  const cap = o.maxBytes ?? MAX_ANSWER_BYTES;
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`not a URL: ${url}`));
      return;
    }
    const send = u.protocol === 'https:' ? httpsRequest : u.protocol === 'http:' ? httpRequest : undefined;
    if (!send) {
      reject(new Error(`unsupported protocol ${u.protocol} in ${url}`));
      return;
    }
    const headers = { ...o.headers, ...(o.body ? { 'content-length': String(o.body.length) } : {}) };
    let done = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(answer!);
    };
    const req = send(u, { method: o.method ?? 'GET', headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > cap) finish(new Error(`answer larger than ${cap} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        finish(undefined, { status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => finish(e));
      res.on('aborted', () => finish(new Error('the connection closed before the answer was complete')));
    });
    const timer = setTimeout(() => finish(new Error(`no complete answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    timer.unref?.();
    req.on('error', (e) => finish(e));
    req.end(o.body);
  });
}
