/* list.c: the photos of one folder, as every program lists them: the names unsharp_photo_listed
 * keeps (names.c), in strcmp order. Not recursive; what each name is (a file, a link, a
 * folder) is the caller's to check. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "unsharp/files.h"

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void unsharp_names_free(char **names, size_t count)
{
    for (size_t i = 0; names && i < count; i++) free(names[i]);
    free(names);
}

int unsharp_list_photos(const char *dir, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!unsharp_is_photo_name(e->d_name)) continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **grown = realloc(v, nc * sizeof *grown);
            if (!grown) { rc = -1; break; }
            v = grown;
            cap = nc;
        }
        if (!(v[n] = strdup(e->d_name))) { rc = -1; break; }
        n++;
    }
    closedir(d);
    if (rc) {
        unsharp_names_free(v, n);
        errno = ENOMEM;
        return -1;
    }
    if (n) qsort(v, n, sizeof *v, by_name);
    /* a RAW beside its JPEG is that photo's companion: decided on the whole list, then dropped */
    unsigned char *keep = malloc(n ? n : 1);
    if (!keep) {
        unsharp_names_free(v, n);
        errno = ENOMEM;
        return -1;
    }
    for (size_t i = 0; i < n; i++) keep[i] = (unsigned char)unsharp_photo_listed(v, n, i);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) v[k++] = v[i];
        else free(v[i]);
    }
    free(keep);
    *names = v;
    *count = k;
    return 0;
}
