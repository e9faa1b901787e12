/* make_usw_seed: writes a few tiny .usw models into DIR for the fuzz_weights seed corpus
 * (tests/fuzz/make-seeds.sh runs it). Built only with UNSHARP_FUZZ.
 * usage: make_usw_seed DIR */
#include <stdio.h>
#include <unsharp/unsharp.h>

static const struct { const char *name, *arch, *meta; } models[] = {
    {"conv", "input x 1\nconv c1 x out=2 k=3 p=1\nrelu r1 c1\ngmean g r1\n", NULL},
    {"concat",
     "# small classifier\ninput x 3\nconv c1 x out=4 k=3 s=2 p=1\nlrelu a1 c1 slope=0.1\n"
     "maxpool p1 a1 k=2\ngmean g1 p1\ngmax g2 p1\ngvar g3 p1\nconcat f g1,g2,g3\n"
     "dropout d0 f p=0.25\ndense d d0 out=2\nsoftmax_ce loss d\n",
     "threshold=0.5"},
    {"pool", "input x 2\navgpool p1 x k=3 s=1 p=1\nconv c1 p1 out=1 k=1 bias=0\nbias b1 c1\n"
     "sigmoid_ce loss b1 weight=2\n", NULL},
};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        unsharp_model *m = NULL;
        unsharp_status st = unsharp_model_create(models[i].arch, 42 + i, NULL, &m);
        if (st != UNSHARP_OK) {
            fprintf(stderr, "make_usw_seed: %s: %s: %s\n", models[i].name, unsharp_status_name(st), unsharp_errmsg());
            return 1;
        }
        if (models[i].meta) {
            char key[64], val[64];
            if (sscanf(models[i].meta, "%63[^=]=%63s", key, val) == 2) unsharp_model_set_meta(m, key, val);
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.usw", argv[1], models[i].name);
        st = unsharp_model_save(m, path);
        if (st != UNSHARP_OK) {
            fprintf(stderr, "make_usw_seed: %s: %s\n", path, unsharp_model_errmsg(m));
            unsharp_model_free(m);
            return 1;
        }
        unsharp_model_free(m);
    }
    return 0;
}
