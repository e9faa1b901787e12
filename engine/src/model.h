/* model.h: the model's private structure, shared by model.c, the architecture parser, the
 * weights file code and the layer files in layers/.
 *
 * Memory: parameters, gradients, optimiser state and activations each live in one backend
 * allocation per model, sized before it is made. Layers hold pointers into them. */
#ifndef UNSHARP_MODEL_H
#define UNSHARP_MODEL_H

#include "backend.h"
#include "error.h"

#define UNSHARP_NAME_MAX 64
#define UNSHARP_MAX_INPUTS 8
#define UNSHARP_MAX_LAYERS 256
#define UNSHARP_ARCH_MAX (64 * 1024)

typedef struct unsharp_layer unsharp_layer;

/* What one kind of layer does. Forward and backward of each kind sit side by side in
 * layers/KIND.c. */
typedef struct unsharp_layer_kind {
    const char *name;
    const char *keys;  /* the key=value names it accepts, space separated */
    int is_loss;
    int overwrites_dx; /* backward can write its one input's dy with "=" when it writes it first */
    int cache_training_only; /* the cache is for backward only: none in inference (model.c) */
    /* From the input channels: output channels and parameter shapes. */
    unsharp_status (*setup)(unsharp_model *m, unsharp_layer *L);
    /* From the input shapes: output (n, c, h, w), cache bytes and workspace bytes. */
    unsharp_status (*shape)(unsharp_model *m, unsharp_layer *L);
    unsharp_status (*forward)(unsharp_model *m, unsharp_layer *L, int training);
    /* Adds into the inputs' dy (when they need it) and into the parameter gradients. */
    unsharp_status (*backward)(unsharp_model *m, unsharp_layer *L);
} unsharp_layer_kind;

/* One parameter tensor, a view into the model's parameter arena. */
typedef struct unsharp_param {
    char name[UNSHARP_NAME_MAX + 8];  /* "LAYER.weight" or "LAYER.bias" */
    int shape[4];                      /* unused dims are 1 */
    size_t offset, count;              /* in floats, into params and grads */
} unsharp_param;

struct unsharp_layer {
    const unsharp_layer_kind *kind;
    char name[UNSHARP_NAME_MAX];
    int line;                        /* in the architecture text, for messages */
    int in[UNSHARP_MAX_INPUTS];      /* indices of earlier layers */
    int n_in;

    /* hyper-parameters, from key=value */
    int out, kh, kw, sh, sw, ph, pw, has_bias;
    float slope, p, weight, eps;

    /* output shape (n, c, h, w); c is known after setup, the rest after shape */
    int n, c, h, w;
    int needs_grad;                  /* a parameter at or before this layer: dy is wanted */
    int skipped;                     /* inference only: the input is too small for this layer
                                        or one it reads; not computed (model.c, shape_layers) */

    int weight_param, bias_param;    /* indices into m->params, or -1 */

    /* Fusion, decided once the architecture is parsed: a convolution whose only consumer is a
     * ReLU or leaky ReLU writes that layer's output in its own forward (act_layer, or -1), and
     * the activation's forward then has nothing to do (fused); in inference the activation
     * is written over the convolution's output (model.c, plan_activations). */
    int act_layer, fused;
    /* The layer whose backward writes this layer's dy first, overwriting it (its last reader,
     * when that reader's kind can), or -1: then dy is zeroed before it is written. */
    int dy_writer;

    /* into the activation arena, valid after forward */
    float *y;                        /* (n, c, h, w) */
    float *dy;                       /* (n, c, h, w), training only */
    void *cache;                     /* kind-specific: argmax, dropout mask, loss targets */
    size_t cache_bytes, work_bytes;

    /* loss layers: host copies of the targets until the next forward */
    float *host_target, *host_weight;
    size_t target_count;
    double loss;
};

typedef struct unsharp_meta {
    char *key, *value;
} unsharp_meta;

struct unsharp_model {
    char err[UNSHARP_ERRMSG_MAX];
    unsharp_backend *be;
    char *arch;                      /* the text it was built from */

    unsharp_layer *layers;
    int n_layers;

    unsharp_param *params;
    int n_params;
    size_t n_floats;                 /* total parameter count */
    float *param_mem;                /* (n_floats) backend memory */
    float *grad_mem;                 /* (n_floats) */

    float *opt_mem;                  /* Adam: m then v, 2 * n_floats; SGD: velocity */
    unsharp_optimizer_config opt;
    int opt_ready, opt_t;

    void *act_mem;                   /* activations, dy, caches and conv workspace */
    size_t act_capacity;
    void *work;                      /* shared workspace inside act_mem */
    int state;                       /* UNSHARP_STATE_*: what the last forward or backward left */
    /* 8-bit input of unsharp_model_forward_u8, during that call only; input_absent: the input
     * layer's floats were never written (its convolution read the samples itself) */
    const unsigned char *input_u8;
    size_t input_stride;
    float input_scale;
    int input_absent;
    uint64_t seed, forward_count;

    unsharp_meta *meta;
    int n_meta;
};

/* none yet (or the last forward failed); after an inference forward; after a training forward;
 * after the backward of that forward (the loss can still be read, a second backward cannot) */
enum { UNSHARP_STATE_NONE = 0, UNSHARP_STATE_INFER = 1, UNSHARP_STATE_TRAIN = 2, UNSHARP_STATE_BACKWARD = 3 };

/* The registry of layer kinds (layers/registry.c). */
const unsharp_layer_kind *unsharp__layer_kind(const char *name);

/* Parses architecture text into m->layers; messages name the line. (arch.c) */
unsharp_status unsharp__arch_parse(unsharp_model *m, const char *text);

/* Adds a parameter for layer L, returning its index in m->params. (model.c) */
int unsharp__add_param(unsharp_model *m, unsharp_layer *L, const char *suffix, int d0, int d1, int d2, int d3);

/* Adds "weight" (out, in, kh, kw) and, when L->has_bias, "bias" (out) for layer L. */
unsharp_status unsharp__add_weight_bias(unsharp_model *m, unsharp_layer *L, int out, int in, int kh, int kw);

/* Parameter and gradient pointers of param i (backend memory). */
static inline float *unsharp__param(unsharp_model *m, int i) { return m->param_mem + m->params[i].offset; }
static inline float *unsharp__grad(unsharp_model *m, int i) { return m->grad_mem + m->params[i].offset; }
static inline unsharp_layer *unsharp__input(unsharp_model *m, unsharp_layer *L, int k) { return &m->layers[L->in[k]]; }

/* Creates the backend named by options (model.c). */
unsharp_status unsharp__model_new(const char *arch, const unsharp_model_options *opt, unsharp_model **out, char *errbuf);
/* After unsharp_model_forward_u8: whether the input layer's only reader, a convolution, read
 * the 8-bit samples itself (for tests). input_from_u8: converts the samples into the input
 * layer's floats instead (layers/conv.c, when the backend declines). */
int unsharp__model_input_was_u8(const unsharp_model *m);
unsharp_status unsharp__model_input_from_u8(unsharp_model *m);

#endif
