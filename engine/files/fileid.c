/* fileid.c: what identifies a file (device, inode, size, modification time), read with lstat
 * so that an action can check, right before it acts, that the file is still the one that
 * was judged. */
#include <errno.h>
#include <sys/stat.h>
#include "unsharp/files.h"

int unsharp_file_id_read(const char *path, unsharp_file_id *id)
{
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime_sec = st.st_mtim.tv_sec;
    id->mtime_nsec = st.st_mtim.tv_nsec;
    return 0;
}

int unsharp_file_id_same(const unsharp_file_id *a, const unsharp_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec;
}

unsharp_file_state unsharp_file_check(const char *path, const unsharp_file_id *judged)
{
    unsharp_file_id now;
    if (unsharp_file_id_read(path, &now) != 0) return UNSHARP_FILE_GONE;
    return unsharp_file_id_same(&now, judged) ? UNSHARP_FILE_SAME : UNSHARP_FILE_CHANGED;
}
