/* grid.c: the thumbnail grid: tile layout and hit testing, the tiles themselves (thumbnail,
 * the border that tells the verdict, the star rating and colour label, the caption with the
 * subfolder and name (an ellipsis when cut, the whole of it on hover), score and the
 * keep/delete buttons, the error of a bad file; a group's best frame drawn as a stack, with
 * its role and size), and the upload of finished thumbnails to
 * textures with the bounded LRU cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "review.h"

#define PAD 10
#define CAPTION 46
#define BTN_W 44
#define BTN_H 19
#define STACK_STEP 6 /* offset of the frames drawn behind a stack's top */

static int cell_w(const app *a) { return a->thumb + 2 * PAD; }
static int cell_h(const app *a) { return a->thumb + 2 * PAD + CAPTION; }
static int grid_top(void) { return TOPBAR_H + 4; }
static int grid_bottom(const app *a) { return a->h - STATUS_H; }

int grid_columns(app *a)
{
    int c = (a->w - PAD) / cell_w(a);
    return c < 1 ? 1 : c;
}

SDL_Rect grid_tile_rect(app *a, int pos)
{
    int cols = grid_columns(a);
    int margin = (a->w - cols * cell_w(a)) / 2;
    return (SDL_Rect){margin + (pos % cols) * cell_w(a), grid_top() + (pos / cols) * cell_h(a) - a->scroll, cell_w(a),
                      cell_h(a)};
}

static SDL_Rect image_box(app *a, SDL_Rect t) { return (SDL_Rect){t.x + PAD, t.y + PAD, a->thumb, a->thumb}; }
static SDL_Rect keep_btn(app *a, SDL_Rect t)
{
    return (SDL_Rect){t.x + PAD + a->thumb - 2 * BTN_W - 4, t.y + 2 * PAD + a->thumb + 22, BTN_W, BTN_H};
}
static SDL_Rect del_btn(app *a, SDL_Rect t)
{
    return (SDL_Rect){t.x + PAD + a->thumb - BTN_W, t.y + 2 * PAD + a->thumb + 22, BTN_W, BTN_H};
}

static void clamp_scroll(app *a)
{
    int rows = (a->norder + grid_columns(a) - 1) / grid_columns(a);
    int maxs = rows * cell_h(a) + 8 - (grid_bottom(a) - grid_top());
    if (a->scroll > maxs) a->scroll = maxs;
    if (a->scroll < 0) a->scroll = 0;
}

void grid_scroll_to(app *a, int photo)
{
    int pos = order_pos(a, photo);
    if (pos < 0) return;
    SDL_Rect t = grid_tile_rect(a, pos);
    if (t.y < grid_top()) a->scroll -= grid_top() - t.y;
    else if (t.y + t.h > grid_bottom(a)) a->scroll += t.y + t.h - grid_bottom(a);
    clamp_scroll(a);
}

int grid_hit(app *a, int x, int y, int *part)
{
    if (y < grid_top() || y >= grid_bottom(a)) return -1;
    for (int pos = 0; pos < a->norder; pos++) {
        SDL_Rect t = grid_tile_rect(a, pos);
        if (t.y > y) break;
        if (!in_rect(t, x, y)) continue;
        *part = in_rect(keep_btn(a, t), x, y) ? 1 : in_rect(del_btn(a, t), x, y) ? 2 : 0;
        return a->order[pos];
    }
    return -1;
}

void grid_upload(app *a)
{
    int uploaded = 0;
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->th != TH_READY || !p->th_px) continue;
        SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(p->th_px, p->th_w, p->th_h, 24, p->th_w * 3,
                                                            SDL_PIXELFORMAT_RGB24);
        SDL_Texture *t = s ? SDL_CreateTextureFromSurface(a->ren, s) : NULL;
        if (s) SDL_FreeSurface(s);
        free(p->th_px);
        p->th_px = NULL;
        a->pending_uploads--;
        if (!t) {
            p->th = TH_FAILED;
            free(p->th_err);
            p->th_err = strdup("cannot make a texture");
            continue;
        }
        if (p->tex) SDL_DestroyTexture(p->tex);
        else a->cached++;
        p->tex = t;
        p->tex_used = a->frame;
        uploaded++;
    }
    if (uploaded && a->timing && !a->first_thumb_logged) {
        a->first_thumb_logged = 1;
        fprintf(stderr, RPROG ": timing: first thumbnail shown after %llu ms\n", (unsigned long long)(now_ms() - a->t0));
    }
    if (a->timing && !a->all_thumbs_logged && a->n && a->thumbs_done == a->n && a->pending_uploads == 0) {
        a->all_thumbs_logged = 1;
        fprintf(stderr, RPROG ": timing: all %d thumbnails decoded after %llu ms\n", a->n,
                (unsigned long long)(now_ms() - a->t0));
    }
    /* the least recently drawn textures go first; visible ones (drawn this frame) stay */
    while (a->cached > a->cache_cap) {
        int victim = -1;
        for (int i = 0; i < a->n; i++)
            if (a->ph[i].tex && a->ph[i].tex_used + 1 < a->frame &&
                (victim < 0 || a->ph[i].tex_used < a->ph[victim].tex_used))
                victim = i;
        if (victim < 0) break;
        SDL_DestroyTexture(a->ph[victim].tex);
        a->ph[victim].tex = NULL;
        a->ph[victim].th = TH_NONE;
        a->cached--;
    }
}

