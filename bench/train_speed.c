/* train_speed.c: training throughput of the engine, in samples per second.
 *
 * usage: train_speed [--arch FILE] [--threads T] [--batch B] [--crop C] [--steps N]
 *                    [--seconds S] [--device cpu|cuda] [--seed S] [--layers]
 * Defaults: weights/unsharp-v2.arch, 1 thread, 16 crops of 256x256, 20 timed steps, cpu.
 *
 * --layers then times the parts of a step (the batch's upload alone, forward, backward, the
 * optimiser), and, on the same backend, a square sgemm (2048 on CUDA, 512 on the CPU) and
 * each convolution layer of the network at the batch's shapes (forward, backward data and
 * backward filter), and prints each one's GFLOP/s and its share of the sgemm rate: on a GPU,
 * the conv layers' share of the measured cuBLAS sgemm rate.
 *
 * One step is what a trainer does per batch: set the loss targets, zero_grad, forward
 * (training=1), backward, Adam step. The batch is random luma in [0, 1); the targets are
 * random: 0/1 for sigmoid_ce layers (e.g. the per-tile sharpness), class indices for
 * softmax_ce layers (e.g. the image label), all weights 1. Two warm-up steps run first
 * (activation memory, optimiser state, caches), then N steps are timed, or as many as fit in
 * S seconds with --seconds (at least one). bench/train_speed.py times PyTorch the same way;
 * bench/train_speed.sh runs both and prints the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"
#include "model.h"

static void die_model(unsharp_model *m, const char *what)
{
    fprintf(stderr, "train_speed: %s: %s\n", what, m ? unsharp_model_errmsg(m) : unsharp_errmsg());
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "train_speed: out of memory\n"); exit(2); }
    return p;
}

/* xorshift64*: a fixed, portable stream for the data. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return ((rng * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct loss_target {
    const char *name;
    float *target;
    size_t count;
} loss_target;

static void usage(void)
{
    fprintf(stderr, "usage: train_speed [--arch FILE] [--threads T] [--batch B] [--crop C] [--steps N]\n"
                    "                   [--seconds S] [--device cpu|cuda] [--seed S] [--layers]\n");
    exit(2);
}

static void check(unsharp_backend *be, unsharp_status st, const char *what)
{
    if (st == UNSHARP_OK) return;
    fprintf(stderr, "train_speed: %s: %s\n", what, be->errbuf);
    exit(2);
}

/* Waits for the backend's queued work: a download returns after everything before it. */
static void sync_be(unsharp_backend *be, const float *d)
{
    float h;
    check(be, be->download(be, &h, d, sizeof h), "download");
}

static void *balloc(unsharp_backend *be, size_t bytes, float value)
{
    void *p = NULL;
    check(be, be->alloc(be, bytes ? bytes : 4, &p), "alloc");
    if (bytes >= sizeof(float)) check(be, be->fill(be, p, value, bytes / sizeof(float)), "fill");
    return p;
}

/* GFLOP/s of a square sgemm of size n on the backend: the reference rate. */
static double sgemm_rate(unsharp_backend *be, int n)
{
    size_t nn = (size_t)n * n * sizeof(float);
    float *a = balloc(be, nn, 0.01f), *b = balloc(be, nn, 0.02f), *c = balloc(be, nn, 0.0f);
    check(be, be->gemm(be, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n), "gemm");
    sync_be(be, c);
    int reps = 0;
    double t0 = bench_now(), t1;
    do {
        check(be, be->gemm(be, 0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n), "gemm");
        reps++;
        if (reps % 4 == 0) sync_be(be, c);
        t1 = bench_now();
    } while (reps < 4 || t1 - t0 < 0.5);
    sync_be(be, c);
    t1 = bench_now();
    be->release(be, a); be->release(be, b); be->release(be, c);
    return 2.0 * n * n * (double)n * reps / (t1 - t0) * 1e-9;
}

/* Seconds per call of one convolution direction (0 forward, 1 backward data, 2 backward filter). */
static double conv_time(unsharp_backend *be, const unsharp_conv_shape *s, int dir, float *x, float *w, float *y,
                        float *dx, float *dw, void *work)
{
    int reps = 0;
    double t0 = 0, t1 = 0;
    for (int k = -1;; k++) { /* k = -1: warm-up */
        if (k == 0) { sync_be(be, y); t0 = bench_now(); }
        if (dir == 0) check(be, be->conv2d_forward(be, s, x, w, NULL, y, NULL, 0.0f, work), "conv2d_forward");
        else if (dir == 1) check(be, be->conv2d_backward_data(be, s, y, w, dx, 0, work), "conv2d_backward_data");
        else check(be, be->conv2d_backward_filter(be, s, x, y, dw, work), "conv2d_backward_filter");
        if (k < 0) continue;
        reps++;
        sync_be(be, dir == 0 ? y : dir == 1 ? dx : dw);
        t1 = bench_now();
        if (reps >= 3 && t1 - t0 > 0.3) break;
    }
    return (t1 - t0) / reps;
}

