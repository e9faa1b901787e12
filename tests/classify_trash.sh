#!/bin/bash
# classify_trash.sh: unsharp-classify --trash with XDG_DATA_HOME in a temporary folder: the
# photos and their companions land in Trash/files with a .trashinfo each (Path percent-encoded
# and absolute, DeletionDate), two photos of the same name both kept, files not selected left
# alone (a photo in the same folder not named on the command line); a photo on another filesystem (a tmpfs in a private mount namespace, as root) goes to
# its $topdir trash or is refused with a message and left in place.
# usage: classify_trash.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
export XDG_DATA_HOME="$T/data" HOME="$T/home"
mkdir -p "$HOME" "$XDG_DATA_HOME"
P="$T/photos"
mkdir -p "$P/one" "$P/two"
blurry_jpg 1 "$P/one/same.jpg"
blurry_jpg 2 "$P/two/same.jpg"
blurry_jpg 3 "$P/one/my photo 100%.jpg"
echo raw > "$P/one/same.NEF"; echo "<x/>" > "$P/one/same.xmp"
echo "keep me" > "$P/one/notes.txt"; echo raw > "$P/two/unrelated.cr2"
sharp_jpg 4 "$P/two/kept.jpg"

# all judged blurry; two/kept.jpg is not named, so it must stay
"$BIN" "${ALL_BLURRY[@]}" --trash "$P/one" "$P/two/same.jpg" > /dev/null 2> "$T/err" || fail "trash run: $(cat "$T/err")"
TR="$XDG_DATA_HOME/Trash"
[ -f "$P/one/notes.txt" ] && [ -f "$P/two/unrelated.cr2" ] && [ -f "$P/two/kept.jpg" ] || fail "files not selected were touched"
[ "$(find "$P" -type f | wc -l)" = 3 ] || fail "photos left behind: $(find "$P" -type f)"
[ "$(ls "$TR/files" | wc -l)" = 5 ] || fail "want 5 files in the trash: $(ls "$TR/files")"
[ "$(ls "$TR/info" | wc -l)" = 5 ] || fail "want 5 .trashinfo files: $(ls "$TR/info")"
$PY - "$TR" "$P" <<'PYEOF' || fail "trashinfo check"
import os, re, sys, urllib.parse
tr, p = sys.argv[1], os.path.realpath(sys.argv[2])
want = sorted(os.path.join(p, n) for n in ["one/same.jpg", "two/same.jpg", "one/my photo 100%.jpg", "one/same.NEF", "one/same.xmp"])
got = []
for f in os.listdir(os.path.join(tr, "files")):
    lines = open(os.path.join(tr, "info", f + ".trashinfo")).read().splitlines()
    assert lines[0] == "[Trash Info]", lines
    kv = dict(l.split("=", 1) for l in lines[1:] if "=" in l)
    raw = kv["Path"]
    assert " " not in raw and (("100%25" in raw) or "100" not in raw), raw  # percent-encoded
    path = urllib.parse.unquote(raw)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", kv["DeletionDate"]), kv
    got.append(path)
assert sorted(got) == want, (sorted(got), want)
PYEOF

# another filesystem: a tmpfs mounted in a private mount namespace
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "classify_trash: second filesystem part skipped: needs root and unshare -m" >&2
else
  mkdir -p "$T/mnt"
  blurry_jpg 5 "$T/other.jpg"
  set +e
  unshare -m bash -c '
    mount -t tmpfs none "$1/mnt" || exit 77
    mkdir "$1/mnt/pics" && cp "$1/other.jpg" "$1/mnt/pics/far.jpg"
    "$2" --threshold 1 --unsure 0 -q --trash "$1/mnt/pics" > /dev/null 2> "$1/far.err"; echo $? > "$1/far.rc"
    ls -la "$1/mnt/pics" "$1/mnt" > "$1/far.ls"
    if [ -f "$1/mnt/pics/far.jpg" ]; then echo left; elif [ -f "$1/mnt/.Trash-0/files/far.jpg" ] && grep -q "^Path=pics/far.jpg$\|^Path=$1/mnt/pics/far.jpg$" "$1/mnt/.Trash-0/info/far.jpg.trashinfo"; then echo topdir; else echo lost; fi > "$1/far.where"' _ "$T" "$BIN"
  urc=$?
  set -e
  if [ $urc = 77 ]; then
    echo "classify_trash: second filesystem part skipped: cannot mount a tmpfs here" >&2
  else
    where=$(cat "$T/far.where")
    case "$where" in
      topdir) [ "$(cat "$T/far.rc")" = 0 ] || fail "topdir trash worked but exit $(cat "$T/far.rc")" ;;
      left) [ "$(cat "$T/far.rc")" = 1 ] && grep -q 'far.jpg: .*trash.*left in place' "$T/far.err" ||
              fail "refused without a message or exit 1: $(cat "$T/far.err")" ;;
      *) fail "the photo on the other filesystem was lost: $(cat "$T/far.err" "$T/far.ls")" ;;
    esac
    echo "classify_trash: other filesystem: $where" >&2
  fi
fi
echo "classify_trash: ok"
