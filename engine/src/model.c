/* model.c: the model handle. It builds layers from architecture text, sizes and owns the
 * four allocations (parameters, gradients, optimiser state, activations), and runs forward
 * and backward in layer order over the backend table. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "model.h"

#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

unsharp_tensor unsharp_tensor_make(float *data, int n, int c, int h, int w)
{
    unsharp_tensor t;
    t.data = data;
    t.n = n; t.c = c; t.h = h; t.w = w;
    t.sw = 1;
    t.sh = w;
    t.sc = (int64_t)h * w;
    t.sn = (int64_t)c * h * w;
    return t;
}

int unsharp__add_param(unsharp_model *m, unsharp_layer *L, const char *suffix, int d0, int d1, int d2, int d3)
{
    unsharp_param *grown = realloc(m->params, (size_t)(m->n_params + 1) * sizeof *grown);
    if (!grown) return -1;
    m->params = grown;
    unsharp_param *p = &m->params[m->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", L->name, suffix);
    p->shape[0] = d0; p->shape[1] = d1; p->shape[2] = d2; p->shape[3] = d3;
    p->count = (size_t)d0 * d1 * d2 * d3;
    /* keep each tensor 64-byte aligned inside the arena */
    p->offset = ALIGN64(m->n_floats * sizeof(float)) / sizeof(float);
    m->n_floats = p->offset + p->count;
    return m->n_params++;
}

unsharp_status unsharp__add_weight_bias(unsharp_model *m, unsharp_layer *L, int out, int in, int kh, int kw)
{
    L->weight_param = unsharp__add_param(m, L, "weight", out, in, kh, kw);
    if (L->weight_param >= 0 && L->has_bias) L->bias_param = unsharp__add_param(m, L, "bias", out, 1, 1, 1);
    if (L->weight_param < 0 || (L->has_bias && L->bias_param < 0))
        return unsharp__seterr(m->err, UNSHARP_ERR_NOMEM, __func__, "out of memory");
    return UNSHARP_OK;
}

/* splitmix64 + Box-Muller: a portable normal draw for initialisation. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double next_normal(uint64_t *s)
{
    double u1 = ((next_u64(s) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* He initialisation for weights (fan-in = count / shape[0]), zero for biases. */
static unsharp_status init_params(unsharp_model *m, uint64_t seed)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    float *host = calloc(m->n_floats ? m->n_floats : 1, sizeof *host);
    if (!host) FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu parameters", m->n_floats);
    uint64_t s = seed;
    for (int i = 0; i < m->n_params; i++) {
        unsharp_param *p = &m->params[i];
        if (strstr(p->name, ".bias") == p->name + strlen(p->name) - 5) continue;
        double fan_in = (double)p->count / p->shape[0];
        double std = sqrt(2.0 / fan_in);
        for (size_t k = 0; k < p->count; k++) host[p->offset + k] = (float)(std * next_normal(&s));
    }
    CHECK(m->be->upload(m->be, m->param_mem, host, m->n_floats * sizeof(float)));
bailout:
    free(host);
    return st;
}

/* A convolution read only by a ReLU or leaky ReLU computes that activation in its forward
 * output pass (conv2d_forward's act), sparing one pass over the activation in memory. */
static void fuse_activations(unsharp_model *m)
{
    const unsharp_layer_kind *conv = unsharp__layer_kind("conv"), *relu = unsharp__layer_kind("relu"),
                             *lrelu = unsharp__layer_kind("lrelu");
    for (int i = 0; i < m->n_layers; i++) {
        m->layers[i].act_layer = -1;
        m->layers[i].fused = 0;
    }
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *A = &m->layers[i];
        if ((A->kind != relu && A->kind != lrelu) || A->n_in != 1 || m->layers[A->in[0]].kind != conv) continue;
        int readers = 0;
        for (int j = 0; j < m->n_layers; j++)
            for (int k = 0; k < m->layers[j].n_in; k++) readers += m->layers[j].in[k] == A->in[0];
        if (readers != 1) continue;
        m->layers[A->in[0]].act_layer = i;
        A->fused = 1;
    }
}

