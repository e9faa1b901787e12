/* bars.c: the top bar (open, sort, filter, size, undo, redo, the bulk mark of the blurry
 * photos with its count, the folder, and the red Trash button) and the status bar (progress,
 * counts per verdict and of the marks, the last message). */
#include <stdio.h>
#include <string.h>
#include "review.h"

enum { B_OPEN, B_SORT, B_FILTER, B_SMALLER, B_BIGGER, B_UNDO, B_REDO, B_BULK, B_TRASH, B_COUNT };

static const char *filter_names[FILT_COUNT] = {"all", "sharp", "unsure", "blurry"};

/* The buttons' places; the labels with counts are filled in too. */
static void layout(app *a, SDL_Rect r[B_COUNT], char trash_label[64], char bulk_label[64])
{
    int y = 6, h = TOPBAR_H - 12, x = 8;
    snprintf(bulk_label, 64, "Mark %d blurry for deletion", a->bulk_n);
    int widths[B_COUNT] = {56, 100, 100, 28, 28, 52, 52, text_width(a->font, bulk_label) + 20, 0};
    for (int k = 0; k < B_TRASH; k++) {
        r[k] = (SDL_Rect){x, y, widths[k], h};
        x += widths[k] + 6;
    }
    snprintf(trash_label, 64, "Move %d to Trash", marked_count(a));
    int tw = text_width(a->font, trash_label) + 24;
    r[B_TRASH] = (SDL_Rect){a->w - tw - 8, y, tw, h};
}

void bars_draw(app *a)
{
    SDL_Rect r[B_COUNT];
    char tl[64], bl[64], sort[32], filt[32];
    SDL_Color white = {235, 235, 235, 255}, btn = {62, 66, 74, 255}, off = {44, 46, 52, 255}, offt = {110, 110, 110, 255};
    layout(a, r, tl, bl);
    draw_fill(a, (SDL_Rect){0, 0, a->w, TOPBAR_H}, (SDL_Color){34, 36, 40, 255});
    snprintf(sort, sizeof sort, "Sort: %s", a->sort == SORT_NAME ? "name" : "score");
    snprintf(filt, sizeof filt, "Show: %s", filter_names[a->filter]);
    draw_button(a, r[B_OPEN], "Open", btn, white);
    draw_button(a, r[B_SORT], sort, btn, white);
    draw_button(a, r[B_FILTER], filt, btn, white);
    draw_button(a, r[B_SMALLER], "-", btn, white);
    draw_button(a, r[B_BIGGER], "+", btn, white);
    draw_button(a, r[B_UNDO], "Undo", a->hist_pos ? btn : off, a->hist_pos ? white : offt);
    draw_button(a, r[B_REDO], "Redo", a->hist_pos < a->nhist ? btn : off, a->hist_pos < a->nhist ? white : offt);
    int nb = a->bulk_n;
    draw_button(a, r[B_BULK], bl, nb ? (SDL_Color){150, 60, 50, 255} : off, nb ? white : offt);
    int n = marked_count(a);
    draw_button(a, r[B_TRASH], tl, n ? (SDL_Color){200, 40, 40, 255} : (SDL_Color){110, 50, 50, 255},
                n ? white : (SDL_Color){190, 160, 160, 255});
    int fx = r[B_BULK].x + r[B_BULK].w + 12;
    draw_text_fit(a, a->font_small, a->folder ? a->folder : "(no folder)", fx, 13, (SDL_Color){170, 170, 170, 255},
              r[B_TRASH].x - fx - 12);

    /* status bar */
    int c[3] = {0, 0, 0}, errors = 0, keep = 0, del = 0, shown = 0;
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->trashed) continue;
        shown++;
        if (p->js == J_DONE) c[p->verdict]++;
        errors += p->js == J_FAILED;
        keep += p->mark == MARK_KEEP;
        del += p->mark == MARK_DELETE;
    }
    int done = c[0] + c[1] + c[2] + errors;
    char line[512];
    snprintf(line, sizeof line, "%d of %d classified   sharp %d   unsure %d   blurry %d   errors %d   |   keep %d   delete %d",
             done, shown, c[0], c[1], c[2], errors, keep, del);
    int y = a->h - STATUS_H;
    draw_fill(a, (SDL_Rect){0, y, a->w, STATUS_H}, (SDL_Color){34, 36, 40, 255});
    if (shown) draw_fill(a, (SDL_Rect){0, y, (int)((long)a->w * done / shown), 3}, (SDL_Color){80, 140, 220, 255});
    int lw = draw_text(a, a->font_small, line, 8, y + 6, white, a->w - 16);
    const char *msg = a->model_err[0] ? a->model_err : now_ms() < a->message_until ? a->message : "";
    if (*msg) draw_text_fit(a, a->font_small, msg, 8 + lw + 20, y + 6, (SDL_Color){240, 200, 120, 255}, a->w - lw - 40);
}

int bars_click(app *a, int x, int y)
{
    SDL_Rect r[B_COUNT];
    char tl[64], bl[64];
    if (y >= TOPBAR_H) return 0;
    layout(a, r, tl, bl);
    int k = 0;
    while (k < B_COUNT && !in_rect(r[k], x, y)) k++;
    switch (k) {
    case B_OPEN: browser_open(a, a->folder ? a->folder : "."); break;
    case B_SORT: a->sort = a->sort == SORT_NAME ? SORT_SCORE : SORT_NAME; break;
    case B_FILTER: a->filter = (a->filter + 1) % FILT_COUNT; break;
    case B_SMALLER: a->thumb = a->thumb - 32 < THUMB_MIN ? THUMB_MIN : a->thumb - 32; break;
    case B_BIGGER: a->thumb = a->thumb + 32 > THUMB_MAX ? THUMB_MAX : a->thumb + 32; break;
    case B_UNDO: hist_undo(a); break;
    case B_REDO: hist_redo(a); break;
    case B_BULK: bulk_open(a); break;
    case B_TRASH: confirm_open(a); break;
    default: return 1;
    }
    return 1;
}

SDL_Rect bars_trash_rect(app *a)
{
    SDL_Rect r[B_COUNT];
    char tl[64], bl[64];
    layout(a, r, tl, bl);
    return r[B_TRASH];
}

SDL_Rect bars_bulk_rect(app *a)
{
    SDL_Rect r[B_COUNT];
    char tl[64], bl[64];
    layout(a, r, tl, bl);
    return r[B_BULK];
}

