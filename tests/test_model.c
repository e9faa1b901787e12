/* test_model.c: the model handle: architecture errors name their line, shapes flow through
 * the layers as documented, calls out of order are refused, and a few steps of training on a
 * learnable toy task lower the loss. */
#include <check.h>
#include "testutil.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "unsharp/unsharp.h"
#include "model.h"

static void expect_arch_error(const char *arch, const char *needle)
{
    unsharp_model *m = (unsharp_model *)0x1;
    unsharp_status st = unsharp_model_create(arch, 1, NULL, &m);
    ck_assert_msg(st == UNSHARP_ERR_INVALID, "'%s' gave %s", arch, unsharp_status_name(st));
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(unsharp_errmsg(), needle) != NULL, "message '%s' lacks '%s'", unsharp_errmsg(), needle);
}

START_TEST(architecture_errors)
{
    expect_arch_error("", "no layers");
    expect_arch_error("conv c x out=3\n", "first layer");
    expect_arch_error("input x 3\nfoo f x\n", "line 2: unknown layer kind 'foo'");
    expect_arch_error("input x 3\nconv c y out=3\n", "line 2: input 'y' is not an earlier layer");
    expect_arch_error("input x 3\nconv c x\n", "needs out=");
    expect_arch_error("input x 3\nconv c x out=3 q=1\n", "takes no key 'q'");
    expect_arch_error("input x 3\nconv c x out=-3\n", "bad value '-3'");
    expect_arch_error("input x 3\n# comment\n\nconv c x out=2\nrelu c c\n", "line 5: layer name 'c' is used twice");
    expect_arch_error("input x 3\nrelu r x,x\n", "only concat");
    expect_arch_error("input x 3\nsigmoid_ce l x\nrelu r l\n", "is a loss");
    expect_arch_error("input x 3\nconv c x out=2 k=3 p=3\n", "padding");
    expect_arch_error("input x 3\ninput y 3\n", "first layer");
    expect_arch_error("input x 0\n", "1..4096");
    expect_arch_error("input x 1\nlcn n x k=4 eps=0.02\n", "line 2: lcn 'n' needs k=K with K odd");
    expect_arch_error("input x 1\nlcn n x k=65 eps=0.02\n", "bad value '65' for 'k'");
    expect_arch_error("input x 1\nlcn n x k=15 eps=0\n", "line 2: lcn 'n' needs eps=E");
    expect_arch_error("input x 1\nlcn n x k=15 eps=-0.5\n", "line 2: lcn 'n' needs eps=E");
    expect_arch_error("input x 1\nlcn n x k=15 eps=abc\n", "bad value 'abc' for 'eps'");
    expect_arch_error("input x 1\nlcn n x eps=0.02\n", "needs k=K");
    expect_arch_error("input x 1\nlcn n x k=15\n", "needs eps=E");
    expect_arch_error("input x 1\nlcn n x k=15 eps=0.02 kh=3\n", "takes no key 'kh'");
    expect_arch_error("input x 1\nconv c x out=2 eps=0.1\n", "takes no key 'eps'");
}
END_TEST

