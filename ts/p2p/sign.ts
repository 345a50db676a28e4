// The signer P2P messages are signed and checked with: XEdDSA with a node's X25519 WireGuard key
// (Signal's XEdDSA spec §2.3), from the core (crates/eg-core/src/sign via ts/core/sign.ts). An
// interface so tests can count or break signatures without touching the core.
import { xeddsaSign, xeddsaVerify } from '../core/sign.js';

export interface SignApi {
  /** 64-byte XEdDSA signature of `message` with an X25519 private key (32 bytes). */
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Whether `sig` (64 bytes) is `publicKey`'s (X25519, 32 bytes) signature of `message`; never throws. */
  verify(publicKey: Uint8Array, message: Uint8Array, sig: Uint8Array): boolean;
}

export const coreSigner: SignApi = {
  sign: (k, m) => xeddsaSign(k, m),
  verify: (k, m, s) => {
    try {
      return xeddsaVerify(k, m, s);
    } catch {
      return false;
    }
  },
};
