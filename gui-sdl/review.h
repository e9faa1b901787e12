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
    char *path, *name, *rel;     /* [once] full path; base name (inside path); the path below
                                  * the folder opened (inside path: "day1/a.jpg" or the name) */
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
    mark_t mark;                 /* [main] the person's mark */
    int stars, label;            /* [main] star rating 0..5; colour label 0 none, 1 red .. 5 purple */
    int trashed;                 /* [main] moved to the Trash (hidden) */
    int described;               /* [mu] app.frames[i] holds what grouping needs, described by
                                  * the classifier from the image it judged (workers.c) */
    unsharp_group_place place;   /* [main] its place in its group (stacks.c); size 0 before */
    int top;                     /* [main] its group's best frame, the stack's top (itself alone) */
} photo;

typedef enum { SORT_NAME, SORT_SCORE } sort_mode;
typedef enum { FILT_ALL, FILT_SHARP, FILT_UNSURE, FILT_BLURRY, FILT_COUNT } filter_mode;
typedef enum { VIEW_GRID, VIEW_PREVIEW, VIEW_COMPARE } view_mode;

/* A full-resolution photo for the preview (slot 0) or the right side of compare (slot 1),
 * decoded by the preview thread on demand. */
typedef struct pv_slot {
    int want;                    /* [mu] photo index wanted, -1 none */
    int have;                    /* [mu] photo index of px (or of err) */
    unsigned char *px;           /* [mu] RGB8 */
    int w, h;                    /* [mu] */
    char *err;                   /* [mu] */
    SDL_Texture *tex;            /* [main] */
    int tex_of, tex_w, tex_h;    /* [main] */
} pv_slot;

/* One step of the session's history, undone and redone as a whole: marks (a click, a key,
 * a range, a bulk mark), a star rating, a colour label, or a batch moved to the Trash. */
typedef enum { H_MARK, H_STARS, H_LABEL, H_TRASH } hist_kind;
typedef struct hist_item {
    int photo;
    int old, now;                /* the value before and after (mark, stars or label) */
    unsharp_trash_entry *ent;    /* H_TRASH: where the photo and its companions went */
    int nent;
} hist_item;
typedef struct hist_step {
    hist_kind kind;
    hist_item *it;
    int n;
} hist_step;

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
    unsharp_frame *frames;       /* [mu] one per photo, for grouping (stacks.c) */
    char *start_folder;          /* --monkey keeps the browser inside it */
    /* threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;           /* work for the loader, classifiers and preview thread */
    int quit;                    /* [mu] threads stop */
    int gen;                     /* [mu] folder generation; stale results are dropped */
    int jobs;
    pthread_t *judges, loader, previewer;
    int njudges, threads_up;
    struct saver *saver;         /* marks.c: the sidecar writer */
    const char *weights;
    char model_err[512];         /* [mu] */
    int vis_first, vis_last;     /* [mu] visible range in view order (loader priority) */
    int *order;                  /* [mu] view order: indexes of shown photos */
    int norder;                  /* [mu] */
    int pending_uploads;         /* [mu] thumbnails decoded, not yet uploaded */
    int cache_cap, cached;       /* textures kept at most / now */
    int thumbs_done, judged;     /* [mu] counts for progress */
    /* preview and compare: requested photos and the decoded results */
    pv_slot pv[2];
    int woken;                   /* [mu] a wake-up event is queued for the render loop */
    Uint32 wake_event;           /* SDL event type the background threads wake it with */
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
    double pan_x, pan_y;         /* preview centre as a fraction of the photo (0..1) */
    int cmp_other;               /* compare: the photo on the right (a->sel on the left) */
    int cmp_side;                /* compare: the side keys act on, 0 left, 1 right */
    int open_top;                /* the stack opened by G (its top), whose frames compare steps
                                  * through; -1 none */
    int groups_judged, groups_trashed; /* [main] counts when the groups were made; -1 never */
    int anchor;                  /* the photo a shift-click range starts from, -1 none */
    int shift_held;              /* a Shift key is down (tracked from key events) */
    int dirty;                   /* something changed: draw a frame */
    int animating;               /* the last frame drew moving dashes */
    int dragging, drag_x, drag_y;
    int help, confirm, bulk;     /* overlays: help, Trash confirmation, bulk mark */
    int bulk_n;                  /* [main] bulk_count at the last frame */
    int cf_photos, cf_sidecars, cf_raws, cf_other; /* what the confirmation lists */
    int browser;                 /* the folder browser is open */
    char *br_dir;                /* folder shown in the browser */
    char **br_names;
    int br_n, br_sel, br_scroll;
    char message[512];           /* a line in the status bar */
    uint64_t message_until;
    /* the session's history: steps [0, hist_pos) are done, [hist_pos, nhist) can be redone */
    hist_step *hist;
    int nhist, hist_pos;
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
    int n_previews, n_trash, n_undo, n_redo, n_browser, n_compare, n_bulk, n_range, n_rated;
                                 /* what happened, told after --monkey */
} app;

