/* main.c: unsharp-runs, readable tables of the training runs in the experiment store:
 * list, show ID, compare ID ID, and an SVG plot of loss and accuracy per epoch. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store.h"

#define PROG "unsharp-runs"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [--db SPEC] list [--status S]\n"
            "       " PROG " [--db SPEC] show ID\n"
            "       " PROG " [--db SPEC] compare ID ID\n"
            "       " PROG " [--db SPEC] plot ID... --out FILE.svg\n"
            "Show the training runs recorded by unsharp-train (docs/experiments.md).\n\n"
            "  list          one line a run: status, when, epochs, best validation accuracy and AUC, the\n"
            "                held-back photos' keepers kept and blur caught, the safety gate, weights\n"
            "  show ID       a run's record, configuration, checkpoint, safety gate, metrics per epoch and\n"
            "                held-back figures beside the starting weights'\n"
            "  compare A B   two runs' metrics side by side, epoch by epoch\n"
            "  plot ID...    training loss, validation loss and accuracy, and the held-back photos' keepers\n"
            "                kept and blur caught per epoch as an SVG file; says what a run lacks\n\n"
            "      --db SPEC     the store: a SQLite file or postgresql://... (default $UNSHARP_DB, else\n"
            "                    $XDG_DATA_HOME/unsharp/experiments.db)\n"
            "      --status S    list only runs with this status (queued, running, done, failed, interrupted)\n"
            "  -o, --out FILE    the SVG file that plot writes\n"
            "  -h, --help        this help\n"
            "  -V, --version     version\n");
}

static const char *or_dash(const char *s) { return s && *s ? s : "-"; }

static void when(const char *secs, char *buf, size_t n)
{
    if (!secs) { snprintf(buf, n, "-"); return; }
    time_t t = (time_t)strtod(secs, NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void num(const char *v, const char *fmt, char *buf, size_t n)
{
    if (!v) snprintf(buf, n, "-");
    else snprintf(buf, n, fmt, strtod(v, NULL));
}

static int run_list(run_store *s, const char *status)
{
    store_rows r;
    const char *p[] = {status};
    if (store_exec(s,
                   "SELECT r.id, r.status, r.created, (SELECT count(*) FROM epochs e WHERE e.run_id = r.id),"
                   " (SELECT max(val_acc) FROM epochs e WHERE e.run_id = r.id),"
                   " (SELECT max(val_auc) FROM epochs e WHERE e.run_id = r.id), r.weights, r.message"
                   " FROM runs r WHERE CAST($1 AS TEXT) IS NULL OR r.status = CAST($1 AS TEXT) ORDER BY r.id",
                   1, p, &r) != 0)
        return -1;
    printf("%6s  %-11s  %-19s  %6s  %8s  %8s  %5s  %6s  %-8s  %s\n", "id", "status", "created (UTC)", "epochs", "best_acc",
           "best_auc", "kept", "caught", "gate", "weights");
    for (int i = 0; i < r.nrows; i++) {
        char c[32], acc[16], auc[16], kept[16] = "-", caught[16] = "-", gate[16] = "-";
        when(store_cell(&r, i, 2), c, sizeof c);
        num(store_cell(&r, i, 4), "%.3f", acc, sizeof acc);
        num(store_cell(&r, i, 5), "%.3f", auc, sizeof auc);
        /* the held-back photos at the last epoch, and the gate's decision */
        store_rows h;
        const char *q[] = {store_cell(&r, i, 0)};
        if (store_exec(s,
                       "SELECT 100.0 * kept / NULLIF(keepers, 0), 100.0 * caught / NULLIF(blurred, 0)"
                       " FROM held_back WHERE run_id = $1 AND set_name = 'held back' AND epoch > 0 ORDER BY epoch DESC LIMIT 1",
                       1, q, &h) == 0) {
            if (h.nrows) {
                num(store_cell(&h, 0, 0), "%.0f%%", kept, sizeof kept);
                num(store_cell(&h, 0, 1), "%.0f%%", caught, sizeof caught);
            }
            store_rows_free(&h);
        }
        if (store_exec(s, "SELECT value FROM run_notes WHERE run_id = $1 AND key = 'gate'", 1, q, &h) == 0) {
            if (h.nrows && store_cell(&h, 0, 0)) snprintf(gate, sizeof gate, "%s", !strncmp(store_cell(&h, 0, 0), "refused, written", 16) ? "forced" : store_cell(&h, 0, 0));
            store_rows_free(&h);
        }
        printf("%6s  %-11s  %-19s  %6s  %8s  %8s  %5s  %6s  %-8s  %s\n", store_cell(&r, i, 0), store_cell(&r, i, 1), c,
               or_dash(store_cell(&r, i, 3)), acc, auc, kept, caught, gate, or_dash(store_cell(&r, i, 6)));
    }
    store_rows_free(&r);
    return 0;
}

