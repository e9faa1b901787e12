#!/bin/bash
# classify_formats.sh: unsharp-classify on one photo in every format it reads, each named on the
# command line: JPEG, PNG, HEIC, AVIF, WebP, TIFF and DNG are each judged (the lossless copies
# exactly as the PNG); a JPEG XL file and a text file named .CR2 each get one plain error line
# and an error row; the exit status is 1. (Folders are searched by photo names, which
# cli/scan.c lists; files named directly are taken whatever their name.)
# usage: classify_formats.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
for t in heif-enc avifenc cwebp pnmtopng; do command -v $t >/dev/null || skip "$t missing (scripts/install-deps.sh)"; done

P="$T/mixed"
mkdir -p "$P"
make_pgm 7 256 192 "$T/src.pgm"
cjpeg -quality 95 -grayscale -outfile "$P/a.jpg" "$T/src.pgm"
pnmtopng "$T/src.pgm" > "$P/b.png" 2>/dev/null
heif-enc -q 95 "$P/b.png" -o "$P/c.heic" >/dev/null
avifenc --min 0 --max 8 "$P/b.png" "$P/d.avif" >/dev/null
cwebp -quiet -lossless "$P/b.png" -o "$P/e.webp"
$PY -c "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], compression='tiff_lzw')" "$P/b.png" "$P/f.tif"
mkdir "$T/gen"
$PY "$(dirname "$0")/image/make_formats.py" "$T/gen" --small
cp "$T/gen/preview.dng" "$P/g.dng"
printf '\xff\x0a\xfa\x1f\x42\x08\x55\x0c\x00\x4b\x18\x8b\x15\x01\x00\x00' > "$P/IMG_1.JXL"
echo "Hello, this is not a photo." > "$P/IMG_0002.CR2"

# named one by one, then the folder itself (the walk lists every one of these names)
for run in files folder; do
rc=0
if [ $run = files ]; then "$BIN" --format jsonl "$P"/* > "$T/out.jsonl" 2> "$T/err.txt" || rc=$?
else "$BIN" --format jsonl "$P" > "$T/out.jsonl" 2> "$T/err.txt" || rc=$?; fi
[ "$rc" = 1 ] || fail "exit status $rc, expected 1: $(cat "$T/err.txt")"
[ "$(grep -c 'IMG_1.JXL' "$T/err.txt")" = 1 ] || fail "not one error line for IMG_1.JXL: $(cat "$T/err.txt")"
[ "$(grep -c 'IMG_0002.CR2' "$T/err.txt")" = 1 ] || fail "not one error line for IMG_0002.CR2: $(cat "$T/err.txt")"
$PY - "$T/out.jsonl" <<'PYEOF' || fail "jsonl check ($run): $(cat "$T/out.jsonl")"
import json, os, sys
rows = {os.path.basename(r["path"]): r for r in map(json.loads, open(sys.argv[1]))}
judged = ["a.jpg", "b.png", "c.heic", "d.avif", "e.webp", "f.tif", "g.dng"]
assert sorted(rows) == sorted(judged + ["IMG_1.JXL", "IMG_0002.CR2"]), sorted(rows)
for name in judged:
    r = rows[name]
    assert "error" not in r and r["verdict"] in ("sharp", "unsure", "blurry"), r
for name in judged[:6]:
    assert (rows[name]["width"], rows[name]["height"]) == (256, 192), rows[name]
for name in ("e.webp", "f.tif"):  # lossless: the same pixels as the PNG
    assert rows[name]["sharpness"] == rows["b.png"]["sharpness"], (rows[name], rows["b.png"])
for name in ("a.jpg", "c.heic", "d.avif"):  # lossy, high quality: close to the PNG
    assert abs(rows[name]["sharpness"] - rows["b.png"]["sharpness"]) < 0.15, (rows[name], rows["b.png"])
assert "JPEG XL is not supported" in rows["IMG_1.JXL"]["error"], rows["IMG_1.JXL"]
assert "not a RAW file" in rows["IMG_0002.CR2"]["error"], rows["IMG_0002.CR2"]
PYEOF
done
echo "$NAME: ok"
