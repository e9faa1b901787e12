/* paths.c: where the engine's files are found: the shipped weights when the caller names none
 * (the order is documented on unsharp_default_weights() in unsharp.h and in docs/library.md),
 * and the folders that cuda/load.c looks in for the CUDA module. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "error.h"
#include "paths.h"
#include "unsharp/unsharp.h"

#ifndef UNSHARP_DATADIR
#define UNSHARP_DATADIR "/usr/local/share/unsharp"
#endif
/* the data folder seen from the library folder, e.g. "../share/unsharp", so that a prefix
 * installed somewhere else than configured (cmake --install --prefix) is still found */
#ifndef UNSHARP_LIB_TO_DATA
#define UNSHARP_LIB_TO_DATA "../share/unsharp"
#endif

int unsharp__readable(const char *p) { return p && *p && access(p, R_OK) == 0; }

/* Cuts path at its last slash, leaving its folder; 0 on success. */
static int to_dir(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash) return -1;
    *slash = 0;
    return 0;
}

/* Fills buf with the directory of the running program (no trailing slash); 0 on success. */
int unsharp__exe_dir(char *buf, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", buf, n - 1);
    if (k <= 0 || (size_t)k >= n - 1) return -1;
    buf[k] = 0;
    return to_dir(buf);
}

/* Fills buf with the directory of the file this code is in: the shared library, or the program
 * when the static library is linked in; 0 on success. */
int unsharp__lib_dir(char *buf, size_t n)
{
    Dl_info info;
    if (!dladdr((void *)unsharp_default_weights, &info) || !info.dli_fname || info.dli_fname[0] != '/') return -1;
    if (strlen(info.dli_fname) >= n) return -1;
    strcpy(buf, info.dli_fname);
    return to_dir(buf);
}

/* 1 when the running program lies under the build tree, where the source tree's weights and the
 * build tree's CUDA module are the right ones; an installed program never looks there. */
int unsharp__in_build_tree(const char *dir)
{
#ifdef UNSHARP_BUILD_DIR
    char build[PATH_MAX]; /* resolved, as /proc/self/exe is */
    if (!realpath(UNSHARP_BUILD_DIR, build)) return 0;
    size_t k = strlen(build);
    return strncmp(dir, build, k) == 0 && (dir[k] == '/' || dir[k] == 0);
#else
    (void)dir;
    return 0;
#endif
}

unsharp_status unsharp_default_weights(char *buf, size_t size)
{
    char *errbuf = unsharp__tls_errbuf();
    CALL_BEGIN(errbuf);
    if (!buf || size == 0) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "no buffer");
    buf[0] = 0;
    char dir[PATH_MAX], ldir[PATH_MAX];
    const char *env = getenv("UNSHARP_WEIGHTS");
    if (env && *env) {
        if (!unsharp__readable(env)) return unsharp__seterr(errbuf, UNSHARP_ERR_IO, __func__, "UNSHARP_WEIGHTS=%s: not a readable file", env);
        if (strlen(env) >= size) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "buffer too small");
        strcpy(buf, env);
        return UNSHARP_OK;
    }
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    enum { TRIES = 6 };
    const char *tries[TRIES] = {0};
    char xdg_path[PATH_MAX + 64] = "", lib1[PATH_MAX + 64] = "", exe1[PATH_MAX + 64] = "", exe2[PATH_MAX + 64] = "";
    if (xdg && *xdg == '/') snprintf(xdg_path, sizeof xdg_path, "%s/unsharp/" UNSHARP_WEIGHTS_FILE, xdg);
    else if (home && *home) snprintf(xdg_path, sizeof xdg_path, "%s/.local/share/unsharp/" UNSHARP_WEIGHTS_FILE, home);
    if (unsharp__lib_dir(ldir, sizeof ldir) == 0)
        snprintf(lib1, sizeof lib1, "%s/" UNSHARP_LIB_TO_DATA "/" UNSHARP_WEIGHTS_FILE, ldir);
    int have_exe = unsharp__exe_dir(dir, sizeof dir) == 0;
    if (have_exe) {
        snprintf(exe1, sizeof exe1, "%s/" UNSHARP_WEIGHTS_FILE, dir);
        snprintf(exe2, sizeof exe2, "%s/../share/unsharp/" UNSHARP_WEIGHTS_FILE, dir);
    }
    tries[0] = xdg_path;
    tries[1] = UNSHARP_DATADIR "/" UNSHARP_WEIGHTS_FILE;
    tries[2] = lib1;
    tries[3] = exe1;
    tries[4] = exe2;
#ifdef UNSHARP_SOURCE_WEIGHTS
    if (have_exe && unsharp__in_build_tree(dir)) tries[5] = UNSHARP_SOURCE_WEIGHTS;
#endif
    for (int i = 0; i < TRIES; i++) {
        if (!unsharp__readable(tries[i])) continue;
        if (strlen(tries[i]) >= size) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "buffer too small");
        strcpy(buf, tries[i]);
        return UNSHARP_OK;
    }
    return unsharp__seterr(errbuf, UNSHARP_ERR_IO, __func__,
                           "no shipped weights found (looked for " UNSHARP_WEIGHTS_FILE " in $UNSHARP_WEIGHTS, "
                           "$XDG_DATA_HOME/unsharp, " UNSHARP_DATADIR ", the library's folder/" UNSHARP_LIB_TO_DATA ", "
                           "and beside the program)");
}
