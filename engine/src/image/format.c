/* format.c: recognises a photo file by its first bytes, never by its name, and words the
 * message for a file that is not one we can read.
 *
 * JPEG (FF D8 FF), PNG (its 8-byte signature), WebP (RIFF....WEBP), TIFF (II*\0 or MM\0*,
 * which is also how NEF, ARW, PEF and DNG start: a first IFD with a DNGVersion tag or a
 * camera maker's Make goes to raw.c, which hands a file LibRaw does not take back to
 * tiff.c; any other TIFF goes to tiff.c alone), the RAW files
 * with a signature of their own (CR2: a TIFF with "CR" at byte 8; CR3: an ISO box "ftyp" of
 * brand "crx "; RAF: "FUJIFILM";
 * ORF: IIRO, IIRS or MMOR; RW2: IIU\0), and HEIF/AVIF (an "ftyp" box that libheif accepts).
 * Known formats we do not read (JPEG XL, JPEG 2000, GIF, BMP, Photoshop, OpenEXR, MP4 and
 * QuickTime videos) are named in the message. The file name is used for one thing only:
 * when the content is nothing we know, the message says what the name promised ("not a RAW
 * file" for a .CR2 that is really text). */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <libheif/heif.h>
#include "image_internal.h"

static int starts(const unsigned char *d, size_t n, const void *magic, size_t m)
{
    return n >= m && memcmp(d, magic, m) == 0;
}

/* The brand of an ISO base media file ("ftyp" box first), or "" when there is none. */
static void iso_brand(const unsigned char *d, size_t n, char brand[5])
{
    brand[0] = 0;
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
        memcpy(brand, d + 8, 4);
        brand[4] = 0;
    }
}

