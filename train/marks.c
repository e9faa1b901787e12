/* marks.c: the photos a person marked keep or reject (marks.h). */
#include <stdlib.h>
#include <string.h>
#include "marks.h"
#include "photos.h"
#include "unsharp/files.h"

static int push(char ***v, int *n, const char *s)
{
    char **w = realloc(*v, sizeof *w * (size_t)(*n + 1));
    if (!w) return -1;
    *v = w;
    if (!(w[*n] = strdup(s))) return -1;
    (*n)++;
    return 0;
}

void marks_free(marked_photos *m)
{
    for (int i = 0; i < m->n_keep; i++) free(m->keep[i]);
    for (int i = 0; i < m->n_reject; i++) free(m->reject[i]);
    free(m->keep);
    free(m->reject);
    memset(m, 0, sizeof *m);
}

int marks_collect(const char *dir, FILE *err, marked_photos *out)
{
    memset(out, 0, sizeof *out);
    char **files = NULL, *d = (char *)dir;
    int n = 0, rc = 0;
    if (train_list_photos(&d, 1, &files, &n) != 0) return -1;
    for (int i = 0; i < n; i++) {
        char *sidecar = rc == 0 ? unsharp_sidecar_for(files[i]) : NULL, why[512];
        unsharp_xmp_state st = {0};
        if (rc == 0 && !sidecar) rc = -1;
        else if (rc == 0 && unsharp_xmp_read(sidecar, &st, why, sizeof why) != 0) {
            fprintf(err, "%s: %s\n", sidecar, why);
            out->unreadable++;
        } else if (rc == 0 && st.mark != UNSHARP_MARK_NONE) {
            if (st.by != UNSHARP_BY_PERSON) out->by_tool++;
            else if (st.mark == UNSHARP_MARK_KEEP) rc = push(&out->keep, &out->n_keep, files[i]);
            else if (st.mark == UNSHARP_MARK_REJECT) rc = push(&out->reject, &out->n_reject, files[i]);
        }
        free(sidecar);
        free(files[i]);
    }
    free(files);
    if (rc != 0) marks_free(out);
    return rc;
}
