/* lcn.c: local contrast normalisation on the CPU, forward and backward side by side (the
 * slots' contract is in backend.h).
 *
 * Both passes are box sums over the k x k window, clipped to the plane, at a cost per pixel
 * that does not grow with k: for each output row the sums over the window's rows are kept per
 * column (the row entering the window added, the one leaving it taken off), and sums sliding
 * along the row then give each window's sum (the column entering added, the one leaving taken
 * off). The sums are kept in double, so the running updates do not drift and the variance (mean
 * of x^2 minus the squared mean) keeps its digits. Every loop over columns but the sliding sums
 * is free of dependencies, and those run as eight independent chains.
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
#include "simd.h"

#define LCN_Q 3    /* quantities summed at once: x and x^2 forward, a, b and b * mean backward */
#define LCN_SEGS 8 /* the row's sliding sums run as this many independent chains */

typedef struct box {
    int h, w, r, q, seg;             /* seg: columns per chain of the sliding sums */
    double *col[LCN_Q];              /* per column, the sum over the window's rows; col[j][-r-1]
                                        to col[j][LCN_SEGS * seg + r] are there, 0 outside 0..w-1 */
    double *add[LCN_Q], *sub[LCN_Q]; /* w: the row entering the window, the row leaving it */
    double *sum[LCN_Q];              /* LCN_SEGS * seg: each window's sum, for the current row */
    double *inv_nx;                  /* w: 1 / the window's width at each column */
} box;

/* Fills out[0..q-1] (w doubles each) with row i's quantities. */
typedef void (*row_fn)(const void *ctx, int i, double *const *out);

static size_t seg_of(int w) { return ((size_t)w + LCN_SEGS - 1) / LCN_SEGS; }

static size_t box_doubles(int w, int k)
{
    size_t span = LCN_SEGS * seg_of(w); /* w rounded up */
    return (size_t)LCN_Q * ((span + (size_t)k + 2) + 2 * (size_t)w + span) + (size_t)w;
}

size_t unsharp__cpu_lcn_workspace(unsharp_backend *be, int planes, int h, int w, int k)
{
    (void)be; (void)planes; (void)h;
    return w > 0 && k > 0 ? box_doubles(w, k) * sizeof(double) : 0;
}

static void box_init(box *b, double *work, int h, int w, int k, int q)
{
    b->h = h; b->w = w; b->r = k / 2; b->q = q;
    b->seg = (int)seg_of(w);
    const int span = LCN_SEGS * b->seg;
    double *p = work;
    for (int j = 0; j < LCN_Q; j++) {
        b->col[j] = p + b->r + 1; p += span + k + 2; /* r + 1 before, span + r + 1 from 0 */
        b->add[j] = p; p += w;
        b->sub[j] = p; p += w;
        b->sum[j] = p; p += span;
    }
    b->inv_nx = p;
    for (int x = 0; x < w; x++) {
        int lo = x - b->r < 0 ? 0 : x - b->r, hi = x + b->r > w - 1 ? w - 1 : x + b->r;
        b->inv_nx[x] = 1.0 / (hi - lo + 1);
    }
}

/* The window's height at row y. */
static inline int box_ny(const box *b, int y)
{
    int lo = y - b->r < 0 ? 0 : y - b->r, hi = y + b->r > b->h - 1 ? b->h - 1 : y + b->r;
    return hi - lo + 1;
}

/* Zeroes the column sums and their margins, for a new plane. */
static inline __attribute__((always_inline)) void box_clear(box *b)
{
    for (int j = 0; j < b->q; j++) {
        double *c = b->col[j] - b->r - 1;
        for (int x = 0; x < LCN_SEGS * b->seg + 2 * b->r + 2; x++) c[x] = 0.0;
    }
}

/* Writes each window's sum of the current row into b->sum from the column sums: LCN_SEGS
 * chains, one over each stretch of the row, each starting from its first window's sum and
 * sliding (the column entering added, the one leaving taken off). The margins are 0, so the
 * windows cut at the border need no test. */
static inline __attribute__((always_inline)) void box_sums(box *b)
{
    const int r = b->r, seg = b->seg;
    for (int j = 0; j < b->q; j++) {
        const double *restrict c = b->col[j];
        double *restrict sum = b->sum[j];
        double acc[LCN_SEGS];
        for (int s = 0; s < LCN_SEGS; s++) {
            double a = 0.0;
            for (int x = s * seg - r; x <= s * seg + r; x++) a += c[x];
            acc[s] = a;
        }
        for (int t = 0; t < seg; t++)
            for (int s = 0; s < LCN_SEGS; s++) {
                const int x = s * seg + t;
                sum[x] = acc[s];
                acc[s] += c[x + r + 1] - c[x - r];
            }
    }
}

