/* test_parity.c: the CUDA backend against the CPU backend (label gpu). Every slot of the
 * backend table runs on random inputs on both backends, and the results must agree within a
 * normalised error |gpu - cpu|_max / max(1, |cpu|_max) (outputs and losses) or a relative one
 * |gpu - cpu|_max / |cpu|_max (gradients of whole models); the CPU backend is itself checked
 * against naive loops, finite differences and PyTorch by the other suites. Then small models
 * train for a few steps on each backend from the same seed and must end with matching weights.
 *
 * Without a usable CUDA device (no GPU, no driver, or a build without the CUDA backend) the
 * suite prints why and exits 77, which CTest reports as skipped. It runs its tests in-process
 * (CK_NOFORK): a CUDA context does not survive fork(). TF32 is turned off
 * (NVIDIA_TF32_OVERRIDE=0) before the first CUDA call, besides the backend's own FP32 modes.
 * The shipped architecture is read from $UNSHARP_SOURCE_DIR/weights when that is set, else
 * from the source tree it was built from. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "error.h"
#include "model.h"

#define TOL 1e-4 /* normalised error bound for single ops */

static unsharp_backend *B[2]; /* [0] CPU, the reference; [1] CUDA */
static char errs[2][UNSHARP_ERRMSG_MAX];

#define OK(b, call) ck_assert_msg((call) == UNSHARP_OK, "%s: %s", B[b]->name, errs[b])

/* ---- helpers ---- */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static float urand(float lo, float hi)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng_state >> 40) * (1.0 / 16777216.0));
}

static float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) p[i] = urand(lo, hi);
    return p;
}

static float *zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* n floats of backend b's memory, holding h when h is not NULL. */
static void *dev(int b, const void *h, size_t bytes)
{
    void *d = NULL;
    OK(b, B[b]->alloc(B[b], bytes ? bytes : 1, &d));
    if (h && bytes) OK(b, B[b]->upload(B[b], d, h, bytes));
    return d;
}
#define DEVF(b, h, n) ((float *)dev((b), (h), (size_t)(n) * sizeof(float)))

static void get(int b, void *h, const void *d, size_t bytes) { OK(b, B[b]->download(B[b], h, d, bytes)); }
#define GETF(b, h, d, n) get((b), (h), (d), (size_t)(n) * sizeof(float))

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i]));
    return m;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN wins */
    }
    return m;
}

/* gpu against the reference cpu: |gpu - cpu|_max / max(1, |cpu|_max) < tol. */
static void expect_close(const char *what, const float *gpu, const float *cpu, size_t n, double tol)
{
    double e = max_diff(gpu, cpu, n) / fmax(1.0, max_abs(cpu, n));
    ck_assert_msg(e < tol, "%s: normalised error %.3g (bound %.3g)", what, e, tol);
}

/* The same, relative to the reference's own scale (for small values such as gradients). */
static void expect_rel(const char *what, const float *gpu, const float *cpu, size_t n, double tol)
{
    double scale = max_abs(cpu, n);
    double e = max_diff(gpu, cpu, n) / (scale > 0 ? scale : 1.0);
    ck_assert_msg(e < tol, "%s: relative error %.3g (bound %.3g, scale %.3g)", what, e, tol, scale);
}

/* ---- memory ---- */

START_TEST(test_memory)
{
    const size_t n = 1000;
    float *h = rnd(n, -1, 1), *back = zeros(n);
    float *d = DEVF(1, NULL, n), *d2 = DEVF(1, NULL, n);
    /* alloc zeroes */
    GETF(1, back, d, n);
    ck_assert(max_abs(back, n) == 0.0);
    OK(1, B[1]->upload(B[1], d, h, n * sizeof(float)));
    OK(1, B[1]->copy(B[1], d2, d, n * sizeof(float)));
    GETF(1, back, d2, n);
    ck_assert(memcmp(back, h, n * sizeof(float)) == 0);
    OK(1, B[1]->fill(B[1], d2 + 10, 2.5f, 100));
    GETF(1, back, d2, n);
    for (size_t i = 0; i < n; i++) ck_assert(back[i] == (i >= 10 && i < 110 ? 2.5f : h[i]));
    B[1]->release(B[1], d);
    B[1]->release(B[1], d2);
    B[1]->release(B[1], NULL);
    free(h);
    free(back);
}
END_TEST

/* Uploads larger than the backend's staging buffers, queued behind each other without waiting:
 * each arrives whole and in order, and the caller may overwrite its memory once upload returns. */
START_TEST(test_upload_pieces)
{
    const size_t n = (size_t)9 << 20 >> 2; /* 9 MB: pieces of a few MB, more than one round of buffers */
    float *h = rnd(n, -1, 1), *want = malloc(n * sizeof(float)), *back = zeros(n);
    ck_assert_ptr_nonnull(want);
    memcpy(want, h, n * sizeof(float));
    float *d = DEVF(1, NULL, n), *d2 = DEVF(1, NULL, n), *small = DEVF(1, NULL, 3);
    OK(1, B[1]->upload(B[1], d, h, n * sizeof(float)));
    for (size_t i = 0; i < n; i++) h[i] = -h[i]; /* the first upload must not see this */
    OK(1, B[1]->upload(B[1], d2, h, n * sizeof(float)));
    const float three[3] = {1.0f, 2.0f, 3.0f};
    OK(1, B[1]->upload(B[1], small, three, sizeof three));
    OK(1, B[1]->upload(B[1], d2 + n - 3, three, sizeof three)); /* after the big one, into its tail */
    GETF(1, back, d, n);
    ck_assert(memcmp(back, want, n * sizeof(float)) == 0);
    GETF(1, back, d2, n);
    for (size_t i = 0; i < n - 3; i++) ck_assert(back[i] == -want[i]);
    ck_assert(back[n - 3] == 1.0f && back[n - 2] == 2.0f && back[n - 1] == 3.0f);
    GETF(1, back, small, 3);
    ck_assert(back[0] == 1.0f && back[1] == 2.0f && back[2] == 3.0f);
    B[1]->release(B[1], d);
    B[1]->release(B[1], d2);
    B[1]->release(B[1], small);
    free(h);
    free(want);
    free(back);
}
END_TEST

