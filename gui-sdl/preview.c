/* preview.c: the preview pane: the photo decoded at full resolution on demand (by the preview
 * thread; one per slot is kept: slot 0 for the preview and the left of compare, slot 1 for the
 * right), shown to fit or at 100 % with panning, with the network's focus map over it as a
 * heat map when asked (H): at fit each 32x32 tile is tinted (red blurred, green sharp, grey
 * too flat to judge; tiles with detail one way only are outlined), at 100 % every tile is only
 * outlined so the photo stays visible; nothing is drawn outside the photo. A one-line legend
 * says what the colours mean. */
#include <stdio.h>
#include <stdlib.h>
#include "review.h"

void preview_want(app *a, int slot, int photo)
{
    pthread_mutex_lock(&a->mu);
    a->pv[slot].want = photo;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

int preview_ready(app *a, int slot, int photo)
{
    pv_slot *s = &a->pv[slot];
    return s->tex_of == photo || (s->have == photo && s->err);
}

void preview_open(app *a, int photo)
{
    if (photo < 0 || photo >= a->n) return;
    if (a->view != VIEW_PREVIEW || a->pv[0].want != photo) {
        a->zoom100 = 0;
        a->pan_x = a->pan_y = 0.5;
    }
    a->view = VIEW_PREVIEW;
    a->open_top = -1;
    a->sel = photo;
    a->n_previews++;
    preview_want(a, 0, photo);
}

void preview_close(app *a)
{
    a->view = VIEW_GRID;
    a->dragging = 0;
    a->open_top = -1; /* an opened stack closes */
    grid_scroll_to(a, a->sel);
}

void preview_pan(app *a, int dx, int dy)
{
    pv_slot *s = &a->pv[0];
    if (s->tex_w <= 0 || s->tex_h <= 0) return;
    a->pan_x -= (double)dx / s->tex_w;
    a->pan_y -= (double)dy / s->tex_h;
}

/* [mu held] */
void preview_upload(app *a)
{
    for (int k = 0; k < 2; k++) {
        pv_slot *s = &a->pv[k];
        if (s->have < 0 || !s->px || s->tex_of == s->have) continue;
        SDL_Surface *sf = SDL_CreateRGBSurfaceWithFormatFrom(s->px, s->w, s->h, 24, s->w * 3, SDL_PIXELFORMAT_RGB24);
        SDL_Texture *t = sf ? SDL_CreateTextureFromSurface(a->ren, sf) : NULL;
        if (sf) SDL_FreeSurface(sf);
        if (s->tex) SDL_DestroyTexture(s->tex);
        s->tex = t;
        s->tex_of = s->have;
        s->tex_w = s->w;
        s->tex_h = s->h;
        free(s->px); /* the texture has the pixels now */
        s->px = NULL;
        if (!t) {
            free(s->err);
            s->err = NULL;
            app_set_message(a, "cannot show the preview: %s", SDL_GetError());
        }
    }
}

static SDL_Color heat_color(float s)
{
    if (s < 0) s = 0;
    if (s > 1) s = 1;
    return (SDL_Color){(Uint8)(230 * (1 - s) + 20 * s), (Uint8)(40 * (1 - s) + 200 * s), 40, 110};
}

/* The focus map over the photo drawn at d, clipped to the photo and to clip. */
static void heat_draw(app *a, const photo *p, SDL_Rect d, SDL_Rect clip)
{
    SDL_Rect vis;
    if (!SDL_IntersectRect(&d, &clip, &vis)) return;
    SDL_RenderSetClipRect(a->ren, &vis);
    SDL_SetRenderDrawBlendMode(a->ren, SDL_BLENDMODE_BLEND);
    /* each map cell is a 32x32 tile of the photo at its judged (working) size */
    double tw = d.w * 32.0 / p->work_w, th = d.h * 32.0 / p->work_h;
    int outline_only = a->zoom100;
    for (int ty = 0; ty < p->map_h; ty++)
        for (int tx = 0; tx < p->map_w; tx++) {
            int x0 = d.x + (int)(tx * tw), x1 = d.x + (int)((tx + 1) * tw);
            int y0 = d.y + (int)(ty * th), y1 = d.y + (int)((ty + 1) * th);
            if (x1 > d.x + d.w) x1 = d.x + d.w; /* the last tiles may pass the photo's edge */
            if (y1 > d.y + d.h) y1 = d.y + d.h;
            SDL_Rect r = {x0, y0, x1 - x0, y1 - y0};
            if (r.w <= 0 || r.h <= 0 || !SDL_HasIntersection(&r, &vis)) continue;
            float kind = p->texmask ? p->texmask[ty * p->map_w + tx] : 1.0f;
            SDL_Color c = kind < 0.5f ? (SDL_Color){128, 128, 128, 70} /* flat: nothing to judge */
                                      : heat_color(p->map[ty * p->map_w + tx]);
            if (kind >= 0.5f && kind < 1.0f) { /* detail one way only: not read by the score */
                SDL_Rect in = {r.x + 2, r.y + 2, r.w - 4, r.h - 4};
                SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, 200);
                if (in.w > 0 && in.h > 0) SDL_RenderDrawRect(a->ren, &in);
            } else if (outline_only) { /* at 100 %: thin outlines, the photo stays visible */
                if (kind < 0.5f) continue;
                SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, 230);
                SDL_RenderDrawRect(a->ren, &r);
            } else {
                SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, c.a);
                SDL_RenderFillRect(a->ren, &r);
            }
        }
    SDL_RenderSetClipRect(a->ren, NULL);
}

