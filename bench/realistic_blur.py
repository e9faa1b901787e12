#!/usr/bin/python3
"""realistic_blur.py: sharp, blurred and partly blurred photos made the way a camera makes them,
for choosing and checking the photo score on held-back photos (never for training the network).

Each photo is taken to "sensor" resolution (at most twice the 1,600 px working long side; photos
already at or under the working size, such as photos-unsplash's 512 x 512 ones, are taken as
already downscaled and blurred at their stored size). In linear light (luma as gamma 2.2) it is
blurred by a lens-shaped aperture (a polygon of 5-9 blades), a camera-shake trajectory (a random
walk with momentum, sized to spread the light as a line of its length does), a linear motion,
or a mixture of defocus and shake, each sized in working-size pixels times the sensor scale. A
partly blurred photo blends the sharp photo inside a subject mask (an ellipse centred on detail,
or a tilted focal plane) over the blurred one, in linear light. Then sensor noise (signal-dependent, in linear light), back to gamma, a phone's
sharpening (unsharp mask), area downscale to the working size, and grayscale JPEG (quality
75-95). All randomness comes from --seed and the photo's name.

Sets (--set):
  fit      per photo --variants samples: 35 % sharp, 40 % blurred all over (with --mild, mild
           to strong: disc radius 1.2-8 px, shake 3-25 px, line 4-25 px, mixtures; else the
           clear blurs of "check"), 25 % a sharp subject covering 1-60 % of the frame on a
           blurred background (labelled sharp: a keeper).
  check    per photo one sharp copy and one clearly blurred copy (disc radius 3-8 px, shake and
           line 9-25 px, or disc 2-5 px with shake 6-15 px), the realistic blur check.
  calib    per photo --variants samples: 25 % sharp, 50 % clearly blurred, 25 % a sharp subject
           covering 1-60 % of the frame on a blurred background (labelled sharp): half sharp
           and half blurred, for the calibration check.
  regions  per photo one partly blurred copy (subject 5-60 %, strong blur: disc 3-8 px or shake
           9-25 px), its mask at working size and, in OUT/sources/NAME.png, the photo before
           its blur, for the focus-map check.
Writes OUT/sharp/*.jpg and OUT/blurry/*.jpg (as unsharp-train --evaluate reads them), masks as
OUT/masks/NAME.png (255 sharp, 0 blurred) and OUT/manifest.csv (one row per photo made).

usage: realistic_blur.py --set fit|check|regions [--variants N] [--seed N] OUT PHOTO...
"""
import argparse, csv, os, zlib
import numpy as np
from PIL import Image, ImageOps
from scipy.signal import fftconvolve
from scipy.ndimage import gaussian_filter, uniform_filter

WORK = 1600
GAMMA = 2.2


def log_uniform(rng, lo, hi):
    return float(lo * np.exp(rng.uniform(0, 1) * np.log(hi / lo)))


def load_sensor(path):
    """The photo's luma (0..1) at sensor resolution, and the sensor scale s (sensor px per
    working px)."""
    im = ImageOps.exif_transpose(Image.open(path)).convert("L")
    w, h = im.size
    long_side = max(w, h)
    if long_side <= WORK:
        return np.asarray(im, dtype=np.float64) / 255.0, 1.0
    s = min(long_side / WORK, 2.0)
    size = (max(1, round(w * WORK * s / long_side)), max(1, round(h * WORK * s / long_side)))
    im = im.resize(size, Image.BOX)
    return np.asarray(im, dtype=np.float64) / 255.0, s


# ---- kernels, in sensor pixels ------------------------------------------------------------

def splat(points, weights=None):
    pts = np.asarray(points, dtype=np.float64)
    pts = pts - pts.mean(axis=0)
    r = int(np.ceil(np.abs(pts).max())) + 2
    k = np.zeros((2 * r + 1, 2 * r + 1))
    x, y = pts[:, 0] + r, pts[:, 1] + r
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    wgt = np.ones(len(pts)) if weights is None else weights
    for dx, dy, ww in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(k, (y0 + dy, x0 + dx), wgt * ww)
    return k / k.sum()


def aperture(radius, rng):
    """A lens-shaped aperture: a regular polygon of 5-9 blades, slightly rounded, of the given
    radius (px), anti-aliased by 4 x 4 supersampling."""
    blades = int(rng.integers(5, 10))
    rot = rng.uniform(0, 2 * np.pi)
    r = int(np.ceil(radius)) + 1
    sub = 4
    g = (np.arange((2 * r + 1) * sub) + 0.5) / sub - (r + 0.5)
    xx, yy = np.meshgrid(g, g)
    ang = np.arctan2(yy, xx) - rot
    sector = 2 * np.pi / blades
    # distance to the polygon edge along the ray, blended with a circle (rounded blades)
    edge = radius * np.cos(np.pi / blades) / np.cos((ang % sector) - sector / 2)
    roundness = rng.uniform(0.3, 1.0)
    edge = roundness * radius + (1 - roundness) * edge
    inside = (np.hypot(xx, yy) <= edge).astype(np.float64)
    k = inside.reshape(2 * r + 1, sub, 2 * r + 1, sub).mean(axis=(1, 3))
    return k / k.sum()


