/* actions.c: what happens to the selected photos after judging, and only when asked: XMP
 * rejection marks, then the Trash or a move. Before touching a photo it checks that the file
 * is still the one that was judged (unsharp_file_check: device, inode, size and modification
 * time); a photo that changed is skipped and reported. A photo's sidecars and RAW companions
 * (unsharp_companions) go with it to the Trash or the folder. */
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

static int remove_one(const options *o, const item *it, const char *path, const char *name)
{
    char err[1024];
    if (o->remove == ACT_TRASH) {
        if (o->dry_run) {
            say(o, "would move to trash", path, NULL);
            return 0;
        }
        if (unsharp_trash_file(path, err, sizeof err)) {
            fail(path, err);
            return -1;
        }
        say(o, "moved to trash", path, NULL);
        return 0;
    }
    char *dest = dest_for(o, it, name);
    if (!dest) {
        fail(path, "out of memory");
        return -1;
    }
    int rc = 0;
    if (o->dry_run) {
        struct stat st;
        if (lstat(dest, &st) == 0) {
            fail(path, "the destination already exists; it would be left in place");
            rc = -1;
        } else {
            say(o, "would move", path, dest);
        }
    } else if (unsharp_move_file(path, dest, err, sizeof err)) {
        fail(path, err);
        rc = -1;
    } else {
        say(o, "moved", path, dest);
    }
    free(dest);
    return rc;
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
        if (it->error) continue;
        if (!(it->verdict == UNSHARP_VERDICT_BLURRY || (o->select_unsure && it->verdict == UNSHARP_VERDICT_UNSURE)))
            continue;
        unsharp_file_state state = unsharp_file_check(it->path, &it->id);
        if (state == UNSHARP_FILE_GONE) {
            char why[256];
            snprintf(why, sizeof why, "skipped: gone since it was judged (%s)", strerror(errno));
            fail(it->path, why);
            failures++;
            continue;
        }
        if (state == UNSHARP_FILE_CHANGED) {
            fail(it->path, "skipped: the file changed since it was judged");
            failures++;
            continue;
        }
        if (o->xmp) {
            char *sc = unsharp_sidecar_for(it->path), err[1024];
            if (!sc) {
                fail(it->path, "out of memory");
                failures++;
                continue;
            }
            if (o->dry_run) {
                say(o, "would mark rejected in", sc, NULL);
            } else if (unsharp_xmp_mark_rejected(sc, err, sizeof err)) {
                fail(it->path, err);
                failures++;
                free(sc);
                continue;
            } else {
                say(o, "marked rejected in", sc, NULL);
            }
            free(sc);
        }
        if (o->remove == ACT_NONE) continue;
        char *names[UNSHARP_MAX_COMPANIONS];
        int n = unsharp_companions(it->path, names, UNSHARP_MAX_COMPANIONS);
        const char *base;
        char *dir = unsharp_path_dir(it->path, &base);
        if (!dir || remove_one(o, it, it->path, base) != 0) {
            failures++;
        } else {
            for (int k = 0; k < n; k++) {
                char *p = malloc(strlen(dir) + strlen(names[k]) + 2);
                if (!p) { failures++; break; }
                sprintf(p, "%s/%s", dir, names[k]);
                if (remove_one(o, it, p, names[k]) != 0) failures++;
                free(p);
            }
        }
        for (int k = 0; k < n; k++) free(names[k]);
        free(dir);
    }
    return failures;
}
