#!/bin/bash
# review_stacks.sh: groups in unsharp-review under Xvfb, driven by --test-script. A burst of 4
# frames of one scene with increasing blur (group_photos.py: numpy and PIL; EXIF capture
# times 0.1 s apart written by exiv2), an exposure bracket at -2, 0, +2 EV a minute later and
# a single photo: the grid shows 3 tiles, the burst a stack of 4 with the sharp frame on top
# and the bracket a stack of 3; G opens the burst's frames side by side (the best on the left,
# Left / Right through the others only); showing only the blurry photos shows the burst's two
# blurred frames alone (their top is hidden by the filter); Shift+K marks the other three for deletion as one
# step (undone and redone whole) and leaves the best untouched; on the bracket it marks
# nothing. The sidecars are read back with Python's XML parser.
# usage: review_stacks.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/review_lib.sh"
command -v exiv2 > /dev/null || skip "exiv2 is not installed"
$PY -c "import numpy, PIL" 2> /dev/null || skip "$PY lacks numpy or PIL"
GEN=$SRC/tests/group_photos.py
P=$T/p
mkdir -p "$P"
$PY "$GEN" burst 1 4 "$P" a
$PY "$GEN" bracket 3 "$P" x
$PY "$GEN" burst 7 1 "$P" s
exif() {
  local f=$1 t=$2 sub=$3
  shift 3
  exiv2 -M"set Exif.Photo.DateTimeOriginal Ascii $t" -M"set Exif.Photo.SubSecTimeOriginal Ascii $sub" "$@" mo "$f"
}
for k in 1 2 3 4; do exif "$P/a0$k.jpg" "2024:05:01 10:00:00" "${k}0"; done
ev=(-2 0 2)
for k in 1 2 3; do exif "$P/x0$k.jpg" "2024:05:01 10:01:00" "${k}0" -M"set Exif.Photo.ExposureBiasValue SRational ${ev[k-1]}/1"; done
exif "$P/s01.jpg" "2024:05:01 10:02:00" 00

# xmp_mark FILE: the mark in a sidecar ("-" without one or without a sidecar), by Python's XML parser
xmp_mark() {
  [ -f "$1" ] || { echo "-"; return; }
  $PY - "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
U = "{http://ns.unsharp.org/1.0/}"
vals = {}
for el in ET.parse(sys.argv[1]).iter():
    for k, v in el.attrib.items(): vals.setdefault(k, v)
    if el.text and el.text.strip(): vals.setdefault(el.tag, el.text.strip())
print(vals.get(U + "Mark", "-"))
PYEOF
}

cat > "$T/s.txt" <<EOS
wait-thumbs
wait-classified
wait-grouped
expect-shown 3
expect-stack a03.jpg 4 burst
expect-top a01.jpg
expect-stack x02.jpg 3 bracket
expect-selected a01.jpg
screenshot $T/stack.png
key g
wait-preview
expect-view compare a01.jpg a02.jpg
screenshot $T/expanded.png
key Right
expect-view compare a01.jpg a03.jpg
key Right
key Right
expect-view compare a01.jpg a04.jpg
key Escape
expect-view grid
expect-shown 3
key f
key f
key f
expect-shown 2
key f
expect-shown 3
key shift+k
expect-mark a01.jpg none
expect-mark a02.jpg delete
expect-mark a03.jpg delete
expect-mark a04.jpg delete
key ctrl+z
expect-mark a02.jpg none
expect-mark a03.jpg none
expect-mark a04.jpg none
key ctrl+y
expect-mark a04.jpg delete
expect-mark a02.jpg delete
key End
key shift+k
expect-mark x01.jpg none
expect-mark x02.jpg none
expect-mark x03.jpg none
screenshot $T/marked.png
quit
EOS
run_window --test-script "$T/s.txt" "$P" || fail "the window failed on the stacks script"
for f in a02 a03 a04; do [ "$(xmp_mark "$P/$f.jpg.xmp")" = reject ] || fail "$f.jpg.xmp: not marked reject"; done
for f in a01 x01 x02 x03 s01; do [ "$(xmp_mark "$P/$f.jpg.xmp")" = "-" ] || fail "$f.jpg.xmp: marked, should be untouched"; done
[ -e "$P/a01.jpg.xmp" ] && fail "the best frame got a sidecar: $(cat "$P/a01.jpg.xmp")"
cmp -s "$T/stack.png" "$T/expanded.png" && fail "expanded.png: G changed nothing"
# the bracket's badge is blue (kept whole)
has_colour "$T/stack.png" 50 100 190 300 || fail "stack.png: no blue badge on the bracket's stack"
if [ -n "${REVIEW_SHOTS:-}" ]; then
  mkdir -p "$REVIEW_SHOTS" && cp "$T/stack.png" "$REVIEW_SHOTS/review-stack.png" && cp "$T/expanded.png" "$REVIEW_SHOTS/review-stack-compare.png"
fi
echo "$NAME: ok"
