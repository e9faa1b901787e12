/* judge.c: from a decoded photo to a verdict. Runs the network on the luma image, turns the
 * per-tile logits into a focus map, marks the tiles that have enough detail to be judged, and
 * aggregates the sharpest tenth of those into one subject-aware sharpness (docs/model.md).
 *
 * A tile is judged when it has detail in every direction. Motion blur smears detail along its
 * direction only: an edge that runs along the motion stays sharp, so a tile whose detail runs
 * one way (a horizon, stripes) looks the same sharp or smeared along it, and would set the
 * score of a motion-blurred photo. Such tiles are read only when a photo has too few of the
 * others. The test: the mean absolute second difference of the luma along each of the four
 * directions 0, 45, 90 and 135 degrees; in each pair of perpendicular directions the weaker
 * must reach ISO_MIN of the stronger.
 *
 * The network can still rate a smeared photo sharp from what the blur left crisp across its
 * direction. So the judge also asks whether the photo has crisp detail along every direction
 * somewhere (direction.c); when one direction has none anywhere, the photo is called motion-
 * blurred whatever the tiles say (DIR_MIN). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "direction.h"
#include "photo_layer.h"
#include "photo_score.h"

#define DEFAULT_SHARP_AT 0.6f
#define DEFAULT_BLURRY_BELOW 0.4f
#define TOP_FRACTION 0.1
#define MIN_TOP_TILES 2
/* A tile has detail when the mean absolute Laplacian of its luma (0..1 scale) reaches this;
 * below it a tile is flat (sky, a wall, deep bokeh) and says nothing about focus. */
#define TEXTURE_MIN 0.004f
/* ... and it has detail in every direction when, for both the axes and the diagonals, the
 * weaker direction has at least this share of the stronger one's detail (docs/model.md). */
#define ISO_MIN 0.5f
/* A photo whose weakest direction has less than this share of the median direction's detail
 * (direction.c) is motion-blurred: its sharpness is held below 0.5, at 0.5 * share / DIR_MIN,
 * so just under the line is "unsure" and only a clear gap (share < 0.8 DIR_MIN) "blurry". */
#define DIR_MIN 0.45f
/* The most per-direction logits the judge reads (photo_score.h, PHOTO_F_DIRS). */
#define DIRS_MAX 64
enum { DIR_X, DIR_Y, DIR_D, DIR_E, NDIR }; /* 0, 90, 45 and 135 degrees */

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

/* How evenly a tile's detail runs: from its summed |second differences| along 0, 90, 45 and
 * 135 degrees, the smaller of weaker / stronger over the two axes and over the two diagonals
 * (1: the same detail every way; 0: none across one of them). */
static float tile_iso(const double dir[NDIR])
{
    double ax = fmin(dir[DIR_X], dir[DIR_Y]), bx = fmax(dir[DIR_X], dir[DIR_Y]);
    double ad = fmin(dir[DIR_D], dir[DIR_E]), bd = fmax(dir[DIR_D], dir[DIR_E]);
    double r = fmin(bx > 0 ? ax / bx : 0.0, bd > 0 ? ad / bd : 0.0);
    return (float)r;
}

/* The float version, for LUMAF photos: per tile, the mean |Laplacian| (tex) and the
 * isotropy of its detail (iso, tile_iso). */
static void texture_map(const float *luma, int w, int h, int tw, int th, float *tex, float *iso)
{
    for (int ty = 0; ty < th; ty++)
        for (int tx = 0; tx < tw; tx++) {
            int y0, y1, x0, x1;
            tile_span(ty, th, h, &y0, &y1);
            tile_span(tx, tw, w, &x0, &x1);
            double sum = 0, dir[NDIR] = {0};
            long n = 0;
            for (int y = y0; y < y1; y++) {
                const float *r = luma + (size_t)y * w, *u = r - w, *d = r + w;
                for (int x = x0; x < x1; x++, n++) {
                    float c2 = 2 * r[x];
                    sum += fabsf(4 * r[x] - r[x - 1] - r[x + 1] - u[x] - d[x]);
                    dir[DIR_X] += fabsf(c2 - r[x - 1] - r[x + 1]);
                    dir[DIR_Y] += fabsf(c2 - u[x] - d[x]);
                    dir[DIR_D] += fabsf(c2 - u[x + 1] - d[x - 1]);
                    dir[DIR_E] += fabsf(c2 - u[x - 1] - d[x + 1]);
                }
            }
            tex[ty * tw + tx] = n ? (float)(sum / n) : 0.0f;
            iso[ty * tw + tx] = tile_iso(dir);
        }
}

