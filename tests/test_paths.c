/* test_paths.c: the order in which unsharp_default_weights() looks for the shipped weights
 * ($UNSHARP_WEIGHTS, $XDG_DATA_HOME, ~/.local/share, ..., the source tree for programs in the
 * build tree). The tree installed elsewhere is tested by tests/install_pkg.sh. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

static void put(const char *path) { tu_write_file(path, "x", 1); }

/* nothing from the environment: an empty HOME, no XDG_DATA_HOME, no UNSHARP_WEIGHTS */
static void bare_env(void)
{
    unsetenv("UNSHARP_WEIGHTS");
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", tu_dir, 1);
}

START_TEST(env_variable_wins)
{
    bare_env();
    tu_run("mkdir -p %s/xdg/unsharp", tu_dir);
    put(tu_path("xdg/unsharp/" UNSHARP_WEIGHTS_FILE));
    put(tu_path("mine.usw"));
    setenv("XDG_DATA_HOME", tu_path("xdg"), 1);
    setenv("UNSHARP_WEIGHTS", tu_path("mine.usw"), 1);
    char buf[PATH_MAX];
    ck_assert_int_eq(unsharp_default_weights(buf, sizeof buf), UNSHARP_OK);
    ck_assert_str_eq(buf, tu_path("mine.usw"));
    setenv("UNSHARP_WEIGHTS", tu_path("absent.usw"), 1);
    ck_assert_int_eq(unsharp_default_weights(buf, sizeof buf), UNSHARP_ERR_IO);
    ck_assert_msg(strstr(unsharp_errmsg(), "absent.usw"), "%s", unsharp_errmsg());
}
END_TEST

START_TEST(xdg_data_home_then_home)
{
    bare_env();
    tu_run("mkdir -p %s/xdg/unsharp %s/.local/share/unsharp", tu_dir, tu_dir);
    put(tu_path(".local/share/unsharp/" UNSHARP_WEIGHTS_FILE));
    char buf[PATH_MAX];
    /* XDG_DATA_HOME unset: ~/.local/share */
    ck_assert_int_eq(unsharp_default_weights(buf, sizeof buf), UNSHARP_OK);
    ck_assert_str_eq(buf, tu_path(".local/share/unsharp/" UNSHARP_WEIGHTS_FILE));
    /* set and holding the file: it wins */
    put(tu_path("xdg/unsharp/" UNSHARP_WEIGHTS_FILE));
    setenv("XDG_DATA_HOME", tu_path("xdg"), 1);
    ck_assert_int_eq(unsharp_default_weights(buf, sizeof buf), UNSHARP_OK);
    ck_assert_str_eq(buf, tu_path("xdg/unsharp/" UNSHARP_WEIGHTS_FILE));
    /* too small a buffer */
    ck_assert_int_eq(unsharp_default_weights(buf, 8), UNSHARP_ERR_INVALID);
    ck_assert_int_eq(unsharp_default_weights(NULL, 8), UNSHARP_ERR_INVALID);
}
END_TEST

/* This test program runs from the build tree, so with nothing installed and nothing in the
 * environment the source tree's weights are found. */
START_TEST(build_tree_falls_back_to_source_tree)
{
    bare_env();
    char buf[PATH_MAX];
    ck_assert_int_eq(unsharp_default_weights(buf, sizeof buf), UNSHARP_OK);
    if (access(UNSHARP_TEST_DATADIR "/" UNSHARP_WEIGHTS_FILE, R_OK) == 0)
        ck_assert_str_eq(buf, UNSHARP_TEST_DATADIR "/" UNSHARP_WEIGHTS_FILE); /* an installed copy comes first */
    else
        ck_assert_str_eq(buf, UNSHARP_SOURCE_DIR "/weights/" UNSHARP_WEIGHTS_FILE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("paths");
    TCase *tc = tcase_create("default_weights");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, env_variable_wins);
    tcase_add_test(tc, xdg_data_home_then_home);
    tcase_add_test(tc, build_tree_falls_back_to_source_tree);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
