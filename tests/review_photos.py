#!/usr/bin/python3
"""review_photos.py: makes the photos the unsharp-review tests look at: colourful synthetic
scenes (shapes, stripes and fine texture) as sharp JPEGs, the same scenes box-blurred, and,
when asked, a damaged JPEG. Writes binary PPM and lets cjpeg (libjpeg-turbo-progs) encode.
usage: review_photos.py FOLDER SHARP SOFT BLURRY [W H]  (SOFT: lightly blurred)"""
import os, subprocess, sys
import numpy as np

def scene(seed, w, h):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    base = rng.uniform(40, 200, 3)
    for c in range(3):
        img[..., c] = base[c] + 40 * np.sin(x / (30 + 10 * c) + seed) * np.cos(y / 45.0)
    for _ in range(12):  # discs and boxes with sharp edges
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, h / 4)
        col = rng.uniform(0, 255, 3)
        if rng.uniform() < 0.5:
            m = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        else:
            m = (abs(x - cx) < r) & (abs(y - cy) < r * 0.6)
        img[m] = col
    # stripes one way and, fainter, across them: detail in every direction, as a sharp photo has
    stripes = ((np.sin(x * 0.9 + y * 0.3 * seed) > 0).astype(np.float32) * 50 - 25
               + (np.sin(y * 0.8 - x * 0.25 * seed) > 0).astype(np.float32) * 24 - 12)
    img += stripes[..., None] * (rng.uniform(size=3) > 0.3)
    img += rng.normal(0, 14, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)

def blur(img, k):
    out = img.astype(np.float32)
    for axis in (0, 1):  # separable box blur, applied twice
        for _ in range(2):
            c = np.cumsum(np.pad(out, [(k, k) if a == axis else (0, 0) for a in range(3)], mode="edge"), axis=axis)
            hi = np.take(c, range(2 * k, c.shape[axis]), axis=axis)
            lo = np.take(c, range(0, c.shape[axis] - 2 * k), axis=axis)
            out = (hi - lo) / (2 * k)
    return np.clip(out, 0, 255).astype(np.uint8)

def save(img, path):
    ppm = path + ".ppm"
    with open(ppm, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(img.tobytes())
    subprocess.run(["cjpeg", "-quality", "92", "-outfile", path, ppm], check=True)
    os.remove(ppm)

def main():
    folder, ns, nsoft, nb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    w, h = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (800, 600)
    os.makedirs(folder, exist_ok=True)
    for i in range(ns):
        img = scene(i + 1, w, h)
        if i == 2:  # the third: a sharp left half beside a blurred right half (for the focus map)
            img[:, w // 2:] = blur(img, max(4, w // 80))[:, w // 2:]
        save(img, os.path.join(folder, "sharp-%02d.jpg" % (i + 1)))
    for i in range(nsoft):
        save(blur(scene(50 + i, w, h), max(1, w // 500)), os.path.join(folder, "soft-%02d.jpg" % (i + 1)))
    for i in range(nb):
        save(blur(scene(100 + i, w, h), max(4, w // 80)), os.path.join(folder, "blurry-%02d.jpg" % (i + 1)))

main()
