#!/bin/bash
# train_speed.sh: training samples/s of the C engine (bench/train_speed.c) beside the PyTorch
# reference (bench/train_speed.py, the same network from the same architecture text), in the
# same run, for 1 and 2 threads. Prints a markdown table; the ratio is the figure that counts.
# Then bench/train_flops.py puts the median rates beside the arithmetic a sample needs and what
# one core can do (a 2048^3 sgemm), measured in the same run: the ceiling any engine meets.
# The CPU model and its SIMD flags head the output.
# usage: bench/train_speed.sh [ARGS...]   (ARGS go to both programs: --arch FILE, --batch B,
#        --crop C, --steps N, --seconds S; defaults: unsharp-v2, 16 crops of 256x256, 20 steps)
#        (env: UNSHARP_BUILD, default build: a configured build dir; THREADS, default "1 2";
#        ROUNDS, default 5: C and PyTorch alternate, and the median ratio is printed;
#        BASE_BIN: another train_speed program, e.g. an older commit's, timed too in each round,
#        for before/after; UNSHARP_SIMD reaches both C programs)
# Skips (exit 0) when /usr/bin/python3 has no torch or the build dir is not configured.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${UNSHARP_BUILD:-build}
THREADS=${THREADS:-1 2}
PY=/usr/bin/python3

if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
  echo "train_speed: skipped: $PY has no torch (apt-get install python3-torch)"; exit 0
fi
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  echo "train_speed: skipped: $BUILD is not configured (run scripts/setup.sh, or set UNSHARP_BUILD)"; exit 0
fi
cmake --build "$BUILD" --target train_speed >/dev/null
BIN=$BUILD/bench/train_speed

# the samples/s figure from a program's last line: "N steps in S s: X samples/s, Y ms/step"
rate() { sed -n 's/.*: \([0-9.]*\) samples\/s.*/\1/p' | tail -1; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ROUNDS=${ROUNDS:-5}
echo "train_speed: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), flags: $(grep -o -w 'avx2\|avx512f\|avx512bw\|avx512vl\|avx512_vnni\|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "train_speed: BLAS environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-(unset)} OMP_NUM_THREADS=${OMP_NUM_THREADS:-(unset)}"
echo "train_speed: SIMD level: UNSHARP_SIMD=${UNSHARP_SIMD:-(unset: the best the CPU has)}"
echo "train_speed: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), args: ${*:-(defaults)}, $ROUNDS rounds"
rows=()
rates=()
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
[ -z "${BASE_BIN:-}" ] || echo "train_speed: BASE_BIN $BASE_BIN timed in the same rounds"
for t in $THREADS; do
  ratios=(); cs=(); ps=(); bratios=()
  for r in $(seq "$ROUNDS"); do
    # they alternate, round by round, so that the machine's load falls on all alike
    "$BIN" --threads "$t" "$@" > "$T/c$t"
    "$PY" bench/train_speed.py --threads "$t" "$@" > "$T/py$t"
    c=$(rate < "$T/c$t"); p=$(rate < "$T/py$t"); b=
    if [ -n "${BASE_BIN:-}" ]; then "$BASE_BIN" --threads "$t" "$@" > "$T/b$t"; b=$(rate < "$T/b$t"); fi
    if [ -z "$c" ] || [ -z "$p" ] || { [ -n "${BASE_BIN:-}" ] && [ -z "$b" ]; }; then
      echo "train_speed: could not read a result for $t threads:" >&2; cat "$T/c$t" "$T/py$t" >&2; exit 1
    fi
    ratio=$(awk -v c="$c" -v p="$p" 'BEGIN {printf "%.2f", c / p}')
    ratios+=("$ratio"); cs+=("$c"); ps+=("$p")
    if [ -n "$b" ]; then
      bratio=$(awk -v c="$c" -v b="$b" 'BEGIN {printf "%.3f", c / b}')
      bratios+=("$bratio")
      rows+=("| $t | $r | $c | $p | $ratio | $b | $bratio |")
    else
      rows+=("| $t | $r | $c | $p | $ratio |")
    fi
  done
  sed -n '1p' "$T/c$t"; sed -n '1p' "$T/py$t"
  echo "train_speed: $t threads: median C / PyTorch $(printf '%s\n' "${ratios[@]}" | median)x over $ROUNDS rounds"
  [ -z "${BASE_BIN:-}" ] || echo "train_speed: $t threads: median C / BASE_BIN $(printf '%s\n' "${bratios[@]}" | median)x"
  rates+=(--rate "$(printf '%s\n' "${cs[@]}" | median)" --rate "$(printf '%s\n' "${ps[@]}" | median)")
done
echo
if [ -n "${BASE_BIN:-}" ]; then
  echo "| threads | round | C samples/s | PyTorch samples/s | C / PyTorch | BASE_BIN samples/s | C / BASE_BIN |"
  echo "|---|---|---|---|---|---|---|"
else
  echo "| threads | round | C samples/s | PyTorch samples/s | C / PyTorch |"
  echo "|---|---|---|---|---|"
fi
printf '%s\n' "${rows[@]}"
echo
echo "(rates beside the ceiling of as many threads: the median C, then PyTorch, samples/s)"
args=()
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in --arch|--crop) j=$((i + 1)); args+=("${!i}" "${!j}") ;; esac
done
k=0
for t in $THREADS; do
  "$PY" bench/train_flops.py "${args[@]}" --threads "$t" "${rates[@]:$k:4}" | { [ $k = 0 ] && cat || grep -v "^  "; }
  k=$((k + 4))
done
