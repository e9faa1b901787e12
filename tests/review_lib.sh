# review_lib.sh: shared by the unsharp-review tests (sourced): the program, a temporary folder
# removed at exit, fail()/skip(), a photo folder maker, and run_window, which runs the window
# under Xvfb with SDL's software renderer and a private Trash (XDG_DATA_HOME).
BIN=${1:?usage: $0 BUILD_DIR}/gui-sdl/unsharp-review
SRC=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
NAME=$(basename "$0" .sh)
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
skip() { echo "$NAME: SKIP: $*" >&2; exit 77; }
[ -x "$BIN" ] || fail "no program at $BIN"
command -v xvfb-run >/dev/null || skip "xvfb-run is missing (Debian package xvfb)"
command -v xauth >/dev/null || skip "xauth is missing (Debian package xauth)"
command -v cjpeg >/dev/null || skip "cjpeg is missing (libjpeg-turbo-progs)"
$PY -c 'import numpy' 2>/dev/null || skip "$PY has no numpy"
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || skip "no DejaVu Sans (fonts-dejavu-core)"
T=$(mktemp -d /tmp/unsharp-review-XXXXXX)
trap 'rm -rf "$T"' EXIT
# software rendering straight to the X11 framebuffer (no GL, so no Mesa threads under Xvfb)
export XDG_DATA_HOME=$T/xdg HOME=$T/home SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 SDL_AUDIODRIVER=dummy
mkdir -p "$XDG_DATA_HOME" "$HOME"
# sanitizer build: leaks inside system libraries only are suppressed (see the file)
export LSAN_OPTIONS="suppressions=$SRC/tests/review_lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# make_folder DIR: 3 sharp, 2 lightly blurred, 3 blurred photos, a damaged JPEG, a text file
make_folder() {
  $PY "$SRC/tests/review_photos.py" "$1" 3 2 3 || fail "cannot make photos"
  head -c 3000 "$1/sharp-01.jpg" > "$1/damaged.jpg"
  echo "not a photo" > "$1/notes.png"
}

# run_window ARGS...: the window under a private X server; its exit status is returned
run_window() {
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$BIN" --geometry 1280x800 "$@"
}

# has_colour PNG R G B MIN: at least MIN pixels of exactly that colour
has_colour() { [ "$(colour_count "$1" "$2" "$3" "$4")" -ge "$5" ]; }

# colour_count PNG R G B: how many pixels have exactly that colour
colour_count() {
  pngtopnm "$1" > "$T/shot.ppm" || fail "cannot read $1"
  $PY - "$T/shot.ppm" "$2" "$3" "$4" <<'PYEOF'
import sys, numpy as np
import re
data = open(sys.argv[1], "rb").read()
m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
w, h = int(m.group(1)), int(m.group(2))
px = np.frombuffer(data[m.end(): m.end() + w * h * 3], np.uint8).reshape(h, w, 3)
want = np.array([int(v) for v in sys.argv[2:5]], np.uint8)
print(int((px == want).all(axis=2).sum()))
PYEOF
}
