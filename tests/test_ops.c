/* test_ops.c: every slot of the CPU backend table, called through the table, against
 * references written here and nowhere else: naive double-precision loops for each forward
 * (direct convolution, pooling, global pooling, matrix multiply, losses, optimisers), and for
 * each gradient central finite differences of the naive double forward of L = sum(r_i * y_i)
 * with random r. "+=" outputs start from random values, so the accumulation is checked too. */
#include <check.h>
#include "testutil.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu/cpu_ops.h"
#include "error.h"
#include "simd.h"

static const char *const simd_names[] = {"plain", "AVX2", "AVX-512"};

/* Forces the kernels to level (simd.h); 0, with the reason on stderr, when this CPU or
 * UNSHARP_SIMD does not allow it: that build is skipped, and says so. */
static int simd_level_runs(int level)
{
    int got = unsharp__simd_force(level);
    if (got != level)
        fprintf(stderr, "test_ops: %s build skipped: %s\n", simd_names[level],
                unsharp__simd_cpu_level() < level ? "this CPU lacks it" : "capped by UNSHARP_SIMD");
    return got == level;
}

/* The NOMEM test asks calloc for SIZE_MAX bytes; under ASan that must fail, not abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ------------------------------------------------------------------ helpers */

static char g_err[UNSHARP_ERRMSG_MAX];

