#!/bin/bash
# classify_groups.sh: bursts, brackets, focus stacks and panoramas on generated sequences
# (group_photos.py: numpy and PIL; capture times and exposure bias written by exiv2, or the
# file time): a burst of 8 frames with increasing blur is one group whose best frame is the
# sharp one; a second scene's burst 2 s later (file times only, no EXIF) is a group of its own;
# the first scene again a minute later is a single; a bracket at -2, 0, +2 EV is role bracket,
# a focus stack role stack, overlapping crops of a wide scene role pano, and none of their
# frames is ever selected; --select all-but-best --trash trashes exactly the bursts' other
# frames (XDG_DATA_HOME private); group ids do not depend on the run.
# usage: classify_groups.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
export XDG_DATA_HOME="$T/data" HOME="$T/home" XDG_CACHE_HOME="$T/cache"
mkdir -p "$HOME" "$XDG_DATA_HOME"
command -v exiv2 > /dev/null || skip "exiv2 is not installed"
$PY -c "import numpy, PIL" 2> /dev/null || skip "python3 lacks numpy or PIL"
GEN="$(dirname "$0")/group_photos.py"
P="$T/p"
mkdir -p "$P/burst" "$P/bracket" "$P/stack" "$P/pano" "$P/later"
# exif FILE "YYYY:MM:DD HH:MM:SS" SUBSEC [exiv2 -M commands...]
exif() {
  local f=$1 t=$2 sub=$3
  shift 3
  exiv2 -M"set Exif.Photo.DateTimeOriginal Ascii $t" -M"set Exif.Photo.SubSecTimeOriginal Ascii $sub" "$@" mo "$f"
}
$PY "$GEN" burst 1 8 "$P/burst" a
$PY "$GEN" burst 2 4 "$P/burst" b
$PY "$GEN" bracket 3 "$P/bracket" x
$PY "$GEN" stack 4 "$P/stack" s
$PY "$GEN" pano 5 "$P/pano" p
for k in 1 2 3 4 5 6 7 8; do exif "$P/burst/a0$k.jpg" "2024:05:01 10:00:00" "${k}0"; done
# the second burst has no EXIF: its file times, 2 s after the first (EXIF times read as UTC)
for k in 1 2 3 4; do touch -d "2024-05-01 10:00:02.${k}0 UTC" "$P/burst/b0$k.jpg"; done
cp "$P/burst/a01.jpg" "$P/later/a01-again.jpg"
exif "$P/later/a01-again.jpg" "2024:05:01 10:01:00" 10
ev=(-2 0 2)
for k in 1 2 3; do exif "$P/bracket/x0$k.jpg" "2024:05:01 11:00:00" "${k}0" -M"set Exif.Photo.ExposureBiasValue SRational ${ev[k-1]}/1"; done
for k in 1 2 3; do exif "$P/stack/s0$k.jpg" "2024:05:01 12:00:0$k" 00; done
for k in 1 2 3; do exif "$P/pano/p0$k.jpg" "2024:05:01 13:00:0$k" 00; done
exiv2 -g ExposureBiasValue -Pv "$P/bracket/x01.jpg" | grep -qx -- "-2/1" || fail "exiv2 did not write the exposure bias"

"$BIN" -f jsonl --no-index "$P" > "$T/out.jsonl" 2> "$T/err" || fail "run: $(cat "$T/err")"
$PY - "$T/out.jsonl" "$P" <<'PYEOF' || fail "groups: $(cat "$T/out.jsonl")"
import json, os, sys
rows = {os.path.relpath(r["path"], sys.argv[2]): r for r in map(json.loads, open(sys.argv[1]))}
assert len(rows) == 22, sorted(rows)
assert all("error" not in r for r in rows.values()), rows
def members(prefix):
    return sorted(k for k in rows if k.startswith(prefix))
def group_of(names):
    gs = {rows[n]["group"] for n in names}
    assert len(gs) == 1, ("not one group", names, [(n, rows[n]["group"]) for n in names])
    others = [k for k in rows if rows[k]["group"] in gs and k not in names]
    assert not others, ("group has more", names, others)
    return gs.pop()
