#!/usr/bin/python3
"""make_formats.py DIR [--small]: writes the test images of tests/test_formats.c into DIR;
--small writes them at a quarter of the size, as fuzz seeds (tests/fuzz/make-seeds.sh).

The source pattern is written here (numpy) as src.ppm, and every other file is encoded from it
by a tool that is not the code under test: cwebp (lossy and lossless, and one with alpha),
heif-enc (HEIC), avifenc (AVIF), PIL and tiffcp (TIFF: LZW, Deflate, tiled, 16-bit grey,
palette; tiffset for the Orientation tag), and two DNG files written byte by byte here: a
16-bit RGGB sensor image of flat blocks (cfa.dng) and the same with a JPEG preview from PIL
(preview.dng). Their reference values are written beside them (.ppm / .pgm)."""
import io
import os
import struct
import subprocess
import sys

import numpy as np
from PIL import Image

D = sys.argv[1]
SMALL = "--small" in sys.argv[2:]
W, H = (80, 60) if SMALL else (320, 240)


def path(name):
    return os.path.join(D, name)


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ppm(name, a):
    Image.fromarray(a).save(path(name))


# Smooth gradients, a checker of 8 px squares and a few hard diagonal edges: lossy coders keep
# it well above 30 dB at the qualities used.
y, x = np.mgrid[0:H, 0:W]
src = np.stack([x * 255 // (W - 1), y * 255 // (H - 1),
                np.where(((x // 8 + y // 8) % 2) == 1, 200, 40)], axis=-1).astype(np.uint8)
src[(x + 2 * y) % 97 < 3] = 255
ppm("src.ppm", src)
Image.fromarray(src).save(path("src.png"))

# WebP: lossy, lossless, lossless with alpha (alpha ramp left to right)
run("cwebp", "-quiet", "-q", "92", path("src.png"), "-o", path("lossy.webp"))
run("cwebp", "-quiet", "-lossless", path("src.png"), "-o", path("lossless.webp"))
alpha = (x * 255 // (W - 1)).astype(np.uint8)
Image.fromarray(np.dstack([src, alpha]), "RGBA").save(path("rgba.png"))
run("cwebp", "-quiet", "-lossless", "-exact", path("rgba.png"), "-o", path("alpha.webp"))

# HEIF and AVIF
run("heif-enc", "-q", "92", path("src.png"), "-o", path("src.heic"))
run("avifenc", "--min", "0", "--max", "16", path("src.png"), path("src.avif"))

# TIFF: PIL writes the plain file, tiffcp recompresses and tiles it, tiffset orients it
Image.fromarray(src).save(path("plain.tif"))
run("tiffcp", "-c", "lzw", path("plain.tif"), path("lzw.tif"))
run("tiffcp", "-c", "zip", "-t", "-w", "64", "-l", "64", path("plain.tif"), path("tiled.tif"))
run("tiffcp", "-c", "lzw", path("plain.tif"), path("orient6.tif"))
run("tiffset", "-s", "274", "6", path("orient6.tif"))
gray16 = (x * 65535 // (W - 1)).astype(np.uint16) ^ (y.astype(np.uint16) << 4)
Image.fromarray(gray16, "I;16").save(path("gray16.tif"))
ppm("gray16.pgm", ((gray16.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8))
pal = Image.fromarray(src).quantize(16)
pal.save(path("palette.tif"))
ppm("palette.ppm", np.asarray(pal.convert("RGB")))

# DNG: a sensor image of 16x16 flat blocks of distinct levels, RGGB, 16-bit; the half-size
# decode gives one pixel a 2x2 cell, so a block becomes 8x8 pixels.
CW, CH = (64, 48) if SMALL else (256, 192)
by, bx = np.mgrid[0:CH, 0:CW] // 16
levels = ((bx * 7 + by * 13) % 23).astype(np.uint32)
cfa = (2000 + levels * 2600).astype(np.uint16)
ppm("cfa_levels.pgm", (levels[::2, ::2] * 11).astype(np.uint8))


def tiff_ifd(entries, next_ifd, base):
    """An IFD at offset base: (tag, type, values or bytes) sorted by tag; data after it."""
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 10: 8}
    codes = {1: "B", 2: "B", 3: "H", 4: "I", 7: "B"}
    n = len(entries)
    data_at = base + 2 + 12 * n + 4
    head, data = struct.pack("<H", n), b""
    for tag, typ, vals in sorted(entries):
        if isinstance(vals, (bytes, bytearray)):
            raw, count = bytes(vals), len(vals) // sizes[typ]
        elif typ in (5, 10):
            raw = b"".join(struct.pack("<ii" if typ == 10 else "<II", *v) for v in vals)
            count = len(vals)
        else:
            raw, count = struct.pack("<%d%s" % (len(vals), codes[typ]), *vals), len(vals)
        if len(raw) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + raw.ljust(4, b"\0")
        else:
            if (data_at + len(data)) % 2:
                data += b"\0"
            head += struct.pack("<HHII", tag, typ, count, data_at + len(data))
            data += raw
    return head + struct.pack("<I", next_ifd) + data


def write_dng(name, orientation, preview_jpeg, sensor=None):
    """IFD0: the sensor image (with the DNG tags); IFD1, when given: a JPEG preview."""
    sensor = cfa if sensor is None else sensor
    CH, CW = sensor.shape
    pixels = sensor.astype("<u2").tobytes()
    pv = Image.open(io.BytesIO(preview_jpeg)) if preview_jpeg else None

    def build(pix_at, jpeg_at):
        raw = [(254, 4, [0]), (256, 4, [CW]), (257, 4, [CH]), (258, 3, [16]), (259, 3, [1]),
               (262, 3, [32803]), (271, 2, b"Unsharp\0"), (272, 2, b"Test DNG\0"), (273, 4, [pix_at]),
               (274, 3, [orientation]), (277, 3, [1]), (278, 4, [CH]), (279, 4, [len(pixels)]), (284, 3, [1]),
               (33421, 3, [2, 2]), (33422, 1, b"\x00\x01\x01\x02"), (50706, 1, b"\x01\x04\x00\x00"),
               (50708, 2, b"Unsharp Test DNG\0"), (50717, 4, [65535]),
               (50721, 10, [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)]),
               (50728, 5, [(1, 1), (1, 1), (1, 1)])]
        ifd1_at = 8 + len(tiff_ifd(raw, 0, 8))
        ifd0 = tiff_ifd(raw, ifd1_at if pv else 0, 8)
        if not pv:
            return ifd0, b""
        prev = [(254, 4, [1]), (256, 4, [pv.width]), (257, 4, [pv.height]), (258, 3, [8, 8, 8]),
                (259, 3, [7]), (262, 3, [6]), (273, 4, [jpeg_at]), (277, 3, [3]),
                (278, 4, [pv.height]), (279, 4, [len(preview_jpeg)]), (284, 3, [1])]
        return ifd0, tiff_ifd(prev, 0, ifd1_at)

    ifd0, ifd1 = build(0, 0)  # the offsets do not change the sizes
    jpeg_at = (8 + len(ifd0) + len(ifd1) + 1) & ~1
    pix_at = (jpeg_at + len(preview_jpeg or b"") + 1) & ~1
    ifd0, ifd1 = build(pix_at, jpeg_at)
    out = (b"II*\0" + struct.pack("<I", 8) + ifd0 + ifd1).ljust(jpeg_at, b"\0")
    out = (out + (preview_jpeg or b"")).ljust(pix_at, b"\0") + pixels
    with open(path(name), "wb") as f:
        f.write(out)


write_dng("cfa.dng", 1, None)
write_dng("cfa6.dng", 6, None)
# the preview: the source pattern at six times its size (1,920 x 1,440; nearest), quality 95
big = np.asarray(Image.fromarray(src).resize((6 * W, 6 * H), Image.NEAREST))
ppm("preview.ppm", big)
buf = io.BytesIO()
Image.fromarray(big).save(buf, "JPEG", quality=95)
write_dng("preview.dng", 1, buf.getvalue())

# big.dng: the same blocks on a 1,536 x 1,408 sensor (4.3 MB, one strip: unsharp reads a file
# this big with its sensor data left out until needed) behind the same preview
if not SMALL:
    by, bx = np.mgrid[0:1408, 0:1536] // 16
    big_levels = ((bx * 7 + by * 13) % 23).astype(np.uint32)
    ppm("big_levels.pgm", (big_levels[::2, ::2] * 11).astype(np.uint8))
    write_dng("big.dng", 1, buf.getvalue(), (2000 + big_levels * 2600).astype(np.uint16))
