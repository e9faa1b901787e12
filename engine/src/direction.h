/* direction.h: the weakest-direction check of the judge (direction.c, docs/model.md "Score"). */
#ifndef UNSHARP_DIRECTION_H
#define UNSHARP_DIRECTION_H

#include <stddef.h>
#include "simd.h"

/* The busiest passes over the pixels have hand-written AVX2 versions (integer sums, and
 * doubles with no FMA: the same bits as the plain ones), run when USE_AVX2() (simd.h). */
#ifdef UNSHARP_X86_AVX2
/* One row of 8-bit luma, 16 px from p, as int16 (in functions built with target("avx2")). */
#define ROW16(p) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#endif

/* The side of the square tiles the check reads, in working-size pixels. */
#define UNSHARP_DIR_TILE 16
/* How many directions it measures, evenly spread over 180 degrees. */
#define UNSHARP_DIR_ANGLES 16

/* The share of a photo's detail that runs along its weakest direction, 0..1 (direction.c
 * says how it is measured). 1 when fewer than four tiles have detail. From 8-bit luma
 * (px, stride in bytes) or from float luma in 0..1 (w floats a row); texture_min is the mean
 * |Laplacian| (0..1 scale) a tile needs to have detail. Allocates nothing.
 * @return the share. */
float unsharp__weakest_direction_u8(const unsigned char *px, size_t stride, int w, int h, float texture_min);
float unsharp__weakest_direction_f(const float *luma, int w, int h, float texture_min);

#endif
