/* test_formats.c: the decoders beside JPEG and PNG: WebP, HEIF (HEIC), AVIF, TIFF and RAW
 * (DNG). tests/image/make_formats.py writes the source pattern and encodes it with Debian's
 * own tools (cwebp, heif-enc, avifenc, PIL + tiffcp/tiffset) or writes it byte by byte (the
 * DNG files); the references are the values written, never the code under test: exact for
 * lossless files, a PSNR bound for lossy ones, and for the DNG sensor image the order of the
 * block levels written. Then the hostile inputs: every file cut short and with flipped bytes,
 * headers claiming huge sizes, the pixel limit, a text file named .CR2, and formats we only
 * name (JPEG XL, GIF): one clean error each; files naming Hasselblad (at every alignment, any
 * case, both scans) kept from LibRaw. The real Canon CR2 is test_raw_cr2.c. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image/image_internal.h"
#include "simd.h"
#include "testutil.h"
#include "unsharp/unsharp.h"

static void make_files(void)
{
    tu_setup_tmpdir();
    tu_run("/usr/bin/python3 %s/tests/image/make_formats.py %s", UNSHARP_SOURCE_DIR, tu_dir);
}

static unsharp_image *load(const char *name, unsharp_pixel_format fmt, int long_side)
{
    unsharp_image_options o = {.format = fmt, .long_side = long_side};
    unsharp_image *img = NULL;
    unsharp_status st = unsharp_image_load(tu_path(name), &o, &img);
    ck_assert_msg(st == UNSHARP_OK, "%s: %s", name, unsharp_errmsg());
    return img;
}

static unsigned char luma(const unsigned char *p)
{
    return (unsigned char)((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16);
}

/* PSNR in dB of the image against a reference of the same size and channels. */
static double psnr(const unsharp_image *img, const unsigned char *ref)
{
    double se = 0;
    size_t n = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < n; i++) {
            double d = (double)((const unsigned char *)img->pixels)[(size_t)y * img->stride + i] - ref[(size_t)y * n + i];
            se += d * d;
        }
    se /= (double)n * img->height;
    return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / se);
}

/* Largest difference between the image and a reference of the same size and channels. */
static int max_diff(const unsharp_image *img, const unsigned char *ref)
{
    int m = 0;
    size_t n = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; y++)
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)((const unsigned char *)img->pixels)[(size_t)y * img->stride + i] - ref[(size_t)y * n + i]);
            if (d > m) m = d;
        }
    return m;
}

/* Checks a decode of NAME against a reference file: type, size, then the pixels exactly
 * (min_psnr 0) or within a PSNR bound; in RGB and, from the same reference, in luma (the
 * judge's input) within luma_psnr. Lossy coders halve the colour resolution, so a colour
 * checker loses more in RGB than the luma does. */
static void check_against(const char *name, unsharp_image_type type, const char *refname, double min_psnr,
                          double luma_psnr)
{
    int w, h, c;
    unsigned char *ref = tu_read_pnm(tu_path(refname), &w, &h, &c);
    unsharp_image *img = load(name, c == 1 ? UNSHARP_PIXEL_LUMA8 : UNSHARP_PIXEL_RGB8, 0);
    ck_assert_int_eq(img->type, type);
    ck_assert_int_eq(img->width, w);
    ck_assert_int_eq(img->height, h);
    ck_assert_int_eq(img->stored_width, w);
    ck_assert_int_eq(img->stored_height, h);
    if (min_psnr == 0) ck_assert_msg(max_diff(img, ref) == 0, "%s: differs from %s by %d", name, refname, max_diff(img, ref));
    else ck_assert_msg(psnr(img, ref) >= min_psnr, "%s: PSNR %.1f dB < %.1f", name, psnr(img, ref), min_psnr);
    unsharp_image_free(img);
    if (c == 3) {
        unsigned char *y = malloc((size_t)w * h);
        for (size_t i = 0; i < (size_t)w * h; i++) y[i] = luma(ref + 3 * i);
        img = load(name, UNSHARP_PIXEL_LUMA8, 0);
        ck_assert_int_eq(img->channels, 1);
        if (min_psnr == 0) ck_assert_msg(max_diff(img, y) == 0, "%s luma: differs by %d", name, max_diff(img, y));
        else ck_assert_msg(psnr(img, y) >= luma_psnr, "%s luma: PSNR %.1f dB", name, psnr(img, y));
        unsharp_image_free(img);
        free(y);
    }
    free(ref);
}

