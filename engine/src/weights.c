/* weights.c: the .usw weights file (docs/weights-format.md). A self-describing, little-endian
 * file: header, architecture text, metadata, tensor table, 64-byte aligned float32 data and a
 * CRC32 trailer. Saving writes path.tmp, fsyncs it and renames it over path. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "model.h"

#define USW_MAGIC "UNSHARPW"
#define USW_MAJOR 1
#define USW_MINOR 0
#define USW_MINOR_CHECKPOINT 1 /* 1.1: a checkpoint, with the optimiser state */
#define USW_HEADER 40
#define USW_MAX_FILE ((size_t)1 << 30)
#define ALIGN64(x) (((x) + 63) & ~(size_t)63)

/* ---- little-endian helpers, independent of the host's byte order ---- */

static void put_u16(unsigned char *p, uint32_t v) { p[0] = v & 255; p[1] = (v >> 8) & 255; }
static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 255; }
static void put_u64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (v >> (8 * i)) & 255; }
static uint32_t get_u16(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t get_u32(const unsigned char *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get_u64(const unsigned char *p) { return get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static void put_f32s(unsigned char *p, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_u32(p + 4 * i, u);
    }
}

static void get_f32s(float *v, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(p + 4 * i);
        memcpy(&v[i], &u, 4);
    }
}

/* ---- save ---- */

/* key=value lines; the optimiser's keys only in a checkpoint (with_opt) */
static size_t meta_text(const unsharp_model *m, int with_opt, char *out)
{
    size_t k = 0;
    for (int i = 0; i < m->n_meta; i++) {
        if (!with_opt && !strncmp(m->meta[i].key, "optimizer.", 10)) continue;
        size_t a = strlen(m->meta[i].key), b = strlen(m->meta[i].value);
        if (out) {
            memcpy(out + k, m->meta[i].key, a);
            out[k + a] = '=';
            memcpy(out + k + a + 1, m->meta[i].value, b);
            out[k + a + 1 + b] = '\n';
        }
        k += a + b + 2;
    }
    return k;
}

/* Builds the whole file in memory. */
#define OPT_TENSOR "optimizer.state"

/* The optimiser's configuration and step count as metadata of a checkpoint. */
static unsharp_status put_opt_meta(unsharp_model *m)
{
    char v[64];
    const unsharp_optimizer_config *c = &m->opt;
    struct { const char *key; double value; } f[] = {{"optimizer.lr", c->lr}, {"optimizer.beta1", c->beta1},
        {"optimizer.beta2", c->beta2}, {"optimizer.eps", c->eps}, {"optimizer.momentum", c->momentum},
        {"optimizer.weight_decay", c->weight_decay}};
    unsharp_status st = unsharp_model_set_meta(m, "optimizer.kind", c->kind == UNSHARP_OPT_ADAM ? "adam" : "sgd");
    snprintf(v, sizeof v, "%d", m->opt_t);
    if (st == UNSHARP_OK) st = unsharp_model_set_meta(m, "optimizer.step", v);
    for (size_t i = 0; st == UNSHARP_OK && i < sizeof f / sizeof *f; i++) {
        snprintf(v, sizeof v, "%.9g", f[i].value);
        st = unsharp_model_set_meta(m, f[i].key, v);
    }
    return st;
}

static size_t opt_floats(const unsharp_model *m)
{
    return m->opt_ready ? (m->opt.kind == UNSHARP_OPT_ADAM ? 2 : 1) * m->n_floats : 0;
}

/* with_opt: also the optimiser state, as the tensor "optimizer.state" (a checkpoint) */
static unsharp_status serialise(unsharp_model *m, int with_opt, unsigned char **out, size_t *out_size)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    unsigned char *buf = NULL;
    float *host = NULL;
    const size_t n_opt = with_opt ? opt_floats(m) : 0;
    if (n_opt) CHECK(put_opt_meta(m));
    size_t arch_len = strlen(m->arch), meta_len = meta_text(m, n_opt > 0, NULL);
    size_t table = 0;
    for (int i = 0; i < m->n_params; i++) table += 2 + strlen(m->params[i].name) + 1 + 1 + 4 * 4 + 8 + 8;
    if (n_opt) table += 2 + strlen(OPT_TENSOR) + 1 + 1 + 4 * 4 + 8 + 8;
    size_t data_begin = ALIGN64(USW_HEADER + arch_len + meta_len + table);
    size_t size = data_begin;
    for (int i = 0; i < m->n_params; i++) size = ALIGN64(size + m->params[i].count * 4);
    size = ALIGN64(size + n_opt * 4);
    size += 4; /* CRC32 */

    buf = calloc(size, 1);
    host = malloc((m->n_floats + n_opt ? m->n_floats + n_opt : 1) * sizeof *host);
    if (!buf || !host) FAIL(UNSHARP_ERR_NOMEM, "out of memory for a %zu-byte file", size);
    CHECK(m->be->download(m->be, host, m->param_mem, m->n_floats * sizeof(float)));
    if (n_opt) CHECK(m->be->download(m->be, host + m->n_floats, m->opt_mem, n_opt * sizeof(float)));

    memcpy(buf, USW_MAGIC, 8);
    put_u32(buf + 8, USW_MAJOR);
    put_u32(buf + 12, n_opt ? USW_MINOR_CHECKPOINT : USW_MINOR);
    put_u64(buf + 16, size);
    put_u32(buf + 24, (uint32_t)arch_len);
    put_u32(buf + 28, (uint32_t)meta_len);
    put_u32(buf + 32, (uint32_t)m->n_params + (n_opt ? 1 : 0));
    put_u32(buf + 36, 0);
    size_t k = USW_HEADER;
    memcpy(buf + k, m->arch, arch_len);
    k += arch_len;
    meta_text(m, n_opt > 0, (char *)buf + k);
    k += meta_len;
    size_t data = data_begin;
    for (int i = 0; i < m->n_params; i++) {
        const unsharp_param *p = &m->params[i];
        size_t nlen = strlen(p->name);
        put_u16(buf + k, (uint32_t)nlen);
        memcpy(buf + k + 2, p->name, nlen);
        k += 2 + nlen;
        buf[k++] = 0; /* dtype: float32 */
        buf[k++] = 4; /* ndim */
        for (int d = 0; d < 4; d++, k += 4) put_u32(buf + k, (uint32_t)p->shape[d]);
        put_u64(buf + k, data);
        put_u64(buf + k + 8, p->count * 4);
        k += 16;
        put_f32s(buf + data, host + p->offset, p->count);
        data = ALIGN64(data + p->count * 4);
    }
    if (n_opt) {
        size_t nlen = strlen(OPT_TENSOR);
        put_u16(buf + k, (uint32_t)nlen);
        memcpy(buf + k + 2, OPT_TENSOR, nlen);
        k += 2 + nlen;
        buf[k++] = 0;
        buf[k++] = 4;
        put_u32(buf + k, (uint32_t)n_opt);
        for (int d = 1; d < 4; d++) put_u32(buf + k + 4 * d, 1);
        k += 16;
        put_u64(buf + k, data);
        put_u64(buf + k + 8, n_opt * 4);
        k += 16;
        put_f32s(buf + data, host + m->n_floats, n_opt);
    }
    put_u32(buf + size - 4, (uint32_t)crc32(0L, buf, (uInt)(size - 4)));
    *out = buf;
    *out_size = size;
    buf = NULL;
bailout:
    free(buf);
    free(host);
    return st;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static unsharp_status save(unsharp_model *m, const char *path, int with_opt)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = m->err;
    unsigned char *buf = NULL;
    char *tmp = NULL, *dircopy = NULL;
    int fd = -1;
    size_t size = 0;
    if (!path || !*path) FAIL(UNSHARP_ERR_INVALID, "no path");
    CHECK(serialise(m, with_opt, &buf, &size));
    tmp = malloc(strlen(path) + 5);
    dircopy = strdup(path);
    if (!tmp || !dircopy) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    sprintf(tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) FAIL(UNSHARP_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (write_all(fd, buf, size) != 0) FAIL(UNSHARP_ERR_IO, "%s: write: %s", tmp, strerror(errno));
    if (fsync(fd) != 0) FAIL(UNSHARP_ERR_IO, "%s: fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0) { fd = -1; FAIL(UNSHARP_ERR_IO, "%s: close: %s", tmp, strerror(errno)); }
    fd = -1;
    if (rename(tmp, path) != 0) FAIL(UNSHARP_ERR_IO, "rename %s to %s: %s", tmp, path, strerror(errno));
    /* make the rename itself durable */
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
bailout:
    if (fd >= 0) close(fd);
    if (st != UNSHARP_OK && tmp) unlink(tmp);
    free(tmp);
    free(dircopy);
    free(buf);
    return st;
}

unsharp_status unsharp_model_save(unsharp_model *m, const char *path)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    CALL_BEGIN(m->err);
    return save(m, path, 0);
}

unsharp_status unsharp_model_save_checkpoint(unsharp_model *m, const char *path)
{
    if (!m) return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_INVALID, __func__, "model is NULL");
    CALL_BEGIN(m->err);
    if (!m->opt_ready) return unsharp__seterr(m->err, UNSHARP_ERR_STATE, __func__, "no optimiser set: nothing to checkpoint");
    return save(m, path, 1);
}

