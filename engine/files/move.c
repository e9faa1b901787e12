/* move.c: moves one file to a destination path, never overwriting and never losing it.
 * On one filesystem: the identity check, then rename with RENAME_NOREPLACE. Across
 * filesystems: a copy under a temporary name in the destination folder
 * (.unsharp-partial.NAME.XXXXXX), fsync'ed; the source checked again (still the file that was
 * judged, and the one that was copied); the copy renamed into place without replacing; the
 * source checked once more and only then unlinked (when it changed, the copy is unlinked
 * instead). A kill at any point leaves the source in place, and at most a temporary copy,
 * which the next move into that folder removes (it is never the only copy: the source is
 * unlinked only after the rename). A file already at the destination with the same content is
 * what such a kill leaves after the rename: the move is finished by removing the original. A
 * symbolic link is moved as the link itself. */
#define _GNU_SOURCE /* renameat2 */
#include <dirent.h>
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

int unsharp_is_partial_name(const char *name)
{
    return strncmp(name, UNSHARP_PARTIAL_PREFIX, strlen(UNSHARP_PARTIAL_PREFIX)) == 0;
}

static void sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

/* Copies the open regular file in to out; 0, or -1 with err set. */
static int copy_fd(int in, int out, const char *tmp, char *err, size_t errsize)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            snprintf(err, errsize, "cannot read: %s", strerror(errno));
            return -1;
        }
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
                return -1;
            }
            off += w;
        }
    }
    if (fsync(out) != 0) {
        snprintf(err, errsize, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

/* Copies src (a regular file or a symbolic link, whose identity is *id) to a new temporary
 * name in dir, returned in tmp (malloc'ed). 0, or -1 with err set and nothing left behind. */
static int copy_to_partial(const char *src, const unsharp_file_id *id, const char *dir, const char *base,
                           char **tmp, char *err, size_t errsize)
{
    *tmp = malloc(strlen(dir) + strlen(base) + strlen(UNSHARP_PARTIAL_PREFIX) + 9);
    if (!*tmp) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    sprintf(*tmp, "%s/" UNSHARP_PARTIAL_PREFIX "%s.XXXXXX", dir, base);
    struct stat st;
    if (lstat(src, &st) != 0) {
        snprintf(err, errsize, "cannot read: %s", strerror(errno));
        goto fail;
    }
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0) {
            snprintf(err, errsize, "cannot read the link: %s", strerror(errno));
            goto fail;
        }
        target[n] = 0;
        /* mkstemp's name, then the link in its place (symlink never replaces) */
        int fd = mkstemp(*tmp);
        if (fd < 0 || (close(fd), unlink(*tmp)) != 0 || symlink(target, *tmp) != 0) {
            snprintf(err, errsize, "cannot create %s: %s", *tmp, strerror(errno));
            goto fail;
        }
        return 0;
    }
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), out = -1;
    struct stat fst;
    if (in < 0 || fstat(in, &fst) != 0) {
        snprintf(err, errsize, "cannot read: %s", strerror(errno));
        if (in >= 0) close(in);
        goto fail;
    }
    if (!S_ISREG(fst.st_mode) || fst.st_dev != id->dev || fst.st_ino != id->ino) {
        snprintf(err, errsize, "the file changed since it was judged; left in place");
        close(in);
        goto fail;
    }
    if ((out = mkostemp(*tmp, O_CLOEXEC)) < 0) {
        snprintf(err, errsize, "cannot create %s: %s", *tmp, strerror(errno));
        close(in);
        goto fail;
    }
    int rc = fchmod(out, fst.st_mode & 07777) != 0 ? (snprintf(err, errsize, "cannot write %s: %s", *tmp, strerror(errno)), -1)
                                                   : copy_fd(in, out, *tmp, err, errsize);
    if (close(out) != 0 && rc == 0) {
        snprintf(err, errsize, "cannot write %s: %s", *tmp, strerror(errno));
        rc = -1;
    }
    close(in);
    if (rc == 0) return 0;
    unlink(*tmp);
fail:
    free(*tmp);
    *tmp = NULL;
    return -1;
}

/* Removes what an interrupted move left in dir: temporary copies whose source was never
 * unlinked. Returns how many. */
int unsharp_clean_partials(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!unsharp_is_partial_name(e->d_name)) continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0) n++;
    }
    closedir(d);
    return n;
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

