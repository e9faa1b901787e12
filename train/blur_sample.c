/* blur_sample.c: the training-sample maker. From a sharp luma photo: a random rescaled,
 * flipped crop; a sharp, fully blurred or partially blurred (masked) version of it; sensor
 * noise, exposure and gamma jitter, JPEG re-compression; and the per-tile targets and
 * weights (from the blend mask and the texture of the sharp crop) and the image label. */
#include "blur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* A blur strength: log-uniform in [lo, hi], so mild blur, the hardest to tell from sharp, is
 * drawn as often as strong blur of the same ratio. */
static float log_uniform(blur_rng *rng, float lo, float hi)
{
    return lo * expf(blur_uniform(rng, 0.0f, 1.0f) * logf(hi / lo));
}

blur_config blur_config_default(void)
{
    blur_config c;
    memset(&c, 0, sizeof c);
    c.crop = 256;
    c.tile = 32;
    c.scale_max = 2.0f;
    c.flip_rotate = 1;
    c.p_sharp = 0.4f;
    c.p_soften = 0.5f;
    c.soften_sigma_max = 0.35f;
    c.p_partial = 0.25f;
    c.p_mask_ellipse = 0.6f;
    c.partial_sharp_min = 0.1f;
    c.p_motion = 0.5f;
    c.p_shake = 0.5f;
    c.p_disc = 0.5f;
    c.gauss_sigma_min = 1.0f;
    c.gauss_sigma_max = 6.0f;
    c.disc_radius_min = 1.2f;
    c.disc_radius_max = 8.0f;
    c.motion_len_min = 4.0f;
    c.motion_len_max = 25.0f;
    c.shake_len_min = 4.0f;
    c.shake_len_max = 25.0f;
    c.p_linear = 0.0f;
    c.p_noise = 0.7f;
    c.noise_sigma_max = 0.02f;
    c.p_poisson = 0.4f;
    c.p_lowlight = 0.0f;
    c.lowlight_sigma_max = 0.06f;
    c.p_sharpen = 0.0f;
    c.sharpen_amount_max = 1.2f;
    c.sharpen_sigma_min = 0.7f;
    c.sharpen_sigma_max = 1.6f;
    c.p_haze = 0.0f;
    c.haze_contrast_min = 0.3f;
    c.p_exposure = 0.8f;
    c.gain_min = 0.7f;
    c.gain_max = 1.3f;
    c.gamma_min = 0.8f;
    c.gamma_max = 1.25f;
    c.p_jpeg = 0.3f;
    c.jpeg_q_min = 60;
    c.jpeg_q_max = 95;
    c.quantize = 1;
    c.texture_min = 0.015f;
    c.flat_weight = 0.0f;
    c.mild_target = 0.5f;
    c.sharp_fraction_tile = 0.75f;
    c.blurred_fraction_tile = 0.25f;
    return c;
}

blur_config blur_config_camera(void)
{
    blur_config c = blur_config_default();
    c.p_linear = 1.0f;
    c.p_lowlight = 0.12f;
    c.p_sharpen = 0.4f;
    c.p_haze = 0.2f;
    c.shake_len_min = 3.0f;
    c.p_motion = 0.6f;
    c.texture_min = 0.008f;
    return c;
}

blur_config blur_config_v2(void)
{
    blur_config c = blur_config_camera();
    c.texture_rel = 0.3f;      /* --in-focus 0.3 */
    c.shake_spread = 1.0f;     /* a shake of N px spreads as an N px line */
    /* a gap between sharp and blurred: a keeper's own softness is taught as sharp, and the
     * mildest blur spreads about 1.2 px */
    c.soften_sigma_max = 0.9f;
    c.gauss_sigma_min = 1.2f;
    c.disc_radius_min = 2.4f;
    c.motion_len_min = 6.0f;
    c.shake_len_min = 6.0f;
    return c;
}

static int prob_ok(float p) { return p >= 0.0f && p <= 1.0f; }
static int range_ok(float lo, float hi, float min, float max)
{
    return lo >= min && hi <= max && lo <= hi;
}

