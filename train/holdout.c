/* holdout.c: the held-back split, judging a set, and the safety gate (see holdout.h). */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "blur.h"
#include "holdout.h"
#include "val.h"

int holdout_choose(int n, uint8_t *held)
{
    int k = 0;
    memset(held, 0, (size_t)n);
    if (n < 10) return 0;
    for (int i = 5; i < n && k < 100; i += 10, k++) held[i] = 1;
    return k;
}

static int push(holdout_set *s, holdout_item it)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        holdout_item *v = realloc(s->items, sizeof *v * (size_t)cap);
        if (!v) return -1;
        s->items = v;
        s->cap = cap;
    }
    s->items[s->n++] = it;
    return 0;
}

int holdout_add(holdout_set *s, const char *name, const uint8_t *luma, int w, int h, int sharp)
{
    holdout_item it = {strdup(name), w, h, sharp, malloc((size_t)w * h), 0};
    if (!it.name || !it.luma || push(s, it) != 0) {
        free(it.name);
        free(it.luma);
        return -1;
    }
    memcpy(it.luma, luma, (size_t)w * h);
    return 0;
}

int holdout_add_borrowed(holdout_set *s, const char *name, uint8_t *luma, int w, int h, int sharp)
{
    holdout_item it = {strdup(name), w, h, sharp, luma, 1};
    if (!it.name || push(s, it) != 0) {
        free(it.name);
        return -1;
    }
    return 0;
}

/* A log-uniform strength in [lo, hi]. */
static float strength(blur_rng *r, float lo, float hi) { return expf(blur_uniform(r, logf(lo), logf(hi))); }

int holdout_add_synthetic(holdout_set *s, const train_photo *p, int index)
{
    if (holdout_add(s, p->path, p->luma, p->w, p->h, 1) != 0) return -1;
    size_t n = (size_t)p->w * p->h;
    float *f = malloc(sizeof *f * n), k[BLUR_KMAX * BLUR_KMAX];
    uint8_t *out = malloc(n);
    int ks = 0, rc = -1;
    if (!f || !out) goto done;
    blur_rng r = {0x5EEDB10Bull ^ (0x9E3779B97F4A7C15ull * (uint64_t)(index + 1))};
    /* clearly blurred at the working size: what a photographer would throw away */
    switch (index % 4) {
    case 0: rc = blur_kernel_gaussian(strength(&r, 2.0f, 4.0f), k, &ks); break;
    case 1: rc = blur_kernel_disc(strength(&r, 3.0f, 7.0f), k, &ks); break;
    case 2: rc = blur_kernel_motion(strength(&r, 10.0f, 24.0f), blur_uniform(&r, 0, (float)M_PI), k, &ks); break;
    /* a shake sized by its spread: one sized by its path spreads as a 4-9 px line does */
    default: rc = blur_kernel_shake_sized(&r, strength(&r, 10.0f, 24.0f), 1, k, &ks); break;
    }
    if (rc != BLUR_OK) goto done;
    for (size_t i = 0; i < n; i++) f[i] = p->luma[i] * (1.0f / 255);
    if (blur_convolve(f, f, p->w, p->h, k, ks) != BLUR_OK) goto done;
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)lrintf(fminf(fmaxf(f[i], 0), 1) * 255);
    holdout_item it = {strdup(p->path), p->w, p->h, 0, out, 0};
    if (!it.name || push(s, it) != 0) {
        free(it.name);
        goto done;
    }
    out = NULL;
    rc = 0;
done:
    free(f);
    free(out);
    return rc == 0 ? 0 : -1;
}

void holdout_free(holdout_set *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->items[i].name);
        if (!s->items[i].borrowed) free(s->items[i].luma);
    }
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

int holdout_judge(unsharp_model *m, const holdout_set *s, FILE *err, holdout_figures *out)
{
    memset(out, 0, sizeof *out);
    out->accuracy = out->auc = NAN;
    if (s->n == 0) return -1;
    float *score = malloc(sizeof *score * (size_t)s->n);
    int *label = malloc(sizeof *label * (size_t)s->n), k = 0, right = 0;
    out->called_blurry = calloc((size_t)s->n, 1);
    out->score = malloc(sizeof *out->score * (size_t)s->n);
    if (!score || !label || !out->called_blurry || !out->score) {
        fprintf(err, "out of memory judging the %s photos\n", s->title);
        free(score);
        free(label);
        holdout_figures_free(out);
        return -1;
    }
    for (int i = 0; i < s->n; i++) {
        const holdout_item *it = &s->items[i];
        unsharp_image img = {.width = it->w, .height = it->h, .channels = 1, .format = UNSHARP_PIXEL_LUMA8,
                             .stride = (size_t)it->w, .pixels = it->luma};
        unsharp_judgement j = {0};
        out->score[i] = NAN;
        if (unsharp_judge(m, &img, NULL, &j) != UNSHARP_OK) {
            fprintf(err, "%s: %s\n", it->name, unsharp_model_errmsg(m));
            out->failed++;
            continue;
        }
        int blurry = j.verdict == UNSHARP_VERDICT_BLURRY;
        out->called_blurry[i] = (uint8_t)blurry;
        out->score[i] = j.sharpness;
        if (it->sharp) {
            out->keepers++;
            out->kept += !blurry;
        } else {
            out->blurred++;
            out->caught += blurry;
        }
        score[k] = j.sharpness;
        label[k++] = it->sharp;
        right += (j.sharpness >= 0.5f) == (it->sharp != 0);
        unsharp_judgement_free(&j);
    }
    if (k) {
        out->accuracy = (double)right / k;
        out->auc = train_auc(score, label, k);
    }
    free(score);
    free(label);
    return k ? 0 : -1;
}

