#!/bin/bash
# library_bench.sh: unsharp-classify over a whole library, on distinct photos made from the
# training photos (make_lib_corpus.py: crops, flips, re-encodes, EXIF times a minute apart):
#  1. re-runs: a first run over COUNT_RERUN photos (2,000) with a fresh results index, then 5
#     photos rewritten and 5 added, and a second run, which should judge only those 10; the
#     time and summary line of both;
#  2. grouping's cost: ROUNDS rounds over COUNT photos (10,000), each timing a run without
#     groups (--no-group) and one with them (the default), both with --no-index so that every
#     photo is judged; the median wall and CPU (user + system) time of each and their ratios,
#     and how many photos grouped (the photos are distinct: none should). On a machine shared
#     with other work the CPU time is the steadier figure.
# The photos are made once under DIR (kept between runs; outside the repository).
# usage: bench/library_bench.sh BUILD_DIR DIR [COUNT [ROUNDS [JOBS]]]
#        (env PHOTOS: the training photos, default ../shared/data/photos-unsplash)
set -euo pipefail
BUILD=${1:?usage: library_bench.sh BUILD_DIR DIR [COUNT [ROUNDS [JOBS]]]}
DIR=${2:?usage: library_bench.sh BUILD_DIR DIR [COUNT [ROUNDS [JOBS]]]}
COUNT=${3:-10000} ROUNDS=${4:-2} JOBS=${5:-$(nproc)}
HERE=$(cd "$(dirname "$0")" && pwd)
PHOTOS=${PHOTOS:-$HERE/../../shared/data/photos-unsplash}
BIN=$BUILD/cli/unsharp-classify
MAKE="/usr/bin/python3 $HERE/make_lib_corpus.py $PHOTOS"
[ -x "$BIN" ] || { echo "library_bench: build $BIN first" >&2; exit 2; }
[ -d "$PHOTOS" ] || { echo "library_bench: skipped: no training photos in $PHOTOS" >&2; exit 0; }
mkdir -p "$DIR"
# secs CMD...: runs it, prints "WALL CPU" in seconds
secs() {
  /usr/bin/time -f "%e %U %S" -o "$DIR/time" "$@" > /dev/null 2> "$DIR/err" || { cat "$DIR/err" >&2; exit 1; }
  awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$DIR/time"
}

echo "## re-runs: 2,000 photos, then 5 rewritten and 5 added (-j $JOBS)"
rm -rf "$DIR/rerun" "$DIR/rerun-index"
mkdir -p "$DIR/rerun-index"
$MAKE "$DIR/rerun" 0 2000
t1=$(secs "$BIN" -j "$JOBS" -f jsonl --index "$DIR/rerun-index" "$DIR/rerun")
s1=$(tail -1 "$DIR/err")
sleep 1
$MAKE "$DIR/rerun" 0 5 --touch
$MAKE "$DIR/rerun" 2000 5
t2=$(secs "$BIN" -j "$JOBS" -f jsonl --index "$DIR/rerun-index" "$DIR/rerun")
s2=$(tail -1 "$DIR/err")
echo "first run:  wall and CPU $t1 s: $s1"
echo "second run: wall and CPU $t2 s: $s2"

echo "## grouping's cost: $COUNT photos, $ROUNDS rounds (-j $JOBS, --no-index)"
have=$( (find "$DIR/k$COUNT" -name "*.jpg" 2> /dev/null || true) | wc -l)
[ "$have" = "$COUNT" ] || { rm -rf "$DIR/k$COUNT"; $MAKE "$DIR/k$COUNT" 0 "$COUNT"; }
"$BIN" -j "$JOBS" --no-index -q -f jsonl "$DIR/k$COUNT" > /dev/null  # warm the file cache
off=() on=() offc=() onc=()
for r in $(seq "$ROUNDS"); do
  read -r w c < <(secs "$BIN" -j "$JOBS" --no-index --no-group -f jsonl "$DIR/k$COUNT")
  off+=("$w") offc+=("$c")
  read -r w c < <(secs "$BIN" -j "$JOBS" --no-index -f jsonl "$DIR/k$COUNT")
  on+=("$w") onc+=("$c")
  echo "round $r: without groups ${off[-1]} s (CPU ${offc[-1]} s), with groups ${on[-1]} s (CPU ${onc[-1]} s)"
done
"$BIN" -j "$JOBS" --no-index -q -f jsonl "$DIR/k$COUNT" | grep -vc '"role":"single"' > "$DIR/grouped" || true
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b / a - 1) * 100 }'; }
mo=$(median "${off[@]}") mg=$(median "${on[@]}") co=$(median "${offc[@]}") cg=$(median "${onc[@]}")
echo "median wall: without groups $mo s, with groups $mg s: grouping adds $(pct "$mo" "$mg") %"
echo "median CPU:  without groups $co s, with groups $cg s: grouping adds $(pct "$co" "$cg") %"
echo "photos in a group of two or more: $(cat "$DIR/grouped") of $COUNT"
