/* seterr.c: formats "func(): message" into an error slot. Its own file because the CUDA module
 * (src/cuda/, a separate shared object) is built with it too. */
#include <stdarg.h>
#include <stdio.h>
#include "error.h"

unsharp_status unsharp__seterr(char *buf, unsharp_status st, const char *func, const char *fmt, ...)
{
    if (!buf) return st;
    int k = snprintf(buf, UNSHARP_ERRMSG_MAX, "%s(): ", func);
    if (k < 0 || k >= UNSHARP_ERRMSG_MAX) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + k, UNSHARP_ERRMSG_MAX - (size_t)k, fmt, ap);
    va_end(ap);
    return st;
}
