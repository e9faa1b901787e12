/* loss.c: the loss layers on the CPU, each computing its value and its gradient in one pass.
 * Both add scale * sum(weight_i * loss_i) to *loss (taken in double) and add the gradient of
 * that sum to grad. Sigmoid cross-entropy uses the stable form
 * max(x,0) - x*t + log1p(exp(-|x|)) with gradient scale*w*(sigmoid(x) - t); softmax
 * cross-entropy subtracts the per-position maximum before exponentiating, with gradient
 * scale*w*(softmax - onehot). grad may be NULL (loss only) and loss may be NULL (gradient only).
 * Softmax targets are validated (integers in [0, k)) before anything is written. */
#include <math.h>
#include <stdint.h>
#include "cpu_ops.h"

static double sigmoid_d(double x)
{
    if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

unsharp_status unsharp__cpu_sigmoid_ce(unsharp_backend *be, const float *logit, const float *target,
                                       const float *weight, size_t n, float scale, float *grad, double *loss)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!logit || !target)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = logit[i], t = target[i], w = weight ? weight[i] : 1.0;
        sum += w * (fmax(x, 0.0) - x * t + log1p(exp(-fabs(x))));
        if (grad) grad[i] += (float)((double)scale * w * (sigmoid_d(x) - t));
    }
    if (loss) *loss += (double)scale * sum;
bailout:
    return st;
}

unsharp_status unsharp__cpu_softmax_ce(unsharp_backend *be, const float *logit, const float *target,
                                       const float *weight, int n, int k, int s, float scale,
                                       float *grad, double *loss)
{
    CPU_ERRCTX(be);
    if (n < 0 || k < 1 || s < 0) FAIL(UNSHARP_ERR_INVALID, "bad size n=%d k=%d s=%d", n, k, s);
    const size_t rows = (size_t)n * (size_t)s, S = (size_t)s, K = (size_t)k;
    if (rows == 0) goto bailout;
    if (!logit || !target) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    for (size_t r = 0; r < rows; r++) {
        float t = target[r];
        if (!(t >= 0.0f && t < (float)k && t == floorf(t)))
            FAIL(UNSHARP_ERR_INVALID, "target %g at %zu is not a class index in [0, %d)", (double)t, r, k);
    }

    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *xi = logit + (size_t)i * K * S;
        float *gi = grad ? grad + (size_t)i * K * S : NULL;
        for (size_t j = 0; j < S; j++) {
            const size_t r = (size_t)i * S + j;
            const int t = (int)target[r];
            const double w = weight ? weight[r] : 1.0;
            double mx = xi[j];
            for (size_t c = 1; c < K; c++)
                if (xi[c * S + j] > mx) mx = xi[c * S + j];
            double z = 0.0;
            for (size_t c = 0; c < K; c++) z += exp(xi[c * S + j] - mx);
            const double lse = mx + log(z);
            sum += w * (lse - xi[(size_t)t * S + j]);
            if (gi) {
                const double g = (double)scale * w;
                for (size_t c = 0; c < K; c++) {
                    double pc = exp(xi[c * S + j] - lse);
                    gi[c * S + j] += (float)(g * (pc - ((int)c == t ? 1.0 : 0.0)));
                }
            }
        }
    }
    if (loss) *loss += (double)scale * sum;
bailout:
    return st;
}
