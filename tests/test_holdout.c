/* test_holdout.c: the fine-tune's keeper line (train/holdout.c): which keeper pins it, and where
 * the line goes, checked against properties a naive loop states (never above the keeper, never
 * above the old line, at most two steps of 0.0001 below, and the same after the weights file's
 * "%.4f" text round trip), the blurred photos a moved line would let through, the decision over
 * several sets, and the verdicts counted again at the moved line. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "holdout.h"
#include "testutil.h"

START_TEST(lowest_kept_counts_only_keepers_the_start_kept)
{
    holdout_item items[6] = {
        {.name = "a/kept.jpg", .sharp = 1},      {.name = "a/lost-at-start.jpg", .sharp = 1},
        {.name = "a/blurred.jpg", .sharp = 0},   {.name = "a/unjudged.jpg", .sharp = 1},
        {.name = "a/lowest-kept.jpg", .sharp = 1}, {.name = "a/high.jpg", .sharp = 1},
    };
    holdout_set s = {.title = "held back", .items = items, .n = 6, .cap = 6};
    uint8_t start_blurry[6] = {0, 1, 1, 0, 0, 0}, now_blurry[6] = {0, 1, 1, 0, 1, 0};
    float now_score[6] = {0.30f, 0.05f, 0.01f, NAN, 0.20f, 0.90f};
    holdout_figures start = {.called_blurry = start_blurry}, now = {.called_blurry = now_blurry, .score = now_score};
    const char *who = NULL;
    ck_assert_float_eq(holdout_lowest_kept(&s, &start, &now, &who), 0.20f);
    ck_assert_str_eq(who, "a/lowest-kept.jpg");
    /* no keeper kept at the start: nothing pins the line */
    uint8_t all_blurry[6] = {1, 1, 1, 1, 1, 1};
    holdout_figures none = {.called_blurry = all_blurry};
    who = NULL;
    ck_assert(isinf(holdout_lowest_kept(&s, &none, &now, &who)));
    ck_assert_ptr_null(who);
    /* figures without scores (a set that could not be judged) */
    holdout_figures empty = {0};
    ck_assert(isinf(holdout_lowest_kept(&s, &start, &empty, NULL)));
}
END_TEST

START_TEST(line_stays_when_no_keeper_is_under_it)
{
    ck_assert_float_eq(holdout_keeper_line(0.181f, 0.5f), 0.181f);
    ck_assert_float_eq(holdout_keeper_line(0.181f, 0.181f), 0.181f); /* at the line: unsure already */
    ck_assert_float_eq(holdout_keeper_line(0.181f, INFINITY), 0.181f);
    ck_assert_float_eq(holdout_keeper_line(0.181f, NAN), 0.181f);
}
END_TEST

START_TEST(line_moves_just_under_the_keeper)
{
    ck_assert_float_eq(holdout_keeper_line(0.181f, 0.15594f), 0.1559f);
    ck_assert_float_eq(holdout_keeper_line(0.181f, 0.25f), 0.181f);
    ck_assert_float_eq(holdout_keeper_line(0.3f, 0.25f), 0.25f); /* exactly on a step: the keeper is at the line */
    ck_assert_float_eq(holdout_keeper_line(0.3f, 0.0f), 0.0f);
    /* every float in (0, 1) under a line of 1: the moved line, written as the weights file
     * writes it and read back, is at or under the keeper and at most 0.0002 below it */
    uint64_t r = 88172645463325252ull;
    int checked = 0;
    for (int i = 0; i < 200000; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        float x = (float)((r >> 11) * (1.0 / 9007199254740992.0));
        if (i % 4 == 1) x = nextafterf(roundf(x * 10000.0f) / 10000.0f, 0.0f); /* just under a step */
        if (!(x > 0 && x < 1)) continue;
        float line = holdout_keeper_line(1.0f, x);
        char text[32];
        snprintf(text, sizeof text, "%.4f", line);
        float back = (float)atof(text);
        ck_assert_msg(line <= x && back <= x, "keeper %.9g: line %.9g, read back %.9g: over the keeper", x, line, back);
        ck_assert_msg(x - back < 2.0001e-4f, "keeper %.9g: line %.9g is too far under it", x, back);
        ck_assert_msg(back == line, "keeper %.9g: line %.9g does not survive \"%%.4f\" (%s)", x, line, text);
        checked++;
    }
    ck_assert_int_gt(checked, 190000);
}
END_TEST

