/* store.h: the experiment store. Every training run, its arguments, resolved configuration,
 * code version, data fingerprint, per-epoch metrics and final weights, plus the run queue,
 * kept in SQLite (a file, the default) or PostgreSQL (libpq, "postgresql://..." specs) behind
 * one small interface. The SQL is shared: both backends take $1..$N parameters as text and
 * give every cell back as text (NULL for SQL NULL). docs/experiments.md describes the schema
 * and the queue's recovery rule. */
#ifndef UNSHARP_TRAIN_STORE_H
#define UNSHARP_TRAIN_STORE_H
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 1

typedef struct run_store run_store;

typedef struct store_rows {
    int nrows, ncols;
    char **v; /* v[r * ncols + c], NULL for SQL NULL */
} store_rows;

const char *store_cell(const store_rows *r, int row, int col);
void store_rows_free(store_rows *r);

/* The default store: $XDG_DATA_HOME/unsharp/experiments.db ($HOME/.local/share when unset);
 * creates the folder. Returns 0, or -1 with a message in err. */
int store_default_path(char *buf, size_t n, char *err, size_t errn);

/* Opens a store: "postgresql://..." or "postgres://..." (libpq), else a SQLite file path.
 * Creates the schema on first use. Returns 0, or -1 with a message in err (and *out NULL). */
int store_open(const char *spec, run_store **out, char *err, size_t errn);
void store_close(run_store *s);
const char *store_errmsg(const run_store *s);
int store_is_postgres(const run_store *s);

/* One SQL statement with $1..$n text parameters (NULL = SQL NULL); rows into out when given.
 * With n == 0 the text may hold several statements (no rows then). Returns 0 or -1. */
int store_exec(run_store *s, const char *sql, int n, const char *const *params, store_rows *out);
/* A write transaction: BEGIN IMMEDIATE on SQLite, BEGIN on PostgreSQL. */
int store_begin(run_store *s);
int store_commit(run_store *s);
void store_rollback(run_store *s);

/* ---- runs ---- */
double store_now(void); /* seconds since 1970, UTC */

/* A new run with its arguments (argv without the program name) and configuration (JSON).
 * status "queued" for the queue, "running" for a run starting now on host/pid. */
int store_new_run(run_store *s, const char *status, int argc, char *const *argv, const char *config_json,
                  const char *code_version, const char *host, long pid, int64_t *id);
/* The configuration as resolved where the run actually trains, and the code version there. */
int store_set_config(run_store *s, int64_t id, const char *config_json, const char *code_version);
int store_set_data(run_store *s, int64_t id, const char *fingerprint, int files);
int store_heartbeat(run_store *s, int64_t id);
/* Values that are NaN are stored as NULL. */
int store_add_epoch(run_store *s, int64_t id, int epoch, double train_loss, double val_loss, double val_acc,
                    double val_auc, double lr, double samples_per_s, double seconds);
/* The figures of a checked set (holdout.h) under the weights of an epoch (0: the starting
 * weights); an epoch recorded again replaces its row. NaN is stored as NULL. */
int store_add_held_back(run_store *s, int64_t id, int epoch, const char *set_name, int keepers, int kept, int blurred,
                        int caught, double accuracy, double auc);
/* A note on a run, replacing the one of the same key: "checkpoint", "gate", "gate_reason". */
int store_set_note(run_store *s, int64_t id, const char *key, const char *value);
int store_set_weights(run_store *s, int64_t id, const char *path);
/* status: done, failed or interrupted; message may be NULL. */
int store_finish(run_store *s, int64_t id, const char *status, const char *message);

/* The queue: takes the oldest queued run for worker (marks it running on host/pid, counts the
 * attempt, logs the take, clears the epochs of an earlier attempt) and gives its arguments
 * (caller frees each and the array). Returns 1 taken, 0 queue empty, -1 error. Two workers
 * never take the same run: FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite. */
int store_take(run_store *s, const char *worker, const char *host, long pid, int64_t *id, char ***argv, int *argc);

/* The recovery rule: a run "running" whose heartbeat is older than stale_s seconds, or whose
 * host is `host` and whose pid is gone, was abandoned. A queued run that has had fewer than
 * max_attempts attempts goes back to the queue; any other is marked interrupted. Counts
 * what it did. Returns 0 or -1. */
int store_recover(run_store *s, const char *host, double stale_s, int max_attempts, int *requeued, int *interrupted);

/* The data fingerprint: FNV-1a 64 over "path\tsize\tmtime_ns\n" of each file, in the sorted
 * order given; 16 hex digits into hex[17]. Files that cannot be stat'ed count with size -1. */
void store_fingerprint(char *const *files, int n, char hex[17]);

/* ---- the worker (store_worker.c) ---- */
typedef struct store_worker_options {
    int drain;          /* exit when the queue is empty */
    int once;           /* take at most one run */
    double poll;        /* seconds between looks at an empty queue */
    double stale;       /* heartbeat age after which a running run counts as abandoned */
    int max_attempts;   /* takes of one queued run before an abandoned one is marked interrupted */
} store_worker_options;

/* Works off the queue of the store `spec`: recovers abandoned runs, takes queued runs one at
 * a time and trains each in a child process (the program at /proc/self/exe with the stored
 * arguments plus --db SPEC --run-id ID), heartbeats while it trains, then marks the run done
 * (exit 0), interrupted (SIGINT/SIGTERM, exit 130/143) or failed. SIGINT/SIGTERM to the worker
 * stop its run, mark it interrupted, and end the worker. Returns the exit status: 0; 128 + the
 * signal when stopped by one; 2 when the store fails (a worker without --drain or --once
 * retries a failing store every poll interval instead). */
int store_worker_main(const char *spec, const store_worker_options *o, const char *prog);

/* ---- JSON text for the configuration ---- */
typedef struct store_buf {
    char *p;
    size_t len, cap;
    int oom;
} store_buf;
void store_buf_add(store_buf *b, const char *s);
void store_buf_printf(store_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void store_buf_json_string(store_buf *b, const char *s); /* quoted and escaped; null for NULL */

/* The two backends (store_sqlite.c, store_pg.c), used by store.c only. */
typedef struct store_backend {
    const char *name, *id_type;  /* "INTEGER PRIMARY KEY" or "BIGSERIAL PRIMARY KEY" */
    const char *begin;           /* the statement that starts a write transaction */
    const char *skip_locked;     /* appended to the queue's SELECT: "" or "FOR UPDATE SKIP LOCKED" */
    int (*open)(const char *spec, void **db, char *err, size_t errn);
    int (*exec)(void *db, const char *sql, int n, const char *const *params, store_rows *out, char *err, size_t errn);
    void (*close)(void *db);
} store_backend;
extern const store_backend store_sqlite_backend, store_pg_backend;
#endif
