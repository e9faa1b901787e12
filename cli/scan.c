/* scan.c: turns the PATH arguments into the list of photos to judge. A file argument is
 * judged whatever its name; folders are walked recursively, in name order (unsharp_walk), and
 * give the files with photo names (unsharp_photo_listed: a RAW beside its JPEG is that JPEG's
 * companion). Walks do not follow symbolic links, so a link loop cannot trap them and nothing
 * outside the named folders is touched; a link loop inside a folder is reported. A file
 * reached twice (PATH and PATH/sub, a hard link) is listed once, where first found. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "classify.h"

/* Adds an item; path and rel are taken over. error is copied when not NULL. */
static int add(item_list *l, char *path, char *rel, const char *error)
{
    if (!path || !rel) goto nomem;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        item *p = realloc(l->items, cap * sizeof *p);
        if (!p) goto nomem;
        l->items = p;
        l->cap = cap;
    }
    item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->path = path;
    it->rel = rel;
    if (error && !(it->error = strdup(error))) goto nomem;
    l->n++;
    return 0;
nomem:
    free(path);
    free(rel);
    return -1;
}

static int on_found(const char *path, const char *rel, const char *error, void *ctx)
{
    return add(ctx, strdup(path), strdup(rel), error);
}

/* 1 when items a and b (both read) are the same file */
static int cmp_ids(const void *a, const void *b)
{
    const item *x = *(item *const *)a, *y = *(item *const *)b;
    if (x->id.dev != y->id.dev) return x->id.dev < y->id.dev ? -1 : 1;
    if (x->id.ino != y->id.ino) return x->id.ino < y->id.ino ? -1 : 1;
    return x < y ? -1 : x > y; /* the first found first */
}

/* Drops every item that is a file already listed (PATH and PATH/sub, a photo named twice,
 * a hard link): each file is judged and acted on once, as first found. */
static int dedupe(item_list *l)
{
    item **by = malloc((l->n ? l->n : 1) * sizeof *by);
    if (!by) return -1;
    size_t m = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct stat st;
        l->items[i].id.ino = 0;
        if (!l->items[i].error && stat(l->items[i].path, &st) == 0) {
            l->items[i].id.dev = st.st_dev;
            l->items[i].id.ino = st.st_ino;
            by[m++] = &l->items[i];
        }
    }
    if (m > 1) qsort(by, m, sizeof *by, cmp_ids);
    for (size_t k = 1; k < m; k++)
        if (by[k]->id.dev == by[k - 1]->id.dev && by[k]->id.ino == by[k - 1]->id.ino) by[k]->id.ino = (ino_t)-1;
    free(by);
    size_t out = 0;
    for (size_t i = 0; i < l->n; i++) {
        item *it = &l->items[i];
        if (it->id.ino == (ino_t)-1 && !it->error) {
            free(it->path);
            free(it->rel);
            continue;
        }
        memset(&it->id, 0, sizeof it->id);
        l->items[out++] = *it;
    }
    l->n = out;
    return 0;
}

int scan_paths(char **paths, int n, item_list *out)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        const char *base = strrchr(paths[i], '/');
        base = base && base[1] ? base + 1 : paths[i];
        if (stat(paths[i], &st) != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", strerror(errno));
            if (add(out, strdup(paths[i]), strdup(base), msg)) return -1;
        } else if (S_ISDIR(st.st_mode)) {
            if (unsharp_walk(paths[i], on_found, out, NULL) < 0) return -1;
        } else if (add(out, strdup(paths[i]), strdup(base), NULL)) {
            return -1;
        }
    }
    return dedupe(out);
}

void item_list_free(item_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].rel);
        free(l->items[i].error);
        free(l->items[i].frame);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

int read_names(const char *file, int nul, char ***names, int *count, char *err, size_t errsize)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    *names = NULL;
    *count = 0;
    if (!f) {
        snprintf(err, errsize, "cannot read %s: %s", file, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, have = 0;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while ((len = getdelim(&line, &cap, nul ? '\0' : '\n', f)) != -1) {
        if (len > 0 && line[len - 1] == (nul ? '\0' : '\n')) line[--len] = 0;
        if (!nul && len > 0 && line[len - 1] == '\r') line[--len] = 0;
        if (len == 0) continue;
        if ((size_t)*count == have) {
            size_t more = have ? have * 2 : 256;
            char **p = more < (size_t)1 << 30 ? realloc(*names, more * sizeof *p) : NULL;
            if (!p) goto nomem;
            *names = p;
            have = more;
        }
        if (!((*names)[*count] = strdup(line))) goto nomem;
        ++*count;
    }
    if (ferror(f)) {
        snprintf(err, errsize, "cannot read %s: %s", file, strerror(errno ? errno : EIO));
        rc = -1;
    }
    goto out;
nomem:
    snprintf(err, errsize, "out of memory reading %s", file);
    rc = -1;
out:
    free(line);
    if (f != stdin) fclose(f);
    if (rc) {
        for (int i = 0; i < *count; i++) free((*names)[i]);
        free(*names);
        *names = NULL;
        *count = 0;
    }
    return rc;
}

/* 64-bit FNV-1a of the folder part of path (all before its last '/'; "" for none) */
static uint64_t folder_hash(const char *path)
{
    const char *slash = strrchr(path, '/');
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = path; slash && p < slash; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h;
}

void shard_filter(item_list *l, int k, int n)
{
    size_t out = 0;
    for (size_t i = 0; i < l->n; i++) {
        item *it = &l->items[i];
        if (folder_hash(it->path) % (uint64_t)n == (uint64_t)(k - 1)) {
            l->items[out++] = *it;
        } else {
            free(it->path);
            free(it->rel);
            free(it->error);
            free(it->frame);
        }
    }
    l->n = out;
}
