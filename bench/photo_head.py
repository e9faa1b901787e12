#!/usr/bin/python3
"""photo_head.py: fits the learned photo head (engine/src/photo_score.h) and reports the checks of
the photo score, from the CSV rows of bench/photo_features (numpy; scipy for the fit).

  fit CSV...          fits a logistic model of "sharp" (label folder "sharp") against "blurry"
                      on the features, L2-regularised on standardised features, every weight
                      but the detail share's kept >= 0 (monotone in the evidence), the two classes
                      weighed equally and, within each, every photo source (the name's part
                      before "--") weighed equally; then calibrates it (Platt scaling: one scale
                      and one offset of its logit, fitted on the same photos with the two classes
                      weighed equally and every photo the same within its class, so that a
                      probability p means that a share p of such photos is sharp; the scale is
                      positive, so the order of the photos does not change); prints the head
                      ("v1 b w1 ... wN") for photo_features --set-head, then the fitted weights
                      per feature.
  move-line OLD NEW P...
                      for heads OLD and NEW ("v1 b w1 ... wN") whose logits differ by a scale
                      and an offset (a head before and after calibration), prints each
                      probability P of OLD's scale on NEW's: where a line drawn on OLD goes
                      so that every verdict stays the same.
  report NAME CSV...  verdict counts per label (sharp >= SHARP_AT, blurry < BLURRY_BELOW, else
                      unsure), the lowest-scored sharp photos, AUC, the share of blurred photos
                      called blurry, and (--calibration) a 10-bin reliability table and the
                      expected calibration error.
  focus MAPS MASKS PHOTOS [SOURCES]
                      tile-level AUC of the focus maps (MAPS/NAME.map) against the masks
                      (MASKS/NAME.png: 255 sharp, 0 blurred), beside a per-tile variance of the
                      Laplacian of the photo (PHOTOS/NAME.jpg), on the same tiles: tiles at least
                      75 % sharp against tiles at most 25 % sharp, tiles with detail only.
                      With SOURCES (SOURCES/NAME.png, the photo before its blur, as
                      realistic_blur.py --set regions writes it), the same again on the tiles
                      where blur can be seen: those in focus in the unblurred photo, by the rule
                      of unsharp-train --in-focus (the tile's Laplacian RMS reaches IN_FOCUS of
                      the photo's 90th-percentile tile). Blurring a tile that was out of focus
                      already changes nothing a map could see.
env: SHARP_AT (0.6), BLURRY_BELOW (0.4), L2 (0.01), IN_FOCUS (0.3), CALIBRATE (fit: 1; 0 gives
     the head without its calibration, as unsharp-v2's first head was fitted), FEATURES (fit: the
     features the head may use, comma-separated; the others get weight 0; default all but
     f_detail: with it, heads fitted on the same networks lose more keepers of the held-back
     fifth and of the training photos, and catch the same blur (weights/MODEL_CARD.md, "Fourth
     round"); "all" for every one)
"""
import csv, os, sys
import numpy as np

FEATURES = ["f_max", "f_block", "f_top1", "f_top5", "f_top20", "f_top50", "f_mean", "f_image", "f_direction", "f_detail",
            "f_dirs"]  # f_dirs: 0 for a network without the per-direction head, and in older files
DEFAULT_FEATURES = [k for k in FEATURES if k != "f_detail"]
SHARP_AT = float(os.environ.get("SHARP_AT", 0.6))
BLURRY_BELOW = float(os.environ.get("BLURRY_BELOW", 0.4))
IN_FOCUS = float(os.environ.get("IN_FOCUS", 0.3))


