/* concat.c: joins its inputs along channels; all share N, H and W. */
#include "common.h"

static unsharp_status concat_setup(unsharp_model *m, unsharp_layer *L)
{
    L->c = 0;
    for (int k = 0; k < L->n_in; k++) L->c += unsharp__input(m, L, k)->c;
    return UNSHARP_OK;
}

static unsharp_status concat_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *a = unsharp__input(m, L, 0);
    for (int k = 1; k < L->n_in; k++) {
        unsharp_layer *b = unsharp__input(m, L, k);
        if (b->n != a->n || b->h != a->h || b->w != a->w)
            return unsharp__seterr(m->err, UNSHARP_ERR_SHAPE, __func__,
                                   "concat '%s': '%s' is %dx%d but '%s' is %dx%d", L->name, a->name, a->h, a->w,
                                   b->name, b->h, b->w);
    }
    L->n = a->n; L->h = a->h; L->w = a->w;
    return UNSHARP_OK;
}

static unsharp_status concat_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_status st = UNSHARP_OK;
    int off = 0;
    for (int k = 0; k < L->n_in; k++) {
        unsharp_layer *x = unsharp__input(m, L, k);
        CHECK(m->be->copy_channels(m->be, L->y, L->c, off, x->y, x->c, L->n, L->h * L->w, 0));
        off += x->c;
    }
bailout:
    return st;
}

static unsharp_status concat_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    int off = 0;
    for (int k = 0; k < L->n_in; k++) {
        unsharp_layer *x = unsharp__input(m, L, k);
        if (x->dy) CHECK(m->be->slice_channels_add(m->be, x->dy, x->c, L->dy, L->c, off, L->n, L->h * L->w));
        off += x->c;
    }
bailout:
    return st;
}

const unsharp_layer_kind unsharp__concat_kind = {
    .name = "concat", .keys = "", .is_loss = 0,
    .setup = concat_setup, .shape = concat_shape, .forward = concat_forward, .backward = concat_backward,
};
