/* test_group.c: the grouping API (unsharp/photo.h, group.c) on made-up frames: the signature
 * and the likeness against naive loops, links by time and likeness, ranks and roles, group ids against the
 * published FNV-1a test vector, brackets from the exposure bias, bad arguments; and the
 * capture time and bias read from an EXIF block written byte by byte here. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

#define W 96
#define H 64

/* a random scene: blocks of 8 x 8 pixels of random grey plus a little noise */
static void scene(unsigned seed, unsigned char *px)
{
    srand(seed);
    unsigned char blocks[(H / 8) * (W / 8)];
    for (size_t i = 0; i < sizeof blocks; i++) blocks[i] = (unsigned char)(rand() % 200 + 20);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) px[y * W + x] = (unsigned char)(blocks[(y / 8) * (W / 8) + x / 8] + rand() % 9);
}

static unsharp_frame frame_of(const unsigned char *px, int64_t t, float sharpness)
{
    unsharp_image img = {.width = W, .height = H, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = W,
                         .pixels = (void *)px};
    unsharp_frame f = {0};
    ck_assert_int_eq(unsharp_frame_describe(&f, &img, NULL), UNSHARP_OK);
    f.time_ms = t;
    f.sharpness = sharpness;
    return f;
}

START_TEST(signature_is_the_standardised_cell_means)
{
    unsigned char px[W * H];
    scene(1, px);
    unsharp_frame f = frame_of(px, 0, 0);
    const int S = UNSHARP_SIGNATURE_SIDE;
    double mean[32 * 32] = {0}, all = 0, var = 0;
    for (int cy = 0; cy < S; cy++)
        for (int cx = 0; cx < S; cx++) {
            double s = 0;
            int n = 0;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    if (y * S / H == cy && x * S / W == cx) s += px[y * W + x], n++;
            mean[cy * S + cx] = s / n;
            all += s / n;
        }
    all /= S * S;
    for (int c = 0; c < S * S; c++) var += (mean[c] - all) * (mean[c] - all);
    double sd = sqrt(var / (S * S));
    for (int c = 0; c < S * S; c++) {
        double want = 128 + 40 * (mean[c] - all) / sd;
        want = want < 0 ? 0 : want > 255 ? 255 : want;
        ck_assert_msg(fabs(f.signature[c] - want) <= 0.5 + 1e-9, "cell %d: %d, want %.2f", c, f.signature[c], want);
    }
    ck_assert_int_eq(f.flat, 0);
    ck_assert_int_eq(f.described, 1);
    for (int c = 0; c < UNSHARP_FOCUS_GRID * UNSHARP_FOCUS_GRID; c++) ck_assert(f.focus[c] == -1);
}
END_TEST

START_TEST(close_and_alike_frames_form_a_burst_ranked_by_sharpness)
{
    unsigned char a[W * H], b[W * H];
    scene(1, a);
    scene(2, b);
    /* the array order is not the time order: "k1" is the earliest frame */
    unsharp_frame f[5] = {frame_of(a, 1000, 0.2f), frame_of(a, 500, 0.9f), frame_of(a, 1400, 0.5f),
                          frame_of(b, 1900, 0.9f), frame_of(a, 4000, 0.9f)};
    const char *keys[5] = {"k0", "a", "k2", "k3", "k4"};
    unsharp_group_place p[5];
    ck_assert_int_eq(unsharp_group(f, keys, 5, NULL, p), UNSHARP_OK);
    /* frames 1, 0, 2: one group whose first frame is 1 (key "a"); FNV-1a 64 of "a" */
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(p[i].group, 0xaf63dc4c8601ec8cULL);
        ck_assert_uint_eq(p[i].first, 1);
        ck_assert_int_eq(p[i].size, 3);
    }
    ck_assert_int_eq(p[1].rank, 1);
    ck_assert_int_eq(p[1].role, UNSHARP_ROLE_BEST);
    ck_assert_int_eq(p[2].rank, 2);
    ck_assert_int_eq(p[0].rank, 3);
    ck_assert_int_eq(p[0].role, UNSHARP_ROLE_BURST);
    /* another scene within the gap, and the first scene 2.6 s later: singles */
    ck_assert_int_eq(p[3].role, UNSHARP_ROLE_SINGLE);
    ck_assert_int_eq(p[3].size, 1);
    ck_assert_int_eq(p[4].role, UNSHARP_ROLE_SINGLE);
    ck_assert_str_eq(unsharp_role_name(p[1].role), "best");
    /* a longer gap takes the last one in */
    unsharp_group_options o = {.gap_seconds = 3};
    ck_assert_int_eq(unsharp_group(f, keys, 5, &o, p), UNSHARP_OK);
    ck_assert_int_eq(p[4].size, 1);
    f[3] = frame_of(a, 1900, 0.1f);
    ck_assert_int_eq(unsharp_group(f, keys, 5, &o, p), UNSHARP_OK);
    ck_assert_int_eq(p[4].size, 5);
    ck_assert_int_eq(p[4].rank, 2); /* 0.9 like frame 1, which is earlier */
}
END_TEST

