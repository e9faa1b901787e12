/* backend_cuda.cu: the CUDA backend's slot table. Memory slots on cudaMalloc/cudaMemcpy, the
 * dense matrix multiply on cuBLAS, and the convolutions on cuDNN, with the algorithms chosen
 * once per shape and cached: from cuDNN's heuristics, or by timing them ($UNSHARP_CUDNN_ALGO,
 * see cuda_init). Both keep full FP32 arithmetic: cuBLAS in its default math mode and cuDNN
 * in FMA math, so no TF32 tensor-core rounding makes the results drift from the CPU backend's.
 * Everything else is a kernel in kernels.cu. These files, with seterr.c, make the CUDA module
 * libunsharp-cuda.so, which load.c opens only when a model asks for CUDA: a program on the CPU
 * never maps the CUDA libraries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cuda_ops.h"

/* ---- messages ---- */

unsharp_status unsharp__cuda_fail(unsharp_backend *be, const char *func, const char *file, int line,
                                  const char *call, const char *msg)
{
    const char *base = strrchr(file, '/');
    /* The runtime keeps a failed call's error as its "last error" until it is read, so the next
     * kernel launch's check (CU_LAUNCHED) would report it again: every failure path comes here,
     * and reading it now leaves the backend usable. An error that poisons the context (a fault
     * inside a kernel) stays, as the runtime wills. */
    cudaGetLastError();
    return unsharp__seterr(be->errbuf, UNSHARP_ERR_BACKEND, func, "%s:%d: %s: %s", base ? base + 1 : file, line,
                           call, msg);
}

const char *unsharp__cublas_msg(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "cuBLAS not initialised";
    case CUBLAS_STATUS_ALLOC_FAILED: return "cuBLAS allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "cuBLAS invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "cuBLAS architecture mismatch";
    case CUBLAS_STATUS_MAPPING_ERROR: return "cuBLAS mapping error";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "cuBLAS execution failed";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "cuBLAS internal error";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "cuBLAS not supported";
    default: return "cuBLAS error";
    }
}


/* ---- memory ---- */

static unsharp_status cuda_alloc(unsharp_backend *be, size_t bytes, void **out)
{
    void *p = NULL;
    if (!out) CU_INVALID("out is NULL");
    *out = NULL;
    /* a zero-byte request still gets a distinct, freeable pointer */
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_NOMEM, __func__, "cannot allocate %zu bytes on the device",
                               bytes);
    }
    CU_TRY(e);
    e = cudaMemset(p, 0, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        cudaFree(p);
        CU_TRY(e);
    }
    *out = p;
    return UNSHARP_OK;
}

static void cuda_release(unsharp_backend *be, void *p)
{
    (void)be;
    /* a pointer that is not the device's is refused; its error must not linger (see cuda_fail) */
    if (p && cudaFree(p) != cudaSuccess) cudaGetLastError();
}

static unsharp_status cuda_memcpy(unsharp_backend *be, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
    if (bytes == 0) return UNSHARP_OK;
    if (!dst || !src) CU_INVALID("NULL pointer for a %zu-byte copy", bytes);
    if (dst == src) return UNSHARP_OK;
    CU_TRY(cudaMemcpy(dst, src, bytes, kind));
    return UNSHARP_OK;
}

/* Makes the upload ring once; a machine that cannot pin the memory gets plain copies. */
static int stage_ready(cuda_impl *impl)
{
    if (impl->stage_state == 0) {
        impl->stage_state = 1;
        for (int i = 0; i < UNSHARP_CUDA_STAGES; i++)
            if (cudaMallocHost(&impl->stage[i], UNSHARP_CUDA_STAGE_BYTES) != cudaSuccess ||
                cudaEventCreateWithFlags(&impl->stage_free[i], cudaEventDisableTiming) != cudaSuccess) {
                cudaGetLastError();
                impl->stage_state = -1;
                break;
            }
    }
    return impl->stage_state == 1;
}

