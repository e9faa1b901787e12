/* testhooks.c: what the tests drive the window with. --test-script FILE runs one command a
 * line (docs/review.md lists them); clicks and keys are pushed into SDL's event queue, so they
 * go through the same handling as real input; expect-* lines check what the window holds. --monkey N pushes N random mouse and keyboard
 * events (never the quit key, and the folder browser stays inside the starting folder).
 * Screenshots are read back from the renderer and written as PNG with libpng. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "review.h"

#define WAIT_LIMIT_MS 120000

static char **lines;
static int nlines, cur, failed;
static uint64_t wait_since, sleep_until;
static char shot[1024];

int script_failed(void) { return failed; }

int script_active(void) { return lines && cur < nlines; }

void script_free(void)
{
    for (int k = 0; k < nlines; k++) free(lines[k]);
    free(lines);
    lines = NULL;
    nlines = 0;
}

int script_load(app *a, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, RPROG ": cannot read the test script %s\n", path);
        return -1;
    }
    char buf[2048];
    while (fgets(buf, sizeof buf, f)) {
        buf[strcspn(buf, "\r\n")] = 0;
        char *s = buf;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        char **g = realloc(lines, (size_t)(nlines + 1) * sizeof *g);
        if (!g) break;
        lines = g;
        if ((lines[nlines] = strdup(s))) nlines++;
    }
    fclose(f);
    a->script = path;
    return 0;
}

static void push_click(int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEMOTION;
    e.motion.x = x;
    e.motion.y = y;
    SDL_PushEvent(&e);
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.state = SDL_PRESSED;
    e.button.clicks = 1;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
    e.type = SDL_MOUSEBUTTONUP;
    e.button.state = SDL_RELEASED;
    SDL_PushEvent(&e);
}

static void push_key(SDL_Keycode k, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(k);
    e.key.keysym.mod = mod;
    SDL_PushEvent(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
}

static int center_click(SDL_Rect r)
{
    push_click(r.x + r.w / 2, r.y + r.h / 2);
    return 1;
}

static int bad(const char *line, const char *why)
{
    fprintf(stderr, RPROG ": test script line '%s': %s\n", line, why);
    failed = 1;
    return -1;
}

/* A click with Shift held: the key goes down, the click, the key comes up, all queued. */
static int shift_click(SDL_Rect r)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = SDLK_LSHIFT;
    e.key.keysym.scancode = SDL_SCANCODE_LSHIFT;
    SDL_PushEvent(&e);
    center_click(r);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
    return 1;
}

static int find_photo(app *a, const char *rel)
{
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->ph[i].rel, rel)) return i;
    return -1;
}

/* expect-mark REL keep|delete|none, expect-stars REL N, expect-label REL N, expect-photos N,
 * expect-selected REL:
 * what the window holds now; a mismatch fails the script. */
