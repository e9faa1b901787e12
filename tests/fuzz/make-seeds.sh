#!/bin/bash
# make-seeds.sh: writes the seed corpora of the fuzz targets, from generated content only
# (no binary seeds are kept in git): DIR/fuzz_jpeg, fuzz_png, fuzz_exif, fuzz_weights, and
# fuzz_webp, fuzz_heif, fuzz_tiff, fuzz_raw from tests/image/make_formats.py --small (cwebp,
# heif-enc, avifenc, tiffcp, and DNG files written byte by byte).
# Each seed starts with the option byte the harness reads first (see tests/fuzz/fuzz_*.c).
# usage: tests/fuzz/make-seeds.sh [DIR [MAKE_USW_SEED]]
#   DIR defaults to build-fuzz/seeds; MAKE_USW_SEED to the make_usw_seed built next to DIR's
#   build (build-fuzz/tests/fuzz/make_usw_seed). Needs cjpeg (libjpeg-turbo-progs) and netpbm.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(realpath -m "${1:-$root/build-fuzz/seeds}")
USW=${2:-$root/build-fuzz/tests/fuzz/make_usw_seed}
for t in cjpeg pnmtopng pgmramp ppmpat pgmnoise pamdepth; do
  command -v $t >/dev/null || { echo "make-seeds: $t missing (apt-get install libjpeg-turbo-progs netpbm)" >&2; exit 2; }
done
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
rm -rf "$DIR"; mkdir -p "$DIR"/{fuzz_jpeg,fuzz_png,fuzz_exif,fuzz_weights,fuzz_webp,fuzz_heif,fuzz_tiff,fuzz_raw}

# seed OUT OPTBYTE FILE: the option byte, then the file.
seed() { { printf "\\x$2"; cat "$3"; } > "$1"; }

# ---- source images: small, odd sizes included
pgmramp -diagonal 64 48 > "$T/ramp.pgm"
ppmpat -madras 64 48 > "$T/madras.ppm"
ppmpat -randomseed=1 -camo 33 17 > "$T/camo.ppm"
pgmnoise -randomseed=1 17 9 > "$T/noise.pgm"
ppmpat -gingham3 8 8 > "$T/tiny.ppm"
ppmpat -madras 24 12 > "$T/thumb.ppm"

# ---- JPEG: baseline, progressive, restart markers, grayscale, 4:4:4, 4:2:2, arithmetic
j=0
jpeg() { # jpeg NAME INPUT CJPEG-ARGS...
  local name=$1 in=$2; shift 2
  cjpeg "$@" "$in" > "$T/$name.jpg"
  for opt in 00 63 b1 5a; do seed "$DIR/fuzz_jpeg/$name-$opt" $opt "$T/$name.jpg"; done
  j=$((j + 1))
}
jpeg base      "$T/madras.ppm" -quality 85
jpeg base420   "$T/camo.ppm"   -quality 75 -sample 2x2
jpeg prog      "$T/madras.ppm" -quality 80 -progressive
jpeg restart   "$T/camo.ppm"   -quality 90 -restart 1
jpeg restartb  "$T/madras.ppm" -quality 70 -restart 2B -progressive
jpeg gray      "$T/ramp.pgm"   -quality 80
jpeg graysml   "$T/noise.pgm"  -quality 95 -grayscale
jpeg s444      "$T/tiny.ppm"   -quality 60 -sample 1x1
jpeg s422      "$T/camo.ppm"   -quality 60 -sample 2x1
jpeg arith     "$T/madras.ppm" -quality 80 -arithmetic
jpeg opt       "$T/camo.ppm"   -quality 50 -optimize

# ---- PNG: gray, rgb, palette, 16-bit, alpha, 1-bit, interlaced
p=0
png() { # png NAME INPUT PNMTOPNG-ARGS...
  local name=$1 in=$2; shift 2
  pnmtopng "$@" "$in" > "$T/$name.png" 2>/dev/null
  for opt in 00 63 b1 5a; do seed "$DIR/fuzz_png/$name-$opt" $opt "$T/$name.png"; done
  p=$((p + 1))
}
pamdepth 65535 "$T/ramp.pgm" > "$T/ramp16.pgm"
pamdepth 65535 "$T/camo.ppm" > "$T/camo16.ppm"
pgmramp -lr 33 17 > "$T/alpha.pgm"
pbmmake -gray 19 11 > "$T/bits.pbm"
png gray    "$T/ramp.pgm"
png rgb     "$T/camo.ppm"
png palette "$T/tiny.ppm"          # few colours: pnmtopng writes a palette
png gray16  "$T/ramp16.pgm"
png rgb16   "$T/camo16.ppm"
png alpha   "$T/camo.ppm" -alpha="$T/alpha.pgm"
png bits    "$T/bits.pbm"
png interl  "$T/madras.ppm" -interlace

