/* image.c: the public image entry points. Reads the file (read.c), recognises the format by content (format.c), and runs
 * the steps: decode (jpeg.c with the DCT scale or the EXIF thumbnail, png.c, heif.c for HEIF
 * and AVIF, webp.c, tiff.c, raw.c), area resample to the working size (resample.c),
 * orientation (orient.c), then float conversion. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "image_internal.h"

unsharp_status unsharp__img_fail(const img_ctx *ctx, unsharp_status st, const char *fmt, ...)
{
    int k = snprintf(ctx->errbuf, PHOTO_MSG_MAX, "%s: ", ctx->name);
    if (k < 0 || k >= PHOTO_MSG_MAX) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errbuf + k, PHOTO_MSG_MAX - (size_t)k, fmt, ap);
    va_end(ap);
    /* the decoders' own texts may end in a newline or hold one: a message is one line */
    char *msg = ctx->errbuf + k;
    size_t n = strlen(msg);
    for (size_t i = 0; i < n; i++)
        if (msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t') msg[i] = ' ';
    while (n && msg[n - 1] == ' ') msg[--n] = 0;
    for (char *p = strstr(msg, " )"); p; p = strstr(p, " )")) memmove(p, p + 1, strlen(p + 1) + 1);
    return st;
}

int unsharp__img_too_large(const img_ctx *ctx, uint64_t w, uint64_t h)
{
    if (w > UNSHARP_IMAGE_MAX_SIDE || h > UNSHARP_IMAGE_MAX_SIDE) return 1;
    return w * h > ctx->opt.max_pixels;
}

/* Copies a file name for messages: control bytes become \n, \t or \xNN; UTF-8 is kept. */
static void set_name(img_ctx *ctx, const char *name)
{
    size_t cap = sizeof ctx->name, k = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char esc[8];
        if (*p == '\n') snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\t') snprintf(esc, sizeof esc, "\\t");
        else if (*p == '\\') snprintf(esc, sizeof esc, "\\\\");
        else if (*p < 0x20 || *p == 0x7F) snprintf(esc, sizeof esc, "\\x%02x", *p);
        else { esc[0] = (char)*p; esc[1] = 0; }
        size_t n = strlen(esc);
        if (k + n + 4 >= cap) { memcpy(ctx->name + k, "...", 4); return; }
        memcpy(ctx->name + k, esc, n);
        k += n;
    }
    ctx->name[k] = 0;
}

static unsharp_status init_ctx(img_ctx *ctx, const char *name, const unsharp_image_options *options)
{
    unsharp_status st = UNSHARP_OK;
    ctx->msg[0] = 0;
    ctx->errbuf = ctx->msg;
    ctx->file = NULL;
    set_name(ctx, name);
    memset(&ctx->opt, 0, sizeof ctx->opt);
    ctx->opt.format = UNSHARP_PIXEL_RGB8;
    if (options) ctx->opt = *options;
    if (ctx->opt.max_pixels == 0) ctx->opt.max_pixels = UNSHARP_IMAGE_DEFAULT_MAX_PIXELS;
    if ((int)ctx->opt.format < UNSHARP_PIXEL_LUMA8 || (int)ctx->opt.format > UNSHARP_PIXEL_RGBF)
        IMG_FAIL(UNSHARP_ERR_INVALID, "unknown pixel format %d", (int)ctx->opt.format);
    if (ctx->opt.long_side < 0) IMG_FAIL(UNSHARP_ERR_INVALID, "negative long_side %d", ctx->opt.long_side);
bailout:
    return st;
}

