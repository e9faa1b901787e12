/* draw.c: drawing helpers on the SDL renderer: filled and outlined rectangles, dashed
 * borders, buttons, tooltips, and text through SDL_ttf with a small cache of rendered
 * strings; text too long for its place ends in an ellipsis. */
#include <stdlib.h>
#include <string.h>
#include "review.h"

#define TEXT_CACHE 384

typedef struct cached_text {
    char *s;
    TTF_Font *f;
    SDL_Color c;
    int wrap;
    SDL_Texture *t;
    int w, h;
    uint64_t used;
} cached_text;

static cached_text cache[TEXT_CACHE];
static uint64_t tick;

int in_rect(SDL_Rect r, int x, int y) { return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h; }

SDL_Color verdict_color(unsharp_verdict v)
{
    if (v == UNSHARP_VERDICT_SHARP) return (SDL_Color){46, 190, 80, 255};
    if (v == UNSHARP_VERDICT_UNSURE) return (SDL_Color){176, 120, 60, 255};
    return (SDL_Color){220, 50, 47, 255};
}

SDL_Color label_color(int label)
{
    static const SDL_Color c[6] = {{0, 0, 0, 0}, {220, 50, 47, 255}, {230, 200, 40, 255}, {60, 170, 70, 255},
                                   {50, 110, 220, 255}, {150, 70, 190, 255}};
    return c[label >= 1 && label <= 5 ? label : 0];
}

void draw_fill(app *a, SDL_Rect r, SDL_Color c)
{
    SDL_SetRenderDrawBlendMode(a->ren, c.a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, c.a);
    SDL_RenderFillRect(a->ren, &r);
}

void draw_rect(app *a, SDL_Rect r, SDL_Color c, int thick)
{
    for (int t = 0; t < thick; t++) {
        SDL_Rect q = {r.x + t, r.y + t, r.w - 2 * t, r.h - 2 * t};
        if (q.w <= 0 || q.h <= 0) break;
        SDL_SetRenderDrawBlendMode(a->ren, SDL_BLENDMODE_NONE);
        SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, c.a);
        SDL_RenderDrawRect(a->ren, &q);
    }
}

/* A dashed border of thickness thick: dashes of length dash, shifted by phase along the
 * perimeter (clockwise from the top left), so a moving phase animates it. */
void draw_dashed(app *a, SDL_Rect r, SDL_Color c, int thick, int dash, int phase)
{
    int per = 2 * (r.w + r.h);
    if (per <= 0 || dash <= 0) return;
    SDL_SetRenderDrawBlendMode(a->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, c.a);
    phase %= 2 * dash;
    if (phase < 0) phase += 2 * dash;
    for (int s = -phase; s < per; s += 2 * dash) {
        int from = s < 0 ? 0 : s, to = s + dash > per ? per : s + dash;
        /* walk the segment [from, to) along the four sides */
        while (from < to) {
            SDL_Rect q;
            int end;
            if (from < r.w) { /* top, left to right */
                end = to < r.w ? to : r.w;
                q = (SDL_Rect){r.x + from, r.y, end - from, thick};
            } else if (from < r.w + r.h) { /* right, downwards */
                end = to < r.w + r.h ? to : r.w + r.h;
                q = (SDL_Rect){r.x + r.w - thick, r.y + from - r.w, thick, end - from};
            } else if (from < 2 * r.w + r.h) { /* bottom, right to left */
                end = to < 2 * r.w + r.h ? to : 2 * r.w + r.h;
                q = (SDL_Rect){r.x + r.w - (end - r.w - r.h), r.y + r.h - thick, end - from, thick};
            } else { /* left, upwards */
                end = to;
                q = (SDL_Rect){r.x, r.y + r.h - (end - 2 * r.w - r.h), thick, end - from};
            }
            SDL_RenderFillRect(a->ren, &q);
            from = end;
        }
    }
}

void text_cache_clear(void)
{
    for (int k = 0; k < TEXT_CACHE; k++) {
        if (cache[k].t) SDL_DestroyTexture(cache[k].t);
        free(cache[k].s);
        memset(&cache[k], 0, sizeof cache[k]);
    }
}

