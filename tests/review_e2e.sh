#!/bin/bash
# review_e2e.sh: unsharp-review end to end under Xvfb, driven by --test-script (events go
# through SDL's queue and the window's own handling; expect-* lines check what the window
# holds). On a generated folder it checks that:
#  1. the Trash asks first and Escape cancels (nothing moves);
#  2. the bulk mark (its button, then the dialog's) marks for deletion exactly the photos
#     unsharp-classify calls blurry, K marks keep and goes on, the marks are in the sidecars
#     as a person's (read here with Python's XML parser, not with the window's library);
#  3. after a quit, a new window finds those marks; a star rating, a delete mark, a
#     shift-click range and a colour label are four steps, three undone (and one redone and
#     undone again) as the window and the sidecars show: the rating survives its delete mark;
#  4. the photos marked delete go to the Trash after the confirmation with their sidecars and
#     a RAW companion, each with its .trashinfo; undo brings the set back unmarked, redo
#     moves it again;
#  5. a folder with nested subfolders shows every photo in them.
# Screenshots (grid, bulk dialog, preview, heat map at fit and at 100 %, compare, the
# confirmation with companions, the nested folder, help) are checked for their colours and
# kept in $REVIEW_SHOTS when that is set (docs/review.md shows them).
set -u
source "$(dirname "$0")/review_lib.sh"
CLI=${1}/cli/unsharp-classify
P=$T/photos

# GNU conventions, no window needed
[ "$("$BIN" --version)" = "unsharp-review 0.2.0" ] || fail "--version"
"$BIN" --help | grep -q -- "--test-script" || fail "--help does not list the options"
"$BIN" --size 5 "$T" 2> "$T/usage.txt"; [ $? = 2 ] || fail "a bad --size must exit 2"
grep -q "^unsharp-review: --size" "$T/usage.txt" || fail "the usage error is not prefixed with the program name"

# The shipped weights with a wider unsure band (sharp from 0.9): the grid then shows all three
# verdicts on the generated photos, whatever the shipped band (both programs find the weights
# through UNSHARP_WEIGHTS).
"${1}/bench/photo_features" --set-meta threshold.sharp=0.9 "$SRC/weights/unsharp-v2.usw" "$T/wide.usw" ||
  fail "cannot write the weights with a wider band"
export UNSHARP_WEIGHTS=$T/wide.usw

