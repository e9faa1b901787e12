/* read.c: a photo file read into memory (open + fstat: only regular files, at most
 * UNSHARP_IMAGE_MAX_FILE bytes; O_NONBLOCK so that a FIFO is refused, not waited on).
 *
 * A RAW is judged from its embedded preview, and its sensor data (most of the file: 6.6 of a
 * CR2's 7.3 MB) is not needed for that. So a file of 4 MiB or more whose first 256 KiB show a
 * TIFF-based RAW (CR2, NEF, ARW, PEF, DNG with one strip) is read with a hole: the middle of
 * its largest strip, all but 64 KiB at each end (where LibRaw reads a lossless JPEG header
 * while opening), stays unread, as zero pages of an anonymous mapping that cost nothing until
 * touched. raw.c fills it (unsharp__img_fill_hole) before it decodes the sensor data, and so
 * does image.c before a TIFF that LibRaw does not take goes to libtiff. What LibRaw sees while
 * it opens a file is then exactly what raw.c checked (the zeros of the hole name nothing). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image_internal.h"

#define HOLE_MIN_FILE ((size_t)4 << 20) /* smaller files are read whole */
#define HEAD ((size_t)256 << 10)        /* where the IFDs are looked for */
#define MARGIN ((size_t)64 << 10)       /* read at each end of the strip */

static void errno_text(int e, char *buf, size_t cap)
{
    if (strerror_r(e, buf, cap) != 0) snprintf(buf, cap, "error %d", e);
}

/* Reads up to len bytes at off into buf; the count read (short when the file ends first), or
 * -1 with errno set. */
static ssize_t read_at(int fd, unsigned char *buf, size_t len, size_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* The hole to leave in a file of size bytes whose first head bytes are d: 1 with *off, *len */
static int find_hole(const unsigned char *d, size_t head, size_t size, size_t *off, size_t *len)
{
    const char *what;
    uint64_t so, sl;
    if (size < HOLE_MIN_FILE) return 0;
    img_kind k = unsharp__img_sniff(d, head, &what);
    if ((k != IMG_KIND_RAW && k != IMG_KIND_TIFF_RAW) || !unsharp__tiff_bulk(d, head, &so, &sl)) return 0;
    if (so > size || sl > size - so || sl < 2 * MARGIN + ((size_t)1 << 20)) return 0;
    size_t start = (size_t)so + MARGIN, end = (size_t)(so + sl) - MARGIN;
    if (start < head) start = head;
    if (end <= start) return 0;
    *off = start;
    *len = end - start;
    return 1;
}

unsharp_status unsharp__img_read_file(const img_ctx *ctx, const char *path, img_file *f)
{
    unsharp_status st = UNSHARP_OK;
    unsigned char *head = NULL;
    char why[128];
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        errno_text(errno, why, sizeof why);
        IMG_FAIL(UNSHARP_ERR_IO, "cannot open: %s", why);
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        errno_text(errno, why, sizeof why);
        IMG_FAIL(UNSHARP_ERR_IO, "cannot stat: %s", why);
    }
    if (S_ISDIR(sb.st_mode)) IMG_FAIL(UNSHARP_ERR_IO, "is a directory, not an image file");
    if (!S_ISREG(sb.st_mode)) IMG_FAIL(UNSHARP_ERR_IO, "not a regular file (a device, FIFO or socket)");
    if ((uint64_t)sb.st_size > UNSHARP_IMAGE_MAX_FILE)
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "file is %lld bytes, over the %llu MiB limit",
                 (long long)sb.st_size, (unsigned long long)(UNSHARP_IMAGE_MAX_FILE >> 20));
    size_t size = (size_t)sb.st_size, hole_off = 0, hole_len = 0, first = size;
    ssize_t r;
    if (size >= HOLE_MIN_FILE) { /* the head first, to see whether a hole can be left */
        if (!(head = malloc(HEAD))) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu bytes", HEAD);
        if ((r = read_at(fd, head, HEAD, 0)) < 0) goto read_failed;
        first = (size_t)r;
        if (first == HEAD && !find_hole(head, HEAD, size, &hole_off, &hole_len)) hole_len = 0;
    }
    if (hole_len) {
        void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu bytes", size);
        f->data = m;
        f->mapped = size;
    } else if (!(f->data = malloc(size ? size : 1))) {
        IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu bytes", size);
    }
    f->size = size;
    size_t got = 0;
    if (head) {
        memcpy(f->data, head, first);
        got = first;
    }
    if (!head || first == HEAD) { /* up to the hole (or the end), then after it */
        size_t upto = hole_len ? hole_off : size;
        if ((r = read_at(fd, f->data + got, upto - got, got)) < 0) goto read_failed;
        got += (size_t)r;
        if (got == upto && hole_len) {
            size_t after = hole_off + hole_len;
            if ((r = read_at(fd, f->data + after, size - after, after)) < 0) goto read_failed;
            f->hole_off = hole_off;
            f->hole_len = hole_len;
            f->fd = fd;
            fd = -1;
            got = after + (size_t)r;
            if (got < size) { /* the file shrank: what there is, in one piece */
                img_ctx c = *ctx;
                c.file = f;
                CHECK(unsharp__img_fill_hole(&c));
            }
        }
    }
    f->size = got; /* the file shrank while being read: decode what is there */
    goto bailout;
read_failed:
    errno_text(errno, why, sizeof why);
    IMG_FAIL(UNSHARP_ERR_IO, "read failed: %s", why);
bailout:
    if (fd >= 0) close(fd);
    free(head);
    if (st != UNSHARP_OK) unsharp__img_file_free(f);
    return st;
}

unsharp_status unsharp__img_fill_hole(const img_ctx *ctx)
{
    unsharp_status st = UNSHARP_OK;
    img_file *f = ctx->file;
    if (!f || !f->hole_len) return UNSHARP_OK;
    ssize_t r = read_at(f->fd, f->data + f->hole_off, f->hole_len, f->hole_off);
    if (r < 0 || (size_t)r != f->hole_len) {
        char why[128] = "it changed while being read";
        if (r < 0) errno_text(errno, why, sizeof why);
        IMG_FAIL(UNSHARP_ERR_IO, "cannot read the RAW data: %s", why);
    }
bailout:
    f->hole_len = 0;
    close(f->fd);
    f->fd = -1;
    return st;
}

void unsharp__img_file_free(img_file *f)
{
    if (f->mapped) munmap(f->data, f->mapped);
    else free(f->data);
    if (f->fd >= 0) close(f->fd);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}
