#!/bin/bash
# review_bench.sh: unsharp-review on a big folder: the speed corpus repeated to N photos (hard
# links, or copies across filesystems), the window under Xvfb with SDL's software renderer,
# --timing and a test script that waits for every thumbnail and quits. Prints the time to
# the first thumbnail on screen, to all thumbnails decoded, and the peak RSS of the window
# (GNU time), beside a reference measured in the same run: djpeg -scale 1/8 of the same files,
# one after another (the decode floor of a 1/8 thumbnail, without any window).
# usage: bench/review_bench.sh [N (1000)] [CORPUS (/tmp/perf-corpus)]
#        (env: UNSHARP_BUILD, default build; REVIEW_BENCH_CLASSIFY=1 also waits for all verdicts)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
CORPUS=${2:-/tmp/perf-corpus}
BUILD=${UNSHARP_BUILD:-build}
BIN=$BUILD/gui-sdl/unsharp-review
command -v xvfb-run >/dev/null || { echo "review_bench: skipped: xvfb-run is missing"; exit 0; }
ls "$CORPUS"/*.jpg >/dev/null 2>&1 ||
  { echo "review_bench: skipped: no JPEGs in $CORPUS (make them with ../shared/bench/make-perf-corpus.sh $CORPUS)"; exit 0; }
[ -x "$BIN" ] || { echo "review_bench: build $BIN first"; exit 2; }

T=$(mktemp -d /tmp/review-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/photos"
mapfile -t SRC < <(ls "$CORPUS"/*.jpg)
for ((i = 0; i < N; i++)); do
  s=${SRC[$((i % ${#SRC[@]}))]}
  d=$(printf "%s/photos/%05d-%s" "$T" "$i" "$(basename "$s")")
  ln "$s" "$d" 2>/dev/null || cp "$s" "$d"
done
MP=$(file "${SRC[0]}" | grep -o '[0-9]*x[0-9]*,' | tail -1)

# the reference: djpeg 1/8 of every file, one process after another
t0=$(date +%s.%N)
for f in "$T"/photos/*.jpg; do djpeg -scale 1/8 -outfile /dev/null "$f"; done
t1=$(date +%s.%N)
REF=$(echo "$t1 - $t0" | bc)

WAIT="wait-thumbs 7200"
[ "${REVIEW_BENCH_CLASSIFY:-0}" = 1 ] && WAIT=$'wait-thumbs 7200\nwait-classified 7200'
printf '%s\nquit\n' "$WAIT" > "$T/script.txt"
export XDG_DATA_HOME=$T/xdg SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 SDL_AUDIODRIVER=dummy
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" /usr/bin/time -v -o "$T/time.txt" \
  "$BIN" --geometry 1280x800 --timing --test-script "$T/script.txt" "$T/photos" 2> "$T/err.txt" ||
  { cat "$T/err.txt" >&2; echo "review_bench: the window failed"; exit 1; }
cat "$T/err.txt" >&2
first=$(grep -o 'first thumbnail shown after [0-9]*' "$T/err.txt" | grep -o '[0-9]*$')
all=$(grep -o 'thumbnails decoded after [0-9]*' "$T/err.txt" | grep -o '[0-9]*$')
judged=$(grep -o 'classified after [0-9]*' "$T/err.txt" | grep -o '[0-9]*$' || true)
rss=$(grep 'Maximum resident set size' "$T/time.txt" | grep -o '[0-9]*$')
echo
echo "| photos | first thumbnail | all thumbnails | all classified | peak RSS | djpeg -scale 1/8, same files |"
echo "|---|---|---|---|---|---|"
printf "| %d (%s repeated) | %.2f s | %.1f s | %s | %d MB | %.1f s (window/djpeg %.2fx) |\n" "$N" "${MP%,}" \
  "$(echo "$first / 1000" | bc -l)" "$(echo "$all / 1000" | bc -l)" \
  "${judged:+$(echo "scale=1; $judged / 1000" | bc) s}" "$((rss / 1024))" "$REF" "$(echo "$all / 1000 / $REF" | bc -l)"
