/* conv.c: 2-D convolution on the CPU, forward and both backward passes side by side. Each
 * image is lowered with im2col to a (cin*kh*kw, oh*ow) matrix and multiplied with OpenBLAS;
 * 1x1 stride-1 unpadded convolutions skip the lowering and multiply the image directly; the
 * forward pass of one-input-channel convolutions (the first layer) and of 3x3 stride-2 ones, and
 * the weight gradient of one-input-channel convolutions, run in conv_direct.c; the forward pass
 * of 3x3 stride-1 ones with many channels in conv_winograd.c.
 * With threads > 1 the batch is cut into contiguous blocks of images, one per slot, and the
 * slots run under OpenMP, each on its own slice of the workspace. Backward-filter gives every
 * slot its own partial dW (also in the workspace) and adds the partials in slot order, so its
 * result depends only on the thread count, never on scheduling.
 *
 * The lowering works on blocks of output rows whose im2col matrix and forward output fit in the
 * L2 cache together (COL_BLOCK_FLOATS), so neither travels through main memory and the
 * workspace stays small at any image size. Forward fills the block of y with the bias,
 * multiplies onto it in place (row stride oh*ow) and, when asked, writes the leaky ReLU of that
 * block while it is in the cache (a fused activation layer): no separate zeroing, bias, copy
 * or activation pass over y.
 *
 * Workspace layout (conv_workspace bytes): nt = min(threads, n) slices of `slice` floats;
 * a slice holds the im2col buffer for one block (K*rows*ow floats, K = cin*kh*kw; none when
 * direct; at least conv_direct.c's workspace when that runs the forward), then, when nt > 1,
 * a partial dW of cout*K floats; each part is rounded up to 64 bytes. */
#include <cblas.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "cpu_ops.h"

/* Target size of one block's im2col matrix plus its forward output: half of a 512 KiB L2,
 * leaving room for the packed GEMM panels. */
#define COL_BLOCK_FLOATS (64 * 1024)

typedef struct conv_plan {
    int pointwise; /* 1x1, stride 1, no padding: the input is the GEMM operand, no im2col */
    int fwd_direct;  /* forward by conv_direct.c (conv_direct_applies), in the col buffer */
    int grad_direct; /* weight gradient by conv_direct.c (one input channel), likewise */
    int wino;        /* forward by conv_winograd.c (3x3 stride 1, many channels), likewise */
    int rows;      /* output rows per block */
    int nt;        /* slots: min(threads, n) */
    int K, P;      /* cin*kh*kw, oh*ow */
    size_t col;    /* floats reserved for one im2col buffer */
    size_t dwn;    /* floats reserved for one partial dW */
    size_t slice;  /* floats per slot */
    size_t bytes;  /* whole workspace */
} conv_plan;

static size_t round16(size_t v) { return (v + 15u) & ~(size_t)15u; }