# ---- EXIF payloads (TIFF header onward), hand-built: orientation 1..8, both byte orders,
# and IFD1 with a JPEG thumbnail.
bytes() { local f=""; for b in "$@"; do f+=$(printf '\\x%02x' $((b & 255))); done; printf "$f"; }
le16() { bytes $1 $(($1 >> 8)); }
le32() { bytes $1 $(($1 >> 8)) $(($1 >> 16)) $(($1 >> 24)); }
be16() { bytes $(($1 >> 8)) $1; }
be32() { bytes $(($1 >> 24)) $(($1 >> 16)) $(($1 >> 8)) $1; }
cjpeg -quality 70 "$T/thumb.ppm" > "$T/thumb.jpg"      # 24x12 thumbnail
cjpeg -quality 70 "$T/tiny.ppm" > "$T/thumb8.jpg"      # 8x8 thumbnail
# orient ORDER(le|be) ORIENTATION [THUMB.jpg]: IFD0 = {Orientation}; IFD1 = {Compression=6,
# JPEGInterchangeFormat, JPEGInterchangeFormatLength} when a thumbnail is given.
orient() {
  local o=$1 v=$2 th=${3:-} s16 s32
  if [ "$o" = le ]; then s16=le16 s32=le32; printf 'II*\0'; else s16=be16 s32=be32; printf 'MM\0*'; fi
  $s32 8                                           # IFD0 at 8
  $s16 1                                           # 1 entry (8 + 2 + 12 + 4 = 26)
  $s16 0x0112; $s16 3; $s32 1; $s16 "$v"; $s16 0   # Orientation, SHORT, 1, value
  if [ -z "$th" ]; then $s32 0; return; fi
  $s32 26                                          # IFD1 at 26: 3 entries (26 + 2 + 36 + 4 = 68)
  $s16 3
  $s16 0x0103; $s16 3; $s32 1; $s16 6; $s16 0      # Compression = 6 (JPEG)
  $s16 0x0201; $s16 4; $s32 1; $s32 68             # JPEGInterchangeFormat
  $s16 0x0202; $s16 4; $s32 1; $s32 "$(stat -c %s "$th")"
  $s32 0
  cat "$th"
}
e=0
for v in 1 2 3 4 5 6 7 8; do
  orient le $v > "$T/o$v.tif";           seed "$DIR/fuzz_exif/orient$v-le" 00 "$T/o$v.tif"
  orient be $v > "$T/ob$v.tif";          seed "$DIR/fuzz_exif/orient$v-be" 03 "$T/ob$v.tif"
  e=$((e + 2))
done
for v in 1 6 8; do
  orient le $v "$T/thumb.jpg" > "$T/t$v.tif";  seed "$DIR/fuzz_exif/thumb$v-le" 64 "$T/t$v.tif"   # thumbnail, long side 16
  orient be $v "$T/thumb8.jpg" > "$T/tb$v.tif"; seed "$DIR/fuzz_exif/thumb$v-be" 25 "$T/tb$v.tif" # thumbnail, long side 4
  seed "$DIR/fuzz_exif/thumb$v-big" e6 "$T/t$v.tif"                                          # thumbnail, long side 1600
  e=$((e + 3))
done
printf 'II*\0\x08\0\0\0\0\0\0\0\0\0' > "$T/empty.tif"; seed "$DIR/fuzz_exif/empty-ifd" 04 "$T/empty.tif"
e=$((e + 1))

# ---- .usw weights: a few tiny models saved by the engine; 00 = the harness fixes size+CRC,
# 01 = bytes as they are.
w=0
if [ -x "$USW" ]; then
  "$USW" "$T"
  for f in "$T"/*.usw; do
    b=$(basename "$f" .usw)
    seed "$DIR/fuzz_weights/$b-fix" 00 "$f"; seed "$DIR/fuzz_weights/$b-raw" 01 "$f"
    w=$((w + 2))
  done
else
  echo "make-seeds: $USW not built: fuzz_weights gets no seeds" >&2
fi
# ---- WebP, HEIF/AVIF, TIFF, RAW (DNG): small files made by make_formats.py
mkdir "$T/fmt"
/usr/bin/python3 "$root/tests/image/make_formats.py" "$T/fmt" --small
f=0
for pair in fuzz_webp:lossy.webp fuzz_webp:lossless.webp fuzz_webp:alpha.webp fuzz_heif:src.heic \
            fuzz_heif:src.avif fuzz_tiff:plain.tif fuzz_tiff:lzw.tif fuzz_tiff:tiled.tif fuzz_tiff:orient6.tif \
            fuzz_tiff:gray16.tif fuzz_tiff:palette.tif fuzz_raw:cfa.dng fuzz_raw:cfa6.dng fuzz_raw:preview.dng; do
  t=${pair%%:*} name=${pair#*:}
  for opt in 00 63 b1 5a e6; do seed "$DIR/$t/$name-$opt" $opt "$T/fmt/$name"; done
  f=$((f + 5))
done
echo "seeds in $DIR: fuzz_jpeg $((j * 4)), fuzz_png $((p * 4)), fuzz_exif $e, fuzz_weights $w, other formats $f"
