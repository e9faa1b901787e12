/* names.c: which file names are photos, in one list for every program. A folder walk lists
 * these names; whether a file can be judged is the engine decoder's call, by its content. A
 * RAW beside a photo of another kind with the same stem (IMG_1.CR2 and IMG_1.JPG) is not
 * listed on its own: it is that photo's companion (companions.c) and goes where it goes. */
#include <string.h>
#include <strings.h>
#include "unsharp/files.h"

static const char *const photo_exts[] = {"jpg", "jpeg", "jpe", "png", "heic", "heif", "avif", "webp", "tif", "tiff"};
static const char *const raw_exts[] = {"cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2", "pef", "srw"};
/* image names no decoder here reads: listed all the same, so that each gets its one plain
 * message ("JPEG XL is not supported") instead of vanishing from the results */
static const char *const other_image_exts[] = {"jxl", "jp2", "j2k", "gif", "bmp", "psd", "exr"};

static int ext_in(const char *name, const char *const *exts, size_t n)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t k = 0; k < n; k++)
        if (strcasecmp(dot + 1, exts[k]) == 0) return 1;
    return 0;
}

int unsharp_is_raw_name(const char *name)
{
    return ext_in(name, raw_exts, sizeof raw_exts / sizeof *raw_exts);
}

static int is_decodable_name(const char *name)
{
    return ext_in(name, photo_exts, sizeof photo_exts / sizeof *photo_exts) || unsharp_is_raw_name(name);
}

int unsharp_is_photo_name(const char *name)
{
    return is_decodable_name(name) || ext_in(name, other_image_exts, sizeof other_image_exts / sizeof *other_image_exts);
}

/* 1 when other is STEM.EXT (one dot) with a photo extension that is not a RAW one */
static int is_partner(const char *other, const char *stem, size_t slen)
{
    return strncmp(other, stem, slen) == 0 && other[slen] == '.' && !strchr(other + slen + 1, '.') &&
           is_decodable_name(other) && !unsharp_is_raw_name(other);
}

int unsharp_photo_listed(char *const *names, size_t n, size_t i)
{
    const char *name = names[i];
    if (!unsharp_is_photo_name(name)) return 0;
    if (!unsharp_is_raw_name(name)) return 1;
    const char *dot = strrchr(name, '.');
    size_t slen = (size_t)(dot - name);
    /* sorted by strcmp, every name that starts with "STEM." sits next to this one */
    for (size_t j = i; j-- > 0 && strncmp(names[j], name, slen + 1) == 0;)
        if (is_partner(names[j], name, slen)) return 0;
    for (size_t j = i + 1; j < n && strncmp(names[j], name, slen + 1) == 0; j++)
        if (is_partner(names[j], name, slen)) return 0;
    return 1;
}