/* 0: ok; 1: the shape is invalid; 2: a size overflows. */
static int conv_plan_make(const unsharp_backend *be, const unsharp_conv_shape *s, conv_plan *p)
{
    memset(p, 0, sizeof *p);
    if (!s) return 1;
    if (s->n < 1 || s->cin < 1 || s->h < 1 || s->w < 1 || s->cout < 1 || s->kh < 1 || s->kw < 1 ||
        s->sh < 1 || s->sw < 1 || s->ph < 0 || s->pw < 0)
        return 1;
    int64_t eh = (int64_t)s->h + 2 * (int64_t)s->ph, ew = (int64_t)s->w + 2 * (int64_t)s->pw;
    if (eh < s->kh || ew < s->kw) return 1;
    if ((eh - s->kh) / s->sh + 1 != s->oh || (ew - s->kw) / s->sw + 1 != s->ow) return 1;
    int64_t K = (int64_t)s->cin * s->kh * s->kw, P = (int64_t)s->oh * s->ow;
    int64_t HW = (int64_t)s->h * s->w;
    if (K > INT_MAX || P > INT_MAX || HW > INT_MAX) return 2;
    p->K = (int)K;
    p->P = (int)P;
    p->pointwise = s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->ph == 0 && s->pw == 0;
    int threads = ((const cpu_impl *)be->impl)->threads;
    p->nt = threads < s->n ? threads : s->n;

    size_t col = 0, dwn = 0, slice, bytes;
    int64_t rows = COL_BLOCK_FLOATS / ((K + s->cout) * s->ow);
    p->rows = (int)(rows < 1 ? 1 : rows > s->oh ? s->oh : rows);
    if (!p->pointwise && __builtin_mul_overflow((size_t)K, (size_t)p->rows * (size_t)s->ow, &col)) return 2;
    if (p->nt > 1 && __builtin_mul_overflow((size_t)s->cout, (size_t)K, &dwn)) return 2;
    /* (bounds that keep conv_direct.c's sizes far from overflow; beyond them, im2col) */
    p->fwd_direct = !p->pointwise && unsharp__conv_direct_applies(s) &&
                    (int64_t)s->kh * s->cin * s->sw * (s->ow + s->kw + 32) < INT_MAX &&
                    (int64_t)(s->cout + 8) * (K + 1) < INT_MAX;
    p->grad_direct = p->fwd_direct && unsharp__conv_direct_grad_applies(s);
    if (p->fwd_direct) {
        size_t dn = unsharp__conv_direct_floats(s);
        if (dn > col) col = dn;
    }
    /* (the same bounds for conv_winograd.c's buffers) */
    p->wino = !p->pointwise && !p->fwd_direct && unsharp__conv_winograd_applies(s) &&
              (int64_t)(s->oh + 1) / 2 * ((s->ow + 1) / 2) * (s->cin + s->cout) < INT_MAX / 16;
    if (p->wino) {
        size_t wn = unsharp__conv_winograd_floats(s);
        if (wn > col) col = wn;
    }
    if (col > SIZE_MAX / 8 || dwn > SIZE_MAX / 8) return 2;
    p->col = round16(col);
    p->dwn = round16(dwn);
    slice = p->col + p->dwn;
    if (__builtin_mul_overflow(slice, (size_t)p->nt, &bytes) ||
        __builtin_mul_overflow(bytes, sizeof(float), &bytes))
        return 2;
    p->slice = slice;
    p->bytes = bytes;
    return 0;
}

/* Validates the call and builds its plan; fails with a message. */
static unsharp_status conv_prepare(unsharp_backend *be, const unsharp_conv_shape *s, const void *a,
                                   const void *b, const void *c, const void *work, conv_plan *p,
                                   const char *func)
{
    int r = conv_plan_make(be, s, p);
    if (r == 1)
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, func, "invalid convolution shape");
    if (r == 2)
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, func, "convolution too large");
    if (!a || !b || !c) return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, func, "NULL tensor");
    if (p->slice > 0 && !work)
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, func,
                               "workspace is NULL, %zu bytes needed", p->bytes);
    return UNSHARP_OK;
}

/* First and one-past-last image of slot t. */
static void slot_range(int n, int nt, int t, int *lo, int *hi)
{
    *lo = (int)((int64_t)n * t / nt);
    *hi = (int)((int64_t)n * (t + 1) / nt);
}

/* The output columns ox whose input column ox*sw - pw + kj lies inside the image: [lo, hi). */
static void valid_cols(const unsharp_conv_shape *s, int kj, int *lo, int *hi)
{
    int a = s->pw - kj; /* ox*sw >= a */
    *lo = a <= 0 ? 0 : (a + s->sw - 1) / s->sw;
    int b = s->w + s->pw - kj; /* ox*sw < b */
    *hi = b <= 0 ? 0 : (b - 1) / s->sw + 1;
    if (*hi > s->ow) *hi = s->ow;
    if (*lo > *hi) *lo = *hi;
}

/* One tap's output row d[0, ow): src[0, hi - lo) copied to [lo, hi), zeros outside. */
static inline void tap_row(float *restrict d, const float *restrict src, int lo, int hi, int ow)
{
    for (int ox = 0; ox < lo; ox++) d[ox] = 0.0f;
    for (int ox = lo; ox < hi; ox++) d[ox] = src[ox - lo];
    for (int ox = hi; ox < ow; ox++) d[ox] = 0.0f;
}

/* The network's 3x3-style rows: 3 taps, stride 2, padding 1, an even width (im2col and
 * col2im have a path of their own for them). */
static int is_k3_s2_p1(const unsharp_conv_shape *s)
{
    return s->kw == 3 && s->sw == 2 && s->pw == 1 && s->w == 2 * s->ow;
}

