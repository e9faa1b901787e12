/* input.c: the model input; its output is the uploaded image batch. Nothing to compute. */
#include "common.h"

const unsharp_layer_kind unsharp__input_kind = {
    .name = "input", .keys = "", .is_loss = 0, .setup = NULL, .shape = NULL, .forward = NULL, .backward = NULL,
};
