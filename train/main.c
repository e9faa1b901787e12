/* main.c: unsharp-train, the command that teaches the network blur from sharp photos.
 * It decodes the photos once at the working size, makes blurred training samples on
 * producer threads (blur.c) while the main thread trains, reports every epoch, writes an
 * atomic checkpoint every epoch, and the weights at the end. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "blur.h"
#include "default_arch.h"
#include "finetune.h"
#include "holdout.h"
#include "labelled.h"
#include "orient.h"
#include "photos.h"
#include "store.h"
#include "unsharp/files.h"
#include "unsharp/unsharp.h"
#include "val.h"

#define PROG "unsharp-train"

/* Fine-tuning defaults (docs/experiments.md, "Fine-tuning on your own photos") */
#define FT_LR 5e-5f
#define FT_LR_TEXT "0.00005"
#define FT_PULL 10.0f
#define FT_PULL_TEXT "10"
#define UNSTABLE 3.0 /* an epoch's mean loss this many times the first step's: the fine-tune went astray */
#define FT_DISTILL 0.5f
#define FT_DISTILL_TEXT "0.5"

/* How samples are made (--recipe): the shipped weights' recipe (v2, the default), the camera
 * recipe it grew from, or unsharp-v1's (train/blur.h). A run records the versioned name, since
 * "shipped" meant unsharp-v1's recipe in runs recorded before 2026-12-05. */
enum { RECIPE_V2, RECIPE_CAMERA, RECIPE_V1 };
static const char *const recipe_name[] = {"v2", "camera", "v1"};
static blur_config recipe_config(int recipe)
{
    return recipe == RECIPE_V2 ? blur_config_v2() : recipe == RECIPE_CAMERA ? blur_config_camera() : blur_config_default();
}

typedef struct options {
    int epochs, batch, crop, threads, producers, crops_per_photo, scratch, recipe, tie_transpose, oriented_init;
    float in_focus; /* blur_config.texture_rel; < 0: the recipe's */
    const char *sample_set[16]; /* --sample KEY=VALUE, in order */
    int n_sample_set;
    float lr, weight_decay, threshold, pull, distill;
    int lr_set, wd_set, pull_set, distill_set, force, checkpoint_given;
    uint64_t seed;
    const char *out, *init, *resume, *val, *arch_file, *checkpoint, *evaluate;
    const char *sharp_dir, *blurry_dir, *marks_dir; /* real labelled photos */
    int quiet;
    /* experiment tracking (store.h, docs/experiments.md) */
    const char *db;
    int queue, worker;
    long long run_id; /* set by a worker for the run it trains: record into this run */
    store_worker_options wo;
    unsharp_device device; /* --device: cpu, cuda or auto (default) */
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " --epochs N [options] PHOTOS...\n"
            "       " PROG " --evaluate DIR --init WEIGHTS\n"
            "Teach unsharp blur from sharp photos: PHOTOS are sharp photo files or folders\n"
            "(searched recursively); blurred copies are made on the fly. A PHOTOS folder with sharp/\n"
            "and blurry/ inside is read as --sharp FOLDER/sharp --blurry FOLDER/blurry.\n\n"
            "Fine-tuning (the default: from the shipped weights or --init) holds back every tenth photo\n"
            "(of 10 or more), reports every epoch how many of them are kept as they are and caught when\n"
            "blurred, beside the starting weights' figures, and at the end writes --out only when the\n"
            "new weights lose no keeper the starting weights kept and catch no clearly less blur, on\n"
            "those photos, the labelled ones and those trained on, and training did not go unstable;\n"
            "else it writes them to OUT.rejected.usw, says why and exits 1.\n\n"
            "  -e, --epochs N          passes over the photos (required)\n"
            "  -o, --out FILE          weights to write at the end (default unsharp.usw)\n"
            "      --init FILE         start from these weights (fine-tuning); the default is the\n"
            "                          shipped weights, when they are found\n"
            "      --scratch           start a new network instead (also with --arch)\n"
            "      --resume FILE       continue a run from its checkpoint\n"
            "      --checkpoint FILE   where to write the checkpoint every epoch, kept at the end (default:\n"
            "                          $XDG_CACHE_HOME/unsharp/NAME-HASH.ckpt, removed when the run ends)\n"
            "      --sharp DIR         real sharp photos (your keepers): trained on, and checked by the gate\n"
            "      --blurry DIR        real blurred photos (your rejects): trained on as they are, and checked\n"
            "      --from-marks DIR    the photos under DIR that a person marked keep (sharp) or reject\n"
            "                          (blurry) in their XMP sidecars; unsharp-classify's own marks are ignored\n"
            "      --force             write --out even when the safety gate refuses the new weights\n"
            "      --val DIR           report accuracy, AUC and loss on DIR/sharp + DIR/blurry every epoch\n"
            "      --evaluate DIR      only judge DIR/sharp + DIR/blurry with --init WEIGHTS: one line a\n"
            "                          photo, then accuracy, AUC and loss\n"
            "      --arch FILE         architecture text for a new network (default: the built-in one)\n"
            "  -b, --batch N           samples per step (default 16)\n"
            "      --crop N            crop size in pixels, a multiple of 32 (default 256)\n"
            "      --recipe NAME       how samples are made: shipped (the default: the shipped weights',\n"
            "                          unsharp-v2's, also called v2), camera (blur in linear light, phone\n"
            "                          sharpening, haze, low light, small shakes: the shipped recipe\n"
            "                          without its gap between sharp and blurred) or v1 (unsharp-v1's);\n"
            "                          weights/MODEL_CARD.md\n"
            "      --in-focus X        a tile of a sharp photo is taught as sharp only when its detail is\n"
            "                          at least X times the photo's in-focus level (0..1; default 0.3 for\n"
            "                          the shipped recipe, else 0: every tile with detail; docs/model.md)\n"
            "      --sample KEY=VALUE  change one setting of the recipe (train/blur.h, for example\n"
            "                          p_haze=0.4); may be repeated, up to 16 times\n"
            "      --tie-transpose     keep each channel's twin the transposed channel, so that the network\n"
            "                          sees a photo and its transpose alike (an experiment; docs/model.md)\n"
            "      --oriented-init     start the first convolution as second derivatives of a Gaussian across\n"
            "                          evenly spread directions, not at random (an experiment; docs/model.md)\n"
            "      --crops-per-photo N samples per epoch from each photo, per 512x512 of its area\n"
            "                          (default 4)\n"
            "      --lr X              peak learning rate (cosine decay, 1 epoch warm-up; default 0.002 for a\n"
            "                          new network, " FT_LR_TEXT " when fine-tuning)\n"
            "      --weight-decay X    AdamW weight decay (default 0.0001 for a new network, 0 when fine-tuning)\n"
            "      --pull X            L2-SP: after each step every weight moves lr x X of the way back to\n"
            "                          its starting value (default " FT_PULL_TEXT " when fine-tuning; 0 for none)\n"
            "      --keep X            the share of every synthetic sample's targets taken from the starting\n"
            "                          weights' own answer, so that they keep what they knew (default " FT_DISTILL_TEXT "\n"
            "                          when fine-tuning; 0 for none)\n"
            "      --seed N            random seed (default 1); same seed and threads, same weights\n"
            "  -j, --threads N         threads for the network (default: all cores)\n"
            "      --device DEV        cpu, cuda or auto (default: CUDA when a device is present)\n"
            "      --producers N       threads making samples (default 1)\n"
            "  -q, --quiet             no progress bar\n"
            "\nExperiment tracking (docs/experiments.md): every run is recorded.\n"
            "      --db SPEC           the store: a SQLite file, postgresql://..., or none (default\n"
            "                          $UNSHARP_DB, else $XDG_DATA_HOME/unsharp/experiments.db)\n"
            "      --queue             store the run in the queue instead of training now\n"
            "      --worker            train queued runs one at a time, each in a child process\n"
            "      --drain             with --worker: exit when the queue is empty\n"
            "      --once              with --worker: train at most one run, then exit\n"
            "      --poll S            with --worker: seconds between looks at an empty queue (default 10)\n"
            "      --stale S           a running run without a heartbeat for S seconds, or whose process\n"
            "                          on this host is gone, is abandoned (default 120)\n"
            "      --max-attempts N    an abandoned queued run goes back to the queue until it has been\n"
            "                          taken N times, then is marked interrupted (default 3)\n"
            "  -h, --help              this help\n"
            "  -V, --version           version\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- the sample queue: producers fill batches in order, the trainer takes them in order ---- */

typedef struct batch {
    float *x;        /* (B, 1, crop, crop) */
    float *tiles;    /* (B, 1, crop/32, crop/32) */
    float *tile_w;
    float *label;    /* (B) */
    float *label_w;  /* (B): 0 when the crop has no detail to judge */
    float *peak;     /* (B): 1 when the crop's sharpest part is sharp (label sharp), else 0 */
    float *dir, *dir_w; /* (B, BLUR_DIRS): crisp (1) or smeared (0) across each direction, and its
                           weight (0 for real labelled photos, whose kernel is unknown) */
    int index;       /* batch number within the epoch, -1 when free */
} batch;

#define QUEUE 4

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    batch slots[QUEUE];
    int next_make, next_take, n_batches, stop, error;
    const options *opt;
    const train_photos *photos;
    const int *order; /* photo per sample */
    int n_synth;         /* photos from n_synth on are real blurred ones, taken as they are */
    const uint8_t *kinds; /* their kind of blur (BLUR_LABEL_*) */
    uint64_t epoch_seed;
    blur_config cfg;
} queue;

