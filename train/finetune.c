/* finetune.c: the pull toward the starting weights, and the paths of a fine-tune (finetune.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "finetune.h"

void ft_anchor_free(ft_anchor *a)
{
    for (int i = 0; i < a->n && a->start; i++) free(a->start[i]);
    free(a->start);
    free(a->count);
    free(a->scratch);
    memset(a, 0, sizeof *a);
}

int ft_anchor_take(unsharp_model *m, ft_anchor *a)
{
    memset(a, 0, sizeof *a);
    int n = unsharp_model_param_count(m);
    a->start = calloc((size_t)(n ? n : 1), sizeof *a->start);
    a->count = calloc((size_t)(n ? n : 1), sizeof *a->count);
    if (!a->start || !a->count) goto nomem;
    a->n = n;
    for (int i = 0; i < n; i++) {
        const char *name;
        if (unsharp_model_param_info(m, i, &name, &a->count[i], NULL) != UNSHARP_OK) goto fail;
        if (!(a->start[i] = malloc(sizeof(float) * a->count[i]))) goto nomem;
        if (unsharp_model_get_param(m, name, a->start[i], a->count[i]) != UNSHARP_OK) goto fail;
        if (a->count[i] > a->most) a->most = a->count[i];
    }
    if (!(a->scratch = malloc(sizeof(float) * (a->most ? a->most : 1)))) goto nomem;
    return 0;
nomem:
    unsharp_model_set_error(m, UNSHARP_ERR_NOMEM, "out of memory copying the starting weights");
fail:
    ft_anchor_free(a);
    return -1;
}

int ft_anchor_pull(unsharp_model *m, const ft_anchor *a, float amount)
{
    if (!(amount > 0)) return 0;
    if (amount > 1) amount = 1;
    for (int i = 0; i < a->n; i++) {
        const char *name;
        if (unsharp_model_param_info(m, i, &name, NULL, NULL) != UNSHARP_OK ||
            unsharp_model_get_param(m, name, a->scratch, a->count[i]) != UNSHARP_OK)
            return -1;
        for (size_t k = 0; k < a->count[i]; k++) a->scratch[k] -= amount * (a->scratch[k] - a->start[i][k]);
        if (unsharp_model_set_param(m, name, a->scratch, a->count[i]) != UNSHARP_OK) return -1;
    }
    return 0;
}

int ft_keep_targets(unsharp_model *start, const unsharp_tensor *x, float keep, float *tile_target, const float *tile_w,
                    float *peak, int batch, int side)
{
    size_t n = (size_t)batch * side * side;
    float *logit = malloc(sizeof *logit * n);
    if (!logit) return unsharp_model_set_error(start, UNSHARP_ERR_NOMEM, "out of memory keeping the starting answers"), -1;
    unsharp_tensor out = unsharp_tensor_make(logit, batch, 1, side, side);
    if (unsharp_model_forward(start, x, 0) != UNSHARP_OK || unsharp_model_get_output(start, "tiles", &out) != UNSHARP_OK) {
        free(logit);
        return -1;
    }
    for (int b = 0; b < batch; b++) {
        const float *l = logit + (size_t)b * side * side;
        float *t = tile_target + (size_t)b * side * side;
        const float *w = tile_w + (size_t)b * side * side;
        int any = 0;
        for (int k = 0; k < side * side; k++)
            if (w[k] > 0) {
                t[k] += keep * (1.0f / (1.0f + expf(-l[k])) - t[k]);
                any = 1;
            }
        if (!peak || !any) continue;
        float best = -INFINITY;
        for (int y = 0; y + 1 < side; y++)
            for (int c = 0; c + 1 < side; c++) {
                float v = 0.25f * (l[y * side + c] + l[y * side + c + 1] + l[(y + 1) * side + c] + l[(y + 1) * side + c + 1]);
                if (v > best) best = v;
            }
        peak[b] += keep * (1.0f / (1.0f + expf(-best)) - peak[b]);
    }
    free(logit);
    return 0;
}

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            int rc = mkdir(path, 0700);
            *p = '/';
            if (rc != 0 && errno != EEXIST) return -1;
        }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int ft_default_checkpoint(const char *out, char *buf, size_t n)
{
    char dir[PATH_MAX], abs[2 * PATH_MAX + 2], cwd[PATH_MAX];
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && cache[0] == '/') snprintf(dir, sizeof dir, "%s/unsharp", cache);
    else if (home && home[0] == '/') snprintf(dir, sizeof dir, "%s/.cache/unsharp", home);
    else return -1;
    if (mkdir_p(dir) != 0) return -1;
    if (out[0] == '/' || !getcwd(cwd, sizeof cwd)) snprintf(abs, sizeof abs, "%s", out);
    else snprintf(abs, sizeof abs, "%s/%s", cwd, out);
    uint32_t h = 2166136261u; /* FNV-1a 32 */
    for (const char *p = abs; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    int len = (int)strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".usw")) len -= 4;
    int w = snprintf(buf, n, "%s/%.*s-%08x.ckpt", dir, len, base, h);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

void ft_rejected_path(const char *out, char *buf, size_t n)
{
    size_t len = strlen(out);
    if (len > 4 && !strcmp(out + len - 4, ".usw")) len -= 4;
    snprintf(buf, n, "%.*s.rejected.usw", (int)len, out);
}
