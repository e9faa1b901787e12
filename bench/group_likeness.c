/* group_likeness.c: measures the likeness (unsharp_frame_likeness) that unsharp_group's
 * default is chosen from: how alike the frames of a sequence look, made from each photo
 * (blurred as a burst's frames are, exposed -2 to +2 EV as a bracket's, moved a little as a
 * hand-held burst, half overlapping as a panorama's), and how alike distinct photos look
 * (each with the next ten in the list, so that any two photos of a folder are compared when
 * it has at most eleven). Prints the distribution of each, and how many pairs a likeness
 * threshold would link, and what unsharp_group with its defaults makes of each pair of a
 * sequence (the role it gives; a burst's frames should be best/burst, a panorama's pano).
 * docs/library.md has the figures.
 * usage: group_likeness PHOTO... */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unsharp/unsharp.h"

typedef struct series {
    const char *name;
    float *v;
    size_t n, cap;
    int side; /* compare the side-by-side likeness, not the in-place one */
} series;

static void add(series *s, float v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) exit(2);
    }
    s->v[s->n++] = v;
}

static int cmp(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* a view of img: columns x0..x0+w (shares the pixels) */
static unsharp_image view(const unsharp_image *img, int x0, int w)
{
    unsharp_image v = *img;
    v.pixels = (unsigned char *)img->pixels + x0;
    v.width = w;
    return v;
}

/* the roles unsharp_group gives pairs of a kind: counts of single, burst (best or burst), pano */
typedef struct roles {
    size_t single, burst, pano, other;
} roles;

static void role_of(roles *r, const unsharp_frame *a, const unsharp_frame *b)
{
    unsharp_frame f[2] = {*a, *b};
    const char *keys[2] = {"a", "b"};
    unsharp_group_place p[2];
    f[0].time_ms = f[1].time_ms = 0;
    if (unsharp_group(f, keys, 2, NULL, p) != UNSHARP_OK) exit(2);
    unsharp_role x = p[1].role;
    if (x == UNSHARP_ROLE_SINGLE) r->single++;
    else if (x == UNSHARP_ROLE_BEST || x == UNSHARP_ROLE_BURST) r->burst++;
    else if (x == UNSHARP_ROLE_PANO) r->pano++;
    else r->other++;
}

static unsharp_frame describe(const unsharp_image *img)
{
    unsharp_frame f = {0};
    if (unsharp_frame_describe(&f, img, NULL) != UNSHARP_OK) exit(2);
    return f;
}

/* a copy blurred by three box passes of radius r each way (about a Gaussian of sigma r) */
static unsharp_image *blurred(const unsharp_image *img, int r)
{
    int w = img->width, h = img->height;
    unsharp_image *o = malloc(sizeof *o);
    float *a = malloc((size_t)w * h * sizeof *a), *b = malloc((size_t)w * h * sizeof *b);
    unsigned char *px = malloc((size_t)w * h);
    if (!o || !a || !b || !px) exit(2);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) a[(size_t)y * w + x] = ((unsigned char *)img->pixels)[(size_t)y * img->stride + x];
    for (int pass = 0; pass < 3; pass++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double s = 0;
                int n = 0;
                for (int k = -r; k <= r; k++)
                    if (x + k >= 0 && x + k < w) s += a[(size_t)y * w + x + k], n++;
                b[(size_t)y * w + x] = (float)(s / n);
            }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double s = 0;
                int n = 0;
                for (int k = -r; k <= r; k++)
                    if (y + k >= 0 && y + k < h) s += b[(size_t)(y + k) * w + x], n++;
                a[(size_t)y * w + x] = (float)(s / n);
            }
    }
    for (size_t i = 0; i < (size_t)w * h; i++) px[i] = (unsigned char)lrintf(a[i]);
    *o = *img;
    o->pixels = px;
    o->stride = (size_t)w;
    free(a);
    free(b);
    return o;
}

static unsharp_image *exposed(const unsharp_image *img, double ev)
{
    int w = img->width, h = img->height;
    unsharp_image *o = malloc(sizeof *o);
    unsigned char *px = malloc((size_t)w * h), lut[256];
    if (!o || !px) exit(2);
    for (int v = 0; v < 256; v++) {
        double l = pow(v / 255.0, 2.2) * pow(2, ev);
        lut[v] = (unsigned char)lrint(255 * pow(l > 1 ? 1 : l, 1 / 2.2));
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) px[(size_t)y * w + x] = lut[((unsigned char *)img->pixels)[(size_t)y * img->stride + x]];
    *o = *img;
    o->pixels = px;
    o->stride = (size_t)w;
    return o;
}

static void free_copy(unsharp_image *o)
{
    free(o->pixels);
    free(o);
}

static void report(series *s)
{
    if (!s->n) return;
    qsort(s->v, s->n, sizeof *s->v, cmp);
#define Q(p) s->v[(size_t)((p) * (s->n - 1))]
    printf("%-28s %6zu  min %6.3f  p1 %6.3f  p5 %6.3f  median %6.3f  p99 %6.3f  p99.9 %6.3f  max %6.3f\n", s->name, s->n,
           s->v[0], Q(0.01), Q(0.05), Q(0.5), Q(0.99), Q(0.999), s->v[s->n - 1]);
}

