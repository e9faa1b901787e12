/* test_image.c: the image input (unsharp_image_load and _load_memory). Test images are made
 * at run time in a temporary folder: patterns written as PGM/PPM here, encoded with cjpeg or
 * pnmtopng (or TurboJPEG for CMYK), and the reference pixels come from outside the code under
 * test: djpeg's output for JPEG, the pattern itself for PNG, formulas written out here for the
 * resample, the CMYK conversion and the EXIF orientations. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <unistd.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

/* Writes a PGM (c = 1) or PPM (c = 3) of 8-bit samples, or 16-bit when maxval > 255. */
static void write_pnm(const char *path, int w, int h, int c, int maxval, const unsigned short *px)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "P%d\n%d %d\n%d\n", c == 1 ? 5 : 6, w, h, maxval);
    for (size_t i = 0; i < (size_t)w * h * c; i++) {
        if (maxval > 255) fputc(px[i] >> 8, f);
        fputc(px[i] & 255, f);
    }
    fclose(f);
}

/* A smooth-and-edgy RGB test pattern, the same for every run. */
static int pattern(int x, int y, int ch, int w, int h)
{
    switch (ch) {
    case 0: return (x * 255) / (w > 1 ? w - 1 : 1);
    case 1: return (y * 255) / (h > 1 ? h - 1 : 1);
    default: return ((x / 8 + y / 8) % 2) ? 200 : 40;
    }
}

static void write_pattern(const char *path, int w, int h, int c)
{
    unsigned short *px = malloc(sizeof *px * (size_t)w * h * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) px[((size_t)y * w + x) * c + ch] = (unsigned short)pattern(x, y, c == 1 ? 2 : ch, w, h);
    write_pnm(path, w, h, c, 255, px);
    free(px);
}

static void expect_same(const unsharp_image *img, const unsigned char *ref, int w, int h, int c, double max_mean, int max_abs)
{
    ck_assert_int_eq(img->width, w);
    ck_assert_int_eq(img->height, h);
    ck_assert_int_eq(img->channels, c);
    const unsigned char *px = img->pixels;
    double sum = 0;
    int worst = 0;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w * c; i++) {
            int d = abs((int)px[(size_t)y * img->stride + i] - (int)ref[(size_t)y * w * c + i]);
            sum += d;
            if (d > worst) worst = d;
        }
    double mean = sum / ((double)w * h * c);
    ck_assert_msg(mean <= max_mean && worst <= max_abs, "mean abs diff %.3f (limit %.3f), max %d (limit %d)", mean,
                  max_mean, worst, max_abs);
}

static unsharp_image *load_ok(const char *path, unsharp_pixel_format fmt, int long_side)
{
    unsharp_image_options o = {0};
    o.format = fmt;
    o.long_side = long_side;
    unsharp_image *img = NULL;
    unsharp_status st = unsharp_image_load(path, &o, &img);
    ck_assert_msg(st == UNSHARP_OK, "%s: %s", unsharp_status_name(st), unsharp_errmsg());
    ck_assert_ptr_nonnull(img);
    return img;
}

/* Full-size JPEG decodes must equal djpeg's, for each kind of file cjpeg makes. */
START_TEST(jpeg_matches_djpeg)
{
    static const char *kinds[] = {"", "-progressive", "-restart 1", "-grayscale", "-progressive -restart 1"};
    const int w = 97, h = 61;
    write_pattern(tu_path("p.ppm"), w, h, 3);
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        tu_run("cjpeg -quality 95 %s -outfile %s %s", kinds[k], tu_path("p.jpg"), tu_path("p.ppm"));
        for (int gray = 0; gray < 2; gray++) {
            tu_run("djpeg -pnm %s -outfile %s %s", gray ? "-grayscale" : "", tu_path("ref.pnm"), tu_path("p.jpg"));
            int rw, rh, rc;
            unsigned char *ref = tu_read_pnm(tu_path("ref.pnm"), &rw, &rh, &rc);
            unsharp_image *img = load_ok(tu_path("p.jpg"), gray ? UNSHARP_PIXEL_LUMA8 : UNSHARP_PIXEL_RGB8, 0);
            if (!gray && rc == 1) { /* a grayscale JPEG decoded to RGB: the grey repeated */
                unsigned char *rgb = malloc((size_t)rw * rh * 3);
                for (size_t i = 0; i < (size_t)rw * rh; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = ref[i];
                free(ref);
                ref = rgb;
                rc = 3;
            }
            expect_same(img, ref, rw, rh, rc, 0.0, 0);
            ck_assert_int_eq(img->type, UNSHARP_IMAGE_JPEG);
            ck_assert_int_eq(img->stored_width, w);
            ck_assert_int_eq(img->stored_height, h);
            ck_assert_int_eq(img->orientation, 1);
            ck_assert_int_eq(img->from_exif_thumbnail, 0);
            ck_assert_uint_eq(img->stride, (size_t)w * rc);
            unsharp_image_free(img);
            free(ref);
        }
    }
}
END_TEST

