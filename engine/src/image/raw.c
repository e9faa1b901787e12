/* raw.c: camera RAW files through LibRaw's C API (libraw_r: no shared state between handles),
 * from memory: CR2, CR3, NEF, ARW, RAF, ORF, RW2, PEF, DNG and the other files LibRaw knows.
 *
 * The embedded JPEG preview is what a camera shows and what most viewers judge: when its long
 * side is at least the working size asked for, it is decoded by jpeg.c at the DCT scale that
 * fits. Otherwise (a small preview, none at all, a damaged one, or long_side 0, the full
 * stored size) LibRaw's half-size decode is used: one RGB pixel from each 2x2 block of the
 * sensor, camera white balance, sRGB gamma, 8 bits. Either way the orientation is the RAW's
 * own (LibRaw's "flip", from the file's metadata), reported for orient.c; the preview and the
 * sensor data are both stored unturned.
 *
 * LibRaw is built without its printing callbacks (LIBRAW_OPIONS_NO_*_CALLBACK); its error
 * codes become messages. The sensor size is checked against the pixel limit before unpacking.
 * Files that name Hasselblad are kept from LibRaw 0.20 (see names_hasselblad), and so are
 * files with a 36-entry colour filter pattern it would misread (unsharp__tiff_cfa_trap).
 * A big RAW read from a file comes with its sensor data left unread (read.c): the preview
 * needs only the rest; the half-size decode reads it in and opens the file again.
 * A TIFF-like file that LibRaw does not know as a RAW (a plain TIFF) is handed back to tiff.c;
 * a truncated NEF, ARW or DNG may look like that to LibRaw too, and then reads as the TIFF
 * its first image is (often a small preview) or fails in tiff.c. */
#include <libraw/libraw.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"
#include "simd.h"

#define CFA_TRAP_MSG "damaged RAW file: its colour filter pattern has 36 entries without a 6x6 repeat (this LibRaw crashes on it)"

/* LibRaw's flip (bit 0: mirror left-right, bit 1: upside down, bit 2: transpose) as the EXIF
 * orientation it came from (LibRaw maps EXIF 1..8 to 0,1,3,2,4,6,7,5). */
static int flip_to_orientation(int flip)
{
    static const int o[8] = {1, 2, 4, 3, 5, 8, 6, 7};
    return flip >= 0 && flip < 8 ? o[flip] : 1;
}

/* LibRaw's error in plain words. */
static const char *why(int rc)
{
    if (rc == LIBRAW_IO_ERROR) return "the data ends early or is damaged";
    if (rc == LIBRAW_DATA_ERROR) return "damaged data";
    return libraw_strerror(rc);
}

/* Decodes the preview when it is a JPEG whose long side is at least long_side; *used says
 * whether it was. A preview said to be longer than the whole file (size bytes) is damaged and
 * never unpacked: LibRaw 0.20's unpack_thumb overflows its buffer on such a DNG (found by
 * fuzz_raw). */
static unsharp_status try_preview(const img_ctx *ctx, libraw_data_t *lr, size_t size, int channels, img_buf *out,
                                  int *used)
{
    unsharp_status st = UNSHARP_OK;
    *used = 0;
    const int long_side = ctx->opt.long_side;
    const libraw_thumbnail_t *t = &lr->thumbnail;
    if (long_side <= 0 || (t->twidth > t->theight ? t->twidth : t->theight) < long_side) return UNSHARP_OK;
    if (t->tlength == 0 || t->tlength > size) return UNSHARP_OK;
    if (libraw_unpack_thumb(lr) != LIBRAW_SUCCESS || t->tformat != LIBRAW_THUMBNAIL_JPEG || !t->thumb || !t->tlength)
        return UNSHARP_OK;
    const unsigned char *j = (const unsigned char *)t->thumb;
    int w = 0, h = 0;
    if (unsharp__jpeg_dims(j, t->tlength, &w, &h) != 0 || (w > h ? w : h) < long_side ||
        unsharp__img_too_large(ctx, (uint64_t)w, (uint64_t)h))
        return UNSHARP_OK;
    /* A damaged preview is not the photo's fault: the sensor data is used, no message kept. */
    img_ctx quiet = *ctx;
    char scratch[PHOTO_MSG_MAX];
    quiet.errbuf = scratch;
    int sw, sh;
    st = unsharp__jpeg_decode(&quiet, j, t->tlength, channels, long_side, out, &sw, &sh);
    if (st == UNSHARP_ERR_NOMEM) return unsharp__img_fail(ctx, st, "out of memory for the RAW preview");
    *used = st == UNSHARP_OK;
    return UNSHARP_OK;
}