static int expect(app *a, const char *line, const char *cmd, const char *arg)
{
    char rel[1024], want[64];
    if (!strcmp(cmd, "expect-photos")) {
        int shown = 0;
        for (int i = 0; i < a->n; i++) shown += !a->ph[i].trashed;
        pthread_mutex_lock(&a->mu);
        order_update(a); /* as the next frame will show it */
        pthread_mutex_unlock(&a->mu);
        if (shown != atoi(arg) || a->norder != shown) {
            fprintf(stderr, RPROG ": expected %d photos, the window has %d (%d in the grid)\n", atoi(arg), shown, a->norder);
            return bad(line, "a different number of photos");
        }
        return 1;
    }
    if (!strcmp(cmd, "expect-shown")) { /* tiles in the grid: a stack is one */
        pthread_mutex_lock(&a->mu);
        order_update(a);
        pthread_mutex_unlock(&a->mu);
        if (a->norder != atoi(arg)) {
            fprintf(stderr, RPROG ": the grid shows %d tiles\n", a->norder);
            return bad(line, "a different number of tiles");
        }
        return 1;
    }
    if (!strcmp(cmd, "expect-view")) { /* grid, preview, or compare LEFT RIGHT */
        char v[16] = "", l[1024] = "", r[1024] = "";
        const char *views[] = {"grid", "preview", "compare"};
        int got = sscanf(arg, "%15s %1023s %1023s", v, l, r);
        int ok = !strcmp(views[a->view], v);
        if (ok && got == 3)
            ok = a->sel >= 0 && a->cmp_other >= 0 && !strcmp(a->ph[a->sel].rel, l) && !strcmp(a->ph[a->cmp_other].rel, r);
        if (!ok) {
            fprintf(stderr, RPROG ": the view is %s (%s, %s)\n", views[a->view], a->sel >= 0 ? a->ph[a->sel].rel : "-",
                    a->view == VIEW_COMPARE && a->cmp_other >= 0 ? a->ph[a->cmp_other].rel : "-");
            return bad(line, "another view");
        }
        return 1;
    }
    if (!strcmp(cmd, "expect-stack")) { /* REL N ROLE: REL's group has N frames, that role,
                                           and the grid shows it as one tile, its best on top */
        char rel[1024], role[32], g[64];
        int size = 0;
        if (sscanf(arg, "%1023s %d %31s", rel, &size, role) != 3) return bad(line, "needs a photo, a size and a role");
        int i = find_photo(a, rel);
        if (i < 0) return bad(line, "no such photo in the window");
        pthread_mutex_lock(&a->mu);
        order_update(a);
        pthread_mutex_unlock(&a->mu);
        int tiles = 0, top = a->ph[i].top;
        for (int k = 0; k < a->norder; k++) tiles += a->ph[a->order[k]].place.size > 1 && a->ph[a->order[k]].top == top;
        const char *lbl = stacks_label(&a->ph[i], g, sizeof g);
        char want[64];
        snprintf(want, sizeof want, "%s %d", role, size);
        if (!lbl || strcmp(lbl, want) != 0 || tiles != 1 || order_pos(a, top) < 0 || a->ph[top].place.rank != 1) {
            fprintf(stderr, RPROG ": %s: %s, %d tile%s, top %s\n", rel, lbl ? lbl : "no group", tiles, tiles == 1 ? "" : "s",
                    a->ph[top].rel);
            return bad(line, "not that stack");
        }
        return 1;
    }
    if (!strcmp(cmd, "expect-top")) { /* REL is its stack's top (its group's best frame) */
        int i = find_photo(a, arg);
        if (i < 0) return bad(line, "no such photo in the window");
        if (a->ph[i].top != i || a->ph[i].place.size < 2) return bad(line, "not the top of a stack");
        return 1;
    }
    if (!strcmp(cmd, "expect-selected")) {
        if (a->sel < 0 || strcmp(a->ph[a->sel].rel, arg) != 0) {
            fprintf(stderr, RPROG ": the selected photo is %s\n", a->sel < 0 ? "none" : a->ph[a->sel].rel);
            return bad(line, "another photo is selected");
        }
        return 1;
    }
    if (sscanf(arg, "%1023s %63s", rel, want) != 2) return bad(line, "needs a photo and a value");
    int i = find_photo(a, rel);
    if (i < 0) return bad(line, "no such photo in the window");
    const photo *p = &a->ph[i];
    const char *marks[] = {"none", "keep", "delete"};
    int ok = !strcmp(cmd, "expect-mark") ? !strcmp(marks[p->mark], want)
             : !strcmp(cmd, "expect-stars") ? p->stars == atoi(want)
                                            : p->label == atoi(want);
    if (!ok) {
        fprintf(stderr, RPROG ": %s: mark %s, stars %d, label %d\n", p->rel, marks[p->mark], p->stars, p->label);
        return bad(line, "the photo does not have that value");
    }
    return 1;
}