/* ---- gemm ---- */

static void gemm_case(int ta, int tb, int m, int n, int k, int pad, float alpha, float beta)
{
    int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
    float *a = rnd(na, -1, 1), *bm = rnd(nb, -1, 1), *c0 = rnd(nc, -1, 1), *out[2];
    for (int b = 0; b < 2; b++) {
        float *da = DEVF(b, a, na), *db = DEVF(b, bm, nb), *dc = DEVF(b, c0, nc);
        OK(b, B[b]->gemm(B[b], ta, tb, m, n, k, alpha, da, lda, db, ldb, beta, dc, ldc));
        out[b] = zeros(nc);
        GETF(b, out[b], dc, nc);
        B[b]->release(B[b], da);
        B[b]->release(B[b], db);
        B[b]->release(B[b], dc);
    }
    char what[96];
    snprintf(what, sizeof what, "gemm ta=%d tb=%d %dx%dx%d", ta, tb, m, n, k);
    expect_close(what, out[1], out[0], nc, TOL);
    free(a); free(bm); free(c0); free(out[0]); free(out[1]);
}

START_TEST(test_gemm)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            gemm_case(ta, tb, 7, 9, 5, 2, 0.7f, 0.3f);
            gemm_case(ta, tb, 64, 50, 300, 0, 1.0f, 0.0f);
        }
    gemm_case(0, 0, 5, 6, 0, 1, 1.0f, 0.5f); /* k = 0: C = beta C */
}
END_TEST

/* ---- convolution ---- */

static const int conv_cases[][11] = {
    /* n cin h w cout kh kw sh sw ph pw */
    {2, 3, 17, 13, 5, 3, 3, 1, 1, 1, 1},
    {2, 4, 16, 16, 6, 3, 3, 2, 2, 1, 1},
    {1, 8, 9, 11, 4, 1, 1, 1, 1, 0, 0},
    {2, 2, 15, 12, 3, 5, 5, 2, 2, 2, 2},
    {2, 3, 10, 9, 4, 6, 6, 4, 4, 1, 1},
    {1, 2, 8, 7, 3, 3, 2, 1, 2, 0, 1},
};

START_TEST(test_conv)
{
    const int *c = conv_cases[_i];
    unsharp_conv_shape s = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], 0, 0};
    s.oh = (s.h + 2 * s.ph - s.kh) / s.sh + 1;
    s.ow = (s.w + 2 * s.pw - s.kw) / s.sw + 1;
    size_t nx = (size_t)s.n * s.cin * s.h * s.w, nw = (size_t)s.cout * s.cin * s.kh * s.kw;
    size_t ny = (size_t)s.n * s.cout * s.oh * s.ow;
    float *x = rnd(nx, -1, 1), *w = rnd(nw, -1, 1), *bias = rnd(s.cout, -1, 1), *dy = rnd(ny, -1, 1);
    float *dx0 = rnd(nx, -1, 1), *dw0 = rnd(nw, -1, 1);
    float *y[2], *act[2], *yplain[2], *dxo[2], *dxa[2], *dw[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        size_t ws = be->conv_workspace(be, &s);
        void *work = dev(b, NULL, ws);
        float *dx_ = DEVF(b, x, nx), *dw_ = DEVF(b, w, nw), *db_ = DEVF(b, bias, s.cout), *ddy = DEVF(b, dy, ny);
        float *dyo = DEVF(b, NULL, ny), *dact = DEVF(b, NULL, ny), *ddx = DEVF(b, dx0, nx), *ddw = DEVF(b, dw0, nw);
        y[b] = zeros(ny); act[b] = zeros(ny); yplain[b] = zeros(ny);
        dxo[b] = zeros(nx); dxa[b] = zeros(nx); dw[b] = zeros(nw);
        /* forward with bias and the fused leaky ReLU, then plain */
        OK(b, be->conv2d_forward(be, &s, dx_, dw_, db_, dyo, dact, 0.1f, work));
        GETF(b, y[b], dyo, ny);
        GETF(b, act[b], dact, ny);
        OK(b, be->conv2d_forward(be, &s, dx_, dw_, NULL, dyo, NULL, 0.0f, work));
        GETF(b, yplain[b], dyo, ny);
        /* backward data: overwrite (dx holds garbage first), then accumulate */
        OK(b, be->conv2d_backward_data(be, &s, ddy, dw_, ddx, 0, work));
        GETF(b, dxo[b], ddx, nx);
        OK(b, be->upload(be, ddx, dx0, nx * sizeof(float)));
        OK(b, be->conv2d_backward_data(be, &s, ddy, dw_, ddx, 1, work));
        GETF(b, dxa[b], ddx, nx);
        /* backward filter adds to dw */
        OK(b, be->conv2d_backward_filter(be, &s, dx_, ddy, ddw, work));
        GETF(b, dw[b], ddw, nw);
        void *all[] = {work, dx_, dw_, db_, ddy, dyo, dact, ddx, ddw};
        for (size_t k = 0; k < sizeof all / sizeof *all; k++) be->release(be, all[k]);
    }
    char what[128];
    snprintf(what, sizeof what, "conv case %d: %s", _i, "forward + bias + act (y)");
    expect_close(what, y[1], y[0], ny, TOL);
    snprintf(what, sizeof what, "conv case %d: %s", _i, "forward + bias + act (act)");
    expect_close(what, act[1], act[0], ny, TOL);
    snprintf(what, sizeof what, "conv case %d: %s", _i, "forward, no bias");
    expect_close(what, yplain[1], yplain[0], ny, TOL);
    snprintf(what, sizeof what, "conv case %d: %s", _i, "backward data, overwrite");
    expect_close(what, dxo[1], dxo[0], nx, TOL);
    snprintf(what, sizeof what, "conv case %d: %s", _i, "backward data, accumulate");
    expect_close(what, dxa[1], dxa[0], nx, TOL);
    snprintf(what, sizeof what, "conv case %d: %s", _i, "backward filter +=");
    expect_close(what, dw[1], dw[0], nw, TOL);
    /* the accumulate path really adds: it differs from the overwrite by dx0 */
    ck_assert(max_diff(dxa[0], dxo[0], nx) > 0.1);
    for (int b = 0; b < 2; b++) {
        free(y[b]); free(act[b]); free(yplain[b]); free(dxo[b]); free(dxa[b]); free(dw[b]);
    }
    free(x); free(w); free(bias); free(dy); free(dx0); free(dw0);
}
END_TEST

