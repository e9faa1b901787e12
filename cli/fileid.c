/* fileid.c: what identifies a file (device, inode, size, modification time), read with lstat
 * so that an action can check the file is still the one that was judged. */
#include <errno.h>
#include <sys/stat.h>
#include "classify.h"

int file_id_read(const char *path, file_id *id)
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