/* Each layer's dy is written first by the backward of its last reader (backward runs in reverse
 * order). When that reader can overwrite, the zeroing pass over dy is not needed; loss layers
 * add into their input's dy during forward, so their inputs are always zeroed. */
static void plan_dy_writers(unsharp_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *X = &m->layers[i];
        int last = -1, loss = 0;
        for (int j = i + 1; j < m->n_layers; j++)
            for (int k = 0; k < m->layers[j].n_in; k++)
                if (m->layers[j].in[k] == i) {
                    last = j;
                    loss |= m->layers[j].kind->is_loss;
                }
        X->dy_writer = -1;
        if (last >= 0 && !loss && m->layers[last].kind->overwrites_dx && m->layers[last].n_in == 1)
            X->dy_writer = last;
    }
}

unsharp_status unsharp__model_new(const char *arch, const unsharp_model_options *opt, unsharp_model **out, char *errbuf)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_model *m = NULL;
    *out = NULL;
    if (!arch) FAIL(UNSHARP_ERR_INVALID, "no architecture text");
    unsharp_device dev = opt ? opt->device : UNSHARP_DEVICE_CPU;
    int threads = opt && opt->threads > 1 ? opt->threads : 1;
    if (dev != UNSHARP_DEVICE_CPU && dev != UNSHARP_DEVICE_CUDA && dev != UNSHARP_DEVICE_AUTO)
        FAIL(UNSHARP_ERR_INVALID, "unknown device %d", (int)dev);
    m = calloc(1, sizeof *m);
    if (!m) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    m->arch = strdup(arch);
    if (!m->arch) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    /* CUDA when asked for (failing without a device), or when AUTO finds one; else the CPU */
    st = dev == UNSHARP_DEVICE_CPU ? UNSHARP_ERR_UNSUPPORTED : unsharp__cuda_backend_create(m->err, &m->be);
    if (st != UNSHARP_OK && dev != UNSHARP_DEVICE_CUDA) {
        m->err[0] = 0; /* AUTO without a device: the CPU, and the CUDA failure is no failure */
        st = unsharp__cpu_backend_create(threads, m->err, &m->be);
    }
    if (st == UNSHARP_OK) st = unsharp__arch_parse(m, arch);
    if (st != UNSHARP_OK) {
        snprintf(errbuf, UNSHARP_ERRMSG_MAX, "%s", m->err);
        goto bailout;
    }

    fuse_activations(m);
    plan_dy_writers(m);
    /* needs_grad: whether any parameter lies at or before a layer */
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        L->needs_grad = L->weight_param >= 0 || L->bias_param >= 0;
        for (int k = 0; k < L->n_in; k++) L->needs_grad |= m->layers[L->in[k]].needs_grad;
    }
    size_t bytes = (m->n_floats ? m->n_floats : 1) * sizeof(float);
    st = m->be->alloc(m->be, bytes, (void **)&m->param_mem);
    if (st == UNSHARP_OK) st = m->be->alloc(m->be, bytes, (void **)&m->grad_mem);
    if (st != UNSHARP_OK) {
        snprintf(errbuf, UNSHARP_ERRMSG_MAX, "%s", m->err);
        goto bailout;
    }
    *out = m;
    return UNSHARP_OK;
bailout:
    unsharp_model_free(m);
    return st;
}

unsharp_status unsharp_model_create(const char *arch, uint64_t seed, const unsharp_model_options *options,
                                    unsharp_model **out)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = unsharp__tls_errbuf();
    unsharp_model *m = NULL;
    CALL_BEGIN(errbuf);
    if (!out) FAIL(UNSHARP_ERR_INVALID, "out is NULL");
    *out = NULL;
    CHECK(unsharp__model_new(arch, options, &m, errbuf));
    m->seed = seed;
    st = init_params(m, seed);
    if (st != UNSHARP_OK) {
        snprintf(errbuf, UNSHARP_ERRMSG_MAX, "%s", m->err);
        goto bailout;
    }
    *out = m;
    return UNSHARP_OK;
