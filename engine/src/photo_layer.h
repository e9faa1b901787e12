/* photo_layer.h: what the photo layer's files (judge.c, direction.c, image/) share. The layer
 * is built on the network core's public calls only (unsharp/core.h, through unsharp/photo.h):
 * it reports a failure with unsharp_model_set_error, on the model handle the call has, or in
 * the thread's slot (errto NULL), as the core's own calls do. */
#ifndef UNSHARP_PHOTO_LAYER_H
#define UNSHARP_PHOTO_LAYER_H

#include "unsharp/photo.h"

/* The longest message kept (the core's slots hold as much). */
#define PHOTO_MSG_MAX 512

/* Each function using FAIL declares: unsharp_status st = UNSHARP_OK; and
 * const unsharp_model *errto (its handle, or NULL for the thread's slot). CHECK propagates a
 * failure whose message is already set. (The core's error.h is private to the core.) */
#define FAIL(code, ...) do { st = unsharp_model_set_error(errto, (code), __VA_ARGS__); goto bailout; } while (0)
#define CHECK(call) do { if ((st = (call)) != UNSHARP_OK) goto bailout; } while (0)

#endif
