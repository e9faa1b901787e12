/* paths.c: where the shipped weights are found when the caller names none. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "error.h"
#include "unsharp/unsharp.h"

#ifndef UNSHARP_DATADIR
#define UNSHARP_DATADIR "/usr/local/share/unsharp"
#endif

static int readable(const char *p) { return access(p, R_OK) == 0; }

/* Fills buf with the directory of the running program (no trailing slash); 0 on success. */
static int exe_dir(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k <= 0 || (size_t)k >= n - 1) return -1;
    buf[k] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash) return -1;
    *slash = 0;
    return 0;
}

unsharp_status unsharp_default_weights(char *buf, size_t size)
{
    char *errbuf = unsharp__tls_errbuf();
    if (!buf || size == 0) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "no buffer");
    buf[0] = 0;
    char dir[PATH_MAX];
    const char *env = getenv("UNSHARP_WEIGHTS");
    if (env && *env) {
        if (!readable(env)) return unsharp__seterr(errbuf, UNSHARP_ERR_IO, __func__, "UNSHARP_WEIGHTS=%s: not a readable file", env);
        if (strlen(env) >= size) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "buffer too small");
        strcpy(buf, env);
        return UNSHARP_OK;
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    const char *tries[5] = {0};
    char xdg_path[PATH_MAX + 64] = "", exe1[PATH_MAX + 64] = "", exe2[PATH_MAX + 64] = "";
    if (xdg && *xdg == '/') snprintf(xdg_path, sizeof xdg_path, "%s/unsharp/" UNSHARP_WEIGHTS_FILE, xdg);
    else if (home && *home) snprintf(xdg_path, sizeof xdg_path, "%s/.local/share/unsharp/" UNSHARP_WEIGHTS_FILE, home);
    if (exe_dir(dir, sizeof dir) == 0) {
        snprintf(exe1, sizeof exe1, "%s/" UNSHARP_WEIGHTS_FILE, dir);
        snprintf(exe2, sizeof exe2, "%s/../share/unsharp/" UNSHARP_WEIGHTS_FILE, dir);
    }
    tries[0] = xdg_path;
    tries[1] = UNSHARP_DATADIR "/" UNSHARP_WEIGHTS_FILE;
    tries[2] = exe1;
    tries[3] = exe2;
#ifdef UNSHARP_SOURCE_WEIGHTS
    tries[4] = UNSHARP_SOURCE_WEIGHTS; /* the source tree, for programs run from a build tree */
#endif
    for (int i = 0; i < 5; i++) {
        if (!tries[i] || !*tries[i] || !readable(tries[i])) continue;
        if (strlen(tries[i]) >= size) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "buffer too small");
        strcpy(buf, tries[i]);
        return UNSHARP_OK;
    }
    return unsharp__seterr(errbuf, UNSHARP_ERR_IO, __func__,
                           "no shipped weights found (looked for " UNSHARP_WEIGHTS_FILE " in $UNSHARP_WEIGHTS, "
                           "$XDG_DATA_HOME/unsharp, " UNSHARP_DATADIR ", and beside the program)");
}
