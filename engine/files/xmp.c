/* xmp.c: the marks a photo carries in its XMP sidecar, read and written with Exempi: a keep
 * or reject decision and who made it (our namespace, UNSHARP_XMP_NS), the star rating and
 * the rating before a reject (restored when it is lifted), and the colour label, in the
 * fields darktable, digiKam and Lightroom read (files.h says which). Everything else already
 * in the sidecar is kept. Only a file that is XMP is merged into: one that is not RDF (other
 * XML, text) is left as it is, with why; the file itself is read and replaced by sidecar.c.
 * Exempi is opened on the first sidecar (lazylib.c); when it cannot be, each sidecar fails
 * with why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lazylib.h"
#include "sidecar.h"
#include "unsharp/files.h"

#define NS_XMP_BASIC "http://ns.adobe.com/xap/1.0/"
#define NS_DIGIKAM "http://www.digikam.org/ns/1.0/"
#define NS_DARKTABLE "http://darktable.sf.net/"
#define RDF_NAMESPACE "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define BY_TOOL_NAME "unsharp-classify"

static const lazy_exempi *exempi; /* set once Exempi is loaded and started */

static int xmp_init_once(char *err, size_t errsize)
{
    if (exempi) return 0;
    char why[512];
    const lazy_exempi *x = lazy_exempi_get(why, sizeof why);
    if (!x) {
        snprintf(err, errsize, "cannot start the XMP library: %s", why);
        return -1;
    }
    if (!x->xmp_init()) {
        snprintf(err, errsize, "cannot start the XMP library");
        return -1;
    }
    x->xmp_register_namespace(NS_DIGIKAM, "digiKam", NULL);
    x->xmp_register_namespace(NS_DARKTABLE, "darktable", NULL);
    x->xmp_register_namespace(UNSHARP_XMP_NS, "unsharp", NULL);
    exempi = x;
    return 0;
}

void unsharp_xmp_done(void)
{
    if (exempi) exempi->xmp_terminate();
    exempi = NULL;
}

/* 1 when text holds nothing but white space */
static int blank(const char *text, size_t len)
{
    for (size_t k = 0; k < len; k++)
        if (!strchr(" \t\r\n", text[k])) return 0;
    return 1;
}

/* The sidecar's packet: *x (an empty one when the sidecar is missing or blank), *was its
 * identity (NULL when missing); read through a symbolic link only when follow. 0, or -1
 * with why in err. */
static int open_packet(const char *sidecar, int follow, XmpPtr *x, struct stat *st, const struct stat **was,
                       char *err, size_t errsize)
{
    char *text = NULL;
    size_t len = 0;
    *x = NULL;
    if (xmp_init_once(err, errsize)) return -1;
    int r = sidecar_read(sidecar, follow, &text, &len, st, err, errsize);
    if (r < 0) return -1;
    *was = r == 1 ? NULL : st;
    /* XMP is RDF: a file that does not declare RDF's namespace is some other XML (or text),
     * which Exempi would read as an empty packet and a rewrite would lose */
    if (r == 0 && !blank(text, len) && !strstr(text, RDF_NAMESPACE)) {
        snprintf(err, errsize, "sidecar %s is not XMP (no RDF in it); left unchanged", sidecar);
        free(text);
        return -1;
    }
    *x = r == 0 && !blank(text, len) ? exempi->xmp_new(text, len) : exempi->xmp_new_empty();
    free(text);
    if (!*x) {
        snprintf(err, errsize, "sidecar %s is not valid XMP (error %d); left unchanged", sidecar, exempi->xmp_get_error());
        return -1;
    }
    return 0;
}

/* A property's text into buf; 1 when present */
static int get_text(XmpPtr x, const char *ns, const char *name, char *buf, size_t size)
{
    XmpStringPtr s = exempi->xmp_string_new();
    int ok = s && exempi->xmp_get_property(x, ns, name, s, NULL);
    if (ok) snprintf(buf, size, "%s", exempi->xmp_string_cstr(s));
    if (s) exempi->xmp_string_free(s);
    return ok;
}

/* An integer property; 1 when present and a whole number */
static int get_int(XmpPtr x, const char *ns, const char *name, int *v)
{
    char buf[64], *end;
    if (!get_text(x, ns, name, buf, sizeof buf)) return 0;
    long l = strtol(buf, &end, 10);
    if (end == buf || *end || l < -1000 || l > 1000) return 0;
    *v = (int)l;
    return 1;
}

/* Our colour labels in digiKam's numbers (1 red, 3 yellow, 4 green, 5 blue, 6 magenta) and
 * Lightroom's xmp:Label names; darktable's colorlabels count from 0 = red. */
static const int digikam_label[6] = {0, 1, 3, 4, 5, 6};
static const char *const label_name[6] = {"", "Red", "Yellow", "Green", "Blue", "Purple"};

