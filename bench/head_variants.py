#!/usr/bin/python3
"""head_variants.py: compares photo heads, and averages of several networks, on feature files
already made, without judging a photo again (numpy, scipy).

  features RUN...   for each RUN, fits a head on RUN/fit.csv with each feature set below (as
                    bench/photo_head.py fit does), scores every other file with it and prints
                    the held-back figures: realistic blur caught, old check caught, calibration
                    error, keepers called blurry
  ensemble RUN...   the same figures for the mean of the RUNs' probabilities (each RUN with its
                    own head, the default features), and for the mean of their logits

A RUN is a folder of bench/photo_features CSV files of one network (W), one per set of
bench/model_checks.sh and bench/fit_photo_head.sh (SETS, FIT_SET, SPLIT as there):
    photo_features W FIT_SET/sharp FIT_SET/blurry > RUN/fit.csv
    photo_features W SETS/check/sharp SETS/check/blurry > RUN/check.csv
    photo_features W SETS/oldsynth/sharp SETS/oldsynth/blurry > RUN/old.csv
    photo_features W SETS/calib/sharp SETS/calib/blurry > RUN/calib.csv
    photo_features W SPLIT/held/SOURCE > RUN/keep-held-SOURCE.csv   (and train, every SOURCE)
Every row of a keep-*.csv is a sharp photo. The same photos in the same order in every RUN
(for ensemble). "Called blurry": under BLURRY_BELOW (0.4). A keeper row whose path holds
mate_Storm (a pan, blurred on purpose) is not counted.
env: BLURRY_BELOW (0.4), L2 (0.01)
"""
import csv, glob, os, sys
import numpy as np
from scipy.optimize import minimize

ALL = ["f_max", "f_block", "f_top1", "f_top5", "f_top20", "f_top50", "f_mean", "f_image", "f_direction", "f_detail"]
SETS = {"all ten": ALL, "no detail share (default)": ALL[:9], "network only": ALL[:8],
        "network + detail share": ALL[:8] + ["f_detail"]}
LINE = float(os.environ.get("BLURRY_BELOW", 0.4))


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def fit(path, feats):
    """bench/photo_head.py fit's model: logistic, L2 on standardised features, classes and, in
    each, sources weighed equally, weights >= 0 but the detail share's."""
    rs = [r for r in rows(path) if r["label"] in ("sharp", "blurry")]
    X = np.array([[float(r[k]) for k in feats] for r in rs])
    y = np.array([r["label"] == "sharp" for r in rs], float)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mu) / sd])
    src = np.array([os.path.basename(r["path"]).split("--")[0] for r in rs])
    w = np.zeros(len(y))
    for lab in (0, 1):
        groups = sorted(set(src[y == lab]))
        for g in groups:
            m = (y == lab) & (src == g)
            w[m] = 0.5 / len(groups) / m.sum()
    w *= len(y)
    lam = float(os.environ.get("L2", 0.01)) * len(X)

    def loss(b):
        z = Z @ b
        p = 1 / (1 + np.exp(-z))
        return (w * (np.logaddexp(0, z) - y * z)).sum() + 0.5 * lam * (b[1:] ** 2).sum(), \
            Z.T @ (w * (p - y)) + lam * np.concatenate([[0], b[1:]])

    bounds = [(None, None)] + [(None, None) if k == "f_detail" else (0, None) for k in feats]
    b = minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds,
                 options={"maxiter": 2000, "gtol": 1e-9}).x
    return b[0] - (b[1:] * mu / sd).sum(), b[1:] / sd


def logits(rs, feats, head):
    b0, wv = head
    return np.clip(np.array([b0 + sum(wv[i] * float(r[k]) for i, k in enumerate(feats)) for r in rs]), -30, 30)


def held_line(rs):
    """photos the low-contrast rule held at the line in the real run stay there"""
    return np.array([abs(float(r["sharpness"]) - LINE) < 1e-6 for r in rs])


def figures(score):
    """score(name) -> (probabilities, rows) for one set file name"""
    out = {}
    p, rs = score("check")
    lab = np.array([r["label"] for r in rs])
    out["realistic"] = 100 * (p[lab == "blurry"] < LINE).mean()
    p, rs = score("old")
    lab = np.array([r["label"] for r in rs])
    out["old"] = 100 * (p[lab == "blurry"] < LINE).mean()
    p, rs = score("calib")
    y = np.array([r["label"] == "sharp" for r in rs], float)
    ece = 0.0
    for i in range(10):
        m = (p >= i / 10) & ((p < (i + 1) / 10) if i < 9 else (p <= 1))
        if m.sum():
            ece += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    out["ece"] = ece
    for part in ("held", "train"):
        lost = []
        for f in sorted(glob.glob(os.path.join(score.folder, "keep-%s-*.csv" % part))):
            p, rs = score(os.path.basename(f)[:-4])
            lost += [os.path.basename(r["path"]) for q, r in zip(p, rs) if q < LINE and "mate_Storm" not in r["path"]]
        out[part] = lost
    return out


def line(name, figs):
    k = lambda key, fmt: " / ".join(fmt % f[key] for f in figs)
    return ("%-26s realistic caught %s %% | old %s %% | ECE %s | keepers lost, held %s; training part %s" %
            (name, k("realistic", "%.1f"), k("old", "%.1f"), k("ece", "%.3f"),
             " / ".join(str(len(f["held"])) for f in figs), " / ".join(str(len(f["train"])) for f in figs)))


def single(run, feats):
    head = fit(os.path.join(run, "fit.csv"), feats)

    def score(name):
        rs = rows(os.path.join(run, name + ".csv"))
        p = 1 / (1 + np.exp(-logits(rs, feats, head)))
        p[(p < LINE) & held_line(rs)] = LINE
        return p, rs
    score.folder = run
    return figures(score)


def ensemble(runs, mode):
    feats = ALL[:9]
    heads = [fit(os.path.join(r, "fit.csv"), feats) for r in runs]

    def score(name):
        acc, first = 0, None
        for r, h in zip(runs, heads):
            rs = rows(os.path.join(r, name + ".csv"))
            first = first or rs
            z = logits(rs, feats, h)
            acc = acc + (z if mode == "logit" else 1 / (1 + np.exp(-z)))
        acc = acc / len(runs)
        p = 1 / (1 + np.exp(-acc)) if mode == "logit" else acc
        p[(p < LINE) & held_line(first)] = LINE
        return p, first
    score.folder = runs[0]
    return figures(score)


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "features":
        for name, feats in SETS.items():
            print(line(name, [single(r, feats) for r in a[1:]]))
    elif len(a) >= 3 and a[0] == "ensemble":
        for r in a[1:]:
            print(line(os.path.basename(r.rstrip("/")), [single(r, ALL[:9])]))
        for mode in ("prob", "logit"):
            f = ensemble(a[1:], mode)
            print(line("mean of %d (%s)" % (len(a) - 1, mode), [f]))
            print("  held-back keepers called blurry: " + ", ".join(f["held"]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
