/* dense.c: a fully connected layer on (N, C, 1, 1): y = x W^T + b, weight (out, C). */
#include "common.h"

static unsharp_status dense_setup(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    if (L->out < 1) FAIL(UNSHARP_ERR_INVALID, "line %d: dense '%s' needs out=UNITS", L->line, L->name);
    L->c = L->out;
    st = unsharp__add_weight_bias(m, L, L->out, unsharp__input(m, L, 0)->c, 1, 1);
bailout:
    return st;
}

static unsharp_status dense_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (x->h != 1 || x->w != 1)
        return unsharp__seterr(m->err, UNSHARP_ERR_SHAPE, __func__,
                               "dense '%s' needs a 1x1 input, '%s' is %dx%d: pool it globally first", L->name,
                               x->name, x->h, x->w);
    L->n = x->n; L->h = 1; L->w = 1;
    return UNSHARP_OK;
}

static unsharp_status dense_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_layer *x = unsharp__input(m, L, 0);
    unsharp_backend *be = m->be;
    /* y (N, out) = x (N, C) * W^T (C, out) */
    CHECK(be->gemm(be, 0, 1, L->n, L->out, x->c, 1.0f, x->y, x->c, unsharp__param(m, L->weight_param), x->c, 0.0f,
                   L->y, L->out));
    if (L->bias_param >= 0) CHECK(be->bias_forward(be, L->y, unsharp__param(m, L->bias_param), L->n, L->out, 1));
bailout:
    return st;
}

static unsharp_status dense_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_layer *x = unsharp__input(m, L, 0);
    unsharp_backend *be = m->be;
    if (L->bias_param >= 0) CHECK(be->bias_backward(be, L->dy, unsharp__grad(m, L->bias_param), L->n, L->out, 1));
    /* dW (out, C) += dy^T (out, N) * x (N, C) */
    CHECK(be->gemm(be, 1, 0, L->out, x->c, L->n, 1.0f, L->dy, L->out, x->y, x->c, 1.0f,
                   unsharp__grad(m, L->weight_param), x->c));
    /* dx (N, C) += dy (N, out) * W (out, C) */
    if (x->dy)
        CHECK(be->gemm(be, 0, 0, L->n, x->c, L->out, 1.0f, L->dy, L->out, unsharp__param(m, L->weight_param), x->c,
                       1.0f, x->dy, x->c));
bailout:
    return st;
}

const unsharp_layer_kind unsharp__dense_kind = {
    .name = "dense", .keys = "out bias", .is_loss = 0,
    .setup = dense_setup, .shape = dense_shape, .forward = dense_forward, .backward = dense_backward,
};
