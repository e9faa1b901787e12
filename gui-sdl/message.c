/* message.c: the line the status bar shows for a few seconds (what was marked, moved, undone,
 * or what went wrong). Every part of the window may set it; it depends on nothing else. */
#include <stdarg.h>
#include <stdio.h>
#include "review.h"

void app_set_message(app *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->message_until = now_ms() + 6000;
}
