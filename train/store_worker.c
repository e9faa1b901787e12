/* store_worker.c: unsharp-train --worker, the loop that works off the run queue (store.h).
 * Each run trains in a child process, so a run that crashes marks only itself failed; the
 * worker heartbeats the run while it trains. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store.h"

static volatile sig_atomic_t stop_sig;
static void on_stop(int sig) { stop_sig = sig; }

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Trains run `id` in a child; returns the status to record and a message. */
static const char *train_child(run_store *s, const char *spec, const char *prog, int64_t id, char **args, int nargs,
                               double hb_every, char *msg, size_t msgn)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    char **cargv = calloc((size_t)nargs + 6, sizeof *cargv);
    if (!cargv) { snprintf(msg, msgn, "out of memory"); return "failed"; }
    cargv[0] = (char *)prog;
    for (int i = 0; i < nargs; i++) cargv[i + 1] = args[i];
    cargv[nargs + 1] = "--db";
    cargv[nargs + 2] = (char *)spec;
    cargv[nargs + 3] = "--run-id";
    cargv[nargs + 4] = ids;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        /* the run ends with its worker: a worker killed with SIGKILL leaves no orphan training */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(143);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv("/proc/self/exe", cargv);
        fprintf(stderr, "%s: cannot run /proc/self/exe: %s\n", prog, strerror(errno));
        _exit(127);
    }
    free(cargv);
    if (child < 0) {
        snprintf(msg, msgn, "fork: %s", strerror(errno));
        return "failed";
    }
    int status = 0, forwarded = 0;
    double last = store_now();
    for (;;) {
        pid_t w = waitpid(child, &status, WNOHANG);
        if (w == child) break;
        if (w < 0 && errno != EINTR) { snprintf(msg, msgn, "waitpid: %s", strerror(errno)); return "failed"; }
        if (stop_sig && !forwarded) {
            kill(child, stop_sig);
            forwarded = 1;
        }
        if (store_now() - last >= hb_every) {
            last = store_now();
            if (store_heartbeat(s, id) != 0) fprintf(stderr, "%s: heartbeat of run %s: %s\n", prog, ids, store_errmsg(s));
        }
        nap(0.1);
    }
    if (WIFEXITED(status)) {
        int code = WEXITSTATUS(status);
        if (code == 0) { msg[0] = 0; return "done"; }
        snprintf(msg, msgn, "%s exited with status %d", prog, code);
        return code == 130 || code == 143 ? "interrupted" : "failed";
    }
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    snprintf(msg, msgn, "%s was killed by signal %d (%s)", prog, sig, strsignal(sig));
    return sig == SIGINT || sig == SIGTERM ? "interrupted" : "failed";
}

int store_worker_main(const char *spec, const store_worker_options *o, const char *prog)
{
    char err[1024], host[256] = "localhost", worker[320];
    run_store *s = NULL;
    if (store_open(spec, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    gethostname(host, sizeof host - 1);
    long pid = (long)getpid();
    snprintf(worker, sizeof worker, "%s:%ld", host, pid);
    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    double hb_every = o->stale / 4 < 10 ? o->stale / 4 : 10;
    if (hb_every < 0.5) hb_every = 0.5;
    fprintf(stderr, "%s: worker %s on %s\n", prog, worker, store_is_postgres(s) ? "postgresql" : spec);
    int rc = 0, taken = 0;
    while (!stop_sig) {
        int requeued = 0, interrupted = 0;
        /* a store error ends a --drain or --once worker; a long-lived one tries again later */
        if (store_recover(s, host, o->stale, o->max_attempts, &requeued, &interrupted) != 0) {
            fprintf(stderr, "%s: recovering abandoned runs: %s\n", prog, store_errmsg(s));
            if (o->drain || o->once) { rc = 2; break; }
            for (double w = 0; w < o->poll + 1 && !stop_sig; w += 0.2) nap(0.2);
            continue;
        }
        if (requeued || interrupted)
            fprintf(stderr, "%s: worker %s: %d abandoned run(s) put back in the queue, %d marked interrupted\n", prog, worker,
                    requeued, interrupted);
        int64_t id = 0;
        char **args = NULL;
        int nargs = 0;
        int t = store_take(s, worker, host, pid, &id, &args, &nargs);
        if (t < 0) {
            fprintf(stderr, "%s: taking a queued run: %s\n", prog, store_errmsg(s));
            if (o->drain || o->once) { rc = 2; break; }
            for (double w = 0; w < o->poll + 1 && !stop_sig; w += 0.2) nap(0.2);
            continue;
        }
        if (t == 0) {
            if (o->drain || o->once) break;
            for (double w = 0; w < o->poll && !stop_sig; w += 0.2) nap(0.2);
            continue;
        }
        taken++;
        fprintf(stderr, "%s: worker %s took run %lld\n", prog, worker, (long long)id);
        char msg[512];
        const char *st = train_child(s, spec, prog, id, args, nargs, hb_every, msg, sizeof msg);
        for (int i = 0; i < nargs; i++) free(args[i]);
        free(args);
        int tries = 0;
        while (store_finish(s, id, st, msg[0] ? msg : NULL) != 0 && ++tries < 5) nap(2);
        if (tries == 5) {
            fprintf(stderr, "%s: recording the end of run %lld: %s\n", prog, (long long)id, store_errmsg(s));
            rc = 2;
            break;
        }
        fprintf(stderr, "%s: worker %s: run %lld %s%s%s\n", prog, worker, (long long)id, st, msg[0] ? ": " : "", msg);
        if (o->once) break;
    }
    if (stop_sig) fprintf(stderr, "%s: worker %s stopped by signal %d after %d run(s)\n", prog, worker, (int)stop_sig, taken);
    if (stop_sig && rc == 0) rc = 128 + stop_sig;
    store_close(s);
    return rc;
}
