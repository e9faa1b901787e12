#!/bin/bash
# classify_kill_loop.sh: unsharp-classify killed with SIGKILL at chosen points of its actions,
# KILLS times (default 50) for each of: --move-to onto another filesystem (a tmpfs), --trash
# on a loop-mounted ext4 (its $topdir trash), and --xmp. Each kill point is a random call
# number among the file calls the run makes (shim_race.so's SHIM_KILL_AT, counted once by a
# run that is not killed), so kills land inside copies, renames and unlinks alike. After each
# kill every photo, sidecar and RAW companion must be in place and unchanged, or whole at its
# destination; never partial under a final name, never lost. A rerun must then finish the job.
# Root and unshare -m are needed for the mounts (77 = skipped otherwise).
# usage: classify_kill_loop.sh BUILD_DIR [KILLS (default $KILL_LOOP_KILLS, else 50)]
set -uo pipefail
if [ -z "${KILL_NS:-}" ] && [ "$(id -u)" = 0 ] && unshare -m true 2> /dev/null; then
  exec env KILL_NS=1 unshare -m bash "$0" "$@"
fi
source "$(dirname "$0")/classify_lib.sh"
[ -n "${KILL_NS:-}" ] || skip "needs root and unshare -m to mount a tmpfs and an ext4 image"
trap 'umount "$T/far" "$T/ext" 2> /dev/null; rm -rf "$T"' EXIT
SHIM=$1/tests/shim_race.so
KILLS=${2:-${KILL_LOOP_KILLS:-50}}
RANDOM=20261204 # the same kill points every run
export ASAN_OPTIONS=${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0
export XDG_DATA_HOME="$T/data" HOME="$T/home"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$T/far" "$T/ext"
mount -t tmpfs none "$T/far" || skip "cannot mount a tmpfs"
command -v mkfs.ext4 > /dev/null || skip "mkfs.ext4 missing (Debian e2fsprogs)"
{ truncate -s 32M "$T/ext4.img" && mkfs.ext4 -q -F "$T/ext4.img" && mount -o loop "$T/ext4.img" "$T/ext"; } > /dev/null 2>&1 ||
  skip "cannot mount an ext4 image on a loop device"

# the pristine set: 4 photos, each with a sidecar (valid XMP, two styles) and two with a RAW;
# photos big enough (about 200 KB) that a copy takes several writes
make_pgm 7 1024 768 "$T/big.pgm"
# (contrast kept: with a photo head, a photo too flat to call blurry is held at the line, and
# --threshold 1 would no longer call it blurry)
cjpeg -quality 85 -grayscale "$T/big.pgm" > "$T/big.jpg"
XMP='<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="0"/></rdf:RDF></x:xmpmeta>'
mkdir -p "$T/pristine/a"
for i in 1 2 3 4; do
  d=$T/pristine; [ $i -gt 2 ] && d=$T/pristine/a
  cp "$T/big.jpg" "$d/p$i.jpg"; printf '%s\n<!-- %d -->\n' "$XMP" $i >> "$d/p$i.jpg.xmp"
done
head -c 300000 /dev/urandom > "$T/pristine/p1.NEF"; head -c 100000 /dev/urandom > "$T/pristine/a/p3.CR2"

# check MODE SRC DEST: the invariant after a kill (DEST: the move's folder or the trash)
check() {
  /usr/bin/python3 - "$@" "$T/pristine" <<'PYEOF'
import hashlib, os, sys, re
mode, src, dest, pristine = sys.argv[1:]
h = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
want = {}
for root, _, files in os.walk(pristine):
    for f in files:
        p = os.path.join(root, f)
        want[os.path.relpath(p, pristine)] = h(p)
bad = []
if mode == "move":
    for rel, sha in want.items():
        s, d = os.path.join(src, rel), os.path.join(dest, rel)
        ok_s = os.path.exists(s) and h(s) == sha
        if os.path.exists(d) and h(d) != sha:
            bad.append(f"{rel}: not whole at its destination")
        if not ok_s and not (os.path.exists(d) and h(d) == sha):
            bad.append(f"{rel}: neither in place nor whole at its destination")
elif mode == "trash":
    files = os.path.join(dest, "files")
    trashed = {}
    for f in (os.listdir(files) if os.path.isdir(files) else []):
        trashed.setdefault(h(os.path.join(files, f)), []).append(f)
        if h(os.path.join(files, f)) not in want.values():
            bad.append(f"trash/{f}: not a whole copy of anything")
    for rel, sha in want.items():
        s = os.path.join(src, rel)
        ok_s = os.path.exists(s) and h(s) == sha
        names = [n for n in trashed.get(sha, []) if n.split(".")[0] == os.path.basename(rel).split(".")[0]]
        if not ok_s and not names:
            bad.append(f"{rel}: neither in place nor in the trash")
else:  # xmp: photos and RAWs unchanged; each sidecar the old one or a whole new one
    for rel, sha in want.items():
        s = os.path.join(src, rel)
        if not os.path.exists(s):
            bad.append(f"{rel}: gone")
        elif rel.endswith(".xmp"):
            t = open(s, encoding="utf-8", errors="replace").read()
            if h(s) != sha and not (re.search(r'xmp:Rating(="|>)-1', t) and "</x:xmpmeta>" in t):
                bad.append(f"{rel}: neither the old sidecar nor a whole new one")
        elif h(s) != sha:
            bad.append(f"{rel}: changed")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PYEOF
}

# loop MODE SRC DEST ARGS...: KILLS runs killed at random calls, each checked, then rerun
loop() {
  local mode=$1 src=$2 dest=$3; shift 3
  reset() { rm -rf "$src" "$dest"; cp -a "$T/pristine" "$src"; }
  reset
  SHIM_COUNT_TO="$T/calls" LD_PRELOAD="$SHIM" "$BIN" "${ALL_BLURRY[@]}" --jobs 1 "$@" "$src" > /dev/null 2> "$T/err" ||
    fail "$mode: the run without a kill failed: $(cat "$T/err")"
  local calls killed=0; calls=$(cat "$T/calls")
  [ "$calls" -ge 10 ] || fail "$mode: only $calls file calls to kill at"
  for k in $(seq "$KILLS"); do
    reset
    local at=$((RANDOM % calls + 1))
    # (the subshell reaps the killed run and says "Killed" to /dev/null)
    (SHIM_KILL_AT=$at LD_PRELOAD="$SHIM" "$BIN" "${ALL_BLURRY[@]}" --jobs 1 "$@" "$src" > /dev/null 2> "$T/err"; exit $?) 2> /dev/null
    local rc=$?
    [ $rc = 137 ] && killed=$((killed + 1))
    check "$mode" "$src" "$dest" > "$T/why" || fail "$mode: kill $k at call $at of $calls: $(cat "$T/why")"
    "$BIN" "${ALL_BLURRY[@]}" --jobs 1 "$@" "$src" > /dev/null 2> "$T/err2"
    rc=$?
    check "$mode" "$src" "$dest" > "$T/why" || fail "$mode: rerun after kill $k at call $at: $(cat "$T/why")"
    if [ "$mode" != xmp ] && [ -n "$(find "$src" -name 'p*.jpg')" ]; then
      fail "$mode: the rerun after kill $k at call $at left photos (exit $rc): $(find "$src" -type f) $(cat "$T/err2")"
    fi
  done
  [ $killed -ge "$KILLS" ] || fail "$mode: only $killed of $KILLS runs were killed"
  echo "$NAME: $mode: $killed kills among $calls file calls, every file in place or whole at its destination"
}

loop move "$T/src" "$T/far/dest" --move-to "$T/far/dest"
loop trash "$T/ext/src" "$T/ext/.Trash-0" --trash
loop xmp "$T/src" /nonexistent --xmp
echo "$NAME: ok"
