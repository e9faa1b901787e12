# classify_lib.sh: shared by the unsharp-classify end-to-end scripts (sourced): the program,
# a temporary folder removed at exit, fail(), and photo makers using cjpeg and pnmsmooth.
BIN=${1:?usage: $0 BUILD_DIR}/cli/unsharp-classify
PY=/usr/bin/python3
T=$(mktemp -d /tmp/unsharp-classify-XXXXXX)
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
NAME=$(basename "$0" .sh)
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }

# make_pgm SEED W H FILE: textured noise at several scales
make_pgm() {
  awk -v s="$1" -v w="$2" -v h="$3" 'BEGIN { srand(s); print "P2\n" w " " h "\n255";
    for (y = 0; y < h; y++) { line = "";
      for (x = 0; x < w; x++) line = line " " int(128 + 100 * sin(x * s / 7.0) * cos(y / (3.0 + s)) + 20 * rand());
      print line } }' > "$4"
}
# sharp_jpg SEED FILE, blurry_jpg SEED FILE: 256x192 photos
sharp_jpg() { make_pgm "$1" 256 192 "$T/src.pgm"; cjpeg -quality 95 -grayscale -outfile "$2" "$T/src.pgm"; }
blurry_jpg() {
  make_pgm "$1" 256 192 "$T/src.pgm"
  pnmsmooth -width 15 -height 15 "$T/src.pgm" 2>/dev/null | cjpeg -quality 95 -grayscale > "$2"
}
# every blurry: sharpness < 1 always, with no unsure band
ALL_BLURRY=(--threshold 1 --unsure 0 -q)