START_TEST(webp_decodes)
{
    check_against("lossless.webp", UNSHARP_IMAGE_WEBP, "src.ppm", 0, 0);
    check_against("lossy.webp", UNSHARP_IMAGE_WEBP, "src.ppm", 17, 32);
    /* alpha: the pattern over white, by the formula written out here */
    int w, h, c;
    unsigned char *ref = tu_read_pnm(tu_path("src.ppm"), &w, &h, &c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int a = x * 255 / (w - 1);
            for (int k = 0; k < 3; k++) {
                unsigned char *p = ref + 3 * ((size_t)y * w + x) + k;
                *p = (unsigned char)((*p * a + 255 * (255 - a) + 127) / 255);
            }
        }
    unsharp_image *img = load("alpha.webp", UNSHARP_PIXEL_RGB8, 0);
    ck_assert_msg(max_diff(img, ref) == 0, "alpha.webp differs by %d", max_diff(img, ref));
    unsharp_image_free(img);
    free(ref);
}
END_TEST

START_TEST(heif_and_avif_decode)
{
    check_against("src.heic", UNSHARP_IMAGE_HEIF, "src.ppm", 17, 32);
    check_against("src.avif", UNSHARP_IMAGE_AVIF, "src.ppm", 17, 32);
    /* the working-size path: resampled, float */
    unsharp_image *img = load("src.heic", UNSHARP_PIXEL_LUMAF, 160);
    ck_assert_int_eq(img->width, 160);
    ck_assert_int_eq(img->height, 120);
    unsharp_image_free(img);
}
END_TEST

START_TEST(tiff_decodes)
{
    check_against("plain.tif", UNSHARP_IMAGE_TIFF, "src.ppm", 0, 0);
    check_against("lzw.tif", UNSHARP_IMAGE_TIFF, "src.ppm", 0, 0);
    check_against("tiled.tif", UNSHARP_IMAGE_TIFF, "src.ppm", 0, 0);
    check_against("palette.tif", UNSHARP_IMAGE_TIFF, "palette.ppm", 0, 0);
    /* 16-bit grey to 8 bits may round either way */
    int w, h, c;
    unsigned char *ref = tu_read_pnm(tu_path("gray16.pgm"), &w, &h, &c);
    unsharp_image *img = load("gray16.tif", UNSHARP_PIXEL_LUMA8, 0);
    ck_assert_int_eq(img->width, w);
    ck_assert_msg(max_diff(img, ref) <= 1, "gray16.tif differs by %d", max_diff(img, ref));
    unsharp_image_free(img);
    free(ref);
    /* Orientation 6 (turn 90 degrees clockwise): out(x, y) = src(y, H - 1 - x) */
    ref = tu_read_pnm(tu_path("src.ppm"), &w, &h, &c);
    img = load("orient6.tif", UNSHARP_PIXEL_RGB8, 0);
    ck_assert_int_eq(img->orientation, 6);
    ck_assert_int_eq(img->width, h);
    ck_assert_int_eq(img->height, w);
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            ck_assert_mem_eq((unsigned char *)img->pixels + (size_t)y * img->stride + 3 * (size_t)x,
                             ref + 3 * ((size_t)(h - 1 - x) * w + y), 3);
    unsharp_image_free(img);
    free(ref);
}
END_TEST

/* The half-size decode of the DNG sensor image: one pixel a 2x2 cell, so 8x8 pixels a block
 * of one level. The mean luma of the blocks must rise with the level written (23 levels).
 * rot: 0, or 6 when the file says turn 90 degrees clockwise. */
