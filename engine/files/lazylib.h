/* lazylib.h (private to libunsharp-files): GIO (reading Trash entries back for undo) and
 * Exempi (XMP sidecars), opened with dlopen the first time they are needed rather than linked, so that a run without --trash or --xmp never loads
 * them (libgio, libgobject, libglib, libexempi, libstdc++, libexpat: about 3.7 ms of start-up).
 * Each table holds the few functions used, by their names, typed from the libraries' own
 * headers; the headers are still included for the types, only linking changes. */
#ifndef UNSHARP_FILES_LAZYLIB_H
#define UNSHARP_FILES_LAZYLIB_H
#include <exempi/xmp.h>
#include <gio/gio.h>
#include <stddef.h>

/* a pointer to f, with f's prototype as its header declares it */
#define LAZY_FN(f) __typeof__(f) *f

typedef struct {
    LAZY_FN(g_file_get_contents); /* libglib's, found through libgio's dependencies */
    LAZY_FN(g_uri_unescape_string);
    LAZY_FN(g_free);
} lazy_gio;

typedef struct {
    LAZY_FN(xmp_init);
    LAZY_FN(xmp_terminate);
    LAZY_FN(xmp_register_namespace);
    LAZY_FN(xmp_get_error);
    LAZY_FN(xmp_new_empty);
    LAZY_FN(xmp_new);
    LAZY_FN(xmp_free);
    LAZY_FN(xmp_set_property);
    LAZY_FN(xmp_get_property);
    LAZY_FN(xmp_delete_property);
    LAZY_FN(xmp_append_array_item);
    LAZY_FN(xmp_serialize);
    LAZY_FN(xmp_string_new);
    LAZY_FN(xmp_string_cstr);
    LAZY_FN(xmp_string_free);
} lazy_exempi;

/* The library's table, loaded on the first call (once per process, thread-safe, never
 * unloaded); NULL when it cannot be loaded, with why in err ("cannot load GIO (DLERROR)"). */
const lazy_gio *lazy_gio_get(char *err, size_t errsize);
const lazy_exempi *lazy_exempi_get(char *err, size_t errsize);

#endif
