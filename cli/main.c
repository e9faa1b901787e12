/* main.c: unsharp-classify, the command that judges photos sharp, unsure or blurry. It reads
 * the options, lists the photos (scan.c), judges them on worker threads (pipeline.c), prints
 * one result a photo in input order (output.c), then, only when asked, acts on the blurry ones
 * (actions.c). Exit status: 0 all fine, 1 some files failed, 2 usage or fatal error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "classify.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [options] PATH...\n"
            "Judge photos sharp, unsure or blurry, and find their bursts, brackets, focus stacks\n"
            "and panoramas. Folders are searched recursively.\n\n"
            "Output:\n"
            "  -f, --format FMT      table (default), jsonl or csv; fields path, sharpness, verdict,\n"
            "                        kind, width, height, group, rank, role, error\n"
            "  -q, --quiet           print only errors (and what --dry-run would do)\n"
            "Photos:\n"
            "      --files-from FILE also the paths named in FILE, one a line ('-': stdin)\n"
            "      --null            the names in FILE end in a NUL byte, not a newline\n"
            "      --shard K/N       only the K-th of N shares of the folders (whole folders)\n"
            "Judging:\n"
            "  -t, --threshold T     sharpness (0..1) that splits sharp from blurry (default 0.5, or\n"
            "                        the middle of the weights' thresholds)\n"
            "  -u, --unsure W        unsure from T - W up to T + W (default 0.1, or from the weights)\n"
            "  -w, --weights FILE    the model (default: the shipped weights)\n"
            "  -j, --jobs N          photos judged at once (default: the number of cores)\n"
            "      --device DEV      cpu, cuda or auto (default: CUDA when a device is present)\n"
            "      --index DIR       keep the results index in DIR (default: $XDG_CACHE_HOME/unsharp);\n"
            "                        photos it knows unchanged are not judged again\n"
            "      --no-index        judge every photo; read and write no index\n"
            "Groups (bursts, brackets, focus stacks, panoramas):\n"
            "      --group-gap S     frames at most S seconds apart may group (default 2)\n"
            "      --group-likeness L  least likeness of grouped frames, 0..1 (default 0.8)\n"
            "      --no-group        judge each photo alone (results in input order as they come)\n"
            "Actions (only on request; never on a bracket, focus stack or panorama):\n"
            "      --select WHICH    blurry (default), unsure (blurry and unsure ones), or\n"
            "                        all-but-best[=N] (each burst's frames but its N sharpest, 1)\n"
            "      --trash           move them to the desktop Trash, with sidecars and RAW files\n"
            "      --move-to DIR     move them under DIR, keeping their paths; never overwrites\n"
            "      --xmp             mark them rejected in their XMP sidecars (Rating -1, PickLabel 1;\n"
            "                        a RAW+JPEG pair's RAW sidecar); a photo a person marked keep\n"
            "                        is never marked, trashed or moved\n"
            "  -n, --dry-run         say what the actions would do, do nothing\n"
            "  -h, --help            this help\n"
            "  -V, --version         version\n"
            "Exit status: 0 all fine, 1 some files failed, 2 usage or fatal error.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '" PROG " --help' for more information.\n");
    return 2;
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct run {
    const options *o;
    item_list *items;
    size_t counts[3], failed, known;
    double t0;
    results_index *index;
} run;

static void on_done(size_t i, void *ctx)
{
    run *r = ctx;
    item *it = &r->items->items[i];
    if (it->error) {
        r->failed++;
        progress_clear();
        fputs(PROG ": ", stderr);
        put_readable(stderr, it->path);
        fputs(": ", stderr);
        put_readable(stderr, it->error);
        fputc('\n', stderr);
    } else {
        r->counts[it->verdict]++;
        r->known += it->from_index;
        index_store(r->index, r->o, it);
    }
    if (!r->o->group) output_item(r->o, it);
    progress_show(i + 1, r->items->n, now() - r->t0);
}

/* The last line, for people: "12 photos: 8 sharp, 2 unsure, 2 blurry, 1 failed in 1.5 s
 * (8.0 photos/s)"; the rate only when a photo was judged; how many the index knew, if any. */
