#!/bin/bash
# keeper_check.sh: does a change to the model or the score lose keepers? Judges every sharp
# photo at hand (../shared/data/photos-unsplash, all 800, training ones included, and the
# Debian photos of ../shared/data/get-debian-photos.sh) with this build's unsharp-classify and
# with another one (BASE_BIN, e.g. an older commit's), and prints how the verdicts moved, the
# photos that lost the verdict "sharp", and the largest drops in sharpness. All these photos
# are sharp: a move to "blurry" is a keeper lost. Read at run time, never committed.
# usage: BASE_BIN=/path/to/old/unsharp-classify bench/keeper_check.sh [WEIGHTS]
#        env: UNSHARP_BUILD (default build), DEBIAN_PHOTOS (a folder from get-debian-photos.sh;
#        fetched into a temporary folder when unset)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-$PWD/weights/unsharp-v1.usw}
BUILD=${UNSHARP_BUILD:-build}
DATA=../shared/data
BIN=$BUILD/cli/unsharp-classify
[ -n "${BASE_BIN:-}" ] || { echo "keeper_check: set BASE_BIN to the unsharp-classify to compare with" >&2; exit 2; }
[ -d "$DATA/photos-unsplash" ] || { echo "keeper_check: skipped: $DATA/photos-unsplash is absent"; exit 0; }
[ -x "$BIN" ] || { echo "keeper_check: skipped: build $BIN first (scripts/setup.sh)"; exit 0; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
D=${DEBIAN_PHOTOS:-}
if [ -z "$D" ]; then D=$T/debian; bash "$DATA/get-debian-photos.sh" "$D" > /dev/null 2>&1 || true; fi
dirs=("$DATA/photos-unsplash")
[ -d "$D" ] && ls "$D"/*.jpg > /dev/null 2>&1 && dirs+=("$D")
# the same file order from both (input order); verdicts by the bands of the weights file
UNSHARP_WEIGHTS=$W "$BASE_BIN" --format csv -q "${dirs[@]}" > "$T/base.csv" 2> /dev/null || true
"$BIN" --weights "$W" --format csv -q "${dirs[@]}" > "$T/this.csv" 2> /dev/null || true
n=$(($(wc -l < "$T/this.csv") - 1))
echo "keeper_check: $n sharp photos (${dirs[*]}), weights $W"
echo "verdict moves (BASE_BIN -> this build):"
paste -d, "$T/base.csv" "$T/this.csv" | awk -F, 'NR > 1 { print "  " $3 " -> " $10 }' | sort | uniq -c
echo "lost the verdict sharp:"
paste -d, "$T/base.csv" "$T/this.csv" | awk -F, 'NR > 1 && $3 == "sharp" && $10 != "sharp" { printf "  %s %.4f -> %.4f %s\n", $10, $2, $9, $1 }'
echo "largest drops in sharpness:"
paste -d, "$T/base.csv" "$T/this.csv" | awk -F, 'NR > 1 { printf "%.4f %.4f %.4f %s\n", $9 - $2, $2, $9, $1 }' | sort -g | head -5 |
  awk '{ printf "  %+.3f (%.3f -> %.3f) %s\n", $1, $2, $3, $4 }'
