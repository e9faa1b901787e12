/* resample.c: area-averaging downscale of an 8-bit buffer to an exact long side, keeping the
 * aspect ratio. Each output pixel is the mean of the source area it covers, partly covered
 * source pixels weighted by their covered fraction (a box filter, separable: a horizontal
 * pass once per source row, accumulated vertically). It never upscales. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"
#include "simd.h"
#ifdef __SSE2__
#include <xmmintrin.h>
#endif

void unsharp__resample_size(int w, int h, int long_side, int *ow, int *oh)
{
    if (long_side <= 0 || (w >= h ? w : h) <= long_side) {
        *ow = w;
        *oh = h;
        return;
    }
    int64_t L = long_side;
    if (w >= h) {
        *ow = long_side;
        *oh = (int)(((int64_t)h * L * 2 + w) / (2 * (int64_t)w));
    } else {
        *oh = long_side;
        *ow = (int)(((int64_t)w * L * 2 + h) / (2 * (int64_t)h));
    }
    if (*ow < 1) *ow = 1;
    if (*oh < 1) *oh = 1;
}

/* The source pixels under each output pixel along one axis, with their weights. */
typedef struct axis {
    int *first, *count; /* per output pixel */
    float *weight;      /* count[i] weights from offset[i] */
    int *offset;
    /* When every window spans at most four pixels: four taps per output pixel from first4,
     * padded with zero weights and shifted left at the far edge, so no window reads past it. */
    int fixed4;
    int *first4;
    float *weight4;
} axis;

static void axis_free(axis *a)
{
    free(a->first);
    free(a->count);
    free(a->weight);
    free(a->offset);
    free(a->first4);
    free(a->weight4);
}

static int axis_make(axis *a, int n, int on)
{
    memset(a, 0, sizeof *a);
    const double scale = (double)n / on;
    const size_t per = (size_t)ceil(scale) + 2;
    a->first = malloc(sizeof(int) * (size_t)on);
    a->count = malloc(sizeof(int) * (size_t)on);
    a->offset = malloc(sizeof(int) * (size_t)on);
    a->weight = malloc(sizeof(float) * per * (size_t)on);
    if (!a->first || !a->count || !a->offset || !a->weight) return -1;
    size_t k = 0;
    for (int i = 0; i < on; i++) {
        double lo = i * scale, hi = (i + 1) * scale;
        int s = (int)floor(lo), e = (int)ceil(hi);
        if (e > n) e = n;
        if (s >= e) s = e - 1;
        a->first[i] = s;
        a->count[i] = e - s;
        a->offset[i] = (int)k;
        for (int j = s; j < e; j++) {
            double l = j > lo ? j : lo, r = j + 1 < hi ? j + 1 : hi;
            a->weight[k++] = (float)((r - l) / scale);
        }
    }
    a->fixed4 = n >= 4;
    for (int i = 0; i < on && a->fixed4; i++) a->fixed4 = a->count[i] <= 4;
    if (!a->fixed4) return 0;
    a->first4 = malloc(sizeof(int) * (size_t)on);
    a->weight4 = calloc((size_t)on * 4, sizeof(float));
    if (!a->first4 || !a->weight4) return -1;
    for (int i = 0; i < on; i++) {
        int f = a->first[i] + 4 <= n ? a->first[i] : n - 4;
        a->first4[i] = f;
        for (int j = 0; j < a->count[i]; j++) a->weight4[4 * i + (a->first[i] - f) + j] = a->weight[a->offset[i] + j];
    }
    return 0;
}

/* One source row filtered horizontally: out (ow, c) from src (w, c). For luma with four taps,
 * the row is first widened to floats (srcf, w of them), then four outputs are made at once:
 * the four taps of each are one unaligned load, multiplied by that output's four weights, and
 * the four products summed in tap order (w0 p0 + w1 p1) + w2 p2 + w3 p3, as the plain loop
 * does, so both give the same bits. */
#ifdef UNSHARP_X86_AVX2
/* The four-tap luma outputs [0, ow - ow % 8) eight at a time: outputs x + k (low half) and
 * x + 4 + k (high half) in r_k, transposed within the halves, summed in the same order as
 * below: the same bits. Returns how many it made. */
__attribute__((target("avx2"))) static int filter4_avx2(const float *srcf, const int *f4, const float *w4, int ow,
                                                        float *out)
{
    int x = 0;
    for (; x + 8 <= ow; x += 8) {
        __m256 r[4];
        for (int k = 0; k < 4; k++) {
            __m256 p = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(srcf + f4[x + k])),
                                            _mm_loadu_ps(srcf + f4[x + 4 + k]), 1);
            __m256 wk = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(w4 + 4 * (x + k))),
                                             _mm_loadu_ps(w4 + 4 * (x + 4 + k)), 1);
            r[k] = _mm256_mul_ps(p, wk);
        }
        __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpacklo_ps(r[2], r[3]);
        __m256 t2 = _mm256_unpackhi_ps(r[0], r[1]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        __m256 c0 = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(1, 0, 1, 0)), c1 = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 2, 3, 2));
        __m256 c2 = _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(1, 0, 1, 0)), c3 = _mm256_shuffle_ps(t2, t3, _MM_SHUFFLE(3, 2, 3, 2));
        _mm256_storeu_ps(out + x, _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), c2), c3));
    }
    return x;
}
#endif

