#!/usr/bin/env bash
# rustc wrapper for the fuzz build (set in .cargo/config.toml): the constant-time cryptography
# crates (X25519/Ed25519 field arithmetic, BLAKE2s, ChaCha20-Poly1305, SHA-512) are compiled
# without coverage instrumentation, comparison tracing, debug assertions or overflow checks.
# Why: their code has no data-dependent branches by design, so coverage there gives libFuzzer
# nothing to steer by, while the tracing calls in every field multiplication were ~60 % of the
# handshake targets' time (perf: __sanitizer_cov_trace_cmp8 / _const_cmp8). The Etherguard crate
# and the harnesses keep all instrumentation, assertions and overflow checks.
rustc=$1; shift
crate=
prev=
for a in "$@"; do
  [ "$prev" = --crate-name ] && { crate=$a; break; }
  prev=$a
done
case "$crate" in
  curve25519_dalek|x25519_dalek|ed25519_dalek|ed25519|blake2|chacha20|chacha20poly1305|poly1305|\
  universal_hash|cipher|sha2|digest|block_buffer|crypto_common|subtle|hmac|generic_array|typenum|zeroize)
    args=()
    for a in "$@"; do
      case "$a" in
        -Cpasses=sancov-module|-Cllvm-args=-sanitizer-coverage*|-Cdebug-assertions|-Cdebug-assertions=*|\
        -Coverflow_checks|-Coverflow-checks|-Coverflow_checks=*|-Coverflow-checks=*) ;;
        *) args+=("$a") ;;
      esac
    done
    exec "$rustc" "${args[@]}" ;;
  *) exec "$rustc" "$@" ;;
esac