START_TEST(shapes_follow_the_layers)
{
    const char *arch =
        "input x 3\n"
        "conv c1 x out=8 k=3 s=2 p=1   # 33x20 -> 17x10\n"
        "maxpool p1 c1 k=2             # -> 8x5\n"
        "avgpool p2 c1 k=3 s=2 p=1     # -> 9x5\n"
        "conv c2 c1 out=4 kh=1 kw=3 s=3 # -> 6x3\n"
        "gvar g c2\n"
        "concat cat g,g\n"
        "dense d cat out=5\n";
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create(arch, 1, NULL, &m), UNSHARP_OK);
    float *x = calloc(2 * 3 * 33 * 20, sizeof *x);
    unsharp_tensor t = unsharp_tensor_make(x, 2, 3, 33, 20);
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
    struct { const char *name; int s[4]; } want[] = {
        {"c1", {2, 8, 17, 10}}, {"p1", {2, 8, 8, 5}}, {"p2", {2, 8, 9, 5}},
        {"c2", {2, 4, 6, 3}}, {"g", {2, 4, 1, 1}}, {"cat", {2, 8, 1, 1}}, {"d", {2, 5, 1, 1}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int s[4];
        ck_assert_int_eq(unsharp_model_output_shape(m, want[i].name, s), UNSHARP_OK);
        ck_assert_msg(memcmp(s, want[i].s, sizeof s) == 0, "%s is (%d,%d,%d,%d)", want[i].name, s[0], s[1], s[2], s[3]);
    }
    ck_assert_int_eq(unsharp_model_param_count(m), 6);
    ck_assert_uint_eq(unsharp_model_param_total(m) >= 8 * 3 * 9 + 8 + 4 * 8 * 3 + 4 + 5 * 8 + 5, 1);
    unsharp_model_free(m);
    free(x);
}
END_TEST

START_TEST(bad_calls_are_refused)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=2 k=3\ngmean g c\ndense d c out=1\n", 1, NULL, &m), UNSHARP_OK);
    float x[2 * 2] = {0};
    unsharp_tensor t = unsharp_tensor_make(x, 1, 1, 2, 2);
    /* 2x2 is too small for a 3x3 kernel without padding: training refuses it; inference
     * leaves the layer and what reads it out, and asking for them says why */
    ck_assert_int_eq(unsharp_model_forward(m, &t, 1), UNSHARP_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "too small"));
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
    int shape[4];
    ck_assert_int_eq(unsharp_model_output_shape(m, "c", shape), UNSHARP_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "'c' was not computed: the input (2 x 2) is too small"));
    float one[1];
    unsharp_tensor o = unsharp_tensor_make(one, 1, 1, 1, 1);
    ck_assert_int_eq(unsharp_model_get_output(m, "d", &o), UNSHARP_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "'d' was not computed"));
    float y[64] = {0};
    t = unsharp_tensor_make(y, 1, 1, 8, 8);
    /* dense after a spatial map */
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "1x1"));
    unsharp_model_free(m);

    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=1 k=1\nsigmoid_ce l c\n", 1, NULL, &m), UNSHARP_OK);
    t = unsharp_tensor_make(y, 1, 1, 8, 8);
    ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_ERR_STATE);
    unsharp_tensor wrong = unsharp_tensor_make(y, 1, 2, 4, 8);
    ck_assert_int_eq(unsharp_model_forward(m, &wrong, 0), UNSHARP_ERR_SHAPE);
    ck_assert_int_eq(unsharp_model_forward(m, &t, 1), UNSHARP_ERR_STATE); /* no targets */
    ck_assert_int_eq(unsharp_model_set_target(m, "c", y, NULL, 64), UNSHARP_ERR_NOT_FOUND);
    ck_assert_int_eq(unsharp_model_set_target(m, "l", y, NULL, 63), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_forward(m, &t, 1), UNSHARP_ERR_SHAPE);
    ck_assert_int_eq(unsharp_model_set_target(m, "l", y, NULL, 64), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_ERR_STATE); /* inference forward */
    ck_assert_int_eq(unsharp_model_forward(m, &t, 1), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_ERR_STATE); /* twice */
    ck_assert_int_eq(unsharp_model_step(m), UNSHARP_ERR_STATE);     /* no optimiser */
    float p[1];
    ck_assert_int_eq(unsharp_model_get_param(m, "nope", p, 1), UNSHARP_ERR_NOT_FOUND);
    ck_assert_int_eq(unsharp_model_get_param(m, "c.weight", p, 2), UNSHARP_ERR_SHAPE);
    ck_assert_int_eq(unsharp_model_set_meta(m, "a=b", "x"), UNSHARP_ERR_INVALID);
    ck_assert_int_eq(unsharp_model_set_meta(m, "k", "line\nbreak"), UNSHARP_ERR_INVALID);
    unsharp_model_free(m);
    unsharp_model_free(NULL);
}
END_TEST

