/* test_torch_fixture.c: the engine against a PyTorch reference.
 *
 * tests/fixtures/torch_small.usfx is written by tests/torch/make_fixture.py (float64 PyTorch,
 * saved as float32). It holds an architecture text, an input, every parameter, every non-loss
 * layer output, the loss targets and weights, the total loss, every parameter gradient, and
 * the parameters after two AdamW steps and after two SGD steps. This suite builds the model
 * from that text, loads the parameters and compares everything.
 *
 * File format (little-endian): "USFX0001"; u32 arch_len, arch bytes; u32 count; count entries
 * of { u32 name_len, name bytes, u32 ndim, u32 dims[ndim], float32 data[prod(dims)] }. */
#include <check.h>
#include "testutil.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unsharp/unsharp.h>

#ifndef UNSHARP_SOURCE_DIR  /* CMake defines it; a bare compile runs from the source root */
#define UNSHARP_SOURCE_DIR "."
#endif
#define FIXTURE_PATH UNSHARP_SOURCE_DIR "/tests/fixtures/torch_small.usfx"
#define REGEN_HINT                                                                      \
    "if the fixture is stale or damaged, regenerate it with "                           \
    "`/usr/bin/python3 tests/torch/make_fixture.py` (needs Debian's python3-torch)"

#define TOL_OUT 1e-4   /* outputs and loss, relative to the largest magnitude */
#define TOL_GRAD 1e-3  /* gradients and optimiser updates */

#define FX_MAX_NDIM 8
#define FX_MAX_NAME 256
#define FX_MAX_ENTRIES 100000
#define FX_MAX_ELEMS (1u << 26)

typedef struct fx_entry {
    char name[FX_MAX_NAME + 1];
    int ndim;
    uint32_t dims[FX_MAX_NDIM];
    size_t count;
    float *data;
} fx_entry;

typedef struct fixture {
    char *arch;
    fx_entry *e;
    size_t n;
} fixture;

/* ---- reading the fixture, checking every read ------------------------------------------ */

typedef struct cursor {
    const unsigned char *p;
    size_t left;
    size_t off;
} cursor;

__attribute__((noreturn)) static void fx_fail(const cursor *c, const char *what)
{
    ck_abort_msg("%s: malformed fixture at byte %zu: %s; " REGEN_HINT, FIXTURE_PATH,
                 c ? c->off : (size_t)0, what);
}

static const unsigned char *take(cursor *c, size_t n, const char *what)
{
    if (n > c->left)
        fx_fail(c, what);
    const unsigned char *p = c->p;
    c->p += n;
    c->left -= n;
    c->off += n;
    return p;
}

