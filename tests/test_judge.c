/* test_judge.c: the verdict from a focus map. A hand-set model makes each tile's logit
 * the mean luma of the tile times a gain, plus a bias, so the map is known exactly; the
 * score must be the mean of the sharpest tenth (at least two) of the tiles with detail in
 * every direction, flat tiles and tiles whose detail runs one way must not count (unless too
 * few others have detail), the 8-bit and float paths must agree, and the thresholds and blur
 * kind must follow. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "unsharp/unsharp.h"

static const char *ARCH =
    "input luma 1\n"
    "conv tiles luma out=1 k=32 s=32\n"
    "gmean g tiles\n"
    "dense image g out=3\n";

/* logit = gain * mean(tile) + bias; image logits = (0, wd*g, wm*g) + (0, bd, bm) */
static unsharp_model *judge_model_arch(const char *arch, float gain, float bias, float motion_bias)
{
    unsharp_model *m = NULL;
    ck_assert_int_eq(unsharp_model_create(arch, 1, NULL, &m), UNSHARP_OK);
    float w[1024], b[1] = {bias}, dw[3] = {0, 0, 0}, db[3] = {0, 0, motion_bias};
    for (int i = 0; i < 1024; i++) w[i] = gain / 1024.0f;
    ck_assert_int_eq(unsharp_model_set_param(m, "tiles.weight", w, 1024), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_param(m, "tiles.bias", b, 1), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_param(m, "image.weight", dw, 3), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_param(m, "image.bias", db, 3), UNSHARP_OK);
    return m;
}

static unsharp_model *judge_model(float gain, float bias, float motion_bias)
{
    return judge_model_arch(ARCH, gain, bias, motion_bias);
}

/* A 10x10-tile luma image: tile (tx, ty) has mean level[ty*10+tx] and detail of amplitude
 * amp[...] (0: flat) in every direction: a lattice of dots, one pixel in four at +amp and
 * the others at -amp/3. (A checkerboard would do for the Laplacian, but its diagonal
 * neighbours are equal: no detail along the diagonals.) */
static float dots(int x, int y) { return (x % 2 == 0 && y % 2 == 0) ? 1.0f : -1.0f / 3; }
static unsharp_image *image_of(const float *level, const float *amp, float *pixels)
{
    static unsharp_image img;
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++) {
            int t = (y / 32) * 10 + x / 32;
            pixels[y * 320 + x] = level[t] + amp[t] * dots(x, y);
        }
    img = (unsharp_image){.width = 320, .height = 320, .channels = 1, .format = UNSHARP_PIXEL_LUMAF,
                          .stride = 320 * sizeof(float), .pixels = pixels};
    return &img;
}

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

START_TEST(score_is_the_sharpest_tenth_of_textured_tiles)
{
    unsharp_model *m = judge_model(8.0f, -4.0f, 0);
    float level[100], amp[100], *px = malloc(sizeof(float) * 320 * 320);
    for (int t = 0; t < 100; t++) {
        level[t] = 0.1f;  /* dull, blurred-looking background: logit -3.2 */
        amp[t] = 0.05f;   /* with detail */
    }
    /* a small sharp subject: 3 tiles with mean 0.9 (logit +3.2) */
    level[44] = level[45] = level[55] = 0.9f;
    /* a bright flat sky: 20 tiles with mean 0.95 but no detail must not count */
    for (int t = 0; t < 20; t++) { level[t] = 0.95f; amp[t] = 0; }
    unsharp_judgement j = {0};
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_int_eq(j.map_w, 10);
    ck_assert_int_eq(j.map_h, 10);
    for (int t = 0; t < 100; t++) {
        ck_assert_msg(fabsf(j.map[t] - sigmoid(8.0f * level[t] - 4.0f)) < 1e-4, "tile %d: %g", t, j.map[t]);
        ck_assert_msg(j.texture[t] == (amp[t] > 0 ? 1.0f : 0.0f), "tile %d texture %g", t, j.texture[t]);
    }
    /* 80 textured tiles: the top 8 are the 3 subject tiles and 5 background tiles */
    float want = (3 * sigmoid(3.2f) + 5 * sigmoid(-3.2f)) / 8;
    ck_assert_msg(fabsf(j.sharpness - want) < 1e-4, "sharpness %g, want %g", j.sharpness, want);
    unsharp_judgement_free(&j);

    /* without the subject the photo is blurry, whatever the sky does */
    level[44] = level[45] = level[55] = 0.1f;
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_msg(fabsf(j.sharpness - sigmoid(-3.2f)) < 1e-4, "sharpness %g", j.sharpness);
    ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_BLURRY);
    ck_assert_int_eq(j.kind, UNSHARP_KIND_DEFOCUS);
    unsharp_judgement_free(&j);
    unsharp_model_free(m);
    free(px);
}
END_TEST

