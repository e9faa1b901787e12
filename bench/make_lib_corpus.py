#!/usr/bin/python3
"""make_lib_corpus.py: distinct photos for the library benchmarks (bench/library_bench.sh):
photo i is a crop (70 to 95 % of each side, anywhere), possibly flipped, of training photo
i mod (their count), re-encoded at JPEG quality 70 to 95, with EXIF DateTimeOriginal a minute
after photo i - 1's, so that no two are close in time and none groups; one folder each 100.
Re-running makes the same files (the seed is i).
usage: make_lib_corpus.py SRC_DIR OUT_DIR FIRST COUNT [--touch]
  --touch: re-encode photos FIRST.. that exist already, at another quality (a changed photo)"""
import datetime
import os
import random
import struct
import sys
from PIL import Image


def exif_time(when):
    """An EXIF block (APP1 payload) with IFD0 pointing to an Exif IFD holding DateTimeOriginal."""
    text = when.strftime("%Y:%m:%d %H:%M:%S").encode() + b"\0"  # 20 bytes
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 26) + struct.pack("<I", 0)  # at 8
    exif_ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(text), 44) + struct.pack("<I", 0)  # at 26
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd0 + exif_ifd + text

src, out, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
touch = "--touch" in sys.argv[5:]
photos = sorted(os.path.join(src, n) for n in os.listdir(src) if n.lower().endswith((".jpg", ".jpeg", ".png")))
t0 = datetime.datetime(2024, 1, 1, 8, 0, 0)
for i in range(first, first + count):
    rng = random.Random(i)
    im = Image.open(photos[i % len(photos)]).convert("RGB")
    w, h = im.size
    cw, ch = int(w * rng.uniform(0.7, 0.95)), int(h * rng.uniform(0.7, 0.95))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    im = im.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.random() < 0.25:
        im = im.transpose(Image.FLIP_TOP_BOTTOM)
    exif = exif_time(t0 + datetime.timedelta(minutes=i))
    d = os.path.join(out, f"{i // 100:03d}")
    os.makedirs(d, exist_ok=True)
    quality = rng.randint(70, 95) if not touch else 60
    im.save(os.path.join(d, f"p{i:05d}.jpg"), quality=quality, exif=exif)