#define OK(call)                                                                               \
    do {                                                                                       \
        unsharp_status s_ = (call);                                                            \
        ck_assert_msg(s_ == UNSHARP_OK, "%s -> %s: %s", #call, unsharp_status_name(s_), g_err); \
    } while (0)

#define FAILS(code, call)                                                                       \
    do {                                                                                        \
        g_err[0] = '\0';                                                                        \
        unsharp_status s_ = (call);                                                             \
        ck_assert_msg(s_ == (code), "%s -> %s, wanted %s", #call, unsharp_status_name(s_),      \
                      unsharp_status_name(code));                                               \
        ck_assert_msg(g_err[0] != '\0', "%s failed without a message", #call);                  \
    } while (0)

static unsharp_backend *backend(int threads)
{
    unsharp_backend *be = NULL;
    OK(unsharp__cpu_backend_create(threads, g_err, &be));
    ck_assert_ptr_nonnull(be);
    ck_assert_int_eq(be->version, UNSHARP_BACKEND_VERSION);
    return be;
}

static uint64_t g_rng = 0x1234567887654321ull;
static void seed_rng(uint64_t s) { g_rng = s * 0x9E3779B97F4A7C15ull + 1; }
static double urand(void) /* [0, 1) */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * (1.0 / 9007199254740992.0);
}
static float frand(float lo, float hi) { return (float)(lo + (hi - lo) * urand()); }

static float *rand_host(size_t n, float lo, float hi)
{
    float *h = malloc((n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < n; i++) h[i] = frand(lo, hi);
    return h;
}

static double *to_double(const float *f, size_t n)
{
    double *d = malloc((n ? n : 1) * sizeof(double));
    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < n; i++) d[i] = f[i];
    return d;
}

static double *dzeros(size_t n)
{
    double *d = calloc(n ? n : 1, sizeof(double));
    ck_assert_ptr_nonnull(d);
    return d;
}

/* Backend copy of host data. */
static float *dput(unsharp_backend *be, const float *h, size_t n)
{
    void *d = NULL;
    OK(be->alloc(be, (n ? n : 1) * sizeof(float), &d));
    if (n) OK(be->upload(be, d, h, n * sizeof(float)));
    return d;
}

/* Host copy of backend data (malloc'd). */
static float *dget(unsharp_backend *be, const float *d, size_t n)
{
    float *h = malloc((n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(h);
    if (n) OK(be->download(be, h, d, n * sizeof(float)));
    return h;
}

/* Largest |got - ref|, where, and the largest |ref|. */
static double maxdiff(const float *got, const double *ref, size_t n, double *refmax, size_t *at)
{
    double d = 0.0, rm = 0.0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        if (!(e <= d)) { /* also catches NaN */
            d = e;
            *at = i;
            if (isnan(e)) d = INFINITY;
        }
        if (fabs(ref[i]) > rm) rm = fabs(ref[i]);
    }
    *refmax = rm;
    return d;
}

/* got (float) within rtol * max|ref| of ref (double), reporting the largest difference. */
#define ASSERT_CLOSE(label, got, ref, n, rtol)                                                       \
    do {                                                                                             \
        double rm_;                                                                                  \
        size_t at_;                                                                                  \
        double d_ = maxdiff((got), (ref), (n), &rm_, &at_);                                          \
        double tol_ = (rtol) * fmax(rm_, 1e-6);                                                      \
        ck_assert_msg(d_ <= tol_, "%s: max |diff| %.4g at %zu (got %.9g, ref %.9g), tol %.3g (max|ref| %.4g)", \
                      (label), d_, at_, (double)(got)[at_], (ref)[at_], tol_, rm_);                  \
    } while (0)

/* Central finite differences of f at p (double), eps 1e-6. When at is not NULL it is called with
 * each coordinate before f is, so that f may sum only what that coordinate reaches. */
typedef double (*scalar_fn)(const double *p, void *ctx);
typedef void (*coord_fn)(size_t i, void *ctx);
static void fd_grad_at(scalar_fn f, coord_fn at, double *p, size_t n, void *ctx, double *out)
{
    const double h = 1e-6;
    for (size_t i = 0; i < n; i++) {
        if (at) at(i, ctx);
        double save = p[i];
        p[i] = save + h;
        double fp = f(p, ctx);
        p[i] = save - h;
        double fm = f(p, ctx);
        p[i] = save;
        out[i] = (fp - fm) / (2.0 * h);
    }
}

static void fd_grad(scalar_fn f, double *p, size_t n, void *ctx, double *out) { fd_grad_at(f, NULL, p, n, ctx, out); }

/* got - base, as floats, for "+=" outputs. */
static void sub_base(float *got, const float *base, size_t n)
{
    for (size_t i = 0; i < n; i++) got[i] -= base[i];
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* ------------------------------------------------------------------ memory */

START_TEST(test_memory)
{
    unsharp_backend *be = backend(1);
    ck_assert_str_eq(be->name, "cpu");
    ck_assert_ptr_eq(be->errbuf, g_err);

    float *d = NULL;
    OK(be->alloc(be, 1000 * sizeof(float), (void **)&d));
    float *h = dget(be, d, 1000);
    for (int i = 0; i < 1000; i++) ck_assert_msg(h[i] == 0.0f, "alloc not zeroed at %d: %g", i, h[i]);

    float *src = rand_host(1000, -1, 1);
    OK(be->upload(be, d, src, 1000 * sizeof(float)));
    float *e = NULL;
    OK(be->alloc(be, 1000 * sizeof(float), (void **)&e));
    OK(be->copy(be, e, d, 1000 * sizeof(float)));
    free(h);
    h = dget(be, e, 1000);
    ck_assert_msg(memcmp(h, src, 1000 * sizeof(float)) == 0, "upload/copy/download round trip differs");

    OK(be->fill(be, e + 10, 2.5f, 500));
    free(h);
    h = dget(be, e, 1000);
    for (int i = 0; i < 1000; i++) {
        float want = (i >= 10 && i < 510) ? 2.5f : src[i];
        ck_assert_msg(h[i] == want, "fill: element %d is %g, wanted %g", i, h[i], want);
    }

    void *z = NULL;
    OK(be->alloc(be, 0, &z));
    ck_assert_ptr_nonnull(z);
    be->release(be, z);
    be->release(be, NULL);

    /* An impossible size fails with NOMEM and a message, not a crash. */
    void *big = (void *)1;
    FAILS(UNSHARP_ERR_NOMEM, be->alloc(be, SIZE_MAX, &big));
    ck_assert_ptr_null(big);

    be->release(be, d);
    be->release(be, e);
    free(h);
    free(src);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ gemm */

START_TEST(test_gemm)
{
    unsharp_backend *be = backend(1);
    const int m = 7, n = 5, k = 9;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            seed_rng(100 + ta * 2 + tb);
            /* Row-major storage with padded leading dimensions. */
            int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
            int lda = ac + 2, ldb = bc + 3, ldc = n + 1;
            size_t na = (size_t)ar * lda, nb = (size_t)br * ldb, nc = (size_t)m * ldc;
            float *a = rand_host(na, -1, 1), *b = rand_host(nb, -1, 1), *c = rand_host(nc, -1, 1);
            const float alpha = 0.75f, beta = -0.5f;
            double *ref = dzeros(nc);
            for (size_t i = 0; i < nc; i++) ref[i] = c[i]; /* the padding must stay */
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0.0;
                    for (int l = 0; l < k; l++) {
                        double av = ta ? a[(size_t)l * lda + i] : a[(size_t)i * lda + l];
                        double bv = tb ? b[(size_t)j * ldb + l] : b[(size_t)l * ldb + j];
                        s += av * bv;
                    }
                    ref[(size_t)i * ldc + j] = alpha * s + beta * (double)c[(size_t)i * ldc + j];
                }
            float *da = dput(be, a, na), *db = dput(be, b, nb), *dc = dput(be, c, nc);
            OK(be->gemm(be, ta, tb, m, n, k, alpha, da, lda, db, ldb, beta, dc, ldc));
            float *got = dget(be, dc, nc);
            char label[64];
            snprintf(label, sizeof label, "gemm ta=%d tb=%d", ta, tb);
            ASSERT_CLOSE(label, got, ref, nc, 1e-5);
            be->release(be, da);
            be->release(be, db);
            be->release(be, dc);
            free(a); free(b); free(c); free(got); free(ref);
        }

    /* Bad leading dimensions are refused (never reach BLAS, which would print). */
    float *x = dput(be, (float[4]){1, 2, 3, 4}, 4);
    FAILS(UNSHARP_ERR_INVALID, be->gemm(be, 0, 0, 2, 2, 2, 1.0f, x, 1, x, 2, 0.0f, x, 2));
    ck_assert_msg(strstr(g_err, "leading dimension lda=1") != NULL, "message does not say what: %s", g_err);
    FAILS(UNSHARP_ERR_INVALID, be->gemm(be, 0, 0, -1, 2, 2, 1.0f, x, 2, x, 2, 0.0f, x, 2));
    /* k = 0 scales C by beta. */
    OK(be->gemm(be, 0, 0, 2, 2, 0, 1.0f, x, 1, x, 2, 2.0f, x, 2));
    float *got = dget(be, x, 4);
    for (int i = 0; i < 4; i++) ck_assert_msg(got[i] == 2.0f * (i + 1), "k=0: C[%d] = %g", i, got[i]);
    free(got);
    be->release(be, x);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ convolution */

static int out_dim(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

static unsharp_conv_shape conv_shape(int n, int cin, int h, int w, int cout, int kh, int kw, int sh, int sw,
                                     int ph, int pw)
{
    unsharp_conv_shape s = {n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, 0, 0};
    s.oh = out_dim(h, kh, sh, ph);
    s.ow = out_dim(w, kw, sw, pw);
    return s;
}

static size_t conv_nx(const unsharp_conv_shape *s) { return (size_t)s->n * s->cin * s->h * s->w; }
static size_t conv_nw(const unsharp_conv_shape *s) { return (size_t)s->cout * s->cin * s->kh * s->kw; }
static size_t conv_ny(const unsharp_conv_shape *s) { return (size_t)s->n * s->cout * s->oh * s->ow; }

/* The outputs a finite difference looks at: batches [b0, b1), channels [c0, c1), rows [y0, y1),
 * columns [x0, x1). */
typedef struct conv_box {
    int b0, b1, c0, c1, y0, y1, x0, x1;
} conv_box;

static conv_box conv_all(const unsharp_conv_shape *s) { return (conv_box){0, s->n, 0, s->cout, 0, s->oh, 0, s->ow}; }

/* The direct seven-loop convolution, in double, over the outputs in box. */
static void naive_conv_box(const unsharp_conv_shape *s, const double *x, const double *w, double *y, conv_box bx)
{
    for (int b = bx.b0; b < bx.b1; b++)
        for (int co = bx.c0; co < bx.c1; co++)
            for (int oy = bx.y0; oy < bx.y1; oy++)
                for (int ox = bx.x0; ox < bx.x1; ox++) {
                    double sum = 0.0;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ki = 0; ki < s->kh; ki++)
                            for (int kj = 0; kj < s->kw; kj++) {
                                int iy = oy * s->sh - s->ph + ki, ix = ox * s->sw - s->pw + kj;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                sum += x[((size_t)(b * s->cin + ci) * s->h + iy) * s->w + ix] *
                                       w[((size_t)(co * s->cin + ci) * s->kh + ki) * s->kw + kj];
                            }
                    y[((size_t)(b * s->cout + co) * s->oh + oy) * s->ow + ox] = sum;
                }
}

static void naive_conv(const unsharp_conv_shape *s, const double *x, const double *w, double *y)
{
    naive_conv_box(s, x, w, y, conv_all(s));
}

/* The output positions o in [0, n_out) whose window (o * stride - pad + [0, k)) holds input position i,
 * as [*lo, *hi); empty when none does. */
static void conv_reach(int i, int k, int stride, int pad, int n_out, int *lo, int *hi)
{
    *lo = n_out;
    *hi = 0;
    for (int o = 0; o < n_out; o++) {
        int d = i - (o * stride - pad);
        if (d >= 0 && d < k) {
            if (o < *lo) *lo = o;
            *hi = o + 1;
        }
    }
    if (*hi < *lo) *hi = *lo;
}

typedef struct conv_ctx {
    const unsharp_conv_shape *s;
    const double *x, *w, *r;
    double *y;
    int wrt_w;
    conv_box box;
} conv_ctx;

/* L = sum(r * y) over the box. */
static double conv_L(const double *p, void *vctx)
{
    conv_ctx *c = vctx;
    const unsharp_conv_shape *s = c->s;
    conv_box bx = c->box;
    naive_conv_box(s, c->wrt_w ? c->x : p, c->wrt_w ? p : c->w, c->y, bx);
    double sum = 0.0;
    for (int b = bx.b0; b < bx.b1; b++)
        for (int co = bx.c0; co < bx.c1; co++)
            for (int oy = bx.y0; oy < bx.y1; oy++)
                for (int ox = bx.x0; ox < bx.x1; ox++) {
                    size_t k = ((size_t)(b * s->cout + co) * s->oh + oy) * s->ow + ox;
                    sum += c->r[k] * c->y[k];
                }
    return sum;
}

/* The outputs coordinate i of the finite differences can reach, by the naive formula: for an input
 * pixel, its batch and the rows and columns whose window holds it; for a weight, its output
 * channel. The outputs left out do not change, so L's difference over the box is that of the whole
 * sum, at a fraction of the cost. */
static void conv_box_for(size_t i, void *vctx)
{
    conv_ctx *c = vctx;
    const unsharp_conv_shape *s = c->s;
    conv_box bx = conv_all(s);
    if (c->wrt_w) {
        bx.c0 = (int)(i / ((size_t)s->cin * s->kh * s->kw));
        bx.c1 = bx.c0 + 1;
    } else {
        int ix = (int)(i % (size_t)s->w), iy = (int)(i / (size_t)s->w % (size_t)s->h);
        bx.b0 = (int)(i / ((size_t)s->cin * s->h * s->w));
        bx.b1 = bx.b0 + 1;
        conv_reach(iy, s->kh, s->sh, s->ph, s->oh, &bx.y0, &bx.y1);
        conv_reach(ix, s->kw, s->sw, s->pw, s->ow, &bx.x0, &bx.x1);
    }
    c->box = bx;
}

static const int conv_cases[][11] = {
    /* n cin  h  w cout kh kw sh sw ph pw */
    {2, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1},
    {3, 5, 7, 7, 7, 1, 1, 1, 1, 0, 0},  /* 1x1 direct path */
    {2, 3, 11, 10, 4, 5, 5, 2, 2, 2, 2},
    {2, 2, 10, 9, 3, 3, 5, 3, 2, 1, 2}, /* kh != kw, strides 3 and 2 */
    {3, 7, 6, 5, 3, 1, 1, 2, 2, 0, 0},  /* 1x1 strided: im2col path */
    {2, 3, 5, 6, 2, 1, 1, 1, 1, 1, 0},  /* 1x1 padded */
    {2, 4, 8, 8, 6, 2, 3, 1, 3, 0, 1},
    {1, 1, 4, 4, 1, 4, 4, 1, 1, 0, 0},  /* kernel covers the image */
    {3, 3, 7, 9, 5, 5, 3, 3, 1, 2, 0},
    {2, 3, 9, 8, 4, 3, 3, 2, 2, 1, 1},  /* the network's 3x3 stride 2: even width */
    {2, 3, 8, 9, 4, 3, 3, 2, 2, 1, 1},  /* odd width */
    {1, 2, 7, 7, 3, 3, 3, 2, 2, 0, 0},  /* stride 2 unpadded */
    /* one input channel: the forward pass without im2col (conv_direct.c) */
    {2, 1, 23, 37, 8, 6, 6, 4, 4, 1, 1},  /* the network's first layer, ow 9: one strip and a tail */
    {1, 1, 10, 75, 9, 6, 6, 4, 4, 1, 1},  /* ow 18, cout 9: two channel blocks */
    {1, 1, 13, 70, 11, 3, 5, 2, 3, 2, 0}, /* kh != kw, strides 2 and 3 */
    {2, 1, 9, 17, 3, 5, 5, 1, 1, 2, 2},   /* stride 1, pad 2 */
    {1, 1, 6, 5, 16, 2, 2, 1, 1, 0, 0},   /* even kernel, unpadded, two full blocks */
    {1, 1, 7, 7, 2, 7, 1, 1, 1, 3, 0},    /* a column kernel */
    {1, 1, 5, 6, 3, 2, 2, 1, 2, 3, 3},    /* padding wider than the kernel: all-padding outputs */
    {1, 1, 9, 30, 5, 4, 5, 4, 4, 0, 2},   /* stride 4, unpadded rows, pad 2 columns */
    {1, 1, 11, 230, 8, 6, 6, 4, 4, 1, 1}, /* ow 57: two whole strip groups and a tail */
    /* several input channels, 3x3 stride 2 on rows of at least 64 outputs: conv_direct.c too */
    {1, 3, 7, 130, 5, 3, 3, 2, 2, 1, 1},  /* ow 65: two groups and a one-strip tail; cout 5 */
    {2, 2, 6, 200, 9, 3, 3, 2, 2, 1, 1},  /* ow 100: a two-strip tail; three channel blocks */
    {1, 4, 5, 141, 4, 3, 3, 2, 2, 0, 0},  /* unpadded, odd width: ow 70 */
    {1, 8, 3, 130, 16, 3, 3, 2, 2, 1, 1}, /* the network's c2 channels: four full blocks */
    {1, 2, 5, 160, 4, 3, 3, 2, 2, 1, 1},  /* ow 80: a whole AVX-512 group (48) and a whole two-strip tail */
    {1, 1, 6, 256, 4, 6, 6, 4, 4, 1, 1},  /* ow 64: a whole AVX-512 group and a whole one-strip tail */
};
#define FIRST_DIRECT_CASE 12
#define N_CONV_CASES ((int)(sizeof conv_cases / sizeof conv_cases[0]))

static unsharp_conv_shape conv_case(int i)
{
    const int *c = conv_cases[i];
    return conv_shape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]);
}

#define CONV_SLOPE 0.1f /* the fused leaky ReLU's slope in the forward checks */

/* Runs forward (plain, then with bias b and the fused leaky ReLU), backward-data and
 * backward-filter of one shape on a backend; the outputs are host copies, dx and dw after
 * accumulating onto dx0 and dw0. */
typedef struct conv_run {
    float *y, *yb, *act, *dx, *dx_over, *dw;
} conv_run;

static conv_run conv_exec(unsharp_backend *be, const unsharp_conv_shape *s, const float *x, const float *w,
                          const float *b, const float *dy, const float *dx0, const float *dw0)
{
    size_t ws = be->conv_workspace(be, s);
    ck_assert_msg(ws < ((size_t)1 << 32), "workspace %zu bytes is absurd", ws);
    void *work = NULL;
    OK(be->alloc(be, ws, &work));
    float *dxd = dput(be, x, conv_nx(s)), *dwd = dput(be, w, conv_nw(s)), *dyd = dput(be, dy, conv_ny(s));
    float *yd = NULL, *ybd = NULL, *ad = NULL, *bd = dput(be, b, (size_t)s->cout);
    OK(be->alloc(be, conv_ny(s) * sizeof(float), (void **)&yd));
    OK(be->alloc(be, conv_ny(s) * sizeof(float), (void **)&ybd));
    OK(be->alloc(be, conv_ny(s) * sizeof(float), (void **)&ad));
    float *gx = dput(be, dx0, conv_nx(s)), *gw = dput(be, dw0, conv_nw(s)), *gxo = dput(be, dx0, conv_nx(s));
    OK(be->conv2d_forward(be, s, dxd, dwd, NULL, yd, NULL, 0.0f, work));
    OK(be->conv2d_forward(be, s, dxd, dwd, bd, ybd, ad, CONV_SLOPE, work));
    OK(be->conv2d_backward_data(be, s, dyd, dwd, gx, 1, work));
    OK(be->conv2d_backward_data(be, s, dyd, dwd, gxo, 0, work));
    OK(be->conv2d_backward_filter(be, s, dxd, dyd, gw, work));
    conv_run r = {dget(be, yd, conv_ny(s)), dget(be, ybd, conv_ny(s)), dget(be, ad, conv_ny(s)),
                  dget(be, gx, conv_nx(s)), dget(be, gxo, conv_nx(s)), dget(be, gw, conv_nw(s))};
    be->release(be, gxo);
    be->release(be, ybd);
    be->release(be, ad);
    be->release(be, bd);
    be->release(be, work);
    be->release(be, dxd);
    be->release(be, dwd);
    be->release(be, dyd);
    be->release(be, yd);
    be->release(be, gx);
    be->release(be, gw);
    return r;
}

static void conv_run_free(conv_run *r)
{
    free(r->y);
    free(r->yb);
    free(r->act);
    free(r->dx);
    free(r->dx_over);
    free(r->dw);
}

START_TEST(test_conv_vs_naive)
{
    const int ci = _i;
    unsharp_backend *be = backend(1);
    unsharp_conv_shape s = conv_case(ci);
    seed_rng(1000 + ci);
    size_t nx = conv_nx(&s), nw = conv_nw(&s), ny = conv_ny(&s);
    float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -1, 1), *r = rand_host(ny, -1, 1);
    float *dx0 = rand_host(nx, -1, 1), *dw0 = rand_host(nw, -1, 1), *b = rand_host((size_t)s.cout, -1, 1);
    conv_run run = conv_exec(be, &s, x, w, b, r, dx0, dw0);
    char label[96];

    double *xd = to_double(x, nx), *wd = to_double(w, nw), *rd = to_double(r, ny), *yref = dzeros(ny);
    naive_conv(&s, xd, wd, yref);
    snprintf(label, sizeof label, "conv case %d forward", ci);
    ASSERT_CLOSE(label, run.y, yref, ny, 1e-5);
    /* with the bias, and the leaky ReLU of that, against the naive sums */
    double *ybref = dzeros(ny), *aref = dzeros(ny);
    size_t plane = (size_t)s.oh * s.ow;
    for (size_t k = 0; k < ny; k++) {
        ybref[k] = yref[k] + b[(k / plane) % (size_t)s.cout];
        aref[k] = ybref[k] > 0 ? ybref[k] : (double)CONV_SLOPE * ybref[k];
    }
    snprintf(label, sizeof label, "conv case %d forward with bias", ci);
    ASSERT_CLOSE(label, run.yb, ybref, ny, 1e-5);
    snprintf(label, sizeof label, "conv case %d forward, fused leaky ReLU", ci);
    ASSERT_CLOSE(label, run.act, aref, ny, 1e-5);
    free(ybref);
    free(aref);

    /* dL/dx and dL/dw of L = sum(r * y) by finite differences; dy = r. */
    conv_ctx ctx = {&s, xd, wd, rd, yref, 0, conv_all(&s)};
    double *gx = dzeros(nx), *gw = dzeros(nw);
    fd_grad_at(conv_L, conv_box_for, xd, nx, &ctx, gx);
    ctx.wrt_w = 1;
    fd_grad_at(conv_L, conv_box_for, wd, nw, &ctx, gw);
    sub_base(run.dx, dx0, nx);
    sub_base(run.dw, dw0, nw);
    snprintf(label, sizeof label, "conv case %d backward-data", ci);
    ASSERT_CLOSE(label, run.dx, gx, nx, 1e-3);
    snprintf(label, sizeof label, "conv case %d backward-data, overwriting", ci);
    ASSERT_CLOSE(label, run.dx_over, gx, nx, 1e-3);
    snprintf(label, sizeof label, "conv case %d backward-filter", ci);
    ASSERT_CLOSE(label, run.dw, gw, nw, 1e-3);

    conv_run_free(&run);
    free(x); free(w); free(r); free(dx0); free(dw0); free(b);
    free(xd); free(wd); free(rd); free(yref); free(gx); free(gw);
    be->destroy(be);
}
END_TEST

