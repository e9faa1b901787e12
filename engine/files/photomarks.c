/* photomarks.c: a photo's marks across its sidecars. A decision about a RAW+JPEG pair goes to
 * the RAW's sidecar, which darktable and digiKam read for the RAW (made when missing), and to
 * the JPEG's own when it has one; a photo a person marked keep in any of its sidecars (its
 * RAW's included) is one to leave alone. Which files are sidecars is companions.c's; what a
 * mark is, xmp.c's. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "unsharp/files.h"

/* adds path to paths[*n] unless already there (frees it then); 0, or -1 when full or NULL */
static int add(char **paths, int *n, int max, char *path)
{
    if (!path) return -1;
    for (int k = 0; k < *n; k++)
        if (strcmp(paths[k], path) == 0) {
            free(path);
            return 0;
        }
    if (*n >= max) {
        free(path);
        return 0;
    }
    paths[(*n)++] = path;
    return 0;
}

static int is_xmp_name(const char *name)
{
    size_t l = strlen(name);
    return l > 4 && strcasecmp(name + l - 4, ".xmp") == 0;
}

int unsharp_mark_sidecars(const char *path, char **paths, int max)
{
    char *names[UNSHARP_MAX_COMPANIONS];
    int nc = unsharp_companions(path, names, UNSHARP_MAX_COMPANIONS), n = 0, raws = 0, bad = 0;
    const char *base;
    char *dir = unsharp_path_dir(path, &base);
    for (int k = 0; k < nc && dir; k++) {
        if (is_xmp_name(names[k]) || !unsharp_is_raw_name(names[k])) continue;
        char *raw = malloc(strlen(dir) + strlen(names[k]) + 2);
        if (!raw) {
            bad = 1;
            break;
        }
        strcat(strcat(strcpy(raw, dir), "/"), names[k]);
        bad |= add(paths, &n, max, unsharp_sidecar_for(raw));
        free(raw);
        raws++;
    }
    char *own = dir ? unsharp_sidecar_for(path) : NULL;
    struct stat st;
    if (!own) bad = 1;
    else if (!raws || lstat(own, &st) == 0) bad |= add(paths, &n, max, own);
    else free(own);
    for (int k = 0; k < nc; k++) free(names[k]);
    free(dir);
    if (bad || !dir) {
        for (int k = 0; k < n; k++) free(paths[k]);
        return -1;
    }
    return n;
}

int unsharp_photo_kept(const char *path, char **which)
{
    char *names[UNSHARP_MAX_COMPANIONS];
    int nc = unsharp_companions(path, names, UNSHARP_MAX_COMPANIONS), kept = 0;
    const char *base;
    char *dir = unsharp_path_dir(path, &base);
    *which = NULL;
    for (int k = 0; k < nc && dir && !kept; k++) {
        if (!is_xmp_name(names[k])) continue;
        char *sc = malloc(strlen(dir) + strlen(names[k]) + 2), err[512];
        unsharp_xmp_state st;
        if (!sc) break;
        strcat(strcat(strcpy(sc, dir), "/"), names[k]);
        if (unsharp_xmp_read(sc, &st, err, sizeof err) == 0 && st.mark == UNSHARP_MARK_KEEP && st.by == UNSHARP_BY_PERSON) {
            kept = 1;
            *which = sc;
        } else {
            free(sc);
        }
    }
    for (int k = 0; k < nc; k++) free(names[k]);
    free(dir);
    return kept;
}
