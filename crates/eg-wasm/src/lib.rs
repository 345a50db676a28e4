//! The JavaScript-facing API of the core. Only this crate knows about wasm-bindgen.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::*;

/// Version of the core compiled into this module.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    eg_core::VERSION.to_string()
}

/// Whether this build was compiled with WebAssembly SIMD128.
#[wasm_bindgen(js_name = simd128)]
pub fn simd128() -> bool {
    cfg!(target_feature = "simd128")
}

mod offload;
mod route;
mod sign;
mod wg;
mod table;