/* A toy task the network can learn: class 1 images have a bright centre. */
START_TEST(training_lowers_the_loss)
{
    const char *arch =
        "input x 1\n"
        "conv c1 x out=4 k=3 p=1\n"
        "relu r1 c1\n"
        "gmax g r1\n"
        "dense d g out=2\n"
        "softmax_ce loss d\n";
    for (int kind = 0; kind < 2; kind++) {
        unsharp_model *m = NULL;
        ck_assert_int_eq(unsharp_model_create(arch, 3, NULL, &m), UNSHARP_OK);
        unsharp_optimizer_config cfg = {.kind = kind ? UNSHARP_OPT_SGD : UNSHARP_OPT_ADAM, .lr = kind ? 0.05f : 0.02f,
                                        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .momentum = 0.9f};
        ck_assert_int_eq(unsharp_model_set_optimizer(m, &cfg), UNSHARP_OK);
        enum { N = 8, S = 8 };
        float x[N * S * S], label[N];
        unsigned seed = 5;
        for (int n = 0; n < N; n++) {
            label[n] = (float)(n % 2);
            for (int i = 0; i < S * S; i++) x[n * S * S + i] = (float)(rand_r(&seed) % 100) / 400.0f;
            if (n % 2) x[n * S * S + 3 * S + 4] += 1.0f;
        }
        unsharp_tensor t = unsharp_tensor_make(x, N, 1, S, S);
        ck_assert_int_eq(unsharp_model_set_target(m, "loss", label, NULL, N), UNSHARP_OK);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++) {
            ck_assert_int_eq(unsharp_model_zero_grad(m), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_forward(m, &t, 1), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_loss(m, &last), UNSHARP_OK);
            if (step == 0) first = last;
            ck_assert_int_eq(unsharp_model_backward(m), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_step(m), UNSHARP_OK);
        }
        ck_assert_msg(isfinite(last) && last < 0.5 * first, "optimiser %d: loss %g -> %g", kind, first, last);
        unsharp_model_free(m);
    }
}
END_TEST

START_TEST(strided_input_equals_contiguous)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 2\nconv c x out=3 k=3 p=1\n", 9, NULL, &m), UNSHARP_OK);
    float nchw[2 * 5 * 4], nhwc[5 * 4 * 2];
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 20; i++) {
            nchw[c * 20 + i] = (float)(c * 31 + i * 7 % 11);
            nhwc[i * 2 + c] = nchw[c * 20 + i];
        }
    unsharp_tensor a = unsharp_tensor_make(nchw, 1, 2, 5, 4);
    unsharp_tensor b = {.data = nhwc, .n = 1, .c = 2, .h = 5, .w = 4, .sn = 40, .sc = 1, .sh = 8, .sw = 2};
    float ya[60], yb[60];
    unsharp_tensor ta = unsharp_tensor_make(ya, 1, 3, 5, 4), tb = unsharp_tensor_make(yb, 1, 3, 5, 4);
    ck_assert_int_eq(unsharp_model_forward(m, &a, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(m, "c", &ta), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_forward(m, &b, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(m, "c", &tb), UNSHARP_OK);
    ck_assert(memcmp(ya, yb, sizeof ya) == 0);
    unsharp_model_free(m);
}
END_TEST

/* unsharp_model_get_output writes into any strides, as the header says: a 1x1 convolution with
 * weight 2 and bias 1 gives 2x + 1 (and a second channel -x), read into rows padded by three
 * floats (left as they were) and channels and images apart. */
START_TEST(output_into_any_strides)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=2 k=1\n", 1, NULL, &m), UNSHARP_OK);
    float w[2] = {2, -1}, b[2] = {1, 0};
    ck_assert_int_eq(unsharp_model_set_param(m, "c.weight", w, 2), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_param(m, "c.bias", b, 2), UNSHARP_OK);
    float x[2 * 4 * 5];
    for (int i = 0; i < 40; i++) x[i] = (float)i;
    unsharp_tensor in = unsharp_tensor_make(x, 2, 1, 4, 5);
    ck_assert_int_eq(unsharp_model_forward(m, &in, 0), UNSHARP_OK);
    enum { SH = 8, SC = 40, SN = 100 };
    float y[2 * SN];
    for (int i = 0; i < 2 * SN; i++) y[i] = -0.5f; /* no output is ever -0.5 */
    unsharp_tensor out = {.data = y, .n = 2, .c = 2, .h = 4, .w = 5, .sn = SN, .sc = SC, .sh = SH, .sw = 1};
    ck_assert_int_eq(unsharp_model_get_output(m, "c", &out), UNSHARP_OK);
    int written = 0;
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 2; c++)
            for (int h = 0; h < 4; h++)
                for (int v = 0; v < 5; v++) {
                    float xv = x[n * 20 + h * 5 + v], want = c ? -xv : 2 * xv + 1;
                    ck_assert_float_eq(y[n * SN + c * SC + h * SH + v], want);
                    written++;
                }
    int untouched = 0;
    for (int i = 0; i < 2 * SN; i++) untouched += y[i] == -0.5f;
    ck_assert_int_eq(written, 80);
    ck_assert_int_eq(untouched, 2 * SN - 80);
    unsharp_model_free(m);
}
END_TEST