bailout:
    unsharp_model_free(m);
    return st;
}

void unsharp_model_free(unsharp_model *m)
{
    if (!m) return;
    if (m->be) {
        m->be->release(m->be, m->param_mem);
        m->be->release(m->be, m->grad_mem);
        m->be->release(m->be, m->opt_mem);
        m->be->release(m->be, m->act_mem);
        m->be->destroy(m->be);
    }
    if (m->layers)
        for (int i = 0; i < m->n_layers; i++) {
            free(m->layers[i].host_target);
            free(m->layers[i].host_weight);
        }
    for (int i = 0; i < m->n_meta; i++) {
        free(m->meta[i].key);
        free(m->meta[i].value);
    }
    free(m->meta);
    free(m->layers);
    free(m->params);
    free(m->arch);
    free(m);
}

const char *unsharp_model_errmsg(const unsharp_model *m) { return m ? m->err : unsharp__tls_errbuf(); }

unsharp_status unsharp_model_set_error(const unsharp_model *m, unsharp_status st, const char *fmt, ...)
{
    char *buf = m ? ((unsharp_model *)m)->err : unsharp__tls_errbuf();
    if (st == UNSHARP_OK || !fmt) {
        buf[0] = 0;
        return st;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, UNSHARP_ERRMSG_MAX, fmt, ap);
    va_end(ap);
    return st;
}

int unsharp_model_input_channels(const unsharp_model *m) { return m ? m->layers[0].c : 0; }

/* The message slot of a call on m, cleared: the handle's, or the thread's when m is NULL. A
 * call whose handle is const still keeps its message there: the message is state the handle
 * holds for its caller, apart from the model itself. */
static char *begin(const unsharp_model *m)
{
    char *buf = m ? ((unsharp_model *)m)->err : unsharp__tls_errbuf();
    CALL_BEGIN(buf);
    return buf;
}
const char *unsharp_model_arch(const unsharp_model *m) { return m ? m->arch : NULL; }
const char *unsharp_model_backend(const unsharp_model *m) { return m && m->be ? m->be->name : NULL; }

/* ---- metadata ---- */

const char *unsharp_model_get_meta(const unsharp_model *m, const char *key)
{
    if (!m || !key) return NULL;
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i].key, key) == 0) return m->meta[i].value;
    return NULL;
}

unsharp_status unsharp_model_set_meta(unsharp_model *m, const char *key, const char *value)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    char *k = NULL, *v = NULL;
    if (!key || !*key || strpbrk(key, "=\n") || strlen(key) > 255)
        FAIL(UNSHARP_ERR_INVALID, "a key is 1..255 characters without '=' or newline");
    if (value && (strchr(value, '\n') || strlen(value) > 4095))
        FAIL(UNSHARP_ERR_INVALID, "key '%s': a value is at most 4095 characters without newline", key);
    for (int i = 0; i < m->n_meta; i++) {
        if (strcmp(m->meta[i].key, key) != 0) continue;
        if (!value) {
            free(m->meta[i].key);
            free(m->meta[i].value);
            m->meta[i] = m->meta[--m->n_meta];
            return UNSHARP_OK;
        }
        v = strdup(value);
        if (!v) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
        free(m->meta[i].value);
        m->meta[i].value = v;
        return UNSHARP_OK;
    }
    if (!value) return UNSHARP_OK;
    k = strdup(key);
    v = strdup(value);
    unsharp_meta *grown = k && v ? realloc(m->meta, (size_t)(m->n_meta + 1) * sizeof *grown) : NULL;
    if (!grown) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    m->meta = grown;
    m->meta[m->n_meta].key = k;
    m->meta[m->n_meta].value = v;
    m->n_meta++;
    return UNSHARP_OK;
