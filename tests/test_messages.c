/* test_messages.c: what each public failure of the model handle says, and where. Every call
 * with a handle leaves its message on the handle (unsharp_model_errmsg), set on failure and
 * cleared on success; a call without one (or given NULL for it) leaves it in the thread's
 * (unsharp_errmsg, and unsharp_model_errmsg(NULL)). The expected words are written here from
 * the header's promises; no message may name a function of the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

/* a message for people: no "name():", no library function names */
static void for_people(const char *msg)
{
    ck_assert_msg(!strstr(msg, "()") && !strstr(msg, "unsharp_"), "message names a function: '%s'", msg);
}

/* call fails with status want and the handle's message holds text (the thread's untouched) */
#define FAILS_ON(m, want, text, call)                                                                    \
    do {                                                                                                 \
        unsharp_check_version(999, 0); /* plant a thread message: it must stay */                       \
        char planted_[512];                                                                              \
        snprintf(planted_, sizeof planted_, "%s", unsharp_errmsg());                                     \
        unsharp_status s_ = (call);                                                                      \
        ck_assert_msg(s_ == (want), "%s: %s, want %s (%s)", #call, unsharp_status_name(s_),              \
                      unsharp_status_name(want), unsharp_model_errmsg(m));                               \
        ck_assert_msg(strstr(unsharp_model_errmsg(m), (text)) != NULL, "%s: message '%s' lacks '%s'",    \
                      #call, unsharp_model_errmsg(m), (text));                                           \
        for_people(unsharp_model_errmsg(m));                                                             \
        ck_assert_str_eq(unsharp_errmsg(), planted_);                                                    \
    } while (0)

/* call succeeds and leaves the handle's message empty, though a failure set one before */
#define CLEARS(m, call)                                                                                  \
    do {                                                                                                 \
        unsharp_model_set_meta((m), "", "x"); /* a failure on the handle */                             \
        ck_assert(unsharp_model_errmsg(m)[0] != 0);                                                      \
        unsharp_status s_ = (call);                                                                      \
        ck_assert_msg(s_ == UNSHARP_OK, "%s: %s (%s)", #call, unsharp_status_name(s_), unsharp_model_errmsg(m)); \
        ck_assert_msg(unsharp_model_errmsg(m)[0] == 0, "%s left '%s'", #call, unsharp_model_errmsg(m));  \
    } while (0)

/* call without a handle (or with NULL for it) fails with want and the thread's message holds text */
#define FAILS_ALONE(want, text, call)                                                                    \
    do {                                                                                                 \
        unsharp_status s_ = (call);                                                                      \
        ck_assert_msg(s_ == (want), "%s: %s, want %s (%s)", #call, unsharp_status_name(s_),              \
                      unsharp_status_name(want), unsharp_errmsg());                                      \
        ck_assert_msg(strstr(unsharp_errmsg(), (text)) != NULL, "%s: message '%s' lacks '%s'", #call,    \
                      unsharp_errmsg(), (text));                                                         \
        ck_assert_str_eq(unsharp_model_errmsg(NULL), unsharp_errmsg());                                  \
        for_people(unsharp_errmsg());                                                                    \
    } while (0)

/* conv c (fused with its ReLU r in inference), a training-only loss, and a dense head */
static const char *ARCH = "input x 1\n"
                          "conv c x out=2 k=3 p=1\n"
                          "relu r c\n"
                          "conv t r out=1 k=3\n"
                          "sigmoid_ce l t\n"
                          "gmean g r\n"
                          "dense d g out=3\n";

static unsharp_model *model(void)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create(ARCH, 1, NULL, &m), UNSHARP_OK);
    ck_assert_str_eq(unsharp_errmsg(), "");
    return m;
}

START_TEST(creating_and_loading)
{
    unsharp_model *m = NULL;
    unsharp_model_options cpu = {.device = UNSHARP_DEVICE_CPU}, bad = {.device = (unsharp_device)7};
    FAILS_ALONE(UNSHARP_ERR_INVALID, "out is NULL", unsharp_model_create(ARCH, 1, NULL, NULL));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "no architecture text", unsharp_model_create(NULL, 1, NULL, &m));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "unknown device 7", unsharp_model_create(ARCH, 1, &bad, &m));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "line 2", unsharp_model_create("input x 1\nconv c x k=3\n", 1, &cpu, &m));
    ck_assert_ptr_null(m);
    FAILS_ALONE(UNSHARP_ERR_INVALID, "NULL argument", unsharp_model_load(NULL, NULL, &m));
    FAILS_ALONE(UNSHARP_ERR_IO, "/nonexistent/w.usw: No such file or directory",
                unsharp_model_load("/nonexistent/w.usw", NULL, &m));
    FAILS_ALONE(UNSHARP_ERR_IO, "not a regular file", unsharp_model_load("/", NULL, &m));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "NULL argument", unsharp_model_load_memory(NULL, 4, NULL, &m));
    FAILS_ALONE(UNSHARP_ERR_BAD_MAGIC, "(memory)", unsharp_model_load_memory("nonsense", 8, NULL, &m));
    /* a success clears the thread's message */
    ck_assert_int_eq(unsharp_model_create(ARCH, 1, &cpu, &m), UNSHARP_OK);
    ck_assert_str_eq(unsharp_errmsg(), "");
    ck_assert_str_eq(unsharp_model_errmsg(m), "");
    unsharp_model_free(m);
}
END_TEST