/* threads = 2 (and 3) against threads = 1: forward and backward-data bit-exact,
 * backward-filter within 1e-5 and bit-identical from run to run. */
START_TEST(test_conv_threads)
{
    const int ci = _i;
    unsharp_backend *b1 = backend(1);
    unsharp_conv_shape s = conv_case(ci);
    seed_rng(2000 + ci);
    size_t nx = conv_nx(&s), nw = conv_nw(&s), ny = conv_ny(&s);
    float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -1, 1), *dy = rand_host(ny, -1, 1);
    float *dx0 = rand_host(nx, -1, 1), *dw0 = rand_host(nw, -1, 1), *b = rand_host((size_t)s.cout, -1, 1);
    conv_run r1 = conv_exec(b1, &s, x, w, b, dy, dx0, dw0);
    double *dw1 = to_double(r1.dw, nw);

    for (int threads = 2; threads <= 3; threads++) {
        unsharp_backend *bt = backend(threads);
        ck_assert_msg(bt->conv_workspace(bt, &s) >= b1->conv_workspace(b1, &s),
                      "threads=%d workspace smaller than threads=1", threads);
        conv_run ra = conv_exec(bt, &s, x, w, b, dy, dx0, dw0);
        conv_run rb = conv_exec(bt, &s, x, w, b, dy, dx0, dw0);
        double mx;
        size_t at;
        ck_assert_msg(memcmp(ra.y, r1.y, ny * sizeof(float)) == 0,
                      "case %d threads=%d forward differs from threads=1 (max |diff| %g)", ci, threads,
                      maxdiff(ra.y, to_double(r1.y, ny), ny, &mx, &at)); /* leaks only on failure */
        ck_assert_msg(memcmp(ra.yb, r1.yb, ny * sizeof(float)) == 0 && memcmp(ra.act, r1.act, ny * sizeof(float)) == 0,
                      "case %d threads=%d forward with bias and leaky ReLU differs from threads=1", ci, threads);
        ck_assert_msg(memcmp(ra.dx, r1.dx, nx * sizeof(float)) == 0,
                      "case %d threads=%d backward-data differs from threads=1 (max |diff| %g)", ci, threads,
                      maxdiff(ra.dx, to_double(r1.dx, nx), nx, &mx, &at));
        ck_assert_msg(memcmp(ra.dx_over, r1.dx_over, nx * sizeof(float)) == 0,
                      "case %d threads=%d overwriting backward-data differs from threads=1", ci, threads);
        char label[96];
        snprintf(label, sizeof label, "case %d threads=%d backward-filter vs threads=1", ci, threads);
        ASSERT_CLOSE(label, ra.dw, dw1, nw, 1e-5);
        ck_assert_msg(memcmp(ra.dw, rb.dw, nw * sizeof(float)) == 0,
                      "case %d threads=%d backward-filter not bit-identical run to run (max |diff| %g)", ci,
                      threads, maxdiff(ra.dw, to_double(rb.dw, nw), nw, &mx, &at));
        conv_run_free(&ra);
        conv_run_free(&rb);
        bt->destroy(bt);
    }
    conv_run_free(&r1);
    free(dw1);
    free(x); free(w); free(dy); free(dx0); free(dw0); free(b);
    b1->destroy(b1);
}
END_TEST

/* The forward of conv_winograd.c (3x3 stride 1 with at least 16 channels in and out and 256
 * outputs a channel) against the naive loop, plain, with the bias, with the fused leaky ReLU,
 * and in place (act == y, as inference runs it), on one and two threads; odd sizes leave
 * half tiles at the right and bottom edges. Its backward passes are im2col's, tested above. */
static const int wino_cases[][5] = {
    /* n cin cout h w */
    {1, 16, 16, 16, 16}, /* even: whole tiles */
    {2, 17, 20, 15, 19}, /* odd height and width, channels not a multiple of 4, two images */
    {1, 48, 48, 29, 50}, /* the network's c5 on a 1,600 x 900 photo */
    {1, 16, 24, 17, 64}, /* rows of 32 tiles: whole vectors of 16 (AVX-512) and of 8 */
};

