/* simd.h: which vector code this CPU runs, decided in one place for the whole engine (the
 * network core and the photo layer; it knows nothing of either).
 *
 * On x86-64 with GCC or Clang the kernels that gain from it are built twice, with AVX2 and
 * plain; which runs is chosen at run time, once per process: AVX2 when the CPU has AVX2 and
 * FMA, unless the environment variable UNSHARP_SIMD=plain is set, or a test calls
 * unsharp__simd_force_plain(1). The plain code is what ARM and older x86 CPUs run; forcing it
 * lets the tests check it on any machine (tests/CMakeLists.txt runs the kernels' suites both
 * ways). Elsewhere only the plain code is built.
 *
 * Two ways to have an AVX2 version:
 *   - SIMD_TWICE / SIMD_TWICE_VOID: one body, compiled for AVX2 (without FMA: the same
 *     operations in the same order, so the same bits as the plain build) and plain;
 *   - a hand-written AVX2 function (target("avx2") or target("avx2,fma")), called when
 *     USE_AVX2() says so. */
#ifndef UNSHARP_SIMD_H
#define UNSHARP_SIMD_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UNSHARP_X86_AVX2 1
#include <immintrin.h>
#endif

/* 1 when the AVX2 versions run: the CPU has AVX2 and FMA, and the plain code is not forced. */
int unsharp__simd_avx2(void);
/* Forces the plain code (on = 1) or gives the choice back to the CPU and UNSHARP_SIMD (0).
 * For tests; not meant to change while a kernel runs. */
void unsharp__simd_force_plain(int on);

#ifdef UNSHARP_X86_AVX2
#define USE_AVX2() unsharp__simd_avx2()
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
#else
#define USE_AVX2() 0
#define SIMD_TWICE(ret, name, params, args) static ret name params
#define SIMD_TWICE_VOID(name, params, args) static void name params
#endif

#endif
