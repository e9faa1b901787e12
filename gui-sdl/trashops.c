/* trashops.c: the Trash, only ever after the confirmation dialog. A photo goes with its
 * sidecars and RAW companions, the set unsharp-classify --trash moves (unsharp_companions):
 * the photo is checked to be the file that was listed (unsharp_file_check), each companion's
 * identity is read, and each file is moved with unsharp_trash_file (libunsharp-files, per
 * the freedesktop.org Trash specification), photo first; when the photo cannot go, nothing
 * of its set moves. The entry each move made is found again (unsharp_trash_find), so that the
 * session's history (edits.c, which keeps the batch and sets the marks) can put the set back
 * (unsharp_trash_restore: never over an existing file, its .trashinfo removed) and move it
 * again on redo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "review.h"

static int is_sidecar_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".xmp") == 0;
}

void trash_count_companions(app *a)
{
    marks_flush(a); /* the sidecars a mark creates are there to count */
    a->cf_photos = a->cf_sidecars = a->cf_raws = a->cf_other = 0;
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->mark != MARK_DELETE || p->trashed) continue;
        a->cf_photos++;
        char *names[UNSHARP_MAX_COMPANIONS];
        int nc = unsharp_companions(p->path, names, UNSHARP_MAX_COMPANIONS);
        for (int k = 0; k < nc; k++) {
            if (is_sidecar_name(names[k])) a->cf_sidecars++;
            else if (unsharp_is_raw_name(names[k])) a->cf_raws++;
            else a->cf_other++;
            free(names[k]);
        }
    }
}

/* Moves photo i and its companions to the Trash; their entries go to it->ent (the photo's
 * first; nent 0 when the photo's cannot be found again). 0 when the photo moved (*lost counts
 * companions that did not), -1 with why otherwise. */
static int trash_set(app *a, int i, hist_item *it, int *moved, int *lost, char *why, size_t whysize)
{
    photo *p = &a->ph[i];
    marks_flush(a); /* no write may land on a sidecar after it moved */
    unsharp_file_state state = p->id_ok ? unsharp_file_check(p->path, &p->id) : UNSHARP_FILE_GONE;
    if (state != UNSHARP_FILE_SAME) {
        snprintf(why, whysize, "%s: %s", p->rel,
                 state == UNSHARP_FILE_GONE ? "gone since it was listed; left alone" : "changed since it was listed; left in place");
        return -1;
    }
    char *names[UNSHARP_MAX_COMPANIONS];
    const char *base;
    int nc = unsharp_companions(p->path, names, UNSHARP_MAX_COMPANIONS), n = 0, rc = 0;
    char *dir = unsharp_path_dir(p->path, &base);
    char *paths[UNSHARP_MAX_COMPANIONS + 1] = {0};
    unsharp_file_id ids[UNSHARP_MAX_COMPANIONS + 1];
    if (dir && (paths[0] = strdup(p->path))) {
        ids[0] = p->id;
        for (n = 1; n <= nc; n++) {
            if (!(paths[n] = malloc(strlen(dir) + strlen(names[n - 1]) + 2))) break;
            sprintf(paths[n], "%s/%s", dir, names[n - 1]);
            if (unsharp_file_id_read(paths[n], &ids[n]) != 0) break;
        }
    }
    it->ent = calloc((size_t)nc + 1, sizeof *it->ent);
    it->nent = 0;
    if (n != nc + 1 || !it->ent) {
        snprintf(why, whysize, "%s: %s", p->rel, n ? "a sidecar or RAW file could not be read; nothing of this photo was moved" : "out of memory");
        rc = -1;
    } else {
        char err[512];
        for (int k = 0; k < n; k++) {
            if (unsharp_trash_file(paths[k], &ids[k], err, sizeof err) != 0) {
                snprintf(why, whysize, "%s: %s", k ? names[k - 1] : p->rel, err);
                if (k == 0) { /* the photo stays: so do its companions */
                    rc = -1;
                    break;
                }
                (*lost)++;
                continue;
            }
            (*moved)++;
            /* the photo's entry first; without it the set is not tracked for undo */
            if ((k == 0 || it->nent > 0) && unsharp_trash_find(paths[k], &ids[k], &it->ent[it->nent]) == 0) it->nent++;
        }
    }
    for (int k = 0; k <= nc; k++) free(paths[k]);
    for (int k = 0; k < nc; k++) free(names[k]);
    free(dir);
    if (rc != 0 || it->nent == 0) {
        free(it->ent);
        it->ent = NULL;
        it->nent = 0;
    }
    return rc;
}