static uint32_t take_u32(cursor *c, const char *what)
{
    const unsigned char *b = take(c, 4, what);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void fixture_free(fixture *fx)
{
    if (!fx)
        return;
    for (size_t i = 0; i < fx->n; i++)
        free(fx->e[i].data);
    free(fx->e);
    free(fx->arch);
    free(fx);
}

static fixture *fixture_load(void)
{
    FILE *f = fopen(FIXTURE_PATH, "rb");
    if (!f)
        ck_abort_msg("cannot open the PyTorch fixture %s: %s; regenerate it with "
                     "`/usr/bin/python3 tests/torch/make_fixture.py` (needs Debian's python3-torch)",
                     FIXTURE_PATH, strerror(errno));
    size_t cap = 1 << 18, size = 0;
    unsigned char *buf = malloc(cap);
    ck_assert_msg(buf != NULL, "out of memory reading %s", FIXTURE_PATH);
    for (;;) {
        if (size == cap) {
            ck_assert_msg(cap < ((size_t)1 << 30), "%s is implausibly large; " REGEN_HINT,
                          FIXTURE_PATH);
            cap *= 2;
            unsigned char *nb = realloc(buf, cap);
            ck_assert_msg(nb != NULL, "out of memory reading %s", FIXTURE_PATH);
            buf = nb;
        }
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0) {
            ck_assert_msg(!ferror(f), "error reading %s: %s", FIXTURE_PATH, strerror(errno));
            break;
        }
    }
    fclose(f);

    cursor c = {buf, size, 0};
    if (memcmp(take(&c, 8, "file shorter than its magic"), "USFX0001", 8) != 0)
        fx_fail(&c, "bad magic (expected USFX0001)");

    fixture *fx = calloc(1, sizeof *fx);
    ck_assert_msg(fx != NULL, "out of memory");
    uint32_t arch_len = take_u32(&c, "truncated architecture length");
    if (arch_len == 0 || arch_len > (1u << 20))
        fx_fail(&c, "implausible architecture length");
    const unsigned char *ab = take(&c, arch_len, "truncated architecture text");
    if (memchr(ab, 0, arch_len))
        fx_fail(&c, "NUL byte in the architecture text");
    fx->arch = malloc(arch_len + 1);
    ck_assert_msg(fx->arch != NULL, "out of memory");
    memcpy(fx->arch, ab, arch_len);
    fx->arch[arch_len] = '\0';

    uint32_t count = take_u32(&c, "truncated entry count");
    if (count == 0 || count > FX_MAX_ENTRIES)
        fx_fail(&c, "implausible entry count");
    fx->e = calloc(count, sizeof *fx->e);
    ck_assert_msg(fx->e != NULL, "out of memory");
    for (uint32_t i = 0; i < count; i++) {
        fx_entry *e = &fx->e[i];
        uint32_t nl = take_u32(&c, "truncated name length");
        if (nl == 0 || nl > FX_MAX_NAME)
            fx_fail(&c, "implausible name length");
        const unsigned char *nb = take(&c, nl, "truncated entry name");
        if (memchr(nb, 0, nl))
            fx_fail(&c, "NUL byte in an entry name");
        memcpy(e->name, nb, nl);
        e->name[nl] = '\0';
        uint32_t nd = take_u32(&c, "truncated ndim");
        if (nd == 0 || nd > FX_MAX_NDIM)
            fx_fail(&c, "implausible ndim");
        e->ndim = (int)nd;
        size_t total = 1;
        for (uint32_t d = 0; d < nd; d++) {
            e->dims[d] = take_u32(&c, "truncated dims");
            if (e->dims[d] == 0 || e->dims[d] > FX_MAX_ELEMS || total * e->dims[d] > FX_MAX_ELEMS)
                fx_fail(&c, "implausible dims");
            total *= e->dims[d];
        }
        e->count = total;
        const unsigned char *db = take(&c, total * 4, "truncated tensor data");
        e->data = malloc(total * sizeof(float));
        ck_assert_msg(e->data != NULL, "out of memory");
        for (size_t k = 0; k < total; k++) {
            uint32_t u = (uint32_t)db[4 * k] | (uint32_t)db[4 * k + 1] << 8 |
                         (uint32_t)db[4 * k + 2] << 16 | (uint32_t)db[4 * k + 3] << 24;
            memcpy(&e->data[k], &u, 4);
        }
        fx->n = i + 1;
    }
    if (c.left != 0)
        fx_fail(&c, "trailing bytes after the last entry");
    free(buf);
    return fx;
}

static const fx_entry *fx_find(const fixture *fx, const char *name)
{
    for (size_t i = 0; i < fx->n; i++)
        if (strcmp(fx->e[i].name, name) == 0)
            return &fx->e[i];
    return NULL;
}

/* The entry "prefix:name"; fails unless it exists and has count elements (0: any). */
static const fx_entry *fx_need(const fixture *fx, const char *prefix, const char *name, size_t count)
{
    char key[2 * FX_MAX_NAME];
    snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? ":" : "", name);
    const fx_entry *e = fx_find(fx, key);
    ck_assert_msg(e != NULL, "fixture %s has no entry \"%s\"; " REGEN_HINT, FIXTURE_PATH, key);
    ck_assert_msg(count == 0 || e->count == count,
                  "fixture entry \"%s\" has %zu values, the engine expects %zu; " REGEN_HINT, key,
                  e->count, count);
    return e;
}

static size_t fx_count_prefix(const fixture *fx, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (size_t i = 0; i < fx->n; i++)
        if (strncmp(fx->e[i].name, prefix, pl) == 0)
            n++;
    return n;
}

