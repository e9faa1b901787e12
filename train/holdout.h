/* holdout.h: what a fine-tune is checked on. A share of the user's own photos is held back from
 * training and judged twice, as it is (a keeper) and blurred synthetically (a blurred shot);
 * real labelled photos (--sharp, --blurry, --from-marks, --val) are judged as they are. Each set
 * is judged by the starting weights once and by the new weights every epoch, exactly as
 * unsharp-classify judges a photo, and the safety gate compares the two photo by photo. */
#ifndef UNSHARP_TRAIN_HOLDOUT_H
#define UNSHARP_TRAIN_HOLDOUT_H
#include <stdint.h>
#include <stdio.h>
#include "photos.h"
#include "unsharp/unsharp.h"

/* One judged photo: a keeper (sharp) or a blurred one, luma at the working size. */
typedef struct holdout_item {
    char *name;      /* the file's path (a synthetic copy: the same path) */
    int w, h, sharp; /* sharp: 1 keeper, 0 blurred */
    uint8_t *luma;
    int borrowed;    /* 1: luma belongs to the training photos, not to the set */
} holdout_item;

typedef struct holdout_set {
    const char *title; /* "held back" or "labelled" */
    holdout_item *items;
    int n, cap;
} holdout_set;

/* How a set fares under one set of weights. */
typedef struct holdout_figures {
    int keepers, kept;    /* keepers judged; those not called blurry */
    int blurred, caught;  /* blurred photos judged; those called blurry */
    double accuracy, auc; /* at sharpness 0.5, as --val reports; AUC NAN with one class */
    uint8_t *called_blurry; /* per item: 1 when the verdict was blurry */
    float *score;           /* per item: the sharpness (NAN when it could not be judged) */
    int failed;           /* items the model could not judge */
} holdout_figures;

/* The photos to hold back from n sorted training photos: every tenth (at most 100), none
 * when there are fewer than 10. held[i] is set to 1 for those. Returns how many. */
int holdout_choose(int n, uint8_t *held);

/* Adds photo p to the held-back set: its keeper, and a blurred copy (Gaussian, disc, straight
 * or shaken motion by turns, of a clearly visible strength, seeded by index alone so that
 * every run on the same photos judges the same copies). Returns 0 or -1 (out of memory). */
int holdout_add_synthetic(holdout_set *s, const train_photo *p, int index);
/* Adds a real photo with its label (the luma is copied). Returns 0 or -1. */
int holdout_add(holdout_set *s, const char *name, const uint8_t *luma, int w, int h, int sharp);
/* The same without a copy: the luma stays the caller's and must outlive the set. */
int holdout_add_borrowed(holdout_set *s, const char *name, uint8_t *luma, int w, int h, int sharp);
void holdout_free(holdout_set *s);

/* Judges every item with m. Returns 0, or -1 when nothing could be judged (message on err). */
int holdout_judge(unsharp_model *m, const holdout_set *s, FILE *err, holdout_figures *out);
void holdout_figures_free(holdout_figures *f);

/* "keepers kept 100 % (40 of 40), blur caught 96 % (77 of 80)" into buf. */
void holdout_words(const holdout_figures *f, char *buf, size_t n);

/* The safety gate on one set: 0 when the new weights pass, 1 when they call blurry a keeper
 * that the starting weights kept, or catch clearly less blur (at least 2 photos and more than
 * 5 % of the blurred ones fewer). The reason, in plain words naming up to three photos, is
 * appended to why. */
int holdout_gate(const holdout_set *s, const holdout_figures *start, const holdout_figures *now, char *why, size_t n);

/* The lowest sharpness that the new weights (now) give a keeper of s that the starting weights
 * did not call blurry; INFINITY when there is none. *name is set to that keeper's path. */
float holdout_lowest_kept(const holdout_set *s, const holdout_figures *start, const holdout_figures *now,
                          const char **name);

/* Where a fine-tune's blurry line goes so that none of those keepers is called blurry: the line
 * itself when lowest (holdout_lowest_kept over every set) is at or above it, else lowest rounded
 * down to 4 decimals (a photo at the line is unsure, never blurry). Never above line: the line
 * only moves photos toward unsure. */
float holdout_keeper_line(float line, float lowest);

/* How many blurred photos of s the new weights (now) read at or above lo and under hi: those a
 * line moved from hi down to lo would no longer call blurry. */
int holdout_blurred_between(const holdout_set *s, const holdout_figures *now, float lo, float hi);

/* A fine-tune's keeper line over n sets, of which have[k] != 0 were judged by the starting
 * weights (start[k]) as well as by the new ones (now[k]). */
typedef struct holdout_keeper {
    float line, moved; /* the blurry line, and where holdout_keeper_line puts it (line: no move) */
    float lowest;      /* holdout_lowest_kept over the sets (INFINITY: none) */
    const char *who;   /* that keeper's path, or NULL */
    int through;       /* blurred photos between moved and line: the line may move only when 0 */
} holdout_keeper;
holdout_keeper holdout_keeper_over(const holdout_set *sets, const holdout_figures *start, const holdout_figures *now,
                                   const int *have, int n, float line);

/* The verdict counts of f again at another blurry line, from its scores: what judging again
 * would give, since the line decides only the verdict and the low-contrast hold, and a photo held
 * at the old line (at or above the new one) would be held at the new one: never blurry either way. */
void holdout_recount(const holdout_set *s, holdout_figures *f, float line);

#endif
