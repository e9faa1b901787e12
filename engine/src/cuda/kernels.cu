/* kernels.cu: the CUDA backend's own kernels, one per slot that cuBLAS and cuDNN do not cover,
 * each matching the CPU backend (engine/src/cpu/) in semantics: the same "+=" and accumulate
 * rules, the same clipped max-pool windows with the first maximum as argmax, average pooling
 * that divides by kh*kw, population variance, the dropout mask from unsharp__hash_uniform, and
 * losses summed in double and added to a host double. Reductions are deterministic except the
 * losses' block sums, which meet in one double atomicAdd (order changes the last bits only).
 * Backward pooling gathers per input element (no atomics), so its result is deterministic, and
 * so do both passes of local contrast normalisation, forward and backward. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include "cuda_ops.h"

#define GRID_LOOP(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* Sum of v over the block (CU_THREADS threads); every thread gets the total. */
__device__ static double block_sum(double v)
{
    __shared__ double sh[CU_THREADS];
    __syncthreads(); /* sh may still be read by a previous call */
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = CU_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

/* Index of the first maximum of x[0, hw) over the block; every thread gets it. */
__device__ static int block_argmax(const float *x, int hw)
{
    __shared__ float bv[CU_THREADS];
    __shared__ int bi[CU_THREADS];
    float best = 0.0f;
    int at = -1;
    for (int j = threadIdx.x; j < hw; j += CU_THREADS)
        if (at < 0 || x[j] > best) { best = x[j]; at = j; }
    __syncthreads();
    bv[threadIdx.x] = best;
    bi[threadIdx.x] = at;
    __syncthreads();
    for (int s = CU_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            int o = threadIdx.x + s;
            int ia = bi[threadIdx.x], ib = bi[o];
            if (ib >= 0 && (ia < 0 || bv[o] > bv[threadIdx.x] || (bv[o] == bv[threadIdx.x] && ib < ia))) {
                bv[threadIdx.x] = bv[o];
                bi[threadIdx.x] = ib;
            }
        }
        __syncthreads();
    }
    return bi[0];
}

/* ---- fill, scale, conv epilogue ---- */

__global__ static void k_fill(float *d, float v, size_t n) { GRID_LOOP(i, n) d[i] = v; }