START_TEST(exposure_bias_makes_a_bracket_kept_whole)
{
    unsigned char a[W * H], flat[W * H];
    scene(3, a);
    memset(flat, 255, sizeof flat); /* an over-exposed frame with nothing left */
    unsharp_frame f[3] = {frame_of(a, 0, 0.5f), frame_of(a, 300, 0.6f), frame_of(flat, 600, 0.1f)};
    f[0].has_bias = f[1].has_bias = f[2].has_bias = 1;
    f[0].bias = -2, f[1].bias = 0, f[2].bias = 2;
    ck_assert_int_eq(f[2].flat, 1);
    const char *keys[3] = {"x", "y", "z"};
    unsharp_group_place p[3];
    ck_assert_int_eq(unsharp_group(f, keys, 3, NULL, p), UNSHARP_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(p[i].role, UNSHARP_ROLE_BRACKET);
        ck_assert(unsharp_role_keeps_whole(p[i].role));
    }
    /* the same bias throughout: the flat frame stays out, the other two are a burst */
    f[0].bias = f[1].bias = f[2].bias = 0;
    ck_assert_int_eq(unsharp_group(f, keys, 3, NULL, p), UNSHARP_OK);
    ck_assert_int_eq(p[0].role, UNSHARP_ROLE_BURST);
    ck_assert_int_eq(p[1].role, UNSHARP_ROLE_BEST);
    ck_assert_int_eq(p[2].role, UNSHARP_ROLE_SINGLE);
    ck_assert(!unsharp_role_keeps_whole(UNSHARP_ROLE_BURST) && !unsharp_role_keeps_whole(UNSHARP_ROLE_BEST));
}
END_TEST

START_TEST(sharp_regions_apart_make_a_stack)
{
    unsigned char a[W * H];
    scene(4, a);
    unsharp_frame f[2] = {frame_of(a, 0, 0.9f), frame_of(a, 500, 0.9f)};
    for (int c = 0; c < 64; c++) {
        f[0].focus[c] = c < 32 ? 0.9f : 0.1f; /* near half sharp */
        f[1].focus[c] = c < 32 ? 0.1f : 0.9f; /* far half sharp */
    }
    const char *keys[2] = {"s1", "s2"};
    unsharp_group_place p[2];
    ck_assert_int_eq(unsharp_group(f, keys, 2, NULL, p), UNSHARP_OK);
    ck_assert_int_eq(p[0].role, UNSHARP_ROLE_STACK);
    ck_assert_int_eq(p[1].role, UNSHARP_ROLE_STACK);
    /* one frame sharp where the other is, and more: a burst */
    for (int c = 0; c < 64; c++) f[1].focus[c] = 0.9f;
    f[1].sharpness = 0.95f;
    ck_assert_int_eq(unsharp_group(f, keys, 2, NULL, p), UNSHARP_OK);
    ck_assert_int_eq(p[0].role, UNSHARP_ROLE_BURST);
    ck_assert_int_eq(p[1].role, UNSHARP_ROLE_BEST);
}
END_TEST

