/* lcn.c: local contrast normalisation on the CPU, forward and backward side by side (the
 * slots' contract is in backend.h).
 *
 * Both passes are box sums over the k x k window, clipped to the plane, at a cost per pixel
 * that does not grow with k: for each output row the sums over the window's rows are kept per
 * column (the row entering the window added, the one leaving it taken off), and a prefix sum
 * along the row then gives each window's sum by one subtraction. The sums are kept in double,
 * so the running update does not drift and the variance (mean of x^2 minus the squared mean)
 * keeps its digits. Every loop over columns but the prefix sum is free of dependencies.
 *
 * stats holds, per plane, the window means (h*w) and then 1/sqrt(max(var, 0) + eps^2) (h*w),
 * negated where the variance was clipped at 0.
 *
 * Backward: with N the window's pixel count at p, inv = 1/sqrt(var + eps^2) and
 * y = (x - mean) * inv, the gradient at q is
 *     dy_q * inv_q + sum over the windows p holding q of [a_p + b_p * (2 x_q - 2 mean_p)],
 * a_p = -dy_p * inv_p / N_p (through the mean), b_p = -dy_p * y_p * inv_p^2 / (2 N_p) (through
 * the variance; 0 where it was clipped). The windows holding q are the pixels of q's own window,
 * so the three sums (of a, b and b * mean) are box sums too. */
#include <math.h>
#include "cpu_ops.h"

#define LCN_Q 3 /* quantities summed at once: x and x^2 forward, a, b and b * mean backward */

typedef struct box {
    int h, w, r, q;
    double *col[LCN_Q];              /* w: per column, the sum over the window's rows */
    double *pre[LCN_Q];              /* w + 2r + 1: prefix sums along the row, padded */
    double *add[LCN_Q], *sub[LCN_Q]; /* w: the row entering the window, the row leaving it */
    double *sum[LCN_Q];              /* w: each window's sum, for the current row */
    double *inv_nx;                  /* w: 1 / the window's width at each column */
} box;

/* Fills out[0..q-1] (w doubles each) with row i's quantities. */
typedef void (*row_fn)(const void *ctx, int i, double *const *out);

static size_t box_doubles(int w, int k) { return (size_t)LCN_Q * (5 * (size_t)w + (size_t)k) + (size_t)w; }

size_t unsharp__cpu_lcn_workspace(unsharp_backend *be, int planes, int h, int w, int k)
{
    (void)be; (void)planes; (void)h;
    return w > 0 && k > 0 ? box_doubles(w, k) * sizeof(double) : 0;
}

static void box_init(box *b, double *work, int h, int w, int k, int q)
{
    b->h = h; b->w = w; b->r = k / 2; b->q = q;
    double *p = work;
    for (int j = 0; j < LCN_Q; j++) {
        b->col[j] = p; p += w;
        b->pre[j] = p; p += w + k; /* w + 2r + 1 = w + k */
        b->add[j] = p; p += w;
        b->sub[j] = p; p += w;
        b->sum[j] = p; p += w;
    }
    b->inv_nx = p;
    for (int x = 0; x < w; x++) {
        int lo = x - b->r < 0 ? 0 : x - b->r, hi = x + b->r > w - 1 ? w - 1 : x + b->r;
        b->inv_nx[x] = 1.0 / (hi - lo + 1);
    }
}

/* The window's height at row y. */
static int box_ny(const box *b, int y)
{
    int lo = y - b->r < 0 ? 0 : y - b->r, hi = y + b->r > b->h - 1 ? b->h - 1 : y + b->r;
    return hi - lo + 1;
}

/* Moves the column sums to output row y (rows are visited 0, 1, 2, ...) and writes each
 * window's sum of row y into b->sum. */