/* Whether im2col's split rows (sw phases of ceil(w / sw) + 1 floats) fit its 4,098-float scratch. */
static int im2col_split_fits(const unsharp_conv_shape *s)
{
    return s->sw >= 2 && s->sw <= 4 && (int64_t)s->sw * ((s->w + s->sw - 1) / s->sw + 1) <= 4098;
}

/* col (K, (oy1-oy0)*ow) from output rows [oy0, oy1) of one image x (cin, h, w). The input
 * rows are read once each, in order (a sequential stream from memory), and written to every
 * (ki, oy) that takes them. With a stride of 2 to 4 along x and eo given (im2col_split_fits),
 * each row is first split into its sw phases (every sw-th column), and every tap kj becomes a
 * contiguous copy from one of them. */
static void im2col(const unsharp_conv_shape *s, const float *x, int oy0, int oy1, float *col, float *eo)
{
    const size_t Pb = (size_t)(oy1 - oy0) * s->ow;
    const int ow = s->ow;
    int iy_lo = oy0 * s->sh - s->ph, iy_hi = (oy1 - 1) * s->sh - s->ph + s->kh; /* rows reached */
    if (iy_lo < 0) iy_lo = 0;
    if (iy_hi > s->h) iy_hi = s->h;
    const int k3s2p1 = is_k3_s2_p1(s);
    /* each tap's valid output columns, once (they depend on kj only) */
    enum { KW_TABLE = 32 };
    int lo_k[KW_TABLE], hi_k[KW_TABLE];
    for (int kj = 0; kj < s->kw && kj < KW_TABLE; kj++) valid_cols(s, kj, &lo_k[kj], &hi_k[kj]);
    for (int c = 0; c < s->cin; c++) {
        const float *xc = x + (size_t)c * (size_t)s->h * (size_t)s->w;
        float *cc = col + (size_t)c * s->kh * s->kw * Pb;
        /* taps that fall in the top or bottom padding */
        for (int ki = 0; ki < s->kh; ki++)
            for (int oy = oy0; oy < oy1; oy++) {
                int iy = oy * s->sh - s->ph + ki;
                if (iy >= 0 && iy < s->h) continue;
                float *d = cc + (size_t)ki * s->kw * Pb + (size_t)(oy - oy0) * ow;
                for (int kj = 0; kj < s->kw; kj++) memset(d + kj * Pb, 0, (size_t)ow * sizeof(float));
            }
        for (int iy = iy_lo; iy < iy_hi; iy++) {
            const float *row = xc + (size_t)iy * s->w;
            if (k3s2p1) {
                /* the network's 3-tap stride-2 pad-1 rows: taps 1 and 2 are the even and odd
                 * columns, split straight into place; tap 0 is tap 2 shifted by one */
                for (int ki = 0; ki < s->kh; ki++) {
                    int t = iy + s->ph - ki;
                    if (t < 0 || t % s->sh) continue;
                    int oy = t / s->sh;
                    if (oy < oy0 || oy >= oy1) continue;
                    float *restrict d0 = cc + (size_t)ki * 3 * Pb + (size_t)(oy - oy0) * ow;
                    float *restrict d1 = d0 + Pb, *restrict d2 = d0 + 2 * Pb;
                    for (int j = 0; j < ow; j++) {
                        d1[j] = row[2 * j];
                        d2[j] = row[2 * j + 1];
                    }
                    d0[0] = 0.0f;
                    for (int j = 1; j < ow; j++) d0[j] = d2[j - 1];
                }
                continue;
            }
            /* strides 2 to 4: the row split into its sw phases, phase p at eo + p * (np + 1) */
            int split = s->sw >= 2 && s->sw <= 4 && eo;
            const int sw = s->sw, np = (s->w + sw - 1) / sw;
            if (split)
                for (int p = 0; p < sw; p++) {
                    float *restrict ph = eo + (size_t)p * (np + 1);
                    for (int j = 0; j * sw + p < s->w; j++) ph[j] = row[j * sw + p];
                }
            for (int ki = 0; ki < s->kh; ki++) {
                int t = iy + s->ph - ki; /* = oy * sh */
                if (t < 0 || t % s->sh) continue;
                int oy = t / s->sh;
                if (oy < oy0 || oy >= oy1) continue;
                float *d = cc + (size_t)ki * s->kw * Pb + (size_t)(oy - oy0) * ow;
                for (int kj = 0; kj < s->kw; kj++) {
                    float *dj = d + kj * Pb;
                    int lo, hi, base = kj - s->pw; /* ix = ox*sw + base */
                    if (kj < KW_TABLE) {
                        lo = lo_k[kj];
                        hi = hi_k[kj];
                    } else {
                        valid_cols(s, kj, &lo, &hi);
                    }
                    if (split) {
                        /* ix = (ox + q) * sw + p with q = floor(base / sw): phase p, from lo + q */
                        int q = base >= 0 ? base / sw : -((sw - 1 - base) / sw), p = base - q * sw;
                        tap_row(dj, eo + (size_t)p * (np + 1) + lo + q, lo, hi, ow);
                        continue;
                    }
                    const float *src = row + (ptrdiff_t)lo * s->sw + base;
                    for (int ox = 0; ox < lo; ox++) dj[ox] = 0.0f;
                    if (s->sw == 1)
                        memcpy(dj + lo, src, (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int ox = lo; ox < hi; ox++) dj[ox] = src[(ox - lo) * s->sw];
                    for (int ox = hi; ox < ow; ox++) dj[ox] = 0.0f;
                }
            }
        }
    }
}

/* Stride 2 along x, one input row: the taps kj land on even or odd columns, so they are
 * summed into even/odd accumulators with contiguous (vectorisable) adds, then added to the
 * row in one interleaved pass instead of one strided pass per tap. eo holds w + 2 floats. */
static void col2im_row_s2(const unsharp_conv_shape *s, const float *src, size_t tap_stride, float *row, float *eo)
{
    const int ne = (s->w + 1) / 2, no = s->w / 2;
    float *restrict even = eo, *restrict odd = eo + ne + 1;
    memset(eo, 0, sizeof(float) * (size_t)(s->w + 2));
    for (int kj = 0; kj < s->kw; kj++) {
        int lo, hi;
        valid_cols(s, kj, &lo, &hi);
        const float *restrict sr = src + (size_t)kj * tap_stride;
        int base = kj - s->pw; /* ix = 2*ox + base */
        if ((base & 1) == 0) {
            int off = base / 2; /* even[ox + off] */
            for (int ox = lo; ox < hi; ox++) even[ox + off] += sr[ox];
        } else {
            int off = (base - 1) / 2; /* odd[ox + off] */
            for (int ox = lo; ox < hi; ox++) odd[ox + off] += sr[ox];
        }
    }
    for (int j = 0; j < no; j++) {
        row[2 * j] += even[j];
        row[2 * j + 1] += odd[j];
    }
    if (ne > no) row[2 * no] += even[no];
}

/* d[0, n) += s[0, n): contiguous, so vectorised (stride-1 rows of col2im). */
static void add_row(float *restrict d, const float *restrict s, int n)
{
    for (int i = 0; i < n; i++) d[i] += s[i];
}

/* dx (cin, h, w) += the columns of col (K, (oy1-oy0)*ow) put back where im2col took them.
 * eo is scratch for col2im_row_s2 (w + 2 floats), used when sw == 2. */
static void col2im_add(const unsharp_conv_shape *s, const float *col, int oy0, int oy1, float *dx, float *eo)
{
    const size_t Pb = (size_t)(oy1 - oy0) * s->ow;
    const int k3s2p1 = is_k3_s2_p1(s);
    for (int c = 0; c < s->cin; c++) {
        float *dxc = dx + (size_t)c * (size_t)s->h * (size_t)s->w;
        for (int ki = 0; ki < s->kh; ki++) {
            if (k3s2p1) {
                /* the network's 3-tap stride-2 pad-1 rows, im2col's inverse: column 2j takes tap
                 * 1 at j, column 2j + 1 tap 2 at j and tap 0 at j + 1; no scratch */
                const float *taps = col + (size_t)(c * s->kh + ki) * 3 * Pb;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * s->sh - s->ph + ki;
                    if (iy < 0 || iy >= s->h) continue;
                    const float *restrict t0 = taps + (size_t)(oy - oy0) * s->ow, *restrict t1 = t0 + Pb,
                                          *restrict t2 = t0 + 2 * Pb;
                    float *restrict row = dxc + (size_t)iy * s->w;
                    const int ow = s->ow;
                    for (int j = 0; j + 1 < ow; j++) {
                        row[2 * j] += t1[j];
                        row[2 * j + 1] += t2[j] + t0[j + 1];
                    }
                    row[2 * ow - 2] += t1[ow - 1];
                    row[2 * ow - 1] += t2[ow - 1];
                }
                continue;
            }
            if (s->sw == 2 && eo) {
                const float *taps = col + (size_t)(c * s->kh + ki) * s->kw * Pb;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * s->sh - s->ph + ki;
                    if (iy < 0 || iy >= s->h) continue;
                    col2im_row_s2(s, taps + (size_t)(oy - oy0) * s->ow, Pb, dxc + (size_t)iy * s->w, eo);
                }
                continue;
            }
            for (int kj = 0; kj < s->kw; kj++) {
                const float *src = col + ((size_t)(c * s->kh + ki) * s->kw + kj) * Pb;
                int lo, hi;
                valid_cols(s, kj, &lo, &hi);
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * s->sh - s->ph + ki;
                    if (iy < 0 || iy >= s->h) continue;
                    const float *sr = src + (size_t)(oy - oy0) * s->ow;
                    float *d = dxc + (size_t)iy * s->w - s->pw + kj;
                    if (s->sw == 1)
                        add_row(d + lo, sr + lo, hi - lo);
                    else
                        for (int ox = lo; ox < hi; ox++) d[ox * s->sw] += sr[ox];
                }
            }
        }
    }
}