/* The texture map of 8-bit photos below is built for AVX2 and plain (SIMD_TWICE, simd.h);
 * its column sums also have a hand-written AVX2 version (UNSHARP_X86_AVX2). */

/* Adds one row's |Laplacian| and |second difference| along 0, 90, 45 and 135 degrees, for x
 * in [1, w - 1), to the 16-bit column sums cl..ce (each w long), from the row r and the rows
 * above (u) and below (d). All in 16 bits (at most 1020 a pixel) so that the loop vectorises
 * 16 pixels at a time; the caller empties the sums every COL_ROWS rows. */
#define COL_ROWS 64 /* 64 * 1020 < 65536 */
static inline __attribute__((always_inline)) void row_details(const unsigned char *restrict r,
                                                              const unsigned char *restrict u,
                                                              const unsigned char *restrict d, int w,
                                                              uint16_t *restrict cl, uint16_t *restrict cx,
                                                              uint16_t *restrict cy, uint16_t *restrict cd,
                                                              uint16_t *restrict ce)
{
    for (int x = 1; x < w - 1; x++) {
        int16_t c2 = (int16_t)(2 * r[x]);
        int16_t ax = (int16_t)(c2 - r[x - 1] - r[x + 1]), ay = (int16_t)(c2 - u[x] - d[x]);
        int16_t ad = (int16_t)(c2 - u[x + 1] - d[x - 1]), ae = (int16_t)(c2 - u[x - 1] - d[x + 1]);
        int16_t v = (int16_t)(ax + ay);
        cl[x] = (uint16_t)(cl[x] + (v < 0 ? -v : v));
        cx[x] = (uint16_t)(cx[x] + (ax < 0 ? -ax : ax));
        cy[x] = (uint16_t)(cy[x] + (ay < 0 ? -ay : ay));
        cd[x] = (uint16_t)(cd[x] + (ad < 0 ? -ad : ad));
        ce[x] = (uint16_t)(ce[x] + (ae < 0 ? -ae : ae));
    }
}

/* The column sums of rows [y, ye) (at most COL_ROWS) for x in [1, w - 1): row_details over
 * each row, into col (5 rows of w). The plain version of column_sums_avx2. */
static void column_sums(const unsigned char *px, size_t stride, int w, int y, int ye, uint16_t *col)
{
    uint16_t *cl = col, *cx = col + w, *cy = col + 2 * (size_t)w, *cd = col + 3 * (size_t)w, *ce = col + 4 * (size_t)w;
    memset(col, 0, sizeof *col * 5 * (size_t)w);
    for (; y < ye; y++) {
        const unsigned char *r = px + (size_t)y * stride;
        row_details(r, r - stride, r + stride, w, cl, cx, cy, cd, ce);
    }
}

#ifdef UNSHARP_X86_AVX2
/* column_sums with AVX2, for w >= 18: strips of 16 columns, each summed down its rows in
 * registers, rows read once (the last strip ends at column w - 2 and may overlap the one
 * before: it stores the same sums there). Reads what row_details does, rows y - 1 .. ye,
 * columns 0 .. w - 1. The same integers as column_sums. */
