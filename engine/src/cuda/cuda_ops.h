/* cuda_ops.h: what the two files of the CUDA backend share. backend_cuda.cu holds the memory
 * slots, the matrix multiply on cuBLAS, the convolutions on cuDNN and create/destroy;
 * kernels.cu holds the kernels for every other slot. Everything runs
 * on the legacy default stream, so the blocking cudaMemcpy of download orders after all work,
 * and an upload, queued there from pinned memory without waiting, orders after the work queued
 * before it and before the work queued after it.
 *
 * Every CUDA, cuBLAS and cuDNN failure becomes UNSHARP_ERR_BACKEND with
 * "func(): file:line: call: message" in be->errbuf (CU_TRY, CUBLAS_TRY, CUDNN_TRY), and reads
 * the runtime's last error so that the next launch's check does not report it again; a kernel
 * launch is checked with CU_LAUNCHED(). Caller mistakes are UNSHARP_ERR_INVALID (CU_INVALID). */
#ifndef UNSHARP_CUDA_OPS_H
#define UNSHARP_CUDA_OPS_H

#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "backend.h"
#include "error.h"
}

typedef struct cuda_conv_entry cuda_conv_entry; /* backend_cuda.cu: the per-shape algorithm cache */

#define UNSHARP_CUDA_STAGES 4                      /* pinned upload buffers */
#define UNSHARP_CUDA_STAGE_BYTES ((size_t)2 << 20) /* each */

/* How convolution algorithms are chosen ($UNSHARP_CUDNN_ALGO; backend_cuda.cu's cuda_init). */
typedef enum { UNSHARP_ALGO_HEURISTIC = 0, UNSHARP_ALGO_MEASURE = 1, UNSHARP_ALGO_FASTEST = 2 } cuda_algo_policy;

typedef struct cuda_impl {
    int device;
    cublasHandle_t blas;
    cudnnHandle_t dnn;
    cuda_algo_policy algo;
    double *scratch;          /* device: [0] a loss sum, [1] holds flag */
    unsigned long long *flag; /* device, inside scratch: the first bad target index for softmax_ce */
    double *partial;          /* device: per-block partial sums of bias_backward (kernels.cu) */
    size_t n_partial;         /* its length in doubles */
    cuda_conv_entry *convs;   /* cached convolution plans, most recent first */
    int n_convs;
    /* uploads go through a ring of pinned host buffers (backend_cuda.cu, cuda_upload) */
    void *stage[UNSHARP_CUDA_STAGES];
    cudaEvent_t stage_free[UNSHARP_CUDA_STAGES]; /* recorded after the copy that read the buffer */
    int stage_next;
    int stage_state; /* 0: not made yet, 1: made, -1: could not be made (plain copies) */
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

#define CUDNN_TRY(call)                                                                            \
    do {                                                                                           \
        cudnnStatus_t dn_s_ = (call);                                                              \
        if (dn_s_ != CUDNN_STATUS_SUCCESS)                                                         \
            return unsharp__cuda_fail(be, __func__, __FILE__, __LINE__, #call, cudnnGetErrorString(dn_s_)); \
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
unsharp_status unsharp__cuda_bias_forward(unsharp_backend *be, float *y, const float *b, int n, int c, int hw);
unsharp_status unsharp__cuda_bias_backward(unsharp_backend *be, const float *dy, float *db, int n, int c, int hw);
unsharp_status unsharp__cuda_leaky_relu_forward(unsharp_backend *be, const float *x, float *y, size_t n, float slope);
unsharp_status unsharp__cuda_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                 size_t n, float slope, int accumulate);
unsharp_status unsharp__cuda_pool2d_forward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                            const float *x, float *y, int32_t *argmax);
unsharp_status unsharp__cuda_pool2d_backward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                             const float *dy, const int32_t *argmax, float *dx);
unsharp_status unsharp__cuda_global_pool_forward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                 const float *x, float *y, int rows, int hw);
unsharp_status unsharp__cuda_global_pool_backward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                  const float *x, const float *y, const float *dy,
                                                  float *dx, int rows, int hw);
size_t unsharp__cuda_lcn_workspace(unsharp_backend *be, int planes, int h, int w, int k);
unsharp_status unsharp__cuda_lcn_forward(unsharp_backend *be, const float *x, float *y, float *stats, int planes,
                                         int h, int w, int k, float eps, void *work);
unsharp_status unsharp__cuda_lcn_backward(unsharp_backend *be, const float *x, const float *stats, const float *dy,
                                          float *dx, int accumulate, int planes, int h, int w, int k, float eps,
                                          void *work);
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