/* The DCT scale is the smallest whose long side reaches the request: the result then equals
 * djpeg -scale exactly. */
START_TEST(jpeg_dct_scale)
{
    static const struct { int long_side; const char *scale; int w, h; } cases[] = {
        {400, "1/2", 400, 300}, {300, "3/8", 300, 225}, {100, "1/8", 100, 75}, {800, "1/1", 800, 600},
    };
    write_pattern(tu_path("p.ppm"), 800, 600, 3);
    tu_run("cjpeg -quality 95 -outfile %s %s", tu_path("p.jpg"), tu_path("p.ppm"));
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tu_run("djpeg -pnm -scale %s -outfile %s %s", cases[k].scale, tu_path("ref.ppm"), tu_path("p.jpg"));
        int rw, rh, rc;
        unsigned char *ref = tu_read_pnm(tu_path("ref.ppm"), &rw, &rh, &rc);
        ck_assert_int_eq(rw, cases[k].w);
        unsharp_image *img = load_ok(tu_path("p.jpg"), UNSHARP_PIXEL_RGB8, cases[k].long_side);
        expect_same(img, ref, cases[k].w, cases[k].h, 3, 0.0, 0);
        ck_assert_int_eq(img->stored_width, 800);
        ck_assert_int_eq(img->stored_height, 600);
        unsharp_image_free(img);
        free(ref);
    }
}
END_TEST

/* 4000x3000 at long side 1000: 1/4 scale gives 1000x750 with no resample. */
START_TEST(jpeg_dct_scale_large)
{
    write_pattern(tu_path("big.ppm"), 4000, 3000, 3);
    tu_run("cjpeg -quality 90 -outfile %s %s", tu_path("big.jpg"), tu_path("big.ppm"));
    tu_run("djpeg -pnm -scale 1/4 -outfile %s %s", tu_path("ref.ppm"), tu_path("big.jpg"));
    int rw, rh, rc;
    unsigned char *ref = tu_read_pnm(tu_path("ref.ppm"), &rw, &rh, &rc);
    unsharp_image *img = load_ok(tu_path("big.jpg"), UNSHARP_PIXEL_RGB8, 1000);
    expect_same(img, ref, 1000, 750, 3, 0.0, 0);
    ck_assert_int_eq(img->stored_width, 4000);
    ck_assert_int_eq(img->stored_height, 3000);
    unsharp_image_free(img);
    free(ref);
}
END_TEST

/* The area average written out directly: each output pixel integrates the source over its
 * footprint [x*s, (x+1)*s) x [y*t, (y+1)*t). */
static unsigned char *area_reference(const unsigned char *src, int w, int h, int c, int ow, int oh)
{
    unsigned char *out = malloc((size_t)ow * oh * c);
    double sx = (double)w / ow, sy = (double)h / oh;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int ch = 0; ch < c; ch++) {
                double sum = 0, area = 0;
                for (int y = 0; y < h; y++) {
                    double cy = fmin(y + 1, (oy + 1) * sy) - fmax(y, oy * sy);
                    if (cy <= 0) continue;
                    for (int x = 0; x < w; x++) {
                        double cx = fmin(x + 1, (ox + 1) * sx) - fmax(x, ox * sx);
                        if (cx <= 0) continue;
                        sum += cx * cy * src[((size_t)y * w + x) * c + ch];
                        area += cx * cy;
                    }
                }
                out[((size_t)oy * ow + ox) * c + ch] = (unsigned char)lround(sum / area);
            }
    return out;
}

