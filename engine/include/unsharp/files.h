/* files.h: libunsharp-files, what every unsharp program does with the user's files: which
 * names are photos, what identifies a file (so that an action can check it is still the file
 * that was judged), a photo's sidecars and RAW companions, the desktop Trash, moves that never
 * overwrite, XMP marks (keep, reject, stars, colour labels), and opening and walking the user's paths safely. GIO
 * (reading Trash entries back) and Exempi (XMP) are opened on first use, not linked. The
 * engine (unsharp.h) never depends on this library.
 *
 * Calls that can fail return 0 on success, or -1 with, for those that take a buffer err
 * (errsize bytes), a message for people in it, and for the others errno set. Nothing is
 * printed; the library never exits. */
#ifndef UNSHARP_FILES_H
#define UNSHARP_FILES_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- photo names ---- */

/* 1 when name ends (any case) in a photo extension: .jpg .jpeg .jpe .png .heic .heif .avif
 * .webp .tif .tiff, a RAW one (below), or an image name no decoder here reads (.jxl .jp2 .j2k
 * .gif .bmp .psd .exr: listed so that each gets its one plain message, such as "JPEG XL is not
 * supported", rather than vanishing); else 0. Decides what a folder walk lists; the engine's
 * decoder, not the name, decides what can be judged. A RAW is a companion only of a photo it
 * can be judged beside (not of a .gif of its stem). */
int unsharp_is_photo_name(const char *name);

/* 1 when name ends (any case) in a camera RAW extension: .cr2 .cr3 .nef .arw .dng .raf .orf
 * .rw2 .pef .srw. */
int unsharp_is_raw_name(const char *name);

/* Whether names[i], in one folder's listing of n names sorted by strcmp, is a photo to list:
 * a photo name, and not a RAW whose folder holds a photo of another kind with the same stem
 * (IMG_1.CR2 beside IMG_1.JPG is that JPEG's companion, not a photo of its own). */
int unsharp_photo_listed(char *const *names, size_t n, size_t i);

/* The reason in a libunsharp-engine message about the file path, which names the file first
 * ("PATH: not a JPEG or PNG file ..."): what follows "PATH: ", or msg itself when it does not
 * start so. For a program that names the file already. A pointer into msg. */
const char *unsharp_message_reason(const char *msg, const char *path);

/* The photos of the folder dir, not recursive: the names unsharp_photo_listed keeps, in
 * strcmp order, as a malloc'ed array of count malloc'ed base names (unsharp_names_free frees
 * them). 0, or -1 with errno set (the folder cannot be read; ENOMEM). */
int unsharp_list_photos(const char *dir, char ***names, size_t *count);
void unsharp_names_free(char **names, size_t count);

/* ---- file identity ---- */

/* What identifies a file at judging time; an action needs the same again. */
typedef struct unsharp_file_id {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_sec;
    long mtime_nsec;
} unsharp_file_id;

/* Reads path's identity with lstat (a link is not followed). 0, or -1 with errno set
 * (EISDIR for a folder). */
int unsharp_file_id_read(const char *path, unsharp_file_id *id);

/* 1 when a and b are the same file in the same state (device, inode, size, mtime). */
int unsharp_file_id_same(const unsharp_file_id *a, const unsharp_file_id *b);

typedef enum {
    UNSHARP_FILE_SAME,    /* still the file that was judged */
    UNSHARP_FILE_CHANGED, /* something else, or the same file modified */
    UNSHARP_FILE_GONE     /* cannot be read any more; errno says why */
} unsharp_file_state;

/* Is path still the file `judged` describes? Called right before each destructive step. */
unsharp_file_state unsharp_file_check(const char *path, const unsharp_file_id *judged);

/* ---- paths, sidecars and RAW companions ---- */

/* path's folder (malloc'ed; "." when path has none, "/" at the root) and, in *base, its
 * base name (a pointer into path). NULL when out of memory. */
char *unsharp_path_dir(const char *path, const char **base);

#define UNSHARP_MAX_COMPANIONS 16

/* The files that belong with the photo at path, in its folder: NAME.EXT.xmp, NAME.xmp,
 * NAME.RAW (any RAW extension, any case) and NAME.RAW.xmp, regular files and symbolic links (a link is a
 * companion like any other: it goes with its photo as the link itself). Fills names with up
 * to max malloc'ed base names and returns their count. */
int unsharp_companions(const char *path, char **names, int max);

/* The sidecar to mark for the photo at path: NAME.EXT.xmp or NAME.xmp when one exists, else
 * the path NAME.EXT.xmp. malloc'ed; NULL when out of memory. */
char *unsharp_sidecar_for(const char *path);