def read_rows(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += list(csv.DictReader(f))
    return rows


def auc(pos, neg):
    """P(score of a sharp photo > score of a blurred one), ties counting half."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if not len(pos) or not len(neg):
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    sv = allv[order]
    i = 0
    while i < len(sv):  # average ranks of ties
        j = i
        while j + 1 < len(sv) and sv[j + 1] == sv[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    rp = ranks[:len(pos)].sum()
    return float((rp - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def features_from_env():
    """the features FEATURES names (default DEFAULT_FEATURES; "all" for every one)"""
    use = os.environ.get("FEATURES", "").replace(" ", "")
    use = FEATURES if use == "all" else use.split(",") if use else DEFAULT_FEATURES
    bad = [k for k in use if k not in FEATURES]
    if bad:
        sys.exit("photo_head.py: unknown feature %s (known: %s)" % (", ".join(bad), ", ".join(FEATURES)))
    return use


def platt_scaling(z, y):
    """Platt scaling of logits z against labels y (1 sharp): (scale, offset) minimising the log
    loss with the two classes weighed equally and every photo the same within its class."""
    from scipy.optimize import minimize
    wts = np.where(y == 1, 0.5 / max(y.sum(), 1), 0.5 / max((1 - y).sum(), 1))

    def loss(ac):
        t = ac[0] * z + ac[1]
        p = 1 / (1 + np.exp(-t))
        return (wts * (np.logaddexp(0, t) - y * t)).sum(), np.array([(wts * (p - y) * z).sum(), (wts * (p - y)).sum()])

    ac = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", bounds=[(1e-3, None), (None, None)],
                  options={"maxiter": 200, "gtol": 1e-10}).x
    return float(ac[0]), float(ac[1])


def fit_head(rows, use):
    """The head fitted on rows (label "sharp" or "blurry") with the features in use (the others
    get weight 0), then calibrated (unless CALIBRATE=0): (b, w over FEATURES, standardised
    weights, training probabilities, labels)."""
    rows = [r for r in rows if r["label"] in ("sharp", "blurry")]
    X = np.array([[float(r.get(k) or 0.0) if k in use else 0.0 for k in FEATURES] for r in rows])
    y = np.array([r["label"] == "sharp" for r in rows], float)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mu) / sd])
    # each source (the folder the photo came from, before "--" in its name) weighs the same
    # within each class, and the two classes weigh the same
    src = np.array([os.path.basename(r["path"]).split("--")[0] for r in rows])
    wts = np.zeros(len(y))
    for label in (0, 1):
        groups = sorted(set(src[y == label]))
        for g in groups:
            m = (y == label) & (src == g)
            wts[m] = 0.5 / len(groups) / m.sum()
    wts *= len(y)
    lam = float(os.environ.get("L2", 0.01)) * len(X)
    # Monotone in the evidence: a sharper map (any of the logit statistics, the image head, a
    # larger direction share) never lowers the score, so each of those weights is kept >= 0
    # (L-BFGS-B with bounds); the share of tiles with detail is free.
    from scipy.optimize import minimize

    def loss(beta):
        z = Z @ beta
        p = 1 / (1 + np.exp(-z))
        ll = wts * (np.logaddexp(0, z) - y * z)
        g = Z.T @ (wts * (p - y))
        return ll.sum() + 0.5 * lam * (beta[1:] ** 2).sum(), g + lam * np.concatenate([[0], beta[1:]])

    bounds = [(None, None)] + [(0, 0) if k not in use else (0, None) if k != "f_detail" else (None, None)
                               for k in FEATURES]
    beta = minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds,
                    options={"maxiter": 2000, "gtol": 1e-9}).x
    if os.environ.get("CALIBRATE", "1") != "0":
        scale, offset = platt_scaling(Z @ beta, y)
        beta = beta * scale
        beta[0] += offset
    return beta[0] - (beta[1:] * mu / sd).sum(), beta[1:] / sd, beta[1:], 1 / (1 + np.exp(-Z @ beta)), y


def fit(paths):
    b, w, std, p, y = fit_head(read_rows(paths), features_from_env())
    print("v1 %.6g %s" % (b, " ".join("%.6g" % v for v in w)))
    print("# fitted on %d photos (%d sharp, %d blurry); training AUC %.4f" %
          (len(y), y.sum(), len(y) - y.sum(), auc(p[y == 1], p[y == 0])), file=sys.stderr)
    for k, v, s in zip(FEATURES, w, std):
        print("#   %-12s %+9.4f  (standardised %+7.3f)" % (k, v, s), file=sys.stderr)


def parse_head(text):
    v = text.split()
    if len(v) != len(FEATURES) + 2 or v[0] != "v1":
        sys.exit("photo_head.py: not a head: %r (want \"v1 b w1 ... w%d\")" % (text, len(FEATURES)))
    return float(v[1]), np.array([float(x) for x in v[2:]])


def move_line(old, new, probs):
    """prints each probability of OLD's scale on NEW's, for heads whose logits are a*z + c apart"""
    (b0, w0), (b1, w1) = parse_head(old), parse_head(new)
    k = int(np.abs(w0).argmax())
    if w0[k] == 0:
        sys.exit("photo_head.py: the old head has no weight")
    a = w1[k] / w0[k]
    if a <= 0 or np.abs(w1 - a * w0).max() > 1e-4 * np.abs(w1).max():
        sys.exit("photo_head.py: the heads are not one scale apart (%s against %s)" % (old, new))
    c = b1 - a * b0
    print("# scale %.6g, offset %.6g" % (a, c), file=sys.stderr)
    for p in probs:
        z = np.log(p / (1 - p))
        print("%.6g" % (1 / (1 + np.exp(-(a * z + c)))))


def report(name, paths, calibration):
    rows = read_rows(paths)
    print("== %s" % name)
    for label in ("sharp", "blurry"):
        sc = np.array([float(r["sharpness"]) for r in rows if r["label"] == label])
        if not len(sc):
            continue
        ns, nb = (sc >= SHARP_AT).sum(), (sc < BLURRY_BELOW).sum()
        print("  %-6s %4d photos: %4d sharp, %4d unsure, %4d blurry (called blurry: %.1f %%)" %
              (label, len(sc), ns, len(sc) - ns - nb, nb, 100.0 * nb / len(sc)))
    sharp = [(float(r["sharpness"]), r["path"]) for r in rows if r["label"] == "sharp"]
    blurry = [float(r["sharpness"]) for r in rows if r["label"] == "blurry"]
    if sharp:
        low = sorted(sharp)[:4]
        print("  lowest sharp: " + "; ".join("%.3f %s" % (s, os.path.basename(p)) for s, p in low))
    if sharp and blurry:
        print("  AUC %.4f" % auc([s for s, _ in sharp], blurry))
    if calibration:
        s = np.array([float(r["sharpness"]) for r in rows if r["label"] in ("sharp", "blurry")])
        y = np.array([r["label"] == "sharp" for r in rows if r["label"] in ("sharp", "blurry")], float)
        print("  reliability (10 bins): predicted sharp | observed share sharp | photos")
        ece = 0.0
        for i in range(10):
            m = (s >= i / 10) & ((s < (i + 1) / 10) if i < 9 else (s <= 1))
            if m.sum():
                ece += m.sum() / len(s) * abs(s[m].mean() - y[m].mean())
                print("    %.1f-%.1f  %.3f | %.3f | %d" % (i / 10, (i + 1) / 10, s[m].mean(), y[m].mean(), m.sum()))
            else:
                print("    %.1f-%.1f      - |     - | 0" % (i / 10, (i + 1) / 10))
        print("  expected calibration error %.4f (%d photos)" % (ece, len(s)))


def read_map(path):
    with open(path, "rb") as f:
        tw, th = map(int, f.readline().split())
        return np.frombuffer(f.read(), dtype=np.float32, count=tw * th).reshape(th, tw)


def laplacian(img):
    lp = np.zeros_like(img)
    lp[1:-1, 1:-1] = 4 * img[1:-1, 1:-1] - img[:-2, 1:-1] - img[2:, 1:-1] - img[1:-1, :-2] - img[1:-1, 2:]
    return lp


def tile_bounds(h, w, th, tw, ty, tx):
    return ty * h // th, (ty + 1) * h // th, tx * w // tw, (tx + 1) * w // tw


def in_focus_tiles(source, th, tw):
    """Per tile of a (th, tw) grid: is it in focus in the unblurred photo (IN_FOCUS rule)?"""
    lp = laplacian(source)
    h, w = source.shape
    rms = np.zeros((th, tw))
    for ty in range(th):
        for tx in range(tw):
            y0, y1, x0, x1 = tile_bounds(h, w, th, tw, ty, tx)
            t = lp[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
            rms[ty, tx] = np.sqrt((t * t).mean()) if t.size else 0.0
    return rms >= IN_FOCUS * np.percentile(rms, 90)


def print_aucs(title, mine, lap, labels):
    print("== %s: %d tiles (%d sharp, %d blurred)" % (title, len(labels), labels.sum(), (~labels).sum()))
    print("  tile AUC, focus map:                  %.4f" % auc(mine[labels], mine[~labels]))
    print("  tile AUC, variance of the Laplacian:  %.4f" % auc(lap[labels], lap[~labels]))


def focus(maps, masks, photos, sources=None):
    from PIL import Image
    mine, lap, labels, seen = [], [], [], []
    for mk in sorted(os.listdir(masks)):
        name = mk[:-4]
        mp = os.path.join(maps, name + ".jpg.map")
        if not os.path.exists(mp):
            continue
        m = read_map(mp)
        th, tw = m.shape
        mask = np.asarray(Image.open(os.path.join(masks, mk)), float) / 255
        img = np.asarray(Image.open(os.path.join(photos, name + ".jpg")).convert("L"), float) / 255
        h, w = img.shape
        lp = laplacian(img)
        focused = None
        if sources:
            src = np.asarray(Image.open(os.path.join(sources, name + ".png")).convert("L"), float) / 255
            if src.shape != img.shape:
                raise SystemExit("photo_head.py: %s: the source is %dx%d, the photo %dx%d" % (name, src.shape[1], src.shape[0], w, h))
            focused = in_focus_tiles(src, th, tw)
        for ty in range(th):
            for tx in range(tw):
                y0, y1, x0, x1 = tile_bounds(h, w, th, tw, ty, tx)
                q = (mask[y0:y1, x0:x1] > 0.5).mean()
                if 0.25 < q < 0.75:
                    continue
                t = lp[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
                if np.abs(t).mean() < 0.004:  # flat: no detail to judge (the judge's own line)
                    continue
                mine.append(m[ty, tx])
                lap.append(t.var())
                labels.append(q >= 0.75)
                seen.append(bool(focused[ty, tx]) if focused is not None else True)
    mine, lap, labels, seen = np.array(mine), np.array(lap), np.array(labels), np.array(seen)
    print_aucs("focus map", mine, lap, labels)
    if sources:
        print_aucs("focus map where blur can be seen (in focus in the unblurred photo)", mine[seen], lap[seen], labels[seen])


def main():
    a = sys.argv[1:]
    if a and a[0] == "fit" and len(a) > 1:
        fit(a[1:])
    elif a and a[0] == "move-line" and len(a) > 3:
        move_line(a[1], a[2], [float(v) for v in a[3:]])
    elif a and a[0] == "report" and len(a) > 2:
        cal = "--calibration" in a
        a = [x for x in a if x != "--calibration"]
        report(a[1], a[2:], cal)
    elif a and a[0] == "focus" and len(a) in (4, 5):
        focus(*a[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
