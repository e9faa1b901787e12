/* load.c: the engine's side of the CUDA backend. The backend itself (backend_cuda.cu,
 * kernels.cu) is a separate module, libunsharp-cuda.so, linked against the CUDA runtime, cuBLAS
 * and cuDNN; it is opened with dlopen the first time a model asks for CUDA. A program that runs
 * on the CPU therefore never maps those libraries (several hundred MB of address space and a
 * tenth of a second of start-up), and a machine without them runs the engine all the same.
 *
 * Order of checks, each with its own message: the build has a CUDA backend; the module file is
 * found ($UNSHARP_CUDA_MODULE, the library's folder/unsharp, the same seen from the program's
 * folder, the configured libdir/unsharp, or the build tree for programs run from it); an NVIDIA driver is present (libcuda.so.1 opens);
 * the module opens and has its entry; then the module itself looks for a device. The module is
 * loaded once per process and never unloaded. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "backend.h"
#include "error.h"
#include "paths.h"

#ifdef UNSHARP_CUDA_MODULE_NAME

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsharp_cuda_module_create_fn entry;  /* set when the module loaded */
static unsharp_status load_status;           /* otherwise why not */
static char load_msg[UNSHARP_ERRMSG_MAX];

/* Finds the module; 0 with its path in buf, or -1 with the places looked in described in buf. */
static int find_module(char *buf, size_t n)
{
    char dir[PATH_MAX], lib[PATH_MAX + 64] = "", build[PATH_MAX] = "";
    const char *env = getenv("UNSHARP_CUDA_MODULE");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        if (unsharp__readable(env)) return 0;
        snprintf(buf, n, "UNSHARP_CUDA_MODULE=%s is not a readable file", env);
        return -1;
    }
    char exe[PATH_MAX + 64] = "";
    if (unsharp__lib_dir(dir, sizeof dir) == 0) snprintf(lib, sizeof lib, "%s/unsharp/" UNSHARP_CUDA_MODULE_NAME, dir);
    if (unsharp__exe_dir(dir, sizeof dir) == 0) {
        /* a program linked with the static library, in a prefix installed elsewhere than configured */
        snprintf(exe, sizeof exe, "%s/" UNSHARP_BIN_TO_LIB "/unsharp/" UNSHARP_CUDA_MODULE_NAME, dir);
#ifdef UNSHARP_CUDA_MODULE_BUILD
        if (unsharp__in_build_tree(dir)) snprintf(build, sizeof build, "%s", UNSHARP_CUDA_MODULE_BUILD);
#endif
    }
    const char *tries[] = {lib, exe, UNSHARP_CUDA_MODULE_DIR "/" UNSHARP_CUDA_MODULE_NAME, build};
    for (size_t i = 0; i < sizeof tries / sizeof *tries; i++) {
        if (!unsharp__readable(tries[i])) continue;
        snprintf(buf, n, "%s", tries[i]);
        return 0;
    }
    snprintf(buf, n, "the CUDA module " UNSHARP_CUDA_MODULE_NAME " is not installed (looked in $UNSHARP_CUDA_MODULE, "
             "the library's folder/unsharp, the program's folder/" UNSHARP_BIN_TO_LIB "/unsharp and "
             UNSHARP_CUDA_MODULE_DIR ")");
    return -1;
}

static void load_once(void)
{
    char path[PATH_MAX + 128];
    if (find_module(path, sizeof path) != 0) {
        load_status = unsharp__seterr(load_msg, UNSHARP_ERR_UNSUPPORTED, "unsharp__cuda_backend_create", "%s", path);
        return;
    }
    /* the driver first: without it the module's CUDA libraries would load for nothing */
    void *drv = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!drv) {
        load_status = unsharp__seterr(load_msg, UNSHARP_ERR_UNSUPPORTED, "unsharp__cuda_backend_create",
                                      "no CUDA device: no NVIDIA driver (%s)", dlerror());
        return;
    }
    void *mod = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!mod) {
        const char *why = dlerror();
        dlclose(drv);
        load_status = unsharp__seterr(load_msg, UNSHARP_ERR_UNSUPPORTED, "unsharp__cuda_backend_create",
                                      "cannot load the CUDA module: %s", why ? why : path);
        return;
    }
    void *sym = dlsym(mod, UNSHARP_CUDA_MODULE_ENTRY);
    if (!sym) {
        dlclose(mod);
        dlclose(drv);
        load_status = unsharp__seterr(load_msg, UNSHARP_ERR_UNSUPPORTED, "unsharp__cuda_backend_create",
                                      "%s is not an unsharp CUDA module (no " UNSHARP_CUDA_MODULE_ENTRY ")", path);
        return;
    }
    /* the module and the driver stay loaded for the life of the process */
    entry = (unsharp_cuda_module_create_fn)sym;
    load_status = UNSHARP_OK;
}

unsharp_status unsharp__cuda_backend_create(char *errbuf, unsharp_backend **out)
{
    if (!out) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "out is NULL");
    *out = NULL;
    pthread_once(&once, load_once);
    if (load_status != UNSHARP_OK) {
        if (errbuf) snprintf(errbuf, UNSHARP_ERRMSG_MAX, "%s", load_msg);
        return load_status;
    }
    return entry(UNSHARP_BACKEND_VERSION, errbuf, out);
}

#else /* a build without the CUDA backend */

unsharp_status unsharp__cuda_backend_create(char *errbuf, unsharp_backend **out)
{
    if (out) *out = NULL;
    return unsharp__seterr(errbuf, UNSHARP_ERR_UNSUPPORTED, __func__,
                           "no CUDA device: this build has no CUDA backend (configure with nvcc and -DUNSHARP_CUDA=ON)");
}

#endif
