/* review.h: what the parts of unsharp-review share: the per-photo state (guarded by one
 * mutex, shared by the render loop and the background threads), the application state, and
 * the entry points of each file. */
#ifndef UNSHARP_REVIEW_H
#define UNSHARP_REVIEW_H

#include <SDL.h>
#include <SDL_ttf.h>
#include <pthread.h>
#include <stdint.h>
#include "unsharp/files.h"
#include "unsharp/unsharp.h"

#define RPROG "unsharp-review"

#define THUMB_STORE 320      /* long side of decoded thumbnails (the largest display size) */
#define THUMB_MIN 96
#define THUMB_MAX 320
#define CACHE_DEFAULT 500    /* thumbnails kept as textures at most */

typedef enum { TH_NONE, TH_LOADING, TH_READY, TH_FAILED } thumb_state;
typedef enum { J_PENDING, J_RUNNING, J_DONE, J_FAILED } judge_state;
typedef enum { MARK_NONE, MARK_KEEP, MARK_DELETE } mark_t;

/* One photo. Fields marked [mu] are read and written under app.mu; [main] only by the render
 * thread; [once] set at scan time and then read-only. */
typedef struct photo {
    char *path, *name;           /* [once] full path; base name (inside path) */
    unsharp_file_id id;          /* [once] identity when listed; checked before trashing */
    int id_ok;                   /* [once] */
    thumb_state th;              /* [mu] */
    int th_seen;                 /* [mu] decoded at least once */
    unsigned char *th_px;        /* [mu] RGB8 pixels waiting for upload (loader -> main) */
    int th_w, th_h;              /* [mu] */
    char *th_err;                /* [mu] decode error for the tile */
    SDL_Texture *tex;            /* [main] the cached thumbnail */
    uint64_t tex_used;           /* [main] frame last drawn (LRU) */
    judge_state js;              /* [mu] */
    float sharpness;             /* [mu] */
    unsharp_verdict verdict;     /* [mu] */
    unsharp_blur_kind kind;      /* [mu] */
    float *map, *texmask;        /* [mu] focus map (map_h x map_w) and its detail mask */
    int map_w, map_h, work_w, work_h; /* [mu] map size; judged image size */
    char *j_err;                 /* [mu] */
    mark_t mark;                 /* [main] */
    int trashed;                 /* [main] moved to the Trash (hidden) */
} photo;

typedef enum { SORT_NAME, SORT_SCORE } sort_mode;
typedef enum { FILT_ALL, FILT_SHARP, FILT_UNSURE, FILT_BLURRY, FILT_COUNT } filter_mode;
typedef enum { VIEW_GRID, VIEW_PREVIEW } view_mode;

typedef struct app {
    /* window */
    SDL_Window *win;
    SDL_Renderer *ren;
    TTF_Font *font, *font_small, *font_big;
    int w, h;
    int max_tex;                 /* renderer's largest texture side */
    uint64_t frame;
    /* folder */
    char *folder;
    photo *ph;
    int n;
    char *start_folder;          /* --monkey keeps the browser inside it */
    /* threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* work for the loader, classifiers and preview thread */
    int quit;                    /* [mu] threads stop */
    int gen;                     /* [mu] folder generation; stale results are dropped */
    int jobs;
    pthread_t *judges, loader, previewer;
    int njudges, threads_up;
    const char *weights;
    char model_err[512];         /* [mu] */
    int vis_first, vis_last;     /* [mu] visible range in view order (loader priority) */
    int *order;                  /* [mu] view order: indexes of shown photos */
    int norder;                  /* [mu] */
    int pending_uploads;         /* [mu] thumbnails decoded, not yet uploaded */
    int cache_cap, cached;       /* textures kept at most / now */
    int thumbs_done, judged;     /* [mu] counts for progress */
    /* preview: requested photo and the decoded result */
    int pv_want;                 /* [mu] photo index wanted, -1 none */
    int pv_have;                 /* [mu] photo index of pv_px */
    unsigned char *pv_px;        /* [mu] RGB8 */
    int pv_w, pv_h;              /* [mu] */
    char *pv_err;                /* [mu] */
    SDL_Texture *pv_tex;         /* [main] */
    int pv_tex_of, pv_tex_w, pv_tex_h;
    /* view */
    view_mode view;
    int thumb;                   /* tile image size */
    int scroll;                  /* grid scroll in pixels */
    int sel;                     /* selected photo index, -1 none */
    int hover;                   /* photo under the mouse, -1 none */
    sort_mode sort;
    filter_mode filter;
    int heat;                    /* heat map on in preview */
    int zoom100;                 /* preview at 100 % */
    double pan_x, pan_y;         /* preview centre in image pixels */
    int dragging, drag_x, drag_y;
    int help, confirm;           /* overlays */
    int browser;                 /* the folder browser is open */
    char *br_dir;                /* folder shown in the browser */
    char **br_names;
    int br_n, br_sel, br_scroll;
    char message[512];           /* a line in the status bar */
    uint64_t message_until;
    /* trash */
    unsharp_trash_entry *undo;   /* the last Trash batch, for undo */
    int nundo;
    /* tests and timing */
    const char *script;          /* --test-script */
    long monkey;                 /* --monkey N: random events left */
    int monkey_on;
    unsigned long long seed;
    int timing;
    uint64_t t0;
    int first_thumb_logged, all_thumbs_logged, all_judged_logged;
    int mouse_x, mouse_y;
    int exiting;                 /* the window is closing */
    int n_previews, n_trash, n_undo, n_browser; /* what happened, told after --monkey */
} app;

