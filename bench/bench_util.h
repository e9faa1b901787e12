/* bench_util.h: what the benchmark programs share: a monotonic clock and reading an
 * architecture file. Benchmarks are programs, so they may print and exit. */
#ifndef UNSHARP_BENCH_UTIL_H
#define UNSHARP_BENCH_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "model.h"

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The text of an architecture file (a static buffer); exits 2 when it cannot be read. */
static inline char *bench_read_arch(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    static char buf[UNSHARP_ARCH_MAX + 1];
    size_t n = fread(buf, 1, UNSHARP_ARCH_MAX, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}
#endif
