#!/usr/bin/env bash
# The main job: set up what is missing, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec node dist/demo/main.js "$@"
