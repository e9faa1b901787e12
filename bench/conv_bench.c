/* conv_bench.c: GFLOPS of the CPU backend's conv2d forward, backward-data and backward-filter
 * for every convolution of a network, beside cblas_sgemm measured in the same run: once on a
 * large square product (the machine's practical peak) and once on the same GEMM shape that
 * each convolution lowers to.
 *
 * usage: conv_bench [--arch FILE] [--threads T] [--seconds S]
 * Shapes: inference on one 1088x1632 image (1.8 MP) and training on 16 crops of 256x256.
 * The totals count what training runs: forward, backward-filter, and backward-data except for
 * a convolution on the model input, whose data gradient the model never computes. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "model.h"

static double min_seconds = 0.3;

/* Best time of 3 rounds, each repeating fn until min_seconds/3 pass. */
#define TIME_BEST(result, stmt)                                          \
    do {                                                                 \
        double best_ = 1e30;                                             \
        for (int round_ = 0; round_ < 3; round_++) {                     \
            int reps_ = 0;                                               \
            double t0_ = bench_now(), t1_;                                     \
            do { stmt; reps_++; } while ((t1_ = bench_now()) - t0_ < min_seconds / 3); \
            if ((t1_ - t0_) / reps_ < best_) best_ = (t1_ - t0_) / reps_;   \
        }                                                                \
        result = best_;                                                  \
    } while (0)

static float *randbuf(size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (!p) { fprintf(stderr, "conv_bench: out of memory\n"); exit(2); }
    for (size_t i = 0; i < n; i++) p[i] = (float)((double)rand() / RAND_MAX - 0.5);
    return p;
}

static double sgemm_gflops(int m, int n, int k, int batch)
{
    float *a = randbuf((size_t)m * k), *b = randbuf((size_t)k * n), *c = randbuf((size_t)m * n);
    double t;
    TIME_BEST(t, for (int i = 0; i < batch; i++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n));
    free(a); free(b); free(c);
    return 2.0 * m * n * (double)k * batch / t * 1e-9;
}

static void bench_config(const char *arch, int threads, int n, int h, int w, const char *label,
                         double peak, double *sum_flops, double *sum_time)
{
    unsharp_model *m = NULL;
    unsharp_model_options opt = {UNSHARP_DEVICE_CPU, threads};
    if (unsharp_model_create(arch, 1, &opt, &m) != UNSHARP_OK) { fprintf(stderr, "conv_bench: %s\n", unsharp_errmsg()); exit(2); }
    int cin = m->layers[0].c;
    float *x = randbuf((size_t)n * cin * h * w);
    unsharp_tensor t = unsharp_tensor_make(x, n, cin, h, w);
    if (unsharp_model_forward(m, &t, 0) != UNSHARP_OK) { fprintf(stderr, "conv_bench: %s\n", unsharp_model_errmsg(m)); exit(2); }
    unsharp_backend *be = m->be;
    printf("\n%s: input (%d, %d, %d, %d), %d thread%s\n\n", label, n, cin, h, w, threads, threads > 1 ? "s" : "");
    printf("| layer | x (N,C,H,W) | out, k, s | GEMM M×N×K | fwd GFLOPS | bwd-data | bwd-filter | sgemm same shape | share of peak sgemm | share of same-shape sgemm |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 1; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (strcmp(L->kind->name, "conv") != 0) continue;
        unsharp_layer *in = &m->layers[L->in[0]];
        unsharp_conv_shape s = {in->n, in->c, in->h, in->w, L->out, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, L->h, L->w};
        size_t xs = (size_t)s.n * s.cin * s.h * s.w, ys = (size_t)s.n * s.cout * s.oh * s.ow;
        size_t ws = (size_t)s.cout * s.cin * s.kh * s.kw;
        float *cx = randbuf(xs), *cw = randbuf(ws), *cy = randbuf(ys), *cdy = randbuf(ys), *cdx = randbuf(xs), *cdw = randbuf(ws);
        void *work = malloc(be->conv_workspace(be, &s) + 64);
        double flops = 2.0 * s.n * s.cout * s.oh * s.ow * (double)s.cin * s.kh * s.kw;
        double tf, td, tw;
        TIME_BEST(tf, be->conv2d_forward(be, &s, cx, cw, NULL, cy, NULL, 0.0f, work));
        TIME_BEST(td, be->conv2d_backward_data(be, &s, cdy, cw, cdx, 1, work));
        TIME_BEST(tw, be->conv2d_backward_filter(be, &s, cx, cdy, cdw, work));
        int gm = s.cout, gn = s.oh * s.ow, gk = s.cin * s.kh * s.kw;
        double same = sgemm_gflops(gm, gn, gk, s.n);
        int data_grad = L->in[0] != 0; /* the model computes no gradient for its input */
        double f_all = (data_grad ? 3 : 2) * flops, t_all = tf + tw + (data_grad ? td : 0);
        double rate = f_all / t_all * 1e-9;
        printf("| %s | (%d,%d,%d,%d) | %d, %dx%d, %d | %d×%d×%d | %.1f | %.1f%s | %.1f | %.1f | %.0f %% | %.0f %% |\n", L->name,
               s.n, s.cin, s.h, s.w, s.cout, s.kh, s.kw, s.sh, gm, gn, gk, flops / tf * 1e-9, flops / td * 1e-9,
               data_grad ? "" : " (not run)", flops / tw * 1e-9, same, 100 * rate / peak, 100 * rate / same);
        sum_flops[0] += f_all;
        sum_time[0] += t_all;
        sum_time[1] += f_all / (same * 1e9); /* what sgemm would take on the same shapes */
        free(cx); free(cw); free(cy); free(cdy); free(cdx); free(cdw); free(work);
    }
    free(x);
    unsharp_model_free(m);
}

int main(int argc, char **argv)
{
    const char *arch_path = UNSHARP_SOURCE_DIR "/weights/unsharp-v2.arch";
    int threads = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) arch_path = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) min_seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: conv_bench [--arch FILE] [--threads T] [--seconds S]\n");
            return 2;
        }
    }
    const char *arch = bench_read_arch(arch_path);
    openblas_set_num_threads(threads);
    double peak = sgemm_gflops(1024, 1024, 1024, 1);
    printf("conv_bench: %s, OpenBLAS %s\n", arch_path, openblas_get_config());
    printf("cblas_sgemm 1024x1024x1024 (%d thread%s): %.1f GFLOPS (the peak the conv layers are compared with)\n", threads,
           threads > 1 ? "s" : "", peak);
    const char *label[2] = {"inference-sized (1 x 1.8 MP)", "training batch (16 x 256x256)"};
    for (int c = 0; c < 2; c++) {
        double f[1] = {0}, t[2] = {0, 0};
        if (c == 0) bench_config(arch, threads, 1, 1088, 1632, "inference, one 1.8 MP image", peak, f, t);
        else bench_config(arch, threads, 16, 256, 256, "training batch, 16 crops of 256x256", peak, f, t);
        printf("\nAll conv layers, %s, fwd + bwd: %.1f GFLOPS = %.0f %% of peak sgemm, %.0f %% of sgemm on the same shapes\n",
               label[c], f[0] / t[0] * 1e-9, 100 * f[0] / t[0] * 1e-9 / peak, 100 * t[1] / t[0]);
    }
    return 0;
}
