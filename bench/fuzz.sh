#!/usr/bin/env bash
# Fuzzing at scale (issue 17): every parser/decoder that reads network or file input, N inputs each.
#
#   bash bench/fuzz.sh [inputs-per-target] [target ...]        default 10000000, every target
#
# Rust targets (cargo-fuzz / libFuzzer, crates/eg-core/fuzz/, coverage-guided):
#   decapsulate    every WireGuard message kind + header + base64, mixed (no-panic; older target)
#   plane          the data plane's batch/verdict decoder (output layout invariants)
#   wg_initiation  handshake initiation   } a mutation is accepted only if it changed bytes the
#   wg_response    handshake response     } protocol does not authenticate; forgeries leave the
#   wg_cookie      cookie reply           } receiver's state untouched (wg_invariants.rs)
#   wg_transport   transport data: the above, plus open(seal(x)) == x and replays refused
#   header         the Etherguard header: parse/encode agree, decode(encode(x)) == x
#   matrix         the latency-matrix text: parse(write(parse(t))) == parse(t), paths use real edges
#   xeddsa         XEdDSA verify: flipped bits never verify, acceptance agrees with ed25519-dalek
# TypeScript targets (bench/fuzz-ts.ts: seeded mutator, not coverage-guided; no fast-check here):
#   control        control messages (ts/proto/control.ts)
#   jwt            the report JWT (ts/proto/jwt.ts)
#   config         the YAML config loader (ts/config)
#
# Per target it prints: inputs run, crashes (libFuzzer stops at the first: 0 or 1, the input is
# kept in crates/eg-core/fuzz/artifacts/<target>/; for TS, invariant violations), wall time (from
# /proc/uptime, so a stepped system clock does not distort it) and CPU time (user + system).
# The fuzz build leaves the constant-time crypto crates uninstrumented (crates/eg-core/fuzz/
# rustc-wrapper.sh, set in its .cargo/config.toml): 3-4x fewer CPU-seconds per handshake input.
# Environment:
#   FUZZ_TIME_LIMIT=S     also stop each target after S seconds (default: none); the
#                         inputs run until then are counted (timeout -s INT: libFuzzer prints its
#                         final stats; its own -max_total_time follows the system clock, which
#                         the clock-step fault tests move by an hour)
#   FUZZ_TIME_LIMIT_<target>=S  the same for one target
#   FUZZ_TS_INPUTS=N      inputs for the TS targets (default: the same N)
#   FUZZ_SEED=K           the TS targets' mutator seed (default 1): runs with distinct seeds are
#                         distinct inputs, so `config`'s 10 million can be run as shards on
#                         several cores and summed (the seed is in the summary's first line)
#   FUZZ_INPUTS_<target>=N  inputs for one target (e.g. FUZZ_INPUTS_config=20000: the YAML loader
#                         runs ~900-1,500 inputs per CPU-second, most of it the YAML parse of
#                         each mutant, so 10 million take 2-3 hours of a core)
#   FUZZ_UPDATE_SEEDS=1   afterwards merge what was found into the kept seeds (crates/eg-core/fuzz/
#                         seeds/<target>, coverage-minimised with libFuzzer -merge=1, inputs capped
#                         at the target's max_len) — commit them when they changed
#   FUZZ_SANITIZER=none   cargo-fuzz sanitizer (default none: the core is #![forbid(unsafe_code)],
#                         so AddressSanitizer would only slow it down ~3x; set address to use it)
# Runs niced, one worker per target (the machine is shared). Needs a nightly toolchain and
# cargo-fuzz, which scripts/bootstrap.sh installs when rustup has nightly.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"
N=${1:-10000000}
shift $(( $# > 0 ? 1 : 0 ))
case "$N" in ''|*[!0-9]*) echo "usage: bash bench/fuzz.sh [inputs-per-target] [target ...]" >&2; exit 2 ;; esac
TS_N=${FUZZ_TS_INPUTS:-$N}
SAN=${FUZZ_SANITIZER:-none}
RUST_TARGETS=(decapsulate plane wg_initiation wg_response wg_cookie wg_transport header matrix xeddsa)
TS_TARGETS=(control jwt config)
declare -A MAXLEN=([decapsulate]=512 [plane]=2048 [wg_initiation]=256 [wg_response]=256 [wg_cookie]=256
  [wg_transport]=1600 [header]=512 [matrix]=2048 [xeddsa]=512)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${RUST_TARGETS[@]}" "${TS_TARGETS[@]}")
FUZZ=crates/eg-core/fuzz
mkdir -p bench/results
out="bench/results/fuzz-$(date -u +%Y%m%dT%H%M%SZ).txt"
log() { printf '[fuzz] %s\n' "$*" >&2; }
mono() { cut -d' ' -f1 /proc/uptime; }
# Findings libFuzzer keeps (crash-, timeout-, leak-, oom-); not slow-unit- reports, which a system
# clock stepped forward during one input also produces.
found() { ls "$FUZZ/artifacts/$1" | grep -vc '^slow-unit-'; }
tf=$(mktemp); trap 'rm -f "$tf"' EXIT
cpu() { tail -1 "$tf" | awk '{ printf "%.1f", $1 + $2 }'; }
rows=()
status=0

want_rust=0
for t in "${targets[@]}"; do
  if [[ " ${RUST_TARGETS[*]} " == *" $t "* ]]; then want_rust=1
  elif [[ " ${TS_TARGETS[*]} " != *" $t "* ]]; then echo "unknown target $t; known: ${RUST_TARGETS[*]} ${TS_TARGETS[*]}" >&2; exit 2; fi
done

if [ $want_rust = 1 ]; then
  if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz needs a nightly toolchain and cargo-fuzz (scripts/bootstrap.sh installs cargo-fuzz when nightly is present)" >&2
    exit 1
  fi
  log "building the fuzz targets (sanitizer: $SAN)"
  (cd $FUZZ && nice -n 10 cargo +nightly fuzz build -s "$SAN" >/dev/null 2>"$ROOT/bench/results/fuzz-build.log") || { tail -30 bench/results/fuzz-build.log; exit 1; }
  BIN=$ROOT/$FUZZ/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release
fi

for t in "${targets[@]}"; do
  v="FUZZ_INPUTS_$t"
  if [[ " ${RUST_TARGETS[*]} " == *" $t "* ]]; then
    n=${!v:-$N}
    mkdir -p "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" "$FUZZ/artifacts/$t"
    before=$(found "$t")
    lv="FUZZ_TIME_LIMIT_$t"; lim=${!lv:-${FUZZ_TIME_LIMIT:-}}
    limit=()
    [ -n "$lim" ] && limit=(timeout -s INT "$lim")
    logf="bench/results/fuzz-$t.log"
    log "$t: $n inputs"
    start=$(mono)
    # The binary built above, run directly (not via cargo fuzz run) so that /usr/bin/time sees its
    # CPU time and the time limit's SIGINT reaches it.
    (cd $FUZZ && nice -n 10 /usr/bin/time -o "$tf" -f '%U %S' "${limit[@]}" "$BIN/$t" "corpus/$t" "seeds/$t" \
      -runs="$n" -workers=1 -max_len="${MAXLEN[$t]}" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1) >"$logf" 2>&1
    rc=$?
    # 124: the time limit stopped it (a crash would also have left an artifact, counted below)
    [ -n "$lim" ] && [ $rc = 124 ] && { rc=0; log "$t: stopped by the ${lim} s limit"; }
    secs=$(echo "$(mono) - $start" | bc); cpus=$(cpu)
    inputs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logf" | grep -oE '[0-9]+$' | tail -1)
    crashes=$(( $(found "$t") - before ))
    [ $rc != 0 ] && [ $crashes = 0 ] && crashes=1
    if [ $crashes != 0 ]; then
      status=1
      log "$t: CRASH (exit $rc), see $logf and $FUZZ/artifacts/$t/"
      grep -m1 -A3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$logf" >&2
    fi
    if [ "${FUZZ_UPDATE_SEEDS:-0}" = 1 ] && [ $crashes = 0 ]; then
      rm -rf "$FUZZ/seeds/$t.new" && mkdir -p "$FUZZ/seeds/$t.new"
      (cd $FUZZ && nice -n 10 cargo +nightly fuzz run -s "$SAN" "$t" "seeds/$t.new" "seeds/$t" "corpus/$t" -- \
        -merge=1 -max_len="${MAXLEN[$t]}" -timeout=10) >"bench/results/fuzz-$t-merge.log" 2>&1 \
        && rm -rf "$FUZZ/seeds/$t" && mv "$FUZZ/seeds/$t.new" "$FUZZ/seeds/$t"
      log "$t: seeds now $(ls "$FUZZ/seeds/$t" | wc -l) files, $(cat "$FUZZ/seeds/$t"/* | wc -c) bytes"
    fi
    rows+=("$(printf '%-14s %12s %8s %9.1f %9.1f %10.0f' "$t" "${inputs:-0}" "$crashes" "$secs" "$cpus" "$(echo "${inputs:-0} / $secs" | bc -l)")")
  else
    n=${!v:-$TS_N}
    log "$t: $n inputs (TypeScript, seeded mutator)"
    start=$(mono)
    lv="FUZZ_TIME_LIMIT_$t"; lim=${!lv:-${FUZZ_TIME_LIMIT:-}}
    line=$(FUZZ_TS_TIME_LIMIT=${lim:-0} nice -n 10 /usr/bin/time -o "$tf" -f '%U %S' npx tsx bench/fuzz-ts.ts "$n" "$t" 2>"bench/results/fuzz-$t.log" | grep "^fuzz $t ")
    [ $? != 0 ] && status=1
    inputs=$(sed -nE 's/.*inputs=([0-9]+).*/\1/p' <<<"$line")
    crashes=$(sed -nE 's/.*crashes=([0-9]+).*/\1/p' <<<"$line")
    secs=$(echo "$(mono) - $start" | bc); cpus=$(cpu)
    [ -z "$line" ] && { crashes=1; secs=0; inputs=0; tail -20 "bench/results/fuzz-$t.log" >&2; }
    [ "${crashes:-1}" != 0 ] && { status=1; head -20 "bench/results/fuzz-$t.log" >&2; }
    rows+=("$(printf '%-14s %12s %8s %9.1f %9.1f %10.0f' "$t" "$inputs" "$crashes" "$secs" "$cpus" "$(echo "$inputs / ($secs + 0.0001)" | bc -l)")")
  fi
done

{
  echo "fuzz run $(date -u +%FT%TZ), $N inputs per Rust target, $TS_N per TS target (unless FUZZ_INPUTS_<target>: $(env | grep -oE '^FUZZ_INPUTS_[a-z_]+=[0-9]+' | tr '\n' ' ')), sanitizer $SAN, FUZZ_SEED ${FUZZ_SEED:-1} (TS targets), $(nproc) cores, commit $(git rev-parse --short HEAD)"
  printf '%-14s %12s %8s %9s %9s %10s\n' target inputs crashes time_s cpu_s inputs/s
  printf '%s\n' "${rows[@]}"
} | tee "$out"
log "written to $out"
exit $status