static void draw_tile(app *a, int i, SDL_Rect t)
{
    photo *p = &a->ph[i];
    SDL_Rect box = image_box(a, t);
    SDL_Color grey = {128, 128, 128, 255}, white = {235, 235, 235, 255}, dim = {160, 160, 160, 255};
    if (i == a->sel) draw_fill(a, t, (SDL_Color){70, 78, 96, 255});
    else if (i == a->hover) draw_fill(a, t, (SDL_Color){52, 56, 64, 255});
    draw_fill(a, box, (SDL_Color){28, 28, 30, 255});

    const char *err = p->th == TH_FAILED ? p->th_err : p->js == J_FAILED ? p->j_err : NULL;
    char group[64];
    const char *stack = p->top == i ? stacks_label(p, group, sizeof group) : NULL; /* a stack's top */
    if (p->tex) {
        p->tex_used = a->frame;
        int w = p->th_w, h = p->th_h, L = w > h ? w : h, side = stack ? a->thumb - 2 * STACK_STEP : a->thumb;
        SDL_Rect d = {0, 0, w * side / L, h * side / L};
        d.x = box.x + (box.w - d.w) / 2;
        d.y = box.y + (box.h - d.h) / 2;
        if (stack) { /* two frames behind it, up and to the right: a stack */
            d.x -= STACK_STEP;
            d.y += STACK_STEP;
            for (int k = 2; k >= 1; k--) {
                SDL_Rect c = {d.x + k * STACK_STEP, d.y - k * STACK_STEP, d.w, d.h};
                draw_fill(a, c, (SDL_Color){(Uint8)(70 + 25 * k), (Uint8)(72 + 25 * k), (Uint8)(80 + 25 * k), 255});
                draw_rect(a, c, (SDL_Color){20, 20, 22, 255}, 1);
            }
        }
        SDL_RenderCopy(a->ren, p->tex, NULL, &d);
    } else if (!err) {
        draw_text(a, a->font_small, "loading...", box.x + 8, box.y + box.h / 2 - 8, dim, box.w - 16);
    }
    if (err) {
        draw_fill(a, box, (SDL_Color){90, 24, 24, 255});
        draw_text(a, a->font, "cannot read", box.x + 6, box.y + 6, white, box.w - 12);
        draw_text_wrapped(a, a->font_small, err, (SDL_Rect){box.x + 6, box.y + 28, box.w - 12, box.h - 34}, white);
    }

    /* the border: solid once marked, dashed while only the network has decided */
    SDL_Rect b = {box.x - 5, box.y - 5, box.w + 10, box.h + 10};
    if (p->mark == MARK_KEEP) draw_rect(a, b, verdict_color(UNSHARP_VERDICT_SHARP), 4);
    else if (p->mark == MARK_DELETE) draw_rect(a, b, verdict_color(UNSHARP_VERDICT_BLURRY), 4);
    else if (p->js == J_DONE) draw_dashed(a, b, verdict_color(p->verdict), 4, 10, 0);
    else if (p->js == J_FAILED) draw_rect(a, b, (SDL_Color){90, 24, 24, 255}, 2);
    else if (a->model_err[0]) draw_dashed(a, b, grey, 4, 10, 0); /* no classifier: nothing moves */
    else { /* pending: the dashes move */
        draw_dashed(a, b, grey, 4, 10, (int)(now_ms() / 30));
        a->animating = 1;
    }

    if (p->mark != MARK_NONE) {
        const char *lbl = p->mark == MARK_KEEP ? "KEEP" : "DELETE";
        SDL_Color c = p->mark == MARK_KEEP ? verdict_color(UNSHARP_VERDICT_SHARP) : verdict_color(UNSHARP_VERDICT_BLURRY);
        SDL_Rect r = {box.x, box.y, text_width(a->font_small, lbl) + 10, 18};
        draw_fill(a, r, c);
        draw_text(a, a->font_small, lbl, r.x + 5, r.y + 1, white, 0);
    }

    /* the group: its role and size, bottom right; blue for those kept whole */
    if (stack) {
        int tw = text_width(a->font_small, group);
        SDL_Rect r = {box.x + box.w - tw - 12, box.y + box.h - 20, tw + 10, 18};
        draw_fill(a, r, unsharp_role_keeps_whole(p->place.role) ? (SDL_Color){50, 100, 190, 255}
                                                                 : (SDL_Color){0, 0, 0, 190});
        draw_text(a, a->font_small, group, r.x + 5, r.y + 1, white, 0);
    }

    /* the star rating and the colour label, top right */
    if (p->label) {
        SDL_Rect r = {box.x + box.w - 16, box.y + 2, 14, 14};
        draw_fill(a, r, label_color(p->label));
        draw_rect(a, r, white, 1);
    }
    if (p->stars > 0) {
        char st[32] = "";
        for (int k = 0; k < p->stars; k++) strcat(st, "\xe2\x98\x85"); /* U+2605 */
        int sw = text_width(a->font, st);
        SDL_Rect r = {box.x + box.w - sw - (p->label ? 24 : 6) - 4, box.y + 1, sw + 8, 18};
        draw_fill(a, r, (SDL_Color){0, 0, 0, 150});
        draw_text(a, a->font, st, r.x + 4, r.y, (SDL_Color){250, 200, 60, 255}, 0);
    }

    /* caption: subfolder (dimmer) and name, then score and verdict, and the two buttons */
    int cy = t.y + 2 * PAD + a->thumb;
    int dirlen = (int)(p->name - p->rel), x = t.x + PAD, room = a->thumb;
    if (dirlen > 0) {
        char dir[512];
        snprintf(dir, sizeof dir, "%.*s", dirlen < 511 ? dirlen : 511, p->rel);
        int dw = text_width(a->font_small, dir), cap = room / 2;
        draw_text_fit(a, a->font_small, dir, x, cy, dim, cap);
        x += dw < cap ? dw : cap;
        room -= dw < cap ? dw : cap;
    }
    draw_text_fit(a, a->font_small, p->name, x, cy, white, room);
    char line[64];
    SDL_Color lc = dim;
    if (p->js == J_DONE) {
        snprintf(line, sizeof line, "%.2f %s", p->sharpness,
                 p->verdict == UNSHARP_VERDICT_SHARP ? "sharp" : p->verdict == UNSHARP_VERDICT_UNSURE ? "unsure" : "blurry");
        lc = verdict_color(p->verdict);
    } else if (p->js == J_FAILED) {
        snprintf(line, sizeof line, "error");
        lc = (SDL_Color){230, 90, 90, 255};
    } else {
        snprintf(line, sizeof line, "judging...");
    }
    draw_text(a, a->font, line, t.x + PAD, cy + 20, lc, a->thumb - 2 * BTN_W - 8);
    SDL_Rect kb = keep_btn(a, t), db = del_btn(a, t);
    draw_button(a, kb, "keep", p->mark == MARK_KEEP ? verdict_color(UNSHARP_VERDICT_SHARP) : (SDL_Color){60, 64, 70, 255},
                white);
    draw_button(a, db, "del", p->mark == MARK_DELETE ? verdict_color(UNSHARP_VERDICT_BLURRY) : (SDL_Color){60, 64, 70, 255},
                white);
    if (i == a->sel) draw_rect(a, t, white, 2);
}

