#!/bin/bash
# review_bulk.sh: how long a bulk mark holds unsharp-review: N blurred photos (small, so that
# judging them is quick) are opened under Xvfb, and once all are judged the bulk mark is
# clicked and confirmed; --timing prints how long the window was held (the marks queued) and
# when the writer thread had written the N sidecars (Exempi, a temporary file, fsync,
# rename, each). The reference, in the same run and the same
# folder: N small files written by Python, each to a temporary name, fsync'ed and renamed
# (the floor of a durable write of one file).
# usage: bench/review_bulk.sh [N (300)]   (env: UNSHARP_BUILD, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
BUILD=${UNSHARP_BUILD:-build}
BIN=$BUILD/gui-sdl/unsharp-review
command -v xvfb-run >/dev/null || { echo "review_bulk: skipped: xvfb-run is missing"; exit 0; }
[ -x "$BIN" ] || { echo "review_bulk: build $BIN first"; exit 2; }
T=$(mktemp -d /var/tmp/review-bulk-XXXXXX)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 tests/review_photos.py "$T/photos" 0 0 "$N" 320 240 >/dev/null
printf 'wait-classified 3600\nclick-bulk\nclick-confirm\nsleep 100\nquit\n' > "$T/script.txt"
export XDG_DATA_HOME=$T/xdg SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 SDL_AUDIODRIVER=dummy
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$BIN" --geometry 1280x800 --timing \
  --test-script "$T/script.txt" "$T/photos" 2> "$T/err.txt" || { cat "$T/err.txt" >&2; exit 1; }
line=$(grep "bulk mark of" "$T/err.txt") || { cat "$T/err.txt" >&2; echo "review_bulk: no bulk mark"; exit 1; }
marked=$(echo "$line" | grep -o 'of [0-9]*' | grep -o '[0-9]*')
held=$(echo "$line" | grep -o 'after [0-9]*' | grep -o '[0-9]*')
ms=$(grep "sidecar writes done" "$T/err.txt" | tail -1 | grep -o 'done [0-9]*' | grep -o '[0-9]*')
ref=$(/usr/bin/python3 - "$T/photos" "$marked" <<'PYEOF'
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
body = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>" + b" " * 1500
t0 = time.monotonic()
for i in range(n):
    tmp = os.path.join(d, ".ref-%d.tmp" % i)
    with open(tmp, "wb") as f:
        f.write(body); f.flush(); os.fsync(f.fileno())
    os.rename(tmp, os.path.join(d, "ref-%d.xmp" % i))
print(int((time.monotonic() - t0) * 1000))
PYEOF
)
echo "review_bulk: $marked photos marked for deletion: the window held $held ms; the writer thread saved their sidecars in $ms ms" \
     "($((ms / (marked > 0 ? marked : 1))) ms each); $marked files written, fsync'ed and renamed by Python: $ref ms" \
     "(window/floor $(awk -v a="$ms" -v b="$ref" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')x)"