/* A long side between two DCT scales: decode at 1/2 (400x300), then area-average to 350. */
START_TEST(jpeg_scale_then_resample)
{
    write_pattern(tu_path("p.ppm"), 800, 600, 3);
    tu_run("cjpeg -quality 95 -outfile %s %s", tu_path("p.jpg"), tu_path("p.ppm"));
    tu_run("djpeg -pnm -scale 1/2 -outfile %s %s", tu_path("half.ppm"), tu_path("p.jpg"));
    int rw, rh, rc;
    unsigned char *half = tu_read_pnm(tu_path("half.ppm"), &rw, &rh, &rc);
    unsigned char *ref = area_reference(half, rw, rh, 3, 350, 263);
    unsharp_image *img = load_ok(tu_path("p.jpg"), UNSHARP_PIXEL_RGB8, 350);
    expect_same(img, ref, 350, 263, 3, 0.05, 1);
    unsharp_image_free(img);
    free(ref);
    free(half);
}
END_TEST

/* Exact resample values on a PNG (lossless): 2x2 means, and a 3 -> 2 fractional footprint. */
START_TEST(resample_exact_and_never_up)
{
    unsigned short px[6 * 4];
    for (int i = 0; i < 24; i++) px[i] = (unsigned short)(i * 10);
    write_pnm(tu_path("a.pgm"), 6, 4, 1, 255, px);
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("a.pgm"), tu_path("a.png"));
    unsharp_image *img = load_ok(tu_path("a.png"), UNSHARP_PIXEL_LUMA8, 3);
    ck_assert_int_eq(img->width, 3);
    ck_assert_int_eq(img->height, 2);
    const unsigned char *p = img->pixels;
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 3; ox++) {
            int a = px[(2 * oy) * 6 + 2 * ox], b = px[(2 * oy) * 6 + 2 * ox + 1];
            int c = px[(2 * oy + 1) * 6 + 2 * ox], d = px[(2 * oy + 1) * 6 + 2 * ox + 1];
            ck_assert_int_eq(p[oy * 3 + ox], (a + b + c + d + 2) / 4);
        }
    unsharp_image_free(img);

    unsigned short row[3] = {0, 90, 210};
    write_pnm(tu_path("b.pgm"), 3, 1, 1, 255, row);
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("b.pgm"), tu_path("b.png"));
    img = load_ok(tu_path("b.png"), UNSHARP_PIXEL_LUMA8, 2);
    ck_assert_int_eq(img->width, 2);
    ck_assert_int_eq(img->height, 1);
    p = img->pixels;
    ck_assert_int_eq(p[0], (int)lround((0 + 0.5 * 90) / 1.5));   /* 30 */
    ck_assert_int_eq(p[1], (int)lround((0.5 * 90 + 210) / 1.5)); /* 170 */
    unsharp_image_free(img);

    /* Never upscales: a request above the stored size gives the stored size. */
    img = load_ok(tu_path("a.png"), UNSHARP_PIXEL_LUMA8, 5000);
    ck_assert_int_eq(img->width, 6);
    ck_assert_int_eq(img->height, 4);
    for (int i = 0; i < 24; i++) ck_assert_int_eq(((unsigned char *)img->pixels)[i], px[i]);
    unsharp_image_free(img);
}
END_TEST

/* Luma with windows of up to four pixels (the four-tap path, eight outputs at a time where
 * the CPU has AVX2, and its tail): a lossless 203x150 gray PNG to long side 131, against the
 * area average written out above. */
START_TEST(resample_luma_four_taps)
{
    write_pattern(tu_path("g.pgm"), 203, 150, 1);
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("g.pgm"), tu_path("g.png"));
    int rw, rh, rc;
    unsigned char *src = tu_read_pnm(tu_path("g.pgm"), &rw, &rh, &rc);
    unsigned char *ref = area_reference(src, rw, rh, 1, 131, 97);
    unsharp_image *img = load_ok(tu_path("g.png"), UNSHARP_PIXEL_LUMA8, 131);
    expect_same(img, ref, 131, 97, 1, 0.05, 1);
    unsharp_image_free(img);
    free(ref);
    free(src);
}
END_TEST