/* LibRaw's half-size decode to 8-bit RGB, then to the output channels. */
static unsharp_status half_size(const img_ctx *ctx, libraw_data_t *lr, int channels, img_buf *out)
{
    unsharp_status st = UNSHARP_OK;
    libraw_processed_image_t *pi = NULL;
    unsigned char *px = NULL;
    lr->params.half_size = 1;
    lr->params.user_flip = 0; /* orient.c turns it */
    lr->params.output_bps = 8;
    lr->params.use_camera_wb = 1;
    int rc = libraw_unpack(lr);
    if (rc == LIBRAW_UNSUFFICIENT_MEMORY) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the RAW data");
    if (rc != LIBRAW_SUCCESS) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt RAW data (%s)", why(rc));
    rc = libraw_dcraw_process(lr);
    if (rc == LIBRAW_UNSUFFICIENT_MEMORY) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the RAW data");
    if (rc != LIBRAW_SUCCESS) IMG_FAIL(UNSHARP_ERR_DECODE, "cannot develop the RAW data (%s)", libraw_strerror(rc));
    pi = libraw_dcraw_make_mem_image(lr, &rc);
    if (!pi) IMG_FAIL(rc == LIBRAW_UNSUFFICIENT_MEMORY ? UNSHARP_ERR_NOMEM : UNSHARP_ERR_DECODE,
                      "cannot develop the RAW data (%s)", libraw_strerror(rc));
    const int w = pi->width, h = pi->height, sc = pi->colors;
    if (pi->type != LIBRAW_IMAGE_BITMAP || pi->bits != 8 || (sc != 1 && sc != 3) || w <= 0 || h <= 0 ||
        (size_t)pi->data_size < (size_t)w * (size_t)h * (size_t)sc || unsharp__img_too_large(ctx, (uint64_t)w, (uint64_t)h))
        IMG_FAIL(UNSHARP_ERR_DECODE, "unexpected RAW layout after developing (%dx%d, %d colours, %d bits)", w, h, sc,
                 pi->bits);
    px = malloc((size_t)w * (size_t)h * (size_t)channels);
    if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %dx%d pixels", w, h);
    for (int y = 0; y < h; y++)
        unsharp__convert_row(pi->data + (size_t)y * (size_t)w * (size_t)sc, sc, w, channels,
                             px + (size_t)y * (size_t)w * (size_t)channels);
    out->px = px;
    out->w = w;
    out->h = h;
    out->c = channels;
    px = NULL;
bailout:
    if (pi) libraw_dcraw_clear_mem(pi);
    free(px);
    return st;
}

/* 1 when w (lower case) is at d[at] in any case, within n bytes */
static int word_at(const unsigned char *d, size_t n, size_t at, const char *w, size_t len)
{
    if (at + len > n) return 0;
    for (size_t j = 0; j < len; j++)
        if ((d[at + j] | 32) != w[j]) return 0;
    return 1;
}

/* 1 when Hasselblad or Imacon starts at d[p - 5] or d[p - 1], the places where position p
 * and the next hold "lb" or "ma" */
static int hassy_at(const unsigned char *d, size_t n, size_t p)
{
    return (p >= 5 && word_at(d, n, p - 5, "hasselblad", 10)) || (p >= 1 && word_at(d, n, p - 1, "imacon", 6));
}

#define BYTES(c) (0x0101010101010101ull * (unsigned char)(c))

/* the high bit of each byte of v that is zero (and, rarely, of a byte above a zero one: those
 * are only candidates, checked exactly) */