/* Where a step's time goes: milliseconds per step of the batch's upload alone, of forward (its
 * upload, targets and losses included), backward and the optimiser step, each followed by a
 * wait for the device, over `reps` steps (so the parts add up to more than a step). */
static void phase_report(unsharp_model *m, const unsharp_tensor *t, const loss_target *tg, int n_tg, int reps)
{
    unsharp_backend *be = m->be;
    size_t bytes = (size_t)t->n * t->c * t->h * t->w * sizeof(float);
    float *d = balloc(be, bytes, 0.0f), *sync = m->param_mem;
    double ms[4] = {0, 0, 0, 0}, t0;
    for (int r = 0; r < reps; r++) {
        sync_be(be, sync);
        t0 = bench_now();
        check(be, be->upload(be, d, t->data, bytes), "upload");
        sync_be(be, d);
        ms[0] += bench_now() - t0;
        for (int k = 0; k < n_tg; k++)
            if (unsharp_model_set_target(m, tg[k].name, tg[k].target, NULL, tg[k].count) != UNSHARP_OK)
                die_model(m, "set_target");
        if (unsharp_model_zero_grad(m) != UNSHARP_OK) die_model(m, "zero_grad");
        sync_be(be, sync);
        t0 = bench_now();
        if (unsharp_model_forward(m, t, 1) != UNSHARP_OK) die_model(m, "forward");
        sync_be(be, sync);
        ms[1] += bench_now() - t0;
        t0 = bench_now();
        if (unsharp_model_backward(m) != UNSHARP_OK) die_model(m, "backward");
        sync_be(be, sync);
        ms[2] += bench_now() - t0;
        t0 = bench_now();
        if (unsharp_model_step(m) != UNSHARP_OK) die_model(m, "step");
        sync_be(be, sync);
        ms[3] += bench_now() - t0;
    }
    be->release(be, d);
    printf("\nper step (ms, each part waited for): upload of the batch alone %.3f (%.1f GB/s), forward with "
           "upload and losses %.3f, backward %.3f, optimiser %.3f\n",
           ms[0] / reps * 1e3, bytes / (ms[0] / reps) * 1e-9, ms[1] / reps * 1e3, ms[2] / reps * 1e3,
           ms[3] / reps * 1e3);
}

/* Times every convolution layer of m at its current shapes, beside the sgemm rate. */
static void layer_report(unsharp_model *m, const char *device)
{
    unsharp_backend *be = m->be;
    int n = strcmp(be->name, "cuda") == 0 ? 2048 : 512;
    double ref = sgemm_rate(be, n);
    printf("\nsgemm %dx%dx%d on %s: %.1f GFLOP/s\n", n, n, n, device, ref);
    printf("| layer | shape (n, cin, h, w) -> (cout, oh, ow), k, s | forward GFLOP/s | backward data | backward filter | share of sgemm (all three) |\n");
    printf("|---|---|---|---|---|---|\n");
    const unsharp_layer_kind *conv = unsharp__layer_kind("conv");
    double total_flop = 0, total_s = 0;
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (L->kind != conv) continue;
        unsharp_layer *X = unsharp__input(m, L, 0);
        unsharp_conv_shape s = {X->n, X->c, X->h, X->w, L->out, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, L->h, L->w};
        size_t nx = (size_t)s.n * s.cin * s.h * s.w, ny = (size_t)s.n * s.cout * s.oh * s.ow;
        size_t nw = (size_t)s.cout * s.cin * s.kh * s.kw;
        float *x = balloc(be, nx * 4, 0.5f), *dx = balloc(be, nx * 4, 0.0f), *y = balloc(be, ny * 4, 0.01f);
        float *w = balloc(be, nw * 4, 0.01f), *dw = balloc(be, nw * 4, 0.0f);
        void *work = balloc(be, be->conv_workspace(be, &s), 0.0f);
        double flop = 2.0 * s.n * s.cout * s.oh * s.ow * (double)s.cin * s.kh * s.kw, t[3];
        for (int d = 0; d < 3; d++) t[d] = conv_time(be, &s, d, x, w, y, dx, dw, work);
        double share = 3 * flop / (t[0] + t[1] + t[2]) * 1e-9 / ref;
        printf("| %s | (%d, %d, %d, %d) -> (%d, %d, %d), %dx%d, %d | %.1f | %.1f | %.1f | %.0f%% |\n", L->name, s.n,
               s.cin, s.h, s.w, s.cout, s.oh, s.ow, s.kh, s.kw, s.sh, flop / t[0] * 1e-9, flop / t[1] * 1e-9,
               flop / t[2] * 1e-9, share * 100);
        total_flop += 3 * flop;
        total_s += t[0] + t[1] + t[2];
        be->release(be, x); be->release(be, dx); be->release(be, y); be->release(be, w); be->release(be, dw);
        be->release(be, work);
    }
    if (total_s > 0)
        printf("all conv layers: %.1f GFLOP/s, %.0f%% of the sgemm rate\n", total_flop / total_s * 1e-9,
               total_flop / total_s * 1e-9 / ref * 100);
}