START_TEST(test_conv_winograd)
{
    const int *c = wino_cases[_i];
    unsharp_conv_shape s = conv_shape(c[0], c[1], c[3], c[4], c[2], 3, 3, 1, 1, 1, 1);
    ck_assert_msg(unsharp__conv_winograd_applies(&s), "winograd case %d does not take conv_winograd.c", _i);
    seed_rng(4000 + _i);
    size_t nx = conv_nx(&s), nw = conv_nw(&s), ny = conv_ny(&s), plane = (size_t)s.oh * s.ow;
    float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -1, 1), *b = rand_host((size_t)s.cout, -1, 1);
    double *xd = to_double(x, nx), *wd = to_double(w, nw), *yref = dzeros(ny), *ybref = dzeros(ny), *aref = dzeros(ny);
    naive_conv(&s, xd, wd, yref);
    for (size_t k = 0; k < ny; k++) {
        ybref[k] = yref[k] + b[(k / plane) % (size_t)s.cout];
        aref[k] = ybref[k] > 0 ? ybref[k] : (double)CONV_SLOPE * ybref[k];
    }
    float *y = malloc(ny * sizeof(float)), *act = malloc(ny * sizeof(float));
    for (int threads = 1; threads <= 2; threads++) {
        unsharp_backend *be = backend(threads);
        void *work = malloc(be->conv_workspace(be, &s));
        ck_assert_ptr_nonnull(work);
        char label[96];
        memset(y, 0xff, ny * sizeof(float)); /* NaNs: every output must be written */
        OK(be->conv2d_forward(be, &s, x, w, NULL, y, NULL, 0.0f, work));
        snprintf(label, sizeof label, "winograd case %d, %d threads, forward", _i, threads);
        ASSERT_CLOSE(label, y, yref, ny, 1e-5);
        memset(act, 0xff, ny * sizeof(float));
        OK(be->conv2d_forward(be, &s, x, w, b, y, act, CONV_SLOPE, work));
        snprintf(label, sizeof label, "winograd case %d, %d threads, forward with bias", _i, threads);
        ASSERT_CLOSE(label, y, ybref, ny, 1e-5);
        snprintf(label, sizeof label, "winograd case %d, %d threads, fused leaky ReLU", _i, threads);
        ASSERT_CLOSE(label, act, aref, ny, 1e-5);
        memset(y, 0xff, ny * sizeof(float));
        OK(be->conv2d_forward(be, &s, x, w, b, y, y, CONV_SLOPE, work));
        snprintf(label, sizeof label, "winograd case %d, %d threads, leaky ReLU in place", _i, threads);
        ASSERT_CLOSE(label, y, aref, ny, 1e-5);
        free(work);
        be->destroy(be);
    }
    free(y); free(act);
    free(x); free(w); free(b); free(xd); free(wd); free(yref); free(ybref); free(aref);
}
END_TEST

/* The forward of conv_direct.c (one input channel, and several through 3x3 stride 2 on wide
 * rows) in both of its builds (plain C vectors, and AVX2 where the CPU has it) against the
 * naive loop, with the bias and the fused leaky ReLU. */
START_TEST(test_conv_direct_builds)
{
    const int ci = FIRST_DIRECT_CASE + _i;
    unsharp_conv_shape s = conv_case(ci);
    ck_assert_msg(unsharp__conv_direct_applies(&s), "conv case %d does not take conv_direct.c", ci);
    unsharp_backend *be = backend(1);
    seed_rng(3000 + ci);
    size_t nx = conv_nx(&s), nw = conv_nw(&s), ny = conv_ny(&s), plane = (size_t)s.oh * s.ow;
    float *x = rand_host(nx, -1, 1), *w = rand_host(nw, -1, 1), *b = rand_host((size_t)s.cout, -1, 1);
    double *xd = to_double(x, nx), *wd = to_double(w, nw), *yref = dzeros(ny), *aref = dzeros(ny);
    naive_conv(&s, xd, wd, yref);
    for (size_t k = 0; k < ny; k++) {
        yref[k] += b[(k / plane) % (size_t)s.cout];
        aref[k] = yref[k] > 0 ? yref[k] : (double)CONV_SLOPE * yref[k];
    }
    void *work = malloc(be->conv_workspace(be, &s));
    float *y = malloc(ny * sizeof(float)), *act = malloc(ny * sizeof(float));
    ck_assert_ptr_nonnull(work);
    for (int level = UNSHARP_SIMD_PLAIN; level <= UNSHARP_SIMD_AVX512; level++) {
        if (!simd_level_runs(level)) continue;
        memset(y, 0xff, ny * sizeof(float)); /* NaNs: every output must be written */
        OK(be->conv2d_forward(be, &s, x, w, b, y, act, CONV_SLOPE, work));
        char label[96];
        snprintf(label, sizeof label, "conv case %d, %s build, forward with bias", ci, simd_names[level]);
        ASSERT_CLOSE(label, y, yref, ny, 1e-5);
        snprintf(label, sizeof label, "conv case %d, %s build, fused leaky ReLU", ci, simd_names[level]);
        ASSERT_CLOSE(label, act, aref, ny, 1e-5);
    }
    unsharp__simd_force(-1);
    free(work); free(y); free(act);
    free(x); free(w); free(b); free(xd); free(wd); free(yref); free(aref);
    be->destroy(be);
}
END_TEST

/* simd.h's switch: UNSHARP_SIMD=plain or =avx2 (the *_plain and *_avx2 CTest entries) caps the
 * level, and the call forces each level up to the cap; otherwise the CPU decides (the
 * compiler's own CPU check as the reference: it too asks the OS, XCR0, whether the registers
 * are saved). A level this CPU lacks is named on stderr: its kernels go untested here. */
START_TEST(test_simd_switch)
{
    const char *env = getenv("UNSHARP_SIMD");
    int cap = !env ? UNSHARP_SIMD_AVX512
              : strcmp(env, "plain") == 0 ? UNSHARP_SIMD_PLAIN
              : strcmp(env, "avx2") == 0 ? UNSHARP_SIMD_AVX2 : UNSHARP_SIMD_AVX512;
    int cpu = UNSHARP_SIMD_PLAIN;
#ifdef UNSHARP_X86_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        cpu = UNSHARP_SIMD_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl"))
            cpu = UNSHARP_SIMD_AVX512;
    }
#endif
    int want = cpu < cap ? cpu : cap;
    ck_assert_int_eq(unsharp__simd_cpu_level(), cpu);
    ck_assert_int_eq(unsharp__simd_level(), want);
    ck_assert_int_eq(unsharp__simd_avx2(), want >= UNSHARP_SIMD_AVX2);
    for (int level = UNSHARP_SIMD_PLAIN; level <= UNSHARP_SIMD_AVX512; level++) {
        int got = unsharp__simd_force(level);
        ck_assert_int_eq(got, level < want ? level : want);
        ck_assert_int_eq(unsharp__simd_level(), got);
    }
    ck_assert_int_eq(unsharp__simd_force(-1), want);
    ck_assert_int_eq(unsharp__simd_level(), want);
    fprintf(stderr, "test_ops: the kernels run at the %s level (CPU: %s%s%s)\n", simd_names[want], simd_names[cpu],
            env ? ", UNSHARP_SIMD=" : "", env ? env : "");
    for (int level = cpu + 1; level <= UNSHARP_SIMD_AVX512; level++)
        fprintf(stderr, "test_ops: SKIPPED: this CPU has no %s: its %s kernels are not tested here\n", simd_names[level],
                simd_names[level]);
}
END_TEST

