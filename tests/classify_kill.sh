#!/bin/bash
# classify_kill.sh: unsharp-classify --trash killed with SIGKILL in the middle of a batch of 300
# photos: afterwards every photo is either where it was or in Trash/files with its .trashinfo;
# none is lost, none is in both places.
# usage: classify_kill.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
export XDG_DATA_HOME="$T/data" HOME="$T/home"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$T/p"
make_pgm 1 64 48 "$T/small.pgm"
pnmsmooth -width 15 -height 15 "$T/small.pgm" 2>/dev/null | cjpeg -quality 90 -grayscale > "$T/small.jpg"
for i in $(seq -w 1 300); do cp "$T/small.jpg" "$T/p/p$i.jpg"; done

"$BIN" "${ALL_BLURRY[@]}" --jobs 1 --trash "$T/p" > /dev/null 2> "$T/err" &
pid=$!
killed=0
for _ in $(seq 3000); do
  n=$( (ls "$XDG_DATA_HOME/Trash/info" 2>/dev/null || true) | wc -l)
  if [ "$n" -ge 30 ]; then kill -9 $pid; killed=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.01
done
wait $pid 2>/dev/null || true
[ $killed = 1 ] || skip "the batch finished before it could be killed"
trashed=0
for i in $(seq -w 1 300); do
  f=p$i.jpg
  here=0; there=0
  [ -f "$T/p/$f" ] && here=1
  [ -f "$XDG_DATA_HOME/Trash/files/$f" ] && there=1
  [ $((here + there)) = 1 ] || fail "$f: in place $here, in the trash $there"
  if [ $there = 1 ]; then
    trashed=$((trashed + 1))
    grep -qx "Path=$T/p/$f" "$XDG_DATA_HOME/Trash/info/$f.trashinfo" || fail "$f: no .trashinfo with its path"
    cmp -s "$T/small.jpg" "$XDG_DATA_HOME/Trash/files/$f" || fail "$f: damaged in the trash"
  fi
done
# killed once 30 .trashinfo files existed: the .trashinfo is written before its photo is moved
# (Trash specification), so with --jobs 1 the 30th photo may still be in place
[ $trashed -ge 29 ] && [ $trashed -lt 300 ] || fail "killed after $trashed of 300"
echo "classify_kill: ok ($trashed of 300 in the trash when killed)"
