/* input.c: every mouse and keyboard event, real or injected by the test hooks, goes through
 * input_event: overlays first (confirmation, folder browser, help), then the top bar, then
 * the grid or the preview. */
#include <stdio.h>
#include "review.h"

void mark_photo(app *a, int photo, mark_t m)
{
    if (photo < 0 || photo >= a->n || a->ph[photo].trashed) return;
    a->ph[photo].mark = m;
}

/* Moves the selection by delta places in the view order. */
static void move_sel(app *a, int delta)
{
    if (!a->norder) return;
    int pos = order_pos(a, a->sel);
    if (pos < 0) pos = 0;
    else pos += delta;
    if (pos < 0) pos = 0;
    if (pos >= a->norder) pos = a->norder - 1;
    a->sel = a->order[pos];
    if (a->view == VIEW_PREVIEW) preview_open(a, a->sel);
    else grid_scroll_to(a, a->sel);
}

static void key(app *a, const SDL_KeyboardEvent *k)
{
    SDL_Keycode s = k->keysym.sym;
    int ctrl = (k->keysym.mod & KMOD_CTRL) != 0, shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (a->confirm) {
        if (s == SDLK_RETURN || s == SDLK_KP_ENTER) {
            a->confirm = 0;
            trash_marked(a);
        } else if (s == SDLK_ESCAPE) {
            a->confirm = 0;
        }
        return;
    }
    if (a->browser) {
        browser_key(a, s);
        return;
    }
    if (a->help) {
        if (s == SDLK_ESCAPE || s == SDLK_QUESTION || s == SDLK_F1 || (s == SDLK_SLASH && shift) || s == SDLK_q) a->help = 0;
        return;
    }
    int cols = a->view == VIEW_GRID ? grid_columns(a) : 1;
    switch (s) {
    case SDLK_q:
        a->exiting = 1;
        break;
    case SDLK_ESCAPE:
        if (a->view == VIEW_PREVIEW) preview_close(a);
        break;
    case SDLK_QUESTION: case SDLK_F1: a->help = 1; break;
    case SDLK_SLASH: if (shift) a->help = 1; break;
    case SDLK_LEFT: move_sel(a, -1); break;
    case SDLK_RIGHT: move_sel(a, 1); break;
    case SDLK_UP: move_sel(a, -cols); break;
    case SDLK_DOWN: move_sel(a, cols); break;
    case SDLK_HOME: if (a->norder) { a->sel = a->order[0]; move_sel(a, 0); } break;
    case SDLK_END: if (a->norder) { a->sel = a->order[a->norder - 1]; move_sel(a, 0); } break;
    case SDLK_PAGEUP: a->scroll -= a->h - TOPBAR_H - STATUS_H; break;
    case SDLK_PAGEDOWN: a->scroll += a->h - TOPBAR_H - STATUS_H; break;
    case SDLK_RETURN: case SDLK_KP_ENTER: case SDLK_SPACE:
        if (a->view == VIEW_GRID && a->sel >= 0) preview_open(a, a->sel);
        else if (a->view == VIEW_PREVIEW) preview_close(a);
        break;
    case SDLK_k: mark_photo(a, a->sel, MARK_KEEP); break;
    case SDLK_d: case SDLK_DELETE: mark_photo(a, a->sel, MARK_DELETE); break;
    case SDLK_u: mark_photo(a, a->sel, MARK_NONE); break;
    case SDLK_t:
        if (marked_count(a)) a->confirm = 1;
        else app_set_message(a, "no photo is marked for deletion (D marks one)");
        break;
    case SDLK_z:
        if (ctrl) trash_undo(a);
        else if (a->view == VIEW_PREVIEW) a->zoom100 = !a->zoom100;
        break;
    case SDLK_1: if (a->view == VIEW_PREVIEW) a->zoom100 = !a->zoom100; break;
    case SDLK_h: a->heat = !a->heat; break;
    case SDLK_s: a->sort = a->sort == SORT_NAME ? SORT_SCORE : SORT_NAME; break;
    case SDLK_f: a->filter = (a->filter + 1) % FILT_COUNT; break;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS:
        a->thumb = a->thumb + 32 > THUMB_MAX ? THUMB_MAX : a->thumb + 32;
        break;
    case SDLK_MINUS: case SDLK_KP_MINUS:
        a->thumb = a->thumb - 32 < THUMB_MIN ? THUMB_MIN : a->thumb - 32;
        break;
    case SDLK_o: browser_open(a, a->folder ? a->folder : "."); break;
    default: break;
    }
}

void input_event(app *a, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT:
        a->exiting = 1;
        break;
    case SDL_KEYDOWN:
        key(a, &e->key);
        break;
    case SDL_MOUSEMOTION:
        a->mouse_x = e->motion.x;
        a->mouse_y = e->motion.y;
        if (a->dragging && a->view == VIEW_PREVIEW && a->zoom100) {
            a->pan_x -= e->motion.x - a->drag_x;
            a->pan_y -= e->motion.y - a->drag_y;
            a->drag_x = e->motion.x;
            a->drag_y = e->motion.y;
        }
        break;
    case SDL_MOUSEBUTTONDOWN: {
        int x = e->button.x, y = e->button.y;
        a->mouse_x = x;
        a->mouse_y = y;
        if (a->confirm) {
            if (e->button.button == SDL_BUTTON_LEFT) confirm_click(a, x, y);
            break;
        }
        if (a->browser) {
            if (e->button.button == SDL_BUTTON_LEFT) browser_click(a, x, y, e->button.clicks);
            break;
        }
        if (a->help) {
            a->help = 0;
            break;
        }
        if (e->button.button != SDL_BUTTON_LEFT) break;
        if (bars_click(a, x, y)) break;
        if (a->view == VIEW_GRID) {
            int part = 0, i = grid_hit(a, x, y, &part);
            if (i < 0) break;
            a->sel = i;
            if (part == 1) mark_photo(a, i, a->ph[i].mark == MARK_KEEP ? MARK_NONE : MARK_KEEP);
            else if (part == 2) mark_photo(a, i, a->ph[i].mark == MARK_DELETE ? MARK_NONE : MARK_DELETE);
            else preview_open(a, i);
        } else {
            a->dragging = 1;
            a->drag_x = x;
            a->drag_y = y;
        }
        break;
    }
    case SDL_MOUSEBUTTONUP:
        a->dragging = 0;
        break;
    case SDL_MOUSEWHEEL:
        if (a->browser) browser_wheel(a, e->wheel.y);
        else if (a->view == VIEW_GRID) a->scroll -= e->wheel.y * 60;
        else if (e->wheel.y) a->zoom100 = e->wheel.y > 0;
        break;
    default:
        break;
    }
}
