/* backend.h: the private backend table. Layers call these slots and nothing else, so the
 * model has one code path for every backend (CPU on OpenBLAS, CUDA on cuBLAS + cuDNN).
 *
 * Conventions for every slot:
 * - float and int32 pointers are backend memory (host for CPU, device for CUDA), from alloc;
 * - tensors are NCHW and contiguous; shapes are given beside each argument;
 * - "+=" marks outputs that accumulate: the caller zeroes them when it wants a fresh sum;
 *   "(+)=" marks outputs that accumulate when the slot's accumulate argument is non-zero and
 *   are overwritten when it is 0 (the first write of a gradient, with no zeroing pass);
 * - a slot returns UNSHARP_OK, or a status with a message written to be->errbuf that names
 *   the file and line of the failing device call. */
#ifndef UNSHARP_BACKEND_H
#define UNSHARP_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "unsharp/unsharp.h"

#define UNSHARP_BACKEND_VERSION 4

/* Shape of one 2-D convolution: x (n, cin, h, w) * w (cout, cin, kh, kw) -> y (n, cout, oh, ow)
 * with oh = (h + 2*ph - kh) / sh + 1, and likewise ow. */
typedef struct unsharp_conv_shape {
    int n, cin, h, w;
    int cout, kh, kw;
    int sh, sw, ph, pw;
    int oh, ow;
} unsharp_conv_shape;

/* Shape of a 2-D pooling window: x (n, c, h, w) -> y (n, c, oh, ow). Max pooling ignores the
 * padding; average pooling counts it as zeros (divides by kh*kw), as PyTorch does by default. */
typedef struct unsharp_pool_shape {
    int n, c, h, w;
    int kh, kw, sh, sw, ph, pw;
    int oh, ow;
} unsharp_pool_shape;

typedef enum { UNSHARP_GPOOL_MEAN = 0, UNSHARP_GPOOL_MAX = 1, UNSHARP_GPOOL_VAR = 2 } unsharp_gpool_kind;

typedef struct unsharp_adam_params {
    float lr, beta1, beta2, eps, weight_decay;
    int t; /* step number, from 1 */
} unsharp_adam_params;

typedef struct unsharp_backend unsharp_backend;

struct unsharp_backend {
    int version;          /* UNSHARP_BACKEND_VERSION */
    const char *name;     /* "cpu", "cuda" */
    char *errbuf;         /* where slots write their messages (the model's buffer) */
    void *impl;           /* the backend's private state */

    /* -- memory -- */
    unsharp_status (*alloc)(unsharp_backend *be, size_t bytes, void **out); /* zeroed */
    void (*release)(unsharp_backend *be, void *p);                          /* NULL is a no-op */
    unsharp_status (*upload)(unsharp_backend *be, void *dst, const void *host, size_t bytes);
    unsharp_status (*download)(unsharp_backend *be, void *host, const void *src, size_t bytes);
    unsharp_status (*copy)(unsharp_backend *be, void *dst, const void *src, size_t bytes);
    unsharp_status (*fill)(unsharp_backend *be, float *dst, float value, size_t n);
    /* Frees the backend itself, with everything it holds. */
    void (*destroy)(unsharp_backend *be);

    /* -- matrix multiply, row-major: C(m,n) = alpha * op(A) op(B) + beta * C -- */
    unsharp_status (*gemm)(unsharp_backend *be, int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float *a, int lda, const float *b, int ldb,
                           float beta, float *c, int ldc);