START_TEST(blurred_between_counts_what_a_moved_line_lets_through)
{
    holdout_item items[6] = {{.name = "at-lo", .sharp = 0},  {.name = "under-hi", .sharp = 0}, {.name = "at-hi", .sharp = 0},
                             {.name = "keeper", .sharp = 1}, {.name = "unjudged", .sharp = 0}, {.name = "low", .sharp = 0}};
    holdout_set s = {.title = "held back", .items = items, .n = 6, .cap = 6};
    float score[6] = {0.15f, nextafterf(0.2f, 0.0f), 0.2f, 0.17f, NAN, 0.1f};
    holdout_figures now = {.score = score};
    ck_assert_int_eq(holdout_blurred_between(&s, &now, 0.15f, 0.2f), 2);
    ck_assert_int_eq(holdout_blurred_between(&s, &now, 0.16f, 0.2f), 1);
    ck_assert_int_eq(holdout_blurred_between(&s, &now, 0.05f, 0.12f), 1);
    ck_assert_int_eq(holdout_blurred_between(&s, &now, 0.2f, 0.2f), 0); /* the line did not move */
    holdout_figures empty = {0};
    ck_assert_int_eq(holdout_blurred_between(&s, &empty, 0.0f, 1.0f), 0);
}
END_TEST

START_TEST(keeper_over_sets_moves_only_through_empty_ground)
{
    /* set 0: a keeper the start kept, now 0.15, under the line 0.2; set 1: a blurred photo at
     * 0.17, between where the line would go and where it is; set 2 not judged by the start */
    holdout_item a[2] = {{.name = "a/keeper.jpg", .sharp = 1}, {.name = "a/blurred.jpg", .sharp = 0}};
    holdout_item b[1] = {{.name = "b/blurred.jpg", .sharp = 0}};
    holdout_item c[1] = {{.name = "c/keeper.jpg", .sharp = 1}};
    holdout_set sets[3] = {{.items = a, .n = 2}, {.items = b, .n = 1}, {.items = c, .n = 1}};
    uint8_t sb0[2] = {0, 1}, sb1[1] = {1}, sb2[1] = {0}, nb0[2] = {1, 1}, nb1[1] = {1}, nb2[1] = {1};
    float s0[2] = {0.15f, 0.05f}, s1[1] = {0.17f}, s2[1] = {0.01f};
    holdout_figures start[3] = {{.called_blurry = sb0}, {.called_blurry = sb1}, {.called_blurry = sb2}};
    holdout_figures now[3] = {{.called_blurry = nb0, .score = s0}, {.called_blurry = nb1, .score = s1},
                              {.called_blurry = nb2, .score = s2}};
    int have[3] = {1, 1, 0};
    holdout_keeper k = holdout_keeper_over(sets, start, now, have, 3, 0.2f);
    ck_assert_float_eq(k.line, 0.2f);
    ck_assert_float_eq(k.moved, 0.15f);
    ck_assert_float_eq(k.lowest, 0.15f); /* not set 2's 0.01: the start did not judge it */
    ck_assert_str_eq(k.who, "a/keeper.jpg");
    ck_assert_int_eq(k.through, 1);
    s1[0] = 0.1f; /* the blurred photo stays under the moved line: nothing lets it through */
    k = holdout_keeper_over(sets, start, now, have, 3, 0.2f);
    ck_assert_int_eq(k.through, 0);
    have[0] = 0; /* no keeper of a judged set under the line: the line stays */
    k = holdout_keeper_over(sets, start, now, have, 3, 0.2f);
    ck_assert_float_eq(k.moved, 0.2f);
    ck_assert_ptr_null(k.who);
}
END_TEST

START_TEST(recount_gives_the_verdicts_at_the_new_line)
{
    holdout_item items[5] = {{.sharp = 1}, {.sharp = 1}, {.sharp = 0}, {.sharp = 0}, {.sharp = 1}};
    holdout_set s = {.items = items, .n = 5};
    uint8_t blurry[5] = {1, 0, 1, 1, 0};
    float score[5] = {0.16f, 0.5f, 0.1f, 0.19f, NAN};
    holdout_figures f = {.keepers = 2, .kept = 1, .blurred = 2, .caught = 2, .called_blurry = blurry, .score = score};
    holdout_recount(&s, &f, 0.16f);
    ck_assert_int_eq(f.kept, 2);   /* 0.16 at the line is not blurry */
    ck_assert_int_eq(f.caught, 1); /* 0.19 escapes, 0.1 stays caught */
    ck_assert_int_eq(blurry[0], 0);
    ck_assert_int_eq(blurry[2], 1);
    ck_assert_int_eq(blurry[3], 0);
    ck_assert_int_eq(f.keepers, 2);
    ck_assert_int_eq(f.blurred, 2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("holdout");
    TCase *tc = tcase_create("keeper line");
    tcase_add_test(tc, lowest_kept_counts_only_keepers_the_start_kept);
    tcase_add_test(tc, line_stays_when_no_keeper_is_under_it);
    tcase_add_test(tc, line_moves_just_under_the_keeper);
    tcase_add_test(tc, blurred_between_counts_what_a_moved_line_lets_through);
    tcase_add_test(tc, keeper_over_sets_moves_only_through_empty_ground);
    tcase_add_test(tc, recount_gives_the_verdicts_at_the_new_line);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
