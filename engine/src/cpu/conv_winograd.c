/* conv_winograd.c: the forward pass of 3x3, stride-1, pad-1 convolutions with many channels
 * (the network's c5 and c6 at tile resolution) by Winograd's F(2x2, 3x3): each 2x2 block of
 * outputs comes from a 4x4 block of input through 16 products instead of 36, so the work is
 * 16 GEMMs of (cout x cin) by (cin x tiles) instead of one of (cout x 9 cin) by (cin x pixels):
 * 2.25 times fewer multiply-adds, for two small transforms per tile. The transforms use only
 * additions and halvings (exact in binary), so the result differs from the direct sum only by
 * the order of the additions.
 *
 *   V = B^T d B  (d: the 4x4 input block at rows 2ty-1.., columns 2tx-1..; zero outside)
 *   U = G g G^T  (g: the 3x3 kernel)
 *   M = U V      (for each of the 16 positions: one GEMM over the input channels)
 *   y = A^T M A  (the 2x2 outputs), + bias, and the fused leaky ReLU
 *
 * Workspace (conv_winograd_floats): V (16 x cin x T), M (16 x cout x T), U (16 x cout x cin),
 * and the even and odd columns of the four input rows of a row of tiles (8 x (nv + 1), nv: tw
 * rounded up to 16), which the output transform then uses for two output rows of y and of act;
 * T = th*tw tiles. The transforms run along a row of tiles, 16 or eight tiles a vector. */
#include <cblas.h>
#include <stdint.h>
#include <string.h>
#include "cpu_ops.h"
#include "simd.h"

#define WG_MIN_CHANNELS 16 /* below, the GEMMs are too thin to win */
#define WG_MIN_PIXELS 256  /* below (training crops), the transforms cost more than they save */

int unsharp__conv_winograd_applies(const unsharp_conv_shape *s)
{
    return s->kh == 3 && s->kw == 3 && s->sh == 1 && s->sw == 1 && s->ph == 1 && s->pw == 1 &&
           s->cin >= WG_MIN_CHANNELS && s->cout >= WG_MIN_CHANNELS && (int64_t)s->oh * s->ow >= WG_MIN_PIXELS;
}

/* A row of tw tiles in whole vectors of the widest build (AVX-512's 16 floats). */
#define WG_NV(tw) (((tw) + 15) / 16 * 16)

static size_t tiles_w(const unsharp_conv_shape *s) { return ((size_t)s->ow + 1) / 2; }
static size_t tiles_h(const unsharp_conv_shape *s) { return ((size_t)s->oh + 1) / 2; }

size_t unsharp__conv_winograd_floats(const unsharp_conv_shape *s)
{
    const size_t T = tiles_w(s) * tiles_h(s);
    const size_t nv = WG_NV(tiles_w(s)); /* a row of tiles in whole vectors */
    /* the split rows (8 of nv + 1) are reused for the output rows (4 of 2 nv) */
    return 16 * (size_t)s->cin * T + 16 * (size_t)s->cout * T + 16 * (size_t)s->cout * s->cin + 8 * (nv + 1);
}

/* U (16, cout, cin) from the kernels w (cout, cin, 3, 3): G g G^T, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */
static void weights_transform(const unsharp_conv_shape *s, const float *w, float *U)
{
    const size_t plane = (size_t)s->cout * s->cin;
    for (size_t k = 0; k < plane; k++) {
        const float *g = w + 9 * k;
        float t[4][3]; /* G g */
        for (int j = 0; j < 3; j++) {
            t[0][j] = g[j];
            t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
            t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
            t[3][j] = g[6 + j];
        }
        for (int i = 0; i < 4; i++) { /* (G g) G^T */
            U[(size_t)(4 * i + 0) * plane + k] = t[i][0];
            U[(size_t)(4 * i + 1) * plane + k] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
            U[(size_t)(4 * i + 2) * plane + k] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
            U[(size_t)(4 * i + 3) * plane + k] = t[i][2];
        }
    }
}

