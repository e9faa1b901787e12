#!/bin/bash
# keeper_check.sh: are keepers kept? Judges every sharp photo at hand with this build's
# unsharp-classify, set by set: the held-back fifth and the training part of each source
# (bench/photo_split.sh: photos-unsplash, the Debian wallpapers of get-debian-photos.sh and the
# photographs of get-more-photos.sh), and prints per set the verdict counts (sharp / unsure /
# blurry) and the lowest sharpness scores. All these photos are sharp: a "blurry" is a keeper
# lost. The photos blurred on purpose (bench/blurred-on-purpose.txt) are counted apart, in a
# last line with their verdicts. With BASE_BIN (another build's unsharp-classify) it also lists how the verdicts moved
# between the two builds. Photos are read at run time, never committed.
# usage: bench/keeper_check.sh [WEIGHTS]
#        env: UNSHARP_BUILD (default build); SPLIT (a folder made by bench/photo_split.sh; made
#        in a temporary folder when unset, from DEBIAN_PHOTOS and MORE_PHOTOS, each fetched
#        when unset); BASE_BIN (optional)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-$PWD/weights/unsharp-v2.usw}
BUILD=${UNSHARP_BUILD:-build}
DATA=../shared/data
BIN=$BUILD/cli/unsharp-classify
[ -d "$DATA/photos-unsplash" ] || { echo "keeper_check: skipped: $DATA/photos-unsplash is absent"; exit 0; }
[ -x "$BIN" ] || { echo "keeper_check: skipped: build $BIN first (scripts/setup.sh)"; exit 0; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
grep -v '^#' bench/blurred-on-purpose.txt | awk 'NF { print $1 }' > "$T/apart"
S=${SPLIT:-}
if [ -z "$S" ]; then S=$T/split; bench/photo_split.sh --all "$S" > /dev/null; fi
echo "keeper_check: weights $W"
printf '  %-32s %6s %6s %6s %6s   %s\n' set photos sharp unsure blurry "lowest sharpness"
for part in held train; do
  for d in "$S/$part"/*/; do
    set_name="$part/$(basename "$d")"
    "$BIN" --no-index --weights "$W" --format csv -q "$d" > "$T/this.csv" 2> /dev/null || true
    awk -F, -v name="$set_name" 'FNR == NR { apart[$1] = 1; next } { sub(/\r$/, "") } FNR > 1 && $NF == "" {
        k = split($1, p, "/"); if (p[k] in apart) { print p[k] " " $3 " (" $2 ")" >> "'"$T/apart-seen"'"; next }
        n++; c[$3]++; print $2, $1 > "/dev/stderr" }
      END { printf "  %-32s %6d %6d %6d %6d   ", name, n, c["sharp"], c["unsure"], c["blurry"] }' "$T/apart" "$T/this.csv" 2> "$T/scores"
    sort -g "$T/scores" | awk 'NR <= 3 { n = split($2, p, "/"); printf "%.3f %s; ", $1, p[n] }' # (awk reads all: no SIGPIPE under pipefail)
    echo
  done
done
[ -s "$T/apart-seen" ] && echo "  blurred on purpose (bench/blurred-on-purpose.txt), not counted above: $(paste -sd';' "$T/apart-seen" | sed 's/;/; /g')"
if [ -n "${BASE_BIN:-}" ]; then
  echo "verdict moves (BASE_BIN -> this build), all sets:"
  UNSHARP_WEIGHTS=$W "$BASE_BIN" --format csv -q "$S"/held/*/ "$S"/train/*/ > "$T/base.csv" 2> /dev/null || true
  "$BIN" --no-index --weights "$W" --format csv -q "$S"/held/*/ "$S"/train/*/ > "$T/this.csv" 2> /dev/null || true
  paste -d'|' "$T/base.csv" "$T/this.csv" | awk -F'|' 'NR > 1 { split($1, a, ","); split($2, b, ","); print "  " a[3] " -> " b[3] }' | sort | uniq -c
fi
