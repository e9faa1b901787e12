/* compare.c: two photos side by side at the same zoom and the same place (the loupe for
 * picking between near-duplicates): the selected photo on the left, the next one in the view
 * order on the right. Tab (or a click) picks the side that K, D, U, the stars and labels act
 * on; Left / Right step the right-hand photo through the others; Z, the wheel and a drag zoom
 * and pan both; C or Escape go back. G opens a group's frames here (stacks.c). */
#include "review.h"

static void set_other(app *a, int photo)
{
    a->cmp_other = photo;
    preview_want(a, 1, photo);
}

/* The next photo after from in view order, skipping the left one, stepping by dir; only the
 * frames of the stack opened with G while one is (stacks.c). */
static int step_from(app *a, int from, int dir)
{
    int pos = order_pos(a, from);
    for (int k = 1; k <= a->norder; k++) {
        int q = pos + dir * k;
        if (q < 0 || q >= a->norder) return -1;
        int i = a->order[q];
        if (i != a->sel && (a->open_top < 0 || (a->ph[i].place.size > 1 && a->ph[i].top == a->open_top))) return i;
    }
    return -1;
}

void compare_open(app *a)
{
    int other = step_from(a, a->sel, 1);
    if (other < 0) other = step_from(a, a->sel, -1);
    if (other < 0) {
        app_set_message(a, "compare needs two photos in the grid");
        return;
    }
    if (a->view == VIEW_GRID) {
        a->zoom100 = 0;
        a->pan_x = a->pan_y = 0.5;
    }
    a->view = VIEW_COMPARE;
    a->cmp_side = 0;
    a->n_compare++;
    preview_want(a, 0, a->sel);
    set_other(a, other);
}

int compare_target(app *a) { return a->cmp_side ? a->cmp_other : a->sel; }

int compare_key(app *a, SDL_Keycode k)
{
    int other;
    switch (k) {
    case SDLK_TAB: a->cmp_side = !a->cmp_side; return 1;
    case SDLK_c: case SDLK_ESCAPE: preview_close(a); return 1;
    case SDLK_RIGHT: case SDLK_DOWN:
        if ((other = step_from(a, a->cmp_other, 1)) >= 0) set_other(a, other);
        return 1;
    case SDLK_LEFT: case SDLK_UP:
        if ((other = step_from(a, a->cmp_other, -1)) >= 0) set_other(a, other);
        return 1;
    default: return 0;
    }
}

static SDL_Rect half(app *a, int side)
{
    int top = TOPBAR_H + 30, hgt = a->h - STATUS_H - top - 22, w = (a->w - 6) / 2;
    return (SDL_Rect){side ? a->w - w : 0, top, w, hgt};
}

void compare_click(app *a, int x, int y)
{
    if (in_rect(half(a, 0), x, y)) a->cmp_side = 0;
    else if (in_rect(half(a, 1), x, y)) a->cmp_side = 1;
}

void compare_draw(app *a)
{
    draw_fill(a, (SDL_Rect){0, TOPBAR_H, a->w, a->h - TOPBAR_H - STATUS_H}, (SDL_Color){10, 10, 12, 255});
    draw_fill(a, (SDL_Rect){0, TOPBAR_H, a->w, 30}, (SDL_Color){40, 42, 48, 255});
    for (int side = 0; side < 2; side++) {
        int i = side ? a->cmp_other : a->sel;
        SDL_Rect r = half(a, side);
        photo_draw(a, side, i, r, side == a->cmp_side);
        if (side == a->cmp_side) draw_fill(a, (SDL_Rect){r.x, TOPBAR_H + 27, r.w, 3}, (SDL_Color){140, 200, 255, 255});
        preview_title(a, i, r.x, r.w);
    }
    preview_legend(a);
}