START_TEST(thresholds_and_kind)
{
    float level[100], amp[100], *px = malloc(sizeof(float) * 320 * 320);
    for (int t = 0; t < 100; t++) { level[t] = 0.5f; amp[t] = 0.05f; }
    /* logit = 8*0.5 + b: sharpness = sigmoid(4 + b) everywhere */
    struct { float b; unsharp_verdict v; } cases[] = {
        {-4.0f + 1.0f, UNSHARP_VERDICT_SHARP},   /* 0.73 */
        {-4.0f + 0.2f, UNSHARP_VERDICT_UNSURE},  /* 0.55 */
        {-4.0f - 1.0f, UNSHARP_VERDICT_BLURRY},  /* 0.27 */
    };
    for (int i = 0; i < 3; i++) {
        unsharp_model *m = judge_model(8.0f, cases[i].b, 2.0f);
        unsharp_judgement j = {0};
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
        ck_assert_msg(j.verdict == cases[i].v, "case %d: sharpness %g verdict %d", i, j.sharpness, j.verdict);
        ck_assert_int_eq(j.kind, UNSHARP_KIND_MOTION); /* the head's, whatever the verdict */
        unsharp_judgement_free(&j);
        /* the model's own thresholds, and the caller's over them */
        ck_assert_int_eq(unsharp_model_set_meta(m, "threshold.sharp", "0.9"), UNSHARP_OK);
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
        ck_assert_int_ne(j.verdict, UNSHARP_VERDICT_SHARP);
        unsharp_judgement_free(&j);
        unsharp_judge_options o = {.sharp_at = 0.2f, .blurry_below = 0.1f};
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), &o, &j), UNSHARP_OK);
        ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_SHARP);
        unsharp_judgement_free(&j);
        /* a caller's own bands, 0 included: nothing is blurry below 0 */
        unsharp_judge_options own = {.sharp_at = 0.95f, .blurry_below = 0.0f, .own_bands = 1};
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), &own, &j), UNSHARP_OK);
        ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_UNSURE);
        unsharp_judgement_free(&j);
        /* bands at the sharpness itself: at sharp_at is sharp, at blurry_below is not blurry */
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
        own = (unsharp_judge_options){.sharp_at = 1.0f, .blurry_below = j.sharpness, .own_bands = 1};
        unsharp_judge_options at = {.sharp_at = j.sharpness, .blurry_below = 0.0f, .own_bands = 1};
        unsharp_judgement_free(&j);
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), &own, &j), UNSHARP_OK);
        ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_UNSURE);
        unsharp_judgement_free(&j);
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), &at, &j), UNSHARP_OK);
        ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_SHARP);
        unsharp_judgement_free(&j);
        unsharp_model_free(m);
    }
    free(px);
}
END_TEST

/* Tiles whose detail runs one way (horizontal stripes: rows alternate, nothing changes along
 * a row) look the same sharp or smeared along the stripes, so they are left out of the score
 * while at least two tiles have detail every way; with fewer, every tile with detail counts.
 * Built in 8 bits and in floats from the same sample values: both paths must agree. Levels
 * are 8-bit values; logit = 8 * level / 255 - 4. want_mask is twice the expected texture value
 * of each tile (2: detail every way, 1: one way, 0: flat); the score must be the mean
 * sharpness of the n_expect tiles listed in expect_tiles. */
