/* test_blur.c: the synthetic-blur sample generator of unsharp-train (train/blur*.c). Kernels
 * are checked against their moments computed here, the convolution against a naive double
 * loop with its own reflect padding, and samples by the Laplacian energy computed here, the
 * agreement of tile targets with the blend mask, determinism and flat sources. */
#include <check.h>
#include "testutil.h"
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "blur.h"

/* ---- independent helpers ----------------------------------------------------------- */

static uint32_t lcg_state;
static float frand(void) /* [0, 1) from a 32-bit LCG, independent of blur_rng */
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)(lcg_state >> 8) * (1.0f / 16777216.0f);
}

typedef struct { double sum, mx, my, cxx, cyy, cxy, minv; } moments;

static moments kernel_moments(const float *k, int n)
{
    moments m = {0, 0, 0, 0, 0, 0, 1e30};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double w = k[i * n + j];
            m.sum += w; m.mx += w * j; m.my += w * i;
            if (w < m.minv) m.minv = w;
        }
    m.mx /= m.sum; m.my /= m.sum;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double w = k[i * n + j], dx = j - m.mx, dy = i - m.my;
            m.cxx += w * dx * dx; m.cyy += w * dy * dy; m.cxy += w * dx * dy;
        }
    m.cxx /= m.sum; m.cyy /= m.sum; m.cxy /= m.sum;
    return m;
}

/* numpy 'reflect': -1 -> 1, n -> n - 2, applied until inside. */
static int mirror(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * (n - 1) - i;
    }
    return i;
}

static void naive_convolve(const float *src, double *dst, int w, int h, const float *k, int n)
{
    int r = n / 2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double acc = 0.0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    acc += (double)k[i * n + j] *
                           src[mirror(y - (i - r), h) * w + mirror(x - (j - r), w)];
            dst[y * w + x] = acc;
        }
}

/* Mean squared 4-neighbour Laplacian over the interior of a window of an image of width w. */
static double lap_energy(const float *img, int w, int x0, int y0, int ww, int hh)
{
    double acc = 0.0;
    long cnt = 0;
    for (int y = y0 + 1; y < y0 + hh - 1; y++)
        for (int x = x0 + 1; x < x0 + ww - 1; x++) {
            double l = (double)img[(y - 1) * w + x] + img[(y + 1) * w + x] + img[y * w + x - 1] +
                       img[y * w + x + 1] - 4.0 * img[y * w + x];
            acc += l * l;
            cnt++;
        }
    return acc / cnt;
}

enum { SRC_NOISE, SRC_SCENE, SRC_FLAT };

/* A w x h source in [0,1]: white noise; a 'scene' of random rectangles and discs with a
 * fine texture; or constant grey. */
