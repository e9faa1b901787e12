#!/bin/bash
# decode_bench.sh: photo decode speed on the speed corpus, 2 processes, beside djpeg in the same
# run: (a) unsharp_image_load at the working long side (LUMA8), split in 2 shards; (b) djpeg
# full decode; (c) djpeg -scale 1/8 (the decode-only floor). Prints a markdown table.
# The corpus comes from ../shared/bench/make-perf-corpus.sh DIR.
# usage: bench/decode_bench.sh [CORPUS_DIR (build/perf-corpus)] [LONG_SIDE (1600)]
#        (env: UNSHARP_BUILD, default build: a configured build dir where decode_bench is built)
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-build/perf-corpus}
SIDE=${2:-1600}
BUILD=${UNSHARP_BUILD:-build}
P=2

if [ ! -d ../shared ]; then
  echo "decode_bench: skipped: ../shared (the speed corpus scripts) is missing"; exit 0
fi
if [ ! -d "$CORPUS" ] || ! ls "$CORPUS"/*.jpg >/dev/null 2>&1; then
  echo "decode_bench: skipped: no corpus in $CORPUS (make it with ../shared/bench/make-perf-corpus.sh $CORPUS)"; exit 0
fi
command -v djpeg >/dev/null || { echo "decode_bench: skipped: djpeg missing (apt-get install libjpeg-turbo-progs)"; exit 0; }
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  echo "decode_bench: skipped: $BUILD is not configured (run scripts/setup.sh)"; exit 0
fi
cmake --build "$BUILD" --target decode_bench >/dev/null
BIN=$BUILD/bench/decode_bench

now() { date +%s.%N; }
n=$(ls "$CORPUS"/*.jpg | wc -l)
mp=$(for f in "$CORPUS"/*.jpg; do rdjpgcom -verbose "$f"; done |
     sed -n 's/^JPEG image is \([0-9]*\)w \* \([0-9]*\)h.*/\1 \2/p' |
     awk '{s += $1 * $2} END {printf "%.1f", s / NR / 1e6}')
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# warm the page cache so every decoder reads from memory
cat "$CORPUS"/*.jpg > /dev/null

t0=$(now)
for ((i = 0; i < P; i++)); do "$BIN" "$CORPUS" "$SIDE" --shard "$i/$P" > "$T/shard$i" & done
wait
t1=$(now)
ls "$CORPUS"/*.jpg | xargs -P$P -n1 djpeg -outfile /dev/null
t2=$(now)
ls "$CORPUS"/*.jpg | xargs -P$P -n1 djpeg -scale 1/8 -outfile /dev/null
t3=$(now)

calc() { awk "BEGIN {print $*}"; }
ours=$(calc "$t1 - $t0"); full=$(calc "$t2 - $t1"); eighth=$(calc "$t3 - $t2")
medians=$(awk '{printf "%s%s", sep, $6; sep = ", "}' "$T"/shard*)
echo "corpus: $CORPUS, $n JPEG files, mean ${mp} MP; $P processes; $(nproc) cores; $(date +%F)"
echo
echo "| decoder ($P processes) | wall s | ms/image | vs djpeg full | vs djpeg 1/8 |"
echo "|---|---|---|---|---|"
row() { printf '| %s | %.2f | %.1f | %.2fx | %.2fx |\n' "$1" "$2" "$(calc "$2 * 1000 * $P / $n")" \
          "$(calc "$2 / $full")" "$(calc "$2 / $eighth")"; }
row "unsharp_image_load, long side $SIDE, LUMA8" "$ours"
row "djpeg full decode" "$full"
row "djpeg -scale 1/8" "$eighth"
echo
echo "ms/image = wall x $P / files (time per image in one process). unsharp median ms/image, per process: $medians"
