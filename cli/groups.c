/* groups.c: bursts, brackets, focus stacks and panoramas among the judged photos, through
 * the engine's unsharp_group (every judged photo of the run, across its folders), the order
 * the table shows them in, and which photos the actions take. */
#include <stdio.h>
#include <stdlib.h>
#include "classify.h"

int groups_run(const options *o, item_list *items)
{
    size_t n = 0;
    for (size_t i = 0; i < items->n; i++) n += items->items[i].frame != NULL && !items->items[i].error;
    unsharp_frame *frames = malloc((n ? n : 1) * sizeof *frames);
    const char **keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *at = malloc((n ? n : 1) * sizeof *at);
    unsharp_group_place *places = malloc((n ? n : 1) * sizeof *places);
    int rc = -1;
    if (!frames || !keys || !at || !places) {
        fprintf(stderr, PROG ": out of memory for grouping\n");
        goto out;
    }
    n = 0;
    for (size_t i = 0; i < items->n; i++) {
        item *it = &items->items[i];
        if (!it->frame || it->error) continue;
        frames[n] = *it->frame;
        keys[n] = it->path;
        at[n++] = i;
    }
    if (unsharp_group(frames, keys, n, &o->grouping, places) != UNSHARP_OK) {
        fprintf(stderr, PROG ": %s\n", unsharp_errmsg());
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        items->items[at[k]].place = places[k];
        items->items[at[k]].place.first = at[places[k].first];
    }
    rc = 0;
out:
    free(frames);
    free(keys);
    free(at);
    free(places);
    return rc;
}

static const item_list *sort_items; /* for by_group_rank; the table is made on one thread */

static int by_group_rank(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    const item *p = &sort_items->items[a], *q = &sort_items->items[b];
    size_t ga = p->frame && !p->error ? p->place.first : a, gb = q->frame && !q->error ? q->place.first : b;
    if (ga != gb) return ga < gb ? -1 : 1;
    int ra = p->frame && !p->error ? p->place.rank : 0, rb = q->frame && !q->error ? q->place.rank : 0;
    if (ra != rb) return ra < rb ? -1 : 1;
    return a < b ? -1 : a > b;
}

size_t *groups_table_order(const item_list *items)
{
    size_t *ord = malloc((items->n ? items->n : 1) * sizeof *ord);
    if (!ord) return NULL;
    for (size_t i = 0; i < items->n; i++) ord[i] = i;
    sort_items = items;
    qsort(ord, items->n, sizeof *ord, by_group_rank);
    return ord;
}

int item_selected(const options *o, const item *it)
{
    if (it->error) return 0;
    int grouped = o->group && it->frame;
    if (grouped && unsharp_role_keeps_whole(it->place.role)) return 0; /* brackets, stacks, panoramas */
    switch (o->select) {
    case SEL_BURST_REST:
        return grouped && (it->place.role == UNSHARP_ROLE_BEST || it->place.role == UNSHARP_ROLE_BURST) &&
               it->place.rank > o->keep_best;
    case SEL_UNSURE: return it->verdict != UNSHARP_VERDICT_SHARP;
    default: return it->verdict == UNSHARP_VERDICT_BLURRY;
    }
}