int main(int argc, char **argv)
{
    const char *arch_path = UNSHARP_SOURCE_DIR "/weights/unsharp-v2.arch";
    const char *device = "cpu";
    int threads = 1, batch = 16, crop = 256, steps = 20, warmup = 2;
    double seconds = 0;
    uint64_t seed = 1;
    int layers = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--arch") == 0 && more) arch_path = argv[++i];
        else if (strcmp(a, "--threads") == 0 && more) threads = atoi(argv[++i]);
        else if (strcmp(a, "--batch") == 0 && more) batch = atoi(argv[++i]);
        else if (strcmp(a, "--crop") == 0 && more) crop = atoi(argv[++i]);
        else if (strcmp(a, "--steps") == 0 && more) steps = atoi(argv[++i]);
        else if (strcmp(a, "--seconds") == 0 && more) seconds = atof(argv[++i]);
        else if (strcmp(a, "--device") == 0 && more) device = argv[++i];
        else if (strcmp(a, "--seed") == 0 && more) seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--layers") == 0) layers = 1;
        else usage();
    }
    if (threads < 1 || batch < 1 || crop < 1 || steps < 1 || seconds < 0) usage();
    unsharp_model_options opt = {UNSHARP_DEVICE_CPU, threads};
    if (strcmp(device, "cuda") == 0) opt.device = UNSHARP_DEVICE_CUDA;
    else if (strcmp(device, "cpu") != 0) usage();

    const char *arch = bench_read_arch(arch_path);
    unsharp_model *m = NULL;
    unsharp_status st = unsharp_model_create(arch, seed, &opt, &m);
    if (st != UNSHARP_OK) {
        if (opt.device == UNSHARP_DEVICE_CUDA) {
            fprintf(stderr, "train_speed: no CUDA backend (%s: %s)\n", unsharp_status_name(st), unsharp_errmsg());
            return 2;
        }
        die_model(NULL, arch_path);
    }

    /* The batch: random luma crops. */
    int cin = m->layers[0].c;
    size_t nx = (size_t)batch * cin * crop * crop;
    float *x = xmalloc(nx * sizeof *x);
    rng ^= seed * 0xD1B54A32D192ED03ull;
    for (size_t i = 0; i < nx; i++) x[i] = (float)urand();
    unsharp_tensor t = unsharp_tensor_make(x, batch, cin, crop, crop);

    /* Shapes of the loss layers' inputs come from one inference pass; then random targets. */
    if (unsharp_model_forward(m, &t, 0) != UNSHARP_OK) die_model(m, "forward");
    loss_target tg[UNSHARP_MAX_LAYERS];
    int n_tg = 0;
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (!L->kind->is_loss) continue;
        unsharp_layer *in = unsharp__input(m, L, 0);
        int softmax = strcmp(L->kind->name, "softmax_ce") == 0;
        size_t count = (size_t)in->n * in->h * in->w * (softmax ? 1 : in->c);
        float *v = xmalloc(count * sizeof *v);
        for (size_t k = 0; k < count; k++) {
            int r = (int)(urand() * (softmax ? in->c : 2));
            v[k] = (float)r;
        }
        tg[n_tg++] = (loss_target){L->name, v, count};
    }

    unsharp_optimizer_config oc = {UNSHARP_OPT_ADAM, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.0f};
    if (unsharp_model_set_optimizer(m, &oc) != UNSHARP_OK) die_model(m, "set_optimizer");

    double first_loss = 0, loss = 0;
    int timed = 0;
    double t0 = 0, t1 = 0;
    for (int s = 0;; s++) {
        if (s == warmup) t0 = bench_now();
        for (int k = 0; k < n_tg; k++)
            if (unsharp_model_set_target(m, tg[k].name, tg[k].target, NULL, tg[k].count) != UNSHARP_OK)
                die_model(m, "set_target");
        if (unsharp_model_zero_grad(m) != UNSHARP_OK) die_model(m, "zero_grad");
        if (unsharp_model_forward(m, &t, 1) != UNSHARP_OK) die_model(m, "forward");
        if (unsharp_model_backward(m) != UNSHARP_OK) die_model(m, "backward");
        if (unsharp_model_step(m) != UNSHARP_OK) die_model(m, "step");
        if (unsharp_model_loss(m, &loss) != UNSHARP_OK) die_model(m, "loss");
        if (s == 0) first_loss = loss;
        if (s < warmup) continue;
        timed++;
        t1 = bench_now();
        if (seconds > 0 ? t1 - t0 >= seconds : timed >= steps) break;
    }
    double dt = t1 - t0;
    printf("train_speed: C engine (%s), %s, threads %d, batch %d x %d x %dx%d\n", device,
           arch_path, threads, batch, cin, crop, crop);
    printf("loss %.5f after the first step, %.5f after the last\n", first_loss, loss);
    printf("%d steps in %.3f s: %.2f samples/s, %.2f ms/step\n", timed, dt, batch * timed / dt,
           dt / timed * 1e3);
    if (layers) {
        phase_report(m, &t, tg, n_tg, 20);
        layer_report(m, device);
    }

    for (int k = 0; k < n_tg; k++) free(tg[k].target);
    free(x);
    unsharp_model_free(m);
    return 0;
}