/* ---- the Trash (freedesktop.org Trash specification, through GIO) ---- */

/* Moves path to the Trash: the home trash for files on its filesystem, $topdir/.Trash/$uid
 * or $topdir/.Trash-$uid on other mounts. Nothing in the trash is ever replaced, and right
 * before the move path is checked against judged (its identity when it was judged; NULL: as
 * it is now). When no trash can be used, or the file changed, it stays where it is and err
 * says why; nothing is ever erased. */
int unsharp_trash_file(const char *path, const unsharp_file_id *judged, char *err, size_t errsize);

/* Where a trashed file went: its old path, its path in TRASH/files and its .trashinfo. */
typedef struct unsharp_trash_entry {
    char *orig, *trashed, *info;
} unsharp_trash_entry;

/* Finds the entry that unsharp_trash_file(orig) made: the .trashinfo whose Path is orig and
 * whose file is the one id describes (device and inode). 0 and *e filled (free it with
 * unsharp_trash_entry_free), or -1 when not found. */
int unsharp_trash_find(const char *orig, const unsharp_file_id *id, unsharp_trash_entry *e);

/* Puts a trashed file back where it was, never over an existing file, and removes its
 * .trashinfo. 0, or -1 with errno set (EEXIST: a file of that name is there now). */
int unsharp_trash_restore(const unsharp_trash_entry *e);
void unsharp_trash_entry_free(unsharp_trash_entry *e);

/* ---- moves ---- */

/* Renames src to dst, never replacing dst (RENAME_NOREPLACE, or link and unlink where the
 * filesystem lacks it). 0, or -1 with errno set (EEXIST when dst exists). */
int unsharp_rename_noreplace(const char *src, const char *dst);

/* Creates the folders above path (mkdir -p of its dirname). */
int unsharp_make_parents(const char *path, char *err, size_t errsize);

/* Moves path (a file or a symbolic link) to dest, creating dest's folders, never
 * overwriting, after checking that path is still judged (NULL: as it is now). On one
 * filesystem a rename; across filesystems a copy to a temporary name in dest's folder
 * (UNSHARP_PARTIAL_PREFIX NAME.XXXXXX), fsync'ed, path checked again, the copy renamed into
 * place without replacing, path checked once more and only then unlinked (when it changed,
 * the copy is removed and path stays). A kill at any step leaves path in place. When dest
 * already holds the same content (a move interrupted after its rename), the move is finished:
 * path is removed after the check. */
int unsharp_move_file(const char *path, const char *dest, const unsharp_file_id *judged, char *err,
                      size_t errsize);

/* 1 when a and b hold the same bytes (regular files) or the same target (links); else 0. */
int unsharp_same_content(const char *a, const char *b);

/* The name a copy in progress has; a file so named is never the only copy of anything. */
#define UNSHARP_PARTIAL_PREFIX ".unsharp-partial."
int unsharp_is_partial_name(const char *name);

/* Removes the temporary copies an interrupted move left in dir; returns how many. */
int unsharp_clean_partials(const char *dir);

/* ---- opening and walking the user's paths ---- */

/* Opens path for reading only when it is a regular file, without blocking on a FIFO or a
 * device (O_NONBLOCK, then cleared). The descriptor, or -1 with errno set (EINVAL: not a
 * regular file). */
int unsharp_open_regular(const char *path);

/* What a walk reports: a photo (error NULL), or an entry that cannot be listed (error set:
 * an unreadable folder, a symbolic link loop). path is the full path, rel the path below the
 * walked folder. A nonzero return stops the walk and is returned by unsharp_walk. */
typedef int (*unsharp_walk_fn)(const char *path, const char *rel, const char *error, void *ctx);

/* Walks the folder dir recursively in name order and reports its photos (the names
 * unsharp_photo_listed keeps) and its unreadable entries. Symbolic links are never followed
 * (a link that loops is reported; other links are passed over), and a folder already walked
 * (same device and inode as a folder above it, through a bind mount) is not walked again. Stops, returning 1, as soon as *stop (when
 * not NULL) is nonzero, e.g. set by a SIGINT or SIGTERM handler. Returns 0, fn's nonzero
 * value, 1 when stopped, or -1 when out of memory. */
int unsharp_walk(const char *dir, unsharp_walk_fn fn, void *ctx, const volatile sig_atomic_t *stop);

/* ---- XMP sidecars (Exempi) ---- */

/* Who made a mark. A person's mark (the review window, a photographer's own tool) is what
 * training and safety rules trust; the tool's own --xmp verdict is never read as a person's. */
