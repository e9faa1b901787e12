#!/bin/bash
# raw_preview_bench.sh: a RAW judged against its own embedded preview judged alone (issue 20:
# at most 1.10x). The preview is extracted with exiftool (-b -PreviewImage) to a JPEG file;
# COPIES copies of each go in two folders, and unsharp-classify --format jsonl judges each
# folder in turn, ROUNDS times, alternating (process start and model load in both). Prints
# the median wall time and CPU time (user + system) of each, their ratios, and the sharpness
# of each file (the two must agree: the same pixels are judged).
# usage: bench/raw_preview_bench.sh RAW [COPIES (8)] [ROUNDS (12)]   (env: UNSHARP_BUILD, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
RAW=${1:?usage: bench/raw_preview_bench.sh RAW [COPIES] [ROUNDS]}
COPIES=${2:-8}
ROUNDS=${3:-12}
BUILD=${UNSHARP_BUILD:-build}
command -v exiftool >/dev/null || { echo "raw_preview_bench: skipped: exiftool missing (libimage-exiftool-perl)"; exit 0; }
cmake --build "$BUILD" --target unsharp-classify >/dev/null
BIN=$BUILD/cli/unsharp-classify
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
ext=${RAW##*.}
mkdir "$T/raw" "$T/preview"
exiftool -b -PreviewImage "$RAW" > "$T/preview.jpg"
[ -s "$T/preview.jpg" ] || { echo "raw_preview_bench: $RAW has no preview exiftool can extract"; exit 1; }
for ((i = 0; i < COPIES; i++)); do cp "$RAW" "$T/raw/$i.$ext"; cp "$T/preview.jpg" "$T/preview/$i.jpg"; done

TIMEFORMAT='%R %U %S'
for ((r = 0; r < ROUNDS; r++)); do
  for k in raw preview; do
    { time "$BIN" -q --format jsonl "$T/$k" > "$T/$k.jsonl"; } 2>> "$T/$k.times"
  done
done
/usr/bin/python3 - "$T" "$RAW" "$COPIES" "$ROUNDS" <<'PY'
import json, statistics, sys
t, raw, copies, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fig = {}
for k in ("raw", "preview"):
    rows = [list(map(float, l.split())) for l in open(f"{t}/{k}.times") if l.strip()]
    wall, cpu = [r[0] * 1e3 for r in rows], [(r[1] + r[2]) * 1e3 for r in rows]
    fig[k] = (statistics.median(wall), min(wall), statistics.median(cpu), min(cpu))
sharp = {k: sorted({json.loads(l)["sharpness"] for l in open(f"{t}/{k}.jsonl")}) for k in ("raw", "preview")}
print(f"{raw}: {copies} copies, {rounds} alternating rounds, ms per run of unsharp-classify")
print("| | wall, median | wall, fastest | CPU (user + sys), median | CPU, fastest |\n|---|---|---|---|---|")
for k in ("raw", "preview"):
    print(f"| {k} | " + " | ".join(f"{v:.0f}" for v in fig[k]) + " |")
print("| ratio | " + " | ".join(f"{a / b:.2f}x" for a, b in zip(fig["raw"], fig["preview"])) + " |")
print(f"sharpness: RAW {sharp['raw']}, preview {sharp['preview']}")
PY
