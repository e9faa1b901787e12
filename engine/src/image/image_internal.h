/* image_internal.h: what the image input files (image.c, jpeg.c, png.c, exif.c, orient.c,
 * resample.c) share: the decode context that carries the options and names the file in
 * messages, the 8-bit working buffer, and the helpers between the steps.
 *
 * Every step works on 8-bit pixels (1 or 3 channels, rows packed with no padding); the
 * conversion to float is the last step, in image.c. */
#ifndef UNSHARP_IMAGE_INTERNAL_H
#define UNSHARP_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "photo_layer.h"

/* Files above this size are refused before they are read. */
#define UNSHARP_IMAGE_MAX_FILE ((uint64_t)512 << 20)
/* Longest side any decoder is allowed to report, whatever max_pixels says. */
#define UNSHARP_IMAGE_MAX_SIDE (1 << 24)

/* A photo file in memory (read.c). A big TIFF-based RAW is read with a hole: the middle of
 * its largest strip of sensor data, not needed to open it or to decode its preview, is left
 * unread (zero pages of an anonymous mapping) until a decoder asks for it. */
typedef struct img_file {
    unsigned char *data;
    size_t size;                /* the file's bytes in data */
    size_t hole_off, hole_len;  /* [hole_off, hole_off + hole_len) not read yet; hole_len 0: none */
    int fd;                     /* the file, open while the hole is left; else -1 */
    size_t mapped;              /* the length of data's anonymous mapping; 0: data is malloc'ed */
} img_file;

typedef struct img_ctx {
    char name[320];             /* the file name, control characters escaped, or "(memory)" */
    img_file *file;             /* the file read, for a decoder to fill its hole; NULL from memory */
    char msg[PHOTO_MSG_MAX];    /* the message of a failure, "name: what", until the public call
                                   hands it to the thread's slot */
    char *errbuf;               /* where a message goes: msg, or a scratch buffer */
    unsharp_image_options opt;  /* normalised: max_pixels is never 0 */
} img_ctx;

/* An 8-bit image: w * h pixels of c channels, rows of w * c bytes. */
typedef struct img_buf {
    unsigned char *px;
    int w, h, c;
} img_buf;