START_TEST(test_conv_errors)
{
    unsharp_backend *be = backend(2);
    unsharp_conv_shape s = conv_shape(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
    float *buf = dput(be, (float[1]){0}, 1);
    unsharp_conv_shape bad = s;
    bad.oh = 7; /* inconsistent */
    ck_assert_uint_eq(be->conv_workspace(be, &bad), 0);
    FAILS(UNSHARP_ERR_INVALID, be->conv2d_forward(be, &bad, buf, buf, NULL, buf, NULL, 0.0f, buf));
    bad = s;
    bad.kh = 0;
    FAILS(UNSHARP_ERR_INVALID, be->conv2d_backward_data(be, &bad, buf, buf, buf, 1, buf));
    /* A workspace is needed for 3x3 and missing. */
    ck_assert_uint_gt(be->conv_workspace(be, &s), 0);
    FAILS(UNSHARP_ERR_INVALID, be->conv2d_backward_filter(be, &s, buf, buf, buf, NULL));
    /* Absurd sizes ask for more than can be had (SIZE_MAX when the size overflows). */
    unsharp_conv_shape huge = conv_shape(4, 80000000, 45000, 45000, 8, 5, 5, 1, 1, 2, 2);
    size_t ws = be->conv_workspace(be, &huge);
    ck_assert_msg(ws > ((size_t)1 << 46), "absurd workspace reported as %zu", ws);
    void *p = NULL;
    FAILS(UNSHARP_ERR_NOMEM, be->alloc(be, ws, &p));
    /* 1x1 stride-1 with one thread needs no workspace at all, and works with NULL. */
    unsharp_backend *b1 = backend(1);
    unsharp_conv_shape one = conv_shape(2, 3, 4, 4, 2, 1, 1, 1, 1, 0, 0);
    ck_assert_uint_eq(b1->conv_workspace(b1, &one), 0);
    float *x = rand_host(conv_nx(&one), -1, 1), *w = rand_host(conv_nw(&one), -1, 1);
    float *y = malloc(conv_ny(&one) * sizeof(float));
    OK(b1->conv2d_forward(b1, &one, x, w, NULL, y, NULL, 0.0f, NULL));
    free(x); free(w); free(y);
    be->release(be, buf);
    b1->destroy(b1);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ bias, activations */

typedef struct bias_ctx {
    const double *y0, *r;
    int n, c, hw;
} bias_ctx;

static double bias_L(const double *b, void *vctx)
{
    bias_ctx *k = vctx;
    double L = 0.0;
    for (int i = 0; i < k->n; i++)
        for (int ch = 0; ch < k->c; ch++)
            for (int j = 0; j < k->hw; j++) {
                size_t at = ((size_t)i * k->c + ch) * k->hw + j;
                L += k->r[at] * (k->y0[at] + b[ch]);
            }
    return L;
}

START_TEST(test_bias)
{
    unsharp_backend *be = backend(1);
    seed_rng(7);
    const int n = 3, c = 5, hw = 13;
    const size_t ne = (size_t)n * c * hw;
    float *y0 = rand_host(ne, -1, 1), *b = rand_host(c, -1, 1), *r = rand_host(ne, -1, 1), *db0 = rand_host(c, -1, 1);
    float *yd = dput(be, y0, ne), *bd = dput(be, b, c), *rd = dput(be, r, ne), *dbd = dput(be, db0, c);
    OK(be->bias_forward(be, yd, bd, n, c, hw));
    float *got = dget(be, yd, ne);
    double *ref = dzeros(ne);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < hw; j++) {
                size_t at = ((size_t)i * c + ch) * hw + j;
                ref[at] = (double)y0[at] + b[ch];
            }
    ASSERT_CLOSE("bias forward", got, ref, ne, 1e-6);

    OK(be->bias_backward(be, rd, dbd, n, c, hw));
    float *gb = dget(be, dbd, c);
    sub_base(gb, db0, c);
    double *y0d = to_double(y0, ne), *rdd = to_double(r, ne), *bdd = to_double(b, c), *fd = dzeros(c);
    bias_ctx ctx = {y0d, rdd, n, c, hw};
    fd_grad(bias_L, bdd, c, &ctx, fd);
    ASSERT_CLOSE("bias backward", gb, fd, c, 1e-3);

    free(y0); free(b); free(r); free(db0); free(got); free(ref); free(gb);
    free(y0d); free(rdd); free(bdd); free(fd);
    be->release(be, yd); be->release(be, bd); be->release(be, rd); be->release(be, dbd);
    be->destroy(be);
}
END_TEST

typedef struct ew_ctx {
    const double *r;
    size_t n;
    double slope;
} ew_ctx;

static double lrelu_L(const double *x, void *vctx)
{
    ew_ctx *k = vctx;
    double L = 0.0;
    for (size_t i = 0; i < k->n; i++) L += k->r[i] * (x[i] > 0 ? x[i] : k->slope * x[i]);
    return L;
}

START_TEST(test_leaky_relu)
{
    const float slopes[3] = {0.0f, 0.1f, -1.0f}; /* -1: the magnitude |x| */
    unsharp_backend *be = backend(1);
    for (int si = 0; si < 3; si++) {
        const float slope = slopes[si];
        seed_rng(11 + si);
        const size_t n = 1001;
        float *x = rand_host(n, -2, 2);
        for (size_t i = 0; i < n; i++) /* away from the kink */
            while (fabsf(x[i]) < 0.05f) x[i] = frand(-2, 2);
        float *r = rand_host(n, -1, 1), *dx0 = rand_host(n, -1, 1);
        float *xd = dput(be, x, n), *yd = NULL, *rd = dput(be, r, n), *dxd = dput(be, dx0, n);
        OK(be->alloc(be, n * sizeof(float), (void **)&yd));
        OK(be->leaky_relu_forward(be, xd, yd, n, slope));
        float *got = dget(be, yd, n);
        double *ref = dzeros(n);
        for (size_t i = 0; i < n; i++) ref[i] = x[i] > 0 ? (double)x[i] : (double)slope * x[i];
        char label[64];
        snprintf(label, sizeof label, "lrelu slope %g forward", slope);
        ASSERT_CLOSE(label, got, ref, n, 1e-6);

        OK(be->leaky_relu_backward(be, xd, rd, dxd, n, slope, 1));
        float *gx = dget(be, dxd, n);
        sub_base(gx, dx0, n);
        double *xdd = to_double(x, n), *rdd = to_double(r, n), *fd = dzeros(n);
        ew_ctx ctx = {rdd, n, slope};
        fd_grad(lrelu_L, xdd, n, &ctx, fd);
        snprintf(label, sizeof label, "lrelu slope %g backward", slope);
        ASSERT_CLOSE(label, gx, fd, n, 1e-3);
        /* overwriting (accumulate 0): the gradient alone, whatever dx held */
        OK(be->leaky_relu_backward(be, xd, rd, dxd, n, slope, 0));
        float *gx_over = dget(be, dxd, n);
        snprintf(label, sizeof label, "lrelu slope %g backward, overwriting", slope);
        ASSERT_CLOSE(label, gx_over, fd, n, 1e-3);
        free(gx_over);

        /* In place: y aliases x. */
        OK(be->leaky_relu_forward(be, xd, xd, n, slope));
        float *inplace = dget(be, xd, n);
        ASSERT_CLOSE("lrelu in place", inplace, ref, n, 1e-6);

        free(x); free(r); free(dx0); free(got); free(ref); free(gx); free(xdd); free(rdd); free(fd); free(inplace);
        be->release(be, xd); be->release(be, yd); be->release(be, rd); be->release(be, dxd);
    }
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ pooling */

static unsharp_pool_shape pool_shape(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw)
{
    unsharp_pool_shape s = {n, c, h, w, kh, kw, sh, sw, ph, pw, 0, 0};
    s.oh = out_dim(h, kh, sh, ph);
    s.ow = out_dim(w, kw, sw, pw);
    return s;
}

static void naive_pool(const unsharp_pool_shape *s, int is_max, const double *x, double *y)
{
    for (int p = 0; p < s->n * s->c; p++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                double acc = is_max ? -INFINITY : 0.0;
                for (int ki = 0; ki < s->kh; ki++)
                    for (int kj = 0; kj < s->kw; kj++) {
                        int iy = oy * s->sh - s->ph + ki, ix = ox * s->sw - s->pw + kj;
                        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue; /* padding */
                        double v = x[((size_t)p * s->h + iy) * s->w + ix];
                        if (is_max) acc = v > acc ? v : acc;
                        else acc += v;
                    }
                y[((size_t)p * s->oh + oy) * s->ow + ox] = is_max ? acc : acc / (s->kh * s->kw);
            }
}

typedef struct pool_ctx {
    const unsharp_pool_shape *s;
    int is_max;
    const double *r;
    double *y;
} pool_ctx;

static double pool_L(const double *x, void *vctx)
{
    pool_ctx *k = vctx;
    naive_pool(k->s, k->is_max, x, k->y);
    return dot(k->r, k->y, (size_t)k->s->n * k->s->c * k->s->oh * k->s->ow);
}

/* Values with pairwise gaps of at least 1/(2n): no finite-difference step crosses a tie. */
static float *distinct_host(size_t n)
{
    float *h = malloc(n * sizeof(float));
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < n; i++) h[i] = (float)i / (float)n * 4.0f - 2.0f;
    for (size_t i = n; i > 1; i--) { /* shuffle */
        size_t j = (size_t)(urand() * i);
        float t = h[i - 1];
        h[i - 1] = h[j];
        h[j] = t;
    }
    return h;
}

static const int pool_cases[][10] = {
    /* n c  h  w kh kw sh sw ph pw */
    {2, 3, 7, 8, 3, 3, 2, 2, 1, 1},
    {1, 2, 6, 6, 2, 2, 2, 2, 0, 0},
    {2, 2, 9, 7, 3, 2, 1, 2, 1, 0},
    {3, 1, 5, 5, 5, 5, 1, 1, 2, 2},
    {2, 3, 10, 11, 4, 3, 3, 3, 2, 1},
};

START_TEST(test_pool)
{
    const int ci = _i / 2, is_max = _i % 2;
    const int *c = pool_cases[ci];
    unsharp_pool_shape s = pool_shape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]);
    unsharp_backend *be = backend(1);
    seed_rng(300 + _i);
    size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = (size_t)s.n * s.c * s.oh * s.ow;
    float *x = distinct_host(nx), *r = rand_host(ny, -1, 1), *dx0 = rand_host(nx, -1, 1);
    float *xd = dput(be, x, nx), *rd = dput(be, r, ny), *dxd = dput(be, dx0, nx), *yd = NULL;
    int32_t *am = NULL;
    OK(be->alloc(be, ny * sizeof(float), (void **)&yd));
    OK(be->alloc(be, ny * sizeof(int32_t), (void **)&am));
    OK(be->pool2d_forward(be, &s, is_max, xd, yd, am));
    float *got = dget(be, yd, ny);
    double *xdd = to_double(x, nx), *ref = dzeros(ny);
    naive_pool(&s, is_max, xdd, ref);
    char label[64];
    snprintf(label, sizeof label, "%s pool case %d forward", is_max ? "max" : "avg", ci);
    ASSERT_CLOSE(label, got, ref, ny, 1e-6);

    if (is_max) { /* argmax: the flat index into the plane of an input equal to the output */
        int32_t *ah = malloc(ny * sizeof(int32_t));
        OK(be->download(be, ah, am, ny * sizeof(int32_t)));
        for (size_t o = 0; o < ny; o++) {
            size_t plane = o / ((size_t)s.oh * s.ow);
            ck_assert_msg(ah[o] >= 0 && ah[o] < s.h * s.w, "argmax[%zu] = %d out of the plane", o, ah[o]);
            ck_assert_msg(x[plane * s.h * s.w + ah[o]] == got[o], "argmax[%zu] = %d does not hold the max", o, ah[o]);
        }
        free(ah);
    }

    OK(be->pool2d_backward(be, &s, is_max, rd, am, dxd));
    float *gx = dget(be, dxd, nx);
    sub_base(gx, dx0, nx);
    double *rdd = to_double(r, ny), *fd = dzeros(nx);
    pool_ctx ctx = {&s, is_max, rdd, ref};
    fd_grad(pool_L, xdd, nx, &ctx, fd);
    snprintf(label, sizeof label, "%s pool case %d backward", is_max ? "max" : "avg", ci);
    ASSERT_CLOSE(label, gx, fd, nx, 1e-3);

    free(x); free(r); free(dx0); free(got); free(xdd); free(ref); free(gx); free(rdd); free(fd);
    be->release(be, xd); be->release(be, rd); be->release(be, dxd); be->release(be, yd); be->release(be, am);
    be->destroy(be);
}
END_TEST

static void naive_gpool(unsharp_gpool_kind kind, const double *x, double *y, int rows, int hw)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * hw;
        double mean = 0.0, mx = xr[0], var = 0.0;
        for (int j = 0; j < hw; j++) {
            mean += xr[j];
            if (xr[j] > mx) mx = xr[j];
        }
        mean /= hw;
        for (int j = 0; j < hw; j++) var += (xr[j] - mean) * (xr[j] - mean);
        y[r] = kind == UNSHARP_GPOOL_MEAN ? mean : kind == UNSHARP_GPOOL_MAX ? mx : var / hw;
    }
}

typedef struct gpool_ctx {
    unsharp_gpool_kind kind;
    int rows, hw;
    const double *r;
    double *y;
} gpool_ctx;

static double gpool_L(const double *x, void *vctx)
{
    gpool_ctx *k = vctx;
    naive_gpool(k->kind, x, k->y, k->rows, k->hw);
    return dot(k->r, k->y, (size_t)k->rows);
}

