#!/bin/bash
# test.sh: installs what is missing, builds, and runs every test: the library print/exit
# check, the whole CTest suite in the normal build, a short libFuzzer pass over every fuzz
# target (FUZZ_SECONDS each, default 60), then the suite again under ASan + UBSan.
# usage: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== library output check (engine/src: no printf, exit or abort)"
scripts/check-engine-quiet.sh engine/src

echo "== normal build"
UNSHARP_BUILD=build scripts/setup.sh
(cd build && ctest --output-on-failure -j"$jobs")

echo "== fuzzing (libFuzzer, ${FUZZ_SECONDS:-60} s per target)"
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"

echo "== ASan + UBSan build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
UNSHARP_BUILD=build-sanitize scripts/setup.sh -DUNSHARP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-sanitize && ctest --output-on-failure -j"$jobs")
