#!/bin/bash
# classify_trash.sh: unsharp-classify --trash with XDG_DATA_HOME in a temporary folder: the
# photos and their companions land in Trash/files with a .trashinfo each (Path percent-encoded
# and absolute, DeletionDate), two photos of the same name both kept, files not selected left
# alone (a photo in the same folder not named on the command line); a photo on another
# filesystem (ext2 on a loop device, and a tmpfs, in a private mount namespace, as root) goes to
# its $topdir trash by the spec's rules or is refused with a message and left in place.
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

# Other filesystems, in a private mount namespace (root only; unshare -m): an ext2 image on a
# loop device, where the Trash spec's $topdir rules apply, and a tmpfs, which GIO counts as a
# system-internal mount and refuses. Each photo must end up in exactly one allowed place: its
# $topdir trash with a valid .trashinfo, or left in place with a message; never copied into
# the home trash, never lost. inner.sh runs inside the namespace and checks from there (the
# mounts vanish with it); it prints "skip: ..." for a mount it cannot make.
home_before=$(ls "$TR/files" | sort | tr '\n' ' ')
if [ "$(id -u)" != 0 ] || ! unshare -m true 2> /dev/null; then
  echo "classify_trash: second filesystem part skipped: needs root and unshare -m (CAP_SYS_ADMIN) to mount" >&2
else
  blurry_jpg 5 "$T/far.jpg"
  cat > "$T/inner.sh" <<'INNER'
set -u
T=$1 BIN=$2 PY=$3
bad() { echo "FAIL: $*"; exit 1; }
# run NAME DIR: a photo NAME.jpg with a NAME.xmp sidecar in DIR/pics, trashed; sets rc
run() {
  mkdir -p "$2/pics" && cp "$T/far.jpg" "$2/pics/$1.jpg" && echo "<x/>" > "$2/pics/$1.xmp"
  "$BIN" --threshold 1 --unsure 0 -q --trash "$2/pics/$1.jpg" > /dev/null 2> "$T/$1.err"
  rc=$?
}
# left NAME DIR: refused with a message, exit 1, photo and sidecar in place and unchanged
left() {
  [ "$rc" = 1 ] || bad "$1: exit $rc, want 1 for a refused trash: $(cat "$T/$1.err")"
  grep -q "$1.jpg: .*trash.*left in place" "$T/$1.err" || bad "$1: no clear message: $(cat "$T/$1.err")"
  cmp -s "$2/pics/$1.jpg" "$T/far.jpg" && [ -f "$2/pics/$1.xmp" ] || bad "$1: not left in place: $(ls -la "$2/pics")"
}
# intrash NAME TOPDIR TRASHDIR: moved into TRASHDIR, photo unchanged, sidecar with it, and the
# .trashinfo valid by the spec (read by check_info below), pointing back at the original path
intrash() {
  [ "$rc" = 0 ] || bad "$1: exit $rc: $(cat "$T/$1.err")"
  [ ! -e "$2/pics/$1.jpg" ] && [ ! -e "$2/pics/$1.xmp" ] || bad "$1: still in place after a trash that succeeded"
  cmp -s "$3/files/$1.jpg" "$T/far.jpg" && [ -f "$3/files/$1.xmp" ] || bad "$1: not in $3: $(find "$2" | sort)"
  for f in "$1.jpg" "$1.xmp"; do
    $PY - "$2" "$3/info/$f.trashinfo" "$(realpath "$2")/pics/$f" <<'PYEOF' || bad "$1: $f.trashinfo"
import os, re, sys, urllib.parse
top, info, want = sys.argv[1:]
lines = open(info, encoding="utf-8").read().splitlines()
assert lines[0] == "[Trash Info]", lines
kv = dict(l.split("=", 1) for l in lines[1:] if "=" in l)
path = urllib.parse.unquote(kv["Path"])
# the spec: a Path without a leading slash is relative to the trash's $topdir
if not path.startswith("/"):
    path = os.path.join(os.path.realpath(top), path)
assert path == want, (kv["Path"], want)
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", kv["DeletionDate"]), kv
PYEOF
  done
}

# ext2 on a loop device
if ! command -v mke2fs > /dev/null; then
  echo "skip: ext2 part: mke2fs missing (Debian e2fsprogs)"
elif ! { truncate -s 8M "$T/ext2.img" && mke2fs -q -F "$T/ext2.img" && mkdir -p "$T/ext" &&
         mount -o loop "$T/ext2.img" "$T/ext"; } > /dev/null 2>&1; then
  echo "skip: ext2 part: cannot mount an image on a loop device here (no /dev/loop*, or no CAP_SYS_ADMIN)"
else
  E=$T/ext
  # $topdir/.Trash-$uid is a file, and there is no $topdir/.Trash: no trash can be made
  : > "$E/.Trash-0"
  run e1 "$E"; left e1 "$E"
  rm "$E/.Trash-0"
  # $topdir/.Trash without the sticky bit must not be used: $topdir/.Trash-$uid is made
  mkdir -m 0777 "$E/.Trash"
  run e2 "$E"; intrash e2 "$E" "$E/.Trash-0"
  [ -z "$(ls -A "$E/.Trash")" ] || bad "e2: .Trash without the sticky bit was used"
  [ "$(stat -c %a "$E/.Trash-0")" = 700 ] || bad "e2: .Trash-0 is mode $(stat -c %a "$E/.Trash-0"), want 700"
  # with the sticky bit, $topdir/.Trash/$uid is the trash
  chmod 1777 "$E/.Trash"
  run e3 "$E"; intrash e3 "$E" "$E/.Trash/0"
  echo "ext2: refused with no usable trash; .Trash-0 when .Trash is not sticky; .Trash/0 when it is"
fi

# tmpfs: GIO refuses "system internal" mounts (tmpfs, overlay, ...); a $topdir trash would do too
mkdir -p "$T/tmpfs"
if ! mount -t tmpfs none "$T/tmpfs" 2> /dev/null; then
  echo "skip: tmpfs part: cannot mount a tmpfs here"
else
  run t1 "$T/tmpfs"
  if [ "$rc" = 0 ] && [ -d "$T/tmpfs/.Trash-0" ]; then
    intrash t1 "$T/tmpfs" "$T/tmpfs/.Trash-0"; echo "tmpfs: \$topdir trash"
  else
    left t1 "$T/tmpfs"; echo "tmpfs: refused, left in place"
  fi
fi
INNER
  unshare -m bash "$T/inner.sh" "$T" "$BIN" "$PY" > "$T/inner.out" 2>&1 || fail "other filesystem: $(cat "$T/inner.out")"
  sed 's/^/classify_trash: other filesystem: /' "$T/inner.out" >&2
  grep -q FAIL "$T/inner.out" && fail "other filesystem: $(cat "$T/inner.out")"
  [ "$(ls "$TR/files" | sort | tr '\n' ' ')" = "$home_before" ] ||
    fail "a photo from another filesystem was put in the home trash: $(ls "$TR/files")"
fi
echo "classify_trash: ok"