static void one_way_case(const int *level, const int *stripes, int n_expect, const int *expect_tiles,
                         const unsigned char *want_mask)
{
    unsharp_model *m = judge_model(8.0f, -4.0f, 0);
    static unsigned char u8[320 * 320];
    static float f[320 * 320];
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++) {
            int t = (y / 32) * 10 + x / 32;
            /* dots: +12 one pixel in four, -4 the others; stripes: +12 / -12 by row */
            int v = stripes[t] ? level[t] + ((y & 1) ? 12 : -12) : level[t] + ((x % 2 == 0 && y % 2 == 0) ? 12 : -4);
            u8[y * 320 + x] = (unsigned char)v;
            f[y * 320 + x] = (float)v / 255.0f;
        }
    unsharp_image i8 = {.width = 320, .height = 320, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 320, .pixels = u8};
    unsharp_image ifl = {.width = 320, .height = 320, .channels = 1, .format = UNSHARP_PIXEL_LUMAF,
                         .stride = 320 * sizeof(float), .pixels = f};
    double want = 0;
    for (int i = 0; i < n_expect; i++) want += sigmoid(8.0f * (float)level[expect_tiles[i]] / 255.0f - 4.0f);
    want /= n_expect;
    unsharp_image *imgs[2] = {&i8, &ifl};
    for (int k = 0; k < 2; k++) {
        unsharp_judgement j = {0};
        ck_assert_int_eq(unsharp_judge(m, imgs[k], NULL, &j), UNSHARP_OK);
        for (int t = 0; t < 100; t++)
            ck_assert_msg(j.texture[t] == want_mask[t] / 2.0f, "%s: tile %d texture %g, want %g", k ? "float" : "8-bit", t,
                          j.texture[t], want_mask[t] / 2.0f);
        ck_assert_msg(fabs(j.sharpness - want) < 1e-4, "%s: sharpness %g, want %g", k ? "float" : "8-bit", j.sharpness, want);
        unsharp_judgement_free(&j);
    }
    unsharp_model_free(m);
}

/* The texture threshold, on both pixel paths: tile t holds n = 50 + t lone bumps of one grey
 * level, each away from the others and inside the part of the tile that is measured (its
 * 28 x 28 middle), so its summed |Laplacian| is 8 n (4 at the bump, 1 at each of its four
 * neighbours) and its mean 8 n / 784 / 255 in 0..1 luma: over TEXTURE_MIN (0.004) from
 * n = 100 on. A lone bump has the same detail every way. The 8-bit sums (column sums, built
 * twice: tests/CMakeLists.txt runs this suite with the plain code forced too) and the float
 * loop must both put the line there. */
START_TEST(texture_threshold_on_both_paths)
{
    unsharp_model *m = judge_model(8.0f, -4.0f, 0);
    static unsigned char u8[320 * 320];
    static float f[320 * 320];
    memset(u8, 100, sizeof u8);
    for (int t = 0; t < 100; t++) {
        int x0 = (t % 10) * 32 + 2, y0 = (t / 10) * 32 + 2;
        for (int k = 0; k < 50 + t; k++) u8[(y0 + 1 + 2 * (k / 13)) * 320 + x0 + 1 + 2 * (k % 13)] = 101;
    }
    for (int i = 0; i < 320 * 320; i++) f[i] = u8[i] / 255.0f;
    unsharp_image i8 = {.width = 320, .height = 320, .channels = 1, .format = UNSHARP_PIXEL_LUMA8, .stride = 320, .pixels = u8};
    unsharp_image ifl = {.width = 320, .height = 320, .channels = 1, .format = UNSHARP_PIXEL_LUMAF,
                         .stride = 320 * sizeof(float), .pixels = f};
    unsharp_image *imgs[2] = {&i8, &ifl};
    for (int k = 0; k < 2; k++) {
        unsharp_judgement j = {0};
        ck_assert_int_eq(unsharp_judge(m, imgs[k], NULL, &j), UNSHARP_OK);
        for (int t = 0; t < 100; t++)
            ck_assert_msg(j.texture[t] == (50 + t >= 100 ? 1.0f : 0.0f), "%s: tile %d (%d bumps): texture %g",
                          k ? "float" : "8-bit", t, 50 + t, j.texture[t]);
        unsharp_judgement_free(&j);
    }
    unsharp_model_free(m);
}
END_TEST