static void check_cfa_levels(const char *name, const char *levels, int rot)
{
    int w, h, c;
    unsigned char *lv = tu_read_pnm(tu_path(levels), &w, &h, &c); /* level * 11 at half size */
    unsharp_image *img = load(name, UNSHARP_PIXEL_LUMA8, 0);
    ck_assert_int_eq(img->type, UNSHARP_IMAGE_RAW);
    ck_assert_int_eq(img->from_raw_preview, 0);
    ck_assert_int_eq(img->stored_width, 2 * w);
    ck_assert_int_eq(img->stored_height, 2 * h);
    ck_assert_int_eq(img->orientation, (rot ? 6 : 1));
    ck_assert_int_eq(img->width, (rot ? h : w));
    ck_assert_int_eq(img->height, (rot ? w : h));
    double sum[23] = {0};
    int n[23] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (x % 8 == 0 || x % 8 == 7 || y % 8 == 0 || y % 8 == 7) continue; /* block edges */
            int ox = rot ? h - 1 - y : x, oy = rot ? x : y;
            int level = lv[(size_t)y * w + x] / 11;
            sum[level] += ((unsigned char *)img->pixels)[(size_t)oy * img->stride + ox];
            n[level]++;
        }
    for (int k = 1; k < 23; k++) {
        ck_assert_int_gt(n[k], 0);
        ck_assert_msg(sum[k] / n[k] > sum[k - 1] / n[k - 1] + 0.5, "%s: level %d reads %.1f, level %d %.1f", name, k,
                      sum[k] / n[k], k - 1, sum[k - 1] / n[k - 1]);
    }
    unsharp_image_free(img);
    free(lv);
}

static void check_cfa(const char *name, int rot) { check_cfa_levels(name, "cfa_levels.pgm", rot); }

START_TEST(dng_decodes)
{
    check_cfa("cfa.dng", 0);
    check_cfa("cfa6.dng", 6);
    /* The preview is 1,920 x 1,440: at that long side it is decoded whole (against the values
     * written: JPEG quality 95), at 1,600 it is still the preview, above it the sensor data. */
    int w, h, c;
    unsigned char *ref = tu_read_pnm(tu_path("preview.ppm"), &w, &h, &c);
    unsharp_image *img = load("preview.dng", UNSHARP_PIXEL_RGB8, 1920);
    ck_assert_int_eq(img->from_raw_preview, 1);
    ck_assert_int_eq(img->width, w);
    ck_assert_int_eq(img->height, h);
    ck_assert_int_eq(img->stored_width, 256);
    ck_assert_msg(psnr(img, ref) >= 30, "preview PSNR %.1f", psnr(img, ref));
    unsharp_image_free(img);
    free(ref);
    img = load("preview.dng", UNSHARP_PIXEL_LUMA8, UNSHARP_WORKING_LONG_SIDE);
    ck_assert_int_eq(img->from_raw_preview, 1);
    ck_assert_int_eq(img->width, 1600);
    ck_assert_int_eq(img->height, 1200);
    unsharp_image_free(img);
    img = load("preview.dng", UNSHARP_PIXEL_LUMA8, 2000);
    ck_assert_int_eq(img->from_raw_preview, 0);
    ck_assert_int_eq(img->width, 128);
    unsharp_image_free(img);
}
END_TEST

/* A RAW of 4 MiB or more is read with the middle of its sensor strip left out (read.c) until
 * the sensor data is needed: big.dng (1,536 x 1,408, one strip) still gives its preview, and
 * its sensor data (the block levels written) when the preview is too small; the strip found is
 * where make_formats.py put the pixels (the file's last 1536 * 1408 * 2 bytes). A Hasselblad
 * name in the part left out never reaches LibRaw with the preview, and is caught before the
 * sensor data is opened. */
START_TEST(big_raw_read_in_part)
{
    size_t n;
    unsigned char *b = tu_read_file(tu_path("big.dng"), &n);
    uint64_t off = 0, len = 0;
    ck_assert_int_eq(unsharp__tiff_bulk(b, 256 << 10, &off, &len), 1);
    ck_assert_uint_eq(len, 1536 * 1408 * 2);
    ck_assert_uint_eq(off, n - len);
    int w, h, c;
    unsigned char *ref = tu_read_pnm(tu_path("preview.ppm"), &w, &h, &c);
    unsharp_image *img = load("big.dng", UNSHARP_PIXEL_RGB8, 1920);
    ck_assert_int_eq(img->from_raw_preview, 1);
    ck_assert_int_eq(img->stored_width, 1536);
    ck_assert_msg(psnr(img, ref) >= 30, "preview PSNR %.1f", psnr(img, ref));
    unsharp_image_free(img);
    free(ref);
    check_cfa_levels("big.dng", "big_levels.pgm", 0);
    /* the name in the middle of the sensor data */
    memcpy(b + off + len / 2, "hAsselblad", 10);
    tu_write_file(tu_path("hassy-big.dng"), b, n);
    img = load("hassy-big.dng", UNSHARP_PIXEL_LUMA8, UNSHARP_WORKING_LONG_SIDE);
    ck_assert_int_eq(img->from_raw_preview, 1);
    unsharp_image_free(img);
    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = 0};
    ck_assert_int_eq(unsharp_image_load(tu_path("hassy-big.dng"), &o, &img), UNSHARP_ERR_FORMAT);
    ck_assert_msg(strstr(unsharp_errmsg(), "Hasselblad RAW files are not supported"), "%s", unsharp_errmsg());
    free(b);
}
END_TEST

