/* seterr.c: formats a message into an error slot. Its own file because the CUDA module
 * (src/cuda/, a separate shared object) is built with it too. */
#include <stdarg.h>
#include <stdio.h>
#include "error.h"

unsharp_status unsharp__seterr(char *buf, unsharp_status st, const char *func, const char *fmt, ...)
{
    (void)func; /* see error.h: not part of the message */
    if (!buf) return st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, UNSHARP_ERRMSG_MAX, fmt, ap);
    va_end(ap);
    return st;
}