START_TEST(one_way_detail_is_left_out)
{
    int level[100], stripes[100], expect[10];
    unsigned char mask[100];
    /* a dull background with detail every way (logit -3.2), two sharper subject tiles with it
     * (logit +0.8), and four bright striped tiles (logit +3.2) that would otherwise win */
    for (int t = 0; t < 100; t++) { level[t] = 26; stripes[t] = 0; mask[t] = 2; }
    level[44] = level[45] = 153;
    for (int t = 60; t < 64; t++) { level[t] = 230; stripes[t] = 1; mask[t] = 1; }
    /* 96 tiles count: the tenth is 10 tiles, the two subject tiles and 8 of the background */
    expect[0] = 44;
    expect[1] = 45;
    for (int i = 2; i < 10; i++) expect[i] = 0;
    one_way_case(level, stripes, 10, expect, mask);

    /* one tile with detail every way is too few: all 100 tiles with detail count, and the
     * tenth is the four striped tiles, the two subject tiles and 4 of the background */
    for (int t = 0; t < 100; t++) { stripes[t] = t != 44; mask[t] = t != 44 ? 1 : 2; }
    for (int i = 0; i < 4; i++) expect[i] = 60 + i;
    expect[4] = 44;
    expect[5] = 45;
    for (int i = 6; i < 10; i++) expect[i] = 0;
    one_way_case(level, stripes, 10, expect, mask);
}
END_TEST

/* The direction check, by a naive loop: per 16 px tile from pixel (1, 1), the RMS of the second
 * derivative along each of 16 directions, evaluated pixel by pixel; per direction the strongest
 * tile with detail (mean |Laplacian| >= 0.004); the weakest direction's over the median's. */
static double naive_share(const float *p, int w, int h)
{
    double peak[16] = {0};
    int tiles = 0;
    for (int ty = 0; ty < (h - 2) / 16; ty++)
        for (int tx = 0; tx < (w - 2) / 16; tx++) {
            double e[16] = {0}, lap = 0;
            for (int y = 1 + 16 * ty; y < 17 + 16 * ty; y++)
                for (int x = 1 + 16 * tx; x < 17 + 16 * tx; x++) {
                    const float *r = p + y * w + x;
                    double hxx = r[-1] + r[1] - 2.0 * r[0], hyy = r[-w] + r[w] - 2.0 * r[0];
                    double hxy = (r[w + 1] + r[-w - 1] - r[w - 1] - r[-w + 1]) / 4.0;
                    lap += fabs(hxx + hyy);
                    for (int k = 0; k < 16; k++) {
                        double c = cos(M_PI * k / 16), s = sin(M_PI * k / 16);
                        double d = c * c * hxx + 2 * c * s * hxy + s * s * hyy;
                        e[k] += d * d;
                    }
                }
            if (lap / 256 < 0.004) continue;
            tiles++;
            for (int k = 0; k < 16; k++)
                if (sqrt(e[k] / 256) > peak[k]) peak[k] = sqrt(e[k] / 256);
        }
    if (tiles < 4) return 1;
    double lo = peak[0], sorted[16];
    memcpy(sorted, peak, sizeof sorted);
    for (int a = 0; a < 16; a++)
        for (int b = a + 1; b < 16; b++)
            if (sorted[b] < sorted[a]) { double t = sorted[a]; sorted[a] = sorted[b]; sorted[b] = t; }
    for (int k = 1; k < 16; k++) lo = fmin(lo, peak[k]);
    return lo / (0.5 * (sorted[7] + sorted[8]));
}

/* A photo of fine random texture, every tile rated sharp (logit +3), then the same photo
 * smeared by a horizontal motion: the smeared one keeps crisp detail across the motion,
 * but has none along it anywhere, so it must be held below 0.5 and called motion blur (the
 * smear: 9 px with a triangular profile, as a motion that starts and stops gently). Both
 * pixel paths, and the share must be the naive loop's. */
