/* test_gradcheck.c: whole-model gradient checks. For small networks that use every layer
 * kind, the gradient of every parameter from backward is compared with central finite
 * differences of the model's own loss (double accumulated). The op-level checks in
 * test_ops.c test each kernel against double-precision references; this suite tests how the
 * layers are wired together: shapes, offsets, accumulation across branches. */
#include <check.h>
#include "testutil.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "unsharp/unsharp.h"

static double model_loss(unsharp_model *m, const unsharp_tensor *x)
{
    double loss = NAN;
    ck_assert_int_eq(unsharp_model_forward(m, x, 1), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_loss(m, &loss), UNSHARP_OK);
    return loss;
}

/* Checks every parameter: ||g - fd|| <= tol * ||fd||. The step (1e-3) is small enough not to
 * cross the kinks of ReLU and max for these inputs, and large enough for float rounding. */
static void gradcheck(const char *arch, int n, int c, int h, int w, int tiles_c, int classes)
{
    unsharp_model *m = NULL;
    ck_assert_msg(unsharp_model_create(arch, 11, NULL, &m) == UNSHARP_OK, "%s", unsharp_errmsg());
    unsigned seed = 99;
    size_t nx = (size_t)n * c * h * w;
    float *x = malloc(nx * sizeof *x);
    for (size_t i = 0; i < nx; i++) x[i] = (float)(rand_r(&seed) % 2000) / 1000.0f - 1.0f;
    unsharp_tensor t = unsharp_tensor_make(x, n, c, h, w);

    /* targets for whichever losses the architecture has */
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
    int shape[4];
    if (tiles_c && unsharp_model_output_shape(m, "tiles", shape) == UNSHARP_OK) {
        size_t k = (size_t)shape[0] * shape[1] * shape[2] * shape[3];
        float *tt = malloc(k * sizeof *tt), *tw = malloc(k * sizeof *tw);
        for (size_t i = 0; i < k; i++) {
            tt[i] = (float)(rand_r(&seed) % 100) / 100.0f;
            tw[i] = 0.5f + (float)(rand_r(&seed) % 100) / 100.0f;
        }
        ck_assert_int_eq(unsharp_model_set_target(m, "tile_loss", tt, tw, k), UNSHARP_OK);
        free(tt);
        free(tw);
    }
    if (classes) {
        float *label = malloc((size_t)n * sizeof *label);
        for (int i = 0; i < n; i++) label[i] = (float)(rand_r(&seed) % classes);
        ck_assert_int_eq(unsharp_model_set_target(m, "image_loss", label, NULL, (size_t)n), UNSHARP_OK);
        free(label);
    }

    if (strstr(arch, "peak_loss")) { /* a loss on the sharpest block of the tile map */
        float *peak = malloc((size_t)n * sizeof *peak);
        for (int i = 0; i < n; i++) peak[i] = (float)(rand_r(&seed) % 2);
        ck_assert_int_eq(unsharp_model_set_target(m, "peak_loss", peak, NULL, (size_t)n), UNSHARP_OK);
        free(peak);
    }

    ck_assert_int_eq(unsharp_model_zero_grad(m), UNSHARP_OK);
    model_loss(m, &t);
    ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_OK);

    for (int i = 0; i < unsharp_model_param_count(m); i++) {
        const char *name;
        size_t count;
        ck_assert_int_eq(unsharp_model_param_info(m, i, &name, &count, NULL), UNSHARP_OK);
        float *p = malloc(count * sizeof *p), *g = malloc(count * sizeof *g);
        ck_assert_int_eq(unsharp_model_get_param(m, name, p, count), UNSHARP_OK);
        ck_assert_int_eq(unsharp_model_get_grad(m, name, g, count), UNSHARP_OK);
        double num = 0, den = 0;
        for (size_t k = 0; k < count; k++) {
            float keep = p[k];
            double eps = 1e-3 * fmax(1.0, fabs(keep));
            p[k] = keep + (float)eps;
            ck_assert_int_eq(unsharp_model_set_param(m, name, p, count), UNSHARP_OK);
            double up = model_loss(m, &t);
            p[k] = keep - (float)eps;
            ck_assert_int_eq(unsharp_model_set_param(m, name, p, count), UNSHARP_OK);
            double down = model_loss(m, &t);
            p[k] = keep;
            double fd = (up - down) / (2 * eps);
            num += (g[k] - fd) * (g[k] - fd);
            den += fd * fd;
        }
        ck_assert_int_eq(unsharp_model_set_param(m, name, p, count), UNSHARP_OK);
        ck_assert_msg(den > 1e-12, "%s: the finite differences are all zero, the check tests nothing", name);
        double rel = sqrt(num / den);
        ck_assert_msg(rel < 2e-2, "%s: |backward - finite differences| / |finite differences| = %.3g", name, rel);
        free(p);
        free(g);
    }
    unsharp_model_free(m);
    free(x);
}

