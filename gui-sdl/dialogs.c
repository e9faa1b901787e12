/* dialogs.c: the overlays: the help listing the keys, the confirmation of the Trash (which
 * counts what goes: photos, sidecars, RAW files) and the bulk mark ("Mark 347 blurry photos
 * for deletion?"). Each confirms with Enter or its red button and cancels with Escape. */
#include <stdio.h>
#include <string.h>
#include "review.h"

static const SDL_Color WHITE = {235, 235, 235, 255}, GREY = {200, 200, 200, 255}, DIM = {170, 170, 170, 255},
                       RED = {200, 40, 40, 255};

int marked_count(app *a)
{
    int n = 0;
    for (int i = 0; i < a->n; i++) n += a->ph[i].mark == MARK_DELETE && !a->ph[i].trashed;
    return n;
}

static const char *help_lines[] = {
    "Keys",
    "Arrows\tmove between photos",
    "Enter, Space\tpreview the selected photo (a click on a thumbnail does too)",
    "Escape\tback to the grid; close a dialog",
    "K, D\tmark keep / delete, then on to the next photo",
    "U\tclear the mark",
    "Shift+click keep/del\tmark every photo from the last one marked to this one",
    "B\tmark all photos judged blurry (and not marked) for deletion (asks first)",
    "T\tmove the photos marked delete to the Trash, with their sidecars and RAW files",
    "Ctrl+Z, Ctrl+Y\tundo / redo (marks, ratings, labels, the Trash), back to the start",
    "0 .. 5\tstar rating (0 clears)",
    "Ctrl+1 .. Ctrl+5\tcolour label red, yellow, green, blue, purple (again: off)",
    "C\tcompare with the next photo (Tab: the other side; arrows: the right one)",
    "G\ta stack's frames side by side (the best on the left; arrows: the others)",
    "Shift+K\tkeep a burst's best frame, mark the others delete (never a bracket, stack, pano)",
    "H\theat map on / off (preview, compare)",
    "Z, wheel\tfit / 100 % (preview, compare); drag to pan",
    "+, -\tbigger / smaller thumbnails",
    "S, F\tsort by name / score; show all / sharp / unsure / blurry",
    "PgUp, PgDn, Home, End\tscroll the grid (the wheel too)",
    "O\topen another folder",
    "?, F1\tthis help",
    "Q\tquit (marks are saved as you make them)",
    "",
    "Borders: dashed = the network's opinion (green sharp, brown unsure, red blurry,",
    "grey moving = not judged yet); solid = your mark (green keep, red delete).",
};

static void shade(app *a) { draw_fill(a, (SDL_Rect){0, 0, a->w, a->h}, (SDL_Color){0, 0, 0, 160}); }

