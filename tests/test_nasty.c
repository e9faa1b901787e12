/* test_nasty.c: the "nasty folder". A temporary folder is filled with what a photo folder can
 * hold besides photos: a truncated JPEG, an empty x.jpg, random bytes, text named .png, a
 * header claiming 65535x65535, an unreadable file, a directory and a FIFO named .jpg, a
 * dangling symlink, a symlink loop, a name with a newline and UTF-8, and a PNG named .jpg.
 * Every entry of the folder is loaded; each bad one must give its own status and a message
 * that names the file and says what is wrong, each good one must decode. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

/* The offset of the first marker m in a JPEG's header, walking the segments. */
static size_t find_marker(const unsigned char *b, size_t n, int m)
{
    size_t pos = 2;
    while (pos + 4 <= n && b[pos] == 0xFF) {
        if (b[pos + 1] == m) return pos;
        pos += 2 + (size_t)((b[pos + 2] << 8) | b[pos + 3]);
    }
    ck_abort_msg("marker %02x not found", m);
    return 0;
}

/* What each entry of the folder must give. */
typedef struct expect {
    const char *name;
    unsharp_status st;
    const char *why; /* a piece of the message */
} expect;

START_TEST(nasty_folder)
{
    /* A valid photo to start from. */
    FILE *f = fopen(tu_path("src.ppm"), "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "P6\n120 80\n255\n");
    for (int i = 0; i < 120 * 80; i++) {
        fputc(i % 120 * 2, f);
        fputc(i / 120 * 3, f);
        fputc((i * 7) % 256, f);
    }
    fclose(f);
    tu_run("cjpeg -quality 90 -outfile %s %s", tu_path("good.jpg"), tu_path("src.ppm"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("src.ppm"), tu_path("png-named.jpg"));
    size_t size;
    unsigned char *jpg = tu_read_file(tu_path("good.jpg"), &size);
    ck_assert_int_eq(unlink(tu_path("src.ppm")), 0);

    tu_write_file(tu_path("truncated.jpg"), jpg, size / 2);
    tu_write_file(tu_path("x.jpg"), "", 0);
    unsigned char rnd[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof rnd; i++) {
        s = s * 1103515245u + 12345u;
        rnd[i] = (unsigned char)(s >> 16);
    }
    rnd[0] = 0x17; /* surely no magic */
    tu_write_file(tu_path("r.jpg"), rnd, sizeof rnd);
    tu_write_file(tu_path("t.png"), "this is not a picture\n", 22);
    unsigned char *huge = malloc(size);
    memcpy(huge, jpg, size);
    size_t sof = find_marker(huge, size, 0xC0);
    huge[sof + 5] = huge[sof + 6] = huge[sof + 7] = huge[sof + 8] = 0xFF; /* height, width */
    tu_write_file(tu_path("huge.jpg"), huge, size);
    free(huge);
    tu_write_file(tu_path("bad\nname-\xc3\xb1.jpg"), jpg, size);
    ck_assert_int_eq(mkdir(tu_path("dir.jpg"), 0755), 0);
    ck_assert_int_eq(mkfifo(tu_path("fifo.jpg"), 0644), 0);
    ck_assert_int_eq(symlink("nowhere.jpg", tu_path("dangling.jpg")), 0);
    ck_assert_int_eq(symlink("loop-b.jpg", tu_path("loop.jpg")), 0);
    ck_assert_int_eq(symlink("loop.jpg", tu_path("loop-b.jpg")), 0);
    tu_write_file(tu_path("noread.jpg"), jpg, size);
    ck_assert_int_eq(chmod(tu_path("noread.jpg"), 0), 0);
    /* Root reads a chmod-000 file anyway: there the walk below expects noread.jpg to decode,
     * and unreadable_as_nobody() checks EACCES from a child that drops to user nobody. */
    const int root = geteuid() == 0;

    const expect table[] = {
        {"good.jpg", UNSHARP_OK, NULL},
        {"png-named.jpg", UNSHARP_OK, NULL},
        {"bad\nname-\xc3\xb1.jpg", UNSHARP_OK, NULL},
        {"truncated.jpg", UNSHARP_ERR_DECODE, "truncated or corrupt JPEG data"},
        {"x.jpg", UNSHARP_ERR_FORMAT, "empty file"},
        {"r.jpg", UNSHARP_ERR_FORMAT, "(it starts with"},
        {"t.png", UNSHARP_ERR_FORMAT, "(it holds text)"},
        {"huge.jpg", UNSHARP_ERR_TOO_LARGE, "65535x65535"},
        {"dir.jpg", UNSHARP_ERR_IO, "is a directory"},
        {"fifo.jpg", UNSHARP_ERR_IO, "not a regular file"},
        {"dangling.jpg", UNSHARP_ERR_IO, strerror(ENOENT)},
        {"loop.jpg", UNSHARP_ERR_IO, strerror(ELOOP)},
        {"loop-b.jpg", UNSHARP_ERR_IO, strerror(ELOOP)},
        {"noread.jpg", root ? UNSHARP_OK : UNSHARP_ERR_IO, root ? NULL : strerror(EACCES)},
    };
    const size_t ntable = sizeof table / sizeof *table;

    /* Walk the folder as a caller would, so nothing in it is left out. */
    DIR *d = opendir(tu_dir);
    ck_assert_ptr_nonnull(d);
    size_t seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        const expect *x = NULL;
        for (size_t i = 0; i < ntable; i++)
            if (strcmp(table[i].name, e->d_name) == 0) x = &table[i];
        ck_assert_msg(x != NULL, "unexpected entry %s", e->d_name);
        seen++;
        const char *path = tu_path(e->d_name);
        for (int from_memory = 0; from_memory < 2; from_memory++) {
            unsharp_image_options o = {.format = UNSHARP_PIXEL_RGB8, .long_side = 64};
            unsharp_image *img = NULL;
            unsharp_status st;
            if (from_memory) {
                /* The same bytes from memory, for the regular files. */
                struct stat sb;
                if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || (!root && x->st == UNSHARP_ERR_IO)) continue;
                size_t n;
                unsigned char *b = tu_read_file(path, &n);
                st = unsharp_image_load_memory(b, n, &o, &img);
                free(b);
            } else {
                st = unsharp_image_load(path, &o, &img);
            }
            const char *msg = unsharp_errmsg();
            ck_assert_msg(st == x->st, "%s%s: got %s, expected %s (%s)", e->d_name, from_memory ? " (memory)" : "",
                          unsharp_status_name(st), unsharp_status_name(x->st), msg);
            if (st == UNSHARP_OK) {
                ck_assert_ptr_nonnull(img);
                ck_assert_int_eq(img->width, 64);
                ck_assert_int_eq(img->height, 43);
                ck_assert_int_eq(img->stored_width, 120);
                ck_assert_int_eq(img->type, strcmp(e->d_name, "png-named.jpg") == 0 ? UNSHARP_IMAGE_PNG : UNSHARP_IMAGE_JPEG);
                unsharp_image_free(img);
                continue;
            }
            ck_assert_ptr_null(img);
            ck_assert_msg(strstr(msg, x->why) != NULL, "%s: the message does not say \"%s\": %s", e->d_name, x->why, msg);
            ck_assert_msg(strstr(msg, from_memory ? "(memory)" : path) != NULL, "%s: the message does not name it: %s",
                          e->d_name, msg);
            ck_assert_msg(strchr(msg, '\n') == NULL, "a newline in the message: %s", msg);
        }
    }
    closedir(d);
    ck_assert_uint_eq(seen, ntable);

    /* A missing file, and the newline name as it shows in a message (escaped, UTF-8 kept). */
    unsharp_image *img = NULL;
    ck_assert_int_eq(unsharp_image_load(tu_path("missing.jpg"), NULL, &img), UNSHARP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(unsharp_errmsg(), "missing.jpg"));
    tu_write_file(tu_path("cut\nhere-\xc3\xb1.jpg"), jpg, size / 3);
    ck_assert_int_eq(unsharp_image_load(tu_path("cut\nhere-\xc3\xb1.jpg"), NULL, &img), UNSHARP_ERR_DECODE);
    ck_assert_msg(strstr(unsharp_errmsg(), "cut\\nhere-\xc3\xb1.jpg") != NULL, "%s", unsharp_errmsg());
    free(jpg);
}
END_TEST