bailout:
    free(k);
    free(v);
    return st;
}

/* ---- parameters ---- */

int unsharp_model_param_count(const unsharp_model *m) { return m ? m->n_params : 0; }
size_t unsharp_model_param_total(const unsharp_model *m) { return m ? m->n_floats : 0; }

unsharp_status unsharp_model_param_info(const unsharp_model *m, int i, const char **name, size_t *count, int shape[4])
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    if (i < 0 || i >= m->n_params)
        return unsharp__seterr(errbuf, UNSHARP_ERR_NOT_FOUND, __func__, "no parameter %d (the model has %d)", i, m->n_params);
    const unsharp_param *p = &m->params[i];
    if (name) *name = p->name;
    if (count) *count = p->count;
    if (shape) memcpy(shape, p->shape, sizeof p->shape);
    return UNSHARP_OK;
}

static int find_param(const unsharp_model *m, const char *name)
{
    for (int i = 0; name && i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) return i;
    return -1;
}

/* Copies count floats between host and a parameter or gradient. */
static unsharp_status param_io(unsharp_model *m, const char *func, const char *name, float *base,
                               float *dst, const float *src, size_t count)
{
    int i = find_param(m, name);
    if (!name) return unsharp__seterr(m->err, UNSHARP_ERR_INVALID, func, "no parameter name");
    if (i < 0) return unsharp__seterr(m->err, UNSHARP_ERR_NOT_FOUND, func, "no parameter '%s'", name);
    if (count != m->params[i].count)
        return unsharp__seterr(m->err, UNSHARP_ERR_SHAPE, func, "parameter '%s' has %zu values, not %zu", name,
                               m->params[i].count, count);
    float *p = base + m->params[i].offset;
    return dst ? m->be->download(m->be, dst, p, count * sizeof(float))
               : m->be->upload(m->be, p, src, count * sizeof(float));
}

unsharp_status unsharp_model_get_param(unsharp_model *m, const char *name, float *dst, size_t count)
{
    char *errbuf = begin(m);
    if (!m || !dst) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, m ? "no destination" : "model is NULL");
    return param_io(m, __func__, name, m->param_mem, dst, NULL, count);
}

unsharp_status unsharp_model_set_param(unsharp_model *m, const char *name, const float *src, size_t count)
{
    char *errbuf = begin(m);
    if (!m || !src) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, m ? "no source values" : "model is NULL");
    return param_io(m, __func__, name, m->param_mem, NULL, src, count);
}

unsharp_status unsharp_model_get_grad(unsharp_model *m, const char *name, float *dst, size_t count)
{
    char *errbuf = begin(m);
    if (!m || !dst) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, m ? "no destination" : "model is NULL");
    return param_io(m, __func__, name, m->grad_mem, dst, NULL, count);
}

unsharp_status unsharp_model_zero_grad(unsharp_model *m)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    return m->be->fill(m->be, m->grad_mem, 0.0f, m->n_floats);
}

/* ---- activations ---- */

/* Sizes every layer for the input's shape (layers[0] holds it). In training every layer must
 * fit the input. In inference a layer that the input is too small for, or that reads such a
 * layer, is skipped instead (no memory, no forward): a training-only branch, such as the 2x2
 * blocks of tiles that the peak loss reads, must not keep a small photo or a narrow panorama
 * from being judged. Asking for a skipped layer's output says why. */
static unsharp_status shape_layers(unsharp_model *m, int training)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    const unsharp_layer *in = &m->layers[0];
    for (int i = 1; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        L->cache_bytes = L->work_bytes = 0;
        L->skipped = 0;
        for (int k = 0; k < L->n_in && !training; k++) L->skipped |= m->layers[L->in[k]].skipped;
        if (L->skipped) continue;
        CHECK(L->kind->shape(m, L));
        if (!training && L->kind->cache_training_only) L->cache_bytes = 0;
        if (!L->kind->is_loss && (L->h < 1 || L->w < 1)) {
            if (training) FAIL(UNSHARP_ERR_SHAPE, "layer '%s': input (%d x %d) is too small for it", L->name, in->h, in->w);
            L->skipped = 1;
        }
    }