static float *make_source(int kind, int w, int h, uint32_t seed)
{
    float *s = malloc((size_t)w * h * sizeof *s);
    ck_assert_ptr_nonnull(s);
    lcg_state = seed;
    for (int i = 0; i < w * h; i++) s[i] = kind == SRC_NOISE ? frand() : 0.5f;
    if (kind == SRC_SCENE) {
        for (int q = 0; q < 60; q++) {
            int cx = (int)(frand() * w), cy = (int)(frand() * h), rx = 5 + (int)(frand() * 60),
                ry = 5 + (int)(frand() * 60), disc = frand() < 0.5f;
            float v = frand();
            for (int y = cy - ry; y <= cy + ry; y++)
                for (int x = cx - rx; x <= cx + rx; x++) {
                    if (x < 0 || y < 0 || x >= w || y >= h) continue;
                    double dx = (double)(x - cx) / rx, dy = (double)(y - cy) / ry;
                    if (!disc || dx * dx + dy * dy <= 1.0) s[y * w + x] = v;
                }
        }
        for (int i = 0; i < w * h; i++) {
            float v = s[i] + 0.15f * (frand() - 0.5f);
            s[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    }
    return s;
}

/* A config with every degradation off, for measuring blur alone. */
static blur_config clean_config(void)
{
    blur_config c = blur_config_default();
    c.p_noise = 0.0f;
    c.p_exposure = 0.0f;
    c.p_jpeg = 0.0f;
    c.p_lowlight = 0.0f;
    c.p_sharpen = 0.0f;
    c.p_haze = 0.0f;
    c.quantize = 0;
    return c;
}

/* ---- RNG --------------------------------------------------------------------------- */

START_TEST(rng_known_values)
{
    blur_rng r = {0};
    /* splitmix64's published first output for seed 0 */
    ck_assert_uint_eq(blur_rng_next(&r), 0xE220A8397B1DCDAFull);
    blur_rng a = {12345};
    double s = 0, s2 = 0;
    const int N = 200000;
    int bad = 0;
    for (int i = 0; i < N; i++) {
        float u = blur_uniform(&a, -2.0f, 3.0f);
        bad += !(u >= -2.0f && u < 3.0f);
        float g = blur_normal(&a);
        bad += !isfinite(g);
        s += g; s2 += (double)g * g;
    }
    ck_assert_int_eq(bad, 0);
    ck_assert_double_lt(fabs(s / N), 0.01);
    ck_assert_double_lt(fabs(s2 / N - 1.0), 0.02);
}
END_TEST

/* ---- kernels ----------------------------------------------------------------------- */

static float kbuf[BLUR_KMAX * BLUR_KMAX];

static void check_normalised(const float *k, int n)
{
    ck_assert_int_eq(n % 2, 1);
    ck_assert_int_le(n, BLUR_KMAX);
    moments m = kernel_moments(k, n);
    ck_assert_double_lt(fabs(m.sum - 1.0), 1e-5);
    ck_assert_double_ge(m.minv, 0.0);
}

START_TEST(gaussian_kernel)
{
    const float sig[] = {0.8f, 1.0f, 1.5f, 2.0f, 3.5f, 6.0f, 8.0f};
    for (size_t s = 0; s < sizeof sig / sizeof *sig; s++) {
        int n = 0;
        ck_assert_int_eq(blur_kernel_gaussian(sig[s], kbuf, &n), BLUR_OK);
        check_normalised(kbuf, n);
        moments m = kernel_moments(kbuf, n);
        double v = (double)sig[s] * sig[s];
        ck_assert_double_lt(fabs(m.cxx - v), 0.01 * v);
        ck_assert_double_lt(fabs(m.cyy - v), 0.01 * v);
        ck_assert_double_lt(fabs(m.cxy), 1e-6);
        ck_assert_double_lt(fabs(m.mx - n / 2), 1e-6);
    }
    int n = 0;
    ck_assert_int_eq(blur_kernel_gaussian(0.0f, kbuf, &n), BLUR_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_float_eq(kbuf[0], 1.0f);
    ck_assert_int_eq(blur_kernel_gaussian(9.0f, kbuf, &n), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_kernel_gaussian(NAN, kbuf, &n), BLUR_ERR_INVALID);
}
END_TEST

START_TEST(disc_kernel)
{
    const float rad[] = {1.5f, 2.0f, 3.3f, 5.0f, 8.0f, 15.0f};
    for (size_t s = 0; s < sizeof rad / sizeof *rad; s++) {
        int n = 0;
        float R = rad[s];
        ck_assert_int_eq(blur_kernel_disc(R, kbuf, &n), BLUR_OK);
        check_normalised(kbuf, n);
        int c = n / 2;
        double dmax = 0.0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (kbuf[i * n + j] > 0.0f) {
                    double d = hypot(i - c, j - c);
                    if (d > dmax) dmax = d;
                }
        ck_assert_double_le(dmax, R + 0.75);
        ck_assert_double_ge(dmax, R - 0.5);
        /* a uniform disc has E[r^2] = R^2 / 2, and area pi R^2; pixel-area coverage adds
         * the pixel's own 1/12 + 1/12 */
        moments m = kernel_moments(kbuf, n);
        double er2 = m.cxx + m.cyy, area = 0.0, kmax = 0.0;
        for (int i = 0; i < n * n; i++) if (kbuf[i] > kmax) kmax = kbuf[i];
        for (int i = 0; i < n * n; i++) area += kbuf[i] / kmax;
        ck_assert_double_lt(fabs(er2 - (R * R / 2.0 + 1.0 / 6.0)), 0.03 * R * R / 2.0 + 0.15);
        ck_assert_double_lt(fabs(area - M_PI * R * R), 0.02 * M_PI * R * R);
        ck_assert_double_lt(fabs(m.mx - c) + fabs(m.my - c), 1e-5);
    }
    int n;
    ck_assert_int_eq(blur_kernel_disc(0.0f, kbuf, &n), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_kernel_disc(40.0f, kbuf, &n), BLUR_ERR_INVALID);
}
END_TEST

START_TEST(motion_kernel)
{
    const float len[] = {5.0f, 9.5f, 15.0f, 25.0f, 40.0f};
    const float ang[] = {0.0f, 0.3f, 0.785398f, 1.2f, 1.5708f, 2.5f, 4.0f};
    for (size_t l = 0; l < sizeof len / sizeof *len; l++)
        for (size_t a = 0; a < sizeof ang / sizeof *ang; a++) {
            int n = 0;
            ck_assert_int_eq(blur_kernel_motion(len[l], ang[a], kbuf, &n), BLUR_OK);
            check_normalised(kbuf, n);
            moments m = kernel_moments(kbuf, n);
            double ux = cos(ang[a]), uy = sin(ang[a]);
            double along = m.cxx * ux * ux + 2 * m.cxy * ux * uy + m.cyy * uy * uy;
            double across = m.cxx * uy * uy - 2 * m.cxy * ux * uy + m.cyy * ux * ux;
            double L = len[l];
            ck_assert_double_lt(fabs(along - L * L / 12.0), 0.3);
            ck_assert_double_lt(across, 0.3);
            ck_assert_double_lt(fabs(m.mx - n / 2) + fabs(m.my - n / 2), 1e-4);
        }
    int n;
    ck_assert_int_eq(blur_kernel_motion(0.0f, 0.0f, kbuf, &n), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_kernel_motion(61.0f, 0.0f, kbuf, &n), BLUR_ERR_INVALID);
}
END_TEST

START_TEST(shake_kernel)
{
    for (uint64_t seed = 0; seed < 50; seed++) {
        blur_rng r = {seed};
        float L = 5.0f + (float)(seed % 6) * 5.0f;
        int n = 0;
        ck_assert_int_eq(blur_kernel_shake(&r, L, kbuf, &n), BLUR_OK);
        check_normalised(kbuf, n);
        moments m = kernel_moments(kbuf, n);
        /* the path stays within its length of the centre, and is spread out */
        int c = n / 2;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (kbuf[i * n + j] > 0.0f) {
                    ck_assert_int_le(abs(i - c), (int)ceil(L / 2) + 1);
                    ck_assert_int_le(abs(j - c), (int)ceil(L / 2) + 1);
                }
        ck_assert_double_gt(m.cxx + m.cyy, 0.2);
        ck_assert_double_le(m.cxx + m.cyy, L * L / 4.0 + 1.0);
        /* same seed, same kernel */
        blur_rng r2 = {seed};
        static float k2[BLUR_KMAX * BLUR_KMAX];
        int n2 = 0;
        ck_assert_int_eq(blur_kernel_shake(&r2, L, k2, &n2), BLUR_OK);
        ck_assert_int_eq(n, n2);
        ck_assert_int_eq(memcmp(kbuf, k2, (size_t)n * n * sizeof(float)), 0);
    }
}
END_TEST

/* Sized by spread, a shake spreads the light as a line of its length does: second moments
 * (var_x + var_y) of L^2 / 12, plus at most 1/2 from the bilinear splat, whatever its path. */
START_TEST(shake_kernel_by_spread)
{
    for (uint64_t seed = 0; seed < 50; seed++) {
        blur_rng r = {seed};
        float L = 3.0f + (float)(seed % 6) * 4.4f;
        int n = 0;
        ck_assert_int_eq(blur_kernel_shake_sized(&r, L, 1, kbuf, &n), BLUR_OK);
        check_normalised(kbuf, n);
        moments m = kernel_moments(kbuf, n);
        double want = (double)L * L / 12.0;
        ck_assert_msg(m.cxx + m.cyy >= want - 0.05 && m.cxx + m.cyy <= want + 0.5,
                      "seed %d L %g: second moments %g, a line's %g", (int)seed, L, m.cxx + m.cyy, want);
        /* the same walk as sized by length: the same draws from rng */
        blur_rng r2 = {seed};
        static float k2[BLUR_KMAX * BLUR_KMAX];
        int n2 = 0;
        ck_assert_int_eq(blur_kernel_shake_sized(&r2, L, 0, k2, &n2), BLUR_OK);
        ck_assert_uint_eq(blur_rng_next(&r2), blur_rng_next(&r));
    }
}
END_TEST

/* The largest share of a kernel's light in any 3 x 3 window (a naive loop). */
static double core_share(const float *k, int n)
{
    double best = 0.0;
    for (int i = -1; i < n - 1; i++)
        for (int j = -1; j < n - 1; j++) {
            double s = 0.0;
            for (int di = 0; di < 3; di++)
                for (int dj = 0; dj < 3; dj++)
                    if (i + di >= 0 && i + di < n && j + dj >= 0 && j + dj < n) s += k[(i + di) * n + j + dj];
            if (s > best) best = s;
        }
    return best;
}

/* A shake with dwell spreads the light as far as the plain walk of that size does, but gathers
 * more of it where the hand stops: at 15 and 22 px, at least 1.12 times the plain walk's share
 * in the brightest 3 x 3 px on average (about 1.3 in bench/realistic_blur.py's shakes against
 * the plain walk). Without dwell it is the plain walk, draw for draw. */
START_TEST(shake_kernel_dwell)
{
    static float k2[BLUR_KMAX * BLUR_KMAX];
    double plain = 0.0, dwell = 0.0;
    for (uint64_t seed = 0; seed < 120; seed++) {
        float L = seed % 2 ? 15.0f : 22.0f;
        blur_rng r = {seed}, r2 = {seed};
        int n = 0, n2 = 0;
        ck_assert_int_eq(blur_kernel_shake_dwell(&r, L, 1, 1, kbuf, &n), BLUR_OK);
        check_normalised(kbuf, n);
        moments m = kernel_moments(kbuf, n);
        double want = (double)L * L / 12.0;
        /* a path that would reach past the largest kernel is shrunk to fit, and spreads less */
        int clipped = n == 2 * (BLUR_KMAX / 2) + 1;
        ck_assert_msg((clipped || m.cxx + m.cyy >= want - 0.05) && m.cxx + m.cyy <= want + 0.5,
                      "seed %d L %g: second moments %g, a line's %g", (int)seed, L, m.cxx + m.cyy, want);
        dwell += core_share(kbuf, n);
        ck_assert_int_eq(blur_kernel_shake_sized(&r2, L, 1, k2, &n2), BLUR_OK);
        plain += core_share(k2, n2);
        blur_rng r3 = {seed};
        int n3 = 0;
        ck_assert_int_eq(blur_kernel_shake_dwell(&r3, L, 1, 0, kbuf, &n3), BLUR_OK);
        ck_assert_int_eq(n3, n2);
        ck_assert_int_eq(memcmp(kbuf, k2, (size_t)n2 * n2 * sizeof(float)), 0);
    }
    ck_assert_msg(dwell >= 1.12 * plain, "brightest 3x3 share: %g with dwell, %g without", dwell / 120, plain / 120);
}
END_TEST

/* ---- convolution ------------------------------------------------------------------- */

START_TEST(convolve_matches_naive)
{
    const int sizes[][2] = {{13, 9}, {7, 20}, {1, 5}, {6, 1}, {40, 33}, {2, 2}};
    const int ks[] = {1, 3, 5, 9, 15, 31};
    lcg_state = 99;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        float *src = malloc((size_t)w * h * sizeof *src), *dst = malloc((size_t)w * h * sizeof *dst);
        double *ref = malloc((size_t)w * h * sizeof *ref);
        for (int i = 0; i < w * h; i++) src[i] = frand();
        for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
            int n = ks[q];
            for (int variant = 0; variant < 3; variant++) {
                if (variant == 0) { /* random, non-separable, some zero taps */
                    for (int i = 0; i < n * n; i++) kbuf[i] = frand() < 0.3f ? 0.0f : frand();
                } else if (variant == 1) { /* Gaussian: the separable path */
                    int m = 0;
                    ck_assert_int_eq(blur_kernel_gaussian((n / 2) / 4.0f, kbuf, &m), BLUR_OK);
                    ck_assert_int_eq(m, n);
                } else { /* asymmetric rank 1: flipping must be right on the separable path */
                    for (int i = 0; i < n; i++)
                        for (int j = 0; j < n; j++)
                            kbuf[i * n + j] = (1.0f + i + (i == n / 2)) * (1.0f + 2 * j * j);
                }
                naive_convolve(src, ref, w, h, kbuf, n);
                ck_assert_int_eq(blur_convolve(src, dst, w, h, kbuf, n), BLUR_OK);
                double scale = 0.0;
                for (int i = 0; i < n * n; i++) scale += fabs(kbuf[i]);
                double worst = 0.0;
                for (int i = 0; i < w * h; i++)
                    if (fabs(dst[i] - ref[i]) > worst) worst = fabs(dst[i] - ref[i]);
                ck_assert_msg(worst <= 1e-5 * scale, "w=%d h=%d k=%d variant=%d: error %g", w, h,
                              n, variant, worst);
                /* in place */
                float *cp = malloc((size_t)w * h * sizeof *cp);
                memcpy(cp, src, (size_t)w * h * sizeof *cp);
                ck_assert_int_eq(blur_convolve(cp, cp, w, h, kbuf, n), BLUR_OK);
                ck_assert_int_eq(memcmp(cp, dst, (size_t)w * h * sizeof *cp), 0);
                free(cp);
            }
        }
        free(src); free(dst); free(ref);
    }
    ck_assert_int_eq(blur_convolve(kbuf, kbuf, 4, 4, kbuf, 4), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_convolve(kbuf, kbuf, 4, 4, kbuf, BLUR_KMAX + 2), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_convolve(kbuf, kbuf, 0, 4, kbuf, 3), BLUR_ERR_INVALID);
}
END_TEST

START_TEST(convolve_region_matches_full)
{
    const int w = 50, h = 41;
    float *src = make_source(SRC_NOISE, w, h, 5);
    float *full = malloc(w * h * sizeof *full), *part = malloc(20 * 17 * sizeof *part);
    int n = 0;
    ck_assert_int_eq(blur_kernel_disc(4.0f, kbuf, &n), BLUR_OK);
    ck_assert_int_eq(blur_convolve(src, full, w, h, kbuf, n), BLUR_OK);
    ck_assert_int_eq(blur_convolve_region(src, w, h, 25, 3, part, 20, 17, kbuf, n), BLUR_OK);
    double worst = 0.0;
    for (int y = 0; y < 17; y++)
        for (int x = 0; x < 20; x++)
            worst = fmax(worst, fabs(part[y * 20 + x] - full[(y + 3) * w + x + 25]));
    ck_assert_double_lt(worst, 1e-5);
    free(src); free(full); free(part);
}
END_TEST

/* ---- samples ----------------------------------------------------------------------- */

/* (Check records every passing assertion, so per-pixel checks count failures first.) */
static void assert_sample_sane(const blur_sample *s)
{
    int np = s->crop * s->crop, nt = s->tiles * s->tiles, bad = 0;
    for (int i = 0; i < np; i++)
        bad += !(s->input[i] >= 0.0f && s->input[i] <= 1.0f) ||
               !(s->mask[i] >= 0.0f && s->mask[i] <= 1.0f) || !(s->sharp[i] >= 0.0f && s->sharp[i] <= 1.0f);
    for (int i = 0; i < nt; i++)
        bad += !(s->tile_target[i] >= 0.0f && s->tile_target[i] <= 1.0f) ||
               !(s->tile_weight[i] >= 0.0f && s->tile_weight[i] <= 1.0f);
    ck_assert_int_eq(bad, 0);
    ck_assert(s->label >= 0 && s->label <= 2);
}

START_TEST(blur_removes_high_frequencies)
{
    float *src = make_source(SRC_NOISE, 400, 360, 1);
    blur_config c = clean_config();
    c.p_sharp = 0.0f;
    c.p_partial = 0.0f;
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    /* each blur at its mildest; Gaussian at 1.5 */
    for (int kind = 0; kind < 4; kind++) {
        c.p_motion = kind >= 2 ? 1.0f : 0.0f;
        c.p_shake = kind == 3 ? 1.0f : 0.0f;
        c.p_disc = kind == 1 ? 1.0f : 0.0f;
        c.gauss_sigma_min = c.gauss_sigma_max = 1.5f;
        c.disc_radius_min = c.disc_radius_max = 1.5f;
        c.motion_len_min = c.motion_len_max = 5.0f;
        c.shake_len_min = c.shake_len_max = 5.0f;
        for (uint64_t seed = 0; seed < 6; seed++) {
            blur_rng r = {seed * 7 + (uint64_t)kind};
            ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
            assert_sample_sane(&s);
            double es = lap_energy(s.sharp, 256, 0, 0, 256, 256);
            double eb = lap_energy(s.input, 256, 0, 0, 256, 256);
            double limit = kind == 0 ? 0.05 : kind == 1 ? 0.25 : 0.5;
            ck_assert_msg(eb < limit * es, "kind %d seed %d: %g of the energy kept", kind,
                          (int)seed, eb / es);
            ck_assert_int_eq(s.kind, kind + 1);
            ck_assert_int_eq(s.label, kind >= 2 ? BLUR_LABEL_MOTION : BLUR_LABEL_DEFOCUS);
            ck_assert_int_eq(s.mask_kind, BLUR_MASK_NONE);
            for (int t = 0; t < s.tiles * s.tiles; t++) {
                ck_assert_float_eq(s.tile_target[t], 0.0f);
                ck_assert_float_eq(s.tile_weight[t], 1.0f);
            }
            if (kind == 0) ck_assert_float_eq_tol(s.blur_sigma_px, 1.5f, 0.02f);
        }
    }
    /* sharp samples, tiny softening included, keep > 80 % */
    c = clean_config();
    c.p_sharp = 1.0f;
    c.p_soften = 1.0f;
    for (uint64_t seed = 0; seed < 12; seed++) {
        blur_rng r = {seed};
        ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
        assert_sample_sane(&s);
        double es = lap_energy(s.sharp, 256, 0, 0, 256, 256);
        double eb = lap_energy(s.input, 256, 0, 0, 256, 256);
        ck_assert_msg(eb > 0.8 * es, "seed %d: %g kept (sigma %g)", (int)seed, eb / es, s.param);
        ck_assert_int_eq(s.label, BLUR_LABEL_SHARP);
        for (int t = 0; t < s.tiles * s.tiles; t++) ck_assert_float_eq(s.tile_target[t], 1.0f);
    }
    blur_sample_free(&s);
    free(src);
}
END_TEST

static void check_partial(int src_kind, float p_ellipse)
{
    const int W = 420, H = 380;
    float *src = make_source(src_kind, W, H, 3);
    blur_config c = clean_config();
    c.p_sharp = 0.0f;
    c.p_partial = 1.0f;
    c.p_mask_ellipse = p_ellipse;
    c.p_motion = 0.0f;
    c.p_disc = 0.0f;
    c.gauss_sigma_min = 2.5f;
    c.gauss_sigma_max = 4.0f;
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    int nsharp_label = 0;
    for (uint64_t seed = 0; seed < 10; seed++) {
        blur_rng r = {1000 + seed};
        ck_assert_int_eq(blur_make_sample(&c, &r, src, W, H, &s), BLUR_OK);
        assert_sample_sane(&s);
        ck_assert_int_eq(s.mask_kind, p_ellipse > 0.5f ? BLUR_MASK_ELLIPSE : BLUR_MASK_PLANE);
        double esum[2] = {0, 0}, pure_min_sharp = 1e30, pure_max_blur = 0;
        int ecount[2] = {0, 0}, textured = 0, textured_sharp = 0;
        for (int ty = 0; ty < s.tiles; ty++)
            for (int tx = 0; tx < s.tiles; tx++) {
                int t = ty * s.tiles + tx, above = 0;
                double mmin = 1, mmax = 0;
                for (int y = ty * 32; y < ty * 32 + 32; y++)
                    for (int x = tx * 32; x < tx * 32 + 32; x++) {
                        float m = s.mask[y * 256 + x];
                        above += m > 0.5f;
                        if (m < mmin) mmin = m;
                        if (m > mmax) mmax = m;
                    }
                double q = above / 1024.0;
                if (q >= 0.75) ck_assert_float_eq(s.tile_target[t], 1.0f);
                else if (q <= 0.25) ck_assert_float_eq(s.tile_target[t], 0.0f);
                else ck_assert_float_eq(s.tile_weight[t], 0.0f);
                if (s.tile_texture[t] >= c.texture_min) {
                    textured++;
                    textured_sharp += s.tile_target[t] == 1.0f && s.tile_weight[t] > 0.0f;
                }
                double e = lap_energy(s.input, 256, tx * 32, ty * 32, 32, 32);
                if (s.tile_weight[t] == 1.0f) {
                    int cls = s.tile_target[t] == 1.0f;
                    esum[cls] += e;
                    ecount[cls]++;
                }
                if (mmin == 1.0 && e < pure_min_sharp) pure_min_sharp = e;
                if (mmax == 0.0 && e > pure_max_blur) pure_max_blur = e;
            }
        if (ecount[0] && ecount[1])
            ck_assert_double_gt(esum[1] / ecount[1], 3.0 * esum[0] / ecount[0]);
        if (pure_min_sharp < 1e30 && pure_max_blur > 0)
            ck_assert_double_gt(pure_min_sharp, 5.0 * pure_max_blur);
        double share = textured ? (double)textured_sharp / textured : 0.0;
        ck_assert_double_lt(fabs(share - s.sharp_share), 1e-6);
        if (share >= 0.1) { ck_assert_int_eq(s.label, BLUR_LABEL_SHARP); nsharp_label++; }
        else ck_assert_int_eq(s.label, BLUR_LABEL_DEFOCUS);
    }
    ck_assert_int_gt(nsharp_label, 0);
    blur_sample_free(&s);
    free(src);
}

START_TEST(partial_blur_ellipse) { check_partial(SRC_NOISE, 1.0f); check_partial(SRC_SCENE, 1.0f); }
END_TEST

START_TEST(partial_blur_plane) { check_partial(SRC_NOISE, 0.0f); }
END_TEST

START_TEST(deterministic)
{
    float *src = make_source(SRC_SCENE, 600, 450, 11);
    blur_config c = blur_config_default();
    c.p_jpeg = 0.5f; /* exercise every stage */
    blur_sample a, b;
    ck_assert_int_eq(blur_sample_alloc(&c, &a), BLUR_OK);
    ck_assert_int_eq(blur_sample_alloc(&c, &b), BLUR_OK);
    size_t np = 256 * 256 * sizeof(float), nt = 64 * sizeof(float);
    int labels[3] = {0, 0, 0}, jpeg = 0, partial = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        blur_rng r1 = {seed}, r2 = {seed}, r3 = {seed + 1000};
        ck_assert_int_eq(blur_make_sample(&c, &r1, src, 600, 450, &a), BLUR_OK);
        ck_assert_int_eq(blur_make_sample(&c, &r2, src, 600, 450, &b), BLUR_OK);
        assert_sample_sane(&a);
        ck_assert_int_eq(memcmp(a.input, b.input, np), 0);
        ck_assert_int_eq(memcmp(a.mask, b.mask, np), 0);
        ck_assert_int_eq(memcmp(a.tile_target, b.tile_target, nt), 0);
        ck_assert_int_eq(memcmp(a.tile_weight, b.tile_weight, nt), 0);
        ck_assert_int_eq(a.label, b.label);
        ck_assert_uint_eq(r1.s, r2.s);
        ck_assert_int_eq(blur_make_sample(&c, &r3, src, 600, 450, &b), BLUR_OK);
        ck_assert_int_ne(memcmp(a.input, b.input, np), 0);
        labels[a.label]++;
        jpeg += a.jpeg_quality > 0;
        partial += a.mask_kind != BLUR_MASK_NONE;
    }
    ck_assert_int_gt(labels[0], 0);
    ck_assert_int_gt(labels[1], 0);
    ck_assert_int_gt(labels[2], 0);
    ck_assert_int_gt(jpeg, 0);
    ck_assert_int_gt(partial, 0);
    blur_sample_free(&a);
    blur_sample_free(&b);
    free(src);
}
END_TEST

