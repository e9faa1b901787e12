#!/bin/bash
# train_e2e.sh: unsharp-train end to end on generated photos: one short epoch writes weights
# and a checkpoint that load; the same seed and threads give byte-identical weights; --resume
# continues from the checkpoint; --evaluate judges a labelled folder; bad usage exits 2.
# usage: train_e2e.sh BUILD_DIR
set -euo pipefail
BIN=${1:?usage: train_e2e.sh BUILD_DIR}/train/unsharp-train
T=$(mktemp -d /tmp/unsharp-train-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/photos" "$T/val/sharp" "$T/val/blurry"

source "$(dirname "${BASH_SOURCE[0]}")/test_photos.sh"
make_train_photos "$T"
cp "$T/photos/p1.jpg" "$T/val/sharp/"
djpeg -pnm "$T/photos/p2.jpg" | pnmsmooth -width 9 -height 9 | cjpeg -quality 95 -grayscale > "$T/val/blurry/p2.jpg"

fail() { echo "train_e2e: FAIL: $*" >&2; exit 1; }
common=(--epochs 1 --crop 128 --batch 4 --crops-per-photo 2 --threads 1 --seed 7 -q)

"$BIN" "${common[@]}" --out "$T/a.usw" --checkpoint "$T/a.usw.ckpt" --val "$T/val" "$T/photos" > "$T/a.log" || fail "training failed"
grep -qE '^ +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+' "$T/a.log" || fail "no epoch line with validation figures: $(cat "$T/a.log")"
[ -s "$T/a.usw" ] && [ -s "$T/a.usw.ckpt" ] || fail "weights or checkpoint missing"

"$BIN" "${common[@]}" --out "$T/b.usw" "$T/photos" > /dev/null || fail "second run failed"
cmp -s "$T/a.usw" "$T/b.usw" || fail "same seed and threads gave different weights"
"$BIN" --evaluate "$T/val" --init "$T/a.usw" > "$T/ea.txt" || fail "evaluate a failed"
"$BIN" --evaluate "$T/val" --init "$T/b.usw" > "$T/eb.txt" || fail "evaluate b failed"
grep -q '^# .*accuracy .*AUC' "$T/ea.txt" || fail "no summary line: $(cat "$T/ea.txt")"

# resume: a 2-epoch run continues from a 1-epoch checkpoint
"$BIN" --epochs 2 --crop 128 --batch 4 --crops-per-photo 2 --threads 1 --seed 7 -q \
  --resume "$T/a.usw.ckpt" --out "$T/c.usw" "$T/photos" > "$T/c.log" || fail "resume failed"
grep -qE '^ +2 ' "$T/c.log" || fail "resume did not run epoch 2: $(cat "$T/c.log")"
grep -qE '^ +1 ' "$T/c.log" && fail "resume ran epoch 1 again"

# usage errors
set +e
"$BIN" "$T/photos" 2>/dev/null; [ $? = 2 ] || fail "missing --epochs should exit 2"
"$BIN" --epochs 0 "$T/photos" 2>/dev/null; [ $? = 2 ] || fail "--epochs 0 should exit 2"
"$BIN" --epochs 1 "$T/nothing-here" 2>/dev/null; [ $? = 2 ] || fail "no photos should exit 2"
"$BIN" --help > "$T/help" || fail "--help exited $?"
grep -q -- '--epochs' "$T/help" || fail "--help"
echo "train_e2e: ok"
