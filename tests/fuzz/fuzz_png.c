/* fuzz_png: unsharp_image_load_memory on PNG input (libpng path, resample, formats).
 * The first byte picks the options (pixel format, long side, thumbnail, keep_orientation);
 * the rest is the file. Inputs that do not start with the PNG signature are rejected so the
 * corpus stays on the PNG path (fuzz_jpeg covers JPEG). max_pixels is 4 MP so huge headers
 * are refused quickly instead of timing out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unsharp/unsharp.h>

static const int long_sides[16] = {0, 1, 2, 7, 8, 15, 16, 17, 33, 64, 100, 160, 257, 512, 1600, 4096};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 9) return -1;
    uint8_t sel = data[0];
    data++, size--;
    if (memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) return -1;
    unsharp_image_options o = {0};
    o.format = (unsharp_pixel_format)(sel & 3);
    o.thumbnail = (sel >> 2) & 1;
    o.keep_orientation = (sel >> 3) & 1;
    o.long_side = long_sides[sel >> 4];
    o.max_pixels = 4000000;
    unsharp_image *img = NULL;
    if (unsharp_image_load_memory(data, size, &o, &img) == UNSHARP_OK) {
        /* touch every pixel byte so ASan checks the buffer the loader says it made */
        size_t row = (size_t)img->width * (size_t)img->channels *
                     (img->format >= UNSHARP_PIXEL_LUMAF ? sizeof(float) : 1);
        volatile uint8_t acc = 0;
        for (int y = 0; y < img->height; y++)
            for (size_t x = 0; x < row; x++) acc ^= ((const uint8_t *)img->pixels)[(size_t)y * img->stride + x];
        (void)acc;
        unsharp_image_free(img);
    }
    return 0;
}