/* ---- elementwise ---- */

/* A small case, and a large one whose channels the CUDA backend sums in several blocks each
 * (more than 16384 elements a channel, not a multiple of the block's run). */
static const int bias_cases[][3] = {{3, 5, 301}, {16, 3, 65 * 65}};

START_TEST(test_bias)
{
    const int n = bias_cases[_i][0], c = bias_cases[_i][1], hw = bias_cases[_i][2];
    size_t ny = (size_t)n * c * hw;
    float *y0 = rnd(ny, -1, 1), *bias = rnd(c, -1, 1), *db0 = rnd(c, -1, 1), *y[2], *db[2];
    float *again = zeros(c);
    for (int b = 0; b < 2; b++) {
        float *dy = DEVF(b, y0, ny), *dbias = DEVF(b, bias, c), *ddb = DEVF(b, db0, c), *ddb2 = DEVF(b, db0, c);
        OK(b, B[b]->bias_forward(B[b], dy, dbias, n, c, hw));
        OK(b, B[b]->bias_backward(B[b], dy, ddb, n, c, hw));
        OK(b, B[b]->bias_backward(B[b], dy, ddb2, n, c, hw));
        y[b] = zeros(ny); db[b] = zeros(c);
        GETF(b, y[b], dy, ny);
        GETF(b, db[b], ddb, c);
        GETF(b, again, ddb2, c);
        /* the sum's order is fixed: the same bits every time */
        ck_assert_msg(memcmp(again, db[b], c * sizeof(float)) == 0, "%s: bias backward differs between two calls",
                      B[b]->name);
        B[b]->release(B[b], dy); B[b]->release(B[b], dbias); B[b]->release(B[b], ddb); B[b]->release(B[b], ddb2);
    }
    expect_close("bias forward", y[1], y[0], ny, TOL);
    expect_close("bias backward", db[1], db[0], c, TOL);
    for (int b = 0; b < 2; b++) { free(y[b]); free(db[b]); }
    free(y0); free(bias); free(db0); free(again);
}
END_TEST

START_TEST(test_activations)
{
    const size_t n = 70001;
    float *x = rnd(n, -2, 2), *g = rnd(n, -1, 1), *d0 = rnd(n, -1, 1);
    float *y[2], *dxo[2], *dxa[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dx_ = DEVF(b, x, n), *dg = DEVF(b, g, n), *dy = DEVF(b, NULL, n), *dd = DEVF(b, d0, n);
        y[b] = zeros(n); dxo[b] = zeros(n); dxa[b] = zeros(n);
        OK(b, be->leaky_relu_forward(be, dx_, dy, n, 0.1f));
        GETF(b, y[b], dy, n);
        OK(b, be->leaky_relu_backward(be, dx_, dg, dd, n, 0.1f, 0));
        GETF(b, dxo[b], dd, n);
        OK(b, be->upload(be, dd, d0, n * sizeof(float)));
        OK(b, be->leaky_relu_backward(be, dx_, dg, dd, n, 0.1f, 1));
        GETF(b, dxa[b], dd, n);
        be->release(be, dx_); be->release(be, dg); be->release(be, dy); be->release(be, dd);
    }
    expect_close("leaky relu forward", y[1], y[0], n, TOL);
    expect_close("leaky relu backward, overwrite", dxo[1], dxo[0], n, TOL);
    expect_close("leaky relu backward, accumulate", dxa[1], dxa[0], n, TOL);
    for (int b = 0; b < 2; b++) { free(y[b]); free(dxo[b]); free(dxa[b]); }
    free(x); free(g); free(d0);
}
END_TEST

