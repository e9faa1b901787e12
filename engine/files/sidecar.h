/* sidecar.h (private to libunsharp-files): a sidecar's bytes read safely and replaced
 * atomically. XMP itself (Exempi, the marks) is xmp.c's; this is only the file. */
#ifndef UNSHARP_FILES_SIDECAR_H
#define UNSHARP_FILES_SIDECAR_H
#include <stddef.h>
#include <sys/stat.h>

/* Reads a whole sidecar into *buf (malloc'ed, NUL-terminated). 0; 1 when it does not exist
 * (*buf NULL); -1 with why in err. A FIFO, a device or a file over 64 MiB is refused without
 * waiting on it; so is a symbolic link unless follow (a link is read through, never written
 * through). *st is the file's identity as read. */
int sidecar_read(const char *path, int follow, char **buf, size_t *len, struct stat *st, char *err, size_t errsize);

/* Replaces the sidecar read as *was (NULL: it did not exist) with text: a temporary file
 * beside it, written, fsync'ed, then renamed over it right after checking that it is still
 * the one read (a new sidecar is renamed without replacing), and the folder fsync'ed. A new
 * sidecar gets 0666 less the umask, an old one keeps its mode. 0, or -1 with why in err. */
int sidecar_replace(const char *path, const char *text, size_t n, const struct stat *was, char *err,
                    size_t errsize);

#endif
