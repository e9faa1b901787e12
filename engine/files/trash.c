/* trash.c: the desktop Trash, by the freedesktop.org Trash specification: the home trash
 * ($XDG_DATA_HOME/Trash) for files on its filesystem; on other mounts $topdir/.Trash/$uid when
 * $topdir/.Trash is a sticky folder (not a link), else $topdir/.Trash-$uid. The .trashinfo is
 * created first (O_EXCL, which reserves the name), then the file is renamed into files/ without
 * replacing anything there (a file in files/ without a .trashinfo is never overwritten: the
 * next name is tried), right after a last check that it is still the file that was judged.
 * GIO's g_file_trash is not used for the move itself: it renames with a plain rename(), which
 * replaces. When no trash can be used the file is left where it is and the reason is
 * reported; nothing is ever erased.
 * For undo, the entry a move made is found again (the .trashinfo whose Path is the file and
 * whose file has its device and inode; GIO, opened on first use, reads and unescapes it), and
 * a restore renames it back, never over a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "lazylib.h"
#include "unsharp/files.h"

/* mkdir that accepts an existing folder; 0 or -1 */
static int make_dir(const char *path, mode_t mode)
{
    return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* A trash folder we may use: a real folder (not a link) owned by us. */
static int usable_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid();
}

/* Finds (and makes) the trash for a file on device dev whose absolute folder is dir: its
 * path in trash (PATH_MAX) and, for a $topdir trash, the topdir in top (else top = ""). */
static int pick_trash(dev_t dev, const char *dir, char *trash, char *top, char *err, size_t errsize)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char data[PATH_MAX - 32]; /* room for /Trash/files/... in the PATH_MAX buffers */
    if (xdg && *xdg) snprintf(data, sizeof data, "%s", xdg);
    else snprintf(data, sizeof data, "%s/.local/share", home ? home : "");
    struct stat st;
    char made[PATH_MAX + 4];
    snprintf(made, sizeof made, "%s/x", data);
    unsharp_make_parents(made, err, errsize); /* $XDG_DATA_HOME itself, when missing */
    top[0] = 0;
    if (stat(data, &st) == 0 && st.st_dev == dev) {
        snprintf(trash, PATH_MAX, "%s/Trash", data);
        errno = 0;
        if (make_dir(trash, 0700) != 0 || !usable_dir(trash)) {
            snprintf(err, errsize, "cannot use the trash %s: %s; left in place", trash, errno ? strerror(errno) : "not a folder of ours");
            return -1;
        }
        return 0;
    }
    /* $topdir: the highest folder above the file on its device */
    snprintf(top, PATH_MAX, "%s", dir);
    for (;;) {
        char up[PATH_MAX];
        char *slash = strrchr(top, '/');
        if (!slash || slash == top) {
            if (stat("/", &st) == 0 && st.st_dev == dev) snprintf(top, PATH_MAX, "/");
            break;
        }
        snprintf(up, sizeof up, "%.*s", (int)(slash - top), top);
        if (stat(up, &st) != 0 || st.st_dev != dev) break;
        snprintf(top, PATH_MAX, "%s", up);
    }
    const char *t = strcmp(top, "/") ? top : "";
    unsigned uid = (unsigned)getuid();
    char shared[PATH_MAX - 32];
    snprintf(shared, sizeof shared, "%s/.Trash", t);
    if (lstat(shared, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)) {
        snprintf(trash, PATH_MAX, "%s/%u", shared, uid);
        if (make_dir(trash, 0700) == 0 && usable_dir(trash)) return 0;
    }
    snprintf(trash, PATH_MAX, "%s/.Trash-%u", t, uid);
    errno = 0;
    if (make_dir(trash, 0700) == 0 && usable_dir(trash)) return 0;
    snprintf(err, errsize, "no usable trash on its filesystem (%s: %s); left in place", trash,
             errno ? strerror(errno) : "not a folder of ours");
    return -1;
}

/* s percent-encoded as a URI path (RFC 3986 unreserved characters and '/' kept) */
static void uri_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < cap; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~/", (int)c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
}

