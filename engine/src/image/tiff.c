/* tiff.c: TIFF decoding through libtiff, from memory (the first image of the file). libtiff's
 * RGBA interface reads every common layout: 1 to 16 bits, gray, palette, RGB, CMYK, YCbCr,
 * strips or tiles, any compression libtiff was built with; 16-bit samples come out scaled to
 * 8. Alpha (premultiplied by then) is composited over white. The Orientation tag (the same
 * eight values as EXIF) is not applied by libtiff: the pixels come out as stored and
 * orient.c turns them. Errors and warnings go to handlers on this file's handle (never to
 * stderr); the first error's text is kept for the message. Width and length are checked
 * against the pixel limit before the pixels are allocated, and libtiff's own allocations are
 * capped. Floating-point and other layouts the RGBA interface lacks are refused by name. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include "image_internal.h"

/* The most libtiff may allocate at once for itself (strip and tile buffers, tables). */
#define TIFF_MAX_ALLOC ((tmsize_t)256 << 20)

typedef struct tiff_io {
    const unsigned char *data;
    size_t size, pos;
    char msg[200];
} tiff_io;

static int on_message(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)module;
    tiff_io *io = user;
    if (io && !io->msg[0]) vsnprintf(io->msg, sizeof io->msg, fmt, ap);
    return 1; /* handled: the global handler, which prints, is not called */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
    return 1;
}

static tmsize_t on_read(thandle_t h, void *buf, tmsize_t n)
{
    tiff_io *io = h;
    if (n < 0) return -1;
    size_t left = io->size - io->pos, k = (size_t)n < left ? (size_t)n : left;
    memcpy(buf, io->data + io->pos, k);
    io->pos += k;
    return (tmsize_t)k;
}

static tmsize_t on_write(thandle_t h, void *buf, tmsize_t n)
{
    (void)h; (void)buf; (void)n;
    return -1;
}

static toff_t on_seek(thandle_t h, toff_t off, int whence)
{
    tiff_io *io = h;
    uint64_t base = whence == SEEK_CUR ? io->pos : whence == SEEK_END ? io->size : 0;
    if (off > UINT64_MAX - base || base + off > io->size) return (toff_t)-1;
    io->pos = (size_t)(base + off);
    return io->pos;
}

static int on_close(thandle_t h) { (void)h; return 0; }

static toff_t on_size(thandle_t h) { return ((tiff_io *)h)->size; }

static int on_map(thandle_t h, void **base, toff_t *size)
{
    tiff_io *io = h;
    *base = (void *)io->data;
    *size = io->size;
    return 1;
}

static void on_unmap(thandle_t h, void *base, toff_t size) { (void)h; (void)base; (void)size; }

unsharp_status unsharp__tiff_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out)
{
    unsharp_status st = UNSHARP_OK;
    TIFFOpenOptions *topt = NULL;
    TIFF *tif = NULL;
    uint32_t *raster = NULL;
    unsigned char *px = NULL;
    int begun = 0;
    TIFFRGBAImage ri;
    char emsg[1024] = "";
    tiff_io io = {data, size, 0, ""};

    topt = TIFFOpenOptionsAlloc();
    if (!topt) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the TIFF decoder");
    TIFFOpenOptionsSetMaxSingleMemAlloc(topt, TIFF_MAX_ALLOC);
    TIFFOpenOptionsSetErrorHandlerExtR(topt, on_message, &io);
    TIFFOpenOptionsSetWarningHandlerExtR(topt, on_warning, &io);
    tif = TIFFClientOpenExt("TIFF", "rm", &io, on_read, on_write, on_seek, on_close, on_size, on_map, on_unmap, topt);
    if (!tif) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt TIFF header (%s)", io.msg[0] ? io.msg : "unreadable");
    uint32_t w = 0, h = 0;
    uint16_t orientation = ORIENTATION_TOPLEFT;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0)
        IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt TIFF header: size %ux%u", (unsigned)w, (unsigned)h);
    if (unsharp__img_too_large(ctx, w, h))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %ux%u (%llu pixels), over the limit of %llu pixels", (unsigned)w,
                 (unsigned)h, (unsigned long long)w * h, (unsigned long long)ctx->opt.max_pixels);
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    if (!TIFFRGBAImageOK(tif, emsg)) IMG_FAIL(UNSHARP_ERR_FORMAT, "this kind of TIFF is not supported (%s)", emsg);
    if (!TIFFRGBAImageBegin(&ri, tif, 1, emsg))
        IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt TIFF file (%s)", emsg[0] ? emsg : io.msg);
    begun = 1;
    /* Rows as stored, top first: orient.c applies the Orientation tag afterwards. */
    ri.orientation = ORIENTATION_TOPLEFT;
    ri.req_orientation = ORIENTATION_TOPLEFT;
    raster = malloc((size_t)w * h * sizeof *raster);
    if (!raster) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
    if (!TIFFRGBAImageGet(&ri, raster, w, h))
        IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt TIFF data (%s)", io.msg[0] ? io.msg : "unreadable");
    px = malloc((size_t)w * h * (size_t)channels);
    if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
    for (size_t i = 0, n = (size_t)w * h; i < n; i++) {
        uint32_t p = raster[i];
        int a = 255 - (int)TIFFGetA(p); /* premultiplied: over white adds the uncovered part */
        int r = (int)TIFFGetR(p) + a, g = (int)TIFFGetG(p) + a, b = (int)TIFFGetB(p) + a;
        r = r > 255 ? 255 : r;
        g = g > 255 ? 255 : g;
        b = b > 255 ? 255 : b;
        if (channels == 1) {
            px[i] = (unsigned char)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
        } else {
            px[3 * i] = (unsigned char)r;
            px[3 * i + 1] = (unsigned char)g;
            px[3 * i + 2] = (unsigned char)b;
        }
    }
    img->type = UNSHARP_IMAGE_TIFF;
    img->stored_width = (int)w;
    img->stored_height = (int)h;
    img->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
    out->px = px;
    out->w = (int)w;
    out->h = (int)h;
    out->c = channels;
    px = NULL;
bailout:
    if (begun) TIFFRGBAImageEnd(&ri);
    if (tif) TIFFClose(tif);
    if (topt) TIFFOpenOptionsFree(topt);
    free(raster);
    free(px);
    return st;
}
