/* elementwise.c: the cheap per-element ops on the CPU, forward and backward side by side:
 * per-channel bias, leaky ReLU (slope 0 is ReLU), the channel-slice copies behind
 * concatenation, and inverted dropout. Every loop reads element i before writing element i,
 * so outputs may alias inputs; "+=" outputs then add to what the alias holds. The dropout mask
 * comes from unsharp__hash_uniform(seed, i), the draw every backend shares. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cpu_ops.h"

/* ---- bias ---- */

unsharp_status unsharp__cpu_bias_forward(unsharp_backend *be, float *y, const float *b, int n, int c, int hw)
{
    CPU_ERRCTX(be);
    if (n < 0 || c < 0 || hw < 0) FAIL(UNSHARP_ERR_INVALID, "negative size n=%d c=%d hw=%d", n, c, hw);
    if ((size_t)n * c * hw == 0) goto bailout;
    if (!y || !b) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const int nt = cpu_par_threads(be, (size_t)n * c * hw);
#pragma omp parallel for collapse(2) num_threads(nt) schedule(static) if (nt > 1)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
            float *yr = y + ((size_t)i * c + ch) * (size_t)hw;
            const float bc = b[ch];
            for (int j = 0; j < hw; j++) yr[j] += bc;
        }
bailout:
    return st;
}

unsharp_status unsharp__cpu_bias_backward(unsharp_backend *be, const float *dy, float *db, int n, int c, int hw)
{
    CPU_ERRCTX(be);
    if (n < 0 || c < 0 || hw < 0) FAIL(UNSHARP_ERR_INVALID, "negative size n=%d c=%d hw=%d", n, c, hw);
    if (c == 0) goto bailout;
    if (!db || ((size_t)n * hw > 0 && !dy)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const int nt = cpu_par_threads(be, (size_t)n * c * hw);
    /* one thread sums a whole channel, in the same order at any thread count */
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (int ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int i = 0; i < n; i++) {
            /* eight float lanes per row (they vectorise), each row's total into the double */
            const float *dr = dy + ((size_t)i * c + ch) * (size_t)hw;
            float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int j = 0;
            for (; j + 8 <= hw; j += 8)
                for (int l = 0; l < 8; l++) lane[l] += dr[j + l];
            double row = 0.0;
            for (; j < hw; j++) row += dr[j];
            for (int l = 0; l < 8; l++) row += lane[l];
            sum += row;
        }
        db[ch] += (float)sum;
    }
bailout:
    return st;
}

/* ---- leaky ReLU ---- */

unsharp_status unsharp__cpu_leaky_relu_forward(unsharp_backend *be, const float *x, float *y, size_t n, float slope)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!x || !y)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    /* branch-free (a multiply by 1 or slope) so the loop vectorises; same values */
    const int nt = cpu_par_threads(be, n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t i = 0; i < n; i++) y[i] = x[i] * (x[i] > 0.0f ? 1.0f : slope);
bailout:
    return st;
}

unsharp_status unsharp__cpu_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                size_t n, float slope, int accumulate)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!x || !dy || !dx)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const int nt = cpu_par_threads(be, n);
    if (accumulate) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (x[i] > 0.0f ? 1.0f : slope);
    } else {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : slope);
    }
bailout:
    return st;
}

/* ---- channel slices (concat forward / backward) ---- */

unsharp_status unsharp__cpu_copy_channels(unsharp_backend *be, float *dst, int dst_c, int dst_off,
                                          const float *src, int src_c, int n, int hw, int accumulate)
{
    CPU_ERRCTX(be);
    if (n < 0 || hw < 0 || src_c < 0 || dst_off < 0 || dst_c < 0 || (int64_t)dst_off + src_c > dst_c)
        FAIL(UNSHARP_ERR_INVALID, "channels %d..%d do not fit in %d (n=%d hw=%d)", dst_off, dst_off + src_c,
             dst_c, n, hw);
    const size_t run = (size_t)src_c * (size_t)hw;
    if (run == 0 || n == 0) goto bailout;
    if (!dst || !src) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    for (int i = 0; i < n; i++) {
        float *d = dst + ((size_t)i * dst_c + dst_off) * (size_t)hw;
        const float *sp = src + (size_t)i * run;
        if (accumulate) {
            for (size_t j = 0; j < run; j++) d[j] += sp[j];
        } else {
            memmove(d, sp, run * sizeof(float));
        }
    }
bailout:
    return st;
}

unsharp_status unsharp__cpu_slice_channels_add(unsharp_backend *be, float *dst, int dst_c,
                                               const float *src, int src_c, int src_off, int n, int hw)
{
    CPU_ERRCTX(be);
    if (n < 0 || hw < 0 || dst_c < 0 || src_off < 0 || src_c < 0 || (int64_t)src_off + dst_c > src_c)
        FAIL(UNSHARP_ERR_INVALID, "channels %d..%d do not fit in %d (n=%d hw=%d)", src_off, src_off + dst_c,
             src_c, n, hw);
    const size_t run = (size_t)dst_c * (size_t)hw;
    if (run == 0 || n == 0) goto bailout;
    if (!dst || !src) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    for (int i = 0; i < n; i++) {
        float *d = dst + (size_t)i * run;
        const float *sp = src + ((size_t)i * src_c + src_off) * (size_t)hw;
        for (size_t j = 0; j < run; j++) d[j] += sp[j];
    }
bailout:
    return st;
}

/* ---- inverted dropout ---- */

unsharp_status unsharp__cpu_dropout_forward(unsharp_backend *be, const float *x, float *y, float *mask,
                                            size_t n, float p, uint64_t seed)
{
    CPU_ERRCTX(be);
    if (!(p >= 0.0f && p < 1.0f)) FAIL(UNSHARP_ERR_INVALID, "dropout probability %g is not in [0, 1)", (double)p);
    if (n > 0 && (!x || !y || !mask)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        float m = unsharp__hash_uniform(seed, i) < p ? 0.0f : keep;
        mask[i] = m;
        y[i] = x[i] * m;
    }
bailout:
    return st;
}

unsharp_status unsharp__cpu_dropout_backward(unsharp_backend *be, const float *dy, const float *mask,
                                             float *dx, size_t n)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!dy || !mask || !dx)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    for (size_t i = 0; i < n; i++) dx[i] += dy[i] * mask[i];
bailout:
    return st;
}
