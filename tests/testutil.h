/* testutil.h: helpers shared by the Check suites: a fresh temporary folder per test, file
 * and shell helpers that fail the test on error, and the suite runner every main() uses. */
#ifndef UNSHARP_TESTUTIL_H
#define UNSHARP_TESTUTIL_H
#include <check.h>
#include <stddef.h>

/* The current test's temporary folder, made by tu_setup_tmpdir (use both as a Check
 * checked fixture) and removed with everything in it by tu_teardown_tmpdir. */
extern char tu_dir[64];
void tu_setup_tmpdir(void);
void tu_teardown_tmpdir(void);

/* tu_dir/name, in one of eight rotating buffers. */
const char *tu_path(const char *name);

/* Runs a shell command; the test fails if it does not exit 0. */
void tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole-file read (malloc'ed, caller frees) and write; the test fails on any error. */
unsigned char *tu_read_file(const char *path, size_t *size);
void tu_write_file(const char *path, const void *buf, size_t size);

/* An 8-bit binary PGM or PPM (as djpeg writes it): its pixels (malloc'ed, caller frees), size
 * and channel count (1 or 3); the test fails on any error. */
unsigned char *tu_read_pnm(const char *path, int *w, int *h, int *c);

/* Runs a suite (CK_FORK as set in the environment) and returns main's exit code. */
int tu_run_suite(Suite *s);

#endif
