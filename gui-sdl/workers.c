/* workers.c: the background threads. One thumbnail loader (a DCT-scaled decode, 1/8 for
 * camera photos, orientation applied, to THUMB_STORE pixels), N classifiers (each its own model
 * handle with one BLAS thread, as unsharp-classify does; each also describes the photo it
 * judged for grouping, stacks.c) and one preview decoder. They take
 * work under app.mu, do it without the lock, and hand results back under it, with an SDL
 * event that wakes the render loop (which otherwise sleeps); the loop never waits for them.
 * Visible photos come first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "review.h"

#define MAX_PENDING_UPLOADS 48

/* The next photo that needs(p): visible ones first, then in view order, then the rest. */
static int pick(app *a, int (*needs)(const photo *))
{
    for (int k = a->vis_first; k <= a->vis_last && k < a->norder; k++)
        if (k >= 0 && needs(&a->ph[a->order[k]])) return a->order[k];
    for (int k = 0; k < a->norder; k++)
        if (needs(&a->ph[a->order[k]])) return a->order[k];
    for (int i = 0; i < a->n; i++)
        if (needs(&a->ph[i])) return i;
    return -1;
}

static int needs_first_thumb(const photo *p) { return p->th == TH_NONE && !p->th_seen && !p->trashed; }
static int needs_judging(const photo *p) { return p->js == J_PENDING && !p->trashed; }

/* Error text without the "PATH: " the engine names the file with (unsharp_message_reason). */
static char *short_error(const char *msg, const char *path) { return strdup(unsharp_message_reason(msg, path)); }

/* Area-average shrink of RGB8 to fit THUMB_STORE; returns malloc'ed pixels. */
static unsigned char *shrink(const unsharp_image *img, int *ow, int *oh)
{
    int w = img->width, h = img->height, c = img->channels;
    int L = w > h ? w : h;
    int tw = w, th = h;
    if (L > THUMB_STORE) {
        tw = (int)((long)w * THUMB_STORE / L);
        th = (int)((long)h * THUMB_STORE / L);
        if (tw < 1) tw = 1;
        if (th < 1) th = 1;
    }
    unsigned char *out = malloc((size_t)tw * th * 3);
    if (!out) return NULL;
    for (int y = 0; y < th; y++) {
        int y0 = (int)((long)y * h / th), y1 = (int)((long)(y + 1) * h / th);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((long)x * w / tw), x1 = (int)((long)(x + 1) * w / tw);
            if (x1 <= x0) x1 = x0 + 1;
            unsigned sum[3] = {0, 0, 0}, cnt = 0;
            for (int yy = y0; yy < y1; yy++) {
                const unsigned char *row = (const unsigned char *)img->pixels + (size_t)yy * img->stride;
                for (int xx = x0; xx < x1; xx++, cnt++)
                    for (int ch = 0; ch < 3; ch++) sum[ch] += row[(size_t)xx * c + (c == 3 ? ch : 0)];
            }
            for (int ch = 0; ch < 3; ch++) out[((size_t)y * tw + x) * 3 + ch] = (unsigned char)(sum[ch] / cnt);
        }
    }
    *ow = tw;
    *oh = th;
    return out;
}