static unsigned get16(const unsigned char *p, int le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }
static uint32_t get32(const unsigned char *p, int le)
{
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 1 when the first IFD of a TIFF has a DNGVersion tag, or a Make that is a camera maker's:
 * only those go to LibRaw (NEF, ARW, PEF, DNG, ...), so that a plain TIFF never meets its
 * parser (LibRaw 0.20 crashes on some crafted files). */
static int tiff_from_camera(const unsigned char *d, size_t n)
{
    static const char *const makers[] = {"NIKON", "SONY", "PENTAX", "RICOH", "Canon", "OLYMPUS", "OM Digital",
                                         "Panasonic", "LEICA", "Leica", "FUJIFILM", "SAMSUNG", "SIGMA", "Phase One",
                                         "Leaf", "Mamiya", "KODAK", "Kodak", "EASTMAN KODAK", "Minolta", "MINOLTA",
                                         "KONICA", "EPSON", "SEIKO EPSON", "Sinar", "Nokia", "Xiaomi", "Apple"};
    if (n < 8) return 0;
    const int le = d[0] == 'I';
    uint32_t ifd = get32(d + 4, le);
    if (ifd < 8 || (size_t)ifd + 2 > n) return 0;
    unsigned count = get16(d + ifd, le);
    for (unsigned i = 0; i < count && (size_t)ifd + 2 + 12 * (i + 1) <= n; i++) {
        const unsigned char *e = d + ifd + 2 + 12 * i;
        unsigned tag = get16(e, le), type = get16(e + 2, le);
        uint32_t len = get32(e + 4, le);
        if (tag == 50706) return 1; /* DNGVersion */
        if (tag != 271 || type != 2 || len < 2) continue;
        const unsigned char *v = e + 8;
        if (len > 4) {
            uint32_t off = get32(e + 8, le);
            if (off >= n || len > n - off) return 0;
            v = d + off;
        }
        for (size_t k = 0; k < sizeof makers / sizeof *makers; k++) {
            size_t ml = strlen(makers[k]);
            if (len >= ml && memcmp(v, makers[k], ml) == 0) return 1;
        }
    }
    return 0;
}

/* Calls fn for each IFD of a TIFF (or a TIFF-like RAW: II or MM, the first IFD's offset at
 * byte 4) found in the first n bytes: the chain from the header and each IFD's SubIFDs, at most
 * 32 IFDs; count is how many of its entries lie within n. */
typedef void (*ifd_fn)(void *ctx, const unsigned char *d, size_t ifd, unsigned count, int le);
static void walk_ifds(const unsigned char *d, size_t n, ifd_fn fn, void *ctx)
{
    if (n < 8 || !((d[0] == 'I' && d[1] == 'I') || (d[0] == 'M' && d[1] == 'M'))) return;
    const int le = d[0] == 'I';
    uint32_t todo[32];
    int nt = 0, seen = 0;
    todo[nt++] = get32(d + 4, le);
    while (nt && seen++ < 32) {
        const uint32_t ifd = todo[--nt];
        if (ifd < 8 || (size_t)ifd + 2 > n) continue;
        const unsigned count = get16(d + ifd, le);
        unsigned fit = 0;
        while (fit < count && (size_t)ifd + 2 + 12 * (fit + 1) <= n) fit++;
        fn(ctx, d, ifd, fit, le);
        for (unsigned i = 0; i < fit; i++) {
            const unsigned char *e = d + ifd + 2 + 12 * i;
            const unsigned tag = get16(e, le), type = get16(e + 2, le);
            const uint32_t cnt = get32(e + 4, le);
            if (tag != 330 || (type != 4 && type != 13) || cnt < 1) continue; /* SubIFDs */
            if (cnt == 1 && nt < 32) todo[nt++] = get32(e + 8, le);
            for (uint32_t k = 0, at = get32(e + 8, le); cnt > 1 && k < cnt && k < 8 && nt < 32; k++)
                if ((size_t)at + 4 * (k + 1) <= n) todo[nt++] = get32(d + at + 4 * k, le);
        }
        const size_t next = (size_t)ifd + 2 + 12 * (size_t)count;
        if (next + 4 <= n && nt < 32) todo[nt++] = get32(d + next, le);
    }
}

/* an entry's value when it fits in its 4 bytes (a SHORT's 16 bits), else its offset */
static uint32_t entry_value(const unsigned char *e, int le)
{
    return get16(e + 2, le) == 3 ? get16(e + 8, le) : get32(e + 8, le);
}

typedef struct bulk {
    uint64_t off, len;
} bulk;

static void bulk_ifd(void *ctx, const unsigned char *d, size_t ifd, unsigned count, int le)
{
    bulk *b = ctx;
    uint64_t so = 0, sl = 0;
    int have = 0, preview = 0;
    for (unsigned i = 0; i < count; i++) {
        const unsigned char *e = d + ifd + 2 + 12 * i;
        const unsigned tag = get16(e, le), type = get16(e + 2, le);
        const uint32_t v = entry_value(e, le);
        if ((tag == 254 && (v & 1)) || (tag == 262 && (v == 2 || v == 6)))
            preview = 1; /* a reduced-resolution image, or an RGB or YCbCr one: not sensor data */
        if ((tag == 273 || tag == 279) && get32(e + 4, le) == 1 && (type == 3 || type == 4)) {
            if (tag == 273) so = v, have |= 1;
            else sl = v, have |= 2;
        }
    }
    if (have == 3 && !preview && sl > b->len) {
        b->off = so;
        b->len = sl;
    }
}

int unsharp__tiff_bulk(const unsigned char *d, size_t n, uint64_t *off, uint64_t *len)
{
    bulk b = {0, 0};
    if (!starts(d, n, "II*\0", 4) && !starts(d, n, "MM\0*", 4)) return 0;
    walk_ifds(d, n, bulk_ifd, &b);
    *off = b.off;
    *len = b.len;
    return b.len > 0;
}

static void cfa_trap_ifd(void *ctx, const unsigned char *d, size_t ifd, unsigned count, int le)
{
    int six = 0; /* a CFARepeatPatternDim of 6 x 6 seen before in this IFD */
    for (unsigned i = 0; i < count; i++) {
        const unsigned char *e = d + ifd + 2 + 12 * i;
        const unsigned tag = get16(e, le), type = get16(e + 2, le);
        const uint32_t cnt = get32(e + 4, le);
        if (tag == 33421 && type == 3 && cnt == 2 && get16(e + 8, le) == 6 && get16(e + 10, le) == 6) six = 1;
        if ((tag == 33422 && cnt == 36 && !six) || (tag == 64777 && cnt == 36)) *(int *)ctx = 1;
    }
}

int unsharp__tiff_cfa_trap(const unsigned char *d, size_t n)
{
    int trap = 0;
    walk_ifds(d, n, cfa_trap_ifd, &trap);
    return trap;
}

img_kind unsharp__img_sniff(const unsigned char *d, size_t n, const char **what)
{
    char brand[5];
    *what = NULL;
    if (starts(d, n, "\xFF\xD8\xFF", 3)) return IMG_KIND_JPEG;
    if (starts(d, n, "\x89PNG\r\n\x1A\n", 8)) return IMG_KIND_PNG;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0) return IMG_KIND_WEBP;
    if (starts(d, n, "II*\0", 4) && n >= 10 && d[8] == 'C' && d[9] == 'R') return IMG_KIND_RAW; /* CR2 */
    if (starts(d, n, "II*\0", 4) || starts(d, n, "MM\0*", 4))
        return tiff_from_camera(d, n) ? IMG_KIND_TIFF_RAW : IMG_KIND_TIFF;
    if (starts(d, n, "FUJIFILM", 8) || starts(d, n, "IIRO", 4) || starts(d, n, "IIRS", 4) ||
        starts(d, n, "MMOR", 4) || starts(d, n, "IIU\0", 4))
        return IMG_KIND_RAW;
    iso_brand(d, n, brand);
    if (strcmp(brand, "crx ") == 0) return IMG_KIND_RAW;
    if (brand[0]) {
        enum heif_filetype_result r = heif_check_filetype(d, n > 1 << 20 ? 1 << 20 : (int)n);
        if (r == heif_filetype_yes_supported || r == heif_filetype_maybe) {
            if (strcmp(brand, "avif") == 0 || strcmp(brand, "avis") == 0) return IMG_KIND_AVIF;
            return IMG_KIND_HEIF;
        }
        if (strcmp(brand, "jxl ") == 0) *what = "JPEG XL";
        else if (strcmp(brand, "jp2 ") == 0 || strcmp(brand, "jpx ") == 0) *what = "JPEG 2000";
        else if (strcmp(brand, "qt  ") == 0) *what = "a QuickTime video (not a photo), which";
        else if (r == heif_filetype_yes_unsupported) *what = "this kind of HEIF file";
        else *what = "an MP4 video (not a photo), which";
        return IMG_KIND_UNSUPPORTED;
    }
    if (starts(d, n, "\xFF\x0A", 2) || starts(d, n, "\0\0\0\x0CJXL \r\n\x87\n", 12)) *what = "JPEG XL";
    else if (starts(d, n, "\0\0\0\x0CjP  \r\n\x87\n", 12) || starts(d, n, "\xFF\x4F\xFF\x51", 4)) *what = "JPEG 2000";
    else if (starts(d, n, "GIF87a", 6) || starts(d, n, "GIF89a", 6)) *what = "GIF";
    else if (starts(d, n, "8BPS", 4)) *what = "a Photoshop document (PSD), which";
    else if (starts(d, n, "\x76\x2F\x31\x01", 4)) *what = "OpenEXR";
    else if (n >= 18 && d[0] == 'B' && d[1] == 'M' && d[15] == 0 && d[16] == 0 && d[17] == 0 &&
             (d[14] == 12 || d[14] == 40 || d[14] == 52 || d[14] == 56 || d[14] == 108 || d[14] == 124))
        *what = "BMP";
    return *what ? IMG_KIND_UNSUPPORTED : IMG_KIND_UNKNOWN;
}

