/* store_check.c: the experiment store's API (train/store*.c) on SQLite. The database is read
 * back through SQLite's own API, not the store's; the schema version, the queue's order and
 * arguments, the recovery rule's three cases, NaN metrics as NULL, JSON escaping (the JSON
 * spec), and four processes taking from one queue of 40 runs, none taken twice. */
#include <check.h>
#include "testutil.h"
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store.h"

/* one integer or text cell through sqlite3 directly; "" for NULL */
static char cell_buf[4096];
static const char *cell(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    cell_buf[0] = 0;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(cell_buf, sizeof cell_buf, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return cell_buf;
}

static void raw(const char *path, const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static run_store *open_store(const char *path)
{
    run_store *s = NULL;
    char err[1024];
    ck_assert_msg(store_open(path, &s, err, sizeof err) == 0, "%s", err);
    return s;
}

START_TEST(schema_created_once)
{
    const char *db = tu_path("a.db");
    run_store *s = open_store(db);
    store_close(s);
    s = open_store(db);
    store_close(s);
    ck_assert_str_eq(cell(db, "SELECT group_concat(version) FROM schema_version"), "1");
    ck_assert_str_eq(cell(db, "PRAGMA journal_mode"), "wal");
    ck_assert_str_eq(cell(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'run_args', 'epochs', 'takes')"), "4");
    /* a store from a newer program is refused, with a message that says why */
    raw(db, "UPDATE schema_version SET version = 99");
    char err[1024];
    run_store *t = NULL;
    ck_assert_int_eq(store_open(db, &t, err, sizeof err), -1);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, "schema version 99"), "%s", err);
    /* a path that cannot be a database */
    ck_assert_int_eq(store_open(tu_path("no/such/dir/x.db"), &t, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no/such/dir/x.db"), "%s", err);
}
END_TEST

START_TEST(queue_in_order_with_arguments)
{
    const char *db = tu_path("q.db");
    run_store *s = open_store(db);
    char *a1[] = {"--epochs", "2", "a \"quoted\"\nname \xc3\xa9", ""}, *a2[] = {"x"};
    int64_t id1 = 0, id2 = 0, id;
    ck_assert_int_eq(store_new_run(s, "queued", 4, a1, "{}", "v1", NULL, 0, &id1), 0);
    ck_assert_int_eq(store_new_run(s, "queued", 1, a2, "{}", "v1", NULL, 0, &id2), 0);
    ck_assert_int_lt(id1, id2);
    ck_assert_str_eq(cell(db, "SELECT status || ' ' || queued || ' ' || attempts FROM runs WHERE id = 1"), "queued 1 0");
    char **argv;
    int argc;
    ck_assert_int_eq(store_take(s, "w1", "hostA", 42, &id, &argv, &argc), 1);
    ck_assert_int_eq(id, id1);
    ck_assert_int_eq(argc, 4);
    for (int i = 0; i < 4; i++) ck_assert_str_eq(argv[i], a1[i]);
    ck_assert_ptr_null(argv[4]);
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    ck_assert_str_eq(cell(db, "SELECT status || ' ' || host || ' ' || pid || ' ' || worker || ' ' || attempts FROM runs WHERE id = 1"),
                     "running hostA 42 w1 1");
    ck_assert_str_eq(cell(db, "SELECT group_concat(run_id || ':' || worker) FROM takes"), "1:w1");
    ck_assert_int_eq(store_take(s, "w1", "hostA", 42, &id, &argv, &argc), 1);
    ck_assert_int_eq(id, id2);
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    ck_assert_int_eq(store_take(s, "w1", "hostA", 42, &id, &argv, &argc), 0);
    ck_assert_ptr_null(argv);
    ck_assert_int_eq(store_finish(s, id1, "done", NULL), 0);
    ck_assert_str_eq(cell(db, "SELECT status FROM runs WHERE id = 1"), "done");
    store_close(s);
}
END_TEST

START_TEST(epochs_nan_is_null)
{
    const char *db = tu_path("e.db");
    run_store *s = open_store(db);
    char *args[] = {"x"};
    int64_t id;
    ck_assert_int_eq(store_new_run(s, "running", 1, args, "{}", "v", "h", 1, &id), 0);
    ck_assert_int_eq(store_add_epoch(s, id, 1, 0.5, NAN, NAN, NAN, 1e-3, 100, 2), 0);
    ck_assert_int_eq(store_add_epoch(s, id, 2, 0.25, 0.75, 0.5, 0.625, 5e-4, 200, 3), 0);
    ck_assert_int_eq(store_add_epoch(s, id, 2, 0.125, 0.75, 0.5, 0.625, 5e-4, 200, 3), 0); /* replaces */
    ck_assert_str_eq(cell(db, "SELECT count(*) FROM epochs"), "2");
    ck_assert_str_eq(cell(db, "SELECT quote(val_loss) || quote(val_acc) || quote(val_auc) FROM epochs WHERE epoch = 1"), "NULLNULLNULL");
    ck_assert_str_eq(cell(db, "SELECT train_loss || ' ' || val_auc || ' ' || lr FROM epochs WHERE epoch = 2"), "0.125 0.625 0.0005");
    ck_assert_str_eq(cell(db, "SELECT status || ' ' || host || ' ' || pid || ' ' || attempts FROM runs"), "running h 1 1");
    store_close(s);
}
END_TEST

/* a pid that is certainly gone: a child that has exited and been reaped */
static long gone_pid(void)
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, NULL, 0);
    return (long)p;
}

START_TEST(recovery_rule)
{
    const char *db = tu_path("r.db");
    run_store *s = open_store(db);
    char *args[] = {"x"}, **argv;
    int64_t id;
    int argc, rq, in;
    /* 1: queued, taken by a worker on this host that is gone -> back to the queue */
    ck_assert_int_eq(store_new_run(s, "queued", 1, args, "{}", "v", NULL, 0, &id), 0);
    ck_assert_int_eq(store_take(s, "w", "here", gone_pid(), &id, &argv, &argc), 1);
    free(argv[0]);
    free(argv);
    /* 2: a direct run on this host whose process is gone -> interrupted */
    ck_assert_int_eq(store_new_run(s, "running", 1, args, "{}", "v", "here", gone_pid(), &id), 0);
    /* 3: a live process here, fresh heartbeat -> left alone */
    ck_assert_int_eq(store_new_run(s, "running", 1, args, "{}", "v", "here", (long)getpid(), &id), 0);
    /* 4: another host, heartbeat 1000 s old, queued with 3 attempts -> interrupted */
    ck_assert_int_eq(store_new_run(s, "queued", 1, args, "{}", "v", NULL, 0, &id), 0);
    raw(db, "UPDATE runs SET status = 'running', host = 'there', pid = 7, attempts = 3,"
            " heartbeat = CAST(strftime('%s', 'now') AS REAL) - 1000 WHERE id = 4");
    /* 5: another host, fresh heartbeat -> left alone */
    ck_assert_int_eq(store_new_run(s, "running", 1, args, "{}", "v", "there", 7, &id), 0);
    ck_assert_int_eq(store_recover(s, "here", 300, 3, &rq, &in), 0);
    ck_assert_int_eq(rq, 1);
    ck_assert_int_eq(in, 2);
    ck_assert_str_eq(cell(db, "SELECT group_concat(status, ',') FROM (SELECT status FROM runs ORDER BY id)"),
                     "queued,interrupted,running,interrupted,running");
    ck_assert_msg(strncmp(cell(db, "SELECT message FROM runs WHERE id = 1"), "requeued: process", 17) == 0, "%s", cell_buf);
    ck_assert_msg(strncmp(cell(db, "SELECT message FROM runs WHERE id = 4"), "interrupted: no heartbeat for 100", 33) == 0, "%s", cell_buf);
    ck_assert_str_eq(cell(db, "SELECT quote(host) || quote(pid) FROM runs WHERE id = 1"), "NULLNULL");
    /* once more: nothing left to do */
    ck_assert_int_eq(store_recover(s, "here", 300, 3, &rq, &in), 0);
    ck_assert_int_eq(rq + in, 0);
    store_close(s);
}
END_TEST

START_TEST(json_escaping)
{
    store_buf b = {0};
    store_buf_json_string(&b, "a\"b\\c\nd\te\x01\xc3\xa9");
    store_buf_add(&b, " ");
    store_buf_json_string(&b, NULL);
    ck_assert_str_eq(b.p, "\"a\\\"b\\\\c\\nd\\te\\u0001\xc3\xa9\" null");
    free(b.p);
}
END_TEST

START_TEST(fingerprint_follows_files)
{
    /* no files: the FNV-1a 64 offset basis, the published value */
    char h0[17], h1[17], h2[17], h3[17];
    store_fingerprint(NULL, 0, h0);
    ck_assert_str_eq(h0, "cbf29ce484222325");
    char *files[] = {(char *)tu_path("f1"), (char *)tu_path("f2")};
    tu_write_file(files[0], "abc", 3);
    tu_write_file(files[1], "de", 2);
    store_fingerprint(files, 2, h1);
    store_fingerprint(files, 2, h2);
    ck_assert_str_eq(h1, h2);
    tu_write_file(files[1], "def", 3); /* a size changes */
    store_fingerprint(files, 2, h3);
    ck_assert_str_ne(h1, h3);
}
END_TEST

/* four processes, each with its own connection, take from one queue until it is empty */
START_TEST(four_takers_never_share)
{
    const char *db = tu_path("four.db");
    run_store *s = open_store(db);
    char *args[] = {"x"};
    int64_t id;
    for (int i = 0; i < 40; i++) ck_assert_int_eq(store_new_run(s, "queued", 1, args, "{}", "v", NULL, 0, &id), 0);
    store_close(s);
    int fds[4][2];
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(pipe(fds[k]), 0);
        kids[k] = fork();
        if (kids[k] == 0) {
            close(fds[k][0]);
            run_store *c = NULL;
            char err[256], w[16], **argv;
            int argc, r;
            if (store_open(db, &c, err, sizeof err) != 0) _exit(3);
            snprintf(w, sizeof w, "w%d", k);
            while ((r = store_take(c, w, "h", (long)getpid(), &id, &argv, &argc)) == 1) {
                int v = (int)id;
                if (write(fds[k][1], &v, sizeof v) != sizeof v) _exit(4);
                for (int i = 0; i < argc; i++) free(argv[i]);
                free(argv);
            }
            store_close(c);
            _exit(r == 0 ? 0 : 5);
        }
        close(fds[k][1]);
    }
    int seen[41] = {0}, total = 0, v;
    for (int k = 0; k < 4; k++) {
        while (read(fds[k][0], &v, sizeof v) == sizeof v) {
            ck_assert(v >= 1 && v <= 40);
            seen[v]++;
            total++;
        }
        close(fds[k][0]);
        int st;
        waitpid(kids[k], &st, 0);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "taker %d failed (%d)", k, st);
    }
    ck_assert_int_eq(total, 40);
    for (int i = 1; i <= 40; i++) ck_assert_msg(seen[i] == 1, "run %d taken %d times", i, seen[i]);
    ck_assert_str_eq(cell(db, "SELECT count(*) || ' ' || count(DISTINCT run_id) FROM takes"), "40 40");
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("sqlite");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, tu_setup_tmpdir, tu_teardown_tmpdir);
    tcase_add_test(tc, schema_created_once);
    tcase_add_test(tc, queue_in_order_with_arguments);
    tcase_add_test(tc, epochs_nan_is_null);
    tcase_add_test(tc, recovery_rule);
    tcase_add_test(tc, json_escaping);
    tcase_add_test(tc, fingerprint_follows_files);
    tcase_add_test(tc, four_takers_never_share);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return tu_run_suite(store_suite()); }
