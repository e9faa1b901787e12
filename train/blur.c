/* blur.c: the building blocks of synthetic blur: the splitmix64 RNG, the blur kernels
 * (Gaussian, disc, linear motion, camera shake) and the reflect-padded 2-D convolution with
 * its separable and zero-skipping paths. The sample maker is in blur_sample.c. */
#include "blur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- random numbers ---------------------------------------------------------------- */

uint64_t blur_rng_next(blur_rng *rng)
{
    uint64_t z = (rng->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float blur_uniform(blur_rng *rng, float lo, float hi)
{
    double u = (double)(blur_rng_next(rng) >> 40) * (1.0 / 16777216.0); /* [0, 1) */
    float r = (float)((double)lo + ((double)hi - (double)lo) * u);
    return r < hi || hi <= lo ? r : lo; /* rounding never reaches hi */
}

float blur_normal(blur_rng *rng)
{
    double u1 = ((double)(blur_rng_next(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0,1] */
    double u2 = (double)(blur_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* ---- kernels ----------------------------------------------------------------------- */

/* Divides by the sum (in double); the sum must be positive. */
static void normalise(float *k, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += k[i];
    for (int i = 0; i < n; i++) k[i] = (float)(k[i] / s);
}

int blur_kernel_gaussian_1d(float sigma, float *k, int *ksize)
{
    if (!k || !ksize || !(sigma <= 8.0f)) return BLUR_ERR_INVALID; /* NaN fails too */
    if (sigma <= 0.0f) { k[0] = 1.0f; *ksize = 1; return BLUR_OK; }
    int r = (int)ceil(4.0 * sigma);
    int n = 2 * r + 1;
    if (n > BLUR_KMAX) return BLUR_ERR_INVALID;
    for (int i = 0; i < n; i++) {
        double x = i - r;
        k[i] = (float)exp(-x * x / (2.0 * (double)sigma * sigma));
    }
    normalise(k, n);
    *ksize = n;
    return BLUR_OK;
}

int blur_kernel_gaussian(float sigma, float *k, int *ksize)
{
    float g[BLUR_KMAX];
    int n = 0;
    int st = blur_kernel_gaussian_1d(sigma, g, &n);
    if (st != BLUR_OK) return st;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) k[i * n + j] = g[i] * g[j];
    *ksize = n;
    return BLUR_OK;
}

int blur_kernel_disc(float radius, float *k, int *ksize)
{
    if (!k || !ksize || !(radius > 0.0f && radius <= 31.0f)) return BLUR_ERR_INVALID;
    int r = (int)ceil(radius + 0.75);
    if (r > BLUR_KMAX / 2) r = BLUR_KMAX / 2;
    int n = 2 * r + 1;
    const int ss = 16; /* subsamples per side on the edge */
    double R = radius;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double d = hypot((double)(i - r), (double)(j - r)), v;
            if (d <= R - 0.75) v = 1.0;
            else if (d >= R + 0.75) v = 0.0;
            else { /* the share of the pixel square inside the circle */
                int in = 0;
                for (int a = 0; a < ss; a++)
                    for (int b = 0; b < ss; b++) {
                        double y = i - r - 0.5 + (a + 0.5) / ss, x = j - r - 0.5 + (b + 0.5) / ss;
                        in += x * x + y * y <= R * R;
                    }
                v = (double)in / (ss * ss);
            }
            k[i * n + j] = (float)v;
        }
    normalise(k, n * n);
    *ksize = n;
    return BLUR_OK;
}

/* Adds weight w at the real position (x, y) (column, row) of an n x n kernel, bilinearly. */
static void splat(double *acc, int n, double x, double y, double w)
{
    double fx = floor(x), fy = floor(y);
    int x0 = (int)fx, y0 = (int)fy;
    double ax = x - fx, ay = y - fy;
    const int xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
    const double wx[2] = {1.0 - ax, ax}, wy[2] = {1.0 - ay, ay};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            int xx = xs[b] < 0 ? 0 : xs[b] >= n ? n - 1 : xs[b];
            int yy = ys[a] < 0 ? 0 : ys[a] >= n ? n - 1 : ys[a];
            acc[yy * n + xx] += w * wx[b] * wy[a];
        }
}

/* Copies a double accumulator into k, normalised. */
static void finish(const double *acc, int n, float *k)
{
    double s = 0.0;
    for (int i = 0; i < n * n; i++) s += acc[i];
    for (int i = 0; i < n * n; i++) k[i] = (float)(acc[i] / s);
}

int blur_kernel_motion(float length, float angle_rad, float *k, int *ksize)
{
    if (!k || !ksize || !(length > 0.0f && length <= 60.0f) || !isfinite(angle_rad))
        return BLUR_ERR_INVALID;
    int r = (int)ceil(length / 2.0) + 1;
    int n = 2 * r + 1;
    double *acc = calloc((size_t)n * n, sizeof *acc);
    if (!acc) return BLUR_ERR_NOMEM;
    int ns = (int)ceil(length * 16.0) + 2;
    double c = cos(angle_rad), s = sin(angle_rad);
    for (int i = 0; i < ns; i++) {
        double t = ((i + 0.5) / ns - 0.5) * length;
        splat(acc, n, r + t * c, r + t * s, 1.0 / ns);
    }
    finish(acc, n, k);
    free(acc);
    *ksize = n;
    return BLUR_OK;
}

#define SHAKE_STEPS 64

int blur_kernel_shake(blur_rng *rng, float length, float *k, int *ksize)
{
    return blur_kernel_shake_sized(rng, length, 0, k, ksize);
}

/* The spread, sqrt((var_x + var_y) / 2), of a path of SHAKE_STEPS equal-time steps, each step
 * sampled at 8 points along it. */
static double path_spread(const double *px, const double *py, int steps)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0;
    int cnt = 0;
    for (int t = 0; t < steps; t++)
        for (int i = 0; i < 8; i++) {
            double u = (i + 0.5) / 8.0, x = px[t] + u * (px[t + 1] - px[t]), y = py[t] + u * (py[t + 1] - py[t]);
            sx += x; sy += y; sxx += x * x; syy += y * y; cnt++;
        }
    double vx = sxx / cnt - (sx / cnt) * (sx / cnt), vy = syy / cnt - (sy / cnt) * (sy / cnt);
    return sqrt(0.5 * (vx + vy) > 0.0 ? 0.5 * (vx + vy) : 0.0);
}

int blur_kernel_shake_sized(blur_rng *rng, float length, int by_spread, float *k, int *ksize)
{
    return blur_kernel_shake_dwell(rng, length, by_spread, 0, k, ksize);
}

int blur_kernel_shake_dwell(blur_rng *rng, float length, int by_spread, int dwell, float *k, int *ksize)
{
    if (!rng || !k || !ksize || !(length > 0.0f && length <= 60.0f)) return BLUR_ERR_INVALID;
    double px[SHAKE_STEPS + 1], py[SHAKE_STEPS + 1];
    /* The walk's character, per trajectory: a pull back to the start (curly, compact paths),
     * the strength of the random perturbation, the chance of a jerk reversing direction. */
    double centripetal = blur_uniform(rng, 0.0f, 0.7f);
    double shake = blur_uniform(rng, 0.1f, 1.0f);
    double p_jerk = blur_uniform(rng, 0.0f, 0.06f);
    double a0 = blur_uniform(rng, 0.0f, (float)(2.0 * M_PI));
    double volatility = dwell ? blur_uniform(rng, 0.6f, 2.5f) : 0.6;
    double vx = cos(a0), vy = sin(a0), speed = 1.0, total = 0.0;
    px[0] = py[0] = 0.0;
    for (int t = 0; t < SHAKE_STEPS; t++) {
        if (blur_uniform(rng, 0.0f, 1.0f) < p_jerk) { /* a jerk: turn round, roughly */
            double a = M_PI + blur_uniform(rng, -0.5f, 0.5f);
            double nx = vx * cos(a) - vy * sin(a), ny = vx * sin(a) + vy * cos(a);
            vx = nx; vy = ny;
            if (dwell) speed *= 0.1; /* a hand stops as it turns round */
        }
        double gx = blur_normal(rng), gy = blur_normal(rng);
        vx += 0.5 * shake * gx - centripetal * px[t] / (0.25 * SHAKE_STEPS);
        vy += 0.5 * shake * gy - centripetal * py[t] / (0.25 * SHAKE_STEPS);
        double vn = sqrt(vx * vx + vy * vy);
        if (vn < 1e-9) { vx = 1.0; vy = 0.0; vn = 1.0; }
        vx /= vn; vy /= vn;
        speed = 0.8 * speed + 0.2 * exp(volatility * blur_normal(rng)); /* momentum in speed too */
        px[t + 1] = px[t] + speed * vx;
        py[t + 1] = py[t] + speed * vy;
        total += speed;
    }
    /* Scale to the path length (or to the spread of a line of that length), centre on the
     * bounding box. */
    double sc = length / total, minx = 0, maxx = 0, miny = 0, maxy = 0;
    if (by_spread) {
        double sp = path_spread(px, py, SHAKE_STEPS);
        sc = sp > 1e-9 ? length / sqrt(24.0) / sp : length / total;
    }
    for (int t = 0; t <= SHAKE_STEPS; t++) {
        px[t] *= sc; py[t] *= sc;
        if (px[t] < minx) minx = px[t];
        if (px[t] > maxx) maxx = px[t];
        if (py[t] < miny) miny = py[t];
        if (py[t] > maxy) maxy = py[t];
    }
    double cx = 0.5 * (minx + maxx), cy = 0.5 * (miny + maxy);
    int r = (int)ceil(length / 2.0) + 1;
    if (by_spread) { /* a curly path of that spread may reach further than length / 2 */
        double ext = fmax(maxx - minx, maxy - miny) / 2.0;
        r = (int)ceil(ext) + 1;
        if (r > BLUR_KMAX / 2) {
            double f = (BLUR_KMAX / 2 - 1) / ext;
            for (int t = 0; t <= SHAKE_STEPS; t++) { px[t] *= f; py[t] *= f; }
            cx *= f; cy *= f;
            r = BLUR_KMAX / 2;
        }
    }
    int n = 2 * r + 1;
    double *acc = calloc((size_t)n * n, sizeof *acc);
    if (!acc) return BLUR_ERR_NOMEM;
    for (int t = 0; t < SHAKE_STEPS; t++) {
        double dx = px[t + 1] - px[t], dy = py[t + 1] - py[t];
        int m = (int)ceil(sqrt(dx * dx + dy * dy) * 8.0) + 1;
        for (int i = 0; i < m; i++) {
            double u = (i + 0.5) / m;
            splat(acc, n, r + px[t] + u * dx - cx, r + py[t] + u * dy - cy,
                  1.0 / ((double)SHAKE_STEPS * m));
        }
    }
    finish(acc, n, k);
    free(acc);
    *ksize = n;
    return BLUR_OK;
}

/* ---- convolution ------------------------------------------------------------------- */

/* Mirror index into [0, n) about the edge pixels (period 2n - 2). */
static inline int reflect_index(int i, int n)
{
    if (n == 1) return 0;
    int p = 2 * (n - 1);
    i %= p;
    if (i < 0) i += p;
    return i < n ? i : p - i;
}

/* Rank 1 with a positive centre: k = col row^T / k[c][c]. */
static int is_separable(const float *k, int n)
{
    int c = n / 2;
    double kcc = k[c * n + c], kmax = 0.0;
    if (kcc <= 0.0) return 0;
    for (int i = 0; i < n * n; i++) if (fabs(k[i]) > kmax) kmax = fabs(k[i]);
    if (kcc < 1e-3 * kmax) return 0;
    double tol = 1e-6 * kmax * kmax;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (fabs((double)k[i * n + j] * kcc - (double)k[i * n + c] * k[c * n + j]) > tol)
                return 0;
    return 1;
}

/* Fills a padded row: pad[px] = src row at column x0 + px - r, reflected. */
static void fill_row(float *pad, const float *srow, int sw, int x0, int r, int pw)
{
    for (int px = 0; px < pw; px++) pad[px] = srow[reflect_index(x0 + px - r, sw)];
}

int blur_convolve_region(const float *src, int sw, int sh, int x0, int y0, float *dst, int w,
                         int h, const float *k, int ksize)
{
    if (!src || !dst || !k || sw < 1 || sh < 1 || w < 1 || h < 1 || ksize < 1 ||
        ksize % 2 == 0 || ksize > BLUR_KMAX)
        return BLUR_ERR_INVALID;
    int r = ksize / 2, pw = w + 2 * r, ph = h + 2 * r;
    if (ksize == 1) { /* a scaled copy */
        float *tmp = malloc((size_t)w * h * sizeof *tmp);
        if (!tmp) return BLUR_ERR_NOMEM;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                tmp[(size_t)y * w + x] = k[0] * src[(size_t)reflect_index(y0 + y, sh) * sw +
                                                    reflect_index(x0 + x, sw)];
        memcpy(dst, tmp, (size_t)w * h * sizeof *tmp);
        free(tmp);
        return BLUR_OK;
    }
    if (is_separable(k, ksize)) {
        /* rows: t(py, x) = sum_j row[j] pad(py, x + 2r - j); then columns */
        float row[BLUR_KMAX], col[BLUR_KMAX];
        float kcc = k[r * ksize + r];
        for (int i = 0; i < ksize; i++) {
            col[i] = k[i * ksize + r];
            row[i] = k[r * ksize + i] / kcc;
        }
        float *t = malloc(((size_t)ph * w + pw) * sizeof *t);
        if (!t) return BLUR_ERR_NOMEM;
        float *pad = t + (size_t)ph * w;
        for (int py = 0; py < ph; py++) {
            fill_row(pad, src + (size_t)reflect_index(y0 + py - r, sh) * sw, sw, x0, r, pw);
            float *tr = t + (size_t)py * w;
            for (int x = 0; x < w; x++) tr[x] = 0.0f;
            for (int j = 0; j < ksize; j++) {
                const float wj = row[j];
                const float *p = pad + 2 * r - j;
                for (int x = 0; x < w; x++) tr[x] += wj * p[x];
            }
        }
        for (int y = 0; y < h; y++) {
            float *d = dst + (size_t)y * w;
            for (int x = 0; x < w; x++) d[x] = 0.0f;
            for (int i = 0; i < ksize; i++) {
                const float wi = col[i];
                const float *p = t + (size_t)(y + 2 * r - i) * w;
                for (int x = 0; x < w; x++) d[x] += wi * p[x];
            }
        }
        free(t);
        return BLUR_OK;
    }
    /* General: a padded copy, then one axpy per nonzero tap and output row. */
    float *pad = malloc((size_t)pw * ph * sizeof *pad);
    int *ta = malloc((size_t)ksize * ksize * 2 * sizeof *ta);
    float *tw = malloc((size_t)ksize * ksize * sizeof *tw);
    if (!pad || !ta || !tw) {
        free(pad); free(ta); free(tw);
        return BLUR_ERR_NOMEM;
    }
    int nt = 0;
    for (int i = 0; i < ksize; i++)
        for (int j = 0; j < ksize; j++)
            if (k[i * ksize + j] != 0.0f) {
                ta[2 * nt] = 2 * r - i;
                ta[2 * nt + 1] = 2 * r - j;
                tw[nt++] = k[i * ksize + j];
            }
    for (int py = 0; py < ph; py++)
        fill_row(pad + (size_t)py * pw, src + (size_t)reflect_index(y0 + py - r, sh) * sw, sw,
                 x0, r, pw);
    for (int y = 0; y < h; y++) {
        float *d = dst + (size_t)y * w;
        for (int x = 0; x < w; x++) d[x] = 0.0f;
        int q = 0;
        for (; q + 4 <= nt; q += 4) { /* four taps per pass over the row */
            const float w0 = tw[q], w1 = tw[q + 1], w2 = tw[q + 2], w3 = tw[q + 3];
            const float *p0 = pad + (size_t)(y + ta[2 * q]) * pw + ta[2 * q + 1];
            const float *p1 = pad + (size_t)(y + ta[2 * q + 2]) * pw + ta[2 * q + 3];
            const float *p2 = pad + (size_t)(y + ta[2 * q + 4]) * pw + ta[2 * q + 5];
            const float *p3 = pad + (size_t)(y + ta[2 * q + 6]) * pw + ta[2 * q + 7];
            for (int x = 0; x < w; x++)
                d[x] += (w0 * p0[x] + w1 * p1[x]) + (w2 * p2[x] + w3 * p3[x]);
        }
        for (; q < nt; q++) {
            const float wq = tw[q];
            const float *p = pad + (size_t)(y + ta[2 * q]) * pw + ta[2 * q + 1];
            for (int x = 0; x < w; x++) d[x] += wq * p[x];
        }
    }
    free(pad); free(ta); free(tw);
    return BLUR_OK;
}

int blur_convolve(const float *src, float *dst, int w, int h, const float *k, int ksize)
{
    return blur_convolve_region(src, w, h, 0, 0, dst, w, h, k, ksize);
}