/* The two transforms are built three times (WG_TRANSFORMS): 16 tiles a vector with AVX-512,
 * eight with AVX2 and eight in plain C (GCC vector extensions), as simd.h's level says. They
 * only add, subtract and multiply by 1 or the slope (no multiply-add to fuse): the same bits on
 * every path. */

#define WG_ID(...) __VA_ARGS__

/* v * (v > 0 ? 1 : slope), as the leaky ReLU slot computes it (a macro: a function returning
 * a vector has another ABI with and without AVX) */
#define WG_LEAKY(T, v, one_i, slope_i) \
    ((v) * (T##_v)(((T##_i)((v) > 0.0f) & (one_i)) | (~(T##_i)((v) > 0.0f) & (slope_i))))

/* NAME_input_transform: V's columns for one row of tiles of one channel: the four input rows
 * r[0..3] (NULL: outside the image, zero) as even (e) and odd (o) columns of the row padded by
 * one zero on the left, so that tile t reads e[t], o[t], e[t + 1], o[t + 1]; VW tiles at a time.
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
 * NAME_output_transform: one row of tiles of one output channel, VW tiles at a time: out (the
 * two output rows, 2*nv columns each; the caller copies what lies inside) = A^T M A + bias,
 * A^T = [1 1 1 0; 0 1 -1 -1], and, when act is asked for, its leaky ReLU with the expression of
 * the activation slot (keep_y: the plain output too). M holds the 16 positions mstride apart.
 * LO, HI: the lanes that interleave two vectors' first and second halves. */
#define WG_TRANSFORMS(NAME, VW, ATTR, LO, HI)                                                             \
    typedef float NAME##_v __attribute__((vector_size(VW * 4)));                                         \
    typedef float NAME##_u __attribute__((vector_size(VW * 4), aligned(4), may_alias)); /* unaligned */  \
    typedef int32_t NAME##_i __attribute__((vector_size(VW * 4)));                                       \
    ATTR static void NAME##_input_transform(const float *const r[4], int w, size_t tw, float *eo, float *V,   \
                                            size_t vstride)                                              \
    {                                                                                                    \
        const size_t n = tw + 1, nv = WG_NV(tw); /* the arrays hold nv + 1 columns */                     \
        float *e[4], *o[4];                                                                              \
        for (int i = 0; i < 4; i++) {                                                                    \
            float *restrict ei = e[i] = eo + (size_t)(2 * i) * (nv + 1), *restrict oi = o[i] = e[i] + nv + 1; \
            const float *restrict ri = r[i];                                                             \
            /* padded column 2k (even) is input column 2k - 1, inside for 1 <= k <= w / 2; 2k + 1   \
             * (odd) is column 2k, inside for k < (w + 1) / 2; both only for k < n */                    \
            size_t ke = ri ? (size_t)w / 2 + 1 : 0, ko = ri ? ((size_t)w + 1) / 2 : 0;                   \
            if (ke > n) ke = n;                                                                          \
            if (ko > n) ko = n;                                                                          \
            ei[0] = 0.0f;                                                                                \
            for (size_t k = 1; k < ke; k++) ei[k] = ri[2 * k - 1];                                       \
            for (size_t k = ke > 1 ? ke : 1; k <= nv; k++) ei[k] = 0.0f;                                 \
            for (size_t k = 0; k < ko; k++) oi[k] = ri[2 * k];                                           \
            for (size_t k = ko; k <= nv; k++) oi[k] = 0.0f;                                              \
        }                                                                                                \
        for (size_t t = 0; t < tw; t += VW) {                                                            \
            NAME##_v a[4][4];                                                                            \
            for (int i = 0; i < 4; i++) { /* d B, row i */                                               \
                NAME##_v d0 = *(const NAME##_u *)(e[i] + t), d1 = *(const NAME##_u *)(o[i] + t);         \
                NAME##_v d2 = *(const NAME##_u *)(e[i] + t + 1), d3 = *(const NAME##_u *)(o[i] + t + 1); \
                a[i][0] = d0 - d2;                                                                       \
                a[i][1] = d1 + d2;                                                                       \
                a[i][2] = d2 - d1;                                                                       \
                a[i][3] = d1 - d3;                                                                       \
            }                                                                                            \
            NAME##_v v[16];                                                                              \
            for (int j = 0; j < 4; j++) { /* B^T (d B), column j */                                      \
                v[j] = a[0][j] - a[2][j];                                                                \
                v[4 + j] = a[1][j] + a[2][j];                                                            \
                v[8 + j] = a[2][j] - a[1][j];                                                            \
                v[12 + j] = a[1][j] - a[3][j];                                                           \
            }                                                                                            \
            if (t + VW <= tw)                                                                            \
                for (int xi = 0; xi < 16; xi++) *(NAME##_u *)(V + (size_t)xi * vstride + t) = v[xi];     \
            else                                                                                         \
                for (int xi = 0; xi < 16; xi++)                                                          \
                    for (size_t l = 0; t + l < tw; l++) V[(size_t)xi * vstride + t + l] = v[xi][l];      \
        }                                                                                                \
    }                                                                                                    \
    ATTR static void NAME##_output_transform(const float *M, size_t mstride, size_t tw, float bias, float slope, \
                                             int keep_y, int want_act, float *out_y, float *out_a)       \
    {                                                                                                    \
        const size_t row = 2 * WG_NV(tw);                                                                \
        NAME##_v one_v, slope_v;                                                                         \
        for (int l = 0; l < VW; l++) one_v[l] = 1.0f, slope_v[l] = slope;                                \
        const NAME##_i one_i = (NAME##_i)one_v, slope_i = (NAME##_i)slope_v;                             \
        for (size_t t = 0; t < tw; t += VW) {                                                            \
            NAME##_v m[16], b[4][2];                                                                     \
            if (t + VW <= tw)                                                                            \
                for (int xi = 0; xi < 16; xi++) m[xi] = *(const NAME##_u *)(M + (size_t)xi * mstride + t); \
            else                                                                                         \
                for (int xi = 0; xi < 16; xi++)                                                          \
                    for (size_t l = 0; l < VW; l++) m[xi][l] = t + l < tw ? M[(size_t)xi * mstride + t + l] : 0.0f; \
            for (int i = 0; i < 4; i++) { /* M A, row i */                                               \
                b[i][0] = m[4 * i] + m[4 * i + 1] + m[4 * i + 2];                                        \
                b[i][1] = m[4 * i + 1] - m[4 * i + 2] - m[4 * i + 3];                                    \
            }                                                                                            \
            NAME##_v o[2][2];                                                                            \
            for (int j = 0; j < 2; j++) { /* A^T (M A), column j */                                      \
                o[0][j] = b[0][j] + b[1][j] + b[2][j] + bias;                                            \
                o[1][j] = b[1][j] - b[2][j] - b[3][j] + bias;                                            \
            }                                                                                            \
            for (int r = 0; r < 2; r++) {                                                                \
                /* columns 2(t + l) and 2(t + l) + 1 for l = 0..VW-1: the two interleaved */             \
                NAME##_v lo = __builtin_shufflevector(o[r][0], o[r][1], WG_ID LO);                       \
                NAME##_v hi = __builtin_shufflevector(o[r][0], o[r][1], WG_ID HI);                       \
                float *yr = out_y + (size_t)r * row + 2 * t, *ar = out_a + (size_t)r * row + 2 * t;      \
                if (keep_y) {                                                                            \
                    *(NAME##_u *)yr = lo;                                                                \
                    *(NAME##_u *)(yr + VW) = hi;                                                         \
                }                                                                                        \
                if (want_act) {                                                                          \
                    *(NAME##_u *)ar = WG_LEAKY(NAME, lo, one_i, slope_i);                                \
                    *(NAME##_u *)(ar + VW) = WG_LEAKY(NAME, hi, one_i, slope_i);                         \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
    }

#define WG_LO8 (0, 8, 1, 9, 2, 10, 3, 11)
#define WG_HI8 (4, 12, 5, 13, 6, 14, 7, 15)
WG_TRANSFORMS(wg_plain, 8, , WG_LO8, WG_HI8)
#ifdef UNSHARP_X86_AVX2
WG_TRANSFORMS(wg_avx2, 8, __attribute__((target("avx2"))), WG_LO8, WG_HI8)
WG_TRANSFORMS(wg_avx512, 16, SIMD_AVX512_TARGET SIMD_NO_CONTRACT,
              (0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23),
              (8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31))
#endif

typedef void (*wg_in_fn)(const float *const r[4], int w, size_t tw, float *eo, float *V, size_t vstride);
typedef void (*wg_out_fn)(const float *M, size_t mstride, size_t tw, float bias, float slope, int keep_y,
                          int want_act, float *out_y, float *out_a);

void unsharp__conv_winograd_forward(const unsharp_conv_shape *s, const float *x, const float *w, const float *b,
                                    float *y, float *act, float slope, float *work)
{
    const size_t tw = tiles_w(s), th = tiles_h(s), T = tw * th;
    const size_t plane_in = (size_t)s->h * s->w, plane_out = (size_t)s->oh * s->ow;
    float *V = work, *M = V + 16 * (size_t)s->cin * T, *U = M + 16 * (size_t)s->cout * T;
    float *eo = U + 16 * (size_t)s->cout * s->cin;
    weights_transform(s, w, U);
    wg_in_fn input_transform = wg_plain_input_transform;
    wg_out_fn output_transform = wg_plain_output_transform;
#ifdef UNSHARP_X86_AVX2
    if (USE_AVX512()) {
        input_transform = wg_avx512_input_transform;
        output_transform = wg_avx512_output_transform;
    } else if (USE_AVX2()) {
        input_transform = wg_avx2_input_transform;
        output_transform = wg_avx2_output_transform;
    }
#endif
    const size_t vstride = (size_t)s->cin * T; /* position xi of V: rows of T, one a channel */
    for (int ic = 0; ic < s->cin; ic++)
        for (size_t ty = 0; ty < th; ty++) {
            const float *r[4];
            for (int i = 0; i < 4; i++) {
                int iy = (int)(2 * ty) - 1 + i;
                r[i] = iy >= 0 && iy < s->h ? x + (size_t)ic * plane_in + (size_t)iy * s->w : NULL;
            }
            input_transform(r, s->w, tw, eo, V + (size_t)ic * T + ty * tw, vstride);
        }
    for (int xi = 0; xi < 16; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->cout, (int)T, s->cin, 1.0f,
                    U + (size_t)xi * s->cout * s->cin, s->cin, V + (size_t)xi * vstride, (int)T, 0.0f,
                    M + (size_t)xi * s->cout * T, (int)T);
    const size_t mstride = (size_t)s->cout * T, row = 2 * WG_NV(tw);
    float *out_y = eo, *out_a = eo + 2 * row; /* two output rows of y and of act, whole tiles */
    const int keep_y = act != y, want_act = act != NULL;
    for (int oc = 0; oc < s->cout; oc++)
        for (size_t ty = 0; ty < th; ty++) {
            const int y0 = (int)(2 * ty), rows = y0 + 1 < s->oh ? 2 : 1;
            output_transform(M + (size_t)oc * T + ty * tw, mstride, tw, b ? b[oc] : 0.0f, slope, keep_y, want_act,
                             out_y, out_a);
            for (int r = 0; r < rows; r++) {
                size_t at = (size_t)oc * plane_out + (size_t)(y0 + r) * s->ow;
                if (keep_y) memcpy(y + at, out_y + (size_t)r * row, (size_t)s->ow * sizeof(float));
                if (want_act) memcpy(act + at, out_a + (size_t)r * row, (size_t)s->ow * sizeof(float));
            }
        }
}
