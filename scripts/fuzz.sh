#!/bin/bash
# fuzz.sh: builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/, makes the
# seed corpora, runs each target for SECONDS (default 60), one process each in turn, and
# prints each target's execution count. Exits non-zero if any target finds a crash, leak, timeout or OOM; the
# reproducer is left in build-fuzz/findings/TARGET/.
# usage: scripts/fuzz.sh [SECONDS [TARGET...]]      (env: UNSHARP_FUZZ_BUILD, default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
TARGETS=("$@")
# fuzz_raw is built and seeded but left out of the default list: it finds crashes inside
# Debian 12's LibRaw 0.20.2 itself (a SEGV in parse_tiff_ifd, a heap overflow in unpack_thumb,
# each found after 80,000 to 135,000 runs and fenced off since; others may remain), which would
# fail CI runs at random; run it by name (docs/testing.md says what it has found).
((${#TARGETS[@]})) || TARGETS=(fuzz_jpeg fuzz_png fuzz_exif fuzz_weights fuzz_webp fuzz_heif fuzz_tiff)

# The build's packages, plus clang and its libFuzzer/sanitizer runtimes.
scripts/install-deps.sh clang libclang-rt-14-dev

BUILD=${UNSHARP_FUZZ_BUILD:-build-fuzz}
cmake -S . -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUNSHARP_FUZZ=ON -DUNSHARP_TESTS=OFF -DUNSHARP_CUDA=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" make_usw_seed >/dev/null
tests/fuzz/make-seeds.sh "$BUILD/seeds" "$BUILD/tests/fuzz/make_usw_seed"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
printf '%-14s %12s %8s  %s\n' target runs seconds result
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t" findings="$BUILD/findings/$t" log="$BUILD/logs/$t.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  rc=0
  "$BUILD/tests/fuzz/$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$BUILD/seeds/$t" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
  if [ "$rc" = 0 ] && [ -n "$runs" ]; then
    res=ok
  else
    fail=1
    res="FAILED (exit $rc; log $log; inputs: $(ls "$findings" | tr '\n' ' '))"
    grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|ERROR: libFuzzer' "$log" | head -5 >&2 || true
  fi
  printf '%-14s %12s %8s  %s\n' "$t" "${runs:-?}" "${took:-?}" "$res"
done
exit $fail