/* Runs one line: 1 = done, go on next frame; 0 = still waiting; -1 = failed. */
static int run_line(app *a, const char *line)
{
    char cmd[64] = "", arg[1024] = "";
    int x = 0, y = 0;
    sscanf(line, "%63s %1023[^\n]", cmd, arg);
    pthread_mutex_lock(&a->mu);
    int thumbs = a->thumbs_done, judged = a->judged, pend = a->pending_uploads;
    int pv = preview_ready(a, 0, a->sel), pv2 = preview_ready(a, 1, a->cmp_other); /* shown, or failed */
    pthread_mutex_unlock(&a->mu);
    if (!strcmp(cmd, "wait-thumbs")) return thumbs == a->n && pend == 0;
    if (!strcmp(cmd, "wait-classified")) return judged == a->n;
    if (!strcmp(cmd, "wait-grouped")) return stacks_ready(a);
    if (!strcmp(cmd, "wait-preview")) return (a->view == VIEW_PREVIEW && pv) || (a->view == VIEW_COMPARE && pv && pv2);
    if (!strncmp(cmd, "expect-", 7)) return expect(a, line, cmd, arg);
    if (!strcmp(cmd, "sleep")) {
        if (!sleep_until) sleep_until = now_ms() + (uint64_t)atoi(arg);
        if (now_ms() < sleep_until) return 0;
        sleep_until = 0;
        return 1;
    }
    if (!strcmp(cmd, "click")) {
        if (sscanf(arg, "%d %d", &x, &y) != 2) return bad(line, "needs X Y");
        push_click(x, y);
        return 1;
    }
    if (!strcmp(cmd, "click-thumb") || !strcmp(cmd, "click-keep") || !strcmp(cmd, "click-del")) {
        int pos = atoi(arg);
        if (pos < 0 || pos >= a->norder) return bad(line, "no such thumbnail in the grid");
        grid_scroll_to(a, a->order[pos]);
        SDL_Rect r = grid_button_rect(a, pos, cmd[6] == 'k' ? 1 : cmd[6] == 'd' ? 2 : 0);
        return strstr(arg, "shift") ? shift_click(r) : center_click(r);
    }
    if (!strcmp(cmd, "hover-name")) { /* the mouse onto the N-th tile's name */
        int pos = atoi(arg);
        if (pos < 0 || pos >= a->norder) return bad(line, "no such thumbnail in the grid");
        grid_scroll_to(a, a->order[pos]);
        SDL_Rect r = grid_button_rect(a, pos, 0);
        SDL_Event e;
        memset(&e, 0, sizeof e);
        e.type = SDL_MOUSEMOTION;
        e.motion.x = r.x + 20;
        e.motion.y = r.y + r.h + 18;
        SDL_PushEvent(&e);
        return 1;
    }
    if (!strcmp(cmd, "click-trash")) return center_click(bars_trash_rect(a));
    if (!strcmp(cmd, "click-bulk")) return center_click(bars_bulk_rect(a));
    if (!strcmp(cmd, "click-confirm")) {
        if (!a->confirm && !a->bulk) return bad(line, "no confirmation dialog is open");
        return center_click(a->confirm ? confirm_ok_rect(a) : bulk_ok_rect(a));
    }
    if (!strcmp(cmd, "key")) {
        Uint16 mod = 0;
        char *k = arg;
        for (;;) {
            if (!strncmp(k, "ctrl+", 5)) mod |= KMOD_LCTRL, k += 5;
            else if (!strncmp(k, "shift+", 6)) mod |= KMOD_LSHIFT, k += 6;
            else break;
        }
        SDL_Keycode code = strlen(k) == 1 ? (SDL_Keycode)(unsigned char)k[0] : SDL_GetKeyFromName(k);
        if (code == SDLK_UNKNOWN) return bad(line, "unknown key name");
        push_key(code, mod);
        return 1;
    }
    if (!strcmp(cmd, "screenshot")) {
        snprintf(shot, sizeof shot, "%s", arg);
        return 1;
    }
    if (!strcmp(cmd, "quit")) {
        a->exiting = 1;
        return 1;
    }
    return bad(line, "unknown command");
}

int script_step(app *a)
{
    if (!lines || a->exiting) return 0;
    while (cur < nlines) {
        if (!wait_since) wait_since = now_ms();
        int r = run_line(a, lines[cur]);
        if (r < 0) {
            a->exiting = 1;
            return 1;
        }
        if (r == 0) {
            /* a wait may name its own limit in seconds: "wait-thumbs 600" */
            char cmd[64] = "";
            long secs = 0;
            uint64_t limit = sscanf(lines[cur], "%63s %ld", cmd, &secs) == 2 && secs > 0 ? (uint64_t)secs * 1000 : WAIT_LIMIT_MS;
            if (now_ms() - wait_since > limit) {
                bad(lines[cur], "timed out");
                a->exiting = 1;
                return 1;
            }
            return 0;
        }
        cur++;
        wait_since = 0;
        /* after an event or a screenshot request, let a frame go by */
        if (strncmp(lines[cur - 1], "wait", 4) != 0) return 0;
    }
    return 0;
}

int screenshot_due(app *a, char *path, size_t size)
{
    (void)a;
    if (!shot[0]) return 0;
    snprintf(path, size, "%s", shot);
    shot[0] = 0;
    return 1;
}

