/* conv_direct.c: the forward pass of a convolution computed straight from the input rows,
 * without an im2col matrix, for the network's first layer (one input channel, on the luma
 * image) and for the strided 3x3 layers after it, whose few output channels make a poor GEMM
 * (conv_direct_applies says which shapes); the weight gradient of one-input-channel
 * convolutions likewise, at the end of the file.
 *
 * Each input row of each channel is split once into its sw phases (the columns ix with
 * ix + pw = p mod sw, zero-padded at both ends), kept in a ring of kh rows. Output column ox
 * of tap (ic, ki, kj) then reads phase kj % sw of channel ic's row at index ox + kj / sw:
 * every tap is a contiguous vector load. An output row is computed in strips of vector width
 * for blocks of DIRECT_CB output channels at once, the accumulators (one vector a channel)
 * staying in registers over all cin*kh*kw taps: one load of input and DIRECT_CB multiply-adds a
 * tap. A row ends in a group of one, two or three strips, as its width needs. The bias
 * starts the sums; the leaky ReLU of the row is written in the same pass with the
 * expression of the leaky ReLU slot (bit for bit the same from the same y).
 *
 * Three builds of the row kernel, as simd.h's level says: 16-float vectors with AVX-512 (and
 * FMA), run when USE_AVX512(); 8-float vectors with AVX2 and FMA, run when USE_AVX2() (x86-64
 * with GCC or Clang); 4-float vectors in plain C (GCC vector extensions: SSE2 on x86-64, NEON on
 * ARM) otherwise. They differ only in rounding (FMA): the AVX-512 and AVX2 builds make the same
 * sums in the same order, 16 or 8 columns a vector, so they give the same bits.
 *
 * Workspace (conv_direct_floats): the ring, kh*cin*sw*L floats with L = ow rounded up to
 * DIRECT_SPAN plus (kw - 1) / sw; then the weights regrouped tap-major in blocks of DIRECT_CB channels
 * (zero-padded in the last block) and the bias likewise, nblk*DIRECT_CB*(K + 1) floats with
 * K = cin*kh*kw. */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#include <xmmintrin.h>
#endif
#include "cpu_ops.h"
#include "simd.h"

#define DIRECT_NS 3           /* strips computed together */
#define DIRECT_SPAN (16 * DIRECT_NS) /* floats of the widest strip group (AVX-512's): rows are padded to it */
#define DIRECT_CB 4           /* output channels a block: DIRECT_CB * DIRECT_NS accumulators in registers */
#define DIRECT_KH_MAX 16 /* larger kernels take the im2col path */
#define DIRECT_KW_MAX 16
#define DIRECT_SW_MAX 8 /* larger strides too */
#define DIRECT_TAPS_MAX 640 /* cin*kh*kw of a multi-channel layer: beyond, im2col */

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static size_t phase_len(const unsharp_conv_shape *s)
{
    return round_up((size_t)s->ow, DIRECT_SPAN) + (size_t)(s->kw - 1) / (size_t)s->sw;
}

/* One input channel, any kernel up to DIRECT_KH_MAX x DIRECT_KW_MAX; or several channels through a
 * 3x3 kernel with stride 2 and rows of at least DIRECT_WIDE outputs, where im2col and a GEMM of a
 * few rows cost more than the taps (bench/conv_bench: the network's c2 and c3 on a photo;
 * not on training crops, whose short rows leave the strips half empty). */
#define DIRECT_WIDE 64
int unsharp__conv_direct_applies(const unsharp_conv_shape *s)
{
    if (s->kh * s->kw <= 1 || s->kh > DIRECT_KH_MAX || s->kw > DIRECT_KW_MAX || s->sw > DIRECT_SW_MAX) return 0;
    if (s->cin == 1) return 1;
    return s->kh == 3 && s->kw == 3 && s->sh == 2 && s->sw == 2 && s->ow >= DIRECT_WIDE &&
           (int64_t)s->cin * 9 <= DIRECT_TAPS_MAX;
}

int unsharp__conv_direct_grad_applies(const unsharp_conv_shape *s)
{
    return s->cin == 1 && unsharp__conv_direct_applies(s);
}

static size_t grad_floats(const unsharp_conv_shape *s);

