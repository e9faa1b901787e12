/* marks.c: a person's decisions live in each photo's XMP sidecar (unsharp_sidecar_for: the
 * one that exists, else NAME.EXT.xmp), as libunsharp-files writes them: keep or reject marked
 * as made by a person (unsharp:Mark, unsharp:MarkedBy, digiKam:PickLabel, the rating before a
 * reject kept in unsharp:PriorRating), star ratings (xmp:Rating) and colour labels as
 * darktable and digiKam read them. Every change is written as it is made; opening a folder
 * reads them back. A reject by unsharp-classify --xmp is the tool's, not a person's, and is
 * not shown as a mark. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "review.h"

void marks_load(app *a)
{
    int bad = 0;
    char err[512], lasterr[600] = "";
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (!p->id_ok) continue;
        char *sc = unsharp_sidecar_for(p->path);
        if (!sc) continue;
        unsharp_xmp_state st;
        if (access(sc, F_OK) == 0) {
            if (unsharp_xmp_read(sc, &st, err, sizeof err) != 0) {
                snprintf(lasterr, sizeof lasterr, "%s: %s", p->rel, err);
                bad++;
            } else {
                if (st.by == UNSHARP_BY_PERSON)
                    p->mark = st.mark == UNSHARP_MARK_KEEP ? MARK_KEEP : st.mark == UNSHARP_MARK_REJECT ? MARK_DELETE : MARK_NONE;
                p->stars = st.rating >= 0 ? st.rating : st.prior_rating;
                p->label = st.color_label;
            }
        }
        free(sc);
    }
    if (bad) app_set_message(a, "%d sidecar%s could not be read (%s)", bad, bad == 1 ? "" : "s", lasterr);
}

void marks_save(app *a, int i, hist_kind k)
{
    photo *p = &a->ph[i];
    char *sc = unsharp_sidecar_for(p->path), err[512];
    if (!sc) {
        app_set_message(a, "%s: out of memory; the change is not saved", p->rel);
        return;
    }
    int rc = 0;
    if (k == H_MARK) {
        unsharp_mark m = p->mark == MARK_KEEP ? UNSHARP_MARK_KEEP : p->mark == MARK_DELETE ? UNSHARP_MARK_REJECT : UNSHARP_MARK_NONE;
        rc = unsharp_xmp_set_mark(sc, m, UNSHARP_BY_PERSON, err, sizeof err);
    } else if (k == H_STARS) {
        rc = unsharp_xmp_set_rating(sc, p->stars, err, sizeof err);
    } else if (k == H_LABEL) {
        rc = unsharp_xmp_set_color_label(sc, p->label, err, sizeof err);
    }
    if (rc < 0) app_set_message(a, "%s: not saved: %s", p->rel, err);
    free(sc);
}
