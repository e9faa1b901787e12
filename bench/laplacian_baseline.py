#!/usr/bin/python3
"""laplacian_baseline.py: the classic variance-of-the-Laplacian blur test on a labelled folder.

For each photo in DIR/sharp and DIR/blurry (or DIR/good and DIR/bad) it decodes the luma at full
resolution (djpeg, libjpeg-turbo-progs), convolves it with the 4-neighbour Laplacian
[[0,1,0],[1,-4,1],[0,1,0]] on the 0..255 scale (what OpenCV's cv2.Laplacian(gray, CV_64F) does),
and takes the variance. A photo is called sharp when the variance is at least the threshold
(100, the value the tools built on it ship with). Prints accuracy at that threshold, the best
accuracy any single threshold reaches on this very set (an optimistic upper bound, since it is
tuned on the answers), and the AUC. Written independently of the engine: numpy only.

usage: laplacian_baseline.py [--threshold T] DIR
"""
import argparse, os, sys
import numpy as np
from pgm import read_gray

def lap_var(img):
    lap = (img[:-2, 1:-1] + img[2:, 1:-1] + img[1:-1, :-2] + img[1:-1, 2:] - 4 * img[1:-1, 1:-1])
    return float(lap.var())

def auc(scores, labels):
    pos = [s for s, l in zip(scores, labels) if l]
    neg = [s for s, l in zip(scores, labels) if not l]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))

def photos(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith((".jpg", ".jpeg")))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threshold", type=float, default=100.0)
    ap.add_argument("dir")
    a = ap.parse_args()
    sets = []
    for sharp, blurry in (("sharp", "blurry"), ("good", "bad")):
        if os.path.isdir(os.path.join(a.dir, sharp)) and os.path.isdir(os.path.join(a.dir, blurry)):
            sets = [(p, 1) for p in photos(os.path.join(a.dir, sharp))] + [(p, 0) for p in photos(os.path.join(a.dir, blurry))]
            break
    if not sets:
        print("laplacian_baseline: %s needs sharp/ and blurry/ (or good/ and bad/)" % a.dir, file=sys.stderr)
        return 2
    scores, labels = [], []
    for path, label in sets:
        v = lap_var(read_gray(path))
        scores.append(v)
        labels.append(label)
        print("%s %10.2f %s" % ("sharp " if label else "blurry", v, path))
    n = len(labels)
    acc = sum((s >= a.threshold) == bool(l) for s, l in zip(scores, labels)) / n
    best = max(sum((s >= t) == bool(l) for s, l in zip(scores, labels)) for t in scores + [float("inf")]) / n
    print("# variance of the Laplacian on %s: %d sharp, %d blurry: accuracy %.3f at threshold %g, "
          "best single threshold %.3f, AUC %.3f" % (a.dir, sum(labels), n - sum(labels), acc, a.threshold, best,
                                                   auc(scores, labels)))
    return 0

if __name__ == "__main__":
    sys.exit(main())
