/* index.c: the results index, so that a re-run judges only new or changed photos. A SQLite
 * file, $XDG_CACHE_HOME/unsharp/index.sqlite (~/.cache when unset) or DIR/unsharp-index.sqlite
 * with --index DIR, one row a photo: its identity (device, inode, size, modification time in
 * ns), the weights' checksum (the CRC-32 their file ends in, with its size) and the bands it
 * was judged with, as key; its sharpness, blur kind, size and what grouping needs (the
 * unsharp_frame, as bytes) as the result. A photo whose identity, weights or bands differ is
 * judged again. Several processes may share one index (WAL, a busy timeout): a shard each. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "classify.h"

struct results_index {
    sqlite3 *db;
    sqlite3_stmt *get, *put;
    char weights[64];
    int open_rows;     /* rows written in the transaction now open (0: none open) */
    double opened_at;  /* when it was opened (CLOCK_MONOTONIC, s) */
};

/* Rows are written in short transactions: up to BATCH_ROWS rows or BATCH_SECONDS, whichever
 * comes first, rather than one a row (a WAL commit, several writes, on the main thread, for
 * each photo). A shard sharing the index waits at most about this long for the write lock,
 * and an interrupted run loses at most its last BATCH_SECONDS of results (those photos are
 * judged again). */
#define BATCH_ROWS 256
#define BATCH_SECONDS 1.0

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void commit(results_index *x)
{
    if (x->open_rows) sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL);
    x->open_rows = 0;
}

static void warn(const char *what, const char *where, const char *why)
{
    fprintf(stderr, PROG ": the results index %s", what);
    if (where) {
        fputc(' ', stderr);
        put_readable(stderr, where);
    }
    fprintf(stderr, " cannot be used (%s); every photo is judged\n", why);
}

/* "crc32-size" of the weights file: its last four bytes are the CRC-32 of the rest */
static int weights_checksum(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    unsigned char c[4];
    long len = -1;
    int ok = f && fseek(f, -4, SEEK_END) == 0 && fread(c, 1, 4, f) == 4 && (len = ftell(f)) > 0;
    if (f) fclose(f);
    if (!ok) return -1;
    snprintf(out, size, "%02x%02x%02x%02x-%ld", c[3], c[2], c[1], c[0], len);
    return 0;
}

/* mkdir -p of the folder part of path */
static void make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(path, 0700);
        *p = '/';
    }
}

results_index *index_open(const options *o, const char *weights)
{
    if (o->no_index) return NULL;
    char file[4096];
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (o->index_dir) snprintf(file, sizeof file, "%s/unsharp-index.sqlite", o->index_dir);
    else if (cache && cache[0] == '/') snprintf(file, sizeof file, "%s/unsharp/index.sqlite", cache);
    else if (home && *home) snprintf(file, sizeof file, "%s/.cache/unsharp/index.sqlite", home);
    else {
        warn("", NULL, "neither XDG_CACHE_HOME nor HOME is set");
        return NULL;
    }
    results_index *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    if (weights_checksum(weights, x->weights, sizeof x->weights) != 0) {
        warn("", NULL, "the weights' checksum cannot be read");
        free(x);
        return NULL;
    }
    if (!o->index_dir) make_parents(file);
    if (sqlite3_open_v2(file, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) goto fail;
    sqlite3_busy_timeout(x->db, 60000);
    if (sqlite3_exec(x->db,
                     "PRAGMA synchronous=NORMAL; PRAGMA journal_mode=WAL;"
                     "CREATE TABLE IF NOT EXISTS results(dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,"
                     " weights TEXT, sharp_at REAL, blurry_below REAL, sharpness REAL, kind INTEGER,"
                     " width INTEGER, height INTEGER, frame BLOB, path BLOB,"
                     " PRIMARY KEY(dev, ino, size, mtime_ns, weights));",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(x->db,
                           "SELECT sharp_at, blurry_below, sharpness, kind, width, height, frame FROM results"
                           " WHERE dev=? AND ino=? AND size=? AND mtime_ns=? AND weights=?",
                           -1, &x->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(x->db, "INSERT OR REPLACE INTO results VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &x->put,
                           NULL) != SQLITE_OK)
        goto fail;
    return x;
fail:
    warn("", file, x->db ? sqlite3_errmsg(x->db) : "out of memory");
    sqlite3_finalize(x->get);
    sqlite3_finalize(x->put);
    sqlite3_close(x->db);
    free(x);
    return NULL;
}

static void bind_key(sqlite3_stmt *s, const results_index *x, const unsharp_file_id *id)
{
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id->dev);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)id->ino);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)id->size);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)(id->mtime_sec * 1000000000 + id->mtime_nsec));
    sqlite3_bind_text(s, 5, x->weights, -1, SQLITE_STATIC);
}

