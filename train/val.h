/* val.h: validation on a real labelled folder: DIR/sharp + DIR/blurry (or DIR/good +
 * DIR/bad). Each photo is judged exactly as unsharp-classify judges it. */
#ifndef UNSHARP_TRAIN_VAL_H
#define UNSHARP_TRAIN_VAL_H
#include <stdio.h>
#include "unsharp/unsharp.h"

typedef struct train_val_result {
    int n_sharp, n_blurry, failed;
    double accuracy; /* at the decision threshold: sharp when sharpness >= threshold */
    double auc;      /* area under the ROC curve of sharpness for "sharp"; NAN with one class */
    double loss;     /* mean binary cross-entropy of sharpness against the labels */
} train_val_result;

/* Returns 0, or -1 when DIR has no labelled photos (message on err). Per-photo lines
 * ("label sharpness path") go to detail when it is not NULL. */
int train_validate(unsharp_model *m, const char *dir, float threshold, FILE *err, FILE *detail, train_val_result *out);

/* AUC by the Mann-Whitney rank statistic (ties count half). */
double train_auc(const float *score, const int *label, int n);

#endif
