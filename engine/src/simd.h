/* simd.h: which vector code this CPU runs, decided in one place for the whole engine (the
 * network core and the photo layer; it knows nothing of either).
 *
 * On x86-64 with GCC or Clang the kernels that gain from it are built two or three times:
 * plain, AVX2 and, for some, AVX-512. Which runs is chosen at run time, once per process
 * (simd.c), as a level:
 *   - UNSHARP_SIMD_AVX512 when the CPU has AVX-512 F, BW and VL and FMA, and the operating
 *     system saves the AVX-512 registers (XCR0: the opmask and both halves of the zmm state);
 *   - UNSHARP_SIMD_AVX2 when it has AVX2 and FMA (and the OS saves the ymm state);
 *   - UNSHARP_SIMD_PLAIN otherwise: what ARM and older x86 CPUs run.
 * The environment variable UNSHARP_SIMD=plain or UNSHARP_SIMD=avx2 caps the level (it never
 * raises it above what the CPU has); a test calls unsharp__simd_force(level) to run each path
 * on one machine (tests/CMakeLists.txt runs the kernels' suites at every level). Elsewhere only
 * the plain code is built. A kernel with no AVX-512 version runs its AVX2 one at that level.
 *
 * Ways to have a vector version:
 *   - SIMD_TWICE / SIMD_TWICE_VOID: one body, compiled for AVX2 (without FMA: the same
 *     operations in the same order, so the same bits as the plain build) and plain;
 *   - SIMD_THRICE_VOID: likewise, and a third time for AVX-512 (with FMA contraction turned off
 *     under GCC, so again the same bits; Clang may fuse a multiply and an add there);
 *   - a hand-written function (target("avx2,fma"), or SIMD_AVX512_TARGET), called when
 *     USE_AVX2() or USE_AVX512() says so. */
#ifndef UNSHARP_SIMD_H
#define UNSHARP_SIMD_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UNSHARP_X86_AVX2 1
#define UNSHARP_X86_AVX512 1
#include <immintrin.h>
#endif

enum { UNSHARP_SIMD_PLAIN = 0, UNSHARP_SIMD_AVX2 = 1, UNSHARP_SIMD_AVX512 = 2 };

/* The level the kernels run at (UNSHARP_SIMD_*). */
int unsharp__simd_level(void);
/* The best level this CPU and its OS allow, whatever UNSHARP_SIMD or a test says. */
int unsharp__simd_cpu_level(void);
/* For tests: runs the kernels at level, capped at what the CPU has and UNSHARP_SIMD allows, or,
 * with -1, at the level those two choose. Returns the level now in force. Not meant to
 * change while a kernel runs. */
int unsharp__simd_force(int level);
/* 1 when the AVX2 versions may run (the level is AVX2 or AVX-512). */
static inline int unsharp__simd_avx2(void) { return unsharp__simd_level() >= UNSHARP_SIMD_AVX2; }

#ifdef UNSHARP_X86_AVX2
#define USE_AVX2() unsharp__simd_avx2()
#define USE_AVX512() (unsharp__simd_level() >= UNSHARP_SIMD_AVX512)
#define SIMD_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#ifdef __clang__
#define SIMD_NO_CONTRACT
#else
#define SIMD_NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#endif
/* SIMD_TWICE(int, name, (int a, float *b), (a, b)) { body } defines the static function name,
 * which runs the body built for AVX2 or the plain one, as USE_AVX2() says. */
#define SIMD_TWICE(ret, name, params, args)                                                          \
    static inline __attribute__((always_inline)) ret name##_body params;                              \
    __attribute__((target("avx2"))) static ret name##_avx2 params { return name##_body args; }       \
    static ret name##_plain params { return name##_body args; }                                       \
    static ret name params { return USE_AVX2() ? name##_avx2 args : name##_plain args; }              \
    static inline __attribute__((always_inline)) ret name##_body params
#define SIMD_TWICE_VOID(name, params, args)                                                          \
    static inline __attribute__((always_inline)) void name##_body params;                             \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }             \
    static void name##_plain params { name##_body args; }                                             \
    static void name params                                                                           \
    {                                                                                                 \
        if (USE_AVX2()) name##_avx2 args;                                                             \
        else name##_plain args;                                                                       \
    }                                                                                                 \
    static inline __attribute__((always_inline)) void name##_body params
/* SIMD_THRICE_VOID(name, params, args) { body }: the same with an AVX-512 build, run when
 * USE_AVX512(). */
#define SIMD_THRICE_VOID(name, params, args)                                                         \
    static inline __attribute__((always_inline)) void name##_body params;                             \
    SIMD_AVX512_TARGET SIMD_NO_CONTRACT static void name##_avx512 params { name##_body args; }        \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }             \
    static void name##_plain params { name##_body args; }                                             \
    static void name params                                                                           \
    {                                                                                                 \
        const int level = unsharp__simd_level();                                                      \
        if (level >= UNSHARP_SIMD_AVX512) name##_avx512 args;                                         \
        else if (level >= UNSHARP_SIMD_AVX2) name##_avx2 args;                                        \
        else name##_plain args;                                                                       \
    }                                                                                                 \
    static inline __attribute__((always_inline)) void name##_body params
#else
#define USE_AVX2() 0
#define USE_AVX512() 0
#define SIMD_TWICE(ret, name, params, args) static ret name params
#define SIMD_TWICE_VOID(name, params, args) static void name params
#define SIMD_THRICE_VOID(name, params, args) static void name params
#endif

#endif