static int make_batch(queue *q, int b, batch *out, blur_sample *s, float *window)
{
    const options *o = q->opt;
    int tiles = (o->crop / 32) * (o->crop / 32);
    for (int i = 0; i < o->batch; i++) {
        int sample = b * o->batch + i;
        blur_rng rng = {q->epoch_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(sample + 1))};
        const train_photo *p = &q->photos->items[q->order[sample]];
        if (q->order[sample] >= q->n_synth) {
            labelled_blurry_sample(p, q->kinds[q->order[sample] - q->n_synth], o->crop, &rng, out->x + (size_t)i * o->crop * o->crop,
                               out->tile_w + (size_t)i * tiles, tiles, &out->label[i], &out->label_w[i], &out->peak[i]);
            memset(out->tiles + (size_t)i * tiles, 0, sizeof(float) * tiles);
            memset(out->dir + (size_t)i * BLUR_DIRS, 0, sizeof(float) * BLUR_DIRS);
            memset(out->dir_w + (size_t)i * BLUR_DIRS, 0, sizeof(float) * BLUR_DIRS);
            continue;
        }
        /* a random window of at most 2x the crop, so the sample maker can downscale */
        int ww = p->w < 2 * o->crop ? p->w : 2 * o->crop, wh = p->h < 2 * o->crop ? p->h : 2 * o->crop;
        int x0 = (int)(blur_rng_next(&rng) % (uint64_t)(p->w - ww + 1));
        int y0 = (int)(blur_rng_next(&rng) % (uint64_t)(p->h - wh + 1));
        for (int y = 0; y < wh; y++)
            for (int x = 0; x < ww; x++) window[y * ww + x] = p->luma[(size_t)(y0 + y) * p->w + x0 + x] * (1.0f / 255);
        if (blur_make_sample_ref(&q->cfg, &rng, window, ww, wh, p->texture_ref, s) != 0) return -1;
        memcpy(out->x + (size_t)i * o->crop * o->crop, s->input, sizeof(float) * o->crop * o->crop);
        memcpy(out->tiles + (size_t)i * tiles, s->tile_target, sizeof(float) * tiles);
        memcpy(out->tile_w + (size_t)i * tiles, s->tile_weight, sizeof(float) * tiles);
        out->label[i] = (float)s->label;
        out->label_w[i] = s->image_weight;
        out->peak[i] = s->label == BLUR_LABEL_SHARP ? 1.0f : s->blurred_target;
        memcpy(out->dir + (size_t)i * BLUR_DIRS, s->dir_target, sizeof(float) * BLUR_DIRS);
        memcpy(out->dir_w + (size_t)i * BLUR_DIRS, s->dir_weight, sizeof(float) * BLUR_DIRS);
    }
    return 0;
}

