#!/usr/bin/python3
"""transpose_check.py: does a network see a blur the same way whatever its direction? Judges every
photo of a labelled set (SET/sharp, SET/blurry) as it is and transposed (rows for columns, no
resampling, written losslessly to a temporary folder) with bench/photo_features, and prints per
kind of blur (the part of the name after its last "-", as bench/synthetic_check.py --angles names
them: g15, m9, m9h, m9v, m9d) the share called blurry (sharpness under LINE) as it is, transposed,
and for the mean of the two scores. A network that sees every direction alike gives the same
shares both ways; one that learned a blind direction moves its misses from m9h to m9v
(weights/MODEL_CARD.md, "Seventh round").

usage: bench/transpose_check.py WEIGHTS SET [LINE]
env:   PHOTO_FEATURES (default build/bench/photo_features)
"""
import csv, io, os, subprocess, sys, tempfile
from collections import defaultdict
from PIL import Image


def judge(features, weights, folder):
    out = subprocess.run([features, weights, os.path.join(folder, "sharp"), os.path.join(folder, "blurry")],
                         check=True, capture_output=True, text=True).stdout
    return {os.path.splitext(os.path.basename(r["path"]))[0]: (r["label"], float(r["sharpness"]))
            for r in csv.DictReader(io.StringIO(out))}


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    weights, folder = sys.argv[1], sys.argv[2]
    line = float(sys.argv[3]) if len(sys.argv) == 4 else 0.4
    features = os.environ.get("PHOTO_FEATURES", "build/bench/photo_features")
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("sharp", "blurry"):
            os.makedirs(os.path.join(tmp, label))
            for name in sorted(os.listdir(os.path.join(folder, label))):
                try:
                    im = Image.open(os.path.join(folder, label, name))
                    im.load()
                except OSError as e:
                    print("transpose_check: %s: %s, left out" % (name, e), file=sys.stderr)
                    continue
                im.transpose(Image.Transpose.TRANSPOSE).save(
                    os.path.join(tmp, label, os.path.splitext(name)[0] + ".png"))
        first, second = judge(features, weights, folder), judge(features, weights, tmp)
    rows = defaultdict(lambda: [0, 0, 0, 0])
    for name, (label, a) in first.items():
        if name not in second:
            continue
        b = second[name][1]
        kind = name.rsplit("-", 1)[-1] if label == "blurry" and "-" in name else label
        r = rows[kind]
        r[0] += a < line
        r[1] += b < line
        r[2] += (a + b) / 2 < line
        r[3] += 1
    print("called blurry (sharpness < %.3g): as it is / transposed / mean of the two" % line)
    for kind in sorted(rows):
        a, b, m, n = rows[kind]
        print("  %-8s %4d photos  %5.1f / %5.1f / %5.1f %%" % (kind, n, 100.0 * a / n, 100.0 * b / n, 100.0 * m / n))


if __name__ == "__main__":
    main()
