#!/usr/bin/python3
"""synthetic_check.py: builds the synthetic check set from held-out sharp photos.

For every input JPEG it writes OUT/sharp/NAME (the photo, re-encoded) and blurred copies in
OUT/blurry/: a Gaussian of sigma 1.5 px (NAME-g15.jpg) and a 9 px motion line at 30 degrees
(NAME-m9.jpg), applied at the photo's working size (photos at most 1,600 px on the long side,
as these are, are judged at their own size). With --angles, also the same 9 px motion
horizontal (NAME-m9h.jpg), at 45 degrees (NAME-m9d.jpg) and vertical (NAME-m9v.jpg): motion
blur leaves edges along its direction sharp, so how much a photo shows depends on the angle.
The blur is done here, in numpy, independently of the trainer's own blur code. Needs
djpeg/cjpeg (libjpeg-turbo-progs).

usage: synthetic_check.py [--angles] OUT PHOTO.jpg...
"""
import os, subprocess, sys
import numpy as np
from pgm import read_gray

def write_jpeg(img, path):
    h, w = img.shape
    data = b"P5\n%d %d\n255\n" % (w, h) + np.clip(np.rint(img), 0, 255).astype(np.uint8).tobytes()
    subprocess.run(["cjpeg", "-quality", "95", "-grayscale", "-outfile", path], input=data, check=True)

def convolve(img, k):
    r = k.shape[0] // 2
    p = np.pad(img, r, mode="reflect")
    out = np.zeros_like(img)
    for dy in range(k.shape[0]):
        for dx in range(k.shape[1]):
            if k[dy, dx]:
                out += k[dy, dx] * p[dy:dy + img.shape[0], dx:dx + img.shape[1]]
    return out

def gaussian(sigma):
    r = int(np.ceil(4 * sigma))
    x = np.arange(-r, r + 1)
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    k = np.outer(g, g)
    return k / k.sum()

def motion(length, angle):
    r = int(np.ceil(length / 2)) + 1
    k = np.zeros((2 * r + 1, 2 * r + 1))
    for t in np.linspace(-length / 2, length / 2, 8 * int(length) + 1):
        x, y = r + t * np.cos(angle), r + t * np.sin(angle)
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for (xx, yy, wgt) in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)),
                              (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
            k[yy, xx] += wgt
    return k / k.sum()

def main():
    args = sys.argv[1:]
    angles = bool(args) and args[0] == "--angles"
    if angles:
        args = args[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[0]
    os.makedirs(os.path.join(out, "sharp"), exist_ok=True)
    os.makedirs(os.path.join(out, "blurry"), exist_ok=True)
    kernels = [("g15", gaussian(1.5)), ("m9", motion(9.0, np.pi / 6))]
    if angles:
        kernels += [("m9h", motion(9.0, 0.0)), ("m9d", motion(9.0, np.pi / 4)), ("m9v", motion(9.0, np.pi / 2))]
    for path in args[1:]:
        name = os.path.splitext(os.path.basename(path))[0]
        img = read_gray(path)
        write_jpeg(img, os.path.join(out, "sharp", name + ".jpg"))
        for suffix, k in kernels:
            write_jpeg(convolve(img, k), os.path.join(out, "blurry", name + "-" + suffix + ".jpg"))
    print("synthetic_check: %d photos -> %s" % (len(args) - 1, out))
    return 0

if __name__ == "__main__":
    sys.exit(main())