static void *producer(void *arg)
{
    queue *q = arg;
    blur_sample s = {0};
    int alloc_rc = blur_sample_alloc(&q->cfg, &s);
    float *window = malloc(sizeof(float) * 4 * q->opt->crop * q->opt->crop);
    batch tmp = {0};
    pthread_mutex_lock(&q->mu);
    if (alloc_rc != BLUR_OK || !window) q->error = 1;
    while (!q->stop && !q->error && q->next_make < q->n_batches) {
        /* a free slot, and the next batch number to make */
        int slot = -1;
        for (int k = 0; k < QUEUE; k++)
            if (q->slots[k].index == -1 && q->slots[k].x) { slot = k; break; }
        if (slot < 0) {
            pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        int b = q->next_make++;
        q->slots[slot].index = -2; /* being made */
        tmp = q->slots[slot];
        pthread_mutex_unlock(&q->mu);
        int rc = make_batch(q, b, &tmp, &s, window);
        pthread_mutex_lock(&q->mu);
        if (rc) q->error = 1;
        q->slots[slot].index = b;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    blur_sample_free(&s);
    free(window);
    return NULL;
}

/* Waits for batch b; returns its slot, or -1 when a producer failed. */
static int take(queue *q, int b)
{
    pthread_mutex_lock(&q->mu);
    int slot = -1;
    while (!q->error) {
        for (int k = 0; k < QUEUE; k++)
            if (q->slots[k].index == b) slot = k;
        if (slot >= 0) break;
        pthread_cond_wait(&q->cv, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return slot;
}

static void give_back(queue *q, int slot)
{
    pthread_mutex_lock(&q->mu);
    q->slots[slot].index = -1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

/* ---- progress ---- */

static void progress(int epoch, int epochs, int done, int total, double rate, double eta)
{
    int width = 30, fill = total ? done * width / total : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : ' ';
    bar[width] = 0;
    fprintf(stderr, "\r" PROG ": epoch %d/%d [%s] %d/%d samples, %.0f samples/s, ETA %dm%02ds ", epoch, epochs, bar,
            done, total, rate, (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

/* ---- the run ---- */

static const struct option *long_opts; /* parse_args's table, for stored_args */

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option longs[] = {
        {"epochs", required_argument, 0, 'e'}, {"out", required_argument, 0, 'o'},
        {"init", required_argument, 0, 1},     {"resume", required_argument, 0, 2},
        {"checkpoint", required_argument, 0, 3}, {"val", required_argument, 0, 4},
        {"arch", required_argument, 0, 5},     {"batch", required_argument, 0, 'b'},
        {"crop", required_argument, 0, 6},     {"crops-per-photo", required_argument, 0, 7},
        {"lr", required_argument, 0, 8},       {"weight-decay", required_argument, 0, 9},
        {"seed", required_argument, 0, 10},    {"threads", required_argument, 0, 'j'},
        {"producers", required_argument, 0, 11}, {"quiet", no_argument, 0, 'q'},
        {"evaluate", required_argument, 0, 12}, {"scratch", no_argument, 0, 13},
        {"db", required_argument, 0, 200},      {"queue", no_argument, 0, 201},
        {"worker", no_argument, 0, 202},        {"drain", no_argument, 0, 203},
        {"once", no_argument, 0, 204},          {"poll", required_argument, 0, 205},
        {"stale", required_argument, 0, 206},   {"max-attempts", required_argument, 0, 207},
        {"run-id", required_argument, 0, 208},
        {"help", no_argument, 0, 'h'},         {"version", no_argument, 0, 'V'},
        {"device", required_argument, 0, 14},   {"recipe", required_argument, 0, 15},
        {"pull", required_argument, 0, 16},     {"force", no_argument, 0, 17},
        {"sharp", required_argument, 0, 18},    {"blurry", required_argument, 0, 19},
        {"from-marks", required_argument, 0, 20}, {"keep", required_argument, 0, 21},
        {"in-focus", required_argument, 0, 22}, {"sample", required_argument, 0, 23},
        {"tie-transpose", no_argument, 0, 24}, {"oriented-init", no_argument, 0, 25},
        {0, 0, 0, 0},
    };
    long_opts = longs;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (options){.epochs = 0, .batch = 16, .crop = 256, .threads = cores > 0 ? (int)cores : 1, .producers = 1,
                   .crops_per_photo = 4, .lr = 2e-3f, .weight_decay = 1e-4f, .threshold = 0.5f, .seed = 1,
                   .out = "unsharp.usw", .quiet = !isatty(2), .wo = {.poll = 10, .stale = 120, .max_attempts = 3},
                   .device = UNSHARP_DEVICE_AUTO, .in_focus = -1.0f};
    int c, li = -1;
    char *end;
    while ((li = -1, c = getopt_long(argc, argv, "e:o:b:j:qhV", longs, &li)) != -1) {
        errno = 0;
        switch (c) {
        case 'e': o->epochs = (int)strtol(optarg, &end, 10); if (*end || o->epochs < 1) goto bad; break;
        case 'o': o->out = optarg; break;
        case 1: o->init = optarg; break;
        case 2: o->resume = optarg; break;
        case 3: o->checkpoint = optarg; o->checkpoint_given = 1; break;
        case 4: o->val = optarg; break;
        case 5: o->arch_file = optarg; break;
        case 13: o->scratch = 1; break;
        case 24: o->tie_transpose = 1; break;
        case 25: o->oriented_init = 1; break;
        case 'b': o->batch = (int)strtol(optarg, &end, 10); if (*end || o->batch < 1 || o->batch > 1024) goto bad; break;
        case 6: o->crop = (int)strtol(optarg, &end, 10); if (*end || o->crop < 64 || o->crop % 32 || o->crop > 1024) goto bad; break;
        case 15:
            if (!strcmp(optarg, "shipped") || !strcmp(optarg, "v2")) o->recipe = RECIPE_V2;
            else if (!strcmp(optarg, "camera")) o->recipe = RECIPE_CAMERA;
            else if (!strcmp(optarg, "v1")) o->recipe = RECIPE_V1;
            else goto bad;
            break;
        case 23: {
            blur_config probe = blur_config_camera();
            if (o->n_sample_set >= 16 || blur_config_set(&probe, optarg) != BLUR_OK) {
                fprintf(stderr, PROG ": --sample %s: not a setting of the recipe, or a value it cannot take; the names:", optarg);
                for (int i = 0; blur_config_field_name(i); i++) fprintf(stderr, " %s", blur_config_field_name(i));
                fprintf(stderr, "\n");
                return -1;
            }
            o->sample_set[o->n_sample_set++] = optarg;
            break;
        }
        case 22: o->in_focus = strtof(optarg, &end); if (*end || !(o->in_focus >= 0 && o->in_focus <= 1)) goto bad; break;
        case 7: o->crops_per_photo = (int)strtol(optarg, &end, 10); if (*end || o->crops_per_photo < 1) goto bad; break;
        case 8: o->lr = strtof(optarg, &end); if (*end || !(o->lr > 0)) goto bad; o->lr_set = 1; break;
        case 9: o->weight_decay = strtof(optarg, &end); if (*end || !(o->weight_decay >= 0)) goto bad; o->wd_set = 1; break;
        case 16: o->pull = strtof(optarg, &end); if (*end || !(o->pull >= 0)) goto bad; o->pull_set = 1; break;
        case 17: o->force = 1; break;
        case 21: o->distill = strtof(optarg, &end); if (*end || !(o->distill >= 0 && o->distill <= 1)) goto bad; o->distill_set = 1; break;
        case 18: o->sharp_dir = optarg; break;
        case 19: o->blurry_dir = optarg; break;
        case 20: o->marks_dir = optarg; break;
        case 10: o->seed = strtoull(optarg, &end, 10); if (*end || errno) goto bad; break;
        case 'j': o->threads = (int)strtol(optarg, &end, 10); if (*end || o->threads < 1 || o->threads > 256) goto bad; break;
        case 11: o->producers = (int)strtol(optarg, &end, 10); if (*end || o->producers < 1 || o->producers > 64) goto bad; break;
        case 12: o->evaluate = optarg; break;
        case 14:
            if (strcmp(optarg, "cpu") == 0) o->device = UNSHARP_DEVICE_CPU;
            else if (strcmp(optarg, "cuda") == 0) o->device = UNSHARP_DEVICE_CUDA;
            else if (strcmp(optarg, "auto") == 0) o->device = UNSHARP_DEVICE_AUTO;
            else goto bad;
            break;
        case 'q': o->quiet = 1; break;
        case 200: o->db = optarg; break;
        case 201: o->queue = 1; break;
        case 202: o->worker = 1; break;
        case 203: o->wo.drain = 1; break;
        case 204: o->wo.once = 1; break;
        case 205: o->wo.poll = strtod(optarg, &end); if (*end || !(o->wo.poll >= 0)) goto bad; break;
        case 206: o->wo.stale = strtod(optarg, &end); if (*end || !(o->wo.stale > 0)) goto bad; break;
        case 207: o->wo.max_attempts = (int)strtol(optarg, &end, 10); if (*end || o->wo.max_attempts < 1) goto bad; break;
        case 208: o->run_id = strtoll(optarg, &end, 10); if (*end || o->run_id < 1) goto bad; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf(PROG " %s\n", UNSHARP_VERSION_STRING); exit(0);
        default: usage(stderr); return -1;
        }
        continue;
    bad:
        if (li < 0)
            for (int k = 0; longs[k].name; k++)
                if (longs[k].val == c) li = k;
        fprintf(stderr, PROG ": bad value '%s' for --%s\n", optarg, li >= 0 ? longs[li].name : "?");
        return -1;
    }
    if (o->worker) {
        if (optind < argc || o->queue) { fprintf(stderr, PROG ": --worker takes no PHOTOS and no --queue\n"); return -1; }
        return 0;
    }
    if (o->evaluate) {
        if (!o->init) { fprintf(stderr, PROG ": --evaluate needs --init WEIGHTS\n"); return -1; }
        return 0;
    }
    if (o->epochs < 1) { fprintf(stderr, PROG ": --epochs N is required\n"); usage(stderr); return -1; }
    if (optind >= argc && !o->sharp_dir && !o->blurry_dir && !o->marks_dir) {
        fprintf(stderr, PROG ": no PHOTOS given\n");
        usage(stderr);
        return -1;
    }
    return 0;
}

static char *read_text(const char *path)
{
    int fd = unsharp_open_regular(path);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    char *buf = calloc(1, 65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    if (buf) buf[n] = 0;
    return buf;
}

/* Samples a photo gives per epoch: crops_per_photo for each 512x512 of its area (at least
 * crops_per_photo), so a large photo is sampled as often as the small photos that would
 * cover it. */
static int photo_crops(const train_photo *p, int crops_per_photo)
{
    double k = (double)p->w * p->h / (512.0 * 512.0);
    int n = (int)(crops_per_photo * (k > 1 ? k : 1) + 0.5);
    return n > crops_per_photo ? n : crops_per_photo;
}

/* The photo of every sample of an epoch (each photo photo_crops() times), shuffled. */
static void epoch_order(int *order, int n, const train_photos *photos, int crops_per_photo, uint64_t seed)
{
    for (int i = 0, k = 0; i < n; k++)
        for (int c = photo_crops(&photos->items[k % photos->count], crops_per_photo); c > 0 && i < n; c--) order[i++] = k % photos->count;
    blur_rng r = {seed};
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(blur_rng_next(&r) % (uint64_t)(i + 1));
        int t = order[i]; order[i] = order[j]; order[j] = t;
    }
}

/* --evaluate: judge a labelled folder with the given weights. */
static int evaluate(const options *o)
{
    unsharp_model *m = NULL;
    unsharp_model_options mo = {o->device, o->threads};
    if (unsharp_model_load(o->init, &mo, &m) != UNSHARP_OK) {
        fprintf(stderr, PROG ": %s\n", unsharp_errmsg());
        return 2;
    }
    train_val_result v;
    int rc = train_validate(m, o->evaluate, o->threshold, stderr, stdout, &v);
    if (rc == 0)
        printf("# %s: %d sharp, %d blurry, %d failed: accuracy %.3f at threshold %.2f, AUC %.3f, loss %.4f\n", o->evaluate,
               v.n_sharp, v.n_blurry, v.failed, v.accuracy, o->threshold, v.auc, v.loss);
    unsharp_model_free(m);
    return rc == 0 ? (v.failed ? 1 : 0) : 2;
}

/* ---- experiment tracking (store.h, docs/experiments.md) ---- */

#ifndef UNSHARP_CODE_VERSION
#define UNSHARP_CODE_VERSION UNSHARP_VERSION_STRING
#endif

/* SIGINT/SIGTERM stop the run after the current step; it is recorded as interrupted. A second
 * signal ends the program at once (SA_RESETHAND). */
static volatile sig_atomic_t stop_signal;
static void on_signal(int sig)
{
    static const char m[] = "\n" PROG ": stopping after this step (again to stop at once)\n";
    stop_signal = sig;
    if (write(2, m, sizeof m - 1) < 0) stop_signal = sig;
}

typedef struct recorder {
    run_store *st;
    int64_t id;
    int owns_status; /* 0 when a worker records the status of the run it trains */
    int warned;
    double last_beat;
} recorder;

static void rec_check(recorder *r, int rc)
{
    if (rc != 0 && !r->warned) {
        fprintf(stderr, PROG ": recording run %lld: %s (training goes on)\n", (long long)r->id, store_errmsg(r->st));
        r->warned = 1;
    }
}

/* The store named by --db, else $UNSHARP_DB, else the default file; NULL for "none" or when
 * the default cannot be made (with a warning). *explicit_db: named by the user. */
static const char *resolve_db(const options *o, char *buf, size_t n, int *explicit_db)
{
    const char *spec = o->db ? o->db : getenv("UNSHARP_DB");
    *explicit_db = spec && *spec;
    if (*explicit_db) return strcmp(spec, "none") == 0 ? NULL : spec;
    char err[512];
    if (store_default_path(buf, n, err, sizeof err) == 0) return buf;
    fprintf(stderr, PROG ": %s: this run is not recorded\n", err);
    return NULL;
}

/* The arguments to store for a run: argv without the program name and without the tracking
 * options (--db, --queue, --run-id), which belong to where the run is queued or trained.
 * Long options are matched like getopt_long does: exactly or by an unambiguous prefix. */
static char **stored_args(int argc, char **argv, int *n)
{
    char **out = calloc((size_t)argc + 1, sizeof *out);
    if (!out) return NULL;
    *n = 0;
    for (int i = 1; i < argc; i++) {
        const char *t = argv[i];
        if (!strcmp(t, "--")) {
            while (i < argc) out[(*n)++] = argv[i++];
            break;
        }
        int drop = 0, takes_next = 0;
        if (!strncmp(t, "--", 2)) {
            size_t len = strcspn(t + 2, "=");
            int match = -1, count = 0;
            for (int k = 0; long_opts[k].name; k++) {
                if (strncmp(long_opts[k].name, t + 2, len)) continue;
                if (strlen(long_opts[k].name) == len) { match = k; count = 1; break; }
                match = k;
                count++;
            }
            if (count == 1) {
                drop = long_opts[match].val == 200 || long_opts[match].val == 201 || long_opts[match].val == 208;
                takes_next = long_opts[match].has_arg == required_argument && !t[2 + len];
            }
        } else if (t[0] == '-' && t[1]) {
            for (const char *c = t + 1; *c; c++)
                if (strchr("eobj", *c)) { takes_next = !c[1]; break; }
        }
        if (!drop) out[(*n)++] = argv[i];
        if (takes_next && i + 1 < argc) {
            i++;
            if (!drop) out[(*n)++] = argv[i];
        }
    }
    return out;
}

/* The configuration: the arguments as given and the values they resolve to here. */
static char *config_json(const options *o, int nargs, char **args, char *const *photos, int nphotos)
{
    store_buf b = {0};
    store_buf_add(&b, "{\"argv\": [");
    for (int i = 0; i < nargs; i++) {
        if (i) store_buf_add(&b, ", ");
        store_buf_json_string(&b, args[i]);
    }
    store_buf_printf(&b, "], \"epochs\": %d, \"batch\": %d, \"crop\": %d, \"crops_per_photo\": %d, \"lr\": %.7g, "
                         "\"weight_decay\": %.7g, \"seed\": %llu, \"threads\": %d, \"producers\": %d, \"scratch\": %s, "
                         "\"recipe\": \"%s\", \"pull\": %.7g, \"keep\": %.7g, \"force\": %s, \"in_focus\": %.3g, "
                         "\"tie_transpose\": %s, \"oriented_init\": %s",
                     o->epochs, o->batch, o->crop, o->crops_per_photo, o->lr, o->weight_decay,
                     (unsigned long long)o->seed, o->threads, o->producers, o->scratch ? "true" : "false",
                     recipe_name[o->recipe], o->pull, o->distill, o->force ? "true" : "false",
                     o->in_focus >= 0 ? o->in_focus : recipe_config(o->recipe).texture_rel, o->tie_transpose ? "true" : "false",
                     o->oriented_init ? "true" : "false");
    store_buf_add(&b, ", \"sample\": [");
    for (int i = 0; i < o->n_sample_set; i++) {
        if (i) store_buf_add(&b, ", ");
        store_buf_json_string(&b, o->sample_set[i]);
    }
    store_buf_add(&b, "]");
    const char *names[] = {"out", "checkpoint", "init", "resume", "val", "arch", "sharp", "blurry", "from_marks"};
    const char *vals[] = {o->out, o->checkpoint, o->init, o->resume, o->val, o->arch_file, o->sharp_dir, o->blurry_dir,
                          o->marks_dir};
    for (int i = 0; i < 9; i++) {
        store_buf_printf(&b, ", \"%s\": ", names[i]);
        store_buf_json_string(&b, vals[i]);
    }
    store_buf_add(&b, ", \"photos\": [");
    for (int i = 0; i < nphotos; i++) {
        if (i) store_buf_add(&b, ", ");
        store_buf_json_string(&b, photos[i]);
    }
    store_buf_add(&b, "]}");
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}

/* --queue: store the run for a worker. */
static int queue_run(const options *o, const char *spec, int nargs, char **args, char *const *photos, int nphotos)
{
    char err[1024];
    run_store *st = NULL;
    int64_t id = 0;
    char *cfg = config_json(o, nargs, args, photos, nphotos);
    if (!cfg) { fprintf(stderr, PROG ": out of memory\n"); return 2; }
    int rc = 2;
    if (store_open(spec, &st, err, sizeof err) != 0) fprintf(stderr, PROG ": %s\n", err);
    else if (store_new_run(st, "queued", nargs, args, cfg, UNSHARP_CODE_VERSION, NULL, 0, &id) != 0)
        fprintf(stderr, PROG ": queueing: %s\n", store_errmsg(st));
    else {
        printf("queued run %lld\n", (long long)id);
        rc = 0;
    }
    store_close(st);
    free(cfg);
    return rc;
}

/* Starts recording this run: a new "running" run, or (under a worker) the run it was given.
 * Returns 0, or -1 when a store the user named cannot be used. */
static int record_begin(recorder *r, const options *o, const char *spec, int explicit_db, int nargs, char **args,
                        char *const *photos, int nphotos)
{
    char err[1024], host[256] = "localhost";
    *r = (recorder){0};
    if (!spec) return 0;
    if (store_open(spec, &r->st, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s%s\n", err, explicit_db ? "" : ": this run is not recorded");
        return explicit_db ? -1 : 0;
    }
    char *cfg = config_json(o, nargs, args, photos, nphotos);
    gethostname(host, sizeof host - 1);
    int rc;
    if (o->run_id) {
        r->id = o->run_id;
        rc = store_set_config(r->st, r->id, cfg, UNSHARP_CODE_VERSION);
    } else {
        r->owns_status = 1;
        rc = store_new_run(r->st, "running", nargs, args, cfg, UNSHARP_CODE_VERSION, host, (long)getpid(), &r->id);
        if (rc == 0) fprintf(stderr, PROG ": recording run %lld in %s\n", (long long)r->id, store_is_postgres(r->st) ? "postgresql" : spec);
    }
    free(cfg);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s\n", store_errmsg(r->st));
        store_close(r->st);
        r->st = NULL;
        return explicit_db ? -1 : 0;
    }
    r->last_beat = now();
    return 0;
}

/* Records the configuration again once the values it resolves to are known. */
static void record_config(recorder *r, const options *o, int nargs, char **args, char *const *photos, int nphotos)
{
    char *cfg = r->st ? config_json(o, nargs, args, photos, nphotos) : NULL;
    if (cfg) rec_check(r, store_set_config(r->st, r->id, cfg, UNSHARP_CODE_VERSION));
    free(cfg);
}

static void record_data(recorder *r, char *const *paths, int npaths)
{
    char **files = NULL, hex[17];
    int n = 0;
    if (!r->st || train_list_photos(paths, npaths, &files, &n) != 0) return;
    store_fingerprint(files, n, hex);
    rec_check(r, store_set_data(r->st, r->id, hex, n));
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
}

/* Ends the record: the weights written (to --out, or aside when refused), and the status. */
static void record_end(recorder *r, int status, const char *written, const char *message)
{
    if (!r->st) return;
    if (written) {
        char full[PATH_MAX];
        rec_check(r, store_set_weights(r->st, r->id, realpath(written, full) ? full : written));
    }
    if (r->owns_status) {
        char msg[64];
        snprintf(msg, sizeof msg, "exit status %d", status);
        int ok = status == 0 || status == 1; /* 1: trained, refused by the safety gate */
        rec_check(r, store_finish(r->st, r->id, ok ? "done" : stop_signal ? "interrupted" : "failed",
                                  ok ? message : msg));
    }
    store_close(r->st);
    r->st = NULL;
}

static void rec_note(recorder *r, const char *key, const char *value)
{
    if (r->st) rec_check(r, store_set_note(r->st, r->id, key, value));
}

static void rec_figures(recorder *r, int epoch, const holdout_set *s, const holdout_figures *f)
{
    if (r->st)
        rec_check(r, store_add_held_back(r->st, r->id, epoch, s->title, f->keepers, f->kept, f->blurred, f->caught,
                                         f->accuracy, f->auc));
}

/* ---- the held-back split ---- */

/* Loads the photos under a list (none: an empty set); -1 only when some were named and none
 * could be used (the message is on stderr). */
static int load_list(const path_list *l, int crop, const char *what, train_photos *out)
{
    memset(out, 0, sizeof *out);
    if (!l->n) return 0;
    if (train_photos_load(l->v, l->n, UNSHARP_WORKING_LONG_SIDE, crop, stderr, out) != 0) {
        fprintf(stderr, PROG ": no usable %s photos\n", what);
        return -1;
    }
    return 0;
}

/* Moves src's photos to the end of dst. */
static int pool_append(train_photos *dst, train_photos *src)
{
    if (!src->count) return 0;
    train_photo *v = realloc(dst->items, sizeof *v * (size_t)(dst->count + src->count));
    if (!v) return -1;
    memcpy(v + dst->count, src->items, sizeof *v * (size_t)src->count);
    dst->items = v;
    dst->count += src->count;
    free(src->items);
    memset(src, 0, sizeof *src);
    return 0;
}

/* Takes every tenth photo of p out of training into the held-back set (holdout.h). */
static int hold_back(train_photos *p, holdout_set *held)
{
    uint8_t *mark = malloc((size_t)(p->count ? p->count : 1));
    if (!mark) return -1;
    holdout_choose(p->count, mark);
    int k = 0, rc = 0;
    for (int i = 0; i < p->count; i++) {
        if (mark[i] && rc == 0) rc = holdout_add_synthetic(held, &p->items[i], held->n / 2);
        if (mark[i]) {
            free(p->items[i].path);
            free(p->items[i].luma);
        } else
            p->items[k++] = p->items[i];
    }
    p->count = k;
    free(mark);
    return rc;
}

/* The gate's reasons, one a line, as comment lines of the table. */
static void print_why(const char *why)
{
    for (const char *p = why; *p;) {
        size_t n = strcspn(p, "\n");
        printf("#   %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* "keepers kept 100 %, blur caught 95 %" for the starting weights, briefly. */
static void short_words(const holdout_figures *f, char *buf, size_t n)
{
    buf[0] = 0;
    if (f->keepers && f->blurred)
        snprintf(buf, n, "kept %.0f %%, caught %.0f %%", 100.0 * f->kept / f->keepers, 100.0 * f->caught / f->blurred);
    else if (f->keepers) snprintf(buf, n, "kept %.0f %%", 100.0 * f->kept / f->keepers);
    else if (f->blurred) snprintf(buf, n, "caught %.0f %%", 100.0 * f->caught / f->blurred);
}

int main(int argc, char **argv)
{
    options o;
    /* getopt_long reorders argv: the run is recorded with its arguments as given */
    char **given = malloc(sizeof *given * ((size_t)argc + 1)), **args = NULL;
    if (!given) { fprintf(stderr, PROG ": out of memory\n"); return 2; }
    memcpy(given, argv, sizeof *given * ((size_t)argc + 1));
    if (parse_args(argc, argv, &o) != 0) { free(given); return 2; }
    if (o.evaluate) { free(given); return evaluate(&o); }
    char dbpath[4096];
    int explicit_db = 0, nargs = 0;
    const char *spec = resolve_db(&o, dbpath, sizeof dbpath, &explicit_db);
    if ((o.worker || o.queue) && !spec) {
        fprintf(stderr, PROG ": --%s needs a store (--db)\n", o.worker ? "worker" : "queue");
        free(given);
        return 2;
    }
    if (o.worker) { free(given); return store_worker_main(spec, &o.wo, PROG); }
    args = stored_args(argc, given, &nargs);
    free(given);
    if (!args) { fprintf(stderr, PROG ": out of memory\n"); return 2; }
    if (o.queue) {
        int rc = queue_run(&o, spec, nargs, args, argv + optind, argc - optind);
        free(args);
        return rc;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    train_photos_set_stop(&stop_signal);
    recorder rec = {0};
    int status = 2;
    unsharp_model *m = NULL, *start = NULL;
    train_photos photos = {0}, real_sharp = {0}, real_blurry = {0};
    path_list plain = {0}, sharp_l = {0}, blurry_l = {0};
    /* checked: the held-back photos every epoch, the labelled ones every epoch, the photos trained
     * on (as they are) at the end */
    holdout_set sets[3] = {{.title = "held back"}, {.title = "labelled"}, {.title = "trained-on"}};
    holdout_figures first[3] = {{0}}, last[3] = {{0}};
    int have_first[3] = {0, 0, 0};
    ft_anchor anchor = {0};
    uint8_t *kinds = NULL;
    queue q = {0};
    pthread_t *threads = NULL;
    int *order = NULL, started = 0, n_synth = 0;
    char ckpt_default[4096], written_path[4096], why[4096] = "";
    const char *written = NULL, *end_message = NULL;
    char end_buf[4200];

    /* the network: resumed, fine-tuned, or new */
    unsharp_model_options mo = {o.device, o.threads};
    char shipped[4096];
    if (!o.resume && !o.init && !o.arch_file && !o.scratch) {
        if (unsharp_default_weights(shipped, sizeof shipped) == UNSHARP_OK) {
            o.init = shipped;
            fprintf(stderr, PROG ": fine-tuning the shipped weights %s (--scratch for a new network)\n", shipped);
        } else {
            fprintf(stderr, PROG ": %s: training a new network\n", unsharp_errmsg());
        }
    }
    int fine_tuning = o.init != NULL;
    if (!o.checkpoint) {
        if (ft_default_checkpoint(o.out, ckpt_default, sizeof ckpt_default) != 0)
            snprintf(ckpt_default, sizeof ckpt_default, "%s.ckpt", o.out); /* no cache folder to be had */
        o.checkpoint = ckpt_default;
    }
    if (record_begin(&rec, &o, spec, explicit_db, nargs, args, argv + optind, argc - optind) != 0) goto done;
    rec_note(&rec, "checkpoint", o.checkpoint);
    const char *from = o.resume ? o.resume : o.init;
    int first_epoch = 0;
    if (from) {
        if (unsharp_model_load(from, &mo, &m) != UNSHARP_OK) { fprintf(stderr, PROG ": %s\n", unsharp_errmsg()); goto done; }
        const char *e = o.resume ? unsharp_model_get_meta(m, "train.epochs_done") : NULL;
        if (o.resume && !e) { fprintf(stderr, PROG ": %s is not a checkpoint (no train.epochs_done)\n", o.resume); goto done; }
        if (e) first_epoch = atoi(e);
    } else {
        char *arch = o.arch_file ? read_text(o.arch_file) : NULL;
        if (o.arch_file && !arch) { fprintf(stderr, PROG ": %s: %s\n", o.arch_file, strerror(errno)); goto done; }
        unsharp_status st = unsharp_model_create(arch ? arch : UNSHARP_DEFAULT_ARCH, o.seed, &mo, &m);
        free(arch);
        if (st != UNSHARP_OK) { fprintf(stderr, PROG ": %s\n", unsharp_errmsg()); goto done; }
        const char *first = NULL;
        if (o.oriented_init && orient_first_conv(m, &first) != 0) {
            fprintf(stderr, PROG ": --oriented-init: %s\n",
                    first ? unsharp_model_errmsg(m) : "the network has no convolution reading one channel with a kernel of 3 or more");
            goto done;
        }
    }
    /* the starting weights: the loaded ones, or for a resumed fine-tune those its checkpoint names */
    if (o.init) {
        char full[PATH_MAX];
        unsharp_model_set_meta(m, "train.start", realpath(o.init, full) ? full : o.init);
        if (unsharp_model_load(o.init, &mo, &start) != UNSHARP_OK) { fprintf(stderr, PROG ": %s\n", unsharp_errmsg()); goto done; }
    } else if (o.resume && unsharp_model_get_meta(m, "train.start")) {
        const char *sp = unsharp_model_get_meta(m, "train.start");
        if (unsharp_model_load(sp, &mo, &start) != UNSHARP_OK) {
            fprintf(stderr, PROG ": the starting weights of this run: %s: no safety gate at the end\n", unsharp_errmsg());
            start = NULL;
        }
        fine_tuning = start != NULL;
    }
    if (fine_tuning) {
        if (!o.lr_set) o.lr = FT_LR;
        if (!o.wd_set) o.weight_decay = 0;
        if (!o.pull_set) o.pull = FT_PULL;
        if (!o.distill_set) o.distill = FT_DISTILL;
        if (ft_anchor_take(start, &anchor) != 0) { fprintf(stderr, PROG ": %s\n", unsharp_model_errmsg(start)); goto done; }
        record_config(&rec, &o, nargs, args, argv + optind, argc - optind); /* with the fine-tuning defaults */
    }
    unsharp_optimizer_config oc = {UNSHARP_OPT_ADAM, o.lr, 0.9f, 0.999f, 1e-8f, 0, o.weight_decay};
    /* a checkpoint carries the optimiser's state: a resumed run goes on exactly where it stopped */
    int restored = o.resume && unsharp_model_get_optimizer(m, NULL);
    if (o.resume && !restored)
        fprintf(stderr, PROG ": %s has no optimiser state (an older checkpoint): Adam starts afresh\n", o.resume);
    if (!restored && unsharp_model_set_optimizer(m, &oc) != UNSHARP_OK) { fprintf(stderr, PROG ": %s\n", unsharp_model_errmsg(m)); goto done; }
    if (o.tie_transpose && unsharp_model_tie_transpose(m) != UNSHARP_OK) {
        fprintf(stderr, PROG ": --tie-transpose: %s\n", unsharp_model_errmsg(m));
        goto done;
    }

    /* An optional loss "peak_loss" on the crop's sharpest part (in the shipped network a global
     * max over 2x2 blocks of the tile map): a blurred crop's sharpest part must still look
     * blurry, a sharp crop's must look sharp. It trains the tail of the tile map that the
     * subject-aware score reads. Its target is 1 for a sharp (or keeper) crop, else 0. */
    const float no_target = 0.0f;
    int has_peak = unsharp_model_set_target(m, "peak_loss", &no_target, NULL, 1) == UNSHARP_OK;
    /* An optional loss "dir_loss" (an experiment, weights/experiments/context-dir.arch): BLUR_DIRS
     * logits a crop, one per direction, taught whether the crop's detail across that direction
     * is crisp or smeared (blur_sample.dir_target). A line smears one direction all over the
     * photo; a one-way texture is crisp every way. */
    int has_dir = unsharp_model_set_target(m, "dir_loss", &no_target, NULL, 1) == UNSHARP_OK;

    /* the photos, once: plain PHOTOS, and real labelled ones */
    if (labelled_collect(argv + optind, argc - optind, o.sharp_dir, o.blurry_dir, o.marks_dir, stderr, &plain, &sharp_l,
                         &blurry_l) != 0) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    double t0 = now();
    fprintf(stderr, PROG ": decoding photos at long side %d...\n", UNSHARP_WORKING_LONG_SIDE);
    if (plain.n && train_photos_load(plain.v, plain.n, UNSHARP_WORKING_LONG_SIDE, o.crop, stderr, &photos) != 0) goto done;
    if (load_list(&sharp_l, o.crop, "sharp", &real_sharp) != 0 || load_list(&blurry_l, o.crop, "blurry", &real_blurry) != 0)
        goto done;
    fprintf(stderr, PROG ": %d photos (%d failed, %d smaller than %d px) in %.1f s\n", photos.count, photos.failed,
            photos.too_small, o.crop, now() - t0);
    if (real_sharp.count || real_blurry.count)
        fprintf(stderr, PROG ": %d labelled sharp and %d labelled blurry photos\n", real_sharp.count, real_blurry.count);
    record_data(&rec, argv + optind, argc - optind);
    if (stop_signal) goto done;
    if (fine_tuning && hold_back(&photos, &sets[0]) != 0) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    if (fine_tuning && photos.count > 0 && !sets[0].n)
        fprintf(stderr, PROG ": fewer than 10 photos: none held back to check the new weights on\n");
    /* the training pool: plain photos, sharp labelled ones (as sources of synthetic samples), then
     * the real blurred ones (taken as they are) */
    int first_labelled = photos.count;
    if (pool_append(&photos, &real_sharp) != 0) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    n_synth = photos.count;
    if (pool_append(&photos, &real_blurry) != 0) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    if (photos.count == 0) { fprintf(stderr, PROG ": no photos left to train on\n"); goto done; }
    /* the labelled set: the labelled photos (borrowed from the pool) and --val's */
    train_photos val_photos[2] = {{0}};
    for (int i = first_labelled; i < photos.count; i++)
        if (holdout_add_borrowed(&sets[1], photos.items[i].path, photos.items[i].luma, photos.items[i].w,
                                 photos.items[i].h, i < n_synth) != 0) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    if (o.val && fine_tuning) {
        for (int cls = 0; cls < 2; cls++) {
            char dir[4096];
            char *pd = dir;
            snprintf(dir, sizeof dir, "%s/%s", o.val, cls ? "sharp" : "blurry");
            struct stat sb;
            if (stat(dir, &sb) != 0) continue;
            if (train_photos_load(&pd, 1, UNSHARP_WORKING_LONG_SIDE, 64, stderr, &val_photos[cls]) != 0) continue;
            int bad = 0;
            for (int i = 0; i < val_photos[cls].count && !bad; i++) {
                train_photo *v = &val_photos[cls].items[i];
                bad = holdout_add(&sets[1], v->path, v->luma, v->w, v->h, cls) != 0;
            }
            train_photos_free(&val_photos[cls]);
            if (bad) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
        }
    }
    /* the kind of blur of each real blurred photo, as the starting weights see it */
    kinds = calloc((size_t)(photos.count - n_synth + 1), 1);
    if (!kinds) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    for (int i = n_synth; i < photos.count; i++) {
        train_photo *p = &photos.items[i];
        unsharp_image img = {.width = p->w, .height = p->h, .channels = 1, .format = UNSHARP_PIXEL_LUMA8,
                             .stride = (size_t)p->w, .pixels = p->luma};
        unsharp_judgement j = {0};
        kinds[i - n_synth] = BLUR_LABEL_DEFOCUS;
        if (start && unsharp_judge(start, &img, NULL, &j) == UNSHARP_OK && j.kind == UNSHARP_KIND_MOTION)
            kinds[i - n_synth] = BLUR_LABEL_MOTION;
        unsharp_judgement_free(&j);
    }
    /* the starting weights on the checked sets */
    for (int k = 0; k < 2 && start; k++) {
        if (!sets[k].n) continue;
        if (holdout_judge(start, &sets[k], stderr, &first[k]) != 0) continue;
        have_first[k] = 1;
        char w[256];
        holdout_words(&first[k], w, sizeof w);
        printf("# the starting weights on the %s photos: %s\n", sets[k].title, w);
        rec_figures(&rec, 0, &sets[k], &first[k]);
    }

    int per_epoch = 0;
    for (int i = 0; i < photos.count; i++) per_epoch += photo_crops(&photos.items[i], o.crops_per_photo);
    per_epoch = per_epoch / o.batch * o.batch;
    if (per_epoch < o.batch) per_epoch = o.batch;
    int steps = per_epoch / o.batch, tiles = (o.crop / 32) * (o.crop / 32);
    order = malloc(sizeof *order * (size_t)per_epoch);
    threads = calloc((size_t)o.producers, sizeof *threads);
    if (!order || !threads) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    q.opt = &o;
    q.photos = &photos;
    q.order = order;
    q.n_synth = n_synth;
    q.kinds = kinds;
    q.cfg = recipe_config(o.recipe);
    if (o.in_focus >= 0) q.cfg.texture_rel = o.in_focus;
    for (int i = 0; i < o.n_sample_set; i++)
        if (blur_config_set(&q.cfg, o.sample_set[i]) != BLUR_OK) {
            fprintf(stderr, PROG ": --sample %s: the recipe cannot take that value\n", o.sample_set[i]);
            goto done;
        }
    if (q.cfg.texture_rel > 0) /* the photos' in-focus levels, only when the recipe reads them */
        for (int i = 0; i < photos.count; i++)
            photos.items[i].texture_ref = blur_photo_texture_ref(photos.items[i].luma, photos.items[i].w,
                                                                 photos.items[i].h, 32);
    q.cfg.crop = o.crop;
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    started = 1;
    for (int k = 0; k < QUEUE; k++) {
        batch *b = &q.slots[k];
        b->x = malloc(sizeof(float) * o.batch * o.crop * o.crop);
        b->tiles = malloc(sizeof(float) * o.batch * tiles);
        b->tile_w = malloc(sizeof(float) * o.batch * tiles);
        b->label = malloc(sizeof(float) * o.batch);
        b->label_w = malloc(sizeof(float) * o.batch);
        b->peak = malloc(sizeof(float) * o.batch);
        b->dir = malloc(sizeof(float) * o.batch * BLUR_DIRS);
        b->dir_w = malloc(sizeof(float) * o.batch * BLUR_DIRS);
        b->index = -1;
        if (!b->x || !b->tiles || !b->tile_w || !b->label || !b->label_w || !b->peak || !b->dir || !b->dir_w) { fprintf(stderr, PROG ": out of memory\n"); goto done; }
    }

    printf("# %s: %d photos, %d samples an epoch, batch %d, crop %d, %d network threads, seed %llu, device %s\n", PROG,
           photos.count, per_epoch, o.batch, o.crop, o.threads, (unsigned long long)o.seed, unsharp_model_backend(m));
    if (fine_tuning)
        printf("# fine-tuning: learning rate %g, pull toward the starting weights %g, their answers kept %g, weight decay %g\n",
               o.lr, o.pull, o.distill, o.weight_decay);
    printf("# epoch  train_loss  val_loss  val_acc  val_auc  seconds         lr  samples/s\n");
    fprintf(stderr, PROG ": checkpoint %s (%s)\n", o.checkpoint,
            o.checkpoint_given ? "kept" : "removed when the run ends; --resume it after an interruption");
    double run_start = now();
    /* the loss of the very first step (the starting weights' own) and the worst epoch's mean:
     * a fine-tune whose loss climbs far above where it began has gone astray */
    double first_loss = 0, worst_loss = 0;
    int worst_epoch = 0;
    for (int epoch = first_epoch; epoch < o.epochs; epoch++) {
        double e0 = now(), loss_sum = 0, lr = 0;
        q.epoch_seed = o.seed * 0x100000001B3ull + (uint64_t)epoch * 0x9E3779B97F4A7C15ull;
        epoch_order(order, per_epoch, &photos, o.crops_per_photo, q.epoch_seed);
        q.next_make = 0;
        q.n_batches = steps;
        for (int k = 0; k < o.producers; k++) pthread_create(&threads[k], NULL, producer, &q);
        for (int s = 0; s < steps; s++) {
            /* cosine decay after a one-epoch linear warm-up */
            double t = (double)(epoch * steps + s) / ((double)o.epochs * steps);
            double warm = fmin(1.0, (epoch * steps + s + 1.0) / steps);
            lr = (float)(o.lr * warm * 0.5 * (1 + cos(M_PI * t)));
            unsharp_model_set_lr(m, (float)lr);
            if (stop_signal) goto stop;
            if (rec.st && rec.owns_status && now() - rec.last_beat > 10) {
                rec_check(&rec, store_heartbeat(rec.st, rec.id));
                rec.last_beat = now();
            }
            int slot = take(&q, s);
            if (slot < 0) { fprintf(stderr, "\n" PROG ": making samples failed\n"); goto stop; }
            batch *b = &q.slots[slot];
            unsharp_tensor x = unsharp_tensor_make(b->x, o.batch, 1, o.crop, o.crop);
            double loss = 0;
            if (start && o.distill > 0 &&
                ft_keep_targets(start, &x, o.distill, b->tiles, b->tile_w, has_peak ? b->peak : NULL, o.batch, o.crop / 32) != 0) {
                fprintf(stderr, "\n" PROG ": %s\n", unsharp_model_errmsg(start));
                give_back(&q, slot);
                goto stop;
            }
            if (unsharp_model_set_target(m, "tile_loss", b->tiles, b->tile_w, (size_t)o.batch * tiles) != UNSHARP_OK ||
                unsharp_model_set_target(m, "image_loss", b->label, b->label_w, (size_t)o.batch) != UNSHARP_OK ||
                (has_peak && unsharp_model_set_target(m, "peak_loss", b->peak, b->label_w, (size_t)o.batch) != UNSHARP_OK) ||
                (has_dir && unsharp_model_set_target(m, "dir_loss", b->dir, b->dir_w, (size_t)o.batch * BLUR_DIRS) != UNSHARP_OK) ||
                unsharp_model_zero_grad(m) != UNSHARP_OK || unsharp_model_forward(m, &x, 1) != UNSHARP_OK ||
                unsharp_model_loss(m, &loss) != UNSHARP_OK || unsharp_model_backward(m) != UNSHARP_OK ||
                unsharp_model_step(m) != UNSHARP_OK || (anchor.n && ft_anchor_pull(m, &anchor, (float)(lr * o.pull)) != 0) ||
                (o.tie_transpose && unsharp_model_tie_transpose(m) != UNSHARP_OK)) {
                fprintf(stderr, "\n" PROG ": %s\n", unsharp_model_errmsg(m));
                give_back(&q, slot);
                goto stop;
            }
            give_back(&q, slot);
            loss_sum += loss;
            if (epoch == 0 && s == 0) first_loss = loss;
            if (!o.quiet) {
                double el = now() - run_start, done_n = (double)(epoch - first_epoch) * per_epoch + (s + 1) * o.batch;
                double left = (double)(o.epochs - epoch) * per_epoch - (s + 1) * o.batch;
                progress(epoch + 1, o.epochs, (s + 1) * o.batch, per_epoch, done_n / el, left / (done_n / el));
            }
        }
        for (int k = 0; k < o.producers; k++) pthread_join(threads[k], NULL);
        if (!o.quiet) fprintf(stderr, "\n");
        double rate = per_epoch / (now() - e0);
        if (loss_sum / steps > worst_loss) {
            worst_loss = loss_sum / steps;
            worst_epoch = epoch + 1;
        }

        train_val_result v = {0};
        int have_val = o.val && train_validate(m, o.val, o.threshold, stderr, NULL, &v) == 0;
        /* the checked sets, in a photographer's words, beside the starting weights */
        char words[2][512];
        for (int k = 0; k < 2; k++) {
            words[k][0] = 0;
            if (!sets[k].n) continue;
            holdout_figures_free(&last[k]);
            if (holdout_judge(m, &sets[k], stderr, &last[k]) != 0) continue;
            char w[256], f[128] = "";
            holdout_words(&last[k], w, sizeof w);
            if (have_first[k]) short_words(&first[k], f, sizeof f);
            snprintf(words[k], sizeof words[k], "         %s: %s%s%s%s\n", sets[k].title, w, f[0] ? " (the starting weights: " : "",
                     f, f[0] ? ")" : "");
            rec_figures(&rec, epoch + 1, &sets[k], &last[k]);
        }
        double secs = now() - e0;
        if (have_val) printf("%7d  %10.4f  %8.4f  %7.3f  %7.3f  %7.1f  %9.3e  %9.1f\n", epoch + 1, loss_sum / steps, v.loss, v.accuracy, v.auc, secs, lr, rate);
        else printf("%7d  %10.4f  %8s  %7s  %7s  %7.1f  %9.3e  %9.1f\n", epoch + 1, loss_sum / steps, "-", "-", "-", secs, lr, rate);
        printf("%s%s", words[0], words[1]);
        fflush(stdout);
        if (rec.st) {
            rec_check(&rec, store_add_epoch(rec.st, rec.id, epoch + 1, loss_sum / steps, have_val ? v.loss : NAN,
                                            have_val ? v.accuracy : NAN, have_val ? v.auc : NAN, lr, rate, secs));
            rec.last_beat = now();
        }

        char done_s[32];
        snprintf(done_s, sizeof done_s, "%d", epoch + 1);
        unsharp_model_set_meta(m, "train.epochs_done", done_s);
        if (unsharp_model_save_checkpoint(m, o.checkpoint) != UNSHARP_OK) {
            fprintf(stderr, PROG ": checkpoint: %s\n", unsharp_model_errmsg(m));
            goto done;
        }
        if (stop_signal) goto done;
        continue;
    stop:
        pthread_mutex_lock(&q.mu);
        q.stop = 1;
        pthread_cond_broadcast(&q.cv);
        pthread_mutex_unlock(&q.mu);
        for (int k = 0; k < o.producers; k++) pthread_join(threads[k], NULL);
        goto done;
    }

    /* the photos trained on, as they are: keepers too */
    for (int i = 0; start && i < first_labelled && i < photos.count; i++)
        if (holdout_add_borrowed(&sets[2], photos.items[i].path, photos.items[i].luma, photos.items[i].w, photos.items[i].h, 1) != 0) {
            fprintf(stderr, PROG ": out of memory\n");
            goto done;
        }
    if (sets[2].n && holdout_judge(start, &sets[2], stderr, &first[2]) == 0 && holdout_judge(m, &sets[2], stderr, &last[2]) == 0) {
        char w[256], f[128];
        have_first[2] = 1;
        holdout_words(&last[2], w, sizeof w);
        short_words(&first[2], f, sizeof f);
        printf("         %s: %s (the starting weights: %s)\n", sets[2].title, w, f);
        rec_figures(&rec, 0, &sets[2], &first[2]);
        rec_figures(&rec, o.epochs, &sets[2], &last[2]);
    }

    /* The keeper line. Where the new network reads a keeper of yours, one the starting weights
     * kept, under the blurry line, the new weights' line comes down to it, but only through empty
     * ground: when a blurred photo of the checked sets lies between the two lines, the line stays
     * and the gate below refuses the weights for that keeper. No photo moves toward blurry by it. */
    if (fine_tuning) {
        const char *mb = unsharp_model_get_meta(m, "threshold.blurry");
        holdout_keeper kl = holdout_keeper_over(sets, first, last, have_first, 3, mb ? (float)atof(mb) : 0.4f); /* 0.4: the engine's default */
        const char *base = kl.who && strrchr(kl.who, '/') ? strrchr(kl.who, '/') + 1 : kl.who ? kl.who : "?";
        if (kl.moved < kl.line && kl.through) {
            printf("# the blurry line stays at %.4g: the new weights read your keeper %s at %.4f, but moving the line under it "
                   "would let %d blurred photo%s through\n", kl.line, base, kl.lowest, kl.through, kl.through == 1 ? "" : "s");
        } else if (kl.moved < kl.line) {
            char v[32], note[512];
            snprintf(v, sizeof v, "%.4f", kl.moved);
            unsharp_model_set_meta(m, "threshold.blurry", v);
            snprintf(note, sizeof note, "%.4g -> %s (%s read %.4f)", kl.line, v, base, kl.lowest);
            unsharp_model_set_meta(m, "train.keeper_line", note);
            rec_note(&rec, "keeper_line", note);
            printf("# the blurry line moves from %.4g to %s: the new weights read your keeper %s at %.4f, which the starting "
                   "weights kept; no blurred photo lies between the two lines, and a photo there would be unsure, not blurry\n",
                   kl.line, v, base, kl.lowest);
            for (int k = 0; k < 3; k++) {
                if (!have_first[k]) continue;
                holdout_recount(&sets[k], &last[k], kl.moved);
                char w[256];
                holdout_words(&last[k], w, sizeof w);
                printf("         %s, at the moved line: %s\n", sets[k].title, w);
            }
        }
    }

    /* the safety gate: the new weights against the starting weights, photo by photo */
    int refused = 0, checked = 0;
    for (int k = 0; k < 3; k++) {
        if (!have_first[k] || !last[k].called_blurry) continue;
        checked = 1;
        refused |= holdout_gate(&sets[k], &first[k], &last[k], why, sizeof why);
    }
    if (fine_tuning && first_loss > 0 && worst_loss > UNSTABLE * first_loss) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof why - used,
                 "training went unstable: its loss rose from %.2f to %.2f (epoch %d), so these weights cannot be trusted "
                 "even where your photos still look right (a smaller --lr trains gently; the default is " FT_LR_TEXT ")\n",
                 first_loss, worst_loss, worst_epoch);
        refused = checked = 1;
    }
    if (fine_tuning && !checked)
        fprintf(stderr, PROG ": nothing to check the new weights on (hold back 10 or more photos, or give --sharp, "
                        "--blurry or --val): no safety gate\n");

    char meta[256];
    /* no times here: the same seed and threads must give the same bytes */
    snprintf(meta, sizeof meta, "%d epochs, %d photos, batch %d, crop %d, seed %llu, %d threads", o.epochs, photos.count,
             o.batch, o.crop, (unsigned long long)o.seed, o.threads);
    unsharp_model_set_meta(m, "train.summary", meta);
    unsharp_model_set_meta(m, "train.epochs_done", NULL);
    unsharp_model_set_meta(m, "train.start", NULL);
    written = o.out;
    if (refused && !o.force) {
        ft_rejected_path(o.out, written_path, sizeof written_path);
        written = written_path;
    }
    if (unsharp_model_save(m, written) != UNSHARP_OK) {
        fprintf(stderr, PROG ": %s\n", unsharp_model_errmsg(m));
        written = NULL;
        goto done;
    }
    if (refused) {
        size_t l = strlen(why);
        while (l && why[l - 1] == '\n') why[--l] = 0;
        rec_note(&rec, "gate", o.force ? "refused, written anyway (--force)" : "refused");
        rec_note(&rec, "gate_reason", why);
        if (o.force) {
            printf("# the safety gate would refuse these weights; written to %s anyway (--force):\n", o.out);
            print_why(why);
            fprintf(stderr, PROG ": wrote %s despite the safety gate (--force)\n", o.out);
            status = 0;
        } else {
            printf("# REFUSED: these weights would make unsharp worse; %s is untouched and the weights in use stay in use.\n",
                   o.out);
            print_why(why);
            printf("#   The new weights are in %s (to install them anyway: --force, or copy that file).\n", written);
            fprintf(stderr, PROG ": refused by the safety gate: %s\n" PROG ": the new weights are in %s; %s is untouched\n",
                    why, written, o.out);
            snprintf(end_buf, sizeof end_buf, "refused by the safety gate: %s", why);
            end_message = end_buf;
            status = 1;
        }
    } else {
        if (checked) {
            rec_note(&rec, "gate", "passed");
            printf("# passed the safety gate: no keeper lost, no less blur caught; wrote %s\n", o.out);
        }
        fprintf(stderr, PROG ": wrote %s (%s) in %.0f s\n", o.out, meta, now() - run_start);
        status = 0;
    }
    if (!o.checkpoint_given && remove(o.checkpoint) != 0 && errno != ENOENT)
        fprintf(stderr, PROG ": could not remove the checkpoint %s: %s\n", o.checkpoint, strerror(errno));
done:
    if (stop_signal && status != 0 && status != 1) {
        status = 128 + stop_signal;
        fprintf(stderr, PROG ": stopped by %s; --resume %s continues from the last finished epoch\n",
                stop_signal == SIGINT ? "SIGINT" : "SIGTERM", o.checkpoint);
    }
    record_end(&rec, status, status == 0 || status == 1 ? written : NULL, end_message);
    free(args);
    if (started) {
        for (int k = 0; k < QUEUE; k++) {
            free(q.slots[k].x);
            free(q.slots[k].tiles);
            free(q.slots[k].tile_w);
            free(q.slots[k].label);
            free(q.slots[k].label_w);
            free(q.slots[k].peak);
            free(q.slots[k].dir);
            free(q.slots[k].dir_w);
        }
        pthread_mutex_destroy(&q.mu);
        pthread_cond_destroy(&q.cv);
    }
    for (int k = 0; k < 3; k++) {
        holdout_figures_free(&first[k]);
        holdout_figures_free(&last[k]);
        holdout_free(&sets[k]);
    }
    ft_anchor_free(&anchor);
    path_list_free(&plain);
    path_list_free(&sharp_l);
    path_list_free(&blurry_l);
    free(kinds);
    free(threads);
    free(order);
    train_photos_free(&photos);
    train_photos_free(&real_sharp);
    train_photos_free(&real_blurry);
    unsharp_model_free(start);
    unsharp_model_free(m);
    return status;
}