int blur_config_check(const blur_config *c)
{
    if (!c) return BLUR_ERR_INVALID;
    if (c->crop < 8 || c->crop > 8192 || c->tile < 2 || c->crop % c->tile != 0)
        return BLUR_ERR_INVALID;
    if (!(c->scale_max >= 1.0f && c->scale_max <= 8.0f)) return BLUR_ERR_INVALID;
    if (!prob_ok(c->p_sharp) || !prob_ok(c->p_soften) || !prob_ok(c->p_partial) ||
        !prob_ok(c->p_mask_ellipse) || !prob_ok(c->partial_sharp_min) ||
        !prob_ok(c->p_motion) || !prob_ok(c->p_shake) || !prob_ok(c->p_disc) ||
        !prob_ok(c->p_noise) || !prob_ok(c->p_poisson) || !prob_ok(c->p_exposure) ||
        !prob_ok(c->p_jpeg) || !prob_ok(c->flat_weight) || !prob_ok(c->p_linear) ||
        !prob_ok(c->p_lowlight) || !prob_ok(c->p_sharpen) || !prob_ok(c->p_haze))
        return BLUR_ERR_INVALID;
    if (!(c->lowlight_sigma_max >= c->noise_sigma_max && c->lowlight_sigma_max <= 1.0f) ||
        !(c->sharpen_amount_max >= 0.2f && c->sharpen_amount_max <= 4.0f) ||
        !range_ok(c->sharpen_sigma_min, c->sharpen_sigma_max, 0.3f, 4.0f) ||
        !(c->haze_contrast_min > 0.0f && c->haze_contrast_min <= 0.8f))
        return BLUR_ERR_INVALID;
    if (!(c->soften_sigma_max >= 0.0f && c->soften_sigma_max <= 1.0f)) return BLUR_ERR_INVALID;
    if (!range_ok(c->gauss_sigma_min, c->gauss_sigma_max, 0.0f, 8.0f) ||
        !range_ok(c->disc_radius_min, c->disc_radius_max, 0.5f, 31.0f) ||
        !range_ok(c->motion_len_min, c->motion_len_max, 1.0f, 60.0f) ||
        !range_ok(c->shake_len_min, c->shake_len_max, 1.0f, 60.0f) ||
        !range_ok(c->gain_min, c->gain_max, 0.01f, 100.0f) ||
        !range_ok(c->gamma_min, c->gamma_max, 0.01f, 100.0f))
        return BLUR_ERR_INVALID;
    if (!(c->noise_sigma_max >= 0.0f && c->noise_sigma_max <= 1.0f)) return BLUR_ERR_INVALID;
    if (c->jpeg_q_min < 1 || c->jpeg_q_max > 100 || c->jpeg_q_min > c->jpeg_q_max)
        return BLUR_ERR_INVALID;
    if (!(c->texture_min >= 0.0f) || !isfinite(c->texture_min)) return BLUR_ERR_INVALID;
    if (!(c->texture_rel >= 0.0f && c->texture_rel <= 1.0f)) return BLUR_ERR_INVALID;
    if (!(c->focus_both == 0.0f || c->focus_both == 1.0f)) return BLUR_ERR_INVALID;
    if (!(c->shake_spread == 0.0f || c->shake_spread == 1.0f)) return BLUR_ERR_INVALID;
    if (!(c->shake_dwell == 0.0f || c->shake_dwell == 1.0f)) return BLUR_ERR_INVALID;
    /* mild_hi 0 is off whatever mild_lo is, so that the two can be set one at a time */
    if (!(c->mild_lo >= 0.0f && c->mild_lo <= 8.0f && c->mild_hi >= 0.0f && c->mild_hi <= 8.0f) ||
        (c->mild_hi > 0.0f && c->mild_lo > c->mild_hi) || !(c->mild_target >= 0.0f && c->mild_target <= 1.0f))
        return BLUR_ERR_INVALID;
    if (!(c->blurred_fraction_tile >= 0.0f && c->blurred_fraction_tile < 0.5f &&
          c->sharp_fraction_tile > 0.5f && c->sharp_fraction_tile <= 1.0f))
        return BLUR_ERR_INVALID;
    return BLUR_OK;
}

