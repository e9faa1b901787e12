/* heif.c: HEIF (HEIC from phones) and AVIF decoding through libheif, from memory. The primary
 * image is decoded to 8-bit interleaved RGB (RGBA when it has alpha, composited over white);
 * HDR (10/12-bit) images are converted to 8 bits by libheif. The size of the primary image,
 * after its rotation, is checked against the pixel limit before anything is decoded. libheif
 * applies the file's rotation, mirroring and crop while decoding, as the HEIF specification
 * asks (an EXIF orientation inside is informative only), so the image reports orientation 1;
 * keep_orientation decodes without them. AV1 goes to libaom rather than dav1d when both are
 * there: dav1d writes to stderr on damaged data, and the library must never print. Each
 * decode holds its own reference on libheif (heif_init / heif_deinit are counted). */
#include <libheif/heif.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"

/* 1 when libheif has the decoder of that id. */
static int has_decoder(const char *id)
{
    const struct heif_decoder_descriptor *d[16];
    int n = heif_get_decoder_descriptors(heif_compression_undefined, d, 16);
    for (int i = 0; i < n; i++)
        if (strcmp(heif_decoder_descriptor_get_id_name(d[i]), id) == 0) return 1;
    return 0;
}

unsharp_status unsharp__heif_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out)
{
    unsharp_status st = UNSHARP_OK;
    const int avif = img->type == UNSHARP_IMAGE_AVIF;
    const char *fmt = avif ? "AVIF" : "HEIF";
    struct heif_context *hc = NULL;
    struct heif_image_handle *handle = NULL;
    struct heif_decoding_options *dopt = NULL;
    struct heif_image *im = NULL;
    unsigned char *px = NULL;
    int started = 0;
    struct heif_error err = heif_init(NULL);
    if (err.code != heif_error_Ok) IMG_FAIL(UNSHARP_ERR_DECODE, "cannot start the %s decoder (%s)", fmt, err.message);
    started = 1;
    if (!heif_have_decoder_for_format(avif ? heif_compression_AV1 : heif_compression_HEVC))
        IMG_FAIL(UNSHARP_ERR_UNSUPPORTED, "%s is not supported by this libheif (it has no %s decoder)", fmt,
                 avif ? "AV1" : "HEVC");
    hc = heif_context_alloc();
    if (!hc) IMG_FAIL(UNSHARP_ERR_NOMEM, "cannot start the %s decoder", fmt);
    /* our own check of the declared size, below, says what is too large */
    heif_context_set_maximum_image_size_limit(hc, UNSHARP_IMAGE_MAX_SIDE);
    err = heif_context_read_from_memory_without_copy(hc, data, size, NULL);
    if (err.code != heif_error_Ok) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt %s file (%s)", fmt, err.message);
    err = heif_context_get_primary_image_handle(hc, &handle);
    if (err.code != heif_error_Ok) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt %s file: no primary image (%s)", fmt, err.message);
    const int w = heif_image_handle_get_width(handle), h = heif_image_handle_get_height(handle);
    if (w <= 0 || h <= 0) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt %s header: size %dx%d", fmt, w, h);
    if (unsharp__img_too_large(ctx, (uint64_t)w, (uint64_t)h))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %dx%d (%llu pixels), over the limit of %llu pixels", w, h,
                 (unsigned long long)w * (unsigned long long)h, (unsigned long long)ctx->opt.max_pixels);
    /* A grid image is assembled at the size its grid box gives, which need not be the size
     * checked above: libheif's own limit, on each side, refuses a grid or tile larger than the
     * declared long side. Capped at sqrt(4 * max_pixels), so a lying file costs at most four
     * times the pixel limit. */
    const double cap = sqrt(4.0 * (double)ctx->opt.max_pixels);
    const int side_limit = (double)(w > h ? w : h) < cap ? (w > h ? w : h) : (int)cap;
    heif_context_set_maximum_image_size_limit(hc, side_limit > 0 ? side_limit : 1);
    const int alpha = heif_image_handle_has_alpha_channel(handle);
    dopt = heif_decoding_options_alloc();
    if (!dopt) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the %s decoder", fmt);
    dopt->ignore_transformations = ctx->opt.keep_orientation ? 1 : 0;
    dopt->convert_hdr_to_8bit = 1;
    if (avif && has_decoder("aom")) dopt->decoder_id = "aom"; /* dav1d would print on bad input */
    err = heif_decode_image(handle, &im, heif_colorspace_RGB,
                            alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, dopt);
    if (err.subcode == heif_suberror_Security_limit_exceeded)
        IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt %s file: an image inside is larger than declared (%s)", fmt, err.message);
    if (err.code == heif_error_Memory_allocation_error) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory decoding %s", fmt);
    if (err.code != heif_error_Ok) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt %s data (%s)", fmt, err.message);
    int stride = 0;
    const uint8_t *plane = heif_image_get_plane_readonly(im, heif_channel_interleaved, &stride);
    const int dw = heif_image_get_width(im, heif_channel_interleaved);
    const int dh = heif_image_get_height(im, heif_channel_interleaved);
    const int sc = alpha ? 4 : 3;
    if (!plane || dw <= 0 || dh <= 0 || unsharp__img_too_large(ctx, (uint64_t)dw, (uint64_t)dh) || stride < dw * sc ||
        heif_image_get_bits_per_pixel_range(im, heif_channel_interleaved) != 8)
        IMG_FAIL(UNSHARP_ERR_DECODE, "unexpected %s layout after decoding (%dx%d)", fmt, dw, dh);
    px = malloc((size_t)dw * (size_t)dh * (size_t)channels);
    if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %dx%d pixels", dw, dh);
    for (int y = 0; y < dh; y++)
        unsharp__convert_row(plane + (size_t)y * (size_t)stride, sc, dw, channels,
                             px + (size_t)y * (size_t)dw * (size_t)channels);
    img->stored_width = w;
    img->stored_height = h;
    img->orientation = 1;
    out->px = px;
    out->w = dw;
    out->h = dh;
    out->c = channels;
    px = NULL;
bailout:
    free(px);
    if (im) heif_image_release(im);
    if (dopt) heif_decoding_options_free(dopt);
    if (handle) heif_image_handle_release(handle);
    if (hc) heif_context_free(hc);
    if (started) heif_deinit();
    return st;
}
