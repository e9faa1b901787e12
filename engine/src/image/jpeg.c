/* jpeg.c: JPEG decoding through TurboJPEG (2.1 API).
 *
 * A walk over the markers finds the frame size, the EXIF APP1 and an Adobe APP14 before
 * TurboJPEG sees the file, so that an oversized frame is refused before anything is
 * allocated. The DCT scale is the smallest TurboJPEG factor (at most 1) whose long side is at
 * or above the one asked for. Warnings (a truncated file: "Premature end of JPEG file") stop
 * the decode and count as damage: UNSHARP_ERR_DECODE. Progressive files are limited to
 * TurboJPEG's scan limit (TJFLAG_LIMITSCANS) so that a crafted file cannot take forever.
 *
 * CMYK and YCCK files are decoded to TurboJPEG's CMYK format and converted here: with an Adobe
 * APP14 marker (Photoshop, and TurboJPEG itself, write one) the samples are taken as Adobe's
 * inverted CMYK, where 255 means no ink, so R = C * K / 255 (likewise G from M, B from Y);
 * without it they are plain ink amounts, R = (255 - C) * (255 - K) / 255. No colour
 * management: this is for judging sharpness, not for print proofs. */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include "image_internal.h"

/* libjpeg refuses larger frames (JPEG_MAX_DIMENSION). */
#define JPEG_MAX_SIDE 65500

static int be16(const unsigned char *p) { return (p[0] << 8) | p[1]; }

void unsharp__jpeg_scan(const unsigned char *data, size_t size, jpeg_markers *mk)
{
    memset(mk, 0, sizeof *mk);
    size_t pos = 2; /* after SOI */
    while (pos + 4 <= size) {
        if (data[pos] != 0xFF) return; /* not at a marker: leave the rest to TurboJPEG */
        while (pos < size && data[pos] == 0xFF) pos++; /* fill bytes */
        if (pos >= size) return;
        int m = data[pos++];
        if (m == 0xD9 || m == 0xDA) return; /* EOI, or the first scan: the header is over */
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; /* no length */
        if (pos + 2 > size) return;
        size_t len = (size_t)be16(data + pos);
        if (len < 2 || pos + len > size) return;
        const unsigned char *seg = data + pos + 2;
        size_t n = len - 2;
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (n >= 5 && mk->sof_width == 0 && mk->sof_height == 0) {
                mk->sof_height = be16(seg + 1);
                mk->sof_width = be16(seg + 3);
            }
        } else if (m == 0xE1 && !mk->exif && n >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) {
            mk->exif = seg;
            mk->exif_size = n;
        } else if (m == 0xEE && n >= 5 && memcmp(seg, "Adobe", 5) == 0) {
            mk->adobe = 1;
        }
        pos += len;
    }
}

int unsharp__jpeg_dims(const unsigned char *data, size_t size, int *w, int *h)
{
    tjhandle tj = tjInitDecompress();
    if (!tj) return -1;
    int ss = 0, cs = 0;
    int rc = tjDecompressHeader3(tj, data, (unsigned long)size, w, h, &ss, &cs);
    tjDestroy(tj);
    return rc == 0 && *w > 0 && *h > 0 ? 0 : -1;
}

/* The factor to decode with; see the top of the file. */
static tjscalingfactor pick_scale(int w, int h, int scale)
{
    tjscalingfactor best = {1, 1};
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    if (!sf || scale == 0) return best;
    int best_long = w > h ? w : h;
    for (int i = 0; i < n; i++) {
        if (sf[i].num > sf[i].denom) continue; /* never upscale */
        int sw = TJSCALED(w, sf[i]), sh = TJSCALED(h, sf[i]);
        int l = sw > sh ? sw : sh;
        if (scale == JPEG_SCALE_EIGHTH) {
            if (sf[i].num * 8 == sf[i].denom) return sf[i];
        } else if (l >= scale && l < best_long) {
            best = sf[i];
            best_long = l;
        }
    }
    return best;
}

static unsigned char inv_mul(int a, int b) { return (unsigned char)((a * b + 127) / 255); }

