/* fuzz_tiff: unsharp_image_load_memory on TIFF (LibRaw's check, then the libtiff path) input.
 * The first byte picks the options (pixel format, long side, thumbnail, keep_orientation);
 * the rest is the file. Inputs without the format's signature are rejected so the corpus
 * stays on this path. max_pixels is 4 MP so huge headers are refused quickly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unsharp/unsharp.h>
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return -1;
    uint8_t sel = data[0];
    data++, size--;
    if (!(size >= 4 && (memcmp(data, "II*\0", 4) == 0 || memcmp(data, "MM\0*", 4) == 0))) return -1;
    unsharp_image_options o = fuzz_options(sel);
    fuzz_load_and_touch(data, size, &o);
    return 0;
}
