/* marks.c: a person's decisions live in each photo's XMP sidecars (unsharp_mark_sidecars: the
 * one that exists, else NAME.EXT.xmp; for a RAW+JPEG pair the RAW's, NAME.RAW.xmp, which
 * darktable and digiKam read, and the JPEG's own when it has one), as libunsharp-files writes
 * them: keep or reject marked
 * as made by a person (unsharp:Mark, unsharp:MarkedBy, digiKam:PickLabel, the rating before a
 * reject kept in unsharp:PriorRating), star ratings (xmp:Rating) and colour labels as
 * darktable and digiKam read them. Every change is written as it is made, by a writer thread
 * in the order made (each write is a temporary file, an fsync and a rename, about 10 ms: a
 * bulk mark of hundreds must not hold the window), and the queue is emptied before anything
 * moves a sidecar (the Trash), before another folder is read and at exit. Opening a folder
 * reads them back. A reject by unsharp-classify --xmp is the tool's, not a person's, and is
 * not shown as a mark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "review.h"

#define MAX_SIDECARS 8

typedef struct save_job {
    char *path, *rel;            /* the photo (copies: the folder may close meanwhile) */
    hist_kind k;
    int value;
} save_job;

struct saver {
    pthread_t thread;
    int up, quit, busy;
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* a job queued, or the queue emptied */
    save_job *q;
    size_t head, n, cap;         /* jobs q[head .. head+n) */
    char err[600];               /* the last failure, for the status bar */
    int failures;
    uint64_t since;              /* --timing: when the queue last went from empty to busy */
    int written;                 /* --timing: writes since then */
};

void marks_load(app *a)
{
    int bad = 0;
    char err[512], lasterr[600] = "";
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (!p->id_ok) continue;
        char *sc[MAX_SIDECARS];
        int n = unsharp_mark_sidecars(p->path, sc, MAX_SIDECARS), marked = 0, rated = 0, labelled = 0;
        for (int k = 0; k < n; k++) { /* the first sidecar that holds each value gives it */
            unsharp_xmp_state st;
            if (access(sc[k], F_OK) != 0) continue;
            if (unsharp_xmp_read(sc[k], &st, err, sizeof err) != 0) {
                snprintf(lasterr, sizeof lasterr, "%s: %s", p->rel, err);
                bad++;
                continue;
            }
            if (!marked && st.by == UNSHARP_BY_PERSON && st.mark != UNSHARP_MARK_NONE) {
                p->mark = st.mark == UNSHARP_MARK_KEEP ? MARK_KEEP : MARK_DELETE;
                marked = 1;
            }
            int stars = st.rating >= 0 ? st.rating : st.prior_rating;
            if (!rated && stars > 0) p->stars = stars, rated = 1;
            if (!labelled && st.color_label > 0) p->label = st.color_label, labelled = 1;
        }
        for (int k = 0; k < n; k++) free(sc[k]);
    }
    if (bad) app_set_message(a, "%d sidecar%s could not be read (%s)", bad, bad == 1 ? "" : "s", lasterr);
}

/* Writes one change to every sidecar of the photo; -1 with why in err when one failed. */
static int write_job(const save_job *j, char *err, size_t errsize)
{
    char *sc[MAX_SIDECARS], why[512];
    int n = unsharp_mark_sidecars(j->path, sc, MAX_SIDECARS), rc = 0;
    if (n <= 0) {
        snprintf(err, errsize, "%s: out of memory; the change is not saved", j->rel);
        return -1;
    }
    for (int s = 0; s < n; s++) {
        int r = 0;
        if (j->k == H_MARK) {
            unsharp_mark m = j->value == MARK_KEEP ? UNSHARP_MARK_KEEP : j->value == MARK_DELETE ? UNSHARP_MARK_REJECT : UNSHARP_MARK_NONE;
            r = unsharp_xmp_set_mark(sc[s], m, UNSHARP_BY_PERSON, why, sizeof why);
        } else if (j->k == H_STARS) {
            r = unsharp_xmp_set_rating(sc[s], j->value, why, sizeof why);
        } else if (j->k == H_LABEL) {
            r = unsharp_xmp_set_color_label(sc[s], j->value, why, sizeof why);
        }
        if (r < 0) {
            snprintf(err, errsize, "%s: not saved: %s", j->rel, why);
            rc = -1;
        }
    }
    for (int s = 0; s < n; s++) free(sc[s]);
    return rc;
}

