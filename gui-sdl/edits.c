/* edits.c: every change a person makes to a photo (its keep / delete mark, star rating, colour
 * label) goes through here as one step of the session's history, and so do the Trash's
 * batches (trashops.c): Ctrl+Z and Ctrl+Y undo and redo any of them, back to the opening of
 * the folder. A range (shift-click) and a bulk mark are one step each. apply_value sets a
 * value in memory and in the photo's XMP sidecar (marks.c). */
#include <stdio.h>
#include <stdlib.h>
#include "review.h"

static int get_value(const photo *p, hist_kind k)
{
    return k == H_MARK ? (int)p->mark : k == H_STARS ? p->stars : p->label;
}

void apply_value(app *a, hist_kind k, int i, int v)
{
    photo *p = &a->ph[i];
    if (k == H_MARK) p->mark = (mark_t)v;
    else if (k == H_STARS) p->stars = v;
    else if (k == H_LABEL) p->label = v;
    marks_save(a, i, k);
    a->dirty = 1;
}

static void step_free(hist_step *s)
{
    for (int k = 0; k < s->n; k++) {
        for (int e = 0; e < s->it[k].nent; e++) unsharp_trash_entry_free(&s->it[k].ent[e]);
        free(s->it[k].ent);
    }
    free(s->it);
    s->it = NULL;
    s->n = 0;
}

void hist_clear(app *a)
{
    for (int k = 0; k < a->nhist; k++) step_free(&a->hist[k]);
    free(a->hist);
    a->hist = NULL;
    a->nhist = a->hist_pos = 0;
}

static void hist_push(app *a, hist_step st)
{
    for (int k = a->hist_pos; k < a->nhist; k++) step_free(&a->hist[k]); /* the redo tail goes */
    a->nhist = a->hist_pos;
    hist_step *g = realloc(a->hist, (size_t)(a->nhist + 1) * sizeof *g);
    if (!g) {
        step_free(&st);
        app_set_message(a, "out of memory: this change cannot be undone");
        return;
    }
    a->hist = g;
    a->hist[a->nhist++] = st;
    a->hist_pos = a->nhist;
}

/* One step: each of photos[0..n) that is not trashed and has another value gets v. */
static int edit_values(app *a, hist_kind k, const int *photos, int n, int v)
{
    hist_item *it = calloc((size_t)(n ? n : 1), sizeof *it);
    if (!it) {
        app_set_message(a, "out of memory");
        return 0;
    }
    int m = 0;
    for (int j = 0; j < n; j++) {
        int i = photos[j];
        if (i < 0 || i >= a->n || a->ph[i].trashed) continue;
        int old = get_value(&a->ph[i], k);
        if (old == v) continue;
        it[m++] = (hist_item){.photo = i, .old = old, .now = v};
        apply_value(a, k, i, v);
    }
    if (!m) {
        free(it);
        return 0;
    }
    hist_push(a, (hist_step){k, it, m});
    return m;
}

void edit_trash(app *a)
{
    hist_step st;
    trash_marked(a, &st);
    if (st.n) hist_push(a, st);
}

void edit_mark(app *a, int photo, mark_t m)
{
    if (photo < 0 || photo >= a->n) return;
    edit_values(a, H_MARK, &photo, 1, m);
    a->anchor = photo;
}

int edit_mark_list(app *a, const int *photos, int n, mark_t m) { return edit_values(a, H_MARK, photos, n, m); }

void edit_mark_range(app *a, int photo, mark_t m)
{
    int from = a->anchor >= 0 && a->anchor < a->n ? order_pos(a, a->anchor) : -1, to = order_pos(a, photo);
    if (from < 0 || to < 0) {
        edit_mark(a, photo, m);
        return;
    }
    int lo = from < to ? from : to, hi = from < to ? to : from;
    int n = edit_values(a, H_MARK, a->order + lo, hi - lo + 1, m);
    a->anchor = photo;
    a->n_range++;
    app_set_message(a, "marked %d photo%s %s (Ctrl+Z undoes)", n, n == 1 ? "" : "s",
                    m == MARK_KEEP ? "keep" : m == MARK_DELETE ? "for deletion" : "unmarked");
}