/* The colour filter pattern LibRaw 0.20 crashes on, told from the ones it reads: one IFD of
 * CFARepeatPatternDim (when dim is not 0) and a CFAPattern (or Kodak's 64777) of cnt entries */
static int cfa_ifd(unsigned dim, unsigned tag, unsigned cnt)
{
    unsigned char b[64] = "II*\0\x08\0\0\0";
    unsigned char *e = b + 10;
    int n = 0;
    if (dim) {
        const unsigned char d[12] = {0x8d, 0x82, 3, 0, 2, 0, 0, 0, (unsigned char)dim, 0, (unsigned char)dim, 0};
        memcpy(e, d, 12), e += 12, n++;
    }
    const unsigned char p[12] = {(unsigned char)tag, (unsigned char)(tag >> 8), 1, 0, (unsigned char)cnt, 0, 0, 0, 40, 0, 0, 0};
    memcpy(e, p, 12), n++;
    b[8] = (unsigned char)n;
    return unsharp__tiff_cfa_trap(b, sizeof b);
}

START_TEST(cfa_trap)
{
    ck_assert_int_eq(cfa_ifd(0, 33422, 36), 1); /* the fuzz finding's pattern */
    ck_assert_int_eq(cfa_ifd(2, 33422, 36), 1); /* a 2x2 repeat does not make 36 */
    ck_assert_int_eq(cfa_ifd(6, 33422, 36), 0); /* X-Trans as Adobe's DNG converter writes it */
    ck_assert_int_eq(cfa_ifd(2, 33422, 4), 0);  /* Bayer */
    ck_assert_int_eq(cfa_ifd(0, 33422, 64), 0);
    ck_assert_int_eq(cfa_ifd(0, 64777, 36), 1);
    ck_assert_int_eq(cfa_ifd(6, 64777, 36), 1);
}
END_TEST

/* Loads bytes from memory under a name-free context and checks the result is clean: OK with
 * an image, or an error with none and a message. */
static void load_clean(const unsigned char *b, size_t n, const char *what, size_t at)
{
    unsharp_image_options o = {.format = (unsharp_pixel_format)(at % 4), .long_side = (int)(at % 3) * 100,
                               .max_pixels = 4000000};
    unsharp_image *img = NULL;
    /* an allocation of exactly n bytes, so that ASan sees a read past the end */
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, b, n);
    unsharp_status st = unsharp_image_load_memory(copy, n, &o, &img);
    free(copy);
    if (st == UNSHARP_OK) {
        ck_assert_ptr_nonnull(img);
        ck_assert_int_gt(img->width, 0);
        unsharp_image_free(img);
    } else {
        ck_assert_ptr_null(img);
        ck_assert_msg(st == UNSHARP_ERR_DECODE || st == UNSHARP_ERR_FORMAT || st == UNSHARP_ERR_TOO_LARGE ||
                          st == UNSHARP_ERR_UNSUPPORTED,
                      "%s at %zu: %s", what, at, unsharp_status_name(st));
        ck_assert_msg(strstr(unsharp_errmsg(), "(memory): ") != NULL, "%s at %zu: %s", what, at, unsharp_errmsg());
        ck_assert_msg(strchr(unsharp_errmsg(), '\n') == NULL, "%s at %zu: a newline in: %s", what, at, unsharp_errmsg());
    }
}

static const char *const hostile_files[] = {"lossy.webp", "alpha.webp", "src.heic", "src.avif", "lzw.tif",
                                            "tiled.tif", "cfa.dng", "preview.dng"};

