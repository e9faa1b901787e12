/* test_xmp.c: the XMP marks of libunsharp-files (engine/files/xmp.c): keep and reject with who
 * made them, the rating before a reject kept and restored, a person's marks never replaced by
 * the tool's, star ratings and colour labels in darktable's, digiKam's and Lightroom's fields,
 * and other fields kept. Every sidecar written is read back by exiv2 (an independent XMP
 * reader, Debian package exiv2); the sidecars read are written by hand or by exiv2. Without
 * exiv2 the suite says why and exits 77 (skipped). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/files.h"

#define RDF "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\""

/* A sidecar with one rdf:Description holding attrs (namespaces declared here) and body */
static void put_xmp(const char *name, const char *attrs, const char *body)
{
    char text[4096];
    snprintf(text, sizeof text,
             "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF " RDF ">\n"
             " <rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
             "  xmlns:digiKam=\"http://www.digikam.org/ns/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
             "  xmlns:darktable=\"http://darktable.sf.net/\" xmlns:unsharp=\"http://ns.unsharp.org/1.0/\"\n"
             "  %s>%s</rdf:Description>\n</rdf:RDF></x:xmpmeta>\n",
             attrs, body);
    tu_write_file(tu_path(name), text, strlen(text));
}

/* The value exiv2 reads for key (Xmp.xmp.Rating, ...) in the sidecar name; NULL when absent.
 * One of four rotating buffers. */
static const char *exiv2(const char *name, const char *key)
{
    static char out[4][256];
    static int turn;
    char cmd[512], line[1024];
    snprintf(cmd, sizeof cmd, "exiv2 -PXkv '%s' 2>/dev/null", tu_path(name));
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    char *found = NULL;
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, key, klen) != 0 || line[klen] != ' ') continue;
        char *v = line + klen;
        while (*v == ' ') v++;
        v[strcspn(v, "\n")] = 0;
        found = out[turn++ % 4];
        snprintf(found, 256, "%s", v);
    }
    pclose(p);
    return found;
}

/* exiv2 reads want (NULL: no such key) for key in the sidecar name */
static void ck_exiv2(const char *name, const char *key, const char *want)
{
    const char *got = exiv2(name, key);
    if (!want) ck_assert_msg(got == NULL, "%s: %s is %s, not absent", name, key, got);
    else ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s is %s, not %s", name, key, got ? got : "absent", want);
}

static unsharp_xmp_state read_ok(const char *name)
{
    unsharp_xmp_state st;
    char err[512] = "";
    ck_assert_msg(unsharp_xmp_read(tu_path(name), &st, err, sizeof err) == 0, "%s", err);
    return st;
}

static int mark(const char *name, unsharp_mark m, unsharp_marked_by by)
{
    char err[512] = "";
    int rc = unsharp_xmp_set_mark(tu_path(name), m, by, err, sizeof err);
    ck_assert_msg(rc >= 0, "%s", err);
    return rc;
}

/* --xmp's verdict on a photo without a sidecar: one is created; a second run is the same */
START_TEST(tool_reject_creates)
{
    char err[512] = "";
    ck_assert_msg(unsharp_xmp_mark_rejected(tu_path("p.jpg.xmp"), err, sizeof err) == 0, "%s", err);
    ck_exiv2("p.jpg.xmp", "Xmp.xmp.Rating", "-1");
    ck_exiv2("p.jpg.xmp", "Xmp.digiKam.PickLabel", "1");
    ck_exiv2("p.jpg.xmp", "Xmp.unsharp.Mark", "reject");
    ck_exiv2("p.jpg.xmp", "Xmp.unsharp.MarkedBy", "unsharp-classify");
    ck_exiv2("p.jpg.xmp", "Xmp.unsharp.PriorRating", NULL); /* there was no rating */
    unsharp_xmp_state st = read_ok("p.jpg.xmp");
    ck_assert_int_eq(st.mark, UNSHARP_MARK_REJECT);
    ck_assert_int_eq(st.by, UNSHARP_BY_TOOL);
    ck_assert_int_eq(st.rating, -1);
    ck_assert_int_eq(mark("p.jpg.xmp", UNSHARP_MARK_REJECT, UNSHARP_BY_TOOL), 0);
    ck_exiv2("p.jpg.xmp", "Xmp.xmp.Rating", "-1");
    /* lifted by the tool: no rating was there, none is */
    ck_assert_int_eq(mark("p.jpg.xmp", UNSHARP_MARK_NONE, UNSHARP_BY_TOOL), 0);
    ck_exiv2("p.jpg.xmp", "Xmp.xmp.Rating", NULL);
    ck_exiv2("p.jpg.xmp", "Xmp.digiKam.PickLabel", NULL);
    ck_exiv2("p.jpg.xmp", "Xmp.unsharp.Mark", NULL);
    ck_exiv2("p.jpg.xmp", "Xmp.unsharp.MarkedBy", NULL);
    st = read_ok("p.jpg.xmp");
    ck_assert(st.mark == UNSHARP_MARK_NONE && st.by == UNSHARP_BY_NOBODY && st.rating == 0);
}
END_TEST

