/* folder.c: opens a folder: lists its photos (unsharp_list_photos: files with photo names;
 * not recursive, in name order; symbolic links are not followed), records each file's identity,
 * and starts the background threads on them. Closing stops the threads and frees it all. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "review.h"

void app_set_message(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->message_until = now_ms() + 6000;
}

void folder_close(app *a)
{
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
    free(a->pv_px);
    free(a->pv_err);
    if (a->pv_tex) SDL_DestroyTexture(a->pv_tex);
    a->ph = NULL;
    a->order = NULL;
    a->pv_px = NULL;
    a->pv_err = NULL;
    a->pv_tex = NULL;
    a->n = a->norder = a->cached = a->pending_uploads = a->thumbs_done = a->judged = 0;
    a->pv_want = a->pv_have = a->pv_tex_of = -1;
    a->sel = a->hover = -1;
    a->view = VIEW_GRID;
    a->scroll = 0;
    a->first_thumb_logged = a->all_thumbs_logged = a->all_judged_logged = 0;
    free(a->folder);
    a->folder = NULL;
}

int folder_open(app *a, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        app_set_message(a, "cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    if (unsharp_list_photos(real, &names, &n) != 0) {
        app_set_message(a, "cannot open %s: %s", real, strerror(errno));
        return -1;
    }

    folder_close(a);
    a->folder = strdup(real);
    a->ph = calloc(n ? n : 1, sizeof *a->ph);
    a->order = calloc(n ? n : 1, sizeof *a->order);
    if (!a->folder || !a->ph || !a->order) {
        unsharp_names_free(names, n);
        app_set_message(a, "out of memory");
        return -1;
    }
    size_t lr = strlen(real);
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        photo *p = &a->ph[k];
        size_t ln = strlen(names[i]);
        p->path = malloc(lr + 1 + ln + 1);
        if (!p->path) {
            free(names[i]);
            continue;
        }
        memcpy(p->path, real, lr);
        p->path[lr] = '/';
        memcpy(p->path + lr + 1, names[i], ln + 1);
        if (lr == 1) memmove(p->path + 1, p->path + 2, ln + 1); /* "/" + name */
        p->name = strrchr(p->path, '/') + 1;
        free(names[i]);
        struct stat st;
        /* only regular files (not links, folders or devices); others are listed with an error */
        if (lstat(p->path, &st) != 0) {
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
    free(names);
    a->n = k;
    a->sel = k ? 0 : -1;
    pthread_mutex_lock(&a->mu);
    order_update(a);
    pthread_mutex_unlock(&a->mu);
    if (workers_start(a) != 0) app_set_message(a, "cannot start the background threads");
    return 0;
}
