#!/bin/bash
# classify_e2e.sh: unsharp-classify end to end on generated photos: JSONL and CSV read back by
# Python's json and csv modules (names with quotes, commas, a newline and a non-UTF-8 byte),
# the table, the nasty folder (one error line per bad file, results for the good ones, exit 1),
# photos too small to judge (the true message with --device auto and cpu), the summary's
# plurals and rate, -q printing only errors,
# --dry-run changes nothing, --move-to keeps relative paths and never overwrites (also across
# filesystems, as root), a photo
# changed between judging and acting is left alone, usage errors exit 2.
# usage: classify_e2e.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"

# ---- output formats, with awkward names ----
P="$T/photos"
mkdir -p "$P/sub/deeper" "$P/x.jpg"
sharp_jpg 1 "$P/plain.jpg"
blurry_jpg 2 "$P/sub/with \"quote\", comma.jpg"
sharp_jpg 3 "$P/sub/deeper/new
line.JPG"
sharp_jpg 4 "$P/sub/latin1-$(printf '\351')t\351.jpeg"
sharp_jpg 5 "$P/x.jpg/inside-a-folder-named-x.jpg.jpg"
echo "not a photo" > "$P/notes.txt"
N=5

"$BIN" --format jsonl "$P" > "$T/out.jsonl" 2> "$T/err.txt" || fail "jsonl run exited $?: $(cat "$T/err.txt")"
$PY - "$T/out.jsonl" "$N" <<'PYEOF' || fail "jsonl check"
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]  # strict: JSON must be UTF-8
assert len(rows) == int(sys.argv[2]), rows
names = [os.fsencode(r["path"]) for r in rows]
assert names == sorted(names), "input order is name order"
for r in rows:
    assert set(r) == {"path", "sharpness", "verdict", "kind", "width", "height", "group", "rank", "role"}, r
    assert r["role"] == "single" and r["rank"] == 1 and len(r["group"]) == 16, r  # five unlike scenes
    assert os.path.isfile(os.fsencode(r["path"])), r["path"]
    assert 0 <= r["sharpness"] <= 1
    assert r["verdict"] in ("sharp", "unsure", "blurry")
    assert (r["kind"] in ("defocus", "motion")) == (r["verdict"] == "blurry"), r
    assert (r["width"], r["height"]) == (256, 192), r
    # default bands: 0.4 / 0.6
    want = "unsure" if abs(r["sharpness"] - 0.5) < 0.1 else "sharp" if r["sharpness"] >= 0.5 else "blurry"
    assert r["verdict"] == want, r
assert any(b"\n" in n for n in names) and any(b"\xe9" in n for n in names) and any(b'"' in n for n in names)
PYEOF
grep -qE '^unsharp-classify: 5 photos: [0-9]+ sharp, [0-9]+ unsure, [0-9]+ blurry, 0 failed in [0-9.]+ s' "$T/err.txt" ||
  fail "summary line: $(cat "$T/err.txt")"

"$BIN" -q --format csv "$P" > "$T/out.csv" || fail "csv run"
$PY - "$T/out.csv" "$T/out.jsonl" <<'PYEOF' || fail "csv check"
import csv, json, os, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8", errors="surrogateescape", newline="")))
js = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(rows) == len(js) == 5
for c, j in zip(rows, js):
    assert c["path"] == j["path"], (c["path"], j["path"])
    assert os.path.isfile(os.fsencode(c["path"]))
    assert abs(float(c["sharpness"]) - j["sharpness"]) < 1e-4 and c["verdict"] == j["verdict"]
    assert c["kind"] == (j["kind"] or "") and int(c["width"]) == 256 and int(c["height"]) == 192 and c["error"] == ""
    assert (c["group"], int(c["rank"]), c["role"]) == (j["group"], j["rank"], j["role"])
PYEOF

# forced verdicts: threshold 1 makes all blurry, a tiny threshold all sharp
"$BIN" "${ALL_BLURRY[@]}" --format jsonl "$P" | grep -c '"verdict":"blurry"' | grep -qx 5 || fail "--threshold 1 --unsure 0"
"$BIN" -q --threshold 0.000001 --unsure 0 --format jsonl "$P" | grep -c '"verdict":"sharp"' | grep -qx 5 ||
  fail "a tiny threshold should make all sharp"

"$BIN" -q "$P/plain.jpg" > "$T/table.txt" || fail "table run"
grep -qE '^verdict +sharpness +kind +size +group +path$' "$T/table.txt" || fail "table header: $(cat "$T/table.txt")"
grep -qE '^(sharp|unsure|blurry) +[01]\.[0-9]{3} .*256x192  .*/plain\.jpg$' "$T/table.txt" || fail "table row: $(cat "$T/table.txt")"
"$BIN" -q "$P/sub/deeper" | grep -qF 'new\nline.JPG' || fail "the table should escape a newline"

