/* tie.c: ties a network's weights so that it sees a photo and its transpose alike
 * (unsharp_model_tie_transpose). Every channel of a convolution or dense layer gets a twin,
 * c and c + C/2, and the twin's kernel is the transposed kernel of c with the input channels
 * swapped for their twins; the layers whose outputs a loss reads (the tile map, the image
 * logits) are their own twins. Such a network's output for a transposed photo is the
 * transposed output, exactly: a line's direction no longer decides whether it is seen. */
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "error.h"

static int is_kind(const unsharp_layer *L, const char *name) { return strcmp(L->kind->name, name) == 0; }
static int mixes(const unsharp_layer *L) { return is_kind(L, "conv") || is_kind(L, "dense"); }

/* Which layers' outputs must be their own twins: what a loss reads, back through the layers
 * that keep channels apart (activations, pooling, bias, dropout), up to a mixing layer. */
static void mark_invariant(const unsharp_model *m, char *inv)
{
    for (int i = m->n_layers - 1; i >= 0; i--) {
        const unsharp_layer *L = &m->layers[i];
        if (!(L->kind->is_loss || inv[i])) continue;
        if (!L->kind->is_loss && (mixes(L) || is_kind(L, "input"))) continue;
        for (int k = 0; k < L->n_in; k++) inv[L->in[k]] = 1;
    }
}

/* twin[i] (m->layers[i].c entries): each layer's output channel twins. */
static unsharp_status plan(unsharp_model *m, int **twin)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    char *inv = calloc((size_t)m->n_layers, 1);
    if (!inv) FAIL(UNSHARP_ERR_NOMEM, "out of memory tying the weights");
    mark_invariant(m, inv);
    for (int i = 0; i < m->n_layers; i++) {
        unsharp_layer *L = &m->layers[i];
        if (L->kind->is_loss) continue;
        int c = L->c;
        twin[i] = malloc(sizeof(int) * (size_t)(c > 0 ? c : 1));
        if (!twin[i]) FAIL(UNSHARP_ERR_NOMEM, "out of memory tying the weights");
        if (is_kind(L, "conv") && !(L->kh == L->kw && L->sh == L->sw && L->ph == L->pw))
            FAIL(UNSHARP_ERR_INVALID, "layer '%s' (line %d): a transposed photo needs square kernels, strides and padding",
                 L->name, L->line);
        if (is_kind(L, "input") || (mixes(L) && inv[i])) {
            for (int k = 0; k < c; k++) twin[i][k] = k;
        } else if (mixes(L)) {
            if (c % 2) FAIL(UNSHARP_ERR_INVALID, "layer '%s' (line %d) has %d outputs: twins need an even count", L->name, L->line, c);
            for (int k = 0; k < c; k++) twin[i][k] = (k + c / 2) % c;
        } else if (is_kind(L, "concat")) {
            int off = 0;
            for (int j = 0; j < L->n_in; j++) {
                const unsharp_layer *I = &m->layers[L->in[j]];
                for (int k = 0; k < I->c; k++) twin[i][off + k] = off + twin[L->in[j]][k];
                off += I->c;
            }
        } else { /* keeps its input's channels */
            memcpy(twin[i], twin[L->in[0]], sizeof(int) * (size_t)c);
        }
    }
bailout:
    free(inv);
    return st;
}

/* w (out, in, k, k) <- the mean of itself and its twin's transpose: w[o][i][y][x] and
 * w[to[o]][ti[i]][x][y] become one value. */
static void tie_weight(float *w, const int *to, const int *ti, int out, int in, int k)
{
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++)
            for (int y = 0; y < k; y++)
                for (int x = 0; x < k; x++) {
                    size_t a = (((size_t)o * in + i) * k + y) * k + x;
                    size_t b = (((size_t)to[o] * in + ti[i]) * k + x) * k + y;
                    if (b < a) continue; /* the pair was met at b */
                    w[a] = w[b] = 0.5f * (w[a] + w[b]);
                }
}

unsharp_status unsharp_model_tie_transpose(unsharp_model *m)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m ? m->err : unsharp__tls_errbuf();
    CALL_BEGIN(errbuf);
    int **twin = NULL;
    float *p = NULL;
    if (!m) FAIL(UNSHARP_ERR_INVALID, "model is NULL");
    twin = calloc((size_t)m->n_layers, sizeof *twin);
    p = malloc(sizeof(float) * (m->n_floats ? m->n_floats : 1));
    if (!twin || !p) FAIL(UNSHARP_ERR_NOMEM, "out of memory tying the weights");
    CHECK(plan(m, twin));
    CHECK(m->be->download(m->be, p, m->param_mem, m->n_floats * sizeof(float)));
    for (int i = 0; i < m->n_layers; i++) {
        const unsharp_layer *L = &m->layers[i];
        if (L->weight_param >= 0) {
            const unsharp_param *w = &m->params[L->weight_param];
            const unsharp_layer *I = &m->layers[L->in[0]];
            int k = is_kind(L, "conv") ? L->kh : 1;
            size_t in = w->count / ((size_t)L->c * k * k);
            if (in != (size_t)I->c)
                FAIL(UNSHARP_ERR_INVALID, "layer '%s' (line %d) reads %zu values a position, not its input's %d channels",
                     L->name, L->line, in, I->c);
            tie_weight(p + w->offset, twin[i], twin[L->in[0]], L->c, (int)in, k);
        }
        if (L->bias_param >= 0) {
            float *b = p + m->params[L->bias_param].offset;
            for (int c = 0; c < L->c; c++)
                if (twin[i][c] > c) b[c] = b[twin[i][c]] = 0.5f * (b[c] + b[twin[i][c]]);
        }
    }
    CHECK(m->be->upload(m->be, m->param_mem, p, m->n_floats * sizeof(float)));
bailout:
    if (twin)
        for (int i = 0; i < m->n_layers; i++) free(twin[i]);
    free(twin);
    free(p);
    return st;
}
