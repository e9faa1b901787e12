/* walk.c: the user's paths, opened and walked safely by every program. A file is opened
 * only when it is a regular file, and never blocks on a FIFO or a device. A folder walk lists
 * each folder's names, sorted, and reports the photos among them; it never follows a
 * symbolic link (a link that loops is reported, as it would be when named directly), skips a
 * folder it is already inside (same device and inode: a bind mount of an ancestor), and stops
 * when asked (a signal handler's flag). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unsharp/files.h"

int unsharp_open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat st;
    int bad = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : !S_ISREG(st.st_mode) ? EINVAL : 0;
    if (bad) {
        int e = bad;
        close(fd);
        errno = e;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

typedef struct frame {
    dev_t dev;
    ino_t ino;
    const struct frame *up;
} frame;

typedef struct walker {
    unsharp_walk_fn fn;
    void *ctx;
    const volatile sig_atomic_t *stop;
} walker;

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la && a[la - 1] != '/';
    char *s = malloc(la + (size_t)slash + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    if (slash) s[la] = '/';
    memcpy(s + la + slash, b, lb + 1);
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(const walker *w, const char *dir, const char *rel, const frame *up)
{
    if (w->stop && *w->stop) return 1;
    struct stat st;
    DIR *d = opendir(dir);
    if (!d || fstat(dirfd(d), &st) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot read folder: %s", strerror(errno));
        if (d) closedir(d);
        return w->fn(dir, rel, msg, w->ctx);
    }
    for (const frame *f = up; f; f = f->up)
        if (f->dev == st.st_dev && f->ino == st.st_ino) {
            closedir(d);
            return 0; /* a folder we are already inside */
        }
    frame here = {st.st_dev, st.st_ino, up};
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
    if (rc == 0 && n > 1) qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (w->stop && *w->stop) {
            rc = 1;
            break;
        }
        char *path = join(dir, names[i]);
        char *sub = *rel ? join(rel, names[i]) : strdup(names[i]);
        if (!path || !sub) {
            rc = -1;
        } else if (lstat(path, &st) != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "cannot stat: %s", strerror(errno));
            rc = w->fn(path, sub, msg, w->ctx);
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(w, path, sub, &here);
        } else if (S_ISLNK(st.st_mode)) {
            struct stat target;
            if (stat(path, &target) != 0 && errno == ELOOP)
                rc = w->fn(path, sub, "a symbolic link loop (Too many levels of symbolic links)", w->ctx);
        } else if (unsharp_photo_listed(names, n, i)) {
            rc = w->fn(path, sub, NULL, w->ctx);
        }
        free(path);
        free(sub);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int unsharp_walk(const char *dir, unsharp_walk_fn fn, void *ctx, const volatile sig_atomic_t *stop)
{
    walker w = {fn, ctx, stop};
    return walk_dir(&w, dir, "", NULL);
}