/* The dense layer's forward against a naive loop over its own parameters. */
START_TEST(dense_forward_matches_naive)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 5\ngmean g x\ndense d g out=4\n", 21, NULL, &m), UNSHARP_OK);
    enum { N = 3, C = 5, K = 4, S = 2 };
    float x[N * C * S * S], w[K * C], b[K], y[N * K];
    for (int i = 0; i < N * C * S * S; i++) x[i] = (float)((i * 37) % 23) / 11.0f - 1.0f;
    for (int i = 0; i < K; i++) b[i] = 0.25f * (float)i - 0.3f;
    ck_assert_int_eq(unsharp_model_set_param(m, "d.bias", b, K), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_param(m, "d.weight", w, K * C), UNSHARP_OK);
    unsharp_tensor t = unsharp_tensor_make(x, N, C, S, S), out = unsharp_tensor_make(y, N, K, 1, 1);
    ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(m, "d", &out), UNSHARP_OK);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) {
            double want = b[k];
            for (int c = 0; c < C; c++) {
                double mean = 0;
                for (int i = 0; i < S * S; i++) mean += x[(n * C + c) * S * S + i];
                want += w[k * C + c] * (mean / (S * S));
            }
            ck_assert_msg(fabs(y[n * K + k] - want) < 1e-5, "y[%d][%d] = %g, naive %g", n, k, y[n * K + k], want);
        }
    unsharp_model_free(m);
}
END_TEST

/* Local contrast normalisation of the input, joined to it along channels (spatial maps):
 * against the input itself and a naive loop that sums each clipped window directly, in
 * inference and in training. */