static inline __attribute__((always_inline)) void filter_row(const axis *ax, int w, int ow, int c,
                                                             const unsigned char *restrict src,
                                                             float *restrict srcf, float *restrict out,
                                                             int avx2)
{
    if (c == 1 && ax->fixed4) {
        const float *restrict w4 = ax->weight4;
        const int *restrict f4 = ax->first4;
        for (int x = 0; x < w; x++) srcf[x] = src[x];
        int x = 0;
#ifdef UNSHARP_X86_AVX2
        if (avx2) x = filter4_avx2(srcf, f4, w4, ow, out);
#else
        (void)avx2;
#endif
#ifdef __SSE2__
        for (; x + 4 <= ow; x += 4) {
            __m128 r0 = _mm_mul_ps(_mm_loadu_ps(srcf + f4[x]), _mm_loadu_ps(w4 + 4 * x));
            __m128 r1 = _mm_mul_ps(_mm_loadu_ps(srcf + f4[x + 1]), _mm_loadu_ps(w4 + 4 * x + 4));
            __m128 r2 = _mm_mul_ps(_mm_loadu_ps(srcf + f4[x + 2]), _mm_loadu_ps(w4 + 4 * x + 8));
            __m128 r3 = _mm_mul_ps(_mm_loadu_ps(srcf + f4[x + 3]), _mm_loadu_ps(w4 + 4 * x + 12));
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3); /* now r_k holds tap k of the four outputs */
            _mm_storeu_ps(out + x, _mm_add_ps(_mm_add_ps(_mm_add_ps(r0, r1), r2), r3));
        }
#endif
        for (; x < ow; x++) {
            const float *restrict wx = w4 + 4 * x, *restrict p = srcf + f4[x];
            out[x] = wx[0] * p[0] + wx[1] * p[1] + wx[2] * p[2] + wx[3] * p[3];
        }
        return;
    }
    for (int x = 0; x < ow; x++) {
        const float *restrict wx = ax->weight + ax->offset[x];
        const unsigned char *restrict p = src + (size_t)ax->first[x] * (size_t)c;
        for (int ch = 0; ch < c; ch++) {
            float v = 0.0f;
            for (int i = 0; i < ax->count[x]; i++) v += wx[i] * p[i * c + ch];
            out[(size_t)x * c + ch] = v;
        }
    }
}

static inline unsigned char to_u8(float acc)
{
    float v = acc + 0.5f;
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (unsigned char)v;
}

#ifdef UNSHARP_X86_AVX2
/* vertical_row's two to four rows with AVX2, 32 outputs a step: the same products summed in
 * the same order, then to_u8 as min(max(v, 0), 255) truncated (the same bytes: v <= 0 and
 * v >= 255 clamp, and (0, 255) truncates either way). Returns how many it made. */
__attribute__((target("avx2"))) static size_t vertical_avx2(const float *const *h, const float *wy, int k, size_t n,
                                                            unsigned char *out)
{
    const __m256 half = _mm256_set1_ps(0.5f), lo = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    const __m256 w0 = _mm256_set1_ps(wy[0]), w1 = _mm256_set1_ps(wy[1]), w2 = _mm256_set1_ps(k > 2 ? wy[2] : 0.0f),
                 w3 = _mm256_set1_ps(k > 3 ? wy[3] : 0.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int b = 0; b < 4; b++) {
            size_t at = i + 8 * (size_t)b;
            __m256 a = _mm256_add_ps(_mm256_mul_ps(w0, _mm256_loadu_ps(h[0] + at)), _mm256_mul_ps(w1, _mm256_loadu_ps(h[1] + at)));
            if (k > 2) a = _mm256_add_ps(a, _mm256_mul_ps(w2, _mm256_loadu_ps(h[2] + at)));
            if (k > 3) a = _mm256_add_ps(a, _mm256_mul_ps(w3, _mm256_loadu_ps(h[3] + at)));
            a = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(a, half), lo), top);
            q[b] = _mm256_cvttps_epi32(a);
        }
        __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]), _mm256_packus_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(void *)(out + i), _mm256_permutevar8x32_epi32(p, order));
    }
    return i;
}
#endif

/* One output row: out = the rows h[0..k) weighted by wy and summed in that order, rounded to
 * 8 bits, in one pass (the sum starts from the first product, as 0 + w0 h0 would: the same
 * bits). Two to four rows, the usual case, have their own loops so that they vectorise (and
 * an AVX2 body on CPUs that have it). */