START_TEST(test_global_pool)
{
    static const char *names[3] = {"gmean", "gmax", "gvar"};
    const unsharp_gpool_kind kind = (unsharp_gpool_kind)_i;
    unsharp_backend *be = backend(1);
    seed_rng(400 + _i);
    const int rows = 6, hw = 37;
    const size_t nx = (size_t)rows * hw;
    float *x = distinct_host(nx), *r = rand_host(rows, -1, 1), *dx0 = rand_host(nx, -1, 1);
    for (size_t i = 0; i < nx; i++) x[i] += 0.7f; /* a non-zero mean */
    float *xd = dput(be, x, nx), *rd = dput(be, r, rows), *dxd = dput(be, dx0, nx), *yd = NULL;
    OK(be->alloc(be, rows * sizeof(float), (void **)&yd));
    OK(be->global_pool_forward(be, kind, xd, yd, rows, hw));
    float *got = dget(be, yd, rows);
    double *xdd = to_double(x, nx), *ref = dzeros(rows);
    naive_gpool(kind, xdd, ref, rows, hw);
    char label[64];
    snprintf(label, sizeof label, "%s forward", names[_i]);
    ASSERT_CLOSE(label, got, ref, rows, 1e-5);

    OK(be->global_pool_backward(be, kind, xd, yd, rd, dxd, rows, hw));
    float *gx = dget(be, dxd, nx);
    sub_base(gx, dx0, nx);
    double *rdd = to_double(r, rows), *fd = dzeros(nx);
    gpool_ctx ctx = {kind, rows, hw, rdd, ref};
    fd_grad(gpool_L, xdd, nx, &ctx, fd);
    snprintf(label, sizeof label, "%s backward", names[_i]);
    ASSERT_CLOSE(label, gx, fd, nx, 1e-3);

    FAILS(UNSHARP_ERR_INVALID, be->global_pool_forward(be, (unsharp_gpool_kind)7, xd, yd, rows, hw));

    free(x); free(r); free(dx0); free(got); free(xdd); free(ref); free(gx); free(rdd); free(fd);
    be->release(be, xd); be->release(be, rd); be->release(be, dxd); be->release(be, yd);
    be->destroy(be);
}
END_TEST

/* Ties: the gradient goes to the first index holding the maximum. */
START_TEST(test_max_ties)
{
    unsharp_backend *be = backend(1);
    float *xd = dput(be, (float[8]){1, 3, 2, 3, 5, 5, 5, 5}, 8), *dyd = dput(be, (float[2]){1, 2}, 2), *dxd = NULL;
    float *yd = NULL;
    OK(be->alloc(be, 8 * sizeof(float), (void **)&dxd));
    OK(be->alloc(be, 2 * sizeof(float), (void **)&yd));
    OK(be->global_pool_forward(be, UNSHARP_GPOOL_MAX, xd, yd, 2, 4));
    OK(be->global_pool_backward(be, UNSHARP_GPOOL_MAX, xd, yd, dyd, dxd, 2, 4));
    float *dx = dget(be, dxd, 8), *y = dget(be, yd, 2);
    const float want[8] = {0, 1, 0, 0, 2, 0, 0, 0};
    ck_assert_msg(y[0] == 3.0f && y[1] == 5.0f, "gmax with ties: %g %g", y[0], y[1]);
    for (int i = 0; i < 8; i++) ck_assert_msg(dx[i] == want[i], "gmax ties: dx[%d] = %g, wanted %g", i, dx[i], want[i]);
    free(dx);
    free(y);

    /* 2x2 max pool, stride 2, over a (1, 1, 2, 4) image of two constant windows. */
    unsharp_pool_shape s = pool_shape(1, 1, 2, 4, 2, 2, 2, 2, 0, 0);
    int32_t *am = NULL;
    OK(be->alloc(be, 2 * sizeof(int32_t), (void **)&am));
    OK(be->fill(be, dxd, 0.0f, 8));
    float *px = dput(be, (float[8]){3, 4, 7, 7, 4, 4, 7, 7}, 8);
    OK(be->pool2d_forward(be, &s, 1, px, yd, am));
    int32_t a[2];
    OK(be->download(be, a, am, sizeof a));
    ck_assert_msg(a[0] == 1 && a[1] == 2, "maxpool ties: argmax %d %d, wanted 1 2", a[0], a[1]);
    OK(be->pool2d_backward(be, &s, 1, dyd, am, dxd));
    dx = dget(be, dxd, 8);
    const float want2[8] = {0, 1, 2, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++) ck_assert_msg(dx[i] == want2[i], "maxpool ties: dx[%d] = %g, wanted %g", i, dx[i], want2[i]);
    free(dx);
    be->release(be, xd); be->release(be, dyd); be->release(be, dxd); be->release(be, yd);
    be->release(be, am); be->release(be, px);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ local contrast normalisation */

/* The window summed directly, O(k^2) a pixel, with the variance taken about the mean. */
static void naive_lcn(const double *x, double *y, int planes, int h, int w, int k, double eps)
{
    const int r = k / 2;
    for (int p = 0; p < planes; p++) {
        const double *xp = x + (size_t)p * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                double sum = 0.0;
                int cnt = 0;
                for (int a = i - r; a <= i + r; a++)
                    for (int b = j - r; b <= j + r; b++)
                        if (a >= 0 && a < h && b >= 0 && b < w) sum += xp[a * w + b], cnt++;
                double mean = sum / cnt, ss = 0.0;
                for (int a = i - r; a <= i + r; a++)
                    for (int b = j - r; b <= j + r; b++)
                        if (a >= 0 && a < h && b >= 0 && b < w) ss += (xp[a * w + b] - mean) * (xp[a * w + b] - mean);
                y[(size_t)p * h * w + i * w + j] = (xp[i * w + j] - mean) / sqrt(ss / cnt + eps * eps);
            }
    }
}

typedef struct lcn_ctx {
    int planes, h, w, k;
    double eps;
    const double *r;
    double *y;
} lcn_ctx;

static double lcn_L(const double *x, void *vctx)
{
    lcn_ctx *c = vctx;
    naive_lcn(x, c->y, c->planes, c->h, c->w, c->k, c->eps);
    return dot(c->r, c->y, (size_t)c->planes * c->h * c->w);
}

static const struct { int n, c, h, w, k; float eps, lo, hi; } lcn_cases[] = {
    {2, 3, 7, 5, 3, 0.1f, 0.0f, 1.0f},      /* odd sizes, several channels, a batch */
    {2, 2, 33, 17, 15, 0.02f, 0.0f, 1.0f},  /* the size the network uses, on a small plane */
    {3, 1, 5, 7, 9, 0.05f, 0.0f, 1.0f},     /* the window larger than the plane */
    {1, 2, 12, 9, 63, 0.02f, 0.0f, 1.0f},   /* the largest window */
    {2, 1, 9, 11, 5, 0.02f, 0.45f, 0.47f},  /* low contrast, where eps matters */
    {1, 1, 6, 8, 1, 0.3f, 0.0f, 1.0f},      /* a 1x1 window: x - x over eps, all 0 */
};
#define N_LCN_CASES ((int)(sizeof lcn_cases / sizeof lcn_cases[0]))

/* Forward against the naive window sums; backward (overwriting and adding) against central
 * finite differences of the naive forward, at up to 150 inputs spread over the tensor. */