static const char EPOCHS_SQL[] =
    "SELECT epoch, train_loss, val_loss, val_acc, val_auc, lr, samples_per_s, seconds FROM epochs WHERE run_id = $1 ORDER BY epoch";

static const char HELD_SQL[] =
    "SELECT epoch, set_name, keepers, kept, blurred, caught, accuracy, auc FROM held_back WHERE run_id = $1 ORDER BY epoch, set_name";
/* per epoch: the held-back photos' keepers kept and blur caught, as shares */
static const char HELD_PLOT_SQL[] =
    "SELECT epoch, 1.0 * kept / NULLIF(keepers, 0), 1.0 * caught / NULLIF(blurred, 0) FROM held_back"
    " WHERE run_id = $1 AND set_name = 'held back' ORDER BY epoch";

static int run_show(run_store *s, const char *id)
{
    store_rows r, a, e;
    const char *p[] = {id};
    if (store_exec(s,
                   "SELECT id, status, created, started, finished, heartbeat, queued, attempts, host, pid, worker,"
                   " code_version, data_fingerprint, data_files, weights, message, config FROM runs WHERE id = $1",
                   1, p, &r) != 0)
        return -1;
    if (!r.nrows) {
        store_rows_free(&r);
        fprintf(stderr, PROG ": no run %s\n", id);
        return 1;
    }
    const char *names[] = {"run", "status", "created", "started", "finished", "heartbeat", "queued", "attempts", "host",
                           "pid", "worker", "code version", "data fingerprint", "data files", "weights", "message", "config"};
    for (int c = 0; c < 17; c++) {
        char t[32];
        const char *v = store_cell(&r, 0, c);
        if (c >= 2 && c <= 5) {
            when(v, t, sizeof t);
            if (v) strcat(t, " UTC");
            v = t;
        }
        if (c == 6) v = v && atoi(v) ? "yes" : "no";
        printf("%-17s %s\n", names[c], or_dash(v));
    }
    store_rows_free(&r);
    if (store_exec(s, "SELECT arg FROM run_args WHERE run_id = $1 ORDER BY pos", 1, p, &a) != 0) return -1;
    printf("%-17s unsharp-train", "arguments");
    for (int i = 0; i < a.nrows; i++) printf(" %s", or_dash(store_cell(&a, i, 0)));
    printf("\n");
    store_rows_free(&a);
    /* the checkpoint, and the safety gate's decision with its reason */
    store_rows n;
    if (store_exec(s, "SELECT key, value FROM run_notes WHERE run_id = $1", 1, p, &n) != 0) return -1;
    const char *keys[] = {"checkpoint", "gate", "gate_reason"}, *labels[] = {"checkpoint", "safety gate", "gate's reason"};
    for (int k = 0; k < 3; k++) {
        const char *v = NULL;
        for (int i = 0; i < n.nrows; i++)
            if (!strcmp(store_cell(&n, i, 0), keys[k])) v = store_cell(&n, i, 1);
        if (k == 2 && !v) continue;
        printf("%-17s ", labels[k]);
        for (const char *c = or_dash(k == 1 && !v ? "none (not a fine-tune, or nothing to check on)" : v); *c; c++) {
            putchar(*c);
            if (*c == '\n') printf("%-17s ", "");
        }
        putchar('\n');
    }
    store_rows_free(&n);
    printf("\n");
    if (store_exec(s, EPOCHS_SQL, 1, p, &e) != 0) return -1;
    printf("%5s  %10s  %8s  %7s  %7s  %9s  %9s  %7s\n", "epoch", "train_loss", "val_loss", "val_acc", "val_auc", "lr",
           "samples/s", "seconds");
    for (int i = 0; i < e.nrows; i++) {
        char v[7][24];
        const char *fmts[] = {"%.4f", "%.4f", "%.3f", "%.3f", "%.3e", "%.1f", "%.1f"};
        for (int c = 0; c < 7; c++) num(store_cell(&e, i, c + 1), fmts[c], v[c], sizeof v[c]);
        printf("%5s  %10s  %8s  %7s  %7s  %9s  %9s  %7s\n", store_cell(&e, i, 0), v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }
    if (!e.nrows) printf("(no epochs recorded)\n");
    store_rows_free(&e);
    if (store_exec(s, HELD_SQL, 1, p, &e) != 0) return -1;
    if (e.nrows) {
        printf("\nphotos checked by the safety gate (start: the starting weights; held back: kept out of training,\n"
               "each judged as it is and blurred; labelled: --sharp, --blurry, --from-marks, --val):\n");
        printf("%5s  %-10s %7s %5s %7s %6s %8s %6s\n", "epoch", "set", "keepers", "kept", "blurred", "caught", "accuracy", "auc");
        for (int i = 0; i < e.nrows; i++) {
            char acc[16], auc[16];
            num(store_cell(&e, i, 6), "%.3f", acc, sizeof acc);
            num(store_cell(&e, i, 7), "%.3f", auc, sizeof auc);
            const char *ep = store_cell(&e, i, 0);
            printf("%5s  %-10s %7s %5s %7s %6s %8s %6s\n", ep && !strcmp(ep, "0") ? "start" : or_dash(ep),
                   or_dash(store_cell(&e, i, 1)), or_dash(store_cell(&e, i, 2)), or_dash(store_cell(&e, i, 3)),
                   or_dash(store_cell(&e, i, 4)), or_dash(store_cell(&e, i, 5)), acc, auc);
        }
    }
    store_rows_free(&e);
    return 0;
}

static int run_compare(run_store *s, const char *ida, const char *idb)
{
    store_rows ea, eb, ra, rb;
    const char *pa[] = {ida}, *pb[] = {idb};
    if (store_exec(s, "SELECT status, config FROM runs WHERE id = $1", 1, pa, &ra) != 0) return -1;
    if (store_exec(s, "SELECT status, config FROM runs WHERE id = $1", 1, pb, &rb) != 0) { store_rows_free(&ra); return -1; }
    int missing = !ra.nrows || !rb.nrows;
    if (missing) fprintf(stderr, PROG ": no run %s\n", !ra.nrows ? ida : idb);
    else {
        printf("A = run %s (%s): %s\nB = run %s (%s): %s\n\n", ida, store_cell(&ra, 0, 0), or_dash(store_cell(&ra, 0, 1)), idb,
               store_cell(&rb, 0, 0), or_dash(store_cell(&rb, 0, 1)));
    }
    store_rows_free(&ra);
    store_rows_free(&rb);
    if (missing) return 1;
    if (store_exec(s, EPOCHS_SQL, 1, pa, &ea) != 0) return -1;
    if (store_exec(s, EPOCHS_SQL, 1, pb, &eb) != 0) { store_rows_free(&ea); return -1; }
    printf("%5s  %10s %10s  %8s %8s  %7s %7s  %7s %7s\n", "epoch", "A_loss", "B_loss", "A_vloss", "B_vloss", "A_acc", "B_acc",
           "A_auc", "B_auc");
    int ia = 0, ib = 0;
    while (ia < ea.nrows || ib < eb.nrows) {
        int na = ia < ea.nrows ? atoi(store_cell(&ea, ia, 0)) : 1 << 30, nb = ib < eb.nrows ? atoi(store_cell(&eb, ib, 0)) : 1 << 30;
        int ep = na < nb ? na : nb;
        const store_rows *x[2] = {na == ep ? &ea : NULL, nb == ep ? &eb : NULL};
        int row[2] = {ia, ib};
        char v[2][4][24];
        const char *fmts[] = {"%.4f", "%.4f", "%.3f", "%.3f"};
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < 4; c++) num(x[k] ? store_cell(x[k], row[k], c + 1) : NULL, fmts[c], v[k][c], sizeof v[k][c]);
        printf("%5d  %10s %10s  %8s %8s  %7s %7s  %7s %7s\n", ep, v[0][0], v[1][0], v[0][1], v[1][1], v[0][2], v[1][2],
               v[0][3], v[1][3]);
        if (na == ep) ia++;
        if (nb == ep) ib++;
    }
    store_rows_free(&ea);
    store_rows_free(&eb);
    return 0;
}