/* Writes and syncs the .trashinfo at info (created with O_EXCL). 0, or -1 with errno. */
static int write_info(const char *info, const char *path_field)
{
    int fd = open(info, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    char date[32], text[3 * PATH_MAX + 96], esc[3 * PATH_MAX + 1];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    uri_escape(path_field, esc, sizeof esc);
    int n = snprintf(text, sizeof text, "[Trash Info]\nPath=%s\nDeletionDate=%s\n", esc, date);
    ssize_t w = n > 0 && (size_t)n < sizeof text ? write(fd, text, (size_t)n) : -1;
    if (w != n || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(info);
        errno = e ? e : EIO;
        return -1;
    }
    return close(fd);
}

int unsharp_trash_file(const char *path, const unsharp_file_id *judged, char *err, size_t errsize)
{
    unsharp_file_id id;
    if (judged) id = *judged;
    else if (unsharp_file_id_read(path, &id) != 0) {
        snprintf(err, errsize, "cannot move to trash: %s; left in place", strerror(errno));
        return -1;
    }
    const char *base;
    char *dir = unsharp_path_dir(path, &base);
    char absdir[PATH_MAX], trash[PATH_MAX], top[PATH_MAX], abspath[2 * PATH_MAX];
    if (!dir || !realpath(dir, absdir)) {
        snprintf(err, errsize, "cannot move to trash: %s; left in place", dir ? strerror(errno) : "out of memory");
        free(dir);
        return -1;
    }
    free(dir);
    if (pick_trash(id.dev, absdir, trash, top, err, errsize)) return -1;
    char files[PATH_MAX + 8], infos[PATH_MAX + 8];
    snprintf(files, sizeof files, "%s/files", trash);
    snprintf(infos, sizeof infos, "%s/info", trash);
    if (make_dir(files, 0700) || make_dir(infos, 0700)) {
        snprintf(err, errsize, "cannot use the trash %s: %s; left in place", trash, strerror(errno));
        return -1;
    }
    snprintf(abspath, sizeof abspath, "%s/%s", strcmp(absdir, "/") ? absdir : "", base);
    /* the Path field: absolute in the home trash, relative to $topdir in a $topdir trash */
    const char *field = abspath;
    size_t tl = strlen(top);
    if (*top && strcmp(top, "/") != 0 && strncmp(abspath, top, tl) == 0 && abspath[tl] == '/') field = abspath + tl + 1;
    else if (*top) field = abspath + 1;
    for (int k = 1; k < 10000; k++) {
        char name[NAME_MAX + 16], info[2 * PATH_MAX], dest[2 * PATH_MAX];
        if (k == 1) snprintf(name, sizeof name, "%s", base);
        else snprintf(name, sizeof name, "%s.%d", base, k);
        snprintf(info, sizeof info, "%s/%s.trashinfo", infos, name);
        snprintf(dest, sizeof dest, "%s/%s", files, name);
        if (write_info(info, field) != 0) {
            if (errno == EEXIST) continue;
            snprintf(err, errsize, "cannot write %s: %s; left in place", info, strerror(errno));
            return -1;
        }
        /* the last check, right before the move */
        unsharp_file_state s = unsharp_file_check(path, &id);
        if (s != UNSHARP_FILE_SAME) {
            int e = errno;
            unlink(info);
            if (s == UNSHARP_FILE_GONE) snprintf(err, errsize, "gone since it was judged (%s)", strerror(e));
            else snprintf(err, errsize, "the file changed since it was judged; left in place");
            return -1;
        }
        if (unsharp_rename_noreplace(path, dest) == 0) {
            int dfd = open(files, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            return 0;
        }
        int e = errno;
        unlink(info);
        if (e == EEXIST) continue; /* a file in files/ without its .trashinfo: never replaced */
        snprintf(err, errsize, "cannot move to trash (%s); left in place", strerror(e));
        return -1;
    }
    snprintf(err, errsize, "cannot move to trash: no free name for it in %s; left in place", files);
    return -1;
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
