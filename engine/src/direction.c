/* direction.c: does any part of the photo have fine detail along every direction?
 *
 * Motion blur smears detail along its direction everywhere in the photo: the second derivative
 * of the luma along that direction is gone from every tile, while across it edges stay crisp.
 * A sharp photo has, somewhere, crisp detail along every direction (an eye, a leaf, a texture),
 * even when most of it is stripes or a horizon. So, per square tile of UNSHARP_DIR_TILE
 * pixels, from the Hessian of the luma (hxx, hyy and hxy, 3x3 differences) this measures the
 * RMS second derivative along 16 directions (the directional second derivative is
 * c^2 hxx + 2cs hxy + s^2 hyy, so six per-tile sums give every direction); per direction it
 * keeps the strongest tile among those with detail; and it returns the weakest direction's
 * strongest tile over the median direction's. A photo where that share is low has no crisp
 * detail along one direction anywhere: judge.c reads it as motion blur. */
#include "direction.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define TILE UNSHARP_DIR_TILE
#define NA UNSHARP_DIR_ANGLES
#define MIN_TILES 4
/* per-tile sums: hxx^2, hyy^2, hxy^2, hxx hyy, hxx hxy, hyy hxy, |hxx + hyy| */
enum { S_XX, S_YY, S_XY, S_XXYY, S_XXXY, S_YYXY, S_LAP, NS };

typedef struct {
    double coef[6][NA]; /* per product sum: its weight in each direction's mean square */
    double peak[NA];    /* per direction: the strongest tile's mean square second derivative */
    int tiles;          /* tiles with detail */
} dir_state;

static void dir_init(dir_state *st)
{
    memset(st, 0, sizeof *st);
    for (int k = 0; k < NA; k++) {
        double t = M_PI * k / NA, c = cos(t), s = sin(t);
        double a = c * c, b = 2 * c * s, d = s * s; /* (a hxx + b hxy + d hyy)^2 */
        double w[6] = {a * a, d * d, b * b, 2 * a * d, 2 * a * b, 2 * b * d};
        for (int j = 0; j < 6; j++) st->coef[j][k] = w[j];
    }
}