size_t unsharp__cpu_conv_workspace(unsharp_backend *be, const unsharp_conv_shape *s)
{
    conv_plan p;
    int r = conv_plan_make(be, s, &p);
    if (r == 2) return SIZE_MAX; /* an allocation of this size fails with NOMEM */
    if (r == 1) return 0;        /* the conv slots reject the shape */
    return p.bytes;
}

/* rows (rows, len) at row stride ld: row r filled with b[r], or zeros when b is NULL. */
static void fill_rows(float *restrict out, int rows, size_t len, size_t ld, const float *b)
{
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * ld;
        if (!b)
            memset(o, 0, len * sizeof(float));
        else
            for (size_t j = 0; j < len; j++) o[j] = b[r];
    }
}

/* The forward output pass over len columns of each output channel: y = g + b[c] (g itself when
 * b is NULL) and, when act is not NULL, act = leaky_relu(y, slope). g has row stride ldg; y and
 * act have row stride ldy; g may be y itself. */
static void forward_epilogue(int cout, size_t len, const float *g, size_t ldg, const float *b, float *y,
                             float *act, float slope, size_t ldy)
{
    for (int c = 0; c < cout; c++) {
        const float *gr = g + (size_t)c * ldg;
        float *yr = y + (size_t)c * ldy;
        const float bc = b ? b[c] : 0.0f;
        if (b)
            for (size_t j = 0; j < len; j++) yr[j] = gr[j] + bc;
        else if (gr != yr)
            memcpy(yr, gr, len * sizeof(float));
        if (act) {
            float *ar = act + (size_t)c * ldy;
            /* the same expression as the leaky ReLU slot, so the values match it bit for bit */
            for (size_t j = 0; j < len; j++) ar[j] = yr[j] * (yr[j] > 0.0f ? 1.0f : slope);
        }
    }
}

