#!/bin/bash
# review_idle.sh: the CPU an idle unsharp-review window uses. The window opens a folder under
# Xvfb with SDL's software renderer and --timing; once every photo is judged (its "all N photos
# classified" line) and SETTLE seconds more have passed, nothing touches it for SECONDS
# seconds, and its user + system CPU time over them (utime + stime of /proc/PID/stat, in clock
# ticks) is printed as a percentage of one core. The mouse is parked outside the window.
# usage: bench/review_idle.sh [FOLDER (a generated one)] [SECONDS (10)] [SETTLE (2)]
#        (env: UNSHARP_BUILD, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${UNSHARP_BUILD:-build}
BIN=$BUILD/gui-sdl/unsharp-review
SECS=${2:-10}
SETTLE=${3:-2}
command -v xvfb-run >/dev/null || { echo "review_idle: skipped: xvfb-run is missing"; exit 0; }
[ -x "$BIN" ] || { echo "review_idle: build $BIN first"; exit 2; }
T=$(mktemp -d /tmp/review-idle-XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
FOLDER=${1:-}
if [ -z "$FOLDER" ]; then
  FOLDER=$T/photos
  /usr/bin/python3 tests/review_photos.py "$FOLDER" 4 2 4 >/dev/null
fi
export XDG_DATA_HOME=$T/xdg SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 SDL_AUDIODRIVER=dummy
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$BIN" --geometry 1280x800 --timing "$FOLDER" 2> "$T/err.txt" &
# the window's own process (xvfb-run's child)
for _ in $(seq 200); do
  PID=$(pgrep -n -f "^$BIN --geometry 1280x800 --timing" || true)
  [ -n "$PID" ] && break
  sleep 0.1
done
[ -n "$PID" ] || { cat "$T/err.txt" >&2; echo "review_idle: the window did not start"; exit 1; }
for _ in $(seq 6000); do
  grep -q "photos classified after" "$T/err.txt" && break
  kill -0 "$PID" 2>/dev/null || { cat "$T/err.txt" >&2; echo "review_idle: the window exited"; exit 1; }
  sleep 0.1
done
grep -q "photos classified after" "$T/err.txt" || { echo "review_idle: not all photos were classified"; exit 1; }
sleep "$SETTLE"
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
HZ=$(getconf CLK_TCK)
t0=$(ticks)
s0=$(date +%s.%N)
sleep "$SECS"
t1=$(ticks)
s1=$(date +%s.%N)
kill "$PID"
wait 2>/dev/null || true
PID=
n=$(ls "$FOLDER" | wc -l)
awk -v d=$((t1 - t0)) -v hz="$HZ" -v s0="$s0" -v s1="$s1" -v n="$n" 'BEGIN {
  wall = s1 - s0; cpu = d / hz
  printf "review_idle: %d files open, idle for %.1f s: %.2f s of CPU = %.2f %% of one core (%d ticks of 1/%d s)\n",
         n, wall, cpu, 100 * cpu / wall, d, hz }'