void help_draw(app *a)
{
    int n = (int)(sizeof help_lines / sizeof *help_lines), lh = TTF_FontLineSkip(a->font) + 2;
    int bw = a->w - 80 > 820 ? 820 : a->w - 80, bh = n * lh + 30;
    SDL_Rect box = {(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
    shade(a);
    draw_fill(a, box, (SDL_Color){40, 44, 52, 255});
    draw_rect(a, box, (SDL_Color){120, 130, 150, 255}, 2);
    for (int k = 0; k < n; k++) {
        char key[64];
        const char *tab = strchr(help_lines[k], '\t');
        int y = box.y + 12 + k * lh;
        if (!tab) {
            draw_text(a, k ? a->font : a->font_big, help_lines[k], box.x + 16, y, WHITE, box.w - 32);
            continue;
        }
        snprintf(key, sizeof key, "%.*s", (int)(tab - help_lines[k]), help_lines[k]);
        draw_text(a, a->font, key, box.x + 16, y, (SDL_Color){140, 200, 255, 255}, 200);
        draw_text_fit(a, a->font, tab + 1, box.x + 226, y, WHITE, box.w - 242);
    }
}

/* A dialog box of height bh with its Cancel and red OK buttons. */
static void dialog_layout(app *a, int bh, SDL_Rect *box, SDL_Rect *cancel, SDL_Rect *ok)
{
    int bw = a->w - 40 < 600 ? a->w - 40 : 600;
    *box = (SDL_Rect){(a->w - bw) / 2, (a->h - bh) / 2, bw, bh};
    *cancel = (SDL_Rect){box->x + bw - 400, box->y + bh - 50, 120, 34};
    *ok = (SDL_Rect){box->x + bw - 266, box->y + bh - 50, 250, 34};
}

static void dialog_frame(app *a, SDL_Rect box, const char *title)
{
    shade(a);
    draw_fill(a, box, (SDL_Color){44, 46, 54, 255});
    draw_rect(a, box, RED, 2);
    draw_text_fit(a, a->font_big, title, box.x + 18, box.y + 16, WHITE, box.w - 36);
}

/* "3 photos, 2 sidecars, 1 RAW file" */
static void plural(char *buf, size_t size, int n, const char *one, const char *many, int first)
{
    size_t len = strlen(buf);
    if (!n && !first) return;
    snprintf(buf + len, size - len, "%s%d %s", first ? "" : ", ", n, n == 1 ? one : many);
}

void confirm_open(app *a)
{
    if (!marked_count(a)) {
        app_set_message(a, "no photo is marked for deletion (D marks one)");
        return;
    }
    trash_count_companions(a);
    a->confirm = 1;
}

void confirm_draw(app *a)
{
    SDL_Rect box, cancel, ok;
    dialog_layout(a, 260, &box, &cancel, &ok);
    int n = marked_count(a);
    char t[160] = "";
    plural(t, sizeof t, a->cf_photos, "photo", "photos", 1);
    plural(t, sizeof t, a->cf_sidecars, "sidecar", "sidecars", 0);
    plural(t, sizeof t, a->cf_raws, "RAW file", "RAW files", 0);
    plural(t, sizeof t, a->cf_other, "other file", "other files", 0);
    char title[200];
    snprintf(title, sizeof title, "Move %s to the Trash?", t);
    dialog_frame(a, box, title);
    int y = box.y + 52, shown = 0;
    for (int i = 0; i < a->n && shown < 4; i++)
        if (a->ph[i].mark == MARK_DELETE && !a->ph[i].trashed) {
            draw_text_fit(a, a->font_small, a->ph[i].rel, box.x + 30, y, GREY, box.w - 60);
            y += 18;
            shown++;
        }
    if (n > shown) {
        snprintf(t, sizeof t, "and %d more", n - shown);
        draw_text(a, a->font_small, t, box.x + 30, y, GREY, 0);
    }
    draw_text_fit(a, a->font_small, "Sidecars (.xmp) and RAW files go with their photo, as with unsharp-classify --trash.",
                  box.x + 18, box.y + box.h - 96, DIM, box.w - 36);
    draw_text_fit(a, a->font_small, "They can be restored from the Trash, or with Undo (Ctrl+Z).", box.x + 18,
                  box.y + box.h - 76, DIM, box.w - 36);
    draw_button(a, cancel, "Cancel (Esc)", (SDL_Color){70, 74, 82, 255}, WHITE);
    snprintf(t, sizeof t, "Move %d to Trash (Enter)", n);
    draw_button(a, ok, t, RED, WHITE);
}

/* A click on a dialog of the given height: OK closes it (*open = 0) and then acts, Cancel
 * closes it, anywhere else does nothing. Always 1: the dialog took the click. */
static int dialog_click(app *a, int height, int *open, void (*act)(app *), int x, int y)
{
    SDL_Rect box, cancel, ok;
    dialog_layout(a, height, &box, &cancel, &ok);
    if (in_rect(ok, x, y)) {
        *open = 0;
        act(a);
    } else if (in_rect(cancel, x, y)) {
        *open = 0;
    }
    return 1;
}

static SDL_Rect dialog_ok_rect(app *a, int height)
{
    SDL_Rect box, cancel, ok;
    dialog_layout(a, height, &box, &cancel, &ok);
    return ok;
}

int confirm_click(app *a, int x, int y) { return dialog_click(a, 260, &a->confirm, edit_trash, x, y); }
SDL_Rect confirm_ok_rect(app *a) { return dialog_ok_rect(a, 260); }

void bulk_open(app *a)
{
    if (!a->bulk_n) {
        app_set_message(a, "no unmarked photo is judged blurry%s", a->judged < a->n ? " yet" : "");
        return;
    }
    a->bulk = 1;
    a->n_bulk++;
}

void bulk_draw(app *a)
{
    SDL_Rect box, cancel, ok;
    dialog_layout(a, 230, &box, &cancel, &ok);
    int n = bulk_count(a), keep = 0, blurry = 0; /* drawn with app.mu held */
    for (int i = 0; i < a->n; i++) {
        photo *p = &a->ph[i];
        if (p->trashed || p->js != J_DONE || p->verdict != UNSHARP_VERDICT_BLURRY) continue;
        blurry++;
        keep += p->mark == MARK_KEEP;
    }
    int pending = a->n - a->judged;
    char t[200];
    snprintf(t, sizeof t, "Mark %d blurry photo%s for deletion?", n, n == 1 ? "" : "s");
    dialog_frame(a, box, t);
    int y = box.y + 56;
    snprintf(t, sizeof t, "%d photo%s judged blurry; the %d without a mark get the delete mark.", blurry,
             blurry == 1 ? " is" : "s are", n);
    draw_text_fit(a, a->font, t, box.x + 24, y, GREY, box.w - 48);
    snprintf(t, sizeof t, "%d you marked keep stay kept; nothing moves until you press T.", keep);
    draw_text_fit(a, a->font, t, box.x + 24, y + 24, GREY, box.w - 48);
    if (pending > 0) {
        snprintf(t, sizeof t, "%d photo%s not judged yet.", pending, pending == 1 ? " is" : "s are");
        draw_text_fit(a, a->font, t, box.x + 24, y + 48, (SDL_Color){240, 200, 120, 255}, box.w - 48);
    }
    draw_button(a, cancel, "Cancel (Esc)", (SDL_Color){70, 74, 82, 255}, WHITE);
    snprintf(t, sizeof t, "Mark %d for deletion (Enter)", n);
    draw_button(a, ok, t, RED, WHITE);
}

int bulk_click(app *a, int x, int y) { return dialog_click(a, 230, &a->bulk, bulk_mark, x, y); }
SDL_Rect bulk_ok_rect(app *a) { return dialog_ok_rect(a, 230); }