int blur_sample_alloc(const blur_config *cfg, blur_sample *s)
{
    if (!s) return BLUR_ERR_INVALID;
    memset(s, 0, sizeof *s);
    if (!cfg || cfg->crop < 1 || cfg->tile < 1 || cfg->crop % cfg->tile != 0)
        return BLUR_ERR_INVALID;
    size_t np = (size_t)cfg->crop * cfg->crop;
    int tiles = cfg->crop / cfg->tile;
    size_t nt = (size_t)tiles * tiles;
    s->input = malloc(np * sizeof(float));
    s->sharp = malloc(np * sizeof(float));
    s->mask = malloc(np * sizeof(float));
    s->tile_target = malloc(nt * sizeof(float));
    s->tile_weight = malloc(nt * sizeof(float));
    s->tile_texture = malloc(nt * sizeof(float));
    if (!s->input || !s->sharp || !s->mask || !s->tile_target || !s->tile_weight ||
        !s->tile_texture) {
        blur_sample_free(s);
        return BLUR_ERR_NOMEM;
    }
    s->crop = cfg->crop;
    s->tile = cfg->tile;
    s->tiles = tiles;
    return BLUR_OK;
}

void blur_sample_free(blur_sample *s)
{
    if (!s) return;
    free(s->input);
    free(s->sharp);
    free(s->mask);
    free(s->tile_target);
    free(s->tile_weight);
    free(s->tile_texture);
    s->input = s->sharp = s->mask = s->tile_target = s->tile_weight = s->tile_texture = NULL;
}

/* ---- crop: area-averaged downscale, flips ------------------------------------------ */

#define AREA_TAPS 10 /* ceil(scale_max) + 1 for scale_max <= 8, plus slack */

/* Weights of the n outputs of a 1-D area downscale by f from integer offset 0: output i
 * covers [i f, (i + 1) f) and reads cnt[i] sources from start[i], weights w[i * AREA_TAPS + t]
 * (sources at or past limit are left out). */
static void area_weights(int n, double f, int limit, int *start, int *cnt, float *w)
{
    for (int i = 0; i < n; i++) {
        double a = i * f, b = (i + 1) * f;
        int j0 = (int)floor(a), c = 0;
        start[i] = j0;
        for (int t = 0; t < AREA_TAPS; t++) {
            int j = j0 + t;
            double lo = a > j ? a : j, hi = b < j + 1 ? b : j + 1;
            double v = (hi > lo && j < limit) ? (hi - lo) / f : 0.0;
            w[i * AREA_TAPS + t] = (float)v;
            if (v > 0.0) c = t + 1;
        }
        cnt[i] = c;
    }
}

/* dst (n x n) = the area average of src's window at (x0, y0) of side n * f. tmp holds
 * ceil(n f) + 1 rows of n. The window must lie inside src (within rounding). */
static void area_resample(const float *src, int sw, int sh, int x0, int y0, double f, int n,
                          const int *start, const int *cnt, const float *w, float *tmp,
                          float *dst)
{
    int rows = (int)ceil(n * f) + 1;
    if (y0 + rows > sh) rows = sh - y0;
    for (int r = 0; r < rows; r++) {
        const float *s = src + (size_t)(y0 + r) * sw + x0;
        float *t = tmp + (size_t)r * n;
        for (int i = 0; i < n; i++) {
            const float *si = s + start[i], *wi = w + i * AREA_TAPS;
            float acc = 0.0f;
            for (int q = 0; q < cnt[i]; q++) acc += wi[q] * si[q];
            t[i] = acc;
        }
    }
    for (int i = 0; i < n; i++) {
        float *d = dst + (size_t)i * n;
        for (int x = 0; x < n; x++) d[x] = 0.0f;
        for (int q = 0; q < cnt[i]; q++) {
            float wq = w[i * AREA_TAPS + q];
            int r = start[i] + q;
            if (r >= rows) continue;
            const float *t = tmp + (size_t)r * n;
            for (int x = 0; x < n; x++) d[x] += wq * t[x];
        }
    }
}

/* dst (n x n) = src under one of 8 flips/rotations: bit 2 transposes, bits 0/1 flip x/y. */
static void dihedral(const float *src, float *dst, int n, int t)
{
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            int sx = (t & 1) ? n - 1 - x : x, sy = (t & 2) ? n - 1 - y : y;
            dst[(size_t)y * n + x] = (t & 4) ? src[(size_t)sx * n + sy] : src[(size_t)sy * n + sx];
        }
}

/* ---- masks ------------------------------------------------------------------------- */

static float smoothstep(float e0, float e1, float x)
{
    float t = (x - e0) / (e1 - e0);
    t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    return t * t * (3.0f - 2.0f * t);
}

/* Fills m (n x n) with 1 inside a random ellipse (the subject) or on one side of a random
 * line, 0 elsewhere, feathered. */
