/* fuzz_jpeg: unsharp_image_load_memory on JPEG input.
 * The first byte picks the options (pixel format, long side, thumbnail, keep_orientation);
 * the rest is the file. Inputs that do not start with a JPEG SOI marker are rejected so the
 * corpus stays on the JPEG path (fuzz_png covers PNG). max_pixels is 4 MP so huge headers
 * are refused quickly instead of timing out. */
#include <stddef.h>
#include <stdint.h>
#include <unsharp/unsharp.h>
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return -1;
    uint8_t sel = data[0];
    data++, size--;
    if (data[0] != 0xFF || data[1] != 0xD8) return -1;
    unsharp_image_options o = fuzz_options(sel);
    fuzz_load_and_touch(data, size, &o);
    return 0;
}