/* JPEG: the EXIF block first (orientation, thumbnail), then the pixels. */
static unsharp_status decode_jpeg(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                  unsharp_image *img, img_buf *b)
{
    unsharp_status st = UNSHARP_OK;
    unsigned char *thumb = NULL;
    size_t thumb_size = 0;
    jpeg_markers mk;
    unsharp__jpeg_scan(data, size, &mk);
    CHECK(unsharp__jpeg_check_size(ctx, &mk));
    int orientation = 1;
    if (mk.exif)
        CHECK(unsharp__exif_read(ctx, mk.exif, mk.exif_size, &orientation,
                                 ctx->opt.thumbnail ? &thumb : NULL, &thumb_size));
    img->orientation = orientation;
    /* The thumbnail is stored the way the photo is, so the photo's orientation applies to it. */
    if (ctx->opt.thumbnail && thumb) {
        int tw = 0, th = 0;
        if (unsharp__jpeg_dims(thumb, thumb_size, &tw, &th) == 0 && (tw > th ? tw : th) >= ctx->opt.long_side &&
            !unsharp__img_too_large(ctx, (uint64_t)tw, (uint64_t)th)) {
            /* A damaged thumbnail is not the photo's fault: fall back to the 1/8 decode, and
             * leave no message behind. */
            img_ctx quiet = *ctx;
            char scratch[PHOTO_MSG_MAX];
            quiet.errbuf = scratch;
            int sw, sh;
            unsharp_status ts = unsharp__jpeg_decode(&quiet, thumb, thumb_size, channels, 0, b, &sw, &sh);
            if (ts == UNSHARP_ERR_NOMEM) IMG_FAIL(ts, "out of memory for the EXIF thumbnail");
            if (ts == UNSHARP_OK) {
                int dw = 0, dh = 0;
                if (unsharp__jpeg_dims(data, size, &dw, &dh) != 0)
                    IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt JPEG header");
                img->stored_width = dw;
                img->stored_height = dh;
                img->from_exif_thumbnail = 1;
                goto bailout;
            }
        }
    }
    CHECK(unsharp__jpeg_decode(ctx, data, size, channels,
                               ctx->opt.thumbnail ? JPEG_SCALE_EIGHTH : ctx->opt.long_side, b,
                               &img->stored_width, &img->stored_height));
bailout:
    free(thumb);
    return st;
}

/* Everything after the bytes are in memory. */
static unsharp_status decode_buffer(const img_ctx *ctx, const unsigned char *data, size_t size, unsharp_image **out)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_image *img = NULL;
    img_buf b = {NULL, 0, 0, 0};
    const unsharp_pixel_format fmt = ctx->opt.format;
    const int channels = (fmt == UNSHARP_PIXEL_LUMA8 || fmt == UNSHARP_PIXEL_LUMAF) ? 1 : 3;

    img = calloc(1, sizeof *img);
    if (!img) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    img->orientation = 1;
    const char *what = NULL;
    int is_raw = 0;
    const img_kind kind = unsharp__img_sniff(data, size, &what);
    switch (kind) {
    case IMG_KIND_JPEG:
        img->type = UNSHARP_IMAGE_JPEG;
        CHECK(decode_jpeg(ctx, data, size, channels, img, &b));
        break;
    case IMG_KIND_PNG:
        img->type = UNSHARP_IMAGE_PNG;
        CHECK(unsharp__png_decode(ctx, data, size, channels, &b));
        img->stored_width = b.w;
        img->stored_height = b.h;
        break;
    case IMG_KIND_HEIF:
    case IMG_KIND_AVIF:
        img->type = kind == IMG_KIND_AVIF ? UNSHARP_IMAGE_AVIF : UNSHARP_IMAGE_HEIF;
        CHECK(unsharp__heif_decode(ctx, data, size, channels, img, &b));
        break;
    case IMG_KIND_WEBP:
        CHECK(unsharp__webp_decode(ctx, data, size, channels, img, &b));
        break;
    case IMG_KIND_TIFF_RAW:
        CHECK(unsharp__raw_decode(ctx, data, size, channels, img, &b, &is_raw));
        if (!is_raw) {
            CHECK(unsharp__img_fill_hole(ctx)); /* libtiff reads it all */
            CHECK(unsharp__tiff_decode(ctx, data, size, channels, img, &b));
        }
        break;
    case IMG_KIND_TIFF:
        CHECK(unsharp__tiff_decode(ctx, data, size, channels, img, &b));
        break;
    case IMG_KIND_RAW:
        CHECK(unsharp__raw_decode(ctx, data, size, channels, img, &b, NULL));
        break;
    case IMG_KIND_UNSUPPORTED:
        IMG_FAIL(UNSHARP_ERR_FORMAT, "%s is not supported", what);
    case IMG_KIND_UNKNOWN:
    default:
        CHECK(unsharp__img_fail_unknown(ctx, data, size));
    }
    /* Thumbnail mode takes the JPEG decode as it comes; the other formats have no cheap small
     * decode (a RAW's preview is DCT-scaled already), so they are resampled like a normal load. */
    if (ctx->opt.long_side > 0 && !(ctx->opt.thumbnail && img->type == UNSHARP_IMAGE_JPEG))
        CHECK(unsharp__resample(ctx, &b, ctx->opt.long_side));
    if (!ctx->opt.keep_orientation) CHECK(unsharp__orient(ctx, &b, img->orientation));

    img->width = b.w;
    img->height = b.h;
    img->channels = b.c;
    img->format = fmt;
    if (fmt == UNSHARP_PIXEL_LUMAF || fmt == UNSHARP_PIXEL_RGBF) {
        size_t n = (size_t)b.w * (size_t)b.h * (size_t)b.c;
        float *f = malloc(n * sizeof *f);
        if (!f) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu floats", n);
        for (size_t i = 0; i < n; i++) f[i] = (float)b.px[i] * (1.0f / 255.0f);
        img->pixels = f;
        img->stride = (size_t)b.w * (size_t)b.c * sizeof(float);
    } else {
        img->pixels = b.px;
        b.px = NULL;
        img->stride = (size_t)b.w * (size_t)b.c;
    }
    *out = img;
    img = NULL;