START_TEST(undescribed_frames_are_singles_and_bad_arguments_fail)
{
    unsharp_frame f[2] = {{0}};
    const char *keys[2] = {"u", "v"};
    unsharp_group_place p[2];
    ck_assert_int_eq(unsharp_group(f, keys, 2, NULL, p), UNSHARP_OK);
    ck_assert_int_eq(p[0].role, UNSHARP_ROLE_SINGLE);
    ck_assert_int_eq(p[1].role, UNSHARP_ROLE_SINGLE);
    ck_assert_uint_ne(p[0].group, p[1].group);
    ck_assert_int_eq(unsharp_group(NULL, NULL, 0, NULL, NULL), UNSHARP_OK);
    ck_assert_int_eq(unsharp_group(NULL, keys, 2, NULL, p), UNSHARP_ERR_INVALID);
    ck_assert(strlen(unsharp_errmsg()) > 0);
    unsharp_group_options bad = {.likeness = 1.5f};
    ck_assert_int_eq(unsharp_group(f, keys, 2, &bad, p), UNSHARP_ERR_INVALID);
    ck_assert_msg(strstr(unsharp_errmsg(), "likeness"), "%s", unsharp_errmsg());
    bad = (unsharp_group_options){.gap_seconds = -1};
    ck_assert_int_eq(unsharp_group(f, keys, 2, &bad, p), UNSHARP_ERR_INVALID);
    ck_assert_msg(strstr(unsharp_errmsg(), "gap"), "%s", unsharp_errmsg());
    ck_assert_int_eq(unsharp_group(f, keys, 2, NULL, p), UNSHARP_OK);
    ck_assert_str_eq(unsharp_errmsg(), "");
    unsharp_image empty = {0};
    ck_assert_int_eq(unsharp_frame_describe(&f[0], &empty, NULL), UNSHARP_ERR_INVALID);
    ck_assert_str_eq(unsharp_role_name((unsharp_role)99), "?");
}
END_TEST

/* a file that libexif reads as a JPEG: SOI and an APP1 "Exif" block whose Exif IFD holds
 * DateTimeOriginal "2024:05:01 10:00:00", SubSecTimeOriginal "25", ExposureBiasValue -2/3 */
static void write_exif_jpeg(const char *path)
{
    unsigned char t[256];
    size_t n = 0;
#define U16(v) (t[n++] = (unsigned char)((v) & 0xFF), t[n++] = (unsigned char)((v) >> 8))
#define U32(v) (U16((v) & 0xFFFF), U16(((uint32_t)(v)) >> 16))
    memcpy(t, "II*\0", 4), n = 4;
    U32(8);
    U16(1); /* IFD0 at 8: ExifIFDPointer -> 26 */
    U16(0x8769), U16(4), U32(1), U32(26);
    U32(0);
    U16(3); /* Exif IFD at 26: three entries, 2 + 36 + 4 bytes, data from 68 */
    U16(0x9003), U16(2), U32(20), U32(68);
    U16(0x9291), U16(2), U32(3), U32(0); /* "25\0" inline: */
    t[n - 4] = '2', t[n - 3] = '5', t[n - 2] = 0, t[n - 1] = 0;
    U16(0x9204), U16(10), U32(1), U32(88);
    U32(0);
    memcpy(t + n, "2024:05:01 10:00:00", 20), n += 20; /* at 68 */
    U32((uint32_t)-2), U32(3);                         /* at 88 */
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned len = (unsigned)(2 + 6 + n);
    unsigned char head[] = {0xFF, 0xD8, 0xFF, 0xE1, (unsigned char)(len >> 8), (unsigned char)len};
    fwrite(head, 1, sizeof head, f);
    fwrite("Exif\0\0", 1, 6, f);
    fwrite(t, 1, n, f);
    fwrite("\xFF\xD9", 1, 2, f);
    fclose(f);
}