static void box_row(box *b, int y, row_fn f, const void *ctx)
{
    const int w = b->w, r = b->r;
    if (y == 0) {
        for (int j = 0; j < b->q; j++)
            for (int x = 0; x < w; x++) b->col[j][x] = 0.0;
        for (int i = 0; i <= r && i < b->h; i++) {
            f(ctx, i, b->add);
            for (int j = 0; j < b->q; j++) {
                double *restrict c = b->col[j];
                const double *restrict a = b->add[j];
                for (int x = 0; x < w; x++) c[x] += a[x];
            }
        }
    } else {
        int in = y + r, out = y - r - 1;
        if (in < b->h) f(ctx, in, b->add);
        if (out >= 0) f(ctx, out, b->sub);
        for (int j = 0; j < b->q; j++) {
            double *restrict c = b->col[j];
            const double *restrict a = b->add[j], *restrict s = b->sub[j];
            if (in < b->h && out >= 0)
                for (int x = 0; x < w; x++) c[x] += a[x] - s[x];
            else if (in < b->h)
                for (int x = 0; x < w; x++) c[x] += a[x];
            else if (out >= 0)
                for (int x = 0; x < w; x++) c[x] -= s[x];
        }
    }
    /* pre[t] = the sum of col[0 .. t-r-1], with t-r clamped to 0..w: the window of column x
     * sums to pre[x + 2r + 1] - pre[x] */
    for (int j = 0; j < b->q; j++) {
        double *restrict pre = b->pre[j], *restrict sum = b->sum[j];
        const double *restrict c = b->col[j];
        for (int t = 0; t <= r; t++) pre[t] = 0.0;
        double acc = 0.0;
        for (int x = 0; x < w; x++) pre[r + 1 + x] = acc += c[x];
        for (int t = r + w + 1; t < w + 2 * r + 1; t++) pre[t] = acc;
        const double *restrict hi = pre + 2 * r + 1;
        for (int x = 0; x < w; x++) sum[x] = hi[x] - pre[x];
    }
}

/* ---- forward ---- */

typedef struct fwd_ctx {
    const float *x;
    int w;
} fwd_ctx;

static void fwd_row(const void *vctx, int i, double *const *out)
{
    const fwd_ctx *c = vctx;
    const float *restrict xr = c->x + (size_t)i * c->w;
    double *restrict s1 = out[0], *restrict s2 = out[1];
    for (int x = 0; x < c->w; x++) {
        double v = xr[x];
        s1[x] = v;
        s2[x] = v * v;
    }
}

static int lcn_args_ok(int planes, int h, int w, int k, float eps)
{
    return planes >= 0 && h >= 0 && w >= 0 && k >= 1 && k % 2 == 1 && eps > 0.0f && isfinite(eps);
}

unsharp_status unsharp__cpu_lcn_forward(unsharp_backend *be, const float *x, float *y, float *stats,
                                        int planes, int h, int w, int k, float eps, void *work)
{
    CPU_ERRCTX(be);
    if (!lcn_args_ok(planes, h, w, k, eps))
        FAIL(UNSHARP_ERR_INVALID, "bad shape or window: %d planes of %dx%d, k=%d (odd), eps=%g (> 0)", planes, h, w, k,
             (double)eps);
    if (planes == 0 || h == 0 || w == 0) goto bailout;
    if (!x || !y || !work) FAIL(UNSHARP_ERR_INVALID, "NULL tensor or workspace");
    const size_t hw = (size_t)h * w;
    const double eps2 = (double)eps * eps;
    box b;
    box_init(&b, work, h, w, k, 2);
    for (int pl = 0; pl < planes; pl++) {
        fwd_ctx ctx = {x + (size_t)pl * hw, w};
        for (int yy = 0; yy < h; yy++) {
            box_row(&b, yy, fwd_row, &ctx);
            const double inv_ny = 1.0 / box_ny(&b, yy);
            const size_t at = (size_t)pl * hw + (size_t)yy * w;
            const float *restrict xr = x + at;
            float *restrict yr = y + at;
            float *restrict mr = stats ? stats + 2 * (size_t)pl * hw + (size_t)yy * w : NULL;
            float *restrict ir = stats ? mr + hw : NULL;
            const double *restrict s1 = b.sum[0], *restrict s2 = b.sum[1], *restrict inx = b.inv_nx;
            for (int xx = 0; xx < w; xx++) {
                double in = inx[xx] * inv_ny;
                double mean = s1[xx] * in, var = s2[xx] * in - mean * mean;
                double clipped = var > 0.0 ? var : 0.0;
                double inv = 1.0 / sqrt(clipped + eps2);
                yr[xx] = (float)((xr[xx] - mean) * inv);
                if (mr) {
                    mr[xx] = (float)mean;
                    ir[xx] = (float)(var > 0.0 ? inv : -inv);
                }
            }
        }
    }
bailout:
    return st;
}

