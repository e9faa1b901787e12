/* test_version.c: the version macros, unsharp_version() and unsharp_check_version() against
 * the project version CMake passes in (UNSHARP_PROJECT_VERSION, from CMakeLists.txt). */
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

START_TEST(macros_are_the_project_version)
{
    char s[64];
    snprintf(s, sizeof s, "%d.%d.%d", UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR, UNSHARP_VERSION_PATCH);
    ck_assert_str_eq(s, UNSHARP_PROJECT_VERSION);
    ck_assert_str_eq(UNSHARP_VERSION_STRING, UNSHARP_PROJECT_VERSION);
    ck_assert_str_eq(unsharp_version(), UNSHARP_PROJECT_VERSION);
}
END_TEST

START_TEST(check_accepts_same_major_older_minor)
{
    ck_assert_int_eq(UNSHARP_CHECK_VERSION(), UNSHARP_OK);
    ck_assert_int_eq(unsharp_check_version(UNSHARP_VERSION_MAJOR, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_check_version(UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR), UNSHARP_OK);
}
END_TEST

START_TEST(check_refuses_newer_minor_or_other_major)
{
    ck_assert_int_eq(unsharp_check_version(UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR + 1), UNSHARP_ERR_VERSION);
    char want[64];
    snprintf(want, sizeof want, "%d.%d", UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR + 1);
    ck_assert_msg(strstr(unsharp_errmsg(), want) && strstr(unsharp_errmsg(), UNSHARP_PROJECT_VERSION), "%s", unsharp_errmsg());
    ck_assert_int_eq(unsharp_check_version(UNSHARP_VERSION_MAJOR + 1, 0), UNSHARP_ERR_VERSION);
    ck_assert_int_eq(unsharp_check_version(UNSHARP_VERSION_MAJOR - 1, UNSHARP_VERSION_MINOR), UNSHARP_ERR_VERSION);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("version");
    tcase_add_test(tc, macros_are_the_project_version);
    tcase_add_test(tc, check_accepts_same_major_older_minor);
    tcase_add_test(tc, check_refuses_newer_minor_or_other_major);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