START_TEST(lcn_and_spatial_concat_match_naive)
{
    enum { N = 2, C = 2, H = 7, W = 9, K = 5 };
    const double eps = 0.1;
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 2\nlcn n x k=5 eps=0.1\nconcat both x,n\n", 1, NULL, &m),
                     UNSHARP_OK);
    float x[N * C * H * W], y[N * 2 * C * H * W];
    for (int i = 0; i < N * C * H * W; i++) x[i] = (float)((i * 37) % 23) / 23.0f + (i % 5 == 0 ? 0.5f : 0.0f);
    unsharp_tensor t = unsharp_tensor_make(x, N, C, H, W), out = unsharp_tensor_make(y, N, 2 * C, H, W);
    for (int training = 0; training < 2; training++) {
        ck_assert_int_eq(unsharp_model_forward(m, &t, training), UNSHARP_OK);
        ck_assert_int_eq(unsharp_model_get_output(m, "both", &out), UNSHARP_OK);
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int i = 0; i < H; i++)
                    for (int j = 0; j < W; j++) {
                        const float *xp = x + (n * C + c) * H * W;
                        double sum = 0, ss = 0;
                        int cnt = 0;
                        for (int a = i - K / 2; a <= i + K / 2; a++)
                            for (int b = j - K / 2; b <= j + K / 2; b++)
                                if (a >= 0 && a < H && b >= 0 && b < W) sum += xp[a * W + b], cnt++;
                        double mean = sum / cnt;
                        for (int a = i - K / 2; a <= i + K / 2; a++)
                            for (int b = j - K / 2; b <= j + K / 2; b++)
                                if (a >= 0 && a < H && b >= 0 && b < W) ss += (xp[a * W + b] - mean) * (xp[a * W + b] - mean);
                        double want = (xp[i * W + j] - mean) / sqrt(ss / cnt + eps * eps);
                        float got_x = y[((n * 2 * C + c) * H + i) * W + j];
                        float got_n = y[((n * 2 * C + C + c) * H + i) * W + j];
                        ck_assert_msg(got_x == xp[i * W + j], "training=%d: both[%d][%d] at (%d,%d) = %g, input %g",
                                      training, n, c, i, j, got_x, xp[i * W + j]);
                        ck_assert_msg(fabs(got_n - want) < 1e-5 * fmax(1.0, fabs(want)),
                                      "training=%d: both[%d][%d] at (%d,%d) = %g, naive lcn %g", training, n, C + c,
                                      i, j, got_n, want);
                    }
    }
    unsharp_model_free(m);
}
END_TEST

/* In inference a leaky ReLU that is a convolution's only reader is computed in the
 * convolution's place: its output must still equal a naive conv + leaky ReLU, the convolution's
 * own output is refused with a message naming the activation, and a training forward keeps
 * both (the pre-activation must equal the naive sums). */
START_TEST(inference_activation_in_place)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 2\nconv c x out=3 k=3 p=1\nlrelu a c slope=0.1\n"
                                          "gmean g a\ndense d g out=2\nsoftmax_ce loss d\n", 5, NULL, &m),
                     UNSHARP_OK);
    enum { C = 2, H = 6, W = 7, O = 3 };
    float x[C * H * W], w[O * C * 9], b[O], y[O * H * W], a[O * H * W];
    for (int i = 0; i < C * H * W; i++) x[i] = (float)((i * 29) % 17) / 8.0f - 1.0f;
    ck_assert_int_eq(unsharp_model_get_param(m, "c.weight", w, O * C * 9), UNSHARP_OK);
    for (int o = 0; o < O; o++) b[o] = 0.2f * (float)o - 0.25f;
    ck_assert_int_eq(unsharp_model_set_param(m, "c.bias", b, O), UNSHARP_OK);
    double pre[O * H * W];
    for (int o = 0; o < O; o++)
        for (int yy = 0; yy < H; yy++)
            for (int xx = 0; xx < W; xx++) {
                double v = b[o];
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) {
                            int iy = yy + i - 1, ix = xx + j - 1;
                            if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                                v += (double)w[((o * C + c) * 3 + i) * 3 + j] * x[(c * H + iy) * W + ix];
                        }
                pre[(o * H + yy) * W + xx] = v;
            }
    unsharp_tensor t = unsharp_tensor_make(x, 1, C, H, W), ty = unsharp_tensor_make(y, 1, O, H, W),
                   ta = unsharp_tensor_make(a, 1, O, H, W);
    for (int training = 0; training <= 1; training++) {
        if (training) {
            float target = 1;
            ck_assert_int_eq(unsharp_model_set_target(m, "loss", &target, NULL, 1), UNSHARP_OK);
        }
        ck_assert_int_eq(unsharp_model_forward(m, &t, training), UNSHARP_OK);
        ck_assert_int_eq(unsharp_model_get_output(m, "a", &ta), UNSHARP_OK);
        for (int k = 0; k < O * H * W; k++) {
            double want = pre[k] > 0 ? pre[k] : 0.1 * pre[k];
            ck_assert_msg(fabs(a[k] - want) < 1e-5, "training %d: a[%d] = %g, naive %g", training, k, a[k], want);
        }
        int shape[4];
        if (!training) {
            ck_assert_int_eq(unsharp_model_get_output(m, "c", &ty), UNSHARP_ERR_STATE);
            ck_assert_msg(strstr(unsharp_model_errmsg(m), "'a'") != NULL, "message '%s' lacks the activation",
                          unsharp_model_errmsg(m));
            ck_assert_int_eq(unsharp_model_output_shape(m, "c", shape), UNSHARP_ERR_STATE);
        } else {
            ck_assert_int_eq(unsharp_model_output_shape(m, "c", shape), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_get_output(m, "c", &ty), UNSHARP_OK);
            for (int k = 0; k < O * H * W; k++)
                ck_assert_msg(fabs(y[k] - pre[k]) < 1e-5, "c[%d] = %g, naive %g", k, y[k], pre[k]);
        }
    }
    unsharp_model_free(m);
}
END_TEST

