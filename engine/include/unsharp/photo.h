/* photo.h: the photo layer of libunsharp-engine: decoding photos to the working size and
 * judging them with a model. It is built on the network core's public calls only (core.h);
 * unsharp.h includes both. The rules of core.h (statuses, messages, ownership, threads) hold
 * here too: a call with a model handle keeps its message on the handle, the others in the
 * thread's slot. */
#ifndef UNSHARP_PHOTO_H
#define UNSHARP_PHOTO_H

#include "unsharp/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- images ----
 * Photos are decoded straight to the working size: JPEG through TurboJPEG with DCT scaling
 * (the smallest of 1/8, 1/4, 3/8, 1/2, 5/8, 3/4, 7/8, 1 whose long side is at or above the
 * requested one), then an area-averaging resample to exactly the requested long side; PNG
 * (libpng), WebP (libwebp), HEIF/HEIC and AVIF (libheif) and TIFF (libtiff) at their stored
 * size, then the same resample; camera RAW (LibRaw) from the embedded JPEG preview when its
 * long side is at least the requested one, else from LibRaw's half-size decode. The
 * orientation (EXIF, TIFF, the RAW's, HEIF's own transforms) is applied, so pixels come out
 * the way the photo is meant to be seen (docs/image-input.md). The type is recognised by content, never
 * by the file name. The pixel count in the header is checked against max_pixels before any
 * pixel memory is allocated. */

#define UNSHARP_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)150000000) /* 150 MP */

/* The working size photos are judged at: the long side in pixels, about how a photo is seen
 * on a screen (docs/model.md). Training crops come from photos decoded at this size too. */
#define UNSHARP_WORKING_LONG_SIDE 1600

typedef enum unsharp_pixel_format {
    UNSHARP_PIXEL_LUMA8 = 0, /* 1 channel, uint8 */
    UNSHARP_PIXEL_RGB8 = 1,  /* 3 channels interleaved, uint8 */
    UNSHARP_PIXEL_LUMAF = 2, /* 1 channel, float in [0, 1] */
    UNSHARP_PIXEL_RGBF = 3   /* 3 channels interleaved, float in [0, 1] */
} unsharp_pixel_format;

typedef enum unsharp_image_type {
    UNSHARP_IMAGE_JPEG = 1,
    UNSHARP_IMAGE_PNG = 2,
    UNSHARP_IMAGE_HEIF = 3, /* HEIC and other HEIF files (libheif) */
    UNSHARP_IMAGE_AVIF = 4, /* AVIF (libheif) */
    UNSHARP_IMAGE_WEBP = 5, /* WebP (libwebp) */
    UNSHARP_IMAGE_TIFF = 6, /* TIFF (libtiff) */
    UNSHARP_IMAGE_RAW = 7   /* a camera RAW: CR2, CR3, NEF, ARW, RAF, ORF, RW2, PEF, DNG (LibRaw) */
} unsharp_image_type;

typedef struct unsharp_image_options {
    unsharp_pixel_format format;
    int long_side;          /* working size: the output's long side; 0 = the stored size. Never
                               upscales: a smaller photo comes out at its own size */
    int thumbnail;          /* 1: fastest small decode for previews: the EXIF thumbnail when its
                               long side is at least long_side, else 1/8 DCT scale; long_side
                               then only picks between them and the result is not resampled */
    int keep_orientation;   /* 1: do not apply the EXIF orientation */
    uint64_t max_pixels;    /* refuse larger images; 0 = UNSHARP_IMAGE_DEFAULT_MAX_PIXELS */
} unsharp_image_options;

typedef struct unsharp_image {
    int width, height;          /* of pixels, after scaling and orientation */
    int channels;               /* 1 or 3 */
    unsharp_pixel_format format;
    size_t stride;              /* bytes from one row to the next */
    void *pixels;               /* owned by the image */
    int stored_width, stored_height; /* as stored in the file, before scaling and orientation */
    int orientation;            /* orientation 1..8 found in the file: EXIF, TIFF's tag or the
                                   RAW's (the same values); 1 when none, and for HEIF, whose
                                   own rotation is applied while decoding */
    unsharp_image_type type;
    int from_exif_thumbnail;    /* 1 when the pixels are the embedded EXIF thumbnail */
    int from_raw_preview;       /* RAW: 1 when the pixels are the embedded JPEG preview, 0 when
                                   they are LibRaw's half-size decode of the sensor data */
} unsharp_image;