/* folder.c */
int folder_open(app *a, const char *dir);      /* 0, or -1 with a message set */
void folder_close(app *a);
/* message.c */
void app_set_message(app *a, const char *fmt, ...); /* the status bar's line, for 6 s */
/* workers.c */
int workers_start(app *a);
void workers_stop(app *a);
void workers_wake_main(app *a);                /* [mu held] a result is ready: the loop draws */
/* order.c */
void order_update(app *a);                     /* [mu held] */
int order_pos(const app *a, int photo);        /* position in view order, -1 */
/* draw.c */
void draw_fill(app *a, SDL_Rect r, SDL_Color c);
void draw_rect(app *a, SDL_Rect r, SDL_Color c, int thick);
void draw_dashed(app *a, SDL_Rect r, SDL_Color c, int thick, int dash, int phase);
int draw_text(app *a, TTF_Font *f, const char *s, int x, int y, SDL_Color c, int maxw);
int draw_text_fit(app *a, TTF_Font *f, const char *s, int x, int y, SDL_Color c, int maxw); /* "…" when cut; 1 then */
int draw_text_wrapped(app *a, TTF_Font *f, const char *s, SDL_Rect box, SDL_Color c);
int text_width(TTF_Font *f, const char *s);
int draw_button(app *a, SDL_Rect r, const char *label, SDL_Color bg, SDL_Color fg);
void draw_tooltip(app *a, const char *s, int x, int y);
void text_cache_clear(void);
int in_rect(SDL_Rect r, int x, int y);
SDL_Color verdict_color(unsharp_verdict v);
SDL_Color label_color(int label);              /* colour label 1..5 */
/* grid.c */
void grid_draw(app *a);
int grid_hit(app *a, int x, int y, int *part);  /* photo at (x, y), -1; part: 0 image, 1 keep, 2 delete */
SDL_Rect grid_tile_rect(app *a, int pos);       /* of the tile at view position pos */
void grid_scroll_to(app *a, int photo);
int grid_columns(app *a);
void grid_upload(app *a);                       /* finished thumbnails to textures, LRU eviction */
SDL_Rect grid_button_rect(app *a, int pos, int which); /* which: 1 keep, 2 delete */
/* preview.c */
void preview_open(app *a, int photo);
void preview_close(app *a);
void preview_draw(app *a);
void preview_upload(app *a);                    /* [mu held] both slots */
void preview_want(app *a, int slot, int photo); /* asks the preview thread for a photo */
int preview_ready(app *a, int slot, int photo); /* [mu held] shown, or its error known */
void photo_draw(app *a, int slot, int photo, SDL_Rect area, int outline);
void preview_pan(app *a, int dx, int dy);       /* drag by window pixels at 100 % */
void preview_title(app *a, int photo, int x, int w); /* the line above a photo */
void preview_legend(app *a);                    /* the heat map's line under it */
/* compare.c */
void compare_open(app *a);                      /* the selected photo beside the next one */
void compare_draw(app *a);
int compare_key(app *a, SDL_Keycode k);         /* 1 when the key was a compare key */
int compare_target(app *a);                     /* the photo the marking keys act on */
void compare_click(app *a, int x, int y);
/* bars.c: top bar, status bar */
#define TOPBAR_H 40
#define STATUS_H 26
void bars_draw(app *a);
int bars_click(app *a, int x, int y);           /* 1 when a button took the click */
SDL_Rect bars_trash_rect(app *a);
SDL_Rect bars_bulk_rect(app *a);
/* dialogs.c: help, the Trash confirmation, the bulk mark */
void help_draw(app *a);
void confirm_open(app *a);                      /* counts the companions, then asks */
void confirm_draw(app *a);
int confirm_click(app *a, int x, int y);
SDL_Rect confirm_ok_rect(app *a);
void bulk_open(app *a);
void bulk_draw(app *a);
int bulk_click(app *a, int x, int y);
SDL_Rect bulk_ok_rect(app *a);
int marked_count(app *a);
/* edits.c: the person's marks, ratings and labels, and the session's undo / redo */
void edit_mark(app *a, int photo, mark_t m);    /* one photo, one step */
void edit_trash(app *a);                        /* the confirmed move to the Trash, one step */
void edit_mark_range(app *a, int photo, mark_t m); /* from the anchor to photo, one step */
int edit_mark_list(app *a, const int *photos, int n, mark_t m); /* one step; how many changed */
int bulk_count(app *a);                         /* [mu held] blurry photos without a mark */
void bulk_mark(app *a);                         /* marks them delete, one step */
void edit_stars(app *a, int photo, int stars);
void edit_label(app *a, int photo, int label);
void hist_undo(app *a);
void hist_redo(app *a);
void hist_clear(app *a);
void apply_value(app *a, hist_kind k, int photo, int v); /* memory and sidecar */
/* marks.c: the sidecars, and the thread that writes them */
int marks_start(app *a);                        /* the writer thread; -1: writes at once */
void marks_stop(app *a);                        /* writes what is queued, then stops */
void marks_load(app *a);                        /* each photo's marks, rating, label */
void marks_save(app *a, int photo, hist_kind k); /* queues one change */
void marks_flush(app *a);                       /* waits until every change is written */
void marks_poll(app *a);                        /* a failed write's message to the status bar */
/* trashops.c */
int trash_marked(app *a, hist_step *st);        /* after confirmation only; st: the batch */
int trash_restore(app *a, hist_item *it);       /* undo of one photo's move: 0 back, 1 back without
                                                 * some companion (said), -1 still in the Trash */
