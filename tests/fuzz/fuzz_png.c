/* fuzz_png: unsharp_image_load_memory on PNG input (libpng path, resample, formats).
 * The first byte picks the options (pixel format, long side, thumbnail, keep_orientation);
 * the rest is the file. Inputs that do not start with the PNG signature are rejected so the
 * corpus stays on the PNG path (fuzz_jpeg covers JPEG). max_pixels is 4 MP so huge headers
 * are refused quickly instead of timing out. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unsharp/unsharp.h>
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 9) return -1;
    uint8_t sel = data[0];
    data++, size--;
    if (memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) return -1;
    unsharp_image_options o = fuzz_options(sel);
    fuzz_load_and_touch(data, size, &o);
    return 0;
}