unsharp_status unsharp__cpu_conv2d_forward(unsharp_backend *be, const unsharp_conv_shape *s, const float *x,
                                           const float *w, const float *b, float *y, float *act, float slope,
                                           void *work)
{
    conv_plan p;
    unsharp_status st = UNSHARP_OK;
    CHECK(conv_prepare(be, s, x, w, y, work, &p, __func__));
    const size_t xs = (size_t)s->cin * s->h * s->w, ys = (size_t)s->cout * p.P;

#pragma omp parallel for num_threads(p.nt) schedule(static) if (p.nt > 1)
    for (int t = 0; t < p.nt; t++) {
        float *col = p.col ? (float *)work + (size_t)t * p.slice : NULL;
        float eo_buf[4098]; /* the split rows of strides 2-4 (im2col), for rows up to 4,090 px; wider rows gather */
        float *eo = im2col_split_fits(s) ? eo_buf : NULL;
        int lo, hi;
        slot_range(s->n, p.nt, t, &lo, &hi);
        for (int i = lo; i < hi; i++) {
            const float *xi = x + (size_t)i * xs;
            float *yi = y + (size_t)i * ys, *ai = act ? act + (size_t)i * ys : NULL;
            if (p.pointwise) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, p.P, s->cin, 1.0f, w,
                            s->cin, xi, p.P, 0.0f, yi, p.P);
                if (b || ai) forward_epilogue(s->cout, (size_t)p.P, yi, p.P, b, yi, ai, slope, p.P);
            } else if (p.fwd_direct) {
                unsharp__conv_direct_forward(s, xi, w, b, yi, ai, slope, col);
            } else if (p.wino) {
                unsharp__conv_winograd_forward(s, xi, w, b, yi, ai, slope, col);
            } else {
                for (int oy0 = 0; oy0 < s->oh; oy0 += p.rows) {
                    int oy1 = oy0 + p.rows < s->oh ? oy0 + p.rows : s->oh;
                    int pb = (oy1 - oy0) * s->ow;
                    size_t at = (size_t)oy0 * s->ow;
                    im2col(s, xi, oy0, oy1, col, eo);
                    /* y[:, block] (cout, pb; row stride P) = bias + W (cout, K) col (K, pb), while
                     * the block is in the cache (beta = 1 on the bias rows: OpenBLAS's own beta = 0
                     * pass zeroes with scalar stores); then the activation from it */
                    fill_rows(yi + at, s->cout, (size_t)pb, p.P, b);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, pb, p.K, 1.0f, w, p.K,
                                col, pb, 1.0f, yi + at, p.P);
                    if (ai) forward_epilogue(s->cout, (size_t)pb, yi + at, p.P, NULL, yi + at, ai + at, slope, p.P);
                }
            }
        }
    }