/* folder.c */
int folder_open(app *a, const char *dir);      /* 0, or -1 with a message set */
void folder_close(app *a);
void app_set_message(app *a, const char *fmt, ...);
/* workers.c */
int workers_start(app *a);
void workers_stop(app *a);
/* order.c */
void order_update(app *a);                     /* [mu held] */
int order_pos(const app *a, int photo);        /* position in view order, -1 */
/* draw.c */
void draw_fill(app *a, SDL_Rect r, SDL_Color c);
void draw_rect(app *a, SDL_Rect r, SDL_Color c, int thick);
void draw_dashed(app *a, SDL_Rect r, SDL_Color c, int thick, int dash, int phase);
int draw_text(app *a, TTF_Font *f, const char *s, int x, int y, SDL_Color c, int maxw);
int draw_text_wrapped(app *a, TTF_Font *f, const char *s, SDL_Rect box, SDL_Color c);
int text_width(TTF_Font *f, const char *s);
int draw_button(app *a, SDL_Rect r, const char *label, SDL_Color bg, SDL_Color fg);
void text_cache_clear(void);
int in_rect(SDL_Rect r, int x, int y);
SDL_Color verdict_color(unsharp_verdict v);
/* grid.c */
void grid_draw(app *a);
int grid_hit(app *a, int x, int y, int *part);  /* photo at (x, y), -1; part: 0 image, 1 keep, 2 delete */
SDL_Rect grid_tile_rect(app *a, int pos);       /* of the tile at view position pos */
void grid_scroll_to(app *a, int photo);
int grid_columns(app *a);
void grid_upload(app *a);
SDL_Rect grid_button_rect(app *a, int pos, int which); /* which: 1 keep, 2 delete */                       /* finished thumbnails to textures, LRU eviction */
/* preview.c */
void preview_open(app *a, int photo);
void preview_close(app *a);
void preview_draw(app *a);
void preview_upload(app *a);
/* bars.c: top bar, status bar, overlays */
#define TOPBAR_H 40
#define STATUS_H 26
void bars_draw(app *a);
int bars_click(app *a, int x, int y);           /* 1 when a button took the click */
void help_draw(app *a);
void confirm_draw(app *a);
int confirm_click(app *a, int x, int y);
int marked_count(app *a);
SDL_Rect bars_trash_rect(app *a);
SDL_Rect confirm_ok_rect(app *a);
/* trashops.c */
int trash_marked(app *a);                       /* after confirmation only */
int trash_undo(app *a);
void undo_clear(app *a);
/* browser.c */
void browser_open(app *a, const char *dir);
void browser_close(app *a);
void browser_draw(app *a);
void browser_click(app *a, int x, int y, int clicks);
void browser_key(app *a, SDL_Keycode k);
void browser_wheel(app *a, int dy);
/* input.c */
void input_event(app *a, const SDL_Event *e);
void mark_photo(app *a, int photo, mark_t m);
/* testhooks.c */
int script_step(app *a);                        /* runs test-script lines; 1 when it asks to quit */
int screenshot_due(app *a, char *path, size_t size);
int screenshot_save(app *a, const char *path);
void monkey_step(app *a);
int script_load(app *a, const char *path);      /* 0, or -1 with a message printed */
int script_failed(void);                        /* 1 when a wait timed out or a line was bad */
void script_free(void);
/* clock.c */
uint64_t now_ms(void);                          /* a monotonic clock in milliseconds */

#endif
