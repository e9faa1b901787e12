/* test_raw_cr2.c: a real camera RAW, the Canon EOS 30D CR2 that Debian's rawtran-doc ships
 * (GPL-3+), fetched at test time with apt-get download (or taken from $UNSHARP_TEST_CR2).
 * Without network or apt the suite says why and exits 77, which CTest reports as skipped.
 *
 * References from outside the code under test: the embedded preview extracted by exiftool
 * (-b -PreviewImage) and decoded by djpeg. At the preview's own long side the loader must
 * give exactly djpeg's pixels; the half-size decode of the sensor data must show the same
 * picture (the block means of its luma correlate with the preview's); a file cut short in its
 * header is one clean error. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

static char cr2[512];

/* Reads an 8-bit binary PPM as djpeg writes it. */
static unsigned char *read_ppm(const char *path, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    int maxval = 0;
    ck_assert_int_eq(fscanf(f, "P6 %d %d %d", w, h, &maxval), 3);
    fgetc(f);
    size_t n = (size_t)*w * *h * 3;
    unsigned char *buf = malloc(n);
    ck_assert_int_eq(fread(buf, 1, n, f), n);
    fclose(f);
    return buf;
}

/* Means of 32 x 24 blocks of the luma of an 8-bit image (1 or 3 channels). */
static void block_means(const unsigned char *px, int w, int h, int c, size_t stride, double *m)
{
    const int bw = 32, bh = 24;
    memset(m, 0, sizeof(double) * bw * bh);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const unsigned char *p = px + (size_t)y * stride + (size_t)x * c;
            double l = c == 1 ? p[0] : 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            m[(y * bh / h) * bw + x * bw / w] += l;
        }
    for (int i = 0; i < bw * bh; i++) m[i] /= (double)w * h / (bw * bh);
}

static double correlation(const double *a, const double *b, int n)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) ma += a[i] / n, mb += b[i] / n;
    for (int i = 0; i < n; i++) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

START_TEST(cr2_preview_and_sensor)
{
    tu_run("exiftool -b -PreviewImage '%s' > %s && djpeg -pnm %s > %s", cr2, tu_path("prev.jpg"),
           tu_path("prev.jpg"), tu_path("prev.ppm"));
    int pw, ph;
    unsigned char *prev = read_ppm(tu_path("prev.ppm"), &pw, &ph);
    ck_assert_int_ge(pw > ph ? pw : ph, UNSHARP_WORKING_LONG_SIDE);

    unsharp_image_options o = {.format = UNSHARP_PIXEL_RGB8, .long_side = pw > ph ? pw : ph};
    unsharp_image *img = NULL;
    ck_assert_msg(unsharp_image_load(cr2, &o, &img) == UNSHARP_OK, "%s", unsharp_errmsg());
    ck_assert_int_eq(img->type, UNSHARP_IMAGE_RAW);
    ck_assert_int_eq(img->from_raw_preview, 1);
    ck_assert_int_eq(img->orientation, 1); /* this photo is level */
    ck_assert_int_eq(img->width, pw);
    ck_assert_int_eq(img->height, ph);
    for (int y = 0; y < ph; y++)
        ck_assert_mem_eq((unsigned char *)img->pixels + (size_t)y * img->stride, prev + (size_t)y * pw * 3, (size_t)pw * 3);
    const int sw = img->stored_width, sh = img->stored_height;
    ck_assert_int_gt(sw, pw);
    unsharp_image_free(img);

    /* at the working size: still the preview */
    o.format = UNSHARP_PIXEL_LUMA8;
    o.long_side = UNSHARP_WORKING_LONG_SIDE;
    ck_assert_msg(unsharp_image_load(cr2, &o, &img) == UNSHARP_OK, "%s", unsharp_errmsg());
    ck_assert_int_eq(img->from_raw_preview, 1);
    ck_assert_int_eq(img->width, UNSHARP_WORKING_LONG_SIDE);
    unsharp_image_free(img);

    /* at the stored size: LibRaw's half-size decode of the sensor data, the same picture */
    o.long_side = 0;
    ck_assert_msg(unsharp_image_load(cr2, &o, &img) == UNSHARP_OK, "%s", unsharp_errmsg());
    ck_assert_int_eq(img->from_raw_preview, 0);
    ck_assert_int_le(abs(img->width - sw / 2), 1);
    ck_assert_int_le(abs(img->height - sh / 2), 1);
    double a[32 * 24], b[32 * 24];
    block_means(img->pixels, img->width, img->height, 1, img->stride, a);
    block_means(prev, pw, ph, 3, (size_t)pw * 3, b);
    double r = correlation(a, b, 32 * 24);
    ck_assert_msg(r > 0.9, "half-size decode and preview correlate at %.3f", r);
    unsharp_image_free(img);
    free(prev);
}
END_TEST

START_TEST(cr2_cut_short)
{
    size_t n;
    unsigned char *b = tu_read_file(cr2, &n);
    const size_t cuts[] = {16, 1000, 30000, 300000};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        tu_write_file(tu_path("cut.CR2"), b, cuts[i]);
        unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
        unsharp_image *img = NULL;
        unsharp_status st = unsharp_image_load(tu_path("cut.CR2"), &o, &img);
        ck_assert_msg(st == UNSHARP_ERR_DECODE || st == UNSHARP_ERR_FORMAT, "cut at %zu: %s", cuts[i],
                      unsharp_status_name(st));
        ck_assert_ptr_null(img);
        ck_assert_msg(strstr(unsharp_errmsg(), "cut.CR2") && strstr(unsharp_errmsg(), "RAW"), "%s", unsharp_errmsg());
    }
    free(b);
}
END_TEST

/* The CR2 from $UNSHARP_TEST_CR2, or from rawtran-doc fetched into DIR; 0 when found. */
static int find_cr2(const char *dir)
{
    const char *env = getenv("UNSHARP_TEST_CR2");
    if (env && *env) {
        snprintf(cr2, sizeof cr2, "%s", env);
    } else {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "cd %s && apt-get download rawtran-doc >/dev/null 2>&1 && dpkg-deb -x rawtran-doc_*.deb x", dir);
        if (system(cmd) != 0) return -1;
        snprintf(cr2, sizeof cr2, "%s/x/usr/share/doc/rawtran/IMG_5952.CR2", dir);
    }
    FILE *f = fopen(cr2, "rb");
    if (!f) return -1;
    fclose(f);
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/unsharp-cr2-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    int rc;
    if (find_cr2(dir) != 0) {
        printf("test_raw_cr2: skipped: no CR2 (apt-get download rawtran-doc failed and UNSHARP_TEST_CR2 is not set)\n");
        rc = 77;
    } else {
        Suite *s = suite_create("raw_cr2");
        TCase *tc = tcase_create("cr2");
        tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, cr2_preview_and_sensor);
        tcase_add_test(tc, cr2_cut_short);
        suite_add_tcase(s, tc);
        rc = tu_run_suite(s);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