/* Moves the column sums to output row y (rows are visited 0, 1, 2, ..., after box_clear),
 * with rows' quantities from f, and writes the row's window sums (box_sums). */
static inline __attribute__((always_inline)) void box_row(box *b, int y, row_fn f, const void *ctx)
{
    const int w = b->w, r = b->r;
    for (int i = y == 0 ? 0 : y + r; i <= y + r && i < b->h; i++) { /* rows entering */
        f(ctx, i, b->add);
        for (int j = 0; j < b->q; j++) {
            double *restrict c = b->col[j];
            const double *restrict a = b->add[j];
            for (int x = 0; x < w; x++) c[x] += a[x];
        }
    }
    if (y - r - 1 >= 0) { /* the row leaving */
        f(ctx, y - r - 1, b->sub);
        for (int j = 0; j < b->q; j++) {
            double *restrict c = b->col[j];
            const double *restrict s = b->sub[j];
            for (int x = 0; x < w; x++) c[x] -= s[x];
        }
    }
    box_sums(b);
}

/* ---- forward ---- */

static int lcn_args_ok(int planes, int h, int w, int k, float eps)
{
    return planes >= 0 && h >= 0 && w >= 0 && k >= 1 && k % 2 == 1 && eps > 0.0f && isfinite(eps);
}

/* One plane. Built twice (SIMD_TWICE, simd.h): with AVX2 (without FMA: the same bits) and plain. */
SIMD_TWICE_VOID(forward_plane, (box *b, const float *x, float *y, float *mean_out, float *inv_out, float eps),
                (b, x, y, mean_out, inv_out, eps))
{
    const int w = b->w, h = b->h, r = b->r;
    const float eps2 = eps * eps;
    double *restrict c1 = b->col[0], *restrict c2 = b->col[1];
    box_clear(b);
    for (int yy = 0; yy < h; yy++) {
        /* the column sums of x and x^2, straight from the rows */
        if (yy > 0 && yy + r < h && yy - r - 1 >= 0) { /* a row in, a row out: one pass */
            const float *restrict a = x + (size_t)(yy + r) * w, *restrict s = x + (size_t)(yy - r - 1) * w;
            for (int xx = 0; xx < w; xx++) {
                double u = a[xx], v = s[xx];
                c1[xx] += u - v;
                c2[xx] += u * u - v * v;
            }
        } else {
            for (int i = yy == 0 ? 0 : yy + r; i <= yy + r && i < h; i++) {
                const float *restrict a = x + (size_t)i * w;
                for (int xx = 0; xx < w; xx++) {
                    double v = a[xx];
                    c1[xx] += v;
                    c2[xx] += v * v;
                }
            }
            if (yy - r - 1 >= 0) {
                const float *restrict s = x + (size_t)(yy - r - 1) * w;
                for (int xx = 0; xx < w; xx++) {
                    double v = s[xx];
                    c1[xx] -= v;
                    c2[xx] -= v * v;
                }
            }
        }
        box_sums(b);
        const double inv_ny = 1.0 / box_ny(b, yy);
        const size_t at = (size_t)yy * w;
        const float *restrict xr = x + at;
        float *restrict yr = y + at;
        const double *restrict s1 = b->sum[0], *restrict s2 = b->sum[1], *restrict inx = b->inv_nx;
        if (mean_out) {
            float *restrict mr = mean_out + at, *restrict ir = inv_out + at;
            for (int xx = 0; xx < w; xx++) {
                double in = inx[xx] * inv_ny, mean = s1[xx] * in, var = s2[xx] * in - mean * mean;
                float inv = 1.0f / sqrtf((var > 0.0 ? (float)var : 0.0f) + eps2);
                yr[xx] = (float)(xr[xx] - mean) * inv;
                mr[xx] = (float)mean;
                ir[xx] = var > 0.0 ? inv : -inv;
            }
        } else {
            for (int xx = 0; xx < w; xx++) {
                double in = inx[xx] * inv_ny, mean = s1[xx] * in, var = s2[xx] * in - mean * mean;
                float inv = 1.0f / sqrtf((var > 0.0 ? (float)var : 0.0f) + eps2);
                yr[xx] = (float)(xr[xx] - mean) * inv;
            }
        }
    }
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
    box b;
    box_init(&b, work, h, w, k, 2);
    for (int pl = 0; pl < planes; pl++) {
        float *st_mean = stats ? stats + 2 * (size_t)pl * hw : NULL;
        forward_plane(&b, x + (size_t)pl * hw, y + (size_t)pl * hw, st_mean, st_mean ? st_mean + hw : NULL, eps);
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
        box_clear(&b);
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
