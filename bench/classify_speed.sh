#!/bin/bash
# classify_speed.sh: unsharp-classify's speed on the speed corpus beside djpeg, in the same run.
# Each round times (a) `unsharp-classify --jobs 2 --format jsonl -q` over the corpus (default
# weights) and (b) djpeg's full decode of the same files with 2 processes (xargs -P2), one
# right after the other, so that both see the same machine load. Reported: wall and CPU time
# of each round and their ratios (median over the rounds), the peak RSS of unsharp-classify,
# and the median CPU time per photo of the decode and the judging on one thread (judge_bench).
# (c) `djpeg -scale 1/8` of the same files, 2 processes, in the same rounds: the entropy-decoding
# floor that any judge of a JPEG pays (its IDCT is a DC term only), so classify / 1/8 says how
# close the judging comes to that floor.
# The corpus comes from ../shared/bench/make-perf-corpus.sh DIR and is made when absent.
# Prints a markdown table.
# usage: bench/classify_speed.sh [CORPUS_DIR (/tmp/perf-corpus)] [ROUNDS (3)]
#        (env: UNSHARP_BUILD, default build: a configured build dir; BASE_BIN: another
#        unsharp-classify, e.g. an older commit's, timed too in each round, for before/after)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-/tmp/perf-corpus}
ROUNDS=${2:-3}
BUILD=${UNSHARP_BUILD:-build}
P=2

if [ ! -d "$CORPUS" ] || ! ls "$CORPUS"/*.jpg > /dev/null 2>&1; then
  if [ -x ../shared/bench/make-perf-corpus.sh ]; then
    ../shared/bench/make-perf-corpus.sh "$CORPUS" > /dev/null
  else
    echo "classify_speed: skipped: no corpus in $CORPUS and no ../shared/bench/make-perf-corpus.sh to make it"; exit 0
  fi
fi
for tool in djpeg rdjpgcom /usr/bin/time; do
  command -v $tool > /dev/null || { echo "classify_speed: skipped: $tool missing (scripts/install-deps.sh)"; exit 0; }
done
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  echo "classify_speed: skipped: $BUILD is not configured (run scripts/setup.sh)"; exit 0
fi
cmake --build "$BUILD" --target unsharp-classify judge_bench > /dev/null
BIN=$BUILD/cli/unsharp-classify

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ls "$CORPUS"/*.jpg > "$T/files"
n=$(wc -l < "$T/files")
mp=$(xargs -d '\n' -n1 rdjpgcom -verbose < "$T/files" |
     sed -n 's/^JPEG image is \([0-9]*\)w \* \([0-9]*\)h.*/\1 \2/p' |
     awk '{s += $1 * $2} END {printf "%.1f", s / NR / 1e6}')
calc() { awk "BEGIN {print $*}"; }
median() { sort -g | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# warm the page cache so that every program reads from memory
cat "$CORPUS"/*.jpg > /dev/null

# one round: "wall user sys maxrss_kb" of each
time_cls() {
  # a fresh results index each round: every photo is judged (and written to the index)
  XDG_CACHE_HOME=$(mktemp -d -p "$T") /usr/bin/time -o "$T/t" -f "%e %U %S %M" "${1:-$BIN}" --jobs $P --format jsonl -q "$CORPUS" > "$T/out.jsonl" 2> "$T/err" ||
    { echo "classify_speed: unsharp-classify failed: $(cat "$T/err")" >&2; exit 1; }
  cat "$T/t"
}
time_djpeg() {
  /usr/bin/time -o "$T/t" -f "%e %U %S %M" xargs -d '\n' -P$P -n1 djpeg -outfile /dev/null < "$T/files"
  cat "$T/t"
}
time_djpeg8() {
  /usr/bin/time -o "$T/t" -f "%e %U %S %M" xargs -d '\n' -P$P -n1 djpeg -scale 1/8 -outfile /dev/null < "$T/files"
  cat "$T/t"
}
time_cls > /dev/null # warm-up: the weights file and the code into the page cache
: > "$T/rounds"
for ((r = 1; r <= ROUNDS; r++)); do
  echo "$(time_cls) $(time_djpeg) $(time_djpeg8)" >> "$T/rounds"
  [ -z "${BASE_BIN:-}" ] || time_cls "$BASE_BIN" >> "$T/base"
done
[ "$(grep -c '"error"' "$T/out.jsonl" || true)" = 0 ] || { echo "classify_speed: some photos failed" >&2; exit 1; }

# per photo: bench/judge_bench (the same decode and judging, one thread, CPU time per photo)
per=$("$BUILD/bench/judge_bench" "$CORPUS")

echo "corpus: $CORPUS, $n JPEG files, mean ${mp} MP; $P processes; $(nproc) cores; $(date +%F)"
echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); flags: $(grep -o -w 'avx2\|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo
echo "| round | unsharp-classify wall s (CPU s) | djpeg full wall s (CPU s) | wall ratio | CPU ratio | djpeg -scale 1/8 wall s (CPU s) | wall ratio to 1/8 |"
echo "|---|---|---|---|---|---|---|"
awk '{printf "| %d | %.2f (%.2f) | %.2f (%.2f) | %.2fx | %.2fx | %.2f (%.2f) | %.2fx |\n", NR, $1, $2 + $3, $5, $6 + $7,
      $1 / $5, ($2 + $3) / ($6 + $7), $9, $10 + $11, $1 / $9}' "$T/rounds"
wr=$(awk '{print $1 / $5}' "$T/rounds" | median)
cr=$(awk '{print ($2 + $3) / ($6 + $7)}' "$T/rounds" | median)
wl=$(awk '{print $1 / $5}' "$T/rounds" | sort -g | sed -n '1p;$p' | tr '\n' ' ')
rss=$(awk '{print $4}' "$T/rounds" | sort -g | tail -1)
echo
printf 'median wall ratio %.2fx (spread %.2f-%.2f), median CPU ratio %.2fx\n' "$wr" $wl "$cr"
printf 'median wall ratio to djpeg -scale 1/8: %.2fx, CPU %.2fx\n' "$(awk '{print $1 / $9}' "$T/rounds" | median)" \
  "$(awk '{print ($2 + $3) / ($10 + $11)}' "$T/rounds" | median)"
printf 'unsharp-classify peak RSS: %.0f MB (--jobs %d)\n' "$(calc "$rss / 1024")" $P
if [ -n "${BASE_BIN:-}" ]; then
  echo "BASE_BIN $BASE_BIN, wall s (CPU s) by round: $(awk '{printf "%s%.2f (%.2f)", (NR > 1 ? ", " : ""), $1, $2 + $3}' "$T/base")"
  printf 'this build / BASE_BIN: median wall %.2fx, median CPU %.2fx\n' \
    "$(paste -d' ' "$T/rounds" "$T/base" | awk '{print $1 / $13}' | median)" \
    "$(paste -d' ' "$T/rounds" "$T/base" | awk '{print ($2 + $3) / ($14 + $15)}' | median)"
fi
echo "median per photo, one thread (judge_bench, CPU ms): $per"
