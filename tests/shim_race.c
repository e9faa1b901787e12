/* shim_race.c: an LD_PRELOAD library that makes a race or a crash happen at one exact point of
 * a program's file handling, so that tests of what unsharp-classify does then are
 * deterministic (no sleeps). It wraps write, fsync, rename, renameat2, unlink and link.
 *   SHIM_CALL=NAME SHIM_NTH=N [SHIM_MATCH=TEXT]: the Nth call of NAME (whose path argument,
 *     the destination for rename and renameat2, contains TEXT when given) triggers:
 *   SHIM_ACTION=kill: SIGKILL before the call runs;
 *   SHIM_ACTION=swap SHIM_FROM=A SHIM_TO=B: rename(A, B) right after the call, as another
 *     program replacing a file would.
 *   SHIM_KILL_AT=N: SIGKILL before the Nth call of any wrapped function (a crash at a chosen
 *     point); SHIM_COUNT_TO=FILE: at exit, write the number of wrapped calls made. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long calls, hits;

static void count_at_exit(void)
{
    const char *f = getenv("SHIM_COUNT_TO");
    if (!f) return;
    FILE *o = fopen(f, "w");
    if (o) {
        fprintf(o, "%ld\n", calls);
        fclose(o);
    }
}

__attribute__((constructor)) static void init(void)
{
    atexit(count_at_exit);
}

/* 1 when this call of name (path p, may be NULL) is the one the environment names */
static int chosen(const char *name, const char *p)
{
    calls++;
    const char *k = getenv("SHIM_KILL_AT");
    if (k && calls == atol(k)) raise(SIGKILL);
    const char *c = getenv("SHIM_CALL"), *m = getenv("SHIM_MATCH"), *n = getenv("SHIM_NTH");
    if (!c || strcmp(c, name) != 0) return 0;
    if (m && (!p || !strstr(p, m))) return 0;
    return ++hits == (n ? atol(n) : 1);
}

static int rename_real(const char *a, const char *b)
{
    int (*f)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    return f(a, b);
}

/* before the call: kill; after it: swap */
static int before(int hit)
{
    const char *a = getenv("SHIM_ACTION");
    if (hit && a && strcmp(a, "kill") == 0) raise(SIGKILL);
    return hit && a && strcmp(a, "swap") == 0;
}

static void after(int swap)
{
    if (swap) rename_real(getenv("SHIM_FROM"), getenv("SHIM_TO"));
}

#define REAL(ret, name, ...) ((ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t n)
{
    int s = before(chosen("write", NULL));
    ssize_t r = REAL(ssize_t, write, int, const void *, size_t)(fd, buf, n);
    after(s);
    return r;
}

int fsync(int fd)
{
    int s = before(chosen("fsync", NULL));
    int r = REAL(int, fsync, int)(fd);
    after(s);
    return r;
}

int rename(const char *a, const char *b)
{
    int s = before(chosen("rename", b));
    int r = rename_real(a, b);
    after(s);
    return r;
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
    int s = before(chosen("renameat2", b));
    int r = REAL(int, renameat2, int, const char *, int, const char *, unsigned)(da, a, db, b, flags);
    after(s);
    return r;
}

int unlink(const char *p)
{
    int s = before(chosen("unlink", p));
    int r = REAL(int, unlink, const char *)(p);
    after(s);
    return r;
}

int link(const char *a, const char *b)
{
    int s = before(chosen("link", b));
    int r = REAL(int, link, const char *, const char *)(a, b);
    after(s);
    return r;
}