size_t unsharp__conv_direct_floats(const unsharp_conv_shape *s)
{
    size_t K = (size_t)s->cin * s->kh * s->kw, nblk = ((size_t)s->cout + DIRECT_CB - 1) / DIRECT_CB;
    size_t fwd = (size_t)s->kh * s->cin * s->sw * phase_len(s) + nblk * DIRECT_CB * (K + 1);
    size_t grad = s->cin == 1 ? grad_floats(s) : 0;
    return fwd > grad ? fwd : grad; /* the forward's, or the weight gradient's */
}

#ifdef UNSHARP_X86_AVX2
/* The stride-2 interior of split_row for float rows, with AVX2, from j while j + 8 <= hi: sixteen floats a
 * load, even and odd within the lanes, then the lanes' halves in order. Returns the next j. */
__attribute__((target("avx2"))) static size_t split2_avx2(const float *row, int pw, float *d0, float *d1, size_t j,
                                                          size_t hi)
{
    for (; j + 8 <= hi; j += 8) {
        const float *p = row + 2 * j - (size_t)pw;
        __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
        __m256d e = _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
        __m256d o = _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
        _mm256_storeu_ps(d0 + j, _mm256_castpd_ps(_mm256_permute4x64_pd(e, _MM_SHUFFLE(3, 1, 2, 0))));
        _mm256_storeu_ps(d1 + j, _mm256_castpd_ps(_mm256_permute4x64_pd(o, _MM_SHUFFLE(3, 1, 2, 0))));
    }
    return j;
}

/* The stride-4 interior of split_row for 8-bit rows, with AVX2: 32 samples a load, gathered by phase (a byte
 * shuffle within the lanes, then the lanes' dwords in phase order), each phase's eight widened
 * and scaled as the SSE loop does (the same floats). Returns the next j. */
__attribute__((target("avx2"))) static size_t split4_u8_avx2(const unsigned char *row, int pw, float scale, float *d0,
                                                             float *d1, float *d2, float *d3, size_t j, size_t hi)
{
    const __m256i by_phase = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5,
                                              9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m256i lanes = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256 k = _mm256_set1_ps(scale);
    for (; j + 8 <= hi; j += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(row + 4 * j - (size_t)pw));
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, by_phase), lanes);
        __m128i p01 = _mm256_castsi256_si128(v), p23 = _mm256_extracti128_si256(v, 1);
        _mm256_storeu_ps(d0 + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(p01)), k));
        _mm256_storeu_ps(d1 + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(p01, 8))), k));
        _mm256_storeu_ps(d2 + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(p23)), k));
        _mm256_storeu_ps(d3 + j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(p23, 8))), k));
    }
    return j;
}
#endif

/* Where each phase of a split row comes from (split_geom_make): the j in [lo, hi) have all sw
 * phases inside the row; phase p has its columns inside the row for j in [first[p], end[p]) and
 * is zero elsewhere. The zeros never change, so a buffer is cleared once (split_clear) and each
 * split writes only the columns inside the row. */
typedef struct {
    size_t L, lo, hi, first[DIRECT_SW_MAX], end[DIRECT_SW_MAX];
} split_geom;

static size_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (size_t)((a + b - 1) / b); }

static void split_geom_make(const unsharp_conv_shape *s, split_geom *g)
{
    const int sw = s->sw;
    g->L = phase_len(s);
    g->lo = ceil_div(s->pw, sw);                    /* j * sw - pw >= 0 */
    g->hi = ceil_div((int64_t)s->w + s->pw - (sw - 1), sw); /* j * sw + sw - 1 - pw < w */
    if (g->hi > g->L) g->hi = g->L;
    if (g->lo > g->hi) g->lo = g->hi;
    for (int p = 0; p < sw; p++) {
        g->first[p] = ceil_div(s->pw - p, sw);
        g->end[p] = ceil_div((int64_t)s->w + s->pw - p, sw);
        if (g->end[p] > g->L) g->end[p] = g->L;
        if (g->first[p] > g->end[p]) g->first[p] = g->end[p];
    }
}

#ifdef __SSE2__
/* Four rows of four consecutive columns (a: columns 4j..4j+3, then b, c, d) transposed into
 * phases 0-3 at j..j+3 (phase p is L floats from ph + p L). */
