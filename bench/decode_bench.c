/* decode_bench.c: photo decode speed of unsharp_image_load at the working size, one process.
 * Decodes every *.jpg / *.jpeg in DIR (sorted by name) to LUMA8 at the given long side and
 * prints the file count, the total seconds and the median ms per image. --shard I/N decodes
 * only the files whose index is I modulo N, so N processes can split a directory. --all takes
 * every file in DIR whatever its name (bench/formats_bench.sh: one photo in each format).
 *
 * usage: decode_bench DIR [LONG_SIDE (1600)] [--shard I/N] [--rgb] [--all] */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unsharp/unsharp.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int is_jpeg_name(const char *n)
{
    const char *dot = strrchr(n, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int long_side = 1600, shard = 0, shards = 1, have_side = 0, all = 0;
    unsharp_pixel_format fmt = UNSHARP_PIXEL_LUMA8;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--shard") && i + 1 < argc) {
            if (sscanf(argv[++i], "%d/%d", &shard, &shards) != 2 || shards < 1 || shard < 0 || shard >= shards) {
                fprintf(stderr, "decode_bench: bad --shard %s (want I/N, 0 <= I < N)\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--rgb")) {
            fmt = UNSHARP_PIXEL_RGB8;
        } else if (!strcmp(argv[i], "--all")) {
            all = 1;
        } else if (!dir) {
            dir = argv[i];
        } else if (!have_side) {
            long_side = atoi(argv[i]);
            have_side = 1;
        } else {
            dir = NULL;
            break;
        }
    }
    if (!dir || long_side < 0) {
        fprintf(stderr, "usage: decode_bench DIR [LONG_SIDE (1600)] [--shard I/N] [--rgb] [--all]\n");
        return 2;
    }

    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 2;
    }
    size_t n = 0, cap = 0;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (all ? e->d_name[0] == '.' : !is_jpeg_name(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *names);
            if (!p) { fprintf(stderr, "decode_bench: out of memory\n"); return 2; }
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);

    double *ms = malloc((n ? n : 1) * sizeof *ms);
    size_t done = 0;
    int failed = 0;
    unsharp_image_options o = {0};
    o.format = fmt;
    o.long_side = long_side;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        if ((int)(i % (size_t)shards) != shard) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsharp_image *img = NULL;
        double a = now();
        unsharp_status st = unsharp_image_load(path, &o, &img);
        double b = now();
        if (st != UNSHARP_OK) {
            fprintf(stderr, "decode_bench: %s: %s\n", unsharp_status_name(st), unsharp_errmsg());
            failed++;
            continue;
        }
        unsharp_image_free(img);
        ms[done++] = (b - a) * 1e3;
    }
    double total = now() - t0;
    qsort(ms, done, sizeof *ms, cmp_dbl);
    double median = !done ? 0 : done % 2 ? ms[done / 2] : (ms[done / 2 - 1] + ms[done / 2]) / 2;
    printf("files %zu  total_s %.3f  median_ms %.2f  long_side %d  format %s  shard %d/%d%s\n", done, total,
           median, long_side, fmt == UNSHARP_PIXEL_LUMA8 ? "LUMA8" : "RGB8", shard, shards,
           failed ? "  (some files failed)" : "");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(ms);
    return failed ? 1 : 0;
}