a, b = members("burst/a"), members("burst/b")
ga, gb = group_of(a), group_of(b)
assert ga != gb
# the sharp frame (the first, unblurred) is the best; the next least blurred is second
assert rows["burst/a01.jpg"]["role"] == "best" and rows["burst/a01.jpg"]["rank"] == 1, rows["burst/a01.jpg"]
assert rows["burst/a02.jpg"]["rank"] == 2, rows["burst/a02.jpg"]
assert sorted(rows[n]["rank"] for n in a) == list(range(1, 9))
assert all(rows[n]["role"] == "burst" for n in a[1:]), [rows[n]["role"] for n in a]
assert rows["burst/b01.jpg"]["role"] == "best" and all(rows[n]["role"] == "burst" for n in b[1:])
assert rows["later/a01-again.jpg"]["role"] == "single" and rows["later/a01-again.jpg"]["rank"] == 1
for prefix, role in (("bracket/", "bracket"), ("stack/", "stack"), ("pano/", "pano")):
    names = members(prefix)
    assert len(names) == 3
    group_of(names)
    assert all(rows[n]["role"] == role for n in names), (prefix, [rows[n]["role"] for n in names])
PYEOF

# group ids come from the group's first frame: the same when the burst is judged alone
"$BIN" -f jsonl --no-index "$P/burst" > "$T/burst.jsonl" 2> /dev/null || fail "burst run"
[ "$(grep -o '"group":"[0-9a-f]*"' "$T/burst.jsonl" | sort -u)" = \
  "$(grep '/burst/' "$T/out.jsonl" | grep -o '"group":"[0-9a-f]*"' | sort -u)" ] || fail "group ids depend on the run"
# the CSV has the same fields
"$BIN" -f csv --no-index "$P/bracket" > "$T/out.csv" 2> /dev/null || fail "csv run"
head -1 "$T/out.csv" | tr -d '\r' | grep -qx "path,sharpness,verdict,kind,width,height,group,rank,role,error" || fail "csv header"
[ "$(grep -c ',bracket,' "$T/out.csv")" = 3 ] || fail "csv roles: $(cat "$T/out.csv")"
# the table shows each group together, sharpest first
"$BIN" --no-index "$P" > "$T/table" 2> /dev/null || fail "table run"
grep -n '/burst/a0' "$T/table" | cut -d: -f1 | awk 'NR > 1 && $1 != prev + 1 { exit 1 } { prev = $1 }' || fail "table splits a group: $(cat "$T/table")"
grep '/burst/a0' "$T/table" | head -1 | grep -q 'best 1/8.*a01.jpg' || fail "table: best first: $(cat "$T/table")"

# never selected: with everything blurry, brackets, stacks and panoramas stay out of every selection
for sel in blurry unsure all-but-best; do
  "$BIN" --no-index --threshold 1 --unsure 0 --select $sel --trash --dry-run "$P" > /dev/null 2> "$T/dry" || fail "dry run $sel"
  ! grep -E 'would .*/(bracket|stack|pano)/' "$T/dry" || fail "--select $sel would act on a kept-whole group"
done
grep -c 'would move to trash' "$T/dry" | grep -qx 10 || fail "all-but-best dry run: $(cat "$T/dry")"

# all but the best of each burst go to the Trash, nothing else
"$BIN" --no-index --select all-but-best --trash -q "$P" > /dev/null 2> "$T/err" || fail "trash run: $(cat "$T/err")"
want="a02.jpg a03.jpg a04.jpg a05.jpg a06.jpg a07.jpg a08.jpg b02.jpg b03.jpg b04.jpg"
[ "$(ls "$XDG_DATA_HOME/Trash/files" | sort | tr '\n' ' ')" = "$want " ] || fail "trashed: $(ls "$XDG_DATA_HOME/Trash/files")"
[ "$(find "$P" -name '*.jpg' | wc -l)" = 12 ] || fail "left: $(find "$P" -name '*.jpg')"
[ -f "$P/burst/a01.jpg" ] && [ -f "$P/burst/b01.jpg" ] || fail "a best frame was trashed"
echo "classify_groups: ok"
