/* blur.h: synthetic blur for unsharp-train. A seedable RNG, blur kernels (Gaussian, disc,
 * linear motion, camera-shake trajectory), a reflect-padded 2-D convolution, and the sample
 * maker that turns a sharp luma photo into one training sample (network input, per-tile
 * targets and weights, image label). Like the engine, nothing here prints or exits; every
 * function that can fail returns a blur_status and frees what it took.
 *
 * Determinism: every random choice comes from the blur_rng passed in, so the same seed, the
 * same source and the same config give bit-identical samples on one build. The integer RNG
 * stream is the same on every machine; float results can differ across compilers or libm
 * versions (expf, powf, FMA contraction). */
#ifndef UNSHARP_TRAIN_BLUR_H
#define UNSHARP_TRAIN_BLUR_H
#include <stdint.h>

typedef enum blur_status {
    BLUR_OK = 0,
    BLUR_ERR_INVALID = -1, /* a bad argument: sizes, kernel parameters, config */
    BLUR_ERR_NOMEM = -2,   /* an allocation failed */
    BLUR_ERR_JPEG = -3     /* TurboJPEG failed to compress or decompress */
} blur_status;

/* ---- random numbers ---------------------------------------------------------------- */

/* splitmix64. Seed by setting s; any value, zero included, is a good seed. */
typedef struct blur_rng { uint64_t s; } blur_rng;

uint64_t blur_rng_next(blur_rng *rng);
/* Uniform in [lo, hi) (24-bit resolution). */
float blur_uniform(blur_rng *rng, float lo, float hi);
/* Standard normal (Box-Muller, one value per call). */
float blur_normal(blur_rng *rng);

/* ---- kernels ----------------------------------------------------------------------- */

/* The largest kernel side. Every kernel is written row-major into a caller's array of at
 * least BLUR_KMAX * BLUR_KMAX floats, has an odd side (*ksize), sums to 1, is nonnegative,
 * and has its origin at the centre pixel (ksize / 2, ksize / 2). A kernel that would not fit
 * gives BLUR_ERR_INVALID. */
#define BLUR_KMAX 65

/* Sampled Gaussian exp(-r^2 / 2 sigma^2), radius ceil(4 sigma) (its variance is sigma^2 to
 * within 0.2 % for sigma >= 0.8). sigma <= 0 gives the 1x1 identity; sigma <= 8. */
int blur_kernel_gaussian(float sigma, float *k, int *ksize);
/* The same Gaussian as one 1-D factor of *ksize taps (the 2-D kernel is its outer product). */
int blur_kernel_gaussian_1d(float sigma, float *k, int *ksize);
/* Lens (disc) defocus of the given radius (0 < radius <= 31): each pixel weighs the share
 * of its square inside the circle (16 x 16 subsamples on the edge), so the edge is
 * anti-aliased, the area is pi radius^2 and the support reaches radius + 0.71. */
int blur_kernel_disc(float radius, float *k, int *ksize);
/* Linear motion: a centred segment of the given length (px, > 0, <= 60) in the direction
 * (cos angle_rad, sin angle_rad) in (column, row) terms (rows grow downwards), sampled
 * densely and splatted bilinearly: its second moment along the line is length^2 / 12 (plus
 * under 1/4 from the splat), across it under 1/4. */
int blur_kernel_motion(float length, float angle_rad, float *k, int *ksize);
/* Camera shake: a random walk with momentum and occasional jerks (after Boracchi & Foi,
 * and the DeblurGAN trajectories) of total path length `length` px (> 0, <= 60), centred
 * on its bounding box and rasterised with bilinear splats, each time step weighted equally
 * (slow parts of the path dwell longer). Draws from rng. */
int blur_kernel_shake(blur_rng *rng, float length, float *k, int *ksize);
/* The same walk; with by_spread, scaled so that its spread sqrt((var_x + var_y) / 2) (each
 * time step weighing the same) is that of a line of `length` px, length / sqrt(24), instead
 * of its path being `length` long. A path that wanders back and forth covers far less than
 * its length: sized by length, a 9 px shake spreads the light about as much as a 3.7 px line. */
