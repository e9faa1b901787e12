/* labelled.h: real labelled photos for unsharp-train: which paths are plain sharp photos (sources
 * of synthetic samples) and which are a person's own keepers and rejects (--sharp, --blurry, a
 * folder with sharp/ and blurry/ inside, --from-marks), and the training sample of a real
 * blurred photo, taken as it is. */
#ifndef UNSHARP_TRAIN_LABELLED_H
#define UNSHARP_TRAIN_LABELLED_H
#include <stdio.h>
#include "blur.h"
#include "photos.h"

typedef struct path_list {
    char **v; /* each malloc'ed */
    int n;
} path_list;

void path_list_free(path_list *l);

/* Sorts the PHOTOS arguments: a folder with sharp/ and blurry/ folders inside gives FOLDER/sharp
 * to *sharp and FOLDER/blurry to *blurry, anything else goes to *plain; sharp_dir and blurry_dir
 * (when not NULL) are added, and with marks_dir the photos under it that a person marked keep or
 * reject (marks.h; what was found is reported on err). Returns 0, or -1 when out of memory. */
int labelled_collect(char *const *args, int nargs, const char *sharp_dir, const char *blurry_dir, const char *marks_dir,
                     FILE *err, path_list *plain, path_list *sharp, path_list *blurry);

/* A crop of a real blurred photo p (both sides at least crop) as it is, at a random place and in
 * one of 8 flips and turns: no synthetic blur. The photo's label is blurred (kind: BLUR_LABEL_*,
 * the kind the starting weights see in it), its sharpest part must look blurry (*peak 0), and
 * the tiles carry no target (weights 0: where in the photo the blur is, nobody said). A flat
 * crop (standard deviation under 0.02) weighs nothing. */
void labelled_blurry_sample(const train_photo *p, int kind, int crop, blur_rng *rng, float *x, float *tiles_w, int tiles,
                            float *label, float *label_w, float *peak);

#endif
