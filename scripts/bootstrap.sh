#!/usr/bin/env bash
# Takes a fresh machine of this kind to a full build. Idempotent: every step checks
# whether its result is already there, so a second run costs seconds.
#   scripts/bootstrap.sh            # system packages + toolchains + npm + build
#   scripts/bootstrap.sh --no-build # only install what the build needs
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen` pin in crates/eg-wasm/Cargo.toml
WASM_PACK_VERSION=0.15.1
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || { log "this step needs root: $*"; exit 1; }; }

# --- Debian packages ------------------------------------------------------------------------------
APT_PKGS=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wireguard-tools wireguard-go
          iproute2 iptables iperf3 iputils-ping chromium libnetfilter-queue-dev gcc curl python3 openssl
          chrony libfaketime
          etcd-server # durable supernode state in etcd (test/super-etcd.test.ts starts its own members)
          systemd # systemd-analyze verify checks deploy/systemd/*.service (test/service.test.ts)
          dpdk-dev librte-net-memif23 librte-mempool-ring23) # dpdk-testpmd: the memif server of the IType vpp tests
missing=()
for p in "${APT_PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "apt-get install ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- wasm32 target ----------------------------------------------------------------------------------
# Either rustup already has wasm32-unknown-unknown, or we build its std once with Debian's
# rustc-web (whose LLVM has the wasm backend) and link that compiler as toolchain `debweb`.
WASM_TOOLCHAIN=""
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WASM_TOOLCHAIN=$(rustup show active-toolchain | cut -d' ' -f1)
  log "using rustup's installed wasm32 target ($WASM_TOOLCHAIN)"
else
  rustup toolchain list | grep -q '^debweb' || rustup toolchain link debweb /usr
  WASM_TOOLCHAIN=debweb
  SYSROOT_LIB=/usr/lib/rustlib/wasm32-unknown-unknown/lib
  if ! ls "$SYSROOT_LIB"/libstd-*.rlib >/dev/null 2>&1; then
    need_root "install the wasm32 std into $SYSROOT_LIB"
    log "building the wasm32 standard library with Debian's rustc (once, ~1 min)"
    tmp=$(mktemp -d)
    mkdir -p "$tmp/src" "$tmp/.cargo"
    cat > "$tmp/Cargo.toml" <<'TOML'
[package]
name = "eg_std_probe"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[profile.release]
panic = "abort"
TOML
    echo '#[no_mangle] pub extern "C" fn probe() -> u32 { 7 }' > "$tmp/src/lib.rs"
    cat > "$tmp/.cargo/config.toml" <<'TOML'
[source.crates-io]
replace-with = "stdvendor"
[source.stdvendor]
directory = "/usr/lib/rustlib/src/rust/library/vendor"
TOML
    (cd "$tmp" && RUSTC_BOOTSTRAP=1 RUSTUP_TOOLCHAIN=debweb cargo build --release --offline \
        --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort -q)
    mkdir -p "$SYSROOT_LIB"
    find "$tmp/target/wasm32-unknown-unknown/release/deps" -name 'lib*.rlib' ! -name 'libeg_std_probe*' \
      -exec cp {} "$SYSROOT_LIB/" \;
    rm -rf "$tmp"
  fi
fi
echo "$WASM_TOOLCHAIN" > "$ROOT/.wasm-toolchain"

# --- cargo-installed tools -------------------------------------------------------------------------
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  log "building wasm-bindgen-cli $WASM_BINDGEN_VERSION (once, a few minutes)"
  # Not --locked: its lockfile pins a webpki-roots release the registry no longer serves.
  cargo install -q wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
fi
if ! wasm-pack --version 2>/dev/null | grep -q "$WASM_PACK_VERSION"; then
  log "building wasm-pack $WASM_PACK_VERSION (once, a few minutes)"
  cargo install -q wasm-pack --version "=$WASM_PACK_VERSION" --locked || cargo install -q wasm-pack --version "=$WASM_PACK_VERSION"
fi

# cargo-fuzz for the brief fuzz run in scripts/test.sh; it needs a nightly toolchain, which
# rustup machines of this kind carry. Without one the suite runs only the deterministic fuzz test.
if cargo +nightly --version >/dev/null 2>&1 && ! cargo fuzz --version >/dev/null 2>&1; then
  log "building cargo-fuzz (once)"
  cargo install -q cargo-fuzz --locked || log "cargo-fuzz did not build; the libFuzzer run will be skipped"
fi

# --- npm --------------------------------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install (from package-lock.json)"
  # Not `npm ci`: the lock lists rust-just's binaries for every platform, but the registry entries
  # for the other platforms carry no version here, which `npm ci` refuses; `install --no-save`
  # installs exactly the locked versions and leaves the lock untouched.
  npm install --no-audit --no-fund --no-save --loglevel=error
fi

# The test suite's one-way delay tool (NFQUEUE), see docs/testing-delay.md.
bash tools/egdelay/build.sh

[ "${1:-}" = "--no-build" ] && exit 0
log "building"
exec bash scripts/build.sh