static void state_of(XmpPtr x, unsharp_xmp_state *st)
{
    memset(st, 0, sizeof *st);
    char buf[64];
    int v, pick = 0, has_pick = get_int(x, NS_DIGIKAM, "PickLabel", &pick);
    get_int(x, NS_XMP_BASIC, "Rating", &st->rating);
    if (st->rating < -1 || st->rating > 5) st->rating = st->rating < 0 ? -1 : 5;
    get_int(x, UNSHARP_XMP_NS, "PriorRating", &st->prior_rating);
    if (st->prior_rating < 0 || st->prior_rating > 5) st->prior_rating = 0;
    if (get_text(x, UNSHARP_XMP_NS, "Mark", buf, sizeof buf) && (!strcmp(buf, "keep") || !strcmp(buf, "reject"))) {
        st->mark = buf[0] == 'k' ? UNSHARP_MARK_KEEP : UNSHARP_MARK_REJECT;
        st->by = get_text(x, UNSHARP_XMP_NS, "MarkedBy", buf, sizeof buf) && !strcmp(buf, BY_TOOL_NAME)
                     ? UNSHARP_BY_TOOL
                     : UNSHARP_BY_PERSON;
    } else if (has_pick && pick == 3) {
        st->mark = UNSHARP_MARK_KEEP;
    } else if ((has_pick && pick == 1) || st->rating == -1) {
        st->mark = UNSHARP_MARK_REJECT;
    } else if (st->rating > 0) {
        st->mark = UNSHARP_MARK_KEEP;
    }
    if (st->mark != UNSHARP_MARK_NONE && st->by == UNSHARP_BY_NOBODY) st->by = UNSHARP_BY_PERSON;
    /* the colour label: digiKam's, else Lightroom's, else darktable's first */
    if (get_int(x, NS_DIGIKAM, "ColorLabel", &v)) {
        for (int k = 1; k < 6; k++)
            if (digikam_label[k] == v) st->color_label = k;
    } else if (get_text(x, NS_XMP_BASIC, "Label", buf, sizeof buf)) {
        for (int k = 1; k < 6; k++)
            if (!strcasecmp(buf, label_name[k])) st->color_label = k;
    } else if (get_int(x, NS_DARKTABLE, "colorlabels[1]", &v) && v >= 0 && v <= 4) {
        st->color_label = v + 1;
    }
}

int unsharp_xmp_read(const char *sidecar, unsharp_xmp_state *st, char *err, size_t errsize)
{
    XmpPtr x;
    struct stat sb;
    const struct stat *was;
    memset(st, 0, sizeof *st);
    if (open_packet(sidecar, 1, &x, &sb, &was, err, errsize)) return -1;
    state_of(x, st);
    exempi->xmp_free(x);
    return 0;
}

/* An edit of a packet: 0 to write it, 1 to leave the sidecar alone, -1 on an XMP error. */
typedef int (*edit_fn)(XmpPtr x, void *ctx);

/* Reads the sidecar, applies fn and writes the result back (sidecar.c). 0, 1 or -1 as above */
static int edit(const char *sidecar, edit_fn fn, void *ctx, char *err, size_t errsize)
{
    XmpPtr x;
    XmpStringPtr out = NULL;
    struct stat sb;
    const struct stat *was;
    if (open_packet(sidecar, 0, &x, &sb, &was, err, errsize)) return -1;
    int r = fn(x, ctx);
    if (r == 0) {
        if (!(out = exempi->xmp_string_new()) || !exempi->xmp_serialize(x, out, XMP_SERIAL_OMITPACKETWRAPPER, 0)) {
            snprintf(err, errsize, "cannot update sidecar %s (XMP error %d)", sidecar, exempi->xmp_get_error());
            r = -1;
        } else {
            const char *text = exempi->xmp_string_cstr(out);
            r = sidecar_replace(sidecar, text, strlen(text), was, err, errsize);
        }
    } else if (r < 0) {
        snprintf(err, errsize, "cannot update sidecar %s (XMP error %d)", sidecar, exempi->xmp_get_error());
    }
    if (out) exempi->xmp_string_free(out);
    exempi->xmp_free(x);
    return r;
}

static int set_int(XmpPtr x, const char *ns, const char *name, int v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%d", v);
    return exempi->xmp_set_property(x, ns, name, buf, 0) ? 0 : -1;
}

/* Lifts a reject's rating: xmp:Rating back to PriorRating (removed when there was none) */
static int restore_rating(XmpPtr x, const unsharp_xmp_state *s)
{
    int prior;
    if (s->rating == -1) {
        if (get_int(x, UNSHARP_XMP_NS, "PriorRating", &prior) && prior >= 0 && prior <= 5) {
            if (set_int(x, NS_XMP_BASIC, "Rating", prior)) return -1;
        } else {
            exempi->xmp_delete_property(x, NS_XMP_BASIC, "Rating");
        }
    }
    exempi->xmp_delete_property(x, UNSHARP_XMP_NS, "PriorRating");
    return 0;
}

