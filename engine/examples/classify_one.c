/* classify_one.c: judges one photo through libunsharp-engine's public API, with the shipped
 * weights. Prints "SHARPNESS VERDICT", e.g. "0.9731 sharp". Build:
 *   cc classify_one.c $(pkg-config --cflags --libs unsharp-engine) -o classify_one */
#include <stdio.h>
#include <unsharp/unsharp.h>

int main(int argc, char **argv)
{
    static const char *verdicts[] = {"sharp", "unsure", "blurry"};
    char weights[4096];
    unsharp_model *m = NULL;
    unsharp_image *img = NULL;
    unsharp_judgement j = {0};
    unsharp_image_options io = {.format = UNSHARP_PIXEL_LUMA8, .long_side = UNSHARP_WORKING_LONG_SIDE};
    if (argc != 2) return fprintf(stderr, "usage: %s PHOTO\n", argv[0]), 2;
    int ok = UNSHARP_CHECK_VERSION() == UNSHARP_OK && unsharp_default_weights(weights, sizeof weights) == UNSHARP_OK &&
             unsharp_model_load(weights, NULL, &m) == UNSHARP_OK && unsharp_image_load(argv[1], &io, &img) == UNSHARP_OK;
    if (!ok) fprintf(stderr, "%s: %s\n", argv[0], unsharp_errmsg());
    else if (!(ok = unsharp_judge(m, img, NULL, &j) == UNSHARP_OK)) fprintf(stderr, "%s: %s\n", argv[0], unsharp_model_errmsg(m));
    else printf("%.4f %s\n", j.sharpness, verdicts[j.verdict]);
    unsharp_judgement_free(&j);
    unsharp_image_free(img);
    unsharp_model_free(m);
    return ok ? 0 : 1;
}
