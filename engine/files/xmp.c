/* xmp.c: marks a photo rejected in its XMP sidecar with Exempi: xmp:Rating = -1 (darktable,
 * Lightroom) and digiKam:PickLabel = 1 (digiKam's "rejected"). Everything else already in the
 * sidecar is kept. Only a file that is XMP is merged into: one that is not RDF (other XML,
 * text), a symbolic link, a FIFO or a device is left as it is, with why. The new sidecar is
 * written to a temporary file beside it, fsync'ed, then renamed over the old one right after
 * checking that the old one has not changed meanwhile (a new sidecar is renamed without
 * replacing), so a crash leaves either the old or the new sidecar. Exempi is
 * opened on the first sidecar (lazylib.c); when it cannot be, each sidecar fails with why. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lazylib.h"
#include "unsharp/files.h"

#define NS_XMP_BASIC "http://ns.adobe.com/xap/1.0/"
#define NS_DIGIKAM "http://www.digikam.org/ns/1.0/"
#define RDF_NAMESPACE "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

static const lazy_exempi *exempi; /* set once Exempi is loaded and started */

static int xmp_init_once(char *err, size_t errsize)
{
    if (exempi) return 0;
    char why[512];
    const lazy_exempi *x = lazy_exempi_get(why, sizeof why);
    if (!x) {
        snprintf(err, errsize, "cannot start the XMP library: %s", why);
        return -1;
    }
    if (!x->xmp_init()) {
        snprintf(err, errsize, "cannot start the XMP library");
        return -1;
    }
    x->xmp_register_namespace(NS_DIGIKAM, "digiKam", NULL);
    exempi = x;
    return 0;
}

void unsharp_xmp_done(void)
{
    if (exempi) exempi->xmp_terminate();
    exempi = NULL;
}

/* Reads a whole sidecar; *buf is malloc'ed. Returns 0, 1 when it does not exist, -1 on error
 * with why in err. A link, a FIFO or a device is refused without being opened for long:
 * O_NONBLOCK and O_NOFOLLOW, then a regular-file check. */
static int read_all(const char *path, char **buf, size_t *len, struct stat *st, char *err, size_t errsize)
{
    *buf = NULL;
    if (lstat(path, st) != 0) {
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
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
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

/* 1 when text holds nothing but white space */
static int blank(const char *text, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (!strchr(" \t\r\n", text[k])) return 0;
    return 1;
}

int unsharp_xmp_mark_rejected(const char *sidecar, char *err, size_t errsize)
{
    char *old = NULL, *tmp = NULL, *dir = NULL;
    size_t len = 0;
    struct stat st;
    XmpPtr x = NULL;
    XmpStringPtr out = NULL;
    int fd = -1, rc = -1;

    if (xmp_init_once(err, errsize)) return -1;
    int r = read_all(sidecar, &old, &len, &st, err, errsize);
    if (r < 0) goto bailout;
    if (r == 0 && blank(old, len)) r = 2; /* an empty sidecar: nothing in it to keep */
    /* XMP is RDF: a file that does not declare RDF's namespace is some other XML (or text),
     * which Exempi would read as an empty packet and the rewrite would lose */
    if (r == 0 && !strstr(old, RDF_NAMESPACE)) {
        snprintf(err, errsize, "sidecar %s is not XMP (no RDF in it); left unchanged", sidecar);
        goto bailout;
    }
    x = r == 0 ? exempi->xmp_new(old, len) : exempi->xmp_new_empty();
    if (!x) {
        snprintf(err, errsize, "sidecar %s is not valid XMP (error %d); left unchanged", sidecar, exempi->xmp_get_error());
        goto bailout;
    }
    if (!exempi->xmp_set_property(x, NS_XMP_BASIC, "Rating", "-1", 0) ||
        !exempi->xmp_set_property(x, NS_DIGIKAM, "PickLabel", "1", 0) || !(out = exempi->xmp_string_new()) ||
        !exempi->xmp_serialize(x, out, XMP_SERIAL_OMITPACKETWRAPPER, 0)) {
        snprintf(err, errsize, "cannot update sidecar %s (XMP error %d)", sidecar, exempi->xmp_get_error());
        goto bailout;
    }
    const char *text = exempi->xmp_string_cstr(out);
    size_t n = strlen(text);
    tmp = malloc(strlen(sidecar) + 16);
    if (!tmp) {
        snprintf(err, errsize, "out of memory");
        goto bailout;
    }
    sprintf(tmp, "%s.tmp-XXXXXX", sidecar);
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(err, errsize, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto bailout;
    }
    mode_t mode;
    if (r != 1) {
        mode = st.st_mode & 07777;
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
    unsharp_file_id was = {st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    if (r != 1 && unsharp_file_check(sidecar, &was) != UNSHARP_FILE_SAME) {
        snprintf(err, errsize, "sidecar %s changed while it was being updated; left as it is now", sidecar);
        goto bailout;
    }
    if (r == 1 ? unsharp_rename_noreplace(tmp, sidecar) != 0 : rename(tmp, sidecar) != 0) {
        if (errno == EEXIST) snprintf(err, errsize, "sidecar %s appeared while it was being written; left as it is", sidecar);
        else snprintf(err, errsize, "cannot replace %s: %s", sidecar, strerror(errno));
        goto bailout;
    }
    free(tmp);
    tmp = NULL;
    /* make the rename itself durable */
    if ((dir = strdup(sidecar))) {
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
    free(old);
    if (out) exempi->xmp_string_free(out);
    if (x) exempi->xmp_free(x);
    return rc;
}
