/* actions.c: what happens to the selected photos after judging, and only when asked: XMP
 * rejection marks, then the Trash or a move. Before touching a photo it checks that the file
 * is still the one that was judged (device, inode, size and modification time, by lstat);
 * a photo that changed is skipped and reported. A photo's sidecars (NAME.EXT.xmp, NAME.xmp)
 * and RAW companions (NAME.cr2, NAME.NEF, ...) go with it to the Trash or the folder. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "classify.h"

#define MAX_COMPANIONS 16

static int is_raw_ext(const char *ext)
{
    static const char *raws[] = {"cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2", "pef", "srw"};
    for (size_t k = 0; k < sizeof raws / sizeof *raws; k++)
        if (strcasecmp(ext, raws[k]) == 0) return 1;
    return 0;
}

/* Splits path into its folder (malloc'ed, "." when none) and its base name (inside path). */
static char *split(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Finds the companions of a photo in its folder: NAME.EXT.xmp, NAME.xmp and NAME.RAW, any
 * case. names are malloc'ed base names. Returns their count. */
static int companions(const char *path, char **names, int max)
{
    const char *base;
    char *dir = split(path, &base);
    if (!dir) return 0;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    size_t blen = strlen(base);
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        const char *name = e->d_name;
        if (strcmp(name, base) == 0) continue;
        int hit = 0;
        if (strlen(name) == blen + 4 && strncmp(name, base, blen) == 0 && strcasecmp(name + blen, ".xmp") == 0)
            hit = 1;
        else if (strncmp(name, base, stem) == 0 && name[stem] == '.' && !strchr(name + stem + 1, '.') &&
                 (strcasecmp(name + stem + 1, "xmp") == 0 || is_raw_ext(name + stem + 1)))
            hit = 1;
        if (hit) {
            struct stat st;
            char *full = malloc(strlen(dir) + strlen(name) + 2);
            if (!full) break;
            sprintf(full, "%s/%s", dir, name);
            if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && (names[n] = strdup(name))) n++;
            free(full);
        }
    }
    if (d) closedir(d);
    free(dir);
    return n;
}

/* The sidecar to mark: NAME.EXT.xmp or NAME.xmp when one exists, else NAME.EXT.xmp. */
static char *sidecar_for(const char *path)
{
    char *names[MAX_COMPANIONS];
    int n = companions(path, names, MAX_COMPANIONS);
    const char *base;
    char *dir = split(path, &base);
    size_t blen = strlen(base);
    int pick = -1;
    for (int k = 0; k < n; k++)
        if (strlen(names[k]) == blen + 4 && strncmp(names[k], base, blen) == 0) pick = k;
    for (int k = 0; k < n && pick < 0; k++) {
        size_t l = strlen(names[k]);
        if (l > 4 && strcasecmp(names[k] + l - 4, ".xmp") == 0) pick = k;
    }
    char *out = NULL;
    if (dir) {
        const char *name = pick >= 0 ? names[pick] : NULL;
        out = malloc(strlen(dir) + blen + 8);
        if (out) {
            if (name) sprintf(out, "%s/%s", dir, name);
            else sprintf(out, "%s.xmp", path);
        }
    }
    for (int k = 0; k < n; k++) free(names[k]);
    free(dir);
    return out;
}

static void say(const char *verb, const char *path, const char *to)
{
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
    char *rdir = split(it->rel, &rbase);
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
            say("would move to trash", path, NULL);
            return 0;
        }
        if (trash_file(path, err, sizeof err)) {
            fail(path, err);
            return -1;
        }
        say("moved to trash", path, NULL);
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
            say("would move", path, dest);
        }
    } else if (move_file(path, dest, err, sizeof err)) {
        fail(path, err);
        rc = -1;
    } else {
        say("moved", path, dest);
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
        file_id now;
        if (file_id_read(it->path, &now) != 0) {
            char why[256];
            snprintf(why, sizeof why, "skipped: gone since it was judged (%s)", strerror(errno));
            fail(it->path, why);
            failures++;
            continue;
        }
        if (now.dev != it->id.dev || now.ino != it->id.ino || now.size != it->id.size ||
            now.mtime_sec != it->id.mtime_sec || now.mtime_nsec != it->id.mtime_nsec) {
            fail(it->path, "skipped: the file changed since it was judged");
            failures++;
            continue;
        }
        if (o->xmp) {
            char *sc = sidecar_for(it->path), err[1024];
            if (!sc) {
                fail(it->path, "out of memory");
                failures++;
                continue;
            }
            if (o->dry_run) {
                say("would mark rejected in", sc, NULL);
            } else if (xmp_mark_rejected(sc, err, sizeof err)) {
                fail(it->path, err);
                failures++;
                free(sc);
                continue;
            } else {
                say("marked rejected in", sc, NULL);
            }
            free(sc);
        }
        if (o->remove == ACT_NONE) continue;
        char *names[MAX_COMPANIONS];
        int n = companions(it->path, names, MAX_COMPANIONS);
        const char *base;
        char *dir = split(it->path, &base);
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
