/* global_pool.c: mean, max and variance over each channel's whole plane: (N, C, H, W) ->
 * (N, C, 1, 1). */
#include "common.h"

static unsharp_gpool_kind gkind(const unsharp_layer *L)
{
    return L->kind->name[1] == 'm' && L->kind->name[2] == 'e' ? UNSHARP_GPOOL_MEAN
           : L->kind->name[1] == 'm'                          ? UNSHARP_GPOOL_MAX
                                                              : UNSHARP_GPOOL_VAR;
}

static unsharp_status gpool_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    L->n = x->n; L->c = x->c; L->h = 1; L->w = 1;
    return UNSHARP_OK;
}

static unsharp_status gpool_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    return m->be->global_pool_forward(m->be, gkind(L), x->y, L->y, x->n * x->c, x->h * x->w);
}

static unsharp_status gpool_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (!x->dy) return UNSHARP_OK;
    return m->be->global_pool_backward(m->be, gkind(L), x->y, L->y, L->dy, x->dy, x->n * x->c, x->h * x->w);
}

#define GPOOL_KIND(sym, nm)                                                                       \
    const unsharp_layer_kind sym = {                                                              \
        .name = nm, .keys = "", .is_loss = 0, .setup = unsharp__same_channels, .shape = gpool_shape, \
        .forward = gpool_forward, .backward = gpool_backward,                                      \
    }
GPOOL_KIND(unsharp__gmean_kind, "gmean");
GPOOL_KIND(unsharp__gmax_kind, "gmax");
GPOOL_KIND(unsharp__gvar_kind, "gvar");
