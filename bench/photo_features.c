/* photo_features.c: the photo head's inputs, for fitting and checking it (bench/photo_head.py).
 * Judges every JPEG/PNG directly inside each folder given (as unsharp-classify does: luma at the
 * working long side) and prints one CSV row a photo: its path, its label (the folder's name:
 * "sharp", "blurry" or anything else), the sharpness and verdict these weights give, and the
 * features of photo_score.h. With --maps DIR it also writes each photo's focus map as
 * DIR/NAME.map: a line "tw th", then tw * th float32 tile sharpness values, row by row.
 * With --set-head it writes a copy of the weights whose metadata holds the given head, with
 * --set-meta one whose metadata KEY is VALUE (threshold.blurry=0.3: the blurry line).
 *
 * usage: photo_features [--maps DIR] WEIGHTS FOLDER...
 *        photo_features --set-head "v1 b w1 ... wN" WEIGHTS_IN WEIGHTS_OUT
 *        photo_features --set-meta KEY=VALUE WEIGHTS_IN WEIGHTS_OUT
 *        photo_features --get-meta KEY WEIGHTS   (prints the value; nothing when absent) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unsharp/files.h>
#include <unsharp/unsharp.h>

#include "../engine/src/photo_score.h"

static const char *verdict_name(unsharp_verdict v)
{
    return v == UNSHARP_VERDICT_SHARP ? "sharp" : v == UNSHARP_VERDICT_BLURRY ? "blurry" : "unsure";
}

/* A copy of the weights IN at OUT whose metadata KEY is VALUE (a head is checked first). */
static int set_meta(const char *key, const char *value, const char *in, const char *out)
{
    float coef[PHOTO_NFEATURES + 1];
    if (!strcmp(key, PHOTO_HEAD_KEY) && !unsharp__photo_head_parse(value, coef)) {
        fprintf(stderr, "photo_features: the head must be \"v1\" and %d numbers (or %d, from before f_dirs)\n",
                PHOTO_NFEATURES + 1, PHOTO_NFEATURES);
        return 2;
    }
    unsharp_model_options mo = {.device = UNSHARP_DEVICE_CPU, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(in, &mo, &m) != UNSHARP_OK || unsharp_model_set_meta(m, key, value) != UNSHARP_OK ||
        unsharp_model_save(m, out) != UNSHARP_OK) {
        fprintf(stderr, "photo_features: %s\n", m ? unsharp_model_errmsg(m) : unsharp_errmsg());
        unsharp_model_free(m);
        return 2;
    }
    unsharp_model_free(m);
    return 0;
}

static int judge_folder(unsharp_model *m, const char *dir, const char *maps)
{
    size_t n = 0;
    char **names = NULL;
    if (unsharp_list_photos(dir, &names, &n) != 0) {
        perror(dir);
        return 1;
    }
    const char *slash = strrchr(dir, '/');
    const char *label = slash && slash[1] ? slash + 1 : dir;
    unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unsharp_image *img = NULL;
        unsharp_judgement j = {0};
        float f[PHOTO_NFEATURES];
        if (unsharp_image_load(path, &io, &img) != UNSHARP_OK ||
            unsharp__judge_features(m, img, NULL, &j, f) != UNSHARP_OK) {
            fprintf(stderr, "photo_features: %s: %s\n", path, img ? unsharp_model_errmsg(m) : unsharp_errmsg());
            unsharp_image_free(img);
            failed++;
            continue;
        }
        printf("%s,%s,%.6f,%s", path, label, j.sharpness, verdict_name(j.verdict));
        for (int k = 0; k < PHOTO_NFEATURES; k++) printf(",%.6g", f[k]);
        printf("\n");
        if (maps) {
            char mp[4600];
            snprintf(mp, sizeof mp, "%s/%s.map", maps, names[i]);
            FILE *o = fopen(mp, "wb");
            if (o) {
                fprintf(o, "%d %d\n", j.map_w, j.map_h);
                fwrite(j.map, sizeof(float), (size_t)j.map_w * j.map_h, o);
                fclose(o);
            }
        }
        unsharp_image_free(img);
        unsharp_judgement_free(&j);
        free(names[i]);
    }
    free(names);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--get-meta")) { /* prints the value, or nothing when absent */
        unsharp_model_options mo = {.device = UNSHARP_DEVICE_CPU, .threads = 1};
        unsharp_model *m = NULL;
        if (unsharp_model_load(argv[3], &mo, &m) != UNSHARP_OK) {
            fprintf(stderr, "photo_features: %s\n", unsharp_errmsg());
            return 2;
        }
        const char *v = unsharp_model_get_meta(m, argv[2]);
        if (v) printf("%s\n", v);
        unsharp_model_free(m);
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "--set-head")) return set_meta(PHOTO_HEAD_KEY, argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "--set-meta") && strchr(argv[2], '=') && argv[2][0] != '=') {
        char key[128];
        size_t k = (size_t)(strchr(argv[2], '=') - argv[2]);
        if (k >= sizeof key) {
            fprintf(stderr, "photo_features: the metadata key is longer than %d characters\n", (int)sizeof key - 1);
            return 2;
        }
        memcpy(key, argv[2], k);
        key[k] = 0;
        return set_meta(key, argv[2] + k + 1, argv[3], argv[4]);
    }
    const char *maps = NULL;
    int a = 1;
    if (argc > 2 && !strcmp(argv[1], "--maps")) {
        maps = argv[2];
        a = 3;
    }
    if (argc - a < 2) {
        fprintf(stderr, "usage: photo_features [--maps DIR] WEIGHTS FOLDER...\n"
                        "       photo_features --set-head \"v1 b w1 ... wN\" WEIGHTS_IN WEIGHTS_OUT\n"
                        "       photo_features --set-meta KEY=VALUE WEIGHTS_IN WEIGHTS_OUT\n"
                        "       photo_features --get-meta KEY WEIGHTS\n");
        return 2;
    }
    unsharp_model_options mo = {.device = UNSHARP_DEVICE_CPU, .threads = 1};
    unsharp_model *m = NULL;
    if (unsharp_model_load(argv[a], &mo, &m) != UNSHARP_OK) {
        fprintf(stderr, "photo_features: %s\n", unsharp_errmsg());
        return 2;
    }
    printf("path,label,sharpness,verdict,f_max,f_block,f_top1,f_top5,f_top20,f_top50,f_mean,f_image,f_direction,f_detail,f_dirs\n");
    int rc = 0;
    for (int i = a + 1; i < argc; i++) rc |= judge_folder(m, argv[i], maps);
    unsharp_model_free(m);
    return rc;
}
