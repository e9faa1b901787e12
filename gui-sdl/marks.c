/* marks.c: a person's decisions live in each photo's XMP sidecars (unsharp_mark_sidecars: the
 * one that exists, else NAME.EXT.xmp; for a RAW+JPEG pair the RAW's, NAME.RAW.xmp, which
 * darktable and digiKam read, and the JPEG's own when it has one), as libunsharp-files writes
 * them: keep or reject marked
 * as made by a person (unsharp:Mark, unsharp:MarkedBy, digiKam:PickLabel, the rating before a
 * reject kept in unsharp:PriorRating), star ratings (xmp:Rating) and colour labels as
 * darktable and digiKam read them. Every change is written as it is made; opening a folder
 * reads them back. A reject by unsharp-classify --xmp is the tool's, not a person's, and is
 * not shown as a mark. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "review.h"

#define MAX_SIDECARS 8

void marks_load(app *a)
{
    int bad = 0;
    char err[512], lasterr[600] = "";
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (!p->id_ok) continue;
        char *sc[MAX_SIDECARS];
        int n = unsharp_mark_sidecars(p->path, sc, MAX_SIDECARS), marked = 0, rated = 0, labelled = 0;
        for (int k = 0; k < n; k++) { /* the first sidecar that holds each value gives it */
            unsharp_xmp_state st;
            if (access(sc[k], F_OK) != 0) continue;
            if (unsharp_xmp_read(sc[k], &st, err, sizeof err) != 0) {
                snprintf(lasterr, sizeof lasterr, "%s: %s", p->rel, err);
                bad++;
                continue;
            }
            if (!marked && st.by == UNSHARP_BY_PERSON && st.mark != UNSHARP_MARK_NONE) {
                p->mark = st.mark == UNSHARP_MARK_KEEP ? MARK_KEEP : MARK_DELETE;
                marked = 1;
            }
            int stars = st.rating >= 0 ? st.rating : st.prior_rating;
            if (!rated && stars > 0) p->stars = stars, rated = 1;
            if (!labelled && st.color_label > 0) p->label = st.color_label, labelled = 1;
        }
        for (int k = 0; k < n; k++) free(sc[k]);
    }
    if (bad) app_set_message(a, "%d sidecar%s could not be read (%s)", bad, bad == 1 ? "" : "s", lasterr);
}

void marks_save(app *a, int i, hist_kind k)
{
    photo *p = &a->ph[i];
    char *sc[MAX_SIDECARS], err[512];
    int n = unsharp_mark_sidecars(p->path, sc, MAX_SIDECARS);
    if (n <= 0) {
        app_set_message(a, "%s: out of memory; the change is not saved", p->rel);
        return;
    }
    for (int s = 0; s < n; s++) {
        int rc = 0;
        if (k == H_MARK) {
            unsharp_mark m = p->mark == MARK_KEEP ? UNSHARP_MARK_KEEP : p->mark == MARK_DELETE ? UNSHARP_MARK_REJECT : UNSHARP_MARK_NONE;
            rc = unsharp_xmp_set_mark(sc[s], m, UNSHARP_BY_PERSON, err, sizeof err);
        } else if (k == H_STARS) {
            rc = unsharp_xmp_set_rating(sc[s], p->stars, err, sizeof err);
        } else if (k == H_LABEL) {
            rc = unsharp_xmp_set_color_label(sc[s], p->label, err, sizeof err);
        }
        if (rc < 0) app_set_message(a, "%s: not saved: %s", p->rel, err);
    }
    for (int s = 0; s < n; s++) free(sc[s]);
}
