/* orient.c: applies the EXIF orientation so that pixels come out as the photo is meant to be
 * seen. Values (EXIF 2.3, tag 0x0112): 1 as stored, 2 mirror horizontal, 3 rotate 180,
 * 4 mirror vertical, 5 transpose (mirror horizontal then rotate 270 CW), 6 rotate 90 CW,
 * 7 transverse (mirror horizontal then rotate 90 CW), 8 rotate 270 CW. */
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"

unsharp_status unsharp__orient(const img_ctx *ctx, img_buf *b, int orientation)
{
    unsharp_status st = UNSHARP_OK;
    if (orientation < 2 || orientation > 8) return UNSHARP_OK;
    const int W = b->w, H = b->h, c = b->c;
    const int swap = orientation >= 5;
    const int ow = swap ? H : W, oh = swap ? W : H;
    unsigned char *dst = malloc((size_t)W * (size_t)H * (size_t)c);
    if (!dst) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory to orient %dx%d pixels", W, H);
    for (int y = 0; y < oh; y++) {
        unsigned char *row = dst + (size_t)y * (size_t)ow * (size_t)c;
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (orientation) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            default: sx = W - 1 - y; sy = x; break; /* 8 */
            }
            memcpy(row + (size_t)x * (size_t)c, b->px + ((size_t)sy * (size_t)W + (size_t)sx) * (size_t)c, (size_t)c);
        }
    }
    free(b->px);
    b->px = dst;
    b->w = ow;
    b->h = oh;
bailout:
    return st;
}
