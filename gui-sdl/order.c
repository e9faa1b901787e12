/* order.c: the view order: which photos the grid shows (filter by verdict, trashed ones
 * hidden) and in what order (by name, or by score with the blurriest first and photos not
 * yet judged at the end; a group's frames under its stack's top, stacks.c). Called with app.mu held. */
#include <stdlib.h>
#include <string.h>
#include "review.h"

static const app *cmp_app; /* qsort has no context argument; used on the render thread only */

static int by_score(const void *x, const void *y)
{
    const photo *p = &cmp_app->ph[*(const int *)x], *q = &cmp_app->ph[*(const int *)y];
    int pd = p->js == J_DONE, qd = q->js == J_DONE;
    if (pd != qd) return qd - pd;
    if (pd && p->sharpness != q->sharpness) return p->sharpness < q->sharpness ? -1 : 1;
    return strcmp(p->name, q->name);
}

static int passes(const app *a, const photo *p)
{
    if (p->trashed) return 0;
    if (a->filter == FILT_ALL) return 1;
    if (p->js != J_DONE) return 0;
    return (a->filter == FILT_SHARP && p->verdict == UNSHARP_VERDICT_SHARP) ||
           (a->filter == FILT_UNSURE && p->verdict == UNSHARP_VERDICT_UNSURE) ||
           (a->filter == FILT_BLURRY && p->verdict == UNSHARP_VERDICT_BLURRY);
}

/* A frame under its stack's top is hidden while the filter shows the top. */
static int shown(const app *a, const photo *p)
{
    int i = (int)(p - a->ph);
    return passes(a, p) && !(stacks_hidden(a, i) && passes(a, &a->ph[p->top]));
}

void order_update(app *a)
{
    int k = 0;
    for (int i = 0; i < a->n; i++)
        if (shown(a, &a->ph[i])) a->order[k++] = i; /* name order: the folder is listed sorted */
    a->norder = k;
    if (a->sort == SORT_SCORE) {
        cmp_app = a;
        qsort(a->order, (size_t)k, sizeof *a->order, by_score);
    }
}

int order_pos(const app *a, int photo)
{
    for (int k = 0; k < a->norder; k++)
        if (a->order[k] == photo) return k;
    return -1;
}