/* A person rejects a 3-star photo, then keeps it: the 3 stars come back; other fields stay */
START_TEST(person_reject_then_keep)
{
    put_xmp("d.CR2.xmp", "xmp:Rating=\"3\" darktable:xmp_version=\"5\"",
            "<dc:subject><rdf:Bag><rdf:li>beach</rdf:li></rdf:Bag></dc:subject>");
    ck_assert_int_eq(mark("d.CR2.xmp", UNSHARP_MARK_REJECT, UNSHARP_BY_PERSON), 0);
    ck_exiv2("d.CR2.xmp", "Xmp.xmp.Rating", "-1");
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.PriorRating", "3");
    ck_exiv2("d.CR2.xmp", "Xmp.digiKam.PickLabel", "1");
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.MarkedBy", "person");
    ck_exiv2("d.CR2.xmp", "Xmp.dc.subject", "beach");
    ck_exiv2("d.CR2.xmp", "Xmp.darktable.xmp_version", "5");
    unsharp_xmp_state st = read_ok("d.CR2.xmp");
    ck_assert(st.mark == UNSHARP_MARK_REJECT && st.by == UNSHARP_BY_PERSON && st.rating == -1 && st.prior_rating == 3);
    /* rejected again: the prior rating is still 3, not -1 */
    ck_assert_int_eq(mark("d.CR2.xmp", UNSHARP_MARK_REJECT, UNSHARP_BY_PERSON), 0);
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.PriorRating", "3");
    ck_assert_int_eq(mark("d.CR2.xmp", UNSHARP_MARK_KEEP, UNSHARP_BY_PERSON), 0);
    ck_exiv2("d.CR2.xmp", "Xmp.xmp.Rating", "3");
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.PriorRating", NULL);
    ck_exiv2("d.CR2.xmp", "Xmp.digiKam.PickLabel", "3");
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.Mark", "keep");
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.MarkedBy", "person");
    st = read_ok("d.CR2.xmp");
    ck_assert(st.mark == UNSHARP_MARK_KEEP && st.by == UNSHARP_BY_PERSON && st.rating == 3 && st.prior_rating == 0);
    /* unmarked: PickLabel and our fields go, the rating stays */
    ck_assert_int_eq(mark("d.CR2.xmp", UNSHARP_MARK_NONE, UNSHARP_BY_PERSON), 0);
    ck_exiv2("d.CR2.xmp", "Xmp.xmp.Rating", "3");
    ck_exiv2("d.CR2.xmp", "Xmp.digiKam.PickLabel", NULL);
    ck_exiv2("d.CR2.xmp", "Xmp.unsharp.Mark", NULL);
    ck_exiv2("d.CR2.xmp", "Xmp.dc.subject", "beach");
}
END_TEST

/* The tool's reject over an explicit rating of 0 keeps the 0, and lifting it restores it */
START_TEST(tool_reject_keeps_zero_rating)
{
    put_xmp("z.jpg.xmp", "xmp:Rating=\"0\"", "");
    ck_assert_int_eq(mark("z.jpg.xmp", UNSHARP_MARK_REJECT, UNSHARP_BY_TOOL), 0);
    ck_exiv2("z.jpg.xmp", "Xmp.unsharp.PriorRating", "0");
    ck_exiv2("z.jpg.xmp", "Xmp.xmp.Rating", "-1");
    ck_assert_int_eq(mark("z.jpg.xmp", UNSHARP_MARK_NONE, UNSHARP_BY_TOOL), 0);
    ck_exiv2("z.jpg.xmp", "Xmp.xmp.Rating", "0");
    ck_exiv2("z.jpg.xmp", "Xmp.unsharp.PriorRating", NULL);
}
END_TEST

