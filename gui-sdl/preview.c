/* preview.c: the preview pane: the photo decoded at full resolution on demand (by the preview
 * thread; only one is kept), shown to fit or at 100 % with panning, with the network's focus
 * map drawn over it as a heat map (red: blurred tile, green: sharp tile; tiles without
 * enough detail to judge are left clear, tiles with detail one way only are outlined). */
#include <stdio.h>
#include <stdlib.h>
#include "review.h"

void preview_open(app *a, int photo)
{
    if (photo < 0 || photo >= a->n) return;
    a->view = VIEW_PREVIEW;
    a->sel = photo;
    a->n_previews++;
    pthread_mutex_lock(&a->mu);
    if (a->pv_want != photo) {
        a->pv_want = photo;
        a->zoom100 = 0;
        a->pan_x = a->pan_y = -1;
    }
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

void preview_close(app *a)
{
    a->view = VIEW_GRID;
    a->dragging = 0;
    grid_scroll_to(a, a->sel);
}

/* [mu held] */
void preview_upload(app *a)
{
    if (a->pv_have < 0 || !a->pv_px || a->pv_tex_of == a->pv_have) return;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(a->pv_px, a->pv_w, a->pv_h, 24, a->pv_w * 3, SDL_PIXELFORMAT_RGB24);
    SDL_Texture *t = s ? SDL_CreateTextureFromSurface(a->ren, s) : NULL;
    if (s) SDL_FreeSurface(s);
    if (a->pv_tex) SDL_DestroyTexture(a->pv_tex);
    a->pv_tex = t;
    a->pv_tex_of = a->pv_have;
    a->pv_tex_w = a->pv_w;
    a->pv_tex_h = a->pv_h;
    free(a->pv_px); /* the texture has the pixels now */
    a->pv_px = NULL;
    if (!t) {
        free(a->pv_err);
        a->pv_err = NULL;
        app_set_message(a, "cannot show the preview: %s", SDL_GetError());
    }
}

static void heat_color(float s, SDL_Color *c)
{
    if (s < 0) s = 0;
    if (s > 1) s = 1;
    c->r = (Uint8)(230 * (1 - s) + 20 * s);
    c->g = (Uint8)(40 * (1 - s) + 200 * s);
    c->b = 40;
    c->a = 110;
}

void preview_draw(app *a)
{
    SDL_Rect area = {0, TOPBAR_H + 30, a->w, a->h - STATUS_H - TOPBAR_H - 30};
    SDL_Color white = {235, 235, 235, 255};
    draw_fill(a, area, (SDL_Color){18, 18, 20, 255});
    photo *p = a->sel >= 0 ? &a->ph[a->sel] : NULL;
    if (!p) return;

    /* the line above the photo */
    char info[512];
    if (p->js == J_DONE)
        snprintf(info, sizeof info, "%s   sharpness %.2f, %s%s%s%s   [%s; heat map %s: red = blurred tile, green = sharp tile]", p->name, p->sharpness,
                 p->verdict == UNSHARP_VERDICT_SHARP ? "sharp" : p->verdict == UNSHARP_VERDICT_UNSURE ? "unsure" : "blurry",
                 p->verdict == UNSHARP_VERDICT_SHARP ? "" : p->kind == UNSHARP_KIND_DEFOCUS ? " (defocus)" : " (motion)",
                 p->mark == MARK_KEEP ? ", marked keep" : "", p->mark == MARK_DELETE ? ", marked delete" : "",
                 a->zoom100 ? "100 %" : "fit", a->heat ? "on" : "off");
    else
        snprintf(info, sizeof info, "%s   %s%s%s", p->name, p->js == J_FAILED ? "error: " : "judging...",
                 p->js == J_FAILED && p->j_err ? p->j_err : "", p->mark == MARK_DELETE ? ", marked delete" : "");
    draw_fill(a, (SDL_Rect){0, TOPBAR_H, a->w, 30}, (SDL_Color){40, 42, 48, 255});
    draw_text(a, a->font, info, 10, TOPBAR_H + 6, p->js == J_DONE ? verdict_color(p->verdict) : white, a->w - 20);

    if (a->pv_tex_of != a->sel || !a->pv_tex) {
        const char *msg = (a->pv_have == a->sel && a->pv_err) ? a->pv_err : "decoding...";
        draw_text_wrapped(a, a->font_big, msg, (SDL_Rect){40, area.y + 40, a->w - 80, 200}, white);
        return;
    }
    int iw = a->pv_tex_w, ih = a->pv_tex_h;
    double scale = 1.0;
    if (!a->zoom100) {
        double sx = (double)area.w / iw, sy = (double)area.h / ih;
        scale = sx < sy ? sx : sy;
        a->pan_x = iw / 2.0;
        a->pan_y = ih / 2.0;
    } else {
        if (a->pan_x < 0) a->pan_x = iw / 2.0, a->pan_y = ih / 2.0;
        double hw = area.w / 2.0, hh = area.h / 2.0;
        if (iw <= area.w) a->pan_x = iw / 2.0;
        else a->pan_x = a->pan_x < hw ? hw : a->pan_x > iw - hw ? iw - hw : a->pan_x;
        if (ih <= area.h) a->pan_y = ih / 2.0;
        else a->pan_y = a->pan_y < hh ? hh : a->pan_y > ih - hh ? ih - hh : a->pan_y;
    }
    SDL_Rect d = {(int)(area.x + area.w / 2.0 - a->pan_x * scale), (int)(area.y + area.h / 2.0 - a->pan_y * scale),
                  (int)(iw * scale), (int)(ih * scale)};
    SDL_RenderSetClipRect(a->ren, &area);
    SDL_RenderCopy(a->ren, a->pv_tex, NULL, &d);

    if (a->heat && p->js == J_DONE && p->map && p->work_w > 0 && p->work_h > 0) {
        /* each map cell is a 32x32 tile of the photo at its judged (working) size */
        double tw = d.w * 32.0 / p->work_w, th = d.h * 32.0 / p->work_h;
        SDL_SetRenderDrawBlendMode(a->ren, SDL_BLENDMODE_BLEND);
        for (int ty = 0; ty < p->map_h; ty++)
            for (int tx = 0; tx < p->map_w; tx++) {
                float kind = p->texmask ? p->texmask[ty * p->map_w + tx] : 1.0f;
                if (kind < 0.5f) continue; /* flat: nothing to judge */
                SDL_Color c;
                heat_color(p->map[ty * p->map_w + tx], &c);
                int x0 = d.x + (int)(tx * tw), x1 = d.x + (int)((tx + 1) * tw);
                int y0 = d.y + (int)(ty * th), y1 = d.y + (int)((ty + 1) * th);
                SDL_Rect r = {x0, y0, x1 - x0, y1 - y0};
                if (kind < 1.0f) { /* detail one way only: not read by the score, outlined */
                    SDL_Rect in = {r.x + 2, r.y + 2, r.w - 4, r.h - 4};
                    SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, 200);
                    if (in.w > 0 && in.h > 0) SDL_RenderDrawRect(a->ren, &in);
                    continue;
                }
                SDL_SetRenderDrawColor(a->ren, c.r, c.g, c.b, c.a);
                SDL_RenderFillRect(a->ren, &r);
            }
    }
    SDL_RenderSetClipRect(a->ren, NULL);
    if (p->mark != MARK_NONE) {
        SDL_Color c = verdict_color(p->mark == MARK_KEEP ? UNSHARP_VERDICT_SHARP : UNSHARP_VERDICT_BLURRY);
        draw_rect(a, area, c, 4);
    }
}