static void set_trashed(app *a, int i, int v)
{
    pthread_mutex_lock(&a->mu); /* the workers skip trashed photos */
    a->ph[i].trashed = v;
    pthread_mutex_unlock(&a->mu);
    a->dirty = 1;
}

int trash_marked(app *a, hist_step *st)
{
    *st = (hist_step){H_TRASH, NULL, 0};
    int photos = 0, files = 0, failed = 0, lost = 0, untracked = 0;
    char lasterr[600] = "";
    a->n_trash++;
    hist_item *items = calloc((size_t)(a->n ? a->n : 1), sizeof *items);
    if (!items) {
        app_set_message(a, "out of memory; nothing was moved");
        return 1;
    }
    int m = 0;
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->mark != MARK_DELETE || p->trashed) continue;
        hist_item *it = &items[m];
        *it = (hist_item){.photo = i, .old = MARK_DELETE, .now = MARK_DELETE};
        if (trash_set(a, i, it, &files, &lost, lasterr, sizeof lasterr) != 0) {
            failed++;
            continue;
        }
        set_trashed(a, i, 1);
        photos++;
        untracked += it->nent == 0;
        m++;
    }
    if (m) *st = (hist_step){H_TRASH, items, m};
    else free(items);
    int others = files - photos;
    if (failed || lost)
        app_set_message(a, "moved %d photo%s and %d other file%s to the Trash; %d not moved (%s)", photos,
                        photos == 1 ? "" : "s", others, others == 1 ? "" : "s", failed + lost, lasterr);
    else if (untracked)
        app_set_message(a, "moved %d photo%s to the Trash (%d cannot be undone here)", photos, photos == 1 ? "" : "s", untracked);
    else
        app_set_message(a, "moved %d photo%s and %d sidecar or RAW file%s to the Trash (Ctrl+Z undoes)", photos,
                        photos == 1 ? "" : "s", others, others == 1 ? "" : "s");
    return failed;
}

int trash_restore(app *a, hist_item *it)
{
    photo *p = &a->ph[it->photo];
    if (!it->nent) {
        if (p->trashed) app_set_message(a, "%s: not found in the Trash; restore it from there", p->rel);
        return p->trashed ? -1 : 0;
    }
    int failed = 0, photo_back = 0;
    char lasterr[600] = "";
    for (int k = it->nent - 1; k >= 0; k--) { /* companions first, the photo last */
        if (unsharp_trash_restore(&it->ent[k]) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", it->ent[k].orig,
                     errno == EEXIST ? "a file of that name is there now" : strerror(errno));
            failed++;
            continue;
        }
        photo_back = k == 0;
    }
    if (failed) app_set_message(a, "%d file%s not restored (%s)", failed, failed == 1 ? "" : "s", lasterr);
    if (!photo_back) return -1; /* the photo is still in the Trash (so is its entry) */
    for (int k = 0; k < it->nent; k++) unsharp_trash_entry_free(&it->ent[k]);
    free(it->ent);
    it->ent = NULL;
    it->nent = 0;
    set_trashed(a, it->photo, 0);
    return failed ? 1 : 0;
}

int trash_again(app *a, hist_item *it)
{
    if (a->ph[it->photo].trashed) return 0; /* never restored */
    int moved = 0, lost = 0;
    char why[600];
    if (trash_set(a, it->photo, it, &moved, &lost, why, sizeof why) != 0) {
        app_set_message(a, "not moved again: %s", why);
        return -1;
    }
    set_trashed(a, it->photo, 1);
    return 0;
}
