# classify_lib.sh: shared by the unsharp-classify end-to-end scripts (sourced): the program,
# a temporary folder removed at exit, fail(), and photo makers using cjpeg and pnmsmooth.
BIN=${1:?usage: $0 BUILD_DIR}/cli/unsharp-classify
PY=/usr/bin/python3
T=$(mktemp -d /tmp/unsharp-classify-XXXXXX)
# the results index goes to the temporary folder, not the user's cache
export XDG_CACHE_HOME="$T/cache"
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
NAME=$(basename "$0" .sh)
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }

# make_pgm SEED W H FILE (test_photos.sh): textured noise at several scales
source "$(dirname "${BASH_SOURCE[0]}")/test_photos.sh"
# sharp_jpg SEED FILE, blurry_jpg SEED FILE: 256x192 photos
sharp_jpg() { make_pgm "$1" 256 192 "$T/src.pgm"; cjpeg -quality 95 -grayscale -outfile "$2" "$T/src.pgm"; }
blurry_jpg() {
  make_pgm "$1" 256 192 "$T/src.pgm"
  pnmsmooth -width 15 -height 15 "$T/src.pgm" 2>/dev/null | cjpeg -quality 95 -grayscale > "$2"
}
# every blurry: sharpness < 1 always, with no unsure band
ALL_BLURRY=(--threshold 1 --unsure 0 -q)