void photo_draw(app *a, int slot, int i, SDL_Rect area, int outline)
{
    pv_slot *s = &a->pv[slot];
    photo *p = &a->ph[i];
    SDL_Color white = {235, 235, 235, 255};
    draw_fill(a, area, (SDL_Color){18, 18, 20, 255});
    if (s->tex_of != i || !s->tex) {
        const char *msg = (s->have == i && s->err) ? s->err : "decoding...";
        draw_text_wrapped(a, a->font_big, msg, (SDL_Rect){area.x + 40, area.y + 40, area.w - 80, 200}, white);
        return;
    }
    int iw = s->tex_w, ih = s->tex_h;
    double scale = 1.0, cx = 0.5, cy = 0.5;
    if (!a->zoom100) {
        double sx = (double)area.w / iw, sy = (double)area.h / ih;
        scale = sx < sy ? sx : sy;
    } else {
        /* the same place of every photo shown (compare): the centre as a fraction, kept so
         * that the photo covers the area where it can */
        double hw = area.w / 2.0 / iw, hh = area.h / 2.0 / ih;
        if (a->pan_x < 0 || a->pan_x > 1) a->pan_x = 0.5;
        if (a->pan_y < 0 || a->pan_y > 1) a->pan_y = 0.5;
        cx = iw <= area.w ? 0.5 : a->pan_x < hw ? hw : a->pan_x > 1 - hw ? 1 - hw : a->pan_x;
        cy = ih <= area.h ? 0.5 : a->pan_y < hh ? hh : a->pan_y > 1 - hh ? 1 - hh : a->pan_y;
        if (slot == 0) a->pan_x = cx, a->pan_y = cy;
    }
    SDL_Rect d = {(int)(area.x + area.w / 2.0 - cx * iw * scale), (int)(area.y + area.h / 2.0 - cy * ih * scale),
                  (int)(iw * scale), (int)(ih * scale)};
    SDL_RenderSetClipRect(a->ren, &area);
    SDL_RenderCopy(a->ren, s->tex, NULL, &d);
    SDL_RenderSetClipRect(a->ren, NULL);
    if (a->heat && p->js == J_DONE && p->map && p->work_w > 0 && p->work_h > 0) heat_draw(a, p, d, area);
    if (p->mark != MARK_NONE) draw_rect(a, area, verdict_color(p->mark == MARK_KEEP ? UNSHARP_VERDICT_SHARP : UNSHARP_VERDICT_BLURRY), 4);
    else if (outline) draw_rect(a, area, (SDL_Color){140, 200, 255, 255}, 2);
}

/* The line about photo i: name, score, verdict, marks, rating. */
static void info_line(app *a, int i, char *info, size_t size)
{
    const photo *p = &a->ph[i];
    char stars[24] = "";
    if (p->stars) snprintf(stars, sizeof stars, ", %d star%s", p->stars, p->stars == 1 ? "" : "s");
    if (p->js == J_DONE)
        snprintf(info, size, "%s   %.2f %s%s%s%s%s   [%s]", p->rel, p->sharpness,
                 p->verdict == UNSHARP_VERDICT_SHARP ? "sharp" : p->verdict == UNSHARP_VERDICT_UNSURE ? "unsure" : "blurry",
                 p->verdict == UNSHARP_VERDICT_SHARP ? "" : p->kind == UNSHARP_KIND_DEFOCUS ? " (defocus)" : " (motion)",
                 p->mark == MARK_KEEP ? ", marked keep" : "", p->mark == MARK_DELETE ? ", marked delete" : "", stars,
                 a->zoom100 ? "100 %" : "fit");
    else
        snprintf(info, size, "%s   %s%s%s%s", p->rel, p->js == J_FAILED ? "error: " : "judging...",
                 p->js == J_FAILED && p->j_err ? p->j_err : "", p->mark == MARK_DELETE ? ", marked delete" : "", stars);
}

/* The title line above the photo at x..x+w; the whole of it on hover when cut. */
void preview_title(app *a, int i, int x, int w)
{
    char info[768];
    info_line(a, i, info, sizeof info);
    const photo *p = &a->ph[i];
    SDL_Color c = p->js == J_DONE ? verdict_color(p->verdict) : (SDL_Color){235, 235, 235, 255};
    int cut = draw_text_fit(a, a->font, info, x + 10, TOPBAR_H + 6, c, w - 20);
    if (cut && a->mouse_y >= TOPBAR_H && a->mouse_y < TOPBAR_H + 30 && a->mouse_x >= x && a->mouse_x < x + w)
        draw_tooltip(a, info, a->mouse_x, a->mouse_y);
}

/* The legend under the photo, one line. */
void preview_legend(app *a)
{
    SDL_Rect r = {0, a->h - STATUS_H - 22, a->w, 22};
    draw_fill(a, r, (SDL_Color){30, 31, 35, 255});
    const char *txt = !a->heat ? "H: heat map (the network's focus map, one cell per 32x32 tile)"
                      : a->zoom100 ? "Heat map at 100 %, outlines only: red = blurred tile, green = sharp tile; "
                                     "inset outline = detail one way only (not scored); flat tiles are left clear"
                                   : "Heat map: red = blurred tile, green = sharp tile, grey = too flat to judge, "
                                     "outlined = detail one way only (not scored); H hides it";
    draw_text_fit(a, a->font_small, txt, 10, r.y + 4, (SDL_Color){190, 190, 190, 255}, a->w - 20);
}

void preview_draw(app *a)
{
    if (a->sel < 0) return;
    SDL_Rect area = {0, TOPBAR_H + 30, a->w, a->h - STATUS_H - TOPBAR_H - 30 - 22};
    photo_draw(a, 0, a->sel, area, 0);
    draw_fill(a, (SDL_Rect){0, TOPBAR_H, a->w, 30}, (SDL_Color){40, 42, 48, 255});
    preview_title(a, a->sel, 0, a->w);
    preview_legend(a);
}