START_TEST(tile_network)
{
    gradcheck("input x 2\n"
              "conv c1 x out=4 k=3 s=2 p=1\n"
              "lrelu a1 c1 slope=0.1\n"
              "conv c2 a1 out=5 kh=3 kw=1 s=1 p=0\n"
              "maxpool mp c2 k=2\n"
              "conv tiles mp out=1 k=1\n"
              "sigmoid_ce tile_loss tiles\n",
              2, 2, 14, 12, 1, 0);
}
END_TEST

START_TEST(image_network_with_branches)
{
    gradcheck("input x 1\n"
              "conv c1 x out=3 k=3 p=1 bias=0\n"
              "bias b1 c1\n"
              "relu r1 b1\n"
              "avgpool ap r1 k=3 s=2 p=1\n"
              "conv c2 ap out=4 k=3 s=1 p=1\n"
              "lrelu a2 c2 slope=0.2\n"
              "concat both ap,a2\n"
              "gmean gm both\n"
              "gmax gx both\n"
              "gvar gv both\n"
              "concat feat gm,gx,gv\n"
              "dense d1 feat out=6\n"
              "lrelu a3 d1 slope=0.1\n"
              "dense image a3 out=3\n"
              "softmax_ce image_loss image weight=0.7\n",
              3, 1, 9, 10, 0, 3);
}
END_TEST

START_TEST(two_heads_share_a_trunk)
{
    gradcheck("input x 1\n"
              "conv c1 x out=4 k=3 s=2 p=1\n"
              "lrelu a1 c1 slope=0.1\n"
              "conv tiles a1 out=1 k=1\n"
              "sigmoid_ce tile_loss tiles weight=2\n"
              "gmean g a1\n"
              "dense image g out=2\n"
              "softmax_ce image_loss image\n",
              2, 1, 12, 12, 1, 2);
}
END_TEST

/* The shipped network's three losses: per tile, on the sharpest 2x2 block of tiles (a max over
 * an average pool of the same tile map) and on the image head. */
START_TEST(peak_loss_shares_the_tile_map)
{
    gradcheck("input x 1\n"
              "conv c1 x out=4 k=3 s=2 p=1\n"
              "lrelu a1 c1 slope=0.1\n"
              "conv tiles a1 out=1 k=1\n"
              "sigmoid_ce tile_loss tiles\n"
              "gmean g a1\n"
              "dense image g out=3\n"
              "avgpool blocks tiles k=2 s=1\n"
              "gmax peak blocks\n"
              "sigmoid_ce peak_loss peak weight=3\n"
              "softmax_ce image_loss image\n",
              3, 1, 16, 14, 1, 3);
}
END_TEST

/* A local-energy front end: a convolution's response rectified to its magnitude (slope -1, which
 * the model fuses into the convolution) and averaged before the next one reads it. */
START_TEST(magnitude_then_average)
{
    gradcheck("input x 1\n"
              "conv c1 x out=3 k=4 s=2 p=1\n"
              "lrelu r1 c1 slope=-1\n"
              "avgpool a1 r1 k=2 s=2\n"
              "conv c2 a1 out=4 k=3 s=1 p=1\n"
              "lrelu a2 c2 slope=0.1\n"
              "conv tiles a2 out=1 k=1\n"
              "sigmoid_ce tile_loss tiles\n",
              2, 1, 16, 12, 1, 0);
}
END_TEST

/* Local contrast normalisation on spatial maps joined along channels: n0 is its input's only
 * reader (its backward overwrites c0's gradient), n1 shares c1 with the concat (it adds). c0
 * has no bias: lcn does not change when a constant is added to its input, so that gradient
 * would be 0 and its finite differences noise. */
START_TEST(lcn_and_spatial_concat)
{
    gradcheck("input x 2\n"
              "conv c0 x out=3 k=3 p=1 bias=0\n"
              "lcn n0 c0 k=5 eps=0.1\n"
              "conv c1 x out=2 k=3 p=1\n"
              "lcn n1 c1 k=3 eps=0.05\n"
              "concat both n0,c1,n1\n"
              "conv c2 both out=4 k=3 s=2 p=1\n"
              "lrelu a2 c2 slope=0.1\n"
              "conv tiles a2 out=1 k=1\n"
              "sigmoid_ce tile_loss tiles\n",
              2, 2, 11, 9, 1, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gradcheck");
    TCase *tc = tcase_create("models");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tile_network);
    tcase_add_test(tc, image_network_with_branches);
    tcase_add_test(tc, two_heads_share_a_trunk);
    tcase_add_test(tc, peak_loss_shares_the_tile_map);
    tcase_add_test(tc, lcn_and_spatial_concat);
    tcase_add_test(tc, magnitude_then_average);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