/* What a person (or a photographer's own program) marked is never replaced by the tool: the
 * sidecar keeps its very bytes */
START_TEST(tool_never_replaces_person)
{
    struct {
        const char *attrs;
        unsharp_mark mark;
        int rating;
    } cases[] = {
        {"digiKam:PickLabel=\"3\"", UNSHARP_MARK_KEEP, 0},                       /* digiKam: accepted */
        {"xmp:Rating=\"2\"", UNSHARP_MARK_KEEP, 2},                              /* stars */
        {"unsharp:Mark=\"keep\" unsharp:MarkedBy=\"person\"", UNSHARP_MARK_KEEP, 0}, /* the review window */
        {"xmp:Rating=\"-1\"", UNSHARP_MARK_REJECT, -1},                          /* darktable: rejected */
        {"unsharp:Mark=\"reject\" unsharp:MarkedBy=\"person\" xmp:Rating=\"-1\"", UNSHARP_MARK_REJECT, -1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        put_xmp("m.xmp", cases[k].attrs, "");
        size_t n0, n1;
        unsigned char *before = tu_read_file(tu_path("m.xmp"), &n0);
        unsharp_xmp_state st = read_ok("m.xmp");
        ck_assert_msg(st.mark == cases[k].mark && st.by == UNSHARP_BY_PERSON && st.rating == cases[k].rating,
                      "%s: mark %d by %d rating %d", cases[k].attrs, st.mark, st.by, st.rating);
        char err[512] = "";
        ck_assert_int_eq(unsharp_xmp_mark_rejected(tu_path("m.xmp"), err, sizeof err), 1);
        ck_assert_int_eq(mark("m.xmp", UNSHARP_MARK_NONE, UNSHARP_BY_TOOL), 1);
        unsigned char *after = tu_read_file(tu_path("m.xmp"), &n1);
        ck_assert_msg(n0 == n1 && memcmp(before, after, n0) == 0, "%s: the sidecar changed", cases[k].attrs);
        free(before);
        free(after);
    }
    /* but a person's mark replaces a person's */
    ck_assert_int_eq(mark("m.xmp", UNSHARP_MARK_KEEP, UNSHARP_BY_PERSON), 0);
    ck_exiv2("m.xmp", "Xmp.xmp.Rating", NULL); /* rejected without a prior rating: none now */
    ck_exiv2("m.xmp", "Xmp.unsharp.Mark", "keep");
}
END_TEST

/* Stars and colour labels as darktable, digiKam and Lightroom read them */
START_TEST(rating_and_labels)
{
    char err[512] = "";
    const char *sc = tu_path("r.NEF.xmp");
    ck_assert_msg(unsharp_xmp_set_rating(sc, 4, err, sizeof err) == 0, "%s", err);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Rating", "4");
    ck_assert_msg(unsharp_xmp_set_color_label(sc, 3, err, sizeof err) == 0, "%s", err);
    ck_exiv2("r.NEF.xmp", "Xmp.darktable.colorlabels", "2");
    ck_exiv2("r.NEF.xmp", "Xmp.digiKam.ColorLabel", "4");
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Label", "Green");
    ck_assert_msg(unsharp_xmp_set_color_label(sc, 5, err, sizeof err) == 0, "%s", err);
    ck_exiv2("r.NEF.xmp", "Xmp.darktable.colorlabels", "4");
    ck_exiv2("r.NEF.xmp", "Xmp.digiKam.ColorLabel", "6");
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Label", "Purple");
    unsharp_xmp_state st = read_ok("r.NEF.xmp");
    ck_assert(st.rating == 4 && st.color_label == 5);
    ck_assert_msg(unsharp_xmp_set_color_label(sc, 0, err, sizeof err) == 0, "%s", err);
    ck_exiv2("r.NEF.xmp", "Xmp.darktable.colorlabels", NULL);
    ck_exiv2("r.NEF.xmp", "Xmp.digiKam.ColorLabel", NULL);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Label", NULL);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Rating", "4");
    ck_assert_int_eq(unsharp_xmp_set_rating(sc, 6, err, sizeof err), -1);
    ck_assert_int_eq(unsharp_xmp_set_color_label(sc, -1, err, sizeof err), -1);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Rating", "4");
    /* stars given to a rejected photo wait in PriorRating until the reject is lifted */
    ck_assert_int_eq(mark("r.NEF.xmp", UNSHARP_MARK_REJECT, UNSHARP_BY_PERSON), 0);
    ck_assert_msg(unsharp_xmp_set_rating(sc, 2, err, sizeof err) == 0, "%s", err);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Rating", "-1");
    ck_exiv2("r.NEF.xmp", "Xmp.unsharp.PriorRating", "2");
    ck_assert_int_eq(mark("r.NEF.xmp", UNSHARP_MARK_KEEP, UNSHARP_BY_PERSON), 0);
    ck_exiv2("r.NEF.xmp", "Xmp.xmp.Rating", "2");
}
END_TEST

