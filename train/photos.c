/* photos.c: finding and decoding training photos (see photos.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "photos.h"
#include "unsharp/files.h"
#include "unsharp/unsharp.h"

typedef struct list {
    char **v;
    int n, cap;
} list;

static int push(list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s))) return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_free(list *l)
{
    for (int k = 0; k < l->n; k++) free(l->v[k]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static const volatile sig_atomic_t *stop_flag;

void train_photos_set_stop(const volatile sig_atomic_t *stop)
{
    stop_flag = stop;
}

/* a photo found by unsharp_walk, unless hidden (a name starting with a dot, or in such a
 * folder); entries it cannot read are passed over, as files that fail to decode are later */
static int on_found(const char *path, const char *rel, const char *error, void *ctx)
{
    if (error || rel[0] == '.' || strstr(rel, "/.")) return 0; /* hidden names are not training data */
    return push(ctx, path);
}

/* A file named on the command line is taken whatever its name; a folder is walked by
 * unsharp_walk (links never followed, in name order, stopped by SIGINT or SIGTERM). */
static int walk(const char *path, list *l)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    if (S_ISREG(sb.st_mode)) return push(l, path);
    if (!S_ISDIR(sb.st_mode)) return 0;
    return unsharp_walk(path, on_found, l, stop_flag) < 0 ? -1 : 0;
}

typedef struct file_key {
    dev_t dev;
    ino_t ino;
    int at;
} file_key;

static int cmp_key(const void *a, const void *b)
{
    const file_key *x = a, *y = b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* Drops every path that is a file already listed (a folder and a folder inside it both given,
 * a photo named twice, a hard link): each photo is trained on once, the first path kept. */
static int dedupe(list *l)
{
    file_key *k = malloc(sizeof *k * (size_t)(l->n ? l->n : 1));
    if (!k) return -1;
    int m = 0;
    for (int i = 0; i < l->n; i++) {
        struct stat sb;
        if (stat(l->v[i], &sb) == 0) k[m++] = (file_key){sb.st_dev, sb.st_ino, i};
    }
    if (m > 1) qsort(k, (size_t)m, sizeof *k, cmp_key);
    for (int j = 1; j < m; j++)
        if (k[j].dev == k[j - 1].dev && k[j].ino == k[j - 1].ino) {
            free(l->v[k[j].at]);
            l->v[k[j].at] = NULL;
        }
    free(k);
    int out = 0;
    for (int i = 0; i < l->n; i++)
        if (l->v[i]) l->v[out++] = l->v[i];
    l->n = out;
    return 0;
}

int train_list_photos(char *const *paths, int npaths, char ***out, int *count)
{
    list l = {0};
    for (int i = 0; i < npaths; i++)
        if (walk(paths[i], &l) != 0) {
            list_free(&l);
            return -1;
        }
    if (l.n) qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_str);
    if (dedupe(&l) != 0) {
        list_free(&l);
        return -1;
    }
    *out = l.v;
    *count = l.n;
    return 0;
}

int train_photos_load(char *const *paths, int npaths, int long_side, int min_side, FILE *err, train_photos *out)
{
    memset(out, 0, sizeof *out);
    char **files = NULL;
    int n = 0;
    if (train_list_photos(paths, npaths, &files, &n) != 0) {
        fprintf(err, "out of memory while listing photos\n");
        return -1;
    }
    out->items = calloc(n ? (size_t)n : 1, sizeof *out->items);
    if (!out->items) n = 0;
    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = long_side};
    for (int i = 0; i < n; i++) {
        unsharp_image *img = NULL;
        if (unsharp_image_load(files[i], &o, &img) != UNSHARP_OK) {
            fprintf(err, "%s\n", unsharp_errmsg());
            out->failed++;
        } else if (img->width < min_side || img->height < min_side) {
            out->too_small++;
        } else {
            train_photo *p = &out->items[out->count];
            p->w = img->width;
            p->h = img->height;
            p->luma = malloc((size_t)p->w * p->h);
            p->path = strdup(files[i]);
            if (p->luma && p->path) {
                for (int y = 0; y < p->h; y++) memcpy(p->luma + (size_t)y * p->w, (uint8_t *)img->pixels + y * img->stride, (size_t)p->w);
                out->count++;
            } else {
                free(p->luma);
                free(p->path);
                fprintf(err, "%s: out of memory\n", files[i]);
                out->failed++;
            }
        }
        unsharp_image_free(img);
        free(files[i]);
    }
    free(files);
    if (out->count == 0) {
        fprintf(err, "no usable photos (at least %d px on each side)\n", min_side);
        return -1;
    }
    return 0;
}

void train_photos_free(train_photos *p)
{
    for (int i = 0; i < p->count; i++) {
        free(p->items[i].path);
        free(p->items[i].luma);
    }
    free(p->items);
    memset(p, 0, sizeof *p);
}