static inline void store_phases4(__m128 a, __m128 b, __m128 c, __m128 d, float *ph, size_t L, size_t j)
{
    _MM_TRANSPOSE4_PS(a, b, c, d);
    _mm_storeu_ps(ph + j, a);
    _mm_storeu_ps(ph + L + j, b);
    _mm_storeu_ps(ph + 2 * L + j, c);
    _mm_storeu_ps(ph + 3 * L + j, d);
}
#endif

/* The sw phases of one input row, each L floats: phase p at j holds the column
 * ix = j*sw + p - pw, or 0 outside the row (left as split_clear made it). The row is floats
 * (rowf) or 8-bit samples (rowu, each read as sample * scale: the same floats as converting
 * first). The j where all phases are inside the row are split in one pass: a copy for
 * sw = 1; shuffles for float rows with sw = 2 and sw = 4 (SSE, or AVX2 eight columns at once
 * for sw = 2) and for 8-bit rows with sw = 4; the rest column by column. */
static void split_row(const unsharp_conv_shape *s, const split_geom *g, const float *rowf, const unsigned char *rowu,
                      float scale, float *ph, int avx2)
{
    const int sw = s->sw, pw = s->pw;
    const size_t L = g->L, hi = g->hi;
    size_t j = g->lo;
    (void)avx2;
    if (rowf) {
        if (sw == 1) {
            memcpy(ph + j, rowf + j - (size_t)pw, (hi - j) * sizeof(float));
            j = hi;
        }
#ifdef __SSE2__
        else if (sw == 2) {
            float *restrict d0 = ph, *restrict d1 = ph + L;
#ifdef UNSHARP_X86_AVX2
            if (avx2) j = split2_avx2(rowf, pw, d0, d1, j, hi);
#endif
            for (; j + 4 <= hi; j += 4) {
                const float *q = rowf + 2 * j - (size_t)pw;
                __m128 a = _mm_loadu_ps(q), b = _mm_loadu_ps(q + 4);
                _mm_storeu_ps(d0 + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
                _mm_storeu_ps(d1 + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
            }
        } else if (sw == 4) {
            for (; j + 4 <= hi; j += 4) {
                const float *q = rowf + 4 * j - (size_t)pw;
                store_phases4(_mm_loadu_ps(q), _mm_loadu_ps(q + 4), _mm_loadu_ps(q + 8), _mm_loadu_ps(q + 12), ph, L, j);
            }
        }
#endif
    }
#ifdef __SSE2__
    else if (sw == 4) {
        float *restrict d0 = ph, *restrict d1 = ph + L, *restrict d2 = ph + 2 * L, *restrict d3 = ph + 3 * L;
#ifdef UNSHARP_X86_AVX2
        if (avx2) j = split4_u8_avx2(rowu, pw, scale, d0, d1, d2, d3, j, hi);
#endif
        const __m128i z = _mm_setzero_si128();
        const __m128 k = _mm_set1_ps(scale);
        for (; j + 4 <= hi; j += 4) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(rowu + 4 * j - (size_t)pw));
            __m128i lo = _mm_unpacklo_epi8(v, z), hi8 = _mm_unpackhi_epi8(v, z);
            __m128 a = _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, z)), k);
            __m128 b = _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, z)), k);
            __m128 c = _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(hi8, z)), k);
            __m128 d = _mm_mul_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(hi8, z)), k);
            store_phases4(a, b, c, d, ph, L, j);
        }
    }
#endif
    /* the rest of each phase's columns inside the row, [first, end): all but [lo, j), done
     * above (first <= lo <= j <= end) */
    for (int p = 0; p < sw; p++) {
        float *restrict d = ph + (size_t)p * L;
        for (int part = 0; part < 2; part++) {
            const size_t k0 = part ? j : g->first[p], k1 = part ? g->end[p] : g->lo;
            for (size_t k = k0; k < k1; k++) {
                size_t ix = k * (size_t)sw + (size_t)p - (size_t)pw;
                d[k] = rowf ? rowf[ix] : rowu[ix] * scale;
            }
        }
    }
}

/* Asks for the bytes [p, p + n) to be brought into the cache. */
static void prefetch_row(const void *p, size_t n)
{
    for (size_t o = 0; o < n; o += 64) __builtin_prefetch((const char *)p + o);
}

