#!/usr/bin/env bash
# Builds tools/egdelay/build/egdelay (needs gcc and libnetfilter-queue-dev). Idempotent: does
# nothing when the binary is newer than its source and this script.
set -euo pipefail
cd "$(dirname "$0")"
out=build/egdelay
if [ -x "$out" ] && [ "$out" -nt egdelay.c ] && [ "$out" -nt build.sh ]; then exit 0; fi
mkdir -p build
flags=$(pkg-config --cflags --libs libnetfilter_queue 2>/dev/null || echo "-lnetfilter_queue -lnfnetlink")
# shellcheck disable=SC2086
gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$out.tmp" egdelay.c $flags
mv -f "$out.tmp" "$out"
echo "built tools/egdelay/$out" >&2