/* Float output is the 8-bit output divided by 255. */
START_TEST(float_output)
{
    write_pattern(tu_path("p.ppm"), 64, 40, 3);
    tu_run("cjpeg -quality 95 -outfile %s %s", tu_path("p.jpg"), tu_path("p.ppm"));
    for (int color = 0; color < 2; color++) {
        unsharp_image *a = load_ok(tu_path("p.jpg"), color ? UNSHARP_PIXEL_RGB8 : UNSHARP_PIXEL_LUMA8, 30);
        unsharp_image *f = load_ok(tu_path("p.jpg"), color ? UNSHARP_PIXEL_RGBF : UNSHARP_PIXEL_LUMAF, 30);
        ck_assert_int_eq(f->width, a->width);
        ck_assert_int_eq(f->height, a->height);
        ck_assert_int_eq(f->format, color ? UNSHARP_PIXEL_RGBF : UNSHARP_PIXEL_LUMAF);
        ck_assert_uint_eq(f->stride, (size_t)f->width * f->channels * sizeof(float));
        const unsigned char *pa = a->pixels;
        const float *pf = f->pixels;
        for (size_t i = 0; i < (size_t)a->width * a->height * a->channels; i++)
            ck_assert_float_eq_tol(pf[i], pa[i] / 255.0f, 1e-6f);
        unsharp_image_free(a);
        unsharp_image_free(f);
    }
}
END_TEST

