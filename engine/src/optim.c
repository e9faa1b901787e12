/* optim.c: the model's optimiser. Its state is one allocation over all parameters; the
 * update itself is a backend slot applied to the flat parameter arena. */
#include <math.h>
#include <string.h>
#include "model.h"

unsharp_status unsharp_model_set_optimizer(unsharp_model *m, const unsharp_optimizer_config *cfg)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    CALL_BEGIN(errbuf);
    if (!cfg) FAIL(UNSHARP_ERR_INVALID, "no optimiser configuration");
    if (cfg->kind != UNSHARP_OPT_ADAM && cfg->kind != UNSHARP_OPT_SGD) FAIL(UNSHARP_ERR_INVALID, "unknown optimiser %d", (int)cfg->kind);
    if (!(cfg->lr >= 0 && isfinite(cfg->lr)) || !(cfg->weight_decay >= 0 && isfinite(cfg->weight_decay)))
        FAIL(UNSHARP_ERR_INVALID, "learning rate and weight decay must be finite and >= 0");
    if (cfg->kind == UNSHARP_OPT_ADAM &&
        !(cfg->beta1 >= 0 && cfg->beta1 < 1 && cfg->beta2 >= 0 && cfg->beta2 < 1 && cfg->eps > 0))
        FAIL(UNSHARP_ERR_INVALID, "Adam needs 0 <= beta1, beta2 < 1 and eps > 0");
    if (cfg->kind == UNSHARP_OPT_SGD && !(cfg->momentum >= 0 && cfg->momentum < 1))
        FAIL(UNSHARP_ERR_INVALID, "SGD momentum must be in [0, 1)");
    m->be->release(m->be, m->opt_mem);
    m->opt_mem = NULL;
    m->opt_ready = 0;
    size_t floats = (cfg->kind == UNSHARP_OPT_ADAM ? 2 : 1) * (m->n_floats ? m->n_floats : 1);
    st = m->be->alloc(m->be, floats * sizeof(float), (void **)&m->opt_mem);
    if (st != UNSHARP_OK) FAIL(st, "optimiser state: %s", m->err);
    m->opt = *cfg;
    m->opt_t = 0;
    m->opt_ready = 1;
bailout:
    return st;
}

unsharp_status unsharp_model_set_lr(unsharp_model *m, float lr)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    CALL_BEGIN(m->err);
    if (!m->opt_ready) return unsharp__seterr(m->err, UNSHARP_ERR_STATE, __func__, "no optimiser set");
    if (!(lr >= 0 && isfinite(lr))) return unsharp__seterr(m->err, UNSHARP_ERR_INVALID, __func__, "bad learning rate %g", lr);
    m->opt.lr = lr;
    return UNSHARP_OK;
}

unsharp_status unsharp_model_step(unsharp_model *m)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    CALL_BEGIN(m->err);
    if (!m->opt_ready) return unsharp__seterr(m->err, UNSHARP_ERR_STATE, __func__, "no optimiser set");
    m->opt_t++;
    if (m->opt.kind == UNSHARP_OPT_ADAM) {
        unsharp_adam_params hp = {m->opt.lr, m->opt.beta1, m->opt.beta2, m->opt.eps, m->opt.weight_decay, m->opt_t};
        return m->be->adam_step(m->be, m->param_mem, m->grad_mem, m->opt_mem, m->opt_mem + m->n_floats, m->n_floats, &hp);
    }
    return m->be->sgd_step(m->be, m->param_mem, m->grad_mem, m->opt_mem, m->n_floats, m->opt.lr, m->opt.momentum,
                           m->opt.weight_decay);
}

int unsharp_model_get_optimizer(const unsharp_model *m, unsharp_optimizer_config *cfg)
{
    if (!m || !m->opt_ready) return 0;
    if (cfg) *cfg = m->opt;
    return 1;
}