/* ---- comparisons ------------------------------------------------------------------------ */

/* Fails unless max|got - want| <= tol * max|want| (NaN and Inf fail). The message gives the
 * label, the worst element and the first few values. */
static void check_tensor(const char *label, const float *got, const float *want, size_t n, double tol)
{
    ck_assert_msg(n > 0, "%s: nothing to compare", label);
    double scale = 0, worst = 0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs((double)want[i]);
        if (a > scale)
            scale = a;
    }
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= 1e300))  /* NaN or Inf */
            d = INFINITY;
        if (d > worst) {
            worst = d;
            wi = i;
        }
    }
    double bound = tol * (scale > 0 ? scale : 1.0);
    if (worst <= bound)
        return;
    char first[512];
    int len = 0;
    for (size_t i = 0; i < n && i < 4 && len < (int)sizeof first - 64; i++)
        len += snprintf(first + len, sizeof first - (size_t)len, "%s[%zu] got %.7g want %.7g",
                        i ? ", " : "", i, (double)got[i], (double)want[i]);
    ck_abort_msg("%s: mismatch against PyTorch over %zu values: largest difference %.3g at [%zu] "
                 "(got %.7g, want %.7g), allowed %.3g (%.0e x max|want| %.4g); first values: %s; "
                 REGEN_HINT,
                 label, n, worst, wi, (double)got[wi], (double)want[wi], bound, tol, scale, first);
}

#define CHECK_OK(m, call)                                                                     \
    do {                                                                                      \
        unsharp_status st_ = (call);                                                          \
        ck_assert_msg(st_ == UNSHARP_OK, "%s failed: %s: %s", #call, unsharp_status_name(st_), \
                      (m) ? unsharp_model_errmsg(m) : unsharp_errmsg());                      \
    } while (0)

/* ---- model set-up ----------------------------------------------------------------------- */

/* Builds the model from the fixture's architecture and loads every parameter. The engine's
 * parameters and the fixture's "param:" entries must match one to one. */
static unsharp_model *model_from_fixture(const fixture *fx)
{
    unsharp_model *m = NULL;
    unsharp_status st = unsharp_model_create(fx->arch, 1, NULL, &m);
    ck_assert_msg(st == UNSHARP_OK && m != NULL,
                  "unsharp_model_create() rejected the fixture's architecture: %s: %s",
                  unsharp_status_name(st), unsharp_errmsg());
    int np = unsharp_model_param_count(m);
    ck_assert_msg(np > 0, "the model has no parameters");
    ck_assert_msg((size_t)np == fx_count_prefix(fx, "param:"),
                  "the engine has %d parameters, the fixture %zu; " REGEN_HINT, np,
                  fx_count_prefix(fx, "param:"));
    for (int i = 0; i < np; i++) {
        const char *name = NULL;
        size_t count = 0;
        int shape[4] = {0, 0, 0, 0};
        CHECK_OK(m, unsharp_model_param_info(m, i, &name, &count, shape));
        ck_assert_msg(name != NULL && count > 0, "parameter %d has no name or no size", i);
        const fx_entry *e = fx_need(fx, "param", name, count);
        CHECK_OK(m, unsharp_model_set_param(m, name, e->data, e->count));
    }
    return m;
}

/* Sets the targets of every loss layer in the fixture (before each forward: the header says
 * targets are for "the next forward"). */
static void set_targets(unsharp_model *m, const fixture *fx)
{
    size_t nloss = 0;
    for (size_t i = 0; i < fx->n; i++) {
        if (strncmp(fx->e[i].name, "target:", 7) != 0)
            continue;
        const char *layer = fx->e[i].name + 7;
        const fx_entry *w = fx_need(fx, "weight", layer, fx->e[i].count);
        CHECK_OK(m, unsharp_model_set_target(m, layer, fx->e[i].data, w->data, fx->e[i].count));
        nloss++;
    }
    ck_assert_msg(nloss == 2, "the fixture has %zu loss targets, expected 2; " REGEN_HINT, nloss);
}

