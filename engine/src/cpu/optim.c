/* optim.c: the optimiser updates on the CPU, over flat parameter arrays, following
 * torch.optim.AdamW and torch.optim.SGD exactly (no dampening, no Nesterov).
 * AdamW: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *        p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), with t counted from 1.
 * SGD:   g' = g + wd*p; vel = momentum*vel + g'; p -= lr*vel. With vel zeroed at the start the
 *        first step gives vel = g', as PyTorch's buffer initialisation does. When momentum is 0
 *        the update is p -= lr*g' and vel is not touched (it may be NULL). */
#include <math.h>
#include <stdint.h>
#include "cpu_ops.h"

unsharp_status unsharp__cpu_adam_step(unsharp_backend *be, float *p, const float *g, float *m, float *v,
                                      size_t n, const unsharp_adam_params *hp)
{
    CPU_ERRCTX(be);
    if (!hp) FAIL(UNSHARP_ERR_INVALID, "hyper-parameters are NULL");
    if (hp->t < 1) FAIL(UNSHARP_ERR_INVALID, "step number %d is not >= 1", hp->t);
    if (n > 0 && (!p || !g || !m || !v)) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    const float b1 = hp->beta1, b2 = hp->beta2, eps = hp->eps;
    const float decay = (float)(1.0 - (double)hp->lr * hp->weight_decay);
    const double bc1 = 1.0 - pow(hp->beta1, hp->t), bc2 = 1.0 - pow(hp->beta2, hp->t);
    const float step = (float)(hp->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float pi = p[i] * decay;
        p[i] = pi - step * mi / (sqrtf(vi) / bc2_sqrt + eps);
    }
bailout:
    return st;
}

unsharp_status unsharp__cpu_sgd_step(unsharp_backend *be, float *p, const float *g, float *vel, size_t n,
                                     float lr, float momentum, float weight_decay)
{
    CPU_ERRCTX(be);
    if (n > 0 && (!p || !g || (momentum != 0.0f && !vel))) FAIL(UNSHARP_ERR_INVALID, "NULL tensor");
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + weight_decay * p[i];
        if (momentum != 0.0f) {
            d = momentum * vel[i] + d;
            vel[i] = d;
        }
        p[i] -= lr * d;
    }
bailout:
    return st;
}
