/* judge.c: from a decoded photo to a verdict. Runs the network on the luma image, turns the
 * per-tile logits into a focus map, marks the tiles that have enough detail to be judged, and
 * aggregates the sharpest tenth of those into one subject-aware sharpness (docs/model.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

#define DEFAULT_SHARP_AT 0.6f
#define DEFAULT_BLURRY_BELOW 0.4f
#define TOP_FRACTION 0.1
#define MIN_TOP_TILES 2
/* A tile has detail when the mean absolute Laplacian of its luma (0..1 scale) reaches this;
 * below it a tile is flat (sky, a wall, deep bokeh) and says nothing about focus. */
#define TEXTURE_MIN 0.004f

static float meta_float(const unsharp_model *m, const char *key, float fallback)
{
    const char *v = unsharp_model_get_meta(m, key);
    if (!v) return fallback;
    char *end;
    float f = strtof(v, &end);
    return end != v && *end == 0 && isfinite(f) ? f : fallback;
}

static const char *meta_str(const unsharp_model *m, const char *key, const char *fallback)
{
    const char *v = unsharp_model_get_meta(m, key);
    return v ? v : fallback;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Mean |Laplacian| of the luma inside each tile of a (th, tw) grid over (h, w), away from the
 * tile's edges (MARGIN px), so a step between two tiles lends no detail to a flat one. */
#define MARGIN 2
static void tile_span(int t, int nt, int size, int *a, int *b)
{
    *a = (int)((int64_t)t * size / nt) + MARGIN;
    *b = (int)((int64_t)(t + 1) * size / nt) - MARGIN;
    if (*a < 1) *a = 1;
    if (*b > size - 1) *b = size - 1;
}

/* The float version, for LUMAF photos. */
static void texture_map(const float *luma, int w, int h, int tw, int th, float *tex)
{
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            int y0, y1, x0, x1;
            tile_span(ty, th, h, &y0, &y1);
            tile_span(tx, tw, w, &x0, &x1);
            double sum = 0;
            long n = 0;
            for (int y = y0; y < y1; y++) {
                const float *r = luma + (size_t)y * w;
                for (int x = x0; x < x1; x++, n++) sum += fabsf(4 * r[x] - r[x - 1] - r[x + 1] - r[x - w] - r[x + w]);
            }
            tex[ty * tw + tx] = n ? (float)(sum / n) : 0.0f;
        }
}

/* The two passes over the pixels below are built twice on x86-64 (GCC, Clang): with AVX2 (no
 * FMA: the same operations, the same bits) for CPUs that have it, and plain, picked at load
 * time. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PIXEL_PASS __attribute__((target_clones("avx2", "default")))
#else
#define PIXEL_PASS
#endif

/* The network's input: the 8-bit luma (rows at stride) as floats in [0, 1], w*h of them. */
PIXEL_PASS static void luma_to_float(const unsigned char *px, size_t stride, int w, int h, float *luma)
{
    for (int y = 0; y < h; y++) {
        const unsigned char *restrict row = px + (size_t)y * stride;
        float *restrict dst = luma + (size_t)y * w;
        for (int x = 0; x < w; x++) dst[x] = row[x] * (1.0f / 255);
    }
}

/* The same for LUMA8 photos, exact in integers on the 8-bit samples (then scaled by 1/255):
 * one pass over each row computes |Laplacian| per pixel (vectorised), then each tile sums its
 * part. lap holds w values; sums and counts hold tw. */
PIXEL_PASS static void texture_map_u8(const unsigned char *px, size_t stride, int w, int h, int tw, int th, float *tex,
                           uint16_t *lap, int64_t *sums, int64_t *counts)
{
    for (int ty = 0; ty < th; ty++) {
        int y0, y1;
        tile_span(ty, th, h, &y0, &y1);
        for (int tx = 0; tx < tw; tx++) sums[tx] = counts[tx] = 0;
        for (int y = y0; y < y1; y++) {
            const unsigned char *r = px + (size_t)y * stride, *u = r - stride, *d = r + stride;
            for (int x = 1; x < w - 1; x++) {
                int v = 4 * r[x] - r[x - 1] - r[x + 1] - u[x] - d[x];
                lap[x] = (uint16_t)(v < 0 ? -v : v);
            }
            for (int tx = 0; tx < tw; tx++) {
                int x0, x1;
                tile_span(tx, tw, w, &x0, &x1);
                /* at most 1020 a pixel: 2^21 of them fit in 32 bits */
                for (int x = x0; x < x1;) {
                    int e = x1 - x > (1 << 21) ? x + (1 << 21) : x1;
                    uint32_t s = 0;
                    for (; x < e; x++) s += lap[x];
                    sums[tx] += s;
                }
                if (x1 > x0) counts[tx] += x1 - x0;
            }
        }
        for (int tx = 0; tx < tw; tx++)
            tex[ty * tw + tx] = counts[tx] ? (float)((double)sums[tx] / (255.0 * (double)counts[tx])) : 0.0f;
    }
}

void unsharp_judgement_free(unsharp_judgement *j)
{
    if (!j) return;
    free(j->map);
    free(j->texture);
    j->map = j->texture = NULL;
}

