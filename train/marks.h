/* marks.h: --from-marks: the photos a person marked keep or reject in their XMP sidecars
 * (unsharp_xmp_read, libunsharp-files). Only a person's marks count: unsharp-classify's own
 * --xmp verdicts are never read as decisions, or the model would learn from itself. */
#ifndef UNSHARP_TRAIN_MARKS_H
#define UNSHARP_TRAIN_MARKS_H
#include <stdio.h>

typedef struct marked_photos {
    char **keep, **reject; /* paths, each malloc'ed */
    int n_keep, n_reject;
    int by_tool;           /* photos marked by unsharp-classify only: passed over */
    int unreadable;        /* sidecars that could not be read (one line each on err) */
} marked_photos;

/* Lists the photos under dir (as training photos are found) and reads each one's sidecar.
 * Returns 0, or -1 when out of memory. */
int marks_collect(const char *dir, FILE *err, marked_photos *out);
void marks_free(marked_photos *m);

#endif