START_TEST(capture_time_and_bias_from_exif_else_the_file_time)
{
    char path[] = "/tmp/test_group_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_exif_jpeg(path);
    unsharp_frame f = {0};
    ck_assert_int_eq(unsharp_frame_read(path, &f), UNSHARP_OK);
    ck_assert_int_eq(f.time_from_exif, 1);
    ck_assert_int_eq(f.time_ms, 1714557600LL * 1000 + 250); /* 2024-05-01 10:00:00 UTC */
    ck_assert_int_eq(f.has_bias, 1);
    ck_assert_float_eq_tol(f.bias, -2.0f / 3.0f, 1e-6f);
    /* no EXIF: the modification time */
    FILE *o = fopen(path, "wb");
    fputs("not a photo", o);
    fclose(o);
    struct timespec ts[2] = {{1600000000, 123000000}, {1600000000, 123000000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    ck_assert_int_eq(unsharp_frame_read(path, &f), UNSHARP_OK);
    ck_assert_int_eq(f.time_from_exif, 0);
    ck_assert_int_eq(f.has_bias, 0);
    ck_assert_int_eq(f.time_ms, 1600000000123LL);
    unlink(path);
    ck_assert_int_eq(unsharp_frame_read(path, &f), UNSHARP_ERR_IO);
    ck_assert_msg(strstr(unsharp_errmsg(), path), "%s", unsharp_errmsg());
}
END_TEST

/* Pearson's correlation of the overlap of a and b moved by (dx, dy), summed in double in the
 * plainest loop; -1 when the overlap is under a third or either side is flat */
static double naive_correlation(const unsigned char *a, const unsigned char *b, int dx, int dy)
{
    const int S = UNSHARP_SIGNATURE_SIDE;
    double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int bx = x - dx, by = y - dy;
            if (bx < 0 || bx >= S || by < 0 || by >= S) continue;
            double u = a[y * S + x], v = b[by * S + bx];
            n++, sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v;
        }
    if (n * 3 < S * S) return -1;
    double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (va <= 1e-9 || vb <= 1e-9) return -1;
    return (sab - sa * sb / n) / sqrt(va * vb);
}

START_TEST(likeness_is_the_best_correlation_over_the_shifts)
{
    /* in place: moved up to 6 cells each way; side by side: 7 to 20 cells along one axis and up
     * to 3 across (photo.h). Random signatures, one a moved copy of the other with noise, and
     * signatures with long flat runs (many equal sums). */
    const int S = UNSHARP_SIGNATURE_SIDE;
    srand(7);
    for (int round = 0; round < 6; round++) {
        unsharp_frame a = {0}, b = {0};
        int mx = round % 3 == 1 ? 11 : round % 3 == 2 ? 3 : 0, my = round % 3 == 2 ? -2 : 0;
        for (int i = 0; i < S * S; i++) a.signature[i] = (unsigned char)(round >= 4 ? (i / 97) * 40 % 256 : rand() % 256);
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int sx = x - mx, sy = y - my;
                int v = sx >= 0 && sx < S && sy >= 0 && sy < S ? a.signature[sy * S + sx] + rand() % 21 - 10 : rand() % 256;
                b.signature[y * S + x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        double near = -1, far = -1;
        for (int dy = -6; dy <= 6; dy++)
            for (int dx = -6; dx <= 6; dx++) {
                double c = naive_correlation(a.signature, b.signature, dx, dy);
                if (c > near) near = c;
            }
        for (int d = 7; d <= 20; d++)
            for (int sgn = -1; sgn <= 1; sgn += 2)
                for (int cross = -3; cross <= 3; cross++) {
                    double c = naive_correlation(a.signature, b.signature, sgn * d, cross),
                           e = naive_correlation(a.signature, b.signature, cross, sgn * d);
                    if (c > far) far = c;
                    if (e > far) far = e;
                }
        float in_place = 0, side = 0;
        unsharp_frame_likeness(&a, &b, &in_place, &side);
        ck_assert_msg(fabs(in_place - near) < 1e-6 && fabs(side - far) < 1e-6,
                      "round %d: in place %.7f (naive %.7f), side by side %.7f (naive %.7f)", round, in_place, near,
                      side, far);
        if (mx == 0 && my == 0) ck_assert_msg(near > 0.95, "round %d: a noisy copy in place reads %.3f", round, near);
        if (mx == 11) ck_assert_msg(far > 0.95, "round %d: a copy 11 cells aside reads %.3f", round, far);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group");
    TCase *tc = tcase_create("group");
    tcase_add_test(tc, signature_is_the_standardised_cell_means);
    tcase_add_test(tc, close_and_alike_frames_form_a_burst_ranked_by_sharpness);
    tcase_add_test(tc, exposure_bias_makes_a_bracket_kept_whole);
    tcase_add_test(tc, sharp_regions_apart_make_a_stack);
    tcase_add_test(tc, undescribed_frames_are_singles_and_bad_arguments_fail);
    tcase_add_test(tc, capture_time_and_bias_from_exif_else_the_file_time);
    tcase_add_test(tc, likeness_is_the_best_correlation_over_the_shifts);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