static void *saver_main(void *arg)
{
    app *a = arg;
    struct saver *v = a->saver;
    pthread_mutex_lock(&v->mu);
    for (;;) {
        while (!v->n && !v->quit) pthread_cond_wait(&v->cv, &v->mu);
        if (!v->n) break; /* quit, and nothing left to write */
        save_job j = v->q[v->head++];
        v->n--;
        v->busy = 1;
        pthread_mutex_unlock(&v->mu);
        char err[600];
        int rc = write_job(&j, err, sizeof err);
        free(j.path);
        free(j.rel);
        pthread_mutex_lock(&v->mu);
        v->busy = 0;
        if (rc != 0) {
            snprintf(v->err, sizeof v->err, "%s", err);
            v->failures++;
        }
        v->written++;
        if (!v->n) {
            pthread_cond_broadcast(&v->cv); /* marks_flush waits for this */
            if (a->timing && v->written > 1)
                fprintf(stderr, RPROG ": timing: %d sidecar writes done %llu ms after the first was queued\n", v->written,
                        (unsigned long long)(now_ms() - v->since));
        }
        if (rc != 0) { /* the status bar says so: wake the loop */
            pthread_mutex_lock(&a->mu);
            workers_wake_main(a);
            pthread_mutex_unlock(&a->mu);
        }
    }
    pthread_mutex_unlock(&v->mu);
    return NULL;
}

int marks_start(app *a)
{
    struct saver *v = calloc(1, sizeof *v);
    if (!v) return -1;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    a->saver = v;
    v->up = pthread_create(&v->thread, NULL, saver_main, a) == 0;
    return v->up ? 0 : -1; /* without the thread, marks_save writes at once */
}

void marks_flush(app *a)
{
    struct saver *v = a->saver;
    if (!v) return;
    pthread_mutex_lock(&v->mu);
    while (v->up && (v->n || v->busy)) pthread_cond_wait(&v->cv, &v->mu);
    pthread_mutex_unlock(&v->mu);
}

void marks_stop(app *a)
{
    struct saver *v = a->saver;
    if (!v) return;
    if (v->up) {
        pthread_mutex_lock(&v->mu);
        v->quit = 1;
        pthread_cond_broadcast(&v->cv);
        pthread_mutex_unlock(&v->mu);
        pthread_join(v->thread, NULL); /* it writes what is queued first */
    }
    for (size_t k = 0; k < v->n; k++) {
        free(v->q[v->head + k].path);
        free(v->q[v->head + k].rel);
    }
    free(v->q);
    pthread_mutex_destroy(&v->mu);
    pthread_cond_destroy(&v->cv);
    free(v);
    a->saver = NULL;
}

void marks_poll(app *a)
{
    struct saver *v = a->saver;
    if (!v) return;
    pthread_mutex_lock(&v->mu);
    if (v->failures) {
        if (v->failures == 1) app_set_message(a, "%s", v->err);
        else app_set_message(a, "%d changes not saved (%s)", v->failures, v->err);
        v->failures = 0;
    }
    pthread_mutex_unlock(&v->mu);
}

void marks_save(app *a, int i, hist_kind k)
{
    photo *p = &a->ph[i];
    save_job j = {strdup(p->path), strdup(p->rel), k, k == H_MARK ? (int)p->mark : k == H_STARS ? p->stars : p->label};
    struct saver *v = a->saver;
    char err[600];
    if (!j.path || !j.rel) {
        app_set_message(a, "%s: out of memory; the change is not saved", p->rel);
    } else if (!v || !v->up) {
        if (write_job(&j, err, sizeof err) != 0) app_set_message(a, "%s", err);
    } else {
        pthread_mutex_lock(&v->mu);
        if (v->head && v->head + v->n == v->cap) { /* move the queue to the front */
            memmove(v->q, v->q + v->head, v->n * sizeof *v->q);
            v->head = 0;
        }
        if (v->n == v->cap || v->head + v->n == v->cap) {
            size_t cap = v->cap ? v->cap * 2 : 64;
            save_job *g = realloc(v->q, cap * sizeof *g);
            if (g) v->q = g, v->cap = cap;
        }
        int queued = v->head + v->n < v->cap;
        if (queued) {
            if (!v->n && !v->busy) v->since = now_ms(), v->written = 0;
            v->q[v->head + v->n++] = j;
            pthread_cond_broadcast(&v->cv);
        }
        pthread_mutex_unlock(&v->mu);
        if (queued) return;
        if (write_job(&j, err, sizeof err) != 0) app_set_message(a, "%s", err); /* no memory to queue it */
    }
    free(j.path);
    free(j.rel);
}