/* A plain cudaMemcpy from pageable memory first waits for all the device's queued work, which
 * leaves the device idle while the host stages the copy and then queues the next kernels. So an
 * upload is cut into pieces that the host copies into the pinned ring and queues with
 * cudaMemcpyAsync, each buffer reused once the copy that last read it is done: the host copies
 * while the device still works, and returns as soon as the last piece is queued (the caller's
 * memory is free again by then). */
static unsharp_status cuda_upload(unsharp_backend *be, void *dst, const void *host, size_t bytes)
{
    cuda_impl *impl = cuda_of(be);
    if (bytes == 0) return UNSHARP_OK;
    if (!dst || !host) CU_INVALID("NULL pointer for a %zu-byte copy", bytes);
    if (!stage_ready(impl)) return cuda_memcpy(be, dst, host, bytes, cudaMemcpyHostToDevice);
    for (size_t off = 0; off < bytes; off += UNSHARP_CUDA_STAGE_BYTES) {
        size_t len = bytes - off < UNSHARP_CUDA_STAGE_BYTES ? bytes - off : UNSHARP_CUDA_STAGE_BYTES;
        int k = impl->stage_next;
        impl->stage_next = (k + 1) % UNSHARP_CUDA_STAGES;
        CU_TRY(cudaEventSynchronize(impl->stage_free[k]));
        memcpy(impl->stage[k], (const char *)host + off, len);
        CU_TRY(cudaMemcpyAsync((char *)dst + off, impl->stage[k], len, cudaMemcpyHostToDevice, 0));
        CU_TRY(cudaEventRecord(impl->stage_free[k], 0));
    }
    return UNSHARP_OK;
}

static unsharp_status cuda_download(unsharp_backend *be, void *host, const void *src, size_t bytes)
{
    return cuda_memcpy(be, host, src, bytes, cudaMemcpyDeviceToHost);
}

static unsharp_status cuda_copy(unsharp_backend *be, void *dst, const void *src, size_t bytes)
{
    return cuda_memcpy(be, dst, src, bytes, cudaMemcpyDeviceToDevice);
}

/* ---- dense ---- */

static unsharp_status cuda_gemm(unsharp_backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                                const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m < 0 || n < 0 || k < 0) CU_INVALID("negative size m=%d n=%d k=%d", m, n, k);
    int min_lda = trans_a ? m : k, min_ldb = trans_b ? k : n;
    if (min_lda < 1) min_lda = 1;
    if (min_ldb < 1) min_ldb = 1;
    if (lda < min_lda || ldb < min_ldb || ldc < (n > 1 ? n : 1))
        CU_INVALID("bad leading dimension lda=%d ldb=%d ldc=%d for m=%d n=%d k=%d", lda, ldb, ldc, m, n, k);
    if (m == 0 || n == 0) return UNSHARP_OK;
    if (!c || (k > 0 && (!a || !b))) CU_INVALID("NULL matrix");
    if (k == 0) return unsharp__cuda_scale(be, c, m, n, ldc, beta);
    /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands */
    CUBLAS_TRY(cublasSgemm(cuda_of(be)->blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                           n, m, k, &alpha, b, ldb, a, lda, &beta, c, ldc));
    return UNSHARP_OK;
}

/* ---- convolution: the per-shape plan cache ---- */

#define CONV_CACHE_MAX 64
/* Largest workspace an algorithm may ask for; a faster one that wants more is passed over. */
#define CONV_WORKSPACE_CAP ((size_t)512 << 20)

struct cuda_conv_entry {
    unsharp_conv_shape s;
    size_t work; /* bytes: the most any direction needs */
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd[3]; /* forward, backward data, backward filter */
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t ws[3];
};

