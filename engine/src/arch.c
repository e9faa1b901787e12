/* arch.c: parses the architecture text (docs/architecture-format.md) into layers. It checks
 * names, inputs and keys, and leaves parameter shapes to each kind's setup(). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= UNSHARP_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return 0;
    return 1;
}

static int find_layer(const unsharp_model *m, const char *name)
{
    for (int i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0) return i;
    return -1;
}

static int key_allowed(const char *keys, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = keys; p && *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, key, n) == 0) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int parse_float(const char *s, float lo, float hi, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* Applies one key=value to L. Returns 0 when the value is out of range. */
static int apply_key(unsharp_layer *L, const char *key, const char *val)
{
    int k;
    if (strcmp(key, "out") == 0) return parse_int(val, 1, 1 << 16, &L->out);
    if (strcmp(key, "k") == 0) { if (!parse_int(val, 1, 64, &k)) return 0; L->kh = L->kw = k; return 1; }
    if (strcmp(key, "kh") == 0) return parse_int(val, 1, 64, &L->kh);
    if (strcmp(key, "kw") == 0) return parse_int(val, 1, 64, &L->kw);
    if (strcmp(key, "s") == 0) { if (!parse_int(val, 1, 64, &k)) return 0; L->sh = L->sw = k; return 1; }
    if (strcmp(key, "p") == 0 && strcmp(L->kind->name, "dropout") == 0) return parse_float(val, 0.0f, 0.99f, &L->p);
    if (strcmp(key, "p") == 0) { if (!parse_int(val, 0, 64, &k)) return 0; L->ph = L->pw = k; return 1; }
    if (strcmp(key, "bias") == 0) return parse_int(val, 0, 1, &L->has_bias);
    if (strcmp(key, "slope") == 0) return parse_float(val, -1.0f, 1.0f, &L->slope); /* -1: |x| */
    if (strcmp(key, "weight") == 0) return parse_float(val, 0.0f, 1e6f, &L->weight);
    if (strcmp(key, "eps") == 0) return parse_float(val, -1e6f, 1e6f, &L->eps); /* the kind checks its range */
    return 0;
}

/* Parses one non-empty line (tokens already split) into a new layer. */
static unsharp_status parse_line(unsharp_model *m, int lineno, char **tok, int ntok)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    if (m->n_layers >= UNSHARP_MAX_LAYERS) FAIL(UNSHARP_ERR_INVALID, "line %d: more than %d layers", lineno, UNSHARP_MAX_LAYERS);
    const unsharp_layer_kind *kind = unsharp__layer_kind(tok[0]);
    if (!kind) FAIL(UNSHARP_ERR_INVALID, "line %d: unknown layer kind '%s'", lineno, tok[0]);
    if (ntok < 3) FAIL(UNSHARP_ERR_INVALID, "line %d: expected '%s NAME INPUT ...'", lineno, tok[0]);
    if (!valid_name(tok[1])) FAIL(UNSHARP_ERR_INVALID, "line %d: bad layer name '%s'", lineno, tok[1]);
    if (find_layer(m, tok[1]) >= 0) FAIL(UNSHARP_ERR_INVALID, "line %d: layer name '%s' is used twice", lineno, tok[1]);
    int is_input = strcmp(kind->name, "input") == 0;
    if (is_input != (m->n_layers == 0))
        FAIL(UNSHARP_ERR_INVALID, "line %d: the first layer, and only it, must be 'input NAME CHANNELS'", lineno);

    unsharp_layer *L = &m->layers[m->n_layers];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->line = lineno;
    snprintf(L->name, sizeof L->name, "%s", tok[1]);
    L->kh = L->kw = 0;
    L->sh = L->sw = 0;
    L->has_bias = 1;
    L->slope = 0.01f;
    L->p = 0.5f;
    L->weight = 1.0f;
    L->weight_param = L->bias_param = -1;

    if (is_input) {
        if (ntok != 3 || !parse_int(tok[2], 1, 4096, &L->c))
            FAIL(UNSHARP_ERR_INVALID, "line %d: expected 'input NAME CHANNELS' with 1..4096 channels", lineno);
    } else {
        /* inputs: a comma-separated list of earlier layers */
        char *save = NULL;
        for (char *s = strtok_r(tok[2], ",", &save); s; s = strtok_r(NULL, ",", &save)) {
            int idx = find_layer(m, s);
            if (idx < 0) FAIL(UNSHARP_ERR_INVALID, "line %d: input '%s' is not an earlier layer", lineno, s);
            if (m->layers[idx].kind->is_loss) FAIL(UNSHARP_ERR_INVALID, "line %d: '%s' is a loss and cannot be an input", lineno, s);
            if (L->n_in >= UNSHARP_MAX_INPUTS) FAIL(UNSHARP_ERR_INVALID, "line %d: more than %d inputs", lineno, UNSHARP_MAX_INPUTS);
            L->in[L->n_in++] = idx;
        }
        if (L->n_in == 0) FAIL(UNSHARP_ERR_INVALID, "line %d: no input", lineno);
        if (L->n_in > 1 && strcmp(kind->name, "concat") != 0)
            FAIL(UNSHARP_ERR_INVALID, "line %d: only concat takes several inputs", lineno);
        for (int i = 3; i < ntok; i++) {
            char *eq = strchr(tok[i], '=');
            if (!eq) FAIL(UNSHARP_ERR_INVALID, "line %d: expected key=value, got '%s'", lineno, tok[i]);
            *eq = 0;
            if (!key_allowed(kind->keys, tok[i]))
                FAIL(UNSHARP_ERR_INVALID, "line %d: '%s' takes no key '%s'", lineno, kind->name, tok[i]);
            if (!apply_key(L, tok[i], eq + 1))
                FAIL(UNSHARP_ERR_INVALID, "line %d: bad value '%s' for '%s'", lineno, eq + 1, tok[i]);
        }
    }
    m->n_layers++;
    if (kind->setup) {
        st = kind->setup(m, L);
        if (st != UNSHARP_OK) { m->n_layers--; goto bailout; }
    }
bailout:
    return st;
}

unsharp_status unsharp__arch_parse(unsharp_model *m, const char *text)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    char *copy = NULL;
    size_t len = strlen(text);
    if (len > UNSHARP_ARCH_MAX) FAIL(UNSHARP_ERR_INVALID, "architecture text is %zu bytes, over %d", len, UNSHARP_ARCH_MAX);
    copy = malloc(len + 1);
    m->layers = calloc(UNSHARP_MAX_LAYERS, sizeof *m->layers);
    if (!copy || !m->layers) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    memcpy(copy, text, len + 1);

    int lineno = 0;
    char *save = NULL;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *tok[64];
        int ntok = 0;
        for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
            if (ntok == 64) FAIL(UNSHARP_ERR_INVALID, "line %d: too many words", lineno);
            tok[ntok++] = t;
        }
        if (ntok == 0) continue;
        CHECK(parse_line(m, lineno, tok, ntok));
    }
    if (m->n_layers == 0) FAIL(UNSHARP_ERR_INVALID, "the architecture has no layers");
bailout:
    free(copy);
    return st;
}