bailout:
    return st;
}

/* Lays out y, dy, caches and the shared workspace for the current shapes, growing the one
 * activation allocation when needed. */
static unsharp_status plan_activations(unsharp_model *m, int training)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    size_t off = 0, work = 0;
    /* pass 0 measures, pass 1 assigns pointers */
    for (int pass = 0; pass < 2; pass++) {
        char *base = pass ? (char *)m->act_mem : NULL;
        off = 0;
        for (int i = 0; i < m->n_layers; i++) {
            unsharp_layer *L = &m->layers[i];
            if (!training && L->fused) { /* in place: the convolution's output is read by nobody else */
                L->y = m->layers[L->in[0]].y;
                L->cache = NULL;
                continue;
            }
            size_t bytes = L->kind->is_loss || L->skipped ? 0 : ALIGN64((size_t)L->n * L->c * L->h * L->w * sizeof(float));
            L->y = base ? (float *)(base + off) : NULL;
            off += bytes;
            if (L->cache_bytes && !L->skipped) {
                L->cache = base ? base + off : NULL;
                off += ALIGN64(L->cache_bytes);
            } else {
                L->cache = NULL;
            }
            if (L->work_bytes > work) work = L->work_bytes;
        }
        for (int i = 0; i < m->n_layers; i++) {
            unsharp_layer *L = &m->layers[i];
            L->dy = NULL;
            if (!training || L->kind->is_loss || !L->needs_grad || L->skipped) continue;
            L->dy = base ? (float *)(base + off) : NULL;
            off += ALIGN64((size_t)L->n * L->c * L->h * L->w * sizeof(float));
        }
        m->work = base && work ? base + off : NULL;
        off += ALIGN64(work);
        if (pass == 0 && off > m->act_capacity) {
            m->be->release(m->be, m->act_mem);
            m->act_mem = NULL;
            m->act_capacity = 0;
            st = m->be->alloc(m->be, off, &m->act_mem);
            if (st != UNSHARP_OK) FAIL(st, "activations of %zu bytes: %s", off, m->err);
            m->act_capacity = off;
        }
    }
    /* gradients that are added to from the start; the others are overwritten by their first writer */
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (L->dy && L->dy_writer < 0)
            CHECK(m->be->fill(m->be, L->dy, 0.0f, (size_t)L->n * L->c * L->h * L->w));
    }
bailout:
    return st;
}

/* Uploads x, honouring its strides. */
static unsharp_status upload_input(unsharp_model *m, const unsharp_tensor *x)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    size_t plane = (size_t)x->h * x->w, total = (size_t)x->n * x->c * plane;
    float *tmp = NULL;
    const float *src = x->data;
    int contiguous = x->sw == 1 && x->sh == x->w && x->sc == (int64_t)plane && x->sn == (int64_t)(x->c * plane);
    if (!contiguous) {
        tmp = malloc(total * sizeof *tmp);
        if (!tmp) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the input");
        size_t k = 0;
        for (int n = 0; n < x->n; n++)
            for (int c = 0; c < x->c; c++)
                for (int h = 0; h < x->h; h++)
                    for (int w = 0; w < x->w; w++)
                        tmp[k++] = x->data[n * x->sn + c * x->sc + h * x->sh + w * x->sw];
        src = tmp;
    }
    CHECK(m->be->upload(m->be, m->layers[0].y, src, total * sizeof(float)));
bailout:
    free(tmp);
    return st;
}