static int conv_shape_ok(const unsharp_conv_shape *s)
{
    if (!s) return 0;
    if (s->n < 1 || s->cin < 1 || s->h < 1 || s->w < 1 || s->cout < 1 || s->kh < 1 || s->kw < 1 || s->sh < 1 ||
        s->sw < 1 || s->ph < 0 || s->pw < 0)
        return 0;
    int64_t eh = (int64_t)s->h + 2 * (int64_t)s->ph, ew = (int64_t)s->w + 2 * (int64_t)s->pw;
    if (eh < s->kh || ew < s->kw) return 0;
    if ((eh - s->kh) / s->sh + 1 != s->oh || (ew - s->kw) / s->sw + 1 != s->ow) return 0;
    /* element counts that the kernels and cuDNN index with int */
    if ((int64_t)s->n * s->cin * s->h * s->w > INT32_MAX || (int64_t)s->n * s->cout * s->oh * s->ow > INT32_MAX)
        return 0;
    return 1;
}

static int same_shape(const unsharp_conv_shape *a, const unsharp_conv_shape *b)
{
    return a->n == b->n && a->cin == b->cin && a->h == b->h && a->w == b->w && a->cout == b->cout && a->kh == b->kh &&
           a->kw == b->kw && a->sh == b->sh && a->sw == b->sw && a->ph == b->ph && a->pw == b->pw;
}

static void conv_entry_free(cuda_conv_entry *e)
{
    if (e->xd) cudnnDestroyTensorDescriptor(e->xd);
    if (e->yd) cudnnDestroyTensorDescriptor(e->yd);
    if (e->wd) cudnnDestroyFilterDescriptor(e->wd);
    for (int i = 0; i < 3; i++)
        if (e->cd[i]) cudnnDestroyConvolutionDescriptor(e->cd[i]);
    memset(e, 0, sizeof *e);
}

/* What a candidate must be, pass by pass, under each policy (cuda_impl.algo): bit 1 deterministic,
 * bit 2 FMA math (no TF32). "heuristic" and "measure" want deterministic FMA algorithms first;
 * "fastest" gives up determinism but never FMA math while an FMA candidate is there. */
enum { NEED_DET = 1, NEED_FMA = 2 };
static const int algo_passes[3][3] = {
    [UNSHARP_ALGO_HEURISTIC] = {NEED_DET | NEED_FMA, NEED_DET, 0},
    [UNSHARP_ALGO_MEASURE] = {NEED_DET | NEED_FMA, NEED_DET, 0},
    [UNSHARP_ALGO_FASTEST] = {NEED_FMA, 0, 0},
};

/* The first candidate, in cuDNN's order (heuristic rank, or measured time from cudnnFind*),
 * that runs within the workspace cap and meets the policy's first pass that any meets; the
 * descriptor is then set to that candidate's math type, as cuDNN asks. -1 when none works. */
#define PICK_ALGO(perf, count, out_algo, out_ws, cd, pick)                                          \
    do {                                                                                           \
        (pick) = -1;                                                                               \
        for (int pass_ = 0; pass_ < 3 && (pick) < 0; pass_++) {                                    \
            const int need_ = algo_passes[cuda_of(be)->algo][pass_];                               \
            for (int i_ = 0; i_ < (count) && (pick) < 0; i_++)                                     \
                if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= CONV_WORKSPACE_CAP && \
                    (!(need_ & NEED_DET) || (perf)[i_].determinism == CUDNN_DETERMINISTIC) &&      \
                    (!(need_ & NEED_FMA) || (perf)[i_].mathType == CUDNN_FMA_MATH))                \
                    (pick) = i_;                                                                   \
        }                                                                                          \
        if ((pick) >= 0) {                                                                         \
            (out_algo) = (perf)[pick].algo;                                                        \
            (out_ws) = (perf)[pick].memory;                                                        \
            CUDNN_TRY(cudnnSetConvolutionMathType((cd), (perf)[pick].mathType));                   \
        }                                                                                          \
    } while (0)

/* Candidates for one direction: timed by cudnnFind* (it allocates its own buffers and runs
 * each algorithm) under "measure" and "fastest", ranked by cuDNN's heuristics otherwise or when
 * the timing fails (a shape too large to allocate twice, say), then picked. */