static cached_text *text_get(app *a, TTF_Font *f, const char *s, SDL_Color c, int wrap)
{
    if (!s || !*s || !f) return NULL;
    tick++;
    int victim = 0;
    for (int k = 0; k < TEXT_CACHE; k++) {
        cached_text *e = &cache[k];
        if (e->s && e->f == f && e->wrap == wrap && !memcmp(&e->c, &c, sizeof c) && !strcmp(e->s, s)) {
            e->used = tick;
            return e;
        }
        if (cache[k].used < cache[victim].used) victim = k;
    }
    SDL_Surface *surf = wrap > 0 ? TTF_RenderUTF8_Blended_Wrapped(f, s, c, (Uint32)wrap) : TTF_RenderUTF8_Blended(f, s, c);
    if (!surf) return NULL;
    SDL_Texture *t = SDL_CreateTextureFromSurface(a->ren, surf);
    int w = surf->w, h = surf->h;
    SDL_FreeSurface(surf);
    if (!t) return NULL;
    cached_text *e = &cache[victim];
    if (e->t) SDL_DestroyTexture(e->t);
    free(e->s);
    *e = (cached_text){.s = strdup(s), .f = f, .c = c, .wrap = wrap, .t = t, .w = w, .h = h, .used = tick};
    if (!e->s) {
        SDL_DestroyTexture(t);
        memset(e, 0, sizeof *e);
        return NULL;
    }
    return e;
}

/* Draws s at (x, y), clipped to maxw pixels when maxw > 0; returns the width drawn. */
int draw_text(app *a, TTF_Font *f, const char *s, int x, int y, SDL_Color c, int maxw)
{
    cached_text *e = text_get(a, f, s, c, 0);
    if (!e) return 0;
    int w = maxw > 0 && e->w > maxw ? maxw : e->w;
    SDL_Rect src = {0, 0, w, e->h}, dst = {x, y, w, e->h};
    SDL_RenderCopy(a->ren, e->t, &src, &dst);
    return w;
}

/* Draws s at (x, y) in at most maxw pixels: when it does not fit, as much of it as fits
 * followed by an ellipsis (cut at a character, never inside one). 1 when cut, else 0. */
int draw_text_fit(app *a, TTF_Font *f, const char *s, int x, int y, SDL_Color c, int maxw)
{
    static const char ell[] = "\xe2\x80\xa6"; /* U+2026 */
    if (!s || !*s || maxw <= 0) return 0;
    if (text_width(f, s) <= maxw) {
        draw_text(a, f, s, x, y, c, 0);
        return 0;
    }
    int extent = 0, count = 0;
    if (TTF_MeasureUTF8(f, s, maxw - text_width(f, ell), &extent, &count) != 0) count = 0;
    const char *q = s; /* count characters in bytes */
    for (int k = 0; k < count && *q; k++) {
        q++;
        while ((*q & 0xC0) == 0x80) q++;
    }
    size_t n = (size_t)(q - s);
    char buf[1024];
    if (n > sizeof buf - sizeof ell) n = sizeof buf - sizeof ell;
    memcpy(buf, s, n);
    memcpy(buf + n, ell, sizeof ell);
    draw_text(a, f, buf, x, y, c, maxw);
    return 1;
}

/* A box with s next to (x, y), kept inside the window. */
void draw_tooltip(app *a, const char *s, int x, int y)
{
    int w = text_width(a->font_small, s) + 12, h = TTF_FontHeight(a->font_small) + 8;
    if (w > a->w - 8) w = a->w - 8;
    int bx = x + 12, by = y + 18;
    if (bx + w > a->w - 4) bx = a->w - 4 - w;
    if (by + h > a->h - 4) by = y - h - 6;
    if (bx < 4) bx = 4;
    SDL_Rect r = {bx, by, w, h};
    draw_fill(a, r, (SDL_Color){250, 246, 220, 255});
    draw_rect(a, r, (SDL_Color){90, 90, 80, 255}, 1);
    draw_text_fit(a, a->font_small, s, bx + 6, by + 4, (SDL_Color){20, 20, 20, 255}, w - 12);
}

int draw_text_wrapped(app *a, TTF_Font *f, const char *s, SDL_Rect box, SDL_Color c)
{
    cached_text *e = text_get(a, f, s, c, box.w > 8 ? box.w : 8);
    if (!e) return 0;
    int w = e->w > box.w ? box.w : e->w, h = e->h > box.h ? box.h : e->h;
    SDL_Rect src = {0, 0, w, h}, dst = {box.x, box.y, w, h};
    SDL_RenderCopy(a->ren, e->t, &src, &dst);
    return h;
}

int text_width(TTF_Font *f, const char *s)
{
    int w = 0, h = 0;
    if (f && s && TTF_SizeUTF8(f, s, &w, &h) != 0) return 0;
    return w;
}

int draw_button(app *a, SDL_Rect r, const char *label, SDL_Color bg, SDL_Color fg)
{
    draw_fill(a, r, bg);
    draw_rect(a, r, (SDL_Color){bg.r / 2, bg.g / 2, bg.b / 2, 255}, 1);
    int tw = text_width(a->font, label), th = TTF_FontHeight(a->font);
    draw_text(a, a->font, label, r.x + (r.w - tw) / 2, r.y + (r.h - th) / 2, fg, r.w - 4);
    return 0;
}
