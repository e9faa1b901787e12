/* group.c: bursts, brackets, focus stacks and panoramas (unsharp/photo.h, "groups"). Each
 * photo is summed up in an unsharp_frame: its capture time and exposure bias (EXIF, through
 * libexif), a 32 x 32 grey signature of the decoded photo and an 8 x 8 summary of its focus
 * map. unsharp_group orders the frames by time, links each to the one before when they are
 * close in time and their signatures correlate (in place, or side by side for a panorama),
 * and gives each group of linked frames its ranks and role. Part of the photo layer: the
 * model is not used here at all. */
#include <errno.h>
#include <libexif/exif-data.h>
#include <libexif/exif-loader.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "photo_layer.h"

#define S UNSHARP_SIGNATURE_SIDE
#define G UNSHARP_FOCUS_GRID
#define NEAR_SHIFT 6         /* in-place likeness: moved by up to a fifth of the frame */
#define FAR_SHIFT 20         /* side by side: moved by up to 20 of 32 cells (37 % overlap) */
#define CROSS_SHIFT 3        /* a side-by-side frame may move this much the other way */
#define SIDE_MARGIN 0.03f    /* side by side only when it matches this much better than in place */
#define BIAS_DIFFERS 0.3f    /* EV: a bracket's frames differ at least this much */
#define SHARP_CELL 0.6f      /* focus cells: sharp at or above, */
#define SOFT_CELL 0.3f       /* not sharp below (or without detail) */
#define STACK_CELLS 4        /* a stack: two frames each sharp in this many cells the other is not */
#define STACK_PAIRS_ALL 200  /* larger groups compare each frame with the next only */

/* ---- reading the file ---- */

static const char *exif_ascii(ExifData *ed, ExifIfd ifd, ExifTag tag, char *buf, size_t size)
{
    ExifEntry *e = ed->ifd[ifd] ? exif_content_get_entry(ed->ifd[ifd], tag) : NULL;
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0) return NULL;
    size_t n = e->size < size - 1 ? e->size : size - 1;
    memcpy(buf, e->data, n);
    buf[n] = 0;
    return buf;
}

/* "YYYY:MM:DD HH:MM:SS" (and a sub-second string of digits) as ms, read as if UTC */
static int exif_time(const char *dt, const char *sub, int64_t *ms)
{
    struct tm tm = {0};
    if (sscanf(dt, "%4d:%2d:%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec) != 6 || tm.tm_year < 1900 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    int frac = 0, scale = 100;
    for (const char *p = sub; p && *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10) frac += (*p - '0') * scale;
    *ms = (int64_t)t * 1000 + frac;
    return 0;
}

unsharp_status unsharp_frame_read(const char *path, unsharp_frame *f)
{
    unsharp_status st = unsharp_model_set_error(NULL, UNSHARP_OK, NULL); /* a success clears */
    const unsharp_model *errto = NULL;
    ExifLoader *loader = NULL;
    ExifData *ed = NULL;
    if (!path || !f) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    struct stat sb;
    if (stat(path, &sb) != 0) FAIL(UNSHARP_ERR_IO, "%s: %s", path, strerror(errno));
    f->time_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    f->time_from_exif = 0;
    f->has_bias = 0;
    f->bias = 0;
    /* no EXIF, or damaged: the file time stands */
    if (!(loader = exif_loader_new())) goto bailout;
    exif_loader_write_file(loader, path);
    if (!(ed = exif_loader_get_data(loader))) goto bailout;
    char dt[32], sub[16];
    int64_t ms;
    if (exif_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, dt, sizeof dt) &&
        exif_time(dt, exif_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_SUB_SEC_TIME_ORIGINAL, sub, sizeof sub), &ms) == 0) {
        f->time_ms = ms;
        f->time_from_exif = 1;
    }
    ExifEntry *e = ed->ifd[EXIF_IFD_EXIF] ? exif_content_get_entry(ed->ifd[EXIF_IFD_EXIF], EXIF_TAG_EXPOSURE_BIAS_VALUE)
                                          : NULL;
    if (e && e->format == EXIF_FORMAT_SRATIONAL && e->data && e->size >= 8) {
        ExifSRational r = exif_get_srational(e->data, exif_data_get_byte_order(ed));
        if (r.denominator != 0) {
            f->bias = (float)r.numerator / (float)r.denominator;
            f->has_bias = 1;
        }
    }
bailout:
    if (ed) exif_data_unref(ed);
    if (loader) exif_loader_unref(loader);
    return st;
}