#define CHOOSE_ALGO(perf_t, count_max, find_call, heur_call, out_algo, out_ws, cd)                  \
    do {                                                                                           \
        perf_t perf_[count_max];                                                                   \
        int count_ = 0, pick_ = -1;                                                                \
        if (cuda_of(be)->algo != UNSHARP_ALGO_HEURISTIC) {                                          \
            if (find_call == CUDNN_STATUS_SUCCESS) PICK_ALGO(perf_, count_, out_algo, out_ws, cd, pick_); \
            cudaGetLastError(); /* a failed timing leaves nothing behind */                        \
        }                                                                                          \
        if (pick_ < 0) {                                                                           \
            CUDNN_TRY(heur_call);                                                                  \
            PICK_ALGO(perf_, count_, out_algo, out_ws, cd, pick_);                                 \
        }                                                                                          \
        if (pick_ < 0)                                                                             \
            return unsharp__seterr(be->errbuf, UNSHARP_ERR_BACKEND, __func__,                      \
                                   "backend_cuda.cu:%d: cuDNN has no usable algorithm for this convolution", __LINE__); \
    } while (0)

static unsharp_status conv_entry_init(unsharp_backend *be, cuda_conv_entry *e)
{
    cudnnHandle_t dnn = cuda_of(be)->dnn;
    const unsharp_conv_shape *s = &e->s;
    int on, oc, oh, ow;
    CUDNN_TRY(cudnnCreateTensorDescriptor(&e->xd));
    CUDNN_TRY(cudnnCreateTensorDescriptor(&e->yd));
    CUDNN_TRY(cudnnCreateFilterDescriptor(&e->wd));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(e->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n, s->cin, s->h, s->w));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(e->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->n, s->cout, s->oh, s->ow));
    CUDNN_TRY(cudnnSetFilter4dDescriptor(e->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s->cout, s->cin, s->kh, s->kw));
    for (int i = 0; i < 3; i++) {
        CUDNN_TRY(cudnnCreateConvolutionDescriptor(&e->cd[i]));
        CUDNN_TRY(cudnnSetConvolution2dDescriptor(e->cd[i], s->ph, s->pw, s->sh, s->sw, 1, 1, CUDNN_CROSS_CORRELATION,
                                                  CUDNN_DATA_FLOAT));
        CUDNN_TRY(cudnnSetConvolutionMathType(e->cd[i], CUDNN_FMA_MATH));
    }
    CUDNN_TRY(cudnnGetConvolution2dForwardOutputDim(e->cd[0], e->xd, e->wd, &on, &oc, &oh, &ow));
    if (on != s->n || oc != s->cout || oh != s->oh || ow != s->ow)
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_BACKEND, __func__,
                               "cuDNN computes a (%d, %d, %d, %d) output, the shape says (%d, %d, %d, %d)", on, oc,
                               oh, ow, s->n, s->cout, s->oh, s->ow);
    CHOOSE_ALGO(cudnnConvolutionFwdAlgoPerf_t, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                cudnnFindConvolutionForwardAlgorithm(dnn, e->xd, e->wd, e->cd[0], e->yd,
                                                     CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count_, perf_),
                cudnnGetConvolutionForwardAlgorithm_v7(dnn, e->xd, e->wd, e->cd[0], e->yd,
                                                       CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count_, perf_),
                e->fwd, e->ws[0], e->cd[0]);
    CHOOSE_ALGO(cudnnConvolutionBwdDataAlgoPerf_t, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                cudnnFindConvolutionBackwardDataAlgorithm(dnn, e->wd, e->yd, e->cd[1], e->xd,
                                                          CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count_, perf_),
                cudnnGetConvolutionBackwardDataAlgorithm_v7(dnn, e->wd, e->yd, e->cd[1], e->xd,
                                                            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count_, perf_),
                e->bwd_data, e->ws[1], e->cd[1]);
    CHOOSE_ALGO(cudnnConvolutionBwdFilterAlgoPerf_t, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                cudnnFindConvolutionBackwardFilterAlgorithm(dnn, e->xd, e->yd, e->cd[2], e->wd,
                                                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count_, perf_),
                cudnnGetConvolutionBackwardFilterAlgorithm_v7(dnn, e->xd, e->yd, e->cd[2], e->wd,
                                                              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count_, perf_),
                e->bwd_filter, e->ws[2], e->cd[2]);
    e->work = e->ws[0];
    if (e->ws[1] > e->work) e->work = e->ws[1];
    if (e->ws[2] > e->work) e->work = e->ws[2];
    return UNSHARP_OK;
}