START_TEST(motion_smear_is_caught)
{
    unsharp_model *m = judge_model(0.0f, 3.0f, 0);
    static float noise[320 * 320], sharp[320 * 320], smear[320 * 320], f[320 * 320];
    static unsigned char u8[320 * 320];
    uint32_t seed = 12345;
    for (int i = 0; i < 320 * 320; i++) {
        seed = seed * 1664525u + 1013904223u;
        noise[i] = (float)(seed >> 8) / 16777216.0f;
    }
    /* the texture: the noise under a 3x3 binomial filter (finest detail of a 2 px scale, as a
     * downsized photo has, rather than all at the pixel grid's limit) */
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++) {
            float sum = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int yy = y + dy < 0 ? 0 : y + dy > 319 ? 319 : y + dy, xx = x + dx < 0 ? 0 : x + dx > 319 ? 319 : x + dx;
                    sum += (float)((2 - abs(dy)) * (2 - abs(dx))) * noise[yy * 320 + xx];
                }
            sharp[y * 320 + x] = 0.1f + 0.8f * sum / 16;
        }
    for (int y = 0; y < 320; y++)
        for (int x = 0; x < 320; x++) {
            float sum = 0;
            for (int d = -4; d <= 4; d++) sum += (float)(5 - abs(d)) * sharp[y * 320 + (x + d < 0 ? 0 : x + d > 319 ? 319 : x + d)];
            smear[y * 320 + x] = sum / 25;
        }
    const float *cases[2] = {sharp, smear};
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 2; k++) {
            /* k = 0: 8-bit; k = 1: float; the naive loop reads the same values */
            for (int i = 0; i < 320 * 320; i++) {
                u8[i] = (unsigned char)lrintf(cases[c][i] * 255);
                f[i] = u8[i] / 255.0f;
            }
            unsharp_image img = {.width = 320, .height = 320, .channels = 1,
                                 .format = k ? UNSHARP_PIXEL_LUMAF : UNSHARP_PIXEL_LUMA8,
                                 .stride = k ? 320 * sizeof(float) : 320, .pixels = k ? (void *)f : (void *)u8};
            double want = naive_share(f, 320, 320);
            unsharp_judgement j = {0};
            ck_assert_int_eq(unsharp_judge(m, &img, NULL, &j), UNSHARP_OK);
            ck_assert_msg(fabs(j.weakest_direction - want) < 1e-4 * want, "%s %s: share %g, naive %g",
                          c ? "smeared" : "sharp", k ? "float" : "8-bit", j.weakest_direction, want);
            if (c == 0) {
                ck_assert_msg(want > 0.8, "sharp noise: naive share %g", want);
                ck_assert_float_eq_tol(j.sharpness, sigmoid(3.0f), 1e-4);
                ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_SHARP);
                ck_assert_int_eq(j.kind, UNSHARP_KIND_DEFOCUS); /* equal head logits: defocus */
            } else {
                ck_assert_msg(want < 0.35, "smeared noise: naive share %g", want); /* well under 0.45 */
                ck_assert_float_eq_tol(j.sharpness, 0.5 * want / 0.45, 1e-4);
                ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_BLURRY);
                ck_assert_int_eq(j.kind, UNSHARP_KIND_MOTION);
            }
            unsharp_judgement_free(&j);
        }
    unsharp_model_free(m);
}
END_TEST

START_TEST(refuses_what_it_cannot_judge)
{
    unsharp_model *m = judge_model(1, 0, 0);
    float px[64 * 64 * 3] = {0};
    unsharp_image rgb = {.width = 64, .height = 64, .channels = 3, .format = UNSHARP_PIXEL_RGBF, .stride = 64 * 3 * 4, .pixels = px};
    unsharp_judgement j = {0};
    ck_assert_int_eq(unsharp_judge(m, &rgb, NULL, &j), UNSHARP_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(unsharp_model_errmsg(m), "luma"));
    unsharp_image tiny = {.width = 16, .height = 16, .channels = 1, .format = UNSHARP_PIXEL_LUMAF, .stride = 64, .pixels = px};
    ck_assert_int_eq(unsharp_judge(m, &tiny, NULL, &j), UNSHARP_ERR_SHAPE);
    ck_assert_ptr_null(j.map);
    unsharp_model_free(m);
    unsharp_model *plain = NULL;
    ck_assert_int_eq(unsharp_model_create("input x 1\nconv c x out=1 k=3\n", 1, NULL, &plain), UNSHARP_OK);
    unsharp_image ok = {.width = 64, .height = 64, .channels = 1, .format = UNSHARP_PIXEL_LUMAF, .stride = 256, .pixels = px};
    ck_assert_int_eq(unsharp_judge(plain, &ok, NULL, &j), UNSHARP_ERR_NOT_FOUND);
    unsharp_model_free(plain);
}
END_TEST

/* A training-only branch that a small photo is too small for (the shipped network's 2x2
 * blocks of tiles, read only by its peak loss) does not stop the photo from being judged:
 * 320x40 pixels give a 10x1 map, and the score is still the mean of the sharpest two tiles. */
