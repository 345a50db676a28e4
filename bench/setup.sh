#!/usr/bin/env bash
# Installs and builds the systems bench/compare.bench.ts measures Etherguard against, at pinned
# versions, from Debian, the Go module proxy and the Rust crate registry only (how each builds here and why:
# ../shared/anchors.md, "The systems users would pick instead"). Idempotent: a build that is
# already in the cache at the pinned version is kept; run it again any time.
#
#   wireguard-go, current   go install golang.zx2c4.com/wireguard@$WG_GO_VERSION  -> $CACHE/wireguard-go/bin
#   wireguard-go, Debian    apt-get install wireguard-go wireguard-tools          -> /usr/bin/wireguard-go
#   boringtun-cli           cargo install boringtun-cli --version $BORINGTUN      -> $CACHE/boringtun/bin
#   tinc 1.0                apt-get install tinc                                  -> /usr/sbin/tincd
#   tools                   iperf3, ethtool, iproute2, iputils-ping (Debian)
#
#   etherguard (optional)   BENCH_EG_REF=<commit>: a clean snapshot of that commit built with scripts/build.sh
#                           -> $CACHE/etherguard/<sha> (compare.bench.ts then runs that one)
#
# Cache: $EG_BENCH_CACHE, default bench/.cache (gitignored). Go comes from the machine's `go`
# (or Debian's golang-go when there is none); cargo from the machine's Rust toolchain.
# Prints one line per system; exits non-zero only if a system could not be provided, naming it
# (compare.bench.ts then measures the others and says which one is missing).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${EG_BENCH_CACHE:-$ROOT/bench/.cache}
WG_GO_VERSION=v0.0.0-20260522210424-ecfc5a8d5446 # reports v0.0.20250522; TUN GSO/GRO, UDP GSO
BORINGTUN_VERSION=0.7.1
mkdir -p "$CACHE"
log() { printf '[bench-setup] %s\n' "$*" >&2; }
failed=()

