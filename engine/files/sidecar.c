/* sidecar.c: a sidecar file read and replaced safely (sidecar.h). Only a regular file is
 * read (through a link only when asked); the replacement goes through a temporary file beside it, fsync'ed, then renamed over
 * the old one right after checking that the old one has not changed meanwhile (a new sidecar
 * is renamed without replacing), so a crash leaves either the old or the new sidecar. */
#include "sidecar.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unsharp/files.h"

int sidecar_read(const char *path, int follow, char **buf, size_t *len, struct stat *st, char *err, size_t errsize)
{
    *buf = NULL;
    *len = 0;
    if ((follow ? stat(path, st) : lstat(path, st)) != 0) {
        if (errno == ENOENT) return 1;
        snprintf(err, errsize, "cannot read sidecar %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st->st_mode)) {
        snprintf(err, errsize, "sidecar %s is a symbolic link; not written through, left unchanged", path);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        snprintf(err, errsize, "sidecar %s is not a regular file (a FIFO, device or socket); left unchanged", path);
        return -1;
    }
    /* O_NONBLOCK and O_NOFOLLOW: a file swapped for a FIFO or a link meanwhile is not waited on */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW) | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size > (64 << 20)) {
        const char *why = fd < 0 ? strerror(errno) : !S_ISREG(st->st_mode) ? "not a regular file" : "over 64 MiB";
        snprintf(err, errsize, "cannot read sidecar %s: %s; left unchanged", path, why);
        if (fd >= 0) close(fd);
        return -1;
    }
    *buf = malloc((size_t)st->st_size + 1);
    size_t got = 0;
    while (*buf && got < (size_t)st->st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (!*buf || got != (size_t)st->st_size) {
        snprintf(err, errsize, "cannot read sidecar %s: %s", path, *buf ? "it changed while being read" : "out of memory");
        free(*buf);
        *buf = NULL;
        return -1;
    }
    (*buf)[got] = 0;
    *len = got;
    return 0;
}

int sidecar_replace(const char *path, const char *text, size_t n, const struct stat *was, char *err,
                    size_t errsize)
{
    int fd = -1, rc = -1;
    char *dir = NULL;
    char *tmp = malloc(strlen(path) + 16);
    if (!tmp) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    sprintf(tmp, "%s.tmp-XXXXXX", path);
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(err, errsize, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    mode_t mode;
    if (was) {
        mode = was->st_mode & 07777;
    } else {
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;
        done += (size_t)w;
    }
    if (done != n || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        goto bailout;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        goto bailout;
    }
    fd = -1;
    /* right before the replace: the sidecar is still the one read (or still absent) */
    if (was) {
        unsharp_file_id id = {was->st_dev, was->st_ino, was->st_size, was->st_mtim.tv_sec, was->st_mtim.tv_nsec};
        if (unsharp_file_check(path, &id) != UNSHARP_FILE_SAME) {
            snprintf(err, errsize, "sidecar %s changed while it was being updated; left as it is now", path);
            goto bailout;
        }
    }
    if (!was ? unsharp_rename_noreplace(tmp, path) != 0 : rename(tmp, path) != 0) {
        if (errno == EEXIST) snprintf(err, errsize, "sidecar %s appeared while it was being written; left as it is", path);
        else snprintf(err, errsize, "cannot replace %s: %s", path, strerror(errno));
        goto bailout;
    }
    free(tmp);
    tmp = NULL;
    /* make the rename itself durable */
    if ((dir = strdup(path))) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    rc = 0;
bailout:
    if (fd >= 0) close(fd);
    if (tmp) unlink(tmp);
    free(tmp);
    free(dir);
    return rc;
}