static unsharp_tensor input_of(const fixture *fx)
{
    const fx_entry *x = fx_need(fx, "", "input", 0);
    ck_assert_msg(x->ndim == 4, "fixture input is not 4-D; " REGEN_HINT);
    return unsharp_tensor_make(x->data, (int)x->dims[0], (int)x->dims[1], (int)x->dims[2],
                               (int)x->dims[3]);
}

static void train_forward(unsharp_model *m, const fixture *fx)
{
    unsharp_tensor x = input_of(fx);
    set_targets(m, fx);
    CHECK_OK(m, unsharp_model_forward(m, &x, 1));
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_fixture_is_complete)
{
    fixture *fx = fixture_load();
    static const char *const needed[] = {"input",           "loss",           "out:tile",
                                         "out:a3",          "out:cat",        "out:feat",
                                         "out:d2",          "target:tile_loss", "weight:tile_loss",
                                         "target:img_loss", "weight:img_loss"};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        fx_need(fx, "", needed[i], 0);
    unsharp_model *m = model_from_fixture(fx);
    int np = unsharp_model_param_count(m);
    for (int i = 0; i < np; i++) {
        const char *name = NULL;
        size_t count = 0;
        int shape[4];
        CHECK_OK(m, unsharp_model_param_info(m, i, &name, &count, shape));
        const fx_entry *p = fx_need(fx, "param", name, count);
        /* The leading dimension is the output channels in both layouts. */
        ck_assert_msg(shape[0] == (int)p->dims[0],
                      "parameter %s: engine shape[0] %d, PyTorch %u", name, shape[0], p->dims[0]);
        fx_need(fx, "grad", name, count);
        fx_need(fx, "adamw2", name, count);
        fx_need(fx, "sgd2", name, count);
    }
    unsharp_model_free(m);
    fixture_free(fx);
}
END_TEST

START_TEST(test_forward_matches_torch)
{
    fixture *fx = fixture_load();
    unsharp_model *m = model_from_fixture(fx);
    train_forward(m, fx);

    size_t compared = 0;
    for (size_t i = 0; i < fx->n; i++) {
        const fx_entry *e = &fx->e[i];
        if (strncmp(e->name, "out:", 4) != 0)
            continue;
        const char *layer = e->name + 4;
        ck_assert_msg(e->ndim == 4, "fixture %s is not 4-D; " REGEN_HINT, e->name);
        int shape[4] = {0, 0, 0, 0};
        CHECK_OK(m, unsharp_model_output_shape(m, layer, shape));
        for (int d = 0; d < 4; d++)
            ck_assert_msg(shape[d] == (int)e->dims[d],
                          "%s: engine shape %dx%dx%dx%d, PyTorch %ux%ux%ux%u", e->name, shape[0],
                          shape[1], shape[2], shape[3], e->dims[0], e->dims[1], e->dims[2],
                          e->dims[3]);
        float *buf = malloc(e->count * sizeof(float));
        ck_assert_msg(buf != NULL, "out of memory");
        for (size_t k = 0; k < e->count; k++)
            buf[k] = NAN;  /* a copy that writes nothing must not pass */
        unsharp_tensor out = unsharp_tensor_make(buf, shape[0], shape[1], shape[2], shape[3]);
        CHECK_OK(m, unsharp_model_get_output(m, layer, &out));
        check_tensor(e->name, buf, e->data, e->count, TOL_OUT);
        free(buf);
        compared++;
    }
    ck_assert_msg(compared >= 5, "only %zu outputs in the fixture; " REGEN_HINT, compared);

    double loss = NAN;
    CHECK_OK(m, unsharp_model_loss(m, &loss));
    const fx_entry *want = fx_need(fx, "", "loss", 1);
    double w = want->data[0];
    ck_assert_msg(fabs(loss - w) <= TOL_OUT * fabs(w),
                  "loss: engine %.8g, PyTorch %.8g (difference %.3g, allowed %.3g); " REGEN_HINT,
                  loss, w, fabs(loss - w), TOL_OUT * fabs(w));

    unsharp_model_free(m);
    fixture_free(fx);
}
END_TEST