START_TEST(test_channels)
{
    const int n = 2, hw = 37, src_c = 3, dst_c = 7, off = 2;
    size_t ns = (size_t)n * src_c * hw, nd = (size_t)n * dst_c * hw;
    float *src = rnd(ns, -1, 1), *dst0 = rnd(nd, -1, 1), *big = rnd(nd, -1, 1);
    float *cp[2], *acc[2], *sl[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *ds = DEVF(b, src, ns), *dd = DEVF(b, dst0, nd), *dbig = DEVF(b, big, nd);
        cp[b] = zeros(nd); acc[b] = zeros(nd); sl[b] = zeros(ns);
        OK(b, be->copy_channels(be, dd, dst_c, off, ds, src_c, n, hw, 0));
        GETF(b, cp[b], dd, nd);
        OK(b, be->copy_channels(be, dd, dst_c, off, ds, src_c, n, hw, 1));
        GETF(b, acc[b], dd, nd);
        OK(b, be->slice_channels_add(be, ds, src_c, dbig, dst_c, off, n, hw));
        GETF(b, sl[b], ds, ns);
        be->release(be, ds); be->release(be, dd); be->release(be, dbig);
    }
    expect_close("copy_channels", cp[1], cp[0], nd, TOL);
    expect_close("copy_channels, accumulate", acc[1], acc[0], nd, TOL);
    expect_close("slice_channels_add", sl[1], sl[0], ns, TOL);
    for (int b = 0; b < 2; b++) { free(cp[b]); free(acc[b]); free(sl[b]); }
    free(src); free(dst0); free(big);
}
END_TEST

START_TEST(test_dropout)
{
    const size_t n = 10007;
    float *x = rnd(n, -1, 1), *g = rnd(n, -1, 1), *d0 = rnd(n, -1, 1), *y[2], *mask[2], *dx[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dxx = DEVF(b, x, n), *dy = DEVF(b, NULL, n), *dm = DEVF(b, NULL, n), *dg = DEVF(b, g, n),
              *dd = DEVF(b, d0, n);
        y[b] = zeros(n); mask[b] = zeros(n); dx[b] = zeros(n);
        OK(b, be->dropout_forward(be, dxx, dy, dm, n, 0.3f, 12345));
        OK(b, be->dropout_backward(be, dg, dm, dd, n));
        GETF(b, y[b], dy, n);
        GETF(b, mask[b], dm, n);
        GETF(b, dx[b], dd, n);
        be->release(be, dxx); be->release(be, dy); be->release(be, dm); be->release(be, dg); be->release(be, dd);
    }
    /* the same mask, bit for bit: both draw it from unsharp__hash_uniform */
    ck_assert_msg(memcmp(mask[0], mask[1], n * sizeof(float)) == 0, "dropout masks differ");
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) dropped += mask[0][i] == 0.0f;
    ck_assert(dropped > n / 4 && dropped < n * 7 / 20);
    expect_close("dropout forward", y[1], y[0], n, TOL);
    expect_close("dropout backward", dx[1], dx[0], n, TOL);
    for (int b = 0; b < 2; b++) { free(y[b]); free(mask[b]); free(dx[b]); }
    free(x); free(g); free(d0);
}
END_TEST

/* ---- pooling ---- */

static const int pool_cases[][8] = {
    /* n c h w k s p is_max */
    {2, 3, 9, 10, 3, 2, 1, 1}, {2, 3, 9, 10, 3, 2, 1, 0}, {2, 2, 8, 8, 2, 2, 0, 1},
    {2, 2, 8, 8, 2, 2, 0, 0},  {1, 2, 7, 5, 3, 1, 1, 1},  {1, 2, 7, 5, 3, 1, 1, 0},
};

START_TEST(test_pool)
{
    const int *c = pool_cases[_i];
    unsharp_pool_shape s = {c[0], c[1], c[2], c[3], c[4], c[4], c[5], c[5], c[6], c[6], 0, 0};
    const int is_max = c[7];
    s.oh = (s.h + 2 * s.ph - s.kh) / s.sh + 1;
    s.ow = (s.w + 2 * s.pw - s.kw) / s.sw + 1;
    size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = (size_t)s.n * s.c * s.oh * s.ow;
    float *x = rnd(nx, -1, 1), *g = rnd(ny, -1, 1), *d0 = rnd(nx, -1, 1), *y[2], *dx[2];
    int32_t *am[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dxx = DEVF(b, x, nx), *dy = DEVF(b, NULL, ny), *dg = DEVF(b, g, ny), *dd = DEVF(b, d0, nx);
        int32_t *da = (int32_t *)dev(b, NULL, ny * sizeof(int32_t));
        y[b] = zeros(ny); dx[b] = zeros(nx);
        am[b] = calloc(ny, sizeof(int32_t));
        OK(b, be->pool2d_forward(be, &s, is_max, dxx, dy, is_max ? da : NULL));
        OK(b, be->pool2d_backward(be, &s, is_max, dg, is_max ? da : NULL, dd));
        GETF(b, y[b], dy, ny);
        GETF(b, dx[b], dd, nx);
        get(b, am[b], da, ny * sizeof(int32_t));
        be->release(be, dxx); be->release(be, dy); be->release(be, dg); be->release(be, dd); be->release(be, da);
    }
    char what[96];
    snprintf(what, sizeof what, "pool case %d forward", _i);
    expect_close(what, y[1], y[0], ny, TOL);
    snprintf(what, sizeof what, "pool case %d backward", _i);
    expect_close(what, dx[1], dx[0], nx, TOL);
    if (is_max) ck_assert_msg(memcmp(am[0], am[1], ny * sizeof(int32_t)) == 0, "max-pool argmax differs");
    for (int b = 0; b < 2; b++) { free(y[b]); free(dx[b]); free(am[b]); }
    free(x); free(g); free(d0);
}
END_TEST

/* ---- local contrast normalisation ---- */

static const int lcn_cases[][5] = {
    /* planes h w k eps*1000 */
    {6, 7, 5, 3, 100}, {4, 33, 17, 15, 20}, {3, 5, 7, 9, 50}, {1, 96, 128, 15, 20}, {2, 12, 9, 63, 20},
};

