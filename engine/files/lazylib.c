/* lazylib.c: opens GIO and Exempi with dlopen on first use (lazylib.h says why). Each library
 * is opened once per process under pthread_once, RTLD_NOW | RTLD_LOCAL by its Debian soname,
 * and every function of its table looked up; a library that does not open, or lacks one of
 * the functions, is reported with dlerror()'s words to whoever asked, each time, and nothing
 * is printed here. A library is never closed (GLib's types cannot be unloaded). */
#include "lazylib.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name, *soname;
    pthread_once_t once;
    int ok;        /* set when the whole table is filled */
    char msg[512]; /* otherwise why not */
} lib;

static lib gio_lib = {"GIO", "libgio-2.0.so.0", PTHREAD_ONCE_INIT, 0, ""};
static lib exempi_lib = {"Exempi", "libexempi.so.8", PTHREAD_ONCE_INIT, 0, ""};
static lazy_gio gio;
static lazy_exempi exempi;

/* Keeps dlerror()'s message, naming the library when it does not already. */
static void failed(lib *l)
{
    const char *why = dlerror();
    if (!why) why = "unknown error";
    if (strstr(why, l->soname)) snprintf(l->msg, sizeof l->msg, "cannot load %s (%s)", l->name, why);
    else snprintf(l->msg, sizeof l->msg, "cannot load %s (%s: %s)", l->name, l->soname, why);
}

static void *open_lib(lib *l)
{
    void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) failed(l);
    return h;
}

/* t.f = the function f of the library h; false when it is missing */
#define SYM(h, t, f) (((t).f = (__typeof__((t).f))dlsym(h, #f)) != NULL)

static void load_gio(void)
{
    void *h = open_lib(&gio_lib);
    if (!h) return;
    if (SYM(h, gio, g_file_get_contents) && SYM(h, gio, g_uri_unescape_string) && SYM(h, gio, g_free))
        gio_lib.ok = 1;
    else
        failed(&gio_lib);
}

static void load_exempi(void)
{
    void *h = open_lib(&exempi_lib);
    if (!h) return;
    if (SYM(h, exempi, xmp_init) && SYM(h, exempi, xmp_terminate) && SYM(h, exempi, xmp_register_namespace) &&
        SYM(h, exempi, xmp_get_error) && SYM(h, exempi, xmp_new_empty) && SYM(h, exempi, xmp_new) &&
        SYM(h, exempi, xmp_free) && SYM(h, exempi, xmp_set_property) && SYM(h, exempi, xmp_serialize) &&
        SYM(h, exempi, xmp_get_property) && SYM(h, exempi, xmp_delete_property) &&
        SYM(h, exempi, xmp_append_array_item) &&
        SYM(h, exempi, xmp_string_new) && SYM(h, exempi, xmp_string_cstr) && SYM(h, exempi, xmp_string_free))
        exempi_lib.ok = 1;
    else
        failed(&exempi_lib);
}

const lazy_gio *lazy_gio_get(char *err, size_t errsize)
{
    pthread_once(&gio_lib.once, load_gio);
    if (gio_lib.ok) return &gio;
    if (err && errsize) snprintf(err, errsize, "%s", gio_lib.msg);
    return NULL;
}

const lazy_exempi *lazy_exempi_get(char *err, size_t errsize)
{
    pthread_once(&exempi_lib.once, load_exempi);
    if (exempi_lib.ok) return &exempi;
    if (err && errsize) snprintf(err, errsize, "%s", exempi_lib.msg);
    return NULL;
}