/* Writes "name: message" to ctx->errbuf and returns st. */
unsharp_status unsharp__img_fail(const img_ctx *ctx, unsharp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* FAIL for image code: the message names the file. */
#define IMG_FAIL(code, ...)                                            \
    do {                                                               \
        st = unsharp__img_fail(ctx, (code), __VA_ARGS__);              \
        goto bailout;                                                  \
    } while (0)

/* 1 when w x h is more than the context allows (max_pixels, or a side over the cap). */
int unsharp__img_too_large(const img_ctx *ctx, uint64_t w, uint64_t h);

/* ---- format.c ---- */

typedef enum img_kind {
    IMG_KIND_UNKNOWN, IMG_KIND_JPEG, IMG_KIND_PNG, IMG_KIND_HEIF, IMG_KIND_AVIF, IMG_KIND_WEBP,
    IMG_KIND_TIFF,       /* a TIFF with no sign of a camera */
    IMG_KIND_TIFF_RAW,   /* a TIFF from a camera: a RAW (NEF, ARW, PEF, DNG) or a plain TIFF */
    IMG_KIND_RAW,        /* a RAW with a signature of its own (CR2, CR3, RAF, ORF, RW2) */
    IMG_KIND_UNSUPPORTED /* a format we know and do not read: *what names it */
} img_kind;

/* Recognises the format by the first bytes. */
img_kind unsharp__img_sniff(const unsigned char *data, size_t size, const char **what);
/* The largest single strip of sensor data a TIFF's IFDs point at (the chain from the header
 * and each IFD's SubIFDs; not an IFD of a reduced-resolution, RGB or YCbCr image: a preview),
 * found in the first n bytes: 1 with its offset and length, else 0. */
int unsharp__tiff_bulk(const unsigned char *data, size_t n, uint64_t *off, uint64_t *len);
/* 1 when an IFD of a TIFF or TIFF-like RAW (the same walk) has a 36-entry colour filter
 * pattern that LibRaw 0.20 would take for X-Trans without its 6 x 6 repeat (CFAPattern of 36
 * with no CFARepeatPatternDim of 6 x 6 before it, or Kodak's tag 64777 of 36): LibRaw then
 * crashes in parse_tiff_ifd (found by fuzz_raw). */
int unsharp__tiff_cfa_trap(const unsigned char *data, size_t n);

/* ---- read.c ---- */

/* Reads the regular file at path (at most UNSHARP_IMAGE_MAX_FILE bytes) into f, with a hole
 * in a big TIFF-based RAW's sensor data (img_file). */
unsharp_status unsharp__img_read_file(const img_ctx *ctx, const char *path, img_file *f);
/* Reads the hole in (a no-op when there is none or ctx has no file). UNSHARP_ERR_IO when the
 * file changed meanwhile. */
unsharp_status unsharp__img_fill_hole(const img_ctx *ctx);
void unsharp__img_file_free(img_file *f);
/* UNSHARP_ERR_FORMAT for content we do not know: what the name promised, and whether the
 * file holds text or which bytes it starts with. */
unsharp_status unsharp__img_fail_unknown(const img_ctx *ctx, const unsigned char *data, size_t size);

/* ---- jpeg.c ---- */

/* What a walk over the JPEG markers before the first scan finds. */
typedef struct jpeg_markers {
    int sof_width, sof_height;      /* from the first SOFn; 0 when none was seen */
    int adobe;                      /* an Adobe APP14 segment is present */
    const unsigned char *exif;      /* APP1 payload starting with "Exif\0\0", or NULL */
    size_t exif_size;
} jpeg_markers;

void unsharp__jpeg_scan(const unsigned char *data, size_t size, jpeg_markers *mk);
/* UNSHARP_ERR_TOO_LARGE, with the size and the limit, when the frame in mk is over the
 * pixel limit; else UNSHARP_OK. */
unsharp_status unsharp__jpeg_check_size(const img_ctx *ctx, const jpeg_markers *mk);

/* How to pick the DCT scale: 0 = full size, > 0 = the smallest scale whose long side is at
 * least this, JPEG_SCALE_EIGHTH = 1/8. */
#define JPEG_SCALE_EIGHTH (-1)

/* Decodes a JPEG to 1 (luma) or 3 (RGB) channels at the chosen DCT scale. stored_w/h get the
 * size in the header. */
unsharp_status unsharp__jpeg_decode(const img_ctx *ctx, const unsigned char *data, size_t size,
                                    int channels, int scale, img_buf *out, int *stored_w, int *stored_h);

/* The size in a JPEG header, without decoding; 0 on success, -1 when the header is bad. */
int unsharp__jpeg_dims(const unsigned char *data, size_t size, int *w, int *h);

/* ---- png.c ---- */

unsharp_status unsharp__png_decode(const img_ctx *ctx, const unsigned char *data, size_t size,
                                   int channels, img_buf *out);

/* One row of 8-bit gray, gray+alpha, RGB or RGBA (sc = 1..4 bytes a pixel) to 1 (luma,
 * BT.601 weights) or 3 channels; alpha is composited over white. */
void unsharp__convert_row(const unsigned char *src, int sc, int w, int channels, unsigned char *dst);

/* ---- heif.c, webp.c, tiff.c, raw.c ----
 * Each decodes the whole image to 1 (luma) or 3 (RGB) channels at its stored size (raw.c: at
 * the embedded preview's or LibRaw's half size), refusing an image over the pixel limit before
 * its pixels are allocated, and fills img's stored size, orientation and type. HEIF applies
 * its own rotation and mirroring while decoding (unless keep_orientation), so it reports
 * orientation 1; TIFF and RAW report theirs for orient.c. */
unsharp_status unsharp__heif_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out);
unsharp_status unsharp__webp_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out);
unsharp_status unsharp__tiff_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out);
/* For IMG_KIND_TIFF_RAW, *is_raw tells whether LibRaw knew the file as a RAW (0: it is not one,
 * nothing was reported, decode it as a TIFF); for IMG_KIND_RAW, is_raw is NULL and a file
 * LibRaw refuses fails. */
unsharp_status unsharp__raw_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                   unsharp_image *img, img_buf *out, int *is_raw);

/* ---- exif.c ---- */

/* Reads the EXIF block of an APP1 segment (starting "Exif\0\0"): the orientation (1..8; 1
 * when absent or invalid) and, when thumb is not NULL, a malloc'd copy of the embedded JPEG
 * thumbnail (NULL when there is none). Damaged EXIF data is not an error: it reads as none.
 * Returns UNSHARP_OK or UNSHARP_ERR_NOMEM. */
unsharp_status unsharp__exif_read(const img_ctx *ctx, const unsigned char *app1, size_t size,
                                  int *orientation, unsigned char **thumb, size_t *thumb_size);

/* ---- orient.c ---- */

/* Applies EXIF orientation 1..8 in place (the buffer is replaced when it must be). */
unsharp_status unsharp__orient(const img_ctx *ctx, img_buf *b, int orientation);

/* ---- resample.c ---- */

/* The output size for a long side: the aspect kept, the short side rounded, at least 1. */
void unsharp__resample_size(int w, int h, int long_side, int *ow, int *oh);

/* Area-averages the buffer down so that its long side is long_side; never upscales. */
unsharp_status unsharp__resample(const img_ctx *ctx, img_buf *b, int long_side);

#endif