/* The cached plan for s, made on first use; the cache keeps the CONV_CACHE_MAX most recent. */
static unsharp_status conv_plan(unsharp_backend *be, const unsharp_conv_shape *s, cuda_conv_entry **out)
{
    cuda_impl *impl = cuda_of(be);
    *out = NULL;
    if (!conv_shape_ok(s)) CU_INVALID("invalid convolution shape");
    for (int i = 0; i < impl->n_convs; i++)
        if (same_shape(&impl->convs[i].s, s)) {
            if (i > 0) { /* move to the front */
                cuda_conv_entry hit = impl->convs[i];
                memmove(impl->convs + 1, impl->convs, (size_t)i * sizeof hit);
                impl->convs[0] = hit;
            }
            *out = &impl->convs[0];
            return UNSHARP_OK;
        }
    if (impl->n_convs == CONV_CACHE_MAX) conv_entry_free(&impl->convs[--impl->n_convs]);
    memmove(impl->convs + 1, impl->convs, (size_t)impl->n_convs * sizeof *impl->convs);
    memset(&impl->convs[0], 0, sizeof impl->convs[0]);
    impl->convs[0].s = *s;
    impl->n_convs++;
    unsharp_status st = conv_entry_init(be, &impl->convs[0]);
    if (st != UNSHARP_OK) {
        conv_entry_free(&impl->convs[0]);
        memmove(impl->convs, impl->convs + 1, (size_t)(--impl->n_convs) * sizeof *impl->convs);
        return st;
    }
    *out = &impl->convs[0];
    return UNSHARP_OK;
}

/* The slot cannot fail: a shape it cannot plan gets 0 here and its error from the call. */
static size_t cuda_conv_workspace(unsharp_backend *be, const unsharp_conv_shape *s)
{
    cuda_conv_entry *e = NULL;
    return conv_plan(be, s, &e) == UNSHARP_OK ? e->work : 0;
}

static unsharp_status conv_prepare(unsharp_backend *be, const unsharp_conv_shape *s, const void *a, const void *b,
                                   const void *c, const void *work, cuda_conv_entry **e)
{
    unsharp_status st = conv_plan(be, s, e);
    if (st != UNSHARP_OK) return st;
    if (!a || !b || !c) CU_INVALID("NULL tensor");
    if ((*e)->work > 0 && !work) CU_INVALID("workspace is NULL, %zu bytes needed", (*e)->work);
    return UNSHARP_OK;
}

static const float one = 1.0f, zero = 0.0f;

static unsharp_status cuda_conv2d_forward(unsharp_backend *be, const unsharp_conv_shape *s, const float *x,
                                          const float *w, const float *b, float *y, float *act, float slope,
                                          void *work)
{
    cuda_conv_entry *e = NULL;
    unsharp_status st = conv_prepare(be, s, x, w, y, work, &e);
    if (st != UNSHARP_OK) return st;
    CUDNN_TRY(cudnnConvolutionForward(cuda_of(be)->dnn, &one, e->xd, x, e->wd, w, e->cd[0], e->fwd, work, e->ws[0],
                                      &zero, e->yd, y));
    return unsharp__cuda_conv_epilogue(be, y, b, act, slope, s->n, s->cout, s->oh * s->ow);
}

static unsharp_status cuda_conv2d_backward_data(unsharp_backend *be, const unsharp_conv_shape *s, const float *dy,
                                                const float *w, float *dx, int accumulate, void *work)
{
    cuda_conv_entry *e = NULL;
    unsharp_status st = conv_prepare(be, s, dy, w, dx, work, &e);
    if (st != UNSHARP_OK) return st;
    CUDNN_TRY(cudnnConvolutionBackwardData(cuda_of(be)->dnn, &one, e->wd, w, e->yd, dy, e->cd[1], e->bwd_data, work,
                                           e->ws[1], accumulate ? &one : &zero, e->xd, dx));
    return UNSHARP_OK;
}