/* Decodes a photo file. options may be NULL (RGB8, stored size, orientation applied). *out
 * is the caller's, to free with unsharp_image_free, and NULL on failure.
 * @return UNSHARP_OK; UNSHARP_ERR_IO (cannot open or read: missing, unreadable, a directory);
 *         UNSHARP_ERR_FORMAT (not a supported type: JPEG, PNG, HEIF, AVIF, WebP, TIFF, RAW);
 *         UNSHARP_ERR_TOO_LARGE; UNSHARP_ERR_DECODE (truncated or corrupt); UNSHARP_ERR_UNSUPPORTED
 *         (libheif lacks the HEVC or AV1 decoder); UNSHARP_ERR_NOMEM. The message, from unsharp_errmsg(), names
 *         the file. */
UNSHARP_API unsharp_status unsharp_image_load(const char *path, const unsharp_image_options *options,
                                              unsharp_image **out);
/* The same from a memory buffer, read during the call and not kept; messages say "(memory)"
 * for the name.
 * @return as unsharp_image_load, without UNSHARP_ERR_IO. */
UNSHARP_API unsharp_status unsharp_image_load_memory(const void *data, size_t size,
                                                     const unsharp_image_options *options, unsharp_image **out);
/* Frees an image and its pixels; NULL is a no-op. */
UNSHARP_API void unsharp_image_free(unsharp_image *img);

/* ---- judging a photo ----
 * A judging model (such as the shipped one) has a 1-channel luma input, a layer "tiles" with
 * one sharpness logit per 32x32 tile and a layer "image" with three logits (sharp, defocus,
 * motion); metadata keys may rename them and set the defaults below (docs/model.md). */

typedef enum unsharp_verdict {
    UNSHARP_VERDICT_SHARP = 0,
    UNSHARP_VERDICT_UNSURE = 1,
    UNSHARP_VERDICT_BLURRY = 2
} unsharp_verdict;

typedef enum unsharp_blur_kind {
    UNSHARP_KIND_NONE = 0,    /* not judged (a zeroed judgement) */
    UNSHARP_KIND_DEFOCUS = 1,
    UNSHARP_KIND_MOTION = 2
} unsharp_blur_kind;

/* The verdict, the one definition every program uses: sharp when sharpness >= sharp_at, else
 * blurry when sharpness < blurry_below, else unsure. */
typedef struct unsharp_judge_options {
    float sharp_at;    /* sharpness at or above: sharp; 0 = the model's "threshold.sharp" (0.6) */
    float blurry_below;/* sharpness below: blurry; between the two: unsure; 0 = "threshold.blurry" (0.4) */
    int own_bands;     /* 1: both values as given, 0 included (a caller's own bands, such as
                        * unsharp-classify's --threshold and --unsure); 0: as above */
} unsharp_judge_options;

typedef struct unsharp_judgement {
    float sharpness;         /* 0..1, the probability that the photo is sharp where it matters */
    unsharp_verdict verdict;
    unsharp_blur_kind kind;  /* defocus or motion, whatever the verdict (the blur the photo would have
                              * if it were blurry): from the image head; motion too when
                              * weakest_direction is under 0.45 */
    int map_w, map_h;        /* the focus map: one value per tile */
    float *map;              /* (map_h, map_w) tile sharpness in 0..1; free with unsharp_judgement_free */
    float *texture;          /* (map_h, map_w) 1: the tile has detail in every direction and is judged;
                              * 0.5: its detail runs one way only (stripes, a horizon), judged only
                              * when fewer than two tiles have detail every way; 0: flat */
    float weakest_direction; /* 0..1: how much crisp detail the photo has along its weakest direction,
                              * as a share of the median direction's; below 0.45 it has none
                              * along one direction anywhere, the mark of motion blur, and its
                              * sharpness is held under 0.5 (docs/model.md) */
} unsharp_judgement;