/* ---- backward ---- */

typedef struct bwd_ctx {
    const float *x, *mean, *inv, *dy;
    const box *b;
} bwd_ctx;

static void bwd_row(const void *vctx, int i, double *const *out)
{
    const bwd_ctx *c = vctx;
    const int w = c->b->w;
    const size_t at = (size_t)i * w;
    const float *restrict xr = c->x + at, *restrict mr = c->mean + at, *restrict ir = c->inv + at,
                          *restrict dr = c->dy + at;
    const double *restrict inx = c->b->inv_nx;
    const double inv_ny = 1.0 / box_ny(c->b, i);
    double *restrict a = out[0], *restrict bb = out[1], *restrict bm = out[2];
    for (int x = 0; x < w; x++) {
        double s = ir[x], inv = fabs(s), in = inx[x] * inv_ny, m = mr[x];
        double g = dr[x] * inv * in;        /* dy * inv / N */
        double yv = (xr[x] - m) * inv;
        double bv = s > 0.0 ? -0.5 * g * yv * inv : 0.0;
        a[x] = -g;
        bb[x] = bv;
        bm[x] = bv * m;
    }
}

unsharp_status unsharp__cpu_lcn_backward(unsharp_backend *be, const float *x, const float *stats, const float *dy,
                                         float *dx, int accumulate, int planes, int h, int w, int k, float eps,
                                         void *work)
{
    CPU_ERRCTX(be);
    if (!lcn_args_ok(planes, h, w, k, eps))
        FAIL(UNSHARP_ERR_INVALID, "bad shape or window: %d planes of %dx%d, k=%d (odd), eps=%g (> 0)", planes, h, w, k,
             (double)eps);
    if (planes == 0 || h == 0 || w == 0) goto bailout;
    if (!x || !stats || !dy || !dx || !work) FAIL(UNSHARP_ERR_INVALID, "NULL tensor or workspace");
    const size_t hw = (size_t)h * w;
    box b;
    box_init(&b, work, h, w, k, 3);
    for (int pl = 0; pl < planes; pl++) {
        const size_t base = (size_t)pl * hw;
        bwd_ctx ctx = {x + base, stats + 2 * base, stats + 2 * base + hw, dy + base, &b};
        for (int yy = 0; yy < h; yy++) {
            box_row(&b, yy, bwd_row, &ctx);
            const size_t at = (size_t)yy * w;
            const float *restrict xr = ctx.x + at, *restrict ir = ctx.inv + at, *restrict dr = ctx.dy + at;
            float *restrict gr = dx + base + at;
            const double *restrict sa = b.sum[0], *restrict sb = b.sum[1], *restrict sm = b.sum[2];
            for (int xx = 0; xx < w; xx++) {
                double g = dr[xx] * fabs((double)ir[xx]) + sa[xx] + 2.0 * (xr[xx] * sb[xx] - sm[xx]);
                gr[xx] = accumulate ? gr[xx] + (float)g : (float)g;
            }
        }
    }
bailout:
    return st;
}
