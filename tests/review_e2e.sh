#!/bin/bash
# review_e2e.sh: unsharp-review end to end under Xvfb, driven by --test-script (events go
# through SDL's queue and the window's own handling). On a generated folder it checks that:
# the Trash asks first and Escape cancels (nothing moves); a thumbnail click opens the
# preview; one photo marked keep (key K) stays, one marked delete (its "del" button) is in the
# Trash with its .trashinfo after the confirmation; a mark clicked twice is cleared; the
# keyboard confirmation (T, Enter) and Ctrl+Z undo bring a file back. The screenshots (grid,
# preview with heat map, confirmation) are checked for the border and button colours, and
# kept in $REVIEW_SHOTS when that is set (docs/review.md shows them).
set -u
source "$(dirname "$0")/review_lib.sh"
P=$T/photos

# GNU conventions, no window needed
[ "$("$BIN" --version)" = "unsharp-review 0.2.0" ] || fail "--version"
"$BIN" --help | grep -q -- "--test-script" || fail "--help does not list the options"
"$BIN" --size 5 "$T" 2> "$T/usage.txt"; [ $? = 2 ] || fail "a bad --size must exit 2"
grep -q "^unsharp-review: --size" "$T/usage.txt" || fail "the usage error is not prefixed with the program name"

make_folder "$P"
md5sum "$P"/*.jpg > "$T/before.md5"

# 1. no confirmation, nothing moves
cat > "$T/s0.txt" <<EOS
wait-thumbs
click-del 0
click-trash
key Escape
key d
key t
key Escape
quit
EOS
run_window --test-script "$T/s0.txt" "$P" || fail "the window failed on the cancel script"
[ -e "$XDG_DATA_HOME/Trash/files" ] && [ -n "$(ls -A "$XDG_DATA_HOME/Trash/files")" ] && fail "a file went to the Trash without confirmation"
md5sum -c --quiet "$T/before.md5" || fail "files changed without confirmation"

# 2. preview, keep, delete, confirm
cat > "$T/s1.txt" <<EOS
wait-thumbs
wait-classified
screenshot $T/grid.png
click-thumb 7
wait-preview
screenshot $T/preview.png
key k
key Escape
click-del 0
click-del 1
click-del 1
screenshot $T/marked.png
click-trash
screenshot $T/confirm.png
click-confirm
screenshot $T/after.png
key ?
screenshot $T/help.png
key Escape
quit
EOS
run_window --test-script "$T/s1.txt" "$P" || fail "the window failed on the trash script"
for s in grid preview marked confirm after help; do [ -s "$T/$s.png" ] || fail "no screenshot $s.png"; done
[ -e "$P/blurry-01.jpg" ] && fail "blurry-01.jpg, marked delete and confirmed, is still in place"
[ -f "$XDG_DATA_HOME/Trash/files/blurry-01.jpg" ] || fail "blurry-01.jpg is not in the Trash"
grep -q "^Path=$P/blurry-01.jpg\$" "$XDG_DATA_HOME/Trash/info/blurry-01.jpg.trashinfo" || fail "no .trashinfo with its path"
[ "$(md5sum < "$XDG_DATA_HOME/Trash/files/blurry-01.jpg")" = "$(grep blurry-01 "$T/before.md5" | cut -c1-32)  -" ] ||
  fail "the trashed file is not the photo"
[ -f "$P/sharp-03.jpg" ] || fail "sharp-03.jpg, marked keep, is gone"
[ -f "$P/blurry-02.jpg" ] || fail "blurry-02.jpg, whose mark was cleared, is gone"
[ "$(ls "$XDG_DATA_HOME/Trash/files" | wc -l)" = 1 ] || fail "more than one file in the Trash"
grep -v blurry-01 "$T/before.md5" | md5sum -c --quiet || fail "another file changed"

# the screenshots show what they should: dashed verdict colours, solid marks, the red button
has_colour "$T/grid.png" 46 190 80 500 || fail "grid.png: no green (sharp) borders"
has_colour "$T/grid.png" 220 50 47 500 || fail "grid.png: no red (blurry) borders"
has_colour "$T/grid.png" 176 120 60 200 || fail "grid.png: no brown (unsure) borders"
has_colour "$T/confirm.png" 200 40 40 2000 || fail "confirm.png: no red confirmation button"
has_colour "$T/preview.png" 46 190 80 100 || fail "preview.png: no green outline of the keep mark or sharp title"

# 3. keyboard confirmation, then undo
cat > "$T/s2.txt" <<EOS
wait-thumbs
key Home
key d
key t
key Return
key ctrl+z
quit
EOS
run_window --test-script "$T/s2.txt" "$P" || fail "the window failed on the undo script"
[ -f "$P/blurry-02.jpg" ] || fail "blurry-02.jpg was not restored by undo"
[ -e "$XDG_DATA_HOME/Trash/info/blurry-02.jpg.trashinfo" ] && fail "undo left the .trashinfo"
[ -f "$XDG_DATA_HOME/Trash/files/blurry-01.jpg" ] || fail "the earlier batch left the Trash"
grep -v blurry-01 "$T/before.md5" | md5sum -c --quiet || fail "a restored file differs"

if [ -n "${REVIEW_SHOTS:-}" ]; then
  mkdir -p "$REVIEW_SHOTS" && cp "$T"/{grid,preview,marked,confirm,after,help}.png "$REVIEW_SHOTS"/
fi
echo "$NAME: ok"