# ---- Debian packages ----------------------------------------------------------------------------
need_pkgs=()
for pair in iperf3:iperf3 ethtool:ethtool ip:iproute2 ping:iputils-ping wg:wireguard-tools tincd:tinc; do
  bin=${pair%%:*} pkg=${pair#*:}
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || need_pkgs+=("$pkg")
done
# Debian's wireguard-go lives at /usr/bin/wireguard-go; the pinned build goes to the cache, so
# the two never shadow each other.
[ -x /usr/bin/wireguard-go ] || need_pkgs+=(wireguard-go)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "apt-get install ${need_pkgs[*]}"
  # tinc's package enables a systemd unit per network; none is configured, so nothing starts.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >"$CACHE/apt.log" 2>&1; then
    apt-get update -q >>"$CACHE/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >>"$CACHE/apt.log" 2>&1 ||
      { log "apt-get install failed (see $CACHE/apt.log)"; failed+=(debian-packages); }
  fi
fi

# ---- wireguard-go, current (Go module proxy, pinned pseudo-version) -----------------------------
wgdir=$CACHE/wireguard-go
if [ "$(cat "$wgdir/version" 2>/dev/null)" = "$WG_GO_VERSION" ] && [ -x "$wgdir/bin/wireguard" ]; then
  log "wireguard-go $WG_GO_VERSION: cached"
else
  GO=$(command -v go || true)
  if [ -z "$GO" ]; then
    log "no go: apt-get install golang-go"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go >>"$CACHE/apt.log" 2>&1
    GO=$(command -v go || true)
  fi
  if [ -z "$GO" ]; then
    log "wireguard-go current: no Go toolchain"
    failed+=(wireguard-go-current)
  else
    log "wireguard-go $WG_GO_VERSION: go install ($("$GO" version))"
    rm -rf "$wgdir" && mkdir -p "$wgdir/bin"
    # Builds in its own GOPATH/GOCACHE under the cache so nothing outside it is touched.
    if GOBIN=$wgdir/bin GOPATH=$CACHE/gopath GOCACHE=$CACHE/gocache GOFLAGS=-modcacherw CGO_ENABLED=0 \
      "$GO" install "golang.zx2c4.com/wireguard@$WG_GO_VERSION" >"$wgdir/build.log" 2>&1; then
      echo "$WG_GO_VERSION" >"$wgdir/version"
    else
      log "wireguard-go current: build failed (see $wgdir/build.log)"
      failed+=(wireguard-go-current)
    fi
  fi
fi

# ---- boringtun-cli (Rust crate registry, pinned) ----------------------------------------------------
btdir=$CACHE/boringtun
if [ "$(cat "$btdir/version" 2>/dev/null)" = "$BORINGTUN_VERSION" ] && [ -x "$btdir/bin/boringtun-cli" ]; then
  log "boringtun-cli $BORINGTUN_VERSION: cached"
elif ! command -v cargo >/dev/null 2>&1; then
  log "boringtun-cli: no cargo"
  failed+=(boringtun)
else
  log "boringtun-cli $BORINGTUN_VERSION: cargo install (a few minutes on 2 cores)"
  mkdir -p "$btdir"
  if CARGO_TARGET_DIR=$CACHE/boringtun-target cargo install boringtun-cli --version "$BORINGTUN_VERSION" --locked \
    --root "$btdir" >"$btdir/build.log" 2>&1; then
    echo "$BORINGTUN_VERSION" >"$btdir/version"
    rm -rf "$CACHE/boringtun-target"
  else
    log "boringtun-cli: build failed (see $btdir/build.log)"
    failed+=(boringtun)
  fi
fi

# ---- Etherguard at a fixed commit (optional: BENCH_EG_REF=HEAD or a commit) ----------------------
# The working tree may be mid-edit (the edge refuses a WASM core older than the Rust sources), so a
# recorded run measures a clean snapshot of one commit, built here with the repository's own
# build script. node_modules is shared with the repository; Rust artefacts live in the cache.
if [ -n "${BENCH_EG_REF:-}" ]; then
  sha=$(git rev-parse --verify "${BENCH_EG_REF}^{commit}" 2>/dev/null) || { log "BENCH_EG_REF=$BENCH_EG_REF: not a commit"; exit 1; }
  egdir=$CACHE/etherguard/$sha
  if [ -f "$egdir/.built" ]; then
    log "etherguard ${sha:0:7}: cached ($egdir)"
  else
    log "etherguard ${sha:0:7}: building a snapshot in $egdir (wasm, native, ts)"
    rm -rf "$egdir" && mkdir -p "$egdir" "$CACHE/etherguard-target"
    git archive "$sha" | tar -x -C "$egdir"
    ln -s "$ROOT/node_modules" "$egdir/node_modules"
    ln -s "$CACHE/etherguard-target" "$egdir/target"
    cp .wasm-toolchain "$egdir/" 2>/dev/null || true
    if (cd "$egdir" && bash scripts/build.sh all) >"$CACHE/etherguard-$sha.log" 2>&1; then
      echo "$sha" >"$egdir/.built"
    else
      log "etherguard ${sha:0:7}: build failed (see $CACHE/etherguard-$sha.log)"
      failed+=(etherguard-snapshot)
    fi
  fi
fi

# ---- report -------------------------------------------------------------------------------------
ver() { "$@" 2>&1 | head -1; }
log "wireguard-go current: $([ -x "$wgdir/bin/wireguard" ] && ver "$wgdir/bin/wireguard" --version || echo missing)"
log "wireguard-go Debian:  $([ -x /usr/bin/wireguard-go ] && ver /usr/bin/wireguard-go --version || echo missing)"
log "boringtun-cli:        $([ -x "$btdir/bin/boringtun-cli" ] && ver "$btdir/bin/boringtun-cli" --version || echo missing)"
log "tinc:                 $(command -v tincd >/dev/null 2>&1 && ver tincd --version || echo missing)"
if [ ${#failed[@]} -gt 0 ]; then
  log "not provided: ${failed[*]}"
  exit 1
fi