int blur_kernel_shake_sized(blur_rng *rng, float length, int by_spread, float *k, int *ksize);
/* The same walk; with dwell, a hand that stops as it turns round and whose speed varies more:
 * each path draws how much its speed varies (log-normal volatility 0.6 to 2.5 instead of 0.6)
 * and a jerk first slows it to a tenth. The light then gathers where the path dwells, so the
 * photo shows a sharp copy with fainter echoes. Sized by spread, the median share of the light
 * in the brightest 3 x 3 px is 0.40 / 0.26 / 0.18 at 9 / 15 / 22 px, against the plain walk's
 * 0.37 / 0.22 / 0.14 and bench/realistic_blur.py's shakes' 0.43 / 0.27 / 0.21. Without dwell,
 * the same draws as blur_kernel_shake_sized. */
int blur_kernel_shake_dwell(blur_rng *rng, float length, int by_spread, int dwell, float *k, int *ksize);

/* ---- convolution ------------------------------------------------------------------- */

/* dst = src (*) k, a true 2-D convolution (the kernel is flipped) of a w x h image with a
 * ksize x ksize kernel (odd, <= BLUR_KMAX), origin at the kernel centre, reflect padding
 * (mirror about the edge pixel, not repeating it: ... 2 1 | 0 1 2 ... as numpy 'reflect',
 * applied repeatedly when the kernel is larger than the image). Rank-1 kernels (Gaussian)
 * take a separable path, other kernels skip zero taps. dst may equal src.
 * Returns BLUR_OK, BLUR_ERR_INVALID or BLUR_ERR_NOMEM. */
int blur_convolve(const float *src, float *dst, int w, int h, const float *k, int ksize);
/* The same convolution of a sw x sh image src, evaluated only at the w x h pixels whose
 * top-left is (x0, y0) in src, written to dst (w x h): dst(y, x) = (src (*) k)(y0 + y, x0 + x).
 * Real pixels around the window are used where src has them; beyond src's edges it is
 * reflected as above. blur_convolve is the case x0 = y0 = 0, w = sw, h = sh. dst may
 * overlap src. */
int blur_convolve_region(const float *src, int sw, int sh, int x0, int y0, float *dst, int w,
                         int h, const float *k, int ksize);

/* ---- samples ----------------------------------------------------------------------- */

typedef enum blur_kind {
    BLUR_KIND_NONE = 0,     /* sharp (perhaps a tiny Gaussian) */
    BLUR_KIND_GAUSSIAN = 1, /* defocus */
    BLUR_KIND_DISC = 2,     /* defocus */
    BLUR_KIND_MOTION = 3,   /* motion */
    BLUR_KIND_SHAKE = 4     /* motion */
} blur_kind;

typedef enum blur_mask_kind {
    BLUR_MASK_NONE = 0,    /* the whole crop is sharp or the whole crop is blurred */
    BLUR_MASK_ELLIPSE = 1, /* a sharp elliptic subject, blurred surround */
    BLUR_MASK_PLANE = 2    /* a feathered straight split (a tilted focal plane) */
} blur_mask_kind;

/* Image labels, in the order of the network's image head. */
enum { BLUR_LABEL_SHARP = 0, BLUR_LABEL_DEFOCUS = 1, BLUR_LABEL_MOTION = 2 };

