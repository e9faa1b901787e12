#!/usr/bin/python3
"""head_variants.py: compares photo heads, and averages of several networks, on feature files
already made, without judging a photo again (numpy, scipy).

  features RUN...   for each RUN, fits a head on RUN/fit.csv with each feature set below (as
                    bench/photo_head.py fit does), scores every other file with it and prints
                    the held-back figures: realistic blur caught, old check caught, calibration
                    error, keepers called blurry
  ensemble RUN...   the same figures for the mean of the RUNs' probabilities (each RUN with its
                    own head, the default features), and for the mean of their logits
  tradeoff RUN...   blur caught against keepers kept, as the line moves: for each RUN (default
                    head), the line lowered until the training part loses at most K keepers
                    (K = 0 and 3, or the list in KEEPERS_LOST: chosen on the training part
                    alone), and there the line (as a probability), the realistic and old
                    blur caught, the held-back keepers lost and, when RUN/debian.csv is
                    there, the Debian wallpapers called blurry (analogpattern, soft, and those
                    blurred on purpose left out). Compares networks at equal keepers, which
                    their fitted lines do not.

A RUN is a folder of bench/photo_features CSV files of one network (W), one per set of
bench/model_checks.sh and bench/fit_photo_head.sh (SETS, FIT_SET, SPLIT as there):
    photo_features W FIT_SET/sharp FIT_SET/blurry > RUN/fit.csv
    photo_features W SETS/check/sharp SETS/check/blurry > RUN/check.csv
    photo_features W SETS/oldsynth/sharp SETS/oldsynth/blurry > RUN/old.csv
    photo_features W SETS/calib/sharp SETS/calib/blurry > RUN/calib.csv
    photo_features W SPLIT/held/SOURCE > RUN/keep-held-SOURCE.csv   (and train, every SOURCE)
    photo_features W DEBIAN_PHOTOS > RUN/debian.csv                  (tradeoff, optional)
Every row of a keep-*.csv is a sharp photo. The same photos in the same order in every RUN
(for ensemble). "Called blurry": under BLURRY_BELOW (0.4). A keeper row whose path holds
photo blurred on purpose (bench/blurred-on-purpose.txt: mate_Storm, a pan) is not counted.
env: BLURRY_BELOW (0.4), L2 (0.01), KEEPERS_LOST (0,3: tradeoff's K)
"""
import glob, os, sys
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photo_head  # noqa: E402  (the head's fit, one copy)

ALL = photo_head.FEATURES
DEFAULT = [k for k in ALL if k != "f_detail"]  # photo_head.py's default
NETWORK = ALL[:8] + ["f_dirs"]                  # what the network gives (f_dirs: 0 without a per-direction head)
SETS = {"all": ALL, "no detail share (default)": DEFAULT, "network only": NETWORK,
        "network + detail share": NETWORK + ["f_detail"]}
LINE = float(os.environ.get("BLURRY_BELOW", 0.4))
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "blurred-on-purpose.txt")) as f:
    ON_PURPOSE = tuple(l.split()[0] for l in f if l.strip() and not l.startswith("#"))  # not keepers


def rows(path):
    return photo_head.read_rows([path])


def fit(path, feats):
    """bench/photo_head.py fit's head, with these features: (b, w over ALL)"""
    return photo_head.fit_head(rows(path), feats)[:2]


def logits(rs, head):
    b0, wv = head
    return np.clip(np.array([b0 + sum(wv[i] * float(r.get(k) or 0.0) for i, k in enumerate(ALL)) for r in rs]), -30, 30)


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
            lost += [os.path.basename(r["path"]) for q, r in zip(p, rs) if q < LINE and not any(k in r["path"] for k in ON_PURPOSE)]
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
        p = 1 / (1 + np.exp(-logits(rs, head)))
        p[(p < LINE) & held_line(rs)] = LINE
        return p, rs
    score.folder = run
    return figures(score)


def ensemble(runs, mode):
    feats = DEFAULT
    heads = [fit(os.path.join(r, "fit.csv"), feats) for r in runs]

    def score(name):
        acc, first = 0, None
        for r, h in zip(runs, heads):
            rs = rows(os.path.join(r, name + ".csv"))
            first = first or rs
            z = logits(rs, h)
            acc = acc + (z if mode == "logit" else 1 / (1 + np.exp(-z)))
        acc = acc / len(runs)
        p = 1 / (1 + np.exp(-acc)) if mode == "logit" else acc
        p[(p < LINE) & held_line(first)] = LINE
        return p, first
    score.folder = runs[0]
    return figures(score)


def tradeoff(run):
    """[(K, line, realistic caught %, old caught %, held-back keepers lost, Debian wallpapers
    called blurry or None)] for each K of KEEPERS_LOST (0 and 3)"""
    head = fit(os.path.join(run, "fit.csv"), DEFAULT)

    def z(name, label=None, skip=ON_PURPOSE):
        rs = [r for r in rows(os.path.join(run, name)) if (not label or r["label"] == label)
              and not any(k in r["path"] for k in skip)]
        v = logits(rs, head)
        v[held_line(rs)] = np.inf  # held at the line by the low-contrast rule: never blurry
        return v
    keep = lambda part: np.concatenate([z(os.path.basename(f)) for f in
                                        sorted(glob.glob(os.path.join(run, "keep-%s-*.csv" % part)))])
    real, old, held, train = z("check.csv", "blurry"), z("old.csv", "blurry"), keep("held"), keep("train")
    deb = (z("debian.csv", skip=ON_PURPOSE + ("analogpattern",))
           if os.path.exists(os.path.join(run, "debian.csv")) else None)
    out = []
    for k in [int(v) for v in os.environ.get("KEEPERS_LOST", "0,3").split(",")]:
        t = np.sort(train)[k]  # below this, at most k training keepers
        out.append((k, 1 / (1 + np.exp(-min(t, 30))), 100 * (real < t).mean(), 100 * (old < t).mean(),
                    int((held < t).sum()), None if deb is None else int((deb < t).sum())))
    return out


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "features":
        for name, feats in SETS.items():
            print(line(name, [single(r, feats) for r in a[1:]]))
    elif len(a) >= 3 and a[0] == "ensemble":
        for r in a[1:]:
            print(line(os.path.basename(r.rstrip("/")), [single(r, DEFAULT)]))
        for mode in ("prob", "logit"):
            f = ensemble(a[1:], mode)
            print(line("mean of %d (%s)" % (len(a) - 1, mode), [f]))
            print("  held-back keepers called blurry: " + ", ".join(f["held"]))
    elif len(a) >= 2 and a[0] == "tradeoff":
        for r in a[1:]:
            print("%-26s " % os.path.basename(r.rstrip("/")) + " | ".join(
                "training keepers lost <= %d (line %.3f): realistic caught %.1f %%, old %.1f %%, "
                "held-back keepers lost %d" % f[:5]
                + ("" if f[5] is None else ", Debian wallpapers called blurry %d" % f[5])
                for f in tradeoff(r)))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