unsharp_status unsharp__cuda_fill(unsharp_backend *be, float *dst, float value, size_t n)
{
    if (n == 0) return UNSHARP_OK;
    if (!dst) CU_INVALID("dst is NULL");
    k_fill<<<cu_blocks(n), CU_THREADS>>>(dst, value, n);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_scale(float *c, int m, int n, int ldc, float beta)
{
    GRID_LOOP(i, (size_t)m * n) {
        float *p = c + (i / n) * (size_t)ldc + i % n;
        *p = beta == 0.0f ? 0.0f : beta * *p;
    }
}

unsharp_status unsharp__cuda_scale(unsharp_backend *be, float *c, int m, int n, int ldc, float beta)
{
    if ((size_t)m * n == 0) return UNSHARP_OK;
    k_scale<<<cu_blocks((size_t)m * n), CU_THREADS>>>(c, m, n, ldc, beta);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_conv_epilogue(float *y, const float *b, float *act, float slope, int c, int hw, size_t total)
{
    GRID_LOOP(i, total) {
        float v = y[i];
        if (b) {
            v += b[(i / hw) % c];
            y[i] = v;
        }
        if (act) act[i] = v * (v > 0.0f ? 1.0f : slope);
    }
}

unsharp_status unsharp__cuda_conv_epilogue(unsharp_backend *be, float *y, const float *b, float *act, float slope,
                                           int n, int c, int hw)
{
    size_t total = (size_t)n * c * hw;
    if (total == 0 || (!b && !act)) return UNSHARP_OK;
    k_conv_epilogue<<<cu_blocks(total), CU_THREADS>>>(y, b, act, slope, c, hw, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- bias ---- */

__global__ static void k_bias_forward(float *y, const float *b, int c, int hw, size_t total)
{
    GRID_LOOP(i, total) y[i] += b[(i / hw) % c];
}

unsharp_status unsharp__cuda_bias_forward(unsharp_backend *be, float *y, const float *b, int n, int c, int hw)
{
    if (n < 0 || c < 0 || hw < 0) CU_INVALID("negative size n=%d c=%d hw=%d", n, c, hw);
    size_t total = (size_t)n * c * hw;
    if (total == 0) return UNSHARP_OK;
    if (!y || !b) CU_INVALID("NULL tensor");
    k_bias_forward<<<cu_blocks(total), CU_THREADS>>>(y, b, c, hw, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* db[ch] += the sum of dy over (n, hw) of channel ch, in double and in a fixed order, so that
 * the result does not change from run to run. A channel's n*hw elements are cut into `parts`
 * equal runs, one block each (grid parts x c), so that a few channels over a large batch still
 * fill the device; each block's sum goes to partial[ch * parts + part] when parts > 1, and
 * k_bias_finish then adds a channel's partial sums in order. */
__global__ static void k_bias_backward(const float *dy, float *db, double *partial, int n, int c, int hw, int parts)
{
    const int ch = blockIdx.y, part = blockIdx.x;
    const size_t per = (size_t)n * hw, run = (per + parts - 1) / parts;
    const size_t k0 = part * run, k1 = k0 + run < per ? k0 + run : per;
    double sum = 0.0;
    for (size_t k = k0 + threadIdx.x; k < k1; k += CU_THREADS) {
        size_t i = k / hw, j = k % hw;
        sum += dy[(i * c + ch) * (size_t)hw + j];
    }
    sum = block_sum(sum);
    if (threadIdx.x != 0) return;
    if (parts == 1) db[ch] += (float)sum;
    else partial[(size_t)ch * parts + part] = sum;
}

__global__ static void k_bias_finish(const double *partial, float *db, int c, int parts)
{
    GRID_LOOP(ch, (size_t)c) {
        double sum = 0.0;
        for (int p = 0; p < parts; p++) sum += partial[ch * parts + p];
        db[ch] += (float)sum;
    }
}

/* Elements a block sums at least, and the most blocks per channel. */
#define BIAS_RUN 16384
#define BIAS_PARTS_MAX 256

unsharp_status unsharp__cuda_bias_backward(unsharp_backend *be, const float *dy, float *db, int n, int c, int hw)
{
    if (n < 0 || c < 0 || hw < 0) CU_INVALID("negative size n=%d c=%d hw=%d", n, c, hw);
    if (c == 0) return UNSHARP_OK;
    if (!db || ((size_t)n * hw > 0 && !dy)) CU_INVALID("NULL tensor");
    if ((size_t)n * hw == 0) return UNSHARP_OK;
    if (c > 65535) CU_INVALID("%d channels: at most 65535", c);
    size_t per = (size_t)n * hw, parts = (per + BIAS_RUN - 1) / BIAS_RUN;
    if (parts > BIAS_PARTS_MAX) parts = BIAS_PARTS_MAX;
    cuda_impl *impl = cuda_of(be);
    if (parts > 1 && impl->n_partial < (size_t)c * parts) { /* grows to the largest layer once */
        if (impl->partial) cudaFree(impl->partial);
        impl->partial = NULL;
        impl->n_partial = 0;
        CU_TRY(cudaMalloc((void **)&impl->partial, (size_t)c * parts * sizeof(double)));
        impl->n_partial = (size_t)c * parts;
    }
    k_bias_backward<<<dim3((unsigned)parts, (unsigned)c), CU_THREADS>>>(dy, db, impl->partial, n, c, hw, (int)parts);
    CU_LAUNCHED();
    if (parts > 1) {
        k_bias_finish<<<cu_blocks((size_t)c), CU_THREADS>>>(impl->partial, db, c, (int)parts);
        CU_LAUNCHED();
    }
    return UNSHARP_OK;
}

/* ---- leaky ReLU, sigmoid ---- */

__global__ static void k_lrelu(const float *x, float *y, size_t n, float slope)
{
    GRID_LOOP(i, n) y[i] = x[i] * (x[i] > 0.0f ? 1.0f : slope);
}

unsharp_status unsharp__cuda_leaky_relu_forward(unsharp_backend *be, const float *x, float *y, size_t n, float slope)
{
    if (n == 0) return UNSHARP_OK;
    if (!x || !y) CU_INVALID("NULL tensor");
    k_lrelu<<<cu_blocks(n), CU_THREADS>>>(x, y, n, slope);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_lrelu_back(const float *x, const float *dy, float *dx, size_t n, float slope, int acc)
{
    GRID_LOOP(i, n) {
        float g = dy[i] * (x[i] > 0.0f ? 1.0f : slope);
        dx[i] = acc ? dx[i] + g : g;
    }
}

unsharp_status unsharp__cuda_leaky_relu_backward(unsharp_backend *be, const float *x, const float *dy, float *dx,
                                                 size_t n, float slope, int accumulate)
{
    if (n == 0) return UNSHARP_OK;
    if (!x || !dy || !dx) CU_INVALID("NULL tensor");
    k_lrelu_back<<<cu_blocks(n), CU_THREADS>>>(x, dy, dx, n, slope, accumulate);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- windowed pooling ---- */

static int pool_shape_ok(const unsharp_pool_shape *s)
{
    if (!s) return 0;
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->kh < 1 || s->kw < 1 || s->sh < 1 || s->sw < 1 ||
        s->ph < 0 || s->pw < 0)
        return 0;
    int64_t eh = (int64_t)s->h + 2 * (int64_t)s->ph, ew = (int64_t)s->w + 2 * (int64_t)s->pw;
    if (eh < s->kh || ew < s->kw) return 0;
    if ((eh - s->kh) / s->sh + 1 != s->oh || (ew - s->kw) / s->sw + 1 != s->ow) return 0;
    if ((int64_t)s->h * s->w > INT32_MAX) return 0;
    return 1;
}

__global__ static void k_pool_forward(unsharp_pool_shape s, int is_max, const float *x, float *y, int32_t *argmax,
                                      size_t total)
{
    const size_t hw = (size_t)s.h * s.w;
    const float inv = 1.0f / (float)((double)s.kh * s.kw);
    GRID_LOOP(i, total) {
        int ox = (int)(i % s.ow), oy = (int)((i / s.ow) % s.oh);
        size_t pl = i / ((size_t)s.ow * s.oh);
        const float *xp = x + pl * hw;
        int y0 = oy * s.sh - s.ph, y1 = y0 + s.kh, x0 = ox * s.sw - s.pw, x1 = x0 + s.kw;
        if (y0 < 0) y0 = 0;
        if (y1 > s.h) y1 = s.h;
        if (x0 < 0) x0 = 0;
        if (x1 > s.w) x1 = s.w;
        if (is_max) {
            float best = 0.0f;
            int32_t at = -1;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    float v = xp[(size_t)iy * s.w + ix];
                    if (at < 0 || v > best) {
                        best = v;
                        at = iy * s.w + ix;
                    }
                }
            y[i] = best;
            if (argmax) argmax[i] = at;
        } else {
            float sum = 0.0f;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) sum += xp[(size_t)iy * s.w + ix];
            y[i] = sum * inv;
        }
    }
}

unsharp_status unsharp__cuda_pool2d_forward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                            const float *x, float *y, int32_t *argmax)
{
    if (!pool_shape_ok(s)) CU_INVALID("invalid pooling shape");
    if (!x || !y) CU_INVALID("NULL tensor");
    size_t total = (size_t)s->n * s->c * s->oh * s->ow;
    k_pool_forward<<<cu_blocks(total), CU_THREADS>>>(*s, is_max, x, y, argmax, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* One thread per input element gathers from the outputs whose window covers it. */
__global__ static void k_pool_backward(unsharp_pool_shape s, int is_max, const float *dy, const int32_t *argmax,
                                       float *dx, size_t total)
{
    const size_t ohw = (size_t)s.oh * s.ow;
    const float inv = 1.0f / (float)((double)s.kh * s.kw);
    GRID_LOOP(i, total) {
        int ix = (int)(i % s.w), iy = (int)((i / s.w) % s.h);
        size_t pl = i / ((size_t)s.w * s.h);
        int a = iy + s.ph - s.kh + 1, oy0 = a <= 0 ? 0 : (a + s.sh - 1) / s.sh, oy1 = (iy + s.ph) / s.sh;
        int b = ix + s.pw - s.kw + 1, ox0 = b <= 0 ? 0 : (b + s.sw - 1) / s.sw, ox1 = (ix + s.pw) / s.sw;
        if (oy1 >= s.oh) oy1 = s.oh - 1;
        if (ox1 >= s.ow) ox1 = s.ow - 1;
        const int32_t self = iy * s.w + ix;
        float sum = 0.0f;
        for (int oy = oy0; oy <= oy1; oy++)
            for (int ox = ox0; ox <= ox1; ox++) {
                size_t o = pl * ohw + (size_t)oy * s.ow + ox;
                if (is_max) {
                    if (argmax[o] == self) sum += dy[o];
                } else {
                    sum += dy[o] * inv;
                }
            }
        dx[i] += sum;
    }
}

unsharp_status unsharp__cuda_pool2d_backward(unsharp_backend *be, const unsharp_pool_shape *s, int is_max,
                                             const float *dy, const int32_t *argmax, float *dx)
{
    if (!pool_shape_ok(s)) CU_INVALID("invalid pooling shape");
    if (!dy || !dx || (is_max && !argmax)) CU_INVALID("NULL tensor");
    size_t total = (size_t)s->n * s->c * s->h * s->w;
    k_pool_backward<<<cu_blocks(total), CU_THREADS>>>(*s, is_max, dy, argmax, dx, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- global pooling: one block per (image, channel) row ---- */

__device__ static double row_mean(const float *x, int hw)
{
    double sum = 0.0;
    for (int j = threadIdx.x; j < hw; j += CU_THREADS) sum += x[j];
    return block_sum(sum) / hw;
}

__global__ static void k_gpool_forward(int kind, const float *x, float *y, int hw)
{
    const float *xr = x + (size_t)blockIdx.x * hw;
    if (kind == UNSHARP_GPOOL_MAX) {
        int at = block_argmax(xr, hw);
        if (threadIdx.x == 0) y[blockIdx.x] = xr[at];
        return;
    }
    double mean = row_mean(xr, hw);
    if (kind == UNSHARP_GPOOL_MEAN) {
        if (threadIdx.x == 0) y[blockIdx.x] = (float)mean;
        return;
    }
    double ss = 0.0;
    for (int j = threadIdx.x; j < hw; j += CU_THREADS) ss += (xr[j] - mean) * (xr[j] - mean);
    ss = block_sum(ss);
    if (threadIdx.x == 0) y[blockIdx.x] = (float)(ss / hw);
}

static int gpool_kind_ok(unsharp_gpool_kind k)
{
    return k == UNSHARP_GPOOL_MEAN || k == UNSHARP_GPOOL_MAX || k == UNSHARP_GPOOL_VAR;
}

unsharp_status unsharp__cuda_global_pool_forward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                 const float *x, float *y, int rows, int hw)
{
    if (rows < 0 || hw < 1) CU_INVALID("bad size rows=%d hw=%d", rows, hw);
    if (!gpool_kind_ok(kind)) CU_INVALID("unknown global pooling kind %d", (int)kind);
    if (rows == 0) return UNSHARP_OK;
    if (!x || !y) CU_INVALID("NULL tensor");
    k_gpool_forward<<<rows, CU_THREADS>>>((int)kind, x, y, hw);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_gpool_backward(int kind, const float *x, const float *dy, float *dx, int hw)
{
    const size_t r = blockIdx.x;
    float *dxr = dx + r * hw;
    const float *xr = x ? x + r * hw : NULL;
    if (kind == UNSHARP_GPOOL_MEAN) {
        float g = (float)((double)dy[r] / hw);
        for (int j = threadIdx.x; j < hw; j += CU_THREADS) dxr[j] += g;
    } else if (kind == UNSHARP_GPOOL_MAX) {
        int at = block_argmax(xr, hw);
        if (threadIdx.x == 0) dxr[at] += dy[r];
    } else {
        double mean = row_mean(xr, hw), g = 2.0 * dy[r] / hw;
        for (int j = threadIdx.x; j < hw; j += CU_THREADS) dxr[j] += (float)(g * (xr[j] - mean));
    }
}

unsharp_status unsharp__cuda_global_pool_backward(unsharp_backend *be, unsharp_gpool_kind kind,
                                                  const float *x, const float *y, const float *dy,
                                                  float *dx, int rows, int hw)
{
    (void)y;
    if (rows < 0 || hw < 1) CU_INVALID("bad size rows=%d hw=%d", rows, hw);
    if (!gpool_kind_ok(kind)) CU_INVALID("unknown global pooling kind %d", (int)kind);
    if (rows == 0) return UNSHARP_OK;
    if (!dy || !dx || (kind != UNSHARP_GPOOL_MEAN && !x)) CU_INVALID("NULL tensor");
    k_gpool_backward<<<rows, CU_THREADS>>>((int)kind, x, dy, dx, hw);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- local contrast normalisation ----
 * As the CPU's (cpu/lcn.c, with the same stats layout: the window means, then the inverse
 * deviations, negated where the variance was clipped at 0), in two separable passes over the
 * workspace (3 doubles a pixel): a thread per pixel sums its column of the window, then a thread
 * per pixel sums those along its row of the window. Sums are in double, as on the CPU; each
 * costs k loads, all of them shared with the neighbouring threads. */

__device__ static int lcn_span(int i, int r, int n) /* the window's extent at i, clipped */
{
    int lo = i - r < 0 ? 0 : i - r, hi = i + r > n - 1 ? n - 1 : i + r;
    return hi - lo + 1;
}

/* v (2, total): the sums of x and x^2 over the window's rows, per pixel of every plane. */
__global__ static void k_lcn_fwd_cols(const float *x, double *v, int h, int w, int r, size_t total)
{
    GRID_LOOP(i, total) {
        int col = (int)(i % w), row = (int)((i / w) % h);
        const float *xp = x + i / ((size_t)h * w) * ((size_t)h * w) + col; /* its column, row 0 */
        int a0 = row - r < 0 ? 0 : row - r, a1 = row + r > h - 1 ? h - 1 : row + r;
        double s1 = 0.0, s2 = 0.0;
        for (int a = a0; a <= a1; a++) {
            double t = xp[(size_t)a * w];
            s1 += t;
            s2 += t * t;
        }
        v[i] = s1;
        v[total + i] = s2;
    }
}

__global__ static void k_lcn_fwd_rows(const float *x, const double *v, float *y, float *stats, int h, int w, int r,
                                      float eps2, size_t total)
{
    const size_t hw = (size_t)h * w;
    GRID_LOOP(i, total) {
        int col = (int)(i % w), row = (int)((i / w) % h);
        size_t start = i - col;
        int b0 = col - r < 0 ? 0 : col - r, b1 = col + r > w - 1 ? w - 1 : col + r;
        double s1 = 0.0, s2 = 0.0;
        for (int b = b0; b <= b1; b++) {
            s1 += v[start + b];
            s2 += v[total + start + b];
        }
        double in = 1.0 / ((double)lcn_span(row, r, h) * (b1 - b0 + 1));
        double mean = s1 * in, var = s2 * in - mean * mean;
        float inv = 1.0f / sqrtf((var > 0.0 ? (float)var : 0.0f) + eps2);
        y[i] = (float)(x[i] - mean) * inv;
        if (stats) {
            size_t pl = i / hw, at = i % hw;
            stats[2 * pl * hw + at] = (float)mean;
            stats[(2 * pl + 1) * hw + at] = var > 0.0 ? inv : -inv;
        }
    }
}

/* eps finite and positive, by comparisons only: isfinite in host code is C++'s std::isfinite,
 * which an unoptimised build leaves as a weak symbol the module would export. */
static int lcn_args_ok(int planes, int h, int w, int k, float eps)
{
    return planes >= 0 && h >= 0 && w >= 0 && k >= 1 && k % 2 == 1 && eps > 0.0f && eps <= FLT_MAX;
}

size_t unsharp__cuda_lcn_workspace(unsharp_backend *be, int planes, int h, int w, int k)
{
    (void)be; (void)k;
    return planes > 0 && h > 0 && w > 0 ? 3 * (size_t)planes * h * w * sizeof(double) : 0;
}

unsharp_status unsharp__cuda_lcn_forward(unsharp_backend *be, const float *x, float *y, float *stats, int planes,
                                         int h, int w, int k, float eps, void *work)
{
    if (!lcn_args_ok(planes, h, w, k, eps))
        CU_INVALID("bad shape or window: %d planes of %dx%d, k=%d (odd), eps=%g (> 0)", planes, h, w, k, (double)eps);
    size_t total = (size_t)planes * h * w;
    if (total == 0) return UNSHARP_OK;
    if (!x || !y || !work) CU_INVALID("NULL tensor or workspace");
    double *v = (double *)work;
    k_lcn_fwd_cols<<<cu_blocks(total), CU_THREADS>>>(x, v, h, w, k / 2, total);
    CU_LAUNCHED();
    k_lcn_fwd_rows<<<cu_blocks(total), CU_THREADS>>>(x, v, y, stats, h, w, k / 2, eps * eps, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* v (3, total): over the window's rows, the sums of a = -dy*inv/N, b = -dy*y*inv^2/(2N) (0
 * where the variance was clipped) and b*mean, each computed where it is read. */
__global__ static void k_lcn_back_cols(const float *x, const float *stats, const float *dy, double *v, int h, int w,
                                       int r, size_t total)
{
    const size_t hw = (size_t)h * w;
    GRID_LOOP(i, total) {
        int col = (int)(i % w), row = (int)((i / w) % h);
        size_t pl = i / hw;
        const float *xp = x + pl * hw + col, *dp = dy + pl * hw + col, *mp = stats + 2 * pl * hw + col,
                    *ip = stats + (2 * pl + 1) * hw + col;
        const double inv_nx = 1.0 / lcn_span(col, r, w);
        int a0 = row - r < 0 ? 0 : row - r, a1 = row + r > h - 1 ? h - 1 : row + r;
        double sa = 0.0, sb = 0.0, sm = 0.0;
        for (int a = a0; a <= a1; a++) {
            size_t o = (size_t)a * w;
            double s = ip[o], inv = fabs(s), m = mp[o];
            double g = dp[o] * inv * (inv_nx / lcn_span(a, r, h));
            double yv = (xp[o] - m) * inv;
            double bv = s > 0.0 ? -0.5 * g * yv * inv : 0.0;
            sa -= g;
            sb += bv;
            sm += bv * m;
        }
        v[i] = sa;
        v[total + i] = sb;
        v[2 * total + i] = sm;
    }
}

__global__ static void k_lcn_back_rows(const float *x, const float *stats, const float *dy, const double *v,
                                       float *dx, int acc, int h, int w, int r, size_t total)
{
    const size_t hw = (size_t)h * w;
    GRID_LOOP(i, total) {
        int col = (int)(i % w);
        size_t start = i - col, pl = i / hw;
        int b0 = col - r < 0 ? 0 : col - r, b1 = col + r > w - 1 ? w - 1 : col + r;
        double sa = 0.0, sb = 0.0, sm = 0.0;
        for (int b = b0; b <= b1; b++) {
            sa += v[start + b];
            sb += v[total + start + b];
            sm += v[2 * total + start + b];
        }
        double inv = fabs((double)stats[(2 * pl + 1) * hw + i % hw]);
        double g = dy[i] * inv + sa + 2.0 * (x[i] * sb - sm);
        dx[i] = acc ? dx[i] + (float)g : (float)g;
    }
}

unsharp_status unsharp__cuda_lcn_backward(unsharp_backend *be, const float *x, const float *stats, const float *dy,
                                          float *dx, int accumulate, int planes, int h, int w, int k, float eps,
                                          void *work)
{
    if (!lcn_args_ok(planes, h, w, k, eps))
        CU_INVALID("bad shape or window: %d planes of %dx%d, k=%d (odd), eps=%g (> 0)", planes, h, w, k, (double)eps);
    size_t total = (size_t)planes * h * w;
    if (total == 0) return UNSHARP_OK;
    if (!x || !stats || !dy || !dx || !work) CU_INVALID("NULL tensor or workspace");
    double *v = (double *)work;
    k_lcn_back_cols<<<cu_blocks(total), CU_THREADS>>>(x, stats, dy, v, h, w, k / 2, total);
    CU_LAUNCHED();
    k_lcn_back_rows<<<cu_blocks(total), CU_THREADS>>>(x, stats, dy, v, dx, accumulate, h, w, k / 2, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- channel slices ---- */

/* dst (n, dst_c, hw) at channel dst_off (=, or += with acc) src (n, src_c, hw). */
__global__ static void k_copy_channels(float *dst, int dst_c, int dst_off, const float *src, int src_c, int hw,
                                       int acc, size_t total)
{
    const size_t run = (size_t)src_c * hw;
    GRID_LOOP(i, total) {
        size_t img = i / run, j = i % run;
        float *d = dst + (img * dst_c + dst_off) * (size_t)hw + j;
        *d = acc ? *d + src[i] : src[i];
    }
}

unsharp_status unsharp__cuda_copy_channels(unsharp_backend *be, float *dst, int dst_c, int dst_off,
                                           const float *src, int src_c, int n, int hw, int accumulate)
{
    if (n < 0 || hw < 0 || src_c < 0 || dst_off < 0 || dst_c < 0 || (int64_t)dst_off + src_c > dst_c)
        CU_INVALID("channels %d..%d do not fit in %d (n=%d hw=%d)", dst_off, dst_off + src_c, dst_c, n, hw);
    size_t total = (size_t)n * src_c * hw;
    if (total == 0) return UNSHARP_OK;
    if (!dst || !src) CU_INVALID("NULL tensor");
    k_copy_channels<<<cu_blocks(total), CU_THREADS>>>(dst, dst_c, dst_off, src, src_c, hw, accumulate, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* dst (n, dst_c, hw) += src (n, src_c, hw) from channel src_off. */
__global__ static void k_slice_add(float *dst, int dst_c, const float *src, int src_c, int src_off, int hw,
                                   size_t total)
{
    const size_t run = (size_t)dst_c * hw;
    GRID_LOOP(i, total) {
        size_t img = i / run, j = i % run;
        dst[i] += src[(img * src_c + src_off) * (size_t)hw + j];
    }
}

unsharp_status unsharp__cuda_slice_channels_add(unsharp_backend *be, float *dst, int dst_c,
                                                const float *src, int src_c, int src_off, int n, int hw)
{
    if (n < 0 || hw < 0 || dst_c < 0 || src_off < 0 || src_c < 0 || (int64_t)src_off + dst_c > src_c)
        CU_INVALID("channels %d..%d do not fit in %d (n=%d hw=%d)", src_off, src_off + dst_c, src_c, n, hw);
    size_t total = (size_t)n * dst_c * hw;
    if (total == 0) return UNSHARP_OK;
    if (!dst || !src) CU_INVALID("NULL tensor");
    k_slice_add<<<cu_blocks(total), CU_THREADS>>>(dst, dst_c, src, src_c, src_off, hw, total);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- inverted dropout ---- */

__global__ static void k_dropout(const float *x, float *y, float *mask, size_t n, float p, float keep, uint64_t seed)
{
    GRID_LOOP(i, n) {
        float m = unsharp__hash_uniform(seed, i) < p ? 0.0f : keep;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

unsharp_status unsharp__cuda_dropout_forward(unsharp_backend *be, const float *x, float *y, float *mask,
                                             size_t n, float p, uint64_t seed)
{
    if (!(p >= 0.0f && p < 1.0f)) CU_INVALID("dropout probability %g is not in [0, 1)", (double)p);
    if (n == 0) return UNSHARP_OK;
    if (!x || !y || !mask) CU_INVALID("NULL tensor");
    k_dropout<<<cu_blocks(n), CU_THREADS>>>(x, y, mask, n, p, 1.0f / (1.0f - p), seed);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_dropout_back(const float *dy, const float *mask, float *dx, size_t n)
{
    GRID_LOOP(i, n) dx[i] += dy[i] * mask[i];
}

unsharp_status unsharp__cuda_dropout_backward(unsharp_backend *be, const float *dy, const float *mask,
                                              float *dx, size_t n)
{
    if (n == 0) return UNSHARP_OK;
    if (!dy || !mask || !dx) CU_INVALID("NULL tensor");
    k_dropout_back<<<cu_blocks(n), CU_THREADS>>>(dy, mask, dx, n);
    CU_LAUNCHED();
    return UNSHARP_OK;
}

/* ---- losses ---- */

__device__ static double sigmoid_d(double x)
{
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

__global__ static void k_sigmoid_ce(const float *logit, const float *target, const float *weight, size_t n,
                                    float scale, float *grad, double *sum)
{
    double part = 0.0;
    GRID_LOOP(i, n) {
        double x = logit[i], t = target[i], w = weight ? weight[i] : 1.0;
        part += w * (fmax(x, 0.0) - x * t + log1p(exp(-fabs(x))));
        if (grad) grad[i] += (float)((double)scale * w * (sigmoid_d(x) - t));
    }
    part = block_sum(part);
    if (threadIdx.x == 0) atomicAdd(sum, part);
}

/* The device's loss sum (cuda_impl.scratch[0]) is zeroed before a loss kernel, without waiting;
 * after it, one download brings the sum, and for softmax_ce the first bad target index too
 * (cuda_impl.flag, the 8 bytes after the sum): the step's one wait per loss layer. */
static unsharp_status loss_begin(unsharp_backend *be, int with_flag)
{
    CU_TRY(cudaMemsetAsync(cuda_of(be)->scratch, 0, sizeof(double)));
    if (with_flag) CU_TRY(cudaMemsetAsync(cuda_of(be)->flag, 0xFF, sizeof(unsigned long long)));
    return UNSHARP_OK;
}

static unsharp_status loss_end(unsharp_backend *be, float scale, double *loss, unsigned long long *bad)
{
    double got[2] = {0.0, 0.0};
    CU_LAUNCHED();
    CU_TRY(cudaMemcpy(got, cuda_of(be)->scratch, bad ? sizeof got : sizeof got[0], cudaMemcpyDeviceToHost));
    if (bad) memcpy(bad, &got[1], sizeof *bad);
    if (bad && *bad != ULLONG_MAX) return UNSHARP_OK; /* nothing was summed or written */
    if (loss) *loss += (double)scale * got[0];
    return UNSHARP_OK;
}

unsharp_status unsharp__cuda_sigmoid_ce(unsharp_backend *be, const float *logit, const float *target,
                                        const float *weight, size_t n, float scale, float *grad, double *loss)
{
    unsharp_status st;
    if (n == 0) return UNSHARP_OK;
    if (!logit || !target) CU_INVALID("NULL tensor");
    if ((st = loss_begin(be, 0)) != UNSHARP_OK) return st;
    k_sigmoid_ce<<<cu_blocks(n), CU_THREADS>>>(logit, target, weight, n, scale, grad, cuda_of(be)->scratch);
    return loss_end(be, scale, loss, NULL);
}

__global__ static void k_check_classes(const float *target, size_t rows, int k, unsigned long long *bad)
{
    GRID_LOOP(r, rows) {
        float t = target[r];
        if (!(t >= 0.0f && t < (float)k && t == floorf(t))) atomicMin(bad, (unsigned long long)r);
    }
}

/* One thread per position (i, j): the log-sum-exp over the k classes, in double. It neither
 * sums nor writes when k_check_classes, run before it, found a bad target (*bad is set). */
__global__ static void k_softmax_ce(const float *logit, const float *target, const float *weight, int k, size_t S,
                                    size_t rows, float scale, float *grad, double *sum,
                                    const unsigned long long *bad)
{
    if (*bad != ULLONG_MAX) return;
    double part = 0.0;
    GRID_LOOP(r, rows) {
        const size_t i = r / S, j = r % S, K = (size_t)k;
        const float *xi = logit + i * K * S;
        const int t = (int)target[r];
        const double w = weight ? weight[r] : 1.0;
        double mx = xi[j];
        for (size_t c = 1; c < K; c++)
            if (xi[c * S + j] > mx) mx = xi[c * S + j];
        double z = 0.0;
        for (size_t c = 0; c < K; c++) z += exp(xi[c * S + j] - mx);
        const double lse = mx + log(z);
        part += w * (lse - xi[(size_t)t * S + j]);
        if (grad) {
            float *gi = grad + i * K * S;
            const double g = (double)scale * w;
            for (size_t c = 0; c < K; c++) {
                double pc = exp(xi[c * S + j] - lse);
                gi[c * S + j] += (float)(g * (pc - ((int)c == t ? 1.0 : 0.0)));
            }
        }
    }
    part = block_sum(part);
    if (threadIdx.x == 0) atomicAdd(sum, part);
}

unsharp_status unsharp__cuda_softmax_ce(unsharp_backend *be, const float *logit, const float *target,
                                        const float *weight, int n, int k, int s, float scale,
                                        float *grad, double *loss)
{
    unsharp_status st;
    if (n < 0 || k < 1 || s < 0) CU_INVALID("bad size n=%d k=%d s=%d", n, k, s);
    const size_t rows = (size_t)n * (size_t)s;
    if (rows == 0) return UNSHARP_OK;
    if (!logit || !target) CU_INVALID("NULL tensor");
    /* the targets are checked before anything is written, as on the CPU: the check kernel
     * flags the first bad one and the loss kernel then does nothing */
    if ((st = loss_begin(be, 1)) != UNSHARP_OK) return st;
    k_check_classes<<<cu_blocks(rows), CU_THREADS>>>(target, rows, k, cuda_of(be)->flag);
    CU_LAUNCHED();
    k_softmax_ce<<<cu_blocks(rows), CU_THREADS>>>(logit, target, weight, k, (size_t)s, rows, scale, grad,
                                                  cuda_of(be)->scratch, cuda_of(be)->flag);
    unsigned long long bad = ULLONG_MAX;
    if ((st = loss_end(be, scale, loss, &bad)) != UNSHARP_OK) return st;
    if (bad != ULLONG_MAX) {
        float t = 0.0f;
        CU_TRY(cudaMemcpy(&t, target + bad, sizeof t, cudaMemcpyDeviceToHost));
        CU_INVALID("target %g at %llu is not a class index in [0, %d)", (double)t, bad, k);
    }
    return UNSHARP_OK;
}

/* ---- optimisers (the CPU's float arithmetic, element by element) ---- */

__global__ static void k_adam(float *p, const float *g, float *m, float *v, size_t n, float b1, float b2, float eps,
                              float decay, float step, float bc2_sqrt)
{
    GRID_LOOP(i, n) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i] * decay;
        p[i] = pi - step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
}

unsharp_status unsharp__cuda_adam_step(unsharp_backend *be, float *p, const float *g, float *m, float *v,
                                       size_t n, const unsharp_adam_params *hp)
{
    if (!hp) CU_INVALID("hyper-parameters are NULL");
    if (hp->t < 1) CU_INVALID("step number %d is not >= 1", hp->t);
    if (n == 0) return UNSHARP_OK;
    if (!p || !g || !m || !v) CU_INVALID("NULL tensor");
    const float decay = (float)(1.0 - (double)hp->lr * hp->weight_decay);
    /* pow(double, double), as the CPU backend's C code calls: pow(float, int) would instantiate
     * the std::pow template, which an unoptimised build emits as a weak symbol with default
     * visibility, exported from the shared library despite -fvisibility=hidden */
    const double bc1 = 1.0 - pow((double)hp->beta1, (double)hp->t), bc2 = 1.0 - pow((double)hp->beta2, (double)hp->t);
    k_adam<<<cu_blocks(n), CU_THREADS>>>(p, g, m, v, n, hp->beta1, hp->beta2, hp->eps, decay, (float)(hp->lr / bc1),
                                         (float)sqrt(bc2));
    CU_LAUNCHED();
    return UNSHARP_OK;
}

__global__ static void k_sgd(float *p, const float *g, float *vel, size_t n, float lr, float momentum, float wd)
{
    GRID_LOOP(i, n) {
        float d = g[i] + wd * p[i];
        if (momentum != 0.0f) {
            d = momentum * vel[i] + d;
            vel[i] = d;
        }
        p[i] -= lr * d;
    }
}

unsharp_status unsharp__cuda_sgd_step(unsharp_backend *be, float *p, const float *g, float *vel, size_t n,
                                      float lr, float momentum, float weight_decay)
{
    if (n == 0) return UNSHARP_OK;
    if (!p || !g || (momentum != 0.0f && !vel)) CU_INVALID("NULL tensor");
    k_sgd<<<cu_blocks(n), CU_THREADS>>>(p, g, vel, n, lr, momentum, weight_decay);
    CU_LAUNCHED();
    return UNSHARP_OK;
}