void holdout_figures_free(holdout_figures *f)
{
    free(f->called_blurry);
    f->called_blurry = NULL;
    free(f->score);
    f->score = NULL;
}

float holdout_lowest_kept(const holdout_set *s, const holdout_figures *start, const holdout_figures *now,
                          const char **name)
{
    float low = INFINITY;
    if (!start->called_blurry || !now->score) return low;
    for (int i = 0; i < s->n; i++)
        if (s->items[i].sharp && !start->called_blurry[i] && !isnan(now->score[i]) && now->score[i] < low) {
            low = now->score[i];
            if (name) *name = s->items[i].name;
        }
    return low;
}

int holdout_blurred_between(const holdout_set *s, const holdout_figures *now, float lo, float hi)
{
    int n = 0;
    if (!now->score) return 0;
    for (int i = 0; i < s->n; i++)
        if (!s->items[i].sharp && now->score[i] >= lo && now->score[i] < hi) n++;
    return n;
}

float holdout_keeper_line(float line, float lowest)
{
    if (!(lowest < line)) return line;
    float k = floorf(lowest * 10000.0f);
    if (k / 10000.0f > lowest) k -= 1.0f; /* the product rounded up to a whole number */
    return k < 0 ? 0 : k / 10000.0f;
}

holdout_keeper holdout_keeper_over(const holdout_set *sets, const holdout_figures *start, const holdout_figures *now,
                                   const int *have, int n, float line)
{
    holdout_keeper k = {.line = line, .moved = line, .lowest = INFINITY};
    for (int i = 0; i < n; i++) {
        const char *name = NULL;
        float low = have[i] ? holdout_lowest_kept(&sets[i], &start[i], &now[i], &name) : INFINITY;
        if (low < k.lowest) {
            k.lowest = low;
            k.who = name;
        }
    }
    k.moved = holdout_keeper_line(line, k.lowest);
    for (int i = 0; i < n; i++)
        if (have[i]) k.through += holdout_blurred_between(&sets[i], &now[i], k.moved, line);
    return k;
}

void holdout_recount(const holdout_set *s, holdout_figures *f, float line)
{
    if (!f->score || !f->called_blurry) return;
    f->kept = f->caught = 0;
    for (int i = 0; i < s->n; i++) {
        if (isnan(f->score[i])) continue;
        int blurry = f->score[i] < line;
        f->called_blurry[i] = (uint8_t)blurry;
        if (s->items[i].sharp) f->kept += !blurry;
        else f->caught += blurry;
    }
}

static double pct(int a, int b) { return b ? 100.0 * a / b : 0; }

void holdout_words(const holdout_figures *f, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    if (f->keepers) used += (size_t)snprintf(buf, n, "keepers kept %.0f %% (%d of %d)", pct(f->kept, f->keepers), f->kept, f->keepers);
    if (f->blurred && used < n)
        snprintf(buf + used, n - used, "%sblur caught %.0f %% (%d of %d)", used ? ", " : "", pct(f->caught, f->blurred),
                 f->caught, f->blurred);
}

/* printf appended to why */
static void addf(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *why, size_t n, const char *fmt, ...)
{
    size_t used = strlen(why);
    if (used + 1 >= n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why + used, n - used, fmt, ap);
    va_end(ap);
}

int holdout_gate(const holdout_set *s, const holdout_figures *start, const holdout_figures *now, char *why, size_t n)
{
    int lost = 0, named = 0, bad = 0;
    for (int i = 0; i < s->n; i++)
        if (s->items[i].sharp && !start->called_blurry[i] && now->called_blurry[i]) lost++;
    if (lost) {
        addf(why, n, "%s: %d keeper%s that the starting weights kept would now be called blurry (", s->title, lost,
             lost == 1 ? "" : "s");
        for (int i = 0; i < s->n && named < 3; i++)
            if (s->items[i].sharp && !start->called_blurry[i] && now->called_blurry[i]) {
                const char *base = strrchr(s->items[i].name, '/');
                addf(why, n, "%s%s", named++ ? ", " : "", base ? base + 1 : s->items[i].name);
            }
        addf(why, n, "%s)\n", lost > named ? ", ..." : "");
        bad = 1;
    }
    int fewer = start->caught - now->caught;
    if (fewer >= 2 && fewer > 0.05 * start->blurred) {
        addf(why, n, "%s: blur caught fell from %.0f %% to %.0f %% (%d fewer of %d blurred photos)\n", s->title,
             pct(start->caught, start->blurred), pct(now->caught, now->blurred), fewer, now->blurred);
        bad = 1;
    }
    return bad;
}