static uint64_t zero_bytes(uint64_t v) { return (v - BYTES(1)) & ~v & BYTES(0x80); }

/* The scan below, 8 bytes at a time; from *i on, *i left where it stopped. */
static int hassy_scan_plain(const unsigned char *d, size_t n, size_t *i)
{
    for (; *i + 9 <= n; *i += 8) {
        uint64_t x, y;
        memcpy(&x, d + *i, 8);
        memcpy(&y, d + *i + 1, 8);
        x |= BYTES(32);
        y |= BYTES(32);
        uint64_t m = (zero_bytes(x ^ BYTES('l')) & zero_bytes(y ^ BYTES('b'))) |
                     (zero_bytes(x ^ BYTES('m')) & zero_bytes(y ^ BYTES('a')));
        if (m)
            for (size_t k = 0; k < 8; k++)
                if (hassy_at(d, n, *i + k)) return 1;
    }
    return 0;
}

#ifdef UNSHARP_X86_AVX2
/* The same, 32 bytes at a time */
__attribute__((target("avx2"))) static int hassy_scan_avx2(const unsigned char *d, size_t n, size_t *i)
{
    const __m256i c32 = _mm256_set1_epi8(32), l = _mm256_set1_epi8('l'), b = _mm256_set1_epi8('b');
    const __m256i m = _mm256_set1_epi8('m'), a = _mm256_set1_epi8('a');
    for (; *i + 33 <= n; *i += 32) {
        __m256i x = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(d + *i)), c32);
        __m256i y = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(const void *)(d + *i + 1)), c32);
        __m256i h = _mm256_or_si256(_mm256_and_si256(_mm256_cmpeq_epi8(x, l), _mm256_cmpeq_epi8(y, b)),
                                    _mm256_and_si256(_mm256_cmpeq_epi8(x, m), _mm256_cmpeq_epi8(y, a)));
        if (_mm256_movemask_epi8(h))
            for (size_t k = 0; k < 32; k++)
                if (hassy_at(d, n, *i + k)) return 1;
    }
    return 0;
}
#endif

/* 1 when the bytes name Hasselblad (or Imacon, its old name) anywhere, in any case. LibRaw
 * 0.20 (Debian 12) overflows a buffer in parseHassyModel() on a crafted Hasselblad model
 * name (found by fuzz_raw), and the make can sit in any IFD, so the whole file is searched.
 * A word is looked at only where a byte and the next are "lb" or "ma" (any case: bit 5 set
 * folds it), 32 bytes at a time with AVX2, else 8 (simd.h): about 0.5 ms for a 7 MB RAW.
 * Such files never reach LibRaw. */
static int names_hasselblad(const unsigned char *d, size_t n)
{
    size_t i = 0;
#ifdef UNSHARP_X86_AVX2
    if (USE_AVX2() && hassy_scan_avx2(d, n, &i)) return 1;
#endif
    if (hassy_scan_plain(d, n, &i)) return 1;
    for (; i + 1 < n; i++)
        if (hassy_at(d, n, i)) return 1;
    return 0;
}

/* names_hasselblad over what LibRaw will see of a file read with a hole (read.c): the bytes
 * before and after it (the hole's zeros name nothing) */
static int hassy_file(const img_ctx *ctx, const unsigned char *d, size_t n)
{
    const img_file *f = ctx->file;
    if (!f || !f->hole_len || f->data != d) return names_hasselblad(d, n);
    const size_t end = f->hole_off + f->hole_len;
    return names_hasselblad(d, f->hole_off) || (end < n && names_hasselblad(d + end, n - end));
}

/* The sensor data is needed and was left unread (read.c): reads it in, checks it with the
 * bytes around it, and opens the file again on all of it. */