/* Zeroes n split rows (sw*L floats each): the columns outside the row stay zero. */
static void split_clear(const split_geom *g, int sw, float *ph, size_t n)
{
    memset(ph, 0, n * (size_t)sw * g->L * sizeof(float));
}

/* One group of NS strips of one block of channels: the output columns [x0, x0 + NS * VW) of
 * the DIRECT_CB channels of the block, from its regrouped weights wk and bias bk, stored whole to
 * y and act (rows ys apart; y not at all when it is act, y and act from x0 on). The caller
 * gives scratch rows for a partial group and copies what lies inside. */
#define DIRECT_GROUP(NAME, VW, ATTR, NS)                                                                    \
    ATTR static __attribute__((noinline)) void NAME##_g##NS(const float *const *src, const int *tap, int nt, \
                                                            const float *wk, const float *bk, int x0,   \
                                                            float *y, float *act, size_t ys, float slope) \
    {                                                                                                   \
        NAME##_v acc[DIRECT_CB][NS];                                                                        \
        for (int c = 0; c < DIRECT_CB; c++)                                                                 \
            for (int k = 0; k < NS; k++)                                                                \
                for (int l = 0; l < VW; l++) acc[c][k][l] = bk[c];                                      \
        for (int t = 0; t < nt; t++) {                                                                  \
            const float *wt = wk + (size_t)tap[t] * DIRECT_CB;                                              \
            NAME##_v v[NS];                                                                             \
            for (int k = 0; k < NS; k++) v[k] = *(const NAME##_u *)(src[t] + x0 + k * VW);             \
            for (int c = 0; c < DIRECT_CB; c++)                                                             \
                for (int k = 0; k < NS; k++) acc[c][k] += wt[c] * v[k];                                 \
        }                                                                                               \
        /* y * (y > 0 ? 1 : slope), as the leaky ReLU slot computes it (the constants made here,   \
         * not held over the loop, where every register holds a sum or an input) */               \
        NAME##_v one_v, slope_v;                                                                        \
        for (int l = 0; l < VW; l++) one_v[l] = 1.0f, slope_v[l] = slope;                               \
        const NAME##_i one_i = (NAME##_i)one_v, slope_i = (NAME##_i)slope_v;                            \
        const int keep_y = act != y; /* act == y: the activation is written in place (inference) */ \
        for (int c = 0; c < DIRECT_CB; c++)                                                                 \
            for (int k = 0; k < NS; k++) {                                                              \
                NAME##_i pos = acc[c][k] > 0.0f;                                                        \
                if (keep_y) *(NAME##_u *)(y + c * ys + k * VW) = acc[c][k];                             \
                if (act) *(NAME##_u *)(act + c * ys + k * VW) = acc[c][k] * (NAME##_v)((pos & one_i) | (~pos & slope_i)); \
            }                                                                                           \
    }

/* One output row of every channel: y (and act) at column stride 1, channel stride ys. The nt
 * taps that fall inside the image read src[t] + ox and take weight row tap[t] of each block
 * (wb, regrouped, and bb the bias, see above). Groups of three strips, and a last group of
 * as many as the row needs. */
#define DIRECT_ROW_KERNEL(NAME, VW, ATTR)                                                                   \
    typedef float NAME##_v __attribute__((vector_size(VW * 4)));                                      \
    typedef int32_t NAME##_i __attribute__((vector_size(VW * 4)));                                    \
    typedef float NAME##_u __attribute__((vector_size(VW * 4), aligned(4), may_alias)); /* unaligned */ \
    DIRECT_GROUP(NAME, VW, ATTR, 1)                                                                         \
    DIRECT_GROUP(NAME, VW, ATTR, 2)                                                                         \
    DIRECT_GROUP(NAME, VW, ATTR, 3)                                                                         \
    ATTR static void NAME(const unsharp_conv_shape *s, const float *const *src, const int *tap, int nt,  \
                          const float *wb, const float *bb, float *y, float *act, float slope, size_t ys) \
    {                                                                                                   \
        const int K = s->cin * s->kh * s->kw, nblk = (s->cout + DIRECT_CB - 1) / DIRECT_CB;                   \
        for (int blk = 0; blk < nblk; blk++) {                                                          \
            const float *wk = wb + (size_t)blk * DIRECT_CB * K, *bk = bb + (size_t)blk * DIRECT_CB;            \
            const int cb = s->cout - blk * DIRECT_CB < DIRECT_CB ? s->cout - blk * DIRECT_CB : DIRECT_CB;               \
            float *yb = y + (size_t)blk * DIRECT_CB * ys, *ab = act ? act + (size_t)blk * DIRECT_CB * ys : NULL;  \
            float scratch[2 * DIRECT_CB * DIRECT_SPAN];                                                         \
            for (int x0 = 0; x0 < s->ow; x0 += VW * DIRECT_NS) {                                            \
                const int n = s->ow - x0 < VW * DIRECT_NS ? s->ow - x0 : VW * DIRECT_NS;                        \
                const int whole = n == VW * DIRECT_NS || n == 2 * VW || n == VW;                            \
                float *gy = yb + x0, *ga = ab ? ab + x0 : NULL;                                         \
                size_t gs = ys;                                                                         \
                if (!whole || cb < DIRECT_CB) { /* into scratch rows, then the columns inside */            \
                    gy = scratch, ga = ab ? (ab == yb ? scratch : scratch + DIRECT_CB * DIRECT_SPAN) : NULL;    \
                    gs = DIRECT_SPAN;                                                                       \
                }                                                                                       \
                if (n > 2 * VW)                                                                         \
                    NAME##_g3(src, tap, nt, wk, bk, x0, gy, ga, gs, slope);                             \
                else if (n > VW)                                                                        \
                    NAME##_g2(src, tap, nt, wk, bk, x0, gy, ga, gs, slope);                             \
                else                                                                                    \
                    NAME##_g1(src, tap, nt, wk, bk, x0, gy, ga, gs, slope);                             \
                if (gs == DIRECT_SPAN)                                                                      \
                    for (int c = 0; c < cb; c++) {                                                      \
                        if (ab != yb) memcpy(yb + c * ys + x0, gy + c * DIRECT_SPAN, (size_t)n * sizeof(float)); \
                        if (ab) memcpy(ab + c * ys + x0, ga + c * DIRECT_SPAN, (size_t)n * sizeof(float));  \
                    }                                                                                   \
            }                                                                                           \
        }                                                                                               \
    }

DIRECT_ROW_KERNEL(row_plain, 4, )
#ifdef UNSHARP_X86_AVX2
DIRECT_ROW_KERNEL(row_avx2, 8, __attribute__((target("avx2,fma"))))
DIRECT_ROW_KERNEL(row_avx512, 16, SIMD_AVX512_TARGET)
#endif

typedef void (*row_fn)(const unsharp_conv_shape *, const float *const *, const int *, int, const float *,
                       const float *, float *, float *, float, size_t);

/* The forward of one image from float rows (x) or from 8-bit rows (u8, one channel). */
static void forward(const unsharp_conv_shape *s, const float *x, const unsigned char *u8, size_t stride, float scale,
                    const float *w, const float *b, float *y, float *act, float slope, float *work)
{
    const size_t L = phase_len(s), chan = (size_t)s->sw * L, slot = (size_t)s->cin * chan;
    const size_t K = (size_t)s->cin * s->kh * s->kw, KK = (size_t)s->kh * s->kw;
    const size_t P = (size_t)s->oh * s->ow, plane = (size_t)s->h * s->w;
    const int nblk = (s->cout + DIRECT_CB - 1) / DIRECT_CB;
    float *ring = work, *wb = work + (size_t)s->kh * slot, *bb = wb + (size_t)nblk * DIRECT_CB * K;
    row_fn row = row_plain;
    const int avx2 = USE_AVX2();
#ifdef UNSHARP_X86_AVX2
    if (avx2) row = USE_AVX512() ? row_avx512 : row_avx2;
#endif
    /* weights (cout, K) to blocks of (K, DIRECT_CB), zero-padded */
    memset(wb, 0, (size_t)nblk * DIRECT_CB * (K + 1) * sizeof(float));
    for (int c = 0; c < s->cout; c++) {
        float *d = wb + (size_t)(c / DIRECT_CB) * DIRECT_CB * K + c % DIRECT_CB;
        for (size_t k = 0; k < K; k++) d[k * DIRECT_CB] = w[(size_t)c * K + k];
        bb[c] = b ? b[c] : 0.0f;
    }
    /* ring slot of input row iy: iy mod kh (the kh rows an output row reads are consecutive) */
    split_geom g;
    split_geom_make(s, &g);
    split_clear(&g, s->sw, ring, (size_t)s->kh * s->cin);
    int held[DIRECT_KH_MAX]; /* the input row each slot holds, -1 none */
    const float *src[DIRECT_TAPS_MAX > DIRECT_KH_MAX * DIRECT_KW_MAX ? DIRECT_TAPS_MAX : DIRECT_KH_MAX * DIRECT_KW_MAX];
    int tap[sizeof src / sizeof src[0]];
    for (int k = 0; k < s->kh; k++) held[k] = -1;
    for (int oy = 0; oy < s->oh; oy++) {
        int nt = 0;
        for (int ki = 0; ki < s->kh; ki++) {
            int iy = oy * s->sh - s->ph + ki;
            if (iy < 0 || iy >= s->h) continue; /* padding rows add nothing */
            float *ph = ring + (size_t)(iy % s->kh) * slot;
            if (held[iy % s->kh] != iy) {
                /* and the row that the next output row will want, into the cache meanwhile: the
                 * rows of a channel plane are far apart, and each is short work */
                const int ahead = iy + s->sh < s->h ? iy + s->sh : -1;
                if (u8) {
                    split_row(s, &g, NULL, u8 + (size_t)iy * stride, scale, ph, avx2);
                    if (ahead >= 0) prefetch_row(u8 + (size_t)ahead * stride, (size_t)s->w);
                } else {
                    for (int ic = 0; ic < s->cin; ic++) {
                        const float *r = x + (size_t)ic * plane + (size_t)iy * s->w;
                        split_row(s, &g, r, NULL, 0.0f, ph + (size_t)ic * chan, avx2);
                        if (ahead >= 0) prefetch_row(r + (size_t)s->sh * s->w, (size_t)s->w * sizeof(float));
                    }
                }
                held[iy % s->kh] = iy;
            }
            for (int ic = 0; ic < s->cin; ic++)
                for (int kj = 0; kj < s->kw; kj++, nt++) {
                    src[nt] = ph + (size_t)ic * chan + (size_t)(kj % s->sw) * L + kj / s->sw;
                    tap[nt] = (int)((size_t)ic * KK) + ki * s->kw + kj;
                }
        }
        size_t at = (size_t)oy * s->ow;
        row(s, src, tap, nt, wb, bb, y + at, act ? act + at : NULL, slope, P);
    }
}

void unsharp__conv_direct_forward(const unsharp_conv_shape *s, const float *x, const float *w, const float *b,
                                  float *y, float *act, float slope, float *work)
{
    forward(s, x, NULL, 0, 0.0f, w, b, y, act, slope, work);
}

void unsharp__conv_direct_forward_u8(const unsharp_conv_shape *s, const unsigned char *x, size_t stride, float scale,
                                     const float *w, const float *b, float *y, float *act, float slope, float *work)
{
    forward(s, NULL, x, stride, scale, w, b, y, act, slope, work);
}

/* The weight gradient of the same convolutions, one image: dW (cout, kh*kw) += the
 * correlation of dy (cout, oh, ow) with the input. Each input row is split once into its
 * phases (split_row); for every output row oy that reads it with tap row ki, tap kj of channel
 * co adds the products of dy's row with phase kj % sw from kj / sw, both contiguous, into an
 * 8-float vector sum of its own (and a scalar one for the last ow % 8 columns). The lanes are
 * added once, at the end, in a fixed order: the same bits on every CPU (the AVX2 build has no
 * FMA). Replaces im2col (kh*kw*oh*ow floats an image) and a GEMM of cout rows.
 * work: the phases (sw*L floats), then cout*K vector sums and cout*K scalar ones
 * (conv_direct_floats). */
typedef float bf_v8 __attribute__((vector_size(32), aligned(4))); /* any float alignment */

static size_t grad_floats(const unsharp_conv_shape *s)
{
    return round_up((size_t)s->sw * phase_len(s), 8) + (size_t)s->cout * s->kh * s->kw * 9;
}

/* Built twice (SIMD_TWICE, simd.h): with AVX2, without FMA (the same bits), and plain. */
SIMD_TWICE_VOID(grad_row,
                (const unsharp_conv_shape *s, const float *dy, size_t P, const float *ph, size_t L, bf_v8 *acc,
                 float *tail, size_t K),
                (s, dy, P, ph, L, acc, tail, K))
{
    const int ow = s->ow, sw = s->sw;
    int co = 0;
    /* four channels at once: four independent sums, one load of the input for them */
    for (; co + 4 <= s->cout; co += 4) {
        const float *g0 = dy + (size_t)co * P, *g1 = g0 + P, *g2 = g1 + P, *g3 = g2 + P;
        for (int kj = 0; kj < s->kw; kj++) {
            const float *src = ph + (size_t)(kj % sw) * L + (size_t)(kj / sw);
            bf_v8 *a = acc + (size_t)co * K + kj;
            bf_v8 s0 = a[0], s1 = a[K], s2 = a[2 * K], s3 = a[3 * K];
            int ox = 0;
            for (; ox + 8 <= ow; ox += 8) {
                bf_v8 b, v0, v1, v2, v3;
                memcpy(&b, src + ox, sizeof b);
                memcpy(&v0, g0 + ox, sizeof b);
                memcpy(&v1, g1 + ox, sizeof b);
                memcpy(&v2, g2 + ox, sizeof b);
                memcpy(&v3, g3 + ox, sizeof b);
                s0 += v0 * b;
                s1 += v1 * b;
                s2 += v2 * b;
                s3 += v3 * b;
            }
            a[0] = s0;
            a[K] = s1;
            a[2 * K] = s2;
            a[3 * K] = s3;
            float *t = tail + (size_t)co * K + kj;
            for (; ox < ow; ox++) {
                t[0] += g0[ox] * src[ox];
                t[K] += g1[ox] * src[ox];
                t[2 * K] += g2[ox] * src[ox];
                t[3 * K] += g3[ox] * src[ox];
            }
        }
    }
    for (; co < s->cout; co++) {
        const float *g = dy + (size_t)co * P;
        for (int kj = 0; kj < s->kw; kj++) {
            const float *src = ph + (size_t)(kj % sw) * L + (size_t)(kj / sw);
            bf_v8 sum = acc[(size_t)co * K + kj];
            int ox = 0;
            for (; ox + 8 <= ow; ox += 8) {
                bf_v8 a, b;
                memcpy(&a, g + ox, sizeof a);
                memcpy(&b, src + ox, sizeof b);
                sum += a * b;
            }
            acc[(size_t)co * K + kj] = sum;
            for (; ox < ow; ox++) tail[(size_t)co * K + kj] += g[ox] * src[ox];
        }
    }
}

void unsharp__conv_direct_backward_filter(const unsharp_conv_shape *s, const float *x, const float *dy, float *dw,
                                          float *work)
{
    const size_t L = phase_len(s), P = (size_t)s->oh * s->ow, K = (size_t)s->kh * s->kw, nk = (size_t)s->cout * K;
    bf_v8 *acc = (bf_v8 *)(work + round_up((size_t)s->sw * L, 8));
    float *tail = (float *)(acc + nk);
    memset(acc, 0, nk * sizeof *acc);
    memset(tail, 0, nk * sizeof *tail);
    split_geom g;
    split_geom_make(s, &g);
    split_clear(&g, s->sw, work, 1);
    const int avx2 = USE_AVX2();
    for (int iy = 0; iy < s->h; iy++) {
        int split = 0;
        for (int ki = 0; ki < s->kh; ki++) {
            int t = iy + s->ph - ki; /* = oy * sh */
            if (t < 0 || t % s->sh || t / s->sh >= s->oh) continue;
            if (!split) split_row(s, &g, x + (size_t)iy * s->w, NULL, 0.0f, work, avx2);
            split = 1;
            grad_row(s, dy + (size_t)(t / s->sh) * s->ow, P, work, L, acc + (size_t)ki * s->kw,
                     tail + (size_t)ki * s->kw, K);
        }
    }
    for (size_t k = 0; k < nk; k++) {
        bf_v8 v = acc[k];
        dw[k] += (((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))) + tail[k];
    }
}
