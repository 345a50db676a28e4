// XEdDSA signatures with a node's X25519 (WireGuard static) key pair, through the WASM core
// (crates/eg-core/src/sign, crates/eg-wasm/src/sign.rs). Source: Trevor Perrin, "The XEdDSA and
// VXEdDSA Signature Schemes" (Signal, 2016), §2.3. The core takes no randomness of its own: the
// 64 random bytes Z of each signature come from node:crypto here.
import { randomBytes } from 'node:crypto';
import { wasm } from './wasm.js';

/** Signature length in bytes: R (32, compressed Edwards point) then s (32, scalar little-endian). */
export const XEDDSA_SIGNATURE_LEN = 64;
/** X25519 key length in bytes (private and public). */
export const XEDDSA_KEY_LEN = 32;

/**
 * Why the core refused a signature (names of eg_core::sign::VerifyError): a public key u ≥ p, off
 * the curve or of small order; s ≥ q; R not a point or of small order; or the equation failing.
 */
export type XeddsaRefusal =
  | 'public_key_not_canonical'
  | 'public_key_not_on_curve'
  | 'public_key_small_order'
  | 'scalar_not_canonical'
  | 'r_not_on_curve'
  | 'r_small_order'
  | 'mismatch'
  /** Not 64 bytes (checked here, before the core). */
  | 'signature_length';

function checkBytes(v: unknown, name: string, len?: number): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, got ${v === null ? 'null' : typeof v}`);
  if (len !== undefined && v.length !== len) throw new RangeError(`${name} must be ${len} bytes, got ${v.length}`);
}

/**
 * Signs `message` with an X25519 private key (XEdDSA §2.3).
 *
 * @param privateKey 32 bytes: the raw X25519 private key (as in a config's PrivKey after base64
 *   decoding); clamped inside, as X25519 does, so any 32 bytes work.
 * @param message any bytes (may be empty).
 * @param random optional 64 bytes of Z, for tests only; by default fresh `crypto.randomBytes(64)`
 *   per call, as the scheme requires.
 * @returns 64 bytes `R || s`, an Ed25519-format signature under the Edwards form of the key.
 * @throws TypeError when an argument is not a Uint8Array; RangeError when privateKey is not 32
 *   bytes or random not 64.
 */
export function xeddsaSign(privateKey: Uint8Array, message: Uint8Array, random?: Uint8Array): Uint8Array {
  checkBytes(privateKey, 'privateKey', XEDDSA_KEY_LEN);
  checkBytes(message, 'message');
  const z = random ?? randomBytes(64);
  checkBytes(z, 'random', 64);
  return wasm().xeddsaSign(privateKey, message, z);
}

/**
 * Why `signature` is not a valid XEdDSA signature of `message` by the owner of X25519 public key
 * `publicKey`, or null when it is valid. Strict: refuses u ≥ p, small-order keys and R,
 * non-canonical s; every accepted signature also passes strict Ed25519 verification.
 *
 * @param publicKey 32 bytes, the Montgomery u (as in a config's PubKey after base64 decoding).
 * @param message the signed bytes.
 * @param signature 64 bytes `R || s`.
 * A signature of any length other than 64 bytes is refused ('signature_length'), not thrown:
 * signatures come from the network, keys from the config.
 *
 * @throws TypeError when an argument is not a Uint8Array; RangeError when publicKey is not 32 bytes.
 */
export function xeddsaRefusal(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): XeddsaRefusal | null {
  checkBytes(publicKey, 'publicKey', XEDDSA_KEY_LEN);
  checkBytes(message, 'message');
  checkBytes(signature, 'signature');
  if (signature.length !== XEDDSA_SIGNATURE_LEN) return 'signature_length';
  const why = wasm().xeddsaVerify(publicKey, message, signature);
  return why === '' ? null : (why as XeddsaRefusal);
}

/**
 * Whether `signature` (64 bytes) is a valid XEdDSA signature of `message` by the owner of the
 * X25519 public key `publicKey` (32 bytes); see xeddsaRefusal for the rules and the reason.
 *
 * @returns true only for a valid signature (false for one that is not 64 bytes long).
 * @throws TypeError when an argument is not a Uint8Array; RangeError when publicKey is not 32 bytes.
 */
export function xeddsaVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return xeddsaRefusal(publicKey, message, signature) === null;
}