bailout:
    return st;
}

/* One image of one channel of 8-bit samples, by conv_direct.c when the shape takes it. */
unsharp_status unsharp__cpu_conv2d_forward_u8(unsharp_backend *be, const unsharp_conv_shape *s,
                                              const unsigned char *x, size_t stride, float scale, const float *w,
                                              const float *b, float *y, float *act, float slope, void *work)
{
    conv_plan p;
    unsharp_status st = UNSHARP_OK;
    CHECK(conv_prepare(be, s, x, w, y, work, &p, __func__));
    if (!p.fwd_direct || s->n != 1 || s->cin != 1 || stride < (size_t)s->w)
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_UNSUPPORTED, __func__,
                               "8-bit input only for one image of one channel on the direct path");
    unsharp__conv_direct_forward_u8(s, x, stride, scale, w, b, y, act, slope, work);
bailout:
    return st;
}

/* Zeroes rows [r0, r1) of every channel of one image's dx (cin, h, w). */
static void zero_rows(const unsharp_conv_shape *s, float *dx, int r0, int r1)
{
    if (r1 <= r0) return;
    for (int c = 0; c < s->cin; c++)
        memset(dx + ((size_t)c * s->h + r0) * s->w, 0, (size_t)(r1 - r0) * s->w * sizeof(float));
}

