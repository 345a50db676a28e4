#!/usr/bin/env bash
# Builds every artefact: WASM (Node and web builds), the napi addon, the TypeScript.
#   scripts/build.sh [wasm|native|ts|all]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
what=${1:-all}
log() { printf '\033[1m[build]\033[0m %s\n' "$*" >&2; }

build_wasm() (
  [ -f .wasm-toolchain ] || { log "no .wasm-toolchain: run scripts/bootstrap.sh first"; exit 1; }
  local tc; tc=$(cat .wasm-toolchain)
  log "wasm (toolchain $tc, simd128)"
  # A target dir of its own: the Debian compiler and rustup's must not overwrite each other's
  # host artefacts (proc macros), or every build would start from scratch.
  export CARGO_TARGET_DIR="$PWD/target/wasm" RUSTUP_TOOLCHAIN="$tc"
  export RUSTFLAGS="-C target-feature=+simd128"
  wasm-pack --log-level warn build crates/eg-wasm --release --target nodejs --out-dir ../../wasm-pkg/node --out-name etherguard_wasm --no-pack --quiet
  wasm-pack --log-level warn build crates/eg-wasm --release --target web --out-dir ../../wasm-pkg/web --out-name etherguard_wasm --no-pack --quiet
  # The Node build is CommonJS, but the root package.json says "type": "module".
  echo '{ "type": "commonjs" }' > wasm-pkg/node/package.json
  # Stamp: the TS loader compares it with the sources to refuse a stale build.
  node scripts/src-stamp.cjs > wasm-pkg/stamp.txt
)

build_native() {
  log "native addon (napi-rs)"
  (cd crates/eg-native && npx napi build --release --platform --output-dir ../../native-pkg --esm >/dev/null)
}

build_ts() {
  log "typescript"
  npx tsc -p tsconfig.json
  node scripts/precompile-validators.mjs
  node scripts/build-web.mjs
}

case "$what" in
  wasm) build_wasm ;;
  native) build_native ;;
  ts) build_ts ;;
  all) build_wasm; build_native; build_ts ;;
  *) echo "usage: scripts/build.sh [wasm|native|ts|all]" >&2; exit 2 ;;
esac
