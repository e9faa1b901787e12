/* exif.c: the EXIF block of a JPEG (APP1 "Exif\0\0"), read with libexif: the Orientation tag
 * of IFD0, and the embedded JPEG thumbnail of IFD1 for the thumbnail mode. libexif logs
 * nothing unless a log function is set, and none is. EXIF damage never fails a load: the
 * photo decodes as if the block were absent. */
#include <libexif/exif-data.h>
#include <stdlib.h>
#include <string.h>
#include "image_internal.h"

unsharp_status unsharp__exif_read(const img_ctx *ctx, const unsigned char *app1, size_t size,
                                  int *orientation, unsigned char **thumb, size_t *thumb_size)
{
    unsharp_status st = UNSHARP_OK;
    *orientation = 1;
    if (thumb) {
        *thumb = NULL;
        *thumb_size = 0;
    }
    ExifData *ed = exif_data_new();
    if (!ed) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for EXIF data");
    /* Read what is there; do not add the tags the specification asks for. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, app1, (unsigned int)size);

    ExifEntry *e = ed->ifd[EXIF_IFD_0] ? exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION) : NULL;
    if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data && e->size >= 2) {
        int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
        if (v >= 1 && v <= 8) *orientation = v;
    }
    if (thumb && ed->data && ed->size > 0) {
        *thumb = malloc(ed->size);
        if (!*thumb) IMG_FAIL(UNSHARP_ERR_NOMEM, "out of memory for the EXIF thumbnail");
        memcpy(*thumb, ed->data, ed->size);
        *thumb_size = ed->size;
    }
bailout:
    if (ed) exif_data_unref(ed);
    return st;
}
