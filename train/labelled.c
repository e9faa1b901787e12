/* labelled.c: real labelled photos (labelled.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "labelled.h"
#include "marks.h"

/* A folder with sharp/ and blurry/ folders inside. */
static int labelled_folder(const char *dir)
{
    char a[4096], b[4096];
    struct stat sa, sb;
    snprintf(a, sizeof a, "%s/sharp", dir);
    snprintf(b, sizeof b, "%s/blurry", dir);
    return stat(a, &sa) == 0 && S_ISDIR(sa.st_mode) && stat(b, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Adds "a" or "a/b". */
static int path_add(path_list *l, const char *a, const char *b)
{
    char **v = realloc(l->v, sizeof *v * (size_t)(l->n + 1));
    if (!v) return -1;
    l->v = v;
    size_t len = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    if (!(v[l->n] = malloc(len))) return -1;
    snprintf(v[l->n], len, b ? "%s/%s" : "%s", a, b ? b : "");
    l->n++;
    return 0;
}

void path_list_free(path_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

int labelled_collect(char *const *args, int nargs, const char *sharp_dir, const char *blurry_dir, const char *marks_dir,
                     FILE *err, path_list *plain, path_list *sharp, path_list *blurry)
{
    for (int i = 0; i < nargs; i++) {
        int bad = labelled_folder(args[i]) ? path_add(sharp, args[i], "sharp") || path_add(blurry, args[i], "blurry")
                                           : path_add(plain, args[i], NULL);
        if (bad) return -1;
    }
    if ((sharp_dir && path_add(sharp, sharp_dir, NULL)) || (blurry_dir && path_add(blurry, blurry_dir, NULL))) return -1;
    if (!marks_dir) return 0;
    marked_photos mk;
    if (marks_collect(marks_dir, err, &mk) != 0) return -1;
    fprintf(err, "unsharp-train: %s: %d photos a person marked keep, %d marked reject%s\n", marks_dir, mk.n_keep,
            mk.n_reject, mk.by_tool ? " (and unsharp-classify's own marks, which are not read as decisions)" : "");
    int bad = 0;
    for (int i = 0; i < mk.n_keep && !bad; i++) bad = path_add(sharp, mk.keep[i], NULL);
    for (int i = 0; i < mk.n_reject && !bad; i++) bad = path_add(blurry, mk.reject[i], NULL);
    marks_free(&mk);
    return bad ? -1 : 0;
}

void labelled_blurry_sample(const train_photo *p, int kind, int crop, blur_rng *rng, float *x, float *tiles_w, int tiles,
                            float *label, float *label_w, float *peak)
{
    int x0 = (int)(blur_rng_next(rng) % (uint64_t)(p->w - crop + 1));
    int y0 = (int)(blur_rng_next(rng) % (uint64_t)(p->h - crop + 1));
    int t = (int)(blur_rng_next(rng) % 8);
    double sum = 0, sum2 = 0;
    for (int y = 0; y < crop; y++)
        for (int c = 0; c < crop; c++) {
            int sx = t & 4 ? y : c, sy = t & 4 ? c : y;
            if (t & 1) sx = crop - 1 - sx;
            if (t & 2) sy = crop - 1 - sy;
            float v = p->luma[(size_t)(y0 + sy) * p->w + x0 + sx] * (1.0f / 255);
            x[y * crop + c] = v;
            sum += v;
            sum2 += (double)v * v;
        }
    double mean = sum / ((double)crop * crop), var = sum2 / ((double)crop * crop) - mean * mean;
    for (int i = 0; i < tiles; i++) tiles_w[i] = 0;
    *label = (float)kind;
    *label_w = var > 0.02 * 0.02 ? 1.0f : 0.0f;
    *peak = 0;
}