static void make_mask(blur_rng *rng, blur_mask_kind kind, int n, float *m)
{
    if (kind == BLUR_MASK_ELLIPSE) {
        float cx = blur_uniform(rng, 0.25f, 0.75f) * n, cy = blur_uniform(rng, 0.25f, 0.75f) * n;
        float a = blur_uniform(rng, 0.12f, 0.4f) * n, b = blur_uniform(rng, 0.12f, 0.4f) * n;
        float th = blur_uniform(rng, 0.0f, (float)M_PI);
        float feather = blur_uniform(rng, 2.0f, 0.08f * n);
        float c = cosf(th), s = sinf(th), re = sqrtf(a * b);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                float u = (dx * c + dy * s) / a, v = (-dx * s + dy * c) / b;
                float d = (sqrtf(u * u + v * v) - 1.0f) * re; /* about the signed distance */
                m[(size_t)y * n + x] = 1.0f - smoothstep(-feather, feather, d);
            }
    } else {
        float cx = blur_uniform(rng, 0.3f, 0.7f) * n, cy = blur_uniform(rng, 0.3f, 0.7f) * n;
        float ph = blur_uniform(rng, 0.0f, (float)(2.0 * M_PI));
        float feather = blur_uniform(rng, 4.0f, 0.2f * n);
        float c = cosf(ph), s = sinf(ph);
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++) {
                float d = (x + 0.5f - cx) * c + (y + 0.5f - cy) * s;
                m[(size_t)y * n + x] = 1.0f - smoothstep(-feather, feather, d);
            }
    }
}

/* ---- degradations ------------------------------------------------------------------ */

#define GAMMA 2.2f /* the luma taken as a gamma-2.2 encoding of linear light */

static float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

static int jpeg_roundtrip(float *img, int n, int quality)
{
    int st = BLUR_ERR_JPEG;
    unsigned char *raw = malloc((size_t)n * n);
    unsigned char *jpg = NULL;
    unsigned long jsize = 0;
    tjhandle c = NULL, d = NULL;
    if (!raw) return BLUR_ERR_NOMEM;
    for (size_t i = 0; i < (size_t)n * n; i++) raw[i] = (unsigned char)lrintf(clamp01(img[i]) * 255.0f);
    c = tjInitCompress();
    d = tjInitDecompress();
    if (!c || !d) goto bailout;
    if (tjCompress2(c, raw, n, n, n, TJPF_GRAY, &jpg, &jsize, TJSAMP_GRAY, quality, 0) != 0)
        goto bailout;
    if (tjDecompress2(d, jpg, jsize, raw, n, n, n, TJPF_GRAY, 0) != 0) goto bailout;
    for (size_t i = 0; i < (size_t)n * n; i++) img[i] = raw[i] * (1.0f / 255.0f);
    st = BLUR_OK;
bailout:
    if (jpg) tjFree(jpg);
    if (c) tjDestroy(c);
    if (d) tjDestroy(d);
    free(raw);
    return st;
}

/* The second moments of a kernel's light about its centroid (x along rows, y down), each
 * divided by the kernel's sum. */
static void kernel_moments(const float *k, int n, double *vxx, double *vyy, double *vxy)
{
    double s = 0, mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double w = k[i * n + j];
            s += w; mx += w * j; my += w * i;
        }
    if (!(s > 0)) s = 1;
    mx /= s; my /= s;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double w = k[i * n + j], dx = j - mx, dy = i - my;
            xx += w * dx * dx; yy += w * dy * dy; xy += w * dx * dy;
        }
    *vxx = xx / s; *vyy = yy / s; *vxy = xy / s;
}

/* sqrt((var_x + var_y) / 2) of a kernel about its centroid. */
static float kernel_spread(const float *k, int n)
{
    double vxx, vyy, vxy;
    kernel_moments(k, n, &vxx, &vyy, &vxy);
    return (float)sqrt((vxx + vyy) / 2.0);
}

void blur_kernel_dir_spread(const float *k, int n, float spread[BLUR_DIRS])
{
    double vxx, vyy, vxy;
    kernel_moments(k, n, &vxx, &vyy, &vxy);
    for (int d = 0; d < BLUR_DIRS; d++) {
        double c = cos(d * M_PI / BLUR_DIRS), sn = sin(d * M_PI / BLUR_DIRS);
        double v = c * c * vxx + 2 * c * sn * vxy + sn * sn * vyy;
        spread[d] = (float)sqrt(v > 0 ? v : 0);
    }
}