START_TEST(small_photo_past_a_training_only_branch)
{
    char arch[512];
    snprintf(arch, sizeof arch, "%savgpool blocks tiles k=2 s=1\ngmax peak blocks\nsigmoid_ce peak_loss peak\n", ARCH);
    unsharp_model *m = judge_model_arch(arch, 1, 0, 0);
    static float px[40 * 320];
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 320; x++) /* tile t: mean 0.1 t, checkerboard amplitude 0.05 */
            px[y * 320 + x] = 0.1f * (float)(x / 32) + (((x + y) & 1) ? 0.05f : -0.05f);
    unsharp_image img = {.width = 320, .height = 40, .channels = 1, .format = UNSHARP_PIXEL_LUMAF,
                         .stride = 320 * sizeof(float), .pixels = px};
    unsharp_judgement j = {0};
    ck_assert_msg(unsharp_judge(m, &img, NULL, &j) == UNSHARP_OK, "%s", unsharp_model_errmsg(m));
    ck_assert_int_eq(j.map_w, 10);
    ck_assert_int_eq(j.map_h, 1);
    /* tiles 9 and 8 (means 0.9, 0.8; the bottom 8 rows of each tile are outside the map) */
    double want = (sigmoid(0.9f) + sigmoid(0.8f)) / 2;
    ck_assert_msg(fabs(j.sharpness - want) < 1e-4, "sharpness %f, want %f", j.sharpness, want);
    unsharp_judgement_free(&j);
    int shape[4];
    ck_assert_int_eq(unsharp_model_output_shape(m, "peak", shape), UNSHARP_ERR_SHAPE);
    unsharp_model_free(m);
}
END_TEST

/* The shipped weights: they load, carry the committed architecture, and rank a sharp
 * textured picture above the same picture blurred (three box passes, about a Gaussian of
 * sigma 2.8 px). */
START_TEST(shipped_weights)
{
    unsharp_model *m = NULL;
    ck_assert_msg(unsharp_model_load(UNSHARP_SOURCE_DIR "/weights/unsharp-v2.usw", NULL, &m) == UNSHARP_OK, "%s",
                  unsharp_errmsg());
    size_t n;
    unsigned char *arch = tu_read_file(UNSHARP_SOURCE_DIR "/weights/unsharp-v2.arch", &n);
    arch[n] = 0;
    ck_assert_str_eq(unsharp_model_arch(m), (const char *)arch);
    free(arch);
    enum { W = 384, H = 256 };
    float *a = malloc(sizeof(float) * W * H), *b = malloc(sizeof(float) * W * H), *t = malloc(sizeof(float) * W * H);
    unsigned seed = 3;
    /* blobs and edges: a sum of random rectangles */
    for (int i = 0; i < W * H; i++) a[i] = 0.5f;
    for (int r = 0; r < 300; r++) {
        int x0 = rand_r(&seed) % W, y0 = rand_r(&seed) % H, w = 4 + rand_r(&seed) % 40, h = 4 + rand_r(&seed) % 40;
        float v = (float)(rand_r(&seed) % 100) / 250.0f - 0.2f;
        for (int y = y0; y < y0 + h && y < H; y++)
            for (int x = x0; x < x0 + w && x < W; x++) a[y * W + x] = fminf(1, fmaxf(0, a[y * W + x] + v));
    }
    memcpy(b, a, sizeof(float) * W * H);
    for (int pass = 0; pass < 3; pass++) { /* 9x9 box, separable, clamped edges */
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float s = 0;
                for (int k = -4; k <= 4; k++) s += b[y * W + (x + k < 0 ? 0 : x + k >= W ? W - 1 : x + k)];
                t[y * W + x] = s / 9;
            }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float s = 0;
                for (int k = -4; k <= 4; k++) s += t[(y + k < 0 ? 0 : y + k >= H ? H - 1 : y + k) * W + x];
                b[y * W + x] = s / 9;
            }
    }
    unsharp_image ia = {.width = W, .height = H, .channels = 1, .format = UNSHARP_PIXEL_LUMAF, .stride = W * 4, .pixels = a};
    unsharp_image ib = ia;
    ib.pixels = b;
    unsharp_judgement ja = {0}, jb = {0};
    ck_assert_int_eq(unsharp_judge(m, &ia, NULL, &ja), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, &ib, NULL, &jb), UNSHARP_OK);
    ck_assert_msg(ja.sharpness > jb.sharpness + 0.2f, "sharp %g, blurred %g", ja.sharpness, jb.sharpness);
    ck_assert_int_eq(jb.verdict, UNSHARP_VERDICT_BLURRY);
    unsharp_judgement_free(&ja);
    unsharp_judgement_free(&jb);
    unsharp_model_free(m);
    free(a);
    free(b);
    free(t);
}
END_TEST

