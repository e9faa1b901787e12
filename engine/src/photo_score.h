/* photo_score.h: the learned photo head, which turns a photo's focus map into its sharpness.
 *
 * The network rates each 32 x 32 tile. How those ratings make the photo's score is learned too,
 * not set by hand: a logistic model over a few statistics of the map that do not depend on the
 * photo's size (the sharpest tile, the sharpest 2 x 2 block, the means of the sharpest 1 %, 5 %,
 * 20 % and 50 % of the tiles with detail, the mean of all of them), the image head's sharp-
 * against-blurred logit, how much crisp detail the photo has along its weakest direction
 * (direction.c), the share of tiles with detail, and, for a network with a per-direction head
 * (an experiment), the least of its logits. A photo whose sharp subject covers one
 * tile in a hundred can score sharp when the statistics of its sharpest tiles say so; the
 * weights of the model say how much each statistic counts, and they are fitted on photos whose
 * sharp subject covers 1 % to 100 % of the frame (bench/photo_head.py, weights/MODEL_CARD.md).
 *
 * The coefficients live in the weights file's metadata, key "judge.photo_head": the version tag
 * "v1", the intercept, then one weight per feature below (or one fewer: a head from before
 * PHOTO_F_DIRS), separated by spaces. The fit's
 * calibration (one scale and one offset of the logit) is folded into them, so the score reads as
 * a probability. Weights without that key are judged by the older sharpest-tenth rule (judge.c). */
#ifndef UNSHARP_PHOTO_SCORE_H
#define UNSHARP_PHOTO_SCORE_H
#include <unsharp/unsharp.h>

enum {
    PHOTO_F_MAX,       /* the largest tile logit among tiles with detail */
    PHOTO_F_BLOCK,     /* the largest mean logit of a 2 x 2 block of tiles */
    PHOTO_F_TOP1,      /* mean logit of the sharpest 1 % of the tiles with detail (at least 1) */
    PHOTO_F_TOP5,      /* ... 5 % */
    PHOTO_F_TOP20,     /* ... 20 % */
    PHOTO_F_TOP50,     /* ... 50 % */
    PHOTO_F_MEAN,      /* mean logit of the tiles with detail */
    PHOTO_F_IMAGE,     /* image head: sharp logit - log(exp(defocus) + exp(motion)) */
    PHOTO_F_DIRECTION, /* log(weakest_direction + 0.02) */
    PHOTO_F_DETAIL,    /* log(share of tiles with detail + 0.01) */
    PHOTO_F_DIRS,      /* the least of the per-direction head's logits (layer "dirs", an
                          experiment: weights/experiments/context-dir.arch), 0 without one */
    PHOTO_NFEATURES
};
#define PHOTO_HEAD_KEY "judge.photo_head"
/* The layer whose channels are the per-direction logits; metadata "judge.dirs" names another. */
#define PHOTO_DIRS_LAYER "dirs"
#define PHOTO_LOGIT_CLAMP 12.0f

/* The features of one photo. logit: (th, tw) tile logits; detail: (th, tw) nonzero where a
 * tile has detail (if fewer than two have, every tile counts); image_logit: the image head's
 * three logits; share: weakest_direction; dirs: the per-direction logits (n_dirs of them; NULL
 * or 0 when the network has none). scratch holds tw * th floats. */
void unsharp__photo_features(const float *logit, const float *detail, int tw, int th, const float image_logit[3],
                             float share, const float *dirs, int n_dirs, float *scratch, float f[PHOTO_NFEATURES]);

/* Parses the metadata value into coef (intercept, then PHOTO_NFEATURES weights). A head
 * written before PHOTO_F_DIRS existed (one weight fewer) reads with that weight 0.
 * Returns 1 when it is a complete, finite "v1" head, else 0. */
int unsharp__photo_head_parse(const char *text, float coef[PHOTO_NFEATURES + 1]);

/* The head's probability that the photo is sharp. */
float unsharp__photo_head_score(const float coef[PHOTO_NFEATURES + 1], const float f[PHOTO_NFEATURES]);

/* Too little contrast to judge: a photo whose luma spans less than this (the 99th percentile
 * minus the 1st, 0..1) is never called blurry by the head; it is held at the band's lower line
 * (unsure). Fog, night and dark silhouettes are such photos; blur, which moves contrast between
 * neighbours but keeps the photo's range, rarely makes one. A hand-set rule, so it only moves a
 * photo toward unsure. Chosen on the training photos (weights/MODEL_CARD.md). */
#define PHOTO_LOW_CONTRAST 0.25f

/* The 99th minus the 1st percentile of a luma image (0..1), from every fourth row. */
float unsharp__luma_range_u8(const unsigned char *px, size_t stride, int w, int h);
float unsharp__luma_range_f(const float *px, size_t stride_floats, int w, int h);

/* unsharp_judge, also giving the photo's features (for fitting the head in bench/): features
 * may be NULL. */
unsharp_status unsharp__judge_features(unsharp_model *m, const unsharp_image *img, const unsharp_judge_options *options,
                                       unsharp_judgement *out, float features[PHOTO_NFEATURES]);

#endif
