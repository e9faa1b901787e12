#!/bin/bash
# png_bomb_rss.sh: peak memory of unsharp-classify on the worst PNG the pixel limit admits
# cheaply: 12000x12000 RGBA 16-bit, all zeros (about 1 MB on disk, 1.15 GB decoded at full
# depth). Two copies are judged with --jobs 2, so both jobs hold one at once; the peak RSS
# comes from /usr/bin/time -v. Prints the figure and the documented bound (docs/cli.md,
# "Memory"): the full-size 8-bit luma of each photo being decoded (1 byte a pixel) plus
# about 100 MB for the program and the two networks.
# usage: bench/png_bomb_rss.sh [BUILD_DIR (build)] [SIDE (12000)]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SIDE=${2:-12000}
BIN=$BUILD/cli/unsharp-classify
[ -x "$BIN" ] || { echo "png_bomb_rss: skipped: build $BIN first"; exit 0; }
[ -x /usr/bin/time ] || { echo "png_bomb_rss: skipped: /usr/bin/time missing (Debian package time)"; exit 0; }
T=$(mktemp -d /tmp/unsharp-bomb-XXXXXX)
trap 'rm -rf "$T"' EXIT
python3 - "$T/bomb1.png" "$SIDE" <<'PY'
import struct, sys, zlib
path, side = sys.argv[1], int(sys.argv[2])
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
z = zlib.compressobj(9)
row = b"\0" * (1 + side * 8)  # filter byte + RGBA16 zeros
idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
with open(path, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
PY
cp "$T/bomb1.png" "$T/bomb2.png"
/usr/bin/time -v "$BIN" --no-index --jobs 2 -q "$T/bomb1.png" "$T/bomb2.png" > "$T/out" 2> "$T/time" || true
kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$T/time")
bound=$(( (2 * SIDE * SIDE) / 1000000 + 100 ))
echo "png_bomb_rss: ${SIDE}x${SIDE} RGBA16 zeros, $(stat -c %s "$T/bomb1.png") bytes on disk, --jobs 2:" \
     "peak RSS $((kb / 1024)) MiB ($kb kB); documented bound ${bound} MB"
grep -v "^verdict" "$T/out" | head -3
