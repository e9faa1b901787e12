#!/bin/bash
# classify_index.sh: the results index. A second run over the same photos judges none of them
# and prints the same results; after one photo is rewritten and one added, only those two are
# judged; other bands judge everything again; the index lies in $XDG_CACHE_HOME/unsharp, or
# in DIR with --index DIR; --no-index reads and writes none; an index that cannot be opened is
# a warning, not a failure. The counts come from the summary line, the results from JSONL.
# usage: classify_index.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
P="$T/p"
mkdir -p "$P/a" "$P/b"
for i in 1 2 3; do sharp_jpg $i "$P/a/s$i.jpg"; blurry_jpg $((i + 10)) "$P/b/b$i.jpg"; done
summary() { tail -1 "$T/err"; }
run() { "$BIN" -f jsonl "$@" > "$T/out.jsonl" 2> "$T/err" || fail "run $*: $(cat "$T/err")"; }

run "$P"
summary | grep -q "known from the index" && fail "first run: $(summary)"
[ -f "$XDG_CACHE_HOME/unsharp/index.sqlite" ] || fail "no index in \$XDG_CACHE_HOME/unsharp"
cp "$T/out.jsonl" "$T/first.jsonl"
run "$P"
summary | grep -q "; 6 known from the index, 0 judged$" || fail "second run: $(summary)"
cmp -s "$T/first.jsonl" "$T/out.jsonl" || fail "the index changed the results: $(diff "$T/first.jsonl" "$T/out.jsonl")"

# one photo rewritten (another scene, so its result differs), one added
sleep 0.01
sharp_jpg 7 "$P/a/s2.jpg"
blurry_jpg 8 "$P/b/b4.jpg"
run "$P"
summary | grep -q "; 5 known from the index, 2 judged$" || fail "after a change: $(summary)"
"$BIN" -f jsonl --no-index "$P" > "$T/fresh.jsonl" 2> /dev/null || fail "--no-index run"
cmp -s "$T/fresh.jsonl" "$T/out.jsonl" || fail "indexed results differ from fresh ones: $(diff "$T/fresh.jsonl" "$T/out.jsonl")"

# other bands: judged again
run --threshold 0.3 "$P"
summary | grep -q "known from the index" && fail "other bands used the index: $(summary)"

# --index DIR; --no-index touches no index
rm -rf "$XDG_CACHE_HOME"
run --index "$P" "$P/a"
[ -f "$P/unsharp-index.sqlite" ] && [ ! -e "$XDG_CACHE_HOME" ] || fail "--index DIR: $(ls -a "$P")"
run --index "$P" "$P/a"
summary | grep -q "; 3 known from the index, 0 judged$" || fail "--index DIR second run: $(summary)"
run --no-index "$P/a"
[ ! -e "$XDG_CACHE_HOME" ] || fail "--no-index wrote an index"
summary | grep -q "known from the index" && fail "--no-index used an index: $(summary)"

# an index that cannot be opened: one warning, the photos judged all the same
mkdir -p "$T/ro"
chmod a-w "$T/ro"
if [ "$(id -u)" != 0 ]; then
  run --index "$T/ro" "$P/a"
  grep -q "results index .* cannot be used" "$T/err" || fail "no warning: $(cat "$T/err")"
fi
run --index "$T/missing/dir" "$P/a"
grep -q "results index .*missing/dir.* cannot be used" "$T/err" || fail "no warning for a missing folder: $(cat "$T/err")"
[ "$(wc -l < "$T/out.jsonl")" = 3 ] || fail "photos not judged without the index"
echo "classify_index: ok"
