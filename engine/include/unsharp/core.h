/* core.h: the network core of libunsharp-engine (unsharp.h includes it with the photo layer,
 * photo.h): versions, statuses and messages, tensors, the model, training.
 *
 * A small convolutional network engine that infers and trains. A model is built from a text
 * architecture (see docs/architecture-format.md), or loaded from a self-describing .usw weights
 * file (see docs/weights-format.md). Every call returns an unsharp_status. Its message, for
 * people (what failed and where, in words), follows one rule, as in SQLite and TurboJPEG: a
 * call on a model handle keeps it on the handle (unsharp_model_errmsg), set when the call
 * fails and cleared when it succeeds; a call without a handle, or given NULL for it, keeps it
 * in the thread's slot (unsharp_errmsg) the same way. The library never prints and never
 * exits.
 *
 * Threads: calls on different handles may run concurrently. One handle is used by one thread
 * at a time.
 *
 * Ownership: what the library allocates (models, images, judgement maps) is freed by the
 * matching *_free call; strings it returns are owned by it (copy them to keep them); what the
 * caller passes in (paths, text, buffers, tensors) stays the caller's and is not kept after the
 * call, unless a call says otherwise. A call on a handle given NULL fails with
 * UNSHARP_ERR_INVALID ("model is NULL", in the thread's slot). docs/library.md walks through
 * the API. */
#ifndef UNSHARP_CORE_H
#define UNSHARP_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header. It follows the project version in CMakeLists.txt (configuring
 * fails when they differ). The shared library's SONAME carries the major number
 * (libunsharp-engine.so.0): a new major may break programs built against an older one; a new
 * minor only adds, from 1.0 on. Before 1.0 a minor may change the layout of a struct the caller
 * fills (0.2 added unsharp_judge_options.own_bands): rebuild programs against the new header. */
#define UNSHARP_VERSION_MAJOR 0
#define UNSHARP_VERSION_MINOR 2
#define UNSHARP_VERSION_PATCH 0
#define UNSHARP_VERSION_STRING "0.2.0"

/* Marks the calls the shared library exports; everything else in it is hidden. */
#if defined(__GNUC__)
#define UNSHARP_API __attribute__((visibility("default")))
#else
#define UNSHARP_API
#endif

/* Result of every public call. 0 is success; the rest are distinct failures. */
typedef enum unsharp_status {
    UNSHARP_OK = 0,
    UNSHARP_ERR_INVALID,     /* a bad argument or architecture from the caller */
    UNSHARP_ERR_NOMEM,       /* an allocation failed */
    UNSHARP_ERR_IO,          /* open, read, write, fsync or rename failed */
    UNSHARP_ERR_BAD_MAGIC,   /* the file is not a .usw weights file */
    UNSHARP_ERR_VERSION,     /* the file's major version is newer than this library */
    UNSHARP_ERR_TRUNCATED,   /* the file ends before its contents do */
    UNSHARP_ERR_CHECKSUM,    /* the CRC32 does not match: the file is corrupt */
    UNSHARP_ERR_CORRUPT,     /* the contents are inconsistent (bad table, bad sizes) */
    UNSHARP_ERR_SHAPE,       /* a tensor's shape does not fit the model */
    UNSHARP_ERR_NOT_FOUND,   /* no layer, output or parameter of that name */
    UNSHARP_ERR_STATE,       /* the call is out of order (backward before forward, ...) */
    UNSHARP_ERR_BACKEND,     /* the compute backend failed (device errors) */
    UNSHARP_ERR_UNSUPPORTED, /* the build lacks what was asked for */
    UNSHARP_ERR_FORMAT,      /* an image file of no supported type, by its content */
    UNSHARP_ERR_TOO_LARGE,   /* an image's header claims more pixels than the allowed maximum */
    UNSHARP_ERR_DECODE       /* an image file is damaged: truncated or corrupt data */
} unsharp_status;

/* ---- version ---- */

/* The version of the library actually running, such as "0.2.0": UNSHARP_VERSION_STRING as it
 * was when the library was built, which differs from the header's when a program built against
 * one version runs with another.
 * @return a static string owned by the library; never NULL. */
UNSHARP_API const char *unsharp_version(void);

