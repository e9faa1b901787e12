#!/usr/bin/python3
"""head_evidence.py: how far the photo head could go with more evidence than the network gives,
measured on feature files already made (numpy, scipy, Pillow). An experiment for the model card
(weights/MODEL_CARD.md, "Ninth round"); nothing here is read by the judge.

  measure OUT.csv FOLDER...
        per photo (the working size: a long side over 1,600 px is area-downscaled to it), two
        kinds of hand-made measures, one CSV row each (name, then the columns below):
        - the power spectrum (Welch: 64 x 64 Hann windows, stride 32) in 8 directions and 4
          bands of spatial frequency (0.04-0.09, 0.09-0.18, 0.18-0.30, 0.30-0.50 cycles/px),
          over the 30 % of windows with the most power in the second band (t_*) and over all
          (a_*): the fall from the first band to the third along each direction (its median,
          how far the steepest direction falls below it, the spread), the same from the
          second band to the fourth, the spread over directions of the first and third bands
          and their difference, and the fourth band against the second; then the
          autocorrelation of the Laplacian: its largest value 3-30 px from the centre (an
          echo, as a shake that dwells leaves), the mean of its 20 largest there, and its
          largest and least values at 1 px;
        - edges (e_*): the gradient at scale 0.7 px against the gradient at 2 px, at the
          strongest edges (local maxima of the 2 px gradient), per 64 x 64 tile (stride 32)
          with at least 12 such maxima: a step edge reads about 1, a blurred one less. The
          sharpest tile, the means of the sharpest 5, 20 and 50 % and of all tiles.
  compare EVIDENCE RUN...
        for each RUN (a folder of head_variants.py's feature files, with fitold.csv: the
        training part's photos through synthetic_check.py --angles), fits a logistic head on
        RUN/fit.csv, RUN/fitold.csv and the training part's keepers (RUN/keep-train-*.csv,
        sharp, weighed W) with the network's features alone and with the EVIDENCE folder's
        measures beside them (EVIDENCE/fit.csv, fitold.csv, keep.csv, check.csv, old.csv from
        "measure", joined by file name), each linear and with every product of two features
        (quadratic). The line is the lowest training keeper's score (the shipped rule). Prints,
        seed by seed: the realistic check's blurred photos called blurry (%), the old check's
        (%), held-back keepers called blurry, the realistic check's sharp copies called blurry.
        The keepers are in the fit, so the line drawn on them is optimistic; the held-back
        keepers are the honest measure of what it costs.
  choose EVIDENCE RUN...
        the head's settings chosen on the training part alone: for each RUN, every form
        (linear, quadratic), W (2, 5, 10) and L2 (1e-4, 1e-3, 1e-2), fitted as "compare" fits
        on four of five folds of the training part's photos (by the photo a sample was made
        from) and scored by the fifth's blurred samples caught under its lowest sharp sample
        or keeper; the best setting (by the mean over folds) is then fitted as "compare" does
        and measured on the held-back sets.
  hold EVIDENCE RUN...
        whether one measure could hold the soft keepers at the line instead (a hand-set rule
        may move a photo toward unsure, never to blurry): for each RUN, its shipped head
        (head_variants.py's), a line drawn where the training part loses K keepers (K of
        KEEPERS_LOST), and for every measure and sign the rule "hold a photo at the line when
        the measure is at least the least of those K keepers'" (so that it holds all of them).
        Prints the line, what it catches without the rule and, for the measure that keeps the
        most of both checks, what it catches with it and the held-back keepers still lost.
env: W (5), L2 (1e-4), FITOLD (1; 0: compare fits without fitold.csv), BOUND (1: compare fits on
     the training keepers and the realistic check's blurred photos themselves, an upper bound on
     what any head of that form could catch there), PREFIX (compare: only the measures whose
     names start so, e.g. "a_" or "t_,e_"), KEEPERS_LOST (3,10,20,40),
     VERBOSE=1 (compare: the lowest training keepers and, by kind from the realistic set's
     MANIFEST when given, the photos missed)

usage: head_evidence.py measure OUT.csv FOLDER... | compare|choose|hold EVIDENCE RUN...
"""
import csv, glob, os, sys
import numpy as np

