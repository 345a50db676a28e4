#!/usr/bin/env bash
# Runs every benchmark (bench/*.bench.ts, or those named on the command line). Each prints its
# figures beside a baseline measured in the same run. Figures also land in bench/results/.
# bench/compare.bench.ts (the comparison with wireguard-go, boringtun and tinc) first runs
# bench/setup.sh, which installs/builds those at pinned versions into bench/.cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(bench/*.bench.ts)
for b in "${benches[@]}"; do
  echo "=== $b ==="
  node --import tsx "$b" | tee "bench/results/$(basename "$b" .bench.ts).txt"
done
