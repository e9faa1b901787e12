/* orient.c: an oriented start for the first convolution (orient.h). */
#include "orient.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int orient_first_conv(unsharp_model *m, const char **layer)
{
    const int n = unsharp_model_param_count(m);
    const char *name = NULL;
    size_t count = 0;
    int shape[4] = {0};
    for (int i = 0; i < n && !name; i++) {
        const char *nm;
        size_t cnt;
        int sh[4];
        if (unsharp_model_param_info(m, i, &nm, &cnt, sh) != UNSHARP_OK) return -1;
        size_t len = strlen(nm);
        if (len > 7 && !strcmp(nm + len - 7, ".weight") && sh[1] == 1 && sh[2] == sh[3] && sh[2] >= 3) {
            name = nm;
            count = cnt;
            memcpy(shape, sh, sizeof sh);
        }
    }
    if (layer) *layer = name;
    if (!name) return -1;
    const int C = shape[0], k = shape[2], kk = k * k;
    float *w = malloc(sizeof *w * count);
    if (!w) return -1;
    if (unsharp_model_get_param(m, name, w, count) != UNSHARP_OK) { free(w); return -1; }
    double norm = 0;
    for (size_t i = 0; i < count; i++) norm += (double)w[i] * w[i];
    norm = sqrt(norm / C); /* the random channels' mean L2 norm (their root mean square) */
    const double s2 = ORIENT_SIGMA * ORIENT_SIGMA, mid = (k - 1) / 2.0;
    for (int c = 0; c < C; c++) {
        float *f = w + (size_t)c * kk;
        const double th = c * M_PI / C, co = cos(th), si = sin(th);
        double mean = 0, ss = 0;
        for (int y = 0; y < k; y++)
            for (int x = 0; x < k; x++) {
                double u = (x - mid) * co + (y - mid) * si, v = -(x - mid) * si + (y - mid) * co;
                f[y * k + x] = (float)((u * u / s2 - 1.0) * exp(-(u * u + v * v) / (2 * s2)));
                mean += f[y * k + x];
            }
        mean /= kk;
        for (int i = 0; i < kk; i++) { f[i] = (float)(f[i] - mean); ss += (double)f[i] * f[i]; }
        for (int i = 0; i < kk; i++) f[i] = (float)(f[i] * norm / sqrt(ss));
    }
    int rc = unsharp_model_set_param(m, name, w, count) == UNSHARP_OK ? 0 : -1;
    free(w);
    return rc;
}
