/* test_weights.c: the .usw weights file. Round trips must be bit-exact; each kind of damage
 * (truncation, a flipped byte, a wrong magic, a future version) must give its own status and
 * a message that says what is wrong. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

static const char *ARCH =
    "input x 3\n"
    "conv c1 x out=5 k=3 s=2 p=1\n"
    "lrelu a1 c1 slope=0.1\n"
    "conv c2 a1 out=4 k=1 bias=0\n"
    "bias b2 c2\n"
    "gmean g b2\n"
    "dense d g out=2\n"
    "softmax_ce loss d\n";

/* Saves a freshly initialised model with metadata; returns its path. */
static const char *saved_model(unsharp_model **out)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/m.usw", tu_dir);
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create(ARCH, 42, NULL, &m), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_meta(m, "threshold", "0.5"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_meta(m, "trained_by", "test"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_save(m, path), UNSHARP_OK);
    if (out) *out = m; else unsharp_model_free(m);
    return path;
}

START_TEST(round_trip_bit_exact)
{
    unsharp_model *a = NULL, *b = NULL;
    const char *path = saved_model(&a);
    ck_assert_int_eq(access(path, F_OK), 0);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(access(tmp, F_OK) != 0, "the temporary file %s was left behind", tmp);
    ck_assert_int_eq(unsharp_model_load(path, NULL, &b), UNSHARP_OK);
    ck_assert_str_eq(unsharp_model_arch(a), unsharp_model_arch(b));
    ck_assert_str_eq(unsharp_model_get_meta(b, "threshold"), "0.5");
    ck_assert_str_eq(unsharp_model_get_meta(b, "trained_by"), "test");
    ck_assert_int_eq(unsharp_model_param_count(a), 6);
    ck_assert_int_eq(unsharp_model_param_count(b), 6);
    for (int i = 0; i < unsharp_model_param_count(a); i++) {
        const char *name;
        size_t n;
        int shape[4];
        ck_assert_int_eq(unsharp_model_param_info(a, i, &name, &n, shape), UNSHARP_OK);
        float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
        ck_assert_int_eq(unsharp_model_get_param(a, name, pa, n), UNSHARP_OK);
        ck_assert_int_eq(unsharp_model_get_param(b, name, pb, n), UNSHARP_OK);
        ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0, "parameter %s differs after a round trip", name);
        free(pa);
        free(pb);
    }
    /* saving the loaded model gives the same bytes */
    char path2[160];
    snprintf(path2, sizeof path2, "%s/again.usw", tu_dir);
    ck_assert_int_eq(unsharp_model_save(b, path2), UNSHARP_OK);
    size_t s1, s2;
    unsigned char *f1 = tu_read_file(path, &s1), *f2 = tu_read_file(path2, &s2);
    ck_assert_uint_eq(s1, s2);
    ck_assert_msg(memcmp(f1, f2, s1) == 0, "re-saved file differs");
    free(f1);
    free(f2);
    unsharp_model_free(a);
    unsharp_model_free(b);
}
END_TEST

/* Loads a damaged copy and checks the status and that the message contains needle. */
static void expect_load(const unsigned char *buf, size_t size, unsharp_status want, const char *needle)
{
    char path[160];
    snprintf(path, sizeof path, "%s/bad.usw", tu_dir);
    tu_write_file(path, buf, size);
    unsharp_model *m = (unsharp_model *)0x1;
    unsharp_status st = unsharp_model_load(path, NULL, &m);
    ck_assert_msg(st == want, "got %s, want %s (%s)", unsharp_status_name(st), unsharp_status_name(want), unsharp_errmsg());
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(unsharp_errmsg(), needle) != NULL, "message '%s' lacks '%s'", unsharp_errmsg(), needle);
    ck_assert_msg(strstr(unsharp_errmsg(), path) != NULL, "message '%s' does not name the file", unsharp_errmsg());
    /* the same bytes from memory give the same status */
    st = unsharp_model_load_memory(buf, size, NULL, &m);
    ck_assert_int_eq(st, want);
}

START_TEST(truncated_file)
{
    size_t size;
    unsigned char *buf = tu_read_file(saved_model(NULL), &size);
    size_t cuts[] = {0, 4, 20, 39, 100, size / 2, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) expect_load(buf, cuts[i], UNSHARP_ERR_TRUNCATED, "truncated");
    free(buf);
}
END_TEST

START_TEST(flipped_byte)
{
    size_t size;
    unsigned char *buf = tu_read_file(saved_model(NULL), &size);
    /* one bit in the architecture text, in the data, and in the trailer itself */
    size_t where[] = {45, size / 2, size - 64, size - 2};
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        buf[where[i]] ^= 0x10;
        expect_load(buf, size, UNSHARP_ERR_CHECKSUM, "CRC32");
        buf[where[i]] ^= 0x10;
    }
    free(buf);
}
END_TEST

