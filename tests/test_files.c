/* test_files.c: libunsharp-files (engine/files): the one list of photo names, RAW+JPEG pairs,
 * file identity and the check before an action, a photo's companions and sidecar, renames that
 * never replace, and a Trash entry found again and restored. Expected values are written out
 * by hand here, never taken from the code under test. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/files.h"

static void put(const char *name, const char *text) { tu_write_file(tu_path(name), text, strlen(text)); }

START_TEST(photo_names)
{
    const char *yes[] = {"a.jpg", "B.JPG", "c.jpeg", "d.JPE", "e.png", "f.heic", "g.HEIF", "h.avif", "i.webp",
                         "j.tif", "k.TIFF", "l.cr2", "m.CR3", "n.nef", "o.arw", "p.raf", "q.orf", "r.rw2",
                         "s.pef", "t.DNG", "dir.x/u.jpg", "two.dots.png",
                         /* image names no decoder reads: listed, each to get its message */
                         "g.jxl", "h.GIF", "i.bmp", "j.jp2", "k.psd", "l.exr"};
    const char *no[] = {"a.xmp", "b.txt", "jpg", ".jpg", "c.jpg.xmp", "d.jpgx", "e.", "f", "g.jxlx", "h.mp4"};
    for (size_t k = 0; k < sizeof yes / sizeof *yes; k++) ck_assert_msg(unsharp_is_photo_name(yes[k]), "%s", yes[k]);
    for (size_t k = 0; k < sizeof no / sizeof *no; k++) ck_assert_msg(!unsharp_is_photo_name(no[k]), "%s", no[k]);
    ck_assert(unsharp_is_raw_name("x.NEF") && unsharp_is_raw_name("x.dng") && unsharp_is_raw_name("x.srw"));
    ck_assert(!unsharp_is_raw_name("x.jpg") && !unsharp_is_raw_name("x.tif") && !unsharp_is_raw_name("cr2"));
}
END_TEST

/* a RAW beside a photo of another kind with its stem is a companion; alone, it is a photo */
START_TEST(raw_pairs)
{
    char *names[] = {"A.CR2", "A.JPG", "A.JPG.xmp", "B.NEF", "B.xmp", "C.dng", "C.png", "D.jpg", "D2.arw",
                     "E.CR2", "E.NEF", "F.tar.CR2", "F.tar.jpg", "G.CR2", "G.gif", "notes.txt"};
    int want[] = {0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0};
    size_t n = sizeof names / sizeof *names;
    for (size_t i = 0; i < n; i++) ck_assert_msg(unsharp_photo_listed(names, n, i) == want[i], "%s", names[i]);
}
END_TEST