/* ---- load ---- */

static int find_param_index(const unsharp_model *m, const char *name, size_t len)
{
    for (int i = 0; i < m->n_params; i++)
        if (strlen(m->params[i].name) == len && memcmp(m->params[i].name, name, len) == 0) return i;
    return -1;
}

/* Parses "key=value\n" lines into the model's metadata. */
static unsharp_status parse_meta(unsharp_model *m, const char *text, size_t len, char *errbuf)
{
    unsharp_status st = UNSHARP_OK;
    char *copy = malloc(len + 1);
    if (!copy) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = 0;
    if (memchr(text, 0, len)) FAIL(UNSHARP_ERR_CORRUPT, "metadata holds a NUL byte");
    for (char *line = copy, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (!next) FAIL(UNSHARP_ERR_CORRUPT, "metadata line without newline");
        *next++ = 0;
        char *eq = strchr(line, '=');
        if (!eq) FAIL(UNSHARP_ERR_CORRUPT, "metadata line without '='");
        *eq = 0;
        st = unsharp_model_set_meta(m, line, eq + 1);
        if (st != UNSHARP_OK) FAIL(st == UNSHARP_ERR_NOMEM ? st : UNSHARP_ERR_CORRUPT, "metadata: %s", m->err);
    }
bailout:
    free(copy);
    return st;
}