/* What a file's name promises, for the message about a file that does not keep it. */
static const char *promised_by_name(const char *name)
{
    static const struct { const char *ext, *kind; } names[] = {
        {".jpg", "a JPEG"}, {".jpeg", "a JPEG"}, {".jpe", "a JPEG"}, {".png", "a PNG"},
        {".heic", "a HEIF"}, {".heif", "a HEIF"}, {".hif", "a HEIF"}, {".avif", "an AVIF"},
        {".webp", "a WebP"}, {".tif", "a TIFF"}, {".tiff", "a TIFF"}, {".cr2", "a RAW"},
        {".cr3", "a RAW"}, {".nef", "a RAW"}, {".arw", "a RAW"}, {".raf", "a RAW"}, {".orf", "a RAW"},
        {".rw2", "a RAW"}, {".pef", "a RAW"}, {".dng", "a RAW"}};
    const char *dot = strrchr(name, '.');
    if (!dot || strchr(dot, '/')) return NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcasecmp(dot, names[i].ext) == 0) return names[i].kind;
    return NULL;
}

unsharp_status unsharp__img_fail_unknown(const img_ctx *ctx, const unsigned char *d, size_t n)
{
    const char *kind = promised_by_name(ctx->name);
    char what[64], head[3 * 8 + 1] = "";
    if (kind) snprintf(what, sizeof what, "not %s file", kind);
    else snprintf(what, sizeof what, "not an image file of a supported type");
    if (n == 0) return unsharp__img_fail(ctx, UNSHARP_ERR_FORMAT, "empty file (0 bytes), %s", what);
    size_t text = 0;
    while (text < n && text < 64 && ((d[text] >= 0x20 && d[text] < 0x7F) || d[text] == '\n' || d[text] == '\r' || d[text] == '\t'))
        text++;
    if (text == n || text == 64) return unsharp__img_fail(ctx, UNSHARP_ERR_FORMAT, "%s (it holds text)", what);
    for (size_t i = 0; i < n && i < 8; i++) snprintf(head + 3 * i, 4, " %02x", d[i]);
    return unsharp__img_fail(ctx, UNSHARP_ERR_FORMAT, "%s (it starts with%s)", what, head);
}
