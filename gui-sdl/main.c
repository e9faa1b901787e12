/* main.c: unsharp-review, the window to cull photos by sharpness: options, the window and
 * its fonts, and the render loop. The loop never waits on decoding or judging: it sleeps
 * until an input event, a background thread's wake-up event or a timer (moving dashes, a
 * message that ends, a test script) and draws a frame only when something changed. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "review.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " RPROG " [OPTION]... [FOLDER]\n"
            "Review the photos of FOLDER and its subfolders by sharpness; marks are kept in their\n"
            "XMP sidecars; the ones you reject go to the Trash with their sidecars and RAW files.\n"
            "Bursts, brackets, focus stacks and panoramas show as stacks, the best frame on top\n"
            "(G compares a stack's frames; Shift+K keeps a burst's best, marks the rest delete).\n"
            "Without FOLDER, a folder browser opens. Press ? in the window for the keys.\n\n"
            "  -w, --weights FILE     network weights (default: the shipped unsharp-v2.usw)\n"
            "  -j, --jobs N           classifier threads (default: cores - 1, at least 1)\n"
            "  -s, --size PIXELS      thumbnail size, %d..%d (default 192)\n"
            "      --cache N          thumbnails kept in memory at most (default %d)\n"
            "      --geometry WxH     window size (default 1280x800)\n"
            "      --test-script FILE run the commands of FILE, one a line (see docs/review.md)\n"
            "      --monkey N         send N random input events, then exit (tests)\n"
            "      --seed S           seed of --monkey (default 1)\n"
            "      --timing           print the time to the first and to all thumbnails (and of a\n"
            "                         bulk mark)\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n\n"
            "Environment: SDL_RENDER_DRIVER=software picks SDL's software renderer;\n"
            "UNSHARP_REVIEW_FONT names a TrueType font (default: DejaVu Sans).\n"
            "Exit status: 0 ok, 1 a test script failed, 2 bad usage or no window.\n",
            THUMB_MIN, THUMB_MAX, CACHE_DEFAULT);
}

static int bad_usage(const char *msg, const char *arg)
{
    fprintf(stderr, RPROG ": %s '%s'\nTry '" RPROG " --help' for more information.\n", msg, arg);
    return 2;
}

static TTF_Font *open_font(int size)
{
    const char *env = getenv("UNSHARP_REVIEW_FONT");
    const char *paths[] = {env, "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                           "/usr/share/fonts/dejavu/DejaVuSans.ttf"};
    for (size_t k = 0; k < sizeof paths / sizeof *paths; k++) {
        if (!paths[k] || !*paths[k]) continue;
        TTF_Font *f = TTF_OpenFont(paths[k], size);
        if (f) return f;
    }
    return NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static void frame(app *a)
{
    SDL_GetRendererOutputSize(a->ren, &a->w, &a->h);
    SDL_SetRenderDrawColor(a->ren, 24, 25, 28, 255);
    SDL_RenderClear(a->ren);
    pthread_mutex_lock(&a->mu);
    a->animating = 0;
    grid_upload(a);
    preview_upload(a);
    stacks_update(a);
    order_update(a);
    a->bulk_n = bulk_count(a);
    if (a->view != VIEW_GRID && (a->sel < 0 || a->ph[a->sel].trashed)) a->view = VIEW_GRID;
    if (a->view == VIEW_COMPARE && (a->cmp_other < 0 || a->ph[a->cmp_other].trashed)) a->view = VIEW_PREVIEW;
    if (a->view == VIEW_GRID) grid_draw(a);
    else if (a->view == VIEW_PREVIEW) preview_draw(a);
    else compare_draw(a);
    bars_draw(a);
    if (a->help) help_draw(a);
    if (a->confirm) confirm_draw(a);
    if (a->bulk) bulk_draw(a);
    if (a->browser) browser_draw(a);
    if (a->timing && !a->all_judged_logged && a->n && a->judged == a->n) {
        a->all_judged_logged = 1;
        fprintf(stderr, RPROG ": timing: all %d photos classified after %llu ms\n", a->n,
                (unsigned long long)(now_ms() - a->t0));
    }
    pthread_cond_broadcast(&a->cv); /* the visible range or the uploads may have changed */
    pthread_mutex_unlock(&a->mu);
    char shot[1024];
    if (screenshot_due(a, shot, sizeof shot) && screenshot_save(a, shot) != 0) a->exiting = 1;
    SDL_RenderPresent(a->ren);
    a->frame++;
}

