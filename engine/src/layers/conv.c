/* conv.c: 2-D convolution with an optional per-channel bias; forward and backward over the
 * backend's conv slots. Forward also writes a fused activation's output (model.c). */
#include "common.h"

static unsharp_status conv_setup(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    if (L->out < 1) FAIL(UNSHARP_ERR_INVALID, "line %d: conv '%s' needs out=CHANNELS", L->line, L->name);
    if (L->kh == 0) L->kh = L->kw = 3;
    if (L->kw == 0) L->kw = L->kh;
    if (L->sh == 0) L->sh = L->sw = 1;
    if (L->ph >= L->kh || L->pw >= L->kw)
        FAIL(UNSHARP_ERR_INVALID, "line %d: conv '%s': padding must be smaller than the kernel", L->line, L->name);
    L->c = L->out;
    st = unsharp__add_weight_bias(m, L, L->out, unsharp__input(m, L, 0)->c, L->kh, L->kw);
bailout:
    return st;
}

static unsharp_conv_shape conv_shape_of(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    unsharp_conv_shape s = {
        .n = x->n, .cin = x->c, .h = x->h, .w = x->w, .cout = L->out, .kh = L->kh, .kw = L->kw,
        .sh = L->sh, .sw = L->sw, .ph = L->ph, .pw = L->pw,
    };
    s.oh = (x->h + 2 * L->ph - L->kh) / L->sh + 1;
    s.ow = (x->w + 2 * L->pw - L->kw) / L->sw + 1;
    if (x->h + 2 * L->ph < L->kh || x->w + 2 * L->pw < L->kw) s.oh = s.ow = 0;
    return s;
}

static unsharp_status conv_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_conv_shape s = conv_shape_of(m, L);
    L->n = s.n; L->c = s.cout; L->h = s.oh; L->w = s.ow;
    if (s.oh > 0 && s.ow > 0) L->work_bytes = m->be->conv_workspace(m->be, &s);
    return UNSHARP_OK;
}

static unsharp_status conv_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_conv_shape s = conv_shape_of(m, L);
    unsharp_backend *be = m->be;
    const float *b = L->bias_param >= 0 ? unsharp__param(m, L->bias_param) : NULL;
    float *act = NULL, slope = 0.0f;
    if (L->act_layer >= 0) { /* the fused activation (model.c): its output, written here */
        unsharp_layer *A = &m->layers[L->act_layer];
        act = A->y;
        slope = unsharp__act_slope(A);
    }
    if (m->input_u8 && L->in[0] == 0) { /* 8-bit input (model.h): read directly when the backend can */
        st = be->conv2d_forward_u8(be, &s, m->input_u8, m->input_stride, m->input_scale,
                                   unsharp__param(m, L->weight_param), b, L->y, act, slope, m->work);
        if (st != UNSHARP_ERR_UNSUPPORTED) goto bailout;
        st = UNSHARP_OK;
        CHECK(unsharp__model_input_from_u8(m));
    }
    CHECK(be->conv2d_forward(be, &s, unsharp__input(m, L, 0)->y, unsharp__param(m, L->weight_param), b, L->y, act,
                             slope, m->work));
bailout:
    return st;
}

static unsharp_status conv_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_conv_shape s = conv_shape_of(m, L);
    unsharp_backend *be = m->be;
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (L->bias_param >= 0)
        CHECK(be->bias_backward(be, L->dy, unsharp__grad(m, L->bias_param), s.n, s.cout, s.oh * s.ow));
    CHECK(be->conv2d_backward_filter(be, &s, x->y, L->dy, unsharp__grad(m, L->weight_param), m->work));
    if (x->dy)
        CHECK(be->conv2d_backward_data(be, &s, L->dy, unsharp__param(m, L->weight_param), x->dy,
                                       unsharp__dx_accumulates(m, L), m->work));
bailout:
    return st;
}

const unsharp_layer_kind unsharp__conv_kind = {
    .name = "conv", .keys = "out k kh kw s p bias", .is_loss = 0, .overwrites_dx = 1,
    .setup = conv_setup, .shape = conv_shape, .forward = conv_forward, .backward = conv_backward,
};