void grid_draw(app *a)
{
    clamp_scroll(a);
    SDL_Rect clip = {0, grid_top(), a->w, grid_bottom(a) - grid_top()};
    SDL_RenderSetClipRect(a->ren, &clip);
    int first = -1, last = -1;
    for (int pos = 0; pos < a->norder; pos++) {
        SDL_Rect t = grid_tile_rect(a, pos);
        if (t.y + t.h < grid_top()) continue;
        if (t.y >= grid_bottom(a)) break;
        if (first < 0) first = pos;
        last = pos;
        draw_tile(a, a->order[pos], t);
    }
    a->vis_first = first;
    a->vis_last = last;
    /* the whole name of the tile under the mouse, when its caption had to cut it */
    int hp = a->hover >= 0 ? order_pos(a, a->hover) : -1;
    if (hp >= 0) {
        SDL_Rect t = grid_tile_rect(a, hp);
        SDL_Rect cap = {t.x, t.y + 2 * PAD + a->thumb - 2, t.w, 20};
        const photo *p = &a->ph[a->hover];
        if (in_rect(cap, a->mouse_x, a->mouse_y) && text_width(a->font_small, p->rel) > a->thumb)
            draw_tooltip(a, p->rel, a->mouse_x, a->mouse_y);
    }
    if (a->norder == 0) {
        const char *msg = !a->folder ? "No folder open: press O to choose one."
                          : a->n == 0 ? "No photos in this folder (O opens another)."
                                      : "No photo matches this filter (F changes it).";
        draw_text(a, a->font_big, msg, 40, grid_top() + 40, (SDL_Color){200, 200, 200, 255}, a->w - 80);
    }
    SDL_RenderSetClipRect(a->ren, NULL);
}

SDL_Rect grid_button_rect(app *a, int pos, int which)
{
    SDL_Rect t = grid_tile_rect(a, pos);
    return which == 1 ? keep_btn(a, t) : which == 2 ? del_btn(a, t) : image_box(a, t);
}