/* Sidecars exiv2 wrote, in each program's colour label field, read back */
START_TEST(read_what_exiv2_wrote)
{
    struct {
        const char *set;
        int label, rating;
    } cases[] = {
        {"-M'reg darktable http://darktable.sf.net/' -M'set Xmp.darktable.colorlabels XmpSeq 1'", 2, 0},
        {"-M'set Xmp.xmp.Label Blue' -M'set Xmp.xmp.Rating 5'", 4, 5},
        {"-M'set Xmp.digiKam.ColorLabel 1'", 1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        put_xmp("e.xmp", "", "");
        tu_run("exiv2 %s '%s'", cases[k].set, tu_path("e.xmp"));
        unsharp_xmp_state st = read_ok("e.xmp");
        ck_assert_msg(st.color_label == cases[k].label && st.rating == cases[k].rating, "%s: label %d rating %d",
                      cases[k].set, st.color_label, st.rating);
    }
}
END_TEST

/* No sidecar: nothing marked, no error. Not XMP: an error, and never written over */
START_TEST(missing_and_not_xmp)
{
    unsharp_xmp_state st = read_ok("none.xmp");
    ck_assert(st.mark == UNSHARP_MARK_NONE && st.by == UNSHARP_BY_NOBODY && st.rating == 0 && st.color_label == 0);
    ck_assert_int_eq(access(tu_path("none.xmp"), F_OK), -1);
    tu_write_file(tu_path("notes.xmp"), "my notes\n", 9);
    char err[512] = "";
    ck_assert_int_eq(unsharp_xmp_read(tu_path("notes.xmp"), &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "notes.xmp") && strstr(err, "not XMP"), "%s", err);
    ck_assert_int_eq(unsharp_xmp_set_mark(tu_path("notes.xmp"), UNSHARP_MARK_KEEP, UNSHARP_BY_PERSON, err, sizeof err), -1);
    size_t n;
    unsigned char *text = tu_read_file(tu_path("notes.xmp"), &n);
    ck_assert(n == 9 && memcmp(text, "my notes\n", 9) == 0);
    free(text);
    /* an empty file is a sidecar with nothing in it yet */
    tu_write_file(tu_path("empty.xmp"), "", 0);
    st = read_ok("empty.xmp");
    ck_assert_int_eq(st.mark, UNSHARP_MARK_NONE);
    ck_assert_int_eq(mark("empty.xmp", UNSHARP_MARK_KEEP, UNSHARP_BY_PERSON), 0);
    ck_exiv2("empty.xmp", "Xmp.digiKam.PickLabel", "3");
    ck_assert_int_eq(unsharp_xmp_set_mark(tu_path("x.xmp"), (unsharp_mark)7, UNSHARP_BY_PERSON, err, sizeof err), -1);
    ck_assert_int_eq(access(tu_path("x.xmp"), F_OK), -1);
}
END_TEST

int main(void)
{
    if (system("exiv2 --version > /dev/null 2>&1") != 0) {
        printf("test_xmp: skipped: exiv2 is not installed (Debian package exiv2)\n");
        return 77;
    }
    Suite *s = suite_create("xmp");
    TCase *tc = tcase_create("xmp");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, tool_reject_creates);
    tcase_add_test(tc, person_reject_then_keep);
    tcase_add_test(tc, tool_reject_keeps_zero_rating);
    tcase_add_test(tc, tool_never_replaces_person);
    tcase_add_test(tc, rating_and_labels);
    tcase_add_test(tc, read_what_exiv2_wrote);
    tcase_add_test(tc, missing_and_not_xmp);
    suite_add_tcase(s, tc);
    int rc = tu_run_suite(s);
    unsharp_xmp_done();
    return rc;
}
