#!/bin/bash
# train_resume.sh: training is deterministic and a killed run resumes exactly.
#  1. Two runs with the same seed, 2 network threads and 2 sample producers write byte-identical
#     weights.
#  2. A third run is killed with SIGKILL after its checkpoint of epoch 1 or 2 is on disk; the
#     checkpoint loads, and --resume from it ends with weights byte-identical to the
#     uninterrupted run's (the checkpoint carries the optimiser's moments and step count).
# usage: train_resume.sh BUILD_DIR
set -euo pipefail
BIN=${1:?usage: train_resume.sh BUILD_DIR}/train/unsharp-train
T=$(mktemp -d /tmp/unsharp-resume-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$T/photos"
source "$(dirname "${BASH_SOURCE[0]}")/test_photos.sh"
make_train_photos "$T"
fail() { echo "train_resume: FAIL: $*" >&2; exit 1; }
common=(--scratch --epochs 4 --crop 128 --batch 4 --crops-per-photo 120 --threads 2 --producers 2 --seed 5 -q)

"$BIN" "${common[@]}" --out "$T/full.usw" "$T/photos" > /dev/null 2>&1 || fail "the uninterrupted run failed"
"$BIN" "${common[@]}" --out "$T/again.usw" "$T/photos" > /dev/null 2>&1 || fail "the second run failed"
cmp -s "$T/full.usw" "$T/again.usw" || fail "same seed and threads gave different weights"

"$BIN" "${common[@]}" --out "$T/k.usw" --checkpoint "$T/k.usw.ckpt" "$T/photos" > "$T/k.log" 2>&1 &
pid=$!
done_epochs=
for _ in $(seq 1 6000); do
  if [ -f "$T/k.usw.ckpt" ]; then
    done_epochs=$(grep -ao 'train.epochs_done=[0-9]*' "$T/k.usw.ckpt" | cut -d= -f2 || true)
    [ -n "$done_epochs" ] && [ "$done_epochs" -ge 1 ] && [ "$done_epochs" -lt 4 ] && break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
[ -e "$T/k.usw" ] && fail "the run finished before it could be killed (make the epochs longer)"
[ -n "$done_epochs" ] || fail "no checkpoint was written before the run ended"
echo "train_resume: killed after the checkpoint of epoch $done_epochs"
mkdir -p "$T/val"; ln -s "$T/photos" "$T/val/sharp"
"$BIN" --evaluate "$T/val" --init "$T/k.usw.ckpt" > "$T/e.log" 2>&1 || fail "the checkpoint left by the killed run does not load: $(cat "$T/e.log")"

"$BIN" "${common[@]}" --resume "$T/k.usw.ckpt" --checkpoint "$T/k.usw.ckpt" --out "$T/k.usw" "$T/photos" > "$T/r.log" 2>&1 || fail "resume failed: $(cat "$T/r.log")"
grep -qE "^ +$((done_epochs + 1)) " "$T/r.log" || fail "resume did not start at epoch $((done_epochs + 1)): $(cat "$T/r.log")"
grep -qE "^ +$done_epochs " "$T/r.log" && fail "resume ran epoch $done_epochs again"
cmp -s "$T/full.usw" "$T/k.usw" || fail "the resumed run's weights differ from the uninterrupted run's"
echo "train_resume: ok"