/* The identity check before a destructive step; 0, or -1 with err set. */
static int still_judged(const char *path, const unsharp_file_id *judged, char *err, size_t errsize)
{
    unsharp_file_state s = unsharp_file_check(path, judged);
    if (s == UNSHARP_FILE_SAME) return 0;
    if (s == UNSHARP_FILE_GONE) snprintf(err, errsize, "gone since it was judged (%s)", strerror(errno));
    else snprintf(err, errsize, "the file changed since it was judged; left in place");
    return -1;
}

int unsharp_same_content(const char *a, const char *b)
{
    struct stat sa, sb;
    if (lstat(a, &sa) != 0 || lstat(b, &sb) != 0) return 0;
    if (S_ISLNK(sa.st_mode) && S_ISLNK(sb.st_mode)) {
        char ta[4096], tb[4096];
        ssize_t na = readlink(a, ta, sizeof ta), nb = readlink(b, tb, sizeof tb);
        return na >= 0 && na == nb && memcmp(ta, tb, (size_t)na) == 0;
    }
    if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size) return 0;
    int fa = open(a, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), fb = open(b, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int same = fa >= 0 && fb >= 0;
    char ba[1 << 15], bb[1 << 15];
    while (same) {
        ssize_t na = read(fa, ba, sizeof ba), nb = read(fb, bb, sizeof bb);
        if (na < 0 || na != nb || memcmp(ba, bb, (size_t)na) != 0) same = 0;
        if (na <= 0) break;
    }
    if (fa >= 0) close(fa);
    if (fb >= 0) close(fb);
    return same;
}

/* dest already holds what path holds: a move that was interrupted after its copy was in
 * place. The original is removed (after the identity check); nothing is lost. */
static int finish_interrupted(const char *path, const char *dest, const unsharp_file_id *id, char *err, size_t errsize)
{
    if (still_judged(path, id, err, errsize)) return -1;
    if (unlink(path) != 0) {
        snprintf(err, errsize, "already at %s but cannot remove the original: %s", dest, strerror(errno));
        return -1;
    }
    return 0;
}

int unsharp_move_file(const char *path, const char *dest, const unsharp_file_id *judged, char *err, size_t errsize)
{
    unsharp_file_id id;
    if (judged) id = *judged;
    else if (unsharp_file_id_read(path, &id) != 0) {
        snprintf(err, errsize, "cannot read: %s", strerror(errno));
        return -1;
    }
    if (unsharp_make_parents(dest, err, errsize)) return -1;
    if (still_judged(path, &id, err, errsize)) return -1;
    if (unsharp_rename_noreplace(path, dest) == 0) return 0;
    int e = errno;
    if (e == EEXIST && unsharp_same_content(path, dest)) return finish_interrupted(path, dest, &id, err, errsize);
    if (e == EEXIST) {
        snprintf(err, errsize, "%s already exists; not overwritten, left in place", dest);
        return -1;
    }
    if (e != EXDEV && e != EPERM && e != EINVAL && e != ENOSYS) {
        snprintf(err, errsize, "cannot move to %s: %s", dest, strerror(e));
        return -1;
    }
    /* across filesystems */
    const char *base;
    char *dir = unsharp_path_dir(dest, &base), *tmp = NULL;
    if (!dir) {
        snprintf(err, errsize, "out of memory");
        return -1;
    }
    int rc = -1;
    if (copy_to_partial(path, &id, dir, base, &tmp, err, errsize)) goto done;
    if (still_judged(path, &id, err, errsize)) goto drop_copy;
    if (unsharp_rename_noreplace(tmp, dest) != 0) {
        if (errno == EEXIST && unsharp_same_content(tmp, dest)) {
            unlink(tmp);
            free(tmp);
            tmp = NULL;
            rc = finish_interrupted(path, dest, &id, err, errsize);
            goto done;
        }
        if (errno == EEXIST) snprintf(err, errsize, "%s already exists; not overwritten, left in place", dest);
        else snprintf(err, errsize, "cannot move to %s: %s", dest, strerror(errno));
        goto drop_copy;
    }
    free(tmp);
    tmp = NULL;
    sync_dir(dir);
    if (still_judged(path, &id, err, errsize)) {
        unlink(dest); /* our copy, of a file that has changed since: the source stays */
        goto done;
    }
    if (unlink(path) != 0) {
        snprintf(err, errsize, "copied to %s but cannot remove the original: %s", dest, strerror(errno));
        goto done;
    }
    rc = 0;
    goto done;
drop_copy:
    unlink(tmp);
done:
    free(tmp);
    free(dir);
    return rc;
}
