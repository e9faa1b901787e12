/* common.h: small helpers shared by the layer files. */
#ifndef UNSHARP_LAYERS_COMMON_H
#define UNSHARP_LAYERS_COMMON_H
#include "../model.h"

/* The output takes its input's shape. */
static inline unsharp_status unsharp__same_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    L->n = x->n; L->c = x->c; L->h = x->h; L->w = x->w;
    return UNSHARP_OK;
}

static inline unsharp_status unsharp__same_channels(unsharp_model *m, unsharp_layer *L)
{
    L->c = unsharp__input(m, L, 0)->c;
    return UNSHARP_OK;
}

static inline size_t unsharp__count(const unsharp_layer *L) { return (size_t)L->n * L->c * L->h * L->w; }

/* The slope of a ReLU (0) or leaky ReLU layer. */
static inline float unsharp__act_slope(const unsharp_layer *L) { return L->kind->keys[0] ? L->slope : 0.0f; }

/* 0 when L is the first writer of its input's dy (model.c: plan_dy_writers), which it then
 * overwrites; 1 when it adds to what is there. */
static inline int unsharp__dx_accumulates(unsharp_model *m, unsharp_layer *L)
{
    return unsharp__input(m, L, 0)->dy_writer != (int)(L - m->layers);
}

#endif