int index_lookup(results_index *x, const options *o, item *it)
{
    if (!x || it->error || unsharp_file_id_read(it->path, &it->id) != 0) return 0;
    sqlite3_reset(x->get);
    bind_key(x->get, x, &it->id);
    int found = 0;
    const float sharp_at = (float)(o->threshold + o->unsure), blurry_below = (float)(o->threshold - o->unsure);
    if (sqlite3_step(x->get) == SQLITE_ROW && (float)sqlite3_column_double(x->get, 0) == sharp_at &&
        (float)sqlite3_column_double(x->get, 1) == blurry_below) {
        const void *blob = sqlite3_column_blob(x->get, 6);
        int bytes = sqlite3_column_bytes(x->get, 6);
        /* grouping needs the frame; one stored by another layout is not used */
        if (!o->group || (blob && bytes == (int)sizeof(unsharp_frame))) {
            if (o->group && !(it->frame = malloc(sizeof *it->frame))) goto out;
            if (o->group) memcpy(it->frame, blob, sizeof *it->frame);
            it->sharpness = (float)sqlite3_column_double(x->get, 2);
            it->verdict = it->sharpness >= sharp_at       ? UNSHARP_VERDICT_SHARP
                          : it->sharpness < blurry_below ? UNSHARP_VERDICT_BLURRY
                                                         : UNSHARP_VERDICT_UNSURE;
            it->kind = (unsharp_blur_kind)sqlite3_column_int(x->get, 3);
            it->width = sqlite3_column_int(x->get, 4);
            it->height = sqlite3_column_int(x->get, 5);
            it->from_index = found = 1;
        }
    }
out:
    sqlite3_reset(x->get);
    return found;
}

void index_store(results_index *x, const options *o, const item *it)
{
    if (!x || it->error || it->from_index) return;
    sqlite3_reset(x->put);
    bind_key(x->put, x, &it->id);
    sqlite3_bind_double(x->put, 6, (float)(o->threshold + o->unsure));
    sqlite3_bind_double(x->put, 7, (float)(o->threshold - o->unsure));
    sqlite3_bind_double(x->put, 8, it->sharpness);
    sqlite3_bind_int(x->put, 9, (int)it->kind);
    sqlite3_bind_int(x->put, 10, it->width);
    sqlite3_bind_int(x->put, 11, it->height);
    if (it->frame) sqlite3_bind_blob(x->put, 12, it->frame, (int)sizeof *it->frame, SQLITE_STATIC);
    else sqlite3_bind_null(x->put, 12);
    sqlite3_bind_blob(x->put, 13, it->path, (int)strlen(it->path), SQLITE_STATIC);
    /* without a transaction (the lock held past the busy timeout) the row goes alone */
    const int batched = x->open_rows > 0 || sqlite3_exec(x->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    if (batched && !x->open_rows) x->opened_at = monotonic();
    sqlite3_step(x->put);
    sqlite3_reset(x->put);
    if (batched && (++x->open_rows >= BATCH_ROWS || monotonic() - x->opened_at >= BATCH_SECONDS)) commit(x);
}

void index_close(results_index *x)
{
    if (!x) return;
    commit(x);
    sqlite3_finalize(x->get);
    sqlite3_finalize(x->put);
    sqlite3_close(x->db);
    free(x);
}
