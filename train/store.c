/* store.c: the experiment store's shared part (store.h): opening either backend, the schema,
 * the run records, the queue and its recovery rule. All SQL here runs on SQLite and on
 * PostgreSQL alike; the backends differ only in the few words of store_backend. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "store.h"

struct run_store {
    const store_backend *be;
    void *db;
    char err[1024];
};

const char *store_cell(const store_rows *r, int row, int col)
{
    return r && row < r->nrows && col < r->ncols ? r->v[(size_t)row * r->ncols + col] : NULL;
}

void store_rows_free(store_rows *r)
{
    if (!r) return;
    for (size_t i = 0; i < (size_t)r->nrows * r->ncols; i++) free(r->v[i]);
    free(r->v);
    *r = (store_rows){0};
}

const char *store_errmsg(const run_store *s) { return s ? s->err : "no store"; }
int store_is_postgres(const run_store *s) { return s && s->be == &store_pg_backend; }

int store_exec(run_store *s, const char *sql, int n, const char *const *params, store_rows *out)
{
    if (out) *out = (store_rows){0};
    int rc = s->be->exec(s->db, sql, n, params, out, s->err, sizeof s->err);
    if (rc != 0 && out) store_rows_free(out);
    return rc;
}

int store_begin(run_store *s) { return store_exec(s, s->be->begin, 0, NULL, NULL); }
int store_commit(run_store *s) { return store_exec(s, "COMMIT", 0, NULL, NULL); }
void store_rollback(run_store *s)
{
    char keep[sizeof s->err];
    memcpy(keep, s->err, sizeof keep);
    store_exec(s, "ROLLBACK", 0, NULL, NULL);
    memcpy(s->err, keep, sizeof keep);
}

double store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int store_default_path(char *buf, size_t n, char *err, size_t errn)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (xdg && *xdg == '/') snprintf(dir, sizeof dir, "%s/unsharp", xdg);
    else if (home && *home) snprintf(dir, sizeof dir, "%s/.local/share/unsharp", home);
    else { snprintf(err, errn, "neither XDG_DATA_HOME nor HOME is set: give --db PATH"); return -1; }
    if (mkdirs(dir) != 0) { snprintf(err, errn, "%s: %s", dir, strerror(errno)); return -1; }
    if ((size_t)snprintf(buf, n, "%s/experiments.db", dir) >= n) { snprintf(err, errn, "%s: path too long", dir); return -1; }
    return 0;
}

/* The schema, created on first use under a write lock (BEGIN IMMEDIATE on SQLite, an advisory
 * lock on PostgreSQL) so that two programs starting at once do not race. %1$s is the id type. */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS runs (\n"
    "  id %1$s,\n"
    "  status TEXT NOT NULL,               -- queued, running, done, failed, interrupted\n"
    "  created DOUBLE PRECISION NOT NULL,  -- seconds since 1970, UTC\n"
    "  started DOUBLE PRECISION, finished DOUBLE PRECISION, heartbeat DOUBLE PRECISION,\n"
    "  queued INTEGER NOT NULL DEFAULT 0,  -- 1 when it came through the queue\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  host TEXT, pid BIGINT, worker TEXT,\n"
    "  code_version TEXT, config TEXT, data_fingerprint TEXT, data_files INTEGER,\n"
    "  weights TEXT, message TEXT);\n"
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status, id);\n"
    "CREATE TABLE IF NOT EXISTS run_args (run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "  pos INTEGER NOT NULL, arg TEXT NOT NULL, PRIMARY KEY (run_id, pos));\n"
    "CREATE TABLE IF NOT EXISTS epochs (run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "  epoch INTEGER NOT NULL, train_loss DOUBLE PRECISION, val_loss DOUBLE PRECISION,\n"
    "  val_acc DOUBLE PRECISION, val_auc DOUBLE PRECISION, lr DOUBLE PRECISION,\n"
    "  samples_per_s DOUBLE PRECISION, seconds DOUBLE PRECISION, PRIMARY KEY (run_id, epoch));\n"
    "CREATE TABLE IF NOT EXISTS takes (run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "  worker TEXT NOT NULL, taken DOUBLE PRECISION NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS held_back (run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "  epoch INTEGER NOT NULL,             -- 0: the starting weights\n"
    "  set_name TEXT NOT NULL,             -- held back, labelled\n"
    "  keepers INTEGER, kept INTEGER, blurred INTEGER, caught INTEGER,\n"
    "  accuracy DOUBLE PRECISION, auc DOUBLE PRECISION, PRIMARY KEY (run_id, epoch, set_name));\n"
    "CREATE TABLE IF NOT EXISTS run_notes (run_id BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
    "  key TEXT NOT NULL, value TEXT, PRIMARY KEY (run_id, key));\n";

static int ensure_schema(run_store *s)
{
    char sql[sizeof SCHEMA + 64];
    snprintf(sql, sizeof sql, SCHEMA, s->be->id_type);
    store_rows r;
    if (store_begin(s) != 0) return -1;
    if (store_is_postgres(s) && store_exec(s, "SELECT pg_advisory_xact_lock(7285142)", 0, NULL, NULL) != 0) goto fail;
    if (store_exec(s, sql, 0, NULL, NULL) != 0) goto fail;
    if (store_exec(s, "SELECT max(version) FROM schema_version", 0, NULL, &r) != 0) goto fail;
    const char *v = store_cell(&r, 0, 0);
    int have = v ? atoi(v) : 0;
    store_rows_free(&r);
    if (have > STORE_SCHEMA_VERSION) {
        snprintf(s->err, sizeof s->err, "the store has schema version %d; this program knows %d: update unsharp", have,
                 STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (!have) {
        char ver[16];
        snprintf(ver, sizeof ver, "%d", STORE_SCHEMA_VERSION);
        const char *p[] = {ver};
        if (store_exec(s, "INSERT INTO schema_version (version) VALUES ($1)", 1, p, NULL) != 0) goto fail;
    }
    return store_commit(s);
fail:
    store_rollback(s);
    return -1;
}

int store_open(const char *spec, run_store **out, char *err, size_t errn)
{
    *out = NULL;
    run_store *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errn, "out of memory"); return -1; }
    s->be = !strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11) ? &store_pg_backend : &store_sqlite_backend;
    if (s->be->open(spec, &s->db, err, errn) != 0) { free(s); return -1; }
    if (ensure_schema(s) != 0) {
        snprintf(err, errn, "%s", s->err);
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(run_store *s)
{
    if (!s) return;
    if (s->db) s->be->close(s->db);
    free(s);
}

/* ---- runs ---- */

static void fmt_d(char *buf, size_t n, double v) { snprintf(buf, n, "%.17g", v); }

int store_new_run(run_store *s, const char *status, int argc, char *const *argv, const char *config_json,
                  const char *code_version, const char *host, long pid, int64_t *id)
{
    char now[32], pids[32], queued[2] = {strcmp(status, "queued") == 0 ? '1' : '0', 0};
    fmt_d(now, sizeof now, store_now());
    snprintf(pids, sizeof pids, "%ld", pid);
    int running = strcmp(status, "running") == 0;
    const char *p[] = {status, now, queued, config_json, code_version, running ? host : NULL, running ? pids : NULL,
                       running ? now : NULL, running ? "1" : "0"};
    store_rows r;
    if (store_begin(s) != 0) return -1;
    if (store_exec(s,
                   "INSERT INTO runs (status, created, queued, config, code_version, host, pid, started, heartbeat, attempts)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
                   9, p, &r) != 0)
        goto fail;
    *id = store_cell(&r, 0, 0) ? strtoll(store_cell(&r, 0, 0), NULL, 10) : 0;
    char ids[32];
    snprintf(ids, sizeof ids, "%s", store_cell(&r, 0, 0) ? store_cell(&r, 0, 0) : "0");
    store_rows_free(&r);
    for (int i = 0; i < argc; i++) {
        char pos[16];
        snprintf(pos, sizeof pos, "%d", i);
        const char *q[] = {ids, pos, argv[i]};
        if (store_exec(s, "INSERT INTO run_args (run_id, pos, arg) VALUES ($1, $2, $3)", 3, q, NULL) != 0) goto fail;
    }
    return store_commit(s);
fail:
    store_rollback(s);
    return -1;
}

static int update_run(run_store *s, const char *sql, int64_t id, int n, const char *const *vals)
{
    char ids[32];
    const char *p[8] = {ids};
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    for (int i = 0; i < n && i < 7; i++) p[i + 1] = vals[i];
    return store_exec(s, sql, n + 1, p, NULL);
}

int store_set_config(run_store *s, int64_t id, const char *config_json, const char *code_version)
{
    const char *v[] = {config_json, code_version};
    return update_run(s, "UPDATE runs SET config = $2, code_version = $3 WHERE id = $1", id, 2, v);
}

int store_set_data(run_store *s, int64_t id, const char *fingerprint, int files)
{
    char nf[16];
    snprintf(nf, sizeof nf, "%d", files);
    const char *v[] = {fingerprint, nf};
    return update_run(s, "UPDATE runs SET data_fingerprint = $2, data_files = $3 WHERE id = $1", id, 2, v);
}

int store_heartbeat(run_store *s, int64_t id)
{
    char now[32];
    fmt_d(now, sizeof now, store_now());
    const char *v[] = {now};
    return update_run(s, "UPDATE runs SET heartbeat = $2 WHERE id = $1", id, 1, v);
}

int store_add_epoch(run_store *s, int64_t id, int epoch, double train_loss, double val_loss, double val_acc,
                    double val_auc, double lr, double samples_per_s, double seconds)
{
    double x[] = {train_loss, val_loss, val_acc, val_auc, lr, samples_per_s, seconds};
    char buf[8][32], now[32];
    const char *v[9];
    snprintf(buf[7], sizeof buf[7], "%d", epoch);
    v[0] = buf[7];
    for (int i = 0; i < 7; i++) {
        fmt_d(buf[i], sizeof buf[i], x[i]);
        v[i + 1] = isfinite(x[i]) ? buf[i] : NULL;
    }
    fmt_d(now, sizeof now, store_now());
    v[8] = now;
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[] = {ids, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    /* an epoch run again (a resumed run) replaces its row */
    if (store_begin(s) != 0) return -1;
    if (store_exec(s, "DELETE FROM epochs WHERE run_id = $1 AND epoch = $2", 2, p, NULL) != 0 ||
        store_exec(s,
                   "INSERT INTO epochs (run_id, epoch, train_loss, val_loss, val_acc, val_auc, lr, samples_per_s, seconds)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   9, p, NULL) != 0 ||
        store_exec(s, "UPDATE runs SET heartbeat = $2 WHERE id = $1", 2, (const char *const[]){ids, now}, NULL) != 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

int store_add_held_back(run_store *s, int64_t id, int epoch, const char *set_name, int keepers, int kept, int blurred,
                        int caught, double accuracy, double auc)
{
    char b[8][32];
    snprintf(b[0], sizeof b[0], "%lld", (long long)id);
    snprintf(b[1], sizeof b[1], "%d", epoch);
    snprintf(b[2], sizeof b[2], "%d", keepers);
    snprintf(b[3], sizeof b[3], "%d", kept);
    snprintf(b[4], sizeof b[4], "%d", blurred);
    snprintf(b[5], sizeof b[5], "%d", caught);
    fmt_d(b[6], sizeof b[6], accuracy);
    fmt_d(b[7], sizeof b[7], auc);
    const char *p[] = {b[0], b[1], set_name, b[2], b[3], b[4], b[5], isfinite(accuracy) ? b[6] : NULL,
                       isfinite(auc) ? b[7] : NULL};
    if (store_begin(s) != 0) return -1;
    if (store_exec(s, "DELETE FROM held_back WHERE run_id = $1 AND epoch = $2 AND set_name = $3", 3, p, NULL) != 0 ||
        store_exec(s,
                   "INSERT INTO held_back (run_id, epoch, set_name, keepers, kept, blurred, caught, accuracy, auc)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   9, p, NULL) != 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

int store_set_note(run_store *s, int64_t id, const char *key, const char *value)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[] = {ids, key, value};
    if (store_begin(s) != 0) return -1;
    if (store_exec(s, "DELETE FROM run_notes WHERE run_id = $1 AND key = $2", 2, p, NULL) != 0 ||
        store_exec(s, "INSERT INTO run_notes (run_id, key, value) VALUES ($1, $2, $3)", 3, p, NULL) != 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

int store_set_weights(run_store *s, int64_t id, const char *path)
{
    const char *v[] = {path};
    return update_run(s, "UPDATE runs SET weights = $2 WHERE id = $1", id, 1, v);
}

int store_finish(run_store *s, int64_t id, const char *status, const char *message)
{
    char now[32];
    fmt_d(now, sizeof now, store_now());
    const char *v[] = {status, now, message};
    return update_run(s, "UPDATE runs SET status = $2, finished = $3, heartbeat = $3, message = $4 WHERE id = $1", id, 3, v);
}

/* ---- the queue ---- */

int store_take(run_store *s, const char *worker, const char *host, long pid, int64_t *id, char ***argv, int *argc)
{
    char now[32], pids[32], sql[512];
    fmt_d(now, sizeof now, store_now());
    snprintf(pids, sizeof pids, "%ld", pid);
    snprintf(sql, sizeof sql,
             "UPDATE runs SET status = 'running', started = $1, heartbeat = $1, finished = NULL, host = $2, pid = $3,"
             " worker = $4, attempts = attempts + 1, message = NULL, weights = NULL"
             " WHERE id = (SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1 %s) RETURNING id",
             s->be->skip_locked);
    const char *p[] = {now, host, pids, worker};
    store_rows r = {0}, a = {0};
    *argv = NULL;
    *argc = 0;
    if (store_begin(s) != 0) return -1;
    if (store_exec(s, sql, 4, p, &r) != 0) goto fail;
    if (r.nrows == 0) {
        store_rows_free(&r);
        return store_commit(s) == 0 ? 0 : -1;
    }
    char ids[32];
    snprintf(ids, sizeof ids, "%s", store_cell(&r, 0, 0));
    store_rows_free(&r);
    const char *q[] = {ids, worker, now};
    if (store_exec(s, "INSERT INTO takes (run_id, worker, taken) VALUES ($1, $2, $3)", 3, q, NULL) != 0 ||
        store_exec(s, "DELETE FROM epochs WHERE run_id = $1", 1, q, NULL) != 0 ||
        store_exec(s, "DELETE FROM held_back WHERE run_id = $1", 1, q, NULL) != 0 ||
        store_exec(s, "SELECT arg FROM run_args WHERE run_id = $1 ORDER BY pos", 1, q, &a) != 0)
        goto fail;
    if (store_commit(s) != 0) goto fail;
    *argv = calloc((size_t)a.nrows + 1, sizeof **argv);
    if (!*argv) { snprintf(s->err, sizeof s->err, "out of memory"); store_rows_free(&a); return -1; }
    for (int i = 0; i < a.nrows; i++) {
        (*argv)[i] = a.v[i] ? a.v[i] : strdup("");
        a.v[i] = NULL;
    }
    *argc = a.nrows;
    store_rows_free(&a);
    *id = strtoll(ids, NULL, 10);
    return 1;
fail:
    store_rows_free(&r);
    store_rows_free(&a);
    store_rollback(s);
    return -1;
}

int store_recover(run_store *s, const char *host, double stale_s, int max_attempts, int *requeued, int *interrupted)
{
    store_rows r;
    *requeued = *interrupted = 0;
    if (store_exec(s, "SELECT id, host, pid, heartbeat, queued, attempts FROM runs WHERE status = 'running'", 0, NULL, &r) != 0)
        return -1;
    double now = store_now();
    int rc = 0;
    for (int i = 0; i < r.nrows && rc == 0; i++) {
        const char *h = store_cell(&r, i, 1), *pid = store_cell(&r, i, 2), *hb = store_cell(&r, i, 3);
        long p = pid ? strtol(pid, NULL, 10) : 0;
        int old = !hb || now - strtod(hb, NULL) > stale_s;
        int gone = h && host && strcmp(h, host) == 0 && p > 0 && kill((pid_t)p, 0) != 0 && errno == ESRCH;
        if (!old && !gone) continue;
        int back = store_cell(&r, i, 4) && atoi(store_cell(&r, i, 4)) && atoi(store_cell(&r, i, 5) ? store_cell(&r, i, 5) : "0") < max_attempts;
        char msg[256], nows[32];
        if (gone) snprintf(msg, sizeof msg, "%s: process %s on %s is gone", back ? "requeued" : "interrupted", pid, h);
        else snprintf(msg, sizeof msg, "%s: no heartbeat for %.0f s from %s pid %s", back ? "requeued" : "interrupted",
                      hb ? now - strtod(hb, NULL) : -1.0, h ? h : "?", pid ? pid : "?");
        fmt_d(nows, sizeof nows, now);
        /* only while it is still the same abandoned run: another worker may have got there first */
        const char *q[] = {store_cell(&r, i, 0), msg, nows, h, pid};
        store_rows u;
        rc = store_exec(s,
                        back ? "UPDATE runs SET status = 'queued', host = NULL, pid = NULL, worker = NULL, message = $2, heartbeat = $3"
                               " WHERE id = $1 AND status = 'running' AND host IS NOT DISTINCT FROM $4 AND pid IS NOT DISTINCT FROM $5 RETURNING id"
                             : "UPDATE runs SET status = 'interrupted', finished = $3, message = $2"
                               " WHERE id = $1 AND status = 'running' AND host IS NOT DISTINCT FROM $4 AND pid IS NOT DISTINCT FROM $5 RETURNING id",
                        5, q, &u);
        if (rc == 0 && u.nrows) ++*(back ? requeued : interrupted);
        store_rows_free(&u);
    }
    store_rows_free(&r);
    return rc;
}

/* ---- fingerprint and JSON ---- */

void store_fingerprint(char *const *files, int n, char hex[17])
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < n; i++) {
        struct stat st;
        char line[4200];
        int ok = stat(files[i], &st) == 0;
        int len = snprintf(line, sizeof line, "%s\t%lld\t%lld\n", files[i], ok ? (long long)st.st_size : -1LL,
                           ok ? (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec : 0LL);
        if (len > (int)sizeof line - 1) len = (int)sizeof line - 1;
        for (int k = 0; k < len; k++) {
            h ^= (unsigned char)line[k];
            h *= 0x100000001b3ull;
        }
    }
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
}

void store_buf_add(store_buf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->oom) return;
    if (b->len + l + 1 > b->cap) {
        size_t cap = (b->len + l + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, l + 1);
    b->len += l;
}

void store_buf_printf(store_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    store_buf_add(b, tmp);
}

void store_buf_json_string(store_buf *b, const char *s)
{
    if (!s) { store_buf_add(b, "null"); return; }
    store_buf_add(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[8] = {(char)c, 0};
        if (c == '"' || c == '\\') snprintf(e, sizeof e, "\\%c", c);
        else if (c == '\n') snprintf(e, sizeof e, "\\n");
        else if (c == '\t') snprintf(e, sizeof e, "\\t");
        else if (c < 0x20) snprintf(e, sizeof e, "\\u%04x", c);
        store_buf_add(b, e);
    }
    store_buf_add(b, "\"");
}
