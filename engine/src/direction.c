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
    double coef[NA][6]; /* per direction: the weights of the six product sums in its mean square */
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
        memcpy(st->coef[k], w, sizeof w);
    }
}

/* One tile's means (already scaled to the 0..1 luma): updates the per-direction peaks. */
static void add_tile(dir_state *st, const double m[NS], float texture_min)
{
    if (m[S_LAP] < texture_min) return;
    st->tiles++;
    for (int k = 0; k < NA; k++) {
        const double *w = st->coef[k];
        double e = w[0] * m[S_XX] + w[1] * m[S_YY] + w[2] * m[S_XY] + w[3] * m[S_XXYY] + w[4] * m[S_XXXY] +
                   w[5] * m[S_YYXY];
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
 * int16 pairs into an int32 (at most 256 * 1020^2 < 2^31), which compilers vectorise as
 * multiply-adds of pairs. */
PIXEL_PASS static void tile_u8(const unsigned char *px, size_t stride, int x0, int y0, double out[NS])
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