int screenshot_save(app *a, const char *path)
{
    int w = 0, h = 0;
    SDL_GetRendererOutputSize(a->ren, &w, &h);
    unsigned char *px = malloc((size_t)w * h * 3);
    if (!px) return -1;
    if (SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_RGB24, px, w * 3) != 0) {
        fprintf(stderr, RPROG ": cannot read the window back: %s\n", SDL_GetError());
        free(px);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    png_structp png = f ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = -1;
    if (info && !setjmp(png_jmpbuf(png))) {
        png_init_io(png, f);
        png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < h; y++) png_write_row(png, px + (size_t)y * w * 3);
        png_write_end(png, NULL);
        rc = 0;
    }
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    if (f && fclose(f) != 0) rc = -1;
    free(px);
    if (rc) fprintf(stderr, RPROG ": cannot write the screenshot %s\n", path);
    return rc;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

void monkey_step(app *a)
{
    static const SDL_Keycode keys[] = {SDLK_LEFT, SDLK_RIGHT, SDLK_UP, SDLK_DOWN, SDLK_RETURN, SDLK_SPACE, SDLK_ESCAPE,
                                       SDLK_k, SDLK_d, SDLK_u, SDLK_t, SDLK_z, SDLK_h, SDLK_1, SDLK_s, SDLK_f,
                                       SDLK_PLUS, SDLK_MINUS, SDLK_o, SDLK_QUESTION, SDLK_F1, SDLK_BACKSPACE,
                                       SDLK_PAGEUP, SDLK_PAGEDOWN, SDLK_HOME, SDLK_END, SDLK_DELETE, SDLK_a, SDLK_x,
                                       SDLK_TAB, SDLK_KP_ENTER, SDLK_SLASH, SDLK_EQUALS, SDLK_b, SDLK_c, SDLK_c,
                                       SDLK_y, SDLK_g, SDLK_g, SDLK_0, SDLK_2, SDLK_3, SDLK_5, SDLK_LSHIFT, SDLK_LSHIFT};
    if (!rng_state) rng_state = a->seed * 2654435761u + 88172645463325252ull;
    if (a->monkey <= 0) { /* the last events were handled in the frame before */
        a->exiting = 1;
        return;
    }
    for (int k = 0; k < 8 && a->monkey > 0; k++, a->monkey--) {
        SDL_Event e;
        memset(&e, 0, sizeof e);
        int x = (int)(rnd() % (uint64_t)(a->w + 20)) - 10, y = (int)(rnd() % (uint64_t)(a->h + 20)) - 10;
        if (a->view == VIEW_GRID && a->norder && rnd() % 12 == 0) { /* onto a keep or del button */
            SDL_Rect r = grid_button_rect(a, (int)(rnd() % (uint64_t)a->norder), 1 + (int)(rnd() % 2));
            x = r.x + r.w / 2;
            y = r.y + r.h / 2;
        }
        if (rnd() % 64 == 0) { /* an undo, and a redo after it */
            push_key(SDLK_z, KMOD_LCTRL);
            push_key(SDLK_y, KMOD_LCTRL);
            k += 3;
            a->monkey -= 3;
            continue;
        }
        switch (rnd() % 8) {
        case 0: case 1:
            e.type = SDL_MOUSEMOTION;
            e.motion.x = x;
            e.motion.y = y;
            e.motion.state = rnd() % 4 == 0 ? SDL_BUTTON_LMASK : 0;
            break;
        case 2: case 3:
            e.type = rnd() % 2 ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
            e.button.button = (Uint8)(1 + rnd() % 3);
            e.button.clicks = (Uint8)(1 + rnd() % 2);
            e.button.state = e.type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
            e.button.x = x;
            e.button.y = y;
            break;
        case 4:
            e.type = SDL_MOUSEWHEEL;
            e.wheel.y = (int)(rnd() % 7) - 3;
            break;
        case 5:
            if (rnd() % 200 == 0) SDL_SetWindowSize(a->win, 320 + (int)(rnd() % 900), 240 + (int)(rnd() % 700));
            /* fall through */
        default:
            e.type = SDL_KEYDOWN;
            e.key.state = SDL_PRESSED;
            e.key.keysym.sym = keys[rnd() % (sizeof keys / sizeof *keys)];
            e.key.keysym.mod = rnd() % 6 == 0 ? KMOD_LCTRL : rnd() % 6 == 0 ? KMOD_LSHIFT : 0;
            if (e.key.keysym.sym == SDLK_LSHIFT && rnd() % 2) e.type = SDL_KEYUP, e.key.state = SDL_RELEASED;
            break;
        }
        SDL_PushEvent(&e);
    }
}
