// WireGuard-style keys: standard base64 of exactly 32 bytes (Curve25519 keys and PSKs alike).
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';

/** Returns why `s` is not a key, or null when it is one. */
export function keyProblem(s: string): string | null {
  // Buffer.from(…, 'base64') silently skips bad characters, so the text is checked first and
  // the decoded bytes re-encoded to refuse non-canonical forms.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    return 'is not valid base64 (expected 44 characters of A-Z a-z 0-9 + / ending in =, as printed by `wg genkey`)';
  }
  const raw = Buffer.from(s, 'base64');
  if (raw.toString('base64') !== s) return 'is not valid base64 (non-canonical padding)';
  if (raw.length !== 32) return `must decode to a 32-byte key, got ${raw.length} bytes`;
  return null;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

const b64 = (u: string | undefined): string => Buffer.from(u ?? '', 'base64url').toString('base64');

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey: b64(privateKey.export({ format: 'jwk' }).d), publicKey: b64(publicKey.export({ format: 'jwk' }).x) };
}

export function generatePSK(): string {
  return randomBytes(32).toString('base64');
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410), the form node:crypto imports.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Public key for a base64 X25519 private key (any 32 bytes; clamping happens inside X25519). */
export function publicKeyOf(privateKey: string): string {
  const der = Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, 'base64')]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  return b64(pub.export({ format: 'jwk' }).x);
}

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
let probe: ReturnType<typeof generateKeyPairSync> | undefined;

/**
 * Why a (valid base64) public key cannot be a peer's, or null: a low-order point (all zeros and
 * the like) makes every Diffie-Hellman result zero, which WireGuard refuses at handshake time.
 */
export function publicKeyProblem(s: string): string | null {
  const raw = Buffer.from(s, 'base64');
  try {
    probe ??= generateKeyPairSync('x25519');
    const pub = createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
    const shared = diffieHellman({ privateKey: probe.privateKey, publicKey: pub });
    if (shared.every((b) => b === 0)) throw new Error('zero');
  } catch {
    return 'is a low-order Curve25519 point (for example all zeros), not a usable public key';
  }
  return null;
}