typedef struct {
    unsharp_mark mark;
    unsharp_marked_by by;
} mark_args;

static int apply_mark(XmpPtr x, void *ctx)
{
    const mark_args *a = ctx;
    unsharp_xmp_state s;
    state_of(x, &s);
    if (a->by == UNSHARP_BY_TOOL && s.mark != UNSHARP_MARK_NONE && s.by == UNSHARP_BY_PERSON) return 1;
    if (a->mark == UNSHARP_MARK_REJECT) {
        int has_rating;
        if (s.rating != -1) {
            has_rating = get_int(x, NS_XMP_BASIC, "Rating", &(int){0});
            if (has_rating ? set_int(x, UNSHARP_XMP_NS, "PriorRating", s.rating) : 0) return -1;
            if (!has_rating) exempi->xmp_delete_property(x, UNSHARP_XMP_NS, "PriorRating");
        }
        if (set_int(x, NS_XMP_BASIC, "Rating", -1) || set_int(x, NS_DIGIKAM, "PickLabel", 1)) return -1;
    } else {
        if (restore_rating(x, &s)) return -1;
        if (a->mark == UNSHARP_MARK_KEEP ? set_int(x, NS_DIGIKAM, "PickLabel", 3) : 0) return -1;
        if (a->mark == UNSHARP_MARK_NONE) exempi->xmp_delete_property(x, NS_DIGIKAM, "PickLabel");
    }
    if (a->mark == UNSHARP_MARK_NONE) {
        exempi->xmp_delete_property(x, UNSHARP_XMP_NS, "Mark");
        exempi->xmp_delete_property(x, UNSHARP_XMP_NS, "MarkedBy");
        return 0;
    }
    const char *who = a->by == UNSHARP_BY_TOOL ? BY_TOOL_NAME : "person";
    const char *what = a->mark == UNSHARP_MARK_KEEP ? "keep" : "reject";
    if (!exempi->xmp_set_property(x, UNSHARP_XMP_NS, "Mark", what, 0) ||
        !exempi->xmp_set_property(x, UNSHARP_XMP_NS, "MarkedBy", who, 0))
        return -1;
    return 0;
}

int unsharp_xmp_set_mark(const char *sidecar, unsharp_mark mark, unsharp_marked_by by, char *err, size_t errsize)
{
    if (mark < UNSHARP_MARK_NONE || mark > UNSHARP_MARK_REJECT || by < UNSHARP_BY_PERSON || by > UNSHARP_BY_TOOL) {
        snprintf(err, errsize, "cannot mark %s: no such mark or author (%d, %d)", sidecar, (int)mark, (int)by);
        return -1;
    }
    mark_args a = {mark, by};
    return edit(sidecar, apply_mark, &a, err, errsize);
}

int unsharp_xmp_mark_rejected(const char *sidecar, char *err, size_t errsize)
{
    return unsharp_xmp_set_mark(sidecar, UNSHARP_MARK_REJECT, UNSHARP_BY_TOOL, err, errsize);
}

static int apply_rating(XmpPtr x, void *ctx)
{
    int stars = *(const int *)ctx, now = 0;
    if (get_int(x, NS_XMP_BASIC, "Rating", &now) && now == -1) return set_int(x, UNSHARP_XMP_NS, "PriorRating", stars);
    return set_int(x, NS_XMP_BASIC, "Rating", stars);
}

int unsharp_xmp_set_rating(const char *sidecar, int stars, char *err, size_t errsize)
{
    if (stars < 0 || stars > 5) {
        snprintf(err, errsize, "cannot rate %s %d stars: a rating is 0 to 5", sidecar, stars);
        return -1;
    }
    return edit(sidecar, apply_rating, &stars, err, errsize);
}

static int apply_label(XmpPtr x, void *ctx)
{
    int label = *(const int *)ctx;
    exempi->xmp_delete_property(x, NS_DARKTABLE, "colorlabels");
    exempi->xmp_delete_property(x, NS_DIGIKAM, "ColorLabel");
    exempi->xmp_delete_property(x, NS_XMP_BASIC, "Label");
    if (label == 0) return 0;
    char dt[12];
    snprintf(dt, sizeof dt, "%d", label - 1);
    if (!exempi->xmp_append_array_item(x, NS_DARKTABLE, "colorlabels", XMP_PROP_ARRAY_IS_ORDERED, dt, 0) ||
        set_int(x, NS_DIGIKAM, "ColorLabel", digikam_label[label]) ||
        !exempi->xmp_set_property(x, NS_XMP_BASIC, "Label", label_name[label], 0))
        return -1;
    return 0;
}

int unsharp_xmp_set_color_label(const char *sidecar, int label, char *err, size_t errsize)
{
    if (label < 0 || label > 5) {
        snprintf(err, errsize, "cannot label %s with colour %d: a colour label is 0 (none) to 5", sidecar, label);
        return -1;
    }
    return edit(sidecar, apply_label, &label, err, errsize);
}