/* Checks that the running library can serve a program written against version major.minor:
 * the same major, and a minor at least as new. Call it first, as
 * unsharp_check_version(UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR), or through
 * UNSHARP_CHECK_VERSION().
 * @return UNSHARP_OK, or UNSHARP_ERR_VERSION with both versions in unsharp_errmsg() when the
 *         library is older (smaller minor) or of another major. */
UNSHARP_API unsharp_status unsharp_check_version(int major, int minor);
#define UNSHARP_CHECK_VERSION() unsharp_check_version(UNSHARP_VERSION_MAJOR, UNSHARP_VERSION_MINOR)

/* ---- errors ---- */

/* A short constant name for a status, such as "UNSHARP_ERR_CHECKSUM".
 * @return a static string owned by the library; "UNSHARP_ERR_UNKNOWN" for a value outside
 *         the enum; never NULL. */
UNSHARP_API const char *unsharp_status_name(unsharp_status st);

/* The message of the last call on this thread that had no handle (or was given NULL for it):
 * what failed and where, such as "w.usw: CRC32 mismatch", or "" when that call succeeded.
 * @return a thread-local buffer owned by the library, valid until this thread's next call
 *         without a handle; never NULL. */
UNSHARP_API const char *unsharp_errmsg(void);

/* The file name of the shipped weights. */
#define UNSHARP_WEIGHTS_FILE "unsharp-v2.usw"

/* Finds the shipped weights when the caller names none, and writes their path into buf
 * (size bytes; PATH_MAX is enough). Looks, in this order, at:
 *   1. $UNSHARP_WEIGHTS, a file (an error when it is set but unreadable);
 *   2. $XDG_DATA_HOME/unsharp/ (default ~/.local/share/unsharp/), the user's own copy;
 *   3. the configured install prefix's share/unsharp/ (e.g. /usr/local/share/unsharp/);
 *   4. share/unsharp/ of the prefix the library itself lies in (found from the library's own
 *      path, so a tree installed with cmake --install --prefix elsewhere still works);
 *   5. the running program's own folder;
 *   6. the running program's ../share/unsharp/;
 *   7. the source tree's weights/, only for a program that runs from the build tree.
 * The first readable file wins. Reads the environment; safe from any thread.
 * @return UNSHARP_OK; UNSHARP_ERR_IO when none is found (the message, from unsharp_errmsg(),
 *         lists where it looked) or $UNSHARP_WEIGHTS is unreadable; UNSHARP_ERR_INVALID when
 *         buf is NULL or too small. */
UNSHARP_API unsharp_status unsharp_default_weights(char *buf, size_t size);

/* A host tensor in NCHW float32. Strides are in elements; unsharp_tensor_make fills them in
 * for a contiguous layout. The engine never frees data it did not allocate. */
typedef struct unsharp_tensor {
    float *data;
    int n, c, h, w;          /* shape (N, C, H, W) */
    int64_t sn, sc, sh, sw;  /* strides in elements */
} unsharp_tensor;

/* A contiguous tensor over caller-owned data: fills shape and strides, allocates nothing.
 * @return the tensor (it cannot fail; the shape is checked by the call that uses it). */
UNSHARP_API unsharp_tensor unsharp_tensor_make(float *data, int n, int c, int h, int w);

/* Opaque model handle. */
typedef struct unsharp_model unsharp_model;

/* Compute backends. AUTO picks CUDA when the build has it and a device is present. */
typedef enum unsharp_device {
    UNSHARP_DEVICE_CPU = 0,
    UNSHARP_DEVICE_CUDA = 1,
    UNSHARP_DEVICE_AUTO = 2
} unsharp_device;

typedef struct unsharp_model_options {
    unsharp_device device;  /* default CPU */
    int threads;            /* CPU threads for this handle's math; 0 or 1 means one */
} unsharp_model_options;

/* Builds a model from architecture text with parameters initialised from seed (He init for
 * weights, zero biases). options may be NULL. arch is copied; *out is the caller's, to free
 * with unsharp_model_free, and NULL on failure (the message is in unsharp_errmsg()).
 * @return UNSHARP_OK, UNSHARP_ERR_INVALID with the offending line, UNSHARP_ERR_NOMEM, or
 *         UNSHARP_ERR_UNSUPPORTED for a device this build lacks. */
UNSHARP_API unsharp_status unsharp_model_create(const char *arch, uint64_t seed,
                                                const unsharp_model_options *options,
                                                unsharp_model **out);