START_TEST(cut_and_flipped)
{
    for (size_t f = 0; f < sizeof hostile_files / sizeof *hostile_files; f++) {
        size_t n;
        unsigned char *b = tu_read_file(tu_path(hostile_files[f]), &n);
        /* cut: every byte of the first 256 (the headers), then 60 points through the rest */
        for (size_t k = 0; k < n; k += k < 256 ? 1 : (n / 60 + 1)) load_clean(b, k, hostile_files[f], k);
        /* flipped: one byte at a time, every byte of the first 256, then 60 points */
        for (size_t k = 0; k < n; k += k < 256 ? 1 : (n / 60 + 1)) {
            b[k] ^= 0xFF;
            load_clean(b, n, hostile_files[f], k);
            b[k] ^= 0xFF;
        }
        free(b);
    }
}
END_TEST

/* The first truncated file of each kind gives DECODE, and a message naming the file. */
START_TEST(truncated_is_an_error)
{
    const char *const files[] = {"lossy.webp", "src.heic", "src.avif", "lzw.tif", "cfa.dng", "preview.dng"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        size_t n;
        unsigned char *b = tu_read_file(tu_path(files[f]), &n);
        char cut[64];
        snprintf(cut, sizeof cut, "cut-%s", files[f]);
        /* the TIFF/DNG headers lie at the start, their pixels at the end: cut in the pixels */
        tu_write_file(tu_path(cut), b, n * 2 / 3);
        unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
        unsharp_image *img = NULL;
        unsharp_status st = unsharp_image_load(tu_path(cut), &o, &img);
        ck_assert_msg(st == UNSHARP_ERR_DECODE, "%s: %s (%s)", cut, unsharp_status_name(st), unsharp_errmsg());
        ck_assert_ptr_null(img);
        ck_assert_msg(strstr(unsharp_errmsg(), cut) && strstr(unsharp_errmsg(), "truncated"), "%s", unsharp_errmsg());
        free(b);
    }
}
END_TEST

static void expect(const char *name, unsharp_status want, const char *words, uint64_t max_pixels)
{
    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE,
                               .max_pixels = max_pixels};
    unsharp_image *img = NULL;
    unsharp_status st = unsharp_image_load(tu_path(name), &o, &img);
    ck_assert_msg(st == want, "%s: %s, expected %s (%s)", name, unsharp_status_name(st), unsharp_status_name(want),
                  unsharp_errmsg());
    ck_assert_ptr_null(img);
    ck_assert_msg(strstr(unsharp_errmsg(), name) && strstr(unsharp_errmsg(), words), "%s: \"%s\" not in: %s", name,
                  words, unsharp_errmsg());
}

static void patch(const char *from, const char *to, const char *find, size_t skip, const unsigned char *bytes,
                  size_t nbytes)
{
    size_t n;
    unsigned char *b = tu_read_file(tu_path(from), &n);
    size_t at = 0;
    if (find) {
        size_t fl = strlen(find);
        while (at + fl <= n && memcmp(b + at, find, fl) != 0) at++;
        ck_assert_msg(at + fl <= n, "%s: no %s", from, find);
    }
    ck_assert_uint_le(at + skip + nbytes, n);
    memcpy(b + at + skip, bytes, nbytes);
    tu_write_file(tu_path(to), b, n);
    free(b);
}

