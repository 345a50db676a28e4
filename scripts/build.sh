#!/usr/bin/env bash
# Builds every artefact: WASM (Node and web builds), the napi addon, the TypeScript.
#   scripts/build.sh [wasm|native|ts|all]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
what=${1:-all}
log() { printf '\033[1m[build]\033[0m %s\n' "$*" >&2; }

# put FILE TEXT: writes TEXT and a newline to FILE through a temporary file in the same directory
# and a rename, so a process reading FILE meanwhile (a node starting while this build runs) sees
# the old contents or the new, never an empty or partial file: `cmd > FILE` truncates FILE
# before cmd even starts. Used for every file written here that something else reads.
put() {
  local t; t=$(mktemp "$1.XXXXXX")
  printf '%s\n' "$2" > "$t" && chmod 644 "$t" && mv -f "$t" "$1" || { rm -f "$t"; return 1; }
}

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
  put wasm-pkg/node/package.json '{ "type": "commonjs" }'
  # Stamp: the TS loader compares it with the sources to refuse a stale build.
  local stamp; stamp=$(node scripts/src-stamp.cjs)
  put wasm-pkg/stamp.txt "$stamp"
)

build_native() {
  # Skipped when its sources did not change (the napi CLI itself forces one more cargo build on
  # the run after the first); EG_FORCE_BUILD=1 builds anyway.
  local h; h=$({ find crates/eg-native -type f -not -path '*/target/*' -print0; printf '%s\0' Cargo.lock; } | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
  if [ "${EG_FORCE_BUILD:-}" != 1 ] && ls native-pkg/*.node >/dev/null 2>&1 && [ "$(cat native-pkg/.inputs 2>/dev/null)" = "$h" ]; then
    log "native addon: up to date"
    return
  fi
  log "native addon (napi-rs)"
  rm -f native-pkg/.inputs
  (cd crates/eg-native && npx napi build --release --platform --output-dir ../../native-pkg --esm >/dev/null)
  put native-pkg/.inputs "$h"
}

# What dist/ is made from: the TypeScript sources (and the web page's files under ts/web), the
# build scripts, the compiler settings, the dependencies and the WASM web build the page copies.
ts_inputs_hash() {
  { find ts -type f -print0; printf '%s\0' scripts/build.sh scripts/precompile-validators.mjs scripts/bundle.mjs scripts/build-web.mjs tsconfig.json package-lock.json; [ -f wasm-pkg/stamp.txt ] && printf '%s\0' wasm-pkg/stamp.txt; } \
    | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1
}

build_ts() {
  # tsc and the web page take 30-50 s: skipped when nothing they read changed since the last
  # build (EG_FORCE_BUILD=1 builds anyway), so a second bootstrap is quick.
  local h; h=$(ts_inputs_hash)
  if [ "${EG_FORCE_BUILD:-}" != 1 ] && [ -f dist/main.js ] && [ "$(cat dist/.inputs 2>/dev/null)" = "$h" ]; then
    log "typescript: up to date"
    return
  fi
  log "typescript"
  rm -f dist/.inputs
  npx tsc -p tsconfig.json
  node scripts/precompile-validators.mjs
  node scripts/bundle.mjs
  node scripts/build-web.mjs
  put dist/.inputs "$h"
}

case "$what" in
  wasm) build_wasm ;;
  native) build_native ;;
  ts) build_ts ;;
  all) build_wasm; build_native; build_ts ;;
  *) echo "usage: scripts/build.sh [wasm|native|ts|all]" >&2; exit 2 ;;
esac