    /* -- convolution; work is conv_workspace() bytes. Forward adds the bias b when it is not
     *    NULL, and writes leaky_relu(y, slope) to act as well when act is not NULL (the model
     *    fuses an activation layer that is a convolution's only consumer); the bias gradient
     *    is bias_backward's -- */
    size_t (*conv_workspace)(unsharp_backend *be, const unsharp_conv_shape *s);
    unsharp_status (*conv2d_forward)(unsharp_backend *be, const unsharp_conv_shape *s,
                                     const float *x,  /* (n, cin, h, w) */
                                     const float *w,  /* (cout, cin, kh, kw) */
                                     const float *b,  /* (cout) or NULL */
                                     float *y,        /* (n, cout, oh, ow), overwritten */
                                     float *act,      /* (n, cout, oh, ow) or NULL, overwritten */
                                     float slope,
                                     void *work);
    /* Optional (NULL when the backend has none): conv2d_forward of one image of one channel
     * given as 8-bit samples, h rows of w, stride bytes apart, each read as sample * scale
     * (the same floats as converting first). UNSHARP_ERR_UNSUPPORTED, with nothing written,
     * when the shape does not take it; the model then converts the samples itself. */
    unsharp_status (*conv2d_forward_u8)(unsharp_backend *be, const unsharp_conv_shape *s,
                                        const unsigned char *x, size_t stride, float scale,
                                        const float *w, const float *b, float *y, float *act,
                                        float slope, void *work);
    unsharp_status (*conv2d_backward_data)(unsharp_backend *be, const unsharp_conv_shape *s,
                                           const float *dy, /* (n, cout, oh, ow) */
                                           const float *w,  /* (cout, cin, kh, kw) */
                                           float *dx,       /* (n, cin, h, w) (+)= */
                                           int accumulate,
                                           void *work);
    unsharp_status (*conv2d_backward_filter)(unsharp_backend *be, const unsharp_conv_shape *s,
                                             const float *x,  /* (n, cin, h, w) */
                                             const float *dy, /* (n, cout, oh, ow) */
                                             float *dw,       /* (cout, cin, kh, kw) += */
                                             void *work);

    /* -- per-channel bias -- */
    unsharp_status (*bias_forward)(unsharp_backend *be, float *y /* (n, c, hw) += b */,
                                   const float *b /* (c) */, int n, int c, int hw);
    unsharp_status (*bias_backward)(unsharp_backend *be, const float *dy /* (n, c, hw) */,
                                    float *db /* (c) += */, int n, int c, int hw);

    /* -- leaky ReLU (slope 0 is ReLU); y and dx may alias x and dy -- */
    unsharp_status (*leaky_relu_forward)(unsharp_backend *be, const float *x, float *y, size_t n, float slope);
    unsharp_status (*leaky_relu_backward)(unsharp_backend *be, const float *x /* forward input */,
                                          const float *dy, float *dx /* (+)= */, size_t n, float slope,
                                          int accumulate);

    /* -- windowed pooling; argmax (n, c, oh, ow) int32 is written by max forward, read by its backward -- */
    unsharp_status (*pool2d_forward)(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                     const float *x, float *y, int32_t *argmax);
    unsharp_status (*pool2d_backward)(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                      const float *dy, const int32_t *argmax, float *dx /* += */);

    /* -- global pooling over hw per (image, channel) row: x (rows, hw) -> y (rows) -- */
    unsharp_status (*global_pool_forward)(unsharp_backend *be, unsharp_gpool_kind kind,
                                          const float *x, float *y, int rows, int hw);
    unsharp_status (*global_pool_backward)(unsharp_backend *be, unsharp_gpool_kind kind,
                                           const float *x, const float *y, const float *dy,
                                           float *dx /* += */, int rows, int hw);

    /* -- local contrast normalisation of each of planes (image, channel) planes of h x w: with
     *    the mean and variance of x over the k x k window centred on each pixel (k odd), taken
     *    over the part of the window inside the plane (divided by its pixel count),
     *    y = (x - mean) / sqrt(max(var, 0) + eps^2). stats (planes, 2, h, w), or NULL in
     *    inference, is written by forward for backward (its layout is the backend's own); work
     *    is lcn_workspace() bytes. Backward gives the exact gradient through both window means,
     *    none through the variance where it was clipped at 0 -- */
    size_t (*lcn_workspace)(unsharp_backend *be, int planes, int h, int w, int k);
    unsharp_status (*lcn_forward)(unsharp_backend *be, const float *x, float *y, float *stats,
                                  int planes, int h, int w, int k, float eps, void *work);
    unsharp_status (*lcn_backward)(unsharp_backend *be, const float *x, const float *stats,
                                   const float *dy, float *dx /* (+)= */, int accumulate,
                                   int planes, int h, int w, int k, float eps, void *work);

