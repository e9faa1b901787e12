/* backend_cpu.c: the CPU backend's slot table, its memory slots (host memory from calloc and
 * free, so "upload" and "download" are plain copies), the dense matrix multiply on OpenBLAS,
 * and create/destroy. OpenBLAS is pinned to one thread at creation so that it never
 * oversubscribes the cores when the convolutions run their own OpenMP threads. */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_ops.h"

/* OpenBLAS (pthreads build): stops its thread pool; see unsharp__cpu_backend_create. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* ---- memory ---- */

static unsharp_status cpu_alloc(unsharp_backend *be, size_t bytes, void **out)
{
    CPU_ERRCTX(be);
    void *p = NULL;
    if (!out) FAIL(UNSHARP_ERR_INVALID, "out is NULL");
    *out = NULL;
    /* A zero-byte request still gets a distinct, freeable pointer. */
    p = calloc(1, bytes ? bytes : 1);
    if (!p) FAIL(UNSHARP_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
    *out = p;
bailout:
    return st;
}

static void cpu_release(unsharp_backend *be, void *p)
{
    (void)be;
    free(p);
}

static unsharp_status cpu_copy_bytes(unsharp_backend *be, void *dst, const void *src, size_t bytes)
{
    CPU_ERRCTX(be);
    if (bytes == 0) goto bailout;
    if (!dst || !src) FAIL(UNSHARP_ERR_INVALID, "NULL pointer for a %zu-byte copy", bytes);
    if (dst != src) memmove(dst, src, bytes);
bailout:
    return st;
}

static unsharp_status cpu_upload(unsharp_backend *be, void *dst, const void *host, size_t bytes)
{
    return cpu_copy_bytes(be, dst, host, bytes);
}

static unsharp_status cpu_download(unsharp_backend *be, void *host, const void *src, size_t bytes)
{
    return cpu_copy_bytes(be, host, src, bytes);
}

static unsharp_status cpu_fill(unsharp_backend *be, float *dst, float value, size_t n)
{
    CPU_ERRCTX(be);
    if (n == 0) goto bailout;
    if (!dst) FAIL(UNSHARP_ERR_INVALID, "dst is NULL");
    const int nt = cpu_par_threads(be, n);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
    for (size_t i = 0; i < n; i++) dst[i] = value;
bailout:
    return st;
}

/* ---- dense ---- */

unsharp_status unsharp__cpu_gemm(unsharp_backend *be, int trans_a, int trans_b, int m, int n, int k,
                                 float alpha, const float *a, int lda, const float *b, int ldb,
                                 float beta, float *c, int ldc)
{
    CPU_ERRCTX(be);
    /* Checked here, because OpenBLAS's xerbla would print on a bad argument. */
    if (m < 0 || n < 0 || k < 0) FAIL(UNSHARP_ERR_INVALID, "negative size m=%d n=%d k=%d", m, n, k);
    int min_lda = trans_a ? m : k, min_ldb = trans_b ? k : n;
    if (min_lda < 1) min_lda = 1;
    if (min_ldb < 1) min_ldb = 1;
    if (lda < min_lda || ldb < min_ldb || ldc < (n > 1 ? n : 1))
        FAIL(UNSHARP_ERR_INVALID, "bad leading dimension lda=%d ldb=%d ldc=%d for m=%d n=%d k=%d",
             lda, ldb, ldc, m, n, k);
    if (m == 0 || n == 0) goto bailout;
    if (!c || (k > 0 && (!a || !b))) FAIL(UNSHARP_ERR_INVALID, "NULL matrix");
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float *cij = &c[(size_t)i * (size_t)ldc + (size_t)j];
                *cij = beta == 0.0f ? 0.0f : beta * *cij;
            }
        goto bailout;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
bailout:
    return st;
}

/* ---- table ---- */

static void cpu_destroy(unsharp_backend *be)
{
    if (!be) return;
    free(be->impl);
    free(be);
}

unsharp_status unsharp__cpu_backend_create(int threads, char *errbuf, unsharp_backend **out)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_backend *be = NULL;
    cpu_impl *impl = NULL;
    if (!out) FAIL(UNSHARP_ERR_INVALID, "out is NULL");
    *out = NULL;
    be = calloc(1, sizeof *be);
    impl = calloc(1, sizeof *impl);
    if (!be || !impl) FAIL(UNSHARP_ERR_NOMEM, "cannot allocate the CPU backend");
    impl->threads = threads > 1 ? threads : 1;

    *be = (unsharp_backend){
        .version = UNSHARP_BACKEND_VERSION,
        .name = "cpu",
        .errbuf = errbuf,
        .impl = impl,
        .alloc = cpu_alloc,
        .release = cpu_release,
        .upload = cpu_upload,
        .download = cpu_download,
        .copy = cpu_copy_bytes,
        .fill = cpu_fill,
        .destroy = cpu_destroy,
        .gemm = unsharp__cpu_gemm,
        .conv_workspace = unsharp__cpu_conv_workspace,
        .conv2d_forward = unsharp__cpu_conv2d_forward,
        .conv2d_forward_u8 = unsharp__cpu_conv2d_forward_u8,
        .conv2d_backward_data = unsharp__cpu_conv2d_backward_data,
        .conv2d_backward_filter = unsharp__cpu_conv2d_backward_filter,
        .bias_forward = unsharp__cpu_bias_forward,
        .bias_backward = unsharp__cpu_bias_backward,
        .leaky_relu_forward = unsharp__cpu_leaky_relu_forward,
        .leaky_relu_backward = unsharp__cpu_leaky_relu_backward,
        .pool2d_forward = unsharp__cpu_pool2d_forward,
        .pool2d_backward = unsharp__cpu_pool2d_backward,
        .global_pool_forward = unsharp__cpu_global_pool_forward,
        .global_pool_backward = unsharp__cpu_global_pool_backward,
        .lcn_workspace = unsharp__cpu_lcn_workspace,
        .lcn_forward = unsharp__cpu_lcn_forward,
        .lcn_backward = unsharp__cpu_lcn_backward,
        .copy_channels = unsharp__cpu_copy_channels,
        .slice_channels_add = unsharp__cpu_slice_channels_add,
        .dropout_forward = unsharp__cpu_dropout_forward,
        .dropout_backward = unsharp__cpu_dropout_backward,
        .sigmoid_ce = unsharp__cpu_sigmoid_ce,
        .softmax_ce = unsharp__cpu_softmax_ce,
        .adam_step = unsharp__cpu_adam_step,
        .sgd_step = unsharp__cpu_sgd_step,
    };

    /* The convolutions bring their own threads; BLAS must not add more under them. OpenBLAS's
     * pthreads build starts its own worker threads when it is loaded, and they spin on
     * sched_yield for about 2^28 cycles before they sleep (50 ms of CPU a process, seen with
     * perf); with one BLAS thread they never get work, so they are stopped here. (OpenBLAS
     * starts them again by itself should a later call want them.) Weak: other BLAS builds lack
     * the call. */
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
    *out = be;
    return UNSHARP_OK;
bailout:
    free(impl);
    free(be);
    return st;
}
