/* photo_score.c: the learned photo head (photo_score.h): features of a focus map, the head's
 * coefficients from the weights' metadata, and its probability. */
#include "photo_score.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float clamp_logit(float v)
{
    if (!(v == v)) return 0.0f; /* NaN: no evidence either way */
    return v > PHOTO_LOGIT_CLAMP ? PHOTO_LOGIT_CLAMP : v < -PHOTO_LOGIT_CLAMP ? -PHOTO_LOGIT_CLAMP : v;
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Mean of the first ceil(frac * k) of the k sorted values (at least one). */
static float top_mean(const float *sorted, int k, double frac)
{
    int take = (int)ceil(frac * k);
    if (take < 1) take = 1;
    if (take > k) take = k;
    double s = 0;
    for (int i = 0; i < take; i++) s += sorted[i];
    return (float)(s / take);
}

void unsharp__photo_features(const float *logit, const float *detail, int tw, int th, const float image_logit[3],
                             float share, const float *dirs, int n_dirs, float *scratch, float f[PHOTO_NFEATURES])
{
    const int n = tw * th;
    int nd = 0;
    for (int i = 0; i < n; i++) nd += detail[i] != 0.0f;
    const int all = nd < 2;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all || detail[i] != 0.0f) scratch[k++] = clamp_logit(logit[i]);
    qsort(scratch, (size_t)k, sizeof *scratch, cmp_desc);
    double mean = 0;
    for (int i = 0; i < k; i++) mean += scratch[i];
    f[PHOTO_F_MAX] = scratch[0];
    f[PHOTO_F_TOP1] = top_mean(scratch, k, 0.01);
    f[PHOTO_F_TOP5] = top_mean(scratch, k, 0.05);
    f[PHOTO_F_TOP20] = top_mean(scratch, k, 0.20);
    f[PHOTO_F_TOP50] = top_mean(scratch, k, 0.50);
    f[PHOTO_F_MEAN] = (float)(mean / k);

    /* the sharpest 2 x 2 block among blocks with at least two tiles with detail (the single
     * sharpest tile when the map is one tile wide or tall, or no block qualifies) */
    float block = -INFINITY;
    for (int y = 0; y + 1 < th; y++)
        for (int x = 0; x + 1 < tw; x++) {
            int i = y * tw + x, d = 0;
            const int at[4] = {i, i + 1, i + tw, i + tw + 1};
            double s = 0;
            for (int q = 0; q < 4; q++) {
                d += all || detail[at[q]] != 0.0f;
                s += clamp_logit(logit[at[q]]);
            }
            if (d >= 2 && s / 4 > block) block = (float)(s / 4);
        }
    f[PHOTO_F_BLOCK] = isfinite(block) ? block : f[PHOTO_F_MAX];

    float a = clamp_logit(image_logit[0]), b = clamp_logit(image_logit[1]), c = clamp_logit(image_logit[2]);
    float mx = b > c ? b : c;
    f[PHOTO_F_IMAGE] = a - (mx + logf(expf(b - mx) + expf(c - mx)));
    f[PHOTO_F_DIRECTION] = logf((share > 0.0f ? share : 0.0f) + 0.02f);
    f[PHOTO_F_DETAIL] = logf((float)nd / (float)n + 0.01f);
    float least = 0.0f;
    for (int d = 0; dirs && d < n_dirs; d++) {
        float v = clamp_logit(dirs[d]);
        if (d == 0 || v < least) least = v;
    }
    f[PHOTO_F_DIRS] = least;
}

int unsharp__photo_head_parse(const char *text, float coef[PHOTO_NFEATURES + 1])
{
    if (!text || strncmp(text, "v1", 2) != 0) return 0;
    const char *p = text + 2;
    int i = 0;
    for (; i <= PHOTO_NFEATURES; i++) {
        char *end;
        float v = strtof(p, &end);
        if (end == p) break;
        if (!isfinite(v)) return 0;
        coef[i] = v;
        p = end;
    }
    if (i < PHOTO_NFEATURES) return 0;
    if (i == PHOTO_NFEATURES) coef[PHOTO_NFEATURES] = 0.0f; /* a head from before PHOTO_F_DIRS */
    while (*p == ' ' || *p == '\t') p++;
    return *p == 0;
}

float unsharp__photo_head_score(const float coef[PHOTO_NFEATURES + 1], const float f[PHOTO_NFEATURES])
{
    double z = coef[0];
    for (int i = 0; i < PHOTO_NFEATURES; i++) z += (double)coef[i + 1] * f[i];
    return (float)(1.0 / (1.0 + exp(-z)));
}

/* The percentiles of a 256-bin histogram of n samples. */
static float hist_range(const uint64_t hist[256], uint64_t n)
{
    uint64_t lo_at = n / 100, hi_at = n - n / 100, c = 0;
    int lo = -1, hi = 255;
    for (int i = 0; i < 256; i++) {
        c += hist[i];
        if (lo < 0 && c > lo_at) lo = i;
        if (c >= hi_at) { hi = i; break; }
    }
    if (lo < 0) lo = 0;
    return hi > lo ? (float)(hi - lo) / 255.0f : 0.0f;
}

float unsharp__luma_range_u8(const unsigned char *px, size_t stride, int w, int h)
{
    uint64_t hist[256] = {0}, n = 0;
    for (int y = 0; y < h; y += 4) {
        const unsigned char *r = px + (size_t)y * stride;
        for (int x = 0; x < w; x++) hist[r[x]]++;
        n += (uint64_t)w;
    }
    return n ? hist_range(hist, n) : 0.0f;
}

float unsharp__luma_range_f(const float *px, size_t stride_floats, int w, int h)
{
    uint64_t hist[256] = {0}, n = 0;
    for (int y = 0; y < h; y += 4) {
        const float *r = px + (size_t)y * stride_floats;
        for (int x = 0; x < w; x++) {
            float v = r[x] * 255.0f + 0.5f;
            hist[v <= 0.0f || !(v == v) ? 0 : v >= 255.0f ? 255 : (int)v]++;
        }
        n += (uint64_t)w;
    }
    return n ? hist_range(hist, n) : 0.0f;
}
