#!/bin/bash
# formats_bench.sh: decode time of one photo in each format, to LUMA8 at the working size,
# one process, in the same run. PHOTO (a JPEG) is re-encoded with Debian's tools: PNG (PIL),
# WebP (cwebp -q 90), HEIC (heif-enc -q 90), AVIF (avifenc, quantizer 10-30), TIFF (tiffcp -c
# lzw); RAW, when given, is timed as it is and beside its own embedded preview, extracted with
# exiftool (-b -PreviewImage) to a JPEG file and decoded alone (issue 20 asks at most 1.10x).
# Each file is decoded REPEAT times (default 5); the median is printed, as a markdown table.
# usage: bench/formats_bench.sh PHOTO.jpg [RAW] [LONG_SIDE (1600)]
#        (env: UNSHARP_BUILD, default build; REPEAT)
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTO=${1:?usage: bench/formats_bench.sh PHOTO.jpg [RAW] [LONG_SIDE]}
RAW=${2:-}
SIDE=${3:-1600}
BUILD=${UNSHARP_BUILD:-build}
REPEAT=${REPEAT:-5}
for t in cwebp heif-enc avifenc tiffcp djpeg; do
  command -v $t >/dev/null || { echo "formats_bench: skipped: $t missing (scripts/install-deps.sh)"; exit 0; }
done
cmake --build "$BUILD" --target decode_bench >/dev/null
BIN=$BUILD/bench/decode_bench
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

djpeg -pnm "$PHOTO" > "$T/src.ppm"
/usr/bin/python3 -c "
import sys; from PIL import Image
im = Image.open(sys.argv[1]); im.save(sys.argv[2]); im.save(sys.argv[3])" "$T/src.ppm" "$T/src.png" "$T/plain.tif"
cwebp -quiet -q 90 "$T/src.png" -o "$T/src.webp"
heif-enc -q 90 "$T/src.png" -o "$T/src.heic" >/dev/null
avifenc --min 10 --max 30 "$T/src.png" "$T/src.avif" >/dev/null
tiffcp -c lzw "$T/plain.tif" "$T/src.tif"
cp "$PHOTO" "$T/src.jpg"
files=(src.jpg src.png src.webp src.heic src.avif src.tif)
if [ -n "$RAW" ]; then
  cp "$RAW" "$T/src.raw"
  files+=(src.raw)
  if command -v exiftool >/dev/null; then
    exiftool -b -PreviewImage "$RAW" > "$T/src.raw-preview.jpg"
    files+=(src.raw-preview.jpg)
  fi
fi

echo "photo: $PHOTO ($(head -2 "$T/src.ppm" | tail -1) px), long side $SIDE, median of $REPEAT decodes"
echo
echo "| format | file size | ms to LUMA8 at $SIDE px |"
echo "|---|---|---|"
for f in "${files[@]}"; do
  mkdir "$T/one"
  for ((i = 0; i < REPEAT; i++)); do ln "$T/$f" "$T/one/$i"; done
  ms=$("$BIN" "$T/one" "$SIDE" --all | sed -n 's/.*median_ms \([0-9.]*\).*/\1/p')
  printf '| %s | %s KB | %s |\n' "${f#src.}" "$(( $(stat -c %s "$T/$f") / 1024 ))" "$ms"
  rm -rf "$T/one"
done
