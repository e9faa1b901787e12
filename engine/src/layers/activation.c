/* activation.c: ReLU and leaky ReLU (ReLU is the slope-0 case of the same slots). When the
 * model has fused one into the convolution before it, that convolution's forward has already
 * written its output. */
#include "common.h"

static unsharp_status act_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    if (L->fused) return UNSHARP_OK;
    return m->be->leaky_relu_forward(m->be, unsharp__input(m, L, 0)->y, L->y, unsharp__count(L), unsharp__act_slope(L));
}

static unsharp_status act_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    float slope = unsharp__act_slope(L);
    if (!x->dy) return UNSHARP_OK;
    return m->be->leaky_relu_backward(m->be, x->y, L->dy, x->dy, unsharp__count(L), slope, unsharp__dx_accumulates(m, L));
}

const unsharp_layer_kind unsharp__relu_kind = {
    .name = "relu", .keys = "", .is_loss = 0, .overwrites_dx = 1,
    .setup = unsharp__same_channels, .shape = unsharp__same_shape, .forward = act_forward, .backward = act_backward,
};

const unsharp_layer_kind unsharp__lrelu_kind = {
    .name = "lrelu", .keys = "slope", .is_loss = 0, .overwrites_dx = 1,
    .setup = unsharp__same_channels, .shape = unsharp__same_shape, .forward = act_forward, .backward = act_backward,
};
