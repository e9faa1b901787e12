/* cpu_ops.h: what the files of the CPU backend share. backend_cpu.c builds the slot table
 * from the functions declared here; each op family lives in its own file (conv.c, pool.c, lcn.c,
 * elementwise.c, loss.c, optim.c) with forward and backward side by side. The private state
 * is only the thread count: convolutions split the images of a batch across that many
 * OpenMP threads, and the large per-element passes (leaky ReLU, bias, fill) split their range,
 * each element or channel computed wholly by one thread, so results never depend on the
 * thread count; everything else runs on the calling thread. */
#ifndef UNSHARP_CPU_OPS_H
#define UNSHARP_CPU_OPS_H

#include "backend.h"
#include "error.h"

typedef struct cpu_impl {
    int threads; /* >= 1 */
} cpu_impl;

/* Threads for a per-element pass over n values: the backend's count when n is large enough to
 * be worth waking them, else 1. */
#define CPU_PAR_MIN 65536
static inline int cpu_par_threads(const unsharp_backend *be, size_t n)
{
    return n >= CPU_PAR_MIN ? ((const cpu_impl *)be->impl)->threads : 1;
}

/* Declares the st / errbuf pair that FAIL and CHECK expect. */
#define CPU_ERRCTX(be)                          \
    unsharp_status st = UNSHARP_OK;             \
    char *errbuf = (be)->errbuf

/* backend_cpu.c */
unsharp_status unsharp__cpu_gemm(unsharp_backend *be, int trans_a, int trans_b, int m, int n, int k,
                                 float alpha, const float *a, int lda, const float *b, int ldb,
                                 float beta, float *c, int ldc);

/* conv.c */
size_t unsharp__cpu_conv_workspace(unsharp_backend *be, const unsharp_conv_shape *s);
unsharp_status unsharp__cpu_conv2d_forward(unsharp_backend *be, const unsharp_conv_shape *s, const float *x,
                                           const float *w, const float *b, float *y, float *act, float slope,
                                           void *work);
unsharp_status unsharp__cpu_conv2d_forward_u8(unsharp_backend *be, const unsharp_conv_shape *s,
                                              const unsigned char *x, size_t stride, float scale, const float *w,
                                              const float *b, float *y, float *act, float slope, void *work);
unsharp_status unsharp__cpu_conv2d_backward_data(unsharp_backend *be, const unsharp_conv_shape *s,
                                                 const float *dy, const float *w, float *dx, int accumulate,
                                                 void *work);
unsharp_status unsharp__cpu_conv2d_backward_filter(unsharp_backend *be, const unsharp_conv_shape *s,
                                                   const float *x, const float *dy, float *dw, void *work);

/* conv_direct.c: the forward pass of one-input-channel and 3x3 stride-2 convolutions, and the
 * weight gradient of one-input-channel ones, without im2col (conv.c picks it).
 * applies: whether the shape's forward takes it; grad_applies: whether its weight gradient
 * does (then so does its forward); floats: its workspace. Its vector build is simd.h's
 * choice. */
int unsharp__conv_direct_applies(const unsharp_conv_shape *s);
int unsharp__conv_direct_grad_applies(const unsharp_conv_shape *s);
size_t unsharp__conv_direct_floats(const unsharp_conv_shape *s);
void unsharp__conv_direct_forward(const unsharp_conv_shape *s, const float *x, const float *w, const float *b,
                                  float *y, float *act, float slope, float *work);
/* The same for one image of one channel of 8-bit samples (rows stride bytes apart), each read
 * as sample * scale: the same floats, and the same output, as converting them first. */
void unsharp__conv_direct_forward_u8(const unsharp_conv_shape *s, const unsigned char *x, size_t stride, float scale,
                                     const float *w, const float *b, float *y, float *act, float slope, float *work);
/* dW (cout, kh*kw) += the weight gradient of one image (x, dy); work: conv_direct_floats
 * floats. */
void unsharp__conv_direct_backward_filter(const unsharp_conv_shape *s, const float *x, const float *dy, float *dw,
                                          float *work);

/* conv_winograd.c: the forward pass of 3x3 stride-1 pad-1 convolutions with at least 16 input
 * and output channels and 256 outputs a channel, by Winograd's F(2x2, 3x3) (conv.c picks it).
 * floats: its workspace; forward: one image, as conv2d_forward. */
int unsharp__conv_winograd_applies(const unsharp_conv_shape *s);
size_t unsharp__conv_winograd_floats(const unsharp_conv_shape *s);
void unsharp__conv_winograd_forward(const unsharp_conv_shape *s, const float *x, const float *w, const float *b,
                                    float *y, float *act, float slope, float *work);

/* pool.c */
unsharp_status unsharp__cpu_pool2d_forward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                           const float *x, float *y, int32_t *argmax);
unsharp_status unsharp__cpu_pool2d_backward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                            const float *dy, const int32_t *argmax, float *dx);
unsharp_status unsharp__cpu_global_pool_forward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                const float *x, float *y, int rows, int hw);
unsharp_status unsharp__cpu_global_pool_backward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                 const float *x, const float *y, const float *dy,
                                                 float *dx, int rows, int hw);

/* lcn.c */
size_t unsharp__cpu_lcn_workspace(unsharp_backend *be, int planes, int h, int w, int k);
unsharp_status unsharp__cpu_lcn_forward(unsharp_backend *be, const float *x, float *y, float *stats,
                                        int planes, int h, int w, int k, float eps, void *work);
unsharp_status unsharp__cpu_lcn_backward(unsharp_backend *be, const float *x, const float *stats, const float *dy,
                                         float *dx, int accumulate, int planes, int h, int w, int k, float eps,
                                         void *work);

/* elementwise.c */
unsharp_status unsharp__cpu_bias_forward(unsharp_backend *be, float *y, const float *b, int n, int c, int hw);
unsharp_status unsharp__cpu_bias_backward(unsharp_backend *be, const float *dy, float *db, int n, int c, int hw);
unsharp_status unsharp__cpu_leaky_relu_forward(unsharp_backend *be, const float *x, float *y, size_t n, float slope);
unsharp_status unsharp__cpu_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                size_t n, float slope, int accumulate);
unsharp_status unsharp__cpu_copy_channels(unsharp_backend *be, float *dst, int dst_c, int dst_off,
                                          const float *src, int src_c, int n, int hw, int accumulate);
unsharp_status unsharp__cpu_slice_channels_add(unsharp_backend *be, float *dst, int dst_c,
                                               const float *src, int src_c, int src_off, int n, int hw);
unsharp_status unsharp__cpu_dropout_forward(unsharp_backend *be, const float *x, float *y, float *mask,
                                            size_t n, float p, uint64_t seed);
unsharp_status unsharp__cpu_dropout_backward(unsharp_backend *be, const float *dy, const float *mask,
                                             float *dx, size_t n);

/* loss.c */
unsharp_status unsharp__cpu_sigmoid_ce(unsharp_backend *be, const float *logit, const float *target,
                                       const float *weight, size_t n, float scale, float *grad, double *loss);
unsharp_status unsharp__cpu_softmax_ce(unsharp_backend *be, const float *logit, const float *target,
                                       const float *weight, int n, int k, int s, float scale,
                                       float *grad, double *loss);

/* optim.c */
unsharp_status unsharp__cpu_adam_step(unsharp_backend *be, float *p, const float *g, float *m, float *v,
                                      size_t n, const unsharp_adam_params *hp);
unsharp_status unsharp__cpu_sgd_step(unsharp_backend *be, float *p, const float *g, float *vel, size_t n,
                                     float lr, float momentum, float weight_decay);

#endif