/* AUTO on a machine or build without CUDA runs on the CPU, and nothing failed */
START_TEST(auto_device_leaves_no_message)
{
    unsharp_model *m = NULL;
    unsharp_model_options o = {.device = UNSHARP_DEVICE_AUTO};
    ck_assert_int_eq(unsharp_model_create(ARCH, 1, &o, &m), UNSHARP_OK);
    ck_assert_str_eq(unsharp_model_errmsg(m), "");
    ck_assert_str_eq(unsharp_errmsg(), "");
    unsharp_model_free(m);
    unsharp_model_options cuda = {.device = UNSHARP_DEVICE_CUDA};
    unsharp_status st = unsharp_model_create(ARCH, 1, &cuda, &m);
    if (st == UNSHARP_OK) {
        unsharp_model_free(m);
        return; /* a machine with a device: the refusal below cannot be seen */
    }
    ck_assert_msg(strstr(unsharp_errmsg(), "no CUDA device") != NULL, "%s", unsharp_errmsg());
    for_people(unsharp_errmsg());
}
END_TEST

START_TEST(metadata_and_parameters)
{
    unsharp_model *m = model();
    FAILS_ON(m, UNSHARP_ERR_INVALID, "a key is 1..255 characters", unsharp_model_set_meta(m, "a=b", "x"));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "key 'k': a value is at most 4095", unsharp_model_set_meta(m, "k", "a\nb"));
    CLEARS(m, unsharp_model_set_meta(m, "k", "v"));
    const char *name;
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no parameter 9 (the model has 6)", unsharp_model_param_info(m, 9, &name, NULL, NULL));
    CLEARS(m, unsharp_model_param_info(m, 0, &name, NULL, NULL));
    float v[64];
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no parameter 'zz.weight'", unsharp_model_get_param(m, "zz.weight", v, 18));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "parameter 'c.weight' has 18 values, not 17", unsharp_model_get_param(m, "c.weight", v, 17));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no destination", unsharp_model_get_param(m, "c.weight", NULL, 18));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no parameter name", unsharp_model_get_param(m, NULL, v, 18));
    CLEARS(m, unsharp_model_get_param(m, "c.weight", v, 18));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no source values", unsharp_model_set_param(m, "c.weight", NULL, 18));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "parameter 'c.bias' has 2 values, not 3", unsharp_model_set_param(m, "c.bias", v, 3));
    CLEARS(m, unsharp_model_set_param(m, "c.weight", v, 18));
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no parameter 'c'", unsharp_model_get_grad(m, "c", v, 18));
    CLEARS(m, unsharp_model_get_grad(m, "c.weight", v, 18));
    CLEARS(m, unsharp_model_zero_grad(m));
    unsharp_model_free(m);
}
END_TEST

