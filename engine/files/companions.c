/* companions.c: the files that belong with a photo and go wherever it goes (the Trash, a
 * move): its XMP sidecars, NAME.EXT.xmp (darktable, digiKam) and NAME.xmp (Lightroom,
 * digiKam's compatible names), its RAW files, NAME.CR2, NAME.NEF, ..., and their own
 * sidecars, NAME.CR2.xmp, found in its folder, any case; regular files and symbolic links (a
 * link goes along as the link itself). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "unsharp/files.h"

char *unsharp_path_dir(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* 1 when tail is RAW.xmp: one RAW extension, then .xmp (any case) */
static int raw_sidecar(const char *tail)
{
    const char *dot = strchr(tail, '.');
    char name[16];
    if (!dot || dot == tail || (size_t)(dot - tail) + 3 > sizeof name || strcasecmp(dot, ".xmp") != 0) return 0;
    snprintf(name, sizeof name, "x.%.*s", (int)(dot - tail), tail);
    return unsharp_is_raw_name(name);
}

int unsharp_companions(const char *path, char **names, int max)
{
    const char *base;
    char *dir = unsharp_path_dir(path, &base);
    if (!dir) return 0;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    size_t blen = strlen(base);
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        const char *name = e->d_name;
        if (strcmp(name, base) == 0) continue;
        int hit = 0;
        if (strlen(name) == blen + 4 && strncmp(name, base, blen) == 0 && strcasecmp(name + blen, ".xmp") == 0)
            hit = 1;
        else if (strncmp(name, base, stem) == 0 && name[stem] == '.' && !strchr(name + stem + 1, '.') &&
                 (strcasecmp(name + stem + 1, "xmp") == 0 || unsharp_is_raw_name(name)))
            hit = 1;
        else if (strncmp(name, base, stem) == 0 && name[stem] == '.' && raw_sidecar(name + stem + 1))
            hit = 1; /* NAME.RAW.xmp, the sidecar of a RAW companion */
        if (hit) {
            struct stat st;
            char *full = malloc(strlen(dir) + strlen(name) + 2);
            if (!full) break;
            sprintf(full, "%s/%s", dir, name);
            if (lstat(full, &st) == 0 && (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && (names[n] = strdup(name)))
                n++;
            free(full);
        }
    }
    if (d) closedir(d);
    free(dir);
    return n;
}

char *unsharp_sidecar_for(const char *path)
{
    char *names[UNSHARP_MAX_COMPANIONS];
    int n = unsharp_companions(path, names, UNSHARP_MAX_COMPANIONS);
    const char *base;
    char *dir = unsharp_path_dir(path, &base);
    size_t blen = strlen(base);
    int pick = -1;
    for (int k = 0; k < n; k++)
        if (strlen(names[k]) == blen + 4 && strncmp(names[k], base, blen) == 0) pick = k;
    /* else NAME.xmp (not a RAW companion's NAME.RAW.xmp) */
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : blen;
    for (int k = 0; k < n && pick < 0; k++)
        if (strlen(names[k]) == stem + 4 && strncmp(names[k], base, stem) == 0 && strcasecmp(names[k] + stem, ".xmp") == 0)
            pick = k;
    char *out = NULL;
    if (dir) {
        const char *name = pick >= 0 ? names[pick] : NULL;
        out = malloc(strlen(dir) + blen + 8);
        if (out) {
            if (name) sprintf(out, "%s/%s", dir, name);
            else sprintf(out, "%s.xmp", path);
        }
    }
    for (int k = 0; k < n; k++) free(names[k]);
    free(dir);
    return out;
}
