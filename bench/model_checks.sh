#!/bin/bash
# model_checks.sh: the model's checks, on held-back photos of our own (never trained on, never
# used to fit the photo head), then realblur-dev reported once at the end (never tuned on):
#   1. keepers: every sharp photo at hand, per source and per part (held-back fifth, training
#      part), as unsharp-classify judges it: sharp / unsure / blurry counts and lowest scores;
#      and the Debian wallpapers as a user sees them (photos called blurry or unsure);
#   2. blur caught, realistic: bench/realistic_blur.py --set check on the held-back fifth (one
#      sharp and one clearly blurred copy a photo, made the way a camera makes blur);
#   3. blur caught, the old check: the held-back photos-unsplash, each blurred by a Gaussian of
#      sigma 1.5 px and by a 9 px motion at 30, 0, 45 and 90 degrees (bench/synthetic_check.py);
#   4. calibration: realistic_blur.py --set calib on the held-back fifth (half sharp: sharp
#      photos and sharp subjects on blurred backgrounds; half clearly blurred): a 10-bin
#      reliability table and the expected calibration error;
#   5. focus map: tile-level AUC on partly blurred held-back photos with known masks
#      (realistic_blur.py --set regions), beside a per-tile variance of the Laplacian, on all
#      tiles with detail and on those in focus in the unblurred photo (where blur can be seen);
#   6. realblur-dev: keepers kept, blurred photos called blurry, AUC (report only), beside the
#      variance of the Laplacian (bench/laplacian_baseline.py).
# "Called blurry" is a sharpness under the weights' blurry line (metadata threshold.blurry; 0.4
# when they carry none), "sharp" at or over threshold.sharp (0.6), as unsharp-classify judges.
# usage: bench/model_checks.sh [WEIGHTS]   (default weights/unsharp-v2.usw)
#        env: UNSHARP_BUILD (default build); SPLIT (a bench/photo_split.sh folder; else made from
#        DEBIAN_PHOTOS and MORE_PHOTOS, each fetched when unset); SETS (where the check sets are
#        made, or reused when present; default a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-weights/unsharp-v2.usw}
case $W in /*) ;; *) W=$PWD/$W ;; esac # keeper_check.sh runs elsewhere
BUILD=${UNSHARP_BUILD:-build}
DATA=../shared/data
PY=/usr/bin/python3
PF=$BUILD/bench/photo_features
PH="$PY bench/photo_head.py"
for need in "$DATA/realblur-dev" "$DATA/photos-unsplash"; do
  [ -d "$need" ] || { echo "model_checks: skipped: $need is absent"; exit 0; }
done
[ -x "$PF" ] || { echo "model_checks: skipped: build $PF first (scripts/setup.sh)"; exit 0; }
"$PY" -c 'import numpy, scipy, PIL' 2>/dev/null || { echo "model_checks: skipped: $PY needs numpy, scipy and PIL"; exit 0; }

T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
LO=$("$PF" --get-meta threshold.blurry "$W"); LO=${LO:-0.4}
HI=$("$PF" --get-meta threshold.sharp "$W"); HI=${HI:-0.6}
export BLURRY_BELOW=$LO SHARP_AT=$HI
S=${SPLIT:-}
if [ -z "$S" ]; then S=$T/split; bench/photo_split.sh --all "$S" > /dev/null; fi
SETS=${SETS:-$T/sets}
[ -f "$SETS/check/manifest.csv" ] || "$PY" bench/realistic_blur.py --set check --seed 11 "$SETS/check" "$S"/held/*/*
[ -d "$SETS/regions/sources" ] || rm -rf "$SETS/regions" # made before the unblurred photos were kept
[ -f "$SETS/regions/manifest.csv" ] || "$PY" bench/realistic_blur.py --set regions --seed 12 "$SETS/regions" "$S"/held/*/*
if [ ! -f "$SETS/calib/manifest.csv" ]; then
  for src in "$S"/held/*/; do
    v=2; [ "$(ls "$src" | wc -l)" -lt 100 ] && v=8
    "$PY" bench/realistic_blur.py --set calib --variants "$v" --seed 16 "$SETS/calib" "$src"/*
  done
fi
[ -d "$SETS/oldsynth/blurry" ] || "$PY" bench/synthetic_check.py --angles "$SETS/oldsynth" "$S"/held/photos-unsplash/* > /dev/null

echo "== 1. keepers (weights $W; called blurry under $LO, sharp from $HI)"
UNSHARP_BUILD=$BUILD SPLIT=$S bench/keeper_check.sh "$W" | tail -n +2
deb=$(ls -d "$S"/*/debian-photos 2> /dev/null | head -1)
if [ -n "$deb" ]; then
  "$PF" "$W" "$S"/held/debian-photos "$S"/train/debian-photos > "$T/debian.csv"
  echo "   Debian wallpapers called blurry (< $LO): $(awk -F, -v lo="$LO" 'NR > 1 && $3 < lo { n = split($1, p, "/"); printf "%s %.3f; ", p[n], $3 }' "$T/debian.csv")"
  echo "   Debian wallpapers unsure:                $(awk -F, -v lo="$LO" -v hi="$HI" 'NR > 1 && $3 >= lo && $3 < hi { n = split($1, p, "/"); printf "%s %.3f; ", p[n], $3 }' "$T/debian.csv")"
fi
"$PF" "$W" "$SETS/check/sharp" "$SETS/check/blurry" > "$T/check.csv"
$PH report "2. blur caught, realistic (held-back fifth, one sharp and one clearly blurred copy each)" "$T/check.csv"
"$PF" "$W" "$SETS/oldsynth/sharp" "$SETS/oldsynth/blurry" > "$T/old.csv"
$PH report "3. blur caught, the old check (held-back photos-unsplash)" "$T/old.csv" | grep -v AUC
for k in "g15 Gaussian sigma 1.5" "m9 9 px motion at 30 deg" "m9h 9 px motion at 0 deg" "m9d 9 px motion at 45 deg" "m9v 9 px motion at 90 deg"; do
  grep -- "-${k%% *}.jpg," "$T/old.csv" | awk -F, -v k="${k#* }" -v lo="$LO" '{ n++; if ($3 < lo) b++ } END { printf "   %-26s %d / %d called blurry\n", k ":", b, n }'
done
"$PF" "$W" "$SETS/calib/sharp" "$SETS/calib/blurry" > "$T/calib.csv"
$PH report "4. calibration (held-back fifth: half sharp or sharp subjects, half clearly blurred)" --calibration "$T/calib.csv"
mkdir -p "$T/maps"
"$PF" --maps "$T/maps" "$W" "$SETS/regions/sharp" > /dev/null
echo "== 5. focus map (partly blurred held-back photos, known masks)"
$PH focus "$T/maps" "$SETS/regions/masks" "$SETS/regions/sharp" "$SETS/regions/sources" | tail -n +2
"$PF" "$W" "$DATA/realblur-dev/sharp" "$DATA/realblur-dev/blurry" > "$T/real.csv"
$PH report "6. realblur-dev (report only, never tuned on)" "$T/real.csv"
echo "   variance of the Laplacian: $("$PY" bench/laplacian_baseline.py "$DATA/realblur-dev" | tail -1)"
