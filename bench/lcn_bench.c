/* lcn_bench.c: milliseconds of the CPU backend's local contrast normalisation (forward without
 * and with the statistics that training keeps, and backward) on one plane the size of a photo
 * at the working size, on the calling thread, best of 5 rounds: wall time, and the thread's CPU
 * time (which leaves out the time the thread waited for a core on a busy machine). The
 * reference, in the same run: the inference forward of the shipped network
 * (weights/unsharp-v2.arch) and of weights/experiments/lcn.arch on the same plane, one thread.
 *
 * usage: lcn_bench [--size WxH] [--k K] [--eps E] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "cpu/cpu_ops.h"
#include "unsharp/unsharp.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void ok(unsharp_status st, const char *what, const char *err)
{
    if (st != UNSHARP_OK) {
        fprintf(stderr, "lcn_bench: %s: %s\n", what, err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int w = 1600, h = 1200, k = 15;
    float eps = 0.02f;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--size") && sscanf(argv[i + 1], "%dx%d", &w, &h) == 2) continue;
        if (!strcmp(argv[i], "--k")) { k = atoi(argv[i + 1]); continue; }
        if (!strcmp(argv[i], "--eps")) { eps = (float)atof(argv[i + 1]); continue; }
        fprintf(stderr, "usage: lcn_bench [--size WxH] [--k K] [--eps E]\n");
        return 2;
    }
    char err[UNSHARP_ERRMSG_MAX] = "";
    unsharp_backend *be = NULL;
    ok(unsharp__cpu_backend_create(1, err, &be), "backend", err);
    size_t n = (size_t)w * h;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *stats = malloc(2 * n * sizeof *stats),
          *dy = malloc(n * sizeof *dy), *dx = malloc(n * sizeof *dx);
    void *work = malloc(be->lcn_workspace(be, 1, h, w, k));
    if (!x || !y || !stats || !dy || !dx || !work) { fprintf(stderr, "lcn_bench: out of memory\n"); return 2; }
    srand(1);
    for (size_t i = 0; i < n; i++) x[i] = (float)rand() / RAND_MAX, dy[i] = (float)rand() / RAND_MAX - 0.5f;

    const char *names[3] = {"forward (inference)", "forward (training, keeps statistics)", "backward"};
    for (int op = 0; op < 3; op++) {
        double best = 1e30, best_cpu = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = bench_now(), c0 = thread_cpu();
            if (op == 0) ok(be->lcn_forward(be, x, y, NULL, 1, h, w, k, eps, work), "forward", err);
            if (op == 1) ok(be->lcn_forward(be, x, y, stats, 1, h, w, k, eps, work), "forward", err);
            if (op == 2) ok(be->lcn_backward(be, x, stats, dy, dx, 0, 1, h, w, k, eps, work), "backward", err);
            double t = bench_now() - t0, c = thread_cpu() - c0;
            if (t < best) best = t;
            if (c < best_cpu) best_cpu = c;
        }
        printf("lcn %dx%d k=%d %-38s %7.2f ms wall %7.2f ms CPU\n", w, h, k, names[op], best * 1e3, best_cpu * 1e3);
    }
    const char *archs[2] = {UNSHARP_SOURCE_DIR "/weights/unsharp-v2.arch",
                            UNSHARP_SOURCE_DIR "/weights/experiments/lcn.arch"};
    for (int a = 0; a < 2; a++) {
        unsharp_model *m = NULL;
        unsharp_model_options mo = {UNSHARP_DEVICE_CPU, 1};
        ok(unsharp_model_create(bench_read_arch(archs[a]), 1, &mo, &m), archs[a], unsharp_errmsg());
        unsharp_tensor t = unsharp_tensor_make(x, 1, 1, h, w);
        double best = 1e30, best_cpu = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = bench_now(), c0 = thread_cpu();
            ok(unsharp_model_forward(m, &t, 0), "network forward", unsharp_model_errmsg(m));
            double tt = bench_now() - t0, c = thread_cpu() - c0;
            if (tt < best) best = tt;
            if (c < best_cpu) best_cpu = c;
        }
        printf("network forward %-50s %7.2f ms wall %7.2f ms CPU\n", strrchr(archs[a], '/') + 1, best * 1e3,
               best_cpu * 1e3);
        unsharp_model_free(m);
    }
    free(x); free(y); free(stats); free(dy); free(dx); free(work);
    be->destroy(be);
    return 0;
}
