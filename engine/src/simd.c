/* simd.c: the one run-time choice between the AVX2 and the plain kernels (simd.h). */
#include <stdlib.h>
#include <string.h>
#include "simd.h"

/* -1: not chosen yet; 0: plain; 1: AVX2. Set once (any thread may be first: they all find
 * the same answer), or by a test. */
static int choice = -1;

static int decide(void)
{
#ifdef UNSHARP_X86_AVX2
    const char *env = getenv("UNSHARP_SIMD");
    if (env && strcmp(env, "plain") == 0) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int unsharp__simd_avx2(void)
{
    int c = __atomic_load_n(&choice, __ATOMIC_RELAXED);
    if (c < 0) {
        c = decide();
        __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    }
    return c;
}

void unsharp__simd_force_plain(int on)
{
    __atomic_store_n(&choice, on ? 0 : decide(), __ATOMIC_RELAXED);
}