/* Every probability is in [0, 1]; every range is [min, max] with min <= max. */
typedef struct blur_config {
    int crop;                 /* 256: the side of the network input */
    int tile;                 /* 32: the side of a tile; divides crop */
    float scale_max;          /* 2: downscale factor (linear) drawn in [1, scale_max], area
                                 averaging; capped by the source size */
    int flip_rotate;          /* 1: random flip / rotation by 90 degrees (8 ways) */

    float p_sharp;            /* 0.4: a sharp sample */
    float p_soften;           /* 0.5: of the sharp ones, softened by a tiny Gaussian */
    float soften_sigma_max;   /* 0.35: its sigma in [0, max]; a sampled Gaussian of 0.5
                                 already removes ~75 % of the Laplacian energy of pixel noise */
    float p_partial;          /* 0.25: of the blurred ones, blurred through a mask */
    float p_mask_ellipse;     /* 0.6: of the partial ones, an ellipse (else a plane split) */
    float partial_sharp_min;  /* 0.1: a partial blur whose sharp tiles are at least this share
                                 of the textured tiles is labelled sharp */
    float p_motion;           /* 0.5 (camera 0.6): of the blurred ones, motion (else defocus) */
    float p_shake;            /* 0.5: of the motion ones, a shake trajectory (else linear) */
    float p_disc;             /* 0.5: of the defocus ones, a disc (else Gaussian) */
    /* blur strengths, each drawn log-uniformly in [min, max] */
    float gauss_sigma_min, gauss_sigma_max;   /* 1.0, 6 */
    float disc_radius_min, disc_radius_max;   /* 1.2, 8 */
    float motion_len_min, motion_len_max;     /* 4, 25 (linear) */
    float shake_len_min, shake_len_max;       /* 4 (camera 3), 25 (trajectory path length) */

    float p_linear;           /* 0 (camera 1): blur (and blend) in linear light, as a lens or a shake does
                                 (the luma is taken as gamma 2.2), then back */
    float p_noise;            /* 0.7: add sensor noise */
    float noise_sigma_max;    /* 0.02: its sigma in [0, max] (at mid grey when Poisson-like) */
    float p_poisson;          /* 0.4: of the noisy ones, signal-dependent: the standard
                                 deviation is sigma * sqrt(0.25 + 1.5 x) */
    float p_lowlight;         /* 0 (camera 0.12): low light: noise sigma in [noise_sigma_max, lowlight_sigma_max]
                                 instead (a dark scene brightened by the camera) */
    float lowlight_sigma_max; /* 0.06 */
    float p_sharpen;          /* 0 (camera 0.4): a phone's sharpening after the noise, an unsharp mask
                                 y = x + amount (x - G_sigma x) */
    float sharpen_amount_max; /* 1.2: amount in [0.2, max] */
    float sharpen_sigma_min, sharpen_sigma_max; /* 0.7, 1.6 */
    float p_haze;             /* 0 (camera 0.2): fog, haze or a low-contrast scene: y = c x + (1 - c) h with
                                 contrast c in [haze_contrast_min, 0.8] and veil h in [0.2, 0.9] */
    float haze_contrast_min;  /* 0.3 */
    float p_exposure;         /* 0.8: exposure and gamma jitter, y = clamp(gain x)^gamma */
    float gain_min, gain_max;   /* 0.7, 1.3 */
    float gamma_min, gamma_max; /* 0.8, 1.25 (log-uniform) */
    float p_jpeg;             /* 0.3: grayscale JPEG re-compression in memory */
    int jpeg_q_min, jpeg_q_max; /* 60, 95 */
    int quantize;             /* 1: round the input to 8-bit levels (as loaded photos are) */

    float texture_min;        /* 0.015 (camera 0.008): a tile of the sharp crop whose Laplacian RMS (4-
                                 neighbour, in [0,1] luma units) is below this is flat: blur
                                 cannot be seen there. About one edge of contrast 0.12 across a
                                 32 px tile, or pixel noise of sigma 0.0035. */
    float flat_weight;        /* 0: the weight of flat tiles */
    float texture_rel;        /* 0 (off): in focus is relative. With a photo's in-focus level
                                 (texture_ref: the 90th percentile of its tiles' Laplacian RMS,
                                 blur_photo_texture_ref), a tile whose Laplacian RMS is below
                                 texture_rel times that level is out of focus in the photo
                                 itself (a bokeh background, a misty distance): it is not
                                 labelled sharp (weight 0), and a sharp crop with no tile in
                                 focus teaches no image label. Pixel noise alone lifts every
                                 tile over texture_min, so the absolute line cannot tell. */
    float focus_both;         /* 0 (off): with texture_rel, 1 also leaves a tile out of focus in
                                 the photo itself untaught in a blurred sample (weight 0 there
                                 too): blurring it changes nothing a photo shows, so teaching it
                                 "blurred" while its sharp twin is not taught at all would teach
                                 that soft content is blur. 0 teaches it blurred (the weights
                                 measured so far). */
    float mild_lo, mild_hi;   /* 0, 0 (off while mild_hi is 0): mild blur is taught as in
                                 between. A blurred sample whose kernel spreads
                                 (blur_sigma_px) at most mild_lo px
                                 teaches its blurred tiles and its sharpest part the target
                                 mild_target instead of 0; from mild_lo to mild_hi the target
                                 falls linearly to 0. A photo that soft is a keeper as often as
                                 not (a downscaled photo's own softness reads the same), so its
                                 verdict belongs in the unsure band. */
    float mild_target;        /* 0.5 */
    float shake_spread;       /* 0 (off): 1 sizes a shake of shake_len px by its spread, as a line
                                 of that length spreads (blur_kernel_shake_sized), not by its
                                 path length */
    float shake_dwell;        /* 0 (off): 1 draws shakes whose hand stops as it turns round and
                                 whose speed varies more (blur_kernel_shake_dwell) */
    float sharp_fraction_tile;  /* 0.75: a tile is sharp when at least this share of its
                                   pixels has mask > 0.5 */
    float blurred_fraction_tile;/* 0.25: blurred when at most this share; else ambiguous
                                   (weight 0) */
} blur_config;