START_TEST(flat_source_has_no_weight)
{
    float *src = make_source(SRC_FLAT, 300, 300, 0);
    blur_config c = blur_config_default();
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    for (uint64_t seed = 0; seed < 20; seed++) {
        blur_rng r = {seed};
        ck_assert_int_eq(blur_make_sample(&c, &r, src, 300, 300, &s), BLUR_OK);
        assert_sample_sane(&s);
        float wmax = 0.0f;
        for (int t = 0; t < s.tiles * s.tiles; t++) wmax = fmaxf(wmax, s.tile_weight[t]);
        ck_assert_float_le(wmax, 0.1f);
        ck_assert_float_le(s.image_weight, 0.1f);
    }
    blur_sample_free(&s);
    free(src);
}
END_TEST

/* In focus is relative: a photo whose left half has fine detail (a pixel checker of contrast
 * 0.3) and whose right half is a smooth ramp with pixel noise (out of focus, yet over the
 * absolute texture line). Its in-focus level is the 90th percentile of its tiles' Laplacian
 * RMS, computed here by a naive loop over bytes; with texture_rel 0.3 the noisy half is
 * never taught as sharp, while without it every tile is; in blurred samples it is taught
 * blurred, or (focus_both) not at all. */
static double naive_tile_lap(const unsigned char *b, int w, int x0, int y0)
{
    double acc = 0;
    for (int y = y0 + 1; y < y0 + 31; y++)
        for (int x = x0 + 1; x < x0 + 31; x++) {
            double l = (b[(y - 1) * w + x] + b[(y + 1) * w + x] + b[y * w + x - 1] + b[y * w + x + 1] -
                        4.0 * b[y * w + x]) / 255.0;
            acc += l * l;
        }
    return sqrt(acc / 900.0);
}