bailout:
    free(b.px);
    unsharp_image_free(img);
    return st;
}

/* The message of a failed load goes to the thread's slot (and a success clears it). */
static unsharp_status done(const img_ctx *ctx, unsharp_status st)
{
    if (st != UNSHARP_OK && ctx->msg[0]) unsharp_model_set_error(NULL, st, "%s", ctx->msg);
    return st;
}

unsharp_status unsharp_image_load(const char *path, const unsharp_image_options *options, unsharp_image **out)
{
    unsharp_status st = unsharp_model_set_error(NULL, UNSHARP_OK, NULL);
    const unsharp_model *errto = NULL;
    img_file file = {.fd = -1};
    img_ctx ctx_storage, *ctx = &ctx_storage;
    ctx->msg[0] = 0;
    if (!path || !out) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    *out = NULL;
    CHECK(init_ctx(ctx, path, options));
    CHECK(unsharp__img_read_file(ctx, path, &file));
    ctx->file = &file;
    CHECK(decode_buffer(ctx, file.data, file.size, out));
bailout:
    unsharp__img_file_free(&file);
    return done(ctx, st);
}

unsharp_status unsharp_image_load_memory(const void *data, size_t size, const unsharp_image_options *options,
                                         unsharp_image **out)
{
    unsharp_status st = unsharp_model_set_error(NULL, UNSHARP_OK, NULL);
    const unsharp_model *errto = NULL;
    img_ctx ctx_storage, *ctx = &ctx_storage;
    ctx->msg[0] = 0;
    if (!out || (!data && size)) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    *out = NULL;
    CHECK(init_ctx(ctx, "(memory)", options));
    if ((uint64_t)size > UNSHARP_IMAGE_MAX_FILE)
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "%zu bytes, over the %llu MiB limit", size,
                 (unsigned long long)(UNSHARP_IMAGE_MAX_FILE >> 20));
    CHECK(decode_buffer(ctx, data, size, out));
bailout:
    return done(ctx, st);
}

void unsharp_image_free(unsharp_image *img)
{
    if (!img) return;
    free(img->pixels);
    free(img);
}