/* The recipe of unsharp-v1, the weights shipped until 2026-12-05 (the values in the comments
 * above; unsharp-train --recipe v1). */
blur_config blur_config_default(void);
/* The camera recipe (the "camera" values above): blur in linear light, a phone's sharpening,
 * haze, low light, shakes from 3 px, more motion (weights/MODEL_CARD.md). */
blur_config blur_config_camera(void);
/* The recipe of the shipped weights, unsharp-v2 (unsharp-train's default, --recipe shipped):
 * the camera recipe, tiles in focus relative to the photo's own level (texture_rel 0.3), shakes
 * sized by their spread, and a gap between sharp and blurred (sharp samples softened by up to
 * sigma 0.9, the mildest blur a Gaussian of 1.2, a disc of radius 2.4, a 6 px line or shake). */
blur_config blur_config_v2(void);
/* BLUR_OK when cfg is usable, else BLUR_ERR_INVALID. */
int blur_config_check(const blur_config *cfg);
/* Sets one numeric setting by its field name, "p_haze=0.4" (blur_fields.c): BLUR_OK, or
 * BLUR_ERR_INVALID (cfg unchanged) for an unknown name, a bad number, or a value that
 * blur_config_check refuses. blur_config_field_name(i) lists the names (NULL past the end). */
int blur_config_set(blur_config *cfg, const char *assignment);
const char *blur_config_field_name(int i);

/* Directions of the image head's per-direction targets (dir_target below), evenly spread over
 * 180 degrees: direction d is the unit vector (cos(d pi / BLUR_DIRS), sin(d pi / BLUR_DIRS)) in
 * (x, y) pixels of the sample as the network sees it. */
#define BLUR_DIRS 16
/* A kernel spreading at most BLUR_DIR_SHARP px along a direction leaves the detail across it
 * crisp (target 1); from BLUR_DIR_BLUR px on it smears it (target 0); in between the target
 * falls linearly. A Gaussian of sigma 1.2, the shipped recipe's mildest, spreads 1.2 px every
 * way; a 6 px line 1.73 px along itself and almost none across. With 16 directions (11.25
 * degrees apart) a line of up to 25 px has a direction within 0.5 px of crisp at most angles. */
#define BLUR_DIR_SHARP 0.5f
#define BLUR_DIR_BLUR 1.0f