/* Six samples of the half-detailed photo below (in focus on the left, out of focus on the
 * right): every tile of the left half is taught; of the right half, all of them or (untaught)
 * none. Sharp samples teach 1, blurred ones 0. */
static void taught_halves(const blur_config *c, const float *src, int W, int H, float ref, uint64_t seed0,
                          blur_sample *s, int right_untaught)
{
    int left_w = 0, right_w = 0, right_tiles = 0, left_tiles = 0;
    for (uint64_t seed = 0; seed < 6; seed++) {
        blur_rng r = {seed0 + seed};
        ck_assert_int_eq(blur_make_sample_ref(c, &r, src, W, H, ref, s), BLUR_OK);
        /* where the crop fell: its first and last rows match the source at some x0 */
        int x0 = -1;
        for (int cx = 0; cx <= W - 256 && x0 < 0; cx++)
            for (int cy = 0; cy <= H - 256 && x0 < 0; cy++)
                if (!memcmp(s->sharp, src + (size_t)cy * W + cx, sizeof(float) * 256) &&
                    !memcmp(s->sharp + 255 * 256, src + (size_t)(cy + 255) * W + cx, sizeof(float) * 256))
                    x0 = cx;
        ck_assert_int_ge(x0, 0);
        for (int ty = 0; ty < 8; ty++)
            for (int tx = 0; tx < 8; tx++) {
                int gx = x0 + tx * 32, t = ty * 8 + tx; /* the tile's left edge in the source */
                if (gx + 32 <= W / 2) { left_tiles++; left_w += s->tile_weight[t] > 0; }
                else if (gx >= W / 2) { right_tiles++; right_w += s->tile_weight[t] > 0; }
                if (s->tile_weight[t] > 0) ck_assert_float_eq(s->tile_target[t], c->p_sharp == 1.0f ? 1.0f : 0.0f);
            }
        if (c->p_sharp == 1.0f) ck_assert_int_eq(s->label, BLUR_LABEL_SHARP);
        else ck_assert_int_ne(s->label, BLUR_LABEL_SHARP);
    }
    ck_assert_int_gt(left_tiles, 0);
    ck_assert_int_gt(right_tiles, 0);
    ck_assert_int_eq(left_w, left_tiles);
    ck_assert_int_eq(right_w, right_untaught ? 0 : right_tiles);
}