/* The forward of every layer after the input, once the input is in place. */
static unsharp_status run_layers(unsharp_model *m, int training)
{
    unsharp_status st = UNSHARP_OK;
    m->forward_count++;
    for (int i = 1; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if ((L->kind->is_loss && !training) || L->skipped) continue;
        L->loss = 0;
        CHECK(L->kind->forward(m, L, training));
    }
    m->state = training ? UNSHARP_STATE_TRAIN : UNSHARP_STATE_INFER;
bailout:
    return st;
}

unsharp_status unsharp_model_forward(unsharp_model *m, const unsharp_tensor *x, int training)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    unsharp_layer *in = &m->layers[0];
    m->state = UNSHARP_STATE_NONE;
    if (!x || !x->data) FAIL(UNSHARP_ERR_INVALID, "no input tensor");
    if (x->n < 1 || x->h < 1 || x->w < 1 || x->c != in->c)
        FAIL(UNSHARP_ERR_SHAPE, "input is (%d, %d, %d, %d); the model takes (N, %d, H, W)", x->n, x->c, x->h, x->w, in->c);
    if ((double)x->n * x->c * x->h * x->w > (double)(1u << 31))
        FAIL(UNSHARP_ERR_SHAPE, "input (%d, %d, %d, %d) is over 2^31 values", x->n, x->c, x->h, x->w);
    in->n = x->n; in->h = x->h; in->w = x->w;
    CHECK(shape_layers(m, training));
    CHECK(plan_activations(m, training));
    CHECK(upload_input(m, x));
    m->input_u8 = NULL;
    m->input_absent = 0;
    CHECK(run_layers(m, training));
bailout:
    return st;
}

/* Converts the 8-bit input (m->input_u8) into the input layer's floats and forgets it. */
unsharp_status unsharp__model_input_from_u8(unsharp_model *m)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    unsharp_layer *in = &m->layers[0];
    const size_t plane = (size_t)in->h * in->w;
    float *tmp = malloc(plane * sizeof *tmp);
    if (!tmp) FAIL(UNSHARP_ERR_NOMEM, "out of memory for the input");
    for (int y = 0; y < in->h; y++) {
        const unsigned char *restrict row = m->input_u8 + (size_t)y * m->input_stride;
        float *restrict dst = tmp + (size_t)y * in->w;
        for (int x = 0; x < in->w; x++) dst[x] = row[x] * m->input_scale;
    }
    CHECK(m->be->upload(m->be, in->y, tmp, plane * sizeof(float)));
    m->input_u8 = NULL;
    m->input_absent = 0;
bailout:
    free(tmp);
    return st;
}

/* When the input layer's only reader is a convolution and the backend can read 8-bit rows
 * for it, that convolution reads them directly (layers/conv.c): no float copy of the image is
 * made or read. Otherwise the samples are converted first. */
unsharp_status unsharp_model_forward_u8(unsharp_model *m, const unsigned char *px, size_t stride, int h, int w,
                                        float scale)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    unsharp_layer *in = &m->layers[0];
    m->state = UNSHARP_STATE_NONE;
    if (!px) FAIL(UNSHARP_ERR_INVALID, "no input");
    if (in->c != 1) FAIL(UNSHARP_ERR_SHAPE, "8-bit input has one channel; the model takes %d", in->c);
    if (h < 1 || w < 1 || stride < (size_t)w || (double)h * w > (double)(1u << 31))
        FAIL(UNSHARP_ERR_SHAPE, "8-bit input of %d x %d (row stride %zu) is refused", w, h, stride);
    in->n = 1; in->h = h; in->w = w;
    CHECK(shape_layers(m, 0));
    CHECK(plan_activations(m, 0));
    int readers = 0, reader = -1;
    for (int j = 1; j < m->n_layers; j++)
        for (int k = 0; k < m->layers[j].n_in; k++)
            if (m->layers[j].in[k] == 0) readers++, reader = j;
    m->input_u8 = px;
    m->input_stride = stride;
    m->input_scale = scale;
    m->input_absent = 1;
    if (readers != 1 || m->layers[reader].kind != unsharp__layer_kind("conv") || !m->be->conv2d_forward_u8)
        CHECK(unsharp__model_input_from_u8(m));
    st = run_layers(m, 0);
