/* error.h: how the engine reports failure.
 *
 * A function that can fail returns unsharp_status. FAIL() records "func(): message" in the
 * current error slot (the handle's, or the thread's) and jumps to the function's one bailout
 * label, where everything is released. UNSHARP_ASSERT is the single place allowed to abort:
 * it guards internal invariants only, never caller input. */
#ifndef UNSHARP_ERROR_H
#define UNSHARP_ERROR_H

#include <stdlib.h>
#include "unsharp/unsharp.h"

#define UNSHARP_ERRMSG_MAX 512

/* Formats "func(): message" into buf (UNSHARP_ERRMSG_MAX bytes) and returns st. */
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

#define UNSHARP_ASSERT(cond)                                           \
    do {                                                               \
        if (!(cond)) abort(); /* internal invariant, never user input */ \
    } while (0)

#endif
