/* judge_bench.c: time per photo of what unsharp-classify does for each photo, in one process
 * on one thread: unsharp_image_load to LUMA8 at the working long side, then unsharp_judge with
 * the default weights (or WEIGHTS). Prints the file count and the median ms per photo of the
 * decode, of the judging and of both, and the mean of both, which the total time follows
 * (bench/classify_speed.sh reports them). Times are the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID): the engine runs on the calling thread here, and
 * CPU time does not count the waits when other programs share the cores.
 *
 * usage: judge_bench DIR [WEIGHTS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unsharp/files.h>
#include <unsharp/unsharp.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return !n ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: judge_bench DIR [WEIGHTS]\n");
        return 2;
    }
    char found[4096];
    const char *weights = argc > 2 ? argv[2] : NULL;
    if (!weights) {
        if (unsharp_default_weights(found, sizeof found) != UNSHARP_OK) {
            fprintf(stderr, "judge_bench: %s\n", unsharp_errmsg());
            return 2;
        }
        weights = found;
    }
    unsharp_model_options mo = {.device = UNSHARP_DEVICE_CPU, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(weights, &mo, &m) != UNSHARP_OK) {
        fprintf(stderr, "judge_bench: %s\n", unsharp_errmsg());
        return 2;
    }
    size_t n = 0;
    char **names = NULL;
    if (unsharp_list_photos(argv[1], &names, &n) != 0) {
        perror(argv[1]);
        return 2;
    }

    double *dec = malloc((n + 1) * sizeof *dec), *jud = malloc((n + 1) * sizeof *jud),
           *all = malloc((n + 1) * sizeof *all);
    size_t done = 0;
    int failed = 0;
    unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    unsharp_judge_options jo = {0};
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        unsharp_image *img = NULL;
        unsharp_judgement j = {0};
        double a = cpu_now();
        if (unsharp_image_load(path, &io, &img) != UNSHARP_OK) {
            fprintf(stderr, "judge_bench: %s\n", unsharp_errmsg());
            failed++;
            continue;
        }
        double b = cpu_now();
        unsharp_status st = unsharp_judge(m, img, &jo, &j);
        double c = cpu_now();
        unsharp_image_free(img);
        unsharp_judgement_free(&j);
        if (st != UNSHARP_OK) {
            fprintf(stderr, "judge_bench: %s: %s\n", path, unsharp_model_errmsg(m));
            failed++;
            continue;
        }
        dec[done] = (b - a) * 1e3;
        jud[done] = (c - b) * 1e3;
        all[done++] = (c - a) * 1e3;
    }
    double sum = 0;
    for (size_t i = 0; i < done; i++) sum += all[i];
    printf("files %zu  decode_median_cpu_ms %.1f  judge_median_cpu_ms %.1f  both_median_cpu_ms %.1f  both_mean_cpu_ms %.1f%s\n",
           done, median(dec, done), median(jud, done), median(all, done), done ? sum / done : 0.0,
           failed ? "  (some files failed)" : "");
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    free(dec);
    free(jud);
    free(all);
    unsharp_model_free(m);
    return failed ? 1 : 0;
}
