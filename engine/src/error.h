/* error.h: how the engine reports failure.
 *
 * A function that can fail returns unsharp_status. FAIL() records the message in the current
 * error slot (the handle's, or the thread's) and jumps to the function's one bailout label,
 * where everything is released. Messages are for people: they say what failed and where (the
 * file, the layer, the line of the architecture) in words, and never name a function of the
 * library, whose names mean nothing to the person who reads them.
 *
 * Every public call that returns a status and has a handle leaves its message on the handle:
 * set on failure, cleared on success (CALL_BEGIN). A call without a handle (or given NULL for
 * it) does the same with the thread's message. */
#ifndef UNSHARP_ERROR_H
#define UNSHARP_ERROR_H

#include <stdlib.h>
#include "unsharp/unsharp.h"

#define UNSHARP_ERRMSG_MAX 512

/* Formats the message into buf (UNSHARP_ERRMSG_MAX bytes) and returns st. func, the function
 * that failed, is not written: it is there for a debugger's breakpoint on this function. */
unsharp_status unsharp__seterr(char *buf, unsharp_status st, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The thread's own message buffer, used when there is no handle. */
char *unsharp__tls_errbuf(void);

/* Each function using FAIL declares: unsharp_status st = UNSHARP_OK; char *errbuf = ...; */
#define FAIL(code, ...)                                                \
    do {                                                               \
        st = unsharp__seterr(errbuf, (code), __func__, __VA_ARGS__);   \
        goto bailout;                                                  \
    } while (0)

/* Propagates a failure whose message is already set. */
#define CHECK(call)                                                    \
    do {                                                               \
        st = (call);                                                   \
        if (st != UNSHARP_OK) goto bailout;                            \
    } while (0)

/* The start of a public call with a handle: its message is cleared (a failure sets it again). */
#define CALL_BEGIN(buf) ((buf)[0] = 0)

#endif
