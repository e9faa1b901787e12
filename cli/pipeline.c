/* pipeline.c: judges the photos on N worker threads. Each worker has its own model handle
 * with one thread for its math (BLAS single-threaded), so N photos are decoded and judged at
 * once and no core is oversubscribed. Workers take the next photo from a shared counter;
 * each holds one decoded photo at a time, so memory stays bounded by N photos whatever the
 * folder size. The caller hears of results in input order. Freed memory is kept for the next
 * photo (glibc's mallopt): the decoded photo and the network's buffers are several MB each,
 * and handing them back to the kernel after every photo costs a page fault per 4 KB when the
 * next photo touches them again. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h"

typedef struct shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const options *o;
    const char *weights;
    item_list *items;
    unsigned char *done;  /* (n) 1 when items[i] is judged */
    size_t next;          /* next item to take */
    int failed;           /* a worker could not load its model */
    char failmsg[512];
} shared;

static void set_error(item *it, const char *fmt, const char *detail)
{
    size_t n = strlen(fmt) + strlen(detail) + 1;
    free(it->error);
    it->error = malloc(n);
    if (it->error) snprintf(it->error, n, fmt, detail);
}

static void judge_one(const options *o, unsharp_model *m, item *it)
{
    if (it->error || it->from_index) return; /* found bad while scanning; known from the index */
    if (unsharp_file_id_read(it->path, &it->id) != 0) {
        set_error(it, "%s", strerror(errno));
        return;
    }
    unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    unsharp_image *img = NULL;
    unsharp_status st = unsharp_image_load(it->path, &io, &img);
    if (st != UNSHARP_OK) {
        set_error(it, "%s", unsharp_message_reason(unsharp_errmsg(), it->path));
        return;
    }
    /* --threshold T and --unsure W: unsure within W of T (the engine's bands T - W, T + W) */
    unsharp_judge_options jo = {.sharp_at = (float)(o->threshold + o->unsure),
                                .blurry_below = (float)(o->threshold - o->unsure), .own_bands = 1};
    unsharp_judgement j = {0};
    st = unsharp_judge(m, img, &jo, &j);
    if (st != UNSHARP_OK) {
        set_error(it, "%s", unsharp_model_errmsg(m));
    } else {
        it->sharpness = j.sharpness;
        it->verdict = j.verdict;
        it->kind = j.kind;
        it->width = img->stored_width;
        it->height = img->stored_height;
        /* what grouping needs: the capture time, the exposure bias, the signature, the focus */
        if (o->group) {
            if (!(it->frame = calloc(1, sizeof *it->frame))) set_error(it, "%s", "out of memory");
            else if (unsharp_frame_read(it->path, it->frame) != UNSHARP_OK ||
                     unsharp_frame_describe(it->frame, img, &j) != UNSHARP_OK)
                set_error(it, "%s", unsharp_message_reason(unsharp_errmsg(), it->path));
        }
        if (!it->error && unsharp_file_check(it->path, &it->id) != UNSHARP_FILE_SAME)
            set_error(it, "%s", "changed while it was being read");
    }
    unsharp_judgement_free(&j);
    unsharp_image_free(img);
}

static void *worker(void *arg)
{
    shared *s = arg;
    unsharp_model_options mo = {.device = s->o->device, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(s->weights, &mo, &m) != UNSHARP_OK) {
        pthread_mutex_lock(&s->mu);
        if (!s->failed) snprintf(s->failmsg, sizeof s->failmsg, "%s", unsharp_errmsg());
        s->failed = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        size_t i = s->next < s->items->n && !s->failed ? s->next++ : (size_t)-1;
        pthread_mutex_unlock(&s->mu);
        if (i == (size_t)-1) break;
        judge_one(s->o, m, &s->items->items[i]);
        pthread_mutex_lock(&s->mu);
        s->done[i] = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    unsharp_model_free(m);
    return NULL;
}

int pipeline_run(const options *o, const char *weights, item_list *items, item_done_fn done, void *ctx)
{
    shared s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .o = o, .weights = weights,
                .items = items};
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest: blocks up to 32 MB come from the heap */
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    int jobs = o->jobs;
    if ((size_t)jobs > items->n) jobs = items->n ? (int)items->n : 1;
    s.done = calloc(items->n + 1, 1);
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    if (!s.done || !th) {
        fprintf(stderr, PROG ": out of memory\n");
        free(s.done);
        free(th);
        return -1;
    }
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&th[started], NULL, worker, &s) != 0) break;
    if (!started) {
        fprintf(stderr, PROG ": cannot start a worker thread\n");
        free(s.done);
        free(th);
        return -1;
    }
    /* deliver in input order */
    for (size_t i = 0; i < items->n; i++) {
        pthread_mutex_lock(&s.mu);
        while (!s.done[i] && !s.failed) pthread_cond_wait(&s.cv, &s.mu);
        int failed = s.failed;
        pthread_mutex_unlock(&s.mu);
        if (failed) break;
        done(i, ctx);
    }
    for (int k = 0; k < started; k++) pthread_join(th[k], NULL);
    free(s.done);
    free(th);
    if (s.failed) {
        fprintf(stderr, PROG ": %s\n", s.failmsg);
        return -1;
    }
    return 0;
}