    /* -- channel slices, for concat: dst[:, off:off+src_c] (=, or += when accumulate) src,
     *    and the reverse direction for backward -- */
    unsharp_status (*copy_channels)(unsharp_backend *be, float *dst, int dst_c, int dst_off,
                                    const float *src, int src_c, int n, int hw, int accumulate);
    unsharp_status (*slice_channels_add)(unsharp_backend *be, float *dst /* (n, dst_c, hw) += */, int dst_c,
                                         const float *src /* (n, src_c, hw) */, int src_c, int src_off,
                                         int n, int hw);

    /* -- inverted dropout: mask[i] = 0 with probability p, else 1/(1-p), from a counter-based
     *    hash of (seed, i) so that every backend draws the same mask -- */
    unsharp_status (*dropout_forward)(unsharp_backend *be, const float *x, float *y, float *mask,
                                      size_t n, float p, uint64_t seed);
    unsharp_status (*dropout_backward)(unsharp_backend *be, const float *dy, const float *mask,
                                       float *dx /* += */, size_t n);

    /* -- losses. Each writes the gradient of scale * sum(weight * loss_i) into grad (+=) and
     *    adds that scaled sum to *loss (host) -- */
    unsharp_status (*sigmoid_ce)(unsharp_backend *be, const float *logit, const float *target,
                                 const float *weight /* NULL: all 1 */, size_t n, float scale,
                                 float *grad, double *loss);
    /* logit (n, k, s): k classes at each of s positions; target (n, s) class indices as floats. */
    unsharp_status (*softmax_ce)(unsharp_backend *be, const float *logit, const float *target,
                                 const float *weight /* (n, s) or NULL */, int n, int k, int s,
                                 float scale, float *grad, double *loss);

    /* -- optimisers, over flat parameter arrays -- */
    unsharp_status (*adam_step)(unsharp_backend *be, float *p, const float *g, float *m, float *v,
                                size_t n, const unsharp_adam_params *hp);
    unsharp_status (*sgd_step)(unsharp_backend *be, float *p, const float *g, float *vel, size_t n,
                               float lr, float momentum, float weight_decay);
};

/* Creates the CPU backend; threads > 1 splits convolution work across images. */
unsharp_status unsharp__cpu_backend_create(int threads, char *errbuf, unsharp_backend **out);

/* Creates the CUDA backend on device 0 (cuda/load.c): it loads the CUDA module on first use.
 * UNSHARP_ERR_UNSUPPORTED when the build has no CUDA backend, the module is not installed or
 * no NVIDIA driver is present; UNSHARP_ERR_BACKEND ("no CUDA device: ...") when the driver
 * finds no usable device. */
unsharp_status unsharp__cuda_backend_create(char *errbuf, unsharp_backend **out);

/* The one call the CUDA module (libunsharp-cuda.so, from the .cu files in src/cuda) exports, found with dlsym.
 * version is UNSHARP_BACKEND_VERSION as the engine has it; the module refuses another one. */
#define UNSHARP_CUDA_MODULE_ENTRY "unsharp_cuda_module_create"
typedef unsharp_status (*unsharp_cuda_module_create_fn)(int version, char *errbuf, unsharp_backend **out);

/* The dropout draw shared by every backend: a uniform in [0, 1) from (seed, i). It compiles
 * for the host and, under nvcc, for the device too, so every backend draws the same mask. */
#ifdef __CUDACC__
#define UNSHARP_HOST_DEVICE __host__ __device__
#else
#define UNSHARP_HOST_DEVICE
#endif
static inline UNSHARP_HOST_DEVICE float unsharp__hash_uniform(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

#endif