static inline __attribute__((always_inline)) void vertical_row(const float *const *h, const float *wy, int k,
                                                               size_t n, unsigned char *restrict out, float *restrict acc,
                                                               int avx2)
{
#ifdef UNSHARP_X86_AVX2
    const float *rest[4] = {NULL, NULL, NULL, NULL}; /* h from where the AVX2 body stopped */
    if (avx2 && k >= 2 && k <= 4) {
        size_t done = vertical_avx2(h, wy, k, n, out);
        for (int j = 0; j < k; j++) rest[j] = h[j] + done;
        h = rest;
        out += done;
        n -= done;
    }
#else
    (void)avx2;
#endif
    const float *restrict h0 = h[0], *restrict h1 = k > 1 ? h[1] : NULL;
    const float *restrict h2 = k > 2 ? h[2] : NULL, *restrict h3 = k > 3 ? h[3] : NULL;
    const float w0 = wy[0], w1 = k > 1 ? wy[1] : 0.0f, w2 = k > 2 ? wy[2] : 0.0f, w3 = k > 3 ? wy[3] : 0.0f;
    switch (k) {
    case 1: for (size_t i = 0; i < n; i++) out[i] = to_u8(w0 * h0[i]); return;
    case 2: for (size_t i = 0; i < n; i++) out[i] = to_u8(w0 * h0[i] + w1 * h1[i]); return;
    case 3: for (size_t i = 0; i < n; i++) out[i] = to_u8(w0 * h0[i] + w1 * h1[i] + w2 * h2[i]); return;
    case 4: for (size_t i = 0; i < n; i++) out[i] = to_u8(w0 * h0[i] + w1 * h1[i] + w2 * h2[i] + w3 * h3[i]); return;
    default:
        for (size_t i = 0; i < n; i++) acc[i] = w0 * h0[i];
        for (int j = 1; j < k; j++) {
            const float *restrict hj = h[j];
            const float wj = wy[j];
            for (size_t i = 0; i < n; i++) acc[i] += wj * hj[i];
        }
        for (size_t i = 0; i < n; i++) out[i] = to_u8(acc[i]);
    }
}

/* Built twice (SIMD_TWICE, simd.h): with AVX2 (no FMA, so the same operations in the same
 * order and the same bits) and plain. */
SIMD_TWICE(unsharp_status, resample, (const img_ctx *ctx, img_buf *b, int long_side), (ctx, b, long_side))
{
    unsharp_status st = UNSHARP_OK;
    int ow, oh;
    unsharp__resample_size(b->w, b->h, long_side, &ow, &oh);
    if (ow == b->w && oh == b->h) return UNSHARP_OK;
    const int c = b->c;
    const size_t row = (size_t)ow * (size_t)c;
    /* Each source row is filtered horizontally once, into a ring of rows large enough for
     * the vertical window of one output row. */
    const int ring = (int)ceil((double)b->h / oh) + 2;
    axis ax, ay;
    int okx = axis_make(&ax, b->w, ow), oky = axis_make(&ay, b->h, oh);
    float *rows = malloc(sizeof(float) * row * (size_t)ring);
    int *row_of = malloc(sizeof(int) * (size_t)ring);
    float *acc = malloc(sizeof(float) * row);
    unsigned char *dst = malloc(row * (size_t)oh);
    float *srcf = malloc(sizeof(float) * (size_t)b->w);
    const float **hrows = malloc(sizeof(*hrows) * (size_t)ring);
    if (okx || oky || !rows || !row_of || !acc || !dst || !srcf || !hrows)
        IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory to resample to %dx%d", ow, oh);
    for (int k = 0; k < ring; k++) row_of[k] = -1;
    const int avx2 = USE_AVX2();
    for (int y = 0; y < oh; y++) {
        for (int j = 0; j < ay.count[y]; j++) {
            int sy = ay.first[y] + j, slot = sy % ring;
            float *h = rows + (size_t)slot * row;
            if (row_of[slot] != sy) {
                filter_row(&ax, b->w, ow, c, b->px + (size_t)sy * (size_t)b->w * (size_t)c, srcf, h, avx2);
                row_of[slot] = sy;
            }
            hrows[j] = h;
        }
        vertical_row(hrows, ay.weight + ay.offset[y], ay.count[y], row, dst + (size_t)y * row, acc, avx2);
    }
    free(b->px);
    b->px = dst;
    b->w = ow;
    b->h = oh;
    dst = NULL;
bailout:
    axis_free(&ax);
    axis_free(&ay);
    free(rows);
    free(row_of);
    free(acc);
    free(dst);
    free(srcf);
    free(hrows);
    return st;
}

unsharp_status unsharp__resample(const img_ctx *ctx, img_buf *b, int long_side)
{
    return resample(ctx, b, long_side);
}