/* PNG of each type against the pattern it was made from. */
START_TEST(png_types)
{
    const int w = 37, h = 23;
    unsigned short *rgb = malloc(sizeof *rgb * w * h * 3), *gray = malloc(sizeof *gray * w * h);
    unsigned short *rgb16 = malloc(sizeof *rgb16 * w * h * 3), *alpha = malloc(sizeof *alpha * w * h);
    unsigned short *pal = malloc(sizeof *pal * w * h * 3);
    static const int colors[4][3] = {{255, 0, 0}, {0, 128, 255}, {20, 200, 90}, {250, 250, 10}};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            for (int c = 0; c < 3; c++) {
                rgb[3 * i + c] = (unsigned short)pattern(x, y, c, w, h);
                rgb16[3 * i + c] = (unsigned short)((x * 1789 + y * 977 + c * 20000) % 65536);
                pal[3 * i + c] = (unsigned short)colors[(x / 5 + y / 3) % 4][c];
            }
            gray[i] = (unsigned short)((x * 7 + y * 11) % 256);
            alpha[i] = (unsigned short)((x * 13 + y * 5) % 256);
        }
    write_pnm(tu_path("rgb.ppm"), w, h, 3, 255, rgb);
    write_pnm(tu_path("gray.pgm"), w, h, 1, 255, gray);
    write_pnm(tu_path("rgb16.ppm"), w, h, 3, 65535, rgb16);
    write_pnm(tu_path("alpha.pgm"), w, h, 1, 255, alpha);
    write_pnm(tu_path("pal.ppm"), w, h, 3, 255, pal);
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("rgb.ppm"), tu_path("rgb.png"));
    tu_run("pnmtopng -interlace %s > %s 2>/dev/null", tu_path("rgb.ppm"), tu_path("rgbi.png"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("gray.pgm"), tu_path("gray.png"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("rgb16.ppm"), tu_path("rgb16.png"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("pal.ppm"), tu_path("pal.png"));
    tu_run("pnmtopng -alpha=%s %s > %s 2>/dev/null", tu_path("alpha.pgm"), tu_path("rgb.ppm"), tu_path("rgba.png"));
    tu_run("pnmtopng -alpha=%s %s > %s 2>/dev/null", tu_path("alpha.pgm"), tu_path("gray.pgm"), tu_path("graya.png"));

    /* The IHDR says what pnmtopng made: bit depth at byte 24, colour type at 25. */
    static const struct { const char *name; int depth, type; } made[] = {
        {"rgb.png", 8, 2}, {"rgbi.png", 8, 2}, {"gray.png", 8, 0}, {"rgb16.png", 16, 2},
        {"pal.png", 2, 3} /* 4 colours: 2-bit indices */, {"rgba.png", 8, 6}, {"graya.png", 8, 4},
    };
    for (size_t k = 0; k < sizeof made / sizeof *made; k++) {
        size_t n;
        unsigned char *b = tu_read_file(tu_path(made[k].name), &n);
        ck_assert_msg(b[24] == made[k].depth && b[25] == made[k].type, "%s: depth %d type %d", made[k].name, b[24], b[25]);
        free(b);
    }

    unsigned char *ref = malloc((size_t)w * h * 3);
    const struct { const char *name; const unsigned short *src; int c, depth16, use_alpha; } cases[] = {
        {"rgb.png", rgb, 3, 0, 0}, {"rgbi.png", rgb, 3, 0, 0}, {"gray.png", gray, 1, 0, 0},
        {"rgb16.png", rgb16, 3, 1, 0}, {"pal.png", pal, 3, 0, 0}, {"rgba.png", rgb, 3, 0, 1},
        {"graya.png", gray, 1, 0, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        for (size_t i = 0; i < (size_t)w * h; i++)
            for (int c = 0; c < 3; c++) {
                int v = cases[k].src[i * cases[k].c + (cases[k].c == 3 ? c : 0)];
                if (cases[k].depth16) v = (int)lround(v / 257.0);
                if (cases[k].use_alpha) /* over white paper */
                    v = (int)lround((v * alpha[i] + 255.0 * (255 - alpha[i])) / 255.0);
                ref[3 * i + c] = (unsigned char)v;
            }
        unsharp_image *img = load_ok(tu_path(cases[k].name), UNSHARP_PIXEL_RGB8, 0);
        ck_assert_int_eq(img->type, UNSHARP_IMAGE_PNG);
        ck_assert_int_eq(img->stored_width, w);
        ck_assert_int_eq(img->stored_height, h);
        expect_same(img, ref, w, h, 3, 0.0, 0);
        unsharp_image_free(img);
        if (cases[k].c == 1) { /* and as luma: the same grey */
            for (size_t i = 0; i < (size_t)w * h; i++) ref[i] = ref[3 * i];
            img = load_ok(tu_path(cases[k].name), UNSHARP_PIXEL_LUMA8, 0);
            expect_same(img, ref, w, h, 1, 0.0, 0);
            unsharp_image_free(img);
        }
    }
    /* RGB as luma: BT.601 weights, as libjpeg makes Y. */
    for (size_t i = 0; i < (size_t)w * h; i++)
        ref[i] = (unsigned char)lround(0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]);
    unsharp_image *img = load_ok(tu_path("rgb.png"), UNSHARP_PIXEL_LUMA8, 0);
    expect_same(img, ref, w, h, 1, 0.05, 1);
    unsharp_image_free(img);
    free(ref);
    free(rgb);
    free(gray);
    free(rgb16);
    free(alpha);
    free(pal);
}
END_TEST

/* A CMYK JPEG written by TurboJPEG (YCCK with an Adobe marker): read as Adobe's inverted CMYK,
 * R = C * K / 255, G = M * K / 255, B = Y * K / 255. Flat 16x16 blocks keep JPEG close. */
START_TEST(jpeg_cmyk)
{
    const int w = 64, h = 32;
    unsigned char *cmyk = malloc((size_t)w * h * 4), *ref = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int blk = (y / 16) * 4 + x / 16;
            unsigned char *p = cmyk + ((size_t)y * w + x) * 4;
            p[0] = (unsigned char)(255 - blk * 25);
            p[1] = (unsigned char)(60 + blk * 20);
            p[2] = (unsigned char)(blk % 2 ? 230 : 90);
            p[3] = (unsigned char)(255 - (blk % 3) * 40);
            for (int c = 0; c < 3; c++) ref[((size_t)y * w + x) * 3 + c] = (unsigned char)lround(p[c] * p[3] / 255.0);
        }
    tjhandle tj = tjInitCompress();
    ck_assert_ptr_nonnull(tj);
    unsigned char *jpg = NULL;
    unsigned long jsize = 0;
    ck_assert_int_eq(tjCompress2(tj, cmyk, w, 0, h, TJPF_CMYK, &jpg, &jsize, TJSAMP_444, 100, 0), 0);
    tjDestroy(tj);
    int adobe = 0;
    for (unsigned long i = 0; i + 7 < jsize; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xEE && memcmp(jpg + i + 4, "Adobe", 5) == 0) adobe = 1;
    ck_assert_msg(adobe, "TurboJPEG wrote no Adobe marker");
    tu_write_file(tu_path("cmyk.jpg"), jpg, jsize);
    tjFree(jpg);
    unsharp_image *img = load_ok(tu_path("cmyk.jpg"), UNSHARP_PIXEL_RGB8, 0);
    expect_same(img, ref, w, h, 3, 1.5, 6);
    unsharp_image_free(img);
    free(cmyk);
    free(ref);
}
END_TEST

/* The APP1 segment (marker included) with an EXIF block: IFD0 holds Orientation; IFD1, when
 * thumb is given, points at an embedded JPEG thumbnail. Built by hand, little-endian. */
static size_t make_app1(unsigned char *out, int orientation, const unsigned char *thumb, size_t thumb_size)
{
    unsigned char t[65536];
    size_t n = 0;
#define U16(v) (t[n++] = (unsigned char)((v) & 255), t[n++] = (unsigned char)(((v) >> 8) & 255))
#define U32(v) (U16((v) & 0xFFFF), U16(((unsigned)(v) >> 16) & 0xFFFF))
    t[n++] = 'I'; t[n++] = 'I'; U16(42); U32(8);
    U16(1);                                    /* IFD0 at 8: one entry */
    U16(0x0112); U16(3); U32(1); U16(orientation); U16(0);
    U32(thumb ? 26 : 0);                       /* IFD1 at 26 */
    if (thumb) {
        U16(3);
        U16(0x0103); U16(3); U32(1); U16(6); U16(0);   /* Compression: JPEG */
        U16(0x0201); U16(4); U32(1); U32(68);          /* JPEGInterchangeFormat */
        U16(0x0202); U16(4); U32(1); U32(thumb_size);  /* JPEGInterchangeFormatLength */
        U32(0);
        ck_assert_uint_eq(n, 68);
        memcpy(t + n, thumb, thumb_size);
        n += thumb_size;
    }
#undef U16
#undef U32
    size_t len = 2 + 6 + n;
    ck_assert_uint_le(len, 65535);
    out[0] = 0xFF; out[1] = 0xE1; out[2] = (unsigned char)(len >> 8); out[3] = (unsigned char)len;
    memcpy(out + 4, "Exif\0\0", 6);
    memcpy(out + 10, t, n);
    return 2 + len;
}

/* jpeg with the APP1 put right after SOI, written to path. */
static void write_with_app1(const char *path, const unsigned char *jpg, size_t size, const unsigned char *app1, size_t n)
{
    unsigned char *b = malloc(size + n);
    memcpy(b, jpg, 2);
    memcpy(b + 2, app1, n);
    memcpy(b + 2 + n, jpg + 2, size - 2);
    tu_write_file(path, b, size + n);
    free(b);
}

/* For all 8 orientations, each 16x16 block of a 4x3 grid of distinct greys must land where the
 * EXIF specification puts it. Where a stored pixel (x, y) goes, for a W x H image: */
static void forward_map(int o, int x, int y, int W, int H, int *dx, int *dy)
{
    switch (o) {
    case 1: *dx = x; *dy = y; break;
    case 2: *dx = W - 1 - x; *dy = y; break;                 /* mirror horizontal */
    case 3: *dx = W - 1 - x; *dy = H - 1 - y; break;         /* rotate 180 */
    case 4: *dx = x; *dy = H - 1 - y; break;                 /* mirror vertical */
    case 5: *dx = y; *dy = x; break;                         /* transpose */
    case 6: *dx = H - 1 - y; *dy = x; break;                 /* rotate 90 CW */
    case 7: *dx = H - 1 - y; *dy = W - 1 - x; break;         /* transverse */
    default: *dx = y; *dy = W - 1 - x; break;                /* rotate 270 CW */
    }
}

START_TEST(exif_orientation)
{
    const int W = 64, H = 48;
    unsigned short px[64 * 48];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) px[y * W + x] = (unsigned short)(20 + ((y / 16) * 4 + x / 16) * 18);
    write_pnm(tu_path("g.pgm"), W, H, 1, 255, px);
    tu_run("cjpeg -quality 95 -grayscale -outfile %s %s", tu_path("g.jpg"), tu_path("g.pgm"));
    size_t size;
    unsigned char *jpg = tu_read_file(tu_path("g.jpg"), &size);
    for (int o = 1; o <= 8; o++) {
        unsigned char app1[128];
        size_t n = make_app1(app1, o, NULL, 0);
        write_with_app1(tu_path("o.jpg"), jpg, size, app1, n);
        unsharp_image *img = load_ok(tu_path("o.jpg"), UNSHARP_PIXEL_LUMA8, 0);
        ck_assert_int_eq(img->orientation, o);
        ck_assert_int_eq(img->stored_width, W);
        ck_assert_int_eq(img->stored_height, H);
        ck_assert_int_eq(img->width, o >= 5 ? H : W);
        ck_assert_int_eq(img->height, o >= 5 ? W : H);
        const unsigned char *p = img->pixels;
        for (int by = 0; by < 3; by++)
            for (int bx = 0; bx < 4; bx++)
                for (int corner = 0; corner < 4; corner++) { /* 4 pixels inside each block */
                    int x = bx * 16 + (corner & 1 ? 12 : 3), y = by * 16 + (corner & 2 ? 12 : 3), dx, dy;
                    forward_map(o, x, y, W, H, &dx, &dy);
                    int got = p[(size_t)dy * img->stride + dx], want = px[y * W + x];
                    ck_assert_msg(abs(got - want) <= 3, "orientation %d: stored (%d,%d) = %d went to (%d,%d) = %d", o,
                                  x, y, want, dx, dy, got);
                }
        unsharp_image_free(img);

        /* keep_orientation: the stored layout, the orientation still reported. */
        unsharp_image_options opt = {.format = UNSHARP_PIXEL_LUMA8, .keep_orientation = 1};
        ck_assert_int_eq(unsharp_image_load(tu_path("o.jpg"), &opt, &img), UNSHARP_OK);
        ck_assert_int_eq(img->orientation, o);
        ck_assert_int_eq(img->width, W);
        ck_assert_int_eq(abs((int)((unsigned char *)img->pixels)[0] - px[0]) <= 3, 1);
        unsharp_image_free(img);
    }
    /* A resampled load is oriented too (resample, then rotate). */
    unsigned char app1[128];
    size_t n = make_app1(app1, 6, NULL, 0);
    write_with_app1(tu_path("o.jpg"), jpg, size, app1, n);
    unsharp_image *img = load_ok(tu_path("o.jpg"), UNSHARP_PIXEL_LUMA8, 32);
    ck_assert_int_eq(img->width, 24);
    ck_assert_int_eq(img->height, 32);
    unsharp_image_free(img);
    free(jpg);
}
END_TEST

