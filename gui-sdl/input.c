/* input.c: every mouse and keyboard event, real or injected by the test hooks, goes through
 * input_event: overlays first (confirmation, bulk mark, folder browser, help), then the top
 * bar, then the grid, the preview or the compare view. Shift is tracked from its own key
 * events (a click carries no modifiers), so a shift-click is the same whether it comes from
 * a person or a test. Any event asks for a new frame. */
#include <stdio.h>
#include "review.h"

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

/* K, D, U: the mark, then K and D go on to the next photo. */
static void mark_key(app *a, mark_t m)
{
    if (a->view == VIEW_COMPARE) {
        int target = compare_target(a);
        edit_mark(a, target, m);
        if (m != MARK_NONE && a->cmp_side == 1) compare_key(a, SDLK_RIGHT);
        return;
    }
    if (a->sel < 0) return;
    edit_mark(a, a->sel, m);
    if (m != MARK_NONE) move_sel(a, 1);
}

static int dialog_key(app *a, SDL_Keycode s)
{
    int *open = a->confirm ? &a->confirm : a->bulk ? &a->bulk : NULL;
    if (!open) return 0;
    if (s == SDLK_RETURN || s == SDLK_KP_ENTER) {
        *open = 0;
        if (open == &a->confirm) edit_trash(a);
        else bulk_mark(a);
    } else if (s == SDLK_ESCAPE) {
        *open = 0;
    }
    return 1;
}

static void key(app *a, const SDL_KeyboardEvent *k)
{
    SDL_Keycode s = k->keysym.sym;
    int ctrl = (k->keysym.mod & KMOD_CTRL) != 0, shift = (k->keysym.mod & KMOD_SHIFT) != 0 || a->shift_held;
    if (s == SDLK_LSHIFT || s == SDLK_RSHIFT) {
        a->shift_held = 1;
        return;
    }
    if (dialog_key(a, s)) return;
    if (a->browser) {
        browser_key(a, s);
        return;
    }
    if (a->help) {
        if (s == SDLK_ESCAPE || s == SDLK_QUESTION || s == SDLK_F1 || (s == SDLK_SLASH && shift) || s == SDLK_q) a->help = 0;
        return;
    }
    if (a->view == VIEW_COMPARE && !ctrl && compare_key(a, s)) return;
    int cols = a->view == VIEW_GRID ? grid_columns(a) : 1;
    int target = a->view == VIEW_COMPARE ? compare_target(a) : a->sel;
    if (ctrl) {
        if (s == SDLK_z && !shift) hist_undo(a);
        else if (s == SDLK_y || s == SDLK_z) hist_redo(a);
        else if (s >= SDLK_0 && s <= SDLK_5) edit_label(a, target, s - SDLK_0);
        return;
    }
    switch (s) {
    case SDLK_q:
        a->exiting = 1;
        break;
    case SDLK_ESCAPE:
        if (a->view != VIEW_GRID) preview_close(a);
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
        else if (a->view != VIEW_GRID) preview_close(a);
        break;
    case SDLK_k:
        if (shift) stacks_keep_best(a, target); /* the best of its burst, the rest marked delete */
        else mark_key(a, MARK_KEEP);
        break;
    case SDLK_g: if (target >= 0) stacks_open(a, target); break;
    case SDLK_d: case SDLK_DELETE: mark_key(a, MARK_DELETE); break;
    case SDLK_u: mark_key(a, MARK_NONE); break;
    case SDLK_0: case SDLK_1: case SDLK_2: case SDLK_3: case SDLK_4: case SDLK_5:
        edit_stars(a, target, s - SDLK_0);
        break;
    case SDLK_b: bulk_open(a); break;
    case SDLK_c: if (a->sel >= 0) compare_open(a); break;
    case SDLK_t: confirm_open(a); break;
    case SDLK_z: if (a->view != VIEW_GRID) a->zoom100 = !a->zoom100; break;
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

static void grid_click(app *a, int x, int y)
{
    int part = 0, i = grid_hit(a, x, y, &part);
    if (i < 0) return;
    a->sel = i;
    if (part == 0) {
        preview_open(a, i);
        return;
    }
    mark_t m = part == 1 ? MARK_KEEP : MARK_DELETE;
    if (a->shift_held || (SDL_GetModState() & KMOD_SHIFT)) edit_mark_range(a, i, m);
    else edit_mark(a, i, a->ph[i].mark == m ? MARK_NONE : m);
}

void input_event(app *a, const SDL_Event *e)
{
    int seen = 1; /* the event may change what the window shows */
    switch (e->type) {
    case SDL_QUIT:
        a->exiting = 1;
        break;
    case SDL_KEYDOWN:
        key(a, &e->key);
        break;
    case SDL_KEYUP:
        if (e->key.keysym.sym == SDLK_LSHIFT || e->key.keysym.sym == SDLK_RSHIFT) a->shift_held = 0;
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_FOCUS_LOST) a->shift_held = 0;
        break;
    case SDL_MOUSEMOTION:
        a->mouse_x = e->motion.x;
        a->mouse_y = e->motion.y;
        if (a->dragging && a->view != VIEW_GRID && a->zoom100) {
            preview_pan(a, e->motion.x - a->drag_x, e->motion.y - a->drag_y);
            a->drag_x = e->motion.x;
            a->drag_y = e->motion.y;
        }
        break;
    case SDL_MOUSEBUTTONDOWN: {
        int x = e->button.x, y = e->button.y;
        a->mouse_x = x;
        a->mouse_y = y;
        if (a->confirm || a->bulk) {
            if (e->button.button == SDL_BUTTON_LEFT) {
                if (a->confirm) confirm_click(a, x, y);
                else bulk_click(a, x, y);
            }
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
            grid_click(a, x, y);
        } else {
            if (a->view == VIEW_COMPARE) compare_click(a, x, y);
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
        if (e->type == a->wake_event) { /* a background thread has a result */
            pthread_mutex_lock(&a->mu);
            a->woken = 0;
            pthread_mutex_unlock(&a->mu);
        } else {
            seen = 0;
        }
        break;
    }
    if (seen) a->dirty = 1;
}