SHAKE_BY = ["spread"]


def shake(length, rng):
    """Camera shake: a random walk with momentum and an occasional jerk; each time step weighs
    the same (slow parts dwell longer). Sized (--shake-by) so that it spreads the light as a
    line of the given length (px) does, sqrt((var_x + var_y) / 2) = length / sqrt(24), or, as
    before 2026-12-05, so that its path is that long (a path that wanders back and forth then
    spreads far less: a 9 px one about as much as a 3.7 px line)."""
    n = 256
    v = rng.normal(size=2)
    pts = [np.zeros(2)]
    for _ in range(n):
        v = 0.85 * v + rng.normal(scale=0.5, size=2)
        if rng.uniform() < 0.02:
            v += rng.normal(scale=3.0, size=2)
        pts.append(pts[-1] + v * rng.uniform(0.2, 1.0))
    pts = np.array(pts)
    # sample densely along the path, equal time per step
    densify = lambda p: np.concatenate([np.linspace(p[i], p[i + 1], 4, endpoint=False) for i in range(n)])
    if SHAKE_BY[0] == "length":
        pts *= length / max(np.hypot(*np.diff(pts, axis=0).T).sum(), 1e-9)
    else:
        spread = np.sqrt(densify(pts).var(axis=0).sum() / 2)
        pts *= length / np.sqrt(24) / max(spread, 1e-9)
    dense = densify(pts)
    return splat(dense)


def line(length, angle):
    t = np.linspace(-length / 2, length / 2, int(8 * length) + 1)
    return splat(np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1))


def draw_blur(rng, kind, s):
    """A kernel and its description: (kernel, kind, strength in working px)."""
    if kind == "disc":
        r = log_uniform(rng, *DRAW["disc"])
        return aperture(r * s, rng), "defocus", r
    if kind == "shake":
        L = log_uniform(rng, *DRAW["shake"])
        return shake(L * s, rng), "shake", L
    if kind == "line":
        L = log_uniform(rng, *DRAW["line"])
        return line(L * s, rng.uniform(0, np.pi)), "motion", L
    r = log_uniform(rng, *DRAW["mix_disc"])
    L = log_uniform(rng, *DRAW["mix_shake"])
    k = fftconvolve(aperture(r * s, rng), shake(L * s, rng))
    return k / k.sum(), "defocus+shake", r + L


def blur(lin, k):
    r = k.shape[0] // 2
    p = np.pad(lin, r, mode="reflect")
    return np.clip(fftconvolve(p, k, mode="valid"), 0, None)


# ---- masks, in sensor pixels ----------------------------------------------------------------

def subject_mask(img, coverage, rng, s):
    """An elliptic subject of the given share of the frame centred on detail, or (a third of the
    time) a tilted focal plane covering that share; feathered."""
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w]
    feather = rng.uniform(2, 8) * s
    if rng.uniform() < 2 / 3:
        # centre: a random point among the most detailed tenth (Laplacian energy, smoothed)
        small = img[::4, ::4]
        lap = np.abs(4 * small[1:-1, 1:-1] - small[:-2, 1:-1] - small[2:, 1:-1] - small[1:-1, :-2] - small[1:-1, 2:])
        e = uniform_filter(lap, 15)
        cand = np.argwhere(e >= np.quantile(e, 0.9))
        cy, cx = (cand[rng.integers(len(cand))] + 1) * 4
        area = coverage * h * w
        aspect = log_uniform(rng, 0.5, 2.0)
        a, b = np.sqrt(area / np.pi * aspect), np.sqrt(area / np.pi / aspect)
        th = rng.uniform(0, np.pi)
        c, sn = np.cos(th), np.sin(th)
        u = ((xx - cx) * c + (yy - cy) * sn) / a
        v = (-(xx - cx) * sn + (yy - cy) * c) / b
        d = (np.sqrt(u * u + v * v) - 1) * np.sqrt(a * b)
    else:
        ph = rng.uniform(0, 2 * np.pi)
        proj = (xx - w / 2) * np.cos(ph) + (yy - h / 2) * np.sin(ph)
        d = proj - np.quantile(proj, coverage)
    return np.clip(0.5 - d / (2 * feather), 0, 1)


# ---- the camera ---------------------------------------------------------------------------