static int meta_num(const unsharp_model *m, const char *key, double *v)
{
    const char *s = unsharp_model_get_meta(m, key);
    char *end;
    if (!s) return 0;
    *v = strtod(s, &end);
    return end != s && *end == 0 && isfinite(*v);
}

/* The optimiser a checkpoint's metadata describes, and the floats of its state; 0 when the
 * metadata does not describe one. */
static size_t opt_config_from_meta(const unsharp_model *m, unsharp_optimizer_config *c, int *step)
{
    const char *kind = unsharp_model_get_meta(m, "optimizer.kind");
    double v[7];
    const char *keys[7] = {"optimizer.step", "optimizer.lr", "optimizer.beta1", "optimizer.beta2", "optimizer.eps",
                           "optimizer.momentum", "optimizer.weight_decay"};
    if (!kind || (strcmp(kind, "adam") && strcmp(kind, "sgd"))) return 0;
    for (int i = 0; i < 7; i++)
        if (!meta_num(m, keys[i], &v[i])) return 0;
    if (v[0] < 0 || v[0] > 2e9) return 0;
    *c = (unsharp_optimizer_config){!strcmp(kind, "adam") ? UNSHARP_OPT_ADAM : UNSHARP_OPT_SGD, (float)v[1], (float)v[2],
                                    (float)v[3], (float)v[4], (float)v[5], (float)v[6]};
    *step = (int)v[0];
    return (c->kind == UNSHARP_OPT_ADAM ? 2 : 1) * m->n_floats;
}

static unsharp_status restore_optimizer(unsharp_model *m, const unsharp_optimizer_config *c, int step,
                                        const float *state, size_t n, const char *what, char *errbuf)
{
    unsharp_status st = UNSHARP_OK;
    if (unsharp_model_set_optimizer(m, c) != UNSHARP_OK) FAIL(UNSHARP_ERR_CORRUPT, "%s: optimiser: %s", what, m->err);
    st = m->be->upload(m->be, m->opt_mem, state, n * sizeof(float));
    if (st != UNSHARP_OK) FAIL(st, "%s: %s", what, m->err);
    m->opt_t = step;
bailout:
    return st;
}