# ---- the nasty folder ----
Q="$T/nasty"
mkdir -p "$Q"
sharp_jpg 6 "$Q/good.jpg"
sharp_jpg 7 "$Q/good
two.jpg"
head -c 3000 "$Q/good.jpg" > "$Q/truncated.jpg"
: > "$Q/empty.jpg"
echo "hello, I am text" > "$Q/text.jpg"
printf 'P5\n70000 70000\n255\n' > "$T/huge.pgm"
$PY -c '
import struct,sys
# a JPEG header claiming 65000x65000: SOI, SOF0, then nothing
sys.stdout.buffer.write(b"\xff\xd8\xff\xc0\x00\x0b\x08" + struct.pack(">HH", 65000, 65000) + b"\x01\x01\x11\x00\xff\xd9")' > "$Q/huge.jpg"
sharp_jpg 8 "$Q/unreadable.jpg"
chmod 000 "$Q/unreadable.jpg"
bad=5
run_nasty() { "$BIN" --format jsonl "$Q" > "$T/nasty.jsonl" 2> "$T/nasty.err"; }
set +e
if [ "$(id -u)" = 0 ]; then
  # root reads everything: run as nobody, from a copy of the program nobody can reach
  chmod 755 "$T" "$Q"; chmod 644 "$Q"/*.jpg "$Q"/good*; chmod 000 "$Q/unreadable.jpg"
  W=$(mktemp -d /tmp/unsharp-classify-w-XXXXXX); cp "$BIN" "$W/"; cp "$(dirname "$0")/../weights/unsharp-v2.usw" "$W/"
  chmod -R a+rX "$W"
  setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/nonexistent UNSHARP_WEIGHTS="$W/unsharp-v2.usw" \
    "$W/unsharp-classify" --format jsonl "$Q" > "$T/nasty.jsonl" 2> "$T/nasty.err"
  rc=$?
  rm -rf "$W"
else
  run_nasty; rc=$?
fi
set -e
[ $rc = 1 ] || fail "nasty folder: exit $rc, want 1: $(cat "$T/nasty.err")"
n_err=$(grep -c '^unsharp-classify: .*nasty/' "$T/nasty.err" || true)
[ "$n_err" = $bad ] || fail "want $bad error lines on stderr, got $n_err: $(cat "$T/nasty.err")"
$PY - "$T/nasty.jsonl" <<'PYEOF' || fail "nasty results: $(cat "$T/nasty.jsonl")"
import json, os, sys
rows = {os.path.basename(r["path"]): r for r in map(json.loads, open(sys.argv[1], encoding="utf-8", errors="surrogateescape"))}
assert sorted(rows) == sorted(["good.jpg", "good\ntwo.jpg", "truncated.jpg", "empty.jpg", "text.jpg", "huge.jpg", "unreadable.jpg"]), sorted(rows)
for ok in ("good.jpg", "good\ntwo.jpg"):
    assert "error" not in rows[ok] and rows[ok]["verdict"] in ("sharp", "unsure", "blurry"), rows[ok]
for bad, word in (("truncated.jpg", "truncated"), ("empty.jpg", "empty"), ("text.jpg", "not a JPEG file"),
                  ("huge.jpg", "over the limit"), ("unreadable.jpg", "ermission")):
    assert "error" in rows[bad] and "sharpness" not in rows[bad], rows[bad]
    assert word in rows[bad]["error"], rows[bad]
PYEOF
grep -q ' 2 photos: .* 5 failed' "$T/nasty.err" || fail "nasty summary: $(tail -1 "$T/nasty.err")"
! grep -q '()' "$T/nasty.err" || fail "a message names a function: $(cat "$T/nasty.err")"
chmod 644 "$Q/unreadable.jpg"

# ---- messages for people: too small to judge, plurals, no rate for nothing, -q ----
S="$T/small"
mkdir -p "$S"
$PY - "$S" <<'PYEOF'
import struct, sys, zlib
def png(path, w, h):  # 8-bit grey, a gradient
    raw = b"".join(b"\0" + bytes((x * 7 + y * 13) % 256 for x in range(w)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
png(sys.argv[1] + "/tiny.png", 2, 2)
png(sys.argv[1] + "/strip.png", 1, 900)
PYEOF
for dev in auto cpu; do
  set +e
  "$BIN" --device $dev --format csv "$S" > "$T/small.csv" 2> "$T/small.err"; rc=$?
  set -e
  [ $rc = 1 ] || fail "--device $dev: too small photos: exit $rc, want 1"
  grep -qx "unsharp-classify: $S/tiny.png: too small to judge: 2 x 2 pixels" "$T/small.err" ||
    fail "--device $dev: 2x2 message: $(cat "$T/small.err")"
  grep -qx "unsharp-classify: $S/strip.png: too small to judge: 1 x 900 pixels" "$T/small.err" ||
    fail "--device $dev: strip message: $(cat "$T/small.err")"
  tr -d '\r' < "$T/small.csv" | grep -qx "$S/tiny.png,,,,,,,,,too small to judge: 2 x 2 pixels" || fail "--device $dev: csv: $(cat "$T/small.csv")"
  grep -qE '^unsharp-classify: 0 photos: 0 sharp, 0 unsure, 0 blurry, 2 failed in [0-9.]+ s$' "$T/small.err" ||
    fail "--device $dev: an empty run's summary: $(tail -1 "$T/small.err")"
done
"$BIN" --no-index "$P/plain.jpg" > /dev/null 2> "$T/one.err"
grep -qE '^unsharp-classify: 1 photo: .* 0 failed in [0-9.]+ s \([0-9.]+ photos/s\)$' "$T/one.err" ||
  fail "one photo's summary: $(cat "$T/one.err")"
set +e
"$BIN" -q "$S" "$P/plain.jpg" > /dev/null 2> "$T/quiet.err"
set -e
[ "$(wc -l < "$T/quiet.err")" = 2 ] && [ "$(grep -c 'too small to judge' "$T/quiet.err")" = 2 ] ||
  fail "-q prints only the errors: $(cat "$T/quiet.err")"

# ---- --dry-run changes nothing ----
snapshot() { (cd "$1" && find . -printf '%p %i %s %T@ %m\n' | LC_ALL=C sort; find . -type f -exec md5sum {} + | LC_ALL=C sort); }
snapshot "$P" > "$T/before"
"$BIN" "${ALL_BLURRY[@]}" --dry-run --move-to "$T/moved" --xmp --format jsonl "$P" > /dev/null 2> "$T/dry.err" ||
  fail "dry run: $(cat "$T/dry.err")"
"$BIN" "${ALL_BLURRY[@]}" --dry-run --trash "$P" > /dev/null 2>> "$T/dry.err" || fail "dry run trash"
snapshot "$P" > "$T/after"
cmp -s "$T/before" "$T/after" || fail "--dry-run changed the folder: $(diff "$T/before" "$T/after")"
[ ! -e "$T/moved" ] || fail "--dry-run created the destination"
grep -q 'would move .*plain.jpg -> .*moved/plain.jpg' "$T/dry.err" || fail "dry run says nothing: $(cat "$T/dry.err")"
grep -q 'would move to trash .*plain.jpg' "$T/dry.err" || fail "dry run trash says nothing"

# ---- --move-to keeps relative paths, takes companions, never overwrites ----
M="$T/m"; D="$T/dest"
mkdir -p "$M/a/b" "$D/a"
blurry_jpg 1 "$M/top.jpg"
blurry_jpg 2 "$M/a/b/deep.jpg"
echo raw > "$M/a/b/deep.CR2"; echo side > "$M/a/b/deep.jpg.xmp"; echo other > "$M/a/b/deeper.nef"
blurry_jpg 3 "$M/a/clash.jpg"
echo "already here" > "$D/a/clash.jpg"
set +e
"$BIN" "${ALL_BLURRY[@]}" --move-to "$D" "$M" > /dev/null 2> "$T/move.err"; rc=$?
set -e
[ $rc = 1 ] || fail "move with a clash: exit $rc, want 1: $(cat "$T/move.err")"
[ -f "$D/top.jpg" ] && [ -f "$D/a/b/deep.jpg" ] && [ -f "$D/a/b/deep.CR2" ] && [ -f "$D/a/b/deep.jpg.xmp" ] ||
  fail "moved files not at their relative paths: $(cd "$D" && find .)"
[ ! -e "$M/top.jpg" ] && [ ! -e "$M/a/b/deep.jpg" ] && [ ! -e "$M/a/b/deep.CR2" ] || fail "sources still there"
[ -f "$M/a/b/deeper.nef" ] && [ ! -e "$D/a/b/deeper.nef" ] || fail "a file that is no companion moved"
[ "$(cat "$D/a/clash.jpg")" = "already here" ] || fail "--move-to overwrote a file"
[ -f "$M/a/clash.jpg" ] || fail "the clashing photo should stay in place"
grep -q 'clash.jpg.*already exists' "$T/move.err" || fail "no message for the clash: $(cat "$T/move.err")"
# a file argument goes to DEST/its name
blurry_jpg 4 "$M/single.jpg"
"$BIN" "${ALL_BLURRY[@]}" --move-to "$D/single" "$M/single.jpg" > /dev/null 2>&1 || fail "move a file argument"
[ -f "$D/single/single.jpg" ] || fail "a file argument should land in DEST/NAME"

# across filesystems (a tmpfs in a private mount namespace, as root): copy, fsync, unlink
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  X="$T/x"; mkdir -p "$X/src/sub" "$T/xmnt"
  blurry_jpg 7 "$X/src/sub/far.jpg"; blurry_jpg 8 "$X/src/taken.jpg"; cp "$X/src/sub/far.jpg" "$T/far.orig"
  set +e
  unshare -m bash -c 'mount -t tmpfs none "$1/xmnt" || exit 77
    mkdir "$1/xmnt/d" && echo mine > "$1/xmnt/d/taken.jpg"
    "$2" --threshold 1 --unsure 0 -q --move-to "$1/xmnt/d" "$1/x/src" > /dev/null 2> "$1/x.err"; echo $? > "$1/x.rc"
    cmp -s "$1/far.orig" "$1/xmnt/d/sub/far.jpg" && [ "$(cat "$1/xmnt/d/taken.jpg")" = mine ] && echo good > "$1/x.res"' _ "$T" "$BIN"
  urc=$?
  set -e
  if [ $urc != 77 ]; then
    [ "$(cat "$T/x.res" 2>/dev/null)" = good ] || fail "move across filesystems: $(cat "$T/x.err")"
    [ "$(cat "$T/x.rc")" = 1 ] || fail "a clash across filesystems should exit 1"
    [ ! -e "$X/src/sub/far.jpg" ] && [ -f "$X/src/taken.jpg" ] || fail "across filesystems: original kept or clash removed"
  fi
fi

# ---- a photo changed after it was judged is not acted on ----
C="$T/c"; mkdir -p "$C"
blurry_jpg 5 "$C/changes.jpg"; blurry_jpg 6 "$C/stays-same.jpg"
UNSHARP_CLASSIFY_TEST_PAUSE="$T/go" "$BIN" "${ALL_BLURRY[@]}" --format jsonl --move-to "$T/cdest" "$C" > "$T/c.jsonl" 2> "$T/c.err" &
pid=$!
for _ in $(seq 600); do [ "$(wc -l < "$T/c.jsonl")" = 2 ] && break; sleep 0.1; done
[ "$(wc -l < "$T/c.jsonl")" = 2 ] || { kill $pid; fail "no results before acting"; }
printf 'x' >> "$C/changes.jpg"
touch "$T/go"
set +e; wait $pid; rc=$?; set -e
[ $rc = 1 ] || fail "a skipped photo should give exit 1, got $rc"
[ -f "$C/changes.jpg" ] && [ ! -e "$T/cdest/changes.jpg" ] || fail "the changed photo was moved"
[ -f "$T/cdest/stays-same.jpg" ] || fail "the unchanged photo was not moved"
grep -q 'changes.jpg: skipped: the file changed since it was judged' "$T/c.err" || fail "no reason given: $(cat "$T/c.err")"

# ---- usage ----
set +e
"$BIN" 2>/dev/null; [ $? = 2 ] || fail "no PATH should exit 2"
"$BIN" --format xml "$P" 2>/dev/null; [ $? = 2 ] || fail "bad --format should exit 2"
"$BIN" --threshold 2 "$P" 2>/dev/null; [ $? = 2 ] || fail "--threshold 2 should exit 2"
"$BIN" --jobs 0 "$P" 2>/dev/null; [ $? = 2 ] || fail "--jobs 0 should exit 2"
"$BIN" --trash --move-to x "$P" 2>/dev/null; [ $? = 2 ] || fail "--trash with --move-to should exit 2"
"$BIN" --weights "$T/none.usw" "$P" 2>"$T/w.err"; [ $? = 2 ] || fail "missing weights should exit 2"
grep -q '^unsharp-classify: ' "$T/w.err" || fail "errors start with the program name"
"$BIN" "$T/does-not-exist" > /dev/null 2>&1; [ $? = 1 ] || fail "a missing PATH is a failed file: exit 1"
set -e
"$BIN" --help | grep -q -- '--move-to' || fail "--help"
"$BIN" --version | grep -q '^unsharp-classify [0-9]' || fail "--version"
echo "classify_e2e: ok"