/* CMYK (4 bytes a pixel) to RGB or luma; see the top of the file for the formulas. */
static void cmyk_convert(const unsigned char *src, size_t npx, int adobe, int channels, unsigned char *dst)
{
    for (size_t i = 0; i < npx; i++) {
        const unsigned char *p = src + 4 * i;
        int c = p[0], m = p[1], y = p[2], k = p[3];
        if (!adobe) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        int r = inv_mul(c, k), g = inv_mul(m, k), b = inv_mul(y, k);
        if (channels == 3) {
            dst[3 * i] = (unsigned char)r;
            dst[3 * i + 1] = (unsigned char)g;
            dst[3 * i + 2] = (unsigned char)b;
        } else {
            dst[i] = (unsigned char)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
        }
    }
}

unsharp_status unsharp__jpeg_check_size(const img_ctx *ctx, const jpeg_markers *mk)
{
    unsharp_status st = UNSHARP_OK;
    if (mk->sof_width > 0 && mk->sof_height > 0 &&
        unsharp__img_too_large(ctx, (uint64_t)mk->sof_width, (uint64_t)mk->sof_height))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %dx%d (%llu pixels), over the limit of %llu pixels",
                 mk->sof_width, mk->sof_height, (unsigned long long)mk->sof_width * (unsigned long long)mk->sof_height,
                 (unsigned long long)ctx->opt.max_pixels);
bailout:
    return st;
}

unsharp_status unsharp__jpeg_decode(const img_ctx *ctx, const unsigned char *data, size_t size,
                                    int channels, int scale, img_buf *out, int *stored_w, int *stored_h)
{
    unsharp_status st = UNSHARP_OK;
    tjhandle tj = NULL;
    unsigned char *px = NULL, *cmyk = NULL;
    jpeg_markers mk;
    unsharp__jpeg_scan(data, size, &mk);
    CHECK(unsharp__jpeg_check_size(ctx, &mk));
    if (mk.sof_width > JPEG_MAX_SIDE || mk.sof_height > JPEG_MAX_SIDE)
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %dx%d, over the JPEG decoder's limit of %d pixels a side",
                 mk.sof_width, mk.sof_height, JPEG_MAX_SIDE);
    tj = tjInitDecompress();
    if (!tj) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the JPEG decoder");
    int w = 0, h = 0, subsamp = 0, cs = 0;
    if (tjDecompressHeader3(tj, data, (unsigned long)size, &w, &h, &subsamp, &cs) != 0)
        IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt JPEG header (%s)", tjGetErrorStr2(tj));
    if (w <= 0 || h <= 0) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt JPEG header: size %dx%d", w, h);
    if (unsharp__img_too_large(ctx, (uint64_t)w, (uint64_t)h))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %dx%d (%llu pixels), over the limit of %llu pixels", w, h,
                 (unsigned long long)w * (unsigned long long)h, (unsigned long long)ctx->opt.max_pixels);
    tjscalingfactor sf = pick_scale(w, h, scale);
    int sw = TJSCALED(w, sf), sh = TJSCALED(h, sf);
    size_t npx = (size_t)sw * (size_t)sh;
    px = malloc(npx * (size_t)channels);
    if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %dx%d pixels", sw, sh);
    const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
    int rc;
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        cmyk = malloc(npx * 4);
        if (!cmyk) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %dx%d CMYK pixels", sw, sh);
        rc = tjDecompress2(tj, data, (unsigned long)size, cmyk, sw, 0, sh, TJPF_CMYK, flags);
        if (rc == 0) cmyk_convert(cmyk, npx, mk.adobe, channels, px);
    } else {
        rc = tjDecompress2(tj, data, (unsigned long)size, px, sw, 0, sh, channels == 1 ? TJPF_GRAY : TJPF_RGB, flags);
    }
    if (rc != 0)
        IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt JPEG data (%s)", tjGetErrorStr2(tj));
    out->px = px;
    out->w = sw;
    out->h = sh;
    out->c = channels;
    *stored_w = w;
    *stored_h = h;
    px = NULL;
bailout:
    if (tj) tjDestroy(tj);
    free(px);
    free(cmyk);
    return st;
}