START_TEST(in_focus_is_relative)
{
    const int W = 512, H = 512;
    unsigned char *b = malloc((size_t)W * H);
    float *src = malloc(sizeof(float) * W * H);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(src);
    blur_rng nr = {77};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double v;
            if (x < W / 2) v = 0.35 + 0.3 * ((x + y) & 1);
            else v = 0.3 + 0.3 * y / H + 4.0 / 255.0 * ((double)(blur_rng_next(&nr) % 5) - 2.0);
            b[y * W + x] = (unsigned char)lrint(v * 255.0);
            src[y * W + x] = b[y * W + x] / 255.0f;
        }
    /* the reference: sorted tile values, the one at (n - 1) * 0.9 */
    double t[256];
    int n = 0;
    for (int ty = 0; ty < H / 32; ty++)
        for (int tx = 0; tx < W / 32; tx++) t[n++] = naive_tile_lap(b, W, tx * 32, ty * 32);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double tmp = t[j]; t[j] = t[j - 1]; t[j - 1] = tmp;
        }
    double ref = t[(int)((n - 1) * 0.9)];
    float got = blur_photo_texture_ref(b, W, H, 32);
    ck_assert_double_lt(fabs(got - ref), 1e-5 * ref);
    ck_assert_double_gt(naive_tile_lap(b, W, W - 64, 64), 0.015); /* the noise passes texture_min */

    blur_config c = clean_config();
    c.p_sharp = 1.0f;
    c.p_soften = 0.0f;
    c.flip_rotate = 0;
    c.scale_max = 1.0f;
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    /* sharp samples: the out-of-focus half is taught only without texture_rel */
    for (int rel = 0; rel < 2; rel++) {
        c.texture_rel = rel ? 0.3f : 0.0f;
        taught_halves(&c, src, W, H, got, 500, &s, rel);
    }
    /* blurred samples: the in-focus half is taught blurred; the out-of-focus half too, unless
     * focus_both leaves it untaught as in the sharp samples */
    c.p_sharp = 0.0f;
    c.p_partial = 0.0f;
    c.texture_rel = 0.3f;
    for (int both = 0; both < 2; both++) {
        c.focus_both = (float)both;
        taught_halves(&c, src, W, H, got, 700, &s, both);
    }
    ck_assert_int_eq(blur_config_set(&c, "focus_both=0.5"), BLUR_ERR_INVALID);
    c.focus_both = 0.0f;
    c.p_sharp = 1.0f;
    /* a crop of the noisy half alone teaches no image label; blurred, it teaches one, unless
     * focus_both */
    c.texture_rel = 0.3f;
    blur_rng r = {9};
    float *right = malloc(sizeof(float) * 256 * H);
    ck_assert_ptr_nonnull(right);
    for (int y = 0; y < H; y++) memcpy(right + (size_t)y * 256, src + (size_t)y * W + W / 2, sizeof(float) * 256);
    ck_assert_int_eq(blur_make_sample_ref(&c, &r, right, 256, H, got, &s), BLUR_OK);
    ck_assert_float_eq(s.image_weight, 0.0f);
    c.p_sharp = 0.0f;
    for (int both = 0; both < 2; both++) {
        c.focus_both = (float)both;
        blur_rng rb = {10};
        ck_assert_int_eq(blur_make_sample_ref(&c, &rb, right, 256, H, got, &s), BLUR_OK);
        ck_assert_float_eq(s.image_weight, both ? 0.0f : 1.0f);
    }
    free(right);
    blur_sample_free(&s);
    free(src);
    free(b);
}
END_TEST

