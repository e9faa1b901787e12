/* val.c: validation on a labelled folder (see val.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "photos.h"
#include "val.h"

double train_auc(const float *score, const int *label, int n)
{
    double pos = 0, neg = 0, wins = 0;
    for (int i = 0; i < n; i++) {
        if (!label[i]) continue;
        pos++;
        for (int j = 0; j < n; j++) {
            if (label[j]) continue;
            wins += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
        }
    }
    for (int j = 0; j < n; j++) neg += !label[j];
    return pos && neg ? wins / (pos * neg) : NAN;
}

static const char *const SHARP_DIRS[] = {"sharp", "good"}, *const BLURRY_DIRS[] = {"blurry", "bad"};

int train_validate(unsharp_model *m, const char *dir, float threshold, FILE *err, FILE *detail, train_val_result *out)
{
    memset(out, 0, sizeof *out);
    char **files[2] = {NULL, NULL};
    int count[2] = {0, 0};
    for (int cls = 0; cls < 2; cls++) {
        for (int alt = 0; alt < 2 && count[cls] == 0; alt++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, cls ? SHARP_DIRS[alt] : BLURRY_DIRS[alt]);
            char *p = path;
            if (files[cls]) free(files[cls]);
            files[cls] = NULL;
            if (train_list_photos(&p, 1, &files[cls], &count[cls]) != 0) count[cls] = 0;
        }
    }
    int total = count[0] + count[1], rc = -1, k = 0;
    float *score = malloc(sizeof *score * (total ? total : 1));
    int *label = malloc(sizeof *label * (total ? total : 1));
    if (!count[0] && !count[1]) {
        fprintf(err, "%s: needs sharp/ and blurry/ (or good/ and bad/) folders with photos\n", dir);
        goto done;
    }
    if (!score || !label) goto done;
    unsharp_image_options o = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    double loss = 0;
    int right = 0;
    for (int cls = 0; cls < 2; cls++)
        for (int i = 0; i < count[cls]; i++) {
            unsharp_image *img = NULL;
            unsharp_judgement j = {0};
            if (unsharp_image_load(files[cls][i], &o, &img) != UNSHARP_OK) {
                fprintf(err, "%s\n", unsharp_errmsg());
                out->failed++;
            } else if (unsharp_judge(m, img, NULL, &j) != UNSHARP_OK) {
                fprintf(err, "%s: %s\n", files[cls][i], unsharp_model_errmsg(m));
                out->failed++;
            } else {
                score[k] = j.sharpness;
                label[k] = cls;
                double p = fmin(fmax(j.sharpness, 1e-6), 1 - 1e-6);
                loss += cls ? -log(p) : -log(1 - p);
                right += (j.sharpness >= threshold) == cls;
                if (detail) fprintf(detail, "%s %.4f %s\n", cls ? "sharp " : "blurry", j.sharpness, files[cls][i]);
                k++;
                if (cls) out->n_sharp++; else out->n_blurry++;
            }
            unsharp_judgement_free(&j);
            unsharp_image_free(img);
        }
    if (k == 0) goto done;
    out->accuracy = (double)right / k;
    out->loss = loss / k;
    out->auc = train_auc(score, label, k);
    rc = 0;
done:
    for (int cls = 0; cls < 2; cls++) {
        for (int i = 0; i < count[cls]; i++) free(files[cls][i]);
        free(files[cls]);
    }
    free(score);
    free(label);
    return rc;
}
