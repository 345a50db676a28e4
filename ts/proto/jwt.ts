// The edge report signature: an HS256 JWT with claims {PostCount, BodyHash}, keyed by the 32-byte
// secret the edge sent in its (WireGuard-authenticated) Register. BodyHash is the SHA-256 hex of
// the exact body bytes, and the server really compares it (upstream's check could never fail).
// Hand-written on node:crypto: three base64url segments and one HMAC, less code than a library's
// configuration for a single fixed algorithm.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const HEADER = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export interface ReportClaims {
  PostCount: number;
  BodyHash: string;
}

export const bodyHash = (body: Uint8Array): string => createHash('sha256').update(body).digest('hex');

export function signReport(secret: Uint8Array, claims: ReportClaims): string {
  const payload = b64u(JSON.stringify(claims));
  const sig = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${sig}`;
}

/** Returns the claims, or a reason string when the token is not valid for this secret and body. */
export function verifyReport(secret: Uint8Array, token: string, body: Uint8Array): ReportClaims | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'JWT must have three parts';
  const [h, p, s] = parts;
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    return 'JWT header is not JSON';
  }
  if ((header as { alg?: unknown })?.alg !== 'HS256') return 'JWT algorithm must be HS256';
  const want = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const got = Buffer.from(s, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'JWT signature does not match';
  let claims: Partial<ReportClaims>;
  try {
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Partial<ReportClaims>;
  } catch {
    return 'JWT claims are not JSON';
  }
  if (!Number.isSafeInteger(claims.PostCount) || (claims.PostCount as number) < 0) return 'JWT PostCount missing or invalid';
  if (typeof claims.BodyHash !== 'string') return 'JWT BodyHash missing';
  const bh = Buffer.from(bodyHash(body));
  const ch = Buffer.from(claims.BodyHash);
  if (bh.length !== ch.length || !timingSafeEqual(bh, ch)) return 'body does not match the signed BodyHash';
  return { PostCount: claims.PostCount as number, BodyHash: claims.BodyHash };
}