/* Judges a decoded photo (luma, 8-bit or float, at the working size). The score is
 * subject-aware: the mean sharpness of the sharpest tenth of the tiles that have detail in
 * every direction, so a sharp subject on a blurred background is sharp, flat sky neither helps
 * nor hurts, and an edge left sharp along the direction of a motion blur does not make the
 * photo sharp (docs/model.md).
 * options may be NULL. img is read, not kept; out's maps are allocated for the caller, to free
 * with unsharp_judgement_free (a failure leaves them NULL). Runs a forward
 * pass on m, replacing its last outputs.
 * @return UNSHARP_OK; UNSHARP_ERR_INVALID (NULL argument, a photo not decoded as luma, a model
 *         that does not take luma), _NOT_FOUND (the model lacks a judging output), _SHAPE (the
 *         photo is smaller than the network needs: "too small to judge: W x H pixels"; or the
 *         judging outputs have the wrong shape), _NOMEM, or a failure of the forward pass; the
 *         message is in unsharp_model_errmsg(m). */
UNSHARP_API unsharp_status unsharp_judge(unsharp_model *m, const unsharp_image *img, const unsharp_judge_options *options,
                                         unsharp_judgement *out);
/* Frees the maps of a judgement (not the struct itself) and sets them to NULL; safe on a
 * zeroed struct and on NULL. */
UNSHARP_API void unsharp_judgement_free(unsharp_judgement *j);

/* ---- groups: bursts, brackets, focus stacks, panoramas (group.c) ----
 * Frames form a group when both hold: they were taken close together (the capture time below,
 * within gap_seconds of the frame before), and they look alike (their signatures, small grey
 * thumbnails, correlate at least `likeness`, either in place or moved by up to a fifth of the
 * frame, or, for a panorama, side by side with part of the frame overlapping, when that
 * matches better and at least halfway from `likeness` to 1). Frames whose EXIF exposure bias differs link on time alone: a bracket's
 * over-exposed frame may have little left to compare. A group's frames
 * are ranked by their sharpness where it matters (the judged sharpness, then the mean of the
 * sharpest tenth of the focus map) and the sharpest is marked. A group's role says what it is:
 *   bracket: its frames differ in EXIF ExposureBiasValue;
 *   pano:    a frame matches the one before it only side by side (moved by a fifth or more);
 *   stack:   the frames are sharp in different places (the focus maps' sharp cells move);
 *   burst:   any other group of two or more; its sharpest frame has the role best.
 * Brackets, stacks and panoramas are meant to be kept whole: a program never selects their
 * frames for removal. Groups span folders: frames are ordered by capture time whatever their
 * folder. A group's id is a hash of its first frame's key (the caller's name for it, such as
 * its path), so it depends on that frame alone, not on the run. docs/library.md has more. */

#define UNSHARP_SIGNATURE_SIDE 32 /* the signature: a SIDE x SIDE grey thumbnail */
#define UNSHARP_FOCUS_GRID 8      /* the focus summary: GRID x GRID cells of the focus map */
#define UNSHARP_GROUP_DEFAULT_GAP 2.0       /* seconds; measured in docs/library.md */
#define UNSHARP_GROUP_DEFAULT_LIKENESS 0.8f /* correlation of the signatures; docs/library.md */

typedef enum unsharp_role {
    UNSHARP_ROLE_SINGLE = 0,  /* a group of one */
    UNSHARP_ROLE_BEST = 1,    /* the sharpest frame of a burst */
    UNSHARP_ROLE_BURST = 2,   /* another frame of a burst */
    UNSHARP_ROLE_BRACKET = 3, /* a frame of an exposure bracket */
    UNSHARP_ROLE_STACK = 4,   /* a frame of a focus stack */
    UNSHARP_ROLE_PANO = 5     /* a frame of a panorama */
} unsharp_role;

/* What grouping needs of one photo. Zero it, then fill it with unsharp_frame_read (from the
 * file) and unsharp_frame_describe (from the decoded photo and its judgement). It holds no
 * pointers: a program may store it as bytes (unsharp-classify's results index does). */
