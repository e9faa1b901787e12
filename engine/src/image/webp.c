/* webp.c: WebP decoding through libwebp, from memory: lossy and lossless, with or without
 * alpha (composited over white, as for PNG). The size comes from WebPGetFeatures and is
 * checked against the pixel limit before the pixels are allocated. An animated WebP is not a
 * photo we judge: it is refused by name. An EXIF orientation in a WebP is ignored, as
 * browsers do. libwebp never prints. */
#include <stdlib.h>
#include <webp/decode.h>
#include "image_internal.h"

static const char *status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt data";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "a feature this decoder does not have";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "the file ends early";
    default: return "decoding failed";
    }
}

unsharp_status unsharp__webp_decode(const img_ctx *ctx, const unsigned char *data, size_t size, int channels,
                                    unsharp_image *img, img_buf *out)
{
    unsharp_status st = UNSHARP_OK;
    unsigned char *rgba = NULL, *px = NULL;
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(data, size, &f);
    if (s != VP8_STATUS_OK) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt WebP header (%s)", status_text(s));
    if (f.has_animation) IMG_FAIL(UNSHARP_ERR_FORMAT, "animated WebP is not supported");
    if (f.width <= 0 || f.height <= 0) IMG_FAIL(UNSHARP_ERR_DECODE, "corrupt WebP header: size %dx%d", f.width, f.height);
    if (unsharp__img_too_large(ctx, (uint64_t)f.width, (uint64_t)f.height))
        IMG_FAIL(UNSHARP_ERR_TOO_LARGE, "image is %dx%d (%llu pixels), over the limit of %llu pixels", f.width,
                 f.height, (unsigned long long)f.width * (unsigned long long)f.height,
                 (unsigned long long)ctx->opt.max_pixels);
    const int sc = f.has_alpha ? 4 : 3;
    const size_t w = (size_t)f.width, h = (size_t)f.height;
    rgba = malloc(w * h * (size_t)sc);
    if (!rgba) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zux%zu pixels", w, h);
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) IMG_FAIL(UNSHARP_ERR_DECODE, "libwebp version mismatch");
    cfg.output.colorspace = f.has_alpha ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = rgba;
    cfg.output.u.RGBA.stride = (int)(w * (size_t)sc);
    cfg.output.u.RGBA.size = w * h * (size_t)sc;
    s = WebPDecode(data, size, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (s != VP8_STATUS_OK) IMG_FAIL(UNSHARP_ERR_DECODE, "truncated or corrupt WebP data (%s)", status_text(s));
    if (sc == channels) {
        px = rgba;
        rgba = NULL;
    } else {
        px = malloc(w * h * (size_t)channels);
        if (!px) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zux%zu pixels", w, h);
        for (size_t y = 0; y < h; y++)
            unsharp__convert_row(rgba + y * w * (size_t)sc, sc, (int)w, channels, px + y * w * (size_t)channels);
    }
    img->type = UNSHARP_IMAGE_WEBP;
    img->stored_width = f.width;
    img->stored_height = f.height;
    out->px = px;
    out->w = f.width;
    out->h = f.height;
    out->c = channels;
    px = NULL;
bailout:
    free(rgba);
    free(px);
    return st;
}