unsharp_status unsharp_judge(unsharp_model *m, const unsharp_image *img, const unsharp_judge_options *options,
                             unsharp_judgement *out)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    float *luma = NULL, *top = NULL, image_logit[3];
    uint16_t *lap = NULL;
    int64_t *sums = NULL;
    if (!img || !img->pixels || !out) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    memset(out, 0, sizeof *out);
    if (img->channels != 1) FAIL(UNSHARP_ERR_INVALID, "the photo must be decoded as luma (LUMA8 or LUMAF)");
    if (m->layers[0].c != 1) FAIL(UNSHARP_ERR_INVALID, "the model takes %d channels, not luma", m->layers[0].c);
    const int w = img->width, h = img->height;
    /* straight into the model's input buffer when it is host memory: no copy in the forward */
    float *input = unsharp__model_input_buffer(m, 1, h, w);
    if (!input) {
        luma = malloc(sizeof *luma * (size_t)w * h);
        if (!luma) FAIL(UNSHARP_ERR_NOMEM, "out of memory for a %dx%d photo", w, h);
        input = luma;
    }
    const int is_u8 = img->format != UNSHARP_PIXEL_LUMAF;
    if (is_u8)
        luma_to_float(img->pixels, img->stride, w, h, input);
    else
        for (int y = 0; y < h; y++)
            memcpy(input + (size_t)y * w, (const unsigned char *)img->pixels + (size_t)y * img->stride,
                   sizeof(float) * (size_t)w);
    unsharp_tensor x = unsharp_tensor_make(input, 1, 1, h, w);
    CHECK(unsharp_model_forward(m, &x, 0));

    const char *tiles_name = meta_str(m, "judge.tiles", "tiles"), *image_name = meta_str(m, "judge.image", "image");
    int ts[4], is[4];
    CHECK(unsharp_model_output_shape(m, tiles_name, ts));
    CHECK(unsharp_model_output_shape(m, image_name, is));
    if (ts[1] != 1 || is[1] != 3 || is[2] != 1 || is[3] != 1)
        FAIL(UNSHARP_ERR_SHAPE, "'%s' must give 1 value per tile and '%s' 3 logits", tiles_name, image_name);
    const int tw = ts[3], th = ts[2], n = tw * th;
    out->map = malloc(sizeof(float) * (size_t)n);
    out->texture = malloc(sizeof(float) * (size_t)n);
    top = malloc(sizeof(float) * (size_t)n);
    if (!out->map || !out->texture || !top) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the focus map");
    unsharp_tensor tt = unsharp_tensor_make(out->map, 1, 1, th, tw), it = unsharp_tensor_make(image_logit, 1, 3, 1, 1);
    CHECK(unsharp_model_get_output(m, tiles_name, &tt));
    CHECK(unsharp_model_get_output(m, image_name, &it));
    for (int i = 0; i < n; i++) out->map[i] = 1.0f / (1.0f + expf(-out->map[i]));
    out->map_w = tw;
    out->map_h = th;

    /* the sharpest tenth of the tiles with detail; all tiles when none has any */
    if (is_u8) {
        lap = malloc(sizeof *lap * (size_t)w);
        sums = malloc(sizeof *sums * 2 * (size_t)tw);
        if (!lap || !sums) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the texture map");
        texture_map_u8(img->pixels, img->stride, w, h, tw, th, out->texture, lap, sums, sums + tw);
    } else {
        texture_map(input, w, h, tw, th, out->texture); /* the forward leaves its input as it was */
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        out->texture[i] = out->texture[i] >= TEXTURE_MIN ? 1.0f : 0.0f;
        if (out->texture[i] > 0) top[k++] = out->map[i];
    }
    if (k == 0)
        for (int i = 0; i < n; i++) top[k++] = out->map[i];
    qsort(top, (size_t)k, sizeof *top, cmp_desc);
    int take = (int)ceil(TOP_FRACTION * k);
    if (take < MIN_TOP_TILES) take = MIN_TOP_TILES;
    if (take > k) take = k;
    double sum = 0;
    for (int i = 0; i < take; i++) sum += top[i];
    out->sharpness = (float)(sum / take);

    float sharp_at = options && options->sharp_at > 0 ? options->sharp_at : meta_float(m, "threshold.sharp", DEFAULT_SHARP_AT);
    float blurry_below = options && options->blurry_below > 0 ? options->blurry_below
                                                              : meta_float(m, "threshold.blurry", DEFAULT_BLURRY_BELOW);
    out->verdict = out->sharpness >= sharp_at       ? UNSHARP_VERDICT_SHARP
                   : out->sharpness < blurry_below ? UNSHARP_VERDICT_BLURRY
                                                    : UNSHARP_VERDICT_UNSURE;
    out->kind = out->verdict == UNSHARP_VERDICT_SHARP ? UNSHARP_KIND_NONE
                : image_logit[2] > image_logit[1]     ? UNSHARP_KIND_MOTION
                                                      : UNSHARP_KIND_DEFOCUS;
bailout:
    if (st != UNSHARP_OK && out) unsharp_judgement_free(out);
    free(luma);
    free(top);
    free(lap);
    free(sums);
    return st;
}
