#!/usr/bin/python3
"""group_photos.py: generated photo sequences for classify_groups.sh (numpy and PIL, not the
code under test). Each scene is a made-up photo: smooth shading at a few scales, crisp shapes
and fine texture, different for each seed. Usage:
  group_photos.py burst SEED N DIR PREFIX     N frames of one scene, frame k blurred more (k = 0 sharp)
  group_photos.py bracket SEED DIR PREFIX     the scene at -2, 0 and +2 EV
  group_photos.py stack SEED DIR PREFIX       3 frames, each sharp in a band of its own (near to far)
  group_photos.py pano SEED DIR PREFIX        3 crops of one wide scene, each half overlapping the next
Files are PREFIX01.jpg, PREFIX02.jpg, ... in DIR, 640 x 480 (JPEG quality 92)."""
import sys
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 640, 480


def scene(seed, w=W, h=H):
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w))
    for cell, amp in ((160, 70), (40, 35), (8, 12)):
        small = rng.random((h // cell + 2, w // cell + 2))
        up = Image.fromarray((small * 255).astype(np.uint8)).resize((w + 2 * cell, h + 2 * cell), Image.BICUBIC)
        img += (np.asarray(up, dtype=float)[:h, :w] / 255 - 0.5) * amp
    im = Image.fromarray(np.clip(img + 128, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(w * h // 2500):
        x, y = rng.integers(0, w), rng.integers(0, h)
        r = int(rng.integers(3, 30))
        shade = int(rng.integers(0, 256))
        if rng.random() < 0.5:
            d.ellipse([x - r, y - r, x + r, y + r], fill=shade)
        else:
            d.rectangle([x - r, y - r // 2, x + r, y + r // 2], fill=shade)
    a = np.asarray(im, dtype=float) + rng.normal(0, 6, (h, w))
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def save(im, d, prefix, k):
    im.convert("RGB").save(f"{d}/{prefix}{k + 1:02d}.jpg", quality=92)


def main():
    what, seed = sys.argv[1], int(sys.argv[2])
    if what == "burst":
        n, d, prefix = int(sys.argv[3]), sys.argv[4], sys.argv[5]
        base = scene(seed)
        for k in range(n):
            save(base.filter(ImageFilter.GaussianBlur(0.8 * k)) if k else base, d, prefix, k)
    elif what == "bracket":
        d, prefix = sys.argv[3], sys.argv[4]
        lin = (np.asarray(scene(seed), dtype=float) / 255) ** 2.2
        for k, ev in enumerate((-2, 0, 2)):
            v = np.clip(lin * 2.0 ** ev, 0, 1) ** (1 / 2.2) * 255
            save(Image.fromarray(v.astype(np.uint8)), d, prefix, k)
    elif what == "stack":
        d, prefix = sys.argv[3], sys.argv[4]
        base = scene(seed)
        soft = np.asarray(base.filter(ImageFilter.GaussianBlur(5)))
        sharp = np.asarray(base)
        for k in range(3):
            a = soft.copy()
            lo, hi = H - (k + 1) * H // 3, H - k * H // 3  # near (bottom) to far (top)
            a[lo:hi] = sharp[lo:hi]
            save(Image.fromarray(a), d, prefix, k)
    elif what == "pano":
        d, prefix = sys.argv[3], sys.argv[4]
        wide = scene(seed, 2 * W, H)
        for k in range(3):
            save(wide.crop((k * W // 2, 0, k * W // 2 + W, H)), d, prefix, k)
    else:
        sys.exit(__doc__)


main()