/* The 8-bit forward (model.h, for the judge) against the float forward of the same samples
 * times 1/255: the same outputs bit for bit, both when the first convolution reads the
 * samples itself (a 6x6 stride-4 layer as the network's first, widths that exercise the
 * vector split and both row ends; and a stride-2 one, split column by column) and when the
 * model converts them first (a kernel larger than the direct path takes; an input read by two
 * layers). After a direct read the input layer has no output to give. */
START_TEST(eight_bit_input_equals_float)
{
    static const struct { const char *arch; int direct; } cases[] = {
        {"input luma 1\nconv c1 luma out=8 k=6 s=4 p=1\nlrelu a1 c1 slope=0.1\nconv c2 a1 out=4 k=3 s=2 p=1\ngmean out c2\n", 1},
        {"input luma 1\nconv c1 luma out=5 k=3 s=2 p=1\ngmax out c1\n", 1},
        {"input luma 1\nconv c1 luma out=2 k=20 s=4\ngmean out c1\n", 0},
        {"input luma 1\nconv c1 luma out=3 k=3 p=1\nconv c2 luma out=3 k=3 p=1\nconcat cc c1,c2\ngmean out cc\n", 0},
    };
    static const int sizes[][2] = {{37, 23}, {230, 41}, {101, 64}, {24, 24}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            const int w = sizes[z][0], h = sizes[z][1], stride = w + 7;
            unsharp_model *m = NULL;
            ck_assert_int_eq(unsharp_model_create(cases[c].arch, 11 + (uint64_t)c, NULL, &m), UNSHARP_OK);
            unsigned char *px = malloc((size_t)stride * h);
            float *fx = malloc(sizeof(float) * (size_t)w * h);
            ck_assert(px && fx);
            for (int i = 0; i < stride * h; i++) px[i] = (unsigned char)((i * 97 + (i / stride) * 31 + (int)c) % 256);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) fx[y * w + x] = px[y * stride + x] * (1.0f / 255);
            unsharp_tensor t = unsharp_tensor_make(fx, 1, 1, h, w);
            int shape[4];
            ck_assert_int_eq(unsharp_model_forward(m, &t, 0), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_output_shape(m, "out", shape), UNSHARP_OK);
            size_t n = (size_t)shape[0] * shape[1] * shape[2] * shape[3];
            float want[8], got[8];
            ck_assert_uint_le(n, 8);
            unsharp_tensor o = unsharp_tensor_make(want, shape[0], shape[1], shape[2], shape[3]);
            ck_assert_int_eq(unsharp_model_get_output(m, "out", &o), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_forward_u8(m, px, (size_t)stride, h, w, 1.0f / 255), UNSHARP_OK);
            ck_assert_msg(unsharp__model_input_was_u8(m) == cases[c].direct, "case %zu, %dx%d: direct read %d, want %d",
                          c, w, h, unsharp__model_input_was_u8(m), cases[c].direct);
            o.data = got;
            ck_assert_int_eq(unsharp_model_get_output(m, "out", &o), UNSHARP_OK);
            ck_assert_msg(memcmp(want, got, n * sizeof(float)) == 0, "case %zu, %dx%d: 8-bit forward %g, float %g", c, w,
                          h, got[0], want[0]);
            ck_assert_int_eq(unsharp_model_output_shape(m, "luma", shape),
                             cases[c].direct ? UNSHARP_ERR_STATE : UNSHARP_OK);
            free(px);
            free(fx);
            unsharp_model_free(m);
        }
}
END_TEST