START_TEST(sizes_and_names)
{
    /* the pixel limit, checked before decoding, for each decoder */
    const char *const limited[] = {"lossy.webp", "src.heic", "src.avif", "lzw.tif", "cfa.dng"};
    for (size_t f = 0; f < sizeof limited / sizeof *limited; f++) expect(limited[f], UNSHARP_ERR_TOO_LARGE, "over the limit of 1000 pixels", 1000);
    /* headers claiming huge sizes: VP8L 16384 x 16384, HEIF ispe 60000 x 60000, TIFF 100000 x
     * 100000, DNG 30000 x 30000 */
    const unsigned char vp8l[4] = {0xFF, 0xFF, 0xFF, 0x0F}; /* 14 + 14 bits of size - 1, alpha, version */
    patch("lossless.webp", "huge.webp", "VP8L", 9, vp8l, 4);
    expect("huge.webp", UNSHARP_ERR_TOO_LARGE, "16384x16384", 0);
    const unsigned char ispe[8] = {0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60};
    patch("src.heic", "huge.heic", "ispe", 8, ispe, 8);
    expect("huge.heic", UNSHARP_ERR_TOO_LARGE, "60000x60000", 0);
    tu_run("cp %s %s && tiffset -s 256 100000 %s && tiffset -s 257 100000 %s", tu_path("plain.tif"),
           tu_path("huge.tif"), tu_path("huge.tif"), tu_path("huge.tif"));
    expect("huge.tif", UNSHARP_ERR_TOO_LARGE, "100000x100000", 0);
    /* the DNG's IFD0 entries 1 and 2 are ImageWidth and ImageLength (LONG): 30000 x 30000 */
    const unsigned char side[4] = {0x30, 0x75, 0, 0};
    patch("cfa.dng", "huge.dng", NULL, 10 + 12 * 1 + 8, side, 4);
    patch("huge.dng", "huge.dng", NULL, 10 + 12 * 2 + 8, side, 4);
    expect("huge.dng", UNSHARP_ERR_TOO_LARGE, "30000x30000", 0);
    /* found by fuzz_heif: a grid whose box says 65496 x 65446 behind a primary image declared
     * 80 x 60; libheif would allocate 4 GB for it (kept as a 3 KB fixture) */
    tu_run("cp %s/tests/fixtures/heif-grid-larger-than-declared.heic %s", UNSHARP_SOURCE_DIR, tu_path("grid.heic"));
    expect("grid.heic", UNSHARP_ERR_DECODE, "larger than declared", 0);
    ck_assert_msg(strchr(unsharp_errmsg(), '\n') == NULL, "a newline in: %s", unsharp_errmsg());
    /* found by fuzz_raw: a DNG whose make is Hasselblad overflows a buffer in LibRaw 0.20's
     * parseHassyModel (fortify aborts); such files never reach LibRaw (a 336-byte fixture) */
    tu_run("cp %s/tests/fixtures/raw-hasselblad-model-overflow.dng %s", UNSHARP_SOURCE_DIR, tu_path("hassy.dng"));
    expect("hassy.dng", UNSHARP_ERR_FORMAT, "TIFF is not supported", 0);
    tu_write_file(tu_path("hassy.raf"), "FUJIFILMCCD-RAW hAsSeLbLaD", 26);
    expect("hassy.raf", UNSHARP_ERR_FORMAT, "Hasselblad RAW files are not supported", 0);
    /* found by fuzz_raw: a 36-entry CFAPattern without a 6x6 repeat (LibRaw 0.20 takes it for
     * X-Trans) and a DNGVersion: a SEGV in LibRaw's parse_tiff_ifd; such files never reach
     * LibRaw, and this one is read as the broken TIFF it is (a 139-byte fixture) */
    tu_run("cp %s/tests/fixtures/raw-cfa36-parse-tiff-ifd.dng %s", UNSHARP_SOURCE_DIR, tu_path("cfa36.dng"));
    expect("cfa36.dng", UNSHARP_ERR_DECODE, "TIFF", 0);
    /* found by fuzz_raw: a DNG whose 6 x 360 preview is said to be 31,910 bytes in a 16,177-byte
     * file; LibRaw 0.20's unpack_thumb overflows a heap buffer on it (ASan, the sanitizer
     * build). The preview is not unpacked: the sensor data is used, or the file refused */
    tu_run("cp %s/tests/fixtures/raw-thumb-longer-than-file.dng %s", UNSHARP_SOURCE_DIR, tu_path("thumb.dng"));
    {
        unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = 100};
        unsharp_image *img = NULL;
        unsharp_status st = unsharp_image_load(tu_path("thumb.dng"), &o, &img);
        ck_assert_msg(st == UNSHARP_OK ? img && !img->from_raw_preview : !img && strstr(unsharp_errmsg(), "thumb.dng"),
                      "%s: %s", unsharp_status_name(st), unsharp_errmsg());
        unsharp_image_free(img);
    }
    /* a text file named .CR2, and formats recognised but not read */
    tu_write_file(tu_path("IMG_0001.CR2"), "Hello, this is not a photo.\n", 28);
    expect("IMG_0001.CR2", UNSHARP_ERR_FORMAT, "not a RAW file (it holds text)", 0);
    const unsigned char jxl[16] = {0xFF, 0x0A, 0xFA, 0x1F, 0x42, 0x08, 0x55, 0x0C, 0x00, 0x4B, 0x18, 0x8B, 0x15, 0x01, 0x00, 0x00};
    tu_write_file(tu_path("IMG_1.JXL"), jxl, sizeof jxl);
    expect("IMG_1.JXL", UNSHARP_ERR_FORMAT, "JPEG XL is not supported", 0);
    tu_write_file(tu_path("anim.gif"), "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14);
    expect("anim.gif", UNSHARP_ERR_FORMAT, "GIF is not supported", 0);
    /* a PNG named .CR2 decodes as the PNG it is: content decides */
    tu_run("cp %s %s", tu_path("src.png"), tu_path("png.CR2"));
    unsharp_image *img = load("png.CR2", UNSHARP_PIXEL_LUMA8, 0);
    ck_assert_int_eq(img->type, UNSHARP_IMAGE_PNG);
    unsharp_image_free(img);
}
END_TEST