/* The learned photo head (engine/src/photo_score.h): with "judge.photo_head" in the metadata the
 * sharpness is sigmoid(b + sum w_k f_k) over the map's features, which the test computes its own
 * way (selection by repeated maximum, brute-force blocks) from the known tile logits. A small
 * sharp subject, one tile in a hundred, that the sharpest-tenth rule calls blurry, scores sharp
 * under a head that weighs the sharpest tile; a malformed head is ignored (the older rule). */
static double naive_top_mean(const float *v, const int *use, int n, double frac)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += use[i];
    int take = (int)ceil(frac * k), taken[100] = {0};
    if (take < 1) take = 1;
    double s = 0;
    for (int t = 0; t < take; t++) { /* the largest value not yet taken */
        int best = -1;
        for (int i = 0; i < n; i++)
            if (use[i] && !taken[i] && (best < 0 || v[i] > v[best])) best = i;
        taken[best] = 1;
        s += v[best];
    }
    return s / take;
}

START_TEST(photo_head_scores_the_map)
{
    const float motion_bias = 0.7f;
    unsharp_model *m = judge_model(8.0f, -4.0f, motion_bias);
    float level[100], amp[100], logit[100], *px = malloc(sizeof(float) * 320 * 320);
    int use[100], nd = 0;
    for (int t = 0; t < 100; t++) {
        level[t] = 0.1f + 0.002f * (float)((t * 37) % 100); /* dull, a little uneven */
        amp[t] = t % 10 < 2 ? 0.0f : 0.05f;                  /* two flat columns */
    }
    level[57] = 0.9f; /* one sharp tile */
    for (int t = 0; t < 100; t++) {
        logit[t] = 8.0f * level[t] - 4.0f;
        use[t] = amp[t] > 0;
        nd += use[t];
    }
    unsharp_judgement j = {0};
    /* no head: the sharpest-tenth rule calls the photo blurry */
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_BLURRY);
    float old = j.sharpness;
    unsharp_judgement_free(&j);

    double f[10];
    f[0] = naive_top_mean(logit, use, 100, 0.0);
    double block = -1e30;
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            int at[4] = {y * 10 + x, y * 10 + x + 1, y * 10 + x + 10, y * 10 + x + 11}, d = 0;
            double s = 0;
            for (int q = 0; q < 4; q++) { d += use[at[q]]; s += logit[at[q]]; }
            if (d >= 2 && s / 4 > block) block = s / 4;
        }
    f[1] = block;
    f[2] = naive_top_mean(logit, use, 100, 0.01);
    f[3] = naive_top_mean(logit, use, 100, 0.05);
    f[4] = naive_top_mean(logit, use, 100, 0.20);
    f[5] = naive_top_mean(logit, use, 100, 0.50);
    f[6] = naive_top_mean(logit, use, 100, 1.0);
    f[7] = 0.0 - log(exp(0.0) + exp(motion_bias)); /* image logits (0, 0, motion_bias) */
    const float w[10] = {0.9f, 0.1f, 0.3f, -0.2f, 0.05f, -0.1f, 0.2f, 0.5f, 0.8f, -0.3f}, b = 0.4f;
    char head[512];
    int k = snprintf(head, sizeof head, "v1 %.9g", b);
    for (int i = 0; i < 10; i++) k += snprintf(head + k, sizeof head - (size_t)k, " %.9g", w[i]);
    ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", head), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    f[8] = log(j.weakest_direction + 0.02);
    f[9] = log(nd / 100.0 + 0.01);
    double z = b;
    for (int i = 0; i < 10; i++) z += w[i] * f[i];
    double want = 1 / (1 + exp(-z));
    ck_assert_msg(fabs(j.sharpness - want) < 1e-5, "head: %g, want %g", j.sharpness, want);
    unsharp_judgement_free(&j);

    /* a head that reads the sharpest tile sees the small subject */
    ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", "v1 -1 1 0 0 0 0 0 0 0 0 0"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_msg(fabs(j.sharpness - 1 / (1 + exp(-(f[0] - 1)))) < 1e-5, "max head: %g", j.sharpness);
    ck_assert_int_eq(j.verdict, UNSHARP_VERDICT_SHARP);
    unsharp_judgement_free(&j);

    /* malformed heads are not used */
    const char *bad[] = {"v2 -1 1 0 0 0 0 0 0 0 0 0", "v1 -1 1 0 0", "v1 -1 1 0 0 0 0 0 0 0 0 0 7 8",
                         "v1 nan 1 0 0 0 0 0 0 0 0 0", "v1 -1 1 0 0 0 0 0 0 0 0 x",
                         "v1 -1 1 0 0 0 0 0 0 0 0 0 x"};
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", bad[i]), UNSHARP_OK);
        ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
        ck_assert_msg(j.sharpness == old, "'%s': %g, want the older rule's %g", bad[i], j.sharpness, old);
        unsharp_judgement_free(&j);
    }
    unsharp_model_free(m);
    free(px);
}
END_TEST