/* ---- plot: two panels (losses, accuracy) with one polyline per run and metric ---- */

static const char *COLOURS[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

static void polyline(FILE *f, const store_rows *e, int col, double x0, double w, double y0, double h, int max_epoch,
                     double lo, double hi, const char *colour, int dashed)
{
    int any = 0;
    for (int i = 0; i < e->nrows; i++) {
        const char *v = store_cell(e, i, col);
        if (!v) continue;
        double ex = atoi(store_cell(e, i, 0)), y = strtod(v, NULL);
        double px = x0 + (max_epoch > 1 ? (ex - 1) / (max_epoch - 1) : 0.5) * w;
        double py = y0 + h - (hi > lo ? (y - lo) / (hi - lo) : 0.5) * h;
        if (!any) fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", colour,
                          dashed ? " stroke-dasharray=\"6,4\"" : "");
        fprintf(f, "%s%.1f,%.1f", any ? " " : "", px, py);
        any = 1;
    }
    if (any) fprintf(f, "\"/>\n");
}

static int run_plot(run_store *s, char **ids, int n, const char *out)
{
    store_rows *e = calloc((size_t)n, sizeof *e), *hb = calloc((size_t)n, sizeof *hb);
    if (!e || !hb) { free(e); free(hb); return -1; }
    int max_epoch = 1, rc = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < n; k++) {
        const char *p[] = {ids[k]};
        if (store_exec(s, EPOCHS_SQL, 1, p, &e[k]) != 0) { rc = -1; goto end; }
        if (store_exec(s, HELD_PLOT_SQL, 1, p, &hb[k]) != 0) { rc = -1; goto end; }
        int has_val = 0;
        for (int i = 0; i < e[k].nrows; i++) has_val |= store_cell(&e[k], i, 3) != NULL;
        if (!e[k].nrows) fprintf(stderr, PROG ": run %s has no epochs recorded\n", ids[k]);
        else if (!has_val) fprintf(stderr, PROG ": run %s has no validation figures (no --val): no validation loss or accuracy drawn\n", ids[k]);
        if (!hb[k].nrows)
            fprintf(stderr, PROG ": run %s has no held-back figures (not a fine-tune, or fewer than 10 photos): that panel is empty\n", ids[k]);
        for (int i = 0; i < e[k].nrows; i++) {
            int ep = atoi(store_cell(&e[k], i, 0));
            if (ep > max_epoch) max_epoch = ep;
            for (int c = 1; c <= 2; c++)
                if (store_cell(&e[k], i, c)) {
                    double v = strtod(store_cell(&e[k], i, c), NULL);
                    lo = fmin(lo, v);
                    hi = fmax(hi, v);
                }
        }
    }
    if (!isfinite(lo)) lo = 0, hi = 1;
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); rc = 1; goto end; }
    const double W = 1340, H = 360, pw = 380, ph = 250, top = 50;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    const double px[3] = {60, 500, 940};
    const char *titles[3] = {"loss (solid: training, dashed: validation)", "validation accuracy (--val)",
                             "held back: keepers kept (solid), blur caught (dashed)"};
    double plo[3] = {lo, 0, 0}, phi[3] = {hi, 1, 1};
    for (int panel = 0; panel < 3; panel++) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", px[panel], top - 15, titles[panel]);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#888\"/>\n", px[panel], top, pw, ph);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", px[panel] - 4, top + 4, phi[panel]);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", px[panel] - 4, top + ph + 4, plo[panel]);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">1</text>\n", px[panel], top + ph + 16);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">epoch %d</text>\n", px[panel] + pw, top + ph + 16, max_epoch);
        for (int k = 0; k < n; k++) {
            const char *colour = COLOURS[k % 6];
            if (panel == 0) {
                polyline(f, &e[k], 1, px[0], pw, top, ph, max_epoch, lo, hi, colour, 0);
                polyline(f, &e[k], 2, px[0], pw, top, ph, max_epoch, lo, hi, colour, 1);
            } else if (panel == 1) {
                polyline(f, &e[k], 3, px[1], pw, top, ph, max_epoch, 0, 1, colour, 0);
            } else {
                /* the starting weights (epoch 0) as a dotted line across */
                for (int i = 0; i < hb[k].nrows; i++)
                    for (int c = 1; c <= 2 && !strcmp(store_cell(&hb[k], i, 0), "0"); c++)
                        if (store_cell(&hb[k], i, c)) {
                            double y = top + ph - strtod(store_cell(&hb[k], i, c), NULL) * ph;
                            fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"1,3\"/>\n",
                                    px[2], px[2] + pw, y, y, colour);
                        }
                polyline(f, &hb[k], 1, px[2], pw, top, ph, max_epoch, 0, 1, colour, 0);
                polyline(f, &hb[k], 2, px[2], pw, top, ph, max_epoch, 0, 1, colour, 1);
            }
        }
        int any = 0;
        for (int k = 0; k < n; k++)
            for (int i = 0; i < (panel == 2 ? hb[k].nrows : e[k].nrows); i++)
                any |= panel == 2 || store_cell(&e[k], i, panel == 0 ? 1 : 3) != NULL;
        if (!any)
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#888\">%s</text>\n", px[panel] + pw / 2,
                    top + ph / 2, panel == 1 ? "no validation figures (no --val)" : panel == 2 ? "no held-back figures" : "no epochs");
    }
    fprintf(f, "<text x=\"940\" y=\"%.0f\" fill=\"#888\">dotted: the starting weights</text>\n", top + ph + 32);
    for (int k = 0; k < n; k++)
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">run %s</text>\n", 60 + 90.0 * k, H - 15, COLOURS[k % 6], ids[k]);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) { perror(out); rc = 1; }
end:
    for (int k = 0; k < n; k++) {
        store_rows_free(&e[k]);
        store_rows_free(&hb[k]);
    }
    free(e);
    free(hb);
    return rc;
}