__attribute__((target("avx2"))) static void column_sums_avx2(const unsigned char *px, size_t stride, int w, int y,
                                                             int ye, uint16_t *col)
{
    for (int x = 1;; x += 16) {
        if (x > w - 17) x = w - 17;
        const unsigned char *p = px + (size_t)(y - 1) * stride + x - 1;
        __m256i lu = ROW16(p), cu = ROW16(p + 1), ru = ROW16(p + 2);
        p += stride;
        __m256i lm = ROW16(p), cm = ROW16(p + 1), rm = ROW16(p + 2);
        __m256i sl = _mm256_setzero_si256(), sx = sl, sy = sl, sd = sl, se = sl;
        for (int yy = y; yy < ye; yy++) {
            p += stride;
            __m256i ld = ROW16(p), cd = ROW16(p + 1), rd = ROW16(p + 2);
            __m256i c2 = _mm256_add_epi16(cm, cm);
            __m256i ax = _mm256_sub_epi16(c2, _mm256_add_epi16(lm, rm));
            __m256i ay = _mm256_sub_epi16(c2, _mm256_add_epi16(cu, cd));
            __m256i ad = _mm256_sub_epi16(c2, _mm256_add_epi16(ru, ld));
            __m256i ae = _mm256_sub_epi16(c2, _mm256_add_epi16(lu, rd));
            sl = _mm256_add_epi16(sl, _mm256_abs_epi16(_mm256_add_epi16(ax, ay)));
            sx = _mm256_add_epi16(sx, _mm256_abs_epi16(ax));
            sy = _mm256_add_epi16(sy, _mm256_abs_epi16(ay));
            sd = _mm256_add_epi16(sd, _mm256_abs_epi16(ad));
            se = _mm256_add_epi16(se, _mm256_abs_epi16(ae));
            lu = lm, cu = cm, ru = rm;
            lm = ld, cm = cd, rm = rd;
        }
        uint16_t *o = col + x;
        _mm256_storeu_si256((__m256i *)(void *)o, sl);
        _mm256_storeu_si256((__m256i *)(void *)(o + w), sx);
        _mm256_storeu_si256((__m256i *)(void *)(o + 2 * (size_t)w), sy);
        _mm256_storeu_si256((__m256i *)(void *)(o + 3 * (size_t)w), sd);
        _mm256_storeu_si256((__m256i *)(void *)(o + 4 * (size_t)w), se);
        if (x == w - 17) break;
    }
}
#endif

/* The same for LUMA8 photos, exact in integers on the 8-bit samples (then scaled by 1/255):
 * for each row of tiles, the pixel rows add their |Laplacian| and four |second differences|
 * into 16-bit column sums (col: 5 rows of w), which every COL_ROWS rows and at the end are
 * added into each tile's sums (sums: 5 rows of tw). */
