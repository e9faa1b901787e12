/* finetune.h: what fine-tuning the user's own weights needs besides training: the pull toward
 * the starting weights (L2-SP), where checkpoints go by default, and where refused weights go. */
#ifndef UNSHARP_TRAIN_FINETUNE_H
#define UNSHARP_TRAIN_FINETUNE_H
#include <stddef.h>
#include "unsharp/unsharp.h"

/* A copy of the starting weights, parameter by parameter. */
typedef struct ft_anchor {
    int n;
    float **start, *scratch;
    size_t *count, most;
} ft_anchor;

/* Copies m's parameters as they are now. Returns 0 or -1 (out of memory; a message on m). */
int ft_anchor_take(unsharp_model *m, ft_anchor *a);
/* L2-SP, decoupled as AdamW's decay is: every parameter moves the share `amount` (clamped to
 * [0, 1]) of the way back to its starting value: p -= amount * (p - p0). Called after each
 * step with amount = learning rate x pull. Returns 0 or -1 (message on m). */
int ft_anchor_pull(unsharp_model *m, const ft_anchor *a, float amount);
void ft_anchor_free(ft_anchor *a);

/* Learning without forgetting: runs the starting weights on the batch x and moves every target
 * the share `keep` of the way to their own answer: the tile targets (B x side x side, where the
 * tile's weight is not 0) and, when peak is not NULL, the target of the sharpest 2x2 block of
 * tiles (B; the mean of four tile logits, its largest). A sample whose tiles all weigh 0 (a real
 * blurred photo, or a flat crop) keeps its own targets. Returns 0, or -1 (message on start). */
int ft_keep_targets(unsharp_model *start, const unsharp_tensor *x, float keep, float *tile_target, const float *tile_w,
                    float *peak, int batch, int side);

/* The default checkpoint of a run writing `out`: $XDG_CACHE_HOME/unsharp/NAME-HASH.ckpt
 * ($HOME/.cache when unset), NAME the output's file name and HASH 8 hex digits of its absolute
 * path, so that the same command finds its checkpoint again. Creates the folder. Returns 0,
 * or -1 when there is no cache folder to be had. */
int ft_default_checkpoint(const char *out, char *buf, size_t n);

/* Where weights refused by the safety gate go: OUT without ".usw", plus ".rejected.usw". */
void ft_rejected_path(const char *out, char *buf, size_t n);

#endif
