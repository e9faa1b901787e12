/* actions.c: what happens to the selected photos after judging, and only when asked: XMP
 * rejection marks, then the Trash or a move. A photo a person marked keep (in any of its
 * sidecars, its RAW's included) is left alone, with a message saying so. A photo that is no
 * longer the one judged (unsharp_file_check: device, inode, size and modification time) is
 * skipped and reported, and libunsharp-files checks again right before each destructive
 * step. A photo's sidecars and RAW companions (unsharp_companions, links included) go with it
 * to the Trash or the folder, each checked the same way; with --move-to nothing of a photo's
 * set moves when any of its members would clash at the destination. The selection (groups.c)
 * never takes a frame of a bracket, a focus stack or a panorama. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "classify.h"

/* What an action did (printed unless -q) or, in a dry run, would do (always printed: it is
 * what --dry-run was asked for). */
static void say(const options *o, const char *verb, const char *path, const char *to)
{
    if (o->quiet && !o->dry_run) return;
    fprintf(stderr, PROG ": %s ", verb);
    put_readable(stderr, path);
    if (to) {
        fputs(" -> ", stderr);
        put_readable(stderr, to);
    }
    fputc('\n', stderr);
}

static void fail(const char *path, const char *why)
{
    fputs(PROG ": ", stderr);
    put_readable(stderr, path);
    fprintf(stderr, ": %s\n", why);
}

/* The destination under --move-to for a file of the photo's folder named name. */
static char *dest_for(const options *o, const item *it, const char *name)
{
    const char *rbase;
    char *rdir = unsharp_path_dir(it->rel, &rbase);
    if (!rdir) return NULL;
    char *d = malloc(strlen(o->move_to) + strlen(rdir) + strlen(name) + 3);
    if (d) {
        if (strcmp(rdir, ".") == 0) sprintf(d, "%s/%s", o->move_to, name);
        else sprintf(d, "%s/%s/%s", o->move_to, rdir, name);
    }
    free(rdir);
    return d;
}

/* One file of a photo's set: the photo itself or a companion, with its identity. */
typedef struct member {
    char *path, *dest;
    const char *name;
    unsharp_file_id id;
} member;

/* Cleans, once a run for each folder it moves into, the temporary copies an interrupted
 * move left there (never the only copy of anything: its source was not yet unlinked). */
static void clean_dest_dir(const char *dest)
{
    const char *base;
    char *dir = unsharp_path_dir(dest, &base);
    int n = dir ? unsharp_clean_partials(dir) : 0;
    if (n) {
        fprintf(stderr, PROG ": removed %d unfinished cop%s left by an interrupted move in ", n, n == 1 ? "y" : "ies");
        put_readable(stderr, dir);
        fputc('\n', stderr);
    }
    free(dir);
}

/* Moves or trashes a photo's whole set, photo first. With --move-to nothing moves when any
 * member's destination already exists. Returns the number of files not acted on. */
static int remove_set(const options *o, const item *it, member *m, int n)
{
    char err[1024];
    if (o->remove == ACT_MOVE) {
        for (int k = 0; k < n; k++) {
            struct stat st;
            if (!(m[k].dest = dest_for(o, it, m[k].name))) {
                fail(it->path, "out of memory");
                return n;
            }
            if (lstat(m[k].dest, &st) == 0 && !unsharp_same_content(m[k].path, m[k].dest)) {
                snprintf(err, sizeof err, "%s already exists; nothing of this photo %s moved", m[k].dest,
                         o->dry_run ? "would be" : "was");
                fail(it->path, err);
                return n;
            }
        }
    }
    int failures = 0;
    for (int k = 0; k < n; k++) {
        if (o->dry_run) {
            say(o, o->remove == ACT_TRASH ? "would move to trash" : "would move", m[k].path, m[k].dest);
            continue;
        }
        int rc;
        if (o->remove == ACT_TRASH) {
            rc = unsharp_trash_file(m[k].path, &m[k].id, err, sizeof err);
        } else {
            clean_dest_dir(m[k].dest);
            rc = unsharp_move_file(m[k].path, m[k].dest, &m[k].id, err, sizeof err);
        }
        if (rc != 0) {
            fail(m[k].path, err);
            failures++;
            if (k == 0) return n; /* the photo stays: so do its companions */
            continue;
        }
        say(o, o->remove == ACT_TRASH ? "moved to trash" : "moved", m[k].path, m[k].dest);
    }
    return failures;
}

/* Marks the photo rejected in its sidecars (unsharp_mark_sidecars: a RAW+JPEG pair's RAW's,
 * and the JPEG's own when it has one); 0, or -1 when one could not be written (reported). A
 * sidecar where a person's mark is (a reject: a keep never gets here) is left as it is. */