START_TEST(test_lcn)
{
    const int *c = lcn_cases[_i];
    const int planes = c[0], h = c[1], w = c[2], k = c[3];
    const float eps = (float)c[4] / 1000.0f;
    size_t n = (size_t)planes * h * w;
    float *x = rnd(n, 0, 1), *g = rnd(n, -1, 1), *d0 = rnd(n, -1, 1), *y[2], *yi[2], *st[2], *dx[2], *dxa[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dxx = DEVF(b, x, n), *dy = DEVF(b, NULL, n), *dyi = DEVF(b, NULL, n), *ds = DEVF(b, NULL, 2 * n),
              *dg = DEVF(b, g, n), *dd = DEVF(b, d0, n), *dda = DEVF(b, d0, n);
        void *work = dev(b, NULL, be->lcn_workspace(be, planes, h, w, k));
        y[b] = zeros(n); yi[b] = zeros(n); st[b] = zeros(2 * n); dx[b] = zeros(n); dxa[b] = zeros(n);
        OK(b, be->lcn_forward(be, dxx, dy, ds, planes, h, w, k, eps, work));
        OK(b, be->lcn_forward(be, dxx, dyi, NULL, planes, h, w, k, eps, work));
        OK(b, be->lcn_backward(be, dxx, ds, dg, dd, 0, planes, h, w, k, eps, work));
        OK(b, be->lcn_backward(be, dxx, ds, dg, dda, 1, planes, h, w, k, eps, work));
        GETF(b, y[b], dy, n);
        GETF(b, yi[b], dyi, n);
        GETF(b, st[b], ds, 2 * n);
        GETF(b, dx[b], dd, n);
        GETF(b, dxa[b], dda, n);
        be->release(be, dxx); be->release(be, dy); be->release(be, dyi); be->release(be, ds);
        be->release(be, dg); be->release(be, dd); be->release(be, dda); be->release(be, work);
    }
    char what[96];
    snprintf(what, sizeof what, "lcn case %d forward", _i);
    expect_close(what, y[1], y[0], n, TOL);
    snprintf(what, sizeof what, "lcn case %d forward without stats", _i);
    expect_close(what, yi[1], y[0], n, TOL);
    snprintf(what, sizeof what, "lcn case %d window statistics", _i);
    expect_rel(what, st[1], st[0], 2 * n, TOL);
    snprintf(what, sizeof what, "lcn case %d backward", _i);
    expect_rel(what, dx[1], dx[0], n, TOL);
    snprintf(what, sizeof what, "lcn case %d backward, accumulate", _i);
    expect_rel(what, dxa[1], dxa[0], n, TOL);
    for (int b = 0; b < 2; b++) { free(y[b]); free(yi[b]); free(st[b]); free(dx[b]); free(dxa[b]); }
    free(x); free(g); free(d0);
}
END_TEST

START_TEST(test_global_pool)
{
    const int hws[] = {1, 37, 1000};
    for (int kind = 0; kind < 3; kind++)
        for (int h = 0; h < 3; h++) {
            const int rows = 6, hw = hws[h];
            size_t nx = (size_t)rows * hw;
            float *x = rnd(nx, -1, 1), *g = rnd(rows, -1, 1), *d0 = rnd(nx, -1, 1), *y[2], *dx[2];
            for (int b = 0; b < 2; b++) {
                unsharp_backend *be = B[b];
                float *dxx = DEVF(b, x, nx), *dy = DEVF(b, NULL, rows), *dg = DEVF(b, g, rows), *dd = DEVF(b, d0, nx);
                y[b] = zeros(rows); dx[b] = zeros(nx);
                OK(b, be->global_pool_forward(be, (unsharp_gpool_kind)kind, dxx, dy, rows, hw));
                OK(b, be->global_pool_backward(be, (unsharp_gpool_kind)kind, dxx, dy, dg, dd, rows, hw));
                GETF(b, y[b], dy, rows);
                GETF(b, dx[b], dd, nx);
                be->release(be, dxx); be->release(be, dy); be->release(be, dg); be->release(be, dd);
            }
            char what[96];
            snprintf(what, sizeof what, "global pool kind %d hw %d forward", kind, hw);
            expect_close(what, y[1], y[0], rows, TOL);
            snprintf(what, sizeof what, "global pool kind %d hw %d backward", kind, hw);
            expect_close(what, dx[1], dx[0], nx, TOL);
            for (int b = 0; b < 2; b++) { free(y[b]); free(dx[b]); }
            free(x); free(g); free(d0);
        }
}
END_TEST

/* ---- losses ---- */