SIMD_TWICE_VOID(texture_map_u8,
                (const unsigned char *px, size_t stride, int w, int h, int tw, int th, float *tex, float *iso,
                 uint16_t *col, int64_t *sums),
                (px, stride, w, h, tw, th, tex, iso, col, sums))
{
#ifdef UNSHARP_X86_AVX2
    const int avx2 = w >= 18 && USE_AVX2();
#endif
    for (int ty = 0; ty < th; ty++) {
        int y0, y1;
        tile_span(ty, th, h, &y0, &y1);
        for (int k = 0; k < 5 * tw; k++) sums[k] = 0;
        for (int y = y0; y < y1; y += COL_ROWS) {
            int ye = y1 - y > COL_ROWS ? y + COL_ROWS : y1;
#ifdef UNSHARP_X86_AVX2
            if (avx2)
                column_sums_avx2(px, stride, w, y, ye, col);
            else
#endif
                column_sums(px, stride, w, y, ye, col);
            for (int tx = 0; tx < tw; tx++) {
                int x0, x1;
                tile_span(tx, tw, w, &x0, &x1);
                for (int k = 0; k < 5; k++) {
                    const uint16_t *c = col + (size_t)k * w;
                    uint32_t s = 0; /* at most 64 * 1020 a column: 2^16 columns fit */
                    for (int x = x0; x < x1; x++) s += c[x];
                    sums[(size_t)k * tw + tx] += s;
                }
            }
        }
        for (int tx = 0; tx < tw; tx++) {
            int x0, x1;
            tile_span(tx, tw, w, &x0, &x1);
            int64_t count = (int64_t)(x1 > x0 ? x1 - x0 : 0) * (y1 > y0 ? y1 - y0 : 0);
            double dir[NDIR];
            for (int k = 0; k < NDIR; k++) dir[k] = (double)sums[(size_t)(k + 1) * tw + tx];
            tex[ty * tw + tx] = count ? (float)((double)sums[tx] / (255.0 * (double)count)) : 0.0f;
            iso[ty * tw + tx] = tile_iso(dir);
        }
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
    return unsharp__judge_features(m, img, options, out, NULL);
}

unsharp_status unsharp__judge_features(unsharp_model *m, const unsharp_image *img, const unsharp_judge_options *options,
                                       unsharp_judgement *out, float features[PHOTO_NFEATURES])
{
    if (!m) return unsharp_model_set_error(NULL, UNSHARP_ERR_INVALID, "model is NULL");
    unsharp_status st = unsharp_model_set_error(m, UNSHARP_OK, NULL);
    const unsharp_model *errto = m;
    float *luma = NULL, *top = NULL, *iso = NULL, *logit = NULL, image_logit[3];
    uint16_t *col = NULL;
    int64_t *sums = NULL;
    if (!img || !img->pixels || !out) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    memset(out, 0, sizeof *out);
    if (img->channels != 1) FAIL(UNSHARP_ERR_INVALID, "the photo must be decoded as luma (LUMA8 or LUMAF)");
    if (unsharp_model_input_channels(m) != 1)
        FAIL(UNSHARP_ERR_INVALID, "the model takes %d channels, not luma", unsharp_model_input_channels(m));
    const int w = img->width, h = img->height;
    const int is_u8 = img->format != UNSHARP_PIXEL_LUMAF;
    float *input = NULL;
    if (is_u8) {
        /* the 8-bit samples as they are: the first convolution reads them itself */
        CHECK(unsharp_model_forward_u8(m, img->pixels, img->stride, h, w, 1.0f / 255));
    } else {
        /* the rows as they are when they follow each other, else a packed copy */
        input = (float *)img->pixels;
        if (img->stride != sizeof(float) * (size_t)w) {
            luma = malloc(sizeof *luma * (size_t)w * h);
            if (!luma) FAIL(UNSHARP_ERR_NOMEM, "out of memory for a %dx%d photo", w, h);
            for (int y = 0; y < h; y++)
                memcpy(luma + (size_t)y * w, (const unsigned char *)img->pixels + (size_t)y * img->stride,
                       sizeof(float) * (size_t)w);
            input = luma;
        }
        unsharp_tensor x = unsharp_tensor_make(input, 1, 1, h, w);
        CHECK(unsharp_model_forward(m, &x, 0));
    }

    const char *tiles_name = meta_str(m, "judge.tiles", "tiles"), *image_name = meta_str(m, "judge.image", "image");
    int ts[4], is[4];
    /* a photo smaller than the network's reach leaves its tile layer uncomputed */
    st = unsharp_model_output_shape(m, tiles_name, ts);
    if (st == UNSHARP_ERR_SHAPE) FAIL(UNSHARP_ERR_SHAPE, "too small to judge: %d x %d pixels", w, h);
    CHECK(st);
    CHECK(unsharp_model_output_shape(m, image_name, is));
    if (ts[1] != 1 || is[1] != 3 || is[2] != 1 || is[3] != 1)
        FAIL(UNSHARP_ERR_SHAPE, "'%s' must give 1 value per tile and '%s' 3 logits", tiles_name, image_name);
    const int tw = ts[3], th = ts[2], n = tw * th;
    out->map = malloc(sizeof(float) * (size_t)n);
    out->texture = malloc(sizeof(float) * (size_t)n);
    top = malloc(sizeof(float) * (size_t)n);
    iso = malloc(sizeof(float) * (size_t)n);
    logit = malloc(sizeof(float) * (size_t)n);
    if (!out->map || !out->texture || !top || !iso || !logit) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the focus map");
    unsharp_tensor tt = unsharp_tensor_make(out->map, 1, 1, th, tw), it = unsharp_tensor_make(image_logit, 1, 3, 1, 1);
    CHECK(unsharp_model_get_output(m, tiles_name, &tt));
    CHECK(unsharp_model_get_output(m, image_name, &it));
    memcpy(logit, out->map, sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) out->map[i] = 1.0f / (1.0f + expf(-out->map[i]));
    out->map_w = tw;
    out->map_h = th;

    /* the sharpest tenth of the tiles with detail in every direction; when fewer than
     * MIN_TOP_TILES have it, of the tiles with any detail; when none has any, of all tiles */
    if (is_u8) {
        col = malloc(sizeof *col * 5 * (size_t)w);
        sums = malloc(sizeof *sums * 5 * (size_t)tw);
        if (!col || !sums) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the texture map");
        texture_map_u8(img->pixels, img->stride, w, h, tw, th, out->texture, iso, col, sums);
    } else {
        texture_map(input, w, h, tw, th, out->texture, iso); /* the forward leaves its input as it was */
    }
    int k = 0, n_iso = 0;
    for (int i = 0; i < n; i++) {
        out->texture[i] = out->texture[i] < TEXTURE_MIN ? 0.0f : iso[i] >= ISO_MIN ? 1.0f : 0.5f;
        n_iso += out->texture[i] == 1.0f;
    }
    const float need = n_iso >= MIN_TOP_TILES ? 1.0f : 0.5f;
    for (int i = 0; i < n; i++)
        if (out->texture[i] >= need) top[k++] = out->map[i];
    if (k == 0)
        for (int i = 0; i < n; i++) top[k++] = out->map[i];
    qsort(top, (size_t)k, sizeof *top, cmp_desc);
    int take = (int)ceil(TOP_FRACTION * k);
    if (take < MIN_TOP_TILES) take = MIN_TOP_TILES;
    if (take > k) take = k;
    double sum = 0;
    for (int i = 0; i < take; i++) sum += top[i];
    out->sharpness = (float)(sum / take);

    float share = is_u8 ? unsharp__weakest_direction_u8(img->pixels, img->stride, w, h, TEXTURE_MIN)
                        : unsharp__weakest_direction_f(input, w, h, TEXTURE_MIN);
    out->weakest_direction = share;

    /* The learned photo head, when the weights carry one (photo_score.h): it alone sets the
     * sharpness; the direction share is one of its inputs, not a rule. Without it, the older
     * rule: no crisp detail along one direction anywhere holds the photo below 0.5. */
    float coef[PHOTO_NFEATURES + 1], feat[PHOTO_NFEATURES], dirs[DIRS_MAX];
    const int head = unsharp__photo_head_parse(unsharp_model_get_meta(m, PHOTO_HEAD_KEY), coef);
    if (head || features) {
        /* the per-direction logits, when the network has them (an experiment) and they are asked
         * for: by a head that weighs them, or for the features */
        const char *dirs_name = meta_str(m, "judge.dirs", PHOTO_DIRS_LAYER);
        int ds[4], n_dirs = 0;
        st = features || (head && coef[PHOTO_NFEATURES] != 0.0f) ? unsharp_model_output_shape(m, dirs_name, ds)
                                                                 : UNSHARP_ERR_NOT_FOUND;
        if (st == UNSHARP_ERR_NOT_FOUND) {
            st = unsharp_model_set_error(m, UNSHARP_OK, NULL); /* none: the feature reads 0 */
        } else {
            CHECK(st);
            if (ds[0] != 1 || ds[1] < 1 || ds[1] > DIRS_MAX || ds[2] != 1 || ds[3] != 1)
                FAIL(UNSHARP_ERR_SHAPE, "'%s' must give 1 to %d logits", dirs_name, DIRS_MAX);
            unsharp_tensor dt = unsharp_tensor_make(dirs, 1, ds[1], 1, 1);
            CHECK(unsharp_model_get_output(m, dirs_name, &dt));
            n_dirs = ds[1];
        }
        unsharp__photo_features(logit, out->texture, tw, th, image_logit, share, dirs, n_dirs, top, feat);
        if (features) memcpy(features, feat, sizeof feat);
    }
    const int own = options && options->own_bands;
    float sharp_at = own || (options && options->sharp_at > 0) ? options->sharp_at
                                                              : meta_float(m, "threshold.sharp", DEFAULT_SHARP_AT);
    float blurry_below = own || (options && options->blurry_below > 0)
                             ? options->blurry_below
                             : meta_float(m, "threshold.blurry", DEFAULT_BLURRY_BELOW);
    int smeared = 0;
    if (head) {
        out->sharpness = unsharp__photo_head_score(coef, feat);
        /* too little contrast to call it blurry: at most unsure (PHOTO_LOW_CONTRAST) */
        if (out->sharpness < blurry_below) {
            float range = is_u8 ? unsharp__luma_range_u8(img->pixels, img->stride, w, h)
                                : unsharp__luma_range_f(input, (size_t)w, w, h);
            if (range < PHOTO_LOW_CONTRAST) out->sharpness = blurry_below;
        }
    } else {
        smeared = share < DIR_MIN;
        if (smeared && out->sharpness > 0.5f * share / DIR_MIN) out->sharpness = 0.5f * share / DIR_MIN;
    }
    out->verdict = out->sharpness >= sharp_at       ? UNSHARP_VERDICT_SHARP
                   : out->sharpness < blurry_below ? UNSHARP_VERDICT_BLURRY
                                                    : UNSHARP_VERDICT_UNSURE;
    out->kind = smeared || image_logit[2] > image_logit[1] ? UNSHARP_KIND_MOTION : UNSHARP_KIND_DEFOCUS;
bailout:
    if (st != UNSHARP_OK && out) unsharp_judgement_free(out);
    free(luma);
    free(top);
    free(iso);
    free(logit);
    free(col);
    free(sums);
    return st;
}
