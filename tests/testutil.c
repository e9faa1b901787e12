/* testutil.c: see testutil.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "testutil.h"

char tu_dir[64];

void tu_setup_tmpdir(void)
{
    snprintf(tu_dir, sizeof tu_dir, "/tmp/unsharp-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tu_dir));
}

void tu_teardown_tmpdir(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", tu_dir, tu_dir);
    ck_assert_int_eq(system(cmd), 0);
}

const char *tu_path(const char *name)
{
    static char paths[8][320];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 320, "%s/%s", tu_dir, name);
    return p;
}

void tu_run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    ck_assert_msg(system(cmd) == 0, "command failed: %s", cmd);
}

unsigned char *tu_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_ge(n, 0);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

void tu_write_file(const char *path, const void *buf, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    if (size) ck_assert_int_eq(fwrite(buf, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

unsigned char *tu_read_pnm(const char *path, int *w, int *h, int *c)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int kind = 0, maxval = 0;
    ck_assert_int_eq(fscanf(f, "P%d %d %d %d", &kind, w, h, &maxval), 4);
    fgetc(f);
    ck_assert_int_eq(maxval, 255);
    *c = kind == 5 ? 1 : 3;
    size_t n = (size_t)*w * *h * *c;
    unsigned char *buf = malloc(n);
    ck_assert_int_eq(fread(buf, 1, n, f), n);
    fclose(f);
    return buf;
}