/* The Hasselblad guard (raw.c) scans the whole file 32 or 8 bytes at a time: the name, in
 * mixed case, at every offset near the start, the middle and the end of 4 KB of noise, is found
 * with AVX2 and with the plain scan; a near miss is not (LibRaw then refuses the RAF itself). */
static unsharp_status load_bytes(const unsigned char *b, size_t n)
{
    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    unsharp_image *img = NULL;
    unsharp_status st = unsharp_image_load_memory(b, n, &o, &img);
    unsharp_image_free(img);
    return st;
}

START_TEST(hasselblad_anywhere)
{
    const char *names[] = {"hAsSeLbLaD", "HASSELBLAD", "Imacon", "iMACON"};
    const char *misses[] = {"hasselbla_", "Hasselblaf", "imaco_", "_macon"};
    enum { N = 4096 };
    static unsigned char b[N + 64];
    uint32_t seed = 12345;
    memcpy(b, "FUJIFILMCCD-RAW ", 16);
    for (size_t k = 16; k < sizeof b; k++) {
        seed = seed * 1664525u + 1013904223u;
        unsigned char c = (unsigned char)(seed >> 24);
        b[k] = (c | 32) >= 'a' && (c | 32) <= 'z' ? (unsigned char)(c & 0x1f) : c; /* no letters: no name by chance */
    }
    for (int plain = 0; plain <= 1; plain++) {
        unsharp__simd_force(plain ? UNSHARP_SIMD_PLAIN : -1);
        for (size_t w = 0; w < 4; w++) {
            size_t len = strlen(names[w]);
            size_t starts[] = {16, N / 2, N - 40};
            for (size_t s = 0; s < 3; s++)
                for (size_t off = 0; off < 40; off++) {
                    size_t at = starts[s] + off, n = at + len + (s == 2 ? 0 : 17);
                    unsigned char keep[16];
                    memcpy(keep, b + at, len);
                    memcpy(b + at, names[w], len);
                    unsharp_status st = load_bytes(b, n);
                    ck_assert_msg(st == UNSHARP_ERR_FORMAT && strstr(unsharp_errmsg(), "Hasselblad RAW files are not supported"),
                                  "%s at %zu of %zu (%s): %s", names[w], at, n, plain ? "plain" : "AVX2", unsharp_errmsg());
                    memcpy(b + at, misses[w], len);
                    st = load_bytes(b, n);
                    ck_assert_msg(!strstr(unsharp_errmsg(), "Hasselblad"), "%s at %zu (%s): %s", misses[w], at,
                                  plain ? "plain" : "AVX2", unsharp_errmsg());
                    memcpy(b + at, keep, len);
                }
        }
    }
    unsharp__simd_force(-1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("formats");
    TCase *tc = tcase_create("formats");
    tcase_add_checked_fixture(tc, make_files, tu_teardown_tmpdir);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, webp_decodes);
    tcase_add_test(tc, heif_and_avif_decode);
    tcase_add_test(tc, tiff_decodes);
    tcase_add_test(tc, dng_decodes);
    tcase_add_test(tc, truncated_is_an_error);
    tcase_add_test(tc, sizes_and_names);
    tcase_add_test(tc, cut_and_flipped);
    tcase_add_test(tc, big_raw_read_in_part);
    suite_add_tcase(s, tc);
    TCase *guard = tcase_create("guard");
    tcase_add_test(guard, hasselblad_anywhere);
    tcase_add_test(guard, cfa_trap);
    suite_add_tcase(s, guard);
    return tu_run_suite(s);
}
