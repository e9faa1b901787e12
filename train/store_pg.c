/* store_pg.c: the PostgreSQL backend of the experiment store (store.h), through libpq.
 * Parameters go as text; every cell comes back as text. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store.h"

static void quiet_notice(void *arg, const char *message) { (void)arg; (void)message; }

static int pg_open(const char *spec, void **db, char *err, size_t errn)
{
    PGconn *c = PQconnectdb(spec);
    *db = NULL;
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char *m = c ? PQerrorMessage(c) : "out of memory";
        size_t l = strlen(m);
        while (l && m[l - 1] == '\n') l--;
        snprintf(err, errn, "postgresql: %.*s", (int)l, m);
        PQfinish(c);
        return -1;
    }
    /* "relation already exists, skipping" and the like are not worth printing */
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    *db = c;
    return 0;
}

static int pg_exec(void *db, const char *sql, int n, const char *const *params, store_rows *out, char *err, size_t errn)
{
    PGconn *c = db;
    /* a server restarted or a network cut since the last statement: connect again */
    if (PQstatus(c) == CONNECTION_BAD) PQreset(c);
    PGresult *r = n ? PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0) : PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
        size_t l = strlen(m);
        while (l && m[l - 1] == '\n') l--;
        snprintf(err, errn, "postgresql: %.*s", (int)l, m);
        PQclear(r);
        return -1;
    }
    if (out && st == PGRES_TUPLES_OK) {
        int nr = PQntuples(r), nc = PQnfields(r);
        out->nrows = 0;
        out->ncols = nc;
        out->v = nr && nc ? calloc((size_t)nr * nc, sizeof *out->v) : NULL;
        if (nr && nc && !out->v) goto oom;
        for (int i = 0; i < nr; i++) {
            for (int j = 0; j < nc; j++)
                if (!PQgetisnull(r, i, j) && !(out->v[(size_t)i * nc + j] = strdup(PQgetvalue(r, i, j)))) {
                    out->nrows = i + 1;
                    goto oom;
                }
            out->nrows = i + 1;
        }
    }
    PQclear(r);
    return 0;
oom:
    snprintf(err, errn, "postgresql: out of memory");
    PQclear(r);
    return -1;
}

static void pg_close(void *db) { PQfinish(db); }

const store_backend store_pg_backend = {
    "postgresql", "BIGSERIAL PRIMARY KEY", "BEGIN", "FOR UPDATE SKIP LOCKED", pg_open, pg_exec, pg_close,
};
