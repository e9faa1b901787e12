/* simd.c: the one run-time choice between the AVX-512, AVX2 and plain kernels (simd.h). */
#include <stdlib.h>
#include <string.h>
#include "simd.h"
#ifdef UNSHARP_X86_AVX2
#include <cpuid.h>
#endif

/* -1: not chosen yet; else the level in force. Set once (any thread may be first: they all
 * find the same answer), or by a test. */
static int choice = -1;

#ifdef UNSHARP_X86_AVX2
/* The register state the OS saves on a context switch (XCR0), 0 when it does not say
 * (no OSXSAVE). */
static unsigned long long os_saved_state(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

int unsharp__simd_cpu_level(void)
{
#ifdef UNSHARP_X86_AVX2
    __builtin_cpu_init();
    const unsigned long long xcr0 = os_saved_state();
    const int ymm = (xcr0 & 0x6) == 0x6;     /* SSE and AVX state */
    const int zmm = ymm && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM0-15 upper halves, ZMM16-31 */
    if (!ymm || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return UNSHARP_SIMD_PLAIN;
    if (zmm && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        return UNSHARP_SIMD_AVX512;
    return UNSHARP_SIMD_AVX2;
#else
    return UNSHARP_SIMD_PLAIN;
#endif
}

/* The CPU's level, capped by UNSHARP_SIMD (plain, avx2; another value is no cap). */
static int decide(void)
{
    int level = unsharp__simd_cpu_level();
    const char *env = getenv("UNSHARP_SIMD");
    if (env && strcmp(env, "plain") == 0) level = UNSHARP_SIMD_PLAIN;
    if (env && strcmp(env, "avx2") == 0 && level > UNSHARP_SIMD_AVX2) level = UNSHARP_SIMD_AVX2;
    return level;
}

int unsharp__simd_level(void)
{
    int c = __atomic_load_n(&choice, __ATOMIC_RELAXED);
    if (c < 0) {
        c = decide();
        __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    }
    return c;
}

int unsharp__simd_force(int level)
{
    int c = decide();
    if (level >= 0 && level < c) c = level;
    __atomic_store_n(&choice, c, __ATOMIC_RELAXED);
    return c;
}