static void summary(const run *r, double secs, int action_failures)
{
    size_t judged = r->items->n - r->failed;
    fprintf(stderr, PROG ": %zu photo%s: %zu sharp, %zu unsure, %zu blurry, %zu failed", judged, judged == 1 ? "" : "s",
            r->counts[UNSHARP_VERDICT_SHARP], r->counts[UNSHARP_VERDICT_UNSURE], r->counts[UNSHARP_VERDICT_BLURRY],
            r->failed);
    if (action_failures) fprintf(stderr, ", %d not acted on", action_failures);
    fprintf(stderr, " in %.1f s", secs);
    if (judged && secs > 0) fprintf(stderr, " (%.1f photos/s)", judged / secs);
    if (r->known) fprintf(stderr, "; %zu known from the index, %zu judged", r->known, judged - r->known);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"format", required_argument, 0, 'f'}, {"threshold", required_argument, 0, 't'},
        {"unsure", required_argument, 0, 'u'}, {"weights", required_argument, 0, 'w'},
        {"jobs", required_argument, 0, 'j'},   {"select", required_argument, 0, 1},
        {"trash", no_argument, 0, 2},          {"move-to", required_argument, 0, 3},
        {"xmp", no_argument, 0, 4},            {"dry-run", no_argument, 0, 'n'},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},      {"device", required_argument, 0, 5},
        {"no-group", no_argument, 0, 6},       {"group-gap", required_argument, 0, 7},
        {"group-likeness", required_argument, 0, 8}, {"index", required_argument, 0, 9},
        {"no-index", no_argument, 0, 10},      {"files-from", required_argument, 0, 11},
        {"null", no_argument, 0, 12},          {"shard", required_argument, 0, 13},
        {0, 0, 0, 0}};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    options o = {.format = FORMAT_TABLE, .threshold = 0.5, .unsure = 0.1, .jobs = cores > 0 ? (int)cores : 1,
                 .device = UNSHARP_DEVICE_AUTO, .group = 1, .keep_best = 1};
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "f:t:u:w:j:nqhV", longs, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "table") == 0) o.format = FORMAT_TABLE;
            else if (strcmp(optarg, "jsonl") == 0) o.format = FORMAT_JSONL;
            else if (strcmp(optarg, "csv") == 0) o.format = FORMAT_CSV;
            else return bad_usage("--format must be table, jsonl or csv, not '%s'", optarg);
            break;
        case 't':
            if (parse_number(optarg, 0, 1, &o.threshold)) return bad_usage("--threshold must be in 0..1, not '%s'", optarg);
            o.threshold_set = 1;
            break;
        case 'u':
            if (parse_number(optarg, 0, 1, &o.unsure)) return bad_usage("--unsure must be in 0..1, not '%s'", optarg);
            o.unsure_set = 1;
            break;
        case 'w': o.weights = optarg; break;
        case 'j':
            if (parse_number(optarg, 1, 1024, &v) || v != floor(v))
                return bad_usage("--jobs must be a whole number from 1 to 1024, not '%s'", optarg);
            o.jobs = (int)v;
            break;
        case 1:
            if (strcmp(optarg, "blurry") == 0) o.select = SEL_BLURRY;
            else if (strcmp(optarg, "unsure") == 0) o.select = SEL_UNSURE;
            else if (strcmp(optarg, "all-but-best") == 0) o.select = SEL_BURST_REST, o.keep_best = 1;
            else if (strncmp(optarg, "all-but-best=", 13) == 0 && parse_number(optarg + 13, 1, 1e6, &v) == 0 &&
                     v == floor(v))
                o.select = SEL_BURST_REST, o.keep_best = (int)v;
            else return bad_usage("--select must be blurry, unsure or all-but-best[=N] (N from 1), not '%s'", optarg);
            break;
        case 2:
            if (o.remove == ACT_MOVE) return bad_usage("%s", "--trash and --move-to exclude each other");
            o.remove = ACT_TRASH;
            break;
        case 3:
            if (o.remove == ACT_TRASH) return bad_usage("%s", "--trash and --move-to exclude each other");
            if (!*optarg) return bad_usage("%s", "--move-to needs a folder");
            o.remove = ACT_MOVE;
            o.move_to = optarg;
            break;
        case 4: o.xmp = 1; break;
        case 5:
            if (strcmp(optarg, "cpu") == 0) o.device = UNSHARP_DEVICE_CPU;
            else if (strcmp(optarg, "cuda") == 0) o.device = UNSHARP_DEVICE_CUDA;
            else if (strcmp(optarg, "auto") == 0) o.device = UNSHARP_DEVICE_AUTO;
            else return bad_usage("--device must be cpu, cuda or auto, not '%s'", optarg);
            break;
        case 6: o.group = 0; break;
        case 7:
            if (parse_number(optarg, 0, 86400, &v)) return bad_usage("--group-gap must be 0 to 86400 seconds, not '%s'", optarg);
            o.grouping.gap_seconds = v > 0 ? v : 1e-9; /* 0 in the options means the default */
            break;
        case 8:
            if (parse_number(optarg, 0, 1, &v) || v <= 0)
                return bad_usage("--group-likeness must be above 0 and at most 1, not '%s'", optarg);
            o.grouping.likeness = (float)v;
            break;
        case 9:
            if (!*optarg) return bad_usage("%s", "--index needs a folder");
            o.index_dir = optarg;
            break;
        case 10: o.no_index = 1; break;
        case 11: o.files_from = optarg; break;
        case 12: o.null_names = 1; break;
        case 13: {
            int k, n, used = 0;
            if (sscanf(optarg, "%d/%d%n", &k, &n, &used) != 2 || optarg[used] || n < 1 || k < 1 || k > n)
                return bad_usage("--shard must be K/N with 1 <= K <= N, not '%s'", optarg);
            o.shard_k = k, o.shard_n = n;
            break;
        }
        case 'n': o.dry_run = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(PROG " " UNSHARP_VERSION_STRING "\n"); return 0;
        default: fprintf(stderr, "Try '" PROG " --help' for more information.\n"); return 2;
        }
    }
    if (optind >= argc && !o.files_from) return bad_usage("%s", "no PATH given");
    if (o.null_names && !o.files_from) return bad_usage("%s", "--null goes with --files-from");
    if (o.select == SEL_BURST_REST && !o.group) return bad_usage("%s", "--select all-but-best needs the groups (no --no-group)");

    /* the model: found, loadable, and its thresholds as the default bands */
    char found[4096];
    const char *weights = o.weights;
    if (!weights) {
        if (unsharp_default_weights(found, sizeof found) != UNSHARP_OK) {
            fprintf(stderr, PROG ": %s\n", unsharp_errmsg());
            return 2;
        }
        weights = found;
    }
    unsharp_model_options mo = {.device = o.device, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(weights, &mo, &m) != UNSHARP_OK) {
        fprintf(stderr, PROG ": %s\n", unsharp_errmsg());
        return 2;
    }
    const char *ms = unsharp_model_get_meta(m, "threshold.sharp"), *mb = unsharp_model_get_meta(m, "threshold.blurry");
    double sharp_at = ms ? atof(ms) : 0, blurry_below = mb ? atof(mb) : 0;
    if (ms && mb && blurry_below > 0 && sharp_at <= 1 && blurry_below <= sharp_at) {
        if (!o.threshold_set) o.threshold = (sharp_at + blurry_below) / 2;
        if (!o.unsure_set) o.unsure = (sharp_at - blurry_below) / 2;
    }
    unsharp_model_free(m);

    /* the photos: the PATHs, then the names in --files-from; then this shard's folders */
    item_list items = {0};
    char **from = NULL, err[512];
    int nfrom = 0;
    if (o.files_from && read_names(o.files_from, o.null_names, &from, &nfrom, err, sizeof err)) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    int scanned = scan_paths(argv + optind, argc - optind, &items) == 0 && scan_paths(from, nfrom, &items) == 0;
    for (int i = 0; i < nfrom; i++) free(from[i]);
    free(from);
    if (!scanned) {
        fprintf(stderr, PROG ": out of memory\n");
        item_list_free(&items);
        return 2;
    }
    if (o.shard_n) shard_filter(&items, o.shard_k, o.shard_n);

    /* what the index knows is not judged again */
    run r = {.o = &o, .items = &items, .t0 = now(), .index = index_open(&o, weights)};
    for (size_t i = 0; r.index && i < items.n; i++) index_lookup(r.index, &o, &items.items[i]);
    output_begin(&o);
    int rc = pipeline_run(&o, weights, &items, on_done, &r);
    index_close(r.index);
    if (rc || (o.group && groups_run(&o, &items))) {
        item_list_free(&items);
        return 2;
    }
    progress_clear();
    double secs = now() - r.t0;
    /* with groups, the results come once all are judged: the table shows each group together */
    if (o.group) {
        size_t *ord = o.format == FORMAT_TABLE ? groups_table_order(&items) : NULL;
        for (size_t i = 0; i < items.n; i++) output_item(&o, &items.items[ord ? ord[i] : i]);
        free(ord);
    }
    /* the results are out before anything is acted on; when they cannot be, nothing is */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int e = output_errno() ? output_errno() : errno;
        fprintf(stderr, PROG ": cannot write the results: %s; no action taken\n", strerror(e));
        item_list_free(&items);
        return 2;
    }
    int action_failures = actions_run(&o, &items);
    unsharp_xmp_done();
    if (!o.quiet) summary(&r, secs, action_failures);
    item_list_free(&items);
    return r.failed || action_failures ? 1 : 0;
}
