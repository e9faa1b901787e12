/* png.c: PNG decoding through libpng, from memory.
 *
 * libpng reports through error and warning functions installed here: errors store their text
 * and longjmp back to png_decode (UNSHARP_ERR_DECODE); warnings are dropped. The library never
 * prints. The IHDR size is checked against max_pixels before any pixel memory exists, and
 * png_set_user_limits / chunk limits bound what libpng may allocate for itself. libpng's own
 * allocations also go through png_alloc, which refuses any single block over PNG_ALLOC_MAX: a
 * corrupt chunk length can make libpng ask for gigabytes before it reads the chunk, past the
 * chunk limit (seen with Debian 12's libpng 1.6.39); the pixel buffers are ours, not libpng's.
 *
 * Every PNG type comes out as 8-bit gray or RGB: palettes and low bit depths are expanded,
 * 16-bit samples are scaled to 8 bits (rounded), and alpha (or a tRNS colour) is composited
 * onto white, so that transparent areas read as flat white paper. Gamma and colour profile
 * chunks are ignored. Colour to luma uses the JPEG (BT.601) weights, as TurboJPEG does. */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"

/* The largest block libpng may allocate for itself: above the chunk limit below (64 MB); its
 * row buffers stay under it for rows up to 10 million pixels of 16-bit RGBA (wider PNGs are
 * refused with the message below), and zlib's state is small. */
#define PNG_ALLOC_MAX ((size_t)80 << 20)

typedef struct png_io {
    const unsigned char *data;
    size_t size, pos;
    size_t refused; /* the size of a block png_alloc refused, 0 when none */
    char msg[200];
} png_io;

static png_voidp png_alloc(png_structp png, png_alloc_size_t n)
{
    png_io *io = png_get_mem_ptr(png);
    if (n > PNG_ALLOC_MAX) {
        io->refused = n;
        return NULL;
    }
    return malloc(n);
}

static void png_dealloc(png_structp png, png_voidp p)
{
    (void)png;
    free(p);
}

static void on_error(png_structp png, png_const_charp msg)
{
    png_io *io = png_get_error_ptr(png);
    snprintf(io->msg, sizeof io->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void on_read(png_structp png, png_bytep dst, png_size_t n)
{
    png_io *io = png_get_io_ptr(png);
    if (n > io->size - io->pos) png_error(png, "the file ends early");
    memcpy(dst, io->data + io->pos, n);
    io->pos += n;
}

static unsigned be32(const unsigned char *p)
{
    return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | p[3];
}

static unsigned char over_white(int v, int a) { return (unsigned char)((v * a + 255 * (255 - a) + 127) / 255); }

static unsigned char luma(int r, int g, int b) { return (unsigned char)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16); }

void unsharp__convert_row(const unsigned char *src, int sc, int w, int channels, unsigned char *dst)
{
    for (int x = 0; x < w; x++) {
        const unsigned char *p = src + (size_t)x * (size_t)sc;
        int r, g, b;
        if (sc <= 2) r = g = b = p[0];
        else { r = p[0]; g = p[1]; b = p[2]; }
        if (sc == 2 || sc == 4) {
            int a = p[sc - 1];
            r = over_white(r, a);
            g = over_white(g, a);
            b = over_white(b, a);
        }
        if (channels == 1) {
            dst[x] = sc <= 2 ? (unsigned char)r : luma(r, g, b);
        } else {
            dst[3 * x] = (unsigned char)r;
            dst[3 * x + 1] = (unsigned char)g;
            dst[3 * x + 2] = (unsigned char)b;
        }
    }
}

unsharp_status unsharp__png_decode(const img_ctx *ctx, const unsigned char *data, size_t size,
                                   int channels, img_buf *out)
{
    volatile unsharp_status st = UNSHARP_OK; /* set after setjmp */
    png_structp png = NULL;
    png_infop info = NULL;
    /* Changed after setjmp and used after a longjmp: volatile. */
    unsigned char *volatile raw = NULL;
    unsigned char *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    png_io io;
    memset(&io, 0, sizeof io);
    io.data = data;
    io.size = size;

    /* The IHDR is always the first chunk: check its size before libpng allocates anything. */
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        unsigned w = be32(data + 16), h = be32(data + 20);
        if (unsharp__img_too_large(ctx, w, h))
            IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %ux%u (%llu pixels), over the limit of %llu pixels", w, h,
                     (unsigned long long)w * h, (unsigned long long)ctx->opt.max_pixels);
    }
    png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning, &io, png_alloc, png_dealloc);
    if (!png) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the PNG decoder");
    info = png_create_info_struct(png);
    if (!info) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the PNG decoder");
    if (setjmp(png_jmpbuf(png))) {
        if (io.refused)
            IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt PNG data: it would need a block of %zu MB to decode, over the limit of %zu MB",
                     io.refused >> 20, PNG_ALLOC_MAX >> 20);
        IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt PNG data (%s)", io.msg);
    }

    png_set_user_limits(png, UNSHARP_IMAGE_MAX_SIDE, UNSHARP_IMAGE_MAX_SIDE);
    png_set_chunk_cache_max(png, 1000);
    png_set_chunk_malloc_max(png, 64u << 20);
    png_set_read_fn(png, &io, on_read);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, type = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &type, &interlace, NULL, NULL);
    if (w == 0 || h == 0) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt PNG header: size %ux%u", (unsigned)w, (unsigned)h);
    if (unsharp__img_too_large(ctx, w, h))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %ux%u (%llu pixels), over the limit of %llu pixels",
                 (unsigned)w, (unsigned)h, (unsigned long long)w * h, (unsigned long long)ctx->opt.max_pixels);

    png_set_expand(png); /* palette to RGB, gray below 8 bits to 8, tRNS to alpha */
    if (depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int sc = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (sc < 1 || sc > 4 || png_get_bit_depth(png, info) != 8 || rowbytes < (size_t)w * (size_t)sc)
        IMG_FAIL(UNSHARP_ERR_DECODE, "unexpected PNG layout after conversion (%d channels)", sc);

    px = malloc((size_t)w * h * (size_t)channels);
    if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
    if (interlace == PNG_INTERLACE_NONE) {
        /* row by row through one row buffer: the decoded size (up to 8 bytes a pixel for
         * RGBA16) never exists whole, only the converted output does */
        raw = malloc(rowbytes);
        if (!raw) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(png, raw, NULL);
            unsharp__convert_row(raw, sc, (int)w, channels, px + (size_t)y * w * (size_t)channels);
        }
    } else {
        /* Adam7 fills every row over seven passes: the whole image is needed at once */
        raw = malloc(rowbytes * h);
        rows = malloc(sizeof(png_bytep) * h);
        if (!raw || !rows) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + (size_t)y * rowbytes;
        png_read_image(png, rows);
        for (png_uint_32 y = 0; y < h; y++)
            unsharp__convert_row(rows[y], sc, (int)w, channels, px + (size_t)y * w * (size_t)channels);
    }
    out->px = px;
    out->w = (int)w;
    out->h = (int)h;
    out->c = channels;
    px = NULL;
bailout:
    if (png) png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(rows);
    free(raw);
    free(px);
    return st;
}
