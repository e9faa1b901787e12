/* trashops.c: the Trash, only ever after the confirmation dialog. Each photo marked delete is
 * checked to be the file that was listed (unsharp_file_check) and moved to the Trash with
 * unsharp_trash_file (libunsharp-files, per the freedesktop.org Trash specification).
 * The entry each move made is found again (unsharp_trash_find), so the last batch can be
 * undone: each file is renamed back to where it was, never over an existing file, and its
 * .trashinfo removed (unsharp_trash_restore). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "review.h"

void undo_clear(app *a)
{
    for (int k = 0; k < a->nundo; k++) unsharp_trash_entry_free(&a->undo[k]);
    free(a->undo);
    a->undo = NULL;
    a->nundo = 0;
}

int trash_marked(app *a)
{
    int moved = 0, failed = 0, untracked = 0;
    char lasterr[600] = "";
    undo_clear(a);
    a->n_trash++;
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->mark != MARK_DELETE || p->trashed) continue;
        char err[512];
        unsharp_file_state state = p->id_ok ? unsharp_file_check(p->path, &p->id) : UNSHARP_FILE_GONE;
        if (state == UNSHARP_FILE_GONE) {
            snprintf(lasterr, sizeof lasterr, "%s: gone since it was listed; left alone", p->name);
            failed++;
            continue;
        }
        if (state == UNSHARP_FILE_CHANGED) {
            snprintf(lasterr, sizeof lasterr, "%s: changed since it was listed; left in place", p->name);
            failed++;
            continue;
        }
        if (unsharp_trash_file(p->path, &p->id, err, sizeof err) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", p->name, err);
            failed++;
            continue;
        }
        pthread_mutex_lock(&a->mu); /* the workers skip trashed photos */
        p->trashed = 1;
        pthread_mutex_unlock(&a->mu);
        moved++;
        unsharp_trash_entry e = {0};
        unsharp_trash_entry *grown = realloc(a->undo, (size_t)(a->nundo + 1) * sizeof *grown);
        if (grown) a->undo = grown;
        if (grown && unsharp_trash_find(p->path, &p->id, &e) == 0) a->undo[a->nundo++] = e;
        else untracked++;
    }
    if (failed)
        app_set_message(a, "moved %d to the Trash; %d not moved (%s)", moved, failed, lasterr);
    else if (untracked)
        app_set_message(a, "moved %d to the Trash (%d cannot be undone here)", moved, untracked);
    else
        app_set_message(a, "moved %d to the Trash (Ctrl+Z undoes)", moved);
    return failed;
}

int trash_undo(app *a)
{
    if (!a->nundo) {
        app_set_message(a, "nothing to undo");
        return 0;
    }
    int back = 0, failed = 0;
    a->n_undo++;
    char lasterr[600] = "";
    for (int k = 0; k < a->nundo; k++) {
        unsharp_trash_entry *e = &a->undo[k];
        if (unsharp_trash_restore(e) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", e->orig, errno == EEXIST ? "a file of that name is there now" : strerror(errno));
            failed++;
            continue;
        }
        back++;
        for (int i = 0; i < a->n; i++)
            if (a->ph[i].trashed && strcmp(a->ph[i].path, e->orig) == 0) {
                pthread_mutex_lock(&a->mu);
                a->ph[i].trashed = 0;
                pthread_mutex_unlock(&a->mu);
            }
    }
    undo_clear(a);
    if (failed) app_set_message(a, "restored %d; %d not restored (%s)", back, failed, lasterr);
    else app_set_message(a, "restored %d from the Trash", back);
    return failed;
}
