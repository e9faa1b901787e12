/* error.c: status names and the thread-local message slot (seterr.c formats the messages). */
#include <stdio.h>
#include <string.h>
#include "error.h"

static _Thread_local char tls_err[UNSHARP_ERRMSG_MAX];

char *unsharp__tls_errbuf(void) { return tls_err; }

const char *unsharp_errmsg(void) { return tls_err; }

const char *unsharp_status_name(unsharp_status st)
{
    switch (st) {
    case UNSHARP_OK: return "UNSHARP_OK";
    case UNSHARP_ERR_INVALID: return "UNSHARP_ERR_INVALID";
    case UNSHARP_ERR_NOMEM: return "UNSHARP_ERR_NOMEM";
    case UNSHARP_ERR_IO: return "UNSHARP_ERR_IO";
    case UNSHARP_ERR_BAD_MAGIC: return "UNSHARP_ERR_BAD_MAGIC";
    case UNSHARP_ERR_VERSION: return "UNSHARP_ERR_VERSION";
    case UNSHARP_ERR_TRUNCATED: return "UNSHARP_ERR_TRUNCATED";
    case UNSHARP_ERR_CHECKSUM: return "UNSHARP_ERR_CHECKSUM";
    case UNSHARP_ERR_CORRUPT: return "UNSHARP_ERR_CORRUPT";
    case UNSHARP_ERR_SHAPE: return "UNSHARP_ERR_SHAPE";
    case UNSHARP_ERR_NOT_FOUND: return "UNSHARP_ERR_NOT_FOUND";
    case UNSHARP_ERR_STATE: return "UNSHARP_ERR_STATE";
    case UNSHARP_ERR_BACKEND: return "UNSHARP_ERR_BACKEND";
    case UNSHARP_ERR_UNSUPPORTED: return "UNSHARP_ERR_UNSUPPORTED";
    case UNSHARP_ERR_FORMAT: return "UNSHARP_ERR_FORMAT";
    case UNSHARP_ERR_TOO_LARGE: return "UNSHARP_ERR_TOO_LARGE";
    case UNSHARP_ERR_DECODE: return "UNSHARP_ERR_DECODE";
    }
    return "UNSHARP_ERR_UNKNOWN";
}