static int is_id(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && v > 0;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"db", required_argument, 0, 1}, {"status", required_argument, 0, 2}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},   {"version", no_argument, 0, 'V'},    {0, 0, 0, 0},
    };
    const char *db = getenv("UNSHARP_DB"), *status = NULL, *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "o:hV", longs, NULL)) != -1) {
        switch (c) {
        case 1: db = optarg; break;
        case 2: status = optarg; break;
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(PROG " %s\n", UNSHARP_VERSION_TEXT); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) { usage(stderr); return 2; }
    const char *cmd = argv[optind];
    int nids = argc - optind - 1;
    char **ids = argv + optind + 1;
    for (int i = 0; i < nids; i++)
        if (!is_id(ids[i])) { fprintf(stderr, PROG ": '%s' is not a run id\n", ids[i]); return 2; }
    int ok = (!strcmp(cmd, "list") && nids == 0) || (!strcmp(cmd, "show") && nids == 1) ||
             (!strcmp(cmd, "compare") && nids == 2) || (!strcmp(cmd, "plot") && nids >= 1 && out);
    if (!ok) {
        fprintf(stderr, PROG ": usage: list | show ID | compare ID ID | plot ID... --out FILE.svg\n");
        return 2;
    }
    char path[4096], err[1024];
    if (!db || !*db) {
        if (store_default_path(path, sizeof path, err, sizeof err) != 0) { fprintf(stderr, PROG ": %s\n", err); return 2; }
        db = path;
    }
    if (!strcmp(db, "none")) { fprintf(stderr, PROG ": --db none: no store to read\n"); return 2; }
    run_store *s = NULL;
    if (store_open(db, &s, err, sizeof err) != 0) { fprintf(stderr, PROG ": %s\n", err); return 2; }
    int rc = !strcmp(cmd, "list") ? run_list(s, status)
             : !strcmp(cmd, "show") ? run_show(s, ids[0])
             : !strcmp(cmd, "compare") ? run_compare(s, ids[0], ids[1])
             : run_plot(s, ids, nids, out);
    if (rc < 0) fprintf(stderr, PROG ": %s\n", store_errmsg(s));
    store_close(s);
    return rc < 0 ? 2 : rc;
}