NETWORK = ["f_max", "f_block", "f_top1", "f_top5", "f_top20", "f_top50", "f_mean", "f_image", "f_direction",
           "f_detail"]
ON_PURPOSE = ("mate_Storm",)  # bench/blurred-on-purpose.txt: not a keeper

# ---- measure ----------------------------------------------------------------------------------

WIN, STEP, NDIR = 64, 32, 8
BANDS = [(0.04, 0.09), (0.09, 0.18), (0.18, 0.30), (0.30, 0.5)]
SPECTRUM = ["slope", "slopedef", "slopespan", "slope3", "slope3def", "anilo", "anihi", "anidiff", "hf"]
COLUMNS = (["t_" + n for n in SPECTRUM] + ["a_" + n for n in SPECTRUM] + ["ghmax", "ghtop", "ac1max", "ac1min"] +
           ["e_max", "e_top5", "e_top20", "e_top50", "e_mean"])


def luma(path):
    from PIL import Image
    im = Image.open(path).convert("L")
    w, h = im.size
    if max(w, h) > 1600:
        s = 1600 / max(w, h)
        im = im.resize((round(w * s), round(h * s)), Image.BOX)
    return np.asarray(im, float) / 255


def spectrum(a):
    hann = np.outer(np.hanning(WIN), np.hanning(WIN))
    fy, fx = np.meshgrid(np.fft.fftfreq(WIN), np.fft.fftfreq(WIN), indexing="ij")
    rad, ang = np.hypot(fx, fy), np.mod(np.arctan2(fy, fx), np.pi)
    abin = np.floor((ang + np.pi / NDIR / 2) / (np.pi / NDIR)).astype(int) % NDIR
    masks = [[(abin == d) & (rad >= lo) & (rad < hi) for lo, hi in BANDS] for d in range(NDIR)]
    h, w = a.shape
    wins = np.array([a[y:y + WIN, x:x + WIN] - a[y:y + WIN, x:x + WIN].mean()
                     for y in range(0, h - WIN + 1, STEP) for x in range(0, w - WIN + 1, STEP)])
    P = np.abs(np.fft.fft2(wins * hann)) ** 2
    B = np.array([[P[:, m].mean(1) for m in row] for row in masks])  # direction x band x window
    tot = B[:, 1, :].sum(0)
    top = np.argsort(-tot)[:max(4, int(0.3 * len(tot)))]
    out = []
    for M in (np.log(B[:, :, top].mean(2) + 1e-12), np.log(B.mean(2) + 1e-12)):
        slope, slope3 = M[:, 2] - M[:, 0], M[:, 3] - M[:, 1]
        lo, hi = M[:, 0].max() - M[:, 0].min(), M[:, 2].max() - M[:, 2].min()
        out += [np.median(slope), slope.min() - np.median(slope), slope.max() - slope.min(), np.median(slope3),
                slope3.min() - np.median(slope3), lo, hi, hi - lo, M[:, 3].mean() - M[:, 1].mean()]
    # autocorrelation of the Laplacian
    L = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    ac = np.real(np.fft.ifft2(np.abs(np.fft.fft2(L)) ** 2))
    ac = np.fft.fftshift(ac / ac[0, 0])
    cy, cx = np.array(ac.shape) // 2
    yy, xx = np.mgrid[-cy:ac.shape[0] - cy, -cx:ac.shape[1] - cx]
    r = np.hypot(yy, xx)
    ring, near = (r >= 3) & (r <= 30), (r >= 1) & (r < 2)
    return out + [ac[ring].max(), np.sort(ac[ring])[-20:].mean(), ac[near].max(), ac[near].min()]