/* Mild blur (mild_lo, mild_hi) is taught in between: its blurred tiles' target is mild_target
 * at or under mild_lo, falls linearly to 0 at mild_hi, and is 0 beyond; sharp samples stay 1.
 * Expected targets from the nominal Gaussian sigma (the discrete kernel spreads within 0.02). */
START_TEST(mild_blur_is_in_between)
{
    float *src = make_source(SRC_NOISE, 400, 360, 5);
    blur_config c = clean_config();
    c.p_sharp = 0.0f;
    c.p_partial = 0.0f;
    c.p_motion = 0.0f;
    c.p_disc = 0.0f;
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    const float sigma[] = {0.8f, 1.5f, 2.5f, 0.8f};
    const float want[] = {0.5f, 0.25f, 0.0f, 0.0f};
    for (int i = 0; i < 4; i++) {
        c.gauss_sigma_min = c.gauss_sigma_max = sigma[i];
        c.mild_lo = i < 3 ? 1.0f : 0.0f; /* the last one: mild blur off */
        c.mild_hi = i < 3 ? 2.0f : 0.0f;
        ck_assert_int_eq(blur_config_check(&c), BLUR_OK);
        blur_rng r = {40 + (uint64_t)i};
        ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
        ck_assert_int_eq(s.label, BLUR_LABEL_DEFOCUS);
        ck_assert_float_eq_tol(s.blurred_target, want[i], 0.011f);
        for (int t = 0; t < s.tiles * s.tiles; t++) {
            ck_assert_float_eq(s.tile_target[t], s.blurred_target);
            ck_assert_float_eq(s.tile_weight[t], 1.0f);
        }
    }
    c.p_sharp = 1.0f; /* a sharp sample is taught sharp whatever the setting */
    c.mild_lo = 1.0f;
    c.mild_hi = 2.0f;
    blur_rng r = {9};
    ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
    ck_assert_float_eq(s.blurred_target, 0.0f);
    for (int t = 0; t < s.tiles * s.tiles; t++) ck_assert_float_eq(s.tile_target[t], 1.0f);
    c.mild_lo = 2.0f; /* lo above hi, a target over 1: refused; lo alone (hi 0, off) is fine */
    c.mild_hi = 1.0f;
    ck_assert_int_eq(blur_config_check(&c), BLUR_ERR_INVALID);
    c.mild_hi = 0.0f;
    ck_assert_int_eq(blur_config_check(&c), BLUR_OK);
    ck_assert_int_eq(blur_config_set(&c, "mild_hi=3"), BLUR_OK);
    ck_assert_int_eq(blur_config_set(&c, "mild_hi=1"), BLUR_ERR_INVALID);
    c.mild_lo = 1.0f;
    c.mild_hi = 2.0f;
    c.mild_target = 1.5f;
    ck_assert_int_eq(blur_config_check(&c), BLUR_ERR_INVALID);
    blur_sample_free(&s);
    free(src);
}
END_TEST