static void *loader_main(void *arg)
{
    app *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->quit) {
        int i = -1;
        if (a->pending_uploads < MAX_PENDING_UPLOADS) {
            /* a visible photo whose texture was evicted, else the first pass over all */
            for (int k = a->vis_first; k <= a->vis_last && k < a->norder && i < 0; k++)
                if (k >= 0 && a->ph[a->order[k]].th == TH_NONE && !a->ph[a->order[k]].trashed) i = a->order[k];
            if (i < 0) i = pick(a, needs_first_thumb);
        }
        if (i < 0) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        photo *p = &a->ph[i];
        p->th = TH_LOADING;
        pthread_mutex_unlock(&a->mu);

        /* the smallest DCT scale at or above THUMB_STORE: 1/8 for camera photos (a 12 MP
         * photo decodes to 500x375), larger scales only for small photos, whose 1/8 would be
         * too coarse; the engine then area-averages to THUMB_STORE */
        unsharp_image_options io = {.format = UNSHARP_PIXEL_RGB8, .long_side = THUMB_STORE};
        unsharp_image *img = NULL;
        unsigned char *px = NULL;
        char *err = NULL;
        int tw = 0, th = 0;
        if (unsharp_image_load(p->path, &io, &img) != UNSHARP_OK) err = short_error(unsharp_errmsg(), p->path);
        else if (!(px = shrink(img, &tw, &th))) err = strdup("out of memory");
        unsharp_image_free(img);

        pthread_mutex_lock(&a->mu);
        if (!p->th_seen) a->thumbs_done++;
        p->th_seen = 1;
        if (px) {
            p->th_px = px;
            p->th_w = tw;
            p->th_h = th;
            p->th = TH_READY;
            a->pending_uploads++;
        } else {
            free(p->th_err);
            p->th_err = err ? err : strdup("cannot decode");
            p->th = TH_FAILED;
        }
        workers_wake_main(a);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void *judge_main(void *arg)
{
    app *a = arg;
    unsharp_model_options mo = {.device = UNSHARP_DEVICE_CPU, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(a->weights, &mo, &m) != UNSHARP_OK) {
        pthread_mutex_lock(&a->mu);
        snprintf(a->model_err, sizeof a->model_err, "no classification: %s", unsharp_errmsg());
        workers_wake_main(a);
        pthread_mutex_unlock(&a->mu);
        return NULL;
    }
    pthread_mutex_lock(&a->mu);
    while (!a->quit) {
        int i = pick(a, needs_judging);
        if (i < 0) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        photo *p = &a->ph[i];
        p->js = J_RUNNING;
        pthread_mutex_unlock(&a->mu);

        unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
        unsharp_image *img = NULL;
        unsharp_judgement j = {0};
        char *err = NULL;
        if (unsharp_image_load(p->path, &io, &img) != UNSHARP_OK) err = short_error(unsharp_errmsg(), p->path);
        else if (unsharp_judge(m, img, NULL, &j) != UNSHARP_OK) err = strdup(unsharp_model_errmsg(m));
        /* what grouping needs, from the image just judged: its capture time and exposure bias
         * (EXIF), its signature and focus summary; without it the photo stays a single */
        unsharp_frame fr = {0};
        int described = !err && unsharp_frame_read(p->path, &fr) == UNSHARP_OK &&
                        unsharp_frame_describe(&fr, img, &j) == UNSHARP_OK;
        float *map = NULL, *tex = NULL;
        size_t cells = (size_t)j.map_w * j.map_h;
        if (!err && cells) {
            map = malloc(cells * sizeof *map);
            tex = malloc(cells * sizeof *tex);
            if (map && tex) {
                memcpy(map, j.map, cells * sizeof *map);
                if (j.texture) memcpy(tex, j.texture, cells * sizeof *tex);
                else for (size_t c = 0; c < cells; c++) tex[c] = 1;
            } else {
                free(map);
                free(tex);
                map = tex = NULL;
            }
        }
        pthread_mutex_lock(&a->mu);
        if (err) {
            p->js = J_FAILED;
            p->j_err = err;
        } else {
            p->js = J_DONE;
            p->sharpness = j.sharpness;
            p->verdict = j.verdict;
            p->kind = j.kind;
            p->map = map;
            p->texmask = tex;
            p->map_w = map ? j.map_w : 0;
            p->map_h = map ? j.map_h : 0;
            p->work_w = img->width;
            p->work_h = img->height;
            if (described && a->frames) a->frames[i] = fr;
            p->described = described && a->frames;
        }
        a->judged++;
        workers_wake_main(a);
        pthread_mutex_unlock(&a->mu);
        unsharp_judgement_free(&j);
        unsharp_image_free(img);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    unsharp_model_free(m);
    return NULL;
}

void workers_wake_main(app *a)
{
    if (a->woken || !a->wake_event) return;
    SDL_Event e;
    SDL_zero(e);
    e.type = a->wake_event;
    if (SDL_PushEvent(&e) == 1) a->woken = 1; /* until the loop takes it (input.c) */
}

/* Decodes the photos the preview slots want, the preview's first. */
static void *preview_main(void *arg)
{
    app *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->quit) {
        int k = a->pv[0].want >= 0 && a->pv[0].want != a->pv[0].have ? 0
                : a->pv[1].want >= 0 && a->pv[1].want != a->pv[1].have ? 1 : -1;
        if (k < 0) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        int want = a->pv[k].want;
        const char *path = a->ph[want].path;
        int maxside = a->max_tex;
        pthread_mutex_unlock(&a->mu);

        /* full resolution, or the renderer's largest texture when the photo is larger */
        unsharp_image_options io = {.format = UNSHARP_PIXEL_RGB8, .long_side = maxside};
        unsharp_image *img = NULL;
        char *err = NULL;
        unsigned char *px = NULL;
        int w = 0, h = 0;
        if (unsharp_image_load(path, &io, &img) != UNSHARP_OK) {
            err = short_error(unsharp_errmsg(), path);
        } else {
            w = img->width;
            h = img->height;
            /* the pixels packed, row after row */
            px = malloc((size_t)w * h * 3);
            if (px)
                for (int y = 0; y < h; y++)
                    memcpy(px + (size_t)y * w * 3, (unsigned char *)img->pixels + (size_t)y * img->stride, (size_t)w * 3);
            else err = strdup("out of memory");
        }
        unsharp_image_free(img);

        pthread_mutex_lock(&a->mu);
        pv_slot *s = &a->pv[k];
        free(s->px);
        free(s->err);
        s->px = px;
        s->w = w;
        s->h = h;
        s->err = err;
        s->have = want;
        workers_wake_main(a);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int workers_start(app *a)
{
    a->quit = 0;
    a->njudges = 0;
    a->threads_up = 0;
    a->model_err[0] = 0;
    a->judges = calloc((size_t)a->jobs, sizeof *a->judges);
    if (!a->judges) return -1;
    if (pthread_create(&a->loader, NULL, loader_main, a) != 0) return -1;
    if (pthread_create(&a->previewer, NULL, preview_main, a) != 0) {
        pthread_mutex_lock(&a->mu);
        a->quit = 1;
        pthread_cond_broadcast(&a->cv);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->loader, NULL);
        return -1;
    }
    a->threads_up = 1;
    for (int k = 0; k < a->jobs; k++)
        if (pthread_create(&a->judges[a->njudges], NULL, judge_main, a) == 0) a->njudges++;
    return a->njudges ? 0 : -1;
}

void workers_stop(app *a)
{
    if (!a->threads_up) return;
    pthread_mutex_lock(&a->mu);
    a->quit = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->loader, NULL);
    pthread_join(a->previewer, NULL);
    for (int k = 0; k < a->njudges; k++) pthread_join(a->judges[k], NULL);
    free(a->judges);
    a->judges = NULL;
    a->njudges = 0;
    a->threads_up = 0;
}