static unsigned char *compress_flat(int w, int h, int level, unsigned long *size)
{
    unsigned char *px = malloc((size_t)w * h);
    for (size_t i = 0; i < (size_t)w * h; i++) px[i] = (unsigned char)level;
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    ck_assert_int_eq(tjCompress2(tj, px, w, 0, h, TJPF_GRAY, &jpg, size, TJSAMP_GRAY, 90, 0), 0);
    tjDestroy(tj);
    free(px);
    return jpg;
}

/* Thumbnail mode: the EXIF thumbnail when it is big enough, else the 1/8 decode. */
START_TEST(exif_thumbnail)
{
    write_pattern(tu_path("p.pgm"), 1280, 960, 1);
    tu_run("cjpeg -quality 90 -grayscale -outfile %s %s", tu_path("p.jpg"), tu_path("p.pgm"));
    size_t size;
    unsigned char *jpg = tu_read_file(tu_path("p.jpg"), &size);
    unsigned long tsize;
    unsigned char *thumb = compress_flat(128, 96, 77, &tsize);
    unsigned char *app1 = malloc(65536);
    size_t n = make_app1(app1, 1, thumb, tsize);
    write_with_app1(tu_path("t.jpg"), jpg, size, app1, n);

    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .thumbnail = 1, .long_side = 100};
    unsharp_image *img = NULL;
    ck_assert_int_eq(unsharp_image_load(tu_path("t.jpg"), &o, &img), UNSHARP_OK);
    ck_assert_int_eq(img->from_exif_thumbnail, 1);
    ck_assert_int_eq(img->width, 128);
    ck_assert_int_eq(img->height, 96);
    ck_assert_int_eq(img->stored_width, 1280);
    ck_assert_int_eq(img->stored_height, 960);
    ck_assert_int_eq(abs(((unsigned char *)img->pixels)[500] - 77) <= 2, 1);
    unsharp_image_free(img);

    /* The thumbnail is too small for 150: 1/8 of the photo, compared with djpeg. */
    o.long_side = 150;
    ck_assert_int_eq(unsharp_image_load(tu_path("t.jpg"), &o, &img), UNSHARP_OK);
    ck_assert_int_eq(img->from_exif_thumbnail, 0);
    tu_run("djpeg -pnm -scale 1/8 -outfile %s %s", tu_path("ref.pgm"), tu_path("p.jpg"));
    int rw, rh, rc;
    unsigned char *ref = tu_read_pnm(tu_path("ref.pgm"), &rw, &rh, &rc);
    expect_same(img, ref, 160, 120, 1, 0.0, 0);
    unsharp_image_free(img);
    free(ref);

    /* Normal mode ignores the thumbnail: 1/8 DCT (160) then resample to 100. */
    o.thumbnail = 0;
    o.long_side = 100;
    ck_assert_int_eq(unsharp_image_load(tu_path("t.jpg"), &o, &img), UNSHARP_OK);
    ck_assert_int_eq(img->from_exif_thumbnail, 0);
    ck_assert_int_eq(img->width, 100);
    ck_assert_int_eq(img->height, 75);
    unsharp_image_free(img);
    free(app1);
    tjFree(thumb);
    free(jpg);
}
END_TEST

