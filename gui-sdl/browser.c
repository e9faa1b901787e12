/* browser.c: a small folder browser (SDL2 has no native dialog). The first row opens the
 * folder shown, ".." goes up, the other rows are its subfolders; Enter or a double click
 * goes in, Backspace goes up, Escape cancels. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "review.h"

#define ROW_H 22

static void free_names(app *a)
{
    for (int k = 0; k < a->br_n; k++) free(a->br_names[k]);
    free(a->br_names);
    a->br_names = NULL;
    a->br_n = 0;
}

static int by_name(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

/* --monkey keeps to the folder it started in, so random input never reaches other files */
static int allowed(app *a, const char *dir)
{
    if (!a->start_folder) return 1;
    size_t n = strlen(a->start_folder);
    return strncmp(dir, a->start_folder, n) == 0 && (dir[n] == 0 || dir[n] == '/');
}

static void load(app *a, const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real) || !allowed(a, real)) return;
    DIR *d = opendir(real);
    if (!d) {
        app_set_message(a, "cannot open %s", real);
        return;
    }
    free_names(a);
    free(a->br_dir);
    a->br_dir = strdup(real);
    int cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[PATH_MAX];
        struct stat st;
        if (snprintf(p, sizeof p, "%s/%s", real, de->d_name) >= (int)sizeof p) continue;
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (a->br_n == cap) {
            cap = cap ? cap * 2 : 32;
            char **g = realloc(a->br_names, (size_t)cap * sizeof *g);
            if (!g) break;
            a->br_names = g;
        }
        if ((a->br_names[a->br_n] = strdup(de->d_name))) a->br_n++;
    }
    closedir(d);
    if (a->br_n) qsort(a->br_names, (size_t)a->br_n, sizeof *a->br_names, by_name);
    a->br_sel = 0;
    a->br_scroll = 0;
}

void browser_open(app *a, const char *dir)
{
    a->browser = 1;
    a->n_browser++;
    load(a, dir);
    if (!a->br_dir) load(a, a->start_folder ? a->start_folder : "/");
    if (!a->br_dir) a->browser = 0;
}

void browser_close(app *a)
{
    a->browser = 0;
    free_names(a);
    free(a->br_dir);
    a->br_dir = NULL;
}

static SDL_Rect box_of(app *a)
{
    int bw = a->w - 80 > 640 ? 640 : a->w - 80, bh = a->h - 120;
    return (SDL_Rect){(a->w - bw) / 2, 60, bw, bh};
}

static int visible_rows(app *a) { return (box_of(a).h - 60) / ROW_H; }

static void enter(app *a, int row)
{
    if (!a->br_dir) return;
    if (row == 0) {
        char *dir = strdup(a->br_dir);
        browser_close(a);
        if (dir && allowed(a, dir)) folder_open(a, dir);
        free(dir);
        return;
    }
    char p[PATH_MAX];
    if (row == 1) snprintf(p, sizeof p, "%s/..", a->br_dir);
    else if (row - 2 < a->br_n) snprintf(p, sizeof p, "%s/%s", a->br_dir, a->br_names[row - 2]);
    else return;
    load(a, p);
}

void browser_draw(app *a)
{
    SDL_Rect box = box_of(a);
    SDL_Color white = {235, 235, 235, 255};
    draw_fill(a, (SDL_Rect){0, 0, a->w, a->h}, (SDL_Color){0, 0, 0, 150});
    draw_fill(a, box, (SDL_Color){40, 44, 52, 255});
    draw_rect(a, box, (SDL_Color){120, 130, 150, 255}, 2);
    draw_text(a, a->font_big, "Open a folder", box.x + 14, box.y + 8, white, box.w - 28);
    draw_text(a, a->font_small, a->br_dir ? a->br_dir : "", box.x + 14, box.y + 36, (SDL_Color){170, 170, 170, 255},
              box.w - 28);
    int rows = a->br_n + 2, vr = visible_rows(a);
    if (a->br_sel < a->br_scroll) a->br_scroll = a->br_sel;
    if (a->br_sel >= a->br_scroll + vr) a->br_scroll = a->br_sel - vr + 1;
    for (int k = 0; k < vr && a->br_scroll + k < rows; k++) {
        int row = a->br_scroll + k;
        SDL_Rect r = {box.x + 8, box.y + 56 + k * ROW_H, box.w - 16, ROW_H};
        if (row == a->br_sel) draw_fill(a, r, (SDL_Color){70, 90, 130, 255});
        const char *label = row == 0 ? "[ Open this folder ]" : row == 1 ? ".." : a->br_names[row - 2];
        draw_text(a, a->font, label, r.x + 8, r.y + 2, row == 0 ? (SDL_Color){140, 200, 255, 255} : white, r.w - 16);
    }
}

void browser_click(app *a, int x, int y, int clicks)
{
    SDL_Rect box = box_of(a);
    if (!in_rect(box, x, y)) {
        browser_close(a);
        return;
    }
    int k = (y - box.y - 56) / ROW_H;
    if (y < box.y + 56 || k >= visible_rows(a)) return;
    int row = a->br_scroll + k;
    if (row >= a->br_n + 2) return;
    a->br_sel = row;
    if (clicks >= 2 || row == 0) enter(a, row);
}

void browser_wheel(app *a, int dy)
{
    a->br_sel -= dy * 3;
    if (a->br_sel < 0) a->br_sel = 0;
    if (a->br_sel > a->br_n + 1) a->br_sel = a->br_n + 1;
}

void browser_key(app *a, SDL_Keycode k)
{
    int rows = a->br_n + 2;
    switch (k) {
    case SDLK_ESCAPE: browser_close(a); break;
    case SDLK_UP: if (a->br_sel > 0) a->br_sel--; break;
    case SDLK_DOWN: if (a->br_sel < rows - 1) a->br_sel++; break;
    case SDLK_PAGEUP: a->br_sel = a->br_sel > 10 ? a->br_sel - 10 : 0; break;
    case SDLK_PAGEDOWN: a->br_sel = a->br_sel + 10 < rows ? a->br_sel + 10 : rows - 1; break;
    case SDLK_RETURN: case SDLK_KP_ENTER: enter(a, a->br_sel); break;
    case SDLK_BACKSPACE: enter(a, 1); break;
    default: break;
    }
}