unsharp_status unsharp__cpu_conv2d_backward_data(unsharp_backend *be, const unsharp_conv_shape *s,
                                                 const float *dy, const float *w, float *dx, int accumulate,
                                                 void *work)
{
    conv_plan p;
    unsharp_status st = UNSHARP_OK;
    CHECK(conv_prepare(be, s, dy, w, dx, work, &p, __func__));
    const size_t xs = (size_t)s->cin * s->h * s->w, ys = (size_t)s->cout * p.P;

#pragma omp parallel for num_threads(p.nt) schedule(static) if (p.nt > 1)
    for (int t = 0; t < p.nt; t++) {
        float *col = p.col ? (float *)work + (size_t)t * p.slice : NULL;
        float eo_buf[4098]; /* stride-2 scratch for rows up to 4096 px; wider rows scatter */
        float *eo = s->w + 2 <= 4098 ? eo_buf : NULL;
        int lo, hi;
        slot_range(s->n, p.nt, t, &lo, &hi);
        for (int i = lo; i < hi; i++) {
            const float *dyi = dy + (size_t)i * ys;
            float *dxi = dx + (size_t)i * xs;
            if (p.pointwise) {
                /* dx (cin, P) (+)= W^T (cin, cout) dy (cout, P) */
                if (!accumulate) memset(dxi, 0, xs * sizeof(float));
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s->cin, p.P, s->cout, 1.0f, w,
                            s->cin, dyi, p.P, 1.0f, dxi, p.P);
            } else {
                /* Overwriting: the input rows a block reaches first are zeroed just before it adds
                 * to them (rows [0, zeroed) are done), while they are about to be in the cache. */
                int zeroed = accumulate ? s->h : 0;
                for (int oy0 = 0; oy0 < s->oh; oy0 += p.rows) {
                    int oy1 = oy0 + p.rows < s->oh ? oy0 + p.rows : s->oh;
                    int pb = (oy1 - oy0) * s->ow;
                    int reach = (oy1 - 1) * s->sh - s->ph + s->kh; /* one past the last input row */
                    if (reach > s->h) reach = s->h;
                    if (reach > zeroed) {
                        zero_rows(s, dxi, zeroed, reach);
                        zeroed = reach;
                    }
                    /* col (K, pb) = W^T (K, cout) dy[:, block] (cout, pb), onto zeros (see forward) */
                    memset(col, 0, (size_t)p.K * (size_t)pb * sizeof(float));
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p.K, pb, s->cout, 1.0f, w, p.K,
                                dyi + (size_t)oy0 * s->ow, p.P, 1.0f, col, pb);
                    col2im_add(s, col, oy0, oy1, dxi, eo);
                }
                zero_rows(s, dxi, zeroed, s->h);
            }
        }
    }
bailout:
    return st;
}

unsharp_status unsharp__cpu_conv2d_backward_filter(unsharp_backend *be, const unsharp_conv_shape *s,
                                                   const float *x, const float *dy, float *dw, void *work)
{
    conv_plan p;
    unsharp_status st = UNSHARP_OK;
    CHECK(conv_prepare(be, s, x, dy, dw, work, &p, __func__));
    const size_t xs = (size_t)s->cin * s->h * s->w, ys = (size_t)s->cout * p.P;
    const size_t nw = (size_t)s->cout * p.K;
    const int ldw = p.pointwise ? s->cin : p.K;

#pragma omp parallel for num_threads(p.nt) schedule(static) if (p.nt > 1)
    for (int t = 0; t < p.nt; t++) {
        float *slice = p.slice ? (float *)work + (size_t)t * p.slice : NULL;
        float *col = p.col ? slice : NULL;
        float eo_buf[4098]; /* the split rows of strides 2-4 (im2col), for rows up to 4,090 px; wider rows gather */
        float *eo = im2col_split_fits(s) ? eo_buf : NULL;
        float *acc = dw;
        if (p.nt > 1) {
            acc = slice + p.col;
            memset(acc, 0, nw * sizeof(float));
        }
        int lo, hi;
        slot_range(s->n, p.nt, t, &lo, &hi);
        for (int i = lo; i < hi; i++) {
            const float *xi = x + (size_t)i * xs;
            const float *dyi = dy + (size_t)i * ys;
            if (p.pointwise) {
                /* dW (cout, cin) += dy (cout, P) x^T (P, cin) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->cout, s->cin, p.P, 1.0f, dyi, p.P,
                            xi, p.P, 1.0f, acc, ldw);
            } else if (p.grad_direct) {
                unsharp__conv_direct_backward_filter(s, xi, dyi, acc, col);
            } else {
                for (int oy0 = 0; oy0 < s->oh; oy0 += p.rows) {
                    int oy1 = oy0 + p.rows < s->oh ? oy0 + p.rows : s->oh;
                    int pb = (oy1 - oy0) * s->ow;
                    im2col(s, xi, oy0, oy1, col, eo);
                    /* dW (cout, K) += dy[:, block] (cout, pb) col^T (pb, K) */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->cout, p.K, pb, 1.0f,
                                dyi + (size_t)oy0 * s->ow, p.P, col, pb, 1.0f, acc, ldw);
                }
            }
        }
    }

    if (p.nt > 1) {
        /* Partials in slot order, element by element: the same sum for every run. */
        const float *base = (const float *)work + p.col;
#pragma omp parallel for num_threads(p.nt) schedule(static) if (p.nt > 1)
        for (size_t j = 0; j < nw; j++) {
            float a = dw[j];
            for (int t = 0; t < p.nt; t++) a += base[(size_t)t * p.slice + j];
            dw[j] = a;
        }
    }
bailout:
    return st;
}
