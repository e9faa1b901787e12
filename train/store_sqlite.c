/* store_sqlite.c: the SQLite backend of the experiment store (store.h). WAL journal, a 30 s
 * busy timeout; parameters written $1..$N in the shared SQL are bound by name. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

static int lite_open(const char *path, void **db, char *err, size_t errn)
{
    sqlite3 *h = NULL;
    *db = NULL;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errn, "%s: %s", path, h ? sqlite3_errmsg(h) : "cannot open");
        sqlite3_close(h);
        return -1;
    }
    sqlite3_busy_timeout(h, 30000);
    char *msg = NULL;
    if (sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errn, "%s: %s", path, msg ? msg : sqlite3_errmsg(h));
        sqlite3_free(msg);
        sqlite3_close(h);
        return -1;
    }
    *db = h;
    return 0;
}

static int add_row(store_rows *out, sqlite3_stmt *st)
{
    int nc = sqlite3_column_count(st);
    if (out->nrows == 0) out->ncols = nc;
    char **v = realloc(out->v, sizeof *v * (size_t)(out->nrows + 1) * (size_t)nc);
    if (!v) return -1;
    out->v = v;
    for (int c = 0; c < nc; c++) {
        const unsigned char *t = sqlite3_column_text(st, c);
        char **cell = &v[(size_t)out->nrows * nc + c];
        *cell = NULL;
        if (t && !(*cell = strdup((const char *)t))) {
            for (int k = 0; k < c; k++) free(v[(size_t)out->nrows * nc + k]);
            return -1;
        }
    }
    out->nrows++;
    return 0;
}

static int lite_exec(void *db, const char *sql, int n, const char *const *params, store_rows *out, char *err, size_t errn)
{
    sqlite3 *h = db;
    const char *tail = sql;
    while (tail && *tail) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(h, tail, -1, &st, &tail) != SQLITE_OK) {
            snprintf(err, errn, "sqlite: %s", sqlite3_errmsg(h));
            return -1;
        }
        if (!st) continue; /* whitespace or a comment */
        for (int i = 1; i <= n; i++) {
            char name[16];
            snprintf(name, sizeof name, "$%d", i);
            int k = sqlite3_bind_parameter_index(st, name);
            if (k > 0 && (params[i - 1] ? sqlite3_bind_text(st, k, params[i - 1], -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, k)) != SQLITE_OK) {
                snprintf(err, errn, "sqlite: %s", sqlite3_errmsg(h));
                sqlite3_finalize(st);
                return -1;
            }
        }
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if (out && add_row(out, st) != 0) {
                snprintf(err, errn, "sqlite: out of memory");
                sqlite3_finalize(st);
                return -1;
            }
        if (rc != SQLITE_DONE) {
            snprintf(err, errn, "sqlite: %s", sqlite3_errmsg(h));
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_finalize(st);
    }
    return 0;
}

static void lite_close(void *db) { sqlite3_close(db); }

const store_backend store_sqlite_backend = {
    "sqlite", "INTEGER PRIMARY KEY", "BEGIN IMMEDIATE", "", lite_open, lite_exec, lite_close,
};
