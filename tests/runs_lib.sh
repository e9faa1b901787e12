# runs_lib.sh: shared by the experiment-tracking tests (runs_*.sh): the programs, a temp
# folder, four generated photos, a tiny run's options, and fail().
# Sourced with BUILD_DIR and NAME set.
BIN=$BUILD_DIR/train/unsharp-train
RUNS=$BUILD_DIR/train/runs/unsharp-runs
PY=/usr/bin/python3
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
T=$(mktemp -d /tmp/unsharp-$NAME-XXXXXX)
chmod 755 "$T"
mkdir -p "$T/photos" "$T/val/sharp" "$T/val/blurry"
source "$(dirname "${BASH_SOURCE[0]}")/test_photos.sh"
make_train_photos "$T"
cp "$T/photos/p1.jpg" "$T/val/sharp/"
djpeg -pnm "$T/photos/p2.jpg" | pnmsmooth -width 9 -height 9 2>/dev/null | cjpeg -quality 95 -grayscale > "$T/val/blurry/p2.jpg"
# a tiny run: 8 samples of 128x128 an epoch, a new network
tiny=(--scratch --crop 128 --batch 4 --crops-per-photo 2 --threads 1 -q)
