/* scan.c: turns the PATH arguments into the list of photos to judge. A file argument is
 * judged whatever its name; folders are walked recursively, in name order, and give the files
 * with photo names (unsharp_photo_listed: a RAW beside its JPEG is that JPEG's companion).
 * Walks do not follow symbolic links, so a link loop cannot trap them and nothing outside the
 * named folders is touched. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "classify.h"

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la && a[la - 1] != '/';
    char *s = malloc(la + slash + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (slash) s[la] = '/';
    memcpy(s + la + slash, b, lb + 1);
    return s;
}

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

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks dir (whose path relative to the argument is rel, "" at the top). */
static int walk(item_list *l, const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    if (!d) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read folder: %s", strerror(errno));
        return add(l, strdup(dir), strdup(rel), msg);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) { rc = -1; break; }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) { rc = -1; break; }
        n++;
    }
    closedir(d);
    if (rc == 0) qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *path = join(dir, names[i]);
        char *sub = *rel ? join(rel, names[i]) : strdup(names[i]);
        struct stat st;
        if (!path || !sub) {
            free(path);
            free(sub);
            rc = -1;
        } else if (lstat(path, &st) != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "cannot stat: %s", strerror(errno));
            rc = add(l, path, sub, msg);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(l, path, sub);
            free(path);
            free(sub);
        } else if (!S_ISLNK(st.st_mode) && unsharp_photo_listed(names, n, i)) {
            rc = add(l, path, sub, NULL);
        } else {
            free(path);
            free(sub);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
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
            if (walk(out, paths[i], "")) return -1;
        } else if (add(out, strdup(paths[i]), strdup(base), NULL)) {
            return -1;
        }
    }
    return 0;
}

void item_list_free(item_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].rel);
        free(l->items[i].error);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}
