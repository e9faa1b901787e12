/* test_orient.c: the oriented start of the first convolution (train/orient.c). Each channel
 * must be zero-mean, keep the random channels' mean norm, and answer most strongly to a grating
 * whose stripes run across its own direction: the test measures each channel's response to
 * cosine gratings at 16 angles by a naive dot product over phases. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include "orient.h"
#include "testutil.h"

START_TEST(channels_face_evenly_spread_directions)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input luma 1\nconv c1 luma out=8 k=6 s=4 p=1\nlrelu a c1 slope=0.1\n"
                                          "conv c2 a out=2 k=3 s=1 p=1\n", 5, NULL, &m), UNSHARP_OK);
    float before[288], w[288], c2[144], c2_after[144];
    ck_assert_int_eq(unsharp_model_get_param(m, "c1.weight", before, 288), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_param(m, "c2.weight", c2, 144), UNSHARP_OK);
    const char *layer = NULL;
    ck_assert_int_eq(orient_first_conv(m, &layer), 0);
    ck_assert_str_eq(layer, "c1.weight");
    ck_assert_int_eq(unsharp_model_get_param(m, "c1.weight", w, 288), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_param(m, "c2.weight", c2_after, 144), UNSHARP_OK);
    for (int i = 0; i < 144; i++) ck_assert_float_eq(c2[i], c2_after[i]); /* only the first layer */
    double ss = 0;
    for (int i = 0; i < 288; i++) ss += (double)before[i] * before[i];
    const double norm = sqrt(ss / 8);
    for (int c = 0; c < 8; c++) {
        const float *f = w + c * 36;
        double mean = 0, n2 = 0;
        for (int i = 0; i < 36; i++) { mean += f[i]; n2 += (double)f[i] * f[i]; }
        ck_assert_double_lt(fabs(mean), 1e-5);
        ck_assert_double_lt(fabs(sqrt(n2) - norm), 1e-4 * norm);
        int best = -1;
        double best_e = -1;
        for (int j = 0; j < 16; j++) { /* a grating of 0.2 cycles a pixel, wave vector at j * 11.25 deg */
            double a = j * M_PI / 16, e = 0;
            for (int ph = 0; ph < 8; ph++) {
                double r = 0;
                for (int y = 0; y < 6; y++)
                    for (int x = 0; x < 6; x++)
                        r += f[y * 6 + x] * cos(2 * M_PI * 0.2 * (x * cos(a) + y * sin(a)) + ph * M_PI / 4);
                e += r * r;
            }
            if (e > best_e) { best_e = e; best = j; }
        }
        ck_assert_int_eq(best, 2 * c);
    }
    unsharp_model_free(m);

    /* no convolution reading one channel with a kernel of 3 or more: refused, nothing named */
    ck_assert_int_eq(unsharp_model_create("input luma 1\nconv c1 luma out=8 k=1\n", 5, NULL, &m), UNSHARP_OK);
    ck_assert_int_eq(orient_first_conv(m, &layer), -1);
    ck_assert_ptr_null(layer);
    unsharp_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("orient");
    TCase *tc = tcase_create("orient");
    tcase_add_test(tc, channels_face_evenly_spread_directions);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