/* one folder's photos as every program lists them: sorted, RAW beside its JPEG dropped */
START_TEST(folder_listing)
{
    tu_run("mkdir -p %s/d/x.jpg", tu_dir);
    const char *files[] = {"d/IMG_2.CR2", "d/IMG_2.JPG", "d/b.png", "d/IMG_1.NEF", "d/notes.txt", "d/IMG_2.JPG.xmp"};
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) put(files[k], "x");
    char **names = NULL;
    size_t n = 99;
    ck_assert_int_eq(unsharp_list_photos(tu_path("d"), &names, &n), 0);
    const char *want[] = {"IMG_1.NEF", "IMG_2.JPG", "b.png", "x.jpg"}; /* a folder: the caller's to check */
    ck_assert_uint_eq(n, 4);
    for (size_t k = 0; k < n; k++) ck_assert_str_eq(names[k], want[k]);
    unsharp_names_free(names, n);
    errno = 0;
    ck_assert_int_eq(unsharp_list_photos(tu_path("none"), &names, &n), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_null(names);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(identity_check)
{
    put("p.jpg", "first");
    unsharp_file_id id, again;
    ck_assert_int_eq(unsharp_file_id_read(tu_path("p.jpg"), &id), 0);
    ck_assert_int_eq(unsharp_file_id_read(tu_path("p.jpg"), &again), 0);
    ck_assert(unsharp_file_id_same(&id, &again));
    ck_assert_int_eq(unsharp_file_check(tu_path("p.jpg"), &id), UNSHARP_FILE_SAME);
    /* rewritten in place to the same size: only the modification time tells */
    struct timespec later[2] = {{0, UTIME_OMIT}, {id.mtime_sec + 5, id.mtime_nsec}};
    put("p.jpg", "fresh");
    ck_assert_int_eq(utimensat(AT_FDCWD, tu_path("p.jpg"), later, 0), 0);
    ck_assert_int_eq(unsharp_file_check(tu_path("p.jpg"), &id), UNSHARP_FILE_CHANGED);
    /* another file under the name */
    ck_assert_int_eq(unsharp_file_id_read(tu_path("p.jpg"), &id), 0);
    put("q.jpg", "fresh");
    ck_assert_int_eq(utimensat(AT_FDCWD, tu_path("q.jpg"), later, 0), 0);
    ck_assert_int_eq(rename(tu_path("q.jpg"), tu_path("p.jpg")), 0);
    ck_assert_int_eq(unsharp_file_check(tu_path("p.jpg"), &id), UNSHARP_FILE_CHANGED);
    ck_assert_int_eq(unlink(tu_path("p.jpg")), 0);
    errno = 0;
    ck_assert_int_eq(unsharp_file_check(tu_path("p.jpg"), &id), UNSHARP_FILE_GONE);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(unsharp_file_id_read(tu_dir, &id), -1);
    ck_assert_int_eq(errno, EISDIR);
}
END_TEST

static int has(char **names, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (strcmp(names[k], name) == 0) return 1;
    return 0;
}

START_TEST(companions_and_sidecar)
{
    put("IMG_1.JPG", "x");
    put("IMG_1.JPG.xmp", "x");
    put("IMG_1.xmp", "x");
    put("IMG_1.CR2", "x");
    put("IMG_1.dng", "x");
    put("IMG_1.CR2.xmp", "x"); /* the RAW's sidecar (darktable, digiKam) */
    put("IMG_10.JPG", "x");   /* another photo */
    put("IMG_1.txt.xmp", "x"); /* not a RAW's */
    put("IMG_1.txt", "x");    /* not a companion */
    put("IMG_1.b.xmp", "x");  /* neither */
    tu_run("mkdir %s/IMG_1.NEF", tu_dir); /* a folder is never a companion */
    char *names[UNSHARP_MAX_COMPANIONS];
    int n = unsharp_companions(tu_path("IMG_1.JPG"), names, UNSHARP_MAX_COMPANIONS);
    ck_assert_int_eq(n, 5);
    ck_assert(has(names, n, "IMG_1.JPG.xmp") && has(names, n, "IMG_1.xmp") && has(names, n, "IMG_1.CR2") &&
              has(names, n, "IMG_1.dng") && has(names, n, "IMG_1.CR2.xmp"));
    for (int k = 0; k < n; k++) free(names[k]);
    char *sc = unsharp_sidecar_for(tu_path("IMG_1.JPG"));
    ck_assert_str_eq(sc, tu_path("IMG_1.JPG.xmp")); /* NAME.EXT.xmp first */
    free(sc);
    ck_assert_int_eq(unlink(tu_path("IMG_1.JPG.xmp")), 0);
    sc = unsharp_sidecar_for(tu_path("IMG_1.JPG"));
    ck_assert_str_eq(sc, tu_path("IMG_1.xmp"));
    free(sc);
    sc = unsharp_sidecar_for(tu_path("IMG_10.JPG"));
    ck_assert_str_eq(sc, tu_path("IMG_10.JPG.xmp")); /* none yet: the one to create */
    free(sc);
    const char *base;
    char *dir = unsharp_path_dir("a/b/c.jpg", &base);
    ck_assert_str_eq(dir, "a/b");
    ck_assert_str_eq(base, "c.jpg");
    free(dir);
    dir = unsharp_path_dir("c.jpg", &base);
    ck_assert_str_eq(dir, ".");
    free(dir);
    dir = unsharp_path_dir("/c.jpg", &base);
    ck_assert_str_eq(dir, "/");
    ck_assert_str_eq(base, "c.jpg");
    free(dir);
}
END_TEST

/* Where a decision about a photo goes: a RAW+JPEG pair's RAW's sidecar (made when missing) and
 * the JPEG's own when it has one; a lone photo's sidecar */
static void ck_mark_sidecars(const char *photo, const char *want)
{
    char *paths[8], got[512] = "";
    int n = unsharp_mark_sidecars(tu_path(photo), paths, 8);
    ck_assert_int_ge(n, 0);
    for (int k = 0; k < n; k++) {
        const char *slash = strrchr(paths[k], '/');
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s;", slash + 1);
        free(paths[k]);
    }
    ck_assert_msg(strcmp(got, want) == 0, "%s: %s, not %s", photo, got, want);
}

START_TEST(sidecars_to_mark)
{
    put("A.JPG", "x");
    put("A.CR2", "x");
    ck_mark_sidecars("A.JPG", "A.CR2.xmp;"); /* darktable's name for the RAW, to make */
    put("A.JPG.xmp", "x");
    ck_mark_sidecars("A.JPG", "A.CR2.xmp;A.JPG.xmp;");
    put("B.jpg", "x");
    put("B.nef", "x");
    put("B.xmp", "x"); /* one sidecar for both (Lightroom, digiKam's compatible names) */
    ck_mark_sidecars("B.jpg", "B.xmp;");
    put("C.png", "x");
    ck_mark_sidecars("C.png", "C.png.xmp;");
    put("D.ARW", "x");
    ck_mark_sidecars("D.ARW", "D.ARW.xmp;");
}
END_TEST

START_TEST(rename_and_move_never_replace)
{
    put("a.jpg", "mine");
    put("b.jpg", "theirs");
    errno = 0;
    ck_assert_int_eq(unsharp_rename_noreplace(tu_path("a.jpg"), tu_path("b.jpg")), -1);
    ck_assert_int_eq(errno, EEXIST);
    char err[512] = "";
    ck_assert_int_eq(unsharp_move_file(tu_path("a.jpg"), tu_path("b.jpg"), NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "already exists"), "%s", err);
    size_t len;
    unsigned char *text = tu_read_file(tu_path("b.jpg"), &len);
    ck_assert(len == 6 && memcmp(text, "theirs", 6) == 0);
    free(text);
    ck_assert_int_eq(unsharp_move_file(tu_path("a.jpg"), tu_path("deep/er/a.jpg"), NULL, err, sizeof err), 0);
    ck_assert_int_eq(access(tu_path("a.jpg"), F_OK), -1);
    text = tu_read_file(tu_path("deep/er/a.jpg"), &len);
    ck_assert(len == 4 && memcmp(text, "mine", 4) == 0);
    free(text);
}
END_TEST

/* The Trash through GIO, with the home trash in the test's folder. */
START_TEST(trash_find_and_restore)
{
    tu_run("mkdir -p %s/data %s/home %s/photos", tu_dir, tu_dir, tu_dir);
    setenv("XDG_DATA_HOME", tu_path("data"), 1);
    setenv("HOME", tu_path("home"), 1);
    char real[4096];
    ck_assert_ptr_nonnull(realpath(tu_dir, real));
    char photo[4200];
    snprintf(photo, sizeof photo, "%s/photos/my photo.jpg", real);
    tu_write_file(photo, "pixels", 6);
    unsharp_file_id id;
    ck_assert_int_eq(unsharp_file_id_read(photo, &id), 0);
    char err[512] = "";
    ck_assert_msg(unsharp_trash_file(photo, NULL, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(access(photo, F_OK), -1);
    unsharp_trash_entry e = {0};
    ck_assert_int_eq(unsharp_trash_find(photo, &id, &e), 0);
    ck_assert_str_eq(e.orig, photo);
    ck_assert_str_eq(e.trashed, tu_path("data/Trash/files/my photo.jpg"));
    ck_assert_str_eq(e.info, tu_path("data/Trash/info/my photo.jpg.trashinfo"));
    /* a new file under the old name: the restore refuses to replace it */
    tu_write_file(photo, "new", 3);
    errno = 0;
    ck_assert_int_eq(unsharp_trash_restore(&e), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_int_eq(access(e.trashed, F_OK), 0);
    ck_assert_int_eq(unlink(photo), 0);
    ck_assert_int_eq(unsharp_trash_restore(&e), 0);
    size_t len;
    unsigned char *text = tu_read_file(photo, &len);
    ck_assert(len == 6 && memcmp(text, "pixels", 6) == 0);
    free(text);
    ck_assert_int_eq(access(e.info, F_OK), -1);
    unsharp_trash_entry_free(&e);
}
END_TEST

/* A file already in Trash/files without its .trashinfo is never replaced: the next name */
START_TEST(trash_never_replaces)
{
    tu_run("mkdir -p %s/data/Trash/files %s/home %s/photos", tu_dir, tu_dir, tu_dir);
    setenv("XDG_DATA_HOME", tu_path("data"), 1);
    setenv("HOME", tu_path("home"), 1);
    put("data/Trash/files/p.jpg", "precious");
    put("photos/p.jpg", "pixels");
    unsharp_file_id id;
    ck_assert_int_eq(unsharp_file_id_read(tu_path("photos/p.jpg"), &id), 0);
    char err[512] = "";
    ck_assert_msg(unsharp_trash_file(tu_path("photos/p.jpg"), &id, err, sizeof err) == 0, "%s", err);
    size_t len;
    unsigned char *text = tu_read_file(tu_path("data/Trash/files/p.jpg"), &len);
    ck_assert(len == 8 && memcmp(text, "precious", 8) == 0);
    free(text);
    text = tu_read_file(tu_path("data/Trash/files/p.jpg.2"), &len);
    ck_assert(len == 6 && memcmp(text, "pixels", 6) == 0);
    free(text);
    ck_assert_int_eq(access(tu_path("data/Trash/info/p.jpg.2.trashinfo"), F_OK), 0);
    ck_assert_int_eq(access(tu_path("data/Trash/info/p.jpg.trashinfo"), F_OK), -1);
    /* a photo that is not the one judged any more stays where it is */
    put("photos/q.jpg", "first");
    ck_assert_int_eq(unsharp_file_id_read(tu_path("photos/q.jpg"), &id), 0);
    put("photos/q2.jpg", "second, longer");
    ck_assert_int_eq(rename(tu_path("photos/q2.jpg"), tu_path("photos/q.jpg")), 0);
    ck_assert_int_eq(unsharp_trash_file(tu_path("photos/q.jpg"), &id, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "changed since it was judged"), "%s", err);
    ck_assert_int_eq(access(tu_path("photos/q.jpg"), F_OK), 0);
    ck_assert_int_eq(access(tu_path("data/Trash/info/q.jpg.trashinfo"), F_OK), -1);
}
END_TEST

/* A FIFO is refused at once, not waited on; a regular file opens */
START_TEST(open_regular_never_blocks)
{
    ck_assert_int_eq(mkfifo(tu_path("fifo"), 0600), 0);
    errno = 0;
    ck_assert_int_eq(unsharp_open_regular(tu_path("fifo")), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(unsharp_open_regular(tu_dir), -1);
    ck_assert_int_eq(errno, EISDIR);
    put("f", "x");
    int fd = unsharp_open_regular(tu_path("f"));
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
}
END_TEST

typedef struct found {
    char got[2048];
} found;

static int note(const char *path, const char *rel, const char *error, void *ctx)
{
    (void)path;
    found *f = ctx;
    size_t n = strlen(f->got);
    snprintf(f->got + n, sizeof f->got - n, "%s%s;", rel, error ? "!" : "");
    return 0;
}

/* Links are never followed (l1 -> ., l2 -> . end at once), a loop is reported, an empty
 * folder is fine, names come sorted, and a set stop flag ends the walk */
START_TEST(walk_links_and_loops)
{
    tu_run("mkdir -p %s/w/empty %s/w/sub && cd %s/w && ln -s . l1 && ln -s . l2 && ln -s a b && ln -s b a "
           "&& ln -s sub linked && touch z.jpg sub/y.png notes.txt sub/x.jpg",
           tu_dir, tu_dir, tu_dir);
    found f = {""};
    ck_assert_int_eq(unsharp_walk(tu_path("w"), note, &f, NULL), 0);
    ck_assert_str_eq(f.got, "a!;b!;sub/x.jpg;sub/y.png;z.jpg;");
    volatile sig_atomic_t stop = 1;
    f.got[0] = 0;
    ck_assert_int_eq(unsharp_walk(tu_path("w"), note, &f, &stop), 1);
    ck_assert_str_eq(f.got, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("files");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, photo_names);
    tcase_add_test(tc, raw_pairs);
    tcase_add_test(tc, folder_listing);
    tcase_add_test(tc, identity_check);
    tcase_add_test(tc, companions_and_sidecar);
    tcase_add_test(tc, sidecars_to_mark);
    tcase_add_test(tc, rename_and_move_never_replace);
    tcase_add_test(tc, trash_find_and_restore);
    tcase_add_test(tc, trash_never_replaces);
    tcase_add_test(tc, open_regular_never_blocks);
    tcase_add_test(tc, walk_links_and_loops);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