static unsharp_status load_buffer(const unsigned char *buf, size_t size, const char *what,
                                  const unsharp_model_options *opt, unsharp_model **out, char *errbuf)
{
    unsharp_status st = UNSHARP_OK;
    unsharp_model *m = NULL;
    char *arch = NULL;
    float *host = NULL;
    unsigned char *seen = NULL;
    int seen_opt = 0;

    if (size < 8 && memcmp(buf, USW_MAGIC, size) == 0) FAIL(UNSHARP_ERR_TRUNCATED, "%s: truncated: %zu bytes", what, size);
    if (size < 8 || memcmp(buf, USW_MAGIC, 8) != 0) FAIL(UNSHARP_ERR_BAD_MAGIC, "%s: not a .usw weights file (bad magic)", what);
    if (size < USW_HEADER) FAIL(UNSHARP_ERR_TRUNCATED, "%s: truncated header: %zu bytes", what, size);
    uint32_t major = get_u32(buf + 8), minor = get_u32(buf + 12);
    if (major != USW_MAJOR)
        FAIL(UNSHARP_ERR_VERSION, "%s: format version %u.%u; this build reads version %d", what, major, minor, USW_MAJOR);
    uint64_t declared = get_u64(buf + 16);
    if (declared > size) FAIL(UNSHARP_ERR_TRUNCATED, "%s: truncated: %zu of %llu bytes", what, size, (unsigned long long)declared);
    if (declared < size) FAIL(UNSHARP_ERR_CORRUPT, "%s: %zu bytes, but the header says %llu", what, size, (unsigned long long)declared);
    uint32_t want = get_u32(buf + size - 4), got = (uint32_t)crc32(0L, buf, (uInt)(size - 4));
    if (want != got) FAIL(UNSHARP_ERR_CHECKSUM, "%s: CRC32 mismatch (file says %08x, contents give %08x): the file is corrupt", what, want, got);

    /* the checksum holds: from here on, inconsistencies mean a bad writer, not a bad disk */
    size_t arch_len = get_u32(buf + 24), meta_len = get_u32(buf + 28), n_tensors = get_u32(buf + 32);
    size_t k = USW_HEADER;
    if (arch_len > UNSHARP_ARCH_MAX || meta_len > size || k + arch_len + meta_len > size - 4)
        FAIL(UNSHARP_ERR_CORRUPT, "%s: architecture or metadata length out of range", what);
    arch = malloc(arch_len + 1);
    if (!arch) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    memcpy(arch, buf + k, arch_len);
    arch[arch_len] = 0;
    if (strlen(arch) != arch_len) FAIL(UNSHARP_ERR_CORRUPT, "%s: architecture text holds a NUL byte", what);
    k += arch_len;
    char why[UNSHARP_ERRMSG_MAX];
    st = unsharp__model_new(arch, opt, &m, why);
    /* a backend that cannot be had (no CUDA device) is not the file's fault */
    if (st == UNSHARP_ERR_BACKEND || st == UNSHARP_ERR_UNSUPPORTED) FAIL(st, "%s: %s", what, why);
    if (st != UNSHARP_OK) FAIL(st == UNSHARP_ERR_NOMEM ? st : UNSHARP_ERR_CORRUPT, "%s: bad architecture: %s", what, why);
    CHECK(parse_meta(m, (const char *)buf + k, meta_len, errbuf));
    k += meta_len;
    unsharp_optimizer_config opt_cfg;
    int opt_step = 0;
    const size_t n_opt = n_tensors == (size_t)m->n_params + 1 ? opt_config_from_meta(m, &opt_cfg, &opt_step) : 0;
    if (n_tensors != (size_t)m->n_params && !n_opt)
        FAIL(UNSHARP_ERR_CORRUPT, "%s: %zu tensors for an architecture with %d parameters", what, n_tensors, m->n_params);

    host = calloc(m->n_floats + n_opt ? m->n_floats + n_opt : 1, sizeof *host);
    seen = calloc(m->n_params ? m->n_params : 1, 1);
    if (!host || !seen) FAIL(UNSHARP_ERR_NOMEM, "out of memory");
    for (size_t t = 0; t < n_tensors; t++) {
        if (k + 2 > size - 4) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor table runs past the end", what);
        size_t nlen = get_u16(buf + k);
        if (k + 2 + nlen + 2 > size - 4) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor table runs past the end", what);
        const char *name = (const char *)buf + k + 2;
        k += 2 + nlen;
        unsigned dtype = buf[k], ndim = buf[k + 1];
        k += 2;
        if (dtype != 0) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor %zu: unknown data type %u", what, t, dtype);
        if (ndim > 8 || k + 4 * ndim + 16 > size - 4) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor %zu: bad dimension count %u", what, t, ndim);
        if (n_opt && nlen == strlen(OPT_TENSOR) && !memcmp(name, OPT_TENSOR, nlen)) {
            if (seen_opt++) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' appears twice", what, OPT_TENSOR);
            uint64_t elems = 1;
            for (unsigned d = 0; d < ndim; d++) elems *= get_u32(buf + k + 4 * d);
            k += 4 * ndim;
            uint64_t off = get_u64(buf + k), nbytes = get_u64(buf + k + 8);
            k += 16;
            if (elems != n_opt || nbytes != elems * 4)
                FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' has the wrong size for the optimiser", what, OPT_TENSOR);
            if (off % 64 || off > size - 4 || nbytes > size - 4 - off)
                FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' data lies outside the file", what, OPT_TENSOR);
            get_f32s(host + m->n_floats, buf + off, n_opt);
            continue;
        }
        int i = find_param_index(m, name, nlen);
        if (i < 0) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%.*s' is not a parameter of the architecture", what, (int)nlen, name);
        if (seen[i]) FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' appears twice", what, m->params[i].name);
        seen[i] = 1;
        uint64_t elems = 1;
        for (unsigned d = 0; d < ndim; d++) {
            uint32_t dim = get_u32(buf + k + 4 * d);
            if (d < 4 && (int64_t)dim != m->params[i].shape[d]) elems = 0;
            if (d >= 4 && dim != 1) elems = 0;
            elems *= dim;
        }
        k += 4 * ndim;
        uint64_t off = get_u64(buf + k), nbytes = get_u64(buf + k + 8);
        k += 16;
        if (ndim < 4 || elems != m->params[i].count || nbytes != elems * 4)
            FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' has the wrong shape for the architecture", what, m->params[i].name);
        if (off % 64 || off > size - 4 || nbytes > size - 4 - off)
            FAIL(UNSHARP_ERR_CORRUPT, "%s: tensor '%s' data lies outside the file", what, m->params[i].name);
        get_f32s(host + m->params[i].offset, buf + off, m->params[i].count);
    }
    if (n_opt && !seen_opt) FAIL(UNSHARP_ERR_CORRUPT, "%s: %zu tensors for an architecture with %d parameters", what, n_tensors, m->n_params);
    st = m->be->upload(m->be, m->param_mem, host, m->n_floats * sizeof(float));
    if (st != UNSHARP_OK) FAIL(st, "%s: %s", what, m->err);
    if (n_opt) CHECK(restore_optimizer(m, &opt_cfg, opt_step, host + m->n_floats, n_opt, what, errbuf));
    *out = m;
    m = NULL;
bailout:
    unsharp_model_free(m);
    free(arch);
    free(host);
    free(seen);
    return st;
}

