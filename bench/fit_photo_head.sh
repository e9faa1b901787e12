#!/bin/bash
# fit_photo_head.sh: fits the learned photo head (engine/src/photo_score.h) of a trained network
# and writes a copy of the weights that carries it. The fit set is made from the TRAINING part of
# each photo source (bench/photo_split.sh), never from the held-back fifth: bench/realistic_blur.py
# --set fit (per photo 35 % sharp, 40 % clearly blurred, 25 % a sharp subject covering 1-60 % of
# the frame on a blurred background, labelled sharp), judged by bench/photo_features, fitted by
# bench/photo_head.py fit, which also calibrates it (Platt scaling on the same photos).
# usage: bench/fit_photo_head.sh TRUNK_WEIGHTS OUT_WEIGHTS
#        env: SPLIT (a bench/photo_split.sh folder; required), FIT_SET (where the fit set is made
#        or reused; default SPLIT/../fit-set), UNSHARP_BUILD (default build), FEATURES (the
#        features the head may use: bench/photo_head.py)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 TRUNK_WEIGHTS OUT_WEIGHTS" >&2; exit 2; }
BUILD=${UNSHARP_BUILD:-build}
PF=$BUILD/bench/photo_features
PY=/usr/bin/python3
[ -n "${SPLIT:-}" ] && [ -d "$SPLIT/train" ] || { echo "fit_photo_head: set SPLIT to a bench/photo_split.sh folder" >&2; exit 2; }
[ -x "$PF" ] || { echo "fit_photo_head: build $PF first" >&2; exit 2; }
F=${FIT_SET:-$SPLIT/../fit-set}
if [ ! -f "$F/manifest.csv" ]; then
  for src in "$SPLIT"/train/*/; do
    n=$(ls "$src" | wc -l)
    v=2; [ "$n" -lt 100 ] && v=8   # few large photos: more variants each
    "$PY" bench/realistic_blur.py --set fit --variants "$v" --seed 15 "$F" "$src"/*
  done
fi
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
"$PF" "$1" "$F/sharp" "$F/blurry" > "$T/fit.csv"
head=$("$PY" bench/photo_head.py fit "$T/fit.csv" | head -1)
"$PF" --set-head "$head" "$1" "$2"
echo "fit_photo_head: wrote $2 with judge.photo_head=$head"
