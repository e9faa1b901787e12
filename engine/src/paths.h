/* paths.h: the folders the engine looks in for its own files (paths.c). */
#ifndef UNSHARP_PATHS_H
#define UNSHARP_PATHS_H

#include <stddef.h>

/* The folder of the running program, no trailing slash; 0 on success. */
int unsharp__exe_dir(char *buf, size_t n);
/* The folder of the file the engine's code is in: the shared library, or the program when the
 * static library is linked in; 0 on success. */
int unsharp__lib_dir(char *buf, size_t n);
/* 1 when p names a file this process may read (NULL and "" are not). */
int unsharp__readable(const char *p);
/* 1 when dir lies under the build tree this engine was built in. */
int unsharp__in_build_tree(const char *dir);

#endif