make_folder "$P"
printf 'not really a RAW file, the companion of blurry-01.jpg\n' > "$P/blurry-01.CR2"
md5sum "$P"/*.jpg "$P"/*.CR2 > "$T/before.md5"

# the reference: which photos unsharp-classify calls blurry (same weights, its own code path)
[ -x "$CLI" ] || fail "no unsharp-classify at $CLI"
"$CLI" --format csv "$P" > "$T/verdicts.csv" 2>/dev/null
mapfile -t BLURRY < <(tr -d '\r' < "$T/verdicts.csv" | awk -F, '$3 == "blurry" { n = split($1, p, "/"); print p[n] }' | sort)
mapfile -t NOTBLURRY < <(tr -d '\r' < "$T/verdicts.csv" | awk -F, 'NR > 1 && $3 != "blurry" && $3 != "" { n = split($1, p, "/"); print p[n] }' | sort)
[ ${#BLURRY[@]} -ge 2 ] || fail "the reference has fewer than 2 blurry photos: ${BLURRY[*]}"
printf '%s\n' "${BLURRY[@]}" | grep -qx blurry-01.jpg || fail "blurry-01.jpg is not blurry for unsharp-classify"

# sidecar_of NAME: where a mark of the photo NAME goes: the RAW's sidecar for a RAW+JPEG
# pair (as darktable and digiKam read it), else NAME.xmp
sidecar_of() { if [ -e "$P/${1%.jpg}.CR2" ]; then echo "$P/${1%.jpg}.CR2.xmp"; else echo "$P/$1.xmp"; fi; }

# xmp_get FILE: "mark by rating prior label" from a sidecar, read with Python's XML parser
xmp_get() {
  $PY - "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
U = "{http://ns.unsharp.org/1.0/}"; X = "{http://ns.adobe.com/xap/1.0/}"
DT = "{http://darktable.sf.net/}"; DK = "{http://www.digikam.org/ns/1.0/}"
vals = {}
for el in ET.parse(sys.argv[1]).iter():
    for k, v in el.attrib.items(): vals.setdefault(k, v)
    if el.text and el.text.strip(): vals.setdefault(el.tag, el.text.strip())
print(vals.get(U + "Mark", "-"), vals.get(U + "MarkedBy", "-"), vals.get(X + "Rating", "-"),
      vals.get(U + "PriorRating", "-"), vals.get(DK + "ColorLabel", "-"))
PYEOF
}

# 1. no confirmation, nothing moves
cat > "$T/s0.txt" <<EOS
wait-thumbs
click-del 0
click-trash
key Escape
key d
key t
key Escape
key ctrl+z
key ctrl+z
quit
EOS
run_window --test-script "$T/s0.txt" "$P" || fail "the window failed on the cancel script"
[ -e "$XDG_DATA_HOME/Trash/files" ] && [ -n "$(ls -A "$XDG_DATA_HOME/Trash/files")" ] && fail "a file went to the Trash without confirmation"
md5sum -c --quiet "$T/before.md5" || fail "files changed without confirmation"
for f in "$P"/*.xmp; do
  [ -e "$f" ] || continue
  [ "$(xmp_get "$f" | cut -d' ' -f1)" = "-" ] || fail "$f: a mark undone is still in the sidecar: $(xmp_get "$f")"
done

# 2. bulk mark of the blurry photos, K, the screenshots
{
  echo "wait-thumbs"
  echo "wait-classified"
  echo "screenshot $T/grid.png"
  echo "click-bulk"
  echo "screenshot $T/bulk.png"
  echo "click-confirm"
  for b in "${BLURRY[@]}"; do echo "expect-mark $b delete"; done
  for s in "${NOTBLURRY[@]}"; do echo "expect-mark $s none"; done
  echo "click-thumb 7"          # sharp-03.jpg, left half sharp, right half blurred
  echo "wait-preview"
  echo "screenshot $T/preview.png"
  echo "key h"
  echo "screenshot $T/heat-fit.png"
  echo "key z"
  echo "screenshot $T/heat-100.png"
  echo "key z"
  echo "key h"
  echo "key k"                  # keep, and on to the next photo
  echo "expect-mark sharp-03.jpg keep"
  echo "expect-selected soft-01.jpg"
  echo "key d"                  # delete, and on to the next
  echo "expect-mark soft-01.jpg delete"
  echo "expect-selected soft-02.jpg"
  echo "key Left"
  echo "key u"
  echo "expect-mark soft-01.jpg none"
  echo "key c"                  # compare the photo after it with the one after that
  echo "wait-preview"
  echo "key z"
  echo "screenshot $T/compare.png"
  echo "key Escape"
  echo "quit"
} > "$T/s1.txt"
run_window --test-script "$T/s1.txt" "$P" || fail "the window failed on the bulk script"
for s in grid bulk preview heat-fit heat-100 compare; do [ -s "$T/$s.png" ] || fail "no screenshot $s.png"; done
for b in "${BLURRY[@]}"; do
  sc=$(sidecar_of "$b")
  [ -f "$sc" ] || fail "$b: no sidecar $sc after the bulk mark"
  [ "$(xmp_get "$sc" | cut -d' ' -f1-3)" = "reject person -1" ] || fail "$sc: not a person's reject: $(xmp_get "$sc")"
done
[ -e "$P/blurry-01.jpg.xmp" ] && fail "blurry-01.jpg, the JPEG of a RAW+JPEG pair, got a sidecar of its own"
[ "$(xmp_get "$P/sharp-03.jpg.xmp" | cut -d' ' -f1-2)" = "keep person" ] || fail "sharp-03.jpg.xmp: no keep mark"
[ -e "$P/sharp-01.jpg.xmp" ] && fail "sharp-01.jpg got a sidecar without a mark"
md5sum -c --quiet "$T/before.md5" || fail "a photo changed while marking"

# the screenshots show what they should
has_colour "$T/grid.png" 46 190 80 500 || fail "grid.png: no green (sharp) borders"
has_colour "$T/grid.png" 220 50 47 500 || fail "grid.png: no red (blurry) borders"
has_colour "$T/grid.png" 176 120 60 200 || fail "grid.png: no brown (unsure) borders"
has_colour "$T/bulk.png" 200 40 40 2000 || fail "bulk.png: no red button in the bulk dialog"
cmp -s "$T/preview.png" "$T/heat-fit.png" && fail "heat-fit.png: H changed nothing"
# nothing drawn outside the photo: the pane's background around it is untouched by the heat map
bg=$(colour_count "$T/preview.png" 18 18 20)
[ "$bg" -gt 10000 ] || fail "preview.png: no background around the photo to check ($bg pixels)"
[ "$(colour_count "$T/heat-fit.png" 18 18 20)" = "$bg" ] || fail "heat-fit.png: the heat map drew outside the photo"
cmp -s "$T/heat-fit.png" "$T/heat-100.png" && fail "heat-100.png: Z changed nothing"
has_colour "$T/compare.png" 140 200 255 300 || fail "compare.png: no outline of the active side"

# 3. reopen: the marks are back; four steps, three undone
{
  echo "wait-thumbs"
  echo "wait-classified"
  for b in "${BLURRY[@]}"; do echo "expect-mark $b delete"; done
  echo "expect-mark sharp-03.jpg keep"
  echo "expect-mark sharp-01.jpg none"
  echo "click-thumb 5"          # sharp-01.jpg
  echo "wait-preview"
  echo "key 4"                  # step 1: four stars
  echo "key Escape"
  echo "click-del 5"            # step 2: delete mark on sharp-01 (the anchor)
  echo "expect-mark sharp-01.jpg delete"
  echo "click-del 8 shift"      # step 3: the range sharp-01 .. soft-01
  echo "expect-mark sharp-02.jpg delete"
  echo "expect-mark sharp-03.jpg delete"
  echo "expect-mark soft-01.jpg delete"
  echo "key ctrl+2"             # step 4: yellow label on soft-01 (selected by the click)
  echo "expect-label soft-01.jpg 2"
  echo "screenshot $T/marked.png"
  echo "key ctrl+z"
  echo "key ctrl+z"
  echo "key ctrl+z"
  echo "expect-label soft-01.jpg 0"
  echo "expect-mark soft-01.jpg none"
  echo "expect-mark sharp-03.jpg keep"
  echo "expect-mark sharp-02.jpg none"
  echo "expect-mark sharp-01.jpg none"
  echo "expect-stars sharp-01.jpg 4"
  echo "key ctrl+y"             # redo step 2, then undo it again
  echo "expect-mark sharp-01.jpg delete"
  echo "key ctrl+z"
  echo "expect-mark sharp-01.jpg none"
  echo "quit"
} > "$T/s2.txt"
run_window --test-script "$T/s2.txt" "$P" || fail "the window failed on the reopen and undo script"
[ "$(xmp_get "$P/sharp-01.jpg.xmp" | cut -d' ' -f1,3)" = "- 4" ] ||
  fail "sharp-01.jpg.xmp: the delete mark undone should leave no mark and the 4 stars: $(xmp_get "$P/sharp-01.jpg.xmp")"
[ "$(xmp_get "$P/sharp-03.jpg.xmp" | cut -d' ' -f1-2)" = "keep person" ] || fail "sharp-03.jpg.xmp: the keep mark did not come back"
[ "$(xmp_get "$P/soft-01.jpg.xmp" | cut -d' ' -f1,5)" = "- -" ] || fail "soft-01.jpg.xmp: not back as it was: $(xmp_get "$P/soft-01.jpg.xmp")"

# 4. the Trash with companions; undo brings them back unmarked; redo moves them again
{
  echo "wait-thumbs"
  echo "wait-classified"
  echo "click-trash"
  echo "screenshot $T/confirm.png"
  echo "click-confirm"
  echo "screenshot $T/after.png"
  echo "key ctrl+z"
  echo "expect-mark blurry-01.jpg none"
  echo "expect-photos 10"
  echo "key ctrl+y"
  echo "expect-photos $((10 - ${#BLURRY[@]}))"
  echo "key ?"
  echo "screenshot $T/help.png"
  echo "key Escape"
  echo "quit"
} > "$T/s3.txt"
run_window --test-script "$T/s3.txt" "$P" || fail "the window failed on the trash script"
TR=$XDG_DATA_HOME/Trash
for f in blurry-01.jpg blurry-01.CR2 blurry-01.CR2.xmp; do
  [ -e "$P/$f" ] && fail "$f is still in place"
  [ -f "$TR/files/$f" ] || fail "$f is not in the Trash"
  grep -q "^Path=$P/$f\$" "$TR/info/$f.trashinfo" || fail "$f: no .trashinfo with its path"
done
[ "$(md5sum < "$TR/files/blurry-01.jpg")" = "$(grep ' .*/blurry-01.jpg$' "$T/before.md5" | cut -c1-32)  -" ] || fail "the trashed photo is not the photo"
[ "$(md5sum < "$TR/files/blurry-01.CR2")" = "$(grep 'blurry-01.CR2' "$T/before.md5" | cut -c1-32)  -" ] || fail "the trashed RAW is not the RAW"
for b in "${BLURRY[@]}"; do [ -f "$TR/files/$b" ] || fail "$b is not in the Trash"; done
[ "$(ls "$TR/files" | wc -l)" = $((2 * ${#BLURRY[@]} + 1)) ] || fail "the Trash holds other files: $(ls "$TR/files")"
[ "$(ls "$TR/info" | wc -l)" = $((2 * ${#BLURRY[@]} + 1)) ] || fail "the Trash's info holds other entries: $(ls "$TR/info")"
# undo had brought it back unmarked (its sidecar without the reject), redo marked it again
[ "$(xmp_get "$TR/files/blurry-01.CR2.xmp" | cut -d' ' -f1-2)" = "reject person" ] || fail "the sidecar in the Trash: $(xmp_get "$TR/files/blurry-01.CR2.xmp")"
for s in sharp-01 sharp-02 sharp-03 soft-01; do [ -f "$P/$s.jpg" ] || fail "$s.jpg, not marked delete, is gone"; done
has_colour "$T/confirm.png" 200 40 40 2000 || fail "confirm.png: no red confirmation button"

# 5. nested folders: every photo in them
N=$T/nested
mkdir -p "$N/day1" "$N/day2/evening"
# (810 pixels wide: the focus map's last column of tiles passes the photo's edge)
$PY "$SRC/tests/review_photos.py" "$N/day1" 2 0 1 810 600 >/dev/null || fail "cannot make photos"
$PY "$SRC/tests/review_photos.py" "$N/day2/evening" 1 1 1 >/dev/null || fail "cannot make photos"
cp "$N/day1/sharp-01.jpg" "$N/top-level-photo-with-a-rather-long-name-to-see-the-ellipsis.jpg"
cat > "$T/s4.txt" <<EOS
wait-thumbs
wait-classified
expect-photos $(find "$N" -name '*.jpg' | wc -l)
expect-mark day2/evening/soft-01.jpg none
hover-name 6
screenshot $T/nested.png
click-thumb 1
wait-preview
screenshot $T/odd.png
key h
screenshot $T/odd-heat.png
quit
EOS
run_window --test-script "$T/s4.txt" "$N" || fail "the window failed on the nested folder"
cmp -s "$T/odd.png" "$T/odd-heat.png" && fail "odd-heat.png: H changed nothing"
bg=$(colour_count "$T/odd.png" 18 18 20)
[ "$(colour_count "$T/odd-heat.png" 18 18 20)" = "$bg" ] || fail "odd-heat.png: the heat map drew outside the photo"

if [ -n "${REVIEW_SHOTS:-}" ]; then
  mkdir -p "$REVIEW_SHOTS" && cp "$T"/{grid,bulk,preview,heat-fit,heat-100,compare,marked,confirm,after,help,nested,odd-heat}.png "$REVIEW_SHOTS"/
fi
echo "$NAME: ok"
