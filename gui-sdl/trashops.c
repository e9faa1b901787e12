/* trashops.c: the Trash, only ever after the confirmation dialog. Each photo marked delete is
 * checked to be the file that was listed (device, inode, size, modification time) and moved
 * to the Trash with unsharp-classify's trash_file (GIO, per the freedesktop.org Trash
 * specification). The entry each move made is found again (the .trashinfo whose Path is the
 * photo and whose file has the photo's inode), so the last batch can be undone: each file is
 * renamed back to where it was, never over an existing file, and its .trashinfo removed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "review.h"

void undo_clear(app *a)
{
    for (int k = 0; k < a->nundo; k++) {
        free(a->undo[k].orig);
        free(a->undo[k].trashed);
        free(a->undo[k].info);
    }
    free(a->undo);
    a->undo = NULL;
    a->nundo = 0;
}

/* Looks in TRASH/info for the entry of orig (Path relative to topdir when topdir is not
 * NULL) whose file is (dev, ino). Fills e and returns 0 when found. */
static int find_in(const char *trash, const char *topdir, const char *orig, const file_id *id, undo_entry *e)
{
    char infodir[PATH_MAX];
    snprintf(infodir, sizeof infodir, "%s/info", trash);
    DIR *d = opendir(infodir);
    if (!d) return -1;
    struct dirent *de;
    int found = -1;
    while (found && (de = readdir(d))) {
        size_t ln = strlen(de->d_name);
        if (ln <= 10 || strcmp(de->d_name + ln - 10, ".trashinfo") != 0) continue;
        char info[PATH_MAX], files[PATH_MAX];
        if (snprintf(info, sizeof info, "%s/%s", infodir, de->d_name) >= (int)sizeof info ||
            snprintf(files, sizeof files, "%s/files/%.*s", trash, (int)(ln - 10), de->d_name) >= (int)sizeof files)
            continue;
        struct stat st;
        if (lstat(files, &st) != 0 || st.st_ino != id->ino || st.st_dev != id->dev) continue;
        gchar *text = NULL;
        if (!g_file_get_contents(info, &text, NULL, NULL)) continue;
        char *line = strstr(text, "\nPath=");
        if (line) {
            line += 6;
            line[strcspn(line, "\r\n")] = 0;
            char *path = g_uri_unescape_string(line, NULL);
            if (path) {
                char full[PATH_MAX];
                if (path[0] == '/' || !topdir) snprintf(full, sizeof full, "%s", path);
                else snprintf(full, sizeof full, "%s/%s", strcmp(topdir, "/") ? topdir : "", path);
                if (strcmp(full, orig) == 0) {
                    e->orig = strdup(orig);
                    e->trashed = strdup(files);
                    e->info = strdup(info);
                    found = e->orig && e->trashed && e->info ? 0 : -1;
                }
                g_free(path);
            }
        }
        g_free(text);
    }
    closedir(d);
    return found;
}

static int find_entry(const char *orig, const file_id *id, undo_entry *e)
{
    char home[PATH_MAX];
    const char *xdg = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
    if (xdg && *xdg) snprintf(home, sizeof home, "%s/Trash", xdg);
    else snprintf(home, sizeof home, "%s/.local/share/Trash", h ? h : "");
    if (find_in(home, NULL, orig, id, e) == 0) return 0;
    /* the Trash of another mount: TOPDIR/.Trash-UID or TOPDIR/.Trash/UID, Path relative */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", orig);
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash) break;
        if (slash == dir) slash[1] = 0;
        else *slash = 0;
        char t[PATH_MAX];
        const char *top = dir[1] ? dir : "";
        if (snprintf(t, sizeof t, "%s/.Trash-%u", top, (unsigned)getuid()) < (int)sizeof t &&
            find_in(t, dir, orig, id, e) == 0)
            return 0;
        if (snprintf(t, sizeof t, "%s/.Trash/%u", top, (unsigned)getuid()) < (int)sizeof t &&
            find_in(t, dir, orig, id, e) == 0)
            return 0;
        if (!dir[1]) break;
    }
    return -1;
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
        file_id now;
        char err[512];
        if (!p->id_ok || file_id_read(p->path, &now) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: gone since it was listed; left alone", p->name);
            failed++;
            continue;
        }
        if (now.dev != p->id.dev || now.ino != p->id.ino || now.size != p->id.size ||
            now.mtime_sec != p->id.mtime_sec || now.mtime_nsec != p->id.mtime_nsec) {
            snprintf(lasterr, sizeof lasterr, "%s: changed since it was listed; left in place", p->name);
            failed++;
            continue;
        }
        if (trash_file(p->path, err, sizeof err) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", p->name, err);
            failed++;
            continue;
        }
        pthread_mutex_lock(&a->mu); /* the workers skip trashed photos */
        p->trashed = 1;
        pthread_mutex_unlock(&a->mu);
        moved++;
        undo_entry e = {0};
        undo_entry *grown = realloc(a->undo, (size_t)(a->nundo + 1) * sizeof *grown);
        if (grown) a->undo = grown;
        if (grown && find_entry(p->path, &p->id, &e) == 0) a->undo[a->nundo++] = e;
        else {
            free(e.orig);
            free(e.trashed);
            free(e.info);
            untracked++;
        }
    }
    if (failed)
        app_set_message(a, "moved %d to the Trash; %d not moved (%s)", moved, failed, lasterr);
    else if (untracked)
        app_set_message(a, "moved %d to the Trash (%d cannot be undone here)", moved, untracked);
    else
        app_set_message(a, "moved %d to the Trash (Ctrl+Z undoes)", moved);
    return failed;
}

/* Moves src to dst, never replacing dst. */
static int move_back(const char *src, const char *dst)
{
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    /* a filesystem without RENAME_NOREPLACE: link never replaces either */
    if (link(src, dst) != 0) return -1;
    return unlink(src);
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
        undo_entry *e = &a->undo[k];
        if (move_back(e->trashed, e->orig) != 0) {
            snprintf(lasterr, sizeof lasterr, "%s: %s", e->orig, errno == EEXIST ? "a file of that name is there now" : strerror(errno));
            failed++;
            continue;
        }
        unlink(e->info);
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
