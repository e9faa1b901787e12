#!/bin/bash
# cuda_module.sh: the CUDA backend is a module the engine opens only when asked, and every way of
# not getting it says why while the CPU keeps working. Checks, in the build tree:
# - no program and not the engine's shared library links a CUDA library (readelf NEEDED, ldd);
# - without the module in the build: --device cuda fails with "this build has no CUDA backend";
# - with it: without an NVIDIA driver, --device cuda fails (exit 2) with "no NVIDIA driver" and
#   --device auto judges the photo on the CPU; with a stand-in libcuda.so.1 that has no device
#   (compiled here), the module itself loads and reports "no CUDA device" from the CUDA runtime,
#   and auto again falls back to the CPU with the same verdict; UNSHARP_CUDA_MODULE naming a
#   missing file or a library that is not the module gives those messages.
# On a machine with a real driver the stand-in parts are skipped (test_parity runs the GPU there).
# usage: cuda_module.sh BUILD_DIR CC
set -uo pipefail
BUILD=$1 CC=${2:-cc}
NAME=cuda_module
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }
command -v cjpeg > /dev/null || skip "cjpeg is not installed (libjpeg-turbo-progs)"
T=$(mktemp -d /tmp/unsharp-cuda-XXXXXX)
trap 'rm -rf "$T"' EXIT
source "$(dirname "$0")/test_photos.sh"
CLS=$BUILD/cli/unsharp-classify
MOD=$BUILD/engine/libunsharp-cuda.so
make_pgm 3 640 480 "$T/p.pgm" && cjpeg -quality 92 -outfile "$T/p.jpg" "$T/p.pgm" || fail "cannot make the test photo"

# ---- nothing but the module links CUDA ----
for f in "$CLS" "$BUILD/train/unsharp-train" "$BUILD/engine/libunsharp-engine.so" ${BUILD}/gui-sdl/unsharp-review; do
  [ -e "$f" ] || continue
  ! readelf -d "$f" | grep 'NEEDED.*\[libcu' > /dev/null || fail "$f links a CUDA library: $(readelf -d "$f" | grep 'NEEDED.*libcu')"
  ! ldd "$f" | grep 'libcu' > /dev/null || fail "$f loads a CUDA library: $(ldd "$f" | grep libcu)"
done

# the CPU's verdict, for the fall-backs below
"$CLS" --no-index --device cpu --format csv "$T/p.jpg" > "$T/cpu.csv" 2> "$T/err" || { cat "$T/err" >&2; fail "--device cpu failed"; }

# cuda_fails WHAT EXPECTED [ENV...]: --device cuda exits 2 with EXPECTED in its message
cuda_fails() {
  local what=$1 expect=$2; shift 2
  env "$@" "$CLS" --no-index --device cuda --format csv "$T/p.jpg" > "$T/out" 2> "$T/err"
  local rc=$?
  [ $rc = 2 ] || { cat "$T/err" >&2; fail "$what: --device cuda exit $rc, not 2"; }
  grep -F -- "$expect" "$T/err" > /dev/null || { cat "$T/err" >&2; fail "$what: no '$expect' in the message"; }
  echo "$NAME: $what: $(head -1 "$T/err")" >&2
}
# auto_is_cpu WHAT [ENV...]: --device auto judges as the CPU does
auto_is_cpu() {
  local what=$1; shift
  env "$@" "$CLS" --no-index --device auto --format csv "$T/p.jpg" > "$T/auto.csv" 2> "$T/err" || { cat "$T/err" >&2; fail "$what: --device auto failed"; }
  cmp -s "$T/auto.csv" "$T/cpu.csv" || fail "$what: --device auto differs from --device cpu"
}

if [ ! -e "$MOD" ]; then
  cuda_fails "build without CUDA" "this build has no CUDA backend"
  auto_is_cpu "build without CUDA"
  echo "$NAME: ok (build without the CUDA module)" >&2
  exit 0
fi

# ---- the module exports its one entry and nothing else ----
exports=$(nm -D --defined-only "$MOD" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort -u | tr '\n' ' ')
[ "$exports" = "unsharp_cuda_module_create " ] || fail "the module exports '$exports', not only unsharp_cuda_module_create"

cuda_fails "missing module" "UNSHARP_CUDA_MODULE=$T/none.so is not a readable file" UNSHARP_CUDA_MODULE="$T/none.so"
auto_is_cpu "missing module" UNSHARP_CUDA_MODULE="$T/none.so"

if ldconfig -p 2> /dev/null | grep 'libcuda\.so\.1 ' > /dev/null; then
  echo "$NAME: an NVIDIA driver is installed: the no-driver and stand-in-driver checks are skipped (test_parity covers the GPU)" >&2
  echo "$NAME: ok" >&2
  exit 0
fi
cuda_fails "no driver" "no CUDA device: no NVIDIA driver (libcuda.so.1"
auto_is_cpu "no driver"

# a stand-in driver: it loads, and answers every call with "no device"
mkdir "$T/drv"
echo 'int cuInit(unsigned flags) { (void)flags; return 100; /* CUDA_ERROR_NO_DEVICE */ }' > "$T/drv/drv.c"
"$CC" -shared -fPIC -o "$T/drv/libcuda.so.1" "$T/drv/drv.c" || fail "cannot build the stand-in driver"
cuda_fails "stand-in driver, no device" "no CUDA device: " LD_LIBRARY_PATH="$T/drv"
grep -F "no NVIDIA driver" "$T/err" > /dev/null && fail "stand-in driver: the module was not loaded"
auto_is_cpu "stand-in driver" LD_LIBRARY_PATH="$T/drv"
cuda_fails "not the module" "is not an unsharp CUDA module (no unsharp_cuda_module_create)" \
  LD_LIBRARY_PATH="$T/drv" UNSHARP_CUDA_MODULE="$(readlink -f "$BUILD/engine/libunsharp-engine.so")"
echo "$NAME: ok" >&2