/* The per-direction targets (blur.h, BLUR_DIRS). The spread along each direction of two kernels
 * worked out by hand: a row of 9 px (variance (81 - 1) / 12 along x, none along y) and a
 * diagonal of 5 px (variance 2 along x and y, covariance 2: 4 along 45 degrees, 0 across).
 * Then samples: a 9 px line smears the directions near its own (spread at least BLUR_DIR_BLUR
 * by the line's own formula, L^2 / 12 cos^2) and leaves the one across it crisp; a Gaussian of
 * sigma 1.5 smears every direction; a sharp sample is crisp every way. */
START_TEST(direction_targets)
{
    float row[81] = {0}, diag[25] = {0}, sp[BLUR_DIRS];
    for (int j = 0; j < 9; j++) row[4 * 9 + j] = 1.0f / 9;
    for (int i = 0; i < 5; i++) diag[i * 5 + i] = 0.2f;
    blur_kernel_dir_spread(row, 9, sp);
    for (int d = 0; d < BLUR_DIRS; d++) {
        double c = cos(d * M_PI / BLUR_DIRS);
        ck_assert_double_lt(fabs(sp[d] - sqrt(80.0 / 12 * c * c)), 1e-4);
    }
    blur_kernel_dir_spread(diag, 5, sp);
    ck_assert_double_lt(fabs(sp[BLUR_DIRS / 4] - 2.0), 1e-4); /* 45 degrees, along it */
    ck_assert_double_lt(fabs(sp[3 * BLUR_DIRS / 4]), 1e-3);   /* 135 degrees, across it */
    ck_assert_double_lt(fabs(sp[0] - sqrt(2.0)), 1e-4);

    float *src = make_source(SRC_NOISE, 400, 360, 5);
    blur_config c = clean_config();
    c.p_sharp = 0.0f;
    c.p_partial = 0.0f;
    c.p_motion = 1.0f;
    c.p_shake = 0.0f;
    c.motion_len_min = c.motion_len_max = 9.0f;
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    for (int i = 0; i < 12; i++) {
        blur_rng r = {70 + (uint64_t)i};
        ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
        ck_assert_int_eq(s.kind, BLUR_KIND_MOTION);
        int smeared = 0, crisp = 0;
        for (int d = 0; d < BLUR_DIRS; d++) {
            double co = cos(s.angle - d * M_PI / BLUR_DIRS), along = sqrt(81.0 / 12 * co * co);
            ck_assert_float_eq(s.dir_weight[d], s.image_weight);
            if (along >= BLUR_DIR_BLUR + 0.1) {
                ck_assert_float_eq(s.dir_target[d], 0.0f);
                smeared++;
            } else if (along <= 0.3) {
                /* plus the line's own width: a variance under 0.3 across it (motion_kernel) */
                double most = sqrt(along * along + 0.3);
                ck_assert_float_ge(s.dir_target[d], (BLUR_DIR_BLUR - most) / (BLUR_DIR_BLUR - BLUR_DIR_SHARP) - 0.02);
                crisp++;
            }
        }
        ck_assert_int_ge(smeared, 3 * BLUR_DIRS / 8);
        ck_assert_int_ge(crisp, 1);
        ck_assert_float_gt(s.image_weight, 0.0f);
    }
    c.p_motion = 0.0f;
    c.p_disc = 0.0f;
    c.gauss_sigma_min = c.gauss_sigma_max = 1.5f;
    blur_rng r = {90};
    ck_assert_int_eq(blur_make_sample(&c, &r, src, 400, 360, &s), BLUR_OK);
    for (int d = 0; d < BLUR_DIRS; d++) {
        ck_assert_float_eq(s.dir_target[d], 0.0f);
        ck_assert_float_eq(s.dir_weight[d], s.image_weight);
    }
    c.p_sharp = 1.0f; /* sharp, even when softened by more than BLUR_DIR_SHARP */
    c.p_soften = 1.0f;
    c.soften_sigma_max = 0.95f;
    int soft = 0;
    for (int i = 0; i < 8; i++) {
        blur_rng rs = {100 + (uint64_t)i};
        ck_assert_int_eq(blur_make_sample(&c, &rs, src, 400, 360, &s), BLUR_OK);
        ck_assert_int_eq(s.label, BLUR_LABEL_SHARP);
        soft += s.param > 0.6f;
        for (int d = 0; d < BLUR_DIRS; d++) {
            ck_assert_float_eq(s.dir_target[d], 1.0f);
            ck_assert_float_eq(s.dir_weight[d], s.image_weight);
        }
    }
    ck_assert_int_ge(soft, 1);
    blur_sample_free(&s);
    free(src);
}
END_TEST

/* A recipe setting by name: known names take a value blur_config_check accepts; an unknown
 * name, a bad number or an invalid value leaves the recipe as it was. */
START_TEST(setting_by_name)
{
    blur_config c = blur_config_camera(), before;
    ck_assert_int_eq(blur_config_set(&c, "p_haze=0.45"), BLUR_OK);
    ck_assert_float_eq(c.p_haze, 0.45f);
    ck_assert_int_eq(blur_config_set(&c, "texture_rel=0.3"), BLUR_OK);
    ck_assert_float_eq(c.texture_rel, 0.3f);
    before = c;
    const char *bad[] = {"p_haze=1.5", "p_haze=", "p_haze=0.2x", "nonsense=1", "=1", "p_haze", "crop=128",
                         "texture_rel=-1", "p_haze=nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(blur_config_set(&c, bad[i]), BLUR_ERR_INVALID);
        ck_assert_int_eq(memcmp(&c, &before, sizeof c), 0);
    }
    int n = 0;
    while (blur_config_field_name(n)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s=0.5", blur_config_field_name(n));
        blur_config t = blur_config_default();
        int rc = blur_config_set(&t, buf); /* some settings cannot be 0.5; none may crash */
        ck_assert(rc == BLUR_OK || rc == BLUR_ERR_INVALID);
        n++;
    }
    ck_assert_int_ge(n, 40);
}
END_TEST