static unsharp_status cuda_conv2d_backward_filter(unsharp_backend *be, const unsharp_conv_shape *s, const float *x,
                                                  const float *dy, float *dw, void *work)
{
    cuda_conv_entry *e = NULL;
    unsharp_status st = conv_prepare(be, s, x, dy, dw, work, &e);
    if (st != UNSHARP_OK) return st;
    CUDNN_TRY(cudnnConvolutionBackwardFilter(cuda_of(be)->dnn, &one, e->xd, x, e->yd, dy, e->cd[2], e->bwd_filter,
                                             work, e->ws[2], &one, e->wd, dw));
    return UNSHARP_OK;
}

/* ---- table ---- */

static void cuda_destroy(unsharp_backend *be)
{
    if (!be) return;
    cuda_impl *impl = cuda_of(be);
    if (impl) {
        for (int i = 0; i < impl->n_convs; i++) conv_entry_free(&impl->convs[i]);
        free(impl->convs);
        if (impl->scratch) cudaFree(impl->scratch);
        if (impl->partial) cudaFree(impl->partial);
        for (int i = 0; i < UNSHARP_CUDA_STAGES; i++) {
            if (impl->stage_free[i]) { /* the last copy that read the buffer is done first */
                cudaEventSynchronize(impl->stage_free[i]);
                cudaEventDestroy(impl->stage_free[i]);
            }
            if (impl->stage[i]) cudaFreeHost(impl->stage[i]);
        }
        if (impl->blas) cublasDestroy(impl->blas);
        if (impl->dnn) cudnnDestroy(impl->dnn);
        free(impl);
    }
    free(be);
}

/* Fills the handles and buffers of a fresh backend; on failure cuda_destroy frees what was made.
 *
 * $UNSHARP_CUDNN_ALGO chooses each convolution shape's algorithms, once per shape:
 * - "heuristic" (the default): the first deterministic FMA algorithm in cuDNN's heuristic
 *   ranking. The choice is the same in every run, so a seed trains to the same weights.
 * - "measure": cudnnFind* times every algorithm on the shape; the fastest deterministic FMA
 *   one. Faster, but two runs may pick different algorithms where two are close in time, and
 *   then their weights differ in the last bits; each shape met costs one timing (a folder of
 *   photos of many sizes is judged slower).
 * - "fastest": as "measure", non-deterministic algorithms (atomic sums) allowed: the last bits
 *   change from run to run. */
static unsharp_status cuda_init(unsharp_backend *be)
{
    cuda_impl *impl = cuda_of(be);
    int count = 0;
    const char *algo = getenv("UNSHARP_CUDNN_ALGO");
    if (!algo || !*algo || strcmp(algo, "heuristic") == 0) impl->algo = UNSHARP_ALGO_HEURISTIC;
    else if (strcmp(algo, "measure") == 0) impl->algo = UNSHARP_ALGO_MEASURE;
    else if (strcmp(algo, "fastest") == 0) impl->algo = UNSHARP_ALGO_FASTEST;
    else
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_INVALID, "unsharp__cuda_backend_create",
                               "UNSHARP_CUDNN_ALGO=%s: not heuristic, measure or fastest", algo);
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        cudaGetLastError(); /* clear the error so that later calls start clean */
        return unsharp__seterr(be->errbuf, UNSHARP_ERR_BACKEND, "unsharp__cuda_backend_create", "no CUDA device: %s",
                               e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount found none");
    }
    impl->device = 0;
    CU_TRY(cudaSetDevice(impl->device));
    CU_TRY(cudaFree(0)); /* creates the context now, so that its failure is reported here */
    impl->convs = (cuda_conv_entry *)calloc(CONV_CACHE_MAX, sizeof *impl->convs);
    if (!impl->convs) return unsharp__seterr(be->errbuf, UNSHARP_ERR_NOMEM, __func__, "out of memory");
    /* the loss sum and, right after it, softmax_ce's flag: one download brings both */
    CU_TRY(cudaMalloc((void **)&impl->scratch, 2 * sizeof(double)));
    impl->flag = (unsigned long long *)(impl->scratch + 1);
    CUBLAS_TRY(cublasCreate(&impl->blas));
    /* full FP32: no TF32 tensor-core rounding */
    CUBLAS_TRY(cublasSetMathMode(impl->blas, CUBLAS_DEFAULT_MATH));
    CUDNN_TRY(cudnnCreate(&impl->dnn));
    return UNSHARP_OK;
}

