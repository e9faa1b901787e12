/* stacks.c: bursts, brackets, focus stacks and panoramas in the window. Once every photo is
 * judged, the folder's photos are grouped with the engine's unsharp_group, as unsharp-classify
 * groups them (cli/groups.c): each classifier described its photo with unsharp_frame_describe
 * from the image it had just judged (workers.c), so grouping decodes nothing. A group shows in
 * the grid as one stack, its best frame on top; G opens its frames in compare (the same zoom
 * and place, Left / Right through the group); Shift+K marks every other frame of a burst for
 * deletion as one step of the history, and never touches a bracket, a focus stack or a
 * panorama, which are kept whole. Grouping is made again when a photo goes to or comes back
 * from the Trash. */
#include <stdio.h>
#include <stdlib.h>
#include "review.h"

static void alone(photo *p, int i)
{
    p->place = (unsharp_group_place){.first = (size_t)i, .size = 1, .rank = 1, .role = UNSHARP_ROLE_SINGLE};
    p->top = i;
}

void stacks_update(app *a)
{
    if (a->n <= 0 || a->judged < a->n) return;
    int trashed = 0;
    for (int i = 0; i < a->n; i++) trashed += a->ph[i].trashed;
    if (a->groups_judged == a->judged && a->groups_trashed == trashed) return;
    a->groups_judged = a->judged;
    a->groups_trashed = trashed;
    const char **keys = malloc((size_t)a->n * sizeof *keys);
    unsharp_group_place *places = malloc((size_t)a->n * sizeof *places);
    int *best = malloc((size_t)a->n * sizeof *best);
    for (int i = 0; i < a->n; i++) alone(&a->ph[i], i);
    if (!keys || !places || !best || !a->frames) {
        app_set_message(a, "out of memory: photos are shown without their groups");
        goto out;
    }
    /* frames not described (not judged, unreadable) or in the Trash are singles */
    for (int i = 0; i < a->n; i++) {
        a->frames[i].described = a->ph[i].described && !a->ph[i].trashed;
        keys[i] = a->ph[i].path;
    }
    if (unsharp_group(a->frames, keys, (size_t)a->n, NULL, places) != UNSHARP_OK) {
        app_set_message(a, "photos are shown without their groups: %s", unsharp_errmsg());
        goto out;
    }
    for (int i = 0; i < a->n; i++) best[i] = -1;
    for (int i = 0; i < a->n; i++) /* the best frame of each group is its top */
        if (places[i].rank == 1) best[places[i].first] = i;
    for (int i = 0; i < a->n; i++) {
        if (a->ph[i].trashed) continue;
        a->ph[i].place = places[i];
        if (best[places[i].first] >= 0) a->ph[i].top = best[places[i].first];
    }
out:
    free(keys);
    free(places);
    free(best);
}

int stacks_ready(const app *a) { return a->n && a->groups_judged == a->n; }

int stacks_hidden(const app *a, int i)
{
    const photo *p = &a->ph[i];
    if (p->place.size < 2 || p->top == i || p->top == a->open_top) return 0;
    return !a->ph[p->top].trashed; /* the top gone: its frames show alone (order.c also shows
                                      * them while the filter hides the top) */
}

const char *stacks_label(const photo *p, char *buf, size_t size)
{
    if (p->place.size < 2) return NULL;
    unsharp_role r = p->place.role == UNSHARP_ROLE_BEST ? UNSHARP_ROLE_BURST : p->place.role;
    snprintf(buf, size, "%s %d", unsharp_role_name(r), p->place.size);
    return buf;
}

void stacks_open(app *a, int i)
{
    if (i < 0 || i >= a->n) return;
    if (!stacks_ready(a)) {
        app_set_message(a, "groups are made once every photo is judged");
        return;
    }
    char what[64];
    if (!stacks_label(&a->ph[i], what, sizeof what)) {
        app_set_message(a, "%s is not part of a group", a->ph[i].name);
        return;
    }
    a->sel = a->ph[i].top;
    a->open_top = a->sel;
    pthread_mutex_lock(&a->mu);
    order_update(a); /* the group's frames in the view order, for compare to step through */
    pthread_mutex_unlock(&a->mu);
    a->view = VIEW_GRID; /* compare starts at fit, in the middle */
    compare_open(a);
    if (a->view == VIEW_COMPARE)
        app_set_message(a, "%s: the best on the left; Left / Right: the others; Escape closes", what);
    else
        a->open_top = -1;
}

void stacks_keep_best(app *a, int i)
{
    if (i < 0 || i >= a->n) return;
    if (!stacks_ready(a)) {
        app_set_message(a, "groups are made once every photo is judged");
        return;
    }
    const photo *p = &a->ph[i];
    char what[64];
    if (!stacks_label(p, what, sizeof what)) {
        app_set_message(a, "%s is not part of a group: nothing marked", p->name);
        return;
    }
    if (unsharp_role_keeps_whole(p->place.role)) {
        app_set_message(a, "a %s is kept whole: nothing marked", unsharp_role_name(p->place.role));
        return;
    }
    int top = p->top, *list = malloc((size_t)a->n * sizeof *list), n = 0, kept = 0;
    if (!list) {
        app_set_message(a, "out of memory");
        return;
    }
    for (int q = 0; q < a->n; q++) {
        const photo *o = &a->ph[q];
        if (q == top || o->trashed || o->place.size < 2 || o->top != top) continue;
        if (o->mark == MARK_KEEP) kept++; /* a person's keep stays */
        else list[n++] = q;
    }
    int m = edit_mark_list(a, list, n, MARK_DELETE);
    free(list);
    app_set_message(a, "%s: %s kept, %d other frame%s marked for deletion%s (Ctrl+Z undoes)", what, a->ph[top].name, m,
                    m == 1 ? "" : "s", kept ? ", those marked keep left as they are" : "");
}