static unsharp_status reopen_whole(const img_ctx *ctx, libraw_data_t *lr, const unsigned char *data, size_t size)
{
    unsharp_status st = UNSHARP_OK;
    const img_file *f = ctx->file;
    if (!f || !f->hole_len || f->data != data) return UNSHARP_OK;
    const size_t from = f->hole_off > 16 ? f->hole_off - 16 : 0;
    const size_t to = f->hole_off + f->hole_len + 16 < size ? f->hole_off + f->hole_len + 16 : size;
    CHECK(unsharp__img_fill_hole(ctx));
    if (names_hasselblad(data + from, to - from))
        IMG_FAIL(UNSHARP_ERR_FORMAT, "Hasselblad RAW files are not supported (this LibRaw is unsafe on them)");
    if (unsharp__tiff_cfa_trap(data, size)) IMG_FAIL(UNSHARP_ERR_FORMAT, CFA_TRAP_MSG);
    libraw_recycle(lr);
    int rc = libraw_open_buffer(lr, (void *)data, size);
    if (rc == LIBRAW_UNSUFFICIENT_MEMORY) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the RAW file");
    if (rc != LIBRAW_SUCCESS) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt RAW file (%s)", why(rc));
    const libraw_image_sizes_t *s = &lr->sizes;
    uint64_t rw = s->raw_width > s->width ? s->raw_width : s->width;
    uint64_t rh = s->raw_height > s->height ? s->raw_height : s->height;
    if (s->width == 0 || s->height == 0 || unsharp__img_too_large(ctx, rw, rh))
        IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt RAW header: its sensor size changed (%ux%u)", s->width, s->height);
bailout:
    return st;
}

unsharp_status unsharp__raw_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                   unsharp_image *img, img_buf *out, int *is_raw)
{
    unsharp_status st = UNSHARP_OK;
    libraw_data_t *lr = libraw_init(LIBRAW_OPIONS_NO_MEMERR_CALLBACK | LIBRAW_OPIONS_NO_DATAERR_CALLBACK);
    if (is_raw) *is_raw = 0;
    if (hassy_file(ctx, data, size)) {
        if (is_raw) goto bailout; /* read as the TIFF it also is, by libtiff */
        IMG_FAIL(UNSHARP_ERR_FORMAT, "Hasselblad RAW files are not supported (this LibRaw is unsafe on them)");
    }
    if (unsharp__tiff_cfa_trap(data, size)) {
        if (is_raw) goto bailout;
        IMG_FAIL(UNSHARP_ERR_FORMAT, CFA_TRAP_MSG);
    }
    if (!lr) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the RAW decoder");
    int rc = libraw_open_buffer(lr, (void *)data, size);
    if (rc == LIBRAW_FILE_UNSUPPORTED && is_raw) goto bailout; /* not a RAW: tiff.c reads it */
    if (rc == LIBRAW_FILE_UNSUPPORTED) IMG_FAIL(UNSHARP_ERR_FORMAT, "not a RAW file LibRaw can read (damaged, cut short, or from a camera it does not know)");
    if (rc == LIBRAW_UNSUFFICIENT_MEMORY) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the RAW file");
    if (is_raw) *is_raw = 1;
    if (rc != LIBRAW_SUCCESS) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt RAW file (%s)", why(rc));
    const libraw_image_sizes_t *s = &lr->sizes;
    if (s->width == 0 || s->height == 0) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt RAW header: size %ux%u", s->width, s->height);
    uint64_t rw = s->raw_width > s->width ? s->raw_width : s->width;
    uint64_t rh = s->raw_height > s->height ? s->raw_height : s->height;
    if (unsharp__img_too_large(ctx, rw, rh))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "sensor is %llux%llu (%llu pixels), over the limit of %llu pixels",
                 (unsigned long long)rw, (unsigned long long)rh, (unsigned long long)(rw * rh),
                 (unsigned long long)ctx->opt.max_pixels);
    img->type = UNSHARP_IMAGE_RAW;
    img->stored_width = s->width;
    img->stored_height = s->height;
    img->orientation = flip_to_orientation(s->flip);
    int used = 0;
    CHECK(try_preview(ctx, lr, size, channels, out, &used));
    img->from_raw_preview = used;
    if (!used) {
        CHECK(reopen_whole(ctx, lr, data, size));
        CHECK(half_size(ctx, lr, channels, out));
    }
bailout:
    if (lr) libraw_close(lr);
    return st;
}
