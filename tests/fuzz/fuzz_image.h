/* fuzz_image.h: what the image fuzz targets share: decoding with the given options and
 * touching every pixel byte, so ASan checks the buffer the loader says it made. Image
 * targets set max_pixels to 4 MP so huge headers are refused quickly instead of timing out. */
#ifndef UNSHARP_FUZZ_IMAGE_H
#define UNSHARP_FUZZ_IMAGE_H
#include <stddef.h>
#include <stdint.h>
#include <unsharp/unsharp.h>

#define FUZZ_MAX_PIXELS 4000000

static const int fuzz_long_sides[16] = {0, 1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 160, 257, 512, 1600, 4096};

static inline void fuzz_load_and_touch(const uint8_t *data, size_t size, const unsharp_image_options *o)
{
    unsharp_image *img = NULL;
    if (unsharp_image_load_memory(data, size, o, &img) != UNSHARP_OK) return;
    size_t row = (size_t)img->width * (size_t)img->channels * (img->format >= UNSHARP_PIXEL_LUMAF ? sizeof(float) : 1);
    volatile uint8_t acc = 0;
    for (int y = 0; y < img->height; y++)
        for (size_t x = 0; x < row; x++) acc ^= ((const uint8_t *)img->pixels)[(size_t)y * img->stride + x];
    (void)acc;
    unsharp_image_free(img);
}

/* Options from one byte: format (2 bits), thumbnail, keep_orientation, long side (4 bits). */
static inline unsharp_image_options fuzz_options(uint8_t sel)
{
    unsharp_image_options o = {0};
    o.format = (unsharp_pixel_format)(sel & 3);
    o.thumbnail = (sel >> 2) & 1;
    o.keep_orientation = (sel >> 3) & 1;
    o.long_side = fuzz_long_sides[sel >> 4];
    o.max_pixels = FUZZ_MAX_PIXELS;
    return o;
}
#endif
