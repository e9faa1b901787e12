/* lcn.c: local contrast normalisation, parameter-free: each channel's pixel minus the mean of
 * its k x k window, over the window's standard deviation with eps as its floor (the window is
 * clipped at the border; backend.h has the formula). It gives the layers after it a view of the
 * image whose shapes do not depend on their contrast. In training the forward keeps each
 * pixel's window statistics for backward (when a gradient flows back through it); inference
 * keeps none. */
#include "common.h"

static unsharp_status lcn_setup(unsharp_model *m, unsharp_layer *L)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    if (L->kh < 1 || L->kh > 63 || L->kh % 2 == 0 || L->kw != L->kh)
        FAIL(UNSHARP_ERR_INVALID, "line %d: lcn '%s' needs k=K with K odd, 1 to 63 (the window's side)", L->line,
             L->name);
    if (!(L->eps >= 1e-6f))
        FAIL(UNSHARP_ERR_INVALID, "line %d: lcn '%s' needs eps=E with E at least 1e-6 (the floor under the window's "
             "standard deviation, in the input's units)", L->line, L->name);
    if (!m->be->lcn_forward || !m->be->lcn_backward || !m->be->lcn_workspace)
        FAIL(UNSHARP_ERR_UNSUPPORTED, "line %d: lcn '%s': the %s backend has no local contrast normalisation", L->line,
             L->name, m->be->name);
    L->c = unsharp__input(m, L, 0)->c;
bailout:
    return st;
}

static unsharp_status lcn_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp__same_shape(m, L);
    /* the window statistics, for backward: in training only (cache_training_only), and only
     * when a gradient flows back through the layer (not when it reads the model input) */
    L->cache_bytes = L->needs_grad ? 2 * unsharp__count(L) * sizeof(float) : 0;
    L->work_bytes = m->be->lcn_workspace(m->be, L->n * L->c, L->h, L->w, L->kh);
    return UNSHARP_OK;
}

static unsharp_status lcn_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    return m->be->lcn_forward(m->be, unsharp__input(m, L, 0)->y, L->y, training && L->needs_grad ? L->cache : NULL,
                              L->n * L->c, L->h, L->w, L->kh, L->eps, m->work);
}

static unsharp_status lcn_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (!x->dy) return UNSHARP_OK;
    return m->be->lcn_backward(m->be, x->y, L->cache, L->dy, x->dy, unsharp__dx_accumulates(m, L), L->n * L->c, L->h,
                               L->w, L->kh, L->eps, m->work);
}

const unsharp_layer_kind unsharp__lcn_kind = {
    .name = "lcn", .keys = "k eps", .is_loss = 0, .overwrites_dx = 1, .cache_training_only = 1,
    .setup = lcn_setup, .shape = lcn_shape, .forward = lcn_forward, .backward = lcn_backward,
};