/* How long the loop may sleep when no event comes: forever (-1) when nothing moves. */
static int wait_ms(app *a)
{
    if (a->monkey_on) return 5;
    if (script_active()) return 15;
    int t = -1;
    if (a->animating) t = 60; /* moving dashes of photos being judged */
    if (a->message_until) {
        uint64_t now = now_ms();
        int left = a->message_until > now ? (int)(a->message_until - now) + 1 : 0;
        if (t < 0 || left < t) t = left;
    }
    return t;
}

int main(int argc, char **argv)
{
    static app A;
    app *a = &A;
    a->t0 = now_ms();
    a->thumb = 192;
    a->cache_cap = CACHE_DEFAULT;
    a->seed = 1;
    a->heat = 0; /* off until H: the photo is what is looked at */
    for (int k = 0; k < 2; k++) a->pv[k] = (pv_slot){.want = -1, .have = -1, .tex_of = -1};
    a->sel = a->hover = a->anchor = a->cmp_other = a->open_top = -1;
    a->groups_judged = a->groups_trashed = -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a->jobs = cores > 1 ? (int)cores - 1 : 1;
    int ww = 1280, wh = 800;
    const char *script = NULL;
    enum { O_CACHE = 256, O_GEOM, O_SCRIPT, O_MONKEY, O_SEED, O_TIMING };
    static const struct option opts[] = {
        {"weights", required_argument, 0, 'w'}, {"jobs", required_argument, 0, 'j'},
        {"size", required_argument, 0, 's'}, {"cache", required_argument, 0, O_CACHE},
        {"geometry", required_argument, 0, O_GEOM}, {"test-script", required_argument, 0, O_SCRIPT},
        {"monkey", required_argument, 0, O_MONKEY}, {"seed", required_argument, 0, O_SEED},
        {"timing", no_argument, 0, O_TIMING}, {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "w:j:s:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'w': a->weights = optarg; break;
        case 'j':
            if (parse_int(optarg, 1, 256, &v)) return bad_usage("--jobs must be 1..256, not", optarg);
            a->jobs = (int)v;
            break;
        case 's':
            if (parse_int(optarg, THUMB_MIN, THUMB_MAX, &v)) return bad_usage("--size must be 96..320, not", optarg);
            a->thumb = (int)v;
            break;
        case O_CACHE:
            if (parse_int(optarg, 16, 100000, &v)) return bad_usage("--cache must be 16..100000, not", optarg);
            a->cache_cap = (int)v;
            break;
        case O_GEOM:
            if (sscanf(optarg, "%dx%d", &ww, &wh) != 2 || ww < 200 || wh < 150 || ww > 16384 || wh > 16384)
                return bad_usage("--geometry must be WxH, not", optarg);
            break;
        case O_SCRIPT: script = optarg; break;
        case O_MONKEY:
            if (parse_int(optarg, 0, 100000000, &v)) return bad_usage("--monkey must be a count, not", optarg);
            a->monkey = v;
            a->monkey_on = 1;
            break;
        case O_SEED:
            if (parse_int(optarg, 0, LONG_MAX, &v)) return bad_usage("--seed must be a number, not", optarg);
            a->seed = (unsigned long long)v;
            break;
        case O_TIMING: a->timing = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(RPROG " " UNSHARP_VERSION_STRING "\n"); return 0;
        default: fprintf(stderr, "Try '" RPROG " --help' for more information.\n"); return 2;
        }
    }
    if (argc - optind > 1) return bad_usage("one folder at most; extra argument", argv[optind + 1]);
    const char *folder = optind < argc ? argv[optind] : NULL;

    char wbuf[PATH_MAX];
    if (!a->weights) {
        if (unsharp_default_weights(wbuf, sizeof wbuf) == UNSHARP_OK) a->weights = wbuf;
        else snprintf(a->model_err, sizeof a->model_err, "no classification: %s", unsharp_errmsg());
    }
    if (script && script_load(a, script) != 0) return 2;
    if (a->monkey_on && folder) {
        char real[PATH_MAX];
        if (realpath(folder, real)) a->start_folder = strdup(real);
    }

    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, RPROG ": cannot start SDL: %s\n", SDL_GetError());
        return 2;
    }
    if (TTF_Init() != 0) {
        fprintf(stderr, RPROG ": cannot start SDL_ttf: %s\n", TTF_GetError());
        SDL_Quit();
        return 2;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "1");
    a->font = open_font(14);
    a->font_small = open_font(12);
    a->font_big = open_font(18);
    a->win = SDL_CreateWindow(RPROG, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, ww, wh,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_SHOWN);
    a->ren = a->win ? SDL_CreateRenderer(a->win, -1, 0) : NULL;
    if (!a->font || !a->font_small || !a->font_big || !a->ren) {
        if (!a->font) fprintf(stderr, RPROG ": cannot open the font DejaVuSans.ttf (package fonts-dejavu-core)\n");
        else fprintf(stderr, RPROG ": cannot open a window: %s\n", SDL_GetError());
        if (a->ren) SDL_DestroyRenderer(a->ren);
        if (a->win) SDL_DestroyWindow(a->win);
        if (a->font) TTF_CloseFont(a->font);
        if (a->font_small) TTF_CloseFont(a->font_small);
        if (a->font_big) TTF_CloseFont(a->font_big);
        TTF_Quit();
        SDL_Quit();
        free(a->start_folder);
        script_free();
        return 2;
    }
    SDL_RendererInfo ri;
    a->max_tex = 16384;
    if (SDL_GetRendererInfo(a->ren, &ri) == 0 && ri.max_texture_width > 0) {
        a->max_tex = ri.max_texture_width < ri.max_texture_height ? ri.max_texture_width : ri.max_texture_height;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    Uint32 ev = SDL_RegisterEvents(1);
    a->wake_event = ev == (Uint32)-1 ? 0 : ev;
    if (marks_start(a) != 0) fprintf(stderr, RPROG ": no writer thread; marks are written as they are made\n");
    SDL_GetRendererOutputSize(a->ren, &a->w, &a->h);

    if (folder) {
        if (folder_open(a, folder) != 0) fprintf(stderr, RPROG ": %s\n", a->message);
    } else {
        char cwd[PATH_MAX];
        browser_open(a, getcwd(cwd, sizeof cwd) ? cwd : "/");
    }

    a->dirty = 1;
    while (!a->exiting) {
        SDL_Event e;
        if (SDL_WaitEventTimeout(&e, wait_ms(a))) {
            input_event(a, &e);
            while (SDL_PollEvent(&e)) input_event(a, &e);
        }
        if (a->exiting) break;
        int part, hover = a->view == VIEW_GRID ? grid_hit(a, a->mouse_x, a->mouse_y, &part) : -1;
        if (hover != a->hover) a->dirty = 1;
        a->hover = hover;
        if (script_active()) {
            script_step(a);
            a->dirty = 1;
        }
        if (a->monkey_on) {
            monkey_step(a);
            a->dirty = 1;
        }
        if (a->message_until && now_ms() >= a->message_until) { /* the message ends: redraw once */
            a->message_until = 0;
            a->dirty = 1;
        }
        marks_poll(a);
        if (a->dirty || a->animating) {
            a->dirty = 0;
            frame(a);
        }
    }

    folder_close(a);
    marks_stop(a);
    unsharp_xmp_done(); /* Exempi, when a mark started it */
    browser_close(a);
    text_cache_clear();
    script_free();
    free(a->start_folder);
    TTF_CloseFont(a->font);
    TTF_CloseFont(a->font_small);
    TTF_CloseFont(a->font_big);
    SDL_DestroyRenderer(a->ren);
    SDL_DestroyWindow(a->win);
    TTF_Quit();
    SDL_Quit();
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    if (a->monkey_on)
        fprintf(stderr,
                RPROG ": monkey: all events sent, no crash (previews %d, compares %d, bulk dialogs %d, ranges %d, "
                "ratings and labels %d, trash batches %d, undos %d, redos %d, browser %d)\n",
                a->n_previews, a->n_compare, a->n_bulk, a->n_range, a->n_rated, a->n_trash, a->n_undo, a->n_redo,
                a->n_browser);
    return script_failed() ? 1 : 0;
}