START_TEST(max_pixels_refused)
{
    write_pattern(tu_path("p.ppm"), 97, 61, 3);
    tu_run("cjpeg -quality 95 -outfile %s %s", tu_path("p.jpg"), tu_path("p.ppm"));
    tu_run("pnmtopng %s > %s 2>/dev/null", tu_path("p.ppm"), tu_path("p.png"));
    const char *files[] = {tu_path("p.jpg"), tu_path("p.png")};
    for (int k = 0; k < 2; k++) {
        unsharp_image_options o = {.max_pixels = 97 * 61 - 1};
        unsharp_image *img = (unsharp_image *)&o; /* must be reset to NULL */
        ck_assert_int_eq(unsharp_image_load(files[k], &o, &img), UNSHARP_ERR_TOO_LARGE);
        ck_assert_ptr_null(img);
        const char *msg = unsharp_errmsg();
        ck_assert_msg(strstr(msg, "97x61") && strstr(msg, "5916") && strstr(msg, files[k]), "message: %s", msg);
        o.max_pixels = 97 * 61;
        ck_assert_int_eq(unsharp_image_load(files[k], &o, &img), UNSHARP_OK);
        unsharp_image_free(img);
    }
}
END_TEST

START_TEST(load_memory)
{
    write_pattern(tu_path("p.ppm"), 97, 61, 3);
    tu_run("cjpeg -quality 95 -outfile %s %s", tu_path("p.jpg"), tu_path("p.ppm"));
    size_t size;
    unsigned char *jpg = tu_read_file(tu_path("p.jpg"), &size);
    unsharp_image *a = load_ok(tu_path("p.jpg"), UNSHARP_PIXEL_RGB8, 50);
    unsharp_image_options o = {.format = UNSHARP_PIXEL_RGB8, .long_side = 50};
    unsharp_image *b = NULL;
    ck_assert_int_eq(unsharp_image_load_memory(jpg, size, &o, &b), UNSHARP_OK);
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_mem_eq(a->pixels, b->pixels, (size_t)a->height * a->stride);
    unsharp_image_free(a);
    unsharp_image_free(b);

    ck_assert_int_eq(unsharp_image_load_memory("hello", 5, NULL, &b), UNSHARP_ERR_FORMAT);
    ck_assert_msg(strstr(unsharp_errmsg(), "(memory)") && strstr(unsharp_errmsg(), "not an image file of a supported type"), "%s",
                  unsharp_errmsg());
    ck_assert_int_eq(unsharp_image_load_memory(jpg, size / 2, NULL, &b), UNSHARP_ERR_DECODE);
    ck_assert_int_eq(unsharp_image_load_memory(NULL, 0, NULL, &b), UNSHARP_ERR_FORMAT);
    ck_assert_int_eq(unsharp_image_load_memory(NULL, 4, NULL, &b), UNSHARP_ERR_INVALID);
    ck_assert_int_eq(unsharp_image_load(NULL, NULL, &b), UNSHARP_ERR_INVALID);
    ck_assert_int_eq(unsharp_image_load(tu_path("p.jpg"), NULL, NULL), UNSHARP_ERR_INVALID);
    o.long_side = -1;
    ck_assert_int_eq(unsharp_image_load(tu_path("p.jpg"), &o, &b), UNSHARP_ERR_INVALID);
    o.long_side = 0;
    o.format = (unsharp_pixel_format)9;
    ck_assert_int_eq(unsharp_image_load(tu_path("p.jpg"), &o, &b), UNSHARP_ERR_INVALID);
    unsharp_image_free(NULL);
    free(jpg);
}
END_TEST

static Suite *image_suite(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("image");
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, jpeg_matches_djpeg);
    tcase_add_test(tc, jpeg_dct_scale);
    tcase_add_test(tc, jpeg_dct_scale_large);
    tcase_add_test(tc, jpeg_scale_then_resample);
    tcase_add_test(tc, resample_exact_and_never_up);
    tcase_add_test(tc, resample_luma_four_taps);
    tcase_add_test(tc, float_output);
    tcase_add_test(tc, png_types);
    tcase_add_test(tc, jpeg_cmyk);
    tcase_add_test(tc, exif_orientation);
    tcase_add_test(tc, exif_thumbnail);
    tcase_add_test(tc, max_pixels_refused);
    tcase_add_test(tc, load_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(image_suite()); }