START_TEST(test_losses)
{
    /* sigmoid cross-entropy, weighted and not */
    const size_t n = 3001;
    float *logit = rnd(n, -6, 6), *target = rnd(n, 0, 1), *weight = rnd(n, 0, 2), *g0 = rnd(n, -1, 1);
    for (size_t i = 0; i < n; i++) target[i] = target[i] < 0.5f ? 0.0f : 1.0f;
    for (int weighted = 0; weighted < 2; weighted++) {
        float *grad[2];
        double loss[2];
        for (int b = 0; b < 2; b++) {
            unsharp_backend *be = B[b];
            float *dl = DEVF(b, logit, n), *dt = DEVF(b, target, n), *dw = DEVF(b, weight, n), *dg = DEVF(b, g0, n);
            loss[b] = 0.5;
            OK(b, be->sigmoid_ce(be, dl, dt, weighted ? dw : NULL, n, 0.01f, dg, &loss[b]));
            grad[b] = zeros(n);
            GETF(b, grad[b], dg, n);
            be->release(be, dl); be->release(be, dt); be->release(be, dw); be->release(be, dg);
        }
        expect_close("sigmoid_ce gradient", grad[1], grad[0], n, TOL);
        ck_assert_msg(fabs(loss[1] - loss[0]) < TOL * fmax(1.0, fabs(loss[0])), "sigmoid_ce loss %.9g vs %.9g",
                      loss[1], loss[0]);
        free(grad[0]); free(grad[1]);
    }
    free(logit); free(target); free(weight); free(g0);

    /* softmax cross-entropy over k classes at s positions */
    const int nn = 3, k = 4, s = 50;
    size_t nl = (size_t)nn * k * s, nt = (size_t)nn * s;
    float *sl = rnd(nl, -4, 4), *st = rnd(nt, 0, k), *sw = rnd(nt, 0, 2), *sg0 = rnd(nl, -1, 1);
    for (size_t i = 0; i < nt; i++) st[i] = floorf(st[i]) < k ? floorf(st[i]) : k - 1;
    for (int weighted = 0; weighted < 2; weighted++) {
        float *grad[2];
        double loss[2];
        for (int b = 0; b < 2; b++) {
            unsharp_backend *be = B[b];
            float *dl = DEVF(b, sl, nl), *dt = DEVF(b, st, nt), *dw = DEVF(b, sw, nt), *dg = DEVF(b, sg0, nl);
            loss[b] = -0.25;
            OK(b, be->softmax_ce(be, dl, dt, weighted ? dw : NULL, nn, k, s, 0.02f, dg, &loss[b]));
            grad[b] = zeros(nl);
            GETF(b, grad[b], dg, nl);
            be->release(be, dl); be->release(be, dt); be->release(be, dw); be->release(be, dg);
        }
        expect_close("softmax_ce gradient", grad[1], grad[0], nl, TOL);
        ck_assert_msg(fabs(loss[1] - loss[0]) < TOL * fmax(1.0, fabs(loss[0])), "softmax_ce loss %.9g vs %.9g",
                      loss[1], loss[0]);
        free(grad[0]); free(grad[1]);
    }
    /* a target that is not a class index fails on both, before anything is written */
    st[7] = 4.5f;
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dl = DEVF(b, sl, nl), *dt = DEVF(b, st, nt), *dg = DEVF(b, sg0, nl), *back = zeros(nl);
        double loss = 0;
        ck_assert_int_eq(be->softmax_ce(be, dl, dt, NULL, nn, k, s, 1.0f, dg, &loss), UNSHARP_ERR_INVALID);
        ck_assert_msg(strstr(errs[b], "4.5") != NULL, "%s: %s", be->name, errs[b]);
        GETF(b, back, dg, nl);
        ck_assert(memcmp(back, sg0, nl * sizeof(float)) == 0 && loss == 0);
        be->release(be, dl); be->release(be, dt); be->release(be, dg);
        free(back);
    }
    free(sl); free(st); free(sw); free(sg0);
}
END_TEST

/* ---- optimisers ---- */

START_TEST(test_optimisers)
{
    const size_t n = 5003;
    float *p0 = rnd(n, -1, 1), *g = rnd(n, -0.1f, 0.1f), *p[2], *m[2], *v[2], *ps[2], *vel[2];
    for (int b = 0; b < 2; b++) {
        unsharp_backend *be = B[b];
        float *dp = DEVF(b, p0, n), *dg = DEVF(b, g, n), *dm = DEVF(b, NULL, n), *dv = DEVF(b, NULL, n);
        for (int t = 1; t <= 3; t++) {
            unsharp_adam_params hp = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, t};
            OK(b, be->adam_step(be, dp, dg, dm, dv, n, &hp));
        }
        p[b] = zeros(n); m[b] = zeros(n); v[b] = zeros(n); ps[b] = zeros(n); vel[b] = zeros(n);
        GETF(b, p[b], dp, n); GETF(b, m[b], dm, n); GETF(b, v[b], dv, n);
        OK(b, be->upload(be, dp, p0, n * sizeof(float)));
        OK(b, be->fill(be, dm, 0.0f, n));
        for (int t = 1; t <= 3; t++) OK(b, be->sgd_step(be, dp, dg, dm, n, 0.05f, 0.9f, 1e-4f));
        GETF(b, ps[b], dp, n); GETF(b, vel[b], dm, n);
        be->release(be, dp); be->release(be, dg); be->release(be, dm); be->release(be, dv);
    }
    expect_close("adam parameters", p[1], p[0], n, TOL);
    expect_rel("adam first moment", m[1], m[0], n, TOL);
    expect_rel("adam second moment", v[1], v[0], n, TOL);
    expect_close("sgd parameters", ps[1], ps[0], n, TOL);
    expect_rel("sgd velocity", vel[1], vel[0], n, TOL);
    for (int b = 0; b < 2; b++) { free(p[b]); free(m[b]); free(v[b]); free(ps[b]); free(vel[b]); }
    free(p0); free(g);
}
END_TEST

/* ---- whole models: gradients, then N training steps ---- */

/* Every layer kind: convolutions (with and without bias, strided, 1x1, a fused leaky ReLU and
 * a fused ReLU), a bias layer, both poolings, concat, dropout, the three global poolings, dense
 * and both losses. */