bailout:
    if (m) m->input_u8 = NULL; /* the caller's pixels are not kept */
    return st;
}

int unsharp__model_input_was_u8(const unsharp_model *m)
{
    return m->input_absent;
}

unsharp_status unsharp_model_backward(unsharp_model *m)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    if (m->state != UNSHARP_STATE_TRAIN)
        FAIL(UNSHARP_ERR_STATE, "backward needs a forward with training=1 first, once per forward");
    /* the loss layers put their gradients into dy during forward; walk back from the end */
    for (int i = m->n_layers - 1; i > 0; i--) {
        unsharp_layer *L = &m->layers[i];
        if (L->kind->is_loss || !L->needs_grad) continue;
        CHECK(L->kind->backward(m, L));
    }
    m->state = UNSHARP_STATE_BACKWARD;
bailout:
    return st;
}

static int find_layer(const unsharp_model *m, const char *name)
{
    for (int i = 0; name && i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0) return i;
    return -1;
}

/* The status and message for asking after a layer that the last forward skipped. */
static unsharp_status skipped_error(const unsharp_model *m, char *errbuf, const char *func, const char *layer)
{
    return unsharp__seterr(errbuf, UNSHARP_ERR_SHAPE, func, "layer '%s' was not computed: the input (%d x %d) is too small for it",
                           layer, m->layers[0].h, m->layers[0].w);
}

/* After an 8-bit forward whose first convolution read the samples itself (model.h). */
static unsharp_status absent_error(const unsharp_model *m, char *errbuf, const char *func)
{
    return unsharp__seterr(errbuf, UNSHARP_ERR_STATE, func, "the input layer '%s' holds no floats: the last forward "
                           "read 8-bit samples straight into its first convolution", m->layers[0].name);
}

/* In inference a convolution's fused activation is written over the convolution's output. */
static int overwritten(const unsharp_model *m, const unsharp_layer *L)
{
    return m->state == UNSHARP_STATE_INFER && L->act_layer >= 0;
}

static unsharp_status overwritten_error(const unsharp_model *m, const unsharp_layer *L, char *errbuf, const char *func)
{
    return unsharp__seterr(errbuf, UNSHARP_ERR_STATE, func,
                           "layer '%s' is not kept in inference: its activation '%s' is computed in its place "
                           "(read that, or run a training forward)",
                           L->name, m->layers[L->act_layer].name);
}

unsharp_status unsharp_model_output_shape(const unsharp_model *m, const char *layer, int shape[4])
{
    char *errbuf = begin(m);
    if (!m || !shape) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, m ? "no shape array" : "model is NULL");
    int i = find_layer(m, layer);
    if (i < 0 || m->layers[i].kind->is_loss)
        return unsharp__seterr(errbuf, UNSHARP_ERR_NOT_FOUND, __func__, "no output layer '%s'", layer ? layer : "(null)");
    if (m->state == UNSHARP_STATE_NONE) return unsharp__seterr(errbuf, UNSHARP_ERR_STATE, __func__, "no forward yet");
    const unsharp_layer *L = &m->layers[i];
    if (L->skipped) return skipped_error(m, errbuf, __func__, layer);
    if (overwritten(m, L)) return overwritten_error(m, L, errbuf, __func__);
    if (i == 0 && m->input_absent) return absent_error(m, errbuf, __func__);
    shape[0] = L->n; shape[1] = L->c; shape[2] = L->h; shape[3] = L->w;
    return UNSHARP_OK;
}