typedef struct unsharp_frame {
    int64_t time_ms;    /* capture time in ms: EXIF DateTimeOriginal with SubSecTimeOriginal,
                           read as if UTC; else the file's modification time */
    int time_from_exif; /* 1 when time_ms came from EXIF */
    int has_bias;       /* 1 when the file has EXIF ExposureBiasValue */
    float bias;         /* its value, in EV */
    int described;      /* 1 once unsharp_frame_describe filled what follows */
    float sharpness;    /* the judgement's */
    float subject;      /* mean of the sharpest tenth of the focus map's tiles with detail */
    unsigned char signature[UNSHARP_SIGNATURE_SIDE * UNSHARP_SIGNATURE_SIDE]; /* the photo as
                           SIDE x SIDE cell means, each (v - mean) / deviation * 40 + 128 */
    int flat;           /* 1 when the photo has no contrast to compare: it groups with nothing */
    float focus[UNSHARP_FOCUS_GRID * UNSHARP_FOCUS_GRID]; /* mean sharpness of each cell's
                           tiles with detail, -1 for a cell without */
} unsharp_frame;

/* Reads the capture time and exposure bias of the file at path (EXIF through libexif, for
 * JPEG files and others that carry an EXIF block where libexif finds it; the modification time
 * otherwise). f's other fields are left as they are.
 * @return UNSHARP_OK; UNSHARP_ERR_INVALID (NULL); UNSHARP_ERR_IO (the file cannot be read:
 *         the message names it). A missing or damaged EXIF block is not an error. */
UNSHARP_API unsharp_status unsharp_frame_read(const char *path, unsharp_frame *f);

/* Fills f's signature and focus summary from a decoded photo (any pixel format, best the one
 * judged) and, when j is not NULL, from its judgement (sharpness, subject, focus); without j
 * those stay 0 and -1.
 * @return UNSHARP_OK; UNSHARP_ERR_INVALID (NULL f or img, an image without pixels). */
UNSHARP_API unsharp_status unsharp_frame_describe(unsharp_frame *f, const unsharp_image *img,
                                                  const unsharp_judgement *j);

typedef struct unsharp_group_options {
    double gap_seconds; /* frames further apart in time never group (up to 1e9);
                           0 = UNSHARP_GROUP_DEFAULT_GAP */
    float likeness;     /* least correlation of two frames' signatures, in (0, 1]; 0 = default */
} unsharp_group_options;

/* One frame's place in its group. */
typedef struct unsharp_group_place {
    uint64_t group;     /* the group's id: 64-bit FNV-1a of its first frame's key */
    size_t first;       /* index of the group's first frame (earliest capture time) */
    int size;           /* frames in the group (1 for a single) */
    int rank;           /* 1 = the sharpest of its group */
    unsharp_role role;
} unsharp_group_place;

/* Groups n frames. keys[i] names frames[i] (its path, say) and makes the group ids; frames
 * that are not described become singles. out (n places, the caller's) gets each frame's place.
 * Work is O(n log n) for the ordering plus a comparison of each frame with the one before.
 * @return UNSHARP_OK; UNSHARP_ERR_INVALID (NULL arguments with n > 0, likeness out of range,
 *         a gap below 0 or above 1e9 s); UNSHARP_ERR_NOMEM. The message is in unsharp_errmsg(). */
UNSHARP_API unsharp_status unsharp_group(const unsharp_frame *frames, const char *const *keys, size_t n,
                                         const unsharp_group_options *options, unsharp_group_place *out);

/* How alike two described frames look: in_place, the best correlation of their signatures
 * with b moved by up to a fifth of the frame; side, the best with b moved further along one
 * axis (a panorama's next frame), with at least a third of the frame overlapping. -1 where
 * nothing correlates (a flat frame). unsharp_group links frames whose in_place (or side) is at
 * least its likeness; this call is for measuring that default (bench/group_likeness.c). */
UNSHARP_API void unsharp_frame_likeness(const unsharp_frame *a, const unsharp_frame *b, float *in_place, float *side);

/* "single", "best", "burst", "bracket", "stack" or "pano"; "?" for another value. */
UNSHARP_API const char *unsharp_role_name(unsharp_role role);

/* 1 for the roles whose frames are kept whole (bracket, stack, pano), else 0. */
UNSHARP_API int unsharp_role_keeps_whole(unsharp_role role);

#ifdef __cplusplus
}
#endif
#endif
