/* none.c: the CUDA backend's create call in a build without CUDA (UNSHARP_CUDA off, or no
 * nvcc): it says so, and UNSHARP_DEVICE_AUTO falls back to the CPU. */
#include "backend.h"
#include "error.h"

unsharp_status unsharp__cuda_backend_create(char *errbuf, unsharp_backend **out)
{
    if (out) *out = NULL;
    return unsharp__seterr(errbuf, UNSHARP_ERR_UNSUPPORTED, __func__,
                           "no CUDA device: this build has no CUDA backend (configure with nvcc and -DUNSHARP_CUDA=ON)");
}