START_TEST(forward_and_outputs)
{
    unsharp_model *m = model();
    float x[64] = {0}, y[256];
    unsharp_tensor in = unsharp_tensor_make(x, 1, 1, 8, 8), two = unsharp_tensor_make(x, 1, 2, 4, 8);
    int s[4];
    FAILS_ON(m, UNSHARP_ERR_STATE, "no forward yet", unsharp_model_output_shape(m, "c", s));
    unsharp_tensor o = unsharp_tensor_make(y, 1, 2, 8, 8);
    FAILS_ON(m, UNSHARP_ERR_STATE, "no forward yet", unsharp_model_get_output(m, "r", &o));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no input tensor", unsharp_model_forward(m, NULL, 0));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "the model takes (N, 1, H, W)", unsharp_model_forward(m, &two, 0));
    FAILS_ON(m, UNSHARP_ERR_STATE, "", unsharp_model_forward(m, &in, 1)); /* no targets */
    ck_assert_msg(strstr(unsharp_model_errmsg(m), "'l'") != NULL, "%s", unsharp_model_errmsg(m));
    CLEARS(m, unsharp_model_forward(m, &in, 0));
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no output layer 'zz'", unsharp_model_output_shape(m, "zz", s));
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no output layer 'l'", unsharp_model_output_shape(m, "l", s));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no shape array", unsharp_model_output_shape(m, "r", NULL));
    FAILS_ON(m, UNSHARP_ERR_STATE, "layer 'c' is not kept in inference: its activation 'r'",
             unsharp_model_output_shape(m, "c", s));
    CLEARS(m, unsharp_model_output_shape(m, "r", s));
    unsharp_tensor wrong = unsharp_tensor_make(y, 1, 2, 8, 7);
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "'r' is (1, 2, 8, 8), the tensor (1, 2, 8, 7)", unsharp_model_get_output(m, "r", &wrong));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no output tensor", unsharp_model_get_output(m, "r", NULL));
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no output layer 'zz'", unsharp_model_get_output(m, "zz", &o));
    CLEARS(m, unsharp_model_get_output(m, "r", &o));
    /* an input too small for t: skipped in inference, refused in training */
    unsharp_tensor tiny = unsharp_tensor_make(x, 1, 1, 2, 2);
    CLEARS(m, unsharp_model_forward(m, &tiny, 0));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "layer 't' was not computed: the input (2 x 2) is too small for it",
             unsharp_model_output_shape(m, "t", s));
    unsharp_tensor t1 = unsharp_tensor_make(y, 1, 1, 1, 1);
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "layer 't' was not computed", unsharp_model_get_output(m, "t", &t1));
    float tg[36] = {0};
    CLEARS(m, unsharp_model_set_target(m, "l", tg, NULL, 36));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "layer 't': input (2 x 2) is too small for it", unsharp_model_forward(m, &tiny, 1));
    unsharp_model_free(m);
}
END_TEST

START_TEST(training_calls)
{
    unsharp_model *m = model();
    float x[64] = {0}, tg[36] = {0};
    double loss;
    unsharp_tensor in = unsharp_tensor_make(x, 1, 1, 8, 8);
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no loss layer 't'", unsharp_model_set_target(m, "t", tg, NULL, 36));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no targets for 'l'", unsharp_model_set_target(m, "l", NULL, NULL, 36));
    FAILS_ON(m, UNSHARP_ERR_STATE, "no forward with training=1 yet", unsharp_model_loss(m, &loss));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no place for the loss", unsharp_model_loss(m, NULL));
    FAILS_ON(m, UNSHARP_ERR_STATE, "backward needs a forward with training=1", unsharp_model_backward(m));
    CLEARS(m, unsharp_model_set_target(m, "l", tg, NULL, 35)); /* counted by the next forward */
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "35", unsharp_model_forward(m, &in, 1));
    CLEARS(m, unsharp_model_set_target(m, "l", tg, NULL, 36));
    CLEARS(m, unsharp_model_forward(m, &in, 1));
    CLEARS(m, unsharp_model_loss(m, &loss));
    CLEARS(m, unsharp_model_backward(m));

    unsharp_optimizer_config c = {.kind = UNSHARP_OPT_ADAM, .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    FAILS_ON(m, UNSHARP_ERR_STATE, "no optimiser set", unsharp_model_step(m));
    FAILS_ON(m, UNSHARP_ERR_STATE, "no optimiser set", unsharp_model_set_lr(m, 0.1f));
    char path[600];
    snprintf(path, sizeof path, "%s/ck.usw", tu_dir);
    FAILS_ON(m, UNSHARP_ERR_STATE, "no optimiser set: nothing to checkpoint", unsharp_model_save_checkpoint(m, path));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "no optimiser configuration", unsharp_model_set_optimizer(m, NULL));
    unsharp_optimizer_config b = c;
    b.kind = (unsharp_optimizer_kind)9;
    FAILS_ON(m, UNSHARP_ERR_INVALID, "unknown optimiser 9", unsharp_model_set_optimizer(m, &b));
    b = c;
    b.lr = -1;
    FAILS_ON(m, UNSHARP_ERR_INVALID, "learning rate and weight decay must be finite and >= 0", unsharp_model_set_optimizer(m, &b));
    b = c;
    b.beta1 = 1;
    FAILS_ON(m, UNSHARP_ERR_INVALID, "Adam needs 0 <= beta1, beta2 < 1 and eps > 0", unsharp_model_set_optimizer(m, &b));
    b = (unsharp_optimizer_config){.kind = UNSHARP_OPT_SGD, .lr = 0.1f, .momentum = 1};
    FAILS_ON(m, UNSHARP_ERR_INVALID, "SGD momentum must be in [0, 1)", unsharp_model_set_optimizer(m, &b));
    CLEARS(m, unsharp_model_set_optimizer(m, &c));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "bad learning rate -1", unsharp_model_set_lr(m, -1));
    CLEARS(m, unsharp_model_set_lr(m, 0.01f));
    CLEARS(m, unsharp_model_step(m));
    FAILS_ON(m, UNSHARP_ERR_IO, "/nonexistent/w.usw", unsharp_model_save(m, "/nonexistent/w.usw"));
    FAILS_ON(m, UNSHARP_ERR_IO, "/nonexistent/w.usw", unsharp_model_save_checkpoint(m, "/nonexistent/w.usw"));
    CLEARS(m, unsharp_model_save(m, path));
    CLEARS(m, unsharp_model_save_checkpoint(m, path));
    unsharp_model_free(m);
}
END_TEST

