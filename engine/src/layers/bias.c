/* bias.c: a learnable per-channel bias added to every position. */
#include "common.h"

static unsharp_status bias_setup(unsharp_model *m, unsharp_layer *L)
{
    L->c = unsharp__input(m, L, 0)->c;
    L->bias_param = unsharp__add_param(m, L, "bias", L->c, 1, 1, 1);
    return L->bias_param < 0 ? unsharp__seterr(m->err, UNSHARP_ERR_NOMEM, __func__, "out of memory") : UNSHARP_OK;
}

static unsharp_status bias_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_backend *be = m->be;
    CHECK(be->copy(be, L->y, unsharp__input(m, L, 0)->y, unsharp__count(L) * sizeof(float)));
    CHECK(be->bias_forward(be, L->y, unsharp__param(m, L->bias_param), L->n, L->c, L->h * L->w));
bailout:
    return st;
}

static unsharp_status bias_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_backend *be = m->be;
    unsharp_layer *x = unsharp__input(m, L, 0);
    CHECK(be->bias_backward(be, L->dy, unsharp__grad(m, L->bias_param), L->n, L->c, L->h * L->w));
    /* dx += dy, as a one-slice channel copy */
    if (x->dy) CHECK(be->slice_channels_add(be, x->dy, L->c, L->dy, L->c, 0, L->n, L->h * L->w));
bailout:
    return st;
}

const unsharp_layer_kind unsharp__bias_kind = {
    .name = "bias", .keys = "", .is_loss = 0,
    .setup = bias_setup, .shape = unsharp__same_shape, .forward = bias_forward, .backward = bias_backward,
};
