/* trash.c: moves one file to the desktop Trash through GIO's g_file_trash, which follows the
 * freedesktop.org Trash specification: the home trash ($XDG_DATA_HOME/Trash) for files on its
 * filesystem, $topdir/.Trash/$uid or $topdir/.Trash-$uid on other mounts, the .trashinfo
 * written before the file is moved. When no trash can be used the file is left where it is
 * and the reason is reported; nothing is ever erased. GIO is opened on the first call
 * (lazylib.c); when it cannot be, the file is left in place with the reason. */
#include <stdio.h>
#include "classify.h"
#include "lazylib.h"

int trash_file(const char *path, char *err, size_t errsize)
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
