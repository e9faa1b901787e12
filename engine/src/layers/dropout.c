/* dropout.c: inverted dropout in training, the identity at inference. The mask is drawn
 * from (model seed, forward count, layer) so runs repeat exactly for a given seed. */
#include "common.h"

static unsharp_status dropout_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp__same_shape(m, L);
    L->cache_bytes = unsharp__count(L) * sizeof(float);
    return UNSHARP_OK;
}

static unsharp_status dropout_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (!training) return m->be->copy(m->be, L->y, x->y, unsharp__count(L) * sizeof(float));
    uint64_t seed = m->seed ^ (m->forward_count * 0x100000001B3ull) ^ ((uint64_t)(L - m->layers) << 48);
    return m->be->dropout_forward(m->be, x->y, L->y, L->cache, unsharp__count(L), L->p, seed);
}

static unsharp_status dropout_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (!x->dy) return UNSHARP_OK;
    return m->be->dropout_backward(m->be, L->dy, L->cache, x->dy, unsharp__count(L));
}

const unsharp_layer_kind unsharp__dropout_kind = {
    .name = "dropout", .keys = "p", .is_loss = 0,
    .setup = unsharp__same_channels, .shape = dropout_shape, .forward = dropout_forward, .backward = dropout_backward,
};