def edges(a):
    from scipy.ndimage import gaussian_filter, maximum_filter
    m2 = np.hypot(gaussian_filter(a, 2.0, order=(0, 1)), gaussian_filter(a, 2.0, order=(1, 0)))
    m1 = maximum_filter(np.hypot(gaussian_filter(a, 0.7, order=(0, 1)), gaussian_filter(a, 0.7, order=(1, 0))), 3)
    peaks = (m2 >= maximum_filter(m2, 3)) & (m2 > 0.01)
    R = (m1 * 0.7) / (m2 * 2.0 + 1e-9)  # scale-normalised: a step edge reads about 1
    H, W, T = a.shape[0], a.shape[1], 64
    tiles = []
    for y in range(0, H - T + 1, T // 2):
        for x in range(0, W - T + 1, T // 2):
            s = peaks[y:y + T, x:x + T]
            if s.sum() < 12:
                continue
            m, r = m2[y:y + T, x:x + T][s], R[y:y + T, x:x + T][s]
            tiles.append(np.median(r[m >= np.quantile(m, 0.5)]))
    if not tiles:
        return [0.0] * 5
    t = np.sort(np.array(tiles))[::-1]
    top = lambda f: t[:max(1, int(np.ceil(f * len(t))))].mean()
    return [t[0], top(0.05), top(0.2), top(0.5), t.mean()]


def measures(path):
    a = luma(path)
    return spectrum(a) + edges(a)


def measure(out, folders):
    from concurrent.futures import ProcessPoolExecutor
    files = [f for d in folders for f in sorted(glob.glob(os.path.join(d, "*.*"))) if not f.endswith(".csv")]
    with ProcessPoolExecutor(os.cpu_count() or 1) as ex:
        res = list(ex.map(measures, files, chunksize=8))
    with open(out, "w") as f:
        f.write("name," + ",".join(COLUMNS) + "\n")
        for p, r in zip(files, res):
            f.write(os.path.basename(p) + "," + ",".join("%.5g" % v for v in r) + "\n")

# ---- compare ----------------------------------------------------------------------------------


def read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def table(run, name, evidence, cols):
    """(X, y, names) of one feature file, the evidence joined by file name"""
    X, y, names = [], [], []
    for r in read(os.path.join(run, name + ".csv")):
        b = os.path.basename(r["path"])
        if any(k in b for k in ON_PURPOSE):
            continue
        e = evidence.get(b, {})
        X.append([float(r.get(k) or 0) for k in NETWORK] + [float(e[k]) for k in cols])
        y.append(r.get("label", "sharp") == "sharp")
        names.append(b)
    return np.array(X), np.array(y, float), names


def quadratic(X):
    n = X.shape[1]
    return np.hstack([X] + [(X[:, i] * X[:, j])[:, None] for i in range(n) for j in range(i, n)])


def fit_logistic(Z, y, wts, l2):
    from scipy.optimize import minimize

    def loss(p):
        z, s = Z @ p[:-1] + p[-1], 2 * y - 1
        g = -s * wts / (1 + np.exp(s * z)) / len(y)
        return (np.sum(wts * np.logaddexp(0, -s * z)) / len(y) + l2 * np.sum(p[:-1] ** 2),
                np.concatenate([Z.T @ g + 2 * l2 * p[:-1], [g.sum()]]))
    return minimize(loss, np.zeros(Z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 5000}).x


def compare_one(run, ev, cols, form, w, l2):
    keep = lambda part: [table(run, os.path.basename(p)[:-4], ev["keep"], cols)
                         for p in sorted(glob.glob(os.path.join(run, "keep-%s-*.csv" % part)))]
    kept = keep("train")
    train, held = np.vstack([k[0] for k in kept]), np.vstack([k[0] for k in keep("held")])
    train_names = sum([k[2] for k in kept], [])
    Xf, yf, _ = table(run, "fit", ev["fit"], cols)
    Xo, yo, _ = table(run, "fitold", ev["fitold"], cols)
    if os.environ.get("FITOLD", "1") == "0":  # fitted without the old check's kind of blur
        Xo, yo = Xo[:0], yo[:0]
    Xc, yc, check_names = table(run, "check", ev["check"], cols)
    Xd, yd, _ = table(run, "old", ev["old"], cols)
    T = quadratic if form == "quadratic" else (lambda A: A)
    X, y = np.vstack([Xf, Xo, train]), np.concatenate([yf, yo, np.ones(len(train))])
    if os.environ.get("BOUND") == "1":  # fitted on the realistic check's own blurred photos: a bound, not a head
        X, y = np.vstack([Xc[yc == 0], train]), np.concatenate([np.zeros(int((yc == 0).sum())), np.ones(len(train))])
    A = T(X)
    mu, sd = A.mean(0), A.std(0) + 1e-9
    p = fit_logistic((A - mu) / sd, y, np.where(y == 1, w, 1.0), l2)
    z = lambda B: ((T(B) - mu) / sd) @ p[:-1] + p[-1]
    zt, zc = z(train), z(Xc)
    line = zt.min()
    lowest = [train_names[i] for i in np.argsort(zt)[:4]]
    missed = [n for n, v, lab in zip(check_names, zc, yc) if lab == 0 and v >= line]
    return (100 * (zc[yc == 0] < line).mean(), 100 * (z(Xd[yd == 0]) < line).mean(), int((z(held) < line).sum()),
            int((zc[yc == 1] < line).sum()), lowest, missed)


def read_evidence(evidence):
    """EVIDENCE's measure files by set, each {file name: row} ({} for a file not there)"""
    ev = {}
    for k in ("fit", "fitold", "keep", "check", "old"):
        path = os.path.join(evidence, k + ".csv")
        ev[k] = {r["name"]: r for r in read(path)} if os.path.exists(path) else {}
    return ev


def compare(evidence, runs):
    ev = read_evidence(evidence)
    w, l2 = float(os.environ.get("W", 5)), float(os.environ.get("L2", 1e-4))
    print("# W %g, L2 %g; per seed: realistic caught %%, old caught %%, held-back keepers lost, "
          "realistic sharp copies called blurry" % (w, l2))
    prefixes = tuple(v for v in os.environ.get("PREFIX", "").split(",") if v)
    chosen = [c for c in COLUMNS if not prefixes or c.startswith(prefixes)]
    for label, cols in (("network", []), ("network + evidence", chosen)):
        for form in ("linear", "quadratic"):
            figs = [compare_one(r, ev, cols, form, w, l2) for r in runs]
            print("%-20s %-9s " % (label, form) + " | ".join("%.1f %.1f %d %d" % f[:4] for f in figs))
            if os.environ.get("VERBOSE"):
                kind = {}
                if os.environ.get("MANIFEST"):
                    kind = {r["name"] + ".jpg": r["kind"] for r in read(os.environ["MANIFEST"])}
                for r, f in zip(runs, figs):
                    kinds = {}
                    for n in f[5]:
                        kinds[kind.get(n, "?")] = kinds.get(kind.get(n, "?"), 0) + 1
                    print("    %s: lowest training keepers %s; realistic missed by kind %s" %
                          (os.path.basename(r.rstrip("/")), ", ".join(f[4]),
                           ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))


def photo_id(name):
    """the photo a sample was made from: fit's SOURCE--NAME-fN, fitold's NAME-KIND, a keeper's NAME"""
    import re
    stem = os.path.splitext(name)[0].split("--")[-1]
    return re.sub(r"-(f\d+|g15|m9|m9d|m9h|m9v)$", "", stem)


def choose(evidence, runs):
    """each setting's 5-fold figure on the training part alone (folds by photo): fitted on four
    folds, the fifth's blurred samples caught under its lowest sharp sample or keeper; the mean
    over folds, then the setting with the best figure, and its held-back figures"""
    import zlib
    ev = read_evidence(evidence)
    grid = [(form, w, l2) for form in ("linear", "quadratic") for w in (2, 5, 10) for l2 in (1e-4, 1e-3, 1e-2)]
    prefixes = tuple(v for v in os.environ.get("PREFIX", "").split(",") if v)
    cols = [c for c in COLUMNS if not prefixes or c.startswith(prefixes)]
    for run in runs:
        parts = [table(run, "fit", ev["fit"], cols), table(run, "fitold", ev["fitold"], cols)]
        parts += [table(run, os.path.basename(f)[:-4], ev["keep"], cols)
                  for f in sorted(glob.glob(os.path.join(run, "keep-train-*.csv")))]
        X = np.vstack([q[0] for q in parts])
        y = np.concatenate([q[1] for q in parts])
        keeper = np.concatenate([np.zeros(len(parts[0][1]) + len(parts[1][1]))] +
                                [np.ones(len(q[1])) for q in parts[2:]]).astype(bool)
        fold = np.array([zlib.crc32(photo_id(n).encode()) % 5 for q in parts for n in q[2]])
        scores = []
        for form, w, l2 in grid:
            T = quadratic if form == "quadratic" else (lambda A: A)
            caught = []
            for k in range(5):
                tr, te = fold != k, fold == k
                A = T(X[tr])
                mu, sd = A.mean(0), A.std(0) + 1e-9
                wts = np.where(y[tr] == 1, np.where(keeper[tr], w, 1.0), 1.0)
                p = fit_logistic((A - mu) / sd, y[tr], wts, l2)
                z = ((T(X[te]) - mu) / sd) @ p[:-1] + p[-1]
                caught.append(100 * (z[y[te] == 0] < z[y[te] == 1].min()).mean())
            scores.append(np.mean(caught))
        best = grid[int(np.argmax(scores))]
        f = compare_one(run, ev, cols, best[0], best[1], best[2])
        print("%s: chosen on the training part %s W %g L2 %g (5-fold caught %.1f %%; the grid %.1f-%.1f %%); "
              "held-back: realistic %.1f %%, old %.1f %%, keepers lost %d, sharp copies called blurry %d"
              % (os.path.basename(run.rstrip("/")), best[0], best[1], best[2], max(scores), min(scores), max(scores), *f[:4]))


def hold(evidence, runs):
    import head_variants as hv
    ev = read_evidence(evidence)

    def scored(run, head, name, label, evk):
        rs = [r for r in hv.rows(os.path.join(run, name)) if (not label or r["label"] == label)
              and not any(k in r["path"] for k in hv.ON_PURPOSE)]
        z = hv.logits(rs, head)
        z[hv.held_line(rs)] = np.inf
        return z, np.array([[float(ev[evk][os.path.basename(r["path"])][c]) for c in COLUMNS] for r in rs])

    for run in runs:
        head = hv.fit(os.path.join(run, "fit.csv"), hv.DEFAULT)
        part = lambda p: [scored(run, head, os.path.basename(f), None, "keep")
                          for f in sorted(glob.glob(os.path.join(run, "keep-%s-*.csv" % p)))]
        zt, Et = (np.concatenate(v) for v in zip(*part("train")))
        zh, Eh = (np.concatenate(v) for v in zip(*part("held")))
        zc, Ec = scored(run, head, "check.csv", "blurry", "check")
        zo, Eo = scored(run, head, "old.csv", "blurry", "old")
        for k in [int(v) for v in os.environ.get("KEEPERS_LOST", "3,10,20,40").split(",")]:
            line = np.sort(zt)[k]
            below, best = zt < line, None
            for j, col in enumerate(COLUMNS):
                for sign in (1, -1):
                    tau = (sign * Et[below, j]).min() if below.any() else np.inf
                    held = lambda E: sign * E[:, j] >= tau
                    c, o = 100 * ((zc < line) & ~held(Ec)).mean(), 100 * ((zo < line) & ~held(Eo)).mean()
                    if best is None or min(c, o) > best[0]:
                        best = (min(c, o), col if sign > 0 else "-" + col, c, o, int(((zh < line) & ~held(Eh)).sum()))
            print("%s K %d (line %.3f): without a rule realistic %.1f %%, old %.1f %%; held by %s: realistic %.1f %%, "
                  "old %.1f %%, held-back keepers lost %d" % (os.path.basename(run.rstrip("/")), k, 1 / (1 + np.exp(-line)),
                                                               100 * (zc < line).mean(), 100 * (zo < line).mean(), *best[1:]))


def main():
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "measure":
        measure(a[1], a[2:])
    elif len(a) >= 3 and a[0] == "compare":
        compare(a[1], a[2:])
    elif len(a) >= 3 and a[0] == "choose":
        choose(a[1], a[2:])
    elif len(a) >= 3 and a[0] == "hold":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        hold(a[1], a[2:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
