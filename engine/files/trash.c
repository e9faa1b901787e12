/* trash.c: the desktop Trash. A file goes there through GIO's g_file_trash, which follows the
 * freedesktop.org Trash specification: the home trash ($XDG_DATA_HOME/Trash) for files on its
 * filesystem, $topdir/.Trash/$uid or $topdir/.Trash-$uid on other mounts, the .trashinfo
 * written before the file is moved. When no trash can be used the file is left where it is
 * and the reason is reported; nothing is ever erased. GIO is opened on the first call
 * (lazylib.c); when it cannot be, the file is left in place with the reason.
 * For undo, the entry a move made is found again (the .trashinfo whose Path is the file and
 * whose file has its device and inode), and a restore renames it back, never over a file. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lazylib.h"
#include "unsharp/files.h"

int unsharp_trash_file(const char *path, char *err, size_t errsize)
{
    char why[512];
    const lazy_gio *gio = lazy_gio_get(why, sizeof why);
    if (!gio) {
        snprintf(err, errsize, "cannot move to trash: %s; left in place", why);
        return -1;
    }
    GFile *f = gio->g_file_new_for_path(path);
    GError *e = NULL;
    int rc = 0;
    if (!gio->g_file_trash(f, NULL, &e)) {
        if (e && e->domain == gio->g_io_error_quark() && e->code == G_IO_ERROR_NOT_SUPPORTED)
            snprintf(err, errsize, "no usable trash for it (%s); left in place", e->message);
        else
            snprintf(err, errsize, "cannot move to trash (%s); left in place", e ? e->message : "unknown error");
        rc = -1;
    }
    if (e) gio->g_error_free(e);
    gio->g_object_unref(f);
    return rc;
}

void unsharp_trash_entry_free(unsharp_trash_entry *e)
{
    free(e->orig);
    free(e->trashed);
    free(e->info);
    e->orig = e->trashed = e->info = NULL;
}

/* Looks in TRASH/info for the entry of orig (Path relative to topdir when topdir is not
 * NULL) whose file is (dev, ino). Fills e and returns 0 when found. */
static int find_in(const lazy_gio *gio, const char *trash, const char *topdir, const char *orig,
                   const unsharp_file_id *id, unsharp_trash_entry *e)
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
        if (!gio->g_file_get_contents(info, &text, NULL, NULL)) continue;
        char *line = strstr(text, "\nPath=");
        if (line) {
            line += 6;
            line[strcspn(line, "\r\n")] = 0;
            char *path = gio->g_uri_unescape_string(line, NULL);
            if (path) {
                char full[PATH_MAX];
                if (path[0] == '/' || !topdir) snprintf(full, sizeof full, "%s", path);
                else snprintf(full, sizeof full, "%s/%s", strcmp(topdir, "/") ? topdir : "", path);
                if (strcmp(full, orig) == 0) {
                    e->orig = strdup(orig);
                    e->trashed = strdup(files);
                    e->info = strdup(info);
                    found = e->orig && e->trashed && e->info ? 0 : -1;
                    if (found) unsharp_trash_entry_free(e);
                }
                gio->g_free(path);
            }
        }
        gio->g_free(text);
    }
    closedir(d);
    return found;
}

int unsharp_trash_find(const char *orig, const unsharp_file_id *id, unsharp_trash_entry *e)
{
    const lazy_gio *gio = lazy_gio_get(NULL, 0);
    if (!gio) return -1;
    char home[PATH_MAX];
    const char *xdg = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
    if (xdg && *xdg) snprintf(home, sizeof home, "%s/Trash", xdg);
    else snprintf(home, sizeof home, "%s/.local/share/Trash", h ? h : "");
    if (find_in(gio, home, NULL, orig, id, e) == 0) return 0;
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
            find_in(gio, t, dir, orig, id, e) == 0)
            return 0;
        if (snprintf(t, sizeof t, "%s/.Trash/%u", top, (unsigned)getuid()) < (int)sizeof t &&
            find_in(gio, t, dir, orig, id, e) == 0)
            return 0;
        if (!dir[1]) break;
    }
    return -1;
}

int unsharp_trash_restore(const unsharp_trash_entry *e)
{
    if (unsharp_rename_noreplace(e->trashed, e->orig) != 0) return -1;
    unlink(e->info);
    return 0;
}