/* The per-direction head (photo_score.h, PHOTO_F_DIRS): the photo head's last input is the least
 * of the logits of the layer "dirs", and 0 when the network has no such layer; a head written
 * before that input existed (one weight fewer) reads as if its weight were 0. Here "dirs" is a
 * dense layer with zero weights, so its logits are its biases, set by the test. */
START_TEST(photo_head_reads_the_least_direction)
{
    static const char *DIRS_ARCH =
        "input luma 1\n"
        "conv tiles luma out=1 k=32 s=32\n"
        "gmean g tiles\n"
        "dense image g out=3\n"
        "dense dirs g out=4\n";
    unsharp_model *m = judge_model_arch(DIRS_ARCH, 8.0f, -4.0f, 0.0f);
    const float dw[4] = {0, 0, 0, 0}, db[4] = {0.5f, -1.25f, 2.0f, -0.75f};
    ck_assert_int_eq(unsharp_model_set_param(m, "dirs.weight", dw, 4), UNSHARP_OK);
    ck_assert_int_eq(unsharp_model_set_param(m, "dirs.bias", db, 4), UNSHARP_OK);
    float level[100], amp[100], *px = malloc(sizeof(float) * 320 * 320);
    for (int t = 0; t < 100; t++) { level[t] = 0.5f; amp[t] = 0.3f; } /* contrast enough to be judged */
    unsharp_judgement j = {0};
    /* only the direction input weighs: sigmoid(0.3 + 2 * (-1.25)) */
    ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", "v1 0.3 0 0 0 0 0 0 0 0 0 0 2"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_msg(fabs(j.sharpness - 1 / (1 + exp(-(0.3 - 2.5)))) < 1e-6, "least direction: %g", j.sharpness);
    unsharp_judgement_free(&j);
    /* the older head, one weight fewer: the direction input is left out */
    ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", "v1 0.3 0 0 0 0 0 0 0 0 0 0"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_msg(fabs(j.sharpness - 1 / (1 + exp(-0.3))) < 1e-6, "older head: %g", j.sharpness);
    unsharp_judgement_free(&j);
    unsharp_model_free(m);

    /* no "dirs" layer: the input reads 0, and the judge leaves no message behind */
    m = judge_model(8.0f, -4.0f, 0.0f);
    ck_assert_int_eq(unsharp_model_set_meta(m, "judge.photo_head", "v1 0.3 0 0 0 0 0 0 0 0 0 0 2"), UNSHARP_OK);
    ck_assert_int_eq(unsharp_judge(m, image_of(level, amp, px), NULL, &j), UNSHARP_OK);
    ck_assert_msg(fabs(j.sharpness - 1 / (1 + exp(-0.3))) < 1e-6, "no dirs layer: %g", j.sharpness);
    ck_assert_str_eq(unsharp_model_errmsg(m), "");
    unsharp_judgement_free(&j);
    unsharp_model_free(m);
    free(px);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("judge");
    TCase *tc = tcase_create("judge");
    tcase_add_test(tc, score_is_the_sharpest_tenth_of_textured_tiles);
    tcase_add_test(tc, texture_threshold_on_both_paths);
    tcase_add_test(tc, one_way_detail_is_left_out);
    tcase_add_test(tc, thresholds_and_kind);
    tcase_add_test(tc, motion_smear_is_caught);
    tcase_add_test(tc, refuses_what_it_cannot_judge);
    tcase_add_test(tc, small_photo_past_a_training_only_branch);
    tcase_add_test(tc, shipped_weights);
    tcase_add_test(tc, photo_head_scores_the_map);
    tcase_add_test(tc, photo_head_reads_the_least_direction);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