/* Damage at every cut point and in every byte of a small JPEG and PNG: never a crash, never
 * OK with garbage sizes, always one of the image statuses. */
START_TEST(every_cut_and_flip)
{
    FILE *f = fopen(tu_path("s.ppm"), "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "P6\n24 16\n255\n");
    for (int i = 0; i < 24 * 16 * 3; i++) fputc((i * 37) % 256, f);
    fclose(f);
    tu_run("cjpeg -quality 80 -progressive -outfile %s %s", tu_path("s.jpg"), tu_path("s.ppm"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("s.ppm"), tu_path("s.png"));
    const char *files[] = {tu_path("s.jpg"), tu_path("s.png")};
    for (int k = 0; k < 2; k++) {
        size_t n;
        unsigned char *b = tu_read_file(files[k], &n);
        for (size_t cut = 0; cut < n; cut++) {
            unsharp_image *img = NULL;
            unsharp_status st = unsharp_image_load_memory(b, cut, NULL, &img);
            ck_assert_msg(st == UNSHARP_ERR_DECODE || st == UNSHARP_ERR_FORMAT || (st == UNSHARP_OK && k == 1),
                          "cut at %zu: %s", cut, unsharp_status_name(st));
            unsharp_image_free(img);
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char keep = b[i];
            b[i] ^= 0x5A;
            unsharp_image *img = NULL;
            unsharp_status st = unsharp_image_load_memory(b, n, NULL, &img);
            ck_assert_msg(st == UNSHARP_OK || st == UNSHARP_ERR_DECODE || st == UNSHARP_ERR_FORMAT ||
                              st == UNSHARP_ERR_TOO_LARGE,
                          "flip at %zu: %s", i, unsharp_status_name(st));
            if (st == UNSHARP_OK) {
                ck_assert_int_gt(img->width, 0);
                ck_assert_int_gt(img->height, 0);
            }
            unsharp_image_free(img);
            b[i] = keep;
        }
        free(b);
    }
}
END_TEST

/* The unreadable file as a user who cannot read it: when the suite runs as root, a child
 * process drops to nobody (65534) first; otherwise the test's own user is such a user. */
START_TEST(unreadable_file)
{
    /* open() fails before a byte is read, so any content does */
    tu_write_file(tu_path("noread.jpg"), "\xFF\xD8\xFF\xE0", 4);
    ck_assert_int_eq(chmod(tu_path("noread.jpg"), 0), 0);
    ck_assert_int_eq(chmod(tu_dir, 0711), 0); /* others may reach the file, not read it */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        unsharp_image *img = NULL;
        unsharp_status st = unsharp_image_load(tu_path("noread.jpg"), NULL, &img);
        if (st != UNSHARP_ERR_IO || img) _exit(1);
        if (!strstr(unsharp_errmsg(), strerror(EACCES)) || !strstr(unsharp_errmsg(), "noread.jpg")) _exit(2);
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the child died");
    ck_assert_msg(WEXITSTATUS(status) != 3, "could not drop to user nobody");
    ck_assert_msg(WEXITSTATUS(status) != 1, "an unreadable file did not give UNSHARP_ERR_IO");
    ck_assert_msg(WEXITSTATUS(status) != 2, "the message does not say Permission denied and name the file");
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *nasty_suite(void)
{
    Suite *s = suite_create("nasty");
    TCase *tc = tcase_create("nasty");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nasty_folder);
    tcase_add_test(tc, every_cut_and_flip);
    tcase_add_test(tc, unreadable_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(nasty_suite()); }