/* The camera recipe is a valid configuration; its phone sharpening adds high frequencies to a
 * sharp sample (the same crop, drawn with the same seed, with and without it), and haze lowers
 * the contrast by the drawn factor. */
START_TEST(camera_recipe)
{
    blur_config cam = blur_config_camera();
    ck_assert_int_eq(blur_config_check(&cam), BLUR_OK);
    float *src = make_source(SRC_SCENE, 400, 360, 5);
    blur_config c = clean_config();
    c.p_sharp = 1.0f;
    c.p_soften = 0.0f;
    c.p_linear = 1.0f;
    blur_sample a, b;
    ck_assert_int_eq(blur_sample_alloc(&c, &a), BLUR_OK);
    ck_assert_int_eq(blur_sample_alloc(&c, &b), BLUR_OK);
    for (uint64_t seed = 0; seed < 4; seed++) {
        blur_rng r1 = {seed}, r2 = {seed};
        blur_config plain = c, sharpened = c;
        plain.p_sharpen = 0.0f;
        sharpened.p_sharpen = 1.0f;
        ck_assert_int_eq(blur_make_sample(&plain, &r1, src, 400, 360, &a), BLUR_OK);
        ck_assert_int_eq(blur_make_sample(&sharpened, &r2, src, 400, 360, &b), BLUR_OK);
        assert_sample_sane(&b);
        ck_assert_float_eq(a.sharpen_amount, 0.0f);
        ck_assert(b.sharpen_amount >= 0.2f && b.sharpen_amount <= c.sharpen_amount_max);
        double ea = lap_energy(a.input, 256, 0, 0, 256, 256), eb = lap_energy(b.input, 256, 0, 0, 256, 256);
        ck_assert_msg(eb > 1.05 * ea, "seed %d: sharpened %g, plain %g", (int)seed, eb, ea);
        ck_assert_int_eq(b.label, BLUR_LABEL_SHARP);

        blur_config hazy = c;
        hazy.p_sharpen = 0.0f;
        hazy.p_haze = 1.0f;
        blur_rng r3 = {seed};
        ck_assert_int_eq(blur_make_sample(&hazy, &r3, src, 400, 360, &b), BLUR_OK);
        ck_assert(b.haze_contrast >= hazy.haze_contrast_min && b.haze_contrast <= 0.8f);
        double eh = lap_energy(b.input, 256, 0, 0, 256, 256), want = (double)b.haze_contrast * b.haze_contrast * ea;
        ck_assert_msg(fabs(eh - want) < 0.02 * want, "seed %d: hazy energy %g, want %g", (int)seed, eh, want);
    }
    blur_sample_free(&a);
    blur_sample_free(&b);
    free(src);
}
END_TEST

/* The shipped weights' recipe is the camera recipe with the settings that weights/MODEL_CARD.md
 * gives in unsharp-v2's training command (--in-focus 0.3 --sample shake_spread=1 and the gap
 * between sharp and blurred), applied here by name, and is valid. */
START_TEST(shipped_recipe)
{
    blur_config v2 = blur_config_v2(), want = blur_config_camera();
    ck_assert_int_eq(blur_config_check(&v2), BLUR_OK);
    const char *command[] = {"texture_rel=0.3",     "shake_spread=1",    "soften_sigma_max=0.9", "gauss_sigma_min=1.2",
                             "disc_radius_min=2.4", "motion_len_min=6", "shake_len_min=6"};
    ck_assert_int_ne(memcmp(&v2, &want, sizeof want), 0);
    for (size_t i = 0; i < sizeof command / sizeof command[0]; i++)
        ck_assert_int_eq(blur_config_set(&want, command[i]), BLUR_OK);
    ck_assert_int_eq(memcmp(&v2, &want, sizeof want), 0);
}
END_TEST

START_TEST(bad_arguments)
{
    blur_config c = blur_config_default();
    ck_assert_int_eq(blur_config_check(&c), BLUR_OK);
    float *src = make_source(SRC_NOISE, 256, 300, 2);
    blur_sample s;
    ck_assert_int_eq(blur_sample_alloc(&c, &s), BLUR_OK);
    blur_rng r = {1};
    /* the smallest source works (no rescale, no surround) */
    ck_assert_int_eq(blur_make_sample(&c, &r, src, 256, 300, &s), BLUR_OK);
    ck_assert_int_eq(blur_make_sample(&c, &r, src, 255, 300, &s), BLUR_ERR_INVALID);
    ck_assert_int_eq(blur_make_sample(&c, &r, NULL, 256, 300, &s), BLUR_ERR_INVALID);
    blur_config d = c;
    d.crop = 128;
    ck_assert_int_eq(blur_make_sample(&d, &r, src, 256, 300, &s), BLUR_ERR_INVALID);
    d = c;
    d.p_sharp = 1.5f;
    ck_assert_int_eq(blur_config_check(&d), BLUR_ERR_INVALID);
    blur_sample_free(&s);
    d = c;
    d.tile = 30;
    ck_assert_int_eq(blur_sample_alloc(&d, &s), BLUR_ERR_INVALID);
    ck_assert_ptr_null(s.input);
    blur_sample_free(&s); /* a failed alloc leaves a freeable sample */
    blur_sample_free(NULL);
    free(src);
}
END_TEST

static Suite *blur_suite(void)
{
    Suite *s = suite_create("blur");
    TCase *tc = tcase_create("blur");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rng_known_values);
    tcase_add_test(tc, gaussian_kernel);
    tcase_add_test(tc, disc_kernel);
    tcase_add_test(tc, motion_kernel);
    tcase_add_test(tc, shake_kernel);
    tcase_add_test(tc, shake_kernel_by_spread);
    tcase_add_test(tc, shake_kernel_dwell);
    tcase_add_test(tc, convolve_matches_naive);
    tcase_add_test(tc, convolve_region_matches_full);
    tcase_add_test(tc, blur_removes_high_frequencies);
    tcase_add_test(tc, partial_blur_ellipse);
    tcase_add_test(tc, partial_blur_plane);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, flat_source_has_no_weight);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, camera_recipe);
    tcase_add_test(tc, shipped_recipe);
    tcase_add_test(tc, in_focus_is_relative);
    tcase_add_test(tc, setting_by_name);
    tcase_add_test(tc, mild_blur_is_in_between);
    tcase_add_test(tc, direction_targets);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(blur_suite()); }