def finish(lin, s, rng, out_path):
    """Noise, gamma, sharpening, downscale, JPEG."""
    a, b = log_uniform(rng, 1e-4, 3e-3), log_uniform(rng, 1e-7, 1e-5)
    lin = lin + np.sqrt(a * np.clip(lin, 0, None) + b) * rng.normal(size=lin.shape)
    y = np.clip(lin, 0, 1) ** (1 / GAMMA)
    amount = rng.uniform(0, 1.0) if rng.uniform() < 0.7 else 0.0
    if amount:
        y = y + amount * (y - gaussian_filter(y, rng.uniform(0.8, 1.5) * s))
    im = Image.fromarray(np.clip(np.rint(y * 255), 0, 255).astype(np.uint8))
    if s > 1:
        h, w = y.shape
        im = im.resize((max(1, round(w / s)), max(1, round(h / s))), Image.BOX)
    q = int(rng.integers(75, 96))
    im.save(out_path, quality=q)
    return q


def save_source(lin, s, path):
    """The photo before its blur, at the size of the photo made (no noise, sharpening or JPEG):
    photo_head.py focus reads it to find the tiles where blur can be seen."""
    save_mask(np.clip(lin, 0, 1) ** (1 / GAMMA), s, path)


def save_mask(m, s, path):
    """m (0..1, sensor pixels) as an 8-bit image at the working size."""
    im = Image.fromarray(np.clip(np.rint(m * 255), 0, 255).astype(np.uint8))
    if s > 1:
        h, w = m.shape
        im = im.resize((max(1, round(w / s)), max(1, round(h / s))), Image.BOX)
    im.save(path)


DRAW = {}
RANGES = {
    "fit": {"disc": (1.2, 8), "shake": (3, 25), "line": (4, 25), "mix_disc": (1.0, 4), "mix_shake": (3, 12)},
    "check": {"disc": (3, 8), "shake": (9, 25), "line": (9, 25), "mix_disc": (2, 5), "mix_shake": (6, 15)},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", required=True, choices=["calib", "check", "fit", "regions"])
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mild", action="store_true", help="fit: mild blurs too")
    ap.add_argument("--shake-by", choices=["spread", "length"], default="spread",
                    help="a shake of N px spreads as an N px line does (default), or its path is "
                    "N px long (the sets made before 2026-12-05)")
    ap.add_argument("out")
    ap.add_argument("photos", nargs="+")
    o = ap.parse_args()
    DRAW.update(RANGES["fit" if o.set == "fit" and o.mild else "check"])
    SHAKE_BY[0] = o.shake_by
    for d in ("sharp", "blurry", "masks") + (("sources",) if o.set == "regions" else ()):
        os.makedirs(os.path.join(o.out, d), exist_ok=True)
    rows = []
    for path in o.photos:
        base = os.path.splitext(os.path.basename(path))[0]
        src = os.path.basename(os.path.dirname(os.path.abspath(path)))
        rng = np.random.default_rng([o.seed, zlib.crc32(base.encode())])
        try:
            img, s = load_sensor(path)
        except Exception as e:  # an unreadable photo is reported and skipped
            print(f"realistic_blur: {path}: {e}")
            continue
        lin = img ** GAMMA
        if o.set in ("fit", "calib"):
            p = [0.35, 0.4, 0.25] if o.set == "fit" else [0.25, 0.5, 0.25]
            plans = [rng.choice(["sharp", "blur", "partial"], p=p) for _ in range(o.variants)]
        elif o.set == "check":
            plans = ["sharp", "blur"]
        else:
            plans = ["partial"]
        for i, plan in enumerate(plans):
            name = f"{src}--{base}-{o.set[0]}{i}"
            kind, strength, coverage, mask = "none", 0.0, 1.0, None
            if plan == "sharp":
                out = lin
            else:
                kk = rng.choice(["disc", "shake", "line", "mix"], p=[0.35, 0.3, 0.15, 0.2])
                k, kind, strength = draw_blur(rng, kk, s)
                out = blur(lin, k)
                if plan == "partial":
                    coverage = log_uniform(rng, 0.01, 0.6) if o.set != "regions" else log_uniform(rng, 0.05, 0.6)
                    mask = subject_mask(img, coverage, rng, s)
                    out = mask * lin + (1 - mask) * out
                else:
                    coverage = 0.0
            label = "blurry" if plan == "blur" else "sharp"
            q = finish(out, s, rng, os.path.join(o.out, label, name + ".jpg"))
            if mask is not None:
                save_mask(mask, s, os.path.join(o.out, "masks", name + ".png"))
                if o.set == "regions":
                    save_source(lin, s, os.path.join(o.out, "sources", name + ".png"))
            rows.append([name, src, label, plan, kind, f"{strength:.2f}", f"{coverage:.4f}", f"{s:.2f}", q])
    new = not os.path.exists(os.path.join(o.out, "manifest.csv"))
    with open(os.path.join(o.out, "manifest.csv"), "a", newline="") as f:
        wr = csv.writer(f)
        if new:
            wr.writerow(["name", "source", "label", "plan", "kind", "strength_px", "sharp_coverage", "sensor_scale", "jpeg_q"])
        wr.writerows(rows)


if __name__ == "__main__":
    main()
