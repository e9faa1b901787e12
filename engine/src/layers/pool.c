/* pool.c: windowed max and average pooling. Max pooling keeps the argmax of each window in
 * its cache for backward. */
#include "common.h"

static unsharp_status pool_setup(unsharp_model *m, unsharp_layer *L)
{
    if (L->kh == 0) L->kh = L->kw = 2;
    if (L->kw == 0) L->kw = L->kh;
    if (L->sh == 0) { L->sh = L->kh; L->sw = L->kw; }
    if (2 * L->ph > L->kh || 2 * L->pw > L->kw)
        return unsharp__seterr(m->err, UNSHARP_ERR_INVALID, __func__,
                               "line %d: pool '%s': padding must be at most half the window", L->line, L->name);
    L->c = unsharp__input(m, L, 0)->c;
    return UNSHARP_OK;
}

static int is_max(const unsharp_layer *L) { return L->kind->name[0] == 'm'; }

static unsharp_pool_shape pool_shape_of(unsharp_model *m, unsharp_layer *L)
{
    unsharp_layer *x = unsharp__input(m, L, 0);
    unsharp_pool_shape s = {
        .n = x->n, .c = x->c, .h = x->h, .w = x->w, .kh = L->kh, .kw = L->kw,
        .sh = L->sh, .sw = L->sw, .ph = L->ph, .pw = L->pw,
    };
    s.oh = x->h + 2 * L->ph >= L->kh ? (x->h + 2 * L->ph - L->kh) / L->sh + 1 : 0;
    s.ow = x->w + 2 * L->pw >= L->kw ? (x->w + 2 * L->pw - L->kw) / L->sw + 1 : 0;
    return s;
}

static unsharp_status pool_shape(unsharp_model *m, unsharp_layer *L)
{
    unsharp_pool_shape s = pool_shape_of(m, L);
    L->n = s.n; L->c = s.c; L->h = s.oh; L->w = s.ow;
    L->cache_bytes = is_max(L) ? unsharp__count(L) * sizeof(int32_t) : 0;
    return UNSHARP_OK;
}

static unsharp_status pool_forward(unsharp_model *m, unsharp_layer *L, int training)
{
    unsharp_pool_shape s = pool_shape_of(m, L);
    return m->be->pool2d_forward(m->be, &s, is_max(L), unsharp__input(m, L, 0)->y, L->y, L->cache);
}

static unsharp_status pool_backward(unsharp_model *m, unsharp_layer *L)
{
    unsharp_pool_shape s = pool_shape_of(m, L);
    unsharp_layer *x = unsharp__input(m, L, 0);
    if (!x->dy) return UNSHARP_OK;
    return m->be->pool2d_backward(m->be, &s, is_max(L), L->dy, L->cache, x->dy);
}

const unsharp_layer_kind unsharp__maxpool_kind = {
    .name = "maxpool", .keys = "k kh kw s p", .is_loss = 0,
    .setup = pool_setup, .shape = pool_shape, .forward = pool_forward, .backward = pool_backward,
};

const unsharp_layer_kind unsharp__avgpool_kind = {
    .name = "avgpool", .keys = "k kh kw s p", .is_loss = 0,
    .setup = pool_setup, .shape = pool_shape, .forward = pool_forward, .backward = pool_backward,
};