START_TEST(test_lcn)
{
    const int planes = lcn_cases[_i].n * lcn_cases[_i].c, h = lcn_cases[_i].h, w = lcn_cases[_i].w,
              k = lcn_cases[_i].k;
    const float eps = lcn_cases[_i].eps;
    unsharp_backend *be = backend(1);
    seed_rng(500 + _i);
    const size_t nx = (size_t)planes * h * w;
    float *x = rand_host(nx, lcn_cases[_i].lo, lcn_cases[_i].hi), *r = rand_host(nx, -1, 1),
          *dx0 = rand_host(nx, -1, 1);
    float *xd = dput(be, x, nx), *rd = dput(be, r, nx), *yd = NULL, *yd2 = NULL, *stats = NULL;
    void *work = NULL;
    OK(be->alloc(be, nx * sizeof(float), (void **)&yd));
    OK(be->alloc(be, nx * sizeof(float), (void **)&yd2));
    OK(be->alloc(be, 2 * nx * sizeof(float), (void **)&stats));
    OK(be->alloc(be, be->lcn_workspace(be, planes, h, w, k), &work));

    OK(be->lcn_forward(be, xd, yd, stats, planes, h, w, k, eps, work));
    float *got = dget(be, yd, nx);
    double *xdd = to_double(x, nx), *ref = dzeros(nx);
    ck_assert(nx > 0);
    naive_lcn(xdd, ref, planes, h, w, k, eps);
    char label[64];
    snprintf(label, sizeof label, "lcn case %d forward", _i);
    ASSERT_CLOSE(label, got, ref, nx, 1e-5);
    /* inference: no statistics kept, the same output */
    OK(be->lcn_forward(be, xd, yd2, NULL, planes, h, w, k, eps, work));
    float *got2 = dget(be, yd2, nx);
    ck_assert_msg(memcmp(got, got2, nx * sizeof(float)) == 0, "lcn case %d: forward without stats differs", _i);

    /* central differences, as fd_grad, at every step-th input; fd and at hold them in order */
    double *rdd = to_double(r, nx), *fd = dzeros(nx);
    size_t *at = malloc(nx * sizeof *at), m = 0;
    lcn_ctx ctx = {planes, h, w, k, eps, rdd, ref};
    for (size_t i = 0; i < nx; i += nx > 150 ? nx / 150 + 1 : 1) {
        double save = xdd[i];
        xdd[i] = save + 1e-6;
        double fp = lcn_L(xdd, &ctx);
        xdd[i] = save - 1e-6;
        double fm = lcn_L(xdd, &ctx);
        xdd[i] = save;
        at[m] = i;
        fd[m++] = (fp - fm) / 2e-6;
    }
    for (int acc = 0; acc < 2; acc++) {
        float *dxd = dput(be, dx0, nx);
        OK(be->lcn_backward(be, xd, stats, rd, dxd, acc, planes, h, w, k, eps, work));
        float *gx = dget(be, dxd, nx);
        if (acc) sub_base(gx, dx0, nx);
        for (size_t j = 0; j < m; j++) gx[j] = gx[at[j]];
        snprintf(label, sizeof label, "lcn case %d backward accumulate=%d", _i, acc);
        ASSERT_CLOSE(label, gx, fd, m, 1e-4);
        free(gx);
        be->release(be, dxd);
    }
    free(at);
    FAILS(UNSHARP_ERR_INVALID, be->lcn_forward(be, xd, yd, stats, planes, h, w, 4, eps, work));
    FAILS(UNSHARP_ERR_INVALID, be->lcn_forward(be, xd, yd, stats, planes, h, w, k, 0.0f, work));
    FAILS(UNSHARP_ERR_INVALID, be->lcn_backward(be, xd, stats, rd, yd, 0, planes, h, w, k, -1.0f, work));
    be->release(be, work);
    free(got); free(got2); free(x); free(r); free(dx0); free(xdd); free(ref); free(rdd); free(fd);
    be->release(be, xd); be->release(be, rd); be->release(be, yd); be->release(be, yd2); be->release(be, stats);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ channel slices */

START_TEST(test_channels)
{
    unsharp_backend *be = backend(1);
    seed_rng(17);
    const int n = 3, hw = 11, dst_c = 9, src_c = 4, off = 3;
    const size_t nd = (size_t)n * dst_c * hw, ns = (size_t)n * src_c * hw;
    float *dst0 = rand_host(nd, -1, 1), *src = rand_host(ns, -1, 1);
    double *ref = dzeros(nd);
    char label[64];
    for (int acc = 0; acc < 2; acc++) {
        float *dd = dput(be, dst0, nd), *sd = dput(be, src, ns);
        OK(be->copy_channels(be, dd, dst_c, off, sd, src_c, n, hw, acc));
        for (int i = 0; i < n; i++)
            for (int c = 0; c < dst_c; c++)
                for (int j = 0; j < hw; j++) {
                    size_t at = ((size_t)i * dst_c + c) * hw + j;
                    ref[at] = dst0[at];
                    if (c >= off && c < off + src_c) {
                        double v = src[((size_t)i * src_c + (c - off)) * hw + j];
                        ref[at] = acc ? ref[at] + v : v;
                    }
                }
        float *got = dget(be, dd, nd);
        snprintf(label, sizeof label, "copy_channels accumulate=%d", acc);
        ASSERT_CLOSE(label, got, ref, nd, 1e-6);
        free(got);
        FAILS(UNSHARP_ERR_INVALID, be->copy_channels(be, dd, dst_c, 6, sd, src_c, n, hw, acc));
        be->release(be, dd);
        be->release(be, sd);
    }

    /* slice_channels_add: a (n, 4, hw) += big (n, 9, hw)[:, 3:7]. */
    float *small0 = rand_host(ns, -1, 1), *big = rand_host(nd, -1, 1);
    float *smd = dput(be, small0, ns), *bgd = dput(be, big, nd);
    OK(be->slice_channels_add(be, smd, src_c, bgd, dst_c, off, n, hw));
    double *sref = dzeros(ns);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < src_c; c++)
            for (int j = 0; j < hw; j++) {
                size_t at = ((size_t)i * src_c + c) * hw + j;
                sref[at] = (double)small0[at] + big[((size_t)i * dst_c + c + off) * hw + j];
            }
    float *got = dget(be, smd, ns);
    ASSERT_CLOSE("slice_channels_add", got, sref, ns, 1e-6);
    FAILS(UNSHARP_ERR_INVALID, be->slice_channels_add(be, smd, src_c, bgd, dst_c, 6, n, hw));

    free(got); free(small0); free(big); free(sref); free(dst0); free(src); free(ref);
    be->release(be, smd); be->release(be, bgd);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ dropout */

START_TEST(test_dropout)
{
    unsharp_backend *be = backend(1);
    seed_rng(19);
    const size_t n = 100000;
    const float p = 0.3f;
    float *x = rand_host(n, -1, 1), *dy = rand_host(n, -1, 1), *dx0 = rand_host(n, -1, 1);
    float *xd = dput(be, x, n), *dyd = dput(be, dy, n), *dxd = dput(be, dx0, n);
    float *yd = NULL, *md = NULL, *md2 = NULL;
    OK(be->alloc(be, n * sizeof(float), (void **)&yd));
    OK(be->alloc(be, n * sizeof(float), (void **)&md));
    OK(be->alloc(be, n * sizeof(float), (void **)&md2));

    OK(be->dropout_forward(be, xd, yd, md, n, p, 42));
    float *y = dget(be, yd, n), *mask = dget(be, md, n);
    size_t zeros = 0;
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(mask[i] == 0.0f || fabsf(mask[i] - keep) <= 1e-6f * keep, "mask[%zu] = %g", i, mask[i]);
        float want = (unsharp__hash_uniform(42, i) < p) ? 0.0f : keep;
        ck_assert_msg(mask[i] == want, "mask[%zu] = %g, the shared hash says %g", i, mask[i], want);
        ck_assert_msg(fabsf(y[i] - x[i] * mask[i]) <= 1e-6f, "y[%zu] = %g, x*mask = %g", i, y[i], x[i] * mask[i]);
        zeros += mask[i] == 0.0f;
    }
    double frac = (double)zeros / n;
    ck_assert_msg(fabs(frac - p) < 0.01, "dropped fraction %g, wanted %g", frac, p);

    /* Same seed, same mask; another seed, another mask. */
    OK(be->dropout_forward(be, xd, yd, md2, n, p, 42));
    float *mask2 = dget(be, md2, n);
    ck_assert_msg(memcmp(mask, mask2, n * sizeof(float)) == 0, "same seed gave a different mask");
    free(mask2);
    OK(be->dropout_forward(be, xd, yd, md2, n, p, 43));
    mask2 = dget(be, md2, n);
    size_t same = 0;
    for (size_t i = 0; i < n; i++) same += mask[i] == mask2[i];
    ck_assert_msg(same < n * 0.7, "seeds 42 and 43 agree on %zu of %zu", same, n);

    /* Backward: dx += dy * mask. */
    OK(be->dropout_backward(be, dyd, md, dxd, n));
    float *gx = dget(be, dxd, n);
    double *ref = dzeros(n);
    for (size_t i = 0; i < n; i++) ref[i] = (double)dx0[i] + (double)dy[i] * mask[i];
    ASSERT_CLOSE("dropout backward", gx, ref, n, 1e-6);

    /* p = 0 is the identity; p = 1 is refused. */
    OK(be->dropout_forward(be, xd, yd, md2, n, 0.0f, 42));
    float *y0 = dget(be, yd, n), *m0 = dget(be, md2, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(m0[i] == 1.0f, "p=0: mask[%zu] = %g", i, m0[i]);
        ck_assert_msg(y0[i] == x[i], "p=0: y[%zu] = %g, x = %g", i, y0[i], x[i]);
    }
    FAILS(UNSHARP_ERR_INVALID, be->dropout_forward(be, xd, yd, md2, n, 1.0f, 42));

    free(x); free(dy); free(dx0); free(y); free(mask); free(mask2); free(gx); free(ref); free(y0); free(m0);
    be->release(be, xd); be->release(be, dyd); be->release(be, dxd); be->release(be, yd);
    be->release(be, md); be->release(be, md2);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ losses */

typedef struct sce_ctx {
    const double *t, *w;
    size_t n;
    double scale;
} sce_ctx;

/* -t log s(x) - (1-t) log(1 - s(x)), written as t log(1+e^-x) + (1-t) log(1+e^x). */
static double sce_L(const double *x, void *vctx)
{
    sce_ctx *k = vctx;
    double L = 0.0;
    for (size_t i = 0; i < k->n; i++) {
        double w = k->w ? k->w[i] : 1.0;
        L += w * (k->t[i] * log(1.0 + exp(-x[i])) + (1.0 - k->t[i]) * log(1.0 + exp(x[i])));
    }
    return k->scale * L;
}

START_TEST(test_sigmoid_ce)
{
    unsharp_backend *be = backend(1);
    seed_rng(23);
    const size_t n = 300;
    const float scale = 0.37f;
    float *x = rand_host(n, -8, 8), *t = rand_host(n, 0, 1), *w = rand_host(n, 0, 2), *g0 = rand_host(n, -1, 1);
    x[0] = 20.0f; x[1] = -20.0f; x[2] = 0.0f;
    t[3] = 0.0f; t[4] = 1.0f;
    for (int weighted = 0; weighted < 2; weighted++) {
        float *xd = dput(be, x, n), *td = dput(be, t, n), *wd = weighted ? dput(be, w, n) : NULL, *gd = dput(be, g0, n);
        double loss = 1.5;
        OK(be->sigmoid_ce(be, xd, td, wd, n, scale, gd, &loss));
        double *xdd = to_double(x, n), *tdd = to_double(t, n), *wdd = weighted ? to_double(w, n) : NULL;
        sce_ctx ctx = {tdd, wdd, n, scale};
        double ref = sce_L(xdd, &ctx);
        ck_assert_msg(fabs((loss - 1.5) - ref) <= 1e-6 * fabs(ref), "weighted=%d loss %.12g, naive %.12g (diff %.3g)",
                      weighted, loss - 1.5, ref, (loss - 1.5) - ref);
        float *g = dget(be, gd, n);
        sub_base(g, g0, n);
        double *fd = dzeros(n);
        fd_grad(sce_L, xdd, n, &ctx, fd);
        ASSERT_CLOSE(weighted ? "sigmoid_ce grad (weighted)" : "sigmoid_ce grad", g, fd, n, 1e-3);
        free(xdd); free(tdd); free(wdd); free(g); free(fd);
        be->release(be, xd); be->release(be, td); be->release(be, wd); be->release(be, gd);
    }

    /* Far logits stay finite: loss |x| where the target disagrees, 0 where it agrees. */
    float *xs = dput(be, (float[4]){100.0f, -100.0f, 100.0f, -100.0f}, 4);
    float *ts = dput(be, (float[4]){0.0f, 1.0f, 1.0f, 0.0f}, 4), *gsd = NULL;
    OK(be->alloc(be, 4 * sizeof(float), (void **)&gsd));
    double loss = 0.0;
    OK(be->sigmoid_ce(be, xs, ts, NULL, 4, 1.0f, gsd, &loss));
    float *gs = dget(be, gsd, 4);
    ck_assert_msg(fabs(loss - 200.0) < 1e-9, "far logits: loss %.12g, wanted 200", loss);
    ck_assert_msg(gs[0] == 1.0f && gs[1] == -1.0f && fabsf(gs[2]) < 1e-30f && fabsf(gs[3]) < 1e-30f,
                  "far logits: grads %g %g %g %g", gs[0], gs[1], gs[2], gs[3]);
    free(gs);
    be->release(be, xs); be->release(be, ts); be->release(be, gsd);

    free(x); free(t); free(w); free(g0);
    be->destroy(be);
}
END_TEST

typedef struct smce_ctx {
    const double *t, *w;
    int n, k, s;
    double scale;
} smce_ctx;

/* -log softmax at the target, in double without max subtraction (|x| < 700 is safe). */
static double smce_L(const double *x, void *vctx)
{
    smce_ctx *c = vctx;
    double L = 0.0;
    for (int i = 0; i < c->n; i++)
        for (int j = 0; j < c->s; j++) {
            double z = 0.0;
            for (int q = 0; q < c->k; q++) z += exp(x[((size_t)i * c->k + q) * c->s + j]);
            int t = (int)c->t[(size_t)i * c->s + j];
            double w = c->w ? c->w[(size_t)i * c->s + j] : 1.0;
            L += w * (log(z) - x[((size_t)i * c->k + t) * c->s + j]);
        }
    return c->scale * L;
}

START_TEST(test_softmax_ce)
{
    unsharp_backend *be = backend(1);
    seed_rng(29);
    const int n = 2, k = 5, s = 7;
    const size_t nl = (size_t)n * k * s, nt = (size_t)n * s;
    const float scale = 0.8f;
    float *x = rand_host(nl, -3, 3), *w = rand_host(nt, 0, 2), *g0 = rand_host(nl, -1, 1);
    float *t = malloc(nt * sizeof(float));
    for (size_t i = 0; i < nt; i++) t[i] = (float)(int)(urand() * k);
    /* Position 2 of image 1 is shifted by 300: float exp would overflow without max subtraction. */
    for (int q = 0; q < k; q++) x[((size_t)1 * k + q) * s + 2] += 300.0f;
    for (int weighted = 0; weighted < 2; weighted++) {
        float *xd = dput(be, x, nl), *td = dput(be, t, nt), *wd = weighted ? dput(be, w, nt) : NULL;
        float *gd = dput(be, g0, nl);
        double loss = -2.0;
        OK(be->softmax_ce(be, xd, td, wd, n, k, s, scale, gd, &loss));
        double *xdd = to_double(x, nl), *tdd = to_double(t, nt), *wdd = weighted ? to_double(w, nt) : NULL;
        smce_ctx ctx = {tdd, wdd, n, k, s, scale};
        double ref = smce_L(xdd, &ctx);
        ck_assert_msg(fabs((loss + 2.0) - ref) <= 1e-6 * fabs(ref), "weighted=%d loss %.12g, naive %.12g (diff %.3g)",
                      weighted, loss + 2.0, ref, (loss + 2.0) - ref);
        float *g = dget(be, gd, nl);
        sub_base(g, g0, nl);
        double *fd = dzeros(nl);
        fd_grad(smce_L, xdd, nl, &ctx, fd);
        ASSERT_CLOSE(weighted ? "softmax_ce grad (weighted)" : "softmax_ce grad", g, fd, nl, 1e-3);
        free(xdd); free(tdd); free(wdd); free(g); free(fd);
        be->release(be, xd); be->release(be, td); be->release(be, wd); be->release(be, gd);
    }

    /* A target outside [0, k) or not an integer is refused, and nothing is written. */
    float *gd = dput(be, g0, nl), *xd = dput(be, x, nl);
    float bad[2] = {5.0f, 1.5f};
    for (int b = 0; b < 2; b++) {
        float *t2 = malloc(nt * sizeof(float));
        memcpy(t2, t, nt * sizeof(float));
        t2[nt - 1] = bad[b];
        double loss = 0.0;
        FAILS(UNSHARP_ERR_INVALID, be->softmax_ce(be, xd, t2, NULL, n, k, s, scale, gd, &loss));
        ck_assert_msg(loss == 0.0, "loss touched on failure: %g", loss);
        float *g = dget(be, gd, nl);
        ck_assert_msg(memcmp(g, g0, nl * sizeof(float)) == 0, "grad touched on failure");
        free(g);
        free(t2);
    }
    be->release(be, gd);
    be->release(be, xd);
    free(x); free(w); free(g0); free(t);
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ optimisers */

START_TEST(test_adam)
{
    const float wds[2] = {0.0f, 0.05f};
    unsharp_backend *be = backend(1);
    for (int wi = 0; wi < 2; wi++) {
        seed_rng(31 + wi);
        const size_t n = 257;
        unsharp_adam_params hp = {0.01f, 0.9f, 0.999f, 1e-8f, wds[wi], 0};
        float *p0 = rand_host(n, -1, 1);
        float *pd = dput(be, p0, n), *md = NULL, *vd = NULL;
        OK(be->alloc(be, n * sizeof(float), (void **)&md));
        OK(be->alloc(be, n * sizeof(float), (void **)&vd));
        double *p = to_double(p0, n), *m = dzeros(n), *v = dzeros(n);
        for (int step = 1; step <= 3; step++) {
            float *g = rand_host(n, -1, 1);
            float *gd = dput(be, g, n);
            hp.t = step;
            OK(be->adam_step(be, pd, gd, md, vd, n, &hp));
            double lr = hp.lr, b1 = hp.beta1, b2 = hp.beta2, eps = hp.eps, wd = hp.weight_decay;
            for (size_t i = 0; i < n; i++) { /* AdamW, textbook form */
                p[i] -= lr * wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
                double mh = m[i] / (1 - pow(b1, step)), vh = v[i] / (1 - pow(b2, step));
                p[i] -= lr * mh / (sqrt(vh) + eps);
            }
            float *ph = dget(be, pd, n), *mh = dget(be, md, n), *vh = dget(be, vd, n);
            char label[64];
            snprintf(label, sizeof label, "adam wd=%g step %d p", wds[wi], step);
            ASSERT_CLOSE(label, ph, p, n, 1e-5);
            snprintf(label, sizeof label, "adam wd=%g step %d m", wds[wi], step);
            ASSERT_CLOSE(label, mh, m, n, 1e-5);
            snprintf(label, sizeof label, "adam wd=%g step %d v", wds[wi], step);
            ASSERT_CLOSE(label, vh, v, n, 1e-5);
            free(ph); free(mh); free(vh); free(g);
            be->release(be, gd);
        }
        hp.t = 0;
        FAILS(UNSHARP_ERR_INVALID, be->adam_step(be, pd, pd, md, vd, n, &hp));
        free(p0); free(p); free(m); free(v);
        be->release(be, pd); be->release(be, md); be->release(be, vd);
    }
    be->destroy(be);
}
END_TEST

START_TEST(test_sgd)
{
    const float moms[2] = {0.9f, 0.0f};
    unsharp_backend *be = backend(1);
    for (int mi = 0; mi < 2; mi++) {
        seed_rng(37 + mi);
        const size_t n = 129;
        const float lr = 0.05f, mom = moms[mi], wd = 0.01f;
        float *p0 = rand_host(n, -1, 1);
        float *pd = dput(be, p0, n), *veld = NULL;
        if (mom != 0.0f) OK(be->alloc(be, n * sizeof(float), (void **)&veld)); /* NULL without momentum */
        double *p = to_double(p0, n), *vel = dzeros(n);
        for (int step = 1; step <= 3; step++) {
            float *g = rand_host(n, -1, 1);
            float *gd = dput(be, g, n);
            OK(be->sgd_step(be, pd, gd, veld, n, lr, mom, wd));
            for (size_t i = 0; i < n; i++) { /* torch.optim.SGD, dampening 0 */
                double d = g[i] + (double)wd * p[i];
                if (mom != 0.0f) {
                    vel[i] = step == 1 ? d : mom * vel[i] + d;
                    d = vel[i];
                }
                p[i] -= lr * d;
            }
            float *ph = dget(be, pd, n);
            char label[64];
            snprintf(label, sizeof label, "sgd momentum %g step %d p", mom, step);
            ASSERT_CLOSE(label, ph, p, n, 1e-5);
            if (veld) {
                float *vh = dget(be, veld, n);
                snprintf(label, sizeof label, "sgd momentum %g step %d velocity", mom, step);
                ASSERT_CLOSE(label, vh, vel, n, 1e-5);
                free(vh);
            }
            free(ph); free(g);
            be->release(be, gd);
        }
        free(p0); free(p); free(vel);
        be->release(be, pd); be->release(be, veld);
    }
    be->destroy(be);
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *ops_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc;

    tc = tcase_create("memory");
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_gemm);
    suite_add_tcase(s, tc);

    tc = tcase_create("conv");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_conv_vs_naive, 0, N_CONV_CASES);
    tcase_add_loop_test(tc, test_conv_threads, 0, N_CONV_CASES);
    tcase_add_loop_test(tc, test_conv_direct_builds, 0, N_CONV_CASES - FIRST_DIRECT_CASE);
    tcase_add_loop_test(tc, test_conv_winograd, 0, (int)(sizeof wino_cases / sizeof wino_cases[0]));
    tcase_add_test(tc, test_simd_switch);
    tcase_add_test(tc, test_conv_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("elementwise");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_bias);
    tcase_add_test(tc, test_leaky_relu);
    tcase_add_test(tc, test_channels);
    tcase_add_test(tc, test_dropout);
    suite_add_tcase(s, tc);

    tc = tcase_create("lcn");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_lcn, 0, N_LCN_CASES);
    suite_add_tcase(s, tc);

    tc = tcase_create("pool");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_pool, 0, 2 * (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_loop_test(tc, test_global_pool, 0, 3);
    tcase_add_test(tc, test_max_ties);
    suite_add_tcase(s, tc);

    tc = tcase_create("loss");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sigmoid_ce);
    tcase_add_test(tc, test_softmax_ce);
    suite_add_tcase(s, tc);

    tc = tcase_create("optim");
    tcase_add_test(tc, test_adam);
    tcase_add_test(tc, test_sgd);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(ops_suite()); }