unsharp_status unsharp_model_get_output(unsharp_model *m, const char *layer, unsharp_tensor *out)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    float *tmp = NULL;
    int i = find_layer(m, layer);
    if (i < 0 || m->layers[i].kind->is_loss) FAIL(UNSHARP_ERR_NOT_FOUND, "no output layer '%s'", layer ? layer : "(null)");
    if (m->state == UNSHARP_STATE_NONE) FAIL(UNSHARP_ERR_STATE, "no forward yet");
    unsharp_layer *L = &m->layers[i];
    if (L->skipped) return skipped_error(m, errbuf, __func__, layer);
    if (overwritten(m, L)) return overwritten_error(m, L, errbuf, __func__);
    if (i == 0 && m->input_absent) return absent_error(m, errbuf, __func__);
    if (!out || !out->data) FAIL(UNSHARP_ERR_INVALID, "no output tensor");
    if (out->n != L->n || out->c != L->c || out->h != L->h || out->w != L->w)
        FAIL(UNSHARP_ERR_SHAPE, "'%s' is (%d, %d, %d, %d), the tensor (%d, %d, %d, %d)", layer, L->n, L->c, L->h, L->w,
             out->n, out->c, out->h, out->w);
    const size_t total = (size_t)L->n * L->c * L->h * L->w;
    if (out->sw == 1 && out->sh == out->w && out->sc == (int64_t)out->h * out->w &&
        out->sn == (int64_t)out->c * out->h * out->w) {
        CHECK(m->be->download(m->be, out->data, L->y, total * sizeof(float)));
        return UNSHARP_OK;
    }
    /* any other strides: through a contiguous copy */
    tmp = malloc(total * sizeof *tmp);
    if (!tmp) FAIL(UNSHARP_ERR_NOMEM, "out of memory for a copy of '%s'", layer);
    CHECK(m->be->download(m->be, tmp, L->y, total * sizeof(float)));
    size_t k = 0;
    for (int n = 0; n < L->n; n++)
        for (int c = 0; c < L->c; c++)
            for (int h = 0; h < L->h; h++)
                for (int w = 0; w < L->w; w++) out->data[n * out->sn + c * out->sc + h * out->sh + w * out->sw] = tmp[k++];
bailout:
    free(tmp);
    return st;
}

unsharp_status unsharp_model_set_target(unsharp_model *m, const char *loss_layer, const float *target,
                                        const float *weight, size_t count)
{
    char *errbuf = begin(m);
    if (!m) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, "model is NULL");
    unsharp_status st = UNSHARP_OK;
    float *t = NULL, *w = NULL;
    int i = find_layer(m, loss_layer);
    if (i < 0 || !m->layers[i].kind->is_loss) FAIL(UNSHARP_ERR_NOT_FOUND, "no loss layer '%s'", loss_layer ? loss_layer : "(null)");
    if (!target || count == 0) FAIL(UNSHARP_ERR_INVALID, "no targets for '%s'", loss_layer);
    t = malloc(count * sizeof *t);
    w = weight ? malloc(count * sizeof *w) : NULL;
    if (!t || (weight && !w)) FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu targets", count);
    memcpy(t, target, count * sizeof *t);
    if (w) memcpy(w, weight, count * sizeof *w);
    unsharp_layer *L = &m->layers[i];
    free(L->host_target);
    free(L->host_weight);
    L->host_target = t;
    L->host_weight = w;
    L->target_count = count;
    return UNSHARP_OK;
bailout:
    free(t);
    free(w);
    return st;
}

unsharp_status unsharp_model_loss(const unsharp_model *m, double *loss)
{
    char *errbuf = begin(m);
    if (!m || !loss) return unsharp__seterr(errbuf, UNSHARP_ERR_INVALID, __func__, m ? "no place for the loss" : "model is NULL");
    if (m->state != UNSHARP_STATE_TRAIN && m->state != UNSHARP_STATE_BACKWARD)
        return unsharp__seterr(errbuf, UNSHARP_ERR_STATE, __func__, "no forward with training=1 yet");
    double sum = 0;
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind->is_loss) sum += m->layers[i].loss;
    *loss = sum;
    return UNSHARP_OK;
}