unsharp_status unsharp_model_load_memory(const void *data, size_t size, const unsharp_model_options *options,
                                         unsharp_model **out)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = unsharp__tls_errbuf();
    CALL_BEGIN(errbuf);
    if (!out || (!data && size)) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    *out = NULL;
    CHECK(load_buffer(data ? data : "", size, "(memory)", options, out, errbuf));
bailout:
    return st;
}

unsharp_status unsharp_model_load(const char *path, const unsharp_model_options *options, unsharp_model **out)
{
    unsharp_status st = UNSHARP_OK;
    char *errbuf = unsharp__tls_errbuf();
    unsigned char *buf = NULL;
    int fd = -1;
    CALL_BEGIN(errbuf);
    if (!out || !path) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    *out = NULL;
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) FAIL(UNSHARP_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) FAIL(UNSHARP_ERR_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) FAIL(UNSHARP_ERR_IO, "%s: not a regular file (a folder, FIFO, device or socket)", path);
    if ((uint64_t)sb.st_size > USW_MAX_FILE) FAIL(UNSHARP_ERR_CORRUPT, "%s: %lld bytes, over the 1 GiB limit", path, (long long)sb.st_size);
    size_t size = (size_t)sb.st_size;
    buf = malloc(size ? size : 1);
    if (!buf) FAIL(UNSHARP_ERR_NOMEM, "out of memory for %zu bytes", size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) FAIL(UNSHARP_ERR_IO, "%s: read: %s", path, strerror(errno));
        if (r == 0) break;
        got += (size_t)r;
    }
    CHECK(load_buffer(buf, got, path, options, out, errbuf));
bailout:
    if (fd >= 0) close(fd);
    free(buf);
    return st;
}
