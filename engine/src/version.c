/* version.c: the version of the running library, and the check programs make against it. */
#include "error.h"
#include "unsharp/unsharp.h"

const char *unsharp_version(void) { return UNSHARP_VERSION_STRING; }

unsharp_status unsharp_check_version(int major, int minor)
{
    CALL_BEGIN(unsharp__tls_errbuf());
    if (major != UNSHARP_VERSION_MAJOR || minor > UNSHARP_VERSION_MINOR)
        return unsharp__seterr(unsharp__tls_errbuf(), UNSHARP_ERR_VERSION, __func__,
                               "the program needs libunsharp-engine %d.%d (same major, at least that minor); "
                               "this is %s", major, minor, UNSHARP_VERSION_STRING);
    return UNSHARP_OK;
}
