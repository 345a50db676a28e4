//! XEdDSA signatures with a node's X25519 key (eg_core::sign; XEdDSA §2.3, Signal 2016).
//! The random input Z comes from the caller (ts/core/sign.ts passes crypto.randomBytes(64)).

use eg_core::sign::{self, KEY_LEN, RANDOM_LEN, SIGNATURE_LEN};
use wasm_bindgen::prelude::*;

fn exact<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N], JsError> {
    bytes
        .try_into()
        .map_err(|_| JsError::new(&format!("{what} must be {N} bytes, got {}", bytes.len())))
}

/// Signs `message` with a 32-byte X25519 private key and 64 random bytes; returns 64 bytes
/// `R || s`. Throws when a length is wrong.
#[wasm_bindgen(js_name = xeddsaSign)]
pub fn xeddsa_sign(private_key: &[u8], message: &[u8], random: &[u8]) -> Result<Vec<u8>, JsError> {
    let k = exact::<KEY_LEN>(private_key, "private key")?;
    let z = exact::<RANDOM_LEN>(random, "random input Z")?;
    Ok(sign::sign(&k, message, &z).to_vec())
}

/// Checks a signature against a 32-byte X25519 public key: "" when valid, else the reason's
/// name (eg_core::sign::VerifyError::name). Throws only when a length is wrong.
#[wasm_bindgen(js_name = xeddsaVerify)]
pub fn xeddsa_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<String, JsError> {
    let u = exact::<KEY_LEN>(public_key, "public key")?;
    let sig = exact::<SIGNATURE_LEN>(signature, "signature")?;
    Ok(match sign::verify(&u, message, &sig) {
        Ok(()) => String::new(),
        Err(e) => e.name().to_string(),
    })
}