static const char *ARCH_ALL =
    "input x 2\n"
    "conv c1 x out=6 k=3 s=1 p=1\n"
    "lrelu a1 c1 slope=0.1\n"
    "maxpool p1 a1 k=2\n"
    "conv c2 p1 out=8 k=3 s=2 p=1 bias=0\n"
    "relu a2 c2\n"
    "avgpool q2 a2 k=3 s=1 p=1\n"
    "bias b2 q2\n"
    "conv c3 b2 out=4 k=1\n"
    "concat cat q2,c3\n"
    "dropout d1 cat p=0.2\n"
    "conv tiles d1 out=1 k=1\n"
    "sigmoid_ce tl tiles\n"
    "gmean gm cat\n"
    "gmax gx cat\n"
    "gvar gv cat\n"
    "concat f gm,gx,gv\n"
    "dense h f out=3\n"
    "softmax_ce il h weight=0.5\n";

typedef struct train_run {
    unsharp_model *m;
    double loss[8];
    float *grad1;  /* all gradients after the first backward, parameter by parameter */
    float *params; /* all parameters at the end */
    float *init;   /* all parameters at the start */
} train_run;

static void params_of(unsharp_model *m, float *out, int grads)
{
    size_t at = 0;
    for (int i = 0; i < unsharp_model_param_count(m); i++) {
        const char *name;
        size_t count;
        ck_assert(unsharp_model_param_info(m, i, &name, &count, NULL) == UNSHARP_OK);
        unsharp_status st = grads ? unsharp_model_get_grad(m, name, out + at, count)
                                  : unsharp_model_get_param(m, name, out + at, count);
        ck_assert_msg(st == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
        at += count;
    }
}

/* Trains arch for steps steps on device dev from the same seed, batch and targets. */
static void train(const char *arch, unsharp_device dev, const unsharp_optimizer_config *oc, int n, int c, int h,
                  int w, int steps, train_run *r)
{
    unsharp_model_options mo = {dev, 1};
    memset(r, 0, sizeof *r);
    ck_assert_msg(unsharp_model_create(arch, 7, &mo, &r->m) == UNSHARP_OK, "%s", unsharp_errmsg());
    ck_assert_str_eq(unsharp_model_backend(r->m), dev == UNSHARP_DEVICE_CUDA ? "cuda" : "cpu");
    unsharp_model *m = r->m;
    ck_assert(unsharp_model_set_optimizer(m, oc) == UNSHARP_OK);
    rng_state = 99; /* the same batch and targets on both */
    size_t nx = (size_t)n * c * h * w, total = 0;
    for (int i = 0; i < unsharp_model_param_count(m); i++) {
        size_t count;
        unsharp_model_param_info(m, i, NULL, &count, NULL);
        total += count;
    }
    r->grad1 = zeros(total); r->params = zeros(total); r->init = zeros(total);
    params_of(m, r->init, 0);
    float *x = rnd(nx, 0, 1);
    unsharp_tensor t = unsharp_tensor_make(x, n, c, h, w);
    ck_assert(unsharp_model_forward(m, &t, 0) == UNSHARP_OK);
    float *targets[UNSHARP_MAX_LAYERS] = {0};
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (!L->kind->is_loss) continue;
        unsharp_layer *in = unsharp__input(m, L, 0);
        int softmax = strcmp(L->kind->name, "softmax_ce") == 0;
        size_t count = (size_t)in->n * in->h * in->w * (softmax ? 1 : in->c);
        targets[i] = rnd(count, 0, 1);
        for (size_t k = 0; k < count; k++) targets[i][k] = floorf(targets[i][k] * (softmax ? in->c : 2));
        ck_assert(unsharp_model_set_target(m, L->name, targets[i], NULL, count) == UNSHARP_OK);
    }
    for (int s = 0; s < steps; s++) {
        ck_assert_msg(unsharp_model_zero_grad(m) == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
        ck_assert_msg(unsharp_model_forward(m, &t, 1) == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
        ck_assert_msg(unsharp_model_backward(m) == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
        if (s == 0) params_of(m, r->grad1, 1);
        ck_assert_msg(unsharp_model_step(m) == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
        ck_assert(unsharp_model_loss(m, &r->loss[s]) == UNSHARP_OK);
    }
    params_of(m, r->params, 0);
    for (int i = 0; i < UNSHARP_MAX_LAYERS; i++) free(targets[i]);
    free(x);
}

static void train_free(train_run *r)
{
    unsharp_model_free(r->m);
    free(r->grad1); free(r->params); free(r->init);
}

static void compare_training(const char *arch, int n, int c, int h, int w)
{
    const int steps = 5;
    const unsharp_optimizer_config adam = {UNSHARP_OPT_ADAM, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.9f, 1e-4f};
    const unsharp_optimizer_config sgd = {UNSHARP_OPT_SGD, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 1e-4f};
    for (int o = 0; o < 2; o++) {
        train_run r[2];
        train(arch, UNSHARP_DEVICE_CPU, o ? &sgd : &adam, n, c, h, w, steps, &r[0]);
        train(arch, UNSHARP_DEVICE_CUDA, o ? &sgd : &adam, n, c, h, w, steps, &r[1]);
        size_t total = 0;
        for (int i = 0; i < unsharp_model_param_count(r[0].m); i++) {
            size_t count;
            unsharp_model_param_info(r[0].m, i, NULL, &count, NULL);
            total += count;
        }
        ck_assert(memcmp(r[0].init, r[1].init, total * sizeof(float)) == 0);
        expect_rel("gradients after the first backward", r[1].grad1, r[0].grad1, total, 1e-3);
        for (int s = 0; s < steps; s++)
            ck_assert_msg(fabs(r[1].loss[s] - r[0].loss[s]) < 1e-4 * fmax(1.0, fabs(r[0].loss[s])),
                          "step %d: loss %.9g on CUDA, %.9g on the CPU", s, r[1].loss[s], r[0].loss[s]);
        if (o == 1) {
            /* SGD is linear in the gradient: the weights themselves agree closely */
            expect_close("weights after SGD steps", r[1].params, r[0].params, total, TOL);
        } else {
            /* Adam divides by sqrt(v): a gradient near zero may round to a different update
             * sign, so the updates are compared in L2 and the weights within the steps taken */
            double num = 0, den = 0;
            for (size_t i = 0; i < total; i++) {
                double ua = (double)r[1].params[i] - r[1].init[i], ub = (double)r[0].params[i] - r[0].init[i];
                num += (ua - ub) * (ua - ub);
                den += ub * ub;
            }
            ck_assert_msg(den > 0 && sqrt(num / den) < 1e-2, "Adam updates differ: relative L2 %.3g",
                          sqrt(num / (den > 0 ? den : 1)));
            expect_close("weights after Adam steps", r[1].params, r[0].params, total, 2e-3 * steps);
        }
        train_free(&r[0]);
        train_free(&r[1]);
    }
}

START_TEST(test_train_all_layers) { compare_training(ARCH_ALL, 3, 2, 20, 18); }
END_TEST

/* The text of weights/NAME (a static buffer). */
static const char *read_arch(const char *name)
{
    char path[4096];
    /* $UNSHARP_SOURCE_DIR: the source tree when the suite runs away from it (bench/gpu_check.sh) */
    const char *src = getenv("UNSHARP_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/weights/%s", src && *src ? src : UNSHARP_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char arch[65536];
    size_t len = fread(arch, 1, sizeof arch - 1, f);
    fclose(f);
    arch[len] = '\0';
    return arch;
}

START_TEST(test_train_shipped) { compare_training(read_arch("unsharp-v2.arch"), 2, 1, 96, 128); }
END_TEST

/* The experiment with a local contrast normalised second channel, joined to luma as a map. */
START_TEST(test_train_lcn) { compare_training(read_arch("experiments/lcn.arch"), 2, 1, 96, 128); }
END_TEST

/* AUTO picks the device when there is one. */
START_TEST(test_auto)
{
    unsharp_model_options mo = {UNSHARP_DEVICE_AUTO, 1};
    unsharp_model *m = NULL;
    ck_assert(unsharp_model_create(ARCH_ALL, 1, &mo, &m) == UNSHARP_OK);
    ck_assert_str_eq(unsharp_model_backend(m), "cuda");
    unsharp_model_free(m);
}
END_TEST

/* Device failures come back as statuses naming the file and line of the failing call. */
START_TEST(test_errors)
{
    unsharp_backend *be = B[1];
    void *p = NULL;
    ck_assert_int_eq(be->alloc(be, (size_t)1 << 60, &p), UNSHARP_ERR_NOMEM);
    ck_assert_ptr_null(p);
    float h[4];
    ck_assert_int_eq(be->download(be, h, (const void *)(uintptr_t)0x10, sizeof h), UNSHARP_ERR_BACKEND);
    ck_assert_msg(strstr(errs[1], "backend_cuda.cu:") && strstr(errs[1], "cudaMemcpy"), "%s", errs[1]);
    /* the backend still works afterwards */
    float *d = DEVF(1, NULL, 4);
    OK(1, be->fill(be, d, 1.5f, 4));
    GETF(1, h, d, 4);
    ck_assert(h[0] == 1.5f && h[3] == 1.5f);
    be->release(be, d);
}
END_TEST

int main(void)
{
    /* no TF32 anywhere, before the first CUDA call */
    setenv("NVIDIA_TF32_OVERRIDE", "0", 1);
    unsharp_status st = unsharp__cuda_backend_create(errs[1], &B[1]);
    if (st != UNSHARP_OK) {
        printf("test_parity: skipped: %s (%s)\n", errs[1], unsharp_status_name(st));
        return 77;
    }
    if (unsharp__cpu_backend_create(1, errs[0], &B[0]) != UNSHARP_OK) {
        printf("test_parity: cannot create the CPU backend: %s\n", errs[0]);
        B[1]->destroy(B[1]);
        return 1;
    }

    Suite *s = suite_create("parity");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_upload_pieces);
    tcase_add_test(tc, test_gemm);
    tcase_add_loop_test(tc, test_conv, 0, (int)(sizeof conv_cases / sizeof *conv_cases));
    tcase_add_loop_test(tc, test_bias, 0, (int)(sizeof bias_cases / sizeof *bias_cases));
    tcase_add_test(tc, test_activations);
    tcase_add_test(tc, test_channels);
    tcase_add_test(tc, test_dropout);
    tcase_add_loop_test(tc, test_pool, 0, (int)(sizeof pool_cases / sizeof *pool_cases));
    tcase_add_test(tc, test_global_pool);
    tcase_add_loop_test(tc, test_lcn, 0, (int)(sizeof lcn_cases / sizeof *lcn_cases));
    tcase_add_test(tc, test_losses);
    tcase_add_test(tc, test_optimisers);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("models");
    tcase_set_timeout(tm, 300);
    tcase_add_test(tm, test_train_all_layers);
    tcase_add_test(tm, test_train_shipped);
    tcase_add_test(tm, test_train_lcn);
    tcase_add_test(tm, test_auto);
    suite_add_tcase(s, tm);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_errors);
    suite_add_tcase(s, te);

    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* a CUDA context does not survive fork() */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    B[0]->destroy(B[0]);
    B[1]->destroy(B[1]);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