/* the share of s at or above each threshold */
static void linked(const series *s, const float *th, int nth)
{
    printf("%-28s", s->name);
    for (int t = 0; t < nth; t++) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) k += s->v[i] >= th[t];
        printf(" %7.4f", s->n ? (double)k / s->n : 0);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: group_likeness PHOTO...\n");
        return 2;
    }
    enum { BLUR2, BLUR4, BLUR8, EVM2, EVM1, EVP1, EVP2, MOVE5, MOVE10, PANO_SIDE, PANO_INPLACE, DISTINCT,
           DISTINCT_SIDE, NSERIES };
    series s[NSERIES] = {{.name = "burst: blur sigma 2"},        {.name = "burst: blur sigma 4"},  {.name = "burst: blur sigma 8"},
                         {.name = "bracket: -2 EV"},             {.name = "bracket: -1 EV"},       {.name = "bracket: +1 EV"},
                         {.name = "bracket: +2 EV"},             {.name = "burst: moved 5 %"},     {.name = "burst: moved 10 %"},
                         {.name = "pano: half overlap, side"},   {.name = "pano: half, in place"}, {.name = "distinct: in place"},
                         {.name = "distinct: side by side"}};
    int n = argc - 1;
    unsharp_frame *frames = calloc((size_t)n, sizeof *frames);
    unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    int ok = 0;
    roles burst_roles = {0}, pano_roles = {0}, distinct_roles = {0};
    for (int i = 0; i < n; i++) {
        unsharp_image *img = NULL;
        if (unsharp_image_load(argv[i + 1], &io, &img) != UNSHARP_OK) {
            fprintf(stderr, "skipped: %s\n", unsharp_errmsg());
            continue;
        }
        frames[ok] = describe(img);
        float in, side;
        const int radii[3] = {2, 4, 8};
        for (int k = 0; k < 3; k++) {
            unsharp_image *b = blurred(img, radii[k]);
            unsharp_frame f = describe(b);
            unsharp_frame_likeness(&frames[ok], &f, &in, NULL);
            add(&s[BLUR2 + k], in);
            role_of(&burst_roles, &frames[ok], &f);
            free_copy(b);
        }
        const double evs[4] = {-2, -1, 1, 2};
        for (int k = 0; k < 4; k++) {
            unsharp_image *e = exposed(img, evs[k]);
            unsharp_frame f = describe(e);
            unsharp_frame_likeness(&frames[ok], &f, &in, NULL);
            add(&s[EVM2 + k], in);
            free_copy(e);
        }
        int w = img->width, cw = w * 9 / 10;
        unsharp_image a = view(img, 0, cw), m5 = view(img, w / 20, cw), m10 = view(img, w / 10, cw);
        unsharp_frame fa = describe(&a), f5 = describe(&m5), f10 = describe(&m10);
        unsharp_frame_likeness(&fa, &f5, &in, NULL);
        add(&s[MOVE5], in);
        unsharp_frame_likeness(&fa, &f10, &in, NULL);
        add(&s[MOVE10], in);
        role_of(&burst_roles, &fa, &f5);
        role_of(&burst_roles, &fa, &f10);
        int pw = w * 6 / 10;
        unsharp_image pl = view(img, 0, pw), pr = view(img, w * 3 / 10, pw);
        unsharp_frame fl = describe(&pl), fr = describe(&pr);
        unsharp_frame_likeness(&fl, &fr, &in, &side);
        add(&s[PANO_SIDE], side);
        add(&s[PANO_INPLACE], in);
        role_of(&pano_roles, &fl, &fr);
        unsharp_image_free(img);
        ok++;
    }
    for (int i = 0; i < ok; i++)
        for (int j = i + 1; j < ok && j <= i + 10; j++) {
            float in, side;
            unsharp_frame_likeness(&frames[i], &frames[j], &in, &side);
            add(&s[DISTINCT], in);
            add(&s[DISTINCT_SIDE], side);
            role_of(&distinct_roles, &frames[i], &frames[j]);
        }
    printf("%d photos\n", ok);
    for (int k = 0; k < NSERIES; k++) report(&s[k]);
    const float th[] = {0.6f, 0.7f, 0.75f, 0.8f, 0.85f, 0.9f};
    printf("\nshare of pairs linked at likeness  0.60    0.70    0.75    0.80    0.85    0.90\n");
    for (int k = 0; k < NSERIES; k++) linked(&s[k], th, 6);
    printf("\nunsharp_group's defaults, pairs taken at the same time:  single   burst    pano   other\n");
    const roles *rs[3] = {&burst_roles, &pano_roles, &distinct_roles};
    const char *rn[3] = {"burst (blurred, moved)", "pano (half overlap)", "distinct photos"};
    for (int k = 0; k < 3; k++)
        printf("%-54s %7zu %7zu %7zu %7zu\n", rn[k], rs[k]->single, rs[k]->burst, rs[k]->pano, rs[k]->other);
    for (int k = 0; k < NSERIES; k++) free(s[k].v);
    free(frames);
    return 0;
}
