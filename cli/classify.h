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
typedef enum { SEL_BLURRY, SEL_UNSURE, SEL_BURST_REST } selection;

typedef struct options {
    out_format format;
    double threshold, unsure;   /* bands: sharp at or above threshold + unsure, blurry below
                                   threshold - unsure, unsure between (the engine's verdict) */
    int threshold_set, unsure_set;
    int jobs;
    const char *weights;
    remove_action remove;       /* --trash or --move-to */
    const char *move_to;
    int xmp, dry_run, quiet;
    selection select;           /* --select: blurry (default), unsure, all-but-best[=N] */
    int keep_best;              /* all-but-best: frames kept of each burst (N, default 1) */
    unsharp_device device;      /* --device: cpu, cuda or auto (default) */
    int group;                  /* 1 unless --no-group */
    unsharp_group_options grouping; /* --group-gap, --group-likeness */
    const char *index_dir;      /* --index DIR; NULL: $XDG_CACHE_HOME/unsharp */
    int no_index;               /* --no-index */
    const char *files_from;     /* --files-from FILE ("-": stdin) */
    int null_names;             /* --null: its names end in NUL, not newline */
    int shard_k, shard_n;       /* --shard K/N; 0/0 when not given */
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
    int from_index;      /* 1: the result came from the results index, not judged this run */
    unsharp_frame *frame;        /* grouping on: what grouping needs (malloc'ed when judged) */
    unsharp_group_place place;   /* grouping on: its group, rank and role */
} item;

typedef struct item_list {
    item *items;
    size_t n, cap;
} item_list;

/* scan.c: appends every photo under each PATH (folders recursively, in name order). Paths that
 * cannot be read become items with an error. Returns 0, or -1 when out of memory. */
int scan_paths(char **paths, int n, item_list *out);
void item_list_free(item_list *l);
/* The names in a --files-from file ("-": stdin), each ending in a newline or (nul) a NUL, as a
 * malloc'ed array of malloc'ed strings; empty names are skipped. 0, or -1 with a message in
 * err. */
int read_names(const char *file, int nul, char ***names, int *count, char *err, size_t errsize);
/* --shard K/N: keeps the items of the folders whose name hashes to K - 1 modulo N, so that a
 * folder is never split between shards. */
void shard_filter(item_list *l, int k, int n);

/* index.c: the results index (SQLite), keyed by file identity, the weights' checksum and the
 * bands. index_open returns NULL (with a warning printed) when it cannot be used; the run then
 * judges everything. index_lookup reads the file's identity and fills a known result (1), or
 * returns 0; index_store remembers a judged one. index_close closes it. */
typedef struct results_index results_index;
results_index *index_open(const options *o, const char *weights);
int index_lookup(results_index *x, const options *o, item *it);
void index_store(results_index *x, const options *o, const item *it);
void index_close(results_index *x);

/* groups.c: groups the judged items (unsharp_group) and gives the order the table shows
 * them in: each group together, sharpest first, where its first frame was. 0, or -1 with a
 * message printed. */
int groups_run(const options *o, item_list *items);
size_t *groups_table_order(const item_list *items);
/* whether the actions take this item (the selection, never a bracket, stack or pano frame) */
int item_selected(const options *o, const item *it);

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
