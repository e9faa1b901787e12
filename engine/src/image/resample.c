/* resample.c: area-averaging downscale of an 8-bit buffer to an exact long side, keeping the
 * aspect ratio. Each output pixel is the mean of the source area it covers, partly covered
 * source pixels weighted by their covered fraction (a box filter, separable: a horizontal
 * pass per source row, accumulated vertically). It never upscales. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"

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
} axis;

static void axis_free(axis *a)
{
    free(a->first);
    free(a->count);
    free(a->weight);
    free(a->offset);
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
    return 0;
}

unsharp_status unsharp__resample(const img_ctx *ctx, img_buf *b, int long_side)
{
    unsharp_status st = UNSHARP_OK;
    int ow, oh;
    unsharp__resample_size(b->w, b->h, long_side, &ow, &oh);
    if (ow == b->w && oh == b->h) return UNSHARP_OK;
    const int c = b->c;
    axis ax, ay;
    int okx = axis_make(&ax, b->w, ow), oky = axis_make(&ay, b->h, oh);
    float *tmp = malloc(sizeof(float) * (size_t)ow * (size_t)c);
    float *acc = malloc(sizeof(float) * (size_t)ow * (size_t)c);
    unsigned char *dst = malloc((size_t)ow * (size_t)oh * (size_t)c);
    if (okx || oky || !tmp || !acc || !dst) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory to resample to %dx%d", ow, oh);
    for (int y = 0; y < oh; y++) {
        memset(acc, 0, sizeof(float) * (size_t)ow * (size_t)c);
        for (int j = 0; j < ay.count[y]; j++) {
            const unsigned char *src = b->px + (size_t)(ay.first[y] + j) * (size_t)b->w * (size_t)c;
            const float wy = ay.weight[ay.offset[y] + j];
            for (int x = 0; x < ow; x++) {
                for (int ch = 0; ch < c; ch++) tmp[x * c + ch] = 0.0f;
                const float *wx = ax.weight + ax.offset[x];
                const unsigned char *p = src + (size_t)ax.first[x] * (size_t)c;
                for (int i = 0; i < ax.count[x]; i++)
                    for (int ch = 0; ch < c; ch++) tmp[x * c + ch] += wx[i] * p[i * c + ch];
            }
            for (int i = 0; i < ow * c; i++) acc[i] += wy * tmp[i];
        }
        unsigned char *out = dst + (size_t)y * (size_t)ow * (size_t)c;
        for (int i = 0; i < ow * c; i++) {
            float v = acc[i] + 0.5f;
            out[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (unsigned char)v;
        }
    }
    free(b->px);
    b->px = dst;
    b->w = ow;
    b->h = oh;
    dst = NULL;
bailout:
    axis_free(&ax);
    axis_free(&ay);
    free(tmp);
    free(acc);
    free(dst);
    return st;
}