START_TEST(wrong_magic)
{
    size_t size;
    unsigned char *buf = tu_read_file(saved_model(NULL), &size);
    buf[0] = 'X';
    expect_load(buf, size, UNSHARP_ERR_BAD_MAGIC, "not a .usw");
    const unsigned char png[] = "\x89PNG\r\n\x1a\n0000000000000000000000000000000000000000";
    expect_load(png, sizeof png - 1, UNSHARP_ERR_BAD_MAGIC, "magic");
    free(buf);
}
END_TEST

START_TEST(future_version)
{
    size_t size;
    unsigned char *buf = tu_read_file(saved_model(NULL), &size);
    buf[8] = 2; /* major version, little-endian u32 */
    expect_load(buf, size, UNSHARP_ERR_VERSION, "version 2.0");
    free(buf);
}
END_TEST

START_TEST(missing_and_odd_paths)
{
    unsharp_model *m = NULL;
    char path[160];
    snprintf(path, sizeof path, "%s/none.usw", tu_dir);
    ck_assert_int_eq(unsharp_model_load(path, NULL, &m), UNSHARP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(unsharp_errmsg(), "No such file"));
    ck_assert_int_eq(unsharp_model_load(tu_dir, NULL, &m), UNSHARP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(unsharp_errmsg(), "not a regular file"));
    /* saving into a missing directory fails cleanly and leaves nothing */
    ck_assert_int_eq(unsharp_model_create(ARCH, 1, NULL, &m), UNSHARP_OK);
    snprintf(path, sizeof path, "%s/no/such/tu_dir/m.usw", tu_dir);
    ck_assert_int_eq(unsharp_model_save(m, path), UNSHARP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "m.usw.tmp"));
    unsharp_model_free(m);
}
END_TEST

START_TEST(save_replaces_atomically)
{
    unsharp_model *a = NULL, *b = NULL, *c = NULL;
    const char *path = saved_model(&a);
    ck_assert_int_eq(unsharp_model_create(ARCH, 7, NULL, &b), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_save(b, path), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_load(path, NULL, &c), UNSHARP_OK);
    float wb[5 * 3 * 9], wc[5 * 3 * 9], wa[5 * 3 * 9];
    ck_assert_int_eq(unsharp_model_get_param(a, "c1.weight", wa, 135), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_param(b, "c1.weight", wb, 135), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_param(c, "c1.weight", wc, 135), UNSHARP_OK);
    ck_assert(memcmp(wb, wc, sizeof wb) == 0);
    ck_assert_msg(memcmp(wa, wb, sizeof wa) != 0, "two seeds gave the same weights");
    unsharp_model_free(a);
    unsharp_model_free(b);
    unsharp_model_free(c);
}
END_TEST

/* An architecture with the parameter-free kinds lcn and spatial concat: saved and loaded, it
 * has the same text, parameters and output. */
START_TEST(round_trip_lcn)
{
    const char *arch = "input luma 1\n"
                       "lcn n luma k=15 eps=0.02\n"
                       "concat both luma,n\n"
                       "conv c1 both out=4 k=6 s=4 p=1\n"
                       "lrelu a1 c1 slope=0.1\n"
                       "conv tiles a1 out=1 k=1\n"
                       "sigmoid_ce tile_loss tiles\n";
    char path[160];
    snprintf(path, sizeof path, "%s/lcn.usw", tu_dir);
    unsharp_model *a = NULL, *b = NULL;
    ck_assert_int_eq(unsharp_model_create(arch, 3, NULL, &a), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_save(a, path), UNSHARP_OK);
    ck_assert_msg(unsharp_model_load(path, NULL, &b) == UNSHARP_OK, "%s", unsharp_errmsg());
    ck_assert_str_eq(unsharp_model_arch(a), unsharp_model_arch(b));
    ck_assert_int_eq(unsharp_model_param_count(b), 4);
    enum { H = 40, W = 36, OH = 10, OW = 9 };
    float x[H * W], ya[OH * OW], yb[OH * OW];
    for (int i = 0; i < H * W; i++) x[i] = (float)((i * 29) % 31) / 31.0f;
    unsharp_tensor t = unsharp_tensor_make(x, 1, 1, H, W), oa = unsharp_tensor_make(ya, 1, 1, OH, OW),
                   ob = unsharp_tensor_make(yb, 1, 1, OH, OW);
    ck_assert_int_eq(unsharp_model_forward(a, &t, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(a, "tiles", &oa), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_forward(b, &t, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(b, "tiles", &ob), UNSHARP_OK);
    ck_assert_msg(memcmp(ya, yb, sizeof ya) == 0, "the loaded model's output differs");
    unsharp_model_free(a);
    unsharp_model_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("usw");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, round_trip_bit_exact);
    tcase_add_test(tc, round_trip_lcn);
    tcase_add_test(tc, truncated_file);
    tcase_add_test(tc, flipped_byte);
    tcase_add_test(tc, wrong_magic);
    tcase_add_test(tc, future_version);
    tcase_add_test(tc, missing_and_odd_paths);
    tcase_add_test(tc, save_replaces_atomically);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
