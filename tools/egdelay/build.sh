#!/usr/bin/env bash
# Builds tools/egdelay/build/egdelay (needs gcc and libnetfilter-queue-dev) and
# tools/egdelay/build/egprobe (kernel-timestamped one-way probes). Idempotent: does nothing when
# the binaries are newer than their sources and this script.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
probe=build/egprobe
if ! { [ -x "$probe" ] && [ "$probe" -nt egprobe.c ] && [ "$probe" -nt build.sh ]; }; then
  gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$probe.tmp" egprobe.c
  mv -f "$probe.tmp" "$probe"
  echo "built tools/egdelay/$probe" >&2
fi
out=build/egdelay
if [ -x "$out" ] && [ "$out" -nt egdelay.c ] && [ "$out" -nt build.sh ]; then exit 0; fi
flags=$(pkg-config --cflags --libs libnetfilter_queue 2>/dev/null || echo "-lnetfilter_queue -lnfnetlink")
# shellcheck disable=SC2086
gcc -O2 -g -Wall -Wextra -Werror -std=gnu11 -o "$out.tmp" egdelay.c $flags
mv -f "$out.tmp" "$out"
echo "built tools/egdelay/$out" >&2