/* One tile's means (already scaled to the 0..1 luma): updates the per-direction peaks. */
static void add_tile(dir_state *st, const double m[NS], float texture_min)
{
    if (m[S_LAP] < texture_min) return;
    st->tiles++;
    const double(*w)[NA] = st->coef;
    for (int k = 0; k < NA; k++) {
        double e = w[0][k] * m[S_XX] + w[1][k] * m[S_YY] + w[2][k] * m[S_XY] + w[3][k] * m[S_XXYY] +
                   w[4][k] * m[S_XXXY] + w[5][k] * m[S_YYXY];
        if (e > st->peak[k]) st->peak[k] = e;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float share_of(const dir_state *st)
{
    if (st->tiles < MIN_TILES) return 1.0f;
    double p[NA];
    memcpy(p, st->peak, sizeof p);
    qsort(p, NA, sizeof *p, cmp_double);
    /* peaks are mean squares: the share is of the RMS */
    double lo = sqrt(p[0] > 0 ? p[0] : 0), med = 0.5 * (sqrt(p[NA / 2 - 1]) + sqrt(p[NA / 2]));
    return med > 0 ? (float)(lo / med) : 1.0f;
}

/* The sums of one tile's Hessian products (hxy as 4 hxy, as the 8-bit path has it), 8-bit luma,
 * (x0, y0) its first pixel. The differences are small integers (|hxx|, |hyy| <= 510,
 * |4 hxy| <= 1020): int16, laid out tile by tile so that each sum is one dot product of 256
 * int16 pairs into an int32 (at most 256 * 1020^2 < 2^31). The plain version; AVX2 CPUs run
 * weakest_u8_avx2 below. */
static void tile_u8(const unsigned char *px, size_t stride, int x0, int y0, double out[NS])
{
    int16_t xx[TILE * TILE], yy[TILE * TILE], xy[TILE * TILE];
    for (int y = 0; y < TILE; y++) {
        const unsigned char *r = px + (size_t)(y0 + y) * stride + x0 - 1, *u = r - stride, *d = r + stride;
        int16_t *a = xx + y * TILE, *b = yy + y * TILE, *c = xy + y * TILE;
        for (int i = 0; i < TILE; i++) {
            int c2 = 2 * r[i + 1];
            a[i] = (int16_t)(r[i] + r[i + 2] - c2);
            b[i] = (int16_t)(u[i + 1] + d[i + 1] - c2);
            c[i] = (int16_t)(d[i + 2] + u[i] - d[i] - u[i + 2]); /* 4 hxy */
        }
    }
    int32_t sxx = 0, syy = 0, sxy = 0, sxxyy = 0, sxxxy = 0, syyxy = 0, slap = 0;
    for (int i = 0; i < TILE * TILE; i++) {
        sxx += xx[i] * xx[i];
        syy += yy[i] * yy[i];
        sxy += xy[i] * xy[i];
        sxxyy += xx[i] * yy[i];
        sxxxy += xx[i] * xy[i];
        syyxy += yy[i] * xy[i];
        int lap = xx[i] + yy[i];
        slap += lap < 0 ? -lap : lap;
    }
    out[S_XX] = sxx;
    out[S_YY] = syy;
    out[S_XY] = sxy;
    out[S_XXYY] = sxxyy;
    out[S_XXXY] = sxxxy;
    out[S_YYXY] = syyxy;
    out[S_LAP] = slap;
}

/* The same sums from float luma (w floats a row), in double. */
static void tile_f(const float *luma, int w, int x0, int y0, double out[NS])
{
    memset(out, 0, sizeof(double) * NS);
    for (int y = y0; y < y0 + TILE; y++) {
        const float *r = luma + (size_t)y * w, *u = r - w, *d = r + w;
        for (int x = x0; x < x0 + TILE; x++) {
            double c2 = 2.0 * r[x];
            double xx = r[x - 1] + r[x + 1] - c2, yy = u[x] + d[x] - c2;
            double xy = (double)d[x + 1] + u[x - 1] - d[x - 1] - u[x + 1]; /* 4 hxy */
            out[S_XX] += xx * xx;
            out[S_YY] += yy * yy;
            out[S_XY] += xy * xy;
            out[S_XXYY] += xx * yy;
            out[S_XXXY] += xx * xy;
            out[S_YYXY] += yy * xy;
            out[S_LAP] += fabs(xx + yy);
        }
    }
}

#ifdef UNSHARP_X86_AVX2
/* tile_u8's sums for the tile at (x0, y0), with AVX2: one 16 px row of the tile is one vector of
 * int16. First the three differences of each row of the tile, from the rows read one by one
 * (a window of the last two in registers), into a small buffer; then their products, by
 * multiply-adds of pairs into int32 sums that stay in registers (|hxx + hyy| in int16: at most
 * 16 * 1020 a lane). Reads the same pixels as tile_u8, rows y0 - 1 .. y0 + 16, columns
 * x0 - 1 .. x0 + 16. Returns the seven sums in lanes 0..6 (enum order), 0 in lane 7. The
 * loops stay rolled: unrolled whole (GCC at -O3), they leave too few registers for the sums. */
__attribute__((target("avx2"))) static inline __m256i tile_sums_avx2(const unsigned char *px, size_t stride, int x0,
                                                                     int y0)
{
    __m256i bxx[TILE], byy[TILE], bxy[TILE];
    const unsigned char *p = px + (size_t)(y0 - 1) * stride + x0 - 1;
    /* per row: the centre (c), right minus left (d), and for the middle row left plus right (s) */
    __m256i cu = ROW16(p + 1), du = _mm256_sub_epi16(ROW16(p + 2), ROW16(p));
    p += stride;
    __m256i l = ROW16(p), r = ROW16(p + 2);
    __m256i cm = ROW16(p + 1), dm = _mm256_sub_epi16(r, l), sm = _mm256_add_epi16(l, r);
#pragma GCC unroll 1
    for (int j = 0; j < TILE; j++) {
        p += stride;
        l = ROW16(p), r = ROW16(p + 2);
        __m256i cd = ROW16(p + 1), dd = _mm256_sub_epi16(r, l), c2 = _mm256_add_epi16(cm, cm);
        bxx[j] = _mm256_sub_epi16(sm, c2);
        byy[j] = _mm256_sub_epi16(_mm256_add_epi16(cu, cd), c2);
        bxy[j] = _mm256_sub_epi16(dd, du); /* 4 hxy */
        cu = cm, du = dm;
        cm = cd, dm = dd, sm = _mm256_add_epi16(l, r);
    }
    __m256i axx = _mm256_setzero_si256(), ayy = axx, axy = axx, axxyy = axx, axxxy = axx, ayyxy = axx, alap = axx;
#pragma GCC unroll 1
    for (int j = 0; j < TILE; j++) {
        __m256i xx = bxx[j], yy = byy[j], xy = bxy[j];
        axx = _mm256_add_epi32(axx, _mm256_madd_epi16(xx, xx));
        ayy = _mm256_add_epi32(ayy, _mm256_madd_epi16(yy, yy));
        axy = _mm256_add_epi32(axy, _mm256_madd_epi16(xy, xy));
        axxyy = _mm256_add_epi32(axxyy, _mm256_madd_epi16(xx, yy));
        axxxy = _mm256_add_epi32(axxxy, _mm256_madd_epi16(xx, xy));
        ayyxy = _mm256_add_epi32(ayyxy, _mm256_madd_epi16(yy, xy));
        alap = _mm256_add_epi16(alap, _mm256_abs_epi16(_mm256_add_epi16(xx, yy)));
    }
    alap = _mm256_madd_epi16(alap, _mm256_set1_epi16(1));
    /* the seven sums of 8 lanes each, into one vector */
    __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(axx, ayy), _mm256_hadd_epi32(axy, axxyy));
    __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(axxxy, ayyxy), _mm256_hadd_epi32(alap, _mm256_setzero_si256()));
    /* a: XX YY XY XXYY of the low half | the same of the high half; b: XXXY YYXY LAP 0 | ... */
    __m256i lo = _mm256_permute2x128_si256(a, b, 0x20), hi = _mm256_permute2x128_si256(a, b, 0x31);
    return _mm256_add_epi32(lo, hi);
}