/* Laplacian RMS of each tile of img (n x n, edge pixels replicated). */
static void tile_texture(const float *img, int n, int tile, float *out)
{
    int tiles = n / tile;
    for (int ty = 0; ty < tiles; ty++)
        for (int tx = 0; tx < tiles; tx++) {
            double acc = 0.0;
            for (int y = ty * tile; y < (ty + 1) * tile; y++) {
                int yu = y > 0 ? y - 1 : 0, yd = y < n - 1 ? y + 1 : n - 1;
                for (int x = tx * tile; x < (tx + 1) * tile; x++) {
                    int xl = x > 0 ? x - 1 : 0, xr = x < n - 1 ? x + 1 : n - 1;
                    double l = (double)img[(size_t)yu * n + x] + img[(size_t)yd * n + x] +
                               img[(size_t)y * n + xl] + img[(size_t)y * n + xr] -
                               4.0 * img[(size_t)y * n + x];
                    acc += l * l;
                }
            }
            out[ty * tiles + tx] = (float)sqrt(acc / ((double)tile * tile));
        }
}

/* ---- the sample -------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float blur_photo_texture_ref(const unsigned char *luma, int w, int h, int tile)
{
    if (!luma || tile < 3 || w < tile || h < tile) return 0.0f;
    int tw = w / tile, th = h / tile;
    float *t = malloc((size_t)tw * th * sizeof *t);
    if (!t) return 0.0f;
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            double acc = 0.0;
            int cnt = 0;
            for (int y = ty * tile + 1; y < (ty + 1) * tile - 1; y++)
                for (int x = tx * tile + 1; x < (tx + 1) * tile - 1; x++) {
                    const unsigned char *p = luma + (size_t)y * w + x;
                    double l = ((double)p[-w] + p[w] + p[-1] + p[1] - 4.0 * p[0]) * (1.0 / 255.0);
                    acc += l * l;
                    cnt++;
                }
            t[ty * tw + tx] = (float)sqrt(acc / cnt);
        }
    size_t n = (size_t)tw * th;
    qsort(t, n, sizeof *t, cmp_float);
    float ref = t[(size_t)((double)(n - 1) * 0.9)];
    free(t);
    return ref;
}

int blur_make_sample(const blur_config *cfg, blur_rng *rng, const float *src, int sw, int sh,
                     blur_sample *out)
{
    return blur_make_sample_ref(cfg, rng, src, sw, sh, 0.0f, out);
}

int blur_make_sample_ref(const blur_config *cfg, blur_rng *rng, const float *src, int sw, int sh,
                         float texture_ref, blur_sample *out)
{
    if (blur_config_check(cfg) != BLUR_OK || !rng || !src || !out || !out->input ||
        !out->sharp || !out->mask || !out->tile_target || !out->tile_weight ||
        !out->tile_texture || out->crop != cfg->crop || out->tile != cfg->tile ||
        sw < cfg->crop || sh < cfg->crop)
        return BLUR_ERR_INVALID;
    const int crop = cfg->crop, tiles = crop / cfg->tile;
    const size_t np = (size_t)crop * crop;
    int st = BLUR_OK;
    float *k = NULL, *work = NULL;
    int *start = NULL;
    float *aw = NULL;

    /* 1. Scale, kind of sample, kernel. */
    int smin = sw < sh ? sw : sh;
    float fmax = cfg->scale_max;
    if (fmax > (float)smin / crop) fmax = (float)smin / crop;
    float f = blur_uniform(rng, 1.0f, fmax > 1.0f ? fmax : 1.0f);
    if (f < 1.0f) f = 1.0f;
    int sharp = blur_uniform(rng, 0.0f, 1.0f) < cfg->p_sharp;
    blur_kind kind = BLUR_KIND_NONE;
    blur_mask_kind mkind = BLUR_MASK_NONE;
    float param = 0.0f, angle = 0.0f;
    k = malloc((size_t)BLUR_KMAX * BLUR_KMAX * sizeof *k);
    if (!k) { st = BLUR_ERR_NOMEM; goto bailout; }
    int ksize = 1;
    k[0] = 1.0f;
    if (sharp) {
        if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_soften) {
            param = blur_uniform(rng, 0.0f, cfg->soften_sigma_max);
            st = blur_kernel_gaussian(param, k, &ksize);
        }
    } else {
        if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_partial)
            mkind = blur_uniform(rng, 0.0f, 1.0f) < cfg->p_mask_ellipse ? BLUR_MASK_ELLIPSE
                                                                         : BLUR_MASK_PLANE;
        if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_motion) {
            if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_shake) {
                kind = BLUR_KIND_SHAKE;
                param = log_uniform(rng, cfg->shake_len_min, cfg->shake_len_max);
                st = blur_kernel_shake_dwell(rng, param, cfg->shake_spread > 0.0f, cfg->shake_dwell > 0.0f, k, &ksize);
            } else {
                kind = BLUR_KIND_MOTION;
                param = log_uniform(rng, cfg->motion_len_min, cfg->motion_len_max);
                angle = blur_uniform(rng, 0.0f, (float)M_PI);
                st = blur_kernel_motion(param, angle, k, &ksize);
            }
        } else if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_disc) {
            kind = BLUR_KIND_DISC;
            param = log_uniform(rng, cfg->disc_radius_min, cfg->disc_radius_max);
            st = blur_kernel_disc(param, k, &ksize);
        } else {
            kind = BLUR_KIND_GAUSSIAN;
            param = log_uniform(rng, cfg->gauss_sigma_min, cfg->gauss_sigma_max);
            st = blur_kernel_gaussian(param, k, &ksize);
        }
    }
    if (st != BLUR_OK) goto bailout;

    /* 2. The region: the crop plus the kernel's radius of real surround where the source has
     * it, area-averaged down by f, then flipped / rotated. */
    int margin = ksize / 2;
    int mfit = (int)floor(((double)smin / f - crop) / 2.0);
    if (mfit < 0) mfit = 0;
    if (margin > mfit) margin = mfit;
    int n = crop + 2 * margin;
    double span = (double)n * f;
    int ax = (int)floor(sw - span), ay = (int)floor(sh - span);
    if (ax < 0) ax = 0;
    if (ay < 0) ay = 0;
    int x0 = (int)(blur_rng_next(rng) % (uint64_t)(ax + 1));
    int y0 = (int)(blur_rng_next(rng) % (uint64_t)(ay + 1));
    int transform = cfg->flip_rotate ? (int)(blur_rng_next(rng) & 7) : 0;
    int rows = (int)ceil(span) + 1;
    size_t nn = (size_t)n * n;
    work = malloc((2 * nn + (size_t)rows * n + np) * sizeof *work);
    start = malloc((size_t)n * 2 * sizeof *start);
    aw = malloc((size_t)n * AREA_TAPS * sizeof *aw);
    if (!work || !start || !aw) { st = BLUR_ERR_NOMEM; goto bailout; }
    float *reg = work, *reg2 = work + nn, *tmp = work + 2 * nn, *blurred = tmp + (size_t)rows * n;
    if (f == 1.0f) {
        for (int y = 0; y < n; y++)
            memcpy(reg + (size_t)y * n, src + (size_t)(y0 + y) * sw + x0, (size_t)n * sizeof *reg);
    } else {
        area_weights(n, f, sw - x0 < sh - y0 ? sw - x0 : sh - y0, start, start + n, aw);
        area_resample(src, sw, sh, x0, y0, f, n, start, start + n, aw, tmp, reg);
    }
    dihedral(reg, reg2, n, transform);
    for (int y = 0; y < crop; y++)
        memcpy(out->sharp + (size_t)y * crop, reg2 + (size_t)(y + margin) * n + margin,
               (size_t)crop * sizeof(float));

    /* 3. Blur and blend, in linear light when drawn (reg is free again: it holds the linear
     * region). */
    const int linear = blur_uniform(rng, 0.0f, 1.0f) < cfg->p_linear;
    if (linear) {
        for (size_t i = 0; i < nn; i++) reg[i] = powf(reg2[i] > 0.0f ? reg2[i] : 0.0f, GAMMA);
        st = blur_convolve_region(reg, n, n, margin, margin, blurred, crop, crop, k, ksize);
    } else {
        st = blur_convolve_region(reg2, n, n, margin, margin, blurred, crop, crop, k, ksize);
    }
    if (st != BLUR_OK) goto bailout;
    if (mkind != BLUR_MASK_NONE) {
        make_mask(rng, mkind, crop, out->mask);
        for (size_t i = 0; i < np; i++) {
            float s = linear ? powf(out->sharp[i], GAMMA) : out->sharp[i];
            out->input[i] = s * out->mask[i] + blurred[i] * (1.0f - out->mask[i]);
        }
        if (linear)
            for (size_t i = 0; i < np; i++) out->input[i] = powf(out->input[i] > 0.0f ? out->input[i] : 0.0f, 1.0f / GAMMA);
    } else if (linear) {
        float mv = sharp ? 1.0f : 0.0f;
        for (size_t i = 0; i < np; i++) out->mask[i] = mv;
        for (size_t i = 0; i < np; i++) out->input[i] = powf(blurred[i] > 0.0f ? blurred[i] : 0.0f, 1.0f / GAMMA);
    } else {
        float mv = sharp ? 1.0f : 0.0f;
        for (size_t i = 0; i < np; i++) out->mask[i] = mv;
        memcpy(out->input, blurred, np * sizeof(float));
    }

    /* 4. Tiles and label. Mild blur (mild_lo, mild_hi) is taught as in between. */
    const float spread = ksize > 1 ? kernel_spread(k, ksize) : 0.0f;
    float blurred_target = 0.0f;
    if (!sharp && cfg->mild_hi > 0.0f && spread < cfg->mild_hi)
        blurred_target = spread <= cfg->mild_lo ? cfg->mild_target
                                                : cfg->mild_target * (cfg->mild_hi - spread) / (cfg->mild_hi - cfg->mild_lo);
    tile_texture(out->sharp, crop, cfg->tile, out->tile_texture);
    int textured = 0, textured_sharp = 0, textured_focus = 0;
    size_t sharp_px = 0;
    const float in_focus = cfg->texture_rel * texture_ref;
    for (int ty = 0; ty < tiles; ty++)
        for (int tx = 0; tx < tiles; tx++) {
            int cnt = 0, t = ty * tiles + tx;
            for (int y = ty * cfg->tile; y < (ty + 1) * cfg->tile; y++)
                for (int x = tx * cfg->tile; x < (tx + 1) * cfg->tile; x++)
                    cnt += out->mask[(size_t)y * crop + x] > 0.5f;
            sharp_px += (size_t)cnt;
            float q = (float)cnt / ((float)cfg->tile * cfg->tile);
            float target = q, weight = 0.0f;
            if (q >= cfg->sharp_fraction_tile) { target = 1.0f; weight = 1.0f; }
            else if (q <= cfg->blurred_fraction_tile) { target = blurred_target; weight = 1.0f; }
            int tex = out->tile_texture[t] >= cfg->texture_min;
            if (!tex && weight > cfg->flat_weight) weight = cfg->flat_weight;
            /* out of focus in the photo itself: not taught as sharp (nor, with focus_both, as
             * blurred) */
            if ((q >= cfg->sharp_fraction_tile || cfg->focus_both > 0.0f) && out->tile_texture[t] < in_focus)
                weight = 0.0f;
            if (tex) {
                textured++;
                textured_sharp += weight > 0.0f && q >= cfg->sharp_fraction_tile;
                textured_focus += out->tile_texture[t] >= in_focus;
            }
            out->tile_target[t] = target;
            out->tile_weight[t] = weight;
        }
    float share = textured ? (float)textured_sharp / textured : (float)sharp_px / (float)np;
    out->sharp_share = share;
    out->image_weight = textured ? 1.0f : cfg->flat_weight;
    if (sharp && in_focus > 0.0f && textured_sharp == 0) out->image_weight = 0.0f;
    if (!sharp && cfg->focus_both > 0.0f && in_focus > 0.0f && textured_focus == 0) out->image_weight = 0.0f;
    int blur_label = (kind == BLUR_KIND_MOTION || kind == BLUR_KIND_SHAKE) ? BLUR_LABEL_MOTION
                                                                          : BLUR_LABEL_DEFOCUS;
    if (sharp) out->label = BLUR_LABEL_SHARP;
    else if (mkind != BLUR_MASK_NONE && share >= cfg->partial_sharp_min && share > 0.0f)
        out->label = BLUR_LABEL_SHARP;
    else out->label = blur_label;
    /* per direction: crisp across it or smeared; a sharp sample and a keeper are crisp every way */
    float dspread[BLUR_DIRS];
    blur_kernel_dir_spread(k, ksize, dspread);
    for (int d = 0; d < BLUR_DIRS; d++) {
        float t = (BLUR_DIR_BLUR - dspread[d]) / (BLUR_DIR_BLUR - BLUR_DIR_SHARP);
        out->dir_target[d] = out->label == BLUR_LABEL_SHARP ? 1.0f : t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
        out->dir_weight[d] = out->image_weight;
    }

    /* 5. Noise, sharpening, exposure, haze, JPEG, quantisation. */
    out->noise_sigma = 0.0f;
    const int lowlight = blur_uniform(rng, 0.0f, 1.0f) < cfg->p_lowlight;
    if (lowlight || blur_uniform(rng, 0.0f, 1.0f) < cfg->p_noise) {
        float sg = lowlight ? blur_uniform(rng, cfg->noise_sigma_max, cfg->lowlight_sigma_max)
                            : blur_uniform(rng, 0.0f, cfg->noise_sigma_max);
        int poisson = blur_uniform(rng, 0.0f, 1.0f) < cfg->p_poisson;
        for (size_t i = 0; i < np; i += 2) { /* Box-Muller, both values */
            double u1 = ((double)(blur_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
            double u2 = (double)(blur_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
            float rad = sqrtf(-2.0f * logf((float)u1)), th = (float)(2.0 * M_PI * u2);
            float g[2] = {rad * cosf(th), rad * sinf(th)};
            for (size_t j = i; j < i + 2 && j < np; j++) {
                float v = out->input[j];
                float sd = poisson ? sg * sqrtf(0.25f + 1.5f * clamp01(v)) : sg;
                out->input[j] = clamp01(v + sd * g[j - i]);
            }
        }
        out->noise_sigma = sg;
    }
    out->sharpen_amount = 0.0f;
    if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_sharpen) {
        float amount = blur_uniform(rng, 0.2f, cfg->sharpen_amount_max);
        float sigma = blur_uniform(rng, cfg->sharpen_sigma_min, cfg->sharpen_sigma_max);
        int gs = 1;
        st = blur_kernel_gaussian(sigma, k, &gs);
        if (st == BLUR_OK) st = blur_convolve(out->input, reg, crop, crop, k, gs);
        if (st != BLUR_OK) goto bailout;
        for (size_t i = 0; i < np; i++) out->input[i] = clamp01(out->input[i] + amount * (out->input[i] - reg[i]));
        out->sharpen_amount = amount;
    }
    out->gain = out->gamma = 1.0f;
    if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_exposure) {
        float g = blur_uniform(rng, cfg->gain_min, cfg->gain_max);
        float gm = expf(blur_uniform(rng, logf(cfg->gamma_min), logf(cfg->gamma_max)));
        for (size_t i = 0; i < np; i++) out->input[i] = powf(clamp01(g * out->input[i]), gm);
        out->gain = g;
        out->gamma = gm;
    }
    out->haze_contrast = 1.0f;
    if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_haze) {
        float c = blur_uniform(rng, cfg->haze_contrast_min, 0.8f), veil = blur_uniform(rng, 0.2f, 0.9f);
        for (size_t i = 0; i < np; i++) out->input[i] = c * out->input[i] + (1.0f - c) * veil;
        out->haze_contrast = c;
    }
    out->jpeg_quality = 0;
    if (blur_uniform(rng, 0.0f, 1.0f) < cfg->p_jpeg) {
        int q = cfg->jpeg_q_min +
                (int)(blur_rng_next(rng) % (uint64_t)(cfg->jpeg_q_max - cfg->jpeg_q_min + 1));
        st = jpeg_roundtrip(out->input, crop, q);
        if (st != BLUR_OK) goto bailout;
        out->jpeg_quality = q;
    }
    for (size_t i = 0; i < np; i++) {
        float v = clamp01(out->input[i]);
        out->input[i] = cfg->quantize ? rintf(v * 255.0f) * (1.0f / 255.0f) : v;
    }

    out->kind = kind;
    out->mask_kind = mkind;
    out->param = param;
    out->angle = angle;
    out->blur_sigma_px = spread;
    out->blurred_target = blurred_target;
    out->scale = f;
    out->transform = transform;
bailout:
    free(k);
    free(work);
    free(start);
    free(aw);
    return st;
}
