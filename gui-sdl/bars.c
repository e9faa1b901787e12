/* bars.c: the top bar (folder, open, sort, filter, size, undo and the red Trash button), the
 * status bar (progress and counts per verdict), the help overlay and the confirmation dialog
 * of the Trash. */
#include <stdio.h>
#include <string.h>
#include "review.h"

enum { B_OPEN, B_SORT, B_FILTER, B_SMALLER, B_BIGGER, B_UNDO, B_TRASH, B_COUNT };

static const char *filter_names[FILT_COUNT] = {"all", "sharp", "unsure", "blurry"};

int marked_count(app *a)
{
    int n = 0;
    for (int i = 0; i < a->n; i++) n += a->ph[i].mark == MARK_DELETE && !a->ph[i].trashed;
    return n;
}

static void layout(app *a, SDL_Rect r[B_COUNT], char trash_label[64])
{
    int y = 6, h = TOPBAR_H - 12, x = 8;
    int widths[B_COUNT] = {70, 110, 110, 28, 28, 60, 0};
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
    char tl[64], sort[32], filt[32];
    SDL_Color white = {235, 235, 235, 255}, btn = {62, 66, 74, 255};
    layout(a, r, tl);
    draw_fill(a, (SDL_Rect){0, 0, a->w, TOPBAR_H}, (SDL_Color){34, 36, 40, 255});
    snprintf(sort, sizeof sort, "Sort: %s", a->sort == SORT_NAME ? "name" : "score");
    snprintf(filt, sizeof filt, "Show: %s", filter_names[a->filter]);
    draw_button(a, r[B_OPEN], "Open", btn, white);
    draw_button(a, r[B_SORT], sort, btn, white);
    draw_button(a, r[B_FILTER], filt, btn, white);
    draw_button(a, r[B_SMALLER], "-", btn, white);
    draw_button(a, r[B_BIGGER], "+", btn, white);
    draw_button(a, r[B_UNDO], "Undo", a->nundo ? btn : (SDL_Color){44, 46, 52, 255},
                a->nundo ? white : (SDL_Color){110, 110, 110, 255});
    int n = marked_count(a);
    draw_button(a, r[B_TRASH], tl, n ? (SDL_Color){200, 40, 40, 255} : (SDL_Color){110, 50, 50, 255},
                n ? white : (SDL_Color){190, 160, 160, 255});
    int fx = r[B_UNDO].x + r[B_UNDO].w + 12;
    draw_text(a, a->font_small, a->folder ? a->folder : "(no folder)", fx, 13, (SDL_Color){170, 170, 170, 255},
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
    if (*msg) draw_text(a, a->font_small, msg, 8 + lw + 20, y + 6, (SDL_Color){240, 200, 120, 255}, a->w - lw - 40);
}

int bars_click(app *a, int x, int y)
{
    SDL_Rect r[B_COUNT];
    char tl[64];
    if (y >= TOPBAR_H) return 0;
    layout(a, r, tl);
    int k = 0;
    while (k < B_COUNT && !in_rect(r[k], x, y)) k++;
    switch (k) {
    case B_OPEN: browser_open(a, a->folder ? a->folder : "."); break;
    case B_SORT: a->sort = a->sort == SORT_NAME ? SORT_SCORE : SORT_NAME; break;
    case B_FILTER: a->filter = (a->filter + 1) % FILT_COUNT; break;
    case B_SMALLER: a->thumb = a->thumb - 32 < THUMB_MIN ? THUMB_MIN : a->thumb - 32; break;
    case B_BIGGER: a->thumb = a->thumb + 32 > THUMB_MAX ? THUMB_MAX : a->thumb + 32; break;
    case B_UNDO: trash_undo(a); break;
    case B_TRASH:
        if (marked_count(a)) a->confirm = 1;
        else app_set_message(a, "no photo is marked for deletion (D marks one)");
        break;
    default: return 1;
    }
    return 1;
}

static const char *help_lines[] = {
    "Keys",
    "Arrows\tmove between photos",
    "Enter, Space\tpreview the selected photo (a click on a thumbnail does too)",
    "Escape\tback to the grid; close a dialog",
    "K\tmark keep",
    "D, Delete\tmark delete",
    "U\tclear the mark",
    "T\tmove the photos marked delete to the Trash (asks first)",
    "Ctrl+Z\tundo the last move to the Trash",
    "H\theat map on / off (preview)",
    "Z, 1, wheel\tfit / 100 % (preview); drag to pan",
    "+, -\tbigger / smaller thumbnails",
    "S\tsort by name / by score (blurriest first)",
    "F\tshow all / sharp / unsure / blurry",
    "PgUp, PgDn, Home, End\tscroll the grid (the wheel too)",
    "O\topen another folder",
    "?, F1\tthis help",
    "Q, Ctrl+Q\tquit",
    "",
    "Borders: dashed = the network's opinion (green sharp, brown unsure, red blurry,",
    "grey moving = not judged yet); solid = your mark (green keep, red delete).",
    "Mouse: click a photo to preview it; 'keep' and 'del' under it mark it.",
};

void help_draw(app *a)
{
    int n = (int)(sizeof help_lines / sizeof *help_lines), lh = TTF_FontLineSkip(a->font) + 2;
    int bw = a->w - 80 > 760 ? 760 : a->w - 80, bh = n * lh + 30;
    SDL_Rect box = {(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
    draw_fill(a, (SDL_Rect){0, 0, a->w, a->h}, (SDL_Color){0, 0, 0, 150});
    draw_fill(a, box, (SDL_Color){40, 44, 52, 255});
    draw_rect(a, box, (SDL_Color){120, 130, 150, 255}, 2);
    for (int k = 0; k < n; k++) {
        char key[64];
        const char *tab = strchr(help_lines[k], '\t');
        SDL_Color c = {235, 235, 235, 255};
        int y = box.y + 12 + k * lh;
        if (!tab) {
            draw_text(a, k ? a->font : a->font_big, help_lines[k], box.x + 16, y, c, box.w - 32);
            continue;
        }
        snprintf(key, sizeof key, "%.*s", (int)(tab - help_lines[k]), help_lines[k]);
        draw_text(a, a->font, key, box.x + 16, y, (SDL_Color){140, 200, 255, 255}, 200);
        draw_text(a, a->font, tab + 1, box.x + 226, y, c, box.w - 242);
    }
}

static void confirm_layout(app *a, SDL_Rect *box, SDL_Rect *cancel, SDL_Rect *ok)
{
    int bw = 520, bh = 230;
    *box = (SDL_Rect){(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
    *cancel = (SDL_Rect){box->x + bw - 370, box->y + bh - 50, 120, 34};
    *ok = (SDL_Rect){box->x + bw - 236, box->y + bh - 50, 220, 34};
}

void confirm_draw(app *a)
{
    SDL_Rect box, cancel, ok;
    confirm_layout(a, &box, &cancel, &ok);
    SDL_Color white = {235, 235, 235, 255};
    int n = marked_count(a);
    draw_fill(a, (SDL_Rect){0, 0, a->w, a->h}, (SDL_Color){0, 0, 0, 160});
    draw_fill(a, box, (SDL_Color){44, 46, 54, 255});
    draw_rect(a, box, (SDL_Color){200, 40, 40, 255}, 2);
    char t[128];
    snprintf(t, sizeof t, "Move %d photo%s to the Trash?", n, n == 1 ? "" : "s");
    draw_text(a, a->font_big, t, box.x + 18, box.y + 16, white, box.w - 36);
    int y = box.y + 52, shown = 0;
    for (int i = 0; i < a->n && shown < 4; i++)
        if (a->ph[i].mark == MARK_DELETE && !a->ph[i].trashed) {
            draw_text(a, a->font_small, a->ph[i].name, box.x + 30, y, (SDL_Color){200, 200, 200, 255}, box.w - 60);
            y += 18;
            shown++;
        }
    if (n > shown) {
        snprintf(t, sizeof t, "and %d more", n - shown);
        draw_text(a, a->font_small, t, box.x + 30, y, (SDL_Color){200, 200, 200, 255}, 0);
    }
    draw_text(a, a->font_small, "They can be restored from the Trash, or with Undo (Ctrl+Z).", box.x + 18,
              box.y + box.h - 76, (SDL_Color){170, 170, 170, 255}, box.w - 36);
    draw_button(a, cancel, "Cancel (Esc)", (SDL_Color){70, 74, 82, 255}, white);
    snprintf(t, sizeof t, "Move %d to Trash (Enter)", n);
    draw_button(a, ok, t, (SDL_Color){200, 40, 40, 255}, white);
}

int confirm_click(app *a, int x, int y)
{
    SDL_Rect box, cancel, ok;
    confirm_layout(a, &box, &cancel, &ok);
    if (in_rect(ok, x, y)) {
        a->confirm = 0;
        trash_marked(a);
    } else if (in_rect(cancel, x, y)) {
        a->confirm = 0;
    }
    return 1;
}

SDL_Rect bars_trash_rect(app *a)
{
    SDL_Rect r[B_COUNT];
    char tl[64];
    layout(a, r, tl);
    return r[B_TRASH];
}

SDL_Rect confirm_ok_rect(app *a)
{
    SDL_Rect box, cancel, ok;
    confirm_layout(a, &box, &cancel, &ok);
    return ok;
}
