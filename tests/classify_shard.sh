#!/bin/bash
# classify_shard.sh: --files-from and --shard past one process: GNU parallel running four
# shards (--shard K/4 over one --null list of names) gives, sorted, the same JSONL as one run
# over the folder, group ids included; each folder's photos come from one shard only; names
# on stdin (--files-from -) give the same; a bad --shard is a usage error.
# usage: classify_shard.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
command -v parallel > /dev/null || skip "GNU parallel is not installed"
P="$T/p"
for d in $(seq 1 8); do
  mkdir -p "$P/folder $d"
  sharp_jpg "$d" "$P/folder $d/a.jpg"
  blurry_jpg "$d" "$P/folder $d/b.jpg"   # the same scene blurred: a burst with a.jpg
  sharp_jpg $((d + 100)) "$P/folder $d/c.jpg"
done

"$BIN" -f jsonl -q --no-index "$P" > "$T/one.jsonl" || fail "one run"
[ "$(wc -l < "$T/one.jsonl")" = 24 ] || fail "one run: $(cat "$T/one.jsonl")"
grep -q '"role":"best"' "$T/one.jsonl" || fail "no burst found: the group ids would go unchecked: $(cat "$T/one.jsonl")"
LC_ALL=C sort "$T/one.jsonl" > "$T/one.sorted"

find "$P" -name '*.jpg' -print0 > "$T/list"
parallel -j4 "$BIN" -f jsonl -q --no-index --files-from "$T/list" --null --shard {}/4 '>' "$T/shard{}.jsonl" ::: 1 2 3 4 ||
  fail "parallel run"
cat "$T"/shard?.jsonl | LC_ALL=C sort > "$T/par.sorted"
cmp -s "$T/one.sorted" "$T/par.sorted" || fail "four shards differ from one run: $(diff "$T/one.sorted" "$T/par.sorted" | head)"
used=0
for k in 1 2 3 4; do
  [ -s "$T/shard$k.jsonl" ] && used=$((used + 1))
  for d in $(seq 1 8); do
    n=$(grep -c "folder $d/" "$T/shard$k.jsonl" || true)
    [ "$n" = 0 ] || [ "$n" = 3 ] || fail "shard $k holds $n of folder $d's 3 photos"
  done
done
[ $used -ge 2 ] || fail "the folders all went to one shard"

find "$P" -name '*.jpg' | "$BIN" -f jsonl -q --no-index --files-from - | LC_ALL=C sort > "$T/stdin.sorted"
cmp -s "$T/one.sorted" "$T/stdin.sorted" || fail "--files-from - differs"
for bad in 0/4 5/4 2 1/0 x/y; do
  set +e
  "$BIN" --shard $bad "$P" > /dev/null 2> "$T/err"; rc=$?
  set -e
  [ $rc = 2 ] && grep -q -- "--shard must be K/N" "$T/err" || fail "--shard $bad: exit $rc: $(cat "$T/err")"
done
echo "classify_shard: ok"