/* ---- describing the decoded photo ---- */

/* Adds row y's pixels into the S cell sums of its cell row; xs[c]..xs[c + 1] are cell c's
 * columns. */
static void add_row(const unsharp_image *img, int y, const int *xs, double *sum)
{
    const unsigned char *row = (const unsigned char *)img->pixels + (size_t)y * img->stride;
    for (int c = 0; c < S; c++) {
        double s = 0;
        switch (img->format) {
        case UNSHARP_PIXEL_LUMA8: {
            unsigned v = 0;
            for (int x = xs[c]; x < xs[c + 1]; x++) v += row[x];
            s = v;
            break;
        }
        case UNSHARP_PIXEL_RGB8: {
            unsigned v = 0;
            for (int x = xs[c]; x < xs[c + 1]; x++) v += row[3 * x] + row[3 * x + 1] + row[3 * x + 2];
            s = v / 3.0;
            break;
        }
        case UNSHARP_PIXEL_LUMAF:
            for (int x = xs[c]; x < xs[c + 1]; x++) s += 255.0f * ((const float *)row)[x];
            break;
        default:
            for (int x = xs[c]; x < xs[c + 1]; x++) {
                const float *p = (const float *)row + 3 * x;
                s += 255.0f * (p[0] + p[1] + p[2]) / 3.0f;
            }
        }
        sum[c] += s;
    }
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

unsharp_status unsharp_frame_describe(unsharp_frame *f, const unsharp_image *img, const unsharp_judgement *j)
{
    unsharp_status st = unsharp_model_set_error(NULL, UNSHARP_OK, NULL); /* a success clears */
    const unsharp_model *errto = NULL;
    float *vals = NULL;
    if (!f || !img || !img->pixels || img->width < 1 || img->height < 1)
        FAIL(UNSHARP_ERR_INVALID, "NULL argument, or an image without pixels");
    if ((unsigned)img->format > UNSHARP_PIXEL_RGBF) FAIL(UNSHARP_ERR_INVALID, "unknown pixel format %d", (int)img->format);
    /* the signature: cell means, then standardised */
    double sum[S * S] = {0};
    int cnt[S * S] = {0};
    /* pixel x is in cell column x * S / width: cell c holds columns xs[c] .. xs[c + 1] - 1 */
    int xs[S + 1];
    for (int c = 0; c <= S; c++) xs[c] = (int)(((int64_t)c * img->width + S - 1) / S);
    for (int y = 0; y < img->height; y++) {
        int cy = (int)((int64_t)y * S / img->height);
        add_row(img, y, xs, sum + cy * S);
        for (int c = 0; c < S; c++) cnt[cy * S + c] += xs[c + 1] - xs[c];
    }
    /* an image under S pixels a side leaves cells empty: they take the mean */
    double mean = 0, var = 0;
    int filled = 0;
    for (int c = 0; c < S * S; c++)
        if (cnt[c]) sum[c] /= cnt[c], mean += sum[c], filled++;
    mean /= filled;
    for (int c = 0; c < S * S; c++) {
        if (!cnt[c]) sum[c] = mean;
        var += (sum[c] - mean) * (sum[c] - mean);
    }
    double sd = sqrt(var / (S * S));
    f->flat = sd < 1.0; /* less than a grey level across the photo */
    for (int c = 0; c < S * S; c++) {
        double v = f->flat ? 128 : 128 + 40 * (sum[c] - mean) / sd;
        f->signature[c] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
    }
    /* the focus summary and the subject's sharpness */
    f->sharpness = 0;
    f->subject = 0;
    for (int c = 0; c < G * G; c++) f->focus[c] = -1;
    if (j && j->map && j->texture && j->map_w > 0 && j->map_h > 0) {
        f->sharpness = j->sharpness;
        float fs[G * G] = {0};
        int fn[G * G] = {0};
        size_t nt = (size_t)j->map_w * (size_t)j->map_h, nv = 0;
        if (!(vals = malloc(nt * sizeof *vals))) FAIL(UNSHARP_ERR_NOMEM, "out of memory for a focus summary");
        for (int ty = 0; ty < j->map_h; ty++)
            for (int tx = 0; tx < j->map_w; tx++) {
                size_t t = (size_t)ty * j->map_w + tx;
                if (j->texture[t] <= 0) continue;
                int c = ty * G / j->map_h * G + tx * G / j->map_w;
                fs[c] += j->map[t];
                fn[c]++;
                vals[nv++] = j->map[t];
            }
        for (int c = 0; c < G * G; c++)
            if (fn[c]) f->focus[c] = fs[c] / fn[c];
        if (nv) {
            qsort(vals, nv, sizeof *vals, cmp_desc);
            size_t top = nv / 10 ? nv / 10 : 1;
            double s = 0;
            for (size_t k = 0; k < top; k++) s += vals[k];
            f->subject = (float)(s / top);
        }
    } else if (j) {
        f->sharpness = j->sharpness;
    }
    f->described = 1;
bailout:
    free(vals);
    return st;
}

/* ---- likeness ---- */

/* One pair of signatures, prepared for correlating at many shifts: b in the middle of a zero
 * frame 3S wide (any shift reads inside it, and a cell moved off b reads 0), and the summed-area
 * tables of a, a^2, b and b^2 ((S+1)^2 each, row and column 0 zero). All sums are integers, exact
 * (at most S * S * 255 * 255 < 2^32), so each correlation is the same number as one summed in
 * double, and the product loop has a fixed length the compiler vectorises. */
#define P (3 * S)
typedef struct pair {
    const unsigned char *a;
    unsigned char bp[P * P];
    uint32_t ta[(S + 1) * (S + 1)], taa[(S + 1) * (S + 1)], tb[(S + 1) * (S + 1)], tbb[(S + 1) * (S + 1)];
} pair;

static void summed_areas(const unsigned char *v, uint32_t *t, uint32_t *tt)
{
    memset(t, 0, sizeof(uint32_t) * (S + 1));
    memset(tt, 0, sizeof(uint32_t) * (S + 1));
    for (int y = 0; y < S; y++) {
        uint32_t r = 0, rr = 0;
        t[(y + 1) * (S + 1)] = tt[(y + 1) * (S + 1)] = 0;
        for (int x = 0; x < S; x++) {
            uint32_t u = v[y * S + x];
            r += u, rr += u * u;
            t[(y + 1) * (S + 1) + x + 1] = t[y * (S + 1) + x + 1] + r;
            tt[(y + 1) * (S + 1) + x + 1] = tt[y * (S + 1) + x + 1] + rr;
        }
    }
}

static void pair_prepare(pair *q, const unsigned char *a, const unsigned char *b)
{
    q->a = a;
    memset(q->bp, 0, sizeof q->bp);
    for (int y = 0; y < S; y++) memcpy(q->bp + (size_t)(y + S) * P + S, b + y * S, S);
    summed_areas(a, q->ta, q->taa);
    summed_areas(b, q->tb, q->tbb);
}

/* the sum over cells x0..x1-1, y0..y1-1 of a summed-area table */
static uint32_t rect(const uint32_t *t, int x0, int x1, int y0, int y1)
{
    return t[y1 * (S + 1) + x1] - t[y0 * (S + 1) + x1] - t[y1 * (S + 1) + x0] + t[y0 * (S + 1) + x0];
}

/* The correlation of a and b where b is moved by (dx, dy) cells; -1 when they overlap less
 * than a third. */
static float correlate(const pair *q, int dx, int dy)
{
    int x0 = dx > 0 ? dx : 0, x1 = dx < 0 ? S + dx : S, y0 = dy > 0 ? dy : 0, y1 = dy < 0 ? S + dy : S;
    int n = (x1 - x0) * (y1 - y0);
    if (n * 3 < S * S) return -1;
    uint32_t iab = 0;
    for (int y = y0; y < y1; y++) {
        const unsigned char *ra = q->a + y * S, *rb = q->bp + (size_t)(y - dy + S) * P + S - dx;
        for (int x = 0; x < S; x++) iab += (uint32_t)ra[x] * rb[x]; /* 0 where b is moved off */
    }
    double sa = rect(q->ta, x0, x1, y0, y1), saa = rect(q->taa, x0, x1, y0, y1);
    double sb = rect(q->tb, x0 - dx, x1 - dx, y0 - dy, y1 - dy), sbb = rect(q->tbb, x0 - dx, x1 - dx, y0 - dy, y1 - dy);
    double sab = iab;
    double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (va <= 1e-9 || vb <= 1e-9) return -1;
    return (float)((sab - sa * sb / n) / sqrt(va * vb));
}

void unsharp_frame_likeness(const unsharp_frame *a, const unsharp_frame *b, float *in_place, float *side)
{
    float near = -1, far = -1;
    if (a && b && !a->flat && !b->flat) {
        pair q; /* 27 KB */
        pair_prepare(&q, a->signature, b->signature);
        for (int dy = -NEAR_SHIFT; dy <= NEAR_SHIFT; dy++)
            for (int dx = -NEAR_SHIFT; dx <= NEAR_SHIFT; dx++) {
                float c = correlate(&q, dx, dy);
                if (c > near) near = c;
            }
        for (int d = NEAR_SHIFT + 1; d <= FAR_SHIFT; d++)
            for (int sgn = -1; sgn <= 1; sgn += 2)
                for (int cross = -CROSS_SHIFT; cross <= CROSS_SHIFT; cross++) {
                    float c = correlate(&q, sgn * d, cross), e = correlate(&q, cross, sgn * d);
                    if (c > far) far = c;
                    if (e > far) far = e;
                }
    }
    if (in_place) *in_place = near;
    if (side) *side = far;
}
#undef P

typedef enum { LINK_NONE, LINK_ALIKE, LINK_SIDE } link_kind;

/* How frame b relates to a: alike in place (or moved a little), side by side (when that
 * matches clearly better than in place: a panorama's next frame; a photo alike to itself far
 * across, such as an even texture, is taken as in place), or not alike. Frames whose exposure
 * bias differs are a bracket's and link on time alone: the over-exposed frame of a bracket may
 * have nothing left to compare (docs/library.md). */
static link_kind compare(const unsharp_frame *a, const unsharp_frame *b, float likeness)
{
    if (a->has_bias && b->has_bias && fabsf(a->bias - b->bias) >= BIAS_DIFFERS) return LINK_ALIKE;
    float in_place, side;
    unsharp_frame_likeness(a, b, &in_place, &side);
    /* side by side asks for half the way from the likeness to 1 (0.9 by default): measured,
     * a panorama's frames match at 0.98 or more, two distinct photos more often than in place */
    if (side >= (1 + likeness) / 2 && side > in_place + SIDE_MARGIN) return LINK_SIDE;
    return in_place >= likeness ? LINK_ALIKE : LINK_NONE;
}

/* ---- grouping ---- */

typedef struct order {
    size_t i;
    const unsharp_frame *f;
} order;

static int cmp_time(const void *x, const void *y)
{
    const order *a = x, *b = y;
    if (a->f->time_ms != b->f->time_ms) return a->f->time_ms < b->f->time_ms ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* sharpest first: the judged sharpness, then the subject's, then the earlier frame */
static int cmp_sharp(const void *x, const void *y)
{
    const order *a = x, *b = y;
    if (a->f->sharpness != b->f->sharpness) return a->f->sharpness > b->f->sharpness ? -1 : 1;
    if (a->f->subject != b->f->subject) return a->f->subject > b->f->subject ? -1 : 1;
    return cmp_time(x, y);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* 1 when a is sharp in at least STACK_CELLS cells where b is not, and b in as many where a is not */
static int focus_apart(const unsharp_frame *a, const unsharp_frame *b)
{
    int ab = 0, ba = 0;
    for (int c = 0; c < G * G; c++) {
        ab += a->focus[c] >= SHARP_CELL && b->focus[c] < SOFT_CELL;
        ba += b->focus[c] >= SHARP_CELL && a->focus[c] < SOFT_CELL;
    }
    return ab >= STACK_CELLS && ba >= STACK_CELLS;
}

/* The role of the group o[0..n) (in time order); side: a link in it is side by side. */
static unsharp_role group_role(const order *o, size_t n, int side)
{
    if (n < 2) return UNSHARP_ROLE_SINGLE;
    int any_bias = 0;
    float lo = 0, hi = 0;
    for (size_t k = 0; k < n; k++) {
        if (!o[k].f->has_bias) continue;
        if (!any_bias || o[k].f->bias < lo) lo = o[k].f->bias;
        if (!any_bias || o[k].f->bias > hi) hi = o[k].f->bias;
        any_bias = 1;
    }
    if (any_bias && hi - lo >= BIAS_DIFFERS) return UNSHARP_ROLE_BRACKET;
    if (side) return UNSHARP_ROLE_PANO;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n && (n <= STACK_PAIRS_ALL || b == a + 1); b++)
            if (focus_apart(o[a].f, o[b].f)) return UNSHARP_ROLE_STACK;
    return UNSHARP_ROLE_BURST;
}

unsharp_status unsharp_group(const unsharp_frame *frames, const char *const *keys, size_t n,
                             const unsharp_group_options *options, unsharp_group_place *out)
{
    unsharp_status st = unsharp_model_set_error(NULL, UNSHARP_OK, NULL); /* a success clears */
    const unsharp_model *errto = NULL;
    order *o = NULL, *byrank = NULL;
    if (n == 0) return st;
    if (!frames || !keys || !out) FAIL(UNSHARP_ERR_INVALID, "NULL argument");
    double gap = options && options->gap_seconds != 0 ? options->gap_seconds : UNSHARP_GROUP_DEFAULT_GAP;
    float likeness = options && options->likeness != 0 ? options->likeness : UNSHARP_GROUP_DEFAULT_LIKENESS;
    if (!(gap >= 0 && gap <= 1e9))
        FAIL(UNSHARP_ERR_INVALID, "the gap between frames must be 0 to 1e9 seconds, not %g", gap);
    if (!(likeness > 0 && likeness <= 1))
        FAIL(UNSHARP_ERR_INVALID, "the likeness of grouped frames must be above 0 and at most 1, not %g", (double)likeness);
    int64_t gap_ms = (int64_t)llround(gap * 1000);
    if (!(o = malloc(n * sizeof *o)) || !(byrank = malloc(n * sizeof *byrank)))
        FAIL(UNSHARP_ERR_NOMEM, "out of memory for grouping %zu photos", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = (unsharp_group_place){.group = fnv1a(keys[i]), .first = i, .size = 1, .rank = 1,
                                       .role = UNSHARP_ROLE_SINGLE};
        if (frames[i].described) o[m++] = (order){i, &frames[i]};
    }
    qsort(o, m, sizeof *o, cmp_time);
    for (size_t start = 0; start < m;) {
        size_t end = start + 1;
        int side = 0;
        for (; end < m; end++) {
            const unsharp_frame *a = o[end - 1].f, *b = o[end].f;
            if (b->time_ms - a->time_ms > gap_ms) break;
            link_kind k = compare(a, b, likeness);
            if (k == LINK_NONE) break;
            side |= k == LINK_SIDE;
        }
        size_t len = end - start;
        unsharp_role role = group_role(o + start, len, side);
        memcpy(byrank, o + start, len * sizeof *o);
        qsort(byrank, len, sizeof *byrank, cmp_sharp);
        uint64_t id = fnv1a(keys[o[start].i]);
        for (size_t r = 0; r < len; r++) {
            unsharp_group_place *p = &out[byrank[r].i];
            p->group = id;
            p->first = o[start].i;
            p->size = (int)len;
            p->rank = (int)r + 1;
            p->role = role == UNSHARP_ROLE_BURST && r == 0 ? UNSHARP_ROLE_BEST : role;
        }
        start = end;
    }
bailout:
    free(o);
    free(byrank);
    return st;
}

const char *unsharp_role_name(unsharp_role role)
{
    static const char *const names[] = {"single", "best", "burst", "bracket", "stack", "pano"};
    return (unsigned)role < sizeof names / sizeof *names ? names[role] : "?";
}

int unsharp_role_keeps_whole(unsharp_role role)
{
    return role == UNSHARP_ROLE_BRACKET || role == UNSHARP_ROLE_STACK || role == UNSHARP_ROLE_PANO;
}
