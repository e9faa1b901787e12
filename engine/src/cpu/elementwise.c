/* elementwise.c: the cheap per-element ops on the CPU, forward and backward side by side:
 * per-channel bias, leaky ReLU (slope 0 is ReLU), the channel-slice copies behind
 * concatenation, and inverted dropout. Every loop reads element i before writing element i,
 * so outputs may alias inputs; "+=" outputs then add to what the alias holds. The dropout mask
 * comes from unsharp__hash_uniform(seed, i), the draw every backend shares.
 *
 * The loops are built three times (SIMD_THRICE_VOID, simd.h: AVX-512, AVX2, plain, as the CPU
 * and UNSHARP_SIMD say), each from one body with no multiply-add fused: the same bits on every
 * path. Long loops run in chunks of EW_CHUNK elements, shared among the threads. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cpu_ops.h"
#include "simd.h"

#define EW_CHUNK 4096 /* 16 chunks at least when the work is shared (CPU_PAR_MIN) */

/* ---- the loops ---- */

SIMD_THRICE_VOID(add_scalar, (float *y, float b, size_t n), (y, b, n))
{
    for (size_t j = 0; j < n; j++) y[j] += b;
}

/* d += s */
SIMD_THRICE_VOID(add_rows, (float *d, const float *sp, size_t n), (d, sp, n))
{
    for (size_t j = 0; j < n; j++) d[j] += sp[j];
}

/* dx (+)= dy * m, m = 1 or slope by the sign of x (x NULL: m is mask[]) */
SIMD_THRICE_VOID(scale_rows, (float *dx, const float *dy, const float *x, const float *mask, float slope,
                              int accumulate, size_t n),
                 (dx, dy, x, mask, slope, accumulate, n))
{
    if (!x)
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * mask[i];
    else if (accumulate)
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (x[i] > 0.0f ? 1.0f : slope);
    else /* branch-free (a multiply by 1 or slope) so the loop vectorises; same values */
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : slope);
}

/* *out = the sum of dr[0..hw): eight float lanes (they vectorise), then into a double */
SIMD_THRICE_VOID(row_sum, (const float *dr, int hw, double *out), (dr, hw, out))
{
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= hw; j += 8)
        for (int l = 0; l < 8; l++) lane[l] += dr[j + l];
    double row = 0.0;
    for (; j < hw; j++) row += dr[j];
    for (int l = 0; l < 8; l++) row += lane[l];
    *out = row;
}

/* The chunks of n elements, EW_CHUNK each but the last. */
static size_t chunks(size_t n) { return (n + EW_CHUNK - 1) / EW_CHUNK; }
static size_t chunk_len(size_t n, size_t c) { return n - c * EW_CHUNK < EW_CHUNK ? n - c * EW_CHUNK : EW_CHUNK; }

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
            add_scalar(y + ((size_t)i * c + ch) * (size_t)hw, b[ch], (size_t)hw);
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
        for (int i = 0; i < n; i++) { /* each row's total into the double */
            double row;
            row_sum(dy + ((size_t)i * c + ch) * (size_t)hw, hw, &row);
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
    /* y = x * (1 or slope): the backward's loop with dy = x */
    const int nt = cpu_par_threads(be, n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t k = 0; k < chunks(n); k++)
        scale_rows(y + k * EW_CHUNK, x + k * EW_CHUNK, x + k * EW_CHUNK, NULL, slope, 0, chunk_len(n, k));
bailout:
    return st;
}

unsharp_status unsharp__cpu_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                size_t n, float slope, int accumulate)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!x || !dy || !dx)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const int nt = cpu_par_threads(be, n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t k = 0; k < chunks(n); k++)
        scale_rows(dx + k * EW_CHUNK, dy + k * EW_CHUNK, x + k * EW_CHUNK, NULL, slope, accumulate, chunk_len(n, k));
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
            add_rows(d, sp, run);
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
        add_rows(d, sp, run);
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
    scale_rows(dx, dy, NULL, mask, 0.0f, 1, n);
bailout:
    return st;
}
