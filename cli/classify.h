/* classify.h: what the parts of unsharp-classify share: the options, one record per photo,
 * and the entry points of each part (scan, pipeline, output, actions). */
#ifndef UNSHARP_CLASSIFY_H
#define UNSHARP_CLASSIFY_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>
#include "unsharp/files.h"
#include "unsharp/unsharp.h"

#define PROG "unsharp-classify"

typedef enum { FORMAT_TABLE, FORMAT_JSONL, FORMAT_CSV } out_format;
typedef enum { ACT_NONE, ACT_TRASH, ACT_MOVE } remove_action;

typedef struct options {
    out_format format;
    double threshold, unsure;   /* bands: sharp at or above threshold + unsure, blurry below
                                   threshold - unsure, unsure between (the engine's verdict) */
    int threshold_set, unsure_set;
    int jobs;
    const char *weights;
    remove_action remove;       /* --trash or --move-to */
    const char *move_to;
    int xmp, dry_run, select_unsure, quiet;
    unsharp_device device;      /* --device: cpu, cuda or auto (default) */
} options;

/* One photo: its path, where it came from, and (once judged) the result. */
typedef struct item {
    char *path;          /* as reached: the PATH argument joined with the walked names */
    char *rel;           /* relative to the PATH argument it was found under (its base name
                            when the argument is the file itself) */
    char *error;         /* set when the file failed (scan, decode or judging); malloc'ed */
    unsharp_file_id id;  /* when it was judged; checked again before any action */
    float sharpness;
    unsharp_verdict verdict;
    unsharp_blur_kind kind;
    int width, height;   /* as stored */
} item;

typedef struct item_list {
    item *items;
    size_t n, cap;
} item_list;

/* scan.c: appends every photo under each PATH (folders recursively, in name order). Paths that
 * cannot be read become items with an error. Returns 0, or -1 when out of memory. */
int scan_paths(char **paths, int n, item_list *out);
void item_list_free(item_list *l);

/* pipeline.c: judges every item on o->jobs threads, each with its own model handle, and calls
 * done(i) on the calling thread for each item in input order as soon as it and all before it
 * are judged. Returns 0, or -1 with a message printed when a model cannot be loaded. */
typedef void (*item_done_fn)(size_t i, void *ctx);
int pipeline_run(const options *o, const char *weights, item_list *items, item_done_fn done, void *ctx);

/* output.c */
void output_begin(const options *o);
void output_item(const options *o, const item *it);
/* errno of the first write of the results that failed, or 0 */
int output_errno(void);
void progress_show(size_t done, size_t total, double elapsed);
void progress_clear(void);
/* Writes s for a human reader: control characters and bytes that are not UTF-8 escaped. */
void put_readable(FILE *f, const char *s);
const char *verdict_name(unsharp_verdict v);
const char *kind_name(unsharp_blur_kind k);

/* actions.c: acts on the selected items after judging. Returns the number of files that could
 * not be acted on. */
int actions_run(const options *o, item_list *items);

#endif
