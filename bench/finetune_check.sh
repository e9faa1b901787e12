#!/bin/bash
# finetune_check.sh: does fine-tuning on a photographer's own photos keep what the starting
# weights do? Runs the README's command `unsharp-train --epochs 5 --out W PHOTOS` once per seed
# (plus EXTRA arguments), then judges with the starting weights and with each result:
#  - the keeper check (the photos of bench/keeper_check.sh: every sharp photo of the three
#    sources, held-back fifth and training part, but those blurred on purpose,
#    bench/blurred-on-purpose.txt, which are named apart): photos called blurry, and how many of
#    them the starting weights did not call blurry (OUT/NAME.blurry lists them);
#  - realblur-dev (26 real photos): accuracy at 0.5 and AUC (unsharp-train --evaluate), and its 9
#    sharp photos' verdicts (unsharp-classify): how many are called blurry;
#  - EVAL (optional, a folder with sharp/ and blurry/): the same accuracy and AUC, keepers kept
#    and blurred photos called blurry.
# One line per weights; every run's log is kept in OUT. Weights trained here on realblur-dev (see
# EXTRA) are for measuring only: never ship or commit them.
# usage: bench/finetune_check.sh OUT SEED...
#   env: PHOTOS (default ../shared/data/photos-unsplash; "none" for only EXTRA's labelled
#   photos), EXTRA (more unsharp-train arguments), EVAL, SPLIT (a bench/photo_split.sh --all
#   folder; made when unset), UNSHARP_BUILD (default build), START (default the shipped weights)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: finetune_check.sh OUT SEED...}; shift
BUILD=${UNSHARP_BUILD:-build}
DATA=../shared/data
PHOTOS=${PHOTOS:-$DATA/photos-unsplash}
START=${START:-$PWD/weights/unsharp-v2.usw}
[ -d "$DATA/realblur-dev" ] || { echo "finetune_check: skipped: $DATA/realblur-dev is absent"; exit 0; }
mkdir -p "$OUT"
if [ -z "${SPLIT:-}" ]; then SPLIT=$OUT/split; [ -d "$SPLIT" ] || bench/photo_split.sh --all "$SPLIT" > /dev/null; fi
export UNSHARP_DB=none UNSHARP_WEIGHTS=$START # what the runs fine-tune, wherever the build is
APART=$OUT/apart.txt # the photos blurred on purpose: not keepers (bench/blurred-on-purpose.txt)
grep -v '^#' bench/blurred-on-purpose.txt | awk 'NF { print $1 }' > "$APART"

# judge WEIGHTS NAME: one line of figures
judge() {
  local w=$1 name=$2 kc rb ev sharp_blurry eval_line=""
  "$BUILD/cli/unsharp-classify" --weights "$w" --format csv -q "$SPLIT"/held/*/ "$SPLIT"/train/*/ 2> /dev/null |
    awk -F, 'FNR == NR { apart[$1] = 1; next } { sub(/\r$/, "") } FNR > 1 && $NF == "" && $3 == "blurry" {
      k = split($1, p, "/"); print (p[k] in apart ? "apart " : "") $1 }' "$APART" - | sort > "$OUT/$name.all-blurry"
  grep -v '^apart ' "$OUT/$name.all-blurry" > "$OUT/$name.blurry" || true
  kc=$(printf '%d of %d called blurry, %d newly' "$(wc -l < "$OUT/$name.blurry")" \
    "$(find "$SPLIT"/held "$SPLIT"/train -type f | awk -F/ 'FNR == NR { apart[$1] = 1; next } !($NF in apart)' "$APART" - | wc -l)" \
    "$(comm -13 "$OUT/start.blurry" "$OUT/$name.blurry" | wc -l)")
  grep -q '^apart ' "$OUT/$name.all-blurry" && kc="$kc (and, counted apart as blurred on purpose, $(sed -n 's|^apart .*/||p' "$OUT/$name.all-blurry" | paste -sd' '))"
  rb=$("$BUILD/train/unsharp-train" --evaluate "$DATA/realblur-dev" --init "$w" -j 1 2> /dev/null | sed -n 's/.*accuracy \([0-9.]*\) .*AUC \([0-9.]*\).*/\1 \2/p')
  sharp_blurry=$("$BUILD/cli/unsharp-classify" --weights "$w" --format csv -q "$DATA/realblur-dev/sharp" 2> /dev/null |
    awk -F, '{ sub(/\r$/, "") } NR > 1 && $3 == "blurry" { n++ } END { print n + 0 }')
  if [ -n "${EVAL:-}" ]; then
    ev=$("$BUILD/train/unsharp-train" --evaluate "$EVAL" --init "$w" -j 1 2> /dev/null | sed -n 's/.*accuracy \([0-9.]*\) .*AUC \([0-9.]*\).*/\1 \2/p')
    local kept caught
    kept=$("$BUILD/cli/unsharp-classify" --weights "$w" --format csv -q "$EVAL/sharp" 2> /dev/null |
      awk -F, '{ sub(/\r$/, "") } NR > 1 && $NF == "" { n++; if ($3 != "blurry") k++ } END { printf "%d/%d", k, n }')
    caught=$("$BUILD/cli/unsharp-classify" --weights "$w" --format csv -q "$EVAL/blurry" 2> /dev/null |
      awk -F, '{ sub(/\r$/, "") } NR > 1 && $NF == "" { n++; if ($3 == "blurry") c++ } END { printf "%d/%d", c, n }')
    eval_line=$(printf '  EVAL acc/AUC %s, keepers kept %s, blur caught %s' "${ev:-? ?}" "$kept" "$caught")
  fi
  printf '%-12s keeper check: %s; realblur-dev acc/AUC %s, sharp ones called blurry %s of 9%s\n' \
    "$name" "$kc" "${rb:-? ?}" "$sharp_blurry" "$eval_line"
}

: > "$OUT/start.blurry"
judge "$START" start
for seed in "$@"; do
  w=$OUT/seed$seed.usw
  if [ ! -e "$w" ] && [ ! -e "$OUT/seed$seed.rejected.usw" ]; then
    args=(--epochs 5 --seed "$seed" -q --out "$w")
    # shellcheck disable=SC2206
    [ -n "${EXTRA:-}" ] && args+=($EXTRA)
    [ "$PHOTOS" != none ] && args+=("$PHOTOS")
    s=$(date +%s)
    "$BUILD/train/unsharp-train" "${args[@]}" > "$OUT/seed$seed.log" 2>&1 || echo "seed $seed: exit $? (see $OUT/seed$seed.log)"
    echo "seed $seed: trained in $(($(date +%s) - s)) s"
  fi
  [ -e "$w" ] || w=$OUT/seed$seed.rejected.usw
  judge "$w" "seed$seed"
done
