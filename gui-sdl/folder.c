/* folder.c: opens a folder: lists its photos and those of its subfolders (unsharp_walk, as
 * unsharp-classify walks: files with photo names, in name order, symbolic links not followed,
 * an unreadable folder listed with its error), records each file's identity, reads the marks
 * of its sidecars (marks.c), and starts the
 * background threads on them. Closing stops the threads and frees it all, the session's
 * history too. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "review.h"

void folder_close(app *a)
{
    marks_flush(a); /* every change written before the folder is read again */
    workers_stop(a);
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        free(p->path);
        free(p->th_px);
        free(p->th_err);
        free(p->map);
        free(p->texmask);
        free(p->j_err);
        if (p->tex) SDL_DestroyTexture(p->tex);
    }
    free(a->ph);
    free(a->order);
    free(a->frames);
    a->frames = NULL;
    a->open_top = -1;
    a->groups_judged = a->groups_trashed = -1;
    for (int k = 0; k < 2; k++) {
        pv_slot *s = &a->pv[k];
        free(s->px);
        free(s->err);
        if (s->tex) SDL_DestroyTexture(s->tex);
        *s = (pv_slot){.want = -1, .have = -1, .tex_of = -1};
    }
    hist_clear(a);
    a->ph = NULL;
    a->order = NULL;
    a->n = a->norder = a->cached = a->pending_uploads = a->thumbs_done = a->judged = 0;
    a->sel = a->hover = a->anchor = a->cmp_other = -1;
    a->view = VIEW_GRID;
    a->scroll = 0;
    a->first_thumb_logged = a->all_thumbs_logged = a->all_judged_logged = 0;
    free(a->folder);
    a->folder = NULL;
}

/* What the walk found: full paths, the part below the folder, and errors. */
typedef struct found {
    char **path, **err;
    size_t *rel;                 /* offset of the relative path in path */
    size_t n, cap;
} found;

static int on_found(const char *path, const char *rel, const char *error, void *ctx)
{
    found *f = ctx;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        char **p = realloc(f->path, cap * sizeof *p);
        if (p) f->path = p;
        char **e = p ? realloc(f->err, cap * sizeof *e) : NULL;
        if (e) f->err = e;
        size_t *r = e ? realloc(f->rel, cap * sizeof *r) : NULL;
        if (!r) return -1;
        f->rel = r;
        f->cap = cap;
    }
    size_t lp = strlen(path), lr = strlen(rel);
    f->path[f->n] = strdup(path);
    f->err[f->n] = error ? strdup(error) : NULL;
    if (!f->path[f->n] || (error && !f->err[f->n])) {
        free(f->path[f->n]);
        free(f->err[f->n]);
        return -1;
    }
    f->rel[f->n] = lr && lr <= lp && strcmp(path + lp - lr, rel) == 0 ? lp - lr : 0;
    f->n++;
    return 0;
}

static void found_free(found *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->path[i]);
        free(f->err[i]);
    }
    free(f->path);
    free(f->err);
    free(f->rel);
}

int folder_open(app *a, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        app_set_message(a, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat dst;
    if (stat(real, &dst) != 0 || !S_ISDIR(dst.st_mode)) {
        app_set_message(a, "cannot open %s: not a folder", real);
        return -1;
    }
    found f = {0};
    if (unsharp_walk(real, on_found, &f, NULL) != 0) {
        found_free(&f);
        app_set_message(a, "cannot open %s: out of memory", real);
        return -1;
    }

    folder_close(a);
    size_t n = f.n;
    a->folder = strdup(real);
    a->ph = calloc(n ? n : 1, sizeof *a->ph);
    a->order = calloc(n ? n : 1, sizeof *a->order);
    a->frames = calloc(n ? n : 1, sizeof *a->frames); /* pages touched only as photos are judged */
    if (!a->folder || !a->ph || !a->order || !a->frames) {
        found_free(&f);
        app_set_message(a, "out of memory");
        return -1;
    }
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        photo *p = &a->ph[k];
        p->path = f.path[i];
        f.path[i] = NULL;
        p->rel = p->path + f.rel[i];
        char *slash = strrchr(p->rel, '/');
        p->name = slash ? slash + 1 : p->rel;
        struct stat st;
        /* only regular files (not links, folders or devices); others are listed with an error */
        if (f.err[i]) {
            p->th = TH_FAILED;
            p->th_err = f.err[i];
            f.err[i] = NULL;
        } else if (lstat(p->path, &st) != 0) {
            p->th = TH_FAILED;
            p->th_err = strdup(strerror(errno));
        } else if (!S_ISREG(st.st_mode)) {
            p->th = TH_FAILED;
            p->th_err = strdup(S_ISLNK(st.st_mode) ? "a symbolic link, not followed" : "not a regular file");
        } else {
            p->id_ok = unsharp_file_id_read(p->path, &p->id) == 0;
        }
        if (p->th == TH_FAILED) {
            p->js = J_FAILED;
            p->th_seen = 1;
            a->thumbs_done++;
            a->judged++;
        }
        k++;
    }
    found_free(&f);
    a->n = k;
    a->sel = k ? 0 : -1;
    marks_load(a);
    pthread_mutex_lock(&a->mu);
    order_update(a);
    pthread_mutex_unlock(&a->mu);
    if (workers_start(a) != 0) app_set_message(a, "cannot start the background threads");
    return 0;
}