typedef enum { UNSHARP_MARK_NONE = 0, UNSHARP_MARK_KEEP = 1, UNSHARP_MARK_REJECT = 2 } unsharp_mark;
typedef enum { UNSHARP_BY_NOBODY = 0, UNSHARP_BY_PERSON = 1, UNSHARP_BY_TOOL = 2 } unsharp_marked_by;

/* Our own XMP namespace: unsharp:Mark ("keep"|"reject"), unsharp:MarkedBy
 * ("person"|"unsharp-classify") and unsharp:PriorRating (the rating before a reject mark). */
#define UNSHARP_XMP_NS "http://ns.unsharp.org/1.0/"

typedef struct unsharp_xmp_state {
    unsharp_mark mark;          /* the decision recorded (NONE when no sidecar or no mark)   */
    unsharp_marked_by by;       /* who made it                                               */
    int rating;                 /* xmp:Rating now: -1 (rejected), 0 (none) .. 5               */
    int prior_rating;           /* the rating before a reject mark (restored on unmark); 0   */
    int color_label;            /* 0 none, 1 red, 2 yellow, 3 green, 4 blue, 5 purple        */
} unsharp_xmp_state;

/* Reads the marks of a sidecar (through a symbolic link: reading is harmless; writes never
 * go through one). A missing (or empty) sidecar is not an error: state all zero, 0 back. -1 with why in err when the sidecar cannot be read or is not XMP.
 * The mark is unsharp:Mark with unsharp:MarkedBy (a Mark without MarkedBy reads as a
 * person's). Without unsharp:Mark, other programs' marks are a person's: digiKam:PickLabel 3
 * (accepted) is KEEP, PickLabel 1 or xmp:Rating -1 is REJECT, and a rating of 1..5 stars is
 * KEEP (the photographer rated it; unsharp-classify never writes stars). */
int unsharp_xmp_read(const char *sidecar, unsharp_xmp_state *st, char *err, size_t errsize);

/* Records a decision (created when missing; everything else kept; temp file, fsync, rename):
 *  REJECT: the current rating goes to unsharp:PriorRating (unless already rejected), then
 *          xmp:Rating -1 and digiKam:PickLabel 1;
 *  KEEP:   xmp:Rating back to unsharp:PriorRating when rejected (else untouched) and
 *          digiKam:PickLabel 3 (accepted);
 *  NONE:   the mark removed: rating restored as for KEEP, PickLabel removed.
 * (A rejected sidecar without PriorRating had no rating: xmp:Rating is removed.)
 * unsharp:Mark and unsharp:MarkedBy record who. A tool mark (by == UNSHARP_BY_TOOL) never
 * replaces a person's mark (as unsharp_xmp_read reads it): it returns 1 and writes nothing.
 * 0 when written, -1 with why in err. */
int unsharp_xmp_set_mark(const char *sidecar, unsharp_mark mark, unsharp_marked_by by,
                         char *err, size_t errsize);

/* Star rating 0..5 (xmp:Rating) and colour label 0..5 (darktable:colorlabels, digiKam:ColorLabel,
 * xmp:Label; 0 removes them), as darktable and digiKam read them. On a rejected sidecar
 * (xmp:Rating -1) the stars go to unsharp:PriorRating and show when the reject is lifted.
 * 0, or -1 with why in err (a value out of range included). */
int unsharp_xmp_set_rating(const char *sidecar, int stars, char *err, size_t errsize);
int unsharp_xmp_set_color_label(const char *sidecar, int label, char *err, size_t errsize);

/* unsharp-classify --xmp's verdict: unsharp_xmp_set_mark(sidecar, REJECT, BY_TOOL, ...);
 * 0 written, 1 left alone (a person's mark is there), -1 with why in err. */
int unsharp_xmp_mark_rejected(const char *sidecar, char *err, size_t errsize);

/* The sidecars a decision about the photo at path goes to: for a RAW+JPEG pair, each RAW's
 * (unsharp_sidecar_for(RAW): NAME.RAW.xmp or NAME.xmp, else NAME.RAW.xmp to create) and the
 * photo's own when it has one; for any other photo, unsharp_sidecar_for(path). Fills paths
 * with up to max malloc'ed paths and returns their count; -1 when out of memory. */
int unsharp_mark_sidecars(const char *path, char **paths, int max);

/* 1 when a person marked the photo at path keep in one of its sidecars (each XMP companion,
 * a RAW's sidecar included, as unsharp_xmp_read reads it), with that sidecar's path in *which
 * (malloc'ed); else 0 and *which NULL. A sidecar that cannot be read as XMP holds no mark. */
int unsharp_photo_kept(const char *path, char **which);

/* Stops Exempi when a mark started it; a no-op otherwise. */
void unsharp_xmp_done(void);

#ifdef __cplusplus
}
#endif
#endif
