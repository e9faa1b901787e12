/* cuda_ops.h: what the two files of the CUDA backend share. backend_cuda.cu holds the memory
 * slots, the matrix multiply on cuBLAS, the convolutions (cuDNN, or im2col + cuBLAS without
 * it) and create/destroy; kernels.cu holds the kernels for every other slot. Everything runs
 * on the legacy default stream, so the blocking cudaMemcpy of download orders after all work.
 *
 * Every CUDA, cuBLAS and cuDNN failure becomes UNSHARP_ERR_BACKEND with
 * "func(): file:line: call: message" in be->errbuf (CU_TRY, CUBLAS_TRY, CUDNN_TRY); a kernel
 * launch is checked with CU_LAUNCHED(). Caller mistakes are UNSHARP_ERR_INVALID (CU_INVALID). */
#ifndef UNSHARP_CUDA_OPS_H
#define UNSHARP_CUDA_OPS_H

#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "backend.h"
#include "error.h"
}

typedef struct cuda_conv_entry cuda_conv_entry; /* backend_cuda.cu: the per-shape algorithm cache */

typedef struct cuda_impl {
    int device;
    cublasHandle_t blas;
    void *dnn;                /* cudnnHandle_t, or NULL without cuDNN */
    double *scratch;          /* device: [0] a loss sum */
    unsigned long long *flag; /* device: the first bad target index for softmax_ce */
    cuda_conv_entry *convs;   /* cached convolution plans, most recent first */
    int n_convs;
} cuda_impl;

static inline cuda_impl *cuda_of(unsharp_backend *be) { return (cuda_impl *)be->impl; }

/* Message builders (backend_cuda.cu): they write be->errbuf and return the status. */
unsharp_status unsharp__cuda_fail(unsharp_backend *be, const char *func, const char *file, int line,
                                  const char *call, const char *msg);
const char *unsharp__cublas_msg(cublasStatus_t s);

#define CU_TRY(call)                                                                               \
    do {                                                                                           \
        cudaError_t cu_e_ = (call);                                                                \
        if (cu_e_ != cudaSuccess)                                                                  \
            return unsharp__cuda_fail(be, __func__, __FILE__, __LINE__, #call, cudaGetErrorString(cu_e_)); \
    } while (0)

#define CUBLAS_TRY(call)                                                                           \
    do {                                                                                           \
        cublasStatus_t cb_s_ = (call);                                                             \
        if (cb_s_ != CUBLAS_STATUS_SUCCESS)                                                        \
            return unsharp__cuda_fail(be, __func__, __FILE__, __LINE__, #call, unsharp__cublas_msg(cb_s_)); \
    } while (0)

#define CU_LAUNCHED() CU_TRY(cudaGetLastError())

#define CU_INVALID(...) return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, __func__, __VA_ARGS__)

/* Threads per block, and blocks for n elements with a grid-stride loop past the cap. */
#define CU_THREADS 256
static inline unsigned cu_blocks(size_t n)
{
    size_t b = (n + CU_THREADS - 1) / CU_THREADS;
    if (b < 1) b = 1;
    return (unsigned)(b > 65535u * 16u ? 65535u * 16u : b);
}

/* kernels.cu: the slots that are plain kernels. */
unsharp_status unsharp__cuda_fill(unsharp_backend *be, float *dst, float value, size_t n);
unsharp_status unsharp__cuda_scale(unsharp_backend *be, float *c, int m, int n, int ldc, float beta);
unsharp_status unsharp__cuda_conv_epilogue(unsharp_backend *be, float *y, const float *b, float *act, float slope,
                                           int n, int c, int hw);
unsharp_status unsharp__cuda_im2col(unsharp_backend *be, const unsharp_conv_shape *s, const float *x, float *col);
unsharp_status unsharp__cuda_col2im(unsharp_backend *be, const unsharp_conv_shape *s, const float *col, float *dx,
                                    int accumulate);
unsharp_status unsharp__cuda_bias_forward(unsharp_backend *be, float *y, const float *b, int n, int c, int hw);
unsharp_status unsharp__cuda_bias_backward(unsharp_backend *be, const float *dy, float *db, int n, int c, int hw);
unsharp_status unsharp__cuda_leaky_relu_forward(unsharp_backend *be, const float *x, float *y, size_t n, float slope);
unsharp_status unsharp__cuda_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                 size_t n, float slope, int accumulate);
unsharp_status unsharp__cuda_sigmoid_forward(unsharp_backend *be, const float *x, float *y, size_t n);
unsharp_status unsharp__cuda_pool2d_forward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                            const float *x, float *y, int32_t *argmax);
unsharp_status unsharp__cuda_pool2d_backward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                             const float *dy, const int32_t *argmax, float *dx);
unsharp_status unsharp__cuda_global_pool_forward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                 const float *x, float *y, int rows, int hw);
unsharp_status unsharp__cuda_global_pool_backward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                  const float *x, const float *y, const float *dy,
                                                  float *dx, int rows, int hw);
unsharp_status unsharp__cuda_copy_channels(unsharp_backend *be, float *dst, int dst_c, int dst_off,
                                           const float *src, int src_c, int n, int hw, int accumulate);
unsharp_status unsharp__cuda_slice_channels_add(unsharp_backend *be, float *dst, int dst_c,
                                                const float *src, int src_c, int src_off, int n, int hw);
unsharp_status unsharp__cuda_dropout_forward(unsharp_backend *be, const float *x, float *y, float *mask,
                                             size_t n, float p, uint64_t seed);
unsharp_status unsharp__cuda_dropout_backward(unsharp_backend *be, const float *dy, const float *mask,
                                              float *dx, size_t n);
unsharp_status unsharp__cuda_sigmoid_ce(unsharp_backend *be, const float *logit, const float *target,
                                        const float *weight, size_t n, float scale, float *grad, double *loss);
unsharp_status unsharp__cuda_softmax_ce(unsharp_backend *be, const float *logit, const float *target,
                                        const float *weight, int n, int k, int s, float scale,
                                        float *grad, double *loss);
unsharp_status unsharp__cuda_adam_step(unsharp_backend *be, float *p, const float *g, float *m, float *v,
                                       size_t n, const unsharp_adam_params *hp);
unsharp_status unsharp__cuda_sgd_step(unsharp_backend *be, float *p, const float *g, float *vel, size_t n,
                                      float lr, float momentum, float weight_decay);

#endif