START_TEST(test_gradients_match_torch)
{
    fixture *fx = fixture_load();
    unsharp_model *m = model_from_fixture(fx);
    train_forward(m, fx);
    CHECK_OK(m, unsharp_model_zero_grad(m));
    CHECK_OK(m, unsharp_model_backward(m));

    int np = unsharp_model_param_count(m);
    for (int i = 0; i < np; i++) {
        const char *name = NULL;
        size_t count = 0;
        int shape[4];
        CHECK_OK(m, unsharp_model_param_info(m, i, &name, &count, shape));
        const fx_entry *g = fx_need(fx, "grad", name, count);
        float *buf = malloc(count * sizeof(float));
        ck_assert_msg(buf != NULL, "out of memory");
        for (size_t k = 0; k < count; k++)
            buf[k] = NAN;
        CHECK_OK(m, unsharp_model_get_grad(m, name, buf, count));
        check_tensor(g->name, buf, g->data, count, TOL_GRAD);
        free(buf);
    }
    unsharp_model_free(m);
    fixture_free(fx);
}
END_TEST

/* Two steps (zero_grad, forward, backward, step) on the same batch, then every parameter is
 * compared twice: its value (tight, relative to the parameter) and its change from the start
 * (relative to the largest change, which is ~1e-2 and so far more telling). */
static void check_two_steps(const unsharp_optimizer_config *cfg, const char *tag)
{
    fixture *fx = fixture_load();
    unsharp_model *m = model_from_fixture(fx);
    CHECK_OK(m, unsharp_model_set_optimizer(m, cfg));
    for (int step = 0; step < 2; step++) {
        CHECK_OK(m, unsharp_model_zero_grad(m));
        train_forward(m, fx);
        CHECK_OK(m, unsharp_model_backward(m));
        CHECK_OK(m, unsharp_model_step(m));
    }
    int np = unsharp_model_param_count(m);
    for (int i = 0; i < np; i++) {
        const char *name = NULL;
        size_t count = 0;
        int shape[4];
        CHECK_OK(m, unsharp_model_param_info(m, i, &name, &count, shape));
        const fx_entry *p0 = fx_need(fx, "param", name, count);
        const fx_entry *want = fx_need(fx, tag, name, count);
        float *got = malloc(count * sizeof(float));
        float *dgot = malloc(count * sizeof(float));
        float *dwant = malloc(count * sizeof(float));
        ck_assert_msg(got && dgot && dwant, "out of memory");
        for (size_t k = 0; k < count; k++)
            got[k] = NAN;
        CHECK_OK(m, unsharp_model_get_param(m, name, got, count));
        check_tensor(want->name, got, want->data, count, TOL_OUT);
        for (size_t k = 0; k < count; k++) {
            dgot[k] = (float)((double)got[k] - (double)p0->data[k]);
            dwant[k] = (float)((double)want->data[k] - (double)p0->data[k]);
        }
        char label[2 * FX_MAX_NAME + 64];
        snprintf(label, sizeof label, "%s (change over two steps)", want->name);
        check_tensor(label, dgot, dwant, count, TOL_GRAD);
        free(got);
        free(dgot);
        free(dwant);
    }
    unsharp_model_free(m);
    fixture_free(fx);
}

START_TEST(test_adamw_two_steps_match_torch)
{
    /* torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01) */
    unsharp_optimizer_config cfg = {UNSHARP_OPT_ADAM, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.01f};
    check_two_steps(&cfg, "adamw2");
}
END_TEST

START_TEST(test_sgd_two_steps_match_torch)
{
    /* torch.optim.SGD(lr=1e-2, momentum=0.9, weight_decay=0.01) */
    unsharp_optimizer_config cfg = {UNSHARP_OPT_SGD, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.9f, 0.01f};
    check_two_steps(&cfg, "sgd2");
}
END_TEST

static Suite *torch_fixture_suite(void)
{
    Suite *s = suite_create("torch_fixture");
    TCase *tc = tcase_create("torch");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fixture_is_complete);
    tcase_add_test(tc, test_forward_matches_torch);
    tcase_add_test(tc, test_gradients_match_torch);
    tcase_add_test(tc, test_adamw_two_steps_match_torch);
    tcase_add_test(tc, test_sgd_two_steps_match_torch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(torch_fixture_suite()); }