int trash_again(app *a, hist_item *it);         /* redo of one photo's move (marked delete first) */
void trash_count_companions(app *a);            /* fills a->cf_* */
/* stacks.c: bursts, brackets, focus stacks and panoramas shown as stacks */
void stacks_update(app *a);                    /* [mu held] groups once all are judged */
int stacks_hidden(const app *a, int photo);    /* 1 for a stack's frame under its top */
int stacks_ready(const app *a);                /* the groups are made */
void stacks_open(app *a, int photo);           /* G: its group's frames in compare */
void stacks_keep_best(app *a, int photo);      /* Shift+K: the rest marked delete, one step */
const char *stacks_label(const photo *p, char *buf, size_t size); /* "burst 4", NULL alone */
/* browser.c */
void browser_open(app *a, const char *dir);
void browser_close(app *a);
void browser_draw(app *a);
void browser_click(app *a, int x, int y, int clicks);
void browser_key(app *a, SDL_Keycode k);
void browser_wheel(app *a, int dy);
/* input.c */
void input_event(app *a, const SDL_Event *e);
/* testhooks.c */
int script_step(app *a);                        /* runs test-script lines; 1 when it asks to quit */
int script_active(void);                        /* 1 while a script has lines left */
int screenshot_due(app *a, char *path, size_t size);
int screenshot_save(app *a, const char *path);
void monkey_step(app *a);
int script_load(app *a, const char *path);      /* 0, or -1 with a message printed */
int script_failed(void);                        /* 1 when a wait timed out or a line was bad */
void script_free(void);
/* clock.c */
uint64_t now_ms(void);                          /* a monotonic clock in milliseconds */

#endif
