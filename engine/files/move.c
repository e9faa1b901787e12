/* move.c: moves one file to a destination path, never overwriting: rename with
 * RENAME_NOREPLACE on one filesystem; across filesystems a copy into a file created with
 * O_EXCL, fsync'ed, then the source unlinked. A failed copy removes its partial output and
 * keeps the source. */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unsharp/files.h"

int unsharp_make_parents(const char *path, char *err, size_t errsize)
{
    char *p = strdup(path);
    if (!p) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errsize, "cannot create folder %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    free(p);
    return 0;
}

static int copy_excl(const char *src, const char *dest, char *err, size_t errsize)
{
    int in = -1, out = -1, rc = -1;
    struct stat st;
    char buf[1 << 16];
    if ((in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fstat(in, &st) != 0) {
        snprintf(err, errsize, "cannot read: %s", strerror(errno));
        goto bailout;
    }
    if ((out = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777)) < 0) {
        snprintf(err, errsize, "cannot create %s: %s", dest, strerror(errno));
        goto bailout;
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errsize, "cannot read: %s", strerror(errno));
            goto bailout;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                snprintf(err, errsize, "cannot write %s: %s", dest, strerror(errno));
                goto bailout;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        snprintf(err, errsize, "cannot write %s: %s", dest, strerror(errno));
        goto bailout;
    }
    rc = 0;
bailout:
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, errsize, "cannot write %s: %s", dest, strerror(errno));
        rc = -1;
    }
    if (rc != 0 && out >= 0) unlink(dest);
    if (in >= 0) close(in);
    return rc;
}

int unsharp_rename_noreplace(const char *src, const char *dst)
{
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    /* a filesystem without RENAME_NOREPLACE: link() never overwrites either */
    if (link(src, dst) != 0) return -1;
    if (unlink(src) == 0) return 0;
    int e = errno;
    unlink(dst);
    errno = e;
    return -1;
}

int unsharp_move_file(const char *path, const char *dest, char *err, size_t errsize)
{
    if (unsharp_make_parents(dest, err, errsize)) return -1;
    if (unsharp_rename_noreplace(path, dest) == 0) return 0;
    int e = errno;
    if (e == EEXIST) {
        snprintf(err, errsize, "%s already exists; not overwritten, left in place", dest);
        return -1;
    }
    if (e != EXDEV && e != EPERM && e != EINVAL && e != ENOSYS) {
        snprintf(err, errsize, "cannot move to %s: %s", dest, strerror(e));
        return -1;
    }
    if (copy_excl(path, dest, err, errsize)) return -1;
    if (unlink(path) != 0) {
        snprintf(err, errsize, "copied to %s but cannot remove the original: %s", dest, strerror(errno));
        return -1;
    }
    return 0;
}