static int bulk_wanted(const photo *p)
{
    return !p->trashed && p->mark == MARK_NONE && p->js == J_DONE && p->verdict == UNSHARP_VERDICT_BLURRY;
}

int bulk_count(app *a)
{
    int n = 0;
    for (int i = 0; i < a->n; i++) n += bulk_wanted(&a->ph[i]);
    return n;
}

void bulk_mark(app *a)
{
    int *list = malloc((size_t)(a->n ? a->n : 1) * sizeof *list), n = 0;
    if (!list) {
        app_set_message(a, "out of memory");
        return;
    }
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->n; i++)
        if (bulk_wanted(&a->ph[i])) list[n++] = i;
    pthread_mutex_unlock(&a->mu);
    uint64_t t0 = now_ms();
    int m = edit_values(a, H_MARK, list, n, MARK_DELETE);
    free(list);
    if (a->timing)
        fprintf(stderr, RPROG ": timing: bulk mark of %d photos, the window free again after %llu ms\n", m,
                (unsigned long long)(now_ms() - t0));
    app_set_message(a, "marked %d blurry photo%s for deletion (Ctrl+Z undoes)", m, m == 1 ? "" : "s");
}

void edit_stars(app *a, int photo, int stars)
{
    if (photo < 0 || photo >= a->n || stars < 0 || stars > 5) return;
    edit_values(a, H_STARS, &photo, 1, stars);
    a->n_rated++;
}

/* The same label again takes it off, as darktable does. */
void edit_label(app *a, int photo, int label)
{
    if (photo < 0 || photo >= a->n || label < 0 || label > 5) return;
    edit_values(a, H_LABEL, &photo, 1, a->ph[photo].label == label ? 0 : label);
    a->n_rated++;
}

static const char *what(const hist_step *s)
{
    static char buf[96];
    const char *names[] = {"mark", "star rating", "colour label", "move to the Trash"};
    snprintf(buf, sizeof buf, "the %s of %d photo%s", names[s->kind], s->n, s->n == 1 ? "" : "s");
    return buf;
}

void hist_undo(app *a)
{
    if (a->hist_pos == 0) {
        app_set_message(a, "nothing to undo");
        return;
    }
    hist_step *s = &a->hist[--a->hist_pos];
    int failed = 0;
    a->n_undo++;
    for (int k = s->n - 1; k >= 0; k--) {
        if (s->kind != H_TRASH) {
            apply_value(a, s->kind, s->it[k].photo, s->it[k].old);
            continue;
        }
        int r = trash_restore(a, &s->it[k]);
        if (r >= 0) apply_value(a, H_MARK, s->it[k].photo, MARK_NONE); /* a restored photo comes back unmarked */
        failed += r != 0;
    }
    if (!failed) app_set_message(a, "undone: %s (Ctrl+Y redoes)", what(s));
    a->dirty = 1;
}

void hist_redo(app *a)
{
    if (a->hist_pos == a->nhist) {
        app_set_message(a, "nothing to redo");
        return;
    }
    hist_step *s = &a->hist[a->hist_pos++];
    int failed = 0;
    a->n_redo++;
    for (int k = 0; k < s->n; k++) {
        if (s->kind != H_TRASH) {
            apply_value(a, s->kind, s->it[k].photo, s->it[k].now);
        } else if (!a->ph[s->it[k].photo].trashed) { /* back from the Trash: marked and moved again */
            apply_value(a, H_MARK, s->it[k].photo, MARK_DELETE);
            failed += trash_again(a, &s->it[k]) != 0;
        }
    }
    if (!failed) app_set_message(a, "redone: %s", what(s));
    a->dirty = 1;
}
