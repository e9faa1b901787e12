#!/bin/bash
# model_checks.sh: the shipped model's acceptance checks, on data read at run time from
# ../shared/data (never committed):
#   1. realblur-dev: accuracy at the default threshold and AUC, beside the variance of the
#      Laplacian (bench/laplacian_baseline.py) on the same photos;
#   2. synthetic: the held-out tenth of photos-unsplash (every tenth file in name order, never
#      trained on), each blurred by a Gaussian of sigma 1.5 px and by a 9 px motion at 30
#      degrees, and (the angle sweep) by the same motion horizontal, at 45 degrees and vertical,
#      at the working size (bench/synthetic_check.py --angles, numpy): share of blurred ones
#      called blurry, per blur and in all, and share of the unblurred ones called blurry;
#   3. bokeh: the held-out shallow-depth-of-field Debian photos (Dragonfly, Kleiber, White-Flower,
#      Yellow-Flower and mate's YellowFlower, Spruce-Needles, Wine) and the held-out portraits
#      (bench/bokeh-portraits.txt): share called sharp.
# "Called sharp" means sharpness >= the threshold (0.5, the middle of the default unsure band
# 0.4-0.6); the counts of the verdict "blurry" (sharpness < 0.4) are shown too.
# usage: bench/model_checks.sh [WEIGHTS]   (default weights/unsharp-v1.usw)
#        env: UNSHARP_BUILD (default build), DEBIAN_PHOTOS (a folder from
#        ../shared/data/get-debian-photos.sh; fetched into a temporary folder when unset)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-weights/unsharp-v1.usw}
BUILD=${UNSHARP_BUILD:-build}
DATA=../shared/data
PY=/usr/bin/python3
TRAIN=$BUILD/train/unsharp-train
for need in "$DATA/realblur-dev" "$DATA/photos-unsplash"; do
  [ -d "$need" ] || { echo "model_checks: skipped: $need is absent"; exit 0; }
done
[ -x "$TRAIN" ] || { echo "model_checks: skipped: build $TRAIN first (scripts/setup.sh)"; exit 0; }
"$PY" -c 'import numpy' 2>/dev/null || { echo "model_checks: skipped: $PY has no numpy"; exit 0; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# summary of "--evaluate" detail lines "sharp|blurry SCORE PATH": called sharp / below 0.4
count() { awk -v want="$1" '$1 == want { n++; if ($2 >= 0.5) s++; if ($2 < 0.4) b++ }
  END { printf "%d photos: %d called sharp (>= 0.5), %d called blurry (< 0.5), %d with the verdict blurry (< 0.4)\n", n, s, n - s, b }'; }

echo "== realblur-dev (weights $W)"
"$TRAIN" --evaluate "$DATA/realblur-dev" --init "$W" > "$T/real.txt"
tail -1 "$T/real.txt"
echo "   sharp:  $(count sharp < "$T/real.txt")"
echo "   blurry: $(count blurry < "$T/real.txt")"
"$PY" bench/laplacian_baseline.py "$DATA/realblur-dev" | tail -1

echo "== synthetic check (held-out tenth of photos-unsplash, Gaussian sigma 1.5 px and 9 px motion at four angles)"
ls "$DATA/photos-unsplash" | LC_ALL=C sort | awk 'NR % 10 == 1' | sed "s|^|$DATA/photos-unsplash/|" > "$T/held"
"$PY" bench/synthetic_check.py --angles "$T/synth" $(cat "$T/held") > /dev/null
"$TRAIN" --evaluate "$T/synth" --init "$W" > "$T/synth.txt"
echo "   unblurred:                 $(count sharp < "$T/synth.txt")"
for k in "g15 Gaussian sigma 1.5:" "m9 9 px motion at 30 deg:" "m9h 9 px motion at 0 deg:" "m9d 9 px motion at 45 deg:" \
         "m9v 9 px motion at 90 deg:"; do
  printf '   %-27s%s\n' "${k#* }" "$(awk -v s="-${k%% *}.jpg" '$1 == "blurry" && substr($3, length($3) - length(s) + 1) == s' "$T/synth.txt" | count blurry)"
done
echo "   blurred, all:              $(count blurry < "$T/synth.txt")"

echo "== bokeh check (held-out shallow depth of field and portraits: all are sharp)"
D=${DEBIAN_PHOTOS:-}
if [ -z "$D" ]; then D=$T/debian; bash "$DATA/get-debian-photos.sh" "$D" > /dev/null 2>&1 || true; fi
mkdir -p "$T/bokeh/sharp"
n=0
for f in Dragonfly_by_Bolly Kleiber_by_Lukas_Baubkus enlightenment_White-Flower enlightenment_Yellow-Flower \
         mate_YellowFlower enlightenment_Spruce-Needles Wine_by_Jakkub_Mede; do
  [ -f "$D/$f.jpg" ] && ln -s "$(realpath "$D/$f.jpg")" "$T/bokeh/sharp/" && n=$((n + 1))
done
[ "$n" -gt 0 ] || echo "   (no Debian photos: get-debian-photos.sh needs apt-get; only the portraits are checked)"
for f in $(grep -v '^#' bench/bokeh-portraits.txt); do ln -s "$(realpath "$DATA/photos-unsplash/$f")" "$T/bokeh/sharp/"; done
"$TRAIN" --evaluate "$T/bokeh" --init "$W" > "$T/bokeh.txt"
echo "   shallow depth of field: $(grep -v ss03_ "$T/bokeh.txt" | count sharp)"
echo "   portraits:              $(grep ss03_ "$T/bokeh.txt" | count sharp)"
echo "   all:                    $(count sharp < "$T/bokeh.txt")"
awk '$1 == "sharp" && $2 < 0.5 { print "   not called sharp:", $2, $3 }' "$T/bokeh.txt"