/* Tied weights (unsharp_model_tie_transpose): the network's tile map for a transposed photo is
 * its tile map transposed, and its image logits are the same, for a network with the context
 * branch's shape (strided, pooled and concatenated channels, a hidden image layer, random
 * biases). Untied, the same network gives other answers; odd channel counts and a kernel that
 * is not square are refused by name. */
static unsigned tie_seed;
static double tie_uniform(void) { return (double)(rand_r(&tie_seed) % 10000) / 10000.0; }

static void outputs(unsharp_model *m, float *x, int h, int w, float *tiles, int *th, int *tw, float image[3])
{
    unsharp_tensor in = unsharp_tensor_make(x, 1, 1, h, w);
    ck_assert_int_eq(unsharp_model_forward(m, &in, 0), UNSHARP_OK);
    int shape[4];
    ck_assert_int_eq(unsharp_model_output_shape(m, "tiles", shape), UNSHARP_OK);
    *th = shape[2];
    *tw = shape[3];
    unsharp_tensor t = unsharp_tensor_make(tiles, 1, 1, *th, *tw), im = unsharp_tensor_make(image, 1, 3, 1, 1);
    ck_assert_int_eq(unsharp_model_get_output(m, "tiles", &t), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_get_output(m, "image", &im), UNSHARP_OK);
}

static double transpose_gap(unsharp_model *m)
{
    enum { H = 72, W = 56 };
    static float x[H * W], xt[H * W], a[64], b[64];
    tie_seed = 5;
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W; i++) x[y * W + i] = xt[i * H + y] = (float)tie_uniform();
    float ia[3], ib[3];
    int ah, aw, bh, bw;
    outputs(m, x, H, W, a, &ah, &aw, ia);
    outputs(m, xt, W, H, b, &bh, &bw, ib);
    ck_assert_int_eq(ah, bw);
    ck_assert_int_eq(aw, bh);
    double gap = 0.0;
    for (int y = 0; y < ah; y++)
        for (int i = 0; i < aw; i++) gap = fmax(gap, fabs((double)a[y * aw + i] - b[i * bw + y]));
    for (int k = 0; k < 3; k++) gap = fmax(gap, fabs((double)ia[k] - ib[k]));
    return gap;
}