/* weakest_direction's tile loop for 8-bit luma with AVX2: the sums by tile_sums_avx2, scaled
 * and compared as add_tile does, four directions a vector (the same operations in the same
 * order, no FMA: the same peaks). */
__attribute__((target("avx2"))) static void weakest_u8_avx2(dir_state *st, const unsigned char *px, size_t stride,
                                                            int tw, int th, const double scale[NS],
                                                            float texture_min)
{
    const __m256d scale_lo = _mm256_loadu_pd(scale), scale_hi = _mm256_set_pd(0, scale[6], scale[5], scale[4]);
    __m256d peak[NA / 4];
    for (int i = 0; i < NA / 4; i++) peak[i] = _mm256_loadu_pd(st->peak + 4 * i);
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            __m256i s = tile_sums_avx2(px, stride, 1 + tx * TILE, 1 + ty * TILE);
            double m[8];
            _mm256_storeu_pd(m, _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(s)), scale_lo));
            _mm256_storeu_pd(m + 4, _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(s, 1)), scale_hi));
            if (m[S_LAP] < texture_min) continue;
            st->tiles++;
            __m256d m0 = _mm256_set1_pd(m[S_XX]), m1 = _mm256_set1_pd(m[S_YY]), m2 = _mm256_set1_pd(m[S_XY]),
                    m3 = _mm256_set1_pd(m[S_XXYY]), m4 = _mm256_set1_pd(m[S_XXXY]), m5 = _mm256_set1_pd(m[S_YYXY]);
            for (int i = 0; i < NA / 4; i++) {
                const int k = 4 * i;
                __m256d e = _mm256_mul_pd(_mm256_loadu_pd(&st->coef[0][k]), m0);
                e = _mm256_add_pd(e, _mm256_mul_pd(_mm256_loadu_pd(&st->coef[1][k]), m1));
                e = _mm256_add_pd(e, _mm256_mul_pd(_mm256_loadu_pd(&st->coef[2][k]), m2));
                e = _mm256_add_pd(e, _mm256_mul_pd(_mm256_loadu_pd(&st->coef[3][k]), m3));
                e = _mm256_add_pd(e, _mm256_mul_pd(_mm256_loadu_pd(&st->coef[4][k]), m4));
                e = _mm256_add_pd(e, _mm256_mul_pd(_mm256_loadu_pd(&st->coef[5][k]), m5));
                peak[i] = _mm256_max_pd(e, peak[i]); /* e > peak ? e : peak, as add_tile */
            }
        }
    for (int i = 0; i < NA / 4; i++) _mm256_storeu_pd(st->peak + 4 * i, peak[i]);
}
#endif

/* Tiles cover the pixels that have all eight neighbours, from (1, 1), whole tiles only. From
 * 8-bit luma (u8, stride in bytes) when it is given, otherwise from float luma (f). */
static float weakest_direction(const unsigned char *u8, size_t stride, const float *f, int w, int h,
                               float texture_min)
{
    dir_state st;
    dir_init(&st);
    const int tw = (w - 2) / TILE, th = (h - 2) / TILE;
    if (tw < 1 || th < 1) return 1.0f;
    /* means in the 0..1 luma: the 8-bit differences over 255; hxy was summed as 4 hxy */
    const double v = u8 ? 1.0 / 255.0 : 1.0, q = v * v / (TILE * TILE);
    const double scale[NS] = {q, q, q / 16, q, q / 4, q / 4, v / (TILE * TILE)};
#ifdef UNSHARP_X86_AVX2
    if (u8 && USE_AVX2()) {
        weakest_u8_avx2(&st, u8, stride, tw, th, scale, texture_min);
        return share_of(&st);
    }
#endif
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            double m[NS];
            if (u8)
                tile_u8(u8, stride, 1 + tx * TILE, 1 + ty * TILE, m);
            else
                tile_f(f, w, 1 + tx * TILE, 1 + ty * TILE, m);
            for (int s = 0; s < NS; s++) m[s] *= scale[s];
            add_tile(&st, m, texture_min);
        }
    return share_of(&st);
}

float unsharp__weakest_direction_u8(const unsigned char *px, size_t stride, int w, int h, float texture_min)
{
    return weakest_direction(px, stride, NULL, w, h, texture_min);
}

float unsharp__weakest_direction_f(const float *luma, int w, int h, float texture_min)
{
    return weakest_direction(NULL, 0, luma, w, h, texture_min);
}
