#!/usr/bin/env bash
# The whole test suite, from a fresh machine: bootstrap (installs + builds, idempotent), then
# cargo tests of the pure core, then mocha (unit, WASM, native, CLI, e2e in network namespaces).
# Ends with one line "N passed, N failed" summed over every suite; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p test-results
start=$(date +%s)

if ! bash scripts/bootstrap.sh; then
  echo "bootstrap failed"; echo "0 passed, 1 failed"; exit 1
fi

passed=0; failed=0; status=0

echo "=== cargo test (etherguard-core) ==="
cargo test -p etherguard-core --profile ci 2>&1 | tee test-results/cargo.log
rc=${PIPESTATUS[0]}
p=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($i ~ /^passed/) s += $(i-1) } END { print s + 0 }' test-results/cargo.log)
f=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($i ~ /^failed/) s += $(i-1) } END { print s + 0 }' test-results/cargo.log)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
if [ "$rc" != 0 ]; then status=1; [ "${f:-0}" = 0 ] && failed=$((failed + 1)); fi

echo "=== cargo fuzz (libFuzzer, every network/file parser with invariants; 8 s each; bench/fuzz.sh runs them at scale) ==="
if cargo +nightly --version >/dev/null 2>&1 && cargo fuzz --version >/dev/null 2>&1; then
  for target in decapsulate plane wg_initiation wg_response wg_cookie wg_transport header matrix xeddsa; do
    if (cd crates/eg-core/fuzz && mkdir -p "corpus/$target" && cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- -max_total_time=8 -print_final_stats=1) > "test-results/fuzz-$target.log" 2>&1; then
      echo "$target: $(grep -E "Done [0-9]+ runs" "test-results/fuzz-$target.log" | tail -1)"
      passed=$((passed + 1))
    else
      tail -40 "test-results/fuzz-$target.log"
      failed=$((failed + 1)); status=1
    fi
  done
else
  echo "skipped: no nightly toolchain or cargo-fuzz (the deterministic wg_fuzz and plane_fuzz tests above still ran)"
fi

echo "=== seeded mutation fuzzing of TS parsers (control messages, report JWT, YAML config) ==="
if (npx tsx bench/fuzz-ts.ts 20000 control jwt && npx tsx bench/fuzz-ts.ts 1000 config) > test-results/fuzz-ts.log 2>&1; then
  tail -5 test-results/fuzz-ts.log; passed=$((passed + 1))
else
  tail -40 test-results/fuzz-ts.log; failed=$((failed + 1)); status=1
fi

echo "=== typecheck (tests, bench, sim: mocha runs them through tsx, which does not check types) ==="
if npx tsc -p test/tsconfig.json --noEmit > test-results/tsc-tests.log 2>&1; then
  echo "ok"; passed=$((passed + 1))
else
  head -40 test-results/tsc-tests.log; failed=$((failed + 1)); status=1
fi

echo "=== mocha ==="
# The suite runs alone here, so the e2e test that steps the system clock by +/-1 h (and always sets
# it back) runs too; a plain `npx mocha` on a shared machine skips it (test/e2e/clock-step.test.ts).
EG_CLOCK_STEP=1 npx mocha 'test/**/*.test.ts' 2>&1 | tee test-results/mocha.log
rc=${PIPESTATUS[0]}
p=$(grep -oE '^ +[0-9]+ passing' test-results/mocha.log | grep -oE '[0-9]+' | tail -1)
f=$(grep -oE '^ +[0-9]+ failing' test-results/mocha.log | grep -oE '[0-9]+' | tail -1)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
if [ "$rc" != 0 ]; then status=1; [ "${f:-0}" = 0 ] && failed=$((failed + 1)); fi

echo "=== suite wall time: $(( $(date +%s) - start )) s ==="
echo "$passed passed, $failed failed"
exit $status