START_TEST(tied_weights_see_the_transpose_alike)
{
    const char *arch = "input luma 1\nconv c1 luma out=4 k=6 s=4 p=1\nlrelu a1 c1 slope=0.1\n"
                       "conv c2 a1 out=6 k=3 s=2 p=1\nlrelu a2 c2 slope=0.1\navgpool ctx a2 k=3 s=1 p=1\n"
                       "conv cc ctx out=4 k=1\nlrelu ac cc slope=0.1\nconcat both a2,ac\n"
                       "conv tiles both out=1 k=1\nsigmoid_ce tile_loss tiles\ngmean gm a2\ngmax gx a2\n"
                       "gvar gv a2\nconcat feat gm,gx,gv\ndense ih feat out=8\nlrelu aih ih slope=0.1\n"
                       "dense image aih out=3\navgpool blocks tiles k=2 s=1\ngmax peak blocks\n"
                       "sigmoid_ce peak_loss peak weight=3\nsoftmax_ce image_loss image\n";
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create(arch, 7, NULL, &m), UNSHARP_OK);
    tie_seed = 11;
    for (int i = 0; i < unsharp_model_param_count(m); i++) { /* biases away from their zero start */
        const char *name;
        size_t n;
        ck_assert_int_eq(unsharp_model_param_info(m, i, &name, &n, NULL), UNSHARP_OK);
        if (!strstr(name, ".bias")) continue;
        float v[64];
        ck_assert_uint_le(n, 64);
        for (size_t k = 0; k < n; k++) v[k] = (float)(tie_uniform() - 0.5);
        ck_assert_int_eq(unsharp_model_set_param(m, name, v, n), UNSHARP_OK);
    }
    double untied = transpose_gap(m);
    ck_assert_msg(untied > 1e-3, "untied, the transpose already gives the same answers (%g)", untied);
    ck_assert_int_eq(unsharp_model_tie_transpose(m), UNSHARP_OK);
    ck_assert_str_eq(unsharp_model_errmsg(m), "");
    double tied = transpose_gap(m);
    ck_assert_msg(tied < 1e-5, "tied, the transpose differs by %g (untied %g)", tied, untied);
    /* tying is a projection: a second time changes nothing */
    size_t total = unsharp_model_param_total(m), off = 0;
    float *p1 = calloc(total, sizeof *p1), *p2 = calloc(total, sizeof *p2);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    for (int pass = 0; pass < 2; pass++) {
        off = 0;
        for (int i = 0; i < unsharp_model_param_count(m); i++) {
            const char *name;
            size_t n;
            ck_assert_int_eq(unsharp_model_param_info(m, i, &name, &n, NULL), UNSHARP_OK);
            ck_assert_int_eq(unsharp_model_get_param(m, name, (pass ? p2 : p1) + off, n), UNSHARP_OK);
            off += n;
        }
        if (!pass) ck_assert_int_eq(unsharp_model_tie_transpose(m), UNSHARP_OK);
    }
    ck_assert_int_eq(memcmp(p1, p2, off * sizeof *p1), 0);
    free(p1);
    free(p2);
    unsharp_model_free(m);

    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=3 k=3\nlrelu a c\nconv t a out=1 k=1\nsigmoid_ce l t\n",
                                          1, NULL, &m), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_tie_transpose(m), UNSHARP_ERR_INVALID);
    ck_assert_msg(strstr(unsharp_model_errmsg(m), "layer 'c' (line 2) has 3 outputs"), "%s", unsharp_model_errmsg(m));
    unsharp_model_free(m);
    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=2 kh=3 kw=1\n", 1, NULL, &m), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_tie_transpose(m), UNSHARP_ERR_INVALID);
    ck_assert_msg(strstr(unsharp_model_errmsg(m), "square"), "%s", unsharp_model_errmsg(m));
    unsharp_model_free(m);
    ck_assert_int_eq(unsharp_model_tie_transpose(NULL), UNSHARP_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, architecture_errors);
    tcase_add_test(tc, shapes_follow_the_layers);
    tcase_add_test(tc, bad_calls_are_refused);
    tcase_add_test(tc, training_lowers_the_loss);
    tcase_add_test(tc, strided_input_equals_contiguous);
    tcase_add_test(tc, output_into_any_strides);
    tcase_add_test(tc, dense_forward_matches_naive);
    tcase_add_test(tc, lcn_and_spatial_concat_match_naive);
    tcase_add_test(tc, inference_activation_in_place);
    tcase_add_test(tc, eight_bit_input_equals_float);
    tcase_add_test(tc, tied_weights_see_the_transpose_alike);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