/* Loads a .usw weights file: architecture, parameters, metadata and, for a checkpoint, the
 * optimiser state. options may be NULL (CPU, one thread). *out is the caller's, to free with
 * unsharp_model_free, and NULL on failure (the message, naming the file, is in unsharp_errmsg()).
 * @return UNSHARP_OK, UNSHARP_ERR_IO, _BAD_MAGIC, _VERSION, _TRUNCATED, _CHECKSUM, _CORRUPT,
 *         _INVALID (a NULL argument) or _NOMEM. */
UNSHARP_API unsharp_status unsharp_model_load(const char *path, const unsharp_model_options *options,
                                              unsharp_model **out);

/* Loads from memory; the same checks as unsharp_model_load. data is read during the call
 * and not kept.
 * @return as unsharp_model_load, without UNSHARP_ERR_IO. */
UNSHARP_API unsharp_status unsharp_model_load_memory(const void *data, size_t size,
                                                     const unsharp_model_options *options,
                                                     unsharp_model **out);

/* Writes architecture, parameters and metadata to path atomically: path.tmp, fsync, rename.
 * @return UNSHARP_OK, UNSHARP_ERR_IO (message in unsharp_model_errmsg()) or _INVALID (m is
 *         NULL); path is untouched on failure. */
UNSHARP_API unsharp_status unsharp_model_save(unsharp_model *m, const char *path);

/* Frees the model and everything it owns (strings it returned included); NULL is a no-op. */
UNSHARP_API void unsharp_model_free(unsharp_model *m);

/* The message of the last call on this handle that returns a status: what failed and where,
 * or "" when it succeeded. With m NULL, the thread's message (unsharp_errmsg()).
 * @return a buffer owned by the model (or the thread), valid until the next such call on it;
 *         never NULL. */
UNSHARP_API const char *unsharp_model_errmsg(const unsharp_model *m);

/* Records a failure the way the library's own calls do: the message (printf-style, for
 * people) on m, or in the thread's slot when m is NULL; st UNSHARP_OK clears it (fmt may then
 * be NULL). For code built on the model that reports through it: the photo layer (photo.h),
 * or a caller's own. The message is state kept for the caller, so m may be const.
 * @return st. */