/* every call given no model says so in the thread's message */
START_TEST(no_model)
{
    float v[4];
    int s[4];
    double loss;
    unsharp_tensor t = unsharp_tensor_make(v, 1, 1, 2, 2);
    unsharp_optimizer_config c = {.kind = UNSHARP_OPT_SGD, .lr = 0.1f};
    unsharp_judgement j;
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_save(NULL, "x"));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_save_checkpoint(NULL, "x"));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_set_meta(NULL, "k", "v"));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_param_info(NULL, 0, NULL, NULL, NULL));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_get_param(NULL, "a", v, 1));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_set_param(NULL, "a", v, 1));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_get_grad(NULL, "a", v, 1));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_forward(NULL, &t, 0));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_output_shape(NULL, "a", s));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_get_output(NULL, "a", &t));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_set_target(NULL, "a", v, NULL, 1));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_loss(NULL, &loss));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_zero_grad(NULL));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_backward(NULL));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_set_optimizer(NULL, &c));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_set_lr(NULL, 0.1f));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_model_step(NULL));
    FAILS_ALONE(UNSHARP_ERR_INVALID, "model is NULL", unsharp_judge(NULL, NULL, NULL, &j));
}
END_TEST

START_TEST(judging)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create("input luma 1\nconv tiles luma out=1 k=32 s=32\ngmean g tiles\n"
                                          "dense image g out=3\n", 1, NULL, &m), UNSHARP_OK);
    unsigned char px[64 * 64] = {0};
    unsharp_image tiny = {.width = 2, .height = 2, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 2, .pixels = px};
    unsharp_image strip = {.width = 1, .height = 64, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 1, .pixels = px};
    unsharp_image ok = {.width = 64, .height = 64, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 64, .pixels = px};
    unsharp_image rgb = {.width = 8, .height = 8, .channels = 3, .format = UNSHARP_PIXEL_RGB8, .stride = 24, .pixels = px};
    unsharp_judgement j = {0};
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "too small to judge: 2 x 2 pixels", unsharp_judge(m, &tiny, NULL, &j));
    FAILS_ON(m, UNSHARP_ERR_SHAPE, "too small to judge: 1 x 64 pixels", unsharp_judge(m, &strip, NULL, &j));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "the photo must be decoded as luma", unsharp_judge(m, &rgb, NULL, &j));
    FAILS_ON(m, UNSHARP_ERR_INVALID, "NULL argument", unsharp_judge(m, NULL, NULL, &j));
    CLEARS(m, unsharp_judge(m, &ok, NULL, &j));
    unsharp_judgement_free(&j);
    unsharp_model_free(m);

    ck_assert_int_eq(unsharp_model_create("input x 3\nconv tiles x out=1 k=3\n", 1, NULL, &m), UNSHARP_OK);
    FAILS_ON(m, UNSHARP_ERR_INVALID, "the model takes 3 channels, not luma", unsharp_judge(m, &ok, NULL, &j));
    unsharp_model_free(m);
    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=1 k=3\n", 1, NULL, &m), UNSHARP_OK);
    FAILS_ON(m, UNSHARP_ERR_NOT_FOUND, "no output layer 'tiles'", unsharp_judge(m, &ok, NULL, &j));
    unsharp_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("messages");
    TCase *tc = tcase_create("model");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, creating_and_loading);
    tcase_add_test(tc, auto_device_leaves_no_message);
    tcase_add_test(tc, metadata_and_parameters);
    tcase_add_test(tc, forward_and_outputs);
    tcase_add_test(tc, training_calls);
    tcase_add_test(tc, no_model);
    tcase_add_test(tc, judging);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