static int mark_xmp(const options *o, const item *it)
{
    char *sc[UNSHARP_MAX_COMPANIONS + 1], err[1024];
    int n = unsharp_mark_sidecars(it->path, sc, UNSHARP_MAX_COMPANIONS + 1), rc = 0;
    if (n < 0) {
        fail(it->path, "out of memory");
        return -1;
    }
    for (int k = 0; k < n; k++) {
        int r = o->dry_run ? 0 : unsharp_xmp_mark_rejected(sc[k], err, sizeof err);
        if (o->dry_run) say(o, "would mark rejected in", sc[k], NULL);
        else if (r < 0) {
            fail(it->path, err);
            rc = -1;
        } else if (r == 1) say(o, "left as a person marked it:", sc[k], NULL);
        else say(o, "marked rejected in", sc[k], NULL);
        free(sc[k]);
    }
    return rc;
}

/* 1 when a person marked the photo keep (unsharp_photo_kept): said, and nothing done */
static int person_kept(const options *o, const item *it)
{
    char *which;
    if (!unsharp_photo_kept(it->path, &which)) return 0;
    fputs(PROG ": ", stderr);
    put_readable(stderr, it->path);
    fputs(": kept, because a person marked it keep (in ", stderr);
    put_readable(stderr, which);
    fprintf(stderr, "); not %s\n",
            o->remove == ACT_TRASH ? (o->xmp ? "marked or moved to the trash" : "moved to the trash")
            : o->remove == ACT_MOVE ? (o->xmp ? "marked or moved" : "moved")
                                    : "marked rejected");
    free(which);
    return 1;
}

/* Acts on one selected photo; returns the number of files not acted on. */
static int act_on(const options *o, const item *it)
{
    unsharp_file_state state = unsharp_file_check(it->path, &it->id);
    if (state != UNSHARP_FILE_SAME) {
        char why[256];
        if (state == UNSHARP_FILE_GONE) snprintf(why, sizeof why, "skipped: gone since it was judged (%s)", strerror(errno));
        else snprintf(why, sizeof why, "skipped: the file changed since it was judged");
        fail(it->path, why);
        return 1;
    }
    if (person_kept(o, it)) return 0;
    if (o->xmp && mark_xmp(o, it) != 0) return 1;
    if (o->remove == ACT_NONE) return 0;
    /* the set: the photo, then its companions, each with its identity as found now */
    char *names[UNSHARP_MAX_COMPANIONS];
    int nc = unsharp_companions(it->path, names, UNSHARP_MAX_COMPANIONS);
    member m[UNSHARP_MAX_COMPANIONS + 1];
    memset(m, 0, sizeof m);
    const char *base;
    char *dir = unsharp_path_dir(it->path, &base);
    int n = 0, failures = 0;
    if (dir && (m[0].path = strdup(it->path))) {
        m[0].name = base;
        m[0].id = it->id;
        n = 1;
        for (int k = 0; k < nc; k++) {
            member *c = &m[n];
            if (!(c->path = malloc(strlen(dir) + strlen(names[k]) + 2))) break;
            sprintf(c->path, "%s/%s", dir, names[k]);
            c->name = names[k];
            if (unsharp_file_id_read(c->path, &c->id) == 0) n++;
            else free(c->path), c->path = NULL;
        }
    }
    if (n != nc + 1) {
        fail(it->path, n ? "a companion could not be read; nothing of this photo was acted on" : "out of memory");
        failures = 1 + nc;
    } else {
        failures = remove_set(o, it, m, n);
    }
    for (int k = 0; k < UNSHARP_MAX_COMPANIONS + 1; k++) {
        free(m[k].path);
        free(m[k].dest);
    }
    for (int k = 0; k < nc; k++) free(names[k]);
    free(dir);
    return failures;
}

static void wait_for_test_hook(void)
{
    /* A test option (docs/cli.md): wait, between judging and acting, until this file exists,
     * so that a test can change a photo after it was judged. */
    const char *f = getenv("UNSHARP_CLASSIFY_TEST_PAUSE");
    if (!f || !*f) return;
    struct timespec ts = {0, 20 * 1000 * 1000};
    while (access(f, F_OK) != 0) nanosleep(&ts, NULL);
}

int actions_run(const options *o, item_list *items)
{
    if (!o->xmp && o->remove == ACT_NONE) return 0;
    wait_for_test_hook();
    int failures = 0;
    for (size_t i = 0; i < items->n; i++) {
        item *it = &items->items[i];
        if (item_selected(o, it)) failures += act_on(o, it);
    }
    return failures;
}