UNSHARP_API unsharp_status unsharp_model_set_error(const unsharp_model *m, unsharp_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The architecture text the model was built from.
 * @return text owned by the model, valid until it is freed; NULL when m is NULL. */
UNSHARP_API const char *unsharp_model_arch(const unsharp_model *m);

/* The channels of the model's input layer (1 for luma, 3 for RGB); 0 when m is NULL. */
UNSHARP_API int unsharp_model_input_channels(const unsharp_model *m);

/* The backend the model runs on: "cpu" or "cuda" (what UNSHARP_DEVICE_AUTO picked). */
UNSHARP_API const char *unsharp_model_backend(const unsharp_model *m);

/* Metadata: short key=value strings carried in the weights file (thresholds, training info).
 * get: @return the value, owned by the model and valid until the key is set again or the model
 *      is freed; NULL when the key is absent.
 * set: copies key and value; replaces an existing value; value NULL removes the key.
 *      @return UNSHARP_OK, UNSHARP_ERR_INVALID (a key of 1..255 characters without '=' or
 *      newline, a value of at most 4095 without newline) or UNSHARP_ERR_NOMEM. */
UNSHARP_API const char *unsharp_model_get_meta(const unsharp_model *m, const char *key);
UNSHARP_API unsharp_status unsharp_model_set_meta(unsharp_model *m, const char *key, const char *value);

/* Parameters, by index 0..count-1 in architecture order, named "LAYER.weight" / "LAYER.bias".
 * count: @return the number of parameter tensors (0 when m is NULL).
 * info: gives name (owned by the model), element count and shape (unused dims are 1); any
 *       output pointer may be NULL. @return UNSHARP_OK, UNSHARP_ERR_NOT_FOUND for an index out
 *       of range, or _INVALID (m is NULL).
 * total: @return the number of floats in all parameters (0 when m is NULL). */
UNSHARP_API int unsharp_model_param_count(const unsharp_model *m);
UNSHARP_API unsharp_status unsharp_model_param_info(const unsharp_model *m, int i, const char **name,
                                                    size_t *count, int shape[4]);
UNSHARP_API size_t unsharp_model_param_total(const unsharp_model *m);
/* Copies a parameter (or its gradient) to or from caller memory of exactly count floats.
 * @return UNSHARP_OK, UNSHARP_ERR_NOT_FOUND (no parameter of that name), _SHAPE (count is not
 *         the parameter's size), _INVALID (a NULL argument) or _BACKEND. */
UNSHARP_API unsharp_status unsharp_model_get_param(unsharp_model *m, const char *name, float *dst, size_t count);
UNSHARP_API unsharp_status unsharp_model_set_param(unsharp_model *m, const char *name, const float *src, size_t count);
UNSHARP_API unsharp_status unsharp_model_get_grad(unsharp_model *m, const char *name, float *dst, size_t count);

/* Runs the network on x (N, C, H, W). training=1 keeps what backward needs, applies dropout
 * and evaluates the loss layers against the targets set below. Activation memory is sized
 * from x's shape and reused while shapes do not grow. x is read, not kept. In training every
 * layer must fit x (_SHAPE otherwise); in inference a layer that x is too small for, and every
 * layer reading it, is skipped, and asking for its output gives _SHAPE with the reason.
 * @return UNSHARP_OK, UNSHARP_ERR_SHAPE (wrong channel count, too small or too large an input,
 *         or targets whose count does not fit), _STATE (a training pass without targets),
 *         _INVALID (no input, or a target out of range), _NOMEM or _BACKEND. */
UNSHARP_API unsharp_status unsharp_model_forward(unsharp_model *m, const unsharp_tensor *x, int training);

/* An inference forward of one image of one channel given as 8-bit samples: h rows of w,
 * stride bytes apart, each taken as sample * scale (1/255 for luma in 0..1). The outputs are
 * those of unsharp_model_forward on the same values as floats. When the input layer's only
 * reader is a convolution that the backend can run on 8-bit rows (the CPU's), that
 * convolution reads the samples itself and no float copy of the image is made; the input
 * layer then has no output to read (_STATE). px is read during the call, not kept.
 * @return UNSHARP_OK, UNSHARP_ERR_SHAPE (a model of more than one input channel, or a size or
 *         stride it refuses), _INVALID (no samples), _NOMEM or _BACKEND. */
UNSHARP_API unsharp_status unsharp_model_forward_u8(unsharp_model *m, const unsigned char *px, size_t stride,
                                                    int h, int w, float scale);

/* The shape of a named layer's output after the last forward (n,c,h,w). After an inference
 * forward, a convolution whose only reader is a ReLU or leaky ReLU has no output of its own:
 * the activation is computed in its place (read the activation's output instead).
 * @return UNSHARP_OK, UNSHARP_ERR_NOT_FOUND (no such layer), _STATE (no forward yet, or a
 *         convolution overwritten by its activation), _SHAPE (skipped: the input was too small
 *         for it) or _INVALID. */
UNSHARP_API unsharp_status unsharp_model_output_shape(const unsharp_model *m, const char *layer, int shape[4]);
/* Copies a named layer's output after the last forward into out (caller memory, any strides:
 * a contiguous tensor takes one copy, other strides one more through a temporary buffer),
 * whose shape must match (the same exception as above).
 * @return UNSHARP_OK, UNSHARP_ERR_NOT_FOUND, _SHAPE (a shape mismatch, or a skipped layer),
 *         _STATE (no forward yet, or an overwritten convolution) or _INVALID. */
UNSHARP_API unsharp_status unsharp_model_get_output(unsharp_model *m, const char *layer, unsharp_tensor *out);

/* Targets of a loss layer for the next forward(training=1). The counts follow the loss
 * layer's input (N, C, H, W):
 *   sigmoid_ce: target and weight have N*C*H*W values in [0,1]; weight may be NULL (all 1);
 *   softmax_ce: target has N*H*W class indices (as floats) in [0, C); weight has N*H*W values
 *               or is NULL.
 * The values are copied and stay until replaced; count and range are checked by the next
 * forward(training=1).
 * @return UNSHARP_OK, UNSHARP_ERR_NOT_FOUND (no such loss layer), _INVALID (no targets) or
 *         _NOMEM. */
UNSHARP_API unsharp_status unsharp_model_set_target(unsharp_model *m, const char *loss_layer,
                                                    const float *target, const float *weight, size_t count);

/* The summed loss of the last forward(training=1); each loss layer is a weighted mean.
 * @return UNSHARP_OK, UNSHARP_ERR_STATE (no training forward yet) or _INVALID. Like every
 *         call on a handle, it keeps its message on m, const as m is here. */
UNSHARP_API unsharp_status unsharp_model_loss(const unsharp_model *m, double *loss);

/* Zeroes the parameter gradients.
 * @return UNSHARP_OK or UNSHARP_ERR_INVALID (m is NULL). */
UNSHARP_API unsharp_status unsharp_model_zero_grad(unsharp_model *m);

/* Back-propagates the loss layers of the last forward(training=1); gradients accumulate (+=)
 * into the parameter gradients.
 * @return UNSHARP_OK, UNSHARP_ERR_STATE (no training forward since the last backward) or
 *         _INVALID. */
UNSHARP_API unsharp_status unsharp_model_backward(unsharp_model *m);

/* Optimisers. Weight decay is decoupled (AdamW) for Adam, and L2 added to the gradient for SGD. */
typedef enum unsharp_optimizer_kind { UNSHARP_OPT_ADAM = 0, UNSHARP_OPT_SGD = 1 } unsharp_optimizer_kind;
typedef struct unsharp_optimizer_config {
    unsharp_optimizer_kind kind;
    float lr;            /* learning rate */
    float beta1, beta2;  /* Adam moments (0.9, 0.999) */
    float eps;           /* Adam epsilon (1e-8) */
    float momentum;      /* SGD momentum (0.9) */
    float weight_decay;  /* 0 for none */
} unsharp_optimizer_config;

/* Sets up the optimiser; its state (moments) is one allocation, zeroed, owned by the model.
 * Calling it again resets the state. cfg is copied.
 * @return UNSHARP_OK, UNSHARP_ERR_INVALID (bad kind, rates, betas, eps or momentum) or _NOMEM. */
UNSHARP_API unsharp_status unsharp_model_set_optimizer(unsharp_model *m, const unsharp_optimizer_config *cfg);
/* Changes the learning rate (for schedules) without touching the state.
 * @return UNSHARP_OK, UNSHARP_ERR_STATE (no optimiser set) or _INVALID (a negative or
 *         non-finite rate). */
UNSHARP_API unsharp_status unsharp_model_set_lr(unsharp_model *m, float lr);
/* One update of the parameters from the current gradients.
 * @return UNSHARP_OK, UNSHARP_ERR_STATE (no optimiser set) or _INVALID. */
UNSHARP_API unsharp_status unsharp_model_step(unsharp_model *m);
/* Ties the weights so that the network sees a photo and its transpose alike: each convolution
 * or dense layer's channel c has a twin, c + C/2, whose kernel is c's transposed, reading the
 * input channels' twins; the layers a loss reads (the tile map, the image logits) are their own
 * twins. Each tied pair becomes its mean. Run after every step, training stays in the tied
 * weights, and the outputs for a transposed photo are the transposed outputs. For experiments
 * (unsharp-train --tie-transpose).
 * @return UNSHARP_OK, UNSHARP_ERR_INVALID (m is NULL, a kernel, stride or padding that is not
 *         square, or an odd channel count to pair), _NOMEM or _BACKEND. */
UNSHARP_API unsharp_status unsharp_model_tie_transpose(unsharp_model *m);

/* Writes a training checkpoint atomically, as unsharp_model_save does, with the optimiser's
 * state (moments, step count, configuration) besides the parameters, so that a run resumed from
 * it takes exactly the steps the uninterrupted run would have. unsharp_model_load() restores
 * that state: the loaded model has its optimiser set (a later unsharp_model_set_optimizer()
 * call would reset it). A plain unsharp_model_save() leaves the optimiser out.
 * @return UNSHARP_OK, UNSHARP_ERR_STATE when no optimiser is set, or UNSHARP_ERR_IO. */
UNSHARP_API unsharp_status unsharp_model_save_checkpoint(unsharp_model *m, const char *path);

/* Whether the model has an optimiser set (by unsharp_model_set_optimizer() or restored from
 * a checkpoint); its configuration is copied into cfg when cfg is not NULL.
 * @return 1 when set, else 0 (also when m is NULL). */
UNSHARP_API int unsharp_model_get_optimizer(const unsharp_model *m, unsharp_optimizer_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
