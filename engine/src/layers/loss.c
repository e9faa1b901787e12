/* loss.c: the loss layers. Forward (training only) uploads the targets, evaluates the
 * weighted mean loss and writes its gradient straight into the input's dy, so backward has
 * nothing left to do for them. */
#include "common.h"

static unsharp_status loss_setup(unsharp_model *m, unsharp_layer *L)
{
    L->c = unsharp__input(m, L, 0)->c;
    return UNSHARP_OK;
}

static int is_softmax(const unsharp_layer *L) { return L->kind->name[1] == 'o'; }

/* sigmoid: one target per element; softmax: one class index per (n, h, w). */
static size_t target_count(const unsharp_layer *x, int softmax)
{
    return softmax ? (size_t)x->n * x->h * x->w : (size_t)x->n * x->c * x->h * x->w;
}

static unsharp_status loss_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    L->n = x->n; L->c = x->c; L->h = x->h; L->w = x->w;
    L->cache_bytes = 2 * target_count(x, is_softmax(L)) * sizeof(float);
    return UNSHARP_OK;
}

static unsharp_status loss_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    unsharp_layer *x = unsharp__input(m, L, 0);
    unsharp_backend *be = m->be;
    int softmax = is_softmax(L);
    size_t count = target_count(x, softmax);
    float *target = L->cache, *weight = L->host_weight ? (float *)L->cache + count : NULL;
    if (!L->host_target) FAIL(UNSHARP_ERR_STATE, "loss '%s': no targets set", L->name);
    if (L->target_count != count)
        FAIL(UNSHARP_ERR_SHAPE, "loss '%s': %zu targets set, the input (%d, %d, %d, %d) needs %zu", L->name,
             L->target_count, x->n, x->c, x->h, x->w, count);
    if (softmax)
        for (size_t i = 0; i < count; i++)
            if (!(L->host_target[i] >= 0 && L->host_target[i] < x->c && L->host_target[i] == (float)(int)L->host_target[i]))
                FAIL(UNSHARP_ERR_INVALID, "loss '%s': target %zu is %g, not a class in 0..%d", L->name, i,
                     L->host_target[i], x->c - 1);
    CHECK(be->upload(be, target, L->host_target, count * sizeof(float)));
    if (weight) CHECK(be->upload(be, weight, L->host_weight, count * sizeof(float)));
    float scale = L->weight / (float)count;
    L->loss = 0;
    if (!x->dy) FAIL(UNSHARP_ERR_STATE, "loss '%s': nothing before it has parameters", L->name);
    if (softmax)
        CHECK(be->softmax_ce(be, x->y, target, weight, x->n, x->c, x->h * x->w, scale, x->dy, &L->loss));
    else
        CHECK(be->sigmoid_ce(be, x->y, target, weight, count, scale, x->dy, &L->loss));
bailout:
    return st;
}

const unsharp_layer_kind unsharp__sigmoid_ce_kind = {
    .name = "sigmoid_ce", .keys = "weight", .is_loss = 1,
    .setup = loss_setup, .shape = loss_shape, .forward = loss_forward, .backward = NULL,
};

const unsharp_layer_kind unsharp__softmax_ce_kind = {
    .name = "softmax_ce", .keys = "weight", .is_loss = 1,
    .setup = loss_setup, .shape = loss_shape, .forward = loss_forward, .backward = NULL,
};
