/* photos.h: the training photos: found in folders, decoded once to luma at the working size
 * and kept in memory as 8-bit planes (about 2.5 MB a photo at 1600x1067). */
#ifndef UNSHARP_TRAIN_PHOTOS_H
#define UNSHARP_TRAIN_PHOTOS_H
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

typedef struct train_photo {
    char *path;
    int w, h;
    uint8_t *luma; /* (h, w) */
    float texture_ref; /* its in-focus level (blur_photo_texture_ref, 32 px tiles); set by
                          unsharp-train only when --in-focus asks for it, else 0 */
} train_photo;

typedef struct train_photos {
    train_photo *items;
    int count;
    int failed;    /* files that could not be decoded, reported to err */
    int too_small; /* decoded, but smaller than the crop */
} train_photos;

/* Finds the photos under each path (files or folders, recursive, sorted by path so
 * runs repeat), decodes each at long side `long_side`, keeps those at least `min_side` in both
 * dimensions. Files that fail are reported to err, one line each, and skipped.
 * Returns 0, or -1 when nothing usable was found (with a message on err). */
int train_photos_load(char *const *paths, int npaths, int long_side, int min_side, FILE *err, train_photos *out);
void train_photos_free(train_photos *p);

/* All files under the paths with photo names (unsharp_photo_listed in libunsharp-files: JPEG,
 * PNG, HEIF, WebP, TIFF and RAW extensions, any case; a RAW beside its JPEG is left out), and
 * every file named directly, sorted. Caller frees each string and the array. */
int train_list_photos(char *const *paths, int npaths, char ***out, int *count);

/* A flag (a signal handler's) that stops folder walks early when it becomes nonzero. */
void train_photos_set_stop(const volatile sig_atomic_t *stop);

#endif
