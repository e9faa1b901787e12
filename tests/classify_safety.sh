#!/bin/bash
# classify_safety.sh: the actions never lose a file, in the cases where they once did (issue
# "Nothing lost, ever"), each made to happen at an exact point by the LD_PRELOAD shim
# shim_race.so (no sleeps). Moves across filesystems go to a tmpfs mounted in a private mount
# namespace (root and unshare -m; those cases are skipped otherwise). Each case says what it
# checks; every failing case is listed at the end.
# usage: classify_safety.sh BUILD_DIR
set -uo pipefail
if [ -z "${SAFETY_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m true 2> /dev/null; then
  exec env SAFETY_NS=1 unshare -m bash "$0" "$@"
fi
source "$(dirname "$0")/classify_lib.sh"
trap 'umount "$T/far" 2> /dev/null; rm -rf "$T"' EXIT
B=$1
SHIM=$B/tests/shim_race.so
TRAIN=$B/train/unsharp-train
[ -f "$SHIM" ] || fail "no $SHIM"
# the sanitizers' runtime must come first unless told otherwise; the shim comes first here
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0
export XDG_DATA_HOME="$T/data" HOME="$T/home"
mkdir -p "$HOME" "$XDG_DATA_HOME"
blurry_jpg 1 "$T/b1.jpg"
echo "replacement, never judged" > "$T/other"
FAR=
if [ -n "${SAFETY_NS:-}" ] && mkdir -p "$T/far" && mount -t tmpfs none "$T/far" 2> /dev/null; then
  FAR=$T/far
else
  echo "$NAME: moves across filesystems skipped: needs root and unshare -m to mount a tmpfs" >&2
fi
FAILED=()
CASE=
bad() { FAILED+=("$CASE: $*"); echo "$NAME: FAIL: $CASE: $*" >&2; }
# fresh NAME: an empty folder $T/NAME/src holding p.jpg (blurry) as $S
fresh() { CASE=$1; S=$T/$1/src; mkdir -p "$S"; cp "$T/b1.jpg" "$S/p.jpg"; }
classify() { timeout -k 5 60 "$BIN" "${ALL_BLURRY[@]}" "$@" > "$T/out" 2> "$T/err"; rc=$?; }
shimmed() { (timeout -k 5 60 env LD_PRELOAD="$SHIM" "$@" > "$T/out" 2> "$T/err"; exit $?) 2> /dev/null; rc=$?; }
no_partials() { ! find "$1" -name '.unsharp-partial.*' | grep -q . || bad "a temporary copy is left in $1"; }
XMP='<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="0"/></rdf:RDF></x:xmpmeta>'

if [ -n "$FAR" ]; then
  # 1a: the photo replaced (renamed over) while it is being copied to another filesystem: the
  # replacement must stay where it is, and nothing be moved
  fresh 1a; cp "$T/other" "$T/1a/new"
  shimmed env SHIM_CALL=write SHIM_NTH=1 SHIM_ACTION=swap SHIM_FROM="$T/1a/new" SHIM_TO="$S/p.jpg" \
    "$BIN" "${ALL_BLURRY[@]}" --move-to "$FAR/1a" "$S"
  cmp -s "$S/p.jpg" "$T/other" || bad "the replacement photo is gone (exit $rc): $(cat "$T/err")"
  [ ! -e "$FAR/1a/p.jpg" ] || bad "a photo that changed was moved"
  [ "$rc" = 1 ] || bad "exit $rc, want 1: $(cat "$T/err")"
  no_partials "$FAR/1a"

  # 1b: a RAW companion replaced while it is being copied: kept, not unlinked
  fresh 1b; echo "raw one" > "$S/p.NEF"; cp "$T/other" "$T/1b/new"
  shimmed env SHIM_CALL=write SHIM_NTH=2 SHIM_ACTION=swap SHIM_FROM="$T/1b/new" SHIM_TO="$S/p.NEF" \
    "$BIN" "${ALL_BLURRY[@]}" --move-to "$FAR/1b" "$S"
  cmp -s "$S/p.NEF" "$T/other" || bad "the replaced RAW is gone (exit $rc): $(cat "$T/err")"
  [ ! -e "$FAR/1b/p.NEF" ] || bad "a RAW that changed was moved"
  cmp -s "$FAR/1b/p.jpg" "$T/b1.jpg" || bad "the photo itself was not moved whole"
  no_partials "$FAR/1b"

  # 5: killed during the copy to another filesystem: the photo in place, nothing under the
  # final name; the next run cleans the temporary copy and moves the photo
  fresh 5
  shimmed env SHIM_CALL=write SHIM_NTH=1 SHIM_ACTION=kill "$BIN" "${ALL_BLURRY[@]}" --move-to "$FAR/5" "$S"
  [ "$rc" = 137 ] || bad "the shim did not kill the run (exit $rc)"
  cmp -s "$S/p.jpg" "$T/b1.jpg" || bad "the photo is not in place after the kill"
  [ ! -e "$FAR/5/p.jpg" ] || bad "a partial file under the final name: $(stat -c %s "$FAR/5/p.jpg") bytes"
  classify --move-to "$FAR/5" "$S"
  [ "$rc" = 0 ] && cmp -s "$FAR/5/p.jpg" "$T/b1.jpg" && [ ! -e "$S/p.jpg" ] || bad "the rerun did not move it (exit $rc): $(cat "$T/err")"
  no_partials "$FAR/5"

  # 6c: a sidecar that is a symbolic link moves to another filesystem as the link itself
  fresh 6c; echo "$XMP" > "$T/6c/real.xmp"; ln -s ../real.xmp "$S/p.xmp"
  classify --move-to "$FAR/6c" "$S"
  [ -L "$FAR/6c/p.xmp" ] && [ "$(readlink "$FAR/6c/p.xmp")" = ../real.xmp ] && [ ! -L "$S/p.xmp" ] ||
    bad "the link did not move as a link (exit $rc): $(ls -la "$S" "$FAR/6c")"
fi

# 2: a file in Trash/files without a .trashinfo is never overwritten
fresh 2
mkdir -p "$XDG_DATA_HOME/Trash/files"; echo "precious" > "$XDG_DATA_HOME/Trash/files/p.jpg"
classify --trash "$S/p.jpg"
[ "$(cat "$XDG_DATA_HOME/Trash/files/p.jpg")" = precious ] || bad "the file already in the trash was overwritten"
[ ! -e "$S/p.jpg" ] && [ "$(grep -l "^Path=$S/p.jpg$" "$XDG_DATA_HOME"/Trash/info/*.trashinfo | wc -l)" = 1 ] ||
  bad "the photo is not in the trash under another name (exit $rc): $(cat "$T/err")"
for i in "$XDG_DATA_HOME"/Trash/info/*.trashinfo; do
  f=$(basename "$i" .trashinfo); cmp -s "$XDG_DATA_HOME/Trash/files/$f" "$T/b1.jpg" || bad "$f in the trash is not the photo"
done

# 3: a sidecar that is XML but not XMP is left as it is, and the photo reported
fresh 3; printf '<notes>\n  <caption>Grandma at the lake, 1987</caption>\n</notes>\n' > "$S/p.jpg.xmp"; cp "$S/p.jpg.xmp" "$T/3/before"
classify --xmp "$S"
cmp -s "$S/p.jpg.xmp" "$T/3/before" || bad "the non-XMP sidecar was rewritten: $(cat "$S/p.jpg.xmp")"
[ "$rc" = 1 ] && grep -q "p.jpg: .*not XMP" "$T/err" || bad "not reported (exit $rc): $(cat "$T/err")"

# 4: the photo replaced after its sidecar is written and before the trash: not trashed
fresh 4; echo "$XMP" > "$S/p.xmp"; cp "$T/other" "$T/4/new"
rm -rf "$XDG_DATA_HOME/Trash"
shimmed env SHIM_CALL=rename SHIM_MATCH=p.xmp SHIM_ACTION=swap SHIM_FROM="$T/4/new" SHIM_TO="$S/p.jpg" \
  "$BIN" "${ALL_BLURRY[@]}" --xmp --trash "$S"
cmp -s "$S/p.jpg" "$T/other" || bad "the replacement is not in place (exit $rc): $(cat "$T/err")"
grep -rlq "never judged" "$XDG_DATA_HOME/Trash/files" 2> /dev/null && bad "the Trash received a file that was never judged"

# 6a: --xmp never writes through a sidecar that is a link, nor replaces the link
fresh 6a; echo "$XMP" > "$T/6a/real.xmp"; cp "$T/6a/real.xmp" "$T/6a/before"; ln -s ../real.xmp "$S/p.jpg.xmp"
classify --xmp "$S"
[ -L "$S/p.jpg.xmp" ] || bad "the link was replaced by a regular file"
cmp -s "$T/6a/real.xmp" "$T/6a/before" || bad "written through the link"
[ "$rc" = 1 ] && grep -q "p.jpg: .*symbolic link" "$T/err" || bad "not reported (exit $rc): $(cat "$T/err")"

# 6b: with --move-to (one filesystem) the link moves with its photo, unchanged
fresh 6b; echo "$XMP" > "$T/6b/real.xmp"; ln -s ../real.xmp "$S/p.xmp"
classify --move-to "$T/6b/dest" "$S"
[ -L "$T/6b/dest/p.xmp" ] && [ "$(readlink "$T/6b/dest/p.xmp")" = ../real.xmp ] && [ ! -L "$S/p.xmp" ] ||
  bad "the link was left behind (exit $rc): $(ls -la "$S")"

# 7: a sidecar that clashes at the destination: nothing of the photo moves, it is reported
fresh 7; echo "$XMP" > "$S/p.jpg.xmp"; mkdir -p "$T/7/dest"; echo "another photo's" > "$T/7/dest/p.jpg.xmp"
classify --move-to "$T/7/dest" "$S"
[ -f "$S/p.jpg" ] && [ -f "$S/p.jpg.xmp" ] && [ ! -e "$T/7/dest/p.jpg" ] || bad "part of the set moved: $(ls "$S" "$T/7/dest")"
[ "$(cat "$T/7/dest/p.jpg.xmp")" = "another photo's" ] || bad "the other sidecar was changed"
[ "$rc" = 1 ] && grep -q "p.jpg: .*already exists" "$T/err" || bad "not reported (exit $rc): $(cat "$T/err")"

# 8: FIFOs never block: as a sidecar, as --weights, as unsharp-train's --resume
fresh 8; mkfifo "$S/p.jpg.xmp" "$T/8/w.usw"
classify --xmp "$S"
[ "$rc" = 124 ] && bad "--xmp blocked on a FIFO sidecar"
[ "$rc" = 1 ] && grep -q "p.jpg: .*not a regular file" "$T/err" || bad "FIFO sidecar not reported (exit $rc): $(cat "$T/err")"
classify --weights "$T/8/w.usw" "$S"
[ "$rc" = 124 ] && bad "--weights blocked on a FIFO"
[ "$rc" = 2 ] && grep -q "not a regular file" "$T/err" || bad "FIFO weights not reported (exit $rc): $(cat "$T/err")"
CASE=8-train; timeout -k 5 60 "$TRAIN" --db none --epochs 1 --resume "$T/8/w.usw" -o "$T/8/o.usw" "$S" > "$T/out" 2> "$T/err"; rc=$?
[ "$rc" = 124 ] && bad "unsharp-train --resume blocked on a FIFO"
grep -q "not a regular file" "$T/err" || bad "FIFO --resume not reported (exit $rc): $(cat "$T/err")"

# 9: unsharp-train never follows links to folders: l1 -> ., l2 -> . beside one photo (also
# named on its own: one file is one photo)
CASE=9; mkdir -p "$T/9/p"; cp "$T/b1.jpg" "$T/9/p/p.jpg"; ln -s . "$T/9/p/l1"; ln -s . "$T/9/p/l2"
timeout -k 5 60 "$TRAIN" --db none --scratch --epochs 1 --crop 64 --batch 1 --crops-per-photo 1 -q -o "$T/9/o.usw" \
  --checkpoint "$T/9/o.ckpt" "$T/9/p" "$T/9/p/p.jpg" > "$T/out" 2> "$T/err"; rc=$?
[ "$rc" = 124 ] && bad "the walk did not end"
grep -q "unsharp-train: 1 photos" "$T/err" || bad "not one photo (exit $rc): $(grep photos "$T/err")"

# 11: results that cannot be written: nothing acted on, a message with the reason, exit 2
fresh 11
timeout -k 5 60 "$BIN" "${ALL_BLURRY[@]}" --trash "$S" > /dev/full 2> "$T/err"; rc=$?
[ -f "$S/p.jpg" ] || bad "the photo was trashed although the results were not written"
[ "$rc" = 2 ] && grep -q "cannot write the results: No space left on device" "$T/err" || bad "exit $rc: $(cat "$T/err")"

# 12: PATH and PATH/sub: each photo judged once, and acted on without a false "gone"
fresh 12; mkdir -p "$S/sub"; cp "$T/b1.jpg" "$S/sub/q.jpg"
classify -f jsonl --move-to "$T/12/dest" "$S" "$S/sub" "$S/p.jpg"
[ "$(wc -l < "$T/out")" = 2 ] || bad "judged $(wc -l < "$T/out") times, want 2: $(cat "$T/out")"
[ "$rc" = 0 ] && ! grep -q gone "$T/err" || bad "exit $rc: $(cat "$T/err")"

# 13: a link loop inside a scanned folder is a per-file error, not passed over in silence
fresh 13; ln -s a "$S/b"; ln -s b "$S/a"
classify -f csv "$S"
[ "$rc" = 1 ] && grep -q "/a: .*link loop" "$T/err" && grep -q "/b: .*link loop" "$T/err" ||
  bad "the loop is not reported (exit $rc): $(cat "$T/err")"
grep -q "^$S/a,,,,,,,,,.*loop" "$T/out" || bad "no error row for it: $(cat "$T/out")"

# 14: a folder with an empty folder in it (qsort of nothing; the sanitizer build aborted)
fresh 14; mkdir -p "$S/empty"
classify "$S"
[ "$rc" = 0 ] || bad "exit $rc: $(cat "$T/err")"

[ ${#FAILED[@]} = 0 ] || fail "${#FAILED[@]} failed: ${FAILED[*]}"
echo "$NAME: ok"
