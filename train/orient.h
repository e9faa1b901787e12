/* orient.h: an oriented start for the first convolution (unsharp-train --oriented-init, an
 * experiment; weights/MODEL_CARD.md, "Eighth round"). */
#ifndef UNSHARP_TRAIN_ORIENT_H
#define UNSHARP_TRAIN_ORIENT_H
#include <unsharp/unsharp.h>

/* Sets the first convolution that reads one input channel (weights (C, 1, k, k), k >= 3) to C
 * second derivatives of a Gaussian (sigma ORIENT_SIGMA px), channel c across the direction
 * c * 180 / C degrees, each made zero-mean and given the mean L2 norm of the random channels it
 * replaces. Every direction is then seen from the first step on, whatever the seed; training
 * moves them as it moves any weight. Biases are left as they are.
 * @return 0, or -1 (no such layer, out of memory, or the model's error; m's message says). */
#define ORIENT_SIGMA 1.0
int orient_first_conv(unsharp_model *m, const char **layer);

#endif
