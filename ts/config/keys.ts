// WireGuard-style keys: standard base64 of exactly 32 bytes (Curve25519 keys and PSKs alike).
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';

const B64 = /[A-Za-z0-9+/]/;
// With 32 bytes the 43rd character carries 4 data bits and 2 bits that must be zero.
const LAST_CANONICAL = 'AEIMQUYcgkosw048';

/**
 * A key as written in a config file, cleaned the way the tools that read keys do: surrounding
 * whitespace goes (a YAML block scalar `|` ends the key with a newline; `wg` key files end in
 * one too) and so do line breaks inside (etherguard-go's Go base64 decoder skips '\r' and '\n'
 * anywhere, so a key wrapped in a literal block loads there). Spaces and tabs inside stay, so
 * that keyProblem can name them: Go refuses them too.
 */
export function cleanKey(s: string): string {
  return s.replace(/[\r\n]+/g, '').trim();
}

/**
 * Why `s` (exactly as given) is not a WireGuard key, or null when it is one: 44 characters of
 * standard base64 encoding 32 bytes, ending in '=' with the unused low bits zero, as printed by
 * `wg genkey` / `wg pubkey` / `wg genpsk` and accepted by wireguard-tools' key_from_base64.
 * Each refusal names the cause: whitespace (with its position), the length, a character
 * outside the alphabet (with its position), misplaced '=', non-canonical last character.
 */
export function keyProblem(s: string): string | null {
  const ws = /\s/.exec(s);
  if (ws) {
    const where = ws.index === 0 ? 'before the key' : s.slice(ws.index).trim() === '' ? 'after the key' : 'inside the key';
    const what = ws[0] === ' ' ? 'a space' : ws[0] === '\t' ? 'a tab' : ws[0] === '\n' || ws[0] === '\r' ? 'a line break' : 'whitespace';
    return `contains whitespace ${where} (${what} at position ${ws.index + 1}); a key is 44 characters with nothing between them`;
  }
  if (/^[0-9a-fA-F]{64}$/.test(s)) return 'has 64 hex digits (the UAPI form); write the key in base64, as `wg genkey` prints it (44 characters)';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (B64.test(c) || c === '=') continue;
    const hint = c === '-' || c === '_' ? ' (URL-safe base64? use + and / instead of - and _)' : '';
    return `character ${JSON.stringify(c)} at position ${i + 1} is not in the base64 alphabet (A-Z a-z 0-9 + /, ending in =)${hint}`;
  }
  if (s.length !== 44) return `has ${s.length} characters; a key has 44 (43 base64 characters and a final '=')`;
  const eq = s.indexOf('=');
  if (eq !== 43) return `has '=' at position ${eq + 1}; a 32-byte key has exactly one '=', at the end (position 44)`;
  if (!LAST_CANONICAL.includes(s[42]!)) {
    const raw = Buffer.from(s, 'base64');
    return `is not canonical base64: character ${JSON.stringify(s[42])} at position 43 sets bits that a 32-byte key does not have (wg refuses it); the canonical spelling is ${raw.toString('base64')}`;
  }
  return null;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}


/**
 * A new X25519 key pair, base64, as `wg genkey | tee priv | wg pubkey` makes: 32 random bytes
 * clamped (RFC 7748 §5), and its public key.
 *
 * Not generateKeyPairSync + export({format: 'jwk'}): on Node 20 that can deadlock the process
 * (seen in a supernode answering peer/add): the JWK export holds the key's mutex while it
 * allocates, a GC then runs the finished KeyGenJob's destructor, which takes the same mutex.
 */
export function generateKeyPair(): KeyPair {
  const raw = randomBytes(32);
  raw[0]! &= 248;
  raw[31]! &= 127;
  raw[31]! |= 64;
  const privateKey = raw.toString('base64');
  // Not remembered in derivedPubs: a fresh key is derived once, and the cache should not
  // accumulate every private key handed out by peer/add.
  return { privateKey, publicKey: derivePublicKey(privateKey) };
}

export function generatePSK(): string {
  return randomBytes(32).toString('base64');
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410), the form node:crypto imports.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * Public key (base64) for a base64 X25519 private key (any 32 bytes; clamping happens inside
 * X25519). Throws when the key does not decode to 32 bytes.
 *
 * Remembered per private key (at most 1024, then forgotten all at once): every config load
 * derives the node's own public keys (edge: PrivKey; supernode: PrivKeyV4 and PrivKeyV6, again
 * on each manage API peer/add), and each derivation costs ~0.5 ms of CPU, nearly all of it
 * OpenSSL's PKCS#8 import in createPrivateKey, not the X25519 multiplication.
 */
export function publicKeyOf(privateKey: string): string {
  let pub = derivedPubs.get(privateKey);
  if (pub === undefined) {
    pub = derivePublicKey(privateKey);
    if (derivedPubs.size >= 1024) derivedPubs.clear();
    derivedPubs.set(privateKey, pub);
  }
  return pub;
}

const derivedPubs = new Map<string, string>();

/** How many public keys were derived (not answered from memory) in this process; for tests. */
export const keyDerivations = { count: 0 };

function derivePublicKey(privateKey: string): string {
  keyDerivations.count++;
  const der = Buffer.concat([PKCS8_X25519_PREFIX, Buffer.from(privateKey, 'base64')]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  // The SPKI DER form ends with the 32-byte key (DER, not JWK: see generateKeyPair).
  return pub.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
}

const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
let probe: KeyObject | undefined;

/**
 * Why a (valid base64) public key cannot be a peer's, or null: a low-order point (all zeros and
 * the like) makes every Diffie-Hellman result zero, which WireGuard refuses at handshake time.
 */
export function publicKeyProblem(s: string): string | null {
  // The answer depends on the key alone; the supernode's manage API loads the whole config (every
  // peer's key) on each peer/add, so a checked key is not checked again (~0.1 ms each).
  const known = checkedKeys.get(s);
  if (known !== undefined) return known;
  const why = publicKeyProblemUncached(s);
  if (checkedKeys.size >= 100_000) checkedKeys.clear();
  checkedKeys.set(s, why);
  return why;
}

const checkedKeys = new Map<string, string | null>();

function publicKeyProblemUncached(s: string): string | null {
  const raw = Buffer.from(s, 'base64');
  try {
    // Imported, not generated: no KeyGenJob (see generateKeyPair).
    probe ??= createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, randomBytes(32)]), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey({ key: Buffer.concat([SPKI_X25519, raw]), format: 'der', type: 'spki' });
    const shared = diffieHellman({ privateKey: probe, publicKey: pub });
    if (shared.every((b) => b === 0)) throw new Error('zero');
  } catch {
    return 'is a low-order Curve25519 point (for example all zeros), not a usable public key';
  }
  return null;
}