/* The module's one exported call (UNSHARP_CUDA_MODULE_ENTRY in backend.h); cuda/load.c finds it. */
extern "C" __attribute__((visibility("default"))) unsharp_status unsharp_cuda_module_create(int version, char *errbuf,
                                                                                            unsharp_backend **out)
{
    if (!out) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "out is NULL");
    *out = NULL;
    if (version != UNSHARP_BACKEND_VERSION)
        return unsharp__seterr(errbuf, UNSHARP_ERR_VERSION, __func__,
                               "the CUDA module has backend table version %d, the engine %d: install matching builds",
                               UNSHARP_BACKEND_VERSION, version);
    unsharp_backend *be = (unsharp_backend *)calloc(1, sizeof *be);
    cuda_impl *impl = (cuda_impl *)calloc(1, sizeof *impl);
    if (!be || !impl) {
        free(be);
        free(impl);
        return unsharp__seterr(errbuf, UNSHARP_ERR_NOMEM, __func__, "cannot allocate the CUDA backend");
    }
    be->version = UNSHARP_BACKEND_VERSION;
    be->name = "cuda";
    be->errbuf = errbuf;
    be->impl = impl;
    be->alloc = cuda_alloc;
    be->release = cuda_release;
    be->upload = cuda_upload;
    be->download = cuda_download;
    be->copy = cuda_copy;
    be->fill = unsharp__cuda_fill;
    be->destroy = cuda_destroy;
    be->gemm = cuda_gemm;
    be->conv_workspace = cuda_conv_workspace;
    be->conv2d_forward = cuda_conv2d_forward;
    be->conv2d_forward_u8 = NULL; /* the model converts 8-bit input and uploads floats */
    be->conv2d_backward_data = cuda_conv2d_backward_data;
    be->conv2d_backward_filter = cuda_conv2d_backward_filter;
    be->bias_forward = unsharp__cuda_bias_forward;
    be->bias_backward = unsharp__cuda_bias_backward;
    be->leaky_relu_forward = unsharp__cuda_leaky_relu_forward;
    be->leaky_relu_backward = unsharp__cuda_leaky_relu_backward;
    be->pool2d_forward = unsharp__cuda_pool2d_forward;
    be->pool2d_backward = unsharp__cuda_pool2d_backward;
    be->global_pool_forward = unsharp__cuda_global_pool_forward;
    be->global_pool_backward = unsharp__cuda_global_pool_backward;
    be->lcn_workspace = unsharp__cuda_lcn_workspace;
    be->lcn_forward = unsharp__cuda_lcn_forward;
    be->lcn_backward = unsharp__cuda_lcn_backward;
    be->copy_channels = unsharp__cuda_copy_channels;
    be->slice_channels_add = unsharp__cuda_slice_channels_add;
    be->dropout_forward = unsharp__cuda_dropout_forward;
    be->dropout_backward = unsharp__cuda_dropout_backward;
    be->sigmoid_ce = unsharp__cuda_sigmoid_ce;
    be->softmax_ce = unsharp__cuda_softmax_ce;
    be->adam_step = unsharp__cuda_adam_step;
    be->sgd_step = unsharp__cuda_sgd_step;

    unsharp_status st = cuda_init(be);
    if (st != UNSHARP_OK) {
        cuda_destroy(be);
        return st;
    }
    *out = be;
    return UNSHARP_OK;
}

/* the exported call has exactly the type load.c casts it to */
static const unsharp_cuda_module_create_fn entry_type_check __attribute__((unused)) = unsharp_cuda_module_create;