/* The spread of kernel k (n x n, row-major, y down) along each direction: the standard
 * deviation of its light projected on the direction's unit vector, px. */
void blur_kernel_dir_spread(const float *k, int n, float spread[BLUR_DIRS]);

/* One sample. Arrays are allocated by blur_sample_alloc for one crop/tile size. */
typedef struct blur_sample {
    int crop, tile, tiles;  /* tiles = crop / tile, per side */
    float *input;           /* crop*crop: the network input, luma in [0,1] */
    float *sharp;           /* crop*crop: the sharp crop (after scale and flip, before any
                               blur, noise, exposure or JPEG) */
    float *mask;            /* crop*crop: 1 where sharp, 0 where blurred, feathered between */
    float *tile_target;     /* tiles*tiles: 1 sharp, 0 blurred, the sharp share if ambiguous */
    float *tile_weight;     /* tiles*tiles: 1; 0 ambiguous; flat_weight when flat */
    float *tile_texture;    /* tiles*tiles: Laplacian RMS of the sharp crop per tile */
    int label;              /* BLUR_LABEL_*: sharp, defocus, motion */
    float image_weight;     /* 1; flat_weight when no tile is textured */
    blur_kind kind;         /* the kernel */
    blur_mask_kind mask_kind;
    float param;            /* sigma, radius or length of the kernel (px); 0 for none */
    float angle;            /* linear motion angle (radians); 0 otherwise */
    float blur_sigma_px;    /* the kernel's spread: sqrt((var_x + var_y) / 2), px; a Gaussian
                               gives sigma, a disc radius / 2, a line length / sqrt(24) */
    float blurred_target;   /* the target of its blurred tiles and, when blurred, of its sharpest
                               part: 0, or more for mild blur (mild_lo) */
    float sharp_share;      /* sharp tiles / textured tiles (1 sharp, 0 full blur) */
    float dir_target[BLUR_DIRS]; /* per direction: 1 when the crop's detail across it is crisp
                                    (a sharp crop or keeper, or a kernel spreading at most
                                    BLUR_DIR_SHARP along it), 0 when smeared */
    float dir_weight[BLUR_DIRS]; /* the image weight */
    float scale;            /* the downscale factor used */
    int transform;          /* 0..7: bit 0 flip x, bit 1 flip y, bit 2 transpose */
    float noise_sigma;      /* 0 when no noise */
    float sharpen_amount;   /* 0 when not sharpened */
    float haze_contrast;    /* 1 when no haze */
    float gain, gamma;      /* 1, 1 when no jitter */
    int jpeg_quality;       /* 0 when not re-compressed */
} blur_sample;

/* Allocates the arrays of *s for cfg->crop and cfg->tile (s is overwritten; on failure it is
 * left with NULL arrays). blur_sample_free releases them and may take a zeroed or freed
 * sample; it leaves the arrays NULL. */
int blur_sample_alloc(const blur_config *cfg, blur_sample *s);
void blur_sample_free(blur_sample *s);

/* The in-focus level of a photo (luma bytes, w x h, stride w): the 90th percentile of the
 * Laplacian RMS of its tile x tile tiles, in [0,1] luma units; 0 when it has no whole tile. */
float blur_photo_texture_ref(const unsigned char *luma, int w, int h, int tile);

/* Makes one sample from a sharp luma photo src (sw x sh floats in [0,1], row-major), both
 * sides at least cfg->crop; out must have been allocated for the same crop and tile. On
 * error out's contents are unspecified. Uses only rng for randomness. */
int blur_make_sample(const blur_config *cfg, blur_rng *rng, const float *src, int sw, int sh,
                     blur_sample *out);
/* The same, with the in-focus level of the photo src was cut from (blur_photo_texture_ref),
 * which cfg->texture_rel reads; blur_make_sample passes 0 (every textured tile in focus). */
int blur_make_sample_ref(const blur_config *cfg, blur_rng *rng, const float *src, int sw, int sh,
                         float texture_ref, blur_sample *out);

#endif
